// SPDX-License-Identifier: GPL-2.0-only
#include "lib/cli.h"

#include <string.h>

void cli_print_commands(FILE *out, const char *prog, const char *usage_intro,
			const struct cli_command *commands)
{
	fprintf(out, "%s", usage_intro);
	fprintf(out, "\nCommands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out, "\nRun '%s COMMAND --help' for a command's options.\n", prog);
	fprintf(out, "Exit codes: 0 success, 1 the operation failed, 2 usage error or not "
		     "implemented.\n");
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int cli_not_implemented(const char *what)
{
	fprintf(stderr, "%s: not implemented yet in pseudopod %s\n", what, PSEUDOPOD_VERSION);
	return CLI_EXIT_USAGE;
}

int cli_dispatch(const char *prog, const char *usage_intro, const struct cli_command *commands,
		 int argc, char **argv)
{
	if (argc < 2) {
		cli_print_commands(stderr, prog, usage_intro, commands);
		return CLI_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		cli_print_commands(stdout, prog, usage_intro, commands);
		return CLI_EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("%s %s\n", prog, PSEUDOPOD_VERSION);
		return CLI_EXIT_OK;
	}
	for (const struct cli_command *c = commands; c->name; c++) {
		if (strcmp(c->name, name) == 0)
			return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s'\n", prog, name);
	cli_print_commands(stderr, prog, usage_intro, commands);
	return CLI_EXIT_USAGE;
}

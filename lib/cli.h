/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli: subcommand dispatch tables shared by pseudopod, pseudopodd and pseudopodctl.
 *
 * Exit codes (all three binaries): 0 success, 1 the operation failed,
 * 2 usage error or a command that is not implemented yet.
 */
#ifndef PSEUDOPOD_CLI_H
#define PSEUDOPOD_CLI_H

#include <stdio.h>

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,
	CLI_EXIT_USAGE = 2,
};

struct cli_command {
	const char *name;
	/* argv[0] is the subcommand name itself. */
	int (*run)(int argc, char **argv);
	const char *summary;
};

/*
 * Runs the command named by argv[1] from a NULL-terminated table. Handles
 * "help", "--help", "-h", "--version"; prints "prog: unknown command" and exits 2
 * for anything else. usage_intro is printed above the table of commands.
 */
int cli_dispatch(const char *prog, const char *usage_intro, const struct cli_command *commands,
		 int argc, char **argv);
void cli_print_commands(FILE *out, const char *prog, const char *usage_intro,
			const struct cli_command *commands);
/* For planned commands: says so on stderr and returns CLI_EXIT_USAGE. */
int cli_not_implemented(const char *what);
/* True when argv has -h or --help anywhere. */
int cli_wants_help(int argc, char **argv);

#endif

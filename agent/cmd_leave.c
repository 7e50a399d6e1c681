// SPDX-License-Identifier: GPL-2.0-only
/* pseudopod leave: option parsing; the work is enroll_client_leave() (enroll/client.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli_enroll.h"
#include "enroll/client.h"
#include "enroll/files.h"
#include "lib/cli.h"
#include "lib/config.h"

enum { OPT_CONFIG = 1, OPT_OFFLINE, OPT_OPERATOR, OPT_OPERATOR_PW };

static void help(FILE *out)
{
	fprintf(out,
		"Usage: pseudopod leave [--config FILE] [--offline]\n"
		"         [--operator USER[:PASSWORD] [--operator-password-file FILE]]\n"
		"\n"
		"Deregisters this machine (its store records and etcd user: through the\n"
		"enrollment server with the machine's own credentials, or directly with the\n"
		"operator's), then removes what the agent set up here: datapath pins, the tunnel\n"
		"device and its routes, the enrollment state. The config file is kept.\n"
		"  --offline   only the local part (the cluster still lists the machine: run\n"
		"              'pseudopodctl workload delete NAME' there)\n");
}

int cli_cmd_leave(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"offline", no_argument, NULL, OPT_OFFLINE},
	    {"operator", required_argument, NULL, OPT_OPERATOR},
	    {"operator-password-file", required_argument, NULL, OPT_OPERATOR_PW},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct enroll_leave_opts o = {.out = stdout};
	char msg[2048], user[256] = "", *pw = NULL, *colon;
	const char *pwfile = NULL;
	size_t len;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			o.config_path = optarg;
			break;
		case OPT_OFFLINE:
			o.offline = true;
			break;
		case OPT_OPERATOR:
			snprintf(user, sizeof(user), "%s", optarg);
			break;
		case OPT_OPERATOR_PW:
			pwfile = optarg;
			break;
		case 'h':
			help(stdout);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "(run 'pseudopod leave --help' for usage)\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pseudopod leave: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (user[0]) {
		colon = strchr(user, ':');
		if (colon) {
			*colon = '\0';
			o.operator_password = colon + 1;
		} else if (pwfile) {
			if ((rc = enroll_read_file(pwfile, 1024, &pw, &len)) < 0) {
				fprintf(stderr, "pseudopod leave: %s: %s\n", pwfile, strerror(-rc));
				return CLI_EXIT_FAIL;
			}
			pw[strcspn(pw, "\r\n")] = '\0';
			o.operator_password = pw;
		}
		o.operator_user = user;
	}
	rc = enroll_client_leave(&o, msg, sizeof(msg));
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	explicit_bzero(user, sizeof(user));
	if (rc < 0) {
		fprintf(stderr, "pseudopod leave: %s\n", msg);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0-only
/* pseudopod leave: option parsing; the work is enroll_client_leave() (enroll/client.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli_enroll.h"
#include "enroll/client.h"
#include "lib/cli.h"
#include "lib/config.h"
#include "lib/file.h"
#include "store/store_options.h"

enum { OPT_CONFIG = 1, OPT_OFFLINE, OPT_KEEP_STATE, OPT_OPERATOR, OPT_OPERATOR_PW };

static void help(FILE *out)
{
	fprintf(out,
		"Usage: pseudopod leave [--config FILE] [--offline [--keep-state]]\n"
		"         [--operator USER [--operator-password-file FILE]]\n"
		"\n"
		"Deregisters this machine (its store records and etcd user: through the\n"
		"enrollment server with the machine's own credentials, or directly with the\n"
		"operator's), then removes what the agent set up here: datapath pins, the tunnel\n"
		"device and its routes, the enrollment state. The config file is kept.\n"
		"  --offline   only the local part (the cluster still lists the machine: run\n"
		"              'pseudopodctl workload delete NAME' there)\n"
		"  --keep-state  with --offline: remove the datapath, tunnel device and routes\n"
		"              but keep the enrollment state (what removing the package does;\n"
		"              purging it removes the state too)\n"
		"  --operator USER  deregister with this store user's rights; the password\n"
		"              comes from --operator-password-file (owner-only, mode 0600),\n"
		"              else the environment variable " STORE_PASSWORD_ENV "\n");
}

/* The operator's store password, by the rule of store/store_options.h. */
static int operator_password(const char *user, const char *pwfile, char pw[STORE_PASSWORD_MAX],
			     char *why, size_t why_len)
{
	int rc = store_user_check("--operator", user, "--operator-password-file", why, why_len);

	return rc ? rc : store_password_read(pwfile, NULL, pw, why, why_len);
}

int cli_cmd_leave(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"offline", no_argument, NULL, OPT_OFFLINE},
	    {"keep-state", no_argument, NULL, OPT_KEEP_STATE},
	    {"operator", required_argument, NULL, OPT_OPERATOR},
	    {"operator-password-file", required_argument, NULL, OPT_OPERATOR_PW},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct enroll_leave_opts o = {.out = stdout};
	char msg[2048], user[256] = "", pw[STORE_PASSWORD_MAX] = "";
	const char *pwfile = NULL;
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
		case OPT_KEEP_STATE:
			o.keep_state = true;
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
	if (o.keep_state && !o.offline) {
		fprintf(stderr, "pseudopod leave: --keep-state goes with --offline (a machine that "
				"leaves the cluster has no use for its enrollment state)\n");
		return CLI_EXIT_USAGE;
	}
	if (pwfile && !user[0]) {
		fprintf(stderr,
			"pseudopod leave: --operator-password-file needs --operator USER\n");
		return CLI_EXIT_USAGE;
	}
	if (user[0]) {
		if (operator_password(user, pwfile, pw, msg, sizeof(msg)) < 0) {
			rc = strchr(user, ':') ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
			fprintf(stderr, "pseudopod leave: %s\n", msg);
			explicit_bzero(pw, sizeof(pw));
			explicit_bzero(user, sizeof(user));
			return rc;
		}
		o.operator_user = user;
		o.operator_password = pw;
	}
	rc = enroll_client_leave(&o, msg, sizeof(msg));
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(user, sizeof(user));
	if (rc < 0) {
		fprintf(stderr, "pseudopod leave: %s\n", msg);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0-only
/* pseudopod enroll JOIN: option parsing; the work is enroll_client_run() (enroll/client.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/cli_enroll.h"
#include "enroll/client.h"
#include "enroll/join.h"
#include "lib/cli.h"
#include "lib/config.h"
#include "lib/net.h"

enum { OPT_CONFIG = 1, OPT_NAME, OPT_UNDERLAY, OPT_FORCE, OPT_NO_START };

static void help(FILE *out)
{
	fprintf(
	    out,
	    "Usage: pseudopod enroll [--name NAME] [--underlay-ip IP] [--config FILE]\n"
	    "         [--force] [--no-start] JOIN\n"
	    "\n"
	    "Joins this machine to the cluster with a join string from 'pseudopodctl token\n"
	    "create'. The server's CA is checked against the pin in the join string before\n"
	    "the token is sent; the WireGuard key is generated here and never leaves the\n"
	    "machine. State goes to [agent] state-dir (default /var/lib/pseudopod); the\n"
	    "config file gets the keys enrollment owns, the rest of it is kept.\n"
	    "  --name NAME        this machine's name (default: the token's, else the host name)\n"
	    "  --underlay-ip IP   this machine's address for tunnels (default: the source\n"
	    "                     address toward the enrollment server)\n"
	    "  --config FILE      default " CONFIG_DEFAULT_PATH "\n"
	    "  --force            re-enroll an enrolled machine (leaves first; needs a new token)\n"
	    "  --no-start         do not start pseudopod.service\n"
	    "https_proxy / no_proxy are honoured.\n");
}

int cli_cmd_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"underlay-ip", required_argument, NULL, OPT_UNDERLAY},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"no-start", no_argument, NULL, OPT_NO_START},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct enroll_client_opts o = {.out = stdout};
	char msg[2048], join[ENROLL_JOIN_MAX + 2] = "";
	struct net_prefix ip;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			o.config_path = optarg;
			break;
		case OPT_NAME:
			o.name = optarg;
			break;
		case OPT_UNDERLAY:
			/* checked here too, so a typo is a usage error before a token is spent */
			if (!net_ip_parse(optarg, AF_UNSPEC, &ip, msg, sizeof(msg))) {
				fprintf(stderr, "pseudopod enroll: --underlay-ip %s\n", msg);
				return CLI_EXIT_USAGE;
			}
			o.underlay_ip = optarg;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_NO_START:
			o.no_start = true;
			break;
		case 'h':
			help(stdout);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "(run 'pseudopod enroll --help' for usage)\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "pseudopod enroll: expected one join string (from 'pseudopodctl "
				"token create')\n");
		return CLI_EXIT_USAGE;
	}
	o.join = argv[optind];
	if (!strcmp(o.join, "-")) {
		if (!fgets(join, sizeof(join), stdin)) {
			fprintf(stderr, "pseudopod enroll: no join string on stdin\n");
			return CLI_EXIT_USAGE;
		}
		o.join = join;
	}
	rc = enroll_client_run(&o, msg, sizeof(msg));
	explicit_bzero(join, sizeof(join));
	if (rc < 0) {
		fprintf(stderr, "pseudopod enroll: %s\n", msg);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopodd: the agent daemon. A thin main: options and config, then the workload loop
 * (agent/daemon.h) or gateway mode (agent/gateway.h, through agent/daemon_gateway.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lib/cli.h"
#include "lib/config.h"
#include "lib/log.h"
#include "agent/daemon.h"
#include "agent/daemon_gateway.h"

static const char usage[] =
    "Usage: pseudopodd [OPTIONS]\n"
    "\n"
    "The pseudopod agent. In workload mode it keeps this machine's tunnel, eBPF datapath\n"
    "and policy in sync with the cluster store; in gateway mode it terminates machines'\n"
    "tunnels on a cluster node and enforces the pods' side of their flows.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
    "  -m, --mode MODE     workload | gateway (overrides [agent] mode)\n"
    "      --check-config  load and validate the configuration, print it, exit\n"
    "  -h, --help          this help\n"
    "      --version       print the version\n"
    "\n"
    "Signals: SIGTERM/SIGINT stop (the datapath keeps enforcing), SIGHUP re-reads the\n"
    "config. Under systemd (Type=notify) READY=1 is sent once a policy is applied.\n"
    "\n"
    "Exit codes: 0 stopped by a signal or --check-config ok, 1 failure (bad config,\n"
    "start-up failed), 2 usage error.\n";

static void print_config(const struct config *cfg)
{
	printf("[agent]\nmode = %s\nname = %s\nstate-dir = %s\nbpffs-root = %s\n"
	       "api-socket = %s\nmetrics-address = %s\nfail-mode = %s\nlog-level = %s\n",
	       cfg->agent.mode == CONFIG_MODE_GATEWAY ? "gateway" : "workload", cfg->agent.name,
	       cfg->agent.state_dir, cfg->agent.bpffs_root, cfg->agent.api_socket,
	       cfg->agent.metrics_address,
	       cfg->agent.fail_mode == CONFIG_FAIL_CLOSED ? "closed" : "static",
	       log_level_name(cfg->agent.log_level));
	printf("\n[store]\nendpoints = %s\nprefix = %s\n", cfg->store.endpoints, cfg->store.prefix);
	printf("\n[tunnel]\nmode = %s\ndevice = %s\n",
	       cfg->tunnel.mode == CONFIG_TUNNEL_VXLAN ? "vxlan" : "wireguard", cfg->tunnel.device);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"mode", required_argument, NULL, 'm'},
	    {"check-config", no_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	const char *path = CONFIG_DEFAULT_PATH;
	const char *mode = NULL;
	int check_only = 0, c;

	log_set_ident("pseudopodd");
	while ((c = getopt_long(argc, argv, "c:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'C':
			check_only = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("pseudopodd %s\n", PSEUDOPOD_VERSION);
			return CLI_EXIT_OK;
		default:
			fputs(usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pseudopodd: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}

	struct config cfg;
	char err[CONFIG_ERR_MAX];
	config_defaults(&cfg);
	if (!config_load(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "pseudopodd: %s\n", err);
		return CLI_EXIT_FAIL;
	}
	if (mode) {
		if (!strcmp(mode, "workload"))
			cfg.agent.mode = CONFIG_MODE_WORKLOAD;
		else if (!strcmp(mode, "gateway"))
			cfg.agent.mode = CONFIG_MODE_GATEWAY;
		else {
			fprintf(stderr,
				"pseudopodd: --mode: '%s' is not a mode, expected workload or "
				"gateway\n",
				mode);
			return CLI_EXIT_USAGE;
		}
	}
	if (check_only) {
		print_config(&cfg);
		return CLI_EXIT_OK;
	}
	char why[1024];
	int rc = cfg.agent.mode == CONFIG_MODE_GATEWAY
		     ? daemon_gateway_run(&cfg, path, why, sizeof(why))
		     : daemon_run(&cfg, path, why, sizeof(why));
	if (rc < 0) {
		log_error("%s", why);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

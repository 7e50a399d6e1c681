// SPDX-License-Identifier: GPL-2.0-only
/* pseudopodctl init: writes the cluster config record. */
#include "cluster/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/ctl.h"
#include "lib/cli.h"
#include "lib/kv/kv.h"

enum {
	OPT_NAME = 1,
	OPT_ID,
	OPT_POD,
	OPT_SVC,
	OPT_WL,
	OPT_TUNNEL,
	OPT_WGPORT,
	OPT_VXPORT,
	OPT_FORCE
};

static void help(FILE *out)
{
	fprintf(
	    out,
	    "Usage: pseudopodctl init --cluster-name NAME --cluster-id 1..255\n"
	    "         --pod-cidr CIDR[,CIDR...] --workload-cidr CIDR [--service-cidr CIDR]\n"
	    "         [--tunnel wireguard|vxlan] [--wireguard-port N] [--vxlan-port N] [--force]\n"
	    "\n"
	    "Writes the cluster config (<prefix>config). Re-running with the same values is a\n"
	    "no-op; different values need --force. Defaults: --service-cidr 10.96.0.0/12,\n"
	    "--tunnel wireguard, ports 51871 (WireGuard) and 8472 (VXLAN).\n\n");
	ctl_print_store_help(out);
}

static bool parse_port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static json_t *config_json(const struct store_config *c)
{
	char *text = store_config_encode(c);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	return j;
}

int ctl_cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"cluster-name", required_argument, NULL, OPT_NAME},
	    {"cluster-id", required_argument, NULL, OPT_ID},
	    {"pod-cidr", required_argument, NULL, OPT_POD},
	    {"service-cidr", required_argument, NULL, OPT_SVC},
	    {"workload-cidr", required_argument, NULL, OPT_WL},
	    {"tunnel", required_argument, NULL, OPT_TUNNEL},
	    {"wireguard-port", required_argument, NULL, OPT_WGPORT},
	    {"vxlan-port", required_argument, NULL, OPT_VXPORT},
	    {"force", no_argument, NULL, OPT_FORCE},
	    CTL_STORE_OPTIONS,
	};
	struct store_config cfg = {.wireguard_port = 51871, .vxlan_port = 8472};
	const char *svc = "10.96.0.0/12", *wl = NULL, *pods = NULL;
	bool force = false, have_id = false;
	char why[300];
	struct ctl ctl;
	int opt, rc;

	ctl_init(&ctl, "pseudopodctl init");
	while ((opt = getopt_long(argc, argv, CTL_SHORT, opts, NULL)) != -1) {
		int r = ctl_option(&ctl, opt, optarg);
		char *end;

		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		switch (opt) {
		case OPT_NAME:
			if (strlen(optarg) >= sizeof(cfg.cluster_name))
				return ctl_usage_error(&ctl,
						       "--cluster-name: at most 63 characters");
			snprintf(cfg.cluster_name, sizeof(cfg.cluster_name), "%s", optarg);
			break;
		case OPT_ID: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || v < 1 || v > 255)
				return ctl_usage_error(&ctl, "--cluster-id %s: expected 1..255",
						       optarg);
			cfg.cluster_id = (uint32_t)v;
			have_id = true;
			break;
		}
		case OPT_POD:
			pods = optarg;
			break;
		case OPT_SVC:
			svc = optarg;
			break;
		case OPT_WL:
			wl = optarg;
			break;
		case OPT_TUNNEL:
			if (!strcmp(optarg, "wireguard"))
				cfg.tunnel = STORE_TUNNEL_WIREGUARD;
			else if (!strcmp(optarg, "vxlan"))
				cfg.tunnel = STORE_TUNNEL_VXLAN;
			else
				return ctl_usage_error(
				    &ctl, "--tunnel %s: expected wireguard or vxlan", optarg);
			break;
		case OPT_WGPORT:
			if (!parse_port(optarg, &cfg.wireguard_port))
				return ctl_usage_error(
				    &ctl, "--wireguard-port %s: expected 1..65535", optarg);
			break;
		case OPT_VXPORT:
			if (!parse_port(optarg, &cfg.vxlan_port))
				return ctl_usage_error(&ctl, "--vxlan-port %s: expected 1..65535",
						       optarg);
			break;
		case OPT_FORCE:
			force = true;
			break;
		case 'h':
			help(stdout);
			return CLI_EXIT_OK;
		default:
			return ctl_usage_error(&ctl, "unknown option");
		}
	}
	if (optind < argc)
		return ctl_usage_error(&ctl, "unexpected argument '%s'", argv[optind]);
	if (!cfg.cluster_name[0] || !have_id || !pods || !wl)
		return ctl_usage_error(&ctl, "--cluster-name, --cluster-id, --pod-cidr and "
					     "--workload-cidr are required");
	{
		char list[1024], *tok, *save = NULL;

		snprintf(list, sizeof(list), "%s", pods);
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (cfg.n_pod_cidrs == STORE_MAX_CIDRS)
				return ctl_usage_error(&ctl, "--pod-cidr: at most %d CIDRs",
						       STORE_MAX_CIDRS);
			if (!store_cidr_canon(tok, cfg.pod_cidrs[cfg.n_pod_cidrs], why,
					      sizeof(why)))
				return ctl_usage_error(&ctl, "--pod-cidr %s", why);
			cfg.n_pod_cidrs++;
		}
	}
	if (!store_cidr_canon(svc, cfg.service_cidr, why, sizeof(why)))
		return ctl_usage_error(&ctl, "--service-cidr %s", why);
	if (!store_cidr_canon(wl, cfg.workload_cidr, why, sizeof(why)))
		return ctl_usage_error(&ctl, "--workload-cidr %s", why);
	if (!store_config_validate(&cfg, why, sizeof(why)))
		return ctl_usage_error(&ctl, "%s", why);

	rc = ctl_connect(&ctl);
	if (rc)
		return rc;
	rc = store_config_put(&ctl.store, &cfg, force);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		if (ctl.json)
			ctl_print_json(config_json(&cfg));
		else
			printf("cluster %s (id %u) initialised in %s\n", cfg.cluster_name,
			       cfg.cluster_id, kv_endpoint(ctl.kv));
		rc = CLI_EXIT_OK;
	}
	ctl_close(&ctl);
	return rc;
}

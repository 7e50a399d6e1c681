// SPDX-License-Identifier: GPL-2.0-only
/* pseudopodctl gateway add|list|delete. A gateway in `pseudopodd --mode gateway` writes its
 * own record on its lease; `add` is for static gateways and tests. */
#include "cluster/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/ctl.h"
#include "lib/cli.h"
#include "lib/parse_num.h"

enum { OPT_NAME = 1, OPT_UNDERLAY, OPT_WGKEY, OPT_WGPORT, OPT_VXLAN, OPT_CIDRS };

static const struct option opts[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"underlay-ip", required_argument, NULL, OPT_UNDERLAY},
    {"wg-public-key", required_argument, NULL, OPT_WGKEY},
    {"wireguard-port", required_argument, NULL, OPT_WGPORT},
    {"vxlan-endpoint", required_argument, NULL, OPT_VXLAN},
    {"cidrs", required_argument, NULL, OPT_CIDRS},
    CTL_STORE_OPTIONS,
};

static void help(FILE *out)
{
	fprintf(
	    out,
	    "Usage: pseudopodctl gateway add --name NAME --underlay-ip IP --cidrs CIDR[,CIDR...]\n"
	    "                                [--wg-public-key KEY] [--wireguard-port N]\n"
	    "                                [--vxlan-endpoint IP]\n"
	    "       pseudopodctl gateway list [-o json]\n"
	    "       pseudopodctl gateway delete NAME\n"
	    "\n"
	    "Gateways terminate the machines' tunnels; --cidrs are the cluster CIDRs routed\n"
	    "through them.\n\n");
	ctl_print_store_help(out);
}

/* One gateway option into g (a struct store_gateway); -1 = taken, else an exit code. */
static int gateway_option(struct ctl *ctl, int opt, const char *arg, void *data)
{
	struct store_gateway *g = data;
	char why[300], canon[STORE_CIDR_MAX];

	switch (opt) {
	case OPT_NAME:
		snprintf(g->name, sizeof(g->name), "%s", arg);
		break;
	case OPT_UNDERLAY:
	case OPT_VXLAN:
		if (strchr(arg, '/') || strlen(arg) >= STORE_IP_MAX ||
		    !store_cidr_canon(arg, canon, why, sizeof(why)))
			return ctl_usage_error(ctl, "'%s': expected an IP address", arg);
		snprintf(opt == OPT_VXLAN ? g->vxlan_endpoint : g->underlay_ip, STORE_IP_MAX, "%s",
			 arg);
		break;
	case OPT_WGKEY:
		snprintf(g->wg_public_key, sizeof(g->wg_public_key), "%.44s", arg);
		if (strlen(arg) != 44)
			return ctl_usage_error(ctl, "--wg-public-key: expected 44 characters "
						    "of base64 (as 'wg pubkey' prints)");
		break;
	case OPT_WGPORT:
		if (!parse_port(arg, &g->wireguard_port, why, sizeof(why)))
			return ctl_usage_error(ctl, "--wireguard-port %s", why);
		break;
	case OPT_CIDRS: {
		char list[1024], *tok, *save = NULL;

		snprintf(list, sizeof(list), "%s", arg);
		g->n_cidrs = 0;
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (g->n_cidrs == STORE_MAX_CIDRS)
				return ctl_usage_error(ctl, "--cidrs: at most %d", STORE_MAX_CIDRS);
			if (!store_cidr_canon(tok, g->cidrs[g->n_cidrs], why, sizeof(why)))
				return ctl_usage_error(ctl, "--cidrs %s", why);
			g->n_cidrs++;
		}
		break;
	}
	default:
		return ctl_usage_error(ctl, "unknown option");
	}
	return -1;
}

/* Fills g from the options; -1 = continue, else an exit code. */
static int parse(struct ctl *ctl, int argc, char **argv, struct store_gateway *g)
{
	return ctl_parse(ctl, argc, argv, CTL_SHORT, opts, help, gateway_option, g);
}

static int gateway_add(int argc, char **argv)
{
	struct store_gateway g = {.wireguard_port = 51871};
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl gateway add");
	rc = parse(&ctl, argc, argv, &g);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return ctl_usage_error(&ctl, "unexpected argument '%s'", argv[optind]);
	if (!g.name[0] || !g.underlay_ip[0] || !g.n_cidrs)
		return ctl_usage_error(&ctl, "--name, --underlay-ip and --cidrs are required");
	if (!store_name_valid(g.name, true))
		return ctl_usage_error(
		    &ctl, "--name '%s': expected a DNS name (a-z, 0-9, '-', '.')", g.name);
	{
		/* Validate the whole record the way readers will. */
		char *val = store_gateway_encode(&g), key[300], why[400];
		struct store_gateway chk;
		bool ok;

		snprintf(key, sizeof(key), "gateways/%s", g.name);
		ok = val && store_gateway_decode(key, val, strlen(val), &chk, why, sizeof(why));
		free(val);
		if (!ok)
			return ctl_usage_error(&ctl, "%s", why);
	}
	rc = ctl_connect(&ctl);
	if (rc)
		return rc;
	rc = store_gateway_put(&ctl.store, &g, 0);
	if (rc < 0)
		rc = ctl_store_fail(&ctl);
	else if (!ctl.json)
		printf("gateway %s added\n", g.name);
	ctl_close(&ctl);
	return rc;
}

static int gateway_list(int argc, char **argv)
{
	struct store_gateway *g = NULL, dummy;
	size_t n = 0;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl gateway list");
	rc = parse(&ctl, argc, argv, &dummy);
	if (rc >= 0)
		return rc;
	rc = ctl_connect_no_args(&ctl, argc, argv);
	if (rc)
		return rc;
	rc = store_load_gateways(&ctl.store, &g, &n);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		json_t *arr = json_array();
		struct ctl_table t;

		ctl_table_init(&t, 5, "NAME", "UNDERLAY-IP", "WG-PORT", "VXLAN-ENDPOINT", "CIDRS");
		for (size_t i = 0; i < n; i++) {
			json_t *cidrs = json_array();
			char list[STORE_MAX_CIDRS * STORE_CIDR_MAX] = "", port[8];
			size_t used = 0;

			for (size_t j = 0; j < g[i].n_cidrs; j++) {
				json_array_append_new(cidrs, json_string(g[i].cidrs[j]));
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
							 j ? "," : "", g[i].cidrs[j]);
			}
			snprintf(port, sizeof(port), "%u", g[i].wireguard_port);
			json_t *o = json_pack("{s:s, s:s, s:i, s:o}", "name", g[i].name,
					      "underlay_ip", g[i].underlay_ip, "wireguard_port",
					      (int)g[i].wireguard_port, "cidrs", cidrs);
			if (g[i].wg_public_key[0])
				json_object_set_new(o, "wg_public_key",
						    json_string(g[i].wg_public_key));
			if (g[i].vxlan_endpoint[0])
				json_object_set_new(o, "vxlan_endpoint",
						    json_string(g[i].vxlan_endpoint));
			json_array_append_new(arr, o);
			ctl_table_row(&t, g[i].name, g[i].underlay_ip, port,
				      g[i].vxlan_endpoint[0] ? g[i].vxlan_endpoint : "-", list);
		}
		ctl_print_result(&ctl, arr, &t);
	}
	free(g);
	ctl_close(&ctl);
	return rc;
}

static int gateway_delete(int argc, char **argv)
{
	struct store_gateway dummy;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl gateway delete");
	rc = parse(&ctl, argc, argv, &dummy);
	if (rc >= 0)
		return rc;
	return ctl_delete_by_name(&ctl, argc, argv, "gateway", store_gateway_delete);
}

static const char usage[] = "Usage: pseudopodctl gateway COMMAND [ARGS...]\n"
			    "\n"
			    "Gateway nodes that terminate the machines' tunnels.\n";

static const struct cli_command commands[] = {
    {"add", gateway_add, "add or update a gateway"},
    {"list", gateway_list, "list gateways"},
    {"delete", gateway_delete, "remove a gateway"},
    {NULL, NULL, NULL},
};

int ctl_cmd_gateway(int argc, char **argv)
{
	return cli_dispatch("pseudopodctl gateway", usage, commands, argc, argv);
}

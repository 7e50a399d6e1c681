// SPDX-License-Identifier: GPL-2.0-only
/* pseudopodctl init: writes the cluster config record and sets up the cluster PKI. */
#include "cluster/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/ctl.h"
#include "lib/cli.h"
#include "enroll/pki.h"
#include "lib/kv/kv.h"
#include "lib/parse_num.h"

enum {
	OPT_NAME = 1,
	OPT_ID,
	OPT_POD,
	OPT_SVC,
	OPT_WL,
	OPT_TUNNEL,
	OPT_WGPORT,
	OPT_VXPORT,
	OPT_FORCE,
	OPT_PKI_DIR,
	OPT_SERVER_NAME,
	OPT_SERVER_IP,
	OPT_ROTATE,
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
	    "--tunnel wireguard, ports 51871 (WireGuard) and 8472 (VXLAN).\n"
	    "\n"
	    "Cluster PKI (for 'pseudopodctl serve'; with these options alone init does only "
	    "this):\n"
	    "  --server-name NAME[,NAME]  DNS names of the enrollment server (certificate SANs)\n"
	    "  --server-ip IP[,IP]        its IP addresses\n"
	    "  --pki-dir DIR              default " ENROLL_PKI_DEFAULT_DIR "\n"
	    "  --rotate                   a new server certificate under the same CA\n"
	    "creates the cluster CA (once) and the server certificate, and prints the CA pin.\n\n");
	ctl_print_store_help(out);
}

static json_t *config_json(const struct store_config *c)
{
	char *text = store_config_encode(c);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	return j;
}

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
    {"pki-dir", required_argument, NULL, OPT_PKI_DIR},
    {"server-name", required_argument, NULL, OPT_SERVER_NAME},
    {"server-ip", required_argument, NULL, OPT_SERVER_IP},
    {"rotate", no_argument, NULL, OPT_ROTATE},
    CTL_STORE_OPTIONS,
};

struct init_args {
	struct store_config cfg;
	const char *svc, *wl, *pods;
	bool force, have_id;
	const char *pki_dir, *server_names, *server_ips;
	bool rotate;
};

/* One init option into data (a struct init_args); -1 = taken, else an exit code. */
static int init_option(struct ctl *ctl, int opt, const char *arg, void *data)
{
	struct init_args *a = data;
	char why[160];

	switch (opt) {
	case OPT_NAME:
		if (strlen(arg) >= sizeof(a->cfg.cluster_name))
			return ctl_usage_error(ctl, "--cluster-name: at most 63 characters");
		snprintf(a->cfg.cluster_name, sizeof(a->cfg.cluster_name), "%s", arg);
		break;
	case OPT_ID:
		if (!parse_u32(arg, 1, 255, &a->cfg.cluster_id, why, sizeof(why)))
			return ctl_usage_error(ctl, "--cluster-id %s", why);
		a->have_id = true;
		break;
	case OPT_POD:
		a->pods = arg;
		break;
	case OPT_SVC:
		a->svc = arg;
		break;
	case OPT_WL:
		a->wl = arg;
		break;
	case OPT_TUNNEL:
		if (!strcmp(arg, "wireguard"))
			a->cfg.tunnel = STORE_TUNNEL_WIREGUARD;
		else if (!strcmp(arg, "vxlan"))
			a->cfg.tunnel = STORE_TUNNEL_VXLAN;
		else
			return ctl_usage_error(ctl, "--tunnel %s: expected wireguard or vxlan",
					       arg);
		break;
	case OPT_WGPORT:
		if (!parse_port(arg, &a->cfg.wireguard_port, why, sizeof(why)))
			return ctl_usage_error(ctl, "--wireguard-port %s", why);
		break;
	case OPT_VXPORT:
		if (!parse_port(arg, &a->cfg.vxlan_port, why, sizeof(why)))
			return ctl_usage_error(ctl, "--vxlan-port %s", why);
		break;
	case OPT_FORCE:
		a->force = true;
		break;
	case OPT_PKI_DIR:
		a->pki_dir = arg;
		break;
	case OPT_SERVER_NAME:
		a->server_names = arg;
		break;
	case OPT_SERVER_IP:
		a->server_ips = arg;
		break;
	case OPT_ROTATE:
		a->rotate = true;
		break;
	default:
		return ctl_usage_error(ctl, "unknown option");
	}
	return -1;
}

/* Splits a comma list in place into at most max items. */
static size_t split_list(char *list, const char **items, size_t n, size_t max)
{
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save))
		items[n++] = tok;
	return n;
}

/* The CA (once) and the server certificate; prints the pin join strings carry. */
static int init_pki(struct ctl *ctl, const struct init_args *a)
{
	const char *names[ENROLL_PKI_MAX_SANS], *ips[ENROLL_PKI_MAX_SANS];
	char nbuf[1024] = "", ibuf[1024] = "", why[400], pin[ENROLL_PIN_TEXT_LEN];
	const char *dir = a->pki_dir ? a->pki_dir : ENROLL_PKI_DEFAULT_DIR;
	struct enroll_pki_result res;
	size_t nn = 0, ni = 0;

	snprintf(nbuf, sizeof(nbuf), "%s", a->server_names ? a->server_names : "");
	snprintf(ibuf, sizeof(ibuf), "%s", a->server_ips ? a->server_ips : "");
	nn = split_list(nbuf, names, 0, ENROLL_PKI_MAX_SANS);
	ni = split_list(ibuf, ips, 0, ENROLL_PKI_MAX_SANS);
	if (enroll_pki_ensure(dir, names, nn, ips, ni, a->rotate, &res, why, sizeof(why)) < 0)
		return ctl_fail(ctl, "PKI in %s: %s", dir, why);
	enroll_pin_format(res.pin, pin);
	if (ctl->json) {
		ctl_print_json(json_pack("{s:s, s:s, s:b, s:b}", "pki_dir", dir, "ca_pin", pin,
					 "ca_created", res.ca_created, "server_cert_created",
					 res.server_created));
	} else {
		printf("cluster CA in %s (%s)\n", dir, res.ca_created ? "created" : "kept");
		printf("enrollment server certificate %s\n",
		       res.server_created ? "created" : "kept (--rotate makes a new one)");
		printf("CA pin: %s\n", pin);
	}
	return CLI_EXIT_OK;
}

int ctl_cmd_init(int argc, char **argv)
{
	struct init_args a = {.cfg = {.wireguard_port = 51871, .vxlan_port = 8472},
			      .svc = "10.96.0.0/12"};
	struct store_config *cfg = &a.cfg;
	char why[300];
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl init");
	rc = ctl_parse(&ctl, argc, argv, CTL_SHORT, opts, help, init_option, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return ctl_usage_error(&ctl, "unexpected argument '%s'", argv[optind]);
	if (a.pki_dir || a.server_names || a.server_ips || a.rotate) {
		/* PKI alone when no cluster option is given (rotation, or a serve host). */
		if (!cfg->cluster_name[0] && !a.have_id && !a.pods && !a.wl)
			return init_pki(&ctl, &a);
		if ((rc = init_pki(&ctl, &a)) != CLI_EXIT_OK)
			return rc;
	}
	if (!cfg->cluster_name[0] || !a.have_id || !a.pods || !a.wl)
		return ctl_usage_error(&ctl, "--cluster-name, --cluster-id, --pod-cidr and "
					     "--workload-cidr are required");
	{
		char list[1024], *tok, *save = NULL;

		snprintf(list, sizeof(list), "%s", a.pods);
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (cfg->n_pod_cidrs == STORE_MAX_CIDRS)
				return ctl_usage_error(&ctl, "--pod-cidr: at most %d CIDRs",
						       STORE_MAX_CIDRS);
			if (!store_cidr_canon(tok, cfg->pod_cidrs[cfg->n_pod_cidrs], why,
					      sizeof(why)))
				return ctl_usage_error(&ctl, "--pod-cidr %s", why);
			cfg->n_pod_cidrs++;
		}
	}
	if (!store_cidr_canon(a.svc, cfg->service_cidr, why, sizeof(why)))
		return ctl_usage_error(&ctl, "--service-cidr %s", why);
	if (!store_cidr_canon(a.wl, cfg->workload_cidr, why, sizeof(why)))
		return ctl_usage_error(&ctl, "--workload-cidr %s", why);
	if (!store_config_validate(cfg, why, sizeof(why)))
		return ctl_usage_error(&ctl, "%s", why);

	rc = ctl_connect(&ctl);
	if (rc)
		return rc;
	rc = store_config_put(&ctl.store, cfg, a.force);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		if (ctl.json)
			ctl_print_json(config_json(cfg));
		else
			printf("cluster %s (id %u) initialised in %s\n", cfg->cluster_name,
			       cfg->cluster_id, kv_endpoint(ctl.kv));
		rc = CLI_EXIT_OK;
	}
	ctl_close(&ctl);
	return rc;
}

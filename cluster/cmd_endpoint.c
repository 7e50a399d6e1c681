// SPDX-License-Identifier: GPL-2.0-only
/* pseudopodctl endpoint add|del|list: what a Kubernetes pod sync writes — an IP (ipcache)
 * pointing at the identity of the pod's labels plus its namespace label. */
#include "cluster/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/ctl.h"
#include "lib/cli.h"
#include "lib/net.h"

enum { OPT_IP = 1, OPT_LABELS, OPT_NS, OPT_KIND, OPT_GW, OPT_OUTSIDE };

static const struct option opts[] = {
    {"ip", required_argument, NULL, OPT_IP},
    {"labels", required_argument, NULL, OPT_LABELS},
    {"namespace", required_argument, NULL, OPT_NS},
    {"kind", required_argument, NULL, OPT_KIND},
    {"gateway", required_argument, NULL, OPT_GW},
    {"allow-outside-cluster-cidrs", no_argument, NULL, OPT_OUTSIDE},
    CTL_STORE_OPTIONS,
};

struct ep_args {
	const char *ip, *labels, *ns, *gateway;
	enum store_ipcache_kind kind;
	bool outside; /* --allow-outside-cluster-cidrs */
};

static void help(FILE *out)
{
	fprintf(
	    out,
	    "Usage: pseudopodctl endpoint add --ip IP[/LEN] [--labels k=v,...] [--namespace NS]\n"
	    "                                 [--kind pod|workload] [--gateway IPV4]\n"
	    "                                 [--allow-outside-cluster-cidrs]\n"
	    "       pseudopodctl endpoint del --ip IP[/LEN]\n"
	    "       pseudopodctl endpoint list [-o json]\n"
	    "\n"
	    "add allocates (or reuses) the security identity of the labels plus\n"
	    "k8s:io.kubernetes.pod.namespace=NS (default namespace: default) and writes\n"
	    "ipcache/<ip>/<len>. A bare IP means /32 (/128). --gateway is the underlay IPv4\n"
	    "address of the tunnel endpoint that reaches the IP (the datapath tunnels over IPv4).\n"
	    "The IP must lie in the cluster's pod or workload CIDRs (the store's config record,\n"
	    "'pseudopodctl init') unless --allow-outside-cluster-cidrs; /0 is never accepted.\n"
	    "Labels of the reserved: and cidr: sources are pseudopod's own and refused.\n\n");
	ctl_print_store_help(out);
}

/* One endpoint option into a (a struct ep_args); -1 = taken, else an exit code. */
static int endpoint_option(struct ctl *ctl, int opt, const char *arg, void *data)
{
	struct ep_args *a = data;

	switch (opt) {
	case OPT_IP:
		a->ip = arg;
		break;
	case OPT_LABELS:
		a->labels = arg;
		break;
	case OPT_NS:
		a->ns = arg;
		break;
	case OPT_GW:
		a->gateway = arg;
		break;
	case OPT_OUTSIDE:
		a->outside = true;
		break;
	case OPT_KIND:
		if (!strcmp(arg, "pod"))
			a->kind = STORE_IPCACHE_POD;
		else if (!strcmp(arg, "workload"))
			a->kind = STORE_IPCACHE_WORKLOAD;
		else
			return ctl_usage_error(ctl, "--kind %s: expected pod or workload", arg);
		break;
	default:
		return ctl_usage_error(ctl, "unknown option");
	}
	return -1;
}

/* Parses options; returns -1 to continue, else an exit code. */
static int parse(struct ctl *ctl, int argc, char **argv, struct ep_args *a)
{
	int rc = ctl_parse(ctl, argc, argv, CTL_SHORT, opts, help, endpoint_option, a);

	if (rc >= 0)
		return rc;
	/* "endpoint del 10.0.0.1" reads as naturally as --ip */
	if (!a->ip && optind < argc)
		a->ip = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);
	return -1;
}

/* The address, gateway and labels alone (before connecting); -1 = fine, else an exit code. */
static int check_add_args(struct ctl *ctl, const struct ep_args *a, const struct label_set *labels,
			  struct net_prefix *ip)
{
	struct net_prefix gw;
	char why[300];

	if (!net_prefix_parse(a->ip, NET_HOST_BITS_REFUSE, ip, why, sizeof(why)))
		return ctl_usage_error(ctl, "--ip %s", why);
	/* A /0 endpoint gives every source without a better match this identity. */
	if (ip->len == 0)
		return ctl_usage_error(
		    ctl, "--ip %s: a /0 prefix is every address, not an endpoint", a->ip);
	if (a->gateway && !net_ip_parse(a->gateway, AF_INET, &gw, why, sizeof(why)))
		return ctl_usage_error(ctl, "--gateway %s (the datapath tunnels to IPv4 endpoints)",
				       why);
	if (!store_labels_assignable(labels, why, sizeof(why)))
		return ctl_usage_error(ctl, "--labels: %s", why);
	return -1;
}

/* An endpoint outside the cluster's CIDRs would give its identity to addresses that are not
 * pods or workloads (another network, the internet). -1 = inside, else an exit code. */
static int check_cluster_cidrs(struct ctl *ctl, const struct net_prefix *ip)
{
	struct store_config cfg;
	char text[NET_PREFIX_STRLEN];
	struct net_prefix c;

	if (store_config_get(&ctl->store, &cfg) < 0)
		return ctl_fail(ctl,
				"%s; the cluster's CIDRs are needed to check --ip (or pass "
				"--allow-outside-cluster-cidrs)",
				store_error(&ctl->store));
	for (size_t i = 0; i <= cfg.n_pod_cidrs; i++) {
		const char *cidr = i < cfg.n_pod_cidrs ? cfg.pod_cidrs[i] : cfg.workload_cidr;

		if (net_prefix_parse(cidr, NET_HOST_BITS_REFUSE, &c, NULL, 0) &&
		    net_prefix_contains(&c, ip))
			return -1;
	}
	return ctl_usage_error(ctl,
			       "--ip %s is outside the cluster's pod and workload CIDRs; pass "
			       "--allow-outside-cluster-cidrs if it is meant to be",
			       net_prefix_format(ip, text));
}

static int endpoint_add(int argc, char **argv)
{
	struct ep_args a = {.ns = "default"};
	struct label_set labels = {0};
	char why[300], nslabel[300], cidr[STORE_CIDR_MAX];
	struct net_prefix ip;
	struct ctl ctl;
	uint32_t id = 0;
	int rc;

	ctl_init(&ctl, "pseudopodctl endpoint add");
	rc = parse(&ctl, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (!a.ip)
		return ctl_usage_error(&ctl, "--ip is required");
	if (!store_name_valid(a.ns, false))
		return ctl_usage_error(&ctl,
				       "--namespace '%s': expected a Kubernetes namespace "
				       "name (a-z, 0-9, '-', at most 63)",
				       a.ns);
	if (!label_set_parse(&labels, a.labels ? a.labels : "", why, sizeof(why)))
		return ctl_usage_error(&ctl, "--labels: %s", why);
	rc = check_add_args(&ctl, &a, &labels, &ip);
	if (rc >= 0) {
		label_set_free(&labels);
		return rc;
	}
	net_prefix_format(&ip, cidr);
	snprintf(nslabel, sizeof(nslabel), "k8s:%s=%s", LABEL_POD_NAMESPACE, a.ns);
	if (label_set_get(&labels, NULL, LABEL_POD_NAMESPACE) &&
	    strcmp(label_set_get(&labels, NULL, LABEL_POD_NAMESPACE), a.ns)) {
		rc = ctl_usage_error(&ctl, "--labels names namespace '%s' but --namespace is '%s'",
				     label_set_get(&labels, NULL, LABEL_POD_NAMESPACE), a.ns);
		label_set_free(&labels);
		return rc;
	}
	if (!label_set_add(&labels, nslabel, why, sizeof(why))) {
		label_set_free(&labels);
		return ctl_usage_error(&ctl, "--namespace: %s", why);
	}
	rc = ctl_connect(&ctl);
	if (rc) {
		label_set_free(&labels);
		return rc;
	}
	rc = a.outside ? -1 : check_cluster_cidrs(&ctl, &ip);
	if (rc >= 0)
		goto out;
	rc = store_endpoint_add(&ctl.store, cidr, &labels, a.kind, a.gateway, &id);
	if (rc == -EINVAL) {
		rc = ctl_usage_error(&ctl, "%s", store_error(&ctl.store));
	} else if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		if (ctl.json) {
			ctl_print_json(json_pack("{s:s, s:I, s:o}", "ip", cidr, "identity",
						 (json_int_t)id, "labels",
						 label_set_to_json(&labels)));
		} else {
			char *text = label_set_to_string(&labels);
			printf("%s -> identity %u (%s)\n", cidr, id, text ? text : "");
			free(text);
		}
		rc = CLI_EXIT_OK;
	}
out:
	label_set_free(&labels);
	ctl_close(&ctl);
	return rc;
}

static int endpoint_del(int argc, char **argv)
{
	struct ep_args a = {0};
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl endpoint del");
	rc = parse(&ctl, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (!a.ip)
		return ctl_usage_error(&ctl, "--ip is required");
	rc = ctl_connect(&ctl);
	if (rc)
		return rc;
	rc = store_endpoint_del(&ctl.store, a.ip);
	if (rc == -EINVAL)
		rc = ctl_usage_error(&ctl, "--ip %s", store_error(&ctl.store));
	else if (rc < 0)
		rc = ctl_store_fail(&ctl);
	else if (!ctl.json)
		printf("deleted %s\n", a.ip);
	ctl_close(&ctl);
	return rc;
}

static const struct store_identity *find_identity(const struct store_identity *ids, size_t n,
						  uint32_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ids[mid].id == id)
			return &ids[mid];
		if (ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int endpoint_list(int argc, char **argv)
{
	struct store_identity *ids = NULL;
	struct store_ipcache *eps = NULL;
	size_t nids = 0, neps = 0;
	struct ep_args a = {0};
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl endpoint list");
	rc = parse(&ctl, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (a.ip)
		return ctl_usage_error(&ctl, "unexpected argument '%s'", a.ip);
	rc = ctl_connect(&ctl);
	if (rc)
		return rc;
	rc = store_load_ipcache(&ctl.store, &eps, &neps, NULL);
	if (rc == 0)
		rc = store_load_identities(&ctl.store, &ids, &nids, NULL);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
		goto out;
	}
	if (ctl.json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < neps; i++) {
			const struct store_identity *id = find_identity(ids, nids, eps[i].identity);
			json_t *o = json_pack("{s:s, s:I, s:s}", "ip", eps[i].cidr, "identity",
					      (json_int_t)eps[i].identity, "kind",
					      store_ipcache_kind_name(eps[i].kind));
			if (eps[i].gateway[0])
				json_object_set_new(o, "gateway", json_string(eps[i].gateway));
			json_object_set_new(o, "labels",
					    id ? label_set_to_json(&id->labels) : json_null());
			json_array_append_new(arr, o);
		}
		ctl_print_json(arr);
	} else {
		struct ctl_table t;

		ctl_table_init(&t, 5, "IP", "IDENTITY", "KIND", "GATEWAY", "LABELS");
		for (size_t i = 0; i < neps; i++) {
			const struct store_identity *id = find_identity(ids, nids, eps[i].identity);
			char num[16], *labels = id ? label_set_to_string(&id->labels) : NULL;

			snprintf(num, sizeof(num), "%u", eps[i].identity);
			ctl_table_row(&t, eps[i].cidr, num, store_ipcache_kind_name(eps[i].kind),
				      eps[i].gateway[0] ? eps[i].gateway : "-",
				      labels ? labels : "(unknown identity)");
			free(labels);
		}
		ctl_table_print(&t, stdout);
	}
	rc = CLI_EXIT_OK;
out:
	free(eps);
	store_identities_free(ids, nids);
	ctl_close(&ctl);
	return rc;
}

static const char usage[] = "Usage: pseudopodctl endpoint COMMAND [ARGS...]\n"
			    "\n"
			    "Pod endpoints: IP -> labels -> security identity (ipcache).\n";

static const struct cli_command commands[] = {
    {"add", endpoint_add, "map an IP to the identity of its labels"},
    {"del", endpoint_del, "remove an IP from the ipcache"},
    {"list", endpoint_list, "list ipcache entries with their labels"},
    {NULL, NULL, NULL},
};

int ctl_cmd_endpoint(int argc, char **argv)
{
	return cli_dispatch("pseudopodctl endpoint", usage, commands, argc, argv);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopod identity [get ID | list] [--ip IP]: this machine's identity (GET /v1/identity),
 * one identity the daemon knows (?id=N), every identity with its labels (GET
 * /v1/identities) or the identity an address maps to in the ipcache (?ip=IP). Tables
 * follow `cilium identity get|list`: the id, then one label per line.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/api_client.h"
#include "agent/cli_cmds.h"
#include "lib/cli.h"
#include "lib/net.h"
#include "lib/parse_num.h"

static const char identity_usage[] =
    "Usage: pseudopod identity [--ip IP] [-o table|json] [--socket PATH] [--config FILE]\n"
    "       pseudopod identity get ID [-o table|json]\n"
    "       pseudopod identity list [-o table|json]\n"
    "\n"
    "Security identities as pseudopodd knows them from the cluster store: a number per set\n"
    "of labels, which policies select and the datapath matches on.\n"
    "\n"
    "Without a command: this machine's identity (number, labels, name, namespace, overlay\n"
    "IP), or with --ip the identity an address maps to.\n"
    "\n"
    "Commands:\n"
    "  get    one identity by number, with its labels\n"
    "  list   every identity pseudopodd knows (reserved, cluster and the CIDR identities\n"
    "         its policies use), with their labels\n"
    "\n"
    "Options:\n"
    "  --ip IP              which identity an address maps to: the longest ipcache prefix\n"
    "                       holding it, the identity and its labels, the tunnel endpoint\n"
    "                       (world, identity 2, when no prefix holds it)\n"
    "  -o, --output FORMAT  table (default) or json\n"
    "  --socket PATH        the daemon's API socket (default from the config file)\n"
    "  --config FILE        config file (default /etc/pseudopod/pseudopod.conf)\n"
    "\n"
    "Examples:\n"
    "  pseudopod identity\n"
    "  pseudopod identity list\n"
    "  pseudopod identity get 4097 -o json\n"
    "  pseudopod identity --ip 10.244.1.5\n"
    "\n"
    "Exit status: 0 ok; 1 pseudopodd not running or reported an error (e.g. an identity it\n"
    "does not know); 2 usage (e.g. an ID that is not a number).\n";

enum identity_sub { SUB_SELF, SUB_GET, SUB_LIST };

struct identity_opts {
	struct api_client_opts api;
	enum identity_sub sub;
	const char *ip, *id;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pseudopod identity: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n%s", identity_usage);
	return CLI_EXIT_USAGE;
}

/* One label per line under the first, as `cilium identity list` prints them. */
static void print_labels(FILE *out, const json_t *labels, int indent)
{
	const json_t *l;
	size_t i, n = 0;

	json_array_foreach(labels, i, l)
	{
		if (!json_is_string(l))
			continue;
		fprintf(out, "%*s%s\n", n ? indent : 0, "", json_string_value(l));
		n++;
	}
	if (!n)
		fputs("-\n", out);
}

static void print_row(FILE *out, const json_t *id)
{
	const json_t *num = json_object_get(id, "id");
	const char *kind = json_string_value(json_object_get(id, "kind"));
	char n[24] = "?";

	if (json_is_integer(num))
		snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(num));
	fprintf(out, "%-10s %-9s ", n, kind ? kind : "-");
	print_labels(out, json_object_get(id, "labels"), 21);
}

void cli_render_identities(FILE *out, const json_t *reply)
{
	const json_t *id;
	size_t i;

	fprintf(out, "%-10s %-9s %s\n", "ID", "KIND", "LABELS");
	json_array_foreach(json_object_get(reply, "identities"), i, id)
	{
		if (json_is_object(id))
			print_row(out, id);
	}
}

/* One identity object, or an ipcache answer ({"ip", "prefix", "identity": {...}, ...}):
 * the table row, then the other fields as "key: value" lines. */
void cli_render_identity(FILE *out, const json_t *reply)
{
	const json_t *nested = json_object_get(reply, "identity");
	const json_t *id = json_is_object(nested) ? nested : reply;
	json_t *rest = json_is_object(reply) ? json_deep_copy(reply) : NULL;

	fprintf(out, "%-10s %-9s %s\n", "ID", "KIND", "LABELS");
	print_row(out, id);
	if (!rest)
		return;
	if (id == nested) {
		json_object_del(rest, "identity");
	} else {
		json_object_del(rest, "id");
		json_object_del(rest, "kind");
		json_object_del(rest, "labels");
	}
	if (json_object_size(rest)) {
		fputc('\n', out);
		cli_render_object(out, rest, 0);
	}
	json_decref(rest);
}

/* The subcommand and its operand; options anywhere. -1 = go on, else an exit code. */
static int parse(int argc, char **argv, struct identity_opts *o)
{
	static const struct option opts[] = {
	    {"ip", required_argument, NULL, 'i'}, API_CLIENT_OPTIONS_LONG, {NULL, 0, NULL, 0}};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'i') {
			o->ip = optarg;
			continue;
		}
		rc = api_client_opt(c, optarg, &o->api, "identity", identity_usage);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc && !strcmp(argv[optind], "get")) {
		o->sub = SUB_GET;
		if (++optind == argc)
			return usage_error("get needs an identity number");
		o->id = argv[optind++];
	} else if (optind < argc && !strcmp(argv[optind], "list")) {
		o->sub = SUB_LIST;
		optind++;
	}
	if (optind < argc)
		return o->sub == SUB_SELF
			   ? usage_error("unknown subcommand '%s' (expected get or list)",
					 argv[optind])
			   : usage_error("unexpected argument '%s'", argv[optind]);
	if (o->ip && o->sub != SUB_SELF)
		return usage_error("--ip %s: not with get or list", o->ip);
	return -1;
}

/* The request path; checks the operands here so a typo is a usage error naming it. */
static int request_path(const struct identity_opts *o, char *path, size_t len)
{
	struct net_prefix ip;
	char why[256];
	uint32_t id;

	if (o->sub == SUB_LIST) {
		snprintf(path, len, "/v1/identities");
		return -1;
	}
	snprintf(path, len, "/v1/identity");
	if (o->sub == SUB_GET) {
		if (!parse_u32(o->id, 1, UINT32_MAX, &id, why, sizeof(why)))
			return usage_error("identity %s", why);
		if (!api_client_query_add(path, len, "id", o->id))
			return usage_error("identity '%s': too long", o->id);
	}
	if (o->ip) {
		if (!net_ip_parse(o->ip, AF_UNSPEC, &ip, why, sizeof(why)))
			return usage_error("--ip %s", why);
		if (!api_client_query_add(path, len, "ip", o->ip))
			return usage_error("--ip '%s': too long", o->ip);
	}
	return -1;
}

int cmd_identity(int argc, char **argv)
{
	struct identity_opts o = {0};
	char sock[256], why[512], path[512];
	json_t *reply;
	int rc;

	rc = parse(argc, argv, &o);
	if (rc < 0)
		rc = request_path(&o, path, sizeof(path));
	if (rc >= 0)
		return rc;
	if (!api_client_socket_path(o.api.socket_path, o.api.config, sock, sizeof(sock), why,
				    sizeof(why))) {
		fprintf(stderr, "pseudopod identity: %s\n", why);
		return CLI_EXIT_FAIL; /* a bad config file is not a usage error */
	}
	rc = api_client_fetch(sock, path, &reply);
	if (rc)
		return rc;
	if (o.api.json) {
		json_dumpf(reply, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else if (o.sub == SUB_LIST) {
		cli_render_identities(stdout, reply);
	} else {
		cli_render_identity(stdout, reply);
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}

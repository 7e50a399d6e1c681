// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopod policy get|trace: this machine's effective policy entries (GET /v1/policy)
 * and the engine's verdict for one flow against the daemon's live state
 * (GET /v1/policy/trace).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/api_client.h"
#include "agent/cli_cmds.h"
#include "lib/cli.h"

static const char policy_usage[] =
    "Usage: pseudopod policy get [--endpoint ID] [-o table|json] [--socket PATH]\n"
    "                            [--config FILE]\n"
    "       pseudopod policy trace --src IP --dst IP [--dport N] [--proto P] [-o table|json]\n"
    "\n"
    "get    the policy entries this machine enforces, each with the policy (namespace/name)\n"
    "       and rule that produced it, and whether each direction is enforced; on a\n"
    "       gateway, the entries of every pod and machine it enforces for (ENDPOINT)\n"
    "trace  what the policy engine decides for one flow, against the daemon's live state\n"
    "       (identities, ipcache, policies): the verdict and the rule that decided\n"
    "\n"
    "  --endpoint ID        get: only this endpoint's entries (on a gateway, one pod or\n"
    "                       machine; on a machine, its own identity)\n"
    "  --src IP, --dst IP   the flow's addresses (same family)\n"
    "  --dport N            destination port (or ICMP type with --proto icmp)\n"
    "  --proto P            tcp (default), udp, sctp, icmp, icmpv6 or any\n"
    "  -o, --output FORMAT  table (default) or json\n"
    "  --socket PATH        the daemon's API socket (default from the config file)\n"
    "  --config FILE        config file (default /etc/pseudopod/pseudopod.conf)\n"
    "\n"
    "Examples:\n"
    "  pseudopod policy get\n"
    "  pseudopod policy get --endpoint 4097      (on a gateway)\n"
    "  pseudopod policy trace --src 10.99.0.2 --dst 10.244.1.5 --dport 5432\n"
    "  pseudopod policy trace --src 10.99.0.2 --dst 10.244.1.5 --proto icmp --dport 8\n"
    "\n"
    "Exit status: 0 ok (a trace that ends in \"denied\" is a successful trace); 1 pseudopodd\n"
    "not running or reported an error (e.g. a bad address); 2 usage.\n";

struct policy_opts {
	struct api_client_opts api;
	char query[1024];
	bool has_src, has_dst;
};

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void labels_text(const json_t *labels, char *buf, size_t len)
{
	const json_t *l;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(labels, i, l)
	{
		if (off >= len || !json_is_string(l))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
					json_string_value(l));
	}
}

void cli_render_policy(FILE *out, const json_t *policy)
{
	const json_t *entries = json_object_get(policy, "entries"), *e;
	json_t *head = json_deep_copy(policy);
	char labels[512], ports[32];
	bool with_ep = false;
	size_t i;

	if (head) { /* everything but the entries, generic */
		json_object_del(head, "entries");
		cli_render_object(out, head, 0);
		json_decref(head);
	}
	/* a gateway enforces for several endpoints: its entries name theirs */
	if (json_is_object(json_array_get(entries, 0)) &&
	    json_object_get(json_array_get(entries, 0), "endpoint"))
		with_ep = true;
	if (with_ep)
		fprintf(out, "%-10s ", "ENDPOINT");
	fprintf(out, "%-9s %-7s %-10s %-7s %-12s %-30s %-14s %s\n", "DIRECTION", "VERDICT",
		"IDENTITY", "PROTO", "PORTS", "POLICY", "RULE", "LABELS");
	json_array_foreach(entries, i, e)
	{
		const json_t *id = json_object_get(e, "identity");
		char idbuf[24];

		if (!json_is_object(e))
			continue;
		if (with_ep)
			fprintf(out, "%-10lld ",
				(long long)json_integer_value(json_object_get(e, "endpoint")));
		labels_text(json_object_get(e, "labels"), labels, sizeof(labels));
		snprintf(ports, sizeof(ports), "%s", str(e, "ports")[0] ? str(e, "ports") : "any");
		if (json_is_integer(id) && json_integer_value(id) == 0)
			snprintf(idbuf, sizeof(idbuf), "any");
		else
			snprintf(idbuf, sizeof(idbuf), "%lld", (long long)json_integer_value(id));
		fprintf(out, "%-9s %-7s %-10s %-7s %-12s %-30s %-14s %s\n", str(e, "direction"),
			str(e, "verdict"), idbuf, str(e, "proto"), ports, str(e, "policy"),
			str(e, "rule"), labels[0] ? labels : "-");
	}
}

void cli_render_trace(FILE *out, const json_t *trace)
{
	cli_render_object(out, trace, 0);
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "pseudopod policy: %s%s\n\n%s", msg, arg, policy_usage);
	return CLI_EXIT_USAGE;
}

static int parse(int argc, char **argv, struct policy_opts *o, bool trace)
{
	static const struct option opts[] = {{"src", required_argument, NULL, 's'},
					     {"dst", required_argument, NULL, 'd'},
					     {"dport", required_argument, NULL, 'p'},
					     {"proto", required_argument, NULL, 'P'},
					     {"endpoint", required_argument, NULL, 'e'},
					     API_CLIENT_OPTIONS_LONG,
					     {NULL, 0, NULL, 0}};
	static const char *const keys[128] = {
	    ['s'] = "src", ['d'] = "dst", ['p'] = "dport", ['P'] = "proto", ['e'] = "endpoint"};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c > 0 && c < 128 && keys[c]) {
			if (!trace && c != 'e')
				return usage_error("'policy get' takes no --", keys[c]);
			if (trace && c == 'e')
				return usage_error("'policy trace' takes no --", keys[c]);
			if (!api_client_query_add(o->query, sizeof(o->query), keys[c], optarg))
				return usage_error("value too long: ", optarg);
			o->has_src |= c == 's';
			o->has_dst |= c == 'd';
			continue;
		}
		rc = api_client_opt(c, optarg, &o->api, "policy", policy_usage);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument ", argv[optind]);
	if (trace && (!o->has_src || !o->has_dst))
		return usage_error("trace needs ", o->has_src ? "--dst" : "--src");
	return -1;
}

int cmd_policy(int argc, char **argv)
{
	struct policy_opts o = {0};
	char sock[256], why[512], path[1200];
	bool trace;
	json_t *reply;
	int rc;

	if (argc < 2 || cli_wants_help(2, argv)) {
		fputs(policy_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "get") && strcmp(argv[1], "trace"))
		return usage_error("unknown subcommand ", argv[1]);
	trace = !strcmp(argv[1], "trace");
	rc = parse(argc - 1, argv + 1, &o, trace);
	if (rc >= 0)
		return rc;
	if (!api_client_socket_path(o.api.socket_path, o.api.config, sock, sizeof(sock), why,
				    sizeof(why))) {
		fprintf(stderr, "pseudopod policy: %s\n", why);
		return CLI_EXIT_FAIL; /* a bad config file is not a usage error */
	}
	snprintf(path, sizeof(path), "%s%s", trace ? "/v1/policy/trace" : "/v1/policy", o.query);
	rc = api_client_fetch(sock, path, &reply);
	if (rc)
		return rc;
	if (o.api.json) {
		json_dumpf(reply, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else if (trace) {
		cli_render_trace(stdout, reply);
	} else {
		cli_render_policy(stdout, reply);
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopod observe: recent flows from the daemon's ring (GET /v1/flows), filtered by the
 * daemon; --follow keeps asking for what came after the last cursor ("next"), so no flow
 * is printed twice and a gap is reported ("lost") instead of hidden.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/api_client.h"
#include "agent/cli_cmds.h"
#include "agent/flows.h"
#include "lib/cli.h"

/* How often a follower asks (a request on a local socket costs ~0.1 ms of daemon time). */
#define FOLLOW_INTERVAL_MS 200

static const char observe_usage[] =
    "Usage: pseudopod observe [--follow] [--last N] [--verdict forwarded|dropped]\n"
    "                         [--ip IP] [--port P] [--identity ID] [-o table|json]\n"
    "                         [--socket PATH] [--config FILE]\n"
    "\n"
    "Shows the flows the datapath judged on this machine: time, direction, source and\n"
    "destination IP:port with their identities and labels, protocol, verdict, drop reason,\n"
    "and the policy rule that allowed or denied the flow. Only new flows and drops are\n"
    "reported (established traffic is not), at most [datapath] events-per-second per CPU.\n"
    "\n"
    "  -f, --follow            keep printing new flows until interrupted (Ctrl-C)\n"
    "  -n, --last N            the N most recent matching flows (default 20)\n"
    "      --verdict V         forwarded or dropped\n"
    "      --ip IP             flows from or to this address\n"
    "      --port P            flows from or to this port\n"
    "      --identity ID       flows from or to this security identity\n"
    "  -o, --output FORMAT     table (default) or json: one object per line, with Hubble's\n"
    "                          field names (time, verdict, drop_reason_desc, IP.source,\n"
    "                          l4.TCP.destination_port, source.identity, source.labels,\n"
    "                          traffic_direction, ...)\n"
    "      --socket PATH       the daemon's API socket (default from the config file)\n"
    "      --config FILE       config file (default /etc/pseudopod/pseudopod.conf)\n"
    "\n"
    "Examples:\n"
    "  pseudopod observe --verdict dropped --last 50\n"
    "  pseudopod observe -f --port 5432\n"
    "  pseudopod observe -o json | jq -r 'select(.verdict==\"DROPPED\") | .IP.source'\n"
    "\n"
    "Exit status: 0 ok; 1 pseudopodd not running or reported an error; 2 usage.\n";

struct observe_opts {
	struct api_client_opts api;
	bool follow;
	const char *last; /* --last, for the first request only */
	char query[1024];
};

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

void cli_render_flows(FILE *out, const json_t *reply)
{
	const json_t *flows = json_object_get(reply, "flows"), *f;
	char line[1024];
	size_t i;

	json_array_foreach(flows, i, f)
	{
		if (!json_is_object(f))
			continue;
		flows_json_line(f, line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
}

static void print_json_lines(const json_t *reply)
{
	const json_t *flows = json_object_get(reply, "flows"), *f;
	size_t i;

	json_array_foreach(flows, i, f)
	{
		json_dumpf(f, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	}
}

/* One request; prints what came and moves *cursor. Returns 0 or the exit code. */
static int fetch(const struct observe_opts *o, const char *sock, const char *extra,
		 uint64_t *cursor)
{
	char path[1200];
	json_t *reply, *next, *lost;
	int rc;

	snprintf(path, sizeof(path), "/v1/flows%s", o->query);
	/* --last sizes the history printed first; a follower then takes everything new (the
	 * daemon caps a reply, the cursor says where it stopped). */
	if (!extra && o->last && !api_client_query_add(path, sizeof(path), "last", o->last))
		return CLI_EXIT_USAGE;
	if (extra && !api_client_query_add(path, sizeof(path), "since", extra))
		return CLI_EXIT_USAGE;
	rc = api_client_fetch(sock, path, &reply);
	if (rc)
		return rc;
	if (o->api.json)
		print_json_lines(reply);
	else
		cli_render_flows(stdout, reply);
	fflush(stdout);
	next = json_object_get(reply, "next");
	lost = json_object_get(reply, "lost");
	if (json_is_integer(next) && json_integer_value(next) >= 0)
		*cursor = (uint64_t)json_integer_value(next);
	if (json_is_integer(lost) && json_integer_value(lost) > 0)
		fprintf(stderr,
			"pseudopod observe: %lld flows lost (the daemon's ring overwrote "
			"them before they were read)\n",
			(long long)json_integer_value(lost));
	json_decref(reply);
	return 0;
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "pseudopod observe: %s%s\n\n%s", msg, arg, observe_usage);
	return CLI_EXIT_USAGE;
}

static int add(struct observe_opts *o, const char *key, const char *value)
{
	if (!api_client_query_add(o->query, sizeof(o->query), key, value))
		return usage_error("option value too long: ", value);
	return -1;
}

static int parse(int argc, char **argv, struct observe_opts *o)
{
	static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
					     {"last", required_argument, NULL, 'n'},
					     {"verdict", required_argument, NULL, 'V'},
					     {"ip", required_argument, NULL, 'I'},
					     {"port", required_argument, NULL, 'P'},
					     {"identity", required_argument, NULL, 'D'},
					     API_CLIENT_OPTIONS_LONG,
					     {NULL, 0, NULL, 0}};
	static const char *const keys[128] = {
	    ['n'] = "last", ['V'] = "verdict", ['I'] = "ip", ['P'] = "port", ['D'] = "identity"};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fn:o:h", opts, NULL)) != -1) {
		if (c > 0 && c < 128 && keys[c]) {
			/* Values are checked by the daemon, which names the bad one (exit 1 is
			 * wrong for a typo, so the common mistakes are caught here too). */
			if (c == 'V' && strcmp(optarg, "forwarded") && strcmp(optarg, "dropped"))
				return usage_error("--verdict: expected forwarded or dropped, not ",
						   optarg);
			if (c == 'n') {
				o->last = optarg;
				continue;
			}
			rc = add(o, keys[c], optarg);
			if (rc >= 0)
				return rc;
			continue;
		}
		if (c == 'f') {
			o->follow = true;
			continue;
		}
		rc = api_client_opt(c, optarg, &o->api, "observe", observe_usage);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument ", argv[optind]);
	return -1;
}

int cmd_observe(int argc, char **argv)
{
	struct observe_opts o = {0};
	char sock[256], why[512], since[32];
	uint64_t cursor = 0;
	int rc = parse(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (!api_client_socket_path(o.api.socket_path, o.api.config, sock, sizeof(sock), why,
				    sizeof(why))) {
		fprintf(stderr, "pseudopod observe: %s\n", why);
		return CLI_EXIT_FAIL; /* a bad config file is not a usage error */
	}
	signal(SIGPIPE, SIG_DFL); /* `observe -f | head` ends quietly */
	rc = fetch(&o, sock, NULL, &cursor);
	while (!rc && o.follow) {
		sleep_ms(FOLLOW_INTERVAL_MS);
		snprintf(since, sizeof(since), "%llu", (unsigned long long)cursor);
		rc = fetch(&o, sock, since, &cursor);
	}
	return rc;
}

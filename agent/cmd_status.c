// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopod status: the daemon's GET /v1/status, as sections (enrollment, tunnel, store,
 * datapath, policy, counters) or as JSON. The renderer is generic over the object's keys:
 * a daemon that adds a field shows it without a CLI change.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/api_client.h"
#include "agent/cli_cmds.h"
#include "lib/cli.h"

static const char status_usage[] =
    "Usage: pseudopod status [-o table|json] [--socket PATH] [--config FILE]\n"
    "\n"
    "Shows what pseudopodd is doing on this machine: enrollment (name, identity, labels,\n"
    "overlay IP), tunnel (backend, each gateway with its handshake age and bytes, which\n"
    "one is active), store (endpoint, connected or since when not, revision, last sync,\n"
    "\"stale\" when disconnected), datapath (devices, map fill levels, program ids), policy\n"
    "(revision, entries per direction, enforcement) and counters. On a gateway (pseudopodd\n"
    "--mode gateway): the gateway, the machines it serves (peers, with handshake age and\n"
    "bytes), its endpoints, store, datapath (map fill levels), policy and counters.\n"
    "\n"
    "  -o, --output FORMAT   table (default) or json (the API's reply, indented)\n"
    "      --socket PATH     the daemon's API socket (default: [agent] api-socket of the\n"
    "                        config file, /run/pseudopod/api.sock)\n"
    "      --config FILE     config file (default /etc/pseudopod/pseudopod.conf)\n"
    "\n"
    "Examples:\n"
    "  pseudopod status\n"
    "  pseudopod status -o json | jq .store.connected\n"
    "\n"
    "Exit status: 0 ok; 1 pseudopodd not running or reported an error; 2 usage.\n";

static void scalar(FILE *out, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), out);
		break;
	case JSON_INTEGER:
		fprintf(out, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(out, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("yes", out);
		break;
	case JSON_FALSE:
		fputs("no", out);
		break;
	case JSON_NULL:
		fputs("-", out);
		break;
	default: { /* nested container inside a table cell: compact JSON */
		char *s = json_dumps(v, JSON_COMPACT);

		fputs(s ? s : "?", out);
		free(s);
	}
	}
}

static bool all_scalars(const json_t *arr)
{
	size_t i;
	const json_t *v;

	json_array_foreach(arr, i, v) if (json_is_object(v) || json_is_array(v)) return false;
	return true;
}

static int cell_width(const json_t *v)
{
	char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	long n;

	if (!f)
		return 8;
	scalar(f, v);
	n = ftell(f);
	fclose(f);
	return n > 60 ? 60 : (int)n;
}

/* Arrays of objects: columns are the first object's keys, widths from the content. */
static void render_table(FILE *out, const json_t *arr, int indent)
{
	const json_t *first = json_array_get(arr, 0), *row, *v;
	int widths[16] = {0}, last = 0;
	const char *key;
	size_t i, c;

	c = 0;
	json_object_foreach((json_t *)first, key, v)
	{
		if (c < 16)
			widths[c++] = (int)strlen(key);
	}
	json_array_foreach(arr, i, row)
	{
		c = 0;
		json_object_foreach((json_t *)first, key, v)
		{
			int w = cell_width(json_object_get(row, key) ? json_object_get(row, key)
								     : json_null());

			if (c < 16 && w > widths[c])
				widths[c] = w;
			c++;
		}
	}
	fprintf(out, "%*s", indent, "");
	c = 0;
	json_object_foreach((json_t *)first, key, v)
	{
		if (c < 16) {
			if (c)
				fprintf(out, "%*s", widths[c - 1] - last + 2, "");
			for (const char *k = key; *k; k++)
				fputc(*k >= 'a' && *k <= 'z' ? *k - 32 : *k == '_' ? ' ' : *k, out);
			last = (int)strlen(key);
		}
		c++;
	}
	fputc('\n', out);
	json_array_foreach(arr, i, row)
	{
		fprintf(out, "%*s", indent, "");
		c = 0;
		json_object_foreach((json_t *)first, key, v)
		{
			const json_t *cell = json_object_get(row, key);

			if (c < 16) { /* pad before a cell, not after: no trailing blanks */
				if (c)
					fprintf(out, "%*s", widths[c - 1] - last + 2, "");
				scalar(out, cell ? cell : json_null());
				last = cell_width(cell ? cell : json_null());
			}
			c++;
		}
		fputc('\n', out);
	}
}

/* An array mixing scalars and containers: one item per line. */
static void render_list(FILE *out, const json_t *arr, int indent)
{
	const json_t *x;
	size_t i;

	json_array_foreach(arr, i, x)
	{
		fprintf(out, "%*s- ", indent, "");
		scalar(out, x);
		fputc('\n', out);
	}
}

void cli_render_object(FILE *out, const json_t *obj, int indent)
{
	const char *key;
	const json_t *v;
	size_t i;
	int w = 0;

	json_object_foreach((json_t *)obj, key, v) if ((int)strlen(key) > w) w = (int)strlen(key);
	json_object_foreach((json_t *)obj, key, v)
	{
		if (indent > 40)
			break; /* a hostile nesting depth: stop, do not recurse forever */
		if (json_is_object(v)) {
			fprintf(out, "%*s%s:\n", indent, "", key);
			cli_render_object(out, v, indent + 2);
		} else if (json_is_array(v) && json_array_size(v) && !all_scalars(v)) {
			fprintf(out, "%*s%s:\n", indent, "", key);
			if (json_is_object(json_array_get(v, 0)))
				render_table(out, v, indent + 2);
			else
				render_list(out, v, indent + 2);
		} else {
			fprintf(out, "%*s%s:%*s ", indent, "", key, w - (int)strlen(key), "");
			if (json_is_array(v)) {
				const json_t *x;

				json_array_foreach(v, i, x)
				{
					fputs(i ? ", " : "", out);
					scalar(out, x);
				}
				if (!json_array_size(v))
					fputs("-", out);
			} else {
				scalar(out, v);
			}
			fputc('\n', out);
		}
	}
}

void cli_render_status(FILE *out, const json_t *status)
{
	/* workload sections, and a gateway's (gateway, endpoints) where they read best */
	static const char *const order[] = {"enrollment", "gateway",  "tunnel", "endpoints",
					    "store",	  "datapath", "policy", "counters"};
	const char *key;
	const json_t *v;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		v = json_object_get(status, order[i]);
		if (!json_is_object(v))
			continue;
		fprintf(out, "%c%s:\n", order[i][0] - 32, order[i] + 1);
		cli_render_object(out, v, 2);
	}
	json_object_foreach((json_t *)status, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			known |= !strcmp(key, order[i]) && json_is_object(v);
		if (known)
			continue;
		if (json_is_object(v)) {
			fprintf(out, "%s:\n", key);
			cli_render_object(out, v, 2);
		} else {
			json_t *one = json_pack("{s:O}", key, v);

			cli_render_object(out, one, 0);
			json_decref(one);
		}
	}
}

/* Options every API command takes; returns -1 to go on, else an exit code. */
static int parse(int argc, char **argv, const char **socket_path, const char **config, bool *json)
{
	static const struct option opts[] = {API_CLIENT_OPTIONS_LONG, {NULL, 0, NULL, 0}};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				fprintf(stderr, "pseudopod status: -o %s: expected table or json\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			*json = !strcmp(optarg, "json");
			break;
		case 'S':
			*socket_path = optarg;
			break;
		case 'c':
			*config = optarg;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fputs(status_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pseudopod status: unexpected argument '%s'\n%s", argv[optind],
			status_usage);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

int cmd_status(int argc, char **argv)
{
	const char *override = NULL, *config = NULL;
	char sock[256], why[512];
	bool json = false;
	json_t *st;
	int rc = parse(argc, argv, &override, &config, &json);

	if (rc >= 0)
		return rc;
	if (!api_client_socket_path(override, config, sock, sizeof(sock), why, sizeof(why))) {
		fprintf(stderr, "pseudopod status: %s\n", why);
		return CLI_EXIT_FAIL; /* a bad config file is not a usage error */
	}
	rc = api_client_fetch(sock, "/v1/status", &st);
	if (rc)
		return rc;
	if (json) {
		json_dumpf(st, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		cli_render_status(stdout, st);
	}
	json_decref(st);
	return CLI_EXIT_OK;
}

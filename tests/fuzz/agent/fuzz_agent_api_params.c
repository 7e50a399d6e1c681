// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local API's parameter parsing: what a client on the socket controls. The input is
 * used twice: as a URL query ("k=v&k2=v2", split here as MHD splits it) and as a POST body
 * (api_body_params), and the resulting parameters go through the /v1 parsers
 * (flows_filter_parse, api_trace_parse, api_policy_parse, api_identity_parse); a filter that parses
 * is run against a small ring. Any input must give a result or a reasoned refusal (bad_key and why
 * set), never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/api.h"
#include "agent/flows.h"
#include "tests/unit/agent/fixtures.h"

static struct flows *ring(void)
{
	static struct flows *f;

	if (!f && flows_new(8, &fixture_lookup, &f) == 0)
		fixture_fill(f);
	return f;
}

static void parse_all(const struct flows_param *p, size_t n)
{
	struct flows_filter flt;
	struct api_trace_query q;
	struct api_identity_query iq;
	struct api_policy_query pq;
	const char *bad = NULL;
	char why[256];

	if (flows_filter_parse(p, n, &flt, &bad, why, sizeof(why))) {
		json_t *r = ring() ? flows_query_json(ring(), &flt) : NULL;

		json_decref(r);
	} else if (!bad || !why[0]) {
		abort(); /* a refusal must name the parameter and say why */
	}
	bad = NULL;
	if (!api_trace_parse(p, n, &q, &bad, why, sizeof(why)) && (!bad || !why[0]))
		abort();
	bad = NULL;
	why[0] = '\0';
	if (api_policy_parse(p, n, &pq, &bad, why, sizeof(why))) {
		if (n && pq.endpoint == 0) /* a query that parses names an endpoint */
			abort();
	} else if (!bad || !why[0]) {
		abort();
	}
	bad = NULL;
	why[0] = '\0';
	if (api_identity_parse(p, n, &iq, &bad, why, sizeof(why))) {
		/* a query that parses asks for exactly one thing, and id 0 is never one */
		if (iq.by > API_IDENTITY_IP || (iq.by == API_IDENTITY_ID && iq.id == 0) ||
		    (iq.by == API_IDENTITY_SELF && n))
			abort();
	} else if (!bad || !why[0]) {
		abort();
	}
}

/* "a=b&c&d=" -> {a,b} {c,NULL} {d,""}, as MHD hands them over (no %-decoding needed here:
 * the parsers see decoded strings either way). */
static size_t split_query(char *s, struct flows_param *p, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(s, "&", &save); tok && n < max;
	     tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');

		if (eq)
			*eq = '\0';
		p[n].key = tok;
		p[n].value = eq ? eq + 1 : NULL;
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flows_param p[API_PARAMS_MAX];
	char *s = malloc(size + 1), why[256];
	json_t *doc = NULL;
	size_t n;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (api_body_params(s, size, &doc, p, API_PARAMS_MAX, &n, why, sizeof(why)))
		parse_all(p, n);
	json_decref(doc);
	n = split_query(s, p, API_PARAMS_MAX);
	parse_all(p, n);
	free(s);
	return 0;
}

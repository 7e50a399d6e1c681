// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of agent/flows.c: Hubble-style JSON and table lines against golden strings
 * (the fixture events of fixtures.c), filters, the query parser's refusals, and the ring's
 * overwrite/"lost"/cursor arithmetic.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/flows.h"
#include "tests/unit/agent/fixtures.h"

static struct flows *filled(uint32_t capacity)
{
	struct flows *f;

	assert_int_equal(flows_new(capacity, &fixture_lookup, &f), 0);
	fixture_fill(f);
	return f;
}

static json_t *query(struct flows *f, const struct flows_param *p, size_t n)
{
	struct flows_filter flt;
	const char *bad = NULL;
	char why[128];

	assert_true(flows_filter_parse(p, n, &flt, &bad, why, sizeof(why)));
	return flows_query_json(f, &flt);
}

/* The source ports of the reply's flows, "40000,40001,..." (ICMP: "-"). */
static void ports_of(const json_t *reply, char *buf, size_t len)
{
	const json_t *fl;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(reply, "flows"), i, fl)
	{
		const json_t *l4 = json_object_get(fl, "l4"), *p = NULL;
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)l4, k, v) p = json_object_get(v, "source_port");
		if (p)
			off += (size_t)snprintf(buf + off, len - off, "%s%lld", i ? "," : "",
						(long long)json_integer_value(p));
		else
			off += (size_t)snprintf(buf + off, len - off, "%s-", i ? "," : "");
	}
}

static const char *const golden_json[FIXTURE_N_EVENTS] = {
#include "golden_flows.json.inc"
};

static const char *const golden_lines[FIXTURE_N_EVENTS] = {
#include "golden_flows.lines.inc"
};

static void test_json_golden(void **state)
{
	struct flows *f = filled(16);
	struct flows_param p = {"last", "5"};
	json_t *reply = query(f, &p, 1), *fl;
	size_t i;

	assert_int_equal(json_array_size(json_object_get(reply, "flows")), FIXTURE_N_EVENTS);
	json_array_foreach(json_object_get(reply, "flows"), i, fl)
	{
		char *s = json_dumps(fl, JSON_COMPACT | JSON_SORT_KEYS);

		if (strcmp(s, golden_json[i]))
			fprintf(stderr, "flow %zu:\n got %s\nwant %s\n", i, s, golden_json[i]);
		assert_string_equal(s, golden_json[i]);
		free(s);
	}
	json_decref(reply);
	flows_free(f);
}

static void test_lines_golden(void **state)
{
	struct flows *f = filled(16);
	struct flows_param p = {"last", "5"};
	json_t *reply = query(f, &p, 1), *fl;
	char line[512];
	size_t i;

	json_array_foreach(json_object_get(reply, "flows"), i, fl)
	{
		flows_json_line(fl, line, sizeof(line));
		if (strcmp(line, golden_lines[i]))
			fprintf(stderr, "line %zu:\n got %s\nwant %s\n", i, line, golden_lines[i]);
		assert_string_equal(line, golden_lines[i]);
	}
	/* A line from an object missing everything still prints, with placeholders. */
	json_t *empty = json_object();

	flows_json_line(empty, line, sizeof(line));
	assert_string_equal(line, "- -       ? (-1) -> ? (-1) - -");
	json_decref(empty);
	json_decref(reply);
	flows_free(f);
}

struct filter_case {
	struct flows_param p[3];
	size_t n;
	const char *ports;
};

static void test_filters(void **state)
{
	static const struct filter_case cases[] = {
	    {{{"verdict", "dropped"}}, 1, "40001,5353,1234"},
	    {{{"verdict", "forwarded"}}, 1, "40000,-"},
	    {{{"ip", "10.244.1.5"}}, 1, "40000,40001,-"},
	    {{{"ip", "fd00::2"}}, 1, "1234"},
	    {{{"ip", "10.99.0.3"}}, 1, ""},
	    {{{"port", "22"}}, 1, "40001"},
	    {{{"port", "5353"}}, 1, "5353"},
	    {{{"identity", "2"}}, 1, "5353,1234"},
	    {{{"identity", "400"}, {"verdict", "forwarded"}}, 2, "40000,-"},
	    {{{"verdict", "forwarded"}, {"port", "5432"}, {"ip", "10.99.0.2"}}, 3, "40000"},
	    {{{"last", "2"}}, 1, "-,1234"},
	    {{{"since", "3"}}, 1, "-,1234"},
	    {{{"since", "0"}, {"last", "2"}}, 2, "40000,40001"},
	};
	struct flows *f = filled(16);
	char ports[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *reply = query(f, cases[i].p, cases[i].n);

		ports_of(reply, ports, sizeof(ports));
		if (strcmp(ports, cases[i].ports))
			fprintf(stderr, "case %zu (%s=%s): got '%s'\n", i, cases[i].p[0].key,
				cases[i].p[0].value, ports);
		assert_string_equal(ports, cases[i].ports);
		json_decref(reply);
	}
	flows_free(f);
}

static void test_filter_refusals(void **state)
{
	static const struct {
		struct flows_param p[2];
		size_t n;
		const char *bad, *why;
	} cases[] = {
	    {{{"verdict", "maybe"}}, 1, "verdict", "'maybe': expected forwarded or dropped"},
	    {{{"port", "70000"}}, 1, "port", NULL},
	    {{{"port", "-1"}}, 1, "port", NULL},
	    {{{"ip", "10.0.0"}}, 1, "ip", NULL},
	    {{{"ip", "10.0.0.1/24"}}, 1, "ip", NULL},
	    {{{"identity", "x"}}, 1, "identity", NULL},
	    {{{"last", "0"}}, 1, "last", NULL},
	    {{{"last", "1001"}}, 1, "last", NULL},
	    {{{"since", "1e3"}}, 1, "since", NULL},
	    {{{"verdicts", "dropped"}},
	     1,
	     "verdicts",
	     "unknown parameter (expected verdict, ip, port, identity, last, since)"},
	    {{{"port", "22"}, {"port", "23"}}, 2, "port", "given twice"},
	    {{{"ip", NULL}}, 1, "ip", "needs a value"},
	};
	struct flows_filter flt;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *bad = NULL;
		char why[128] = "";

		assert_false(
		    flows_filter_parse(cases[i].p, cases[i].n, &flt, &bad, why, sizeof(why)));
		assert_string_equal(bad, cases[i].bad);
		assert_true(why[0] != '\0');
		if (cases[i].why)
			assert_string_equal(why, cases[i].why);
	}
}

/* Capacity 4, ten events: records 7..10 remain; a follower at 2 lost 4 (3..6). */
static void test_ring_overwrite(void **state)
{
	struct flows *f;
	struct flows_param p[2] = {{"since", "2"}, {"last", "2"}};
	json_t *r;

	assert_int_equal(flows_new(4, &fixture_lookup, &f), 0);
	fixture_fill(f);
	fixture_fill(f);
	assert_int_equal(flows_last_seq(f), 10);
	assert_int_equal(flows_count(f), 4);
	r = query(f, p, 1);
	assert_int_equal(json_integer_value(json_object_get(r, "lost")), 4);
	assert_int_equal(json_integer_value(json_object_get(r, "next")), 10);
	assert_int_equal(json_array_size(json_object_get(r, "flows")), 4);
	json_decref(r);
	/* With a cap: 2 records, the cursor stops after them (no gap, no repeat). */
	r = query(f, p, 2);
	assert_int_equal(json_integer_value(json_object_get(r, "next")), 8);
	assert_int_equal(json_array_size(json_object_get(r, "flows")), 2);
	json_decref(r);
	p[0].value = "10"; /* up to date: nothing, cursor stays */
	r = query(f, p, 1);
	assert_int_equal(json_integer_value(json_object_get(r, "next")), 10);
	assert_int_equal(json_integer_value(json_object_get(r, "lost")), 0);
	assert_int_equal(json_array_size(json_object_get(r, "flows")), 0);
	json_decref(r);
	p[0].value = "99"; /* a cursor from an earlier daemon: restart at our newest */
	r = query(f, p, 1);
	assert_int_equal(json_integer_value(json_object_get(r, "next")), 10);
	json_decref(r);
	flows_free(f);
	/* Bounds of the constructor. */
	assert_int_equal(flows_new(FLOWS_MAX_CAPACITY + 1, NULL, &f), -EINVAL);
}

static void test_time_format(void **state)
{
	char buf[48];

	flows_time_format(fixture_time(0), buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-29T11:40:01.123456789Z");
	flows_time_format(5, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000005Z");
	assert_null(flows_drop_reason_desc(DP_OK_POLICY));
	assert_string_equal(flows_drop_reason_desc(DP_DROP_POLICY), "POLICY_DENIED");
	for (unsigned int r = DP_DROP_POLICY_DENY; r < DP_REASON_MAX; r++)
		assert_non_null(flows_drop_reason_desc(r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_golden),	   cmocka_unit_test(test_lines_golden),
	    cmocka_unit_test(test_filters),	   cmocka_unit_test(test_filter_refusals),
	    cmocka_unit_test(test_ring_overwrite), cmocka_unit_test(test_time_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

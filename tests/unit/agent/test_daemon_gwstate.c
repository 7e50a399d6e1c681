// SPDX-License-Identifier: GPL-2.0-only
/* The saved gateway set (agent/daemon_gwstate.h): a round trip keeps every record and the
 * active name; every malformed file is refused whole, with the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/daemon_gwstate.h"

#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static struct store_gateway gw(const char *name, const char *ul, const char *cidr)
{
	struct store_gateway g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.underlay_ip, sizeof(g.underlay_ip), "%s", ul);
	snprintf(g.wg_public_key, sizeof(g.wg_public_key), "%s", KEY);
	g.wireguard_port = 51871;
	snprintf(g.cidrs[0], sizeof(g.cidrs[0]), "%s", cidr);
	g.n_cidrs = 1;
	return g;
}

static void test_round_trip(void **state)
{
	struct store_gateway in[2] = {gw("g1", "10.99.0.1", "10.200.0.0/16"),
				      gw("g2", "10.99.0.5", "10.202.0.0/16")};
	struct store_gateway out[8];
	char active[STORE_NAME_MAX], why[256];
	size_t n = 0;
	char *s = daemon_gwstate_encode(in, 2, "g2", "m1/1700000000");

	(void)state;
	assert_non_null(s);
	assert_true(daemon_gwstate_decode(s, strlen(s), "m1/1700000000", out, 8, &n, active,
					  sizeof(active), why, sizeof(why)));
	assert_int_equal(n, 2);
	assert_string_equal(active, "g2");
	for (size_t i = 0; i < 2; i++) {
		const struct store_gateway *o = strcmp(out[0].name, in[i].name) ? &out[1] : &out[0];

		assert_memory_equal(o, &in[i], sizeof(in[i]));
	}
	/* another enrollment's file: refused */
	assert_false(daemon_gwstate_decode(s, strlen(s), "m1/1700000001", out, 8, &n, active,
					   sizeof(active), why, sizeof(why)));
	assert_non_null(strstr(why, "another enrollment"));
	/* more records than the caller takes: refused, not cut */
	assert_false(daemon_gwstate_decode(s, strlen(s), "m1/1700000000", out, 1, &n, active,
					   sizeof(active), why, sizeof(why)));
	assert_int_equal(n, 0);
	assert_non_null(strstr(why, "expected 1 to 1"));
	free(s);
}

static void refused(const char *text, const char *reason)
{
	struct store_gateway out[8];
	char active[STORE_NAME_MAX], why[256] = "";
	size_t n = 99;

	assert_false(daemon_gwstate_decode(text, strlen(text), "m1/1", out, 8, &n, active,
					   sizeof(active), why, sizeof(why)));
	assert_int_equal(n, 0);
	if (!strstr(why, reason))
		fail_msg("'%s': reason '%s' does not contain '%s'", text, why, reason);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("", "line");
	refused("{\"version\":1,\"owner\":\"m1/"
		"1\",\"active\":\"g1\",\"gateways\":{\"g1\":{\"version\":1,\"underl",
		"line");
	refused("[]", "expected {");
	refused("{\"version\":2,\"active\":\"g1\",\"gateways\":{}}", "expected {");
	refused("{\"version\":1,\"owner\":\"m1/1\",\"gateways\":{}}", "expected {");
	refused("{\"version\":1,\"owner\":\"m2/1\",\"active\":\"g1\",\"gateways\":{\"g1\":{}}}",
		"another enrollment");
	refused("{\"version\":1,\"owner\":\"m1/1\",\"active\":\"g1\",\"gateways\":{}}",
		"0 records");
	refused("{\"version\":1,\"owner\":\"m1/"
		"1\",\"active\":\"g9\",\"gateways\":{\"g1\":{\"version\":1,"
		"\"underlay_ip\":\"10.99.0.1\",\"cidrs\":[\"10.200.0.0/16\"]}}}",
		"none of the gateways");
	refused("{\"version\":1,\"owner\":\"m1/"
		"1\",\"active\":\"g1\",\"gateways\":{\"g1\":{\"version\":1,"
		"\"underlay_ip\":\"not-an-ip\",\"cidrs\":[\"10.200.0.0/16\"]}}}",
		"underlay_ip");
	refused("{\"version\":1,\"owner\":\"m1/1\",\"active\":\"g1\",\"gateways\":{\"g1\":7}}",
		"expected an object");
	refused("{\"version\":1,\"owner\":\"m1/"
		"1\",\"active\":\"G_1\",\"gateways\":{\"G_1\":{\"version\":1,"
		"\"underlay_ip\":\"10.99.0.1\",\"cidrs\":[\"10.200.0.0/16\"]}}}",
		"not a valid gateway name");
	refused("{\"version\":1,\"owner\":\"m1/"
		"1\",\"active\":\"g1\",\"gateways\":{\"g1\":{},\"g1\":{}}}",
		"line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

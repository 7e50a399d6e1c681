// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the pp-datapath line parsers (policy load / ipcache load). No BPF. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "bpf/dp.h"
#include "lib/policy_entry.h"

static bool pol(const char *line, struct policy_entry *e, uint32_t *ep, bool *has_ep, char *why)
{
	bool skip;

	return dp_parse_policy_line(line, e, ep, has_ep, &skip, why, 256) && !skip;
}

static void test_policy_lines(void **state)
{
	struct policy_entry e;
	uint32_t ep = 0;
	bool has_ep, skip;
	char why[256];

	(void)state;
	assert_true(
	    pol("--endpoint 300 --dir egress --identity 400 --proto tcp --port 80-90 --rule 9", &e,
		&ep, &has_ep, why));
	assert_true(has_ep);
	assert_int_equal(ep, 300);
	assert_int_equal(e.direction, POLICY_EGRESS);
	assert_int_equal(e.identity, 400);
	assert_int_equal(e.proto, IPPROTO_TCP);
	assert_int_equal(e.port_lo, 80);
	assert_int_equal(e.port_hi, 90);
	assert_int_equal(e.rule_id, 9);
	assert_int_equal(e.deny, 0);

	assert_true(pol("--dir ingress --identity any --proto icmp --type 8 --deny", &e, &ep,
			&has_ep, why));
	assert_false(has_ep);
	assert_int_equal(e.identity, POLICY_IDENTITY_ANY);
	assert_int_equal(e.port_lo, 8);
	assert_int_equal(e.deny, 1);

	assert_true(pol("--dir ingress --identity any --proto any", &e, &ep, &has_ep, why));
	assert_int_equal(e.proto, POLICY_PROTO_ANY);

	assert_true(
	    dp_parse_policy_line("   # comment", &e, &ep, &has_ep, &skip, why, sizeof(why)));
	assert_true(skip);
	assert_true(dp_parse_policy_line("", &e, &ep, &has_ep, &skip, why, sizeof(why)));
	assert_true(skip);

	assert_false(pol("--dir up --identity 1 --proto tcp", &e, &ep, &has_ep, why));
	assert_non_null(strstr(why, "--dir 'up'"));
	assert_false(
	    pol("--dir egress --identity 1 --proto tcp --port 90-80", &e, &ep, &has_ep, why));
	assert_false(
	    pol("--dir egress --identity 1 --proto tcp --port 70000", &e, &ep, &has_ep, why));
	assert_false(pol("--dir egress --identity 1 --proto any --port 80", &e, &ep, &has_ep, why));
	assert_false(pol("--dir egress --identity 0 --proto tcp", &e, &ep, &has_ep, why));
	assert_false(pol("--dir egress --identity -1 --proto tcp", &e, &ep, &has_ep, why));
	assert_false(pol("--dir egress --proto tcp", &e, &ep, &has_ep, why));
	assert_non_null(strstr(why, "--identity"));
	assert_false(
	    pol("--dir egress --identity 5 --proto icmp --port 1-2", &e, &ep, &has_ep, why));
	assert_false(pol("--dir egress --identity 5 --proto gre", &e, &ep, &has_ep, why));
	assert_false(pol("--dir egress --identity 5 --proto tcp --bogus 1", &e, &ep, &has_ep, why));
	assert_false(pol("--dir", &e, &ep, &has_ep, why));
	assert_false(pol("dir egress", &e, &ep, &has_ep, why));
}

static void test_ipcache_lines(void **state)
{
	struct dp_ipcache_entry e;
	char why[256];
	bool skip;

	(void)state;
	/* Host bits are refused (lib/net.h), not silently cleared: the reason names the network. */
	assert_false(dp_parse_ipcache_line("10.200.1.7/16 400", &e, &skip, why, sizeof(why)));
	assert_non_null(strstr(why, "the network is 10.200.0.0/16"));
	assert_true(dp_parse_ipcache_line("10.200.0.0/16 400 --tunnel 192.168.0.1", &e, &skip, why,
					  sizeof(why)));
	assert_false(skip);
	assert_int_equal(e.family, 4);
	assert_int_equal(e.plen, 16);
	assert_int_equal(e.addr[1], 200);
	assert_int_equal(e.identity, 400);
	assert_int_equal(e.tunnel_ipv4, inet_addr("192.168.0.1"));
	assert_true(dp_parse_ipcache_line("fd00::1 5 --workload", &e, &skip, why, sizeof(why)));
	assert_int_equal(e.family, 6);
	assert_int_equal(e.plen, 128);
	assert_int_equal(e.flags, DP_IPC_F_WORKLOAD);
	assert_true(dp_parse_ipcache_line("# x", &e, &skip, why, sizeof(why)));
	assert_true(skip);
	assert_false(dp_parse_ipcache_line("10.0.0.0/33 1", &e, &skip, why, sizeof(why)));
	assert_false(dp_parse_ipcache_line("10.0.0.0/8", &e, &skip, why, sizeof(why)));
	assert_false(dp_parse_ipcache_line("10.0.0.300 1", &e, &skip, why, sizeof(why)));
	assert_false(dp_parse_ipcache_line("10.0.0.0/8 x", &e, &skip, why, sizeof(why)));
	assert_false(
	    dp_parse_ipcache_line("10.0.0.0/8 1 --tunnel fd00::1", &e, &skip, why, sizeof(why)));
	assert_false(dp_parse_ipcache_line("10.0.0.0/8 1 --tunnel", &e, &skip, why, sizeof(why)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_lines),
	    cmocka_unit_test(test_ipcache_lines),
	};

	return cmocka_run_group_tests_name("dp_parse", tests, NULL, NULL);
}

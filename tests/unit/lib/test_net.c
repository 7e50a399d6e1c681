// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/net: one table of edge cases, each row the input, the host-bits mode, and either the
 * canonical result or the exact reason. These are the inputs the four old parsers disagreed
 * on (issue 9): "10.0.0.1/8", "10.0.0.0/ 8", "10.0.0.0/+8", plus the rest of the syntax.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "lib/net.h"

#define R NET_HOST_BITS_REFUSE
#define C NET_HOST_BITS_CLEAR
#define K NET_HOST_BITS_KEEP

static const struct {
	const char *text;
	enum net_host_bits mode;
	const char *want; /* canonical prefix, or NULL when refused */
	const char *why;  /* the exact reason when refused */
} prefixes[] = {
    {"10.0.0.0/8", R, "10.0.0.0/8", NULL},
    {"10.0.0.1", R, "10.0.0.1/32", NULL},
    {"0.0.0.0/0", R, "0.0.0.0/0", NULL},
    {"255.255.255.255/32", R, "255.255.255.255/32", NULL},
    {"fd00::/64", R, "fd00::/64", NULL},
    {"FD00:0:0::1", R, "fd00::1/128", NULL},
    {"::/0", R, "::/0", NULL},
    {"::ffff:10.0.0.1/128", R, "::ffff:10.0.0.1/128", NULL},
    /* host bits: the three modes */
    {"10.0.0.1/8", R, NULL,
     "'10.0.0.1/8': host bits set below the /8 prefix length (the network is 10.0.0.0/8)"},
    {"10.0.0.1/8", C, "10.0.0.0/8", NULL},
    {"10.0.0.1/8", K, "10.0.0.1/8", NULL},
    {"fd00::1/64", R, NULL,
     "'fd00::1/64': host bits set below the /64 prefix length (the network is fd00::/64)"},
    {"fd00::1/64", C, "fd00::/64", NULL},
    {"10.128.0.0/1", R, NULL,
     "'10.128.0.0/1': host bits set below the /1 prefix length (the network is 0.0.0.0/1)"},
    {"1.0.0.0/0", R, NULL,
     "'1.0.0.0/0': host bits set below the /0 prefix length (the network is 0.0.0.0/0)"},
    /* prefix length syntax and bounds */
    {"10.0.0.0/ 8", R, NULL,
     "'10.0.0.0/ 8': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    {"10.0.0.0/+8", R, NULL,
     "'10.0.0.0/+8': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    {"10.0.0.0/-8", R, NULL,
     "'10.0.0.0/-8': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    {"10.0.0.0/08", R, NULL,
     "'10.0.0.0/08': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    {"10.0.0.0/8 ", R, NULL,
     "'10.0.0.0/8 ': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    {"10.0.0.0/", R, NULL,
     "'10.0.0.0/': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    {"10.0.0.0/33", R, NULL,
     "'10.0.0.0/33': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    {"10.0.0.0/4294967304", R, NULL,
     "'10.0.0.0/4294967304': prefix length must be a number from 0 to 32 (digits only, no "
     "leading zero)"},
    {"10.0.0.0/8/8", R, NULL,
     "'10.0.0.0/8/8': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    {"fd00::/129", R, NULL,
     "'fd00::/129': prefix length must be a number from 0 to 128 (digits only, no leading "
     "zero)"},
    {"fd00::/128", R, "fd00::/128", NULL},
    {"10.0.0.0/0x8", R, NULL,
     "'10.0.0.0/0x8': prefix length must be a number from 0 to 32 (digits only, no leading "
     "zero)"},
    /* addresses */
    {" 10.0.0.0/8", R, NULL, "' 10.0.0.0/8': ' 10.0.0.0' is not an IPv4 or IPv6 address"},
    {"10.0.0.0 /8", R, NULL, "'10.0.0.0 /8': '10.0.0.0 ' is not an IPv4 or IPv6 address"},
    {"010.0.0.0/8", R, NULL, "'010.0.0.0/8': '010.0.0.0' is not an IPv4 or IPv6 address"},
    {"10.0.0/8", R, NULL, "'10.0.0/8': '10.0.0' is not an IPv4 or IPv6 address"},
    {"10.0.0.256", R, NULL, "'10.0.0.256': '10.0.0.256' is not an IPv4 or IPv6 address"},
    {"fe80::1%eth0/64", R, NULL,
     "'fe80::1%eth0/64': 'fe80::1%eth0' is not an IPv4 or IPv6 address"},
    {"host/8", R, NULL, "'host/8': 'host' is not an IPv4 or IPv6 address"},
    {"", R, NULL, "'': expected ADDRESS[/LENGTH], e.g. 10.0.0.0/8"},
    {"/8", R, NULL, "'/8': expected ADDRESS[/LENGTH], e.g. 10.0.0.0/8"},
    /* longer than any address: refused before copying, the echo is cut at 64 */
    {"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc/1", R, NULL,
     "'1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc/1': expected "
     "ADDRESS[/LENGTH], e.g. 10.0.0.0/8"},
};

static void test_prefix_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		struct net_prefix p;
		char why[256] = "", out[NET_PREFIX_STRLEN];
		bool ok =
		    net_prefix_parse(prefixes[i].text, prefixes[i].mode, &p, why, sizeof(why));

		if (prefixes[i].want) {
			if (!ok)
				fail_msg("row %zu '%s': refused: %s", i, prefixes[i].text, why);
			assert_string_equal(net_prefix_format(&p, out), prefixes[i].want);
		} else {
			if (ok)
				fail_msg("row %zu '%s': accepted", i, prefixes[i].text);
			if (strcmp(why, prefixes[i].why))
				fail_msg("row %zu:\n  got      '%s'\n  expected '%s'", i, why,
					 prefixes[i].why);
		}
	}
}

static void test_ip_family(void **state)
{
	struct net_prefix p;
	char why[160], out[NET_IP_STRLEN];

	(void)state;
	assert_true(net_ip_parse("192.0.2.1", AF_INET, &p, why, sizeof(why)));
	assert_string_equal(net_ip_format(&p, out), "192.0.2.1");
	assert_int_equal(p.len, 32);
	assert_true(net_ip_parse("2001:db8::1", AF_UNSPEC, &p, why, sizeof(why)));
	assert_int_equal(p.family, AF_INET6);
	assert_false(net_ip_parse("2001:db8::1", AF_INET, &p, why, sizeof(why)));
	assert_string_equal(why, "'2001:db8::1' is an IPv6 address, expected an IPv4 address");
	assert_false(net_ip_parse("192.0.2.1", AF_INET6, &p, why, sizeof(why)));
	assert_string_equal(why, "'192.0.2.1' is an IPv4 address, expected an IPv6 address");
	assert_false(net_ip_parse("192.0.2.0/24", AF_UNSPEC, &p, why, sizeof(why)));
	assert_string_equal(why, "'192.0.2.0/24' is not an IPv4 or IPv6 address");
	assert_false(net_ip_parse("", AF_INET, &p, NULL, 0)); /* why may be NULL */
}

static void test_contains(void **state)
{
	struct net_prefix a, b;

	(void)state;
	assert_true(net_prefix_parse("10.0.0.0/8", R, &a, NULL, 0));
	assert_true(net_prefix_parse("10.200.0.0/16", R, &b, NULL, 0));
	assert_true(net_prefix_contains(&a, &b));
	assert_false(net_prefix_contains(&b, &a));
	assert_true(net_prefix_parse("10.0.0.0/9", R, &a, NULL, 0));
	assert_false(net_prefix_contains(&a, &b)); /* 10.200 has bit 8 set */
	assert_true(net_prefix_parse("::/0", R, &a, NULL, 0));
	assert_false(net_prefix_contains(&a, &b)); /* families differ */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prefix_table),
	    cmocka_unit_test(test_ip_family),
	    cmocka_unit_test(test_contains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

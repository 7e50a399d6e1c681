// SPDX-License-Identifier: GPL-2.0-only
/* CIDR parsing and MTU overheads (no netlink). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "tunnel/link.h"

static void test_cidr(void **state)
{
	struct tunnel_cidr c;
	char why[128], out[64];

	(void)state;
	assert_true(tunnel_cidr_parse(&c, "10.200.0.0/16", NET_HOST_BITS_REFUSE, why, sizeof(why)));
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.len, 16);
	tunnel_cidr_format(out, sizeof(out), &c);
	assert_string_equal(out, "10.200.0.0/16");
	assert_true(tunnel_cidr_parse(&c, "10.250.0.2", NET_HOST_BITS_KEEP, why, sizeof(why)));
	assert_int_equal(c.len, 32);
	/* An address keeps its subnet; a route naming host bits is refused, as the kernel does. */
	assert_true(tunnel_cidr_parse(&c, "10.250.0.2/16", NET_HOST_BITS_KEEP, why, sizeof(why)));
	assert_int_equal(c.len, 16);
	assert_false(
	    tunnel_cidr_parse(&c, "10.250.0.2/16", NET_HOST_BITS_REFUSE, why, sizeof(why)));
	assert_true(tunnel_cidr_parse(&c, "fd00::/64", NET_HOST_BITS_REFUSE, why, sizeof(why)));
	assert_int_equal(c.family, AF_INET6);
	assert_false(tunnel_cidr_parse(&c, "10.0.0.0/33", NET_HOST_BITS_REFUSE, why, sizeof(why)));
	assert_non_null(strstr(why, "from 0 to 32"));
	assert_false(tunnel_cidr_parse(&c, "10.0.0.0/", NET_HOST_BITS_REFUSE, why, sizeof(why)));
	assert_false(tunnel_cidr_parse(&c, "10.0.0.0/8x", NET_HOST_BITS_REFUSE, why, sizeof(why)));
	assert_false(tunnel_cidr_parse(&c, "host/8", NET_HOST_BITS_REFUSE, why, sizeof(why)));
	assert_non_null(strstr(why, "not an IPv4 or IPv6"));
	assert_false(tunnel_cidr_parse(&c, "", NET_HOST_BITS_REFUSE, why, sizeof(why)));
}

static void test_overhead(void **state)
{
	(void)state;
	assert_int_equal(tunnel_mtu_overhead(TUNNEL_KIND_WIREGUARD, AF_INET), 60);
	assert_int_equal(tunnel_mtu_overhead(TUNNEL_KIND_WIREGUARD, AF_INET6), 80);
	assert_int_equal(tunnel_mtu_overhead(TUNNEL_KIND_VXLAN, AF_INET), 50);
	assert_int_equal(tunnel_mtu_overhead(TUNNEL_KIND_VXLAN, AF_INET6), 70);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_overhead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

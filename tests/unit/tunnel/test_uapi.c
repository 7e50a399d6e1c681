// SPDX-License-Identifier: GPL-2.0-only
/* The UAPI text protocol: requests we format, replies we parse (shaped like wireguard-go
 * v0.0.20220316's "get=1" output), and malformed replies rejected with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/wg_uapi.h"

#define HEXA "e76a7cec2f6a1ad9cea14b9b4a8c3a0a9f42a9d70d4e25f2d14ad0b30a3d0e4f"
#define HEXB "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376"

static const char GET_REPLY[] =
    "private_key=" HEXA "\n"
    "listen_port=51871\n"
    "public_key=" HEXB "\n"
    "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
    "protocol_version=1\n"
    "endpoint=10.99.0.3:51871\n"
    "last_handshake_time_sec=1700000000\n"
    "last_handshake_time_nsec=12345\n"
    "tx_bytes=400\n"
    "rx_bytes=308\n"
    "persistent_keepalive_interval=5\n"
    "allowed_ip=10.250.0.1/32\n"
    "allowed_ip=10.200.0.0/16\n"
    "public_key=" HEXA "\n"
    "endpoint=[fd00::1]:443\n"
    "allowed_ip=fd00:1::/64\n"
    "errno=0\n"
    "\n";

static char *format(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, arg);
	fclose(f);
	return buf;
}

static void fmt_peer(FILE *f, const void *p)
{
	wg_uapi_format_peer(f, p);
}

static void fmt_remove(FILE *f, const void *k)
{
	wg_uapi_format_remove_peer(f, k);
}

static void test_parse_get(void **state)
{
	struct wg_uapi_device d;
	char why[256];
	int err = 1;

	(void)state;
	assert_true(wg_uapi_parse_get(GET_REPLY, strlen(GET_REPLY), &d, &err, why, sizeof(why)));
	assert_int_equal(err, 0);
	assert_true(d.has_private_key);
	assert_int_equal(d.private_key[0], 0xe7);
	assert_int_equal(d.listen_port, 51871);
	assert_int_equal(d.n_peers, 2);
	assert_int_equal(d.peers[0].public_key[0], 0x58);
	assert_true(d.peers[0].has_endpoint);
	assert_int_equal(d.peers[0].endpoint.sa.sa_family, AF_INET);
	assert_int_equal(ntohs(d.peers[0].endpoint.in4.sin_port), 51871);
	assert_int_equal(d.peers[0].last_handshake_s, 1700000000);
	assert_int_equal(d.peers[0].rx_bytes, 308);
	assert_int_equal(d.peers[0].tx_bytes, 400);
	assert_int_equal(d.peers[0].keepalive_s, 5);
	assert_int_equal(d.peers[0].n_allowed_ips, 2);
	assert_int_equal(d.peers[0].allowed_ips[1].cidr, 16);
	assert_int_equal(d.peers[1].endpoint.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(d.peers[1].endpoint.in6.sin6_port), 443);
	assert_int_equal(d.peers[1].allowed_ips[0].family, AF_INET6);
	assert_int_equal(d.peers[1].allowed_ips[0].cidr, 64);
	wg_uapi_device_free(&d);
}

static void test_errno_replies(void **state)
{
	char why[256];
	int err = 0;

	(void)state;
	assert_true(wg_uapi_parse_errno("errno=0\n\n", 9, &err, why, sizeof(why)));
	assert_int_equal(err, 0);
	/* wireguard-go writes negative codes; older servers positive: both mean -errno. */
	assert_true(wg_uapi_parse_errno("errno=-98\n\n", 11, &err, why, sizeof(why)));
	assert_int_equal(err, -EADDRINUSE);
	assert_non_null(strstr(wg_uapi_strerror(err), "in use"));
	assert_true(wg_uapi_parse_errno("errno=22\n\n", 10, &err, why, sizeof(why)));
	assert_int_equal(err, -EINVAL);
	assert_non_null(strstr(wg_uapi_strerror(err), "invalid"));
}

static void expect_bad(const char *reply, const char *needle)
{
	struct wg_uapi_device d;
	char why[256] = "";
	int err = 0;

	assert_false(wg_uapi_parse_get(reply, strlen(reply), &d, &err, why, sizeof(why)));
	if (!strstr(why, needle))
		fail_msg("reason '%s' lacks '%s'", why, needle);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_bad("", "truncated");
	expect_bad("errno=0\n", "closing empty line");
	expect_bad("listen_port=1\n", "errno=N");
	expect_bad("\n", "empty line before errno");
	expect_bad("listen_port=70000\nerrno=0\n\n", "line 1: listen_port='70000'");
	expect_bad("public_key=abc\nerrno=0\n\n", "64 hex");
	expect_bad("public_key=" HEXA "\nallowed_ip=10.0.0.0/33\nerrno=0\n\n", "line 2");
	expect_bad("public_key=" HEXA "\nendpoint=10.0.0.1\nerrno=0\n\n", "ip:port");
	expect_bad("public_key=" HEXA "\nendpoint=[10.0.0.1]:1\nerrno=0\n\n", "ip:port");
	expect_bad("public_key=" HEXA "\nrx_bytes=-1\nerrno=0\n\n", "byte count");
	expect_bad("garbage\nerrno=0\n\n", "not key=value");
	expect_bad("=x\nerrno=0\n\n", "not key=value");
	expect_bad("errno=0\nlisten_port=1\n\n", "after errno");
	expect_bad("errno=0\n\nextra", "after the closing");
	expect_bad("errno=abc\n\n", "decimal errno");
	expect_bad("errno=99999999999999999999\n\n", "decimal errno");
}

static void test_set_reply_with_data_rejected(void **state)
{
	char why[256];
	int err;

	(void)state;
	assert_false(wg_uapi_parse_errno("listen_port=3\nerrno=0\n\n", 23, &err, why, sizeof(why)));
}

static void test_format_peer(void **state)
{
	struct wg_allowed_ip ips[2] = {{.family = AF_INET, .cidr = 32},
				       {.family = AF_INET6, .cidr = 64}};
	struct wg_peer p = {
	    .allowed_ips = ips, .n_allowed_ips = 2, .keepalive_s = 25, .replace_allowed_ips = true};
	char *out;

	(void)state;
	memset(p.public_key, 0xab, WG_KEY_LEN);
	inet_pton(AF_INET, "10.250.0.1", &ips[0].ip4);
	inet_pton(AF_INET6, "fd00:1::", &ips[1].ip6);
	assert_true(wg_uapi_parse_endpoint(&p, "[fd00::2]:51871"));
	out = format(fmt_peer, &p);
	assert_string_equal(out,
			    "public_key="
			    "abababababababababababababababababababababababababababababababab\n"
			    "endpoint=[fd00::2]:51871\n"
			    "persistent_keepalive_interval=25\n"
			    "replace_allowed_ips=true\n"
			    "allowed_ip=10.250.0.1/32\n"
			    "allowed_ip=fd00:1::/64\n");
	free(out);
	out = format(fmt_remove, p.public_key);
	assert_non_null(strstr(out, "\nremove=true\n"));
	free(out);
}

static void test_endpoint_and_ip_parsers(void **state)
{
	struct wg_peer p = {0};
	struct wg_allowed_ip a;

	(void)state;
	assert_true(wg_uapi_parse_endpoint(&p, "1.2.3.4:0"));
	assert_false(wg_uapi_parse_endpoint(&p, "1.2.3.4:65536"));
	assert_false(wg_uapi_parse_endpoint(&p, "fd00::1:80")); /* v6 needs brackets */
	assert_false(wg_uapi_parse_endpoint(&p, ":80"));
	assert_false(wg_uapi_parse_endpoint(&p, "[]:80"));
	assert_true(wg_uapi_parse_allowed_ip(&a, "0.0.0.0/0"));
	assert_true(wg_uapi_parse_allowed_ip(&a, "::/0"));
	assert_false(wg_uapi_parse_allowed_ip(&a, "10.0.0.1"));
	assert_false(wg_uapi_parse_allowed_ip(&a, "10.0.0.1/"));
	assert_false(wg_uapi_parse_allowed_ip(&a, "::1/129"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_get),	cmocka_unit_test(test_errno_replies),
	    cmocka_unit_test(test_malformed),	cmocka_unit_test(test_set_reply_with_data_rejected),
	    cmocka_unit_test(test_format_peer), cmocka_unit_test(test_endpoint_and_ip_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

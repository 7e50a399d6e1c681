// SPDX-License-Identifier: GPL-2.0-only
/* The shadow configuration replayed into a restarted wireguard-go must end up exactly like
 * the device: add/update/replace semantics and "an allowed IP belongs to one peer". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "tunnel/wg_shadow.h"
#include "tunnel/wg_uapi.h"

static struct wg_allowed_ip ip(const char *text)
{
	struct wg_allowed_ip a;

	assert_true(wg_uapi_parse_allowed_ip(&a, text));
	return a;
}

static struct wg_peer peer(uint8_t id, struct wg_allowed_ip *ips, size_t n, bool replace)
{
	struct wg_peer p = {.allowed_ips = ips, .n_allowed_ips = n, .replace_allowed_ips = replace};

	memset(p.public_key, id, WG_KEY_LEN);
	return p;
}

static bool has_ip(const struct wg_peer *p, const char *text)
{
	struct wg_allowed_ip a = ip(text);

	for (size_t i = 0; i < p->n_allowed_ips; i++)
		if (p->allowed_ips[i].family == a.family && p->allowed_ips[i].cidr == a.cidr &&
		    !memcmp(&p->allowed_ips[i].ip6, &a.ip6, a.family == AF_INET ? 4 : 16))
			return true;
	return false;
}

static void test_add_update_remove(void **state)
{
	struct wg_shadow s = {0};
	struct wg_allowed_ip a1[] = {ip("10.0.0.1/32")},
			     a2[] = {ip("10.0.0.2/32"), ip("10.0.0.1/32")};
	struct wg_peer p = peer(1, a1, 1, false);
	uint8_t key[WG_KEY_LEN];

	(void)state;
	assert_int_equal(wg_shadow_set_peer(&s, &p), 0);
	assert_true(wg_uapi_parse_endpoint(&p, "10.99.0.3:51871"));
	p.allowed_ips = a2;
	p.n_allowed_ips = 2;
	p.keepalive_s = 25;
	assert_int_equal(wg_shadow_set_peer(&s, &p), 0); /* update, add IPs, no duplicate */
	assert_int_equal(s.n_peers, 1);
	assert_int_equal(s.peers[0].n_allowed_ips, 2);
	assert_true(s.peers[0].has_endpoint);
	assert_int_equal(s.peers[0].keepalive_s, 25);
	assert_true(s.peers[0].replace_allowed_ips);
	/* An update without endpoint keeps the old one (as WireGuard does). */
	p = peer(1, a1, 1, true);
	assert_int_equal(wg_shadow_set_peer(&s, &p), 0);
	assert_true(s.peers[0].has_endpoint);
	assert_int_equal(s.peers[0].n_allowed_ips, 1);
	assert_true(has_ip(&s.peers[0], "10.0.0.1/32"));
	memset(key, 1, WG_KEY_LEN);
	assert_non_null(wg_shadow_find(&s, key));
	wg_shadow_remove_peer(&s, key);
	assert_null(wg_shadow_find(&s, key));
	wg_shadow_remove_peer(&s, key); /* absent: no-op */
	assert_int_equal(s.n_peers, 0);
	wg_shadow_free(&s);
	wg_shadow_free(NULL);
}

static void test_ip_moves_between_peers(void **state)
{
	struct wg_shadow s = {0};
	struct wg_allowed_ip ga[] = {ip("10.250.0.1/32"), ip("10.200.0.0/16")};
	struct wg_allowed_ip gb[] = {ip("10.250.0.2/32"), ip("10.200.0.0/16")};
	struct wg_allowed_ip only_a[] = {ip("10.250.0.1/32")};
	struct wg_peer a = peer(0xa, ga, 2, true), b = peer(0xb, gb, 1, true);
	const struct wg_peer *pa, *pb;
	uint8_t ka[WG_KEY_LEN], kb[WG_KEY_LEN];

	(void)state;
	memset(ka, 0xa, WG_KEY_LEN);
	memset(kb, 0xb, WG_KEY_LEN);
	assert_int_equal(wg_shadow_set_peer(&s, &a), 0);
	assert_int_equal(wg_shadow_set_peer(&s, &b), 0);
	/* Fail-over: B gets the CIDR; A loses it in the same step. */
	b.n_allowed_ips = 2;
	assert_int_equal(wg_shadow_set_peer(&s, &b), 0);
	pa = wg_shadow_find(&s, ka);
	pb = wg_shadow_find(&s, kb);
	assert_false(has_ip(pa, "10.200.0.0/16"));
	assert_true(has_ip(pa, "10.250.0.1/32"));
	assert_true(has_ip(pb, "10.200.0.0/16"));
	/* Back: A gets it with an additive set (no replace) — still taken from B. */
	a = peer(0xa, ga + 1, 1, false);
	assert_int_equal(wg_shadow_set_peer(&s, &a), 0);
	pa = wg_shadow_find(&s, ka);
	pb = wg_shadow_find(&s, kb);
	assert_true(has_ip(pa, "10.200.0.0/16"));
	assert_true(has_ip(pa, "10.250.0.1/32"));
	assert_false(has_ip(pb, "10.200.0.0/16"));
	assert_int_equal(pb->n_allowed_ips, 1);
	/* Replace with fewer: A keeps only its overlay IP. */
	a = peer(0xa, only_a, 1, true);
	assert_int_equal(wg_shadow_set_peer(&s, &a), 0);
	assert_int_equal(wg_shadow_find(&s, ka)->n_allowed_ips, 1);
	wg_shadow_free(&s);
}

static void test_many_peers(void **state)
{
	struct wg_shadow s = {0};

	(void)state;
	for (unsigned i = 0; i < 3000; i++) {
		struct wg_allowed_ip a = {.family = AF_INET, .cidr = 32};
		struct wg_peer p = {.allowed_ips = &a, .n_allowed_ips = 1};

		a.ip4.s_addr = htonl(0x0a800000 + i);
		memcpy(p.public_key, &i, sizeof(i));
		assert_int_equal(wg_shadow_set_peer(&s, &p), 0);
	}
	assert_int_equal(s.n_peers, 3000);
	for (size_t i = 0; i < s.n_peers; i++)
		assert_int_equal(s.peers[i].n_allowed_ips, 1);
	wg_shadow_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_update_remove),
	    cmocka_unit_test(test_ip_moves_between_peers),
	    cmocka_unit_test(test_many_peers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

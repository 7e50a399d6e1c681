// SPDX-License-Identifier: GPL-2.0-only
/* Live changes of the gateway set (gateways.c) over a scripted WireGuard backend that
 * records every peer operation: a new gateway is a standby, a removed active gateway hands
 * the cluster CIDRs to its successor before its peer goes (never a moment with no peer for
 * them), a re-keyed gateway's new peer is written before the old one is removed, the last
 * gateway stays, a failed write is retried by the next poll. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/gateways.h"
#include "tunnel/wg_backend.h"

#define T0 1700000000

/* One recorded operation: 'S' set (key, CIDRs given) or 'R' remove (key). */
struct op {
	char kind;
	uint8_t key;
	bool cidrs;
	uint16_t keepalive_s;
};

static struct fake {
	struct op ops[32];
	size_t n_ops;
	int fail_set;	/* next set_peer returns this once */
	uint8_t holder; /* key of the peer holding the CIDRs now (0 = none) */
	uint8_t peers[8];
	size_t n_peers;
} fk;

static int fake_set_peer(struct wg_device *dev, const struct wg_peer *peer)
{
	int rc = fk.fail_set;
	bool cidrs = peer->n_allowed_ips > 1;

	(void)dev;
	fk.fail_set = 0;
	if (rc)
		return rc;
	fk.ops[fk.n_ops++] = (struct op){'S', peer->public_key[0], cidrs, peer->keepalive_s};
	if (cidrs)
		fk.holder = peer->public_key[0];
	else if (fk.holder == peer->public_key[0])
		fk.holder = 0;
	return 0;
}

static int fake_remove_peer(struct wg_device *dev, const uint8_t key[WG_KEY_LEN])
{
	(void)dev;
	fk.ops[fk.n_ops++] = (struct op){'R', key[0], false, 0};
	if (fk.holder == key[0])
		fk.holder = 0; /* the CIDRs went with it: what must never happen */
	return 0;
}

/* Every peer alive: rx grows at each poll. */
static int fake_get_peers(struct wg_device *dev, struct wg_peer **peers, size_t *n)
{
	static uint64_t rx;
	struct wg_peer *p = calloc(8, sizeof(*p));

	(void)dev;
	if (!p)
		return -ENOMEM;
	rx += 100;
	for (size_t i = 0; i < 8; i++) {
		p[i].public_key[0] = (uint8_t)(i + 1);
		p[i].rx_bytes = rx;
	}
	*peers = p;
	*n = 8;
	return 0;
}

static const struct wg_backend_ops fake_ops = {
    .name = "fake",
    .set_peer = fake_set_peer,
    .remove_peer = fake_remove_peer,
    .get_peers = fake_get_peers,
};

static struct wg_device dev = {.ifname = "wgtest", .ops = &fake_ops};

static struct tunnel_gateway gw_of(uint8_t key)
{
	struct tunnel_gateway t = {0};

	t.peer.public_key[0] = key;
	t.overlay = (struct wg_allowed_ip){.family = AF_INET, .cidr = 32};
	t.overlay.ip4.s_addr = key;
	return t;
}

/* Gateways keyed 1..n, gateway 1 active, all polled healthy for a few seconds. */
static void setup(struct tunnel_gateways *g, size_t n)
{
	memset(&fk, 0, sizeof(fk));
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < n; i++)
		g->gw[g->n++] = gw_of((uint8_t)(i + 1));
	g->cidrs[0] = (struct wg_allowed_ip){.family = AF_INET, .cidr = 16};
	g->n_cidrs = 1;
	assert_true(tunnel_gateways_init(g, 5, 60));
	assert_int_equal(tunnel_gateways_apply(&dev, g), 0);
	for (int64_t t = T0; t < T0 + 3; t++)
		assert_true(tunnel_gateways_poll(&dev, g, t) >= 0);
	assert_int_equal(fk.holder, 1);
	fk.n_ops = 0;
}

static void test_add_is_standby(void **state)
{
	struct tunnel_gateways g;
	struct tunnel_gateway t = gw_of(3);

	(void)state;
	setup(&g, 2);
	assert_int_equal(tunnel_gateways_add(&dev, &g, &t), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(fk.n_ops, 1);
	assert_int_equal(fk.ops[0].kind, 'S');
	assert_int_equal(fk.ops[0].key, 3);
	assert_false(fk.ops[0].cidrs);
	assert_int_equal(fk.holder, 1);
	assert_int_equal(tunnel_gateways_add(&dev, &g, &t), -EEXIST);
	assert_int_equal(g.n, 3);
}

/* A gateway added live stays quiet (no keepalive, so no handshake of ours crossing the
 * gateway's own) for TUNNEL_GATEWAYS_QUIET_POLLS polls, then gets its keepalive. */
static void test_add_keepalive_deferred(void **state)
{
	struct tunnel_gateways g;
	struct tunnel_gateway t = gw_of(3);
	bool on = false;

	(void)state;
	setup(&g, 2);
	g.keepalive_s = 5;
	assert_int_equal(tunnel_gateways_add(&dev, &g, &t), 0);
	assert_int_equal(fk.ops[0].key, 3);
	assert_int_equal(fk.ops[0].keepalive_s, 0);
	for (int64_t now = T0 + 3; now < T0 + 3 + TUNNEL_GATEWAYS_QUIET_POLLS; now++) {
		size_t from = fk.n_ops;

		assert_true(tunnel_gateways_poll(&dev, &g, now) >= 0);
		for (size_t k = from; k < fk.n_ops; k++)
			if (fk.ops[k].key == 3)
				on |= fk.ops[k].keepalive_s == 5;
		assert_true(on == (now == T0 + 2 + TUNNEL_GATEWAYS_QUIET_POLLS));
	}
	assert_true(on);
	assert_int_equal(fk.holder, 1); /* the rewrite moved nothing */
}

static void test_remove_active_hands_over_first(void **state)
{
	struct tunnel_gateways g;

	(void)state;
	setup(&g, 3);
	assert_int_equal(tunnel_gateways_remove(&dev, &g, 0, T0 + 3), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.gw[0].peer.public_key[0], 2);
	assert_int_equal(g.fo.active, 0); /* key 2, healthy, now at index 0 */
	/* the successor got the CIDRs before the leaving peer was removed */
	assert_true(fk.n_ops >= 2);
	assert_int_equal(fk.ops[0].kind, 'S');
	assert_int_equal(fk.ops[0].key, 2);
	assert_true(fk.ops[0].cidrs);
	assert_int_equal(fk.ops[fk.n_ops - 1].kind, 'R');
	assert_int_equal(fk.ops[fk.n_ops - 1].key, 1);
	assert_int_equal(fk.holder, 2);
}

static void test_remove_standby_keeps_active(void **state)
{
	struct tunnel_gateways g;

	(void)state;
	setup(&g, 3);
	assert_int_equal(tunnel_gateways_remove(&dev, &g, 1, T0 + 3), 0);
	assert_int_equal(fk.n_ops, 1);
	assert_int_equal(fk.ops[0].kind, 'R');
	assert_int_equal(fk.ops[0].key, 2);
	assert_int_equal(g.fo.active, 0);
	assert_int_equal(fk.holder, 1);
	/* the active one was at a higher index than a removed standby: index follows it */
	setup(&g, 3);
	g.fo.active = 2;
	assert_int_equal(tunnel_gateways_apply(&dev, &g), 0);
	assert_int_equal(tunnel_gateways_remove(&dev, &g, 0, T0 + 3), 0);
	assert_int_equal(g.fo.active, 1);
	assert_int_equal(g.gw[g.fo.active].peer.public_key[0], 3);
	assert_int_equal(fk.holder, 3);
	assert_int_equal(tunnel_gateways_poll(&dev, &g, T0 + 4), 0); /* no move follows */
}

static void test_last_stays(void **state)
{
	struct tunnel_gateways g;

	(void)state;
	setup(&g, 1);
	assert_int_equal(tunnel_gateways_remove(&dev, &g, 0, T0 + 3), -EBUSY);
	assert_int_equal(tunnel_gateways_remove(&dev, &g, 4, T0 + 3), -ERANGE);
	assert_int_equal(g.n, 1);
	assert_int_equal(fk.n_ops, 0);
	assert_int_equal(fk.holder, 1);
}

static void test_rekey_active(void **state)
{
	struct tunnel_gateways g;
	struct tunnel_gateway t = gw_of(7);

	(void)state;
	setup(&g, 2);
	assert_int_equal(tunnel_gateways_update(&dev, &g, 0, &t), 0);
	assert_int_equal(fk.n_ops, 2);
	assert_int_equal(fk.ops[0].kind, 'S');
	assert_int_equal(fk.ops[0].key, 7);
	assert_true(fk.ops[0].cidrs);
	assert_int_equal(fk.ops[1].kind, 'R');
	assert_int_equal(fk.ops[1].key, 1);
	assert_int_equal(fk.holder, 7);
	assert_int_equal(g.fo.gw[0].last_seen_s, 0); /* health starts over */
	t = gw_of(2);
	assert_int_equal(tunnel_gateways_update(&dev, &g, 0, &t), -EEXIST);
}

static void test_failed_write_retried(void **state)
{
	struct tunnel_gateways g;
	struct tunnel_gateway t = gw_of(3);

	(void)state;
	setup(&g, 2);
	fk.fail_set = -EIO;
	assert_int_equal(tunnel_gateways_add(&dev, &g, &t), -EIO);
	assert_int_equal(g.n, 3); /* the set says it; the device follows */
	assert_false(g.applied);
	assert_true(tunnel_gateways_poll(&dev, &g, T0 + 3) >= 0);
	assert_true(g.applied);
	bool written = false;
	for (size_t i = 0; i < fk.n_ops; i++)
		written |= fk.ops[i].kind == 'S' && fk.ops[i].key == 3 && !fk.ops[i].cidrs;
	assert_true(written);
	assert_int_equal(fk.holder, 1);
}

static void test_set_cidrs(void **state)
{
	struct tunnel_gateways g;
	struct wg_allowed_ip c[2] = {{.family = AF_INET, .cidr = 16},
				     {.family = AF_INET, .cidr = 24}};

	(void)state;
	setup(&g, 2);
	assert_int_equal(tunnel_gateways_set_cidrs(&dev, &g, c, 2), 0);
	assert_int_equal(g.n_cidrs, 2);
	assert_int_equal(fk.n_ops, 1);
	assert_int_equal(fk.ops[0].key, 1);
	assert_true(fk.ops[0].cidrs);
	assert_int_equal(tunnel_gateways_set_cidrs(&dev, &g, c, TUNNEL_GATEWAYS_MAX_CIDRS + 1),
			 -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_is_standby),
	    cmocka_unit_test(test_add_keepalive_deferred),
	    cmocka_unit_test(test_remove_active_hands_over_first),
	    cmocka_unit_test(test_remove_standby_keeps_active),
	    cmocka_unit_test(test_last_stays),
	    cmocka_unit_test(test_rekey_active),
	    cmocka_unit_test(test_failed_write_retried),
	    cmocka_unit_test(test_set_cidrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

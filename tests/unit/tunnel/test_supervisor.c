// SPDX-License-Identifier: GPL-2.0-only
/* The tunnel supervisor (supervisor.c) over a scripted WireGuard backend: what a tick does
 * after a wireguard-go restart, fail-over driven by the peers' counters, one fail-over poll
 * per second however often it ticks, and a timer fd a poll loop can wait on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/gateways.h"
#include "tunnel/supervisor.h"
#include "tunnel/wg_backend.h"

#define T0 1700000000

/* The scripted backend: supervise() returns next_supervise; get_peers() reports both
 * gateways with rx counters that grow only for those marked alive. */
static struct fake {
	int next_supervise;
	bool alive[2];
	uint64_t rx[2];
	unsigned get_peers_calls, set_peer_calls;
	size_t cidr_holder; /* gateway last given more than its overlay IP */
} fk;

static int fake_supervise(struct wg_device *dev)
{
	(void)dev;
	return fk.next_supervise;
}

static int fake_get_peers(struct wg_device *dev, struct wg_peer **peers, size_t *n)
{
	struct wg_peer *p = calloc(2, sizeof(*p));

	(void)dev;
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < 2; i++) {
		if (fk.alive[i])
			fk.rx[i] += 100;
		p[i].public_key[0] = (uint8_t)(i + 1);
		p[i].rx_bytes = fk.rx[i];
	}
	fk.get_peers_calls++;
	*peers = p;
	*n = 2;
	return 0;
}

static int fake_set_peer(struct wg_device *dev, const struct wg_peer *peer)
{
	(void)dev;
	fk.set_peer_calls++;
	if (peer->n_allowed_ips > 1)
		fk.cidr_holder = (size_t)peer->public_key[0] - 1;
	return 0;
}

static const struct wg_backend_ops fake_ops = {
    .name = "fake",
    .get_peers = fake_get_peers,
    .set_peer = fake_set_peer,
    .supervise = fake_supervise,
};

static struct wg_device fake_dev = {.ifname = "wgtest", .ops = &fake_ops};

static void gateways_setup(struct tunnel_gateways *g)
{
	memset(g, 0, sizeof(*g));
	g->n = 2;
	for (size_t i = 0; i < 2; i++) {
		g->gw[i].peer.public_key[0] = (uint8_t)(i + 1);
		g->gw[i].overlay = (struct wg_allowed_ip){.family = AF_INET, .cidr = 32};
	}
	g->cidrs[0] = (struct wg_allowed_ip){.family = AF_INET, .cidr = 16};
	g->n_cidrs = 1;
	assert_true(tunnel_gateways_init(g, 5, 3));
}

static void test_open_checks(void **state)
{
	struct tunnel_supervisor_cfg cfg = {0};
	struct tunnel_supervisor *s = (struct tunnel_supervisor *)1;

	(void)state;
	assert_int_equal(tunnel_supervisor_open(&s, &cfg), -EINVAL);
	assert_null(s);
	cfg.dev = &fake_dev;
	assert_int_equal(tunnel_supervisor_open(&s, &cfg), 0);
	assert_true(tunnel_supervisor_fd(s) >= 0);
	assert_in_range(tunnel_supervisor_timeout_ms(s), 0, TUNNEL_SUPERVISOR_INTERVAL_MS);
	tunnel_supervisor_close(s);
	tunnel_supervisor_close(NULL);
}

/* A restart is reported (the caller re-applies the link; with no link configured there is
 * nothing to re-apply); back-off and failures are not changes. */
static void test_restart_reported(void **state)
{
	struct tunnel_supervisor_cfg cfg = {.dev = &fake_dev};
	struct tunnel_supervisor *s;

	(void)state;
	memset(&fk, 0, sizeof(fk));
	assert_int_equal(tunnel_supervisor_open(&s, &cfg), 0);
	assert_int_equal(tunnel_supervisor_tick(s, T0), 0);
	fk.next_supervise = 1;
	assert_int_equal(tunnel_supervisor_tick(s, T0), TUNNEL_SUPERVISOR_RELINKED);
	fk.next_supervise = -EAGAIN;
	assert_int_equal(tunnel_supervisor_tick(s, T0), 0);
	fk.next_supervise = -EIO;
	assert_int_equal(tunnel_supervisor_tick(s, T0), 0);
	assert_int_equal(fk.get_peers_calls, 0); /* no gateways, no fail-over polls */
	tunnel_supervisor_close(s);
}

/* Gateway 0 goes silent: after stale_s the CIDRs move to gateway 1, reported once. Ticks
 * five times a second poll the peers once a second. */
static void test_fail_over(void **state)
{
	struct tunnel_gateways g;
	struct tunnel_supervisor_cfg cfg = {.dev = &fake_dev, .gws = &g};
	struct tunnel_supervisor *s;
	unsigned switched = 0;
	int64_t t;

	(void)state;
	memset(&fk, 0, sizeof(fk));
	fk.alive[0] = fk.alive[1] = true;
	gateways_setup(&g);
	assert_int_equal(tunnel_gateways_apply(&fake_dev, &g), 0);
	assert_int_equal(fk.cidr_holder, 0);
	assert_int_equal(tunnel_supervisor_open(&s, &cfg), 0);
	for (t = T0; t < T0 + 10; t++)
		for (int k = 0; k < 5; k++)
			assert_int_equal(tunnel_supervisor_tick(s, t), 0);
	assert_int_equal(fk.get_peers_calls, 10);
	assert_int_equal(g.fo.active, 0);
	fk.alive[0] = false;
	for (; t < T0 + 30; t++)
		if (tunnel_supervisor_tick(s, t) & TUNNEL_SUPERVISOR_SWITCHED)
			switched++;
	assert_int_equal(switched, 1);
	assert_int_equal(g.fo.active, 1);
	assert_int_equal(fk.cidr_holder, 1);
	tunnel_supervisor_close(s);
}

/* The fd becomes readable when a tick is due and a tick drains it. */
static void test_timer_fd(void **state)
{
	struct tunnel_supervisor_cfg cfg = {.dev = &fake_dev, .interval_ms = 20};
	struct tunnel_supervisor *s;
	struct pollfd pfd = {.events = POLLIN};

	(void)state;
	memset(&fk, 0, sizeof(fk));
	assert_int_equal(tunnel_supervisor_open(&s, &cfg), 0);
	assert_in_range(tunnel_supervisor_timeout_ms(s), 0, 20);
	pfd.fd = tunnel_supervisor_fd(s);
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	tunnel_supervisor_tick(s, T0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	tunnel_supervisor_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_checks),
	    cmocka_unit_test(test_restart_reported),
	    cmocka_unit_test(test_fail_over),
	    cmocka_unit_test(test_timer_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/* Fail-over decisions: stale active moves, hysteresis on the way back, no flapping, no
 * move when nobody is healthy, rx growth counts as life. Time is simulated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tunnel/failover.h"

#define T0 1700000000

/* Two gateways polled once a simulated second; alive[i] means gateway i's rx counter grows
 * between polls. */
struct sim {
	struct tunnel_failover f;
	bool alive[2];
	uint64_t rx[2];
	int64_t t;
};

static void sim_start(struct sim *s, bool alive0, bool alive1, uint32_t stale_s, uint32_t hold_s)
{
	*s = (struct sim){.alive = {alive0, alive1}, .t = T0};
	assert_true(tunnel_failover_init(&s->f, 2, stale_s, hold_s));
}

/* One poll at s->t, then the clock moves on a second. */
static void sim_poll(struct sim *s)
{
	for (size_t i = 0; i < s->f.n; i++) {
		if (s->alive[i])
			s->rx[i] += 32;
		tunnel_failover_observe(&s->f, i, 0, s->rx[i], s->t);
	}
	tunnel_failover_decide(&s->f, s->t);
	s->t++;
}

/* Polls every second until the clock reaches end. */
static void sim_run_until(struct sim *s, int64_t end)
{
	while (s->t < end)
		sim_poll(s);
}

static void test_init_bounds(void **state)
{
	struct tunnel_failover f;

	(void)state;
	assert_false(tunnel_failover_init(&f, 0, 10, 10));
	assert_false(tunnel_failover_init(&f, TUNNEL_FAILOVER_MAX_GATEWAYS + 1, 10, 10));
	assert_false(tunnel_failover_init(&f, 2, 0, 10));
	assert_true(tunnel_failover_init(&f, 2, 10, 30));
	assert_int_equal(f.active, 0);
}

static void test_failover_and_back(void **state)
{
	struct sim s;

	(void)state;
	sim_start(&s, true, true, 10, 30);
	sim_run_until(&s, T0 + 20);
	assert_int_equal(s.f.active, 0);
	s.alive[0] = false; /* gateway 0 stops at T0+20 */
	sim_run_until(&s, T0 + 30);
	assert_int_equal(s.f.active, 0); /* heard from at T0+19: stale once 10 s have passed */
	sim_poll(&s);
	assert_int_equal(s.f.active, 1);
	assert_int_equal(s.f.switches, 1);
	s.alive[0] = true; /* back at T0+32 */
	sim_run_until(&s, T0 + 61);
	assert_int_equal(s.f.active, 1); /* hold: 30 s of continuous health first */
	sim_poll(&s);
	assert_int_equal(s.f.active, 0);
	assert_int_equal(s.f.switches, 2);
}

static void test_no_flapping(void **state)
{
	struct sim s;

	(void)state;
	sim_start(&s, false, true, 5, 20);
	/* Gateway 0 never came up: gateway 1 takes over once the start-up grace (the stale
	 * bound) has passed. */
	sim_run_until(&s, T0 + 6);
	assert_int_equal(s.f.active, 0);
	sim_poll(&s);
	assert_int_equal(s.f.active, 1);
	/* Gateway 0 bounces: up 10 s, down 10 s, repeatedly. Never healthy for 20 s in a row,
	 * so the traffic stays on gateway 1. */
	for (int cycle = 0; cycle < 10; cycle++) {
		s.alive[0] = true;
		sim_run_until(&s, s.t + 10);
		s.alive[0] = false;
		sim_run_until(&s, s.t + 10);
	}
	assert_int_equal(s.f.active, 1);
	assert_int_equal(s.f.switches, 1);
}

static void test_nobody_healthy_stays(void **state)
{
	struct sim s;

	(void)state;
	sim_start(&s, true, false, 5, 20);
	sim_run_until(&s, T0 + 3);
	s.alive[0] = false;
	sim_run_until(&s, T0 + 60);
	assert_int_equal(s.f.active, 0);
	assert_int_equal(s.f.switches, 0);
}

/* Start-up: the other gateway answering its first handshake before the preferred one must
 * not take the CIDRs; the preferred one has the stale bound to show up. */
static void test_startup_grace(void **state)
{
	struct tunnel_failover f;

	(void)state;
	tunnel_failover_init(&f, 2, 10, 30);
	tunnel_failover_observe(&f, 0, 0, 0, T0);
	tunnel_failover_observe(&f, 1, T0, 148, T0); /* B handshakes at once, A not yet */
	assert_int_equal(tunnel_failover_decide(&f, T0), 0);
	tunnel_failover_observe(&f, 0, T0 + 1, 148, T0 + 1); /* A answers a second later */
	assert_int_equal(tunnel_failover_decide(&f, T0 + 1), 0);
	assert_int_equal(f.switches, 0);

	/* A preferred gateway that never answers loses the CIDRs once the bound has passed. */
	tunnel_failover_init(&f, 2, 10, 30);
	for (int64_t t = T0; t <= T0 + 10; t++) {
		tunnel_failover_observe(&f, 1, t, 148 + (uint64_t)(t - T0), t);
		assert_int_equal(tunnel_failover_decide(&f, t), 0);
	}
	tunnel_failover_observe(&f, 1, T0 + 11, 200, T0 + 11);
	assert_int_equal(tunnel_failover_decide(&f, T0 + 11), 1);
}

static void test_handshake_counts(void **state)
{
	struct tunnel_failover f;

	(void)state;
	tunnel_failover_init(&f, 3, 180, 60);
	/* Only handshakes, no rx history: 0 is 200 s old (stale), 2 is fresh. */
	tunnel_failover_observe(&f, 0, T0 - 200, 0, T0);
	tunnel_failover_observe(&f, 1, 0, 0, T0);
	tunnel_failover_observe(&f, 2, T0 - 10, 0, T0);
	assert_false(tunnel_failover_healthy(&f, 0, T0));
	assert_false(tunnel_failover_healthy(&f, 1, T0));
	assert_true(tunnel_failover_healthy(&f, 2, T0));
	assert_int_equal(tunnel_failover_decide(&f, T0), 2);
	/* A handshake from the future (clock skew) is ignored. */
	tunnel_failover_observe(&f, 1, T0 + 1000, 0, T0);
	assert_false(tunnel_failover_healthy(&f, 1, T0));
	/* A counter reset (peer re-created) is a new baseline, not a sign of life. */
	tunnel_failover_init(&f, 1, 180, 60);
	tunnel_failover_observe(&f, 0, 0, 100, T0);
	tunnel_failover_observe(&f, 0, 0, 50, T0 + 1);
	assert_false(tunnel_failover_healthy(&f, 0, T0 + 1));
	tunnel_failover_observe(&f, 0, 0, 60, T0 + 2);
	assert_true(tunnel_failover_healthy(&f, 0, T0 + 2));
}

/* A gateway added live is a standby; removing the active one hands over at once to the
 * healthy one, indices shift, the last gateway cannot be removed. */
static void test_add_remove(void **state)
{
	struct sim s;

	(void)state;
	sim_start(&s, true, true, 5, 10);
	sim_run_until(&s, T0 + 3);
	assert_true(tunnel_failover_add(&s.f));
	assert_int_equal(s.f.n, 3);
	assert_int_equal(s.f.active, 0);
	assert_int_equal(s.f.gw[2].last_seen_s, 0);
	/* removing a standby keeps the active one and its index */
	assert_true(tunnel_failover_remove(&s.f, 2, s.t));
	assert_int_equal(s.f.active, 0);
	assert_int_equal(s.f.switches, 0);
	/* the active one deregisters: gateway 1 (healthy) takes over now, and is index 0 */
	assert_true(tunnel_failover_remove(&s.f, 0, s.t));
	assert_int_equal(s.f.n, 1);
	assert_int_equal(s.f.active, 0);
	assert_int_equal(s.f.switches, 1);
	assert_true(tunnel_failover_healthy(&s.f, 0, s.t));
	assert_false(tunnel_failover_remove(&s.f, 0, s.t)); /* the last one stays */
	assert_false(tunnel_failover_remove(&s.f, 5, s.t));
	for (int i = 0; i < TUNNEL_FAILOVER_MAX_GATEWAYS - 1; i++)
		assert_true(tunnel_failover_add(&s.f));
	assert_false(tunnel_failover_add(&s.f));
}

/* The active one goes while another is active-in-waiting: the healthy one wins over a
 * never-heard one even at a higher index. */
static void test_remove_picks_healthy(void **state)
{
	struct sim s;

	(void)state;
	sim_start(&s, true, true, 5, 10);
	sim_run_until(&s, T0 + 3);
	assert_true(tunnel_failover_add(&s.f)); /* index 2, never heard from */
	assert_true(tunnel_failover_remove(&s.f, 0, s.t));
	/* old 1 -> 0 healthy; old 2 -> 1 silent: 0 is chosen */
	assert_int_equal(s.f.active, 0);
	s.alive[0] = true;
	sim_start(&s, false, true, 5, 10);
	sim_run_until(&s, T0 + 3);
	assert_true(tunnel_failover_add(&s.f));
	s.f.active = 2; /* say the new one was active */
	assert_true(tunnel_failover_remove(&s.f, 2, s.t));
	assert_int_equal(s.f.active, 1); /* the healthy one, not the silent preferred one */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_bounds),	     cmocka_unit_test(test_failover_and_back),
	    cmocka_unit_test(test_no_flapping),	     cmocka_unit_test(test_nobody_healthy_stays),
	    cmocka_unit_test(test_handshake_counts), cmocka_unit_test(test_startup_grace),
	    cmocka_unit_test(test_add_remove),	     cmocka_unit_test(test_remove_picks_healthy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

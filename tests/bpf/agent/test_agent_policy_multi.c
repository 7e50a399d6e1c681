// SPDX-License-Identifier: GPL-2.0-only
/*
 * agent_policy_multi_apply() (the gateway's multi-endpoint writer) on real pinned maps:
 *   - several endpoints written at once; applying the same state again writes nothing;
 *   - an endpoint not listed keeps its keys; a changed endpoint only moves its own keys;
 *   - a removed endpoint loses its keys and its enforcement flags;
 *   - a change that does not fit the maps is refused whole (-ENOSPC, nothing written);
 *   - ipcache: store-owned entries win a prefix the CIDR identities also name, kept
 *     prefixes are left as they are, entries nothing wants are removed.
 * Needs root (CAP_BPF) and /sys/fs/bpf.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/policy_sync.h"

static char bpffs[96];
static struct dp *dp;

static int load(uint32_t policy_max)
{
	struct dp_load_opts o = {.mode = DP_MODE_GATEWAY, .policy_max = policy_max};

	snprintf(bpffs, sizeof(bpffs), "/sys/fs/bpf/pp-test-multi-%d", getpid());
	o.bpffs = bpffs;
	if (dp_load(&o) || dp_open(bpffs, &dp)) {
		fprintf(stderr, "cannot load the datapath under %s (root and bpffs needed)\n",
			bpffs);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return load(0);
}

static int teardown(void **state)
{
	(void)state;
	dp_close(dp);
	dp_unload(bpffs);
	return 0;
}

static struct policy_entry tcp(uint32_t id, int dir, uint16_t port, uint32_t rule)
{
	return (struct policy_entry){.identity = id,
				     .direction = (uint8_t)dir,
				     .proto = IPPROTO_TCP,
				     .port_lo = port,
				     .port_hi = port,
				     .rule_id = rule};
}

static struct agent_policy_ep_want ep(uint32_t id, const struct policy_entry *e, size_t n)
{
	return (struct agent_policy_ep_want){.endpoint = id,
					     .entries = e,
					     .n = n,
					     .flags =
						 agent_policy_enforce_flags(e, n, true, false)};
}

struct count {
	uint32_t endpoint;
	size_t n;
};
static int count_cb(const struct dp_policy_row *r, void *ctx)
{
	struct count *c = ctx;

	c->n += r->endpoint == c->endpoint;
	return 0;
}
static size_t keys_of(uint32_t endpoint)
{
	struct count c = {.endpoint = endpoint};

	assert_int_equal(dp_policy_foreach(dp, count_cb, &c), 0);
	return c.n;
}

static void apply(const struct agent_policy_ep_want *eps, size_t n,
		  struct agent_policy_multi_report *rep)
{
	struct agent_policy_multi m = {.eps = eps, .n_eps = n};
	char err[512];
	int rc = agent_policy_multi_apply(dp, &m, NULL, NULL, rep, err, sizeof(err));

	if (rc)
		fprintf(stderr, "apply: %s\n", err);
	assert_int_equal(rc, 0);
}

static void test_endpoints(void **state)
{
	struct policy_entry pod[] = {tcp(600, POLICY_INGRESS, 5432, 1),
				     tcp(601, POLICY_INGRESS, 80, 2)};
	struct policy_entry machine[] = {tcp(400, POLICY_EGRESS, 5432, 3)};
	struct policy_entry other[] = {tcp(1, POLICY_INGRESS, 22, 9)};
	struct agent_policy_multi_report rep;
	struct agent_policy_ep_want w[2];
	uint32_t flags;

	(void)state;
	/* endpoint 999: someone else's keys, never listed */
	assert_int_equal(dp_policy_apply(dp, 999, other, 1, NULL, 0), 0);
	w[0] = ep(400, pod, 2);
	w[1] = ep(600, machine, 1);
	apply(w, 2, &rep);
	assert_int_equal(rep.pol_add, 3);
	assert_int_equal(keys_of(400), 2);
	assert_int_equal(keys_of(600), 1);
	assert_int_equal(dp_endpoint_get(dp, 400, &flags), 0);
	assert_int_equal(flags, w[0].flags);
	apply(w, 2, &rep); /* the same state: nothing to write */
	assert_int_equal(rep.pol_add + rep.pol_del + rep.flags_changed, 0);

	/* 400 changes (one key out, one in); 600 listed unchanged */
	pod[1] = tcp(602, POLICY_INGRESS, 443, 4);
	apply(w, 2, &rep);
	assert_int_equal(rep.pol_add, 1);
	assert_int_equal(rep.pol_del, 1);
	assert_int_equal(keys_of(400), 2);
	assert_int_equal(keys_of(600), 1);

	/* 600 is no longer local: keys and flags go; 999 untouched throughout */
	w[1].remove = true;
	apply(&w[1], 1, &rep);
	assert_int_equal(rep.eps_removed, 1);
	assert_int_equal(keys_of(600), 0);
	assert_int_equal(dp_endpoint_get(dp, 600, &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(keys_of(400), 2);
	assert_int_equal(keys_of(999), 1);
}

static void test_enospc_writes_nothing(void **state)
{
	struct policy_entry many[40];
	struct agent_policy_ep_want w;
	struct agent_policy_multi m = {.eps = &w, .n_eps = 1};
	char err[512];

	(void)state;
	teardown(NULL);
	assert_int_equal(load(32), 0); /* the exact-port hash holds 32 keys */
	for (size_t i = 0; i < 40; i++)
		many[i] = tcp(600, POLICY_INGRESS, (uint16_t)(1000 + i), 1);
	w = ep(400, many, 40);
	assert_int_equal(agent_policy_multi_apply(dp, &m, NULL, NULL, NULL, err, sizeof(err)),
			 -ENOSPC);
	assert_non_null(strstr(err, "nothing was written"));
	assert_int_equal(keys_of(400), 0);
	teardown(NULL);
	assert_int_equal(load(0), 0);
}

static struct dp_ipcache_entry ipc(const char *cidr, uint32_t id)
{
	struct dp_ipcache_entry e;
	char why[64];

	assert_true(dp_parse_cidr(cidr, &e, why, sizeof(why)));
	e.identity = id;
	e.tunnel_ipv4 = 0;
	e.flags = 0;
	return e;
}

struct ipc_find {
	struct dp_ipcache_entry want;
	uint32_t found; /* 0 = absent */
};

static int ipc_find_cb(const struct dp_ipcache_entry *e, void *ctx)
{
	struct ipc_find *c = ctx;

	if (e->family == c->want.family && e->plen == c->want.plen &&
	    !memcmp(e->addr, c->want.addr, sizeof(e->addr)))
		c->found = e->identity;
	return 0;
}

static uint32_t ipc_identity(const char *cidr)
{
	struct ipc_find c = {.want = ipc(cidr, 0)};

	assert_int_equal(dp_ipcache_foreach(dp, ipc_find_cb, &c), 0);
	return c.found;
}

static void test_ipcache(void **state)
{
	struct dp_ipcache_entry stale = ipc("10.9.9.9/32", 77), keep = ipc("10.8.8.8/32", 88);
	struct dp_ipcache_entry store[] = {ipc("10.201.0.5/32", 600), ipc("10.0.0.0/8", 500)};
	struct dp_ipcache_entry cids[] = {ipc("10.0.0.0/8", (1u << 24) | 1),
					  ipc("192.168.0.0/16", (1u << 24) | 2)};
	struct dp_ipcache_entry held = ipc("10.8.8.8/32", 0);
	struct agent_policy_multi m = {.ipcache = true,
				       .ipc_a = store,
				       .n_ipc_a = 2,
				       .ipc_b = cids,
				       .n_ipc_b = 2,
				       .ipc_keep = &held,
				       .n_ipc_keep = 1};
	struct agent_policy_multi_report rep;
	char err[512];

	(void)state;
	store[0].flags = DP_IPC_F_WORKLOAD;
	assert_int_equal(dp_ipcache_apply(dp, &stale, 1, NULL, 0), 0);
	assert_int_equal(dp_ipcache_apply(dp, &keep, 1, NULL, 0), 0);
	assert_int_equal(agent_policy_multi_apply(dp, &m, NULL, NULL, &rep, err, sizeof(err)), 0);
	assert_int_equal(ipc_identity("10.201.0.5/32"), 600);
	assert_int_equal(ipc_identity("10.0.0.0/8"), 500); /* the store's record wins */
	assert_int_equal(ipc_identity("192.168.0.0/16"), (1u << 24) | 2);
	assert_int_equal(ipc_identity("10.8.8.8/32"), 88); /* held */
	assert_int_equal(ipc_identity("10.9.9.9/32"), 0);  /* nothing wants it */
	assert_int_equal(rep.ipc_add, 3);
	assert_int_equal(rep.ipc_del, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoints),
	    cmocka_unit_test(test_enospc_writes_nothing),
	    cmocka_unit_test(test_ipcache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

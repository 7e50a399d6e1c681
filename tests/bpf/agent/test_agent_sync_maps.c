// SPDX-License-Identifier: GPL-2.0-only
/*
 * agent/policy_sync on real pinned maps (a datapath loaded into a private bpffs directory):
 *   - a snapshot sync writes what the engine computes, and a second sync of the same
 *     snapshot writes nothing (adoption);
 *   - the incremental path (engine changes -> agent_policy_sync_changes) leaves the maps
 *     where a snapshot sync of the same state would: a snapshot sync afterwards finds
 *     nothing to do, up to the numbering of engine-local CIDR identities;
 *   - incremental ipcache upserts/removals, and a store record owning a prefix that an
 *     engine CIDR identity also names.
 * Needs root (CAP_BPF) and /sys/fs/bpf.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/policy_sync.h"
#include "store/store.h"
#include "policy/engine.h"
#include "policy/labels.h"

#define MID 256u
#define WID 257u
#define DID 258u

static char bpffs[96];
static struct dp *dp;

static int setup(void **state)
{
	struct dp_load_opts o = {.mode = DP_MODE_WORKLOAD, .identity = MID};

	(void)state;
	snprintf(bpffs, sizeof(bpffs), "/sys/fs/bpf/pp-test-agent-%d", getpid());
	o.bpffs = bpffs;
	if (dp_load(&o) || dp_open(bpffs, &dp)) {
		fprintf(stderr, "cannot load the datapath under %s (root and bpffs needed)\n",
			bpffs);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_close(dp);
	dp_unload(bpffs);
	return 0;
}

static json_t *policy_obj(const char *json)
{
	json_error_t e;
	json_t *o = json_loads(json, 0, &e);

	assert_non_null(o);
	return o;
}

static const char P_WEB[] =
    "{\"apiVersion\":\"cilium.io/v2\",\"kind\":\"CiliumNetworkPolicy\","
    "\"metadata\":{\"name\":\"from-web\",\"namespace\":\"prod\"},"
    "\"spec\":{\"endpointSelector\":{\"matchLabels\":{\"app\":\"billing\"}},"
    "\"ingress\":[{\"fromEndpoints\":[{\"matchLabels\":{\"app\":\"web\"}}],"
    "\"toPorts\":[{\"ports\":[{\"port\":\"8000\",\"endPort\":8100,\"protocol\":\"TCP\"}]}]}]}}";
static const char P_CIDR[] =
    "{\"apiVersion\":\"cilium.io/v2\",\"kind\":\"CiliumNetworkPolicy\","
    "\"metadata\":{\"name\":\"to-net\",\"namespace\":\"prod\"},"
    "\"spec\":{\"endpointSelector\":{\"matchLabels\":{\"app\":\"billing\"}},"
    "\"egress\":[{\"toCIDRSet\":[{\"cidr\":\"10.50.0.0/16\",\"except\":[\"10.50.1.0/24\"]}]}],"
    "\"egressDeny\":[{\"toEndpoints\":[{\"matchLabels\":{\"app\":\"db\"}}]}]}}";

struct fixture {
	struct agent_policy_snapshot snap;
};

static void snap_build(struct agent_policy_snapshot *s, bool with_cidr_policy)
{
	static const char *const labels[] = {"app=billing,io.kubernetes.pod.namespace=prod",
					     "app=web,io.kubernetes.pod.namespace=prod",
					     "app=db,io.kubernetes.pod.namespace=prod"};
	static const char *const ips[] = {"10.99.0.2/32", "10.99.0.3/32", "10.99.0.4/32"};
	char err[256];

	memset(s, 0, sizeof(*s));
	s->n_ids = 3;
	s->ids = calloc(3, sizeof(*s->ids));
	s->n_policies = with_cidr_policy ? 2 : 1;
	s->policies = calloc(2, sizeof(*s->policies));
	assert_non_null(s->ids);
	assert_non_null(s->policies);
	for (int i = 0; i < 3; i++) {
		s->ids[i].id = MID + (uint32_t)i;
		assert_true(label_set_parse(&s->ids[i].labels, labels[i], err, sizeof(err)));
		struct store_ipcache r = {.identity = MID + (uint32_t)i};

		snprintf(r.cidr, sizeof(r.cidr), "%s", ips[i]);
		assert_int_equal(agent_policy_snapshot_add_ipcache(s, &r), 0);
	}
	snprintf(s->policies[0].namespace_, sizeof(s->policies[0].namespace_), "prod");
	snprintf(s->policies[0].name, sizeof(s->policies[0].name), "from-web");
	s->policies[0].object = policy_obj(P_WEB);
	if (with_cidr_policy) {
		snprintf(s->policies[1].namespace_, sizeof(s->policies[1].namespace_), "prod");
		snprintf(s->policies[1].name, sizeof(s->policies[1].name), "to-net");
		s->policies[1].object = policy_obj(P_CIDR);
	}
}

static void sync_expect_noop(struct agent_policy_snapshot *s)
{
	struct agent_policy_sync *ps;
	struct agent_policy_report rep;
	char err[512] = "";

	assert_int_equal(agent_policy_sync_new(dp, MID, &ps), 0);
	assert_int_equal(agent_policy_sync_snapshot(ps, s, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.ipc_add + rep.ipc_change + rep.ipc_del, 0);
	assert_int_equal(rep.pol_add + rep.pol_del + rep.pol_recount, 0);
	assert_int_equal(rep.flags_before, rep.flags_after);
	agent_policy_sync_free(ps);
}

static void test_snapshot_then_noop(void **state)
{
	struct agent_policy_snapshot s;
	struct agent_policy_sync *ps;
	struct agent_policy_report rep;
	uint32_t flags;
	char err[512] = "";

	(void)state;
	snap_build(&s, true);
	assert_int_equal(agent_policy_sync_new(dp, MID, &ps), 0);
	assert_int_equal(agent_policy_sync_snapshot(ps, &s, &rep, err, sizeof(err)), 0);
	/* 3 endpoints + 10.50.0.0/16 + the except 10.50.1.0/24 */
	assert_int_equal(rep.ipc_add, 5);
	assert_int_equal(rep.cidr_ids, 2);
	assert_true(rep.enforced[0]);
	assert_true(rep.enforced[1]);
	/* 8000-8100 is 4 aligned blocks (/10, /11, /14, /16); egress: the /16's identity and
	 * the deny of db */
	assert_int_equal(rep.pol_add, rep.pol_keys);
	assert_int_equal(rep.pol_keys, 6);
	assert_int_equal(dp_endpoint_get(dp, MID, &flags), 0);
	assert_int_equal(flags, DP_EP_F_ENFORCE_INGRESS | DP_EP_F_ENFORCE_EGRESS);
	agent_policy_sync_free(ps);
	sync_expect_noop(&s); /* a new process adopting the maps writes nothing */
	agent_policy_snapshot_free(&s);
}

static void test_incremental_equals_snapshot(void **state)
{
	struct agent_policy_snapshot s1, s2;
	struct agent_policy_sync *ps;
	struct agent_policy_report rep;
	struct policy_changes ch = {0};
	json_t *obj;
	char err[512] = "";
	uint32_t flags;

	(void)state;
	snap_build(&s1, true);
	assert_int_equal(agent_policy_sync_new(dp, MID, &ps), 0);
	assert_int_equal(agent_policy_sync_snapshot(ps, &s1, &rep, err, sizeof(err)), 0);

	/* Watch event: the CIDR policy is deleted. */
	assert_int_equal(policy_engine_policy_remove(agent_policy_engine(ps), "prod/to-net", &ch),
			 0);
	assert_int_equal(agent_policy_sync_changes(ps, &ch, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.ipc_del, 2); /* both CIDR identities released */
	assert_true(rep.pol_del > 0);
	policy_changes_free(&ch);
	/* Egress is no longer enforced and has no deny: its flag goes off. */
	assert_int_equal(dp_endpoint_get(dp, MID, &flags), 0);
	assert_int_equal(flags, DP_EP_F_ENFORCE_INGRESS);
	snap_build(&s2, false);
	sync_expect_noop(&s2);

	/* Watch event: it comes back (a new rule-id block); again equal to a snapshot. */
	memset(&ch, 0, sizeof(ch));
	obj = policy_obj(P_CIDR);
	assert_int_equal(policy_engine_policy_set(agent_policy_engine(ps), "prod/to-net", obj, &ch,
						  err, sizeof(err)),
			 0);
	json_decref(obj);
	assert_int_equal(agent_policy_sync_changes(ps, &ch, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.ipc_add, 2);
	policy_changes_free(&ch);
	/* The engine numbered the two CIDR identities anew (they are engine-local): a fresh
	 * snapshot numbers them from the start again. Its sync is then exactly a
	 * renumbering — the two prefixes change identity, the keys naming them are swapped,
	 * nothing else moves. */
	{
		struct agent_policy_sync *fresh;

		assert_int_equal(agent_policy_sync_new(dp, MID, &fresh), 0);
		assert_int_equal(agent_policy_sync_snapshot(fresh, &s1, &rep, err, sizeof(err)), 0);
		assert_int_equal(rep.ipc_add + rep.ipc_del, 0);
		assert_true(rep.ipc_change <= 2);
		assert_int_equal(rep.pol_add, rep.pol_del);
		assert_true(rep.pol_add <= 2);
		assert_int_equal(rep.flags_before, rep.flags_after);
		agent_policy_sync_free(fresh);
	}
	sync_expect_noop(&s1);

	agent_policy_sync_free(ps);
	agent_policy_snapshot_free(&s1);
	agent_policy_snapshot_free(&s2);
}

static bool ipc_lookup(const char *cidr, struct dp_ipcache_entry *out);

struct find_ctx {
	struct dp_ipcache_entry want;
	struct dp_ipcache_entry *out;
	bool found;
};

static int find_cb(const struct dp_ipcache_entry *e, void *arg)
{
	struct find_ctx *c = arg;

	if (e->family == c->want.family && e->plen == c->want.plen &&
	    !memcmp(e->addr, c->want.addr, 16)) {
		*c->out = *e;
		c->found = true;
	}
	return 0;
}

static bool ipc_lookup(const char *cidr, struct dp_ipcache_entry *out)
{
	struct find_ctx c = {.out = out};
	char why[64];

	assert_true(dp_parse_cidr(cidr, &c.want, why, sizeof(why)));
	assert_int_equal(dp_ipcache_foreach(dp, find_cb, &c), 0);
	return c.found;
}

static void test_ipcache_incremental(void **state)
{
	struct agent_policy_snapshot s;
	struct agent_policy_sync *ps;
	struct store_ipcache r = {.cidr = "10.50.0.0/16", .identity = DID};
	struct dp_ipcache_entry e;
	char err[512] = "";

	(void)state;
	snap_build(&s, true);
	assert_int_equal(agent_policy_sync_new(dp, MID, &ps), 0);
	assert_int_equal(agent_policy_sync_snapshot(ps, &s, NULL, err, sizeof(err)), 0);
	assert_true(ipc_lookup("10.50.0.0/16", &e));
	assert_true(e.identity & (1u << 24)); /* the engine's CIDR identity */

	/* A store record for the same prefix owns it... */
	assert_int_equal(agent_policy_ipcache_set(ps, &r, err, sizeof(err)), 0);
	assert_true(ipc_lookup("10.50.0.0/16", &e));
	assert_int_equal(e.identity, DID);
	/* ...and when it goes, the CIDR identity takes over again, never a gap to world. */
	assert_int_equal(agent_policy_ipcache_remove(ps, "10.50.0.0/16", err, sizeof(err)), 0);
	assert_true(ipc_lookup("10.50.0.0/16", &e));
	assert_true(e.identity & (1u << 24));

	/* A plain pod record: upsert, change, remove. */
	snprintf(r.cidr, sizeof(r.cidr), "10.99.0.9/32");
	r.identity = WID;
	assert_int_equal(agent_policy_ipcache_set(ps, &r, err, sizeof(err)), 0);
	assert_true(ipc_lookup("10.99.0.9/32", &e));
	assert_int_equal(e.identity, WID);
	r.kind = STORE_IPCACHE_WORKLOAD;
	snprintf(r.gateway, sizeof(r.gateway), "192.168.7.1");
	assert_int_equal(agent_policy_ipcache_set(ps, &r, err, sizeof(err)), 0);
	assert_true(ipc_lookup("10.99.0.9/32", &e));
	assert_int_equal(e.flags, DP_IPC_F_WORKLOAD);
	assert_int_equal(e.tunnel_ipv4, inet_addr("192.168.7.1"));
	/* A record the datapath cannot use changes nothing. */
	snprintf(r.gateway, sizeof(r.gateway), "fd00::1");
	assert_int_equal(agent_policy_ipcache_set(ps, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "10.99.0.9/32"));
	assert_true(ipc_lookup("10.99.0.9/32", &e));
	assert_int_equal(e.tunnel_ipv4, inet_addr("192.168.7.1"));
	assert_int_equal(agent_policy_ipcache_remove(ps, "10.99.0.9/32", err, sizeof(err)), 0);
	assert_false(ipc_lookup("10.99.0.9/32", &e));

	agent_policy_sync_free(ps);
	agent_policy_snapshot_free(&s);
}

static void test_unknown_identity_changes_nothing(void **state)
{
	struct agent_policy_snapshot s;
	struct agent_policy_sync *ps;
	char err[512] = "";

	(void)state;
	snap_build(&s, true);
	assert_int_equal(agent_policy_sync_new(dp, 999, &ps), 0);
	assert_int_equal(agent_policy_sync_snapshot(ps, &s, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "identity 999"));
	agent_policy_sync_free(ps);
	sync_expect_noop(&s); /* the maps still hold the last good sync */
	agent_policy_snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_then_noop),
	    cmocka_unit_test(test_incremental_equals_snapshot),
	    cmocka_unit_test(test_ipcache_incremental),
	    cmocka_unit_test(test_unknown_identity_changes_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

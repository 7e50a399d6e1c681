// SPDX-License-Identifier: GPL-2.0-only
/*
 * A partial policy write never allows more than the old or the new policy (issue 10 item 1),
 * on real pinned maps. The verdicts are read from the maps the way the programs compute
 * them (bpf/lib/policy.h: enforcement flag, key counts, deny keys then allow keys, exact
 * hash then trie, exact identity then "any"), for every tuple of a sample.
 *   - test_enospc_refused: the reproduction — a new policy that allows a peer on
 *     every port, denies it TCP 22-23 and carries enough filler keys to overflow the policy
 *     trie. The sync must refuse it as a whole before writing (clear error, the old policy
 *     stays in force); before, the allow went in, the deny hit ENOSPC, and 22 was open.
 *   - test_kill_random: a sync between two large policies (~1,900 keys each, denies carving
 *     into allows both ways) is SIGKILLed at a random moment, KILL_ITERATIONS times; after
 *     each kill no tuple that both policies deny is allowed, and none both allow is denied.
 *     Then the sync is completed by a new process, which must reach the target's exact keys
 *     and reference counts (adoption of a half-written state).
 * Needs root (CAP_BPF) and /sys/fs/bpf.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>
#include <jansson.h>

#include "agent/policy_sync.h"
#include "policy/engine.h"
#include "policy/labels.h"
#include "store/store.h"

#define MID		256u
#define N_PEERS		16u
#define KILL_ITERATIONS 150

static const uint16_t sample_ports[] = {1,    22,   23,	  53,	80,   443,  1000, 2222, 8000,
					8079, 8080, 8081, 8099, 8100, 8200, 8443, 8500, 8888,
					8999, 9000, 9001, 9050, 9099, 9100, 9999, 40000};
static const uint8_t sample_protos[] = {IPPROTO_TCP, IPPROTO_UDP};
#define N_TUPLES                                                                                   \
	(N_PEERS * 2 * (sizeof(sample_protos)) * (sizeof(sample_ports) / sizeof(sample_ports[0])))

/* ---- snapshots ---- */

static void snap_init(struct agent_policy_snapshot *s, size_t n_pol)
{
	char err[256], text[128];

	memset(s, 0, sizeof(*s));
	s->n_ids = N_PEERS + 1;
	s->ids = calloc(s->n_ids, sizeof(*s->ids));
	s->policies = calloc(n_pol, sizeof(*s->policies));
	assert_non_null(s->ids);
	assert_non_null(s->policies);
	for (unsigned i = 0; i < s->n_ids; i++) {
		if (i == 0)
			snprintf(text, sizeof(text),
				 "app=billing,io.kubernetes.pod.namespace=prod");
		else
			snprintf(text, sizeof(text), "app=peer%u,io.kubernetes.pod.namespace=prod",
				 i - 1);
		s->ids[i].id = MID + i;
		assert_true(label_set_parse(&s->ids[i].labels, text, err, sizeof(err)));
		struct store_ipcache r = {.identity = MID + i};

		snprintf(r.cidr, sizeof(r.cidr), "10.99.%u.%u/32", i / 200, i % 200 + 2);
		assert_int_equal(agent_policy_snapshot_add_ipcache(s, &r), 0);
	}
}

static void snap_add_policy(struct agent_policy_snapshot *s, const char *name, json_t *spec)
{
	struct store_policy *p = &s->policies[s->n_policies++];

	snprintf(p->namespace_, sizeof(p->namespace_), "prod");
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->object = json_pack("{s:s,s:s,s:{s:s,s:s},s:o}", "apiVersion", "cilium.io/v2", "kind",
			      "CiliumNetworkPolicy", "metadata", "name", name, "namespace", "prod",
			      "spec", spec);
	assert_non_null(p->object);
	p->kind = "CiliumNetworkPolicy";
}

static json_t *port(unsigned lo, unsigned hi, const char *proto)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%u", lo);
	return hi > lo ? json_pack("{s:s,s:i,s:s}", "port", buf, "endPort", hi, "protocol", proto)
		       : json_pack("{s:s,s:s}", "port", buf, "protocol", proto);
}

/* One rule: from (or to) app=peerN, with these ports (NULL = every port). */
static json_t *rule(bool ingress, unsigned peer, json_t *ports)
{
	char app[16];
	json_t *r;

	snprintf(app, sizeof(app), "peer%u", peer);
	r = json_pack("{s:[{s:{s:s}}]}", ingress ? "fromEndpoints" : "toEndpoints", "matchLabels",
		      "app", app);
	if (ports)
		json_object_set_new(r, "toPorts", json_pack("[{s:o}]", "ports", ports));
	return r;
}

static json_t *spec_new(void)
{
	return json_pack("{s:{s:{s:s}},s:[],s:[],s:[],s:[]}", "endpointSelector", "matchLabels",
			 "app", "billing", "ingress", "egress", "ingressDeny", "egressDeny");
}

/* Many disjoint aligned ranges (no merging): the bulk of a large policy. */
static json_t *filler_ports(unsigned base, unsigned n, const char *proto)
{
	json_t *a = json_array();

	for (unsigned b = 0; b < n; b++)
		json_array_append_new(a, port(base + b * 16, base + b * 16 + 3, proto));
	return a;
}

/*
 * Policy A: per peer, TCP 8000-8999 allowed except 8080 (denied), UDP 53 out, fillers.
 * Policy B: per peer, every TCP port allowed except 22-23 and 8000-8099 (denied), egress on
 * any port except UDP 53 to even peers, other fillers. Both allow TCP 8100-8999 in and UDP
 * 53 out to odd peers; both deny TCP 22 and 8080 in, UDP 1 in, ...; the rest switches.
 */
static void snap_policy_a(struct agent_policy_snapshot *s)
{
	json_t *sp = spec_new();

	for (unsigned p = 0; p < N_PEERS; p++) {
		json_array_append_new(json_object_get(sp, "ingress"),
				      rule(true, p, json_pack("[o]", port(8000, 8999, "TCP"))));
		json_array_append_new(json_object_get(sp, "ingressDeny"),
				      rule(true, p, json_pack("[o]", port(8080, 8080, "TCP"))));
		json_array_append_new(json_object_get(sp, "egress"),
				      rule(false, p, json_pack("[o]", port(53, 53, "UDP"))));
		json_array_append_new(json_object_get(sp, "ingress"),
				      rule(true, p, filler_ports(20000, 64, "UDP")));
	}
	snap_add_policy(s, "variant-a", sp);
}

static void snap_policy_b(struct agent_policy_snapshot *s)
{
	json_t *sp = spec_new();

	for (unsigned p = 0; p < N_PEERS; p++) {
		json_t *deny = json_pack("[o,o]", port(22, 23, "TCP"), port(8000, 8099, "TCP"));

		json_array_append_new(json_object_get(sp, "ingress"),
				      rule(true, p, json_pack("[o]", port(1, 65535, "TCP"))));
		json_array_append_new(json_object_get(sp, "ingressDeny"), rule(true, p, deny));
		json_array_append_new(json_object_get(sp, "egress"), rule(false, p, NULL));
		if (p % 2 == 0)
			json_array_append_new(
			    json_object_get(sp, "egressDeny"),
			    rule(false, p, json_pack("[o]", port(53, 53, "UDP"))));
		json_array_append_new(json_object_get(sp, "ingress"),
				      rule(true, p, filler_ports(30000, 50, "UDP")));
		json_array_append_new(json_object_get(sp, "ingressDeny"),
				      rule(true, p, filler_ports(40001, 20, "UDP")));
	}
	snap_add_policy(s, "variant-b", sp);
}

/* ---- the datapath's verdict, read from the maps ---- */

struct maps {
	int ep, lpm, exact;
};

static struct maps maps_of(struct dp *dp)
{
	struct maps m = {dp_map_fd(dp, "endpoints"), dp_map_fd(dp, "policy"),
			 dp_map_fd(dp, "policy_exact")};

	assert_true(m.ep >= 0 && m.lpm >= 0 && m.exact >= 0);
	return m;
}

static bool lookup1(const struct maps *m, struct dp_policy_key *k, bool has_lpm)
{
	struct dp_policy_val v;

	k->prefixlen = DP_POL_PREFIX_FULL;
	if (!bpf_map_lookup_elem(m->exact, k, &v))
		return true;
	return has_lpm && !bpf_map_lookup_elem(m->lpm, k, &v);
}

static bool lookup2(const struct maps *m, struct dp_policy_key *k, uint32_t remote, bool has_any,
		    bool has_lpm)
{
	k->identity = htonl(remote);
	if (lookup1(m, k, has_lpm))
		return true;
	if (!has_any)
		return false;
	k->identity = 0;
	return lookup1(m, k, has_lpm);
}

static bool allowed(const struct maps *m, uint32_t remote, uint8_t dir, uint8_t proto,
		    uint16_t dport)
{
	uint32_t endpoint = MID;
	struct dp_endpoint_val ep;
	struct dp_policy_key k = {0};
	bool has_any, has_lpm;

	if (bpf_map_lookup_elem(m->ep, &endpoint, &ep) ||
	    !(ep.flags &
	      (dir == DP_DIR_INGRESS ? DP_EP_F_ENFORCE_INGRESS : DP_EP_F_ENFORCE_EGRESS)))
		return true;
	k.endpoint = htonl(endpoint);
	k.dir = dir;
	k.proto = proto;
	k.port = htons(dport);
	has_any = ep.any_keys[dir & 1] != 0;
	has_lpm = ep.lpm_keys[dir & 1] != 0;
	k.deny = 1;
	if (ep.deny_keys[dir & 1] && lookup2(m, &k, remote, has_any, has_lpm))
		return false;
	k.deny = 0;
	return lookup2(m, &k, remote, has_any, has_lpm);
}

/* Verdicts of every sample tuple, in a fixed order. */
static void verdicts(struct dp *dp, bool *out)
{
	struct maps m = maps_of(dp);
	size_t i = 0;

	for (unsigned p = 0; p < N_PEERS; p++)
		for (uint8_t dir = 0; dir < 2; dir++)
			for (size_t q = 0; q < sizeof(sample_protos); q++)
				for (size_t t = 0;
				     t < sizeof(sample_ports) / sizeof(sample_ports[0]); t++)
					out[i++] = allowed(&m, MID + 1 + p, dir, sample_protos[q],
							   sample_ports[t]);
	assert_int_equal(i, N_TUPLES);
}

/* ---- map contents ---- */

struct rows {
	struct dp_policy_row v[8192];
	size_t n;
};

static int row_cb(const struct dp_policy_row *r, void *ctx)
{
	struct rows *a = ctx;

	if (r->endpoint != MID)
		return 0;
	if (a->n == sizeof(a->v) / sizeof(a->v[0]))
		return -ENOSPC;
	a->v[a->n] = *r;
	a->v[a->n++].rule_id = 0; /* engine-local numbering: not part of the comparison */
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct dp_policy_row));
}

static void rows_read(struct dp *dp, struct rows *r)
{
	r->n = 0;
	assert_int_equal(dp_policy_foreach(dp, row_cb, r), 0);
	qsort(r->v, r->n, sizeof(r->v[0]), row_cmp);
}

static bool rows_equal(const struct rows *a, const struct rows *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, a->n * sizeof(a->v[0]));
}

/* ---- fixtures ---- */

struct dpfix {
	char bpffs[96];
	struct dp *dp;
};

/* The datapath of the running test, unloaded by teardown even when an assertion failed. */
static struct dpfix *current;

static void dp_fresh_sized(struct dpfix *f, const char *tag, uint32_t policy_max,
			   uint32_t ipcache_max)
{
	struct dp_load_opts o = {.mode = DP_MODE_WORKLOAD, .identity = MID};

	snprintf(f->bpffs, sizeof(f->bpffs), "/sys/fs/bpf/pp-test-safety-%s-%d", tag, getpid());
	o.bpffs = f->bpffs;
	o.policy_max = policy_max;
	o.ipcache_max = ipcache_max;
	dp_unload(f->bpffs);
	current = f;
	assert_int_equal(dp_load(&o), 0);
	assert_int_equal(dp_open(f->bpffs, &f->dp), 0);
}

static void dp_fresh(struct dpfix *f, const char *tag, uint32_t policy_max)
{
	dp_fresh_sized(f, tag, policy_max, 0);
}

static void dp_gone(struct dpfix *f)
{
	dp_close(f->dp);
	dp_unload(f->bpffs);
	current = NULL;
}

static int teardown(void **state)
{
	(void)state;
	if (current)
		dp_gone(current);
	return 0;
}

static int sync_to(struct dp *dp, const struct agent_policy_snapshot *s, char *err, size_t len)
{
	struct agent_policy_sync *ps;
	int rc = agent_policy_sync_new(dp, MID, &ps);

	if (!rc)
		rc = agent_policy_sync_snapshot(ps, s, NULL, err, len);
	agent_policy_sync_free(ps);
	return rc;
}

/* ---- ENOSPC: the reproduction ---- */

static void test_enospc_refused(void **state)
{
	struct agent_policy_snapshot old, big;
	static bool v_before[N_TUPLES], v_after[N_TUPLES];
	static struct rows r_before, r_after;
	static struct dpfix f;
	json_t *sp;
	char err[1024] = "";
	size_t i22 = 0;

	(void)state;
	dp_fresh(&f, "enospc", 64);
	/* Old: peer0 may reach TCP 80, nothing else. */
	snap_init(&old, 1);
	sp = spec_new();
	json_array_append_new(json_object_get(sp, "ingress"),
			      rule(true, 0, json_pack("[o]", port(80, 80, "TCP"))));
	snap_add_policy(&old, "p", sp);
	assert_int_equal(sync_to(f.dp, &old, err, sizeof(err)), 0);
	/* New: peer0 on every port except TCP 22-23 (a trie key), plus ~100 trie fillers
	 * from peer1 that overflow the 64-entry trie. */
	snap_init(&big, 1);
	sp = spec_new();
	json_array_append_new(json_object_get(sp, "ingress"), rule(true, 0, NULL));
	json_array_append_new(json_object_get(sp, "ingressDeny"),
			      rule(true, 0, json_pack("[o]", port(22, 23, "TCP"))));
	json_array_append_new(json_object_get(sp, "ingress"),
			      rule(true, 1, filler_ports(1000, 100, "TCP")));
	snap_add_policy(&big, "p", sp);

	verdicts(f.dp, v_before);
	rows_read(f.dp, &r_before);
	for (int run = 0; run < 2; run++) { /* and every re-run the same way */
		err[0] = '\0';
		assert_int_equal(sync_to(f.dp, &big, err, sizeof(err)), -ENOSPC);
		assert_non_null(strstr(err, "does not fit"));
		assert_non_null(strstr(err, "old policy stays in force"));
		verdicts(f.dp, v_after);
		rows_read(f.dp, &r_after);
		assert_true(rows_equal(&r_before, &r_after)); /* nothing written */
		assert_memory_equal(v_before, v_after, sizeof(v_before));
	}
	/* peer0 -> TCP 22, ingress: both policies deny it, and so do the maps. */
	while (sample_ports[i22] != 22)
		i22++;
	assert_false(v_after[i22]);
	printf("refused as a whole: %s\n", err);
	agent_policy_snapshot_free(&old);
	agent_policy_snapshot_free(&big);
	dp_gone(&f);
}

/* ---- ENOSPC on the watch-event path ---- */

/* The same overflowing policy arriving as a watch event (the engine's incremental changes,
 * agent_policy_sync_changes()): refused as a whole before the first write, like the
 * snapshot path, so the maps never hold the new allow without its deny. */
static void test_enospc_refused_incremental(void **state)
{
	struct agent_policy_snapshot old, big;
	static bool v_before[N_TUPLES], v_after[N_TUPLES];
	static struct rows r_before, r_after;
	static struct dpfix f;
	struct agent_policy_sync *ps;
	struct policy_changes ch = {0};
	json_t *sp;
	char err[1024] = "";

	(void)state;
	dp_fresh(&f, "enospc-inc", 64);
	snap_init(&old, 1);
	sp = spec_new();
	json_array_append_new(json_object_get(sp, "ingress"),
			      rule(true, 0, json_pack("[o]", port(80, 80, "TCP"))));
	snap_add_policy(&old, "p", sp);
	assert_int_equal(agent_policy_sync_new(f.dp, MID, &ps), 0);
	assert_int_equal(agent_policy_sync_snapshot(ps, &old, NULL, err, sizeof(err)), 0);
	snap_init(&big, 1);
	sp = spec_new();
	json_array_append_new(json_object_get(sp, "ingress"), rule(true, 0, NULL));
	json_array_append_new(json_object_get(sp, "ingressDeny"),
			      rule(true, 0, json_pack("[o]", port(22, 23, "TCP"))));
	json_array_append_new(json_object_get(sp, "ingress"),
			      rule(true, 1, filler_ports(1000, 100, "TCP")));
	snap_add_policy(&big, "p", sp);

	verdicts(f.dp, v_before);
	rows_read(f.dp, &r_before);
	assert_int_equal(policy_engine_policy_set(agent_policy_engine(ps), "prod/p",
						  big.policies[0].object, &ch, err, sizeof(err)),
			 0);
	err[0] = '\0';
	assert_int_equal(agent_policy_sync_changes(ps, &ch, NULL, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "does not fit"));
	verdicts(f.dp, v_after);
	rows_read(f.dp, &r_after);
	assert_true(rows_equal(&r_before, &r_after)); /* nothing written */
	assert_memory_equal(v_before, v_after, sizeof(v_before));
	printf("incremental change refused as a whole: %s\n", err);
	policy_changes_free(&ch);
	agent_policy_sync_free(ps);
	agent_policy_snapshot_free(&old);
	agent_policy_snapshot_free(&big);
	dp_gone(&f);
}

static int count_cb(const struct dp_ipcache_entry *e, void *ctx)
{
	(void)e;
	(*(size_t *)ctx)++;
	return 0;
}

static size_t ipcache_walked(struct dp *dp)
{
	size_t n = 0;

	assert_int_equal(dp_ipcache_foreach(dp, count_cb, &n), 0);
	return n;
}

static void ipc_set(struct agent_policy_sync *ps, const char *cidr, uint32_t id, int want)
{
	struct store_ipcache r = {.identity = id};
	char err[512] = "";

	snprintf(r.cidr, sizeof(r.cidr), "%s", cidr);
	assert_int_equal(agent_policy_ipcache_set(ps, &r, err, sizeof(err)), want);
	if (want == -ENOSPC)
		assert_non_null(strstr(err, "does not fit"));
}

/* ipcache watch events: the running count (what `status` shows) matches a walk of the
 * maps after adds, replacements and removals, and a full map refuses a new prefix with a
 * clear error while a replacement still goes in. */
static void test_ipcache_count_and_capacity(void **state)
{
	struct agent_policy_snapshot old;
	static struct dpfix f;
	struct agent_policy_sync *ps;
	char err[512];
	size_t n = 0;

	(void)state;
	dp_fresh_sized(&f, "ipc-count", 0, N_PEERS + 4); /* the snapshot's N_PEERS + 1 fit */
	snap_init(&old, 0);
	assert_int_equal(agent_policy_sync_new(f.dp, MID, &ps), 0);
	assert_int_equal(agent_policy_sync_snapshot(ps, &old, NULL, err, sizeof(err)), 0);
	assert_int_equal(agent_policy_ipcache_count(ps, &n), 0);
	assert_int_equal(n, N_PEERS + 1);
	assert_int_equal(n, ipcache_walked(f.dp));

	ipc_set(ps, "10.98.0.1/32", MID + 1, 0);
	ipc_set(ps, "10.98.0.2/32", MID + 2, 0);
	ipc_set(ps, "10.98.0.1/32", MID + 3, 0); /* replaced: no new entry */
	ipc_set(ps, "10.98.0.3/32", MID + 1, 0); /* the map is full now */
	assert_int_equal(agent_policy_ipcache_count(ps, &n), 0);
	assert_int_equal(n, N_PEERS + 4);
	assert_int_equal(n, ipcache_walked(f.dp));
	ipc_set(ps, "10.98.0.4/32", MID + 1, -ENOSPC);
	ipc_set(ps, "10.98.0.2/32", MID + 4, 0); /* a replacement still fits */
	assert_int_equal(agent_policy_ipcache_remove(ps, "10.98.0.1/32", err, sizeof(err)), 0);
	assert_int_equal(agent_policy_ipcache_count(ps, &n), 0);
	assert_int_equal(n, N_PEERS + 3);
	assert_int_equal(n, ipcache_walked(f.dp));
	ipc_set(ps, "10.98.0.4/32", MID + 1, 0);
	ipc_set(ps, "10.98.0.0/24", MID + 5, 0); /* the trie has its own room */
	assert_int_equal(agent_policy_ipcache_count(ps, &n), 0);
	assert_int_equal(n, ipcache_walked(f.dp));
	agent_policy_sync_free(ps);
	agent_policy_snapshot_free(&old);
	dp_gone(&f);
}

/* ---- kill -9 at random points ---- */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Starts a sync to s in a child (its own handle, as a separate process would have). */
static pid_t sync_child(const char *bpffs, const struct agent_policy_snapshot *s)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct dp *dp;
		char err[512];

		if (dp_open(bpffs, &dp))
			_exit(2);
		_exit(sync_to(dp, s, err, sizeof(err)) ? 1 : 0);
	}
	return pid;
}

static void test_kill_random(void **state)
{
	struct agent_policy_snapshot sa, sb;
	const struct agent_policy_snapshot *snap[2] = {&sa, &sb};
	static bool v[2][N_TUPLES], now[N_TUPLES];
	static struct rows r[2], cur;
	unsigned killed_mid = 0, both_deny = 0, both_allow = 0;
	double t0, dur;
	static struct dpfix f;
	char err[1024] = "";
	int status;

	(void)state;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	dp_fresh(&f, "kill", 0);
	snap_init(&sa, 1);
	snap_policy_a(&sa);
	snap_init(&sb, 1);
	snap_policy_b(&sb);
	for (int x = 1; x >= 0; x--) { /* reference verdicts and keys of each; ends on A */
		assert_int_equal(sync_to(f.dp, snap[x], err, sizeof(err)), 0);
		verdicts(f.dp, v[x]);
		rows_read(f.dp, &r[x]);
	}
	/* B -> A then A again changes nothing: the writer's reference counts are right even
	 * where a new trie key lies inside an old wider one (a trie lookup is a longest-prefix
	 * match; the writer once took the wider key's count for the new key's). */
	assert_int_equal(sync_to(f.dp, &sa, err, sizeof(err)), 0);
	rows_read(f.dp, &cur);
	assert_true(rows_equal(&cur, &r[0]));
	for (size_t t = 0; t < N_TUPLES; t++) {
		both_deny += !v[0][t] && !v[1][t];
		both_allow += v[0][t] && v[1][t];
	}
	assert_true(both_deny > 100 && both_allow > 100 && r[0].n > 1000 && r[1].n > 2000);
	t0 = now_us(); /* how long one full switch takes in a child: the kill window */
	waitpid(sync_child(f.bpffs, &sb), &status, 0);
	dur = now_us() - t0;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(sync_to(f.dp, &sa, err, sizeof(err)), 0);

	for (int it = 0; it < KILL_ITERATIONS; it++) {
		int from = it % 2, to = 1 - from;
		pid_t pid = sync_child(f.bpffs, snap[to]);
		struct timespec d = {0, (long)(1000.0 * dur * (rand() / (double)RAND_MAX))};

		nanosleep(&d, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		verdicts(f.dp, now);
		rows_read(f.dp, &cur);
		if (WIFSIGNALED(status) && !rows_equal(&cur, &r[0]) && !rows_equal(&cur, &r[1]))
			killed_mid++;
		for (size_t t = 0; t < N_TUPLES; t++) {
			if (!v[0][t] && !v[1][t] && now[t])
				fail_msg("iteration %d: tuple %zu allowed, both policies deny it",
					 it, t);
			if (v[0][t] && v[1][t] && !now[t])
				fail_msg("iteration %d: tuple %zu dropped, both policies allow it",
					 it, t);
		}
		/* A new process completes the switch from whatever was left. */
		assert_int_equal(sync_to(f.dp, snap[to], err, sizeof(err)), 0);
		rows_read(f.dp, &cur);
		assert_true(rows_equal(&cur, &r[to]));
		verdicts(f.dp, now);
		assert_memory_equal(now, v[to], sizeof(now));
	}
	printf("%d kills over a %.0f us switch of %zu <-> %zu keys: %u left a half-written "
	       "map; %u tuples checked each time (%u both deny, %u both allow)\n",
	       KILL_ITERATIONS, dur, r[0].n, r[1].n, killed_mid, (unsigned)N_TUPLES, both_deny,
	       both_allow);
	assert_true(killed_mid >= KILL_ITERATIONS / 10); /* the kills did land mid-write */
	agent_policy_snapshot_free(&sa);
	agent_policy_snapshot_free(&sb);
	dp_gone(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_enospc_refused, teardown),
	    cmocka_unit_test_teardown(test_enospc_refused_incremental, teardown),
	    cmocka_unit_test_teardown(test_ipcache_count_and_capacity, teardown),
	    cmocka_unit_test_teardown(test_kill_random, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_agent_sync_safety: needs root (BPF maps)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

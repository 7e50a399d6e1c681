// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of agent/policy_diff.c. The policy-key diff is checked against a model of
 * the datapath's map writer (keys with reference counts, built with the same
 * dp_policy_expand()): for random "old" and "new" entry lists, applying diff(new, map(old))
 * to map(old) must give exactly map(new), keys and reference counts, whatever the overlaps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/policy_sync.h"
#include "store/store.h"
#include "policy/engine.h"

#define EP 300u

static struct policy_entry ent(uint32_t id, int dir, int proto, int lo, int hi, int deny,
			       uint32_t rule)
{
	struct policy_entry e = {.identity = id,
				 .direction = (uint8_t)dir,
				 .proto = (uint8_t)proto,
				 .deny = (uint8_t)deny,
				 .port_lo = (uint16_t)lo,
				 .port_hi = (uint16_t)hi,
				 .rule_id = rule};
	return e;
}

/* ---- ipcache mapping ---- */

static void test_ipcache_from_store(void **state)
{
	struct store_ipcache r = {.cidr = "10.200.1.5/32", .identity = 300};
	struct dp_ipcache_entry e;
	char err[256], buf[128];

	(void)state;
	assert_true(agent_policy_ipcache_from_store(&r, &e, err, sizeof(err)));
	assert_int_equal(e.family, 4);
	assert_int_equal(e.plen, 32);
	assert_int_equal(e.identity, 300);
	assert_int_equal(e.tunnel_ipv4, 0);
	assert_int_equal(e.flags, 0);
	assert_memory_equal(e.addr, "\x0a\xc8\x01\x05", 4);

	r.kind = STORE_IPCACHE_WORKLOAD;
	snprintf(r.gateway, sizeof(r.gateway), "192.168.1.7");
	assert_true(agent_policy_ipcache_from_store(&r, &e, err, sizeof(err)));
	assert_int_equal(e.flags, DP_IPC_F_WORKLOAD);
	assert_int_equal(e.tunnel_ipv4, inet_addr("192.168.1.7"));
	assert_string_equal(agent_policy_ipcache_format(&e, buf, sizeof(buf)),
			    "10.200.1.5/32 -> 300 via 192.168.1.7 workload");

	/* Tunnel endpoints are IPv4: an IPv6 gateway is refused with the key named. */
	snprintf(r.gateway, sizeof(r.gateway), "fd00::1");
	assert_false(agent_policy_ipcache_from_store(&r, &e, err, sizeof(err)));
	assert_non_null(strstr(err, "ipcache/10.200.1.5/32"));
	assert_non_null(strstr(err, "gateway"));

	r.gateway[0] = '\0';
	snprintf(r.cidr, sizeof(r.cidr), "fd00:10::/64");
	assert_true(agent_policy_ipcache_from_store(&r, &e, err, sizeof(err)));
	assert_int_equal(e.family, 6);
	assert_int_equal(e.plen, 64);

	snprintf(r.cidr, sizeof(r.cidr), "10.0.0.0/40");
	assert_false(agent_policy_ipcache_from_store(&r, &e, err, sizeof(err)));
	assert_non_null(strstr(err, "10.0.0.0/40"));
}

static void test_ipcache_from_cidr(void **state)
{
	struct policy_cidr_identity c = {.identity = (1u << 24) | 3};
	struct dp_ipcache_entry e;

	(void)state;
	c.cidr.family = AF_INET;
	c.cidr.len = 24;
	memcpy(c.cidr.addr, "\x0a\x63\x00\x00", 4);
	agent_policy_ipcache_from_cidr(&c, &e);
	assert_int_equal(e.family, 4);
	assert_int_equal(e.plen, 24);
	assert_int_equal(e.identity, (1u << 24) | 3);
	assert_memory_equal(e.addr, "\x0a\x63\x00\x00", 4);
	c.cidr.family = AF_INET6;
	c.cidr.len = 48;
	agent_policy_ipcache_from_cidr(&c, &e);
	assert_int_equal(e.family, 6);
	assert_int_equal(e.plen, 48);
}

/* ---- ipcache diff ---- */

static struct dp_ipcache_entry ipc(const char *cidr, uint32_t id, uint32_t tun)
{
	struct dp_ipcache_entry e = {0};
	char why[64];

	assert_true(dp_parse_cidr(cidr, &e, why, sizeof(why)));
	e.identity = id;
	e.tunnel_ipv4 = tun;
	return e;
}

static bool has(const struct dp_ipcache_entry *v, size_t n, const char *cidr, uint32_t id)
{
	struct dp_ipcache_entry k = ipc(cidr, id, 0);

	for (size_t i = 0; i < n; i++)
		if (v[i].family == k.family && v[i].plen == k.plen &&
		    !memcmp(v[i].addr, k.addr, 16) && v[i].identity == id)
			return true;
	return false;
}

static void test_ipcache_diff(void **state)
{
	struct dp_ipcache_entry want[] = {
	    ipc("10.0.0.1/32", 300, 0), /* same */
	    ipc("10.0.0.2/32", 401, 0), /* identity changed */
	    ipc("10.0.0.3/32", 300, 7), /* tunnel changed */
	    ipc("10.1.0.0/16", 500, 0), /* new */
	    ipc("10.0.0.1/32", 999, 0), /* duplicate prefix: the earlier one wins */
	    ipc("10.0.0.9/32", 999, 0), /* held: its store record is malformed */
	};
	struct dp_ipcache_entry have[] = {
	    ipc("10.0.0.1/32", 300, 0), ipc("10.0.0.2/32", 400, 0),
	    ipc("10.0.0.3/32", 300, 0), ipc("10.0.0.4/32", 300, 0), /* stale */
	    ipc("10.0.0.9/32", 301, 0),				    /* held */
	    ipc("10.0.0.8/32", 302, 0),				    /* held, not wanted */
	};
	struct dp_ipcache_entry keep[] = {ipc("10.0.0.9/32", 0, 0), ipc("10.0.0.8/32", 0, 0),
					  ipc("10.0.0.7/32", 0, 0)};
	struct agent_ipcache_diff d;

	(void)state;
	assert_int_equal(agent_policy_ipcache_diff(want, 6, have, 6, keep, 3, &d), 0);
	assert_int_equal(d.n_add, 1);
	assert_true(has(d.add, d.n_add, "10.1.0.0/16", 500));
	assert_int_equal(d.n_change, 2);
	assert_true(has(d.change, d.n_change, "10.0.0.2/32", 401));
	assert_true(has(d.change, d.n_change, "10.0.0.3/32", 300));
	assert_int_equal(d.n_del, 1);
	assert_true(has(d.del, d.n_del, "10.0.0.4/32", 300));
	assert_int_equal(d.n_same, 3); /* .1, and the two held ones */
	agent_ipcache_diff_free(&d);

	/* Same input twice: nothing to do. Empty maps: everything is an add. */
	assert_int_equal(agent_policy_ipcache_diff(have, 6, have, 6, NULL, 0, &d), 0);
	assert_int_equal(d.n_add + d.n_change + d.n_del, 0);
	assert_int_equal(d.n_same, 6);
	agent_ipcache_diff_free(&d);
	assert_int_equal(agent_policy_ipcache_diff(want, 4, NULL, 0, NULL, 0, &d), 0);
	assert_int_equal(d.n_add, 4);
	agent_ipcache_diff_free(&d);
}

/* ---- policy rows -> entries ---- */

static void test_row_entry(void **state)
{
	struct dp_policy_row r = {.endpoint = EP, .identity = 400, .dir = 0, .refcnt = 1};
	struct policy_entry e;

	(void)state;
	assert_true(agent_policy_row_entry(&r, &e)); /* any protocol */
	assert_int_equal(e.proto, 0);
	assert_int_equal(e.port_lo + e.port_hi, 0);
	r.proto = IPPROTO_TCP;
	assert_true(agent_policy_row_entry(&r, &e)); /* any port */
	assert_int_equal(e.port_lo + e.port_hi, 0);
	r.port_bits = 16;
	r.port = 8080;
	assert_true(agent_policy_row_entry(&r, &e));
	assert_int_equal(e.port_lo, 8080);
	assert_int_equal(e.port_hi, 8080);
	r.port_bits = 13; /* 80/13 = 80..87 */
	r.port = 80;
	assert_true(agent_policy_row_entry(&r, &e));
	assert_int_equal(e.port_lo, 80);
	assert_int_equal(e.port_hi, 87);
	r.port = 81; /* not aligned: no entry makes that key */
	assert_false(agent_policy_row_entry(&r, &e));
	r.port = 0;
	r.port_bits = 16; /* single port 0 would read as "any port" */
	assert_false(agent_policy_row_entry(&r, &e));
	r.proto = 0;
	r.port_bits = 8;
	assert_false(agent_policy_row_entry(&r, &e));
	r.proto = IPPROTO_ICMP;
	r.port_bits = 16;
	r.port = 8;
	assert_true(agent_policy_row_entry(&r, &e));
	assert_int_equal(e.port_lo, 8);
	r.port_bits = 15; /* ICMP: one type only */
	assert_false(agent_policy_row_entry(&r, &e));
}

/* ---- a model of the map writer ---- */

struct mkey {
	struct dp_policy_key key;
	uint32_t refcnt, rule_id;
};
struct model {
	struct mkey k[4096];
	size_t n;
};

static struct mkey *model_find(struct model *m, const struct dp_policy_key *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (!memcmp(&m->k[i].key, k, sizeof(*k)))
			return &m->k[i];
	return NULL;
}

/* dp_policy_apply()'s bookkeeping: deletions first, then additions, reference counted. */
static void model_apply(struct model *m, uint32_t ep, const struct policy_entry *add, size_t n_add,
			const struct policy_entry *del, size_t n_del)
{
	struct dp_policy_key keys[32];

	for (size_t i = 0; i < n_del; i++) {
		int n = dp_policy_expand(ep, &del[i], keys, 32);

		assert_true(n > 0);
		for (int j = 0; j < n; j++) {
			struct mkey *k = model_find(m, &keys[j]);

			if (!k)
				continue;
			if (--k->refcnt == 0)
				*k = m->k[--m->n];
		}
	}
	for (size_t i = 0; i < n_add; i++) {
		int n = dp_policy_expand(ep, &add[i], keys, 32);

		assert_true(n > 0);
		for (int j = 0; j < n; j++) {
			struct mkey *k = model_find(m, &keys[j]);

			if (k) {
				k->refcnt++;
				continue;
			}
			assert_true(m->n < 4096);
			m->k[m->n].key = keys[j];
			m->k[m->n].refcnt = 1;
			m->k[m->n++].rule_id = add[i].rule_id;
		}
	}
}

static size_t model_rows(const struct model *m, struct dp_policy_row *rows)
{
	for (size_t i = 0; i < m->n; i++)
		dp_policy_key_row(&m->k[i].key, (uint16_t)m->k[i].refcnt, m->k[i].rule_id,
				  &rows[i]);
	return m->n;
}

static void model_assert_equal(const struct model *a, const struct model *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct mkey *k = model_find((struct model *)b, &a->k[i].key);

		assert_non_null(k);
		assert_int_equal(k->refcnt, a->k[i].refcnt);
	}
}

static struct policy_entry random_entry(unsigned int *seed)
{
	static const uint32_t ids[] = {0, 256, 257, 258, (1u << 24) | 1};
	static const uint8_t protos[] = {0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
	struct policy_entry e =
	    ent(ids[rand_r(seed) % 5], rand_r(seed) % 2, protos[rand_r(seed) % 4], 0, 0,
		rand_r(seed) % 4 == 0, 1 + rand_r(seed) % 20);

	if (e.proto == IPPROTO_ICMP) {
		e.port_lo = e.port_hi = (uint16_t)(rand_r(seed) % 3 ? 8 : 0);
	} else if (e.proto && rand_r(seed) % 3) {
		/* overlapping small ranges around a few ports share keys */
		e.port_lo = (uint16_t)(75 + rand_r(seed) % 20);
		e.port_hi = (uint16_t)(e.port_lo + (rand_r(seed) % 3 ? 0 : rand_r(seed) % 40));
	}
	return e;
}

static void test_policy_diff_model(void **state)
{
	static struct model old_m, new_m, other;
	static struct dp_policy_row rows[4096 + 8];
	struct policy_entry a[40], b[40];
	unsigned int seed = 12345;
	char err[256];

	(void)state;
	for (int round = 0; round < 300; round++) {
		size_t na = (size_t)(rand_r(&seed) % 40), nb = (size_t)(rand_r(&seed) % 40), nr;
		struct agent_policy_diff d;

		for (size_t i = 0; i < na; i++)
			a[i] = random_entry(&seed);
		for (size_t i = 0; i < nb; i++)
			b[i] = random_entry(&seed);
		memset(&old_m, 0, sizeof(old_m));
		memset(&new_m, 0, sizeof(new_m));
		model_apply(&old_m, EP, a, na, NULL, 0);
		model_apply(&new_m, EP, b, nb, NULL, 0);
		nr = model_rows(&old_m, rows);
		/* another endpoint's keys in the same map are not ours to touch */
		memset(&other, 0, sizeof(other));
		model_apply(&other, EP + 1, b, nb > 3 ? 3 : nb, NULL, 0);
		nr += model_rows(&other, rows + nr);

		assert_int_equal(
		    agent_policy_policy_diff(EP, b, nb, rows, nr, &d, err, sizeof(err)), 0);
		/* The sync's order: additions, then removals. */
		model_apply(&old_m, EP, d.add, d.n_add, NULL, 0);
		model_apply(&old_m, EP, NULL, 0, d.del, d.n_del);
		model_assert_equal(&old_m, &new_m);
		assert_int_equal(d.keys_want, new_m.n);
		assert_int_equal(d.keys_added + d.keys_same + d.keys_recount, new_m.n);
		agent_policy_diff_free(&d);

		/* And once the map is right, the diff is empty. */
		nr = model_rows(&new_m, rows);
		assert_int_equal(
		    agent_policy_policy_diff(EP, b, nb, rows, nr, &d, err, sizeof(err)), 0);
		assert_int_equal(d.n_add + d.n_del, 0);
		assert_int_equal(d.keys_same, new_m.n);
		agent_policy_diff_free(&d);
	}
}

static void test_policy_diff_cases(void **state)
{
	struct policy_entry want[] = {
	    ent(400, 0, IPPROTO_TCP, 8080, 8080, 0, 7),
	    ent(400, 0, IPPROTO_TCP, 8080, 8081, 0, 8), /* one aligned block: 8080/15 */
	    ent(0, 1, 0, 0, 0, 0, 0),
	};
	struct dp_policy_row have[] = {
	    /* 8080/16 from an older rule id 3: kept, renamed after rule 7 */
	    {.endpoint = EP,
	     .identity = 400,
	     .dir = 0,
	     .proto = IPPROTO_TCP,
	     .port_bits = 16,
	     .port = 8080,
	     .refcnt = 1,
	     .rule_id = 3},
	    /* stale */
	    {.endpoint = EP,
	     .identity = 401,
	     .dir = 0,
	     .proto = IPPROTO_TCP,
	     .port_bits = 16,
	     .port = 22,
	     .refcnt = 2,
	     .rule_id = 4},
	};
	struct dp_policy_row bogus = {.endpoint = EP,
				      .identity = 1,
				      .proto = IPPROTO_TCP,
				      .port_bits = 16,
				      .port = 0,
				      .refcnt = 1};
	struct policy_entry invalid = ent(400, 0, 0, 80, 80, 0, 1); /* ports without proto */
	struct agent_policy_diff d;
	char err[256];

	(void)state;
	assert_int_equal(agent_policy_policy_diff(EP, want, 3, have, 2, &d, err, sizeof(err)), 0);
	assert_int_equal(d.keys_want, 3);  /* 8080/16, 8080/15, egress any */
	assert_int_equal(d.keys_added, 2); /* 8080/15 and egress any */
	assert_int_equal(d.keys_same, 1);
	assert_int_equal(d.keys_removed, 1);
	assert_int_equal(d.n_del, 2); /* refcount 2: removed twice */
	assert_int_equal(d.n_relabel, 1);
	assert_int_equal(d.relabel[0].rule_id, 7);
	agent_policy_diff_free(&d);

	assert_int_equal(agent_policy_policy_diff(EP, &invalid, 1, NULL, 0, &d, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not valid"));
	assert_int_equal(agent_policy_policy_diff(EP, want, 3, &bogus, 1, &d, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "matches no valid entry"));
}

/* ---- the write order: no flow both policies agree on changes verdict midway ---- */

/* The datapath's verdict (bpf/lib/policy.h) over a model map: not enforced -> allow; any
 * deny key covering the packet -> drop; any allow key -> allow; else drop. */
static bool key_covers(const struct dp_policy_key *k, uint32_t id, int dir, int proto, int port)
{
	uint32_t kid = ntohl(k->identity);
	unsigned int bits;

	if ((kid && kid != id) || k->dir != dir)
		return false;
	if (k->prefixlen == DP_POL_PREFIX_EXACT)
		return true;
	if (k->proto != proto)
		return false;
	bits = k->prefixlen - DP_POL_PREFIX_PROTO;
	return !bits || (port >> (16 - bits)) == (ntohs(k->port) >> (16 - bits));
}

static bool verdict(const struct model *m, uint32_t flags, uint32_t id, int dir, int proto,
		    int port)
{
	bool allow = false;

	if (!(flags & (dir ? DP_EP_F_ENFORCE_EGRESS : DP_EP_F_ENFORCE_INGRESS)))
		return true;
	for (size_t i = 0; i < m->n; i++) {
		if (!key_covers(&m->k[i].key, id, dir, proto, port))
			continue;
		if (m->k[i].key.deny)
			return false;
		allow = true;
	}
	return allow;
}

/* Entries shaped like the engine's: per direction either not enforced (allow-all plus
 * some denies) or enforced (rules, maybe none). */
static size_t engine_like(unsigned int *seed, struct policy_entry *e, bool enforced[2])
{
	size_t n = 0;

	for (int dir = 0; dir < 2; dir++) {
		size_t k = (size_t)(rand_r(seed) % 8);

		enforced[dir] = rand_r(seed) % 3 != 0;
		if (!enforced[dir])
			e[n++] = ent(0, dir, 0, 0, 0, 0, 0);
		for (size_t i = 0; i < k; i++) {
			struct policy_entry r = random_entry(seed);

			r.direction = (uint8_t)dir;
			if (!enforced[dir])
				r.deny = 1;
			e[n++] = r;
		}
	}
	return n;
}

/* Every tuple both policies agree on has that verdict in state m with flags f. */
static void check_agreed(const struct model *s0, uint32_t fa, const struct model *s3, uint32_t fb,
			 const struct model *m, uint32_t f)
{
	static const uint32_t ids[] = {256, 257, 258, 259, (1u << 24) | 1, 2};
	static const int protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47};

	for (size_t i = 0; i < 6; i++)
		for (int dir = 0; dir < 2; dir++)
			for (size_t p = 0; p < 4; p++)
				for (int port = 70; port < 100; port += 3) {
					int proto = protos[p];
					int pt = proto == IPPROTO_ICMP ? 8 : port;
					bool v0 = verdict(s0, fa, ids[i], dir, proto, pt);

					if (v0 == verdict(s3, fb, ids[i], dir, proto, pt))
						assert_true(verdict(m, f, ids[i], dir, proto, pt) ==
							    v0);
				}
}

/*
 * The write order of policy_sync (agent_policy_write_order: deny additions, allow
 * additions, flags, allow removals, deny removals), stopped after EVERY single key write —
 * a failed write or a kill can leave any of these states: the tuples both policies agree on
 * keep their verdict in each. Writing allows before denies (the order before issue 10) fails
 * this.
 */
static void test_write_order_union(void **state)
{
	static struct model s0, s3, m;
	static struct dp_policy_row rows[4096];
	static struct policy_entry ord[4096];
	struct policy_entry a[20], b[20];
	unsigned int seed = 777;
	char err[256];

	(void)state;
	for (int round = 0; round < 300; round++) {
		bool ea[2], eb[2];
		size_t na = engine_like(&seed, a, ea), nb = engine_like(&seed, b, eb), nr;
		uint32_t fa = agent_policy_enforce_flags(a, na, ea[0], ea[1]);
		uint32_t fb = agent_policy_enforce_flags(b, nb, eb[0], eb[1]);
		struct agent_policy_diff d;

		memset(&s0, 0, sizeof(s0));
		memset(&s3, 0, sizeof(s3));
		model_apply(&s0, EP, a, na, NULL, 0);
		model_apply(&s3, EP, b, nb, NULL, 0);
		nr = model_rows(&s0, rows);
		assert_int_equal(
		    agent_policy_policy_diff(EP, b, nb, rows, nr, &d, err, sizeof(err)), 0);
		assert_true(d.n_add <= 4096 && d.n_del <= 4096);
		m = s0;
		agent_policy_write_order(d.add, d.n_add, true, ord);
		for (size_t k = 0; k <= d.n_add; k++) { /* additions, old flags */
			check_agreed(&s0, fa, &s3, fb, &m, fa);
			if (k < d.n_add)
				model_apply(&m, EP, &ord[k], 1, NULL, 0);
		}
		agent_policy_write_order(d.del, d.n_del, false, ord);
		for (size_t k = 0; k <= d.n_del; k++) { /* removals, new flags */
			check_agreed(&s0, fa, &s3, fb, &m, fb);
			if (k < d.n_del)
				model_apply(&m, EP, NULL, 0, &ord[k], 1);
		}
		agent_policy_diff_free(&d);
	}
}

/* ---- enforcement flags ---- */

static void test_enforce_flags(void **state)
{
	const uint32_t IN = DP_EP_F_ENFORCE_INGRESS, EG = DP_EP_F_ENFORCE_EGRESS;
	struct policy_entry allow_all_both[] = {ent(0, 0, 0, 0, 0, 0, 0), ent(0, 1, 0, 0, 0, 0, 0)};
	struct policy_entry in_rules[] = {ent(400, 0, IPPROTO_TCP, 80, 80, 0, 1),
					  ent(0, 1, 0, 0, 0, 0, 0)};
	struct policy_entry deny_unenforced[] = {ent(0, 0, 0, 0, 0, 0, 0),
						 ent(401, 0, IPPROTO_TCP, 22, 22, 1, 2),
						 ent(0, 1, 0, 0, 0, 0, 0)};
	struct policy_entry egress_only[] = {ent(0, 0, 0, 0, 0, 0, 0)};

	(void)state;
	/* No policy: nothing enforced, the datapath's "not enforced" is the same verdict. */
	assert_int_equal(agent_policy_enforce_flags(allow_all_both, 2, false, false), 0);
	/* A policy that enforces and allows everything: flag on (the match type says so). */
	assert_int_equal(agent_policy_enforce_flags(allow_all_both, 2, true, false), IN);
	assert_int_equal(agent_policy_enforce_flags(in_rules, 2, true, false), IN);
	/* Deny rules in an unenforced direction only apply through the flag. */
	assert_int_equal(agent_policy_enforce_flags(deny_unenforced, 3, false, false), IN);
	/* Enforced with no rules at all (deny all): on, even without entries. */
	assert_int_equal(agent_policy_enforce_flags(egress_only, 1, false, true), EG);
	/* Never clear a direction whose entries are not exactly allow-all, whatever the
	 * engine says (an empty direction means deny all). */
	assert_int_equal(agent_policy_enforce_flags(egress_only, 1, false, false), EG);
	assert_int_equal(agent_policy_enforce_flags(NULL, 0, false, false), IN | EG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipcache_from_store), cmocka_unit_test(test_ipcache_from_cidr),
	    cmocka_unit_test(test_ipcache_diff),       cmocka_unit_test(test_row_entry),
	    cmocka_unit_test(test_policy_diff_cases),  cmocka_unit_test(test_policy_diff_model),
	    cmocka_unit_test(test_enforce_flags),      cmocka_unit_test(test_write_order_union),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

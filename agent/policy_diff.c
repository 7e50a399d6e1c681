// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_diff: the pure half of agent/policy_sync — store records and engine CIDR
 * identities to ipcache entries, desired-versus-current diffs of the ipcache and of an
 * endpoint's policy keys, and the enforcement-flag mapping. No I/O: unit-tested.
 *
 * The policy diff works on map KEYS with reference counts, not on entries: the map holds
 * keys (a port range is several aligned blocks, two entries may share a key), and what was
 * written before us — by an earlier run, an older version or pp-datapath — is only known
 * as keys. Every key is expressible as one entry (an aligned block is a range), so the
 * diff is a list of single-key entries dp_policy_apply() can write.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/policy_sync.h"
#include "lib/net.h"
#include "store/store.h"
#include "policy/compile.h"
#include "policy/engine.h"

bool agent_policy_ipcache_from_store(const struct store_ipcache *r, struct dp_ipcache_entry *out,
				     char *err, size_t err_len)
{
	char why[128];

	memset(out, 0, sizeof(*out));
	if (!dp_parse_cidr(r->cidr, out, why, sizeof(why))) {
		snprintf(err, err_len, "ipcache/%s: cidr: %s", r->cidr, why);
		return false;
	}
	out->identity = r->identity;
	out->flags = r->kind == STORE_IPCACHE_WORKLOAD ? DP_IPC_F_WORKLOAD : 0;
	if (r->gateway[0]) {
		struct net_prefix a;

		/* The datapath's tunnel endpoints are IPv4 (the VXLAN underlay). */
		if (!net_ip_parse(r->gateway, AF_INET, &a, NULL, 0)) {
			snprintf(err, err_len,
				 "ipcache/%s: gateway: '%s' is not an IPv4 address (tunnel "
				 "endpoints are IPv4)",
				 r->cidr, r->gateway);
			return false;
		}
		memcpy(&out->tunnel_ipv4, a.addr, 4);
	}
	return true;
}

void agent_policy_ipcache_from_cidr(const struct policy_cidr_identity *c,
				    struct dp_ipcache_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->family = c->cidr.family == AF_INET6 ? 6 : 4;
	out->plen = c->cidr.len;
	memcpy(out->addr, c->cidr.addr, out->family == 4 ? 4 : 16);
	out->identity = c->identity;
}

char *agent_policy_ipcache_format(const struct dp_ipcache_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", t[INET_ADDRSTRLEN] = "";
	struct in_addr ta = {.s_addr = e->tunnel_ipv4};

	inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, a, sizeof(a));
	if (e->tunnel_ipv4)
		inet_ntop(AF_INET, &ta, t, sizeof(t));
	snprintf(buf, len, "%s/%u -> %u%s%s%s", a, e->plen, e->identity, t[0] ? " via " : "", t,
		 (e->flags & DP_IPC_F_WORKLOAD) ? " workload" : "");
	return buf;
}

/* ---- ipcache ---- */

/* Prefix identity: family, length and the address bytes (host bits are zero on both sides:
 * store keys are canonical, map keys come from canonical entries). */
static int ipc_key_cmp(const struct dp_ipcache_entry *a, const struct dp_ipcache_entry *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static bool ipc_val_equal(const struct dp_ipcache_entry *a, const struct dp_ipcache_entry *b)
{
	return a->identity == b->identity && a->tunnel_ipv4 == b->tunnel_ipv4 &&
	       a->flags == b->flags;
}

/* Entries are sorted through an index (4 bytes each) rather than copied (32): at 100k
 * entries the diff's own memory is under 1 MB besides what it returns. The index breaks
 * ties, so on a duplicate prefix the earlier entry sorts first. An index counts through
 * part a, then part b (the caller need not concatenate them). */
struct ipc_parts {
	const struct dp_ipcache_entry *a, *b;
	size_t n_a;
};

static const struct dp_ipcache_entry *ipc_at(const struct ipc_parts *p, uint32_t i)
{
	return i < p->n_a ? &p->a[i] : &p->b[i - p->n_a];
}

static int ipc_idx_cmp(const void *a, const void *b, void *arg)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = ipc_key_cmp(ipc_at(arg, x), ipc_at(arg, y));

	return c ? c : x < y ? -1 : x > y;
}

static uint32_t *ipc_index(const struct ipc_parts *p, size_t n)
{
	uint32_t *ix = malloc((n ? n : 1) * sizeof(*ix));

	if (!ix)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ix[i] = (uint32_t)i;
	qsort_r(ix, n, sizeof(*ix), ipc_idx_cmp, (void *)p);
	return ix;
}

/* Drops the later entries of a duplicate prefix from a sorted index ("earlier wins"). */
static size_t ipc_index_unique(const struct ipc_parts *p, uint32_t *ix, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (!m || ipc_key_cmp(ipc_at(p, ix[m - 1]), ipc_at(p, ix[i])))
			ix[m++] = ix[i];
	return m;
}

static bool ipc_in(const struct ipc_parts *set, const uint32_t *ix, size_t n,
		   const struct dp_ipcache_entry *e)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ipc_key_cmp(ipc_at(set, ix[mid]), e);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Appends to a growable output (outputs are as large as the change, not the tables). */
static int ipc_out(struct dp_ipcache_entry **v, size_t *n, size_t *cap,
		   const struct dp_ipcache_entry *e)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct dp_ipcache_entry *p = realloc(*v, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = nc;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

struct ipc_outs {
	size_t cap_add, cap_change, cap_del;
};

/* One step of the merge walk: c < 0 wanted only, c > 0 in the map only, 0 both. */
static int ipc_diff_step(int c, const struct dp_ipcache_entry *w, const struct dp_ipcache_entry *h,
			 bool w_kept, bool h_kept, struct agent_ipcache_diff *out,
			 struct ipc_outs *o)
{
	if (c < 0) /* wanted, not in the map */
		return w_kept ? 0 : ipc_out(&out->add, &out->n_add, &o->cap_add, w);
	if (c > 0) { /* in the map, not wanted */
		if (!h_kept)
			return ipc_out(&out->del, &out->n_del, &o->cap_del, h);
		out->n_same++;
		return 0;
	}
	if (ipc_val_equal(w, h) || h_kept) {
		out->n_same++;
		return 0;
	}
	return ipc_out(&out->change, &out->n_change, &o->cap_change, w);
}

int agent_policy_ipcache_diff_parts(const struct dp_ipcache_entry *want_a, size_t n_a,
				    const struct dp_ipcache_entry *want_b, size_t n_b,
				    const struct dp_ipcache_entry *have, size_t n_have,
				    const struct dp_ipcache_entry *keep, size_t n_keep,
				    struct agent_ipcache_diff *out)
{
	struct ipc_parts pw = {want_a, want_b, n_a}, ph = {have, NULL, n_have},
			 pk = {keep, NULL, n_keep};
	size_t n_want = n_a + n_b, i = 0, j = 0;
	uint32_t *w = NULL, *h = NULL, *k = NULL;
	struct ipc_outs o = {0};
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (n_want > UINT32_MAX || n_have > UINT32_MAX || n_keep > UINT32_MAX)
		return -E2BIG;
	w = ipc_index(&pw, n_want);
	h = ipc_index(&ph, n_have);
	k = ipc_index(&pk, n_keep);
	if (!w || !h || !k)
		goto out;
	n_want = ipc_index_unique(&pw, w, n_want);
	n_have = ipc_index_unique(&ph, h, n_have);
	/* A first sync adds about everything: size for it once instead of doubling into it. */
	if (n_want > n_have) {
		out->add = malloc((n_want - n_have) * sizeof(*out->add));
		o.cap_add = out->add ? n_want - n_have : 0;
	}
	err = 0;
	while (!err && (i < n_want || j < n_have)) {
		const struct dp_ipcache_entry *we = i < n_want ? ipc_at(&pw, w[i]) : NULL;
		const struct dp_ipcache_entry *he = j < n_have ? ipc_at(&ph, h[j]) : NULL;
		int c = !we ? 1 : !he ? -1 : ipc_key_cmp(we, he);

		err = ipc_diff_step(c, we, he, c <= 0 && ipc_in(&pk, k, n_keep, we),
				    c >= 0 && ipc_in(&pk, k, n_keep, he), out, &o);
		i += c <= 0;
		j += c >= 0;
	}
out:
	free(w);
	free(h);
	free(k);
	if (err)
		agent_ipcache_diff_free(out);
	return err;
}

int agent_policy_ipcache_diff(const struct dp_ipcache_entry *want, size_t n_want,
			      const struct dp_ipcache_entry *have, size_t n_have,
			      const struct dp_ipcache_entry *keep, size_t n_keep,
			      struct agent_ipcache_diff *out)
{
	return agent_policy_ipcache_diff_parts(want, n_want, NULL, 0, have, n_have, keep, n_keep,
					       out);
}

void agent_ipcache_diff_free(struct agent_ipcache_diff *d)
{
	free(d->add);
	free(d->change);
	free(d->del);
	memset(d, 0, sizeof(*d));
}

/* ---- policy keys ---- */

bool agent_policy_row_entry(const struct dp_policy_row *r, struct policy_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->identity = r->identity;
	out->direction = r->dir;
	out->deny = r->deny;
	out->proto = r->proto;
	out->rule_id = r->rule_id;
	if (r->port_bits > 16 || (r->proto == POLICY_PROTO_ANY && (r->port_bits || r->port)))
		return false;
	if (r->proto != POLICY_PROTO_ANY && r->port_bits) {
		uint32_t size = 1u << (16 - r->port_bits);

		if (r->port & (size - 1))
			return false;
		/* A single port 0 would read as "any port": no valid entry makes that key. */
		if (r->port == 0 && size == 1)
			return false;
		out->port_lo = r->port;
		out->port_hi = (uint16_t)(r->port + size - 1);
	}
	return dp_policy_entry_valid(out);
}

struct pkey {
	struct dp_policy_key key;
	struct policy_entry entry; /* a single-key entry producing it */
	uint32_t count;
};

static int pkey_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct pkey *)a)->key, &((const struct pkey *)b)->key,
		      sizeof(struct dp_policy_key));
}

/* Sorts and merges equal keys (counts add up, the first entry's rule id is kept). */
static size_t pkey_merge(struct pkey *v, size_t n)
{
	size_t i, m = 0;

	qsort(v, n, sizeof(*v), pkey_cmp);
	for (i = 0; i < n; i++) {
		if (m && !pkey_cmp(&v[m - 1], &v[i]))
			v[m - 1].count += v[i].count;
		else
			v[m++] = v[i];
	}
	return m;
}

static int push_n(struct policy_entry **arr, size_t *n, size_t *cap, const struct policy_entry *e,
		  uint32_t times)
{
	while (times--)
		if (!policy_compile_push(arr, n, cap, e))
			return -ENOMEM;
	return 0;
}

/* The desired entries as single keys (unmerged: a key n entries produce appears n times). */
static int want_keys(uint32_t endpoint, const struct policy_entry *want, size_t n_want,
		     struct pkey **out, size_t *n_out, char *err, size_t err_len)
{
	struct dp_policy_key keys[32];
	struct pkey *w = NULL;
	size_t nw = 0, cap = 0;

	for (size_t i = 0; i < n_want; i++) {
		int n = dp_policy_expand(endpoint, &want[i], keys, 32);

		if (n < 0) {
			snprintf(
			    err, err_len,
			    "engine entry %zu (identity %u, dir %u, proto %u, ports %u-%u, rule "
			    "%u) is not valid for the datapath",
			    i, want[i].identity, want[i].direction, want[i].proto, want[i].port_lo,
			    want[i].port_hi, want[i].rule_id);
			free(w);
			return -EINVAL;
		}
		if (nw + (size_t)n > cap) {
			size_t nc = (cap ? cap * 2 : 64) + (size_t)n;
			struct pkey *p = realloc(w, nc * sizeof(*p));

			if (!p) {
				free(w);
				return -ENOMEM;
			}
			w = p;
			cap = nc;
		}
		for (int k = 0; k < n; k++) {
			struct dp_policy_row r;

			dp_policy_key_row(&keys[k], 1, want[i].rule_id, &r);
			w[nw].key = keys[k];
			w[nw].count = 1;
			if (!agent_policy_row_entry(&r, &w[nw].entry)) {
				snprintf(err, err_len, "internal: key of entry %zu not expressible",
					 i);
				free(w);
				return -EINVAL;
			}
			nw++;
		}
	}
	*out = w;
	*n_out = nw;
	return 0;
}

/* The endpoint's map rows as keys with their reference counts. */
static int have_keys(uint32_t endpoint, const struct dp_policy_row *have, size_t n_have,
		     struct pkey **out, size_t *n_out, char *err, size_t err_len)
{
	struct pkey *h = calloc(n_have ? n_have : 1, sizeof(*h));
	struct dp_policy_key keys[32];
	size_t nh = 0;

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < n_have; i++) {
		if (have[i].endpoint != endpoint)
			continue;
		if (!agent_policy_row_entry(&have[i], &h[nh].entry) ||
		    dp_policy_expand(endpoint, &h[nh].entry, keys, 32) != 1) {
			snprintf(
			    err, err_len,
			    "policy map key of endpoint %u (identity %u, dir %u, deny %u, proto "
			    "%u, port %u/%u) matches no valid entry",
			    endpoint, have[i].identity, have[i].dir, have[i].deny, have[i].proto,
			    have[i].port, have[i].port_bits);
			free(h);
			return -EINVAL;
		}
		h[nh].key = keys[0];
		h[nh].count = have[i].refcnt ? have[i].refcnt : 1;
		nh++;
	}
	*out = h;
	*n_out = pkey_merge(h, nh);
	return 0;
}

/* A key both want and have: fix its reference count, rename it after a live rule. */
static int diff_kept(struct agent_policy_diff *out, const struct pkey *w, size_t cnt,
		     const struct pkey *h, size_t *cap_add, size_t *cap_del)
{
	bool rule_live = false;
	int rc = 0;

	out->keys_want++;
	if (cnt > h->count) {
		rc = push_n(&out->add, &out->n_add, cap_add, &w->entry, (uint32_t)(cnt - h->count));
		out->keys_recount++;
	} else if (cnt < h->count) {
		rc = push_n(&out->del, &out->n_del, cap_del, &h->entry, (uint32_t)(h->count - cnt));
		out->keys_recount++;
	} else {
		out->keys_same++;
	}
	for (size_t k = 0; k < cnt; k++)
		rule_live |= w[k].entry.rule_id == h->entry.rule_id;
	if (!rule_live && !rc) {
		struct agent_policy_relabel *p =
		    realloc(out->relabel, (out->n_relabel + 1) * sizeof(*p));

		if (!p)
			return -ENOMEM;
		out->relabel = p;
		p[out->n_relabel].key = h->key;
		p[out->n_relabel++].rule_id = w->entry.rule_id;
	}
	return rc;
}

int agent_policy_policy_diff(uint32_t endpoint, const struct policy_entry *want, size_t n_want,
			     const struct dp_policy_row *have, size_t n_have,
			     struct agent_policy_diff *out, char *err, size_t err_len)
{
	struct pkey *w = NULL, *h = NULL;
	size_t nw = 0, nh = 0, i, j, cap_add = 0, cap_del = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = want_keys(endpoint, want, n_want, &w, &nw, err, err_len);
	rc = rc ?: have_keys(endpoint, have, n_have, &h, &nh, err, err_len);
	if (rc)
		goto out;
	/* Desired keys stay unmerged (sorted) so that a kept key's rule id can be checked
	 * against every entry producing it; current keys are unique in the map anyway. */
	if (nw)
		qsort(w, nw, sizeof(*w), pkey_cmp);
	for (i = 0, j = 0; !rc && (i < nw || j < nh);) {
		size_t i2 = i;
		int c;

		while (i2 < nw && !pkey_cmp(&w[i], &w[i2]))
			i2++;
		c = i >= nw ? 1 : j >= nh ? -1 : pkey_cmp(&w[i], &h[j]);
		if (c < 0) {
			out->keys_want++;
			rc = push_n(&out->add, &out->n_add, &cap_add, &w[i].entry,
				    (uint32_t)(i2 - i));
			out->keys_added++;
			if (w[i].key.prefixlen == DP_POL_PREFIX_FULL)
				out->keys_added_exact++;
			else
				out->keys_added_lpm++;
			i = i2;
		} else if (c > 0) {
			rc = push_n(&out->del, &out->n_del, &cap_del, &h[j].entry, h[j].count);
			out->keys_removed++;
			j++;
		} else {
			rc = diff_kept(out, &w[i], i2 - i, &h[j], &cap_add, &cap_del);
			i = i2;
			j++;
		}
	}
out:
	free(w);
	free(h);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, err_len, "%s", strerror(ENOMEM));
		agent_policy_diff_free(out);
	}
	return rc;
}

void agent_policy_diff_free(struct agent_policy_diff *d)
{
	free(d->add);
	free(d->del);
	free(d->relabel);
	memset(d, 0, sizeof(*d));
}

void agent_policy_write_order(const struct policy_entry *v, size_t n, bool add,
			      struct policy_entry *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) /* first: denies when adding, allows when removing */
		if (!v[i].deny == !add)
			out[k++] = v[i];
	for (size_t i = 0; i < n; i++)
		if (!v[i].deny != !add)
			out[k++] = v[i];
}

/* ---- enforcement ---- */

static bool is_allow_all(const struct policy_entry *e)
{
	return e->identity == POLICY_IDENTITY_ANY && e->proto == POLICY_PROTO_ANY && !e->deny;
}

uint32_t agent_policy_enforce_flags(const struct policy_entry *e, size_t n, bool enforced_ingress,
				    bool enforced_egress)
{
	static const uint32_t bit[2] = {DP_EP_F_ENFORCE_INGRESS, DP_EP_F_ENFORCE_EGRESS};
	bool enforced[2] = {enforced_ingress, enforced_egress};
	size_t count[2] = {0, 0}, allow_all[2] = {0, 0};
	uint32_t flags = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned int d = e[i].direction & 1;

		count[d]++;
		if (is_allow_all(&e[i]))
			allow_all[d]++;
	}
	for (int d = 0; d < 2; d++)
		/* Clear only where "not enforced" and the entries agree on every packet:
		 * exactly one allow-all entry and nothing else. No entries at all = deny all,
		 * which needs the flag too. */
		if (enforced[d] || !(count[d] == 1 && allow_all[d] == 1))
			flags |= bit[d];
	return flags;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_sync: store snapshot -> policy engine -> datapath maps, as a diff against what
 * the pinned maps hold (see policy_sync.h for the contract and the write order).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent/policy_sync.h"
#include "lib/log.h"
#include "store/store.h"
#include "policy/engine.h"
#include "policy/labels.h"

struct agent_policy_sync {
	struct dp *dp;
	uint32_t endpoint;
	struct policy_engine *engine;  /* of the last sync written */
	struct policy_engine *pending; /* built, not yet written */
	agent_policy_change_cb cb;
	void *cb_arg;
	/* Prefixes the store's ipcache records own: they win over engine CIDR identities
	 * of the same prefix (a pod's identity beats "some address in 10.0.0.0/8"). */
	struct dp_ipcache_entry *store_ipc; /* sorted by prefix */
	size_t n_store_ipc, cap_store_ipc;
	/* Prefixes of the last snapshot's unusable records (sorted): the map may or may not
	 * hold an entry for them, so a write there makes the ipcache count unknown. */
	struct dp_ipcache_entry *held;
	size_t n_held;
	/*
	 * Entries per map (enum map_kind), kept across incremental writes so that neither
	 * their capacity check nor `status` walks the maps: the ipcache counts are exact while
	 * ipc_known (set from the read-back of each snapshot sync, then moved by each write);
	 * the policy counts are an upper bound while pol_known (key removals are not
	 * subtracted: a removed entry's keys may be shared). Unknown = recounted by a walk
	 * when next needed (a failed write, a held prefix, no sync yet).
	 */
	size_t use[4];
	bool ipc_known, pol_known;
};

int agent_policy_sync_new(struct dp *dp, uint32_t endpoint, struct agent_policy_sync **out)
{
	struct agent_policy_sync *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return -ENOMEM;
	ps->dp = dp;
	ps->endpoint = endpoint;
	*out = ps;
	return 0;
}

void agent_policy_sync_free(struct agent_policy_sync *ps)
{
	if (!ps)
		return;
	policy_engine_free(ps->engine);
	policy_engine_free(ps->pending);
	free(ps->store_ipc);
	free(ps->held);
	free(ps);
}

void agent_policy_sync_set_cb(struct agent_policy_sync *ps, agent_policy_change_cb cb, void *arg)
{
	ps->cb = cb;
	ps->cb_arg = arg;
}

struct policy_engine *agent_policy_engine(struct agent_policy_sync *ps)
{
	return ps->engine;
}

/* ---- reading the maps back ---- */

struct ipc_vec {
	struct dp_ipcache_entry *v;
	size_t n, cap;
};

/* Makes room for one more element of size bytes in a growable array (doubling). */
static int grow_for_one(void **v, size_t n, size_t *cap, size_t size)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 64;
	p = realloc(*v, nc * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}

static int ipc_push(struct ipc_vec *a, const struct dp_ipcache_entry *e)
{
	if (grow_for_one((void **)&a->v, a->n, &a->cap, sizeof(*a->v)))
		return -ENOMEM;
	a->v[a->n++] = *e;
	return 0;
}

/* Same prefix: family, length and address (host bits are zero on both sides). */
static bool ipc_same_prefix(const struct dp_ipcache_entry *a, const struct dp_ipcache_entry *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int ipc_read_cb(const struct dp_ipcache_entry *e, void *ctx)
{
	return ipc_push(ctx, e);
}

/* Entries in use per map (every endpoint's), for the capacity check. */
enum map_kind { MAP_POLICY, MAP_POLICY_EXACT, MAP_IPCACHE, MAP_IPCACHE_HOST, MAP_N };
static const char *const map_name[MAP_N] = {"policy", "policy_exact", "ipcache", "ipcache_host"};
struct map_use {
	size_t n[MAP_N];
};

static bool ipc_is_host(const struct dp_ipcache_entry *e)
{
	return e->plen == (e->family == 4 ? 32 : 128);
}

/* The map a policy row's key lives in: single-port keys in the exact hash, the rest in the
 * trie (dp_maps.c). */
static enum map_kind row_map(const struct dp_policy_row *r)
{
	return r->proto && r->port_bits == 16 ? MAP_POLICY_EXACT : MAP_POLICY;
}

static enum map_kind ipc_map(const struct dp_ipcache_entry *e)
{
	return ipc_is_host(e) ? MAP_IPCACHE_HOST : MAP_IPCACHE;
}

struct row_vec {
	struct dp_policy_row *v;
	size_t n, cap;
	uint32_t endpoint;
	struct map_use use;
};

static int row_read_cb(const struct dp_policy_row *r, void *ctx)
{
	struct row_vec *a = ctx;

	a->use.n[row_map(r)]++;
	if (r->endpoint != a->endpoint)
		return 0;
	if (grow_for_one((void **)&a->v, a->n, &a->cap, sizeof(*a->v)))
		return -ENOMEM;
	a->v[a->n++] = *r;
	return 0;
}

/* ---- verbose output ---- */

static void emit_ipc(struct agent_policy_sync *ps, const char *kind,
		     const struct dp_ipcache_entry *v, size_t n)
{
	char buf[160];

	if (!ps->cb)
		return;
	for (size_t i = 0; i < n; i++)
		ps->cb(ps->cb_arg, kind, agent_policy_ipcache_format(&v[i], buf, sizeof(buf)));
}

static void emit_pol(struct agent_policy_sync *ps, const char *kind, const struct policy_entry *v,
		     size_t n)
{
	char buf[200], ports[32] = "";

	if (!ps->cb)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct policy_entry *e = &v[i];

		if (e->proto && (e->port_lo || e->port_hi))
			snprintf(ports, sizeof(ports), e->port_lo == e->port_hi ? " %u" : " %u-%u",
				 e->port_lo, e->port_hi);
		else
			ports[0] = '\0';
		snprintf(buf, sizeof(buf), "endpoint %u %s %s identity %u %s%s rule %u",
			 ps->endpoint, dp_dir_name(e->direction), e->deny ? "deny" : "allow",
			 e->identity, dp_proto_name(e->proto), ports, e->rule_id);
		ps->cb(ps->cb_arg, kind, buf);
	}
}

static void emit_flags(struct agent_policy_sync *ps, uint32_t before, uint32_t after)
{
	char buf[160];

	if (!ps->cb || before == after)
		return;
	snprintf(buf, sizeof(buf), "endpoint %u ingress %s->%s, egress %s->%s", ps->endpoint,
		 (before & DP_EP_F_ENFORCE_INGRESS) ? "on" : "off",
		 (after & DP_EP_F_ENFORCE_INGRESS) ? "on" : "off",
		 (before & DP_EP_F_ENFORCE_EGRESS) ? "on" : "off",
		 (after & DP_EP_F_ENFORCE_EGRESS) ? "on" : "off");
	ps->cb(ps->cb_arg, "enforce", buf);
}

/* ---- the snapshot sync ---- */

/* Builds the engine from the snapshot; counts what it had to skip. */
static int engine_build(struct agent_policy_sync *ps, const struct agent_policy_snapshot *snap,
			struct policy_engine **out, struct agent_policy_report *rep, char *err,
			size_t err_len)
{
	const struct label_set *mine = NULL;
	struct policy_engine *e = policy_engine_new();
	char key[2 * STORE_NAME_MAX + 16], why[512];
	int rc;

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < snap->n_ids; i++) {
		rc = policy_engine_identity_set(e, snap->ids[i].id, &snap->ids[i].labels, NULL);
		if (rc == -ENOMEM)
			goto fail;
		if (rc)
			log_warn("skipping identities/%u: the engine refused it (%s)",
				 snap->ids[i].id, strerror(-rc));
		if (snap->ids[i].id == ps->endpoint)
			mine = &snap->ids[i].labels;
	}
	for (size_t i = 0; i < snap->n_policies; i++) {
		agent_policy_engine_key(&snap->policies[i], key, sizeof(key));
		why[0] = '\0';
		rc = policy_engine_policy_set(e, key, snap->policies[i].object, NULL, why,
					      sizeof(why));
		if (rc == -ENOMEM)
			goto fail;
		if (rc) {
			log_warn("skipping policies/%s: %s", key, why[0] ? why : strerror(-rc));
			rep->policies_skipped++;
		}
	}
	if (!mine) {
		snprintf(err, err_len,
			 "identity %u is not in the store (identities/%u): the endpoint's labels "
			 "are unknown",
			 ps->endpoint, ps->endpoint);
		rc = -ENOENT;
		goto fail;
	}
	rc = policy_engine_endpoint_set(e, ps->endpoint, mine, NULL);
	if (rc)
		goto fail;
	*out = e;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, err_len, "policy engine: %s", strerror(ENOMEM));
	else if (rc != -ENOENT)
		snprintf(err, err_len, "policy engine: endpoint %u: %s", ps->endpoint,
			 strerror(-rc));
	policy_engine_free(e);
	return rc;
}

/* The store-owned prefixes are kept sorted so that the incremental path finds an owner in
 * log n. */
int agent_policy_ipcache_prefix_cmp(const void *pa, const void *pb)
{
	const struct dp_ipcache_entry *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* *dst becomes a copy of v[0..n) sorted by prefix (the old array freed), or stays on -ENOMEM. */
static int save_sorted(struct dp_ipcache_entry **dst, size_t *n_dst,
		       const struct dp_ipcache_entry *v, size_t n)
{
	struct dp_ipcache_entry *c = calloc(n ? n : 1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (n)
		memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), agent_policy_ipcache_prefix_cmp);
	free(*dst);
	*dst = c;
	*n_dst = n;
	return 0;
}

static int save_store_ipc(struct agent_policy_sync *ps, const struct dp_ipcache_entry *v, size_t n)
{
	int rc = save_sorted(&ps->store_ipc, &ps->n_store_ipc, v, n);

	if (rc == 0)
		ps->cap_store_ipc = n ? n : 1;
	return rc;
}

int agent_policy_relabel_write(struct dp *dp, const struct agent_policy_relabel *r, size_t n,
			       void (*on_key)(void *arg, const struct agent_policy_relabel *r,
					      uint32_t old_rule_id),
			       void *arg)
{
	int xfd = dp_map_fd(dp, "policy_exact"), lfd = dp_map_fd(dp, "policy");

	for (size_t i = 0; i < n; i++) {
		int fd = r[i].key.prefixlen == DP_POL_PREFIX_FULL ? xfd : lfd;
		struct dp_policy_val v;

		if (fd < 0)
			return fd;
		/* (a trie lookup is a longest-prefix match: the value's prefix says exact) */
		if (bpf_map_lookup_elem(fd, &r[i].key, &v) ||
		    v.prefix != r[i].key.prefixlen - DP_POL_PREFIX_EXACT)
			continue; /* gone meanwhile: nothing to name */
		if (on_key)
			on_key(arg, &r[i], v.rule_id);
		v.rule_id = r[i].rule_id;
		if (bpf_map_update_elem(fd, &r[i].key, &v, BPF_EXIST) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* The verbose callback's line for a rewritten key. */
static void relabel_said(void *arg, const struct agent_policy_relabel *r, uint32_t old_rule_id)
{
	struct agent_policy_sync *ps = arg;
	char buf[160];

	snprintf(buf, sizeof(buf), "endpoint %u %s %s identity %u prefix %u: rule %u -> %u",
		 ps->endpoint, dp_dir_name(r->key.dir), r->key.deny ? "deny" : "allow",
		 ntohl(r->key.identity), r->key.prefixlen, old_rule_id, r->rule_id);
	ps->cb(ps->cb_arg, "policy~", buf);
}

/*
 * Writes one kind of policy change with the narrowing half first: additions put every deny
 * key in before any allow key (a new allow never stands without the denies carving into
 * it), removals take every allow key out before any deny key (an old deny stays until the
 * allows it guarded are gone). See docs/agent.md for why this never allows more than the
 * old or the new policy, at every point a write can fail or the process can be killed.
 */
int agent_policy_write_keys(struct dp *dp, uint32_t endpoint, const struct policy_entry *v,
			    size_t n, bool add)
{
	struct policy_entry *ord;
	size_t n_first = 0;
	int rc;

	if (!n)
		return 0;
	ord = malloc(n * sizeof(*ord));
	if (!ord)
		return -ENOMEM;
	agent_policy_write_order(v, n, add, ord);
	while (n_first < n && !ord[n_first].deny == !add)
		n_first++;
	if (add) {
		rc = dp_policy_apply(dp, endpoint, ord, n_first, NULL, 0);
		rc = rc ?: dp_policy_apply(dp, endpoint, ord + n_first, n - n_first, NULL, 0);
	} else {
		rc = dp_policy_apply(dp, endpoint, NULL, 0, ord, n_first);
		rc = rc ?: dp_policy_apply(dp, endpoint, NULL, 0, ord + n_first, n - n_first);
	}
	free(ord);
	return rc;
}

/*
 * The write phase shared by the snapshot and incremental paths. Policy keys are added
 * before the ipcache changes so that an address whose identity changes (a relabelled pod,
 * a CIDR identity the engine numbered differently) finds its new identity's keys already
 * there; the old identity's keys go only after the ipcache no longer names it.
 */
static int write_diff(struct agent_policy_sync *ps, const struct agent_ipcache_diff *id,
		      const struct policy_entry *padd, size_t n_padd,
		      const struct policy_entry *pdel, size_t n_pdel, uint32_t flags_before,
		      uint32_t flags_after, char *err, size_t err_len)
{
	int rc;

	rc = agent_policy_write_keys(ps->dp, ps->endpoint, padd, n_padd, true);
	if (rc) {
		snprintf(err, err_len, "adding policy keys of endpoint %u: %s", ps->endpoint,
			 strerror(-rc));
		return rc;
	}
	emit_pol(ps, "policy+", padd, n_padd);
	if (id && (id->n_add || id->n_change)) {
		rc = dp_ipcache_apply(ps->dp, id->add, id->n_add, NULL, 0);
		rc = rc ?: dp_ipcache_apply(ps->dp, id->change, id->n_change, NULL, 0);
		if (rc) {
			snprintf(err, err_len, "writing the ipcache: %s", strerror(-rc));
			return rc;
		}
		emit_ipc(ps, "ipcache+", id->add, id->n_add);
		emit_ipc(ps, "ipcache~", id->change, id->n_change);
	}
	if (flags_before != flags_after) {
		rc = dp_endpoint_set(ps->dp, ps->endpoint, flags_after);
		if (rc) {
			snprintf(err, err_len, "setting enforcement of endpoint %u: %s",
				 ps->endpoint, strerror(-rc));
			return rc;
		}
		emit_flags(ps, flags_before, flags_after);
	}
	rc = agent_policy_write_keys(ps->dp, ps->endpoint, pdel, n_pdel, false);
	if (rc) {
		snprintf(err, err_len, "removing policy keys of endpoint %u: %s", ps->endpoint,
			 strerror(-rc));
		return rc;
	}
	emit_pol(ps, "policy-", pdel, n_pdel);
	if (id && id->n_del) {
		rc = dp_ipcache_apply(ps->dp, NULL, 0, id->del, id->n_del);
		if (rc) {
			snprintf(err, err_len, "removing ipcache entries: %s", strerror(-rc));
			return rc;
		}
		emit_ipc(ps, "ipcache-", id->del, id->n_del);
	}
	return 0;
}

static int map_capacity(struct agent_policy_sync *ps, int which, uint32_t *max)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	int fd = dp_map_fd(ps->dp, map_name[which]);

	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*max = info.max_entries;
	return 0;
}

/* add[m] more entries on top of use[m], for every map m. */
static int capacity_check_counts(struct agent_policy_sync *ps, const size_t use[MAP_N],
				 const size_t add[MAP_N], char *err, size_t err_len)
{
	for (int m = 0; m < MAP_N; m++) {
		uint32_t max = 0;
		int rc;

		if (!add[m])
			continue;
		rc = map_capacity(ps, m, &max);
		if (rc) {
			snprintf(err, err_len, "reading the size of map %s: %s", map_name[m],
				 strerror(-rc));
			return rc;
		}
		if (use[m] + add[m] > max) {
			snprintf(err, err_len,
				 "the change needs %zu new entries in map %s, which holds %zu of "
				 "%u (the old entries stay until the new ones are in): it does not "
				 "fit, so nothing was written and the old policy stays in force "
				 "(load the datapath with a larger %s)",
				 add[m], map_name[m], use[m], max,
				 m <= MAP_POLICY_EXACT ? "--policy-max" : "--ipcache-max");
			return -ENOSPC;
		}
	}
	return 0;
}

/*
 * The new keys are written before the old ones go (the write order above), so the maps
 * must hold both at once. Checked before the first write: a change that cannot fit is
 * refused as a whole and the old policy stays fully in force, instead of failing halfway
 * with ENOSPC on every run.
 */
static int capacity_check(struct agent_policy_sync *ps, const struct map_use *use,
			  const struct agent_ipcache_diff *id, const struct agent_policy_diff *pd,
			  char *err, size_t err_len)
{
	size_t add[MAP_N] = {pd->keys_added_lpm, pd->keys_added_exact, 0, 0};

	for (size_t i = 0; i < id->n_add; i++)
		add[ipc_map(&id->add[i])]++;
	return capacity_check_counts(ps, use->n, add, err, err_len);
}

/* ---- running entry counts (the incremental paths' capacity check, `status`) ---- */

static int count_ipc_cb(const struct dp_ipcache_entry *e, void *ctx)
{
	((size_t *)ctx)[ipc_map(e)]++;
	return 0;
}

static int count_pol_cb(const struct dp_policy_row *r, void *ctx)
{
	((size_t *)ctx)[row_map(r)]++;
	return 0;
}

/* Walks the maps whose counts are unknown (wanted ones only). */
static int use_refresh(struct agent_policy_sync *ps, bool ipc, bool pol)
{
	size_t n[MAP_N] = {0};
	int rc;

	if (ipc && !ps->ipc_known) {
		rc = dp_ipcache_foreach(ps->dp, count_ipc_cb, n);
		if (rc)
			return rc;
		ps->use[MAP_IPCACHE] = n[MAP_IPCACHE];
		ps->use[MAP_IPCACHE_HOST] = n[MAP_IPCACHE_HOST];
		ps->ipc_known = true;
	}
	if (pol && !ps->pol_known) {
		rc = dp_policy_foreach(ps->dp, count_pol_cb, n);
		if (rc)
			return rc;
		ps->use[MAP_POLICY] = n[MAP_POLICY];
		ps->use[MAP_POLICY_EXACT] = n[MAP_POLICY_EXACT];
		ps->pol_known = true;
	}
	return 0;
}

/*
 * The incremental paths' capacity check (the snapshot path's, on the running counts):
 * add[m] is at most how many entries the change creates in map m. Refused as a whole
 * (-ENOSPC, nothing written) when it may not fit; a policy count that is only an upper
 * bound is recounted exactly before refusing.
 */
static int incremental_fits(struct agent_policy_sync *ps, const size_t add[MAP_N], char *err,
			    size_t err_len)
{
	bool ipc = add[MAP_IPCACHE] || add[MAP_IPCACHE_HOST];
	bool pol = add[MAP_POLICY] || add[MAP_POLICY_EXACT];
	int rc = use_refresh(ps, ipc, pol);

	if (rc == 0) {
		rc = capacity_check_counts(ps, ps->use, add, err, err_len);
		if (rc == -ENOSPC && pol) {
			ps->pol_known = false;
			rc = use_refresh(ps, false, true);
			rc = rc ?: capacity_check_counts(ps, ps->use, add, err, err_len);
		}
		return rc;
	}
	snprintf(err, err_len, "counting the datapath maps' entries: %s", strerror(-rc));
	return rc;
}

/* At most how many keys these entries create, per policy map. -EINVAL for an entry the
 * datapath refuses (the write would refuse it too, before writing anything). */
static int policy_keys_bound(uint32_t endpoint, const struct policy_entry *v, size_t n,
			     size_t add[MAP_N])
{
	struct dp_policy_key keys[32];

	for (size_t i = 0; i < n; i++) {
		int k = dp_policy_expand(endpoint, &v[i], keys, sizeof(keys) / sizeof(keys[0]));

		if (k < 0)
			return k;
		for (int j = 0; j < k; j++) {
			struct dp_policy_row r;

			dp_policy_key_row(&keys[j], 0, 0, &r);
			add[row_map(&r)]++;
		}
	}
	return 0;
}

int agent_policy_ipcache_count(struct agent_policy_sync *ps, size_t *n)
{
	int rc = use_refresh(ps, true, false);

	*n = rc ? 0 : ps->use[MAP_IPCACHE] + ps->use[MAP_IPCACHE_HOST];
	return rc;
}

/* Everything a snapshot sync computes before its first write. */
struct sync_plan {
	const struct policy_entry *entries;
	size_t n_entries;
	struct dp_ipcache_entry *want; /* the engine's CIDR identities */
	size_t n_want;
	struct ipc_vec have;
	struct row_vec rows;
	struct map_use use;
	struct agent_ipcache_diff id;
	struct agent_policy_diff pd;
};

static void plan_free(struct sync_plan *pl) /* idempotent */
{
	free(pl->want);
	free(pl->have.v);
	free(pl->rows.v);
	pl->want = NULL;
	pl->have.v = NULL;
	pl->rows.v = NULL;
	agent_ipcache_diff_free(&pl->id);
	agent_policy_diff_free(&pl->pd);
}

/* The engine's CIDR identities as datapath entries (the store's records are the snapshot's;
 * they come first in the diff, so they win a shared prefix). The maps' entries are read
 * into an array sized for what is expected. */
static int plan_ipcache(struct agent_policy_sync *ps, struct sync_plan *pl,
			const struct agent_policy_snapshot *snap, struct agent_policy_report *rep)
{
	size_t n_cids;
	const struct policy_cidr_identity *cids =
	    policy_engine_cidr_identities(ps->pending, &n_cids);

	rep->cidr_ids = n_cids;
	pl->want = malloc((n_cids + 1) * sizeof(*pl->want));
	pl->have.cap = snap->n_ipcache + n_cids + snap->n_ipcache_held + 64;
	pl->have.v = malloc(pl->have.cap * sizeof(*pl->have.v));
	if (!pl->want || !pl->have.v)
		return -ENOMEM;
	for (size_t i = 0; i < n_cids; i++)
		agent_policy_ipcache_from_cidr(&cids[i], &pl->want[i]);
	pl->n_want = n_cids;
	return 0;
}

/* The maps as they are (what we adopt), then both diffs. */
static int plan_diff(struct agent_policy_sync *ps, struct sync_plan *pl,
		     const struct agent_policy_snapshot *snap, struct agent_policy_report *rep,
		     char *err, size_t err_len)
{
	int rc = dp_ipcache_foreach(ps->dp, ipc_read_cb, &pl->have);

	rc = rc ?: dp_policy_foreach(ps->dp, row_read_cb, &pl->rows);
	rc = rc ?: dp_endpoint_get(ps->dp, ps->endpoint, &rep->flags_before);
	if (rc) {
		snprintf(err, err_len, "reading the datapath maps: %s", strerror(-rc));
		return rc;
	}
	pl->use = pl->rows.use;
	for (size_t i = 0; i < pl->have.n; i++)
		pl->use.n[ipc_is_host(&pl->have.v[i]) ? MAP_IPCACHE_HOST : MAP_IPCACHE]++;
	rc = agent_policy_ipcache_diff_parts(snap->ipcache, snap->n_ipcache, pl->want, pl->n_want,
					     pl->have.v, pl->have.n, snap->ipcache_held,
					     snap->n_ipcache_held, &pl->id);
	if (rc) {
		snprintf(err, err_len, "ipcache diff: %s", strerror(-rc));
		return rc;
	}
	return agent_policy_policy_diff(ps->endpoint, pl->entries, pl->n_entries, pl->rows.v,
					pl->rows.n, &pl->pd, err, err_len);
}

static void report_diff(const struct sync_plan *pl, struct agent_policy_report *rep)
{
	rep->ipc_add = pl->id.n_add;
	rep->ipc_change = pl->id.n_change;
	rep->ipc_del = pl->id.n_del;
	rep->ipc_same = pl->id.n_same;
	rep->pol_add = pl->pd.keys_added;
	rep->pol_del = pl->pd.keys_removed;
	rep->pol_recount = pl->pd.keys_recount;
	rep->pol_same = pl->pd.keys_same;
	rep->pol_keys = pl->pd.keys_want;
	rep->pol_relabel = pl->pd.n_relabel;
}

int agent_policy_sync_build(struct agent_policy_sync *ps, const struct agent_policy_snapshot *snap,
			    struct agent_policy_report *rep, char *err, size_t err_len)
{
	const struct policy_entry *entries;
	size_t n_entries;
	int rc;

	if (err_len)
		err[0] = '\0';
	rep->ids = snap->n_ids;
	rep->policies = snap->n_policies;
	policy_engine_free(ps->pending);
	ps->pending = NULL;
	rc = engine_build(ps, snap, &ps->pending, rep, err, err_len);
	if (rc)
		return rc;
	entries = policy_engine_entries(ps->pending, ps->endpoint, &n_entries);
	rep->entries = n_entries;
	rep->enforced[0] = policy_engine_enforced(ps->pending, ps->endpoint, POLICY_INGRESS);
	rep->enforced[1] = policy_engine_enforced(ps->pending, ps->endpoint, POLICY_EGRESS);
	rep->flags_after =
	    agent_policy_enforce_flags(entries, n_entries, rep->enforced[0], rep->enforced[1]);
	return 0;
}

/* The counts a snapshot sync leaves: the maps as read back plus what it wrote. */
static void use_after_snapshot(struct agent_policy_sync *ps, const struct sync_plan *pl, bool ok)
{
	ps->ipc_known = ps->pol_known = ok;
	if (!ok)
		return;
	memcpy(ps->use, pl->use.n, sizeof(ps->use));
	for (size_t i = 0; i < pl->id.n_add; i++)
		ps->use[ipc_map(&pl->id.add[i])]++;
	for (size_t i = 0; i < pl->id.n_del; i++)
		ps->use[ipc_map(&pl->id.del[i])]--;
	/* keys_removed is not split per map: the policy counts stay an upper bound */
	ps->use[MAP_POLICY] += pl->pd.keys_added_lpm;
	ps->use[MAP_POLICY_EXACT] += pl->pd.keys_added_exact;
}

static int save_held(struct agent_policy_sync *ps, const struct dp_ipcache_entry *v, size_t n)
{
	return save_sorted(&ps->held, &ps->n_held, v, n);
}

/* A write to a held prefix: the map's count for it is unknown from here (recounted when
 * next needed) and the prefix is the store's or gone now, no longer held. */
static void held_touch(struct agent_policy_sync *ps, const struct dp_ipcache_entry *d)
{
	struct dp_ipcache_entry *h = ps->n_held ? bsearch(d, ps->held, ps->n_held, sizeof(*d),
							  agent_policy_ipcache_prefix_cmp)
						: NULL;

	if (!h)
		return;
	ps->ipc_known = false;
	memmove(h, h + 1, (ps->n_held - (size_t)(h - ps->held) - 1) * sizeof(*h));
	ps->n_held--;
}

int agent_policy_sync_apply(struct agent_policy_sync *ps, const struct agent_policy_snapshot *snap,
			    struct agent_policy_report *rep, char *err, size_t err_len)
{
	struct sync_plan pl = {.rows = {.endpoint = ps->endpoint}};
	int rc;

	if (err_len)
		err[0] = '\0';
	if (!ps->pending) {
		snprintf(err, err_len, "no engine built (agent_policy_sync_build first)");
		return -EINVAL;
	}
	rep->ipcache_records = snap->n_ipcache_records;
	rep->ipcache_skipped = snap->n_ipcache_skipped;
	pl.entries = policy_engine_entries(ps->pending, ps->endpoint, &pl.n_entries);
	rc = plan_ipcache(ps, &pl, snap, rep);
	rc = rc ?: plan_diff(ps, &pl, snap, rep, err, err_len);
	rc = rc ?: capacity_check(ps, &pl.use, &pl.id, &pl.pd, err, err_len);
	if (rc)
		goto out;
	report_diff(&pl, rep);
	rc = write_diff(ps, &pl.id, pl.pd.add, pl.pd.n_add, pl.pd.del, pl.pd.n_del,
			rep->flags_before, rep->flags_after, err, err_len);
	use_after_snapshot(ps, &pl, rc == 0);
	if (rc)
		goto out;
	rc = agent_policy_relabel_write(ps->dp, pl.pd.relabel, pl.pd.n_relabel,
					ps->cb ? relabel_said : NULL, ps);
	if (rc) {
		snprintf(err, err_len, "updating rule ids of kept keys: %s", strerror(-rc));
		goto out;
	}
	policy_engine_free(ps->engine);
	ps->engine = ps->pending;
	ps->pending = NULL;
	/* After the plan is gone: the copy then does not add to the sync's peak. */
	plan_free(&pl);
	rc = save_store_ipc(ps, snap->ipcache, snap->n_ipcache);
	rc = rc ?: save_held(ps, snap->ipcache_held, snap->n_ipcache_held);
out:
	if (rc == -ENOMEM && !err[0])
		snprintf(err, err_len, "%s", strerror(ENOMEM));
	plan_free(&pl);
	return rc;
}

int agent_policy_sync_snapshot(struct agent_policy_sync *ps,
			       const struct agent_policy_snapshot *snap,
			       struct agent_policy_report *rep_out, char *err, size_t err_len)
{
	struct agent_policy_report rep = {0};
	int rc = agent_policy_sync_build(ps, snap, &rep, err, err_len);

	rc = rc ?: agent_policy_sync_apply(ps, snap, &rep, err, err_len);
	if (rep_out)
		*rep_out = rep;
	return rc;
}

/* ---- incremental ---- */

static const struct dp_ipcache_entry *store_owner(const struct agent_policy_sync *ps,
						  const struct dp_ipcache_entry *e)
{
	return ps->n_store_ipc ? bsearch(e, ps->store_ipc, ps->n_store_ipc, sizeof(*e),
					 agent_policy_ipcache_prefix_cmp)
			       : NULL;
}

/* Counts after an incremental change: ipcache additions are new prefixes (store-owned
 * ones were filtered out) and removals were there, unless held; policy counts rise by
 * their bound. A failed write leaves them unknown. */
static void use_after_changes(struct agent_policy_sync *ps, const struct agent_ipcache_diff *id,
			      const size_t add[MAP_N], bool ok)
{
	if (!ok) {
		ps->ipc_known = ps->pol_known = false;
		return;
	}
	for (size_t i = 0; i < id->n_add; i++)
		ps->use[ipc_map(&id->add[i])]++;
	for (size_t i = 0; i < id->n_del; i++)
		ps->use[ipc_map(&id->del[i])]--;
	for (size_t i = 0; i < id->n_add; i++)
		held_touch(ps, &id->add[i]);
	for (size_t i = 0; i < id->n_del; i++)
		held_touch(ps, &id->del[i]);
	ps->use[MAP_POLICY] += add[MAP_POLICY];
	ps->use[MAP_POLICY_EXACT] += add[MAP_POLICY_EXACT];
}

int agent_policy_sync_changes(struct agent_policy_sync *ps, const struct policy_changes *ch,
			      struct agent_policy_report *rep_out, char *err, size_t err_len)
{
	struct agent_policy_report rep = {0};
	struct agent_ipcache_diff id = {0};
	const struct policy_endpoint_diff *mine = NULL;
	const struct policy_entry *entries;
	size_t n_entries, add[MAP_N] = {0};
	int rc = -ENOMEM;

	if (err_len)
		err[0] = '\0';

	if (!ps->engine) {
		snprintf(err, err_len, "no snapshot synced yet");
		return -EINVAL;
	}
	id.add = calloc(ch->n_cidr_add + 1, sizeof(*id.add));
	id.del = calloc(ch->n_cidr_del + 1, sizeof(*id.del));
	if (!id.add || !id.del) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < ch->n_cidr_add; i++) {
		struct dp_ipcache_entry d;

		agent_policy_ipcache_from_cidr(&ch->cidr_add[i], &d);
		if (!store_owner(ps, &d))
			id.add[id.n_add++] = d;
	}
	for (size_t i = 0; i < ch->n_cidr_del; i++) {
		struct dp_ipcache_entry d;

		agent_policy_ipcache_from_cidr(&ch->cidr_del[i], &d);
		if (!store_owner(ps, &d))
			id.del[id.n_del++] = d;
	}
	for (size_t i = 0; i < ch->n_eps; i++)
		if (ch->eps[i].endpoint == ps->endpoint)
			mine = &ch->eps[i];
	/* Like the snapshot path: a change that may not fit is refused before its first
	 * write, never left half-written with only its first keys in. */
	for (size_t i = 0; i < id.n_add; i++)
		add[ipc_map(&id.add[i])]++;
	rc = mine ? policy_keys_bound(ps->endpoint, mine->add, mine->n_add, add) : 0;
	if (rc) {
		snprintf(err, err_len, "endpoint %u: an entry the datapath refuses", ps->endpoint);
		goto out;
	}
	rc = incremental_fits(ps, add, err, err_len);
	if (rc)
		goto out;
	rc = dp_endpoint_get(ps->dp, ps->endpoint, &rep.flags_before);
	if (rc) {
		snprintf(err, err_len, "reading endpoint %u: %s", ps->endpoint, strerror(-rc));
		goto out;
	}
	entries = policy_engine_entries(ps->engine, ps->endpoint, &n_entries);
	rep.entries = n_entries;
	rep.enforced[0] = policy_engine_enforced(ps->engine, ps->endpoint, POLICY_INGRESS);
	rep.enforced[1] = policy_engine_enforced(ps->engine, ps->endpoint, POLICY_EGRESS);
	rep.flags_after =
	    agent_policy_enforce_flags(entries, n_entries, rep.enforced[0], rep.enforced[1]);
	rc = write_diff(ps, &id, mine ? mine->add : NULL, mine ? mine->n_add : 0,
			mine ? mine->del : NULL, mine ? mine->n_del : 0, rep.flags_before,
			rep.flags_after, err, err_len);
	use_after_changes(ps, &id, add, rc == 0);
	rep.ipc_add = id.n_add;
	rep.ipc_del = id.n_del;
	rep.pol_add = mine ? mine->n_add : 0;
	rep.pol_del = mine ? mine->n_del : 0;
out:
	agent_ipcache_diff_free(&id);
	if (rep_out)
		*rep_out = rep;
	return rc;
}

/* Keeps store_ipc sorted: lookups are log n, an insert moves the tail once. */
static int store_ipc_insert(struct agent_policy_sync *ps, const struct dp_ipcache_entry *d)
{
	struct dp_ipcache_entry *grown;
	size_t lo = 0, hi = ps->n_store_ipc;

	if (ps->n_store_ipc == ps->cap_store_ipc) {
		size_t nc = ps->cap_store_ipc ? ps->cap_store_ipc * 2 : 64;

		grown = realloc(ps->store_ipc, nc * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		ps->store_ipc = grown;
		ps->cap_store_ipc = nc;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (agent_policy_ipcache_prefix_cmp(&ps->store_ipc[mid], d) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&ps->store_ipc[lo + 1], &ps->store_ipc[lo], (ps->n_store_ipc - lo) * sizeof(*d));
	ps->store_ipc[lo] = *d;
	ps->n_store_ipc++;
	return 0;
}

/* The engine's CIDR identity of exactly d's prefix, if any (as a datapath entry). */
static bool cid_of(const struct agent_policy_sync *ps, const struct dp_ipcache_entry *d,
		   struct dp_ipcache_entry *out)
{
	size_t n = 0;
	const struct policy_cidr_identity *cids =
	    ps->engine ? policy_engine_cidr_identities(ps->engine, &n) : NULL;

	for (size_t i = 0; i < n; i++) {
		agent_policy_ipcache_from_cidr(&cids[i], out);
		if (ipc_same_prefix(out, d))
			return true;
	}
	return false;
}

int agent_policy_ipcache_set(struct agent_policy_sync *ps, const struct store_ipcache *r, char *err,
			     size_t err_len)
{
	struct dp_ipcache_entry d, c;
	struct dp_ipcache_entry *owned;
	size_t add[MAP_N] = {0};
	bool there;
	int rc;

	if (!agent_policy_ipcache_from_store(r, &d, err, err_len))
		return -EINVAL; /* the map keeps what it had for the prefix */
	owned = (struct dp_ipcache_entry *)store_owner(ps, &d);
	/* The map holds the prefix when the store or an engine CIDR identity has it. */
	there = owned || cid_of(ps, &d, &c);
	if (!there) {
		add[ipc_map(&d)] = 1;
		rc = incremental_fits(ps, add, err, err_len);
		if (rc)
			return rc;
	}
	rc = dp_ipcache_apply(ps->dp, &d, 1, NULL, 0);
	if (rc) {
		snprintf(err, err_len, "ipcache/%s: %s", r->cidr, strerror(-rc));
		return rc;
	}
	if (!there)
		ps->use[ipc_map(&d)]++;
	held_touch(ps, &d);
	if (owned) {
		*owned = d;
		return 0;
	}
	return store_ipc_insert(ps, &d);
}

int agent_policy_ipcache_remove(struct agent_policy_sync *ps, const char *cidr, char *err,
				size_t err_len)
{
	struct dp_ipcache_entry d = {0}, c;
	const struct dp_ipcache_entry *owned;
	bool cid;
	char why[64];
	int rc;

	if (!dp_parse_cidr(cidr, &d, why, sizeof(why))) {
		snprintf(err, err_len, "ipcache/%s: %s", cidr, why);
		return -EINVAL;
	}
	/* An engine CIDR identity of the same prefix takes over instead of a gap to world. */
	cid = cid_of(ps, &d, &c);
	rc = cid ? dp_ipcache_apply(ps->dp, &c, 1, NULL, 0)
		 : dp_ipcache_apply(ps->dp, NULL, 0, &d, 1);
	if (rc) {
		snprintf(err, err_len, "ipcache/%s: %s", cidr, strerror(-rc));
		return rc;
	}
	owned = store_owner(ps, &d);
	/* A store-owned prefix was in the map; without a CIDR identity taking over it is gone.
	 * A prefix nobody owned was not there (unless held: held_touch()). */
	if (owned && !cid)
		ps->use[ipc_map(&d)]--;
	held_touch(ps, &d);
	if (owned) {
		size_t i = (size_t)(owned - ps->store_ipc);

		memmove(&ps->store_ipc[i], &ps->store_ipc[i + 1],
			(ps->n_store_ipc - i - 1) * sizeof(*owned));
		ps->n_store_ipc--;
	}
	return 0;
}

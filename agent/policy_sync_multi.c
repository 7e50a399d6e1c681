// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_sync_multi: the ordered, capacity-checked diff writer of policy_sync.c over
 * several local endpoints at once (a gateway holds the policy of every pod it serves and
 * every machine). It reuses the pure helpers of policy_diff.c (per-endpoint key diff,
 * write order, ipcache diff); the write order and capacity rule are policy_sync.h's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent/policy_sync.h"

enum { MM_POLICY, MM_POLICY_EXACT, MM_IPCACHE, MM_IPCACHE_HOST, MM_N };
static const char *const mm_name[MM_N] = {"policy", "policy_exact", "ipcache", "ipcache_host"};

struct mm_vec {
	void *v;
	size_t n, cap, size;
};

static int mm_push(struct mm_vec *a, const void *e)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 256;
		void *p = realloc(a->v, nc * a->size);

		if (!p)
			return -ENOMEM;
		a->v = p;
		a->cap = nc;
	}
	memcpy((char *)a->v + a->n * a->size, e, a->size);
	a->n++;
	return 0;
}

/* Everything computed before the first write. */
struct mm_plan {
	struct mm_vec rows; /* every endpoint's policy rows, sorted by endpoint */
	struct mm_vec ipc;  /* the ipcache map */
	size_t use[MM_N];
	struct agent_ipcache_diff id;
	struct agent_policy_diff *pd; /* one per m->eps */
	uint32_t *flags_before;
};

static int mm_row_cb(const struct dp_policy_row *r, void *ctx)
{
	struct mm_plan *pl = ctx;

	pl->use[r->proto && r->port_bits == 16 ? MM_POLICY_EXACT : MM_POLICY]++;
	return mm_push(&pl->rows, r);
}

static bool mm_is_host(const struct dp_ipcache_entry *e)
{
	return e->plen == (e->family == 4 ? 32 : 128);
}

static int mm_ipc_cb(const struct dp_ipcache_entry *e, void *ctx)
{
	struct mm_plan *pl = ctx;

	pl->use[mm_is_host(e) ? MM_IPCACHE_HOST : MM_IPCACHE]++;
	return mm_push(&pl->ipc, e);
}

static int mm_row_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct dp_policy_row *)a)->endpoint;
	uint32_t y = ((const struct dp_policy_row *)b)->endpoint;

	return x < y ? -1 : x > y;
}

/* The rows of one endpoint: a slice of the sorted rows (first index >= endpoint). */
static const struct dp_policy_row *mm_rows_of(const struct mm_plan *pl, uint32_t ep, size_t *n)
{
	const struct dp_policy_row *r = pl->rows.v;
	size_t lo = 0, hi = pl->rows.n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].endpoint < ep)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < pl->rows.n && r[end].endpoint == ep; end++)
		;
	*n = end - lo;
	return r + lo;
}

static void mm_plan_free(struct mm_plan *pl, size_t n_eps)
{
	free(pl->rows.v);
	free(pl->ipc.v);
	agent_ipcache_diff_free(&pl->id);
	for (size_t i = 0; pl->pd && i < n_eps; i++)
		agent_policy_diff_free(&pl->pd[i]);
	free(pl->pd);
	free(pl->flags_before);
}

static int mm_read(struct dp *dp, const struct agent_policy_multi *m, struct mm_plan *pl, char *err,
		   size_t err_len)
{
	int rc = dp_policy_foreach(dp, mm_row_cb, pl);

	/* The ipcache only when it is written: a policy-only change (the common case) then
	 * costs a read of the policy map alone. */
	if (!rc && m->ipcache)
		rc = dp_ipcache_foreach(dp, mm_ipc_cb, pl);
	for (size_t i = 0; !rc && i < m->n_eps; i++)
		rc = dp_endpoint_get(dp, m->eps[i].endpoint, &pl->flags_before[i]);
	if (rc)
		snprintf(err, err_len, "reading the datapath maps: %s", strerror(-rc));
	else
		qsort(pl->rows.v, pl->rows.n, sizeof(struct dp_policy_row), mm_row_cmp);
	return rc;
}

static int mm_diff(const struct agent_policy_multi *m, struct mm_plan *pl, char *err,
		   size_t err_len)
{
	int rc = 0;

	if (m->ipcache) {
		rc = agent_policy_ipcache_diff_parts(m->ipc_a, m->n_ipc_a, m->ipc_b, m->n_ipc_b,
						     pl->ipc.v, pl->ipc.n, m->ipc_keep,
						     m->n_ipc_keep, &pl->id);
		if (rc) {
			snprintf(err, err_len, "ipcache diff: %s", strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < m->n_eps; i++) {
		const struct agent_policy_ep_want *w = &m->eps[i];
		size_t n_have;
		const struct dp_policy_row *have = mm_rows_of(pl, w->endpoint, &n_have);

		rc = agent_policy_policy_diff(w->endpoint, w->remove ? NULL : w->entries,
					      w->remove ? 0 : w->n, have, n_have, &pl->pd[i], err,
					      err_len);
		if (rc)
			return rc;
	}
	return 0;
}

static int mm_capacity(struct dp *dp, const struct agent_policy_multi *m, const struct mm_plan *pl,
		       char *err, size_t err_len)
{
	size_t add[MM_N] = {0};

	for (size_t i = 0; i < m->n_eps; i++) {
		add[MM_POLICY] += pl->pd[i].keys_added_lpm;
		add[MM_POLICY_EXACT] += pl->pd[i].keys_added_exact;
	}
	for (size_t i = 0; i < pl->id.n_add; i++)
		add[mm_is_host(&pl->id.add[i]) ? MM_IPCACHE_HOST : MM_IPCACHE]++;
	for (int k = 0; k < MM_N; k++) {
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		int fd;

		if (!add[k])
			continue;
		fd = dp_map_fd(dp, mm_name[k]);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			snprintf(err, err_len, "reading the size of map %s", mm_name[k]);
			return fd < 0 ? fd : -errno;
		}
		if (pl->use[k] + add[k] > info.max_entries) {
			snprintf(
			    err, err_len,
			    "the change needs %zu new entries in map %s, which holds %zu of %u "
			    "(old entries stay until the new ones are in): nothing was written, "
			    "the old policy stays in force",
			    add[k], mm_name[k], pl->use[k], info.max_entries);
			return -ENOSPC;
		}
	}
	return 0;
}

static void mm_emit(agent_policy_change_cb cb, void *arg, const char *kind, uint32_t ep,
		    const struct policy_entry *v, size_t n)
{
	char buf[200];

	for (size_t i = 0; cb && i < n; i++) {
		const struct policy_entry *e = &v[i];

		snprintf(buf, sizeof(buf), "endpoint %u %s %s identity %u %s %u-%u rule %u", ep,
			 dp_dir_name(e->direction), e->deny ? "deny" : "allow", e->identity,
			 dp_proto_name(e->proto), e->port_lo, e->port_hi, e->rule_id);
		cb(arg, kind, buf);
	}
}

static int mm_fail(int rc, const char *what, uint32_t ep, char *err, size_t err_len)
{
	snprintf(err, err_len, "%s of endpoint %u: %s", what, ep, strerror(-rc));
	return rc;
}

/* Additions of listed endpoints, ipcache additions/changes, flags (see the contract). */
static int mm_write_widen(struct dp *dp, const struct agent_policy_multi *m,
			  const struct mm_plan *pl, agent_policy_change_cb cb, void *arg, char *err,
			  size_t err_len)
{
	int rc;

	for (size_t i = 0; i < m->n_eps; i++) {
		rc = agent_policy_write_keys(dp, m->eps[i].endpoint, pl->pd[i].add, pl->pd[i].n_add,
					     true);
		if (rc)
			return mm_fail(rc, "adding policy keys", m->eps[i].endpoint, err, err_len);
		mm_emit(cb, arg, "policy+", m->eps[i].endpoint, pl->pd[i].add, pl->pd[i].n_add);
	}
	rc = dp_ipcache_apply(dp, pl->id.add, pl->id.n_add, NULL, 0);
	rc = rc ?: dp_ipcache_apply(dp, pl->id.change, pl->id.n_change, NULL, 0);
	if (rc) {
		snprintf(err, err_len, "writing the ipcache: %s", strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < m->n_eps; i++) {
		if (m->eps[i].remove || pl->flags_before[i] == m->eps[i].flags)
			continue;
		rc = dp_endpoint_set(dp, m->eps[i].endpoint, m->eps[i].flags);
		if (rc)
			return mm_fail(rc, "setting enforcement", m->eps[i].endpoint, err, err_len);
	}
	return 0;
}

/* Removals, ipcache removals, then the endpoints that are no longer local. */
static int mm_write_narrow(struct dp *dp, const struct agent_policy_multi *m,
			   const struct mm_plan *pl, agent_policy_change_cb cb, void *arg,
			   char *err, size_t err_len)
{
	int rc;

	for (size_t i = 0; i < m->n_eps; i++) {
		if (m->eps[i].remove)
			continue;
		rc = agent_policy_write_keys(dp, m->eps[i].endpoint, pl->pd[i].del, pl->pd[i].n_del,
					     false);
		rc = rc
			 ?: agent_policy_relabel_write(dp, pl->pd[i].relabel, pl->pd[i].n_relabel,
						       NULL, NULL);
		if (rc)
			return mm_fail(rc, "removing policy keys", m->eps[i].endpoint, err,
				       err_len);
		mm_emit(cb, arg, "policy-", m->eps[i].endpoint, pl->pd[i].del, pl->pd[i].n_del);
	}
	rc = dp_ipcache_apply(dp, NULL, 0, pl->id.del, pl->id.n_del);
	if (rc) {
		snprintf(err, err_len, "removing ipcache entries: %s", strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < m->n_eps; i++) {
		if (!m->eps[i].remove)
			continue;
		rc = agent_policy_write_keys(dp, m->eps[i].endpoint, pl->pd[i].del, pl->pd[i].n_del,
					     false);
		rc = rc ?: dp_endpoint_set(dp, m->eps[i].endpoint, 0);
		if (rc)
			return mm_fail(rc, "removing", m->eps[i].endpoint, err, err_len);
		mm_emit(cb, arg, "policy-", m->eps[i].endpoint, pl->pd[i].del, pl->pd[i].n_del);
	}
	return 0;
}

static void mm_report(const struct agent_policy_multi *m, const struct mm_plan *pl,
		      struct agent_policy_multi_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->eps = m->n_eps;
	rep->ipc_add = pl->id.n_add;
	rep->ipc_change = pl->id.n_change;
	rep->ipc_del = pl->id.n_del;
	for (size_t i = 0; i < m->n_eps; i++) {
		rep->eps_removed += m->eps[i].remove;
		rep->pol_add += pl->pd[i].keys_added;
		rep->pol_del += pl->pd[i].keys_removed;
		rep->pol_relabel += pl->pd[i].n_relabel;
		rep->flags_changed +=
		    pl->flags_before[i] != (m->eps[i].remove ? 0 : m->eps[i].flags);
	}
}

int agent_policy_multi_apply(struct dp *dp, const struct agent_policy_multi *m,
			     agent_policy_change_cb cb, void *cb_arg,
			     struct agent_policy_multi_report *rep, char *err, size_t err_len)
{
	struct mm_plan pl = {
	    .rows = {.size = sizeof(struct dp_policy_row)},
	    .ipc = {.size = sizeof(struct dp_ipcache_entry)},
	};
	int rc = -ENOMEM;

	if (err_len)
		err[0] = '\0';
	pl.pd = calloc(m->n_eps + 1, sizeof(*pl.pd));
	pl.flags_before = calloc(m->n_eps + 1, sizeof(*pl.flags_before));
	/* Never NULL, even when a map is empty: the diff helpers get real arrays. */
	pl.rows.v = malloc((pl.rows.cap = 256) * pl.rows.size);
	pl.ipc.v = malloc((pl.ipc.cap = 256) * pl.ipc.size);
	if (!pl.pd || !pl.flags_before || !pl.rows.v || !pl.ipc.v)
		goto out;
	rc = mm_read(dp, m, &pl, err, err_len);
	rc = rc ?: mm_diff(m, &pl, err, err_len);
	rc = rc ?: mm_capacity(dp, m, &pl, err, err_len);
	if (rc)
		goto out;
	if (rep)
		mm_report(m, &pl, rep);
	rc = mm_write_widen(dp, m, &pl, cb, cb_arg, err, err_len);
	rc = rc ?: mm_write_narrow(dp, m, &pl, cb, cb_arg, err, err_len);
out:
	if (rc == -ENOMEM && err_len && !err[0])
		snprintf(err, err_len, "%s", strerror(ENOMEM));
	mm_plan_free(&pl, m->n_eps);
	return rc;
}

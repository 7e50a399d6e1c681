// SPDX-License-Identifier: GPL-2.0-only
/*
 * gateway_policy: the gateway's local endpoints and their per-endpoint diffs.
 *
 * Local endpoints are identities (the policy map is keyed by the endpoint's identity: all
 * endpoints of one identity share its policy): every machine's, and every pod's whose
 * ipcache prefix lies inside a CIDR this gateway serves. Each flush reconciles that set
 * with the engine, collects the endpoints whose entries changed (the engine's change
 * lists, new endpoints, removed ones) and writes them, with the ipcache when it changed,
 * through agent_policy_multi_apply() under the pin directory's writer lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent/gateway_internal.h"
#include "agent/policy_sync.h"
#include "lib/log.h"
#include "policy/engine.h"

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool u32_in(const uint32_t *v, size_t n, uint32_t x)
{
	return n && bsearch(&x, v, n, sizeof(x), u32_cmp);
}

static void set_add(struct gateway *gw, struct gw_vec *set, uint32_t id)
{
	long i = gw_vec_find(set, &id);

	if (i < 0 && gw_vec_insert(set, (size_t)(-i - 1), &id))
		gw->fatal = -ENOMEM;
}

void gw_policy_mark_endpoint(struct gateway *gw, uint32_t id)
{
	if (u32_in(gw->eps, gw->n_eps, id))
		set_add(gw, &gw->dirty, id);
}

void gw_policy_mark(struct gateway *gw, const struct policy_changes *ch)
{
	for (size_t i = 0; i < ch->n_eps; i++)
		gw_policy_mark_endpoint(gw, ch->eps[i].endpoint);
	if (ch->n_cidr_add || ch->n_cidr_del)
		gw->ipc_dirty = true;
}

/* Whether prefix e lies inside a served CIDR. */
static bool served(const struct gateway *gw, const struct dp_ipcache_entry *e)
{
	for (size_t i = 0; i < gw->n_served; i++) {
		const struct dp_ipcache_entry *c = &gw->served[i];
		size_t full = c->plen / 8, bits = c->plen % 8;

		if (c->family != e->family || e->plen < c->plen)
			continue;
		if (memcmp(c->addr, e->addr, full))
			continue;
		if (bits && (c->addr[full] ^ e->addr[full]) & (0xff << (8 - bits)))
			continue;
		return true;
	}
	return false;
}

/* The identities that should be local endpoints, sorted and unique. */
static int wanted_endpoints(struct gateway *gw, uint32_t **out, size_t *n_out)
{
	size_t n = 0, cap = gw->workloads.n + gw->pods.n + 1;
	uint32_t *v = malloc(cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < gw->workloads.n; i++)
		v[n++] = ((struct gw_workload *)gw_vec_at(&gw->workloads, i))->identity;
	for (size_t i = 0; i < gw->pods.n; i++) {
		const struct gw_pod *p = gw_vec_at(&gw->pods, i);

		if (served(gw, &p->ipc))
			v[n++] = p->ipc.identity;
	}
	qsort(v, n, sizeof(*v), u32_cmp);
	/* Every local identity, labelled or not (stale_map_endpoints() keeps their keys). */
	free(gw->local_ids);
	gw->local_ids = malloc((n + 1) * sizeof(*v));
	if (!gw->local_ids) {
		free(v);
		return -ENOMEM;
	}
	gw->n_local_ids = 0;
	for (size_t i = 0; i < n; i++)
		if (!gw->n_local_ids || gw->local_ids[gw->n_local_ids - 1] != v[i])
			gw->local_ids[gw->n_local_ids++] = v[i];
	*n_out = 0;
	for (size_t i = 0; i < n; i++) {
		/* An identity the engine does not know has no labels to select it by: it
		 * becomes an endpoint once identities/<id> arrives. One that was an endpoint
		 * and lost its record stays one with the labels it had (fail-static: its
		 * machine's egress is not opened by a deleted identity record). */
		if (!policy_engine_identity_labels(gw->engine, v[i]) &&
		    !u32_in(gw->eps, gw->n_eps, v[i])) {
			log_debug("gateway: identity %u has no identities/ record yet", v[i]);
			continue;
		}
		if (!*n_out || v[*n_out - 1] != v[i])
			v[(*n_out)++] = v[i];
	}
	*out = v;
	return 0;
}

/* Brings the engine's endpoints in line with the wanted set; marks what changed. */
static int reconcile_endpoints(struct gateway *gw)
{
	uint32_t *want;
	size_t n_want;
	int rc = wanted_endpoints(gw, &want, &n_want);

	if (rc)
		return rc;
	for (size_t i = 0; i < gw->n_eps; i++)
		if (!u32_in(want, n_want, gw->eps[i])) {
			policy_engine_endpoint_remove(gw->engine, gw->eps[i]);
			set_add(gw, &gw->removed, gw->eps[i]);
		}
	for (size_t i = 0; i < n_want && !rc; i++) {
		const struct label_set *l = policy_engine_identity_labels(gw->engine, want[i]);
		long r = gw_vec_find(&gw->removed, &want[i]);

		if (r >= 0)
			gw_vec_remove(&gw->removed, (size_t)r);
		/* (re)set: a new endpoint, or one whose identity's labels may have changed */
		if (u32_in(gw->eps, gw->n_eps, want[i]) && gw_vec_find(&gw->dirty, &want[i]) < 0 &&
		    !gw->full)
			continue;
		if (l)
			rc = policy_engine_endpoint_set(gw->engine, want[i], l, NULL);
		set_add(gw, &gw->dirty, want[i]);
	}
	free(gw->eps);
	gw->eps = want;
	gw->n_eps = n_want;
	gw->eps_dirty = false;
	return rc;
}

/* Endpoints the maps hold (a previous run's) that are not local: removed in a full flush.
 * A local identity whose labels are not known yet keeps what the maps hold for it. */
static int stale_map_endpoints(struct gateway *gw)
{
	int fd = dp_map_fd(gw->dp, "endpoints");
	uint32_t key, next;
	uint32_t *prev = NULL;

	if (fd < 0)
		return fd;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (!u32_in(gw->eps, gw->n_eps, key) &&
		    !u32_in(gw->local_ids, gw->n_local_ids, key))
			set_add(gw, &gw->removed, key);
	}
	return 0;
}

static void flush_cb(void *arg, const char *kind, const char *text)
{
	(void)arg;
	log_debug("gateway: %s %s", kind, text);
}

/* Store-owned ipcache entries: machines first (their record binds the underlay, and wins a
 * prefix a pod record also names), then pods. */
static struct dp_ipcache_entry *ipcache_want(struct gateway *gw, size_t *n)
{
	struct dp_ipcache_entry *v = malloc((gw->workloads.n + gw->pods.n + 1) * sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < gw->workloads.n; i++)
		v[(*n)++] = ((struct gw_workload *)gw_vec_at(&gw->workloads, i))->ipc;
	for (size_t i = 0; i < gw->pods.n; i++)
		v[(*n)++] = ((struct gw_pod *)gw_vec_at(&gw->pods, i))->ipc;
	return v;
}

static struct agent_policy_ep_want *eps_want(struct gateway *gw, size_t *n)
{
	struct agent_policy_ep_want *v = calloc(gw->dirty.n + gw->removed.n + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < gw->dirty.n; i++) {
		uint32_t ep = *(uint32_t *)gw_vec_at(&gw->dirty, i);
		struct agent_policy_ep_want *w = &v[*n];

		if (!u32_in(gw->eps, gw->n_eps, ep))
			continue;
		w->endpoint = ep;
		w->entries = policy_engine_entries(gw->engine, ep, &w->n);
		w->flags = agent_policy_enforce_flags(
		    w->entries, w->n, policy_engine_enforced(gw->engine, ep, POLICY_INGRESS),
		    policy_engine_enforced(gw->engine, ep, POLICY_EGRESS));
		(*n)++;
	}
	for (size_t i = 0; i < gw->removed.n; i++)
		v[(*n)++] = (struct agent_policy_ep_want){
		    .endpoint = *(uint32_t *)gw_vec_at(&gw->removed, i), .remove = true};
	return v;
}

static int flush_write(struct gateway *gw, char *err, size_t err_len)
{
	struct agent_policy_multi m = {.ipcache = gw->ipc_dirty || gw->full};
	struct agent_policy_multi_report rep = {0};
	struct dp_ipcache_entry *ipc = NULL, *cid = NULL;
	struct agent_policy_ep_want *eps;
	const struct policy_cidr_identity *cids;
	size_t n_cids = 0;
	int rc = -ENOMEM, lock = -1;

	eps = eps_want(gw, &m.n_eps);
	m.eps = eps;
	if (m.ipcache) {
		cids = policy_engine_cidr_identities(gw->engine, &n_cids);
		ipc = ipcache_want(gw, &m.n_ipc_a);
		cid = malloc((n_cids + 1) * sizeof(*cid));
		if (!ipc || !cid)
			goto out;
		for (size_t i = 0; i < n_cids; i++)
			agent_policy_ipcache_from_cidr(&cids[i], &cid[i]);
		m.ipc_a = ipc;
		m.ipc_b = cid;
		m.n_ipc_b = n_cids;
		m.ipc_keep = gw->held.v;
		m.n_ipc_keep = gw->held.n;
	}
	if (!eps)
		goto out;
	rc = dp_lock(gw->bpffs, gw->lock_timeout_ms, &lock);
	if (rc) {
		snprintf(err, err_len, "locking %s: %s", gw->bpffs, strerror(-rc));
		goto out;
	}
	rc = agent_policy_multi_apply(gw->dp, &m, flush_cb, gw, &rep, err, err_len);
	dp_unlock(lock);
	if (!rc && (rep.pol_add || rep.pol_del || rep.ipc_add || rep.ipc_change || rep.ipc_del ||
		    rep.flags_changed))
		log_info("gateway: wrote %zu endpoint(s) (%zu removed): policy +%zu -%zu, "
			 "ipcache +%zu ~%zu -%zu, %zu flag change(s)",
			 rep.eps, rep.eps_removed, rep.pol_add, rep.pol_del, rep.ipc_add,
			 rep.ipc_change, rep.ipc_del, rep.flags_changed);
out:
	if (rc == -ENOMEM && err_len && !err[0])
		snprintf(err, err_len, "%s", strerror(ENOMEM));
	free(eps);
	free(ipc);
	free(cid);
	return rc;
}

int gw_policy_flush(struct gateway *gw, char *err, size_t err_len)
{
	int rc = 0;

	if (err_len)
		err[0] = '\0';
	if (!gw_all_synced(gw))
		return 0;
	if (gw->eps_dirty || gw->full)
		rc = reconcile_endpoints(gw);
	if (!rc && gw->full)
		rc = stale_map_endpoints(gw);
	if (rc) {
		snprintf(err, err_len, "computing local endpoints: %s", strerror(-rc));
		return rc;
	}
	if (gw->full)
		for (size_t i = 0; i < gw->n_eps; i++)
			set_add(gw, &gw->dirty, gw->eps[i]);
	if (!gw->dirty.n && !gw->removed.n && !gw->ipc_dirty && !gw->full)
		return 0;
	gw->st.flushes++;
	rc = flush_write(gw, err, err_len);
	if (rc) {
		gw->st.flush_errors++;
		return rc; /* everything stays marked: the next flush retries */
	}
	gw_vec_clear(&gw->dirty);
	gw_vec_clear(&gw->removed);
	gw->ipc_dirty = gw->full = false;
	gw->st.synced = true;
	gw->st.endpoints = gw->n_eps;
	return 0;
}

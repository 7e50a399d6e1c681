// SPDX-License-Identifier: GPL-2.0-only
/*
 * gateway_store: the gateway's four watches (identities/, policies/, ipcache/, workloads/),
 * each listed first and then followed. Identities and policies go straight into the
 * incremental engine; ipcache pods and workloads are mirrored (sorted arrays) because the
 * gateway derives its local endpoints, its ipcache and its WireGuard peers from them.
 *
 * A record that does not decode is logged with its key and changes nothing: the engine
 * keeps the last valid version of a policy, the map keeps its entry for an ipcache prefix
 * (fail-static, as agent/policy_sync does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/gateway_internal.h"
#include "agent/policy_sync.h"
#include "lib/kv/kv.h"
#include "lib/log.h"
#include "policy/engine.h"
#include "tunnel/keys.h"

static const char *const watch_prefix[GW_W_N] = {"identities/", "policies/", "ipcache/",
						 "workloads/"};

/* Changes are computed only once the gateway is live; during a listing the engine is
 * filled without them (the first flush diffs every endpoint anyway). */
static struct policy_changes *changes_of(struct gateway *gw, struct policy_changes *ch)
{
	return gw_all_synced(gw) ? ch : NULL;
}

static void after_changes(struct gateway *gw, struct policy_changes *ch)
{
	gw_policy_mark(gw, ch);
	policy_changes_free(ch);
}

/* ---- identities/ ---- */

static void on_identity(struct gateway *gw, enum kv_event_type t, const char *key,
			const struct kv_pair *kv)
{
	struct policy_changes ch = {0};
	struct store_identity id = {0};
	char why[256];
	int rc;

	if (t == KV_EVENT_DELETE) {
		const char *rest = NULL;
		char *end;
		unsigned long n;

		store_key_kind(&gw->store, key, &rest);
		n = strtoul(rest ? rest : "", &end, 10);
		if (!rest || !*rest || *end || n > UINT32_MAX)
			return;
		rc = policy_engine_identity_remove(gw->engine, (uint32_t)n, changes_of(gw, &ch));
		gw->eps_dirty = true;
		after_changes(gw, &ch);
		return;
	}
	if (!store_identity_decode(key, kv->value, kv->value_len, &id, why, sizeof(why))) {
		log_warn("gateway: skipping %s: %s", key, why);
		return;
	}
	rc = policy_engine_identity_set(gw->engine, id.id, &id.labels, changes_of(gw, &ch));
	/* An endpoint's own labels may have changed: it is set again at the next flush. */
	gw->eps_dirty = true;
	gw_policy_mark_endpoint(gw, id.id);
	if (rc && rc != -ENOENT)
		log_warn("gateway: %s: the engine refused it (%s)", key, strerror(-rc));
	if (rc == -ENOMEM)
		gw->fatal = -ENOMEM;
	after_changes(gw, &ch);
	store_identity_clear(&id);
}

/* ---- policies/ ---- */

/*
 * A policy record the engine cannot use. Live, the engine keeps the version it has (what
 * the gateway enforced before the bad write). In a listing (start, compaction) there is no
 * such version: the last valid one from etcd's history stands in, as in agent/policy_sync;
 * without one the record is skipped. false: nothing to apply.
 */
static bool policy_recover(struct gateway *gw, const char *path, struct store_policy *out,
			   const char *why)
{
	int64_t rev = 0;

	if (!gw_all_synced(gw) && store_policy_last_valid(&gw->store, path, 16, out, &rev) == 0) {
		log_warn("gateway: policies/%s: %s; using its last valid version (revision %lld)",
			 path, why, (long long)rev);
		return true;
	}
	log_warn("gateway: skipping policies/%s: %s (the last valid version stays)", path, why);
	return false;
}

static void on_policy(struct gateway *gw, enum kv_event_type t, const char *path,
		      const struct kv_pair *kv)
{
	struct policy_changes ch = {0};
	struct store_policy p = {0};
	char why[512] = "", key[2 * STORE_NAME_MAX + 16];
	int rc;

	if (t == KV_EVENT_DELETE) {
		snprintf(key, sizeof(key), "%s", path);
		rc = policy_engine_policy_remove(gw->engine, key, changes_of(gw, &ch));
		after_changes(gw, &ch);
		return;
	}
	if (!store_policy_decode(path, kv->value, kv->value_len, &p, why, sizeof(why)) ||
	    !store_policy_usable(p.object, why, sizeof(why))) {
		json_decref(p.object);
		p.object = NULL;
		if (!policy_recover(gw, path, &p, why))
			return;
	}
	agent_policy_engine_key(&p, key, sizeof(key));
	rc = policy_engine_policy_set(gw->engine, key, p.object, changes_of(gw, &ch), why,
				      sizeof(why));
	if (rc == -ENOMEM)
		gw->fatal = -ENOMEM;
	else if (rc)
		log_warn("gateway: skipping policies/%s: %s (the last valid version stays)", path,
			 why[0] ? why : strerror(-rc));
	after_changes(gw, &ch);
	json_decref(p.object);
}

/* ---- ipcache/ ---- */

static void pod_forget(struct gateway *gw, const struct dp_ipcache_entry *e)
{
	long i = gw_vec_find(&gw->pods, e);

	if (i >= 0)
		gw_vec_remove(&gw->pods, (size_t)i);
	i = gw_vec_find(&gw->held, e);
	if (i >= 0)
		gw_vec_remove(&gw->held, (size_t)i);
}

static int vec_upsert(struct gw_vec *a, const void *e)
{
	long i = gw_vec_find(a, e);

	if (i >= 0) {
		memcpy(gw_vec_at(a, (size_t)i), e, a->size);
		return 0;
	}
	return gw_vec_insert(a, (size_t)(-i - 1), e);
}

static void on_ipcache(struct gateway *gw, enum kv_event_type t, const char *rest,
		       const struct kv_pair *kv)
{
	struct store_ipcache r;
	struct gw_pod pod = {0};
	char why[256];

	if (!dp_parse_cidr(rest, &pod.ipc, why, sizeof(why))) {
		log_warn("gateway: ignoring ipcache/%s: %s", rest, why);
		return;
	}
	gw->ipc_dirty = gw->eps_dirty = true;
	if (t == KV_EVENT_DELETE) {
		pod_forget(gw, &pod.ipc);
		return;
	}
	if (!store_ipcache_decode(rest, kv->value, kv->value_len, &r, why, sizeof(why)) ||
	    (r.kind == STORE_IPCACHE_POD &&
	     !agent_policy_ipcache_from_store(&r, &pod.ipc, why, sizeof(why)))) {
		log_warn("gateway: ipcache/%s: %s (the datapath keeps its entry)", rest, why);
		if (vec_upsert(&gw->held, &pod.ipc))
			gw->fatal = -ENOMEM;
		return;
	}
	pod_forget(gw, &pod.ipc);
	/* Machines come from workloads/ (their record binds the underlay); a workload
	 * record here names the gateway serving it, which is us. */
	if (r.kind != STORE_IPCACHE_POD)
		return;
	pod.ipc.tunnel_ipv4 = 0; /* the node's own routing reaches pods */
	pod.ipc.flags = 0;
	if (vec_upsert(&gw->pods, &pod))
		gw->fatal = -ENOMEM;
}

/* ---- workloads/ ---- */

static bool workload_from_record(const struct store_workload *w, struct gw_workload *out, char *why,
				 size_t why_len)
{
	char cidr[STORE_IP_MAX + 8];
	struct in_addr ul;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", w->name);
	out->identity = w->identity;
	snprintf(cidr, sizeof(cidr), "%s", w->overlay_ip);
	if (!dp_parse_cidr(cidr, &out->ipc, why, why_len))
		return false;
	if (out->ipc.plen != (out->ipc.family == 4 ? 32 : 128)) {
		snprintf(why, why_len, "overlay_ip %s is not a host address", w->overlay_ip);
		return false;
	}
	if (inet_pton(AF_INET, w->underlay_ip, &ul) != 1) {
		snprintf(why, why_len, "underlay_ip %s is not IPv4 (tunnel endpoints are IPv4)",
			 w->underlay_ip);
		return false;
	}
	out->ipc.identity = w->identity;
	out->ipc.tunnel_ipv4 = ul.s_addr;
	out->ipc.flags = DP_IPC_F_WORKLOAD;
	if (w->wg_public_key[0]) {
		if (!tunnel_key_from_base64(out->key, w->wg_public_key, why, why_len))
			return false;
		out->has_key = true;
	}
	return true;
}

static void workload_remove(struct gateway *gw, const char *name)
{
	struct gw_workload key = {0};
	long i;

	snprintf(key.name, sizeof(key.name), "%s", name);
	i = gw_vec_find(&gw->workloads, &key);
	if (i < 0)
		return;
	gw_peer_update(gw, gw_vec_at(&gw->workloads, (size_t)i), NULL);
	gw_vec_remove(&gw->workloads, (size_t)i);
	gw->ipc_dirty = gw->eps_dirty = true;
}

static void on_workload(struct gateway *gw, enum kv_event_type t, const char *key, const char *rest,
			const struct kv_pair *kv)
{
	struct store_workload w = {0};
	struct gw_workload cur, *old;
	char why[256];
	long i;

	if (t == KV_EVENT_DELETE) {
		workload_remove(gw, rest);
		return;
	}
	if (!store_workload_decode(key, kv->value, kv->value_len, &w, why, sizeof(why)) ||
	    !workload_from_record(&w, &cur, why, sizeof(why))) {
		/* Fail-static: a machine whose record is unusable keeps what it had. */
		log_warn("gateway: skipping %s: %s", key, why);
		store_workload_clear(&w);
		return;
	}
	store_workload_clear(&w);
	i = gw_vec_find(&gw->workloads, &cur);
	old = i >= 0 ? gw_vec_at(&gw->workloads, (size_t)i) : NULL;
	gw_peer_update(gw, old, &cur);
	if (old)
		*old = cur;
	else if (gw_vec_insert(&gw->workloads, (size_t)(-i - 1), &cur))
		gw->fatal = -ENOMEM;
	gw->ipc_dirty = gw->eps_dirty = true;
}

/* ---- watch callbacks ---- */

static void cb_reset(void *arg)
{
	struct gw_watch_arg *a = arg;
	struct gateway *gw = a->gw;

	if (gw->synced[a->which] && (a->which == GW_W_IDENTITIES || a->which == GW_W_POLICIES)) {
		gw->restart = true; /* after compaction: a fresh engine from fresh listings */
		return;
	}
	gw->synced[a->which] = false;
	if (a->which == GW_W_IPCACHE) {
		gw_vec_clear(&gw->pods);
		gw_vec_clear(&gw->held);
	} else if (a->which == GW_W_WORKLOADS) {
		gw_vec_clear(&gw->workloads); /* peers are swept once the listing is in */
	}
}

static void cb_event(void *arg, enum kv_event_type t, const struct kv_pair *kv)
{
	struct gw_watch_arg *a = arg;
	struct gateway *gw = a->gw;
	const char *rest = NULL;
	enum store_kind k = store_key_kind(&gw->store, kv->key, &rest);

	if (gw->restart)
		return;
	gw->delivered++;
	if (k == STORE_KIND_IDENTITY && a->which == GW_W_IDENTITIES)
		on_identity(gw, t, kv->key, kv);
	else if (k == STORE_KIND_POLICY && a->which == GW_W_POLICIES)
		on_policy(gw, t, rest, kv);
	else if (k == STORE_KIND_IPCACHE && a->which == GW_W_IPCACHE)
		on_ipcache(gw, t, rest, kv);
	else if (k == STORE_KIND_WORKLOAD && a->which == GW_W_WORKLOADS)
		on_workload(gw, t, kv->key, rest, kv);
}

static void cb_synced(void *arg, int64_t revision)
{
	struct gw_watch_arg *a = arg;
	struct gateway *gw = a->gw;
	bool was = gw_all_synced(gw);

	(void)revision;
	gw->delivered++;
	gw->synced[a->which] = true;
	if (a->which == GW_W_WORKLOADS)
		gw_peers_sweep(gw);
	if (a->which == GW_W_IPCACHE || a->which == GW_W_WORKLOADS)
		gw->ipc_dirty = gw->eps_dirty = true;
	if (!was && gw_all_synced(gw))
		gw->full = true; /* every endpoint is diffed against the maps */
}

bool gw_all_synced(const struct gateway *gw)
{
	for (int i = 0; i < GW_W_N; i++)
		if (!gw->synced[i])
			return false;
	return true;
}

void gw_watches_close(struct gateway *gw)
{
	/* A closed watch's fd leaves the epoll set by itself. */
	for (int i = 0; i < GW_W_N; i++) {
		kv_watch_close(gw->w[i]);
		gw->w[i] = NULL;
		gw->synced[i] = false;
	}
}

void gw_watches_free(struct gateway *gw)
{
	gw_watches_close(gw);
	if (gw->wfd_ok)
		close(gw->wfd);
	gw->wfd_ok = false;
}

/* The four watches' fds in one epoll set: the gateway's one pollable fd, stable across
 * the reopen after a compaction (the set outlives the watches). */
static int watch_set_add(struct gateway *gw, struct kv_watch *w)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = kv_watch_fd(w)};

	if (!gw->wfd_ok) {
		gw->wfd = epoll_create1(EPOLL_CLOEXEC);
		if (gw->wfd < 0)
			return -errno;
		gw->wfd_ok = true;
	}
	return epoll_ctl(gw->wfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0 ? -errno : 0;
}

int gw_watches_open(struct gateway *gw, char *err, size_t err_len)
{
	static const struct kv_watch_ops ops = {
	    .reset = cb_reset, .event = cb_event, .synced = cb_synced};
	struct kv_watch_opts wo = {.list_first = true};
	char prefix[512];
	int rc;

	policy_engine_free(gw->engine);
	gw->engine = policy_engine_new();
	if (!gw->engine)
		return -ENOMEM;
	/* The engine's endpoints are gone with it: they are set again from the listings. */
	free(gw->eps);
	gw->eps = NULL;
	gw->n_eps = 0;
	gw->restart = false;
	for (int i = 0; i < GW_W_N; i++) {
		gw->warg[i] = (struct gw_watch_arg){gw, i};
		rc = store_key(&gw->store, prefix, sizeof(prefix), "%s", watch_prefix[i]);
		rc =
		    rc < 0 ? rc : kv_watch_open(gw->kv, prefix, &wo, &ops, &gw->warg[i], &gw->w[i]);
		if (rc) {
			snprintf(err, err_len, "watching %s: %s", prefix, kv_error(gw->kv));
			gw_watches_close(gw);
			return rc;
		}
		rc = watch_set_add(gw, gw->w[i]);
		if (rc) {
			snprintf(err, err_len, "watching %s: epoll: %s", prefix, strerror(-rc));
			gw_watches_close(gw);
			return rc;
		}
	}
	return 0;
}

int gw_watches_timeout_ms(const struct gateway *gw)
{
	int t = -1;

	if (!gw->w[0]) {
		int64_t wait = gw->reopen_at_ms - gw_now_ms();

		return wait > 0 ? (wait > INT32_MAX ? INT32_MAX : (int)wait) : 0;
	}
	for (int i = 0; i < GW_W_N && gw->w[i]; i++) {
		int wt = kv_watch_timeout_ms(gw->w[i]);

		if (wt >= 0 && (t < 0 || wt < t))
			t = wt;
	}
	return t;
}

/* One step of every watch (each without waiting). */
static int step_all(struct gateway *gw)
{
	int rc = 0;

	for (int i = 0; i < GW_W_N && !rc && gw->w[i]; i++)
		rc = kv_watch_poll(gw->w[i], 0);
	return rc;
}

/*
 * The watches are stepped when their epoll set (gateway_fd()) is readable or one of them
 * has a timer due; with timeout_ms > 0 (a caller without its own loop) this waits on the
 * set itself. Nothing here wakes on a period: an idle gateway sleeps until etcd sends.
 */
int gw_watches_poll(struct gateway *gw, int timeout_ms)
{
	int rc = 0;

	if (!gw->w[0]) {
		/* A reopen failed earlier: try again, at most once a second. */
		int64_t wait = gw->reopen_at_ms - gw_now_ms();

		if (wait > 0) {
			if (timeout_ms > 0)
				poll(NULL, 0, (int)(wait < timeout_ms ? wait : timeout_ms));
			return gw->fatal;
		}
		gw->restart = true;
	}
	gw->delivered = 0;
	if (gw->w[0])
		rc = step_all(gw);
	if (!rc && !gw->delivered && gw->w[0] && timeout_ms > 0 && gw->wfd_ok) {
		int wait = gw_watches_timeout_ms(gw);
		struct pollfd p = {.fd = gw->wfd, .events = POLLIN};

		if (poll(&p, 1, wait < 0 || wait > timeout_ms ? timeout_ms : wait) > 0 || wait >= 0)
			rc = step_all(gw);
	}
	if (gw->delivered)
		gw->last_event_ms = gw_now_ms();
	if (!rc && gw->restart) {
		char err[256];

		log_warn("gateway: identities or policies were relisted (compaction): rebuilding "
			 "the engine from a fresh listing; the maps keep enforcing meanwhile");
		gw_watches_close(gw);
		rc = gw_watches_open(gw, err, sizeof(err));
		if (rc) {
			log_warn("gateway: %s (retried in a second)", err);
			gw->reopen_at_ms = gw_now_ms() + 1000;
		}
		rc = rc == -ENOMEM ? rc : 0;
	}
	if (!rc && gw->fatal)
		rc = gw->fatal;
	for (int i = 0; i < GW_W_N && gw->w[i]; i++) {
		int64_t r = kv_watch_revision(gw->w[i]);

		if (i == 0 || r < gw->st.revision)
			gw->st.revision = r;
	}
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The store side of the loop: the first snapshot sync (agent/sync.h), then ONE watch on the
 * whole prefix from the revision the sync started at + 1, each event fed to the policy
 * engine and written as a diff (agent/policy_sync.h's incremental entry points; never a
 * flush). When the watch cannot resume (etcd compacted the revision) it resets and lists
 * again: the daemon then runs a snapshot sync, which is itself a diff against the maps, so
 * there is no gap and no window. The machine's `workloads/<name>/alive` is kept on a lease.
 *
 * The watch is a loop source: its fd (kv_watch_fd()) is polled and its timeout hook
 * (kv_watch_timeout_ms()) bounds the wait, so the loop sleeps until etcd sends something
 * or the watch has a reconnect/curl timer due; an idle daemon does not step it at all.
 * A resync (compaction, a failed write) runs right after the step that asked for it and,
 * when it fails, again every DAEMON_RETRY_MS from a one-shot timer.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/daemon_internal.h"
#include "agent/metrics.h"
#include "agent/policy_sync.h"
#include "agent/sync.h"
#include "bpf/dp.h"
#include "lib/kv/kv.h"
#include "lib/log.h"
#include "policy/engine.h"
#include "store/store_options.h"

#define DAEMON_ALIVE_TTL_S 15
#define DAEMON_RETRY_MS	   2000
#define DAEMON_LOCK_MS	   2000

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_connected(struct daemon *d, bool up, const char *why)
{
	struct daemon_store_state *st = &d->st;

	if (st->connected == up && st->since_wall)
		return;
	st->connected = up;
	st->since_wall = time(NULL);
	if (up)
		log_info("store: connected (%s)", kv_endpoint(st->kv));
	else
		log_warn("store: unreachable (%s); enforcing the last policy applied (%s)",
			 why ? why : "?", d->policy_source ? d->policy_source : "none");
	if (why)
		snprintf(st->last_error, sizeof(st->last_error), "%s", why);
	metrics_set(d->metrics, "pseudopod_store_connected", NULL, up ? 1 : 0);
}

static void mark_applied(struct daemon *d, int64_t revision)
{
	struct daemon_store_state *st = &d->st;

	if (revision > st->revision)
		st->revision = revision;
	st->last_sync_wall = time(NULL);
	st->last_sync_mono_ns = mono_ns();
	metrics_set_age(d->metrics, "pseudopod_store_last_sync_age_seconds", NULL,
			st->last_sync_mono_ns);
	daemon_applied(d, "store", st->revision);
}

struct policy_engine *daemon_engine(struct daemon *d)
{
	struct agent_policy_sync *ps = daemon_policy_sync(d);

	return ps ? agent_policy_engine(ps) : NULL;
}

struct agent_policy_sync *daemon_policy_sync(struct daemon *d)
{
	return d->st.sync && d->st.synced ? agent_sync_policy(d->st.sync) : NULL;
}

int daemon_store_open(struct daemon *d, char *err, size_t err_len)
{
	struct daemon_store_state *st = &d->st;
	struct store_options o;
	char why[512];
	int rc;

	store_options_init(&o);
	o.config_path = d->config_path;
	rc = store_options_resolve(&o, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, err_len, "store: %s", why);
		goto out;
	}
	snprintf(st->password, sizeof(st->password), "%s", o.password);
	struct kv_options ko = {
	    .endpoints = d->cfg.store.endpoints,
	    .ca_file = d->cfg.store.ca_file,
	    .cert_file = d->cfg.store.cert_file,
	    .key_file = d->cfg.store.key_file,
	    .user = d->cfg.store.user,
	    .password = st->password,
	    .timeout_ms = d->cfg.store.timeout_ms,
	};
	rc = kv_open(&st->kv, &ko);
	rc = rc ?: store_init(&st->store, st->kv, d->cfg.store.prefix);
	if (rc < 0) {
		snprintf(err, err_len, "store %s: %s", d->cfg.store.endpoints, strerror(-rc));
		goto out;
	}
	rc = agent_sync_open(
	    &(struct agent_sync_opts){
		.store = ko,
		.prefix = d->cfg.store.prefix,
		.bpffs = d->dp.bpffs,
		.identity = d->enr.workload.identity,
		.lock_timeout_ms = DAEMON_LOCK_MS,
	    },
	    &st->sync, err, err_len);
out:
	store_options_clear(&o);
	return rc;
}

/* The store's current revision, from a one-key range: the watch starts after it, so a
 * change made while the snapshot is read is seen again (applying it twice is harmless:
 * every incremental update is a set or a remove) rather than missed. */
static int current_revision(struct daemon *d, int64_t *rev)
{
	struct kv_range_result r = {0};
	int rc =
	    kv_range(d->st.kv, d->st.store.prefix, strlen(d->st.store.prefix),
		     &(struct kv_range_opts){.prefix = true, .limit = 1, .keys_only = true}, &r);

	if (rc == 0)
		*rev = r.revision;
	kv_range_result_free(&r);
	return rc;
}

static void gateways_resync(struct daemon *d);

static int snapshot_sync(struct daemon *d, const char *why)
{
	struct daemon_store_state *st = &d->st;
	struct agent_sync_result res;
	char err[DAEMON_ERR_MAX];
	int64_t rev = 0;
	uint64_t t0 = mono_ns();
	int rc = current_revision(d, &rev);

	if (rc < 0) {
		set_connected(d, false, kv_error(st->kv));
		return rc;
	}
	rc = agent_sync_run(st->sync, &res, err, sizeof(err));
	if (rc < 0) {
		log_warn("store: %s sync failed: %s", why, err);
		if (rc != -EINVAL && rc != -ENOENT && rc != -ENOSPC)
			set_connected(d, false, err);
		return rc;
	}
	set_connected(d, true, NULL);
	st->synced = true;
	st->rev_at_sync = rev;
	st->resyncs++;
	log_info("store: %s sync at revision %lld in %.0f ms: %zu identities, %zu ipcache "
		 "records, %zu policies; ipcache +%zu ~%zu -%zu, policy keys +%zu -%zu",
		 why, (long long)res.revision, (double)(mono_ns() - t0) / 1e6, res.rep.ids,
		 res.rep.ipcache_records, res.rep.policies, res.rep.ipc_add, res.rep.ipc_change,
		 res.rep.ipc_del, res.rep.pol_add, res.rep.pol_del);
	mark_applied(d, res.revision > rev ? res.revision : rev);
	gateways_resync(d);
	return 0;
}

int daemon_store_first_sync(struct daemon *d)
{
	return snapshot_sync(d, "initial");
}

/* ---- incremental updates from watch events ---- */

static int write_changes(struct daemon *d, struct policy_changes *ch, const char *key)
{
	char err[DAEMON_ERR_MAX];
	int lock = -1, rc = dp_lock(d->dp.bpffs, DAEMON_LOCK_MS, &lock);

	if (rc == 0)
		rc = agent_policy_sync_changes(daemon_policy_sync(d), ch, NULL, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "locking %s: %s", d->dp.bpffs, strerror(-rc));
	dp_unlock(lock);
	if (rc < 0) {
		/* The maps hold a state between old and new (policy_sync.h); a snapshot sync
		 * puts them right, by diff. */
		log_warn("%s: writing the change failed: %s; resyncing", key, err);
		d->st.resync_pending = true;
	}
	return rc;
}

static void on_identity(struct daemon *d, enum kv_event_type t, const struct kv_pair *kv,
			const char *rest)
{
	struct policy_engine *e = daemon_engine(d);
	struct policy_changes ch = {0};
	struct store_identity id = {0};
	char why[512];
	int rc;

	if (t == KV_EVENT_DELETE) {
		unsigned long v = strtoul(rest, NULL, 10);

		if (v == d->enr.workload.identity) {
			log_warn("%s: this machine's identity was deleted; keeping its policy",
				 kv->key);
			return;
		}
		rc = policy_engine_identity_remove(e, (uint32_t)v, &ch);
	} else {
		if (!store_identity_decode(kv->key, kv->value, kv->value_len, &id, why,
					   sizeof(why))) {
			log_warn("skipping %s: %s (keeping what it was)", kv->key, why);
			return;
		}
		rc = policy_engine_identity_set(e, id.id, &id.labels, &ch);
		if (rc == 0 && id.id == d->enr.workload.identity) {
			policy_changes_free(&ch);
			rc = policy_engine_endpoint_set(e, id.id, &id.labels, &ch);
		}
		daemon_api_forget_labels(d, id.id);
	}
	if (rc == 0)
		write_changes(d, &ch, kv->key);
	else if (rc != -ENOENT)
		d->st.resync_pending = true; /* -ENOMEM: the engine must be rebuilt */
	policy_changes_free(&ch);
	store_identity_clear(&id);
}

static void on_policy(struct daemon *d, enum kv_event_type t, const struct kv_pair *kv,
		      const char *rest)
{
	struct policy_engine *e = daemon_engine(d);
	struct policy_changes ch = {0};
	struct store_policy p = {0};
	char why[512] = "";
	int rc;

	if (t == KV_EVENT_DELETE) {
		rc = policy_engine_policy_remove(e, rest, &ch);
	} else {
		if (!store_policy_decode(rest, kv->value, kv->value_len, &p, why, sizeof(why))) {
			log_warn("skipping %s: %s (its previous version stays in force)", kv->key,
				 why);
			return;
		}
		rc = policy_engine_policy_set(e, rest, p.object, &ch, why, sizeof(why));
		json_decref(p.object);
	}
	if (rc == 0)
		write_changes(d, &ch, kv->key);
	else if (rc == -EINVAL)
		log_warn("skipping %s: %s (its previous version stays in force)", kv->key, why);
	else if (rc != -ENOENT)
		d->st.resync_pending = true;
	policy_changes_free(&ch);
}

static void on_ipcache(struct daemon *d, enum kv_event_type t, const struct kv_pair *kv,
		       const char *rest)
{
	struct store_ipcache r;
	char why[512], cidr[STORE_CIDR_MAX];
	int lock = -1, rc;

	if (t == KV_EVENT_PUT &&
	    !store_ipcache_decode(kv->key, kv->value, kv->value_len, &r, why, sizeof(why))) {
		log_warn("skipping %s: %s (the datapath keeps its entry)", kv->key, why);
		return;
	}
	if (t == KV_EVENT_DELETE && !store_cidr_canon(rest, cidr, why, sizeof(why))) {
		log_warn("skipping the deletion of %s: %s", kv->key, why);
		return;
	}
	rc = dp_lock(d->dp.bpffs, DAEMON_LOCK_MS, &lock);
	if (rc == 0)
		rc = t == KV_EVENT_PUT
			 ? agent_policy_ipcache_set(daemon_policy_sync(d), &r, why, sizeof(why))
			 : agent_policy_ipcache_remove(daemon_policy_sync(d), cidr, why,
						       sizeof(why));
	else
		snprintf(why, sizeof(why), "locking: %s", strerror(-rc));
	dp_unlock(lock);
	if (rc < 0 && rc != -ENOENT) {
		log_warn("%s: %s; resyncing", kv->key, why);
		d->st.resync_pending = true;
	}
}

/* ---- gateways/ and config: the tunnel follows them live (daemon_tunnel.c) ---- */

static void on_gateway(struct daemon *d, enum kv_event_type t, const struct kv_pair *kv,
		       const char *rest)
{
	struct store_gateway g;
	char why[512];

	if (t == KV_EVENT_DELETE) {
		daemon_tunnel_gateway_delete(d, rest);
		return;
	}
	/* Fail-static: a record that does not decode changes nothing. */
	if (!store_gateway_decode(kv->key, kv->value, kv->value_len, &g, why, sizeof(why))) {
		log_warn("%s; the tunnel keeps what it had", why);
		return;
	}
	daemon_tunnel_gateway_put(d, &g);
}

static void on_config(struct daemon *d, enum kv_event_type t, const struct kv_pair *kv)
{
	struct store_config c;
	char why[512];

	if (t == KV_EVENT_DELETE) {
		log_warn("%s deleted: this machine keeps the cluster configuration it has",
			 kv->key);
		return;
	}
	if (!store_config_decode(kv->value, kv->value_len, &c, why, sizeof(why)) ||
	    !store_config_validate(&c, why, sizeof(why))) {
		log_warn("%s: %s; ignored", kv->key, why);
		return;
	}
	daemon_tunnel_config(d, &c);
}

/*
 * After a listing (the first sync, or a resync after compaction) the watch's events in
 * between are not seen: the gateways/ set is read again and the tunnel converges on it.
 * A record that does not decode counts as present (its peer, if any, stays).
 */
static void gateways_resync(struct daemon *d)
{
	struct kv_range_result r = {0};
	struct store_gateway *list = NULL, *present = NULL;
	size_t n = 0, n_present = 0;
	char key[600], why[512];
	int rc;

	snprintf(key, sizeof(key), "%sgateways/", d->st.store.prefix);
	rc = kv_range(d->st.kv, key, strlen(key), &(struct kv_range_opts){.prefix = true}, &r);
	if (rc < 0) {
		log_warn("store: listing gateways/: %s (the tunnel keeps its gateways)",
			 kv_error(d->st.kv));
		return;
	}
	list = calloc(r.n + 1, sizeof(*list));
	present = calloc(r.n + 1, sizeof(*present));
	for (size_t i = 0; list && present && i < r.n; i++) {
		const char *name = r.kvs[i].key + strlen(key);

		if (strchr(name, '/'))
			continue;
		if (store_gateway_decode(r.kvs[i].key, r.kvs[i].value, r.kvs[i].value_len, &list[n],
					 why, sizeof(why)))
			n++;
		else
			log_warn("%s; the tunnel keeps what it had", why);
		snprintf(present[n_present++].name, sizeof(present[0].name), "%s", name);
	}
	if (list && present) {
		for (size_t i = 0; i < n; i++)
			daemon_tunnel_gateway_put(d, &list[i]);
		daemon_tunnel_gateways_keep_only(d, present, n_present);
	}
	free(list);
	free(present);
	kv_range_result_free(&r);
}

void daemon_store_publish_gateway(struct daemon *d)
{
	struct daemon_store_state *st = &d->st;
	const char *gw = daemon_tunnel_active_gateway(d);
	int rc;

	if (!st->alive_held || (st->alive_gateway_ok && !strcmp(st->alive_gateway, gw)))
		return;
	snprintf(st->alive_gateway, sizeof(st->alive_gateway), "%s", gw);
	rc = store_alive_set_gateway(&st->alive, gw);
	st->alive_gateway_ok = rc == 0;
	if (rc == 0)
		log_info("store: %s names gateway %s (the pods' return path follows)",
			 st->alive.key, gw[0] ? gw : "(none)");
	else
		log_warn("store: naming gateway %s in %s: %s (retried)", gw, st->alive.key,
			 store_error(&st->store));
}

static void w_reset(void *arg)
{
	struct daemon *d = arg;

	/* A listing follows (compaction): its events are not applied one by one; once it is
	 * complete, one snapshot sync diffs the maps against the store. */
	d->st.in_listing = true;
	log_warn("store: the watch lost its place (revision compacted); resyncing by snapshot");
}

static void w_synced(void *arg, int64_t revision)
{
	struct daemon *d = arg;

	d->st.in_listing = false;
	d->st.resync_pending = true;
	(void)revision;
}

static void w_progress(void *arg, int64_t revision)
{
	struct daemon *d = arg;

	set_connected(d, true, NULL);
	if (revision > d->st.revision)
		d->st.revision = revision;
}

static void w_event(void *arg, enum kv_event_type t, const struct kv_pair *kv)
{
	struct daemon *d = arg;
	const char *rest = NULL;

	set_connected(d, true, NULL);
	if (d->st.in_listing || !daemon_policy_sync(d))
		return;
	d->st.events++;
	switch (store_key_kind(&d->st.store, kv->key, &rest)) {
	case STORE_KIND_IDENTITY:
		on_identity(d, t, kv, rest);
		break;
	case STORE_KIND_POLICY:
		on_policy(d, t, kv, rest);
		break;
	case STORE_KIND_IPCACHE:
		on_ipcache(d, t, kv, rest);
		break;
	case STORE_KIND_CONFIG:
		on_config(d, t, kv);
		break;
	case STORE_KIND_GATEWAY:
		on_gateway(d, t, kv, rest);
		break;
	default:
		break; /* workloads, tokens, identities-by-labels: not this agent's business */
	}
	if (kv->mod_revision > 0)
		mark_applied(d, kv->mod_revision);
	d->st.sync_lag_s = 0;
}

static const struct kv_watch_ops watch_ops = {
    .reset = w_reset,
    .event = w_event,
    .synced = w_synced,
    .progress = w_progress,
};

/* A failed resync is retried from here, not from every watch step. */
static int on_resync_timer(void *ctx)
{
	struct daemon *d = ctx;
	struct daemon_store_state *st = &d->st;

	if (!st->resync_pending)
		return 0;
	if (!st->in_listing && snapshot_sync(d, "re") == 0) {
		st->resync_pending = false;
		return 0;
	}
	if (st->retry_timer < 0)
		st->retry_timer = daemon_loop_timer_add(d->loop, "store resync", DAEMON_RETRY_MS, 0,
							on_resync_timer, d);
	else
		daemon_loop_timer_arm(d->loop, st->retry_timer, DAEMON_RETRY_MS);
	return st->retry_timer < 0 ? st->retry_timer : 0;
}

static int on_watch(int fd, short revents, void *ctx)
{
	struct daemon *d = ctx;
	struct daemon_store_state *st = &d->st;
	unsigned reconnects = kv_watch_reconnects(st->watch);
	bool pending = st->resync_pending;
	int rc;

	(void)fd;
	(void)revents;
	rc = kv_watch_poll(st->watch, 0);
	if (kv_watch_reconnects(st->watch) != reconnects)
		set_connected(d, false, "watch stream dropped");
	/* Newly asked for: now. Already failing: the retry timer owns it. */
	if (st->resync_pending && !pending)
		on_resync_timer(d);
	return rc;
}

static int watch_timeout(void *ctx)
{
	struct daemon *d = ctx;

	return kv_watch_timeout_ms(d->st.watch);
}

static int open_watch(struct daemon *d)
{
	struct daemon_store_state *st = &d->st;
	int rc = kv_watch_open(
	    st->kv, st->store.prefix,
	    &(struct kv_watch_opts){.start_revision = st->rev_at_sync + 1, .progress_notify = true},
	    &watch_ops, d, &st->watch);

	if (rc < 0) {
		log_warn("store: watch: %s", strerror(-rc));
		return rc;
	}
	st->watch_src = daemon_loop_add(d->loop, &(struct daemon_loop_source){
						     .name = "store watch",
						     .fd = kv_watch_fd(st->watch),
						     .events = POLLIN,
						     .cb = on_watch,
						     .timeout_ms = watch_timeout,
						     .ctx = d,
						 });
	if (st->watch_src < 0) {
		rc = st->watch_src;
		log_warn("store: watch: %s", strerror(-rc));
		kv_watch_close(st->watch);
		st->watch = NULL;
	}
	return rc;
}

/* Keep-alive of the alive lease; also the store health probe while the watch waits to
 * reconnect (a refused connection is immediate, so this never stalls the loop for long). */
static int on_alive_timer(void *ctx)
{
	struct daemon *d = ctx;
	struct daemon_store_state *st = &d->st;
	int rc;

	if (!st->synced) {
		/* still on pins or a snapshot: try the store again */
		if (snapshot_sync(d, "initial") == 0 && !st->watch)
			open_watch(d);
		return 0;
	}
	if (!st->alive_held)
		st->alive_gateway_ok = false; /* a new record: name the gateway again */
	rc = st->alive_held ? store_alive_refresh(&st->alive)
			    : store_alive_start(&st->store, d->enr.workload.name,
						DAEMON_ALIVE_TTL_S, &st->alive);
	if (rc == 0) {
		st->alive_held = true;
		set_connected(d, true, NULL);
		daemon_store_publish_gateway(d);
	} else {
		set_connected(d, false, store_error(&st->store));
	}
	return 0;
}

/*
 * Timers, each with its reason: "store alive" every TTL/3 (the lease must be refreshed
 * before it expires; the same round trip is the health probe while the watch waits to
 * reconnect), "store resync" one-shot (a failed resync, retried every DAEMON_RETRY_MS).
 * The watch itself has none: it is an fd source.
 */
int daemon_store_start(struct daemon *d)
{
	struct daemon_store_state *st = &d->st;

	st->watch_src = -1;
	if (st->synced)
		open_watch(d);
	st->retry_timer = -1; /* added on the first failed resync */
	st->alive_timer = daemon_loop_timer_add(d->loop, "store alive", 0,
						DAEMON_ALIVE_TTL_S * 1000 / 3, on_alive_timer, d);
	if (!st->synced)
		daemon_loop_timer_arm(d->loop, st->alive_timer, DAEMON_RETRY_MS);
	return st->alive_timer < 0 ? st->alive_timer : 0;
}

void daemon_store_close(struct daemon *d)
{
	struct daemon_store_state *st = &d->st;

	if (st->alive_held && store_alive_stop(&st->alive) < 0)
		log_warn("store: revoking the alive lease: %s (it expires by itself)",
			 store_error(&st->store));
	if (st->watch)
		daemon_loop_remove(d->loop, st->watch_src);
	kv_watch_close(st->watch);
	agent_sync_close(st->sync);
	kv_close(st->kv);
	memset(st->password, 0, sizeof(st->password));
	st->watch = NULL;
	st->sync = NULL;
	st->kv = NULL;
}

static json_t *time_json(time_t t)
{
	char buf[32];
	struct tm tm;

	if (!t)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *daemon_store_status(struct daemon *d)
{
	struct daemon_store_state *st = &d->st;
	json_t *o =
	    json_pack("{s:s, s:b, s:o, s:I, s:o, s:b, s:I, s:I}", "endpoints",
		      d->cfg.store.endpoints, "connected", st->connected, "since",
		      time_json(st->since_wall), "revision", (json_int_t)st->revision, "last_sync",
		      time_json(st->last_sync_wall), "stale", !st->connected, "events",
		      (json_int_t)st->events, "snapshot_syncs", (json_int_t)st->resyncs);

	if (o && !st->connected && st->last_error[0])
		json_object_set_new(o, "error", json_string(st->last_error));
	if (o && st->watch)
		json_object_set_new(o, "watch_reconnects",
				    json_integer(kv_watch_reconnects(st->watch)));
	return o;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * sync: open the pinned datapath and the store, then lock -> snapshot -> diff -> write
 * (see sync.h). The one implementation behind pp-policy-sync and pseudopodd.
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sync.h"
#include "bpf/dp.h"
#include "lib/log.h"
#include "store/store.h"

#define AGENT_SYNC_DEFAULT_ENDPOINT "http://127.0.0.1:2379"

struct agent_sync {
	char bpffs[256];
	char endpoints[512];
	struct dp *dp;
	struct kv_client *kv;
	struct store store;
	struct agent_policy_sync *ps;
	int lock_timeout_ms;
};

/* The programs enforce for the identity fixed at load time: only that one may be synced. */
static int check_datapath(struct agent_sync *as, uint32_t identity, char *err, size_t err_len)
{
	struct dp_info info;
	int rc = dp_info_get(as->dp, &info);

	if (rc) {
		snprintf(err, err_len, "reading the datapath's info map: %s", strerror(-rc));
		return rc;
	}
	if (info.mode != DP_MODE_WORKLOAD || info.identity != identity) {
		snprintf(err, err_len,
			 "the datapath under %s was loaded in %s mode with identity %u, not "
			 "workload mode with identity %u",
			 as->bpffs, info.mode == DP_MODE_WORKLOAD ? "workload" : "gateway",
			 info.identity, identity);
		return -EINVAL;
	}
	return 0;
}

static int open_store(struct agent_sync *as, const struct agent_sync_opts *o, char *err,
		      size_t err_len)
{
	struct kv_options ko = o->store;
	int rc;

	if (!ko.endpoints || !ko.endpoints[0])
		ko.endpoints = AGENT_SYNC_DEFAULT_ENDPOINT;
	snprintf(as->endpoints, sizeof(as->endpoints), "%s", ko.endpoints);
	rc = kv_open(&as->kv, &ko);
	if (rc) {
		snprintf(err, err_len, "store %s: %s", as->endpoints, strerror(-rc));
		return rc;
	}
	rc = store_init(&as->store, as->kv, o->prefix);
	if (rc)
		snprintf(err, err_len, "--prefix '%s': %s", o->prefix ? o->prefix : "",
			 strerror(-rc));
	return rc;
}

int agent_sync_open(const struct agent_sync_opts *o, struct agent_sync **out, char *err,
		    size_t err_len)
{
	struct agent_sync *as = calloc(1, sizeof(*as));
	int rc;

	if (err_len)
		err[0] = '\0';
	if (!as) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	snprintf(as->bpffs, sizeof(as->bpffs), "%s", o->bpffs);
	as->lock_timeout_ms = o->lock_timeout_ms;
	rc = dp_open(o->bpffs, &as->dp);
	if (rc) {
		snprintf(err, err_len, "no datapath pinned under %s: %s (pp-datapath load first)",
			 o->bpffs, strerror(-rc));
		goto fail;
	}
	rc = check_datapath(as, o->identity, err, err_len);
	rc = rc ?: open_store(as, o, err, err_len);
	if (rc)
		goto fail;
	rc = agent_policy_sync_new(as->dp, o->identity, &as->ps);
	if (rc) {
		snprintf(err, err_len, "%s", strerror(-rc));
		goto fail;
	}
	if (o->cb)
		agent_policy_sync_set_cb(as->ps, o->cb, o->cb_arg);
	*out = as;
	return 0;
fail:
	agent_sync_close(as);
	return rc;
}

void agent_sync_close(struct agent_sync *as)
{
	if (!as)
		return;
	agent_policy_sync_free(as->ps);
	kv_close(as->kv);
	dp_close(as->dp);
	free(as);
}

/* Gives freed heap pages back to the kernel (glibc keeps them otherwise): the sync's peak
 * is then the engine plus the ipcache, not the engine plus its inputs plus the ipcache. */
static void release_heap(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

struct agent_policy_sync *agent_sync_policy(struct agent_sync *as)
{
	return as->ps;
}

int agent_sync_run(struct agent_sync *as, struct agent_sync_result *res, char *err, size_t err_len)
{
	struct agent_policy_snapshot snap = {0};
	char why[1024];
	int lock = -1, rc;

	if (err_len)
		err[0] = '\0';
	memset(res, 0, sizeof(*res));
	rc = dp_lock(as->bpffs, as->lock_timeout_ms, &lock);
	if (rc == -ETIMEDOUT) {
		snprintf(err, err_len,
			 "another writer holds the datapath under %s (waited %d ms); the datapath "
			 "was not changed",
			 as->bpffs, as->lock_timeout_ms);
		return rc;
	}
	if (rc) {
		snprintf(err, err_len, "locking the datapath under %s: %s", as->bpffs,
			 strerror(-rc));
		return rc;
	}
	/* Identities and policies first: once the engine is built they are dropped, so the
	 * ipcache (the bulk) never shares the heap with them. */
	rc = agent_policy_snapshot_load_policy(&as->store, &snap, why, sizeof(why));
	if (rc)
		goto store_fail;
	rc = agent_policy_sync_build(as->ps, &snap, &res->rep, why, sizeof(why));
	if (rc)
		goto sync_fail;
	res->policies_recovered = snap.n_policies_recovered;
	agent_policy_snapshot_free_policy(&snap);
	release_heap();
	rc = agent_policy_snapshot_load_ipcache(&as->store, &snap, why, sizeof(why));
	if (rc)
		goto store_fail;
	res->revision = snap.revision;
	release_heap(); /* the listing's page buffers */
	rc = agent_policy_sync_apply(as->ps, &snap, &res->rep, why, sizeof(why));
	if (rc)
		goto sync_fail;
	goto out;
store_fail:
	snprintf(err, err_len, "store %s: %s; the datapath was not changed", as->endpoints, why);
	goto out;
sync_fail:
	snprintf(err, err_len, "sync failed: %s", why);
out:
	agent_policy_snapshot_free(&snap);
	dp_unlock(lock);
	return rc;
}

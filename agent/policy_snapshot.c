// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_snapshot: one consistent read of what the policy sync needs from the store —
 * identities, ipcache records and policies — plus the fail-static bookkeeping around bad
 * records: the prefixes of ipcache records that did not decode (the datapath keeps its
 * entries for them) and, for policy records that are not usable, their last valid version
 * from etcd's history. Everything goes through store/ (nothing here speaks kv): one
 * listing per prefix, no per-key scans, so the cost is the listing plus n log n.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/policy_sync.h"
#include "lib/log.h"
#include "store/store.h"

void agent_policy_engine_key(const struct store_policy *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", p->namespace_[0] ? p->namespace_ : "_cluster", p->name);
}

/*
 * A policy record the engine cannot use (not JSON, no kind, a key that does not bind its
 * scope, or rejected by the parser) is replaced by its last valid version in etcd's history,
 * so that overwriting a good policy with garbage neither opens nor closes anything — what
 * the daemon, which saw the good version, would keep enforcing. A record with no valid
 * earlier version (new, or history compacted) stays skipped.
 */
#define POLICY_HISTORY_STEPS 16

static int policy_recovered(struct store *s, const char *path, struct store_policy *out,
			    bool *found, char *err, size_t err_len)
{
	int64_t rev;
	int rc = store_policy_last_valid(s, path, POLICY_HISTORY_STEPS, out, &rev);

	*found = rc == 0;
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, err_len, "reading the history of policies/%s: %s", path,
			 rc == -ENOMEM ? strerror(ENOMEM) : store_error(s));
		return rc;
	}
	log_warn("policies/%s: unusable record; using its last valid version (revision %lld)", path,
		 (long long)rev);
	return 0;
}

/* Loaded records the engine would reject: swapped for their last valid version in place. */
static int recover_loaded(struct store *s, struct agent_policy_snapshot *snap, char *err,
			  size_t err_len)
{
	char path[2 * STORE_NAME_MAX + 16], why[256];

	for (size_t i = 0; i < snap->n_policies; i++) {
		struct store_policy *p = &snap->policies[i], old;
		bool found;
		int rc;

		if (store_policy_usable(p->object, why, sizeof(why)))
			continue;
		agent_policy_engine_key(p, path, sizeof(path));
		rc = policy_recovered(s, path, &old, &found, err, err_len);
		if (rc)
			return rc;
		if (!found)
			continue; /* engine_build logs and skips it */
		json_decref(p->object);
		*p = old;
		snap->n_policies_recovered++;
	}
	return 0;
}

/* Records the store's lister skipped: added back from history when there is a valid one. */
static int recover_skipped(struct store *s, struct agent_policy_snapshot *snap, char **paths,
			   size_t n, char *err, size_t err_len)
{
	for (size_t k = 0; k < n; k++) {
		struct store_policy old, *grown;
		bool found;
		int rc = policy_recovered(s, paths[k], &old, &found, err, err_len);

		if (rc)
			return rc;
		if (!found)
			continue; /* the store's lister logged it */
		grown = realloc(snap->policies, (snap->n_policies + 1) * sizeof(*grown));
		if (!grown) {
			json_decref(old.object);
			snprintf(err, err_len, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		snap->policies = grown;
		snap->policies[snap->n_policies++] = old;
		snap->n_policies_recovered++;
	}
	return 0;
}

int agent_policy_snapshot_load_policy(struct store *s, struct agent_policy_snapshot *snap,
				      char *err, size_t err_len)
{
	char **skipped = NULL;
	size_t n_skipped = 0;
	int rc;

	rc = store_load_identities(s, &snap->ids, &snap->n_ids, NULL);
	if (rc) {
		snprintf(err, err_len, "loading identities: %s", store_error(s));
		return rc;
	}
	rc = store_list_policies(s, &snap->policies, &snap->n_policies, &skipped, &n_skipped, NULL);
	if (rc) {
		snprintf(err, err_len, "loading policies: %s",
			 rc == -ENOMEM ? strerror(ENOMEM) : store_error(s));
		return rc;
	}
	rc = recover_loaded(s, snap, err, err_len);
	rc = rc ?: recover_skipped(s, snap, skipped, n_skipped, err, err_len);
	store_policy_paths_free(skipped, n_skipped);
	return rc;
}

/* Makes room for one more entry (doubling; trimmed to size after the listing). */
static int ipc_grow(struct dp_ipcache_entry **v, size_t n, size_t *cap)
{
	struct dp_ipcache_entry *p;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 1024;
	p = realloc(*v, nc * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}

struct ipc_load {
	struct agent_policy_snapshot *snap;
	size_t cap, cap_held;
};

static int hold(struct ipc_load *l, const char *cidr)
{
	struct agent_policy_snapshot *snap = l->snap;
	struct dp_ipcache_entry e = {0};
	char why[64];

	snap->n_ipcache_skipped++;
	if (!dp_parse_cidr(cidr, &e, why, sizeof(why)))
		return 0; /* names no prefix: nothing to hold */
	if (ipc_grow(&snap->ipcache_held, snap->n_ipcache_held, &l->cap_held))
		return -ENOMEM;
	snap->ipcache_held[snap->n_ipcache_held++] = e;
	return 0;
}

static int ipc_record(const struct store_ipcache *r, void *arg)
{
	struct ipc_load *l = arg;
	struct agent_policy_snapshot *snap = l->snap;
	struct dp_ipcache_entry d;
	char why[256];

	snap->n_ipcache_records++;
	if (!agent_policy_ipcache_from_store(r, &d, why, sizeof(why))) {
		log_warn("skipping %s; the datapath keeps what it has for that prefix", why);
		return hold(l, r->cidr);
	}
	if (ipc_grow(&snap->ipcache, snap->n_ipcache, &l->cap))
		return -ENOMEM;
	snap->ipcache[snap->n_ipcache++] = d;
	return 0;
}

static int ipc_bad(const char *cidr, void *arg)
{
	log_warn("ipcache/%s: malformed store record; the datapath keeps what it has for that "
		 "prefix",
		 cidr);
	return hold(arg, cidr);
}

int agent_policy_snapshot_add_ipcache(struct agent_policy_snapshot *snap,
				      const struct store_ipcache *r)
{
	struct ipc_load l = {
	    .snap = snap, .cap = snap->n_ipcache, .cap_held = snap->n_ipcache_held};

	return ipc_record(r, &l);
}

int agent_policy_snapshot_load_ipcache(struct store *s, struct agent_policy_snapshot *snap,
				       char *err, size_t err_len)
{
	struct ipc_load l = {.snap = snap};
	int rc = store_foreach_ipcache(s, ipc_record, ipc_bad, &l, &snap->revision);

	if (rc) {
		snprintf(err, err_len, "loading the ipcache: %s",
			 rc == -ENOMEM ? strerror(ENOMEM) : store_error(s));
		return rc;
	}
	if (snap->n_ipcache < l.cap) { /* give back the doubling's slack */
		void *p = realloc(snap->ipcache,
				  (snap->n_ipcache ? snap->n_ipcache : 1) * sizeof(*snap->ipcache));

		if (p)
			snap->ipcache = p;
	}
	return 0;
}

/* One listing per prefix: identities, policies (with the keys of skipped records) and the
 * ipcache (streamed); history reads only for bad policies. */
int agent_policy_snapshot_load(struct store *s, struct agent_policy_snapshot *snap, char *err,
			       size_t err_len)
{
	int rc;

	if (err_len)
		err[0] = '\0';
	memset(snap, 0, sizeof(*snap));
	rc = agent_policy_snapshot_load_policy(s, snap, err, err_len);
	rc = rc ?: agent_policy_snapshot_load_ipcache(s, snap, err, err_len);
	if (rc)
		agent_policy_snapshot_free(snap);
	return rc;
}

void agent_policy_snapshot_free_policy(struct agent_policy_snapshot *snap)
{
	store_identities_free(snap->ids, snap->n_ids);
	store_policies_free(snap->policies, snap->n_policies);
	snap->ids = NULL;
	snap->n_ids = 0;
	snap->policies = NULL;
	snap->n_policies = 0;
}

void agent_policy_snapshot_free(struct agent_policy_snapshot *snap)
{
	agent_policy_snapshot_free_policy(snap);
	free(snap->ipcache);
	free(snap->ipcache_held);
	memset(snap, 0, sizeof(*snap));
}

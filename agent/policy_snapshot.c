// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_snapshot: one consistent read of what the policy sync needs from the store —
 * identities, ipcache records and policies — plus the fail-static bookkeeping around bad
 * records: the prefixes of ipcache records that did not decode (the datapath keeps its
 * entries for them) and, for policy records that are not usable, their last valid version
 * from etcd's history.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/policy_sync.h"
#include "lib/kv/kv.h"
#include "lib/log.h"
#include "store/store.h"
#include "policy/policy.h"

void agent_policy_engine_key(const struct store_policy *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", p->namespace_[0] ? p->namespace_ : "_cluster", p->name);
}

struct bad_keys_ctx {
	struct store *s;
	struct agent_policy_snapshot *snap;
	size_t cap;
	int err;
};

static bool ipcache_decoded(const struct agent_policy_snapshot *snap, const char *cidr)
{
	for (size_t i = 0; i < snap->n_ipcache; i++)
		if (!strcmp(snap->ipcache[i].cidr, cidr))
			return true;
	return false;
}

/* Collects the ipcache keys whose records the loader skipped: their prefixes are held. */
static int bad_key_cb(void *arg, const struct kv_pair *kv)
{
	struct bad_keys_ctx *c = arg;
	char key[512], canon[STORE_CIDR_MAX], why[128];
	const char *rest;

	if (kv->key_len >= sizeof(key))
		return 0;
	memcpy(key, kv->key, kv->key_len);
	key[kv->key_len] = '\0';
	if (store_key_kind(c->s, key, &rest) != STORE_KIND_IPCACHE)
		return 0;
	if (!store_cidr_canon(rest, canon, why, sizeof(why)) || ipcache_decoded(c->snap, canon))
		return 0;
	if (c->snap->n_ipcache_bad == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 8;
		void *p = realloc(c->snap->ipcache_bad, nc * sizeof(*c->snap->ipcache_bad));

		if (!p)
			return -ENOMEM;
		c->snap->ipcache_bad = p;
		c->cap = nc;
	}
	snprintf(c->snap->ipcache_bad[c->snap->n_ipcache_bad++], sizeof(*c->snap->ipcache_bad),
		 "%s", canon);
	return 0;
}

/*
 * A policy record the engine cannot use (not JSON, no kind, or rejected by the parser) is
 * replaced by its last valid version in etcd's history, so that overwriting a good policy
 * with garbage neither opens nor closes anything — what the daemon, which saw the good
 * version, would keep enforcing. A record with no valid earlier version (new, or history
 * compacted) stays skipped.
 */
#define POLICY_HISTORY_STEPS 16

/* The engine takes exactly the objects its parser (the full validator) accepts. */
static bool policy_usable(const json_t *obj, char *why, size_t why_len)
{
	struct policy pol;
	bool ok;

	why[0] = '\0';
	if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "kind"))) {
		snprintf(why, why_len, "expected a policy object with a kind");
		return false;
	}
	ok = policy_parse(&pol, obj, why, why_len);
	policy_free(&pol);
	return ok;
}

/* Walks back from the current version of key; returns a new reference or NULL. */
static json_t *policy_last_valid(struct store *s, const char *key, int64_t *found_rev)
{
	struct kv_range_opts o = {0};
	char *val = NULL, why[256];
	size_t len;
	int64_t rev;

	if (kv_get(s->kv, key, &val, &len, &rev))
		return NULL;
	free(val);
	for (int step = 0; step < POLICY_HISTORY_STEPS && rev > 1; step++) {
		struct kv_range_result r = {0};
		json_t *obj;

		o.revision = rev - 1;
		if (kv_range(s->kv, key, strlen(key), &o, &r) || !r.n) {
			kv_range_result_free(
			    &r); /* compacted, or absent then: no earlier version */
			return NULL;
		}
		obj = json_loadb(r.kvs[0].value, r.kvs[0].value_len, JSON_REJECT_DUPLICATES, NULL);
		rev = r.kvs[0].mod_revision;
		kv_range_result_free(&r);
		if (obj && policy_usable(obj, why, sizeof(why))) {
			*found_rev = rev;
			return obj;
		}
		json_decref(obj);
	}
	return NULL;
}

struct policy_keys_ctx {
	struct store *s;
	char (*keys)[512];
	size_t n, cap;
};

static int policy_key_cb(void *arg, const struct kv_pair *kv)
{
	struct policy_keys_ctx *c = arg;

	if (kv->key_len >= sizeof(c->keys[0]))
		return 0;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		void *p = realloc(c->keys, nc * sizeof(*c->keys));

		if (!p)
			return -ENOMEM;
		c->keys = p;
		c->cap = nc;
	}
	memcpy(c->keys[c->n], kv->key, kv->key_len);
	c->keys[c->n++][kv->key_len] = '\0';
	return 0;
}

/* "<prefix>policies/<ns>/<name>" -> namespace_ ("" for _cluster) and name. */
static bool policy_key_split(struct store *s, const char *key, struct store_policy *p)
{
	const char *rest, *slash;

	if (store_key_kind(s, key, &rest) != STORE_KIND_POLICY)
		return false;
	slash = strchr(rest, '/');
	if (!slash || strchr(slash + 1, '/') || !slash[1] ||
	    (size_t)(slash - rest) >= sizeof(p->namespace_) || strlen(slash + 1) >= sizeof(p->name))
		return false;
	memset(p, 0, sizeof(*p));
	if (strncmp(rest, "_cluster/", 9))
		snprintf(p->namespace_, sizeof(p->namespace_), "%.*s", (int)(slash - rest), rest);
	snprintf(p->name, sizeof(p->name), "%s", slash + 1);
	return true;
}

static int policies_recover(struct store *s, struct agent_policy_snapshot *snap, char *err,
			    size_t err_len)
{
	struct policy_keys_ctx kc = {.s = s};
	char prefix[512], ekey[2 * STORE_NAME_MAX + 16], key[600], why[256];
	int64_t rev;
	int rc;

	/* Loaded records the engine rejects. */
	for (size_t i = 0; i < snap->n_policies; i++) {
		struct store_policy *p = &snap->policies[i];
		json_t *old;

		agent_policy_engine_key(p, ekey, sizeof(ekey));
		if (policy_usable(p->object, why, sizeof(why)))
			continue;
		if (store_key(s, key, sizeof(key), "policies/%s", ekey))
			continue;
		old = policy_last_valid(s, key, &rev);
		if (!old)
			continue; /* engine_build logs and skips it */
		log_warn("policies/%s: %s; using its last valid version (revision %lld)", ekey, why,
			 (long long)rev);
		json_decref(p->object);
		p->object = old;
		p->kind = json_string_value(json_object_get(old, "kind"));
		snap->n_policies_recovered++;
	}
	/* Keys the loader skipped (not JSON, no kind): not in the snapshot at all. */
	rc = store_key(s, prefix, sizeof(prefix), "policies/");
	if (!rc)
		rc = kv_range_foreach(s->kv, prefix, 0, 0, true, policy_key_cb, &kc, NULL);
	if (rc) {
		snprintf(err, err_len, "listing policy keys: %s",
			 rc == -ENOMEM ? strerror(ENOMEM) : kv_error(s->kv));
		goto out;
	}
	for (size_t k = 0; k < kc.n; k++) {
		struct store_policy np, *grown;
		bool loaded = false;
		json_t *old;

		if (!policy_key_split(s, kc.keys[k], &np))
			continue;
		for (size_t i = 0; i < snap->n_policies && !loaded; i++)
			loaded = !strcmp(snap->policies[i].namespace_, np.namespace_) &&
				 !strcmp(snap->policies[i].name, np.name);
		if (loaded)
			continue;
		agent_policy_engine_key(&np, ekey, sizeof(ekey));
		old = policy_last_valid(s, kc.keys[k], &rev);
		if (!old)
			continue; /* the store's loader logged it */
		grown = realloc(snap->policies, (snap->n_policies + 1) * sizeof(*grown));
		if (!grown) {
			json_decref(old);
			rc = -ENOMEM;
			snprintf(err, err_len, "%s", strerror(ENOMEM));
			goto out;
		}
		snap->policies = grown;
		np.object = old;
		np.kind = json_string_value(json_object_get(old, "kind"));
		snap->policies[snap->n_policies++] = np;
		snap->n_policies_recovered++;
		log_warn("policies/%s: malformed record; using its last valid version (revision "
			 "%lld)",
			 ekey, (long long)rev);
	}
out:
	free(kc.keys);
	return rc;
}

int agent_policy_snapshot_load(struct store *s, struct agent_policy_snapshot *snap, char *err,
			       size_t err_len)
{
	struct bad_keys_ctx bk = {.s = s, .snap = snap};
	char prefix[512];
	int rc;

	if (err_len)
		err[0] = '\0';

	memset(snap, 0, sizeof(*snap));
	rc = store_load_identities(s, &snap->ids, &snap->n_ids, NULL);
	if (rc) {
		snprintf(err, err_len, "loading identities: %s", store_error(s));
		goto fail;
	}
	rc = store_load_ipcache(s, &snap->ipcache, &snap->n_ipcache, &snap->revision);
	if (rc) {
		snprintf(err, err_len, "loading the ipcache: %s", store_error(s));
		goto fail;
	}
	rc = store_load_policies(s, &snap->policies, &snap->n_policies, NULL);
	if (rc) {
		snprintf(err, err_len, "loading policies: %s", store_error(s));
		goto fail;
	}
	rc = policies_recover(s, snap, err, err_len);
	if (rc)
		goto fail;
	rc = store_key(s, prefix, sizeof(prefix), "ipcache/");
	if (!rc)
		rc =
		    kv_range_foreach(s->kv, prefix, snap->revision, 0, true, bad_key_cb, &bk, NULL);
	if (rc) {
		snprintf(err, err_len, "listing ipcache keys: %s",
			 rc == -ENOMEM ? strerror(ENOMEM) : kv_error(s->kv));
		goto fail;
	}
	return 0;
fail:
	agent_policy_snapshot_free(snap);
	return rc;
}

void agent_policy_snapshot_free(struct agent_policy_snapshot *snap)
{
	store_identities_free(snap->ids, snap->n_ids);
	free(snap->ipcache);
	store_policies_free(snap->policies, snap->n_policies);
	free(snap->ipcache_bad);
	memset(snap, 0, sizeof(*snap));
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Identity allocation and garbage collection.
 *
 * Allocation is optimistic: read identities-by-labels/<digest>; if absent, pick the lowest
 * free id and create both keys in one txn guarded by "both absent". Losing the race to an
 * allocator of the same labels makes the by-labels compare fail and the next round reads
 * the winner's id; losing it to an allocator of other labels on the same id makes the id
 * compare fail and the next round picks another id. Ids are never taken from outside
 * [id_min, id_max], so reserved ids (< 256) cannot be handed out.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kv/kv.h"
#include "lib/log.h"
#include "lib/parse_num.h"
#include "store/store_internal.h"

#define ALLOC_ROUNDS 64

void store_identity_ref_clear(struct store_identity_ref *r)
{
	free(r->value);
	memset(r, 0, sizeof(*r));
}

struct used_ids {
	struct store *s;
	unsigned char *bits; /* 65536 bits */
	size_t n;
};

static int mark_used(void *arg, const struct kv_pair *kv)
{
	struct used_ids *u = arg;
	const char *slash = strrchr(kv->key, '/');
	uint32_t id;

	if (!slash || !parse_u32(slash + 1, 0, STORE_IDENTITY_MAX, &id, NULL, 0))
		return 0; /* not ours to reuse or reason about */
	u->bits[id / 8] |= (unsigned char)(1u << (id % 8));
	u->n++;
	return 0;
}

static int pick_free_id(struct store *s, uint32_t *out)
{
	struct used_ids u = {.s = s};
	char prefix[512];
	int rc;

	u.bits = calloc(1, (STORE_IDENTITY_MAX + 1) / 8);
	if (!u.bits)
		return -ENOMEM;
	rc = store_key(s, prefix, sizeof(prefix), "identities/");
	if (rc == 0)
		rc = kv_range_foreach(s->kv, prefix, 0, 5000, true, mark_used, &u, NULL);
	if (rc < 0) {
		free(u.bits);
		return store_kverr(s, rc, prefix);
	}
	for (uint32_t id = s->id_min; id <= s->id_max; id++) {
		if (!(u.bits[id / 8] & (1u << (id % 8)))) {
			*out = id;
			free(u.bits);
			return 0;
		}
	}
	free(u.bits);
	store_seterr(s,
		     "identity space exhausted: every id in %u..%u is allocated (%zu in use); "
		     "run 'pseudopodctl identity gc' to release unused ones",
		     s->id_min, s->id_max, u.n);
	return -ENOSPC;
}

/* Reads the identity a by-labels record points at; 1 = found and consistent, 0 = the
 * identity record is missing (repaired by the caller), <0 error. */
static int read_existing(struct store *s, const struct label_set *labels, const char *bykey,
			 uint32_t id, struct store_identity_ref *ref)
{
	struct store_identity ident;
	char ikey[512], why[400];
	char *val = NULL;
	size_t len = 0;
	int64_t mod = 0;
	int rc = store_key(s, ikey, sizeof(ikey), "identities/%u", id);

	if (rc < 0)
		return rc;
	rc = kv_get(s->kv, ikey, &val, &len, &mod);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return store_kverr(s, rc, ikey);
	if (!store_identity_decode(ikey, val, len, &ident, why, sizeof(why))) {
		store_seterr(s, "%s (pointed at by %s): %s", ikey, bykey, why);
		free(val);
		return -EBADMSG;
	}
	if (!label_set_equal(&ident.labels, labels)) {
		store_seterr(s, "%s points at identity %u, which holds other labels", bykey, id);
		store_identity_clear(&ident);
		free(val);
		return -EBADMSG;
	}
	store_identity_clear(&ident);
	ref->id = id;
	ref->mod_revision = mod;
	ref->value = val;
	ref->created = false;
	return 1;
}

int store_identity_allocate(struct store *s, const struct label_set *labels,
			    struct store_identity_ref *ref)
{
	char digest[65], bykey[512], ikey[512], why[400];
	char *ival;
	int rc = 0;

	memset(ref, 0, sizeof(*ref));
	if (!store_labels_assignable(labels, why, sizeof(why))) {
		store_seterr(s, "%s", why);
		return -EINVAL;
	}
	ival = store_identity_encode(labels);
	if (!ival)
		return -ENOMEM;
	label_set_digest(labels, digest);
	rc = store_key(s, bykey, sizeof(bykey), "identities-by-labels/%s", digest);
	for (int round = 0; rc == 0 && round < ALLOC_ROUNDS; round++) {
		struct kv_txn_result res = {0};
		struct kv_txn *t;
		char *bval = NULL, *rval;
		size_t blen = 0;
		int64_t bmod = 0;
		uint32_t id;

		rc = kv_get(s->kv, bykey, &bval, &blen, &bmod);
		if (rc == 0) {
			if (!store_idref_decode(bykey, bval, blen, &id, why, sizeof(why))) {
				store_seterr(s, "%s", why);
				free(bval);
				rc = -EBADMSG;
				break;
			}
			free(bval);
			rc = read_existing(s, labels, bykey, id, ref);
			if (rc == 1) {
				rc = 0;
				break;
			}
			if (rc < 0)
				break;
			/* By-labels without its identity (hand-edited store): recreate it,
			 * guarded so a concurrent gc or repair wins cleanly. */
			log_warn("%s points at missing identity %u; recreating it", bykey, id);
			t = kv_txn_new();
			rc = t ? store_key(s, ikey, sizeof(ikey), "identities/%u", id) : -ENOMEM;
			if (rc == 0)
				rc = kv_txn_cmp(t, bykey, KV_CMP_MOD, KV_EQUAL, bmod);
			if (rc == 0)
				rc = kv_txn_cmp(t, ikey, KV_CMP_VERSION, KV_EQUAL, 0);
			if (rc == 0)
				rc = kv_txn_put(t, true, ikey, ival, strlen(ival), 0);
			if (rc == 0 && (rc = kv_txn_commit(s->kv, t, &res)) < 0)
				store_kverr(s, rc, ikey);
			kv_txn_result_free(&res);
			kv_txn_free(t);
			continue;
		}
		if (rc != -ENOENT) {
			store_kverr(s, rc, bykey);
			break;
		}
		rc = pick_free_id(s, &id);
		if (rc < 0)
			break;
		rval = store_idref_encode(id);
		t = kv_txn_new();
		rc = rval && t ? store_key(s, ikey, sizeof(ikey), "identities/%u", id) : -ENOMEM;
		if (rc == 0)
			rc = kv_txn_cmp(t, bykey, KV_CMP_VERSION, KV_EQUAL, 0);
		if (rc == 0)
			rc = kv_txn_cmp(t, ikey, KV_CMP_VERSION, KV_EQUAL, 0);
		if (rc == 0)
			rc = kv_txn_put(t, true, ikey, ival, strlen(ival), 0);
		if (rc == 0)
			rc = kv_txn_put(t, true, bykey, rval, strlen(rval), 0);
		if (rc == 0 && (rc = kv_txn_commit(s->kv, t, &res)) < 0)
			store_kverr(s, rc, ikey);
		if (rc == 0 && res.succeeded) {
			ref->id = id;
			ref->mod_revision = res.revision;
			ref->value = ival;
			ref->created = true;
			ival = NULL;
		}
		bool done = rc < 0 || res.succeeded;
		kv_txn_result_free(&res);
		kv_txn_free(t);
		free(rval);
		if (done)
			break;
	}
	if (rc == 0 && !ref->id) {
		store_seterr(s, "%s: no agreement after %d rounds of allocation", bykey,
			     ALLOC_ROUNDS);
		rc = -EAGAIN;
	}
	free(ival);
	return rc;
}

static bool decode_identity(const char *key, const char *value, size_t len, void *out, char *err,
			    size_t err_len)
{
	return store_identity_decode(key, value, len, out, err, err_len);
}

static void clear_identity(void *ident)
{
	store_identity_clear(ident);
}

static int cmp_identity(const void *a, const void *b)
{
	const struct store_identity *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int store_load_identities(struct store *s, struct store_identity **out, size_t *n,
			  int64_t *revision)
{
	struct vec v = {.size = sizeof(struct store_identity),
			.decode = decode_identity,
			.clear = clear_identity};
	int rc = store_load_records(s, "identities/", &v, revision);

	if (rc < 0)
		return rc;
	if (v.n)
		qsort(v.items, v.n, v.size, cmp_identity);
	*out = v.items;
	*n = v.n;
	return 0;
}

void store_identities_free(struct store_identity *ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		store_identity_clear(&ids[i]);
	free(ids);
}

int store_identity_get(struct store *s, uint32_t id, struct store_identity *out)
{
	char key[512], why[400];
	char *val = NULL;
	size_t len = 0;
	int rc = store_key(s, key, sizeof(key), "identities/%u", id);

	if (rc < 0)
		return rc;
	rc = kv_get(s->kv, key, &val, &len, NULL);
	if (rc == -ENOENT) {
		store_seterr(s, "identity %u: not found", id);
		return rc;
	}
	if (rc < 0)
		return store_kverr(s, rc, key);
	if (!store_identity_decode(key, val, len, out, why, sizeof(why))) {
		store_seterr(s, "%s", why);
		rc = -EBADMSG;
	}
	free(val);
	return rc;
}

/* ---- gc ---- */

struct gc_entry {
	uint32_t id;
	int64_t mod;
	char digest[65];
};

static int gc_collect(void *arg, const struct kv_pair *kv)
{
	struct vec *v = arg;
	struct store_identity ident;
	struct gc_entry *e;
	char why[400];

	if (!store_identity_decode(kv->key, kv->value, kv->value_len, &ident, why, sizeof(why))) {
		log_warn("gc: leaving malformed record alone: %s", why);
		return 0;
	}
	e = store_vec_push(v);
	if (!e) {
		store_identity_clear(&ident);
		return -ENOMEM;
	}
	e->id = ident.id;
	e->mod = kv->mod_revision;
	label_set_digest(&ident.labels, e->digest);
	store_identity_clear(&ident);
	return 0;
}

static int gc_mark_ipcache(void *arg, const struct kv_pair *kv)
{
	unsigned char *bits = arg;
	struct store_ipcache e;
	char why[400];

	if (store_ipcache_decode(kv->key, kv->value, kv->value_len, &e, why, sizeof(why)) &&
	    e.identity <= STORE_IDENTITY_MAX)
		bits[e.identity / 8] |= (unsigned char)(1u << (e.identity % 8));
	return 0;
}

struct gc_wl {
	struct store *s;
	unsigned char *bits;
};

static int gc_mark_workload(void *arg, const struct kv_pair *kv)
{
	struct gc_wl *g = arg;
	struct store_workload w;
	char why[400];

	if (store_key_kind(g->s, kv->key, NULL) != STORE_KIND_WORKLOAD)
		return 0;
	if (store_workload_decode(kv->key, kv->value, kv->value_len, &w, why, sizeof(why))) {
		g->bits[w.identity / 8] |= (unsigned char)(1u << (w.identity % 8));
		store_workload_clear(&w);
	}
	return 0;
}

int store_identity_gc(struct store *s, bool dry_run, size_t *removed)
{
	struct vec ids = {.size = sizeof(struct gc_entry), .s = s};
	unsigned char *used = calloc(1, (STORE_IDENTITY_MAX + 1) / 8);
	struct gc_wl wl = {.s = s, .bits = used};
	int rc;

	*removed = 0;
	if (!used)
		return -ENOMEM;
	/* Identities first, users second: a user written after our identity read has touched
	 * the identity (new mod_revision), so our guarded delete below fails for it. */
	rc = store_foreach(s, "identities/", gc_collect, &ids, NULL);
	if (rc == 0)
		rc = store_foreach(s, "ipcache/", gc_mark_ipcache, used, NULL);
	if (rc == 0)
		rc = store_foreach(s, "workloads/", gc_mark_workload, &wl, NULL);
	for (size_t i = 0; rc == 0 && i < ids.n; i++) {
		struct gc_entry *e = (struct gc_entry *)ids.items + i;
		struct kv_txn_result res = {0};
		char ikey[512], bykey[512];
		char *bval;
		struct kv_txn *t;

		if (used[e->id / 8] & (1u << (e->id % 8)))
			continue;
		if (dry_run) {
			(*removed)++;
			continue;
		}
		t = kv_txn_new();
		bval = store_idref_encode(e->id);
		rc = t && bval ? store_key(s, ikey, sizeof(ikey), "identities/%u", e->id) : -ENOMEM;
		if (rc == 0)
			rc = store_key(s, bykey, sizeof(bykey), "identities-by-labels/%s",
				       e->digest);
		if (rc == 0)
			rc = kv_txn_cmp(t, ikey, KV_CMP_MOD, KV_EQUAL, e->mod);
		if (rc == 0)
			rc = kv_txn_cmp_value(t, bykey, KV_EQUAL, bval, strlen(bval));
		if (rc == 0)
			rc = kv_txn_delete(t, true, ikey, false);
		if (rc == 0)
			rc = kv_txn_delete(t, true, bykey, false);
		if (rc == 0 && (rc = kv_txn_commit(s->kv, t, &res)) < 0)
			store_kverr(s, rc, ikey);
		if (rc == 0 && res.succeeded)
			(*removed)++;
		else if (rc == 0)
			log_info("gc: identity %u changed or is in use again; kept", e->id);
		kv_txn_result_free(&res);
		kv_txn_free(t);
		free(bval);
	}
	free(ids.items);
	free(used);
	return rc;
}

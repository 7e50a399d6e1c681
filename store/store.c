// SPDX-License-Identifier: GPL-2.0-only
/* Keys, loaders and the record-level operations (everything but identities). */
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/kv/kv.h"
#include "lib/log.h"
#include "lib/net.h"
#include "policy/policy.h"
#include "store/store_internal.h"

void store_seterr(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

int store_kverr(struct store *s, int rc, const char *what)
{
	store_seterr(s, "%s: %s", what, kv_error(s->kv));
	return rc;
}

const char *store_error(const struct store *s)
{
	return s->err;
}

int store_init(struct store *s, struct kv_client *kv, const char *prefix)
{
	size_t len;

	memset(s, 0, sizeof(*s));
	s->kv = kv;
	s->id_min = STORE_IDENTITY_MIN;
	s->id_max = STORE_IDENTITY_MAX;
	if (!prefix || !*prefix)
		prefix = STORE_DEFAULT_PREFIX;
	len = strlen(prefix);
	if (len + 2 > sizeof(s->prefix))
		return -ENAMETOOLONG;
	memcpy(s->prefix, prefix, len + 1);
	if (prefix[len - 1] != '/')
		strcat(s->prefix, "/");
	return 0;
}

int store_set_identity_range(struct store *s, uint32_t min, uint32_t max)
{
	if (min < STORE_IDENTITY_MIN || max > STORE_IDENTITY_MAX || min > max)
		return -EINVAL;
	s->id_min = min;
	s->id_max = max;
	return 0;
}

int store_key(const struct store *s, char *buf, size_t len, const char *fmt, ...)
{
	size_t plen = strlen(s->prefix);
	va_list ap;
	int n;

	if (plen >= len)
		return -ENAMETOOLONG;
	memcpy(buf, s->prefix, plen);
	va_start(ap, fmt);
	n = vsnprintf(buf + plen, len - plen, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len - plen ? -ENAMETOOLONG : 0;
}

static const struct {
	const char *dir;
	enum store_kind kind;
} kinds[] = {
    {"identities/", STORE_KIND_IDENTITY}, {"identities-by-labels/", STORE_KIND_IDENTITY_BY_LABELS},
    {"ipcache/", STORE_KIND_IPCACHE},	  {"policies/", STORE_KIND_POLICY},
    {"workloads/", STORE_KIND_WORKLOAD},  {"gateways/", STORE_KIND_GATEWAY},
    {"tokens/", STORE_KIND_TOKEN},
};

enum store_kind store_key_kind(const struct store *s, const char *key, const char **rest)
{
	size_t plen = strlen(s->prefix);
	const char *k;

	if (rest)
		*rest = NULL;
	if (strncmp(key, s->prefix, plen))
		return STORE_KIND_UNKNOWN;
	k = key + plen;
	if (!strcmp(k, "config")) {
		if (rest)
			*rest = k + strlen(k);
		return STORE_KIND_CONFIG;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t dl = strlen(kinds[i].dir);

		if (strncmp(k, kinds[i].dir, dl) || !k[dl])
			continue;
		if (rest)
			*rest = k + dl;
		if (kinds[i].kind == STORE_KIND_WORKLOAD && strchr(k + dl, '/'))
			return !strcmp(strchr(k + dl, '/'), "/alive") ? STORE_KIND_WORKLOAD_ALIVE
								      : STORE_KIND_UNKNOWN;
		return kinds[i].kind;
	}
	return STORE_KIND_UNKNOWN;
}

/*
 * Records per range page. etcd 3.4 counts every key left in the range for each page (the
 * reply's "count"), so listing N keys costs ~N^2 / page: 100k ipcache records took 2.6 s
 * at 1000 a page, 2.3-2.4 s at 2500 and 2.07 s at 5000 (bench/agent --quick); a larger
 * page costs the agent its reply and parse tree (peak RSS 27.2-27.5 MB at 2500, 29.7 MB at
 * 5000, against the 30 MB goal).
 */
#define STORE_LIST_PAGE 2500

int store_foreach(struct store *s, const char *dir, kv_pair_cb cb, void *arg, int64_t *revision)
{
	char prefix[512];
	int rc = store_key(s, prefix, sizeof(prefix), "%s", dir);

	if (rc < 0)
		return rc;
	rc = kv_range_foreach(s->kv, prefix, 0, STORE_LIST_PAGE, false, cb, arg, revision);
	if (rc < 0 && rc != -ECANCELED)
		return store_kverr(s, rc, prefix);
	return rc;
}

/* Deletes one key: 0, -ENOENT ("KEY: no such WHAT") or the store's error. */
static int delete_key(struct store *s, const char *key, const char *what)
{
	int64_t deleted = 0;
	int rc = kv_delete(s->kv, key, false, &deleted);

	if (rc < 0)
		return store_kverr(s, rc, key);
	if (!deleted) {
		store_seterr(s, "%s: no such %s", key, what);
		return -ENOENT;
	}
	return 0;
}

/* ---- config ---- */

int store_config_put(struct store *s, const struct store_config *c, bool force)
{
	struct kv_txn_result res = {0};
	struct kv_txn *t = NULL;
	char key[512], why[300];
	char *val = NULL;
	int rc;

	if (!store_config_validate(c, why, sizeof(why))) {
		store_seterr(s, "%s", why);
		return -EINVAL;
	}
	rc = store_key(s, key, sizeof(key), "config");
	if (rc < 0)
		return rc;
	val = store_config_encode(c);
	t = kv_txn_new();
	if (!val || !t) {
		rc = -ENOMEM;
		goto out;
	}
	/* Without force: create, or succeed if the very same config is already there. */
	if (!force && ((rc = kv_txn_cmp(t, key, KV_CMP_VERSION, KV_EQUAL, 0)) < 0 ||
		       (rc = kv_txn_get(t, false, key, false)) < 0))
		goto out;
	rc = kv_txn_put(t, true, key, val, strlen(val), 0);
	if (rc < 0)
		goto out;
	rc = kv_txn_commit(s->kv, t, &res);
	if (rc < 0) {
		store_kverr(s, rc, key);
		goto out;
	}
	if (!res.succeeded) {
		struct store_config old;
		const struct kv_range_result *r = res.n ? &res.ranges[0] : NULL;

		if (r && r->n &&
		    store_config_decode(r->kvs[0].value, r->kvs[0].value_len, &old, why,
					sizeof(why))) {
			/* Re-running the same init is not an error. */
			char *oldv = store_config_encode(&old);
			bool same = oldv && !strcmp(oldv, val);

			free(oldv);
			if (same)
				goto out;
		}
		store_seterr(s,
			     "%s: the cluster is already initialised with a different config "
			     "(use --force to overwrite)",
			     key);
		rc = -EEXIST;
	}
out:
	kv_txn_result_free(&res);
	kv_txn_free(t);
	free(val);
	return rc;
}

int store_config_get(struct store *s, struct store_config *out)
{
	char key[512], why[300];
	char *val = NULL;
	size_t len = 0;
	int rc = store_key(s, key, sizeof(key), "config");

	if (rc < 0)
		return rc;
	rc = kv_get(s->kv, key, &val, &len, NULL);
	if (rc == -ENOENT) {
		store_seterr(s, "%s: not found (run 'pseudopodctl init' first)", key);
		return rc;
	}
	if (rc < 0)
		return store_kverr(s, rc, key);
	if (!store_config_decode(val, len, out, why, sizeof(why))) {
		store_seterr(s, "%s: %s", key, why);
		rc = -EBADMSG;
	}
	free(val);
	return rc;
}

/* ---- ipcache ---- */

int store_endpoint_add(struct store *s, const char *cidr, const struct label_set *labels,
		       enum store_ipcache_kind kind, const char *gateway, uint32_t *id)
{
	struct store_ipcache e = {.kind = kind};
	char why[200], ikey[512], ckey[512];
	struct net_prefix p;
	int rc = -EAGAIN;

	if (!net_prefix_parse(cidr, NET_HOST_BITS_REFUSE, &p, why, sizeof(why))) {
		store_seterr(s, "%s", why);
		return -EINVAL;
	}
	net_prefix_format(&p, e.cidr);
	if (p.len == 0) {
		store_seterr(s, "'%s': a /0 prefix is every address, not an endpoint", cidr);
		return -EINVAL;
	}
	if (gateway && *gateway) {
		/* An IPv6 gateway would be stored and then skipped by every sync. */
		if (!net_ip_parse(gateway, AF_INET, &p, why, sizeof(why))) {
			store_seterr(s, "gateway %s (the datapath's tunnel endpoints are IPv4)",
				     why);
			return -EINVAL;
		}
		net_ip_format(&p, e.gateway);
	}
	rc = store_key(s, ckey, sizeof(ckey), "ipcache/%s", e.cidr);
	if (rc < 0)
		return rc;
	/* The identity may be collected between allocation and our write: then our guarded
	 * txn fails and we allocate again. */
	for (int attempt = 0; attempt < 16; attempt++) {
		struct store_identity_ref ref = {0};
		struct kv_txn_result res = {0};
		struct kv_txn *t;
		char *val;

		rc = store_identity_allocate(s, labels, &ref);
		if (rc < 0)
			return rc;
		e.identity = ref.id;
		val = store_ipcache_encode(&e);
		t = kv_txn_new();
		rc = store_key(s, ikey, sizeof(ikey), "identities/%u", ref.id);
		if (!val || !t || rc < 0) {
			rc = rc < 0 ? rc : -ENOMEM;
		} else if ((rc = kv_txn_cmp(t, ikey, KV_CMP_MOD, KV_EQUAL, ref.mod_revision)) ==
			       0 &&
			   (rc = kv_txn_put(t, true, ikey, ref.value, strlen(ref.value), 0)) == 0 &&
			   (rc = kv_txn_put(t, true, ckey, val, strlen(val), 0)) == 0) {
			rc = kv_txn_commit(s->kv, t, &res);
			if (rc < 0)
				store_kverr(s, rc, ckey);
			else if (!res.succeeded)
				rc = -EAGAIN;
		}
		kv_txn_result_free(&res);
		kv_txn_free(t);
		free(val);
		store_identity_ref_clear(&ref);
		if (rc != -EAGAIN) {
			if (rc == 0 && id)
				*id = e.identity;
			return rc;
		}
	}
	store_seterr(s, "%s: identity kept changing under us (16 attempts)", ckey);
	return -EAGAIN;
}

int store_endpoint_del(struct store *s, const char *cidr)
{
	char canon[STORE_CIDR_MAX], why[200], key[512];
	int rc;

	if (!store_cidr_canon(cidr, canon, why, sizeof(why))) {
		store_seterr(s, "%s", why);
		return -EINVAL;
	}
	rc = store_key(s, key, sizeof(key), "ipcache/%s", canon);
	return rc < 0 ? rc : delete_key(s, key, "endpoint");
}

void *store_vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->items, cap * v->size);

		if (!p)
			return NULL;
		v->items = p;
		v->cap = cap;
	}
	return memset((char *)v->items + v->n++ * v->size, 0, v->size);
}

static int record_one(void *arg, const struct kv_pair *kv)
{
	struct vec *v = arg;
	char why[400];
	void *item;

	if (v->only && store_key_kind(v->s, kv->key, NULL) != v->only)
		return 0; /* e.g. workloads/<name>/alive */
	item = store_vec_push(v);
	if (!item)
		return -ENOMEM;
	if (!v->decode(kv->key, kv->value, kv->value_len, item, why, sizeof(why))) {
		v->n--; /* the slot is zeroed again by the next push */
		log_warn("skipping malformed record %s", why);
	}
	return 0;
}

int store_load_records(struct store *s, const char *dir, struct vec *v, int64_t *revision)
{
	int rc;

	v->s = s;
	rc = store_foreach(s, dir, record_one, v, revision);
	if (rc >= 0)
		return 0;
	for (size_t i = 0; v->clear && i < v->n; i++)
		v->clear((char *)v->items + i * v->size);
	free(v->items);
	v->items = NULL;
	v->n = 0;
	return rc;
}

static bool decode_ipcache(const char *key, const char *value, size_t len, void *out, char *err,
			   size_t err_len)
{
	return store_ipcache_decode(key, value, len, out, err, err_len);
}

int store_load_ipcache(struct store *s, struct store_ipcache **out, size_t *n, int64_t *revision)
{
	struct vec v = {.size = sizeof(struct store_ipcache), .decode = decode_ipcache};
	int rc = store_load_records(s, "ipcache/", &v, revision);

	if (rc == 0) {
		*out = v.items;
		*n = v.n;
	}
	return rc;
}

/* The streaming ipcache listing: decoded records to one callback, bad keys to another. */
struct ipcache_ctx {
	struct store *s;
	store_ipcache_cb cb;
	store_ipcache_bad_cb bad;
	void *arg;
};

static int ipcache_one(void *arg, const struct kv_pair *kv)
{
	struct ipcache_ctx *c = arg;
	char why[400], canon[STORE_CIDR_MAX];
	struct store_ipcache r;
	const char *rest;

	if (store_key_kind(c->s, kv->key, &rest) != STORE_KIND_IPCACHE)
		return 0;
	if (store_ipcache_decode(kv->key, kv->value, kv->value_len, &r, why, sizeof(why)))
		return c->cb(&r, c->arg);
	log_warn("skipping malformed record %s", why);
	/* A key that is not a CIDR names no prefix: nothing to hold. */
	return store_cidr_canon(rest, canon, why, sizeof(why)) && c->bad ? c->bad(canon, c->arg)
									 : 0;
}

int store_foreach_ipcache(struct store *s, store_ipcache_cb cb, store_ipcache_bad_cb bad, void *arg,
			  int64_t *revision)
{
	struct ipcache_ctx c = {.s = s, .cb = cb, .bad = bad, .arg = arg};
	int rc = store_foreach(s, "ipcache/", ipcache_one, &c, revision);

	return rc < 0 ? rc : 0;
}

/* ---- policies ---- */

static const char *policy_ns(const char *ns)
{
	return ns && *ns ? ns : "_cluster";
}

/*
 * The key names namespace and name, not the kind, so a NetworkPolicy "x" would silently
 * replace a CiliumNetworkPolicy "x" of the same namespace. Refuse that, and make the check
 * atomic with the put: the txn compares the mod_revision (or absence) seen here.
 */
static int guard_kind(struct store *s, struct kv_txn *t, const char *key,
		      const struct store_policy *p)
{
	const char *kind = json_string_value(json_object_get(p->object, "kind"));
	char *val = NULL;
	size_t len = 0;
	int64_t mod = 0;
	int rc = kv_get(s->kv, key, &val, &len, &mod);

	if (rc == -ENOENT)
		return kv_txn_cmp(t, key, KV_CMP_VERSION, KV_EQUAL, 0);
	if (rc < 0)
		return store_kverr(s, rc, key);
	json_t *old = json_loadb(val, len, 0, NULL);
	const char *old_kind = json_string_value(json_object_get(old, "kind"));

	if (old_kind && kind && strcmp(old_kind, kind)) {
		store_seterr(s, "%s exists as a %s; delete it before applying a %s of that name",
			     key, old_kind, kind);
		rc = -EEXIST;
	} else {
		rc = kv_txn_cmp(t, key, KV_CMP_MOD, KV_EQUAL, mod);
	}
	json_decref(old);
	free(val);
	return rc;
}

/* Writes nothing a reader would skip: the record must decode as its key says. */
static int policy_put_checked(struct store *s, struct kv_txn *t, const char *key, const char *val)
{
	struct store_policy back;
	const char *rest;
	char why[600];

	if (store_key_kind(s, key, &rest) != STORE_KIND_POLICY ||
	    !store_policy_decode(rest, val, strlen(val), &back, why, sizeof(why))) {
		store_seterr(s, "%s", why);
		return -EINVAL;
	}
	json_decref(back.object);
	return kv_txn_put(t, true, key, val, strlen(val), 0);
}

int store_policies_put(struct store *s, const struct store_policy *p, size_t n)
{
	struct kv_txn_result res = {0};
	struct kv_txn *t;
	char key[1024];
	int rc = 0;

	if (n > STORE_TXN_MAX_OPS) {
		store_seterr(s, "%zu policies in one apply; at most %d (etcd's --max-txn-ops)", n,
			     STORE_TXN_MAX_OPS);
		return -E2BIG;
	}
	t = kv_txn_new();
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *val;

		if (p[i].namespace_[0] && !store_name_valid(p[i].namespace_, false)) {
			store_seterr(s, "policy %s: namespace '%s' is not valid", p[i].name,
				     p[i].namespace_);
			rc = -EINVAL;
			break;
		}
		if (!store_name_valid(p[i].name, true)) {
			store_seterr(s, "policy name '%s' is not a valid object name", p[i].name);
			rc = -EINVAL;
			break;
		}
		rc = store_key(s, key, sizeof(key), "policies/%s/%s", policy_ns(p[i].namespace_),
			       p[i].name);
		if (rc < 0)
			break;
		rc = guard_kind(s, t, key, &p[i]);
		if (rc < 0)
			break;
		val = json_dumps(p[i].object, JSON_COMPACT | JSON_PRESERVE_ORDER);
		rc = val ? policy_put_checked(s, t, key, val) : -ENOMEM;
		free(val);
	}
	if (rc == 0) {
		rc = kv_txn_commit(s->kv, t, &res);
		if (rc < 0) {
			store_kverr(s, rc, "policy apply");
		} else if (!res.succeeded) {
			store_seterr(s, "policy apply: a policy changed while applying; try again");
			rc = -EAGAIN;
		}
	}
	kv_txn_result_free(&res);
	kv_txn_free(t);
	return rc;
}

int store_policy_delete(struct store *s, const char *namespace_, const char *name)
{
	char key[1024];
	int rc = store_key(s, key, sizeof(key), "policies/%s/%s", policy_ns(namespace_), name);

	return rc < 0 ? rc : delete_key(s, key, "policy");
}

struct policy_ctx {
	struct vec v;
	struct store *s;
	char **skipped; /* NULL: the caller does not want them */
	size_t n_skipped, cap_skipped;
	bool want_skipped;
};

static int policy_skipped_add(struct policy_ctx *ctx, const char *path)
{
	char *dup;

	if (ctx->n_skipped == ctx->cap_skipped) {
		size_t nc = ctx->cap_skipped ? ctx->cap_skipped * 2 : 8;
		char **p = realloc(ctx->skipped, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ctx->skipped = p;
		ctx->cap_skipped = nc;
	}
	dup = strdup(path);
	if (!dup)
		return -ENOMEM;
	ctx->skipped[ctx->n_skipped++] = dup;
	return 0;
}

static int policy_one(void *arg, const struct kv_pair *kv)
{
	struct policy_ctx *ctx = arg;
	struct store_policy *p;
	const char *rest;
	char why[600];

	if (store_key_kind(ctx->s, kv->key, &rest) != STORE_KIND_POLICY)
		return 0;
	p = store_vec_push(&ctx->v);
	if (!p)
		return -ENOMEM;
	if (store_policy_decode(rest, kv->value, kv->value_len, p, why, sizeof(why)))
		return 0;
	ctx->v.n--;
	log_warn("skipping malformed record %s%s", ctx->s->prefix, why); /* why: "policies/..." */
	return ctx->want_skipped ? policy_skipped_add(ctx, rest) : 0;
}

void store_policy_paths_free(char **paths, size_t n)
{
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
}

int store_list_policies(struct store *s, struct store_policy **out, size_t *n, char ***skipped,
			size_t *n_skipped, int64_t *revision)
{
	struct policy_ctx ctx = {.v = {.size = sizeof(struct store_policy), .s = s},
				 .s = s,
				 .want_skipped = skipped != NULL};
	int rc = store_foreach(s, "policies/", policy_one, &ctx, revision);

	if (rc < 0) {
		store_policies_free(ctx.v.items, ctx.v.n);
		store_policy_paths_free(ctx.skipped, ctx.n_skipped);
		return rc;
	}
	*out = ctx.v.items;
	*n = ctx.v.n;
	if (skipped) {
		*skipped = ctx.skipped;
		*n_skipped = ctx.n_skipped;
	}
	return 0;
}

int store_load_policies(struct store *s, struct store_policy **out, size_t *n, int64_t *revision)
{
	return store_list_policies(s, out, n, NULL, NULL, revision);
}

bool store_policy_usable(const json_t *obj, char *why, size_t why_len)
{
	struct policy pol;
	bool ok;

	if (why_len)
		why[0] = '\0';
	if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "kind"))) {
		snprintf(why, why_len, "expected a policy object with a kind");
		return false;
	}
	ok = policy_parse(&pol, obj, why, why_len);
	policy_free(&pol);
	return ok;
}

/* One earlier version of key (the newest at or below rev); -ENOENT when none is left. */
static int policy_version_before(struct store *s, const char *key, int64_t rev, char **val,
				 size_t *len, int64_t *mod)
{
	struct kv_range_opts o = {.revision = rev};
	struct kv_range_result r = {0};
	int rc = kv_range(s->kv, key, strlen(key), &o, &r);

	if (rc == 0 && r.n) {
		*val = malloc(r.kvs[0].value_len + 1);
		if (*val) {
			memcpy(*val, r.kvs[0].value, r.kvs[0].value_len);
			*len = r.kvs[0].value_len;
			*mod = r.kvs[0].mod_revision;
		}
		rc = *val ? 0 : -ENOMEM;
	} else if (rc == 0 || rc == -EINVAL || rc == -ERANGE) {
		rc = -ENOENT; /* absent then, or compacted */
	}
	kv_range_result_free(&r);
	return rc;
}

int store_policy_last_valid(struct store *s, const char *path, int steps, struct store_policy *out,
			    int64_t *found_rev)
{
	char key[1024], *val = NULL, why[600];
	size_t len;
	int64_t rev;
	int rc = store_key(s, key, sizeof(key), "policies/%s", path);

	if (rc < 0)
		return rc;
	rc = kv_get(s->kv, key, &val, &len, &rev);
	free(val);
	if (rc < 0)
		return rc == -ENOENT ? rc : store_kverr(s, rc, key);
	for (int step = 0; step < steps && rev > 1; step++) {
		rc = policy_version_before(s, key, rev - 1, &val, &len, &rev);
		if (rc == -ENOENT)
			return rc;
		if (rc < 0)
			return rc == -ENOMEM ? rc : store_kverr(s, rc, key);
		if (store_policy_decode(path, val, len, out, why, sizeof(why))) {
			if (store_policy_usable(out->object, why, sizeof(why))) {
				free(val);
				*found_rev = rev;
				return 0;
			}
			json_decref(out->object);
			out->object = NULL;
		}
		free(val);
	}
	return -ENOENT;
}

void store_policies_free(struct store_policy *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		json_decref(p[i].object);
	free(p);
}

/* ---- workloads ---- */

static bool decode_workload(const char *key, const char *value, size_t len, void *out, char *err,
			    size_t err_len)
{
	return store_workload_decode(key, value, len, out, err, err_len);
}

static void clear_workload(void *w)
{
	store_workload_clear(w);
}

int store_load_workloads(struct store *s, struct store_workload **out, size_t *n)
{
	struct vec v = {.size = sizeof(struct store_workload),
			.decode = decode_workload,
			.clear = clear_workload,
			.only = STORE_KIND_WORKLOAD};
	int rc = store_load_records(s, "workloads/", &v, NULL);

	if (rc == 0) {
		*out = v.items;
		*n = v.n;
	}
	return rc;
}

void store_workloads_free(struct store_workload *w, size_t n)
{
	for (size_t i = 0; w && i < n; i++)
		store_workload_clear(&w[i]);
	free(w);
}

int store_workload_alive(struct store *s, const char *name, bool *alive)
{
	char key[512];
	int rc = store_key(s, key, sizeof(key), "workloads/%s/alive", name);

	if (rc < 0)
		return rc;
	rc = kv_get(s->kv, key, NULL, NULL, NULL);
	*alive = rc == 0;
	if (rc == -ENOENT)
		return 0;
	return rc < 0 ? store_kverr(s, rc, key) : 0;
}

int store_workload_delete(struct store *s, const char *name)
{
	struct kv_txn_result res = {0};
	struct store_workload w;
	char key[512], sub[512], ckey[512], why[400];
	char *val = NULL;
	size_t len = 0;
	int64_t mod = 0;
	struct kv_txn *t;
	int rc;

	if (!store_name_valid(name, true)) {
		store_seterr(s, "'%s' is not a valid workload name", name);
		return -EINVAL;
	}
	if ((rc = store_key(s, key, sizeof(key), "workloads/%s", name)) < 0 ||
	    (rc = store_key(s, sub, sizeof(sub), "workloads/%s/", name)) < 0)
		return rc;
	rc = kv_get(s->kv, key, &val, &len, &mod);
	if (rc == -ENOENT) {
		store_seterr(s, "%s: no such workload", key);
		return rc;
	}
	if (rc < 0)
		return store_kverr(s, rc, key);
	t = kv_txn_new();
	if (!t) {
		free(val);
		return -ENOMEM;
	}
	/* Its overlay IP's ipcache entry goes with it; a malformed record is still deleted. */
	if (store_workload_decode(key, val, len, &w, why, sizeof(why))) {
		char cidr[STORE_CIDR_MAX];

		if (store_cidr_canon(w.overlay_ip, cidr, why, sizeof(why)) &&
		    store_key(s, ckey, sizeof(ckey), "ipcache/%s", cidr) == 0)
			rc = kv_txn_delete(t, true, ckey, false);
		store_workload_clear(&w);
	}
	if (rc == 0)
		rc = kv_txn_cmp(t, key, KV_CMP_MOD, KV_EQUAL, mod);
	if (rc == 0)
		rc = kv_txn_delete(t, true, key, false);
	if (rc == 0)
		rc = kv_txn_delete(t, true, sub, true);
	if (rc == 0) {
		rc = kv_txn_commit(s->kv, t, &res);
		if (rc < 0) {
			store_kverr(s, rc, key);
		} else if (!res.succeeded) {
			store_seterr(s, "%s: changed while deleting it; try again", key);
			rc = -EAGAIN;
		}
	}
	kv_txn_result_free(&res);
	kv_txn_free(t);
	free(val);
	return rc;
}

/* ---- gateways ---- */

int store_gateway_put(struct store *s, const struct store_gateway *g, int64_t lease)
{
	char key[512];
	char *val;
	int rc;

	if (!store_name_valid(g->name, true)) {
		store_seterr(s, "'%s' is not a valid gateway name (RFC 1123 subdomain)", g->name);
		return -EINVAL;
	}
	rc = store_key(s, key, sizeof(key), "gateways/%s", g->name);
	if (rc < 0)
		return rc;
	val = store_gateway_encode(g);
	if (!val)
		return -ENOMEM;
	rc = kv_put(s->kv, key, val, strlen(val), lease, NULL);
	free(val);
	return rc < 0 ? store_kverr(s, rc, key) : 0;
}

static bool decode_gateway(const char *key, const char *value, size_t len, void *out, char *err,
			   size_t err_len)
{
	return store_gateway_decode(key, value, len, out, err, err_len);
}

int store_load_gateways(struct store *s, struct store_gateway **out, size_t *n)
{
	struct vec v = {.size = sizeof(struct store_gateway), .decode = decode_gateway};
	int rc = store_load_records(s, "gateways/", &v, NULL);

	if (rc == 0) {
		*out = v.items;
		*n = v.n;
	}
	return rc;
}

int store_gateway_delete(struct store *s, const char *name)
{
	char key[512];
	int rc = store_key(s, key, sizeof(key), "gateways/%s", name);

	return rc < 0 ? rc : delete_key(s, key, "gateway");
}

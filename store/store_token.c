// SPDX-License-Identifier: GPL-2.0-only
/*
 * tokens/<id>: enrollment token records (docs/store.md). The secret itself is never stored,
 * only its SHA-256; the enrollment server compares in constant time.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/why.h"
#include "store/store.h"
#include "store/store_internal.h"

bool store_token_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (i >= STORE_TOKEN_ID_LEN ||
		    !(islower((unsigned char)id[i]) || isdigit((unsigned char)id[i])))
			return false;
	return i == STORE_TOKEN_ID_LEN;
}

void store_token_clear(struct store_token *t)
{
	label_set_free(&t->labels);
}

static bool hex64_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return i == 64;
}

/* An integer field in [0, max]; absent is 0 unless required. */
static bool get_int(const char *key, json_t *o, const char *field, bool required, int64_t max,
		    int64_t *out, char *err, size_t err_len)
{
	json_t *v = json_object_get(o, field);

	if (!v) {
		*out = 0;
		return required ? why_false(err, err_len, "%s: %s: missing", key, field) : true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return why_false(err, err_len, "%s: %s: expected an integer in 0..%lld", key, field,
				 (long long)max);
	*out = json_integer_value(v);
	return true;
}

static bool get_string(const char *key, json_t *o, const char *field, bool required, char *out,
		       size_t size, char *err, size_t err_len)
{
	json_t *v = json_object_get(o, field);

	out[0] = '\0';
	if (!v)
		return required ? why_false(err, err_len, "%s: %s: missing", key, field) : true;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return why_false(err, err_len, "%s: %s: expected a string of at most %zu bytes",
				 key, field, size - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return true;
}

static bool token_fields(const char *key, json_t *o, struct store_token *t, char *err,
			 size_t err_len)
{
	int64_t ver, uses, left;
	json_t *rev = json_object_get(o, "revoked");
	char why[256];

	if (!get_int(key, o, "version", true, INT32_MAX, &ver, err, err_len))
		return false;
	if (ver != STORE_RECORD_VERSION)
		return why_false(err, err_len, "%s: version: %lld is not supported (expected 1)",
				 key, (long long)ver);
	if (!get_string(key, o, "secret_sha256", true, t->secret_sha256, sizeof(t->secret_sha256),
			err, err_len) ||
	    !get_string(key, o, "namespace", true, t->namespace_, sizeof(t->namespace_), err,
			err_len) ||
	    !get_string(key, o, "name", false, t->name, sizeof(t->name), err, err_len) ||
	    !get_int(key, o, "created_at", false, INT64_MAX, &t->created_at, err, err_len) ||
	    !get_int(key, o, "expires_at", true, INT64_MAX, &t->expires_at, err, err_len) ||
	    !get_int(key, o, "uses", true, UINT32_MAX, &uses, err, err_len) ||
	    !get_int(key, o, "uses_left", true, UINT32_MAX, &left, err, err_len))
		return false;
	if (!hex64_valid(t->secret_sha256))
		return why_false(err, err_len,
				 "%s: secret_sha256: expected 64 lowercase hex digits", key);
	if (!store_name_valid(t->namespace_, false))
		return why_false(err, err_len, "%s: namespace: '%s' is not a valid namespace", key,
				 t->namespace_);
	if (t->name[0] && !store_name_valid(t->name, true))
		return why_false(err, err_len, "%s: name: '%s' is not a valid workload name", key,
				 t->name);
	if (uses < 1 || left > uses)
		return why_false(err, err_len, "%s: uses: expected uses >= 1 and uses_left <= uses",
				 key);
	if (rev && !json_is_boolean(rev))
		return why_false(err, err_len, "%s: revoked: expected true or false", key);
	if (!json_is_array(json_object_get(o, "labels")) ||
	    !label_set_from_json(&t->labels, json_object_get(o, "labels"), why, sizeof(why)))
		return why_false(err, err_len, "%s: labels: %s", key,
				 json_is_array(json_object_get(o, "labels"))
				     ? why
				     : "expected an array of labels");
	t->uses = (uint32_t)uses;
	t->uses_left = (uint32_t)left;
	t->revoked = json_is_true(rev);
	return true;
}

bool store_token_decode(const char *key, const char *value, size_t len, struct store_token *out,
			char *err, size_t err_len)
{
	const char *id = strrchr(key, '/') ? strrchr(key, '/') + 1 : key;
	json_error_t jerr;
	json_t *o;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!store_token_id_valid(id))
		return why_false(err, err_len, "%s: key: '%s' is not a token id (6 of a-z0-9)", key,
				 id);
	memcpy(out->id, id, STORE_TOKEN_ID_LEN + 1);
	o = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return why_false(err, err_len, "%s: expected a JSON object (%s)", key,
				 o ? "not an object" : jerr.text);
	}
	ok = token_fields(key, o, out, err, err_len);
	json_decref(o);
	if (!ok)
		store_token_clear(out);
	return ok;
}

char *store_token_encode(const struct store_token *t)
{
	json_t *labels = label_set_to_json(&t->labels), *o;
	char *text = NULL;

	if (!labels)
		return NULL;
	o = json_pack("{s:i, s:s, s:o, s:s, s:I, s:I, s:I, s:I}", "version", STORE_RECORD_VERSION,
		      "secret_sha256", t->secret_sha256, "labels", labels, "namespace",
		      t->namespace_, "created_at", (json_int_t)t->created_at, "expires_at",
		      (json_int_t)t->expires_at, "uses", (json_int_t)t->uses, "uses_left",
		      (json_int_t)t->uses_left);
	if (o && t->name[0] && json_object_set_new(o, "name", json_string(t->name)) < 0)
		goto out;
	if (o && t->revoked && json_object_set_new(o, "revoked", json_true()) < 0)
		goto out;
	text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
out:
	json_decref(o);
	return text;
}

/*
 * Writes t at key in one transaction, when key's compare field (version or mod revision)
 * still equals want. 0 with *succeeded saying whether the compare held; -errno otherwise
 * (the store's error set, except for -ENOMEM).
 */
static int token_put_if(struct store *s, const char *key, const struct store_token *t,
			enum kv_cmp_target target, int64_t want, int64_t lease, bool *succeeded)
{
	struct kv_txn_result res = {0};
	char *value = store_token_encode(t);
	struct kv_txn *txn = kv_txn_new();
	int rc = -ENOMEM;

	*succeeded = false;
	if (value && txn) {
		rc = kv_txn_cmp(txn, key, target, KV_EQUAL, want);
		if (rc == 0)
			rc = kv_txn_put(txn, true, key, value, strlen(value), lease);
		if (rc == 0)
			rc = kv_txn_commit(s->kv, txn, &res);
		if (rc < 0)
			store_kverr(s, rc, key);
		else
			*succeeded = res.succeeded;
	}
	kv_txn_result_free(&res);
	kv_txn_free(txn);
	free(value);
	return rc;
}

int store_token_create(struct store *s, const struct store_token *t, int64_t lease)
{
	char key[512];
	bool ok;
	int rc;

	if ((rc = store_key(s, key, sizeof(key), "tokens/%s", t->id)) < 0)
		return rc;
	rc = token_put_if(s, key, t, KV_CMP_VERSION, 0, lease, &ok);
	if (rc == 0 && !ok) {
		store_seterr(s, "%s: token id already taken", key);
		rc = -EEXIST;
	}
	return rc;
}

int store_token_get(struct store *s, const char *id, struct store_token *out, int64_t *mod_revision,
		    int64_t *lease)
{
	struct kv_range_result r = {0};
	struct kv_range_opts o = {0};
	char key[512], why[400];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!store_token_id_valid(id)) {
		store_seterr(s, "'%s' is not a token id", id);
		return -EINVAL;
	}
	if ((rc = store_key(s, key, sizeof(key), "tokens/%s", id)) < 0)
		return rc;
	rc = kv_range(s->kv, key, strlen(key), &o, &r);
	if (rc < 0)
		return store_kverr(s, rc, key);
	if (r.n == 0) {
		store_seterr(s, "%s: no such token", key);
		rc = -ENOENT;
	} else if (!store_token_decode(key, r.kvs[0].value, r.kvs[0].value_len, out, why,
				       sizeof(why))) {
		store_seterr(s, "%s", why);
		rc = -EPROTO;
	} else {
		if (mod_revision)
			*mod_revision = r.kvs[0].mod_revision;
		if (lease)
			*lease = r.kvs[0].lease;
	}
	kv_range_result_free(&r);
	return rc;
}

static bool decode_token(const char *key, const char *value, size_t len, void *out, char *err,
			 size_t err_len)
{
	return store_token_decode(key, value, len, out, err, err_len);
}

static void clear_token(void *t)
{
	store_token_clear(t);
}

int store_load_tokens(struct store *s, struct store_token **out, size_t *n)
{
	struct vec v = {.size = sizeof(struct store_token),
			.decode = decode_token,
			.clear = clear_token,
			.only = STORE_KIND_TOKEN};
	int rc = store_load_records(s, "tokens/", &v, NULL);

	if (rc == 0) {
		*out = v.items;
		*n = v.n;
	}
	return rc;
}

void store_tokens_free(struct store_token *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		store_token_clear(&t[i]);
	free(t);
}

int store_token_revoke(struct store *s, const char *id)
{
	struct store_token t;
	int64_t mod = 0, lease = 0;
	char key[512];
	bool ok;
	int rc;

	rc = store_token_get(s, id, &t, &mod, &lease);
	if (rc < 0)
		return rc;
	t.revoked = true;
	rc = store_key(s, key, sizeof(key), "tokens/%s", id);
	if (rc == 0)
		rc = token_put_if(s, key, &t, KV_CMP_MOD, mod, lease, &ok);
	if (rc == 0 && !ok) {
		store_seterr(s,
			     "%s: changed while revoking it (used or revoked meanwhile); "
			     "try again",
			     key);
		rc = -EAGAIN;
	}
	store_token_clear(&t);
	return rc;
}

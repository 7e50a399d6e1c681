// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_txn: etcd transactions (compare / success / failure) built as JSON and committed with
 * one kv_call(); see kv.h for the contract.
 */
#include "lib/kv/kv.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kv/kv_internal.h"
#include "lib/kv/kv_proto.h"

struct kv_txn {
	json_t *compare, *success, *failure;
};

struct kv_txn *kv_txn_new(void)
{
	struct kv_txn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->compare = json_array();
	t->success = json_array();
	t->failure = json_array();
	if (!t->compare || !t->success || !t->failure) {
		kv_txn_free(t);
		return NULL;
	}
	return t;
}

void kv_txn_free(struct kv_txn *t)
{
	if (!t)
		return;
	json_decref(t->compare);
	json_decref(t->success);
	json_decref(t->failure);
	free(t);
}

size_t kv_txn_ops(const struct kv_txn *t)
{
	size_t s = json_array_size(t->success), f = json_array_size(t->failure);

	return s > f ? s : f;
}

static const char *const cmp_targets[] = {
    [KV_CMP_VERSION] = "VERSION", [KV_CMP_CREATE] = "CREATE", [KV_CMP_MOD] = "MOD",
    [KV_CMP_VALUE] = "VALUE",	  [KV_CMP_LEASE] = "LEASE",
};
static const char *const cmp_fields[] = {
    [KV_CMP_VERSION] = "version",  [KV_CMP_CREATE] = "create_revision",
    [KV_CMP_MOD] = "mod_revision", [KV_CMP_VALUE] = "value",
    [KV_CMP_LEASE] = "lease",
};
static const char *const cmp_results[] = {
    [KV_EQUAL] = "EQUAL",
    [KV_NOT_EQUAL] = "NOT_EQUAL",
    [KV_GREATER] = "GREATER",
    [KV_LESS] = "LESS",
};

static json_t *cmp_new(const char *key, enum kv_cmp_target target, enum kv_cmp_result result)
{
	json_t *cmp = json_object();

	if (!cmp || kv_req_add_key(cmp, key, strlen(key), false) < 0) {
		json_decref(cmp);
		return NULL;
	}
	json_object_set_new(cmp, "target", json_string(cmp_targets[target]));
	json_object_set_new(cmp, "result", json_string(cmp_results[result]));
	return cmp;
}

int kv_txn_cmp(struct kv_txn *t, const char *key, enum kv_cmp_target target,
	       enum kv_cmp_result result, int64_t number)
{
	json_t *cmp;

	if (target == KV_CMP_VALUE || (unsigned)target > KV_CMP_LEASE || (unsigned)result > KV_LESS)
		return -EINVAL;
	cmp = cmp_new(key, target, result);
	if (!cmp)
		return -ENOMEM;
	json_object_set_new(cmp, cmp_fields[target], json_integer(number));
	return json_array_append_new(t->compare, cmp) ? -ENOMEM : 0;
}

int kv_txn_cmp_value(struct kv_txn *t, const char *key, enum kv_cmp_result result,
		     const char *value, size_t value_len)
{
	json_t *cmp;

	if ((unsigned)result > KV_LESS)
		return -EINVAL;
	cmp = cmp_new(key, KV_CMP_VALUE, result);
	if (!cmp || kv_req_add_value(cmp, "value", value, value_len) < 0) {
		json_decref(cmp);
		return -ENOMEM;
	}
	return json_array_append_new(t->compare, cmp) ? -ENOMEM : 0;
}

static int txn_add(struct kv_txn *t, bool on_success, const char *kind, json_t *op)
{
	json_t *wrap;

	if (!op)
		return -ENOMEM;
	wrap = json_object();
	if (!wrap || json_object_set_new(wrap, kind, op) < 0) {
		json_decref(wrap);
		return -ENOMEM;
	}
	return json_array_append_new(on_success ? t->success : t->failure, wrap) ? -ENOMEM : 0;
}

int kv_txn_put(struct kv_txn *t, bool on_success, const char *key, const char *value,
	       size_t value_len, int64_t lease)
{
	json_t *op = json_object();

	if (!op || kv_req_add_key(op, key, strlen(key), false) < 0 ||
	    kv_req_add_value(op, "value", value, value_len) < 0) {
		json_decref(op);
		return -ENOMEM;
	}
	if (lease)
		json_object_set_new(op, "lease", json_integer(lease));
	return txn_add(t, on_success, "request_put", op);
}

int kv_txn_delete(struct kv_txn *t, bool on_success, const char *key, bool prefix)
{
	json_t *op = json_object();

	if (!op || kv_req_add_key(op, key, strlen(key), prefix) < 0) {
		json_decref(op);
		return -ENOMEM;
	}
	return txn_add(t, on_success, "request_delete_range", op);
}

int kv_txn_get(struct kv_txn *t, bool on_success, const char *key, bool prefix)
{
	struct kv_range_opts o = {.prefix = prefix};

	return txn_add(t, on_success, "request_range", kv_req_range(key, strlen(key), &o));
}

int kv_txn_commit(struct kv_client *c, struct kv_txn *t, struct kv_txn_result *out)
{
	json_t *req = json_object(), *reply = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!req)
		return -ENOMEM;
	json_object_set(req, "compare", t->compare);
	json_object_set(req, "success", t->success);
	json_object_set(req, "failure", t->failure);
	rc = kv_call(c, "/v3/kv/txn", req, &reply);
	json_decref(req);
	if (rc < 0)
		return rc;
	rc = kv_parse_txn(reply, out, c->err, sizeof(c->err));
	json_decref(reply);
	return kv_reply_error(c, rc, "txn");
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_auth: etcd's auth administration RPCs (/v3/auth/...) through kv_call(), for the
 * enrollment server, which gives every machine its own user and least-privilege role.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kv/kv.h"
#include "lib/kv/kv_proto.h"

/* Sends body (reference stolen) to path and drops the reply. */
static int auth_call(struct kv_client *c, const char *path, json_t *body)
{
	json_t *reply = NULL;
	int rc;

	if (!body)
		return -ENOMEM;
	rc = kv_call(c, path, body, &reply);
	json_decref(body);
	json_decref(reply);
	return rc;
}

int kv_auth_user_add(struct kv_client *c, const char *name, const char *password)
{
	return auth_call(c, "/v3/auth/user/add",
			 json_pack("{s:s, s:s}", "name", name, "password", password));
}

int kv_auth_user_delete(struct kv_client *c, const char *name)
{
	return auth_call(c, "/v3/auth/user/delete", json_pack("{s:s}", "name", name));
}

int kv_auth_role_add(struct kv_client *c, const char *role)
{
	return auth_call(c, "/v3/auth/role/add", json_pack("{s:s}", "name", role));
}

int kv_auth_role_delete(struct kv_client *c, const char *role)
{
	return auth_call(c, "/v3/auth/role/delete", json_pack("{s:s}", "role", role));
}

int kv_auth_role_grant(struct kv_client *c, const char *role, enum kv_perm perm, const char *key,
		       bool prefix)
{
	size_t len = strlen(key), end_len = 0;
	char *k64 = kv_b64_encode(key, len), *e64 = NULL, *end = NULL;
	json_t *p;
	int rc = -ENOMEM;

	if (!k64)
		return -ENOMEM;
	p = json_pack("{s:i, s:s}", "permType", (int)perm, "key", k64);
	if (p && prefix) {
		end = malloc(len + 1);
		if (!end)
			goto out;
		kv_prefix_end(key, len, end, &end_len);
		e64 = kv_b64_encode(end, end_len);
		if (!e64 || json_object_set_new(p, "range_end", json_string(e64)) < 0)
			goto out;
	}
	if (p) {
		rc = auth_call(c, "/v3/auth/role/grant",
			       json_pack("{s:s, s:O}", "name", role, "perm", p));
	}
out:
	json_decref(p);
	free(k64);
	free(e64);
	free(end);
	return rc;
}

int kv_auth_user_grant_role(struct kv_client *c, const char *user, const char *role)
{
	return auth_call(c, "/v3/auth/user/grant",
			 json_pack("{s:s, s:s}", "user", user, "role", role));
}

int kv_auth_check(struct kv_client *c, const char *user, const char *password)
{
	json_t *reply = NULL, *body = json_pack("{s:s, s:s}", "name", user, "password", password);
	int rc;

	if (!body)
		return -ENOMEM;
	rc = kv_call(c, "/v3/auth/authenticate", body, &reply);
	json_decref(body);
	if (rc == 0 && !json_string_value(json_object_get(reply, "token")))
		rc = -EPROTO;
	json_decref(reply);
	return rc;
}

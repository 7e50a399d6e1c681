// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_auth: etcd's auth administration RPCs (/v3/auth/...) through kv_call(), for the
 * enrollment server, which gives every machine its own user and least-privilege role.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "lib/kv/kv.h"
#include "lib/kv/kv_internal.h"

/* Sends body (reference stolen; NULL means it could not be built) to path; the reply goes
 * to *reply (the caller's to drop), or is dropped when reply is NULL. */
static int auth_call(struct kv_client *c, const char *path, json_t *body, json_t **reply)
{
	json_t *r = NULL;
	int rc;

	if (!body)
		return -ENOMEM;
	rc = kv_call(c, path, body, &r);
	json_decref(body);
	if (reply)
		*reply = r;
	else
		json_decref(r);
	return rc;
}

int kv_auth_user_add(struct kv_client *c, const char *name, const char *password)
{
	return auth_call(c, "/v3/auth/user/add",
			 json_pack("{s:s, s:s}", "name", name, "password", password), NULL);
}

int kv_auth_user_delete(struct kv_client *c, const char *name)
{
	return auth_call(c, "/v3/auth/user/delete", json_pack("{s:s}", "name", name), NULL);
}

int kv_auth_role_add(struct kv_client *c, const char *role)
{
	return auth_call(c, "/v3/auth/role/add", json_pack("{s:s}", "name", role), NULL);
}

int kv_auth_role_delete(struct kv_client *c, const char *role)
{
	return auth_call(c, "/v3/auth/role/delete", json_pack("{s:s}", "role", role), NULL);
}

int kv_auth_role_grant(struct kv_client *c, const char *role, enum kv_perm perm, const char *key,
		       bool prefix)
{
	json_t *p = json_pack("{s:i}", "permType", (int)perm);
	int rc;

	if (!p || kv_req_add_key(p, key, strlen(key), prefix) < 0) {
		json_decref(p);
		return -ENOMEM;
	}
	rc = auth_call(c, "/v3/auth/role/grant", json_pack("{s:s, s:O}", "name", role, "perm", p),
		       NULL);
	json_decref(p);
	return rc;
}

int kv_auth_user_grant_role(struct kv_client *c, const char *user, const char *role)
{
	return auth_call(c, "/v3/auth/user/grant",
			 json_pack("{s:s, s:s}", "user", user, "role", role), NULL);
}

int kv_auth_check(struct kv_client *c, const char *user, const char *password)
{
	json_t *reply = NULL;
	int rc = auth_call(c, "/v3/auth/authenticate",
			   json_pack("{s:s, s:s}", "name", user, "password", password), &reply);

	if (rc == 0 && !json_string_value(json_object_get(reply, "token")))
		rc = -EPROTO;
	json_decref(reply);
	return rc;
}

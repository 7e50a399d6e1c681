// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-machine etcd user and role (enroll/server.h): created by the enrollment server
 * just before the redemption txn, deleted by leave / workload delete.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "enroll/machine_user.h"
#include "enroll/server.h"
#include "lib/kv/kv.h"
#include "store/store.h"

void enroll_machine_user_prefix(const char *name, char *out, size_t len)
{
	snprintf(out, len, "pp_wl_%s_", name);
}

/* What the machine's agent may touch, nothing more (docs/enroll.md "Credentials"). */
static int grant_all(struct kv_client *kv, const struct store *s, const char *role,
		     const char *name)
{
	static const char *const read_dirs[] = {"identities/", "ipcache/", "policies/",
						"gateways/"};
	char key[600];
	int rc;

	snprintf(key, sizeof(key), "%sconfig", s->prefix);
	rc = kv_auth_role_grant(kv, role, KV_PERM_READ, key, false);
	for (size_t i = 0; rc == 0 && i < sizeof(read_dirs) / sizeof(read_dirs[0]); i++) {
		snprintf(key, sizeof(key), "%s%s", s->prefix, read_dirs[i]);
		rc = kv_auth_role_grant(kv, role, KV_PERM_READ, key, true);
	}
	if (rc == 0) {
		snprintf(key, sizeof(key), "%sworkloads/%s", s->prefix, name);
		rc = kv_auth_role_grant(kv, role, KV_PERM_READ, key, false);
	}
	if (rc == 0) {
		snprintf(key, sizeof(key), "%sworkloads/%s/", s->prefix, name);
		rc = kv_auth_role_grant(kv, role, KV_PERM_READWRITE, key, true);
	}
	return rc;
}

int enroll_machine_user_create(struct store *s, const char *name, char *user, size_t user_len,
			       char *password, size_t password_len)
{
	unsigned char rnd[4], pw[24];
	char prefix[STORE_NAME_MAX + 16], hex[9];
	int rc;

	if (password_len < 2 * sizeof(pw) + 1)
		return -EINVAL;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	enroll_machine_user_prefix(name, prefix, sizeof(prefix));
	snprintf(user, user_len, "%s%s", prefix, hex);
	randombytes_buf(pw, sizeof(pw));
	sodium_bin2hex(password, password_len, pw, sizeof(pw));
	sodium_memzero(pw, sizeof(pw));
	/* The user first, with no role: until the grants below it can do nothing. */
	rc = kv_auth_user_add(s->kv, user, password);
	if (rc == 0)
		rc = kv_auth_role_add(s->kv, user);
	if (rc == 0)
		rc = grant_all(s->kv, s, user, name);
	if (rc == 0)
		rc = kv_auth_user_grant_role(s->kv, user, user);
	if (rc < 0) {
		/* A concurrent auth change (another enrollment) is worth another try. */
		if (strstr(kv_error(s->kv), "revision of auth store is old"))
			rc = -EAGAIN;
		enroll_machine_user_drop(s->kv, user);
	}
	return rc;
}

void enroll_machine_user_drop(struct kv_client *kv, const char *user)
{
	kv_auth_user_delete(kv, user);
	kv_auth_role_delete(kv, user);
}

/* Deletes every entry of reply[field] (a list of names) starting with prefix. */
static int drop_listed(struct kv_client *kv, const char *path, const char *field,
		       const char *prefix, int (*del)(struct kv_client *, const char *))
{
	json_t *body = json_object(), *reply = NULL, *v;
	size_t i;
	int rc;

	if (!body)
		return -ENOMEM;
	rc = kv_call(kv, path, body, &reply);
	json_decref(body);
	if (rc < 0)
		return rc;
	json_array_foreach(json_object_get(reply, field), i, v)
	{
		const char *n = json_string_value(v);

		if (n && !strncmp(n, prefix, strlen(prefix)) && (rc = del(kv, n)) < 0)
			break;
	}
	json_decref(reply);
	return rc;
}

int enroll_machine_users_delete(struct kv_client *kv, const char *name)
{
	char prefix[STORE_NAME_MAX + 16];
	int rc;

	enroll_machine_user_prefix(name, prefix, sizeof(prefix));
	rc = drop_listed(kv, "/v3/auth/user/list", "users", prefix, kv_auth_user_delete);
	if (rc == 0)
		rc = drop_listed(kv, "/v3/auth/role/list", "roles", prefix, kv_auth_role_delete);
	return rc;
}

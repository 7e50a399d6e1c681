// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_lease: etcd leases (grant, keep-alive, revoke, time-to-live) over the JSON gateway;
 * see kv.h for the contract.
 */
#include "lib/kv/kv.h"

#include <errno.h>
#include <jansson.h>

#include "lib/kv/kv_internal.h"
#include "lib/kv/kv_proto.h"

static int lease_call(struct kv_client *c, const char *path, json_t *req, int64_t *id, int64_t *ttl)
{
	json_t *reply = NULL, *body;
	int64_t got_ttl = 0;
	int rc;

	if (!req)
		return -ENOMEM;
	rc = kv_call(c, path, req, &reply);
	json_decref(req);
	if (rc < 0)
		return rc;
	/* keepalive is a stream: its one message arrives wrapped in "result". */
	body = json_object_get(reply, "result") ? json_object_get(reply, "result") : reply;
	if ((id && !kv_json_int64(body, "ID", id)) || !kv_json_int64(body, "TTL", &got_ttl)) {
		kv_set_error(c, "malformed lease reply from %s", kv_endpoint(c));
		rc = -EPROTO;
	} else if (ttl) {
		*ttl = got_ttl;
	}
	json_decref(reply);
	return rc;
}

int kv_lease_grant(struct kv_client *c, int64_t ttl_s, int64_t *id, int64_t *granted_ttl)
{
	int64_t got_id = 0;
	int rc = lease_call(c, "/v3/lease/grant", json_pack("{s:I}", "TTL", (json_int_t)ttl_s),
			    &got_id, granted_ttl);

	if (rc == 0 && got_id == 0) {
		kv_set_error(c, "lease grant: etcd returned no lease id");
		return -EPROTO;
	}
	if (id)
		*id = got_id;
	return rc;
}

int kv_lease_keepalive(struct kv_client *c, int64_t id, int64_t *ttl)
{
	int64_t got = 0;
	int rc = lease_call(c, "/v3/lease/keepalive", json_pack("{s:I}", "ID", (json_int_t)id),
			    NULL, &got);

	if (rc == 0 && got <= 0) {
		kv_set_error(c, "lease %llx: not found (expired or revoked)", (long long)id);
		return -ENOENT;
	}
	if (ttl)
		*ttl = got;
	return rc;
}

int kv_lease_revoke(struct kv_client *c, int64_t id)
{
	json_t *reply = NULL;
	json_t *req = json_pack("{s:I}", "ID", (json_int_t)id);
	int rc;

	if (!req)
		return -ENOMEM;
	rc = kv_call(c, "/v3/lease/revoke", req, &reply);
	json_decref(req);
	json_decref(reply);
	return rc;
}

int kv_lease_ttl(struct kv_client *c, int64_t id, int64_t *ttl)
{
	int64_t got = 0;
	int rc = lease_call(c, "/v3/lease/timetolive", json_pack("{s:I}", "ID", (json_int_t)id),
			    NULL, &got);

	if (rc == 0 && got < 0) {
		kv_set_error(c, "lease %llx: not found", (long long)id);
		return -ENOENT;
	}
	if (ttl)
		*ttl = got;
	return rc;
}

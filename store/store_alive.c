// SPDX-License-Identifier: GPL-2.0-only
/* store_alive: a key on a lease the owner keeps alive (store_alive.h). */
#include "store/store_alive.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/kv/kv.h"
#include "store/store.h"
#include "store/store_internal.h"

static const char alive_value[] = "{\"version\":1}";

/* Grant and put; a lease whose put failed is revoked so that nothing dangles. */
static int alive_grant(struct store_alive *a)
{
	int64_t id = 0, granted = 0;
	int rc = kv_lease_grant(a->s->kv, a->ttl_s, &id, &granted);

	if (rc < 0)
		return store_kverr(a->s, rc, a->key);
	rc = kv_put(a->s->kv, a->key, a->value, strlen(a->value), id, NULL);
	if (rc < 0) {
		rc = store_kverr(a->s, rc, a->key);
		(void)kv_lease_revoke(a->s->kv, id);
		return rc;
	}
	a->lease = id;
	return 0;
}

int store_alive_start(struct store *s, const char *name, int64_t ttl_s, struct store_alive *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (ttl_s < 2 || !store_name_valid(name, true))
		return -EINVAL;
	a->s = s;
	a->ttl_s = ttl_s;
	snprintf(a->value, sizeof(a->value), "%s", alive_value);
	rc = store_key(s, a->key, sizeof(a->key), "workloads/%s/alive", name);
	return rc < 0 ? rc : alive_grant(a);
}

int store_alive_refresh(struct store_alive *a)
{
	int64_t ttl = 0;
	int rc;

	if (!a->s)
		return -EINVAL;
	if (!a->lease)
		return alive_grant(a);
	rc = kv_lease_keepalive(a->s->kv, a->lease, &ttl);
	/* etcd answers a keep-alive of an expired lease with TTL 0 or "not found". */
	if (rc == -ENOENT || (rc == 0 && ttl <= 0)) {
		a->lease = 0;
		a->regrants++;
		return alive_grant(a);
	}
	return rc < 0 ? store_kverr(a->s, rc, a->key) : 0;
}

int store_alive_stop(struct store_alive *a)
{
	int rc = 0;

	if (a->s && a->lease) {
		rc = kv_lease_revoke(a->s->kv, a->lease);
		if (rc < 0 && rc != -ENOENT)
			rc = store_kverr(a->s, rc, a->key);
		else
			rc = 0;
	}
	a->lease = 0;
	return rc;
}

int store_alive_set_gateway(struct store_alive *a, const char *gateway)
{
	int rc;

	if (!a->s || (gateway[0] && !store_name_valid(gateway, true)))
		return -EINVAL;
	/* a valid name is [a-z0-9.-]: nothing to escape */
	if (gateway[0])
		snprintf(a->value, sizeof(a->value), "{\"version\":1,\"gateway\":\"%s\"}", gateway);
	else
		snprintf(a->value, sizeof(a->value), "%s", alive_value);
	if (!a->lease)
		return alive_grant(a);
	rc = kv_put(a->s->kv, a->key, a->value, strlen(a->value), a->lease, NULL);
	if (rc == -ENOENT) { /* the lease expired meanwhile */
		a->lease = 0;
		a->regrants++;
		return alive_grant(a);
	}
	return rc < 0 ? store_kverr(a->s, rc, a->key) : 0;
}

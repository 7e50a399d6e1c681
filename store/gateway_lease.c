// SPDX-License-Identifier: GPL-2.0-only
/* gateway_lease: gateways/<name> on a lease kept alive (see gateway_lease.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/kv/kv.h"
#include "store/gateway_lease.h"

/* A new lease and the record on it. The old lease (if any) is already gone. */
static int reg_grant(struct store *s, struct store_gateway_reg *r, int64_t now_ms)
{
	int64_t id = 0, ttl = 0;
	int rc = kv_lease_grant(s->kv, r->ttl_s, &id, &ttl);

	if (rc) {
		snprintf(s->err, sizeof(s->err), "granting a lease for gateways/%s: %s",
			 r->rec.name, kv_error(s->kv));
		return rc;
	}
	rc = store_gateway_put(s, &r->rec, id);
	if (rc) {
		kv_lease_revoke(s->kv, id); /* no lease without its record */
		return rc;
	}
	r->lease = id;
	r->renewed_ms = now_ms;
	return 0;
}

int store_gateway_reg_start(struct store *s, struct store_gateway_reg *r,
			    const struct store_gateway *g, int64_t ttl_s, int64_t now_ms)
{
	memset(r, 0, sizeof(*r));
	r->rec = *g;
	r->ttl_s = ttl_s > 0 ? ttl_s : 10;
	return reg_grant(s, r, now_ms);
}

#define REG_RETRY_MS 1000

int64_t store_gateway_reg_timeout_ms(const struct store_gateway_reg *r, int64_t now_ms)
{
	int64_t due = r->renewed_ms + r->ttl_s * 1000 / 3;

	if (r->retry_ms > due)
		due = r->retry_ms;
	return !r->lease || due <= now_ms ? 0 : due - now_ms;
}

static int reg_renew(struct store *s, struct store_gateway_reg *r, int64_t now_ms)
{
	int64_t ttl = 0;
	int rc;

	if (!r->lease)
		return reg_grant(s, r, now_ms);
	rc = kv_lease_keepalive(s->kv, r->lease, &ttl);
	if (rc == 0 && ttl > 0) {
		r->renewed_ms = now_ms;
		return 0;
	}
	if (rc && rc != -ENOENT) {
		snprintf(s->err, sizeof(s->err), "renewing the lease of gateways/%s: %s",
			 r->rec.name, kv_error(s->kv));
		return rc;
	}
	/* Expired (TTL 0 or unknown): the record went with it; register again. */
	r->lease = 0;
	r->regrants++;
	return reg_grant(s, r, now_ms);
}

int store_gateway_reg_tick(struct store *s, struct store_gateway_reg *r, int64_t now_ms)
{
	int rc;

	if (store_gateway_reg_timeout_ms(r, now_ms) > 0)
		return 0;
	rc = reg_renew(s, r, now_ms);
	r->retry_ms = rc ? now_ms + REG_RETRY_MS : 0;
	return rc;
}

int store_gateway_reg_stop(struct store *s, struct store_gateway_reg *r)
{
	int rc = 0;

	if (r->lease)
		rc = kv_lease_revoke(s->kv, r->lease);
	r->lease = 0;
	if (rc && rc != -ENOENT) {
		snprintf(s->err, sizeof(s->err), "revoking the lease of gateways/%s: %s",
			 r->rec.name, kv_error(s->kv));
		return rc;
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store/gateway_lease: a gateway's registration, gateways/<name>, kept on its own etcd
 * lease (library pp_store, prefix store_gateway_reg_).
 *
 * Contract:
 * - store_gateway_reg_start() grants a lease of ttl_s seconds and puts the record on it, so
 *   the record disappears ttl_s after the gateway stops renewing (a dead gateway is no
 *   longer offered to machines).
 * - store_gateway_reg_tick() renews the lease when a third of the TTL has passed since the
 *   last renewal; a lease etcd no longer knows (expired while the store was unreachable,
 *   or revoked) is replaced by a new one and the record put again. A failed renewal is
 *   retried a second later (each attempt may wait for the store's timeout, so the caller's
 *   loop is not held in back-to-back attempts while the store is down); the record is
 *   never written without a live lease.
 * - store_gateway_reg_stop() revokes the lease (the record goes with it).
 * - Returns 0 or -errno; store_error() says why.
 */
#ifndef PSEUDOPOD_STORE_GATEWAY_LEASE_H
#define PSEUDOPOD_STORE_GATEWAY_LEASE_H

#include <stdint.h>

#include "store/store.h"

struct store_gateway_reg {
	struct store_gateway rec; /* what is registered */
	int64_t ttl_s;
	int64_t lease;	    /* 0 = none yet */
	int64_t renewed_ms; /* monotonic ms of the last renewal */
	int64_t retry_ms;   /* after a failure: not before this (the store may be down) */
	unsigned regrants;  /* leases replaced after expiry (for status/metrics) */
};

/* now_ms: a monotonic clock in milliseconds (the caller's loop clock). */
int store_gateway_reg_start(struct store *s, struct store_gateway_reg *r,
			    const struct store_gateway *g, int64_t ttl_s, int64_t now_ms);
int store_gateway_reg_tick(struct store *s, struct store_gateway_reg *r, int64_t now_ms);
/* Milliseconds until the next renewal is due (0 = now). */
int64_t store_gateway_reg_timeout_ms(const struct store_gateway_reg *r, int64_t now_ms);
int store_gateway_reg_stop(struct store *s, struct store_gateway_reg *r);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store_alive: a record kept alive on an etcd lease — `workloads/<name>/alive` for a
 * machine's agent (docs/store.md), `gateways/<name>`-style presence for others. The record
 * exists exactly while its owner keeps the lease alive: an agent that dies (kill -9, power
 * loss, partition) disappears from the store after the lease's TTL without anyone deleting
 * it.
 *
 * Contract:
 * - store_alive_start() grants a lease of ttl_s seconds and puts the key on it. Nothing is
 *   left behind on failure (a granted lease is revoked, or expires on its own).
 * - store_alive_refresh() is one keep-alive round trip; call it at most every ttl_s / 3.
 *   When etcd says the lease is gone (-ENOENT: it expired during a store outage longer
 *   than the TTL, or was revoked), it grants a new lease and puts the key again, so the
 *   record comes back by itself when the store does. Other errors are returned (the store
 *   is unreachable: the caller retries on its next timer).
 * - store_alive_stop() revokes the lease (the key goes with it); errors are returned but the
 *   struct is reset either way.
 * - store_alive_set_gateway() names the gateway the machine's tunnel uses now in the record
 *   ({"version":1,"gateway":"<name>"}; "" drops the field) and puts it on the held lease:
 *   the cluster's routing reads it to send the pods' traffic for this machine to that
 *   gateway (the return path, docs/architecture.md "Several gateways"). Called after
 *   store_alive_start(). The value is kept even when the put fails, so a later regrant
 *   carries it; the caller retries the put (-EINVAL for a name that is not a valid store
 *   name).
 * - Functions return 0 or -errno; store_error() says why.
 */
#ifndef PSEUDOPOD_STORE_ALIVE_H
#define PSEUDOPOD_STORE_ALIVE_H

#include <stdint.h>

struct store;

struct store_alive {
	struct store *s; /* borrowed */
	char key[512];
	int64_t lease; /* 0 = none held */
	int64_t ttl_s;
	unsigned int regrants; /* leases granted again after expiry */
	char value[320];       /* the record, JSON (a name is at most 253 characters) */
};

/* workloads/<name>/alive with {"version":1} (and "gateway", see above). */
int store_alive_start(struct store *s, const char *name, int64_t ttl_s, struct store_alive *a);
int store_alive_refresh(struct store_alive *a);
int store_alive_stop(struct store_alive *a);
int store_alive_set_gateway(struct store_alive *a, const char *gateway);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gateways: a workload's gateways as peers of its WireGuard device, with the cluster CIDRs
 * on the active one — the I/O half of fail-over (failover.h decides, this applies).
 *
 * The active gateway's allowed IPs are its overlay IP plus the cluster CIDRs; the others
 * have only their overlay IP. A move sets the new active gateway first, with
 * replace_allowed_ips: WireGuard takes the CIDRs from the old peer in the same operation, so
 * there is no moment with no peer for them. A failed apply is retried on the next poll.
 * Functions return 0 or -errno (the reason is in wg_device_error()).
 */
#ifndef PSEUDOPOD_TUNNEL_GATEWAYS_H
#define PSEUDOPOD_TUNNEL_GATEWAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/failover.h"
#include "tunnel/wg.h"

#define TUNNEL_GATEWAYS_MAX_CIDRS 64

struct tunnel_gateway {
	struct wg_peer peer;	      /* public key and endpoint; its allowed IPs are ignored */
	struct wg_allowed_ip overlay; /* the gateway's overlay IP, /32 or /128 */
	uint8_t quiet_polls;	      /* polls before its keepalive is on (tunnel_gateways_add) */
};

/*
 * A gateway added live gets its persistent keepalive only after this many polls. The
 * gateway adds this machine as a peer at the same moment (both react to the same store
 * change) and initiates a handshake at once (its keepalive); had the machine's keepalive
 * initiated too, each side could consume the other's initiation before its own response
 * came back, refuse both responses, and have no session until WireGuard's retry 5 s later.
 * With the machine quiet, the gateway's handshake makes the session; a machine behind NAT,
 * which the gateway cannot reach first, initiates a poll or two later.
 */
#define TUNNEL_GATEWAYS_QUIET_POLLS 2

struct tunnel_gateways {
	struct tunnel_failover fo;
	struct tunnel_gateway gw[TUNNEL_FAILOVER_MAX_GATEWAYS];
	size_t n;
	struct wg_allowed_ip cidrs[TUNNEL_GATEWAYS_MAX_CIDRS];
	size_t n_cidrs;
	uint16_t keepalive_s;
	bool applied;	       /* the device reflects fo.active */
	size_t applied_active; /* which one, when applied */
};

/* After filling gw[], n, cidrs, n_cidrs, keepalive_s: sets up the decision state. */
bool tunnel_gateways_init(struct tunnel_gateways *g, uint32_t stale_s, uint32_t hold_s);
/* Writes all gateway peers for the current active gateway (initially the first). */
int tunnel_gateways_apply(struct wg_device *dev, struct tunnel_gateways *g);
/* One poll at now_s: reads the peers' handshakes and rx counters, decides, and applies a
 * change (or a change whose apply failed before). Returns 1 when the active gateway
 * changed, 0 when not, -errno when reading or applying failed. */
int tunnel_gateways_poll(struct wg_device *dev, struct tunnel_gateways *g, int64_t now_s);

/*
 * Live changes of the set (a gateways/ record added, changed or removed), each a few single-
 * peer operations in an order that never leaves the cluster CIDRs without a peer:
 * - tunnel_gateways_add(): a new standby peer (allowed IPs: its overlay IP only), its
 *   keepalive held back for TUNNEL_GATEWAYS_QUIET_POLLS polls.
 *   -ENOSPC when the set is full, -EEXIST when the key is already a gateway.
 * - tunnel_gateways_update(): gateway i gets a new key and/or endpoint; with a new key the
 *   new peer is written first (with the CIDRs if i is active), then the old one removed, and
 *   i's health starts over.
 * - tunnel_gateways_remove(): when i is active, its successor (tunnel_failover_remove())
 *   takes the CIDRs first (replace_allowed_ips moves them in one operation), then i's peer
 *   is removed. -EBUSY for the last gateway (it is kept), -ERANGE for a bad index.
 * - tunnel_gateways_set_cidrs(): the cluster CIDRs changed; the active peer is rewritten.
 * The arrays are changed even when a device write fails: the next poll re-applies
 * (g->applied is cleared), so the device converges on what the arrays say.
 */
int tunnel_gateways_add(struct wg_device *dev, struct tunnel_gateways *g,
			const struct tunnel_gateway *gw);
int tunnel_gateways_update(struct wg_device *dev, struct tunnel_gateways *g, size_t i,
			   const struct tunnel_gateway *gw);
int tunnel_gateways_remove(struct wg_device *dev, struct tunnel_gateways *g, size_t i,
			   int64_t now_s);
int tunnel_gateways_set_cidrs(struct wg_device *dev, struct tunnel_gateways *g,
			      const struct wg_allowed_ip *cidrs, size_t n);

#endif

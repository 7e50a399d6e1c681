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
};

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

#endif

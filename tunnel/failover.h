/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * failover: which gateway should carry the cluster CIDRs, decided from what WireGuard
 * reports per peer. Pure logic (no I/O, time passed in), so it is unit-tested alone.
 *
 * A gateway is healthy when we heard from it within stale_s: its latest handshake, or the
 * last poll at which its rx_bytes grew, whichever is newer. (Handshakes alone are renewed
 * only every ~2 minutes under traffic, so a bound below that would call every idle-but-
 * alive gateway stale; keepalives from the gateway move rx_bytes every few seconds.)
 * Rules:
 *  - the active gateway stays while it is healthy, and during start-up: a gateway never
 *    heard from is not stale before stale_s after the first decision (otherwise whichever
 *    gateway happens to answer its first handshake first would take the CIDRs at once);
 *  - when it is stale, the preferred gateway (index 0) takes over if healthy, else the
 *    gateway healthy for longest; with no healthy gateway nothing moves;
 *  - the preferred gateway gets the CIDRs back only after hold_s of continuous health
 *    (hysteresis: a gateway bouncing up and down does not drag the traffic with it).
 */
#ifndef PSEUDOPOD_TUNNEL_FAILOVER_H
#define PSEUDOPOD_TUNNEL_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TUNNEL_FAILOVER_MAX_GATEWAYS 8

struct tunnel_failover_gw {
	int64_t last_seen_s; /* newest sign of life, unix seconds; 0 = never */
	uint64_t rx_bytes;   /* at the previous observation */
	bool rx_known;
	int64_t healthy_since_s; /* 0 = not healthy now */
};

struct tunnel_failover {
	uint32_t stale_s, hold_s;
	size_t n, active;
	unsigned switches;
	int64_t started_s; /* time of the first tunnel_failover_decide() */
	struct tunnel_failover_gw gw[TUNNEL_FAILOVER_MAX_GATEWAYS];
};

/* Returns false when n is 0 or above TUNNEL_FAILOVER_MAX_GATEWAYS or stale_s is 0. */
bool tunnel_failover_init(struct tunnel_failover *f, size_t n, uint32_t stale_s, uint32_t hold_s);
/* One poll's reading of gateway i: latest handshake (0 = never) and its rx counter. */
void tunnel_failover_observe(struct tunnel_failover *f, size_t i, int64_t last_handshake_s,
			     uint64_t rx_bytes, int64_t now_s);
bool tunnel_failover_healthy(const struct tunnel_failover *f, size_t i, int64_t now_s);
/* Applies the rules at now_s; returns the gateway that should be active (f->active). */
size_t tunnel_failover_decide(struct tunnel_failover *f, int64_t now_s);

/*
 * The set changes while running (gateways/ records come and go):
 * - tunnel_failover_add() appends a gateway never heard from (it becomes a standby; it is
 *   preferred only if it is the only one); false when the set is full.
 * - tunnel_failover_remove() drops gateway i and shifts the later ones down. When i was
 *   active, the gateway healthy for longest takes over at once (else the first remaining):
 *   a gateway that deregistered is leaving, waiting for it to go stale would only lose
 *   traffic. Counts as a switch. false when i is out of range or the last gateway (a
 *   machine with no gateway reaches nothing: the caller keeps it).
 */
bool tunnel_failover_add(struct tunnel_failover *f);
bool tunnel_failover_remove(struct tunnel_failover *f, size_t i, int64_t now_s);

#endif

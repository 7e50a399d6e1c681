/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tunnel_supervisor: the loop that keeps a WireGuard device working once it is up —
 * supervise wireguard-go (restart it when it dies), put the link configuration back on the
 * new TUN device after a restart, and run gateway fail-over once a second. pp-tunnel
 * --foreground and the daemon share it.
 *
 * Contract:
 *   - The caller owns the device, the link configuration and the gateways; the supervisor
 *     only borrows them (they must outlive it) and never creates or deletes anything.
 *   - Built for a poll loop: poll tunnel_supervisor_fd() for POLLIN (a timer that fires
 *     every interval), or sleep tunnel_supervisor_timeout_ms(); then call
 *     tunnel_supervisor_tick(). Ticking early or late is harmless: every tick does all
 *     the work that is due and the timer is drained.
 *   - A tick never fails: a restart, relink or fail-over poll that goes wrong is logged
 *     and retried on a later tick (a failed fail-over apply stays pending in the gateways
 *     state). The return value says what changed, for the caller to report.
 *   - Functions that can fail return 0 or -errno.
 */
#ifndef PSEUDOPOD_TUNNEL_SUPERVISOR_H
#define PSEUDOPOD_TUNNEL_SUPERVISOR_H

#include <stdint.h>

struct tunnel_gateways;
struct tunnel_link_cfg;
struct wg_device;
struct tunnel_supervisor; /* opaque */

/* How often wireguard-go is checked when the caller does not say. */
#define TUNNEL_SUPERVISOR_INTERVAL_MS 200

struct tunnel_supervisor_cfg {
	struct wg_device *dev;		    /* required */
	const struct tunnel_link_cfg *link; /* re-applied after a wireguard-go restart */
	struct tunnel_gateways *gws;	    /* NULL or no gateways: no fail-over */
	uint32_t interval_ms;		    /* 0 = TUNNEL_SUPERVISOR_INTERVAL_MS */
};

/* What a tick changed (bits). */
enum {
	TUNNEL_SUPERVISOR_RELINKED = 1 << 0, /* wireguard-go restarted, link re-applied */
	TUNNEL_SUPERVISOR_SWITCHED = 1 << 1, /* another gateway carries the cluster CIDRs */
};

int tunnel_supervisor_open(struct tunnel_supervisor **out, const struct tunnel_supervisor_cfg *cfg);
/* Readable when a tick is due; never read it yourself. */
int tunnel_supervisor_fd(const struct tunnel_supervisor *s);
/* Milliseconds until the next tick is due (0 = now), for loops that do not poll the fd. */
int tunnel_supervisor_timeout_ms(const struct tunnel_supervisor *s);
/* Does the due work at now_s (unix seconds; the fail-over clock). Returns the change bits. */
unsigned tunnel_supervisor_tick(struct tunnel_supervisor *s, int64_t now_s);
/* Frees s (not what it borrowed). Accepts NULL. */
void tunnel_supervisor_close(struct tunnel_supervisor *s);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wg_shadow: a copy of the configuration we gave a WireGuard device, kept so it can be
 * replayed into a fresh wireguard-go after a restart (which starts empty). It follows
 * WireGuard's own rules, so that the replay recreates exactly the device's state:
 *   - setting a peer adds it or updates it in place; allowed IPs are added to the peer's,
 *     or replace them when replace_allowed_ips is set;
 *   - an allowed IP belongs to one peer at a time: giving it to a peer takes it from any
 *     other (this is how gateway fail-over moves the cluster CIDRs).
 * Every stored peer has replace_allowed_ips set, so replaying it is exact. Pure data, no I/O.
 * Functions return 0 or -ENOMEM.
 */
#ifndef PSEUDOPOD_TUNNEL_WG_SHADOW_H
#define PSEUDOPOD_TUNNEL_WG_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/wg.h"

struct wg_shadow {
	bool has_key, has_port;
	uint8_t key[WG_KEY_LEN];
	uint16_t port;
	struct wg_peer *peers; /* each owns its allowed_ips */
	size_t n_peers, cap_peers;
};

int wg_shadow_set_peer(struct wg_shadow *s, const struct wg_peer *peer);
void wg_shadow_remove_peer(struct wg_shadow *s, const uint8_t public_key[WG_KEY_LEN]);
const struct wg_peer *wg_shadow_find(const struct wg_shadow *s,
				     const uint8_t public_key[WG_KEY_LEN]);
/* Frees the peers; s itself is the caller's. Accepts NULL. */
void wg_shadow_free(struct wg_shadow *s);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wg_kernel: the kernel backend of tunnel/wg.h — a WireGuard device configured over
 * generic netlink (linux/wireguard.h) with libmnl, created over rtnetlink.
 *
 * Contract:
 *   - Every call works in the calling thread's network namespace.
 *   - System calls return 0 or -errno; the reason of the last failure (with the kernel's
 *     extended-ack text when it gives one) is in wg_kernel_error().
 *   - Peer changes are incremental: wg_kernel_set_peer() and wg_kernel_remove_peer() send
 *     exactly one peer and never WGDEVICE_F_REPLACE_PEERS, so other peers are untouched.
 *     A peer whose allowed-IPs do not fit one netlink message is sent in several; only the
 *     first carries WGPEER_F_REPLACE_ALLOWEDIPS (the kernel's documented way, see
 *     linux/wireguard.h "large peer lists"); the others carry WGPEER_F_UPDATE_ONLY so they
 *     never re-create a peer removed in between.
 *   - wg_kernel_get_peers() reads a multi-part dump and merges a peer that the kernel split
 *     across messages back into one entry.
 *
 * The message builders and the dump parser are pure and live in wg_kernel_msg.h, so the
 * unit tests and the fuzz harness drive them without a kernel.
 */
#ifndef PSEUDOPOD_TUNNEL_WG_KERNEL_H
#define PSEUDOPOD_TUNNEL_WG_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/wg.h"
#include "tunnel/wg_kernel_msg.h"

struct wg_kernel; /* opaque: sockets, ifindex, family id, last error */

/* 0 when the kernel's "wireguard" generic netlink family resolves (the kernel loads the
 * module on demand when it can), else -ENOENT (or another -errno) with a reason in why. */
int wg_kernel_probe(char *why, size_t why_len);
/* Creates ifname (rtnetlink, kind "wireguard"), or adopts it when it already exists and is
 * a WireGuard device. On failure *out is NULL and why says what to do. */
int wg_kernel_open(struct wg_kernel **out, const char *ifname, char *why, size_t why_len);
/* Like wg_kernel_open() but never creates: -ENODEV when ifname does not exist. */
int wg_kernel_adopt(struct wg_kernel **out, const char *ifname, char *why, size_t why_len);
int wg_kernel_set_private_key(struct wg_kernel *k, const uint8_t key[WG_KEY_LEN]);
int wg_kernel_set_listen_port(struct wg_kernel *k, uint16_t port);
/* Adds the peer or updates it in place (endpoint, keepalive, allowed-IPs). */
int wg_kernel_set_peer(struct wg_kernel *k, const struct wg_peer *peer);
int wg_kernel_remove_peer(struct wg_kernel *k, const uint8_t public_key[WG_KEY_LEN]);
/* Fills a malloc'd array (each allowed_ips malloc'd too); free with wg_kernel_peers_free(). info
 * may be NULL. */
int wg_kernel_get_device(struct wg_kernel *k, struct wg_kernel_device_info *info,
			 struct wg_peer **peers, size_t *n);
int wg_kernel_get_peers(struct wg_kernel *k, struct wg_peer **peers, size_t *n);
const char *wg_kernel_error(const struct wg_kernel *k);
/* Deletes the interface and frees k. Accepts NULL. */
void wg_kernel_destroy(struct wg_kernel *k);
/* Frees k and leaves the interface as it is. Accepts NULL. */
void wg_kernel_close(struct wg_kernel *k);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wg_kernel_msg: the pure half of the kernel WireGuard backend (wg_kernel.h is the I/O
 * half): generic netlink requests built into caller buffers (wg_kernel_msg.c) and the
 * kernel's replies parsed from buffers (wg_kernel_dump.c). No sockets, no global state, so
 * unit tests and the fuzz harness (tests/fuzz/tunnel_kernel/) drive them without a kernel.
 *
 * Contract:
 *   - Builders write one complete netlink message into buf (len bytes, 4-aligned) and
 *     return its length, or -EMSGSIZE when it does not fit.
 *   - The parser takes any bytes: malformed input gives false and a reason, never a crash
 *     or an out-of-bounds read; unknown attributes are skipped.
 */
#ifndef PSEUDOPOD_TUNNEL_WG_KERNEL_MSG_H
#define PSEUDOPOD_TUNNEL_WG_KERNEL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/wg.h"

struct nlmsghdr;

/* What the device itself reports (the first part of a WG_CMD_GET_DEVICE dump). */
struct wg_kernel_device_info {
	uint32_t ifindex;
	char ifname[16];
	bool has_private_key, has_public_key;
	uint8_t private_key[WG_KEY_LEN];
	uint8_t public_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
};

void wg_kernel_peers_free(struct wg_peer *peers, size_t n);

int wg_kernel_build_get_family(void *buf, size_t len, uint32_t seq, const char *family);
/* Sets private key (when key != NULL) and/or listen port (when port >= 0). */
int wg_kernel_build_set_device(void *buf, size_t len, uint16_t family_id, uint32_t seq,
			       uint32_t ifindex, const uint8_t *key, int port);
int wg_kernel_build_get_device(void *buf, size_t len, uint16_t family_id, uint32_t seq,
			       uint32_t ifindex);
/* Places peer with its allowed-IPs [from, ...) — as many as fit — and stores the index of
 * the first one left out in *next (== n_allowed_ips when all fit). from > 0 builds a
 * continuation message: key, WGPEER_F_UPDATE_ONLY and allowed-IPs only. */
int wg_kernel_build_set_peer(void *buf, size_t len, uint16_t family_id, uint32_t seq,
			     uint32_t ifindex, const struct wg_peer *peer, size_t from,
			     size_t *next);
int wg_kernel_build_remove_peer(void *buf, size_t len, uint16_t family_id, uint32_t seq,
				uint32_t ifindex, const uint8_t public_key[WG_KEY_LEN]);

/* Accumulates a WG_CMD_GET_DEVICE dump, one message at a time. */
struct wg_kernel_dump {
	struct wg_kernel_device_info info;
	struct wg_peer *peers;
	size_t n, cap;
	char err[160];
};
/* Parses one netlink message (nlh->nlmsg_len already checked against the buffer by the
 * caller, e.g. mnl_nlmsg_ok()). Returns false with d->err set on malformed input; the
 * peers parsed so far stay in d. */
bool wg_kernel_parse_device_msg(const struct nlmsghdr *nlh, struct wg_kernel_dump *d);
/* Returns the family id from a CTRL_CMD_GETFAMILY reply, or 0 when it has none. */
uint16_t wg_kernel_parse_family_id(const struct nlmsghdr *nlh);
void wg_kernel_dump_free(struct wg_kernel_dump *d);

#endif

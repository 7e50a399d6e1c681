/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wg_uapi: the WireGuard cross-platform userspace API text protocol (what wireguard-go
 * serves on /var/run/wireguard/IFNAME.sock), without any I/O, so it can be unit-tested and
 * fuzzed. See https://www.wireguard.com/xplatform/ for the protocol.
 *
 * Requests are built with the wg_uapi_format_* functions into a stdio stream (the caller
 * writes "set=1\n", the items, then "\n"). Replies are parsed from a buffer:
 * wg_uapi_parse_get() for a "get=1" dump, wg_uapi_parse_errno() for a "set=1" reply.
 * A reply's "errno=N" becomes a negative errno; parsers return false and say why
 * (line number, key, value, what was expected) on anything malformed.
 */
#ifndef PSEUDOPOD_TUNNEL_WG_UAPI_H
#define PSEUDOPOD_TUNNEL_WG_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tunnel/wg.h"

#define WG_UAPI_MAX_PEERS	(1u << 20)
#define WG_UAPI_MAX_ALLOWED_IPS (1u << 16) /* per peer */

struct wg_uapi_device {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	struct wg_peer *peers; /* free with wg_uapi_device_free() */
	size_t n_peers;
};

void wg_uapi_format_private_key(FILE *out, const uint8_t key[WG_KEY_LEN]);
void wg_uapi_format_listen_port(FILE *out, uint16_t port);
/* One peer, incremental: "update_only" is not used, so a new key adds the peer. */
void wg_uapi_format_peer(FILE *out, const struct wg_peer *peer);
void wg_uapi_format_remove_peer(FILE *out, const uint8_t key[WG_KEY_LEN]);
/* "1.2.3.4:51820" or "[fd00::1]:51820"; returns false for another family. */
bool wg_uapi_format_endpoint(char *out, size_t out_len, const struct wg_peer *peer);

/* The reply to "get=1": device fields, peers, and the closing errno. *err is the errno
 * the server reported (0 or negative). dev is filled only when the function returns true. */
bool wg_uapi_parse_get(const char *buf, size_t len, struct wg_uapi_device *dev, int *err, char *why,
		       size_t why_len);
/* The reply to "set=1": exactly "errno=N" and an empty line. */
bool wg_uapi_parse_errno(const char *buf, size_t len, int *err, char *why, size_t why_len);
/* What wireguard-go means by a given errno, for error messages. */
const char *wg_uapi_strerror(int err);
void wg_uapi_device_free(struct wg_uapi_device *dev);

/* Parsers shared with the tool: "a.b.c.d/n" or "x::y/n"; "ip:port" or "[ip6]:port". */
bool wg_uapi_parse_allowed_ip(struct wg_allowed_ip *out, const char *text);
bool wg_uapi_parse_endpoint(struct wg_peer *peer, const char *text);

#endif

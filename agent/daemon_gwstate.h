/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon_gwstate: the machine's live gateway set, persisted in <state-dir>/gateways.json so
 * that a restarted pseudopodd starts with the gateways it had and the one it used, not the
 * set `pseudopod enroll` saw (docs/agent.md, "Live changes").
 *
 * Format: {"version":1,"owner":"<machine>/<enrolled_at>","active":"<name>",
 *          "gateways":{"<name>":<gateways/<name> record>,...}}
 * — each record is exactly what the store holds (store_gateway_encode / _decode), at most
 * TUNNEL_FAILOVER_MAX_GATEWAYS of them, "active" one of the names. "owner" binds the file to
 * one enrollment: `pseudopod leave` does not remove it, and a later enrollment (another
 * cluster, other gateways) must not start from it.
 *
 * Contract: decode() takes any bytes (and the owner expected) and returns false with the
 * reason (the caller then
 * starts from the enrollment's set) or true with 1..max records and the active name; it
 * never returns a partial set. encode() returns a malloc'd string (NULL on allocation
 * failure). The file is written with enroll_write_file() (temp + fsync + rename): a crash
 * leaves the old or the new set, never a torn one.
 */
#ifndef PSEUDOPOD_AGENT_DAEMON_GWSTATE_H
#define PSEUDOPOD_AGENT_DAEMON_GWSTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

#define DAEMON_GWSTATE_FILE "gateways.json"
#define DAEMON_GWSTATE_MAX  (64 * 1024) /* bytes: 8 records of well under 2 KiB */

char *daemon_gwstate_encode(const struct store_gateway *gws, size_t n, const char *active,
			    const char *owner);
bool daemon_gwstate_decode(const char *buf, size_t len, const char *owner,
			   struct store_gateway *out, size_t max, size_t *n, char *active,
			   size_t active_len, char *why, size_t why_len);

#endif

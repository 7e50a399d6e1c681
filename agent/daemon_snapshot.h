/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon_snapshot: the persisted policy snapshot's codec (docs/agent.md, "Files"): pure
 * functions, no I/O, driven by tests/fuzz. decode() refuses (false, with why) anything
 * but an intact snapshot written for this identity: wrong magic or version, counts that do
 * not match the length, a checksum mismatch, an invalid prefix, entry or flag.
 */
#ifndef PSEUDOPOD_AGENT_DAEMON_SNAPSHOT_H
#define PSEUDOPOD_AGENT_DAEMON_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/dp.h"
#include "lib/policy_entry.h"

#define DAEMON_SNAPSHOT_FILE	 "policy.snapshot"
#define DAEMON_SNAPSHOT_VERSION	 1u
#define DAEMON_SNAPSHOT_MAX	 (1u << 22) /* entries of one kind */
#define DAEMON_SNAPSHOT_FILE_MAX (256u << 20)

struct daemon_snapshot {
	uint32_t identity;
	int64_t revision;
	uint32_t flags; /* DP_EP_F_ENFORCE_* */
	struct dp_ipcache_entry *ipcache;
	size_t n_ipcache;
	struct policy_entry *entries; /* one per key reference */
	size_t n_entries;
};

bool daemon_snapshot_decode(const void *buf, size_t len, uint32_t identity,
			    struct daemon_snapshot *out, char *why, size_t why_len);
/* malloc'd bytes, NULL on ENOMEM. */
void *daemon_snapshot_encode(const struct daemon_snapshot *s, size_t *len);
void daemon_snapshot_free(struct daemon_snapshot *s);

#endif

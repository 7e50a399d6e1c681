/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agent/sync: one whole sync of a machine's datapath from the cluster store — what
 * pp-policy-sync runs once and pseudopodd runs at start and after every compaction
 * (library pp_agent, prefix agent_sync_). It owns the connections (pinned maps, store) and
 * drives agent/policy_sync.h: lock the pin directory, load a snapshot, diff, write.
 *
 * Contract:
 * - agent_sync_open() checks that the datapath pinned under bpffs is in workload mode with
 *   the given identity (the programs look up the identity fixed at load time: writing
 *   another identity's policy would leave the loaded one unprotected) and connects to the
 *   store; nothing is written.
 * - agent_sync_run() holds the pin directory's writer lock (dp_lock) from before the store
 *   is read until the last map write, so concurrent writers (another run, the daemon and a
 *   tool) never interleave, and the later writer reads a store at least as new. The lock is
 *   waited for up to lock_timeout_ms, then the run fails with -ETIMEDOUT and writes nothing.
 * - Any failure before the first map write leaves the maps untouched; a failure or a kill
 *   during the writes leaves a state that allows no more than the old or the new policy
 *   (docs/agent.md, "Why the write order is safe").
 * - Functions return 0 or -errno and say why in err (ready to print after "PROG: ").
 */
#ifndef PSEUDOPOD_AGENT_SYNC_H
#define PSEUDOPOD_AGENT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "agent/policy_sync.h"
#include "lib/kv/kv.h"

struct agent_sync_opts {
	struct kv_options store;   /* borrowed strings */
	const char *prefix;	   /* store key prefix; NULL = the default */
	const char *bpffs;	   /* the datapath's pin directory */
	uint32_t identity;	   /* the local endpoint's (the machine's) identity */
	int lock_timeout_ms;	   /* waiting for another writer: < 0 forever, 0 not at all */
	agent_policy_change_cb cb; /* each change written (verbose); may be NULL */
	void *cb_arg;
};

struct agent_sync_result {
	struct agent_policy_report rep;
	int64_t revision;	   /* store revision of the ipcache listing */
	size_t policies_recovered; /* from etcd's history */
};

struct agent_sync;
int agent_sync_open(const struct agent_sync_opts *o, struct agent_sync **out, char *err,
		    size_t err_len);
void agent_sync_close(struct agent_sync *as); /* accepts NULL */
/* One snapshot sync (see the contract). */
int agent_sync_run(struct agent_sync *as, struct agent_sync_result *res, char *err, size_t err_len);
/* The policy sync state of the last run (its engine, for incremental updates). */
struct agent_policy_sync *agent_sync_policy(struct agent_sync *as);

#endif

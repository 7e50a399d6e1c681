/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agent/policy_sync: the glue between the cluster store, the policy engine and the
 * datapath's pinned maps (library pp_agent, prefix agent_policy_).
 *
 * Contract:
 * - The datapath is written as a DIFF against what its pinned maps hold right now, read
 *   back from the maps: on start the agent adopts the maps left by a previous run (or by
 *   another tool) and changes only what differs. The maps are never cleared and rebuilt,
 *   so there is no moment where they are empty (fail-open) or half-written (docs/architecture.md,
 *   GHSA-r5x6-w42p-jhpp).
 * - Order of a sync: policy-key additions (every deny key before any allow key), ipcache
 *   additions/changes, enforcement flags, policy-key removals (every allow key before any
 *   deny key), ipcache removals. The datapath's verdict is monotone (a deny key only
 *   narrows, an allow key only widens), so at every point a write can fail or the process
 *   be killed, what passes is allowed by the old or by the new policy, and what both allow
 *   passes — as long as the flow's identities stay the same; an address changing identity
 *   finds the new identity's keys in place before the ipcache switches it (docs/agent.md
 *   has the argument and its limit). The new keys are written before the old ones go, so
 *   the maps must hold both: that is checked before the first write, and a change that
 *   does not fit is refused as a whole (-ENOSPC, nothing written).
 * - Enforcement flags (DP_EP_F_ENFORCE_*) are derived so that the datapath gives exactly
 *   the engine's verdicts: the datapath ignores every entry of a direction it does not
 *   enforce, while the engine expresses "not enforced" as one {ANY, ANY, allow} entry plus
 *   any deny entries. So a direction's flag is set when the engine enforces it OR when its
 *   entries are anything other than that single allow-all entry (deny entries then apply
 *   through the allow-all entry); it is clear only when the entries are exactly
 *   allow-all, where "not enforced" and "allow all" agree on every packet.
 * - A store record that cannot be used (malformed JSON, a policy the engine rejects) is
 *   skipped with a log line naming its key, fail-static: for an ipcache record the datapath
 *   keeps what it had for that prefix; a policy falls back to its last valid version in
 *   etcd's history. Either way a bad record neither opens nor closes anything.
 * - Only the local endpoint's policy keys (endpoint = its identity) are touched; other
 *   endpoints' keys in the policy map are left alone.
 * - Cost: one store listing per prefix and n log n in every table (sorts, no scans per
 *   entry); a sync that finds nothing to change writes nothing.
 * - The caller serialises writers of one pin directory (dp_lock(); agent/sync.h does).
 * - Functions return 0 or -errno and say why in the caller's err buffer; the pure helpers
 *   below (mapping, diffing, flags) do no I/O and are unit-tested.
 */
#ifndef PSEUDOPOD_AGENT_POLICY_SYNC_H
#define PSEUDOPOD_AGENT_POLICY_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/dp.h"
#include "lib/policy_entry.h"
#include "store/store.h"

struct dp;
struct store;
struct store_identity;
struct store_ipcache;
struct store_policy;
struct policy_engine;
struct policy_changes;
struct policy_cidr_identity;

/* ---- pure helpers ---- */

/* A store ipcache record -> a datapath ipcache entry (gateway -> tunnel endpoint, workload
 * kind -> DP_IPC_F_WORKLOAD). false with the reason for a CIDR or gateway it cannot use. */
bool agent_policy_ipcache_from_store(const struct store_ipcache *r, struct dp_ipcache_entry *out,
				     char *err, size_t err_len);
/* An engine CIDR identity -> a datapath ipcache entry (no tunnel, no flags). */
void agent_policy_ipcache_from_cidr(const struct policy_cidr_identity *c,
				    struct dp_ipcache_entry *out);
/* "10.0.0.0/8 -> 300 via 10.99.0.1 workload" into buf; returns buf. */
char *agent_policy_ipcache_format(const struct dp_ipcache_entry *e, char *buf, size_t len);

struct agent_ipcache_diff {
	struct dp_ipcache_entry *add; /* prefixes new to the map */
	size_t n_add;
	struct dp_ipcache_entry *change; /* prefixes whose value differs (written over) */
	size_t n_change;
	struct dp_ipcache_entry *del; /* prefixes the map has and nothing wants */
	size_t n_del;
	size_t n_same;
};
/*
 * want: the desired entries (earlier ones win on a duplicate prefix); have: the map's.
 * keep: prefixes whose current entry must be left as it is whatever want says (the
 * prefixes of malformed store records). -ENOMEM only.
 */
int agent_policy_ipcache_diff(const struct dp_ipcache_entry *want, size_t n_want,
			      const struct dp_ipcache_entry *have, size_t n_have,
			      const struct dp_ipcache_entry *keep, size_t n_keep,
			      struct agent_ipcache_diff *out);
/* The same with want in two parts (want_a's entries before want_b's), so that a caller
 * need not concatenate them: at 100k entries every copy is 3 MB. Sorting is through 4-byte
 * indexes; the outputs are as large as the change. */
int agent_policy_ipcache_diff_parts(const struct dp_ipcache_entry *want_a, size_t n_a,
				    const struct dp_ipcache_entry *want_b, size_t n_b,
				    const struct dp_ipcache_entry *have, size_t n_have,
				    const struct dp_ipcache_entry *keep, size_t n_keep,
				    struct agent_ipcache_diff *out);
void agent_ipcache_diff_free(struct agent_ipcache_diff *d);

/* A policy-map row -> the single-key entry that expands to exactly that key (aligned
 * port blocks are ranges). false for a key no valid entry produces. */
bool agent_policy_row_entry(const struct dp_policy_row *r, struct policy_entry *out);

/* A kept key whose rule id names no current rule any more (its policy was replaced): the
 * value is rewritten in place (same reference count) so events name a live rule. */
struct agent_policy_relabel {
	struct dp_policy_key key;
	uint32_t rule_id;
};

struct agent_policy_diff {
	/* Each element expands to exactly one map key; a key whose reference count must
	 * rise by n appears n times. */
	struct policy_entry *add;
	size_t n_add;
	struct policy_entry *del;
	size_t n_del;
	size_t keys_added;   /* keys created */
	size_t keys_removed; /* keys deleted */
	size_t keys_same;    /* keys already right (value and reference count) */
	size_t keys_recount; /* keys kept whose reference count changes */
	size_t keys_want;    /* keys the desired entries expand to */
	size_t keys_added_exact, keys_added_lpm; /* keys_added by map (exact hash, trie) */
	struct agent_policy_relabel *relabel;
	size_t n_relabel;
};
/*
 * want: the endpoint's desired entries (the engine's); have: the map's rows of this
 * endpoint (others are ignored). The result turns the rows into exactly the keys and
 * reference counts that writing want into empty maps would give. -EINVAL with err for a
 * desired entry the datapath refuses or a row no entry can express; -ENOMEM.
 */
int agent_policy_policy_diff(uint32_t endpoint, const struct policy_entry *want, size_t n_want,
			     const struct dp_policy_row *have, size_t n_have,
			     struct agent_policy_diff *out, char *err, size_t err_len);
void agent_policy_diff_free(struct agent_policy_diff *d);

/* The order one kind of policy change is written in (see the contract): additions with
 * every deny before any allow, removals with every allow before any deny. out has room for
 * n; the relative order within each group is kept. */
void agent_policy_write_order(const struct policy_entry *v, size_t n, bool add,
			      struct policy_entry *out);
/* Writes one endpoint's policy additions (add) or removals in that order, through the map
 * writer: the one write path of the single- and multi-endpoint syncs. 0 or -errno. */
int agent_policy_write_keys(struct dp *dp, uint32_t endpoint, const struct policy_entry *v,
			    size_t n, bool add);
/* Rewrites the rule id of kept keys in place (reference count and prefix untouched); a key
 * gone meanwhile is skipped. on_key (may be NULL) hears each rewrite with the old rule id
 * first. The map writer has no call for this; the value layout is datapath.h's contract.
 * 0 or -errno. */
int agent_policy_relabel_write(struct dp *dp, const struct agent_policy_relabel *r, size_t n,
			       void (*on_key)(void *arg, const struct agent_policy_relabel *r,
					      uint32_t old_rule_id),
			       void *arg);

/* Order of datapath ipcache entries by prefix (family, length, address), for qsort and
 * bsearch over sorted prefix arrays. */
int agent_policy_ipcache_prefix_cmp(const void *a, const void *b);

/* The endpoint's DP_EP_F_ENFORCE_* flags for these entries (see the contract above). */
uint32_t agent_policy_enforce_flags(const struct policy_entry *e, size_t n, bool enforced_ingress,
				    bool enforced_egress);

/* ---- store snapshot ---- */
/* The engine's key for a stored policy: "<namespace>/<name>", "_cluster/<name>" for
 * cluster-wide ones — the path under policies/, so watch events map to the same key. */
void agent_policy_engine_key(const struct store_policy *p, char *buf, size_t len);

struct agent_policy_snapshot {
	struct store_identity *ids;
	size_t n_ids;
	struct store_policy *policies;
	size_t n_policies;
	/* policies whose current record is unusable, replaced by their last valid version
	 * from etcd's history (see agent_policy_snapshot_load()) */
	size_t n_policies_recovered;
	/* The ipcache as datapath entries (agent_policy_ipcache_from_store()): a 100k-entry
	 * ipcache is 3 MB here, not the store records' 10. */
	struct dp_ipcache_entry *ipcache;
	size_t n_ipcache;
	/* Prefixes of ipcache records that cannot be used (a record that does not decode,
	 * a gateway the datapath cannot use): the datapath keeps its entry for them. */
	struct dp_ipcache_entry *ipcache_held;
	size_t n_ipcache_held;
	size_t n_ipcache_records; /* records that decoded (usable or not) */
	size_t n_ipcache_skipped; /* records not used (held) */
	int64_t revision;	  /* of the ipcache load */
};
/* Loads identities, ipcache and policies: agent_policy_snapshot_load_policy() then
 * agent_policy_snapshot_load_ipcache(). Any store error fails the whole load (the caller
 * then changes nothing: fail-static). */
int agent_policy_snapshot_load(struct store *s, struct agent_policy_snapshot *snap, char *err,
			       size_t err_len);
/* Identities and policies (one listing each). A policy record that is malformed, does not
 * bind its scope, or that the engine rejects is replaced by its most recent valid version
 * in etcd's history (logged with its key and that revision); without one (a new key, or
 * history compacted) it is left out, logged with its key. */
int agent_policy_snapshot_load_policy(struct store *s, struct agent_policy_snapshot *snap,
				      char *err, size_t err_len);
/* The ipcache (one streamed listing, converted as it arrives). */
int agent_policy_snapshot_load_ipcache(struct store *s, struct agent_policy_snapshot *snap,
				       char *err, size_t err_len);
/* Adds one store record as the loader would (a test's or a watcher's input). -ENOMEM only. */
int agent_policy_snapshot_add_ipcache(struct agent_policy_snapshot *snap,
				      const struct store_ipcache *r);
/* Frees identities and policies only (once the engine is built they are not needed). */
void agent_policy_snapshot_free_policy(struct agent_policy_snapshot *snap);
void agent_policy_snapshot_free(struct agent_policy_snapshot *snap);

/* ---- the sync ---- */
struct agent_policy_report {
	size_t ids, policies, policies_skipped, ipcache_records, ipcache_skipped;
	size_t entries;	  /* the endpoint's engine entries */
	size_t cidr_ids;  /* local CIDR identities */
	bool enforced[2]; /* by the engine, per direction */
	uint32_t flags_before, flags_after;
	size_t ipc_add, ipc_change, ipc_del, ipc_same;
	size_t pol_add, pol_del, pol_recount, pol_same, pol_keys, pol_relabel;
};

/* Called for each change written (verbose output); may be NULL. kind: "ipcache+",
 * "ipcache~", "ipcache-", "policy+", "policy-", "enforce". */
typedef void (*agent_policy_change_cb)(void *arg, const char *kind, const char *text);

struct agent_policy_sync;
/* endpoint: the local endpoint's identity (workload mode: the machine's). dp borrowed. */
int agent_policy_sync_new(struct dp *dp, uint32_t endpoint, struct agent_policy_sync **out);
void agent_policy_sync_free(struct agent_policy_sync *ps); /* accepts NULL */
void agent_policy_sync_set_cb(struct agent_policy_sync *ps, agent_policy_change_cb cb, void *arg);
/* The engine, fed by the last snapshot (for trace, or for incremental updates). */
struct policy_engine *agent_policy_engine(struct agent_policy_sync *ps);

/*
 * Feeds the snapshot to a fresh engine, computes the endpoint's entries, CIDR identities
 * and flags, reads the maps back and writes the difference. rep may be NULL. On an error
 * before the first map write nothing is changed; a map write failing midway (or a kill)
 * leaves a state between old and new as described above.
 */
int agent_policy_sync_snapshot(struct agent_policy_sync *ps,
			       const struct agent_policy_snapshot *snap,
			       struct agent_policy_report *rep, char *err, size_t err_len);
/* The same in two steps, so that a caller can drop the snapshot's identities and policies
 * (agent_policy_snapshot_free_policy()) and only then load the ipcache: build computes the
 * engine from snap's identities and policies (nothing is written); apply diffs and writes
 * snap's ipcache and that engine's entries. rep accumulates over both. */
int agent_policy_sync_build(struct agent_policy_sync *ps, const struct agent_policy_snapshot *snap,
			    struct agent_policy_report *rep, char *err, size_t err_len);
int agent_policy_sync_apply(struct agent_policy_sync *ps, const struct agent_policy_snapshot *snap,
			    struct agent_policy_report *rep, char *err, size_t err_len);

/*
 * Incremental path (the daemon's watch events): the caller mutates the engine
 * (agent_policy_engine()) with a struct policy_changes, then hands the changes here; the
 * CIDR identities go to the ipcache, the endpoint's entries to the policy map (additions
 * before removals) and the flags are recomputed. Changes of other endpoints are ignored.
 */
int agent_policy_sync_changes(struct agent_policy_sync *ps, const struct policy_changes *ch,
			      struct agent_policy_report *rep, char *err, size_t err_len);
/* Incremental ipcache record upsert/removal (a watch event on ipcache/<cidr>). */
int agent_policy_ipcache_set(struct agent_policy_sync *ps, const struct store_ipcache *r, char *err,
			     size_t err_len);
int agent_policy_ipcache_remove(struct agent_policy_sync *ps, const char *cidr, char *err,
				size_t err_len);
/* Both incremental paths check capacity like the snapshot path, on running per-map counts
 * (no map walk per event): a change that may not fit is refused whole (-ENOSPC, nothing
 * written) and the caller resyncs by snapshot, which refuses or applies it exactly. */
/* Entries in the ipcache maps (trie and host hash), from that running count: exact after a
 * snapshot sync and every write through this module; walked again only when a failed write
 * or a held prefix left it unknown. Writes by other tools show at the next snapshot sync. */
int agent_policy_ipcache_count(struct agent_policy_sync *ps, size_t *n);

/* ---- several local endpoints (gateway mode; agent/policy_sync_multi.c) ---- */
/*
 * One endpoint's desired state: its entries (the engine's, sorted) and flags
 * (agent_policy_enforce_flags()). remove: the endpoint is no longer local — all its keys
 * go and its flags are cleared, after every ipcache change (so no address still names it
 * while it stops enforcing).
 */
struct agent_policy_ep_want {
	uint32_t endpoint;
	const struct policy_entry *entries;
	size_t n;
	uint32_t flags;
	bool remove;
};
struct agent_policy_multi {
	const struct agent_policy_ep_want *eps; /* each endpoint at most once */
	size_t n_eps;
	bool ipcache;			      /* false: the ipcache is left as it is */
	const struct dp_ipcache_entry *ipc_a; /* store-owned entries (win a shared prefix) */
	size_t n_ipc_a;
	const struct dp_ipcache_entry *ipc_b; /* the engine's CIDR identities */
	size_t n_ipc_b;
	const struct dp_ipcache_entry *ipc_keep; /* prefixes left as they are */
	size_t n_ipc_keep;
};
struct agent_policy_multi_report {
	size_t eps, eps_removed, ipc_add, ipc_change, ipc_del, pol_add, pol_del, pol_relabel;
	size_t flags_changed;
};
/*
 * The same contract as the single-endpoint sync, over several endpoints at once: the maps
 * are read back once, each listed endpoint's entries are diffed against its own rows, the
 * whole change is capacity-checked before the first write (-ENOSPC, nothing written), and
 * written in the order: every endpoint's additions (denies first), ipcache
 * additions/changes, flags, every endpoint's removals (allows first), ipcache removals,
 * then removed endpoints' keys and flags. Endpoints not listed are not touched. The
 * caller holds the pin directory's writer lock. cb (may be NULL) sees each change.
 */
int agent_policy_multi_apply(struct dp *dp, const struct agent_policy_multi *m,
			     agent_policy_change_cb cb, void *cb_arg,
			     struct agent_policy_multi_report *rep, char *err, size_t err_len);

#endif

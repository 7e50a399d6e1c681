/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/engine.h: the policy engine — identities and policies in, per-endpoint verdict
 * entries (lib/policy_entry.h) and their diffs out. pseudopodd feeds it what it watches in
 * the store; pseudopodctl's trace feeds it files.
 *
 * State: identities (id -> label set; the reserved identities 1..10 are built in),
 * policies (key -> parsed policy; the key is the caller's, e.g. the store key
 * "prod/allow-web"), local endpoints (caller's endpoint id -> its labels) and the local
 * CIDR identities the policies need ((1 << 24) | n for every prefix a rule or except
 * names; /0 needs none: it maps to world).
 *
 * Semantics (Kubernetes and Cilium):
 *   - a direction that no policy selecting the endpoint enforces allows everything: one
 *     entry {ANY identity, ANY proto, allow, rule_id 0}; deny rules still apply;
 *   - once a policy enforces the direction, only what its rules allow passes;
 *   - deny beats allow; policies are a union; output is minimal and sorted (compile.h).
 *
 * Incremental updates: every mutating call can fill a struct policy_changes with, per
 * endpoint, the entries to delete and to add (apply deletions first: an entry whose
 * rule_id changed appears in both). Identity changes touch only that identity's entries
 * of each endpoint; a policy change recompiles only the endpoints it selects before or
 * after; CIDR identities appear/disappear with the policies that name them (listed in
 * the changes so the caller updates its ipcache). The result always equals a full
 * recompile (policy_engine_compile_full), which the unit tests check under random churn.
 *
 * Rule ids: each policy gets a block of ids when it is set; policy_engine_rule_origin()
 * names the policy and rule an id came from. Id 0 is the "no policy selects" allow-all.
 *
 * Functions return 0 or -errno (-ENOMEM; -ENOENT for unknown keys; -EINVAL with err set
 * for an invalid policy object, which leaves the engine unchanged). After -ENOMEM in the
 * middle of an update the engine's state is unspecified: free it and rebuild.
 *
 * How pseudopodd drives it:
 *	e = policy_engine_new();
 *	for each identities/<id>:   policy_engine_identity_set(e, id, &labels, NULL);
 *	for each policies/<k>:      policy_engine_policy_set(e, k, object, NULL, err, len);
 *	policy_engine_endpoint_set(e, ep, &my_labels, &ch);   -> write ch (all adds) to maps
 *	on a watch event:           policy_engine_*(..., &ch); apply ch.cidr_del/cidr_add to
 *	                            the ipcache, each ch.eps[i].del then .add to the policy map;
 *	                            policy_changes_free(&ch);
 */
#ifndef PSEUDOPOD_POLICY_ENGINE_H
#define PSEUDOPOD_POLICY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy/cidr.h"
#include "lib/policy_entry.h"

struct label_set;
struct policy;
struct policy_engine;

struct policy_endpoint_diff {
	uint32_t endpoint;
	struct policy_entry *del;
	size_t n_del;
	struct policy_entry *add;
	size_t n_add;
};

struct policy_cidr_identity {
	struct cidr cidr;
	uint32_t identity;
};

struct policy_changes {
	struct policy_endpoint_diff *eps;
	size_t n_eps;
	struct policy_cidr_identity *cidr_add; /* new local CIDR identities (ipcache adds) */
	size_t n_cidr_add;
	struct policy_cidr_identity *cidr_del; /* released ones (ipcache deletes) */
	size_t n_cidr_del;
};

struct policy_engine *policy_engine_new(void);
void policy_engine_free(struct policy_engine *e);

/* Adds or replaces identity id (labels copied). ids with bit 24 set are reserved for the
 * engine's CIDR identities (-EINVAL). */
int policy_engine_identity_set(struct policy_engine *e, uint32_t id, const struct label_set *labels,
			       struct policy_changes *changes);
int policy_engine_identity_remove(struct policy_engine *e, uint32_t id,
				  struct policy_changes *changes);
/* The labels of identity id, or NULL. */
const struct label_set *policy_engine_identity_labels(const struct policy_engine *e, uint32_t id);
/* The id of an identity with exactly these labels, or 0. */
uint32_t policy_engine_identity_find(const struct policy_engine *e, const struct label_set *labels);
/* Calls cb for every identity known (reserved, from the store, local CIDR ones) in ascending
 * id order; stops at cb's first nonzero return and returns it, else 0. cb must not change
 * the engine. */
int policy_engine_identity_foreach(const struct policy_engine *e,
				   int (*cb)(uint32_t id, const struct label_set *labels,
					     void *arg),
				   void *arg);

/* Adds or replaces the policy under key, parsed from its JSON object. */
int policy_engine_policy_set(struct policy_engine *e, const char *key, const json_t *object,
			     struct policy_changes *changes, char *err, size_t err_len);
int policy_engine_policy_remove(struct policy_engine *e, const char *key,
				struct policy_changes *changes);
size_t policy_engine_policy_count(const struct policy_engine *e);

/* Adds or replaces a local endpoint; its entries are computed now (all reported as adds,
 * or as a diff when it existed). */
int policy_engine_endpoint_set(struct policy_engine *e, uint32_t endpoint,
			       const struct label_set *labels, struct policy_changes *changes);
int policy_engine_endpoint_remove(struct policy_engine *e, uint32_t endpoint);
/* The endpoint's current entries, sorted (compile.h order); NULL/0 when unknown. */
const struct policy_entry *policy_engine_entries(const struct policy_engine *e, uint32_t endpoint,
						 size_t *n);
/* Whether some policy selecting the endpoint enforces direction dir. */
bool policy_engine_enforced(const struct policy_engine *e, uint32_t endpoint, int dir);
/* Recomputes the endpoint's entries from scratch without changing any state (the
 * reference for the incremental path). *out is malloc'd. */
int policy_engine_compile_full(const struct policy_engine *e, uint32_t endpoint,
			       struct policy_entry **out, size_t *n);

/* The local CIDR identities in use, sorted by prefix. */
const struct policy_cidr_identity *policy_engine_cidr_identities(const struct policy_engine *e,
								 size_t *n);

struct policy_rule_origin {
	const char *key; /* the policy's key */
	const struct policy *policy;
	size_t spec; /* index into policy->specs */
	size_t rule; /* index into that spec's rules */
};
bool policy_engine_rule_origin(const struct policy_engine *e, uint32_t rule_id,
			       struct policy_rule_origin *out);
/* Calls cb for every policy spec that selects labels and enforces dir. */
void policy_engine_foreach_selecting(
    const struct policy_engine *e, const struct label_set *labels, int dir,
    void (*cb)(void *arg, const char *key, const struct policy *policy, size_t spec), void *arg);

void policy_changes_free(struct policy_changes *c);

#endif

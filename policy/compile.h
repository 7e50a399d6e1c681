/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/compile.h: the pure parts of policy compilation, used by the engine
 * (policy/engine.h): which remote identities a rule's peer selects, and how a list of raw
 * verdict entries becomes the minimal, deterministic list the datapath gets.
 *
 * Entry order (policy_compile_entry_cmp): identity, direction, proto, port_lo, port_hi, deny,
 * rule_id. Grouping by identity first lets the engine replace one identity's entries
 * without touching the rest.
 *
 * Minimality: an entry is dropped when another entry of the same direction covers it
 * (identity equal or ANY, protocol equal or ANY, port range inside, 0..0 covering every
 * port) and the coverer is a deny or both are allows — deny beats allow, whatever the
 * specificity, so such an entry can never change a verdict. Of two identical matches the
 * one with the lower rule_id stays. Since only ANY-identity entries cover entries of other
 * identities, each identity's group can be minimised given just the ANY group.
 */
#ifndef PSEUDOPOD_POLICY_COMPILE_H
#define PSEUDOPOD_POLICY_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/cidr.h"
#include "lib/policy_entry.h"
#include "policy/labels.h"

struct policy_peer;

/* Reserved identities (Cilium's numbering). */
enum {
	IDENTITY_HOST = 1,
	IDENTITY_WORLD = 2,
	IDENTITY_UNMANAGED = 3,
	IDENTITY_HEALTH = 4,
	IDENTITY_INIT = 5,
	IDENTITY_REMOTE_NODE = 6,
	IDENTITY_KUBE_APISERVER = 7,
	IDENTITY_INGRESS = 8,
	IDENTITY_WORLD_IPV4 = 9,
	IDENTITY_WORLD_IPV6 = 10,
	IDENTITY_CLUSTER_MIN = 256,
};
/* Node-local CIDR identities: (1 << 24) | n. */
#define IDENTITY_LOCAL_FLAG (1u << 24)

struct policy_compile_identity {
	uint32_t id;
	struct label_set labels;
	bool is_cidr; /* a local CIDR identity; cidr is its prefix */
	struct cidr cidr;
};

/* True when peer selects the identity (entity ALL is handled by the caller as ANY). */
bool policy_compile_peer_matches(const struct policy_peer *peer,
				 const struct policy_compile_identity *id);

int policy_compile_entry_cmp(const struct policy_entry *a, const struct policy_entry *b);
void policy_compile_sort(struct policy_entry *e, size_t n);

/*
 * Minimises group[0..n) in place (all entries of one identity, or the ANY group with
 * any == NULL) against the already minimal ANY group; sorts the result; returns its size.
 */
size_t policy_compile_minimize(struct policy_entry *group, size_t n, const struct policy_entry *any,
			       size_t n_any);

/* Appends e to a growable array; false on allocation failure. */
bool policy_compile_push(struct policy_entry **arr, size_t *n, size_t *cap,
			 const struct policy_entry *e);

#endif

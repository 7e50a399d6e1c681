/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * engine_internal: what engine.c shares with cidr_identity.c, its CIDR-identity table —
 * the engine's state and its sorted-table helpers. Private to the policy module; nothing
 * outside policy/ includes it.
 */
#ifndef PSEUDOPOD_POLICY_ENGINE_INTERNAL_H
#define PSEUDOPOD_POLICY_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"
#include "policy/engine.h"

struct pe_policy;
struct pe_endpoint;

struct policy_engine {
	struct policy_compile_identity **ids; /* sorted by id */
	size_t n_ids;
	struct pe_policy **pols; /* sorted by key */
	size_t n_pols;
	struct pe_endpoint **eps; /* sorted by id */
	size_t n_eps;
	struct policy_cidr_identity *cidrs; /* sorted by prefix (cidr_identity.c) */
	unsigned *cidr_refs;		    /* policies naming cidrs[i] */
	size_t n_cidrs;
	uint32_t next_rule_base;
	uint32_t next_cidr;
};

/*
 * Index of the first element of the sorted array base[0..n) (elements of size bytes) that
 * is not less than key, as cmp(element, key) orders them: the one binary search every
 * sorted table of the engine shares.
 */
size_t policy_engine_lower_bound(const void *base, size_t n, size_t size, const void *key,
				 int (*cmp)(const void *elem, const void *key));
size_t policy_engine_id_lower_bound(const struct policy_engine *e, uint32_t id);
struct policy_compile_identity *policy_engine_id_find(const struct policy_engine *e, uint32_t id);
/* Takes ownership of id on success (0), not on -ENOMEM. */
int policy_engine_identity_insert(struct policy_engine *e, struct policy_compile_identity *id);
/* Accepts NULL. */
void policy_engine_identity_free(struct policy_compile_identity *id);
/* Removes element i of a pointer array (does not free it). */
void policy_engine_ptr_remove(void **arr, size_t *n, size_t i);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * CIDR identities: the engine's table of local identities for the prefixes policies name
 * (see cidr_identity.h). Kept apart from engine.c, which only asks for a policy's prefixes
 * to be referenced or released and passes the resulting changes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cidr_identity.h"
#include "policy/compile.h"
#include "policy/engine.h"
#include "policy/engine_internal.h"
#include "policy/labels.h"
#include "policy/policy.h"

static int cidr_elem_cmp(const void *elem, const void *key)
{
	return cidr_cmp(&((const struct policy_cidr_identity *)elem)->cidr, key);
}

static size_t cidr_lower_bound(const struct policy_engine *e, const struct cidr *c)
{
	return policy_engine_lower_bound(e->cidrs, e->n_cidrs, sizeof(*e->cidrs), c, cidr_elem_cmp);
}

bool policy_cidr_identity_push(struct policy_cidr_identity **arr, size_t *n,
			       const struct policy_cidr_identity *x)
{
	struct policy_cidr_identity *grown = realloc(*arr, (*n + 1) * sizeof(*grown));

	if (!grown)
		return false;
	*arr = grown;
	grown[(*n)++] = *x;
	return true;
}

/*
 * The next free local CIDR identity: numbers count up and wrap after 2^24 - 1, skipping
 * those in use, so a released number is not handed out again soon (an agent may still be
 * replacing the old ipcache entry). 0 when all are in use.
 */
static uint32_t cidr_next_id(struct policy_engine *e)
{
	for (uint32_t tries = 0; tries < IDENTITY_LOCAL_FLAG - 1; tries++) {
		uint32_t id;

		e->next_cidr = e->next_cidr % (IDENTITY_LOCAL_FLAG - 1) + 1;
		id = IDENTITY_LOCAL_FLAG | e->next_cidr;
		if (!policy_engine_id_find(e, id))
			return id;
	}
	return 0;
}

static int cidr_ref(struct policy_engine *e, const struct cidr *c,
		    struct policy_cidr_identity **added, size_t *n_added)
{
	size_t i = cidr_lower_bound(e, c);
	struct policy_cidr_identity *g;
	struct policy_compile_identity *ci;
	unsigned *r;
	char label[CIDR_STRLEN + 8], buf[CIDR_STRLEN];
	int rc;

	if (c->len == 0) /* /0 is world; no identity of its own */
		return 0;
	if (i < e->n_cidrs && cidr_equal(&e->cidrs[i].cidr, c)) {
		e->cidr_refs[i]++;
		return 0;
	}
	g = realloc(e->cidrs, (e->n_cidrs + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	e->cidrs = g;
	r = realloc(e->cidr_refs, (e->n_cidrs + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	e->cidr_refs = r;
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		return -ENOMEM;
	ci->id = cidr_next_id(e);
	if (!ci->id) {
		policy_engine_identity_free(ci);
		return -ENOSPC;
	}
	ci->is_cidr = true;
	ci->cidr = *c;
	snprintf(label, sizeof(label), "cidr:%s", cidr_format(c, buf));
	if (!label_set_add(&ci->labels, label, NULL, 0) ||
	    !label_set_add(&ci->labels, "reserved:world", NULL, 0)) {
		policy_engine_identity_free(ci);
		return -ENOMEM;
	}
	rc = policy_engine_identity_insert(e, ci);
	if (rc) {
		policy_engine_identity_free(ci);
		return rc;
	}
	memmove(&g[i + 1], &g[i], (e->n_cidrs - i) * sizeof(*g));
	memmove(&r[i + 1], &r[i], (e->n_cidrs - i) * sizeof(*r));
	g[i].cidr = *c;
	g[i].identity = ci->id;
	r[i] = 1;
	e->n_cidrs++;
	if (!policy_cidr_identity_push(added, n_added, &g[i]))
		return -ENOMEM;
	return 0;
}

static int cidr_unref(struct policy_engine *e, const struct cidr *c,
		      struct policy_cidr_identity **removed, size_t *n_removed)
{
	size_t i = cidr_lower_bound(e, c), k;

	if (c->len == 0 || i == e->n_cidrs || !cidr_equal(&e->cidrs[i].cidr, c))
		return 0;
	if (--e->cidr_refs[i])
		return 0;
	if (!policy_cidr_identity_push(removed, n_removed, &e->cidrs[i]))
		return -ENOMEM;
	k = policy_engine_id_lower_bound(e, e->cidrs[i].identity);
	if (k < e->n_ids && e->ids[k]->id == e->cidrs[i].identity) {
		policy_engine_identity_free(e->ids[k]);
		policy_engine_ptr_remove((void **)e->ids, &e->n_ids, k);
	}
	memmove(&e->cidrs[i], &e->cidrs[i + 1], (e->n_cidrs - i - 1) * sizeof(*e->cidrs));
	memmove(&e->cidr_refs[i], &e->cidr_refs[i + 1],
		(e->n_cidrs - i - 1) * sizeof(*e->cidr_refs));
	e->n_cidrs--;
	return 0;
}

/* Calls fn for every prefix (cidr and excepts) a policy names. */
static int policy_cidrs(struct policy_engine *e, const struct policy *p,
			int (*fn)(struct policy_engine *, const struct cidr *,
				  struct policy_cidr_identity **, size_t *),
			struct policy_cidr_identity **list, size_t *n)
{
	for (size_t s = 0; s < p->n_specs; s++) {
		for (size_t r = 0; r < p->specs[s].n_rules; r++) {
			const struct policy_rule *rule = &p->specs[s].rules[r];

			for (size_t k = 0; k < rule->n_peers; k++) {
				const struct policy_peer *peer = &rule->peers[k];
				int rc;

				if (peer->kind != POLICY_PEER_CIDR)
					continue;
				rc = fn(e, &peer->cidr, list, n);
				for (size_t x = 0; !rc && x < peer->n_except; x++)
					rc = fn(e, &peer->except[x], list, n);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

const struct policy_cidr_identity *policy_engine_cidr_identities(const struct policy_engine *e,
								 size_t *n)
{
	*n = e->n_cidrs;
	return e->cidrs;
}

int policy_cidr_identity_ref(struct policy_engine *e, const struct policy *p,
			     struct policy_cidr_identity **added, size_t *n_added)
{
	return policy_cidrs(e, p, cidr_ref, added, n_added);
}

int policy_cidr_identity_unref(struct policy_engine *e, const struct policy *p,
			       struct policy_cidr_identity **removed, size_t *n_removed)
{
	return policy_cidrs(e, p, cidr_unref, removed, n_removed);
}

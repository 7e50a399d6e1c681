// SPDX-License-Identifier: GPL-2.0-only
/* Peer matching and entry minimisation. See policy/compile.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/compile.h"
#include "policy/policy.h"

static bool entity_matches(unsigned ents, const struct policy_compile_identity *id)
{
	uint32_t n = id->id;

	if (ents & POLICY_ENTITY_ALL)
		return true;
	/* CIDR identities are part of the world: an address inside a policy's CIDR resolves
	 * to that CIDR's local identity instead of world, and must stay reachable by
	 * world rules (Cilium gives CIDR identities the reserved:world label). */
	if ((ents & POLICY_ENTITY_WORLD) && (n == IDENTITY_WORLD || n == IDENTITY_WORLD_IPV4 ||
					     n == IDENTITY_WORLD_IPV6 || id->is_cidr))
		return true;
	/* The overlay is IPv4; unknown IPv4 addresses resolve to world (2) there. */
	if ((ents & POLICY_ENTITY_WORLD_IPV4) && (n == IDENTITY_WORLD || n == IDENTITY_WORLD_IPV4 ||
						  (id->is_cidr && id->cidr.family == AF_INET)))
		return true;
	if ((ents & POLICY_ENTITY_WORLD_IPV6) &&
	    (n == IDENTITY_WORLD_IPV6 || (id->is_cidr && id->cidr.family == AF_INET6)))
		return true;
	if ((ents & POLICY_ENTITY_CLUSTER) &&
	    (n == IDENTITY_HOST || n == IDENTITY_HEALTH || n == IDENTITY_INIT ||
	     n == IDENTITY_REMOTE_NODE || n == IDENTITY_KUBE_APISERVER || n == IDENTITY_INGRESS ||
	     (n >= IDENTITY_CLUSTER_MIN && n < IDENTITY_LOCAL_FLAG)))
		return true;
	return ((ents & POLICY_ENTITY_HOST) && n == IDENTITY_HOST) ||
	       ((ents & POLICY_ENTITY_REMOTE_NODE) && n == IDENTITY_REMOTE_NODE) ||
	       ((ents & POLICY_ENTITY_KUBE_APISERVER) && n == IDENTITY_KUBE_APISERVER) ||
	       ((ents & POLICY_ENTITY_HEALTH) && n == IDENTITY_HEALTH) ||
	       ((ents & POLICY_ENTITY_INIT) && n == IDENTITY_INIT) ||
	       ((ents & POLICY_ENTITY_INGRESS) && n == IDENTITY_INGRESS) ||
	       ((ents & POLICY_ENTITY_UNMANAGED) && n == IDENTITY_UNMANAGED);
}

static bool cidr_matches(const struct policy_peer *p, const struct policy_compile_identity *id)
{
	if (!id->is_cidr) {
		/* A /0 also covers addresses no CIDR identity names: they resolve to world. */
		if (p->cidr.len != 0)
			return false;
		if (p->cidr.family == AF_INET)
			return id->id == IDENTITY_WORLD || id->id == IDENTITY_WORLD_IPV4;
		return id->id == IDENTITY_WORLD_IPV6;
	}
	if (!cidr_contains(&p->cidr, &id->cidr))
		return false;
	/* Every except prefix has its own CIDR identity, so identities inside it are the
	 * addresses it takes away; identities around it stay selected. */
	for (size_t i = 0; i < p->n_except; i++)
		if (cidr_contains(&p->except[i], &id->cidr))
			return false;
	return true;
}

bool policy_compile_peer_matches(const struct policy_peer *peer,
				 const struct policy_compile_identity *id)
{
	switch (peer->kind) {
	case POLICY_PEER_SELECTOR:
		return selector_matches(&peer->sel, &id->labels);
	case POLICY_PEER_ENTITY:
		return entity_matches(peer->entities, id);
	case POLICY_PEER_CIDR:
		return cidr_matches(peer, id);
	}
	return false;
}

int policy_compile_entry_cmp(const struct policy_entry *a, const struct policy_entry *b)
{
#define CMP(f)                                                                                     \
	do {                                                                                       \
		if (a->f != b->f)                                                                  \
			return a->f < b->f ? -1 : 1;                                               \
	} while (0)
	CMP(identity);
	CMP(direction);
	CMP(proto);
	CMP(port_lo);
	CMP(port_hi);
	CMP(deny);
	CMP(rule_id);
#undef CMP
	return 0;
}

static int cmp_qsort(const void *a, const void *b)
{
	return policy_compile_entry_cmp(a, b);
}

void policy_compile_sort(struct policy_entry *e, size_t n)
{
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_qsort);
}

/* True when f matches every packet e matches (direction and identity checked by caller). */
static bool covers_l4(const struct policy_entry *f, const struct policy_entry *e)
{
	if (f->proto == POLICY_PROTO_ANY)
		return true;
	if (f->proto != e->proto)
		return false;
	if (f->port_lo == 0 && f->port_hi == 0)
		return true;
	if (e->port_lo == 0 && e->port_hi == 0)
		return false;
	return f->port_lo <= e->port_lo && e->port_hi <= f->port_hi;
}

static bool same_match(const struct policy_entry *a, const struct policy_entry *b)
{
	return a->identity == b->identity && a->direction == b->direction && a->proto == b->proto &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi;
}

/*
 * Does f make e redundant? f must cover e, and be a deny or match e's allow. When both
 * cover each other with the same verdict, only the later one in sort order (higher
 * rule_id) is redundant, so exactly one survives.
 */
static bool shadows(const struct policy_entry *f, const struct policy_entry *e, bool f_before_e)
{
	if (f->direction != e->direction || !covers_l4(f, e))
		return false;
	if (f->identity != POLICY_IDENTITY_ANY && f->identity != e->identity)
		return false;
	if (!f->deny && e->deny)
		return false;
	if (f->deny == e->deny && same_match(f, e))
		return f_before_e;
	return true;
}

size_t policy_compile_minimize(struct policy_entry *group, size_t n, const struct policy_entry *any,
			       size_t n_any)
{
	size_t out = 0;
	bool *drop;

	policy_compile_sort(group, n);
	if (n == 0)
		return 0;
	drop = calloc(n, sizeof(*drop));
	if (!drop)
		return n; /* not minimal, still correct */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n && !drop[i]; j++)
			if (j != i && !drop[j] && shadows(&group[j], &group[i], j < i))
				drop[i] = true;
		for (size_t j = 0; j < n_any && !drop[i]; j++)
			if (shadows(&any[j], &group[i], true))
				drop[i] = true;
	}
	for (size_t i = 0; i < n; i++)
		if (!drop[i])
			group[out++] = group[i];
	free(drop);
	return out;
}

bool policy_compile_push(struct policy_entry **arr, size_t *n, size_t *cap,
			 const struct policy_entry *e)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct policy_entry *grown = realloc(*arr, ncap * sizeof(*grown));

		if (!grown)
			return false;
		*arr = grown;
		*cap = ncap;
	}
	(*arr)[(*n)++] = *e;
	return true;
}

// SPDX-License-Identifier: GPL-2.0-only
/* The policy engine: state, full compile, incremental diffs (CIDR identities are in
 * cidr_identity.c). See policy/engine.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "policy/cidr_identity.h"
#include "policy/compile.h"
#include "policy/engine.h"
#include "policy/engine_internal.h"
#include "policy/err.h"
#include "policy/labels.h"
#include "policy/policy.h"

#define PE_POLICY_DIGEST 32

struct pe_policy {
	char *key;
	/* BLAKE2b of the object's canonical text, to recognise a re-put of the same object
	 * (keeping a copy of the object itself cost ~5 KB of jansson nodes per policy). */
	unsigned char digest[PE_POLICY_DIGEST];
	struct policy pol;
	uint32_t rule_base; /* rule ids rule_base + 1 .. rule_base + n_rules */
	uint32_t n_rules;
};

/* A rule of a policy that selects the endpoint. */
struct pe_active {
	const struct policy_rule *rule;
	uint32_t rule_id;
	bool any; /* L3 wildcard: l3_any or an "all" entity */
};

struct pe_endpoint {
	uint32_t id;
	struct label_set labels;
	bool enforce[2];
	struct pe_active *active;
	size_t n_active;
	struct policy_entry *entries; /* sorted; the ANY group first */
	size_t n, cap;
};

struct entry_vec {
	struct policy_entry *v;
	size_t n, cap;
};

static const char *const reserved_names[] = {
    [IDENTITY_HOST] = "host",
    [IDENTITY_WORLD] = "world",
    [IDENTITY_UNMANAGED] = "unmanaged",
    [IDENTITY_HEALTH] = "health",
    [IDENTITY_INIT] = "init",
    [IDENTITY_REMOTE_NODE] = "remote-node",
    [IDENTITY_KUBE_APISERVER] = "kube-apiserver",
    [IDENTITY_INGRESS] = "ingress",
    [IDENTITY_WORLD_IPV4] = "world-ipv4",
    [IDENTITY_WORLD_IPV6] = "world-ipv6",
};

/* ---- lookups ---------------------------------------------------------------------- */

/* The one binary search every sorted table of the engine shares (engine_internal.h). */
size_t policy_engine_lower_bound(const void *base, size_t n, size_t size, const void *key,
				 int (*cmp)(const void *elem, const void *key))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cmp((const char *)base + mid * size, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int u32_cmp(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static int id_cmp(const void *elem, const void *key)
{
	return u32_cmp((*(struct policy_compile_identity *const *)elem)->id,
		       *(const uint32_t *)key);
}

static int ep_cmp(const void *elem, const void *key)
{
	return u32_cmp((*(struct pe_endpoint *const *)elem)->id, *(const uint32_t *)key);
}

static int pol_cmp(const void *elem, const void *key)
{
	return strcmp((*(struct pe_policy *const *)elem)->key, key);
}

static int entry_identity_cmp(const void *elem, const void *key)
{
	return u32_cmp(((const struct policy_entry *)elem)->identity, *(const uint32_t *)key);
}

size_t policy_engine_id_lower_bound(const struct policy_engine *e, uint32_t id)
{
	return policy_engine_lower_bound(e->ids, e->n_ids, sizeof(*e->ids), &id, id_cmp);
}

struct policy_compile_identity *policy_engine_id_find(const struct policy_engine *e, uint32_t id)
{
	size_t i = policy_engine_id_lower_bound(e, id);

	return i < e->n_ids && e->ids[i]->id == id ? e->ids[i] : NULL;
}

static size_t pol_lower_bound(const struct policy_engine *e, const char *key)
{
	return policy_engine_lower_bound(e->pols, e->n_pols, sizeof(*e->pols), key, pol_cmp);
}

static size_t ep_lower_bound(const struct policy_engine *e, uint32_t id)
{
	return policy_engine_lower_bound(e->eps, e->n_eps, sizeof(*e->eps), &id, ep_cmp);
}

static struct pe_endpoint *ep_find(const struct policy_engine *e, uint32_t id)
{
	size_t i = ep_lower_bound(e, id);

	return i < e->n_eps && e->eps[i]->id == id ? e->eps[i] : NULL;
}

/* Inserts ptr at index i of a pointer array. */
static int ptr_insert(void ***arr, size_t *n, size_t i, void *ptr)
{
	void **grown = realloc(*arr, (*n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	*arr = grown;
	memmove(&grown[i + 1], &grown[i], (*n - i) * sizeof(*grown));
	grown[i] = ptr;
	(*n)++;
	return 0;
}

void policy_engine_ptr_remove(void **arr, size_t *n, size_t i)
{
	memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof(*arr));
	(*n)--;
}

void policy_engine_identity_free(struct policy_compile_identity *id)
{
	if (!id)
		return;
	label_set_free(&id->labels);
	free(id);
}

int policy_engine_identity_insert(struct policy_engine *e, struct policy_compile_identity *id)
{
	return ptr_insert((void ***)&e->ids, &e->n_ids, policy_engine_id_lower_bound(e, id->id),
			  id);
}

/* ---- compilation ------------------------------------------------------------------ */

static bool vec_push(struct entry_vec *v, const struct policy_entry *x)
{
	return policy_compile_push(&v->v, &v->n, &v->cap, x);
}

static bool rule_is_any(const struct policy_rule *r)
{
	if (r->l3_any)
		return true;
	for (size_t i = 0; i < r->n_peers; i++)
		if (r->peers[i].kind == POLICY_PEER_ENTITY &&
		    (r->peers[i].entities & POLICY_ENTITY_ALL))
			return true;
	return false;
}

static bool emit_rule(struct entry_vec *v, const struct pe_active *a, uint32_t identity)
{
	const struct policy_rule *r = a->rule;
	struct policy_entry x = {
	    .identity = identity,
	    .direction = r->direction,
	    .deny = r->deny,
	    .rule_id = a->rule_id,
	};

	if (!r->n_ports)
		return vec_push(v, &x);
	for (size_t i = 0; i < r->n_ports; i++) {
		x.proto = r->ports[i].proto;
		x.port_lo = r->ports[i].lo;
		x.port_hi = r->ports[i].hi;
		if (!vec_push(v, &x))
			return false;
	}
	return true;
}

/* An allow rule in a direction nobody enforces adds nothing: everything is allowed. */
static bool rule_counts(const struct pe_active *a, const bool enforce[2])
{
	return a->rule->deny || enforce[a->rule->direction];
}

static int collect_active(const struct policy_engine *e, const struct label_set *labels,
			  struct pe_active **out, size_t *n_out, bool enforce[2])
{
	struct pe_active *act = NULL;
	size_t n = 0, cap = 0;

	enforce[0] = enforce[1] = false;
	for (size_t p = 0; p < e->n_pols; p++) {
		const struct pe_policy *pp = e->pols[p];
		uint32_t ordinal = 0;

		for (size_t s = 0; s < pp->pol.n_specs; s++) {
			const struct policy_spec *spec = &pp->pol.specs[s];
			bool sel = selector_matches(&spec->subject, labels);

			if (sel) {
				enforce[0] |= spec->enforce[0];
				enforce[1] |= spec->enforce[1];
			}
			for (size_t r = 0; r < spec->n_rules; r++, ordinal++) {
				if (!sel)
					continue;
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 8;
					struct pe_active *g = realloc(act, ncap * sizeof(*g));

					if (!g) {
						free(act);
						return -ENOMEM;
					}
					act = g;
					cap = ncap;
				}
				act[n].rule = &spec->rules[r];
				act[n].rule_id = pp->rule_base + ordinal + 1;
				act[n].any = rule_is_any(&spec->rules[r]);
				n++;
			}
		}
	}
	*out = act;
	*n_out = n;
	return 0;
}

static int gen_any_group(const struct pe_active *act, size_t n_act, const bool enforce[2],
			 struct entry_vec *v)
{
	for (int d = 0; d < 2; d++) {
		struct policy_entry all = {.identity = POLICY_IDENTITY_ANY,
					   .direction = (uint8_t)d};

		if (!enforce[d] && !vec_push(v, &all))
			return -ENOMEM;
	}
	for (size_t i = 0; i < n_act; i++)
		if (act[i].any && rule_counts(&act[i], enforce) &&
		    !emit_rule(v, &act[i], POLICY_IDENTITY_ANY))
			return -ENOMEM;
	v->n = policy_compile_minimize(v->v, v->n, NULL, 0);
	return 0;
}

/* Raw entries of one identity from the active rules, minimised against the ANY group. */
static int gen_identity_group(const struct pe_active *act, size_t n_act, const bool enforce[2],
			      const struct policy_compile_identity *id,
			      const struct policy_entry *any, size_t n_any, struct entry_vec *v)
{
	if (!id)
		return 0;
	for (size_t i = 0; i < n_act; i++) {
		const struct policy_rule *r = act[i].rule;

		if (act[i].any || !rule_counts(&act[i], enforce))
			continue;
		for (size_t p = 0; p < r->n_peers; p++) {
			if (!policy_compile_peer_matches(&r->peers[p], id))
				continue;
			if (!emit_rule(v, &act[i], id->id))
				return -ENOMEM;
			break;
		}
	}
	v->n = policy_compile_minimize(v->v, v->n, any, n_any);
	return 0;
}

static size_t any_group_len(const struct policy_entry *entries, size_t n)
{
	size_t i = 0;

	while (i < n && entries[i].identity == POLICY_IDENTITY_ANY)
		i++;
	return i;
}

static int compile_all(const struct policy_engine *e, const struct pe_active *act, size_t n_act,
		       const bool enforce[2], struct entry_vec *out)
{
	struct entry_vec g = {0};
	size_t n_any;
	int rc;

	out->n = 0;
	rc = gen_any_group(act, n_act, enforce, out);
	if (rc)
		return rc;
	n_any = out->n;
	for (size_t i = 0; i < e->n_ids; i++) {
		g.n = 0;
		rc = gen_identity_group(act, n_act, enforce, e->ids[i], out->v, n_any, &g);
		if (rc)
			break;
		for (size_t j = 0; j < g.n; j++) {
			if (!vec_push(out, &g.v[j])) {
				rc = -ENOMEM;
				break;
			}
		}
		if (rc)
			break;
	}
	free(g.v);
	return rc;
}

/* ---- changes ---------------------------------------------------------------------- */

static struct policy_endpoint_diff *changes_ep(struct policy_changes *c, uint32_t ep)
{
	struct policy_endpoint_diff *grown;

	for (size_t i = 0; i < c->n_eps; i++)
		if (c->eps[i].endpoint == ep)
			return &c->eps[i];
	grown = realloc(c->eps, (c->n_eps + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	c->eps = grown;
	memset(&grown[c->n_eps], 0, sizeof(*grown));
	grown[c->n_eps].endpoint = ep;
	return &grown[c->n_eps++];
}

static bool diff_push(struct policy_entry **arr, size_t *n, const struct policy_entry *x)
{
	struct policy_entry *grown = realloc(*arr, (*n + 1) * sizeof(*grown));

	if (!grown)
		return false;
	*arr = grown;
	grown[(*n)++] = *x;
	return true;
}

/* Sorted old vs sorted new into the endpoint's diff. */
static int diff_into(struct policy_changes *c, uint32_t ep, const struct policy_entry *old,
		     size_t n_old, const struct policy_entry *new, size_t n_new)
{
	struct policy_endpoint_diff *d;
	size_t i = 0, j = 0;

	if (!c)
		return 0;
	d = NULL;
	while (i < n_old || j < n_new) {
		int cmp = i == n_old   ? 1
			  : j == n_new ? -1
				       : policy_compile_entry_cmp(&old[i], &new[j]);

		if (cmp == 0) {
			i++;
			j++;
			continue;
		}
		if (!d && !(d = changes_ep(c, ep)))
			return -ENOMEM;
		if (cmp < 0 ? !diff_push(&d->del, &d->n_del, &old[i++])
			    : !diff_push(&d->add, &d->n_add, &new[j++]))
			return -ENOMEM;
	}
	return 0;
}

void policy_changes_free(struct policy_changes *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_eps; i++) {
		free(c->eps[i].add);
		free(c->eps[i].del);
	}
	free(c->eps);
	free(c->cidr_add);
	free(c->cidr_del);
	memset(c, 0, sizeof(*c));
}

/* ---- endpoint updates ------------------------------------------------------------- */

/* Replaces the entries of identity id in ep with a freshly computed group. */
static int ep_update_identity(const struct policy_engine *e, struct pe_endpoint *ep, uint32_t id,
			      struct policy_changes *c)
{
	struct entry_vec g = {0};
	size_t n_any = any_group_len(ep->entries, ep->n);
	size_t lo, hi;
	int rc;

	rc = gen_identity_group(ep->active, ep->n_active, ep->enforce, policy_engine_id_find(e, id),
				ep->entries, n_any, &g);
	if (rc)
		goto out;
	lo = hi = n_any + policy_engine_lower_bound(&ep->entries[n_any], ep->n - n_any,
						    sizeof(*ep->entries), &id, entry_identity_cmp);
	while (hi < ep->n && ep->entries[hi].identity == id)
		hi++;
	rc = diff_into(c, ep->id, &ep->entries[lo], hi - lo, g.v, g.n);
	if (rc)
		goto out;
	if (ep->n - (hi - lo) + g.n > ep->cap) {
		size_t ncap = (ep->n - (hi - lo) + g.n) * 2;
		struct policy_entry *grown = realloc(ep->entries, ncap * sizeof(*grown));

		if (!grown) {
			rc = -ENOMEM;
			goto out;
		}
		ep->entries = grown;
		ep->cap = ncap;
	}
	if (ep->n > hi)
		memmove(&ep->entries[lo + g.n], &ep->entries[hi],
			(ep->n - hi) * sizeof(*ep->entries));
	if (g.n)
		memcpy(&ep->entries[lo], g.v, g.n * sizeof(*g.v));
	ep->n = ep->n - (hi - lo) + g.n;
out:
	free(g.v);
	return rc;
}

static int ep_recompile(const struct policy_engine *e, struct pe_endpoint *ep,
			struct policy_changes *c)
{
	struct entry_vec v = {0};
	struct pe_active *act;
	size_t n_act;
	bool enforce[2];
	int rc;

	rc = collect_active(e, &ep->labels, &act, &n_act, enforce);
	if (rc)
		return rc;
	rc = compile_all(e, act, n_act, enforce, &v);
	if (!rc)
		rc = diff_into(c, ep->id, ep->entries, ep->n, v.v, v.n);
	if (rc) {
		free(act);
		free(v.v);
		return rc;
	}
	free(ep->active);
	free(ep->entries);
	ep->active = act;
	ep->n_active = n_act;
	ep->enforce[0] = enforce[0];
	ep->enforce[1] = enforce[1];
	ep->entries = v.v;
	ep->n = v.n;
	ep->cap = v.cap;
	return 0;
}

/* ---- public API ------------------------------------------------------------------- */

struct policy_engine *policy_engine_new(void)
{
	struct policy_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	for (uint32_t id = IDENTITY_HOST; id <= IDENTITY_WORLD_IPV6; id++) {
		struct policy_compile_identity *ci = calloc(1, sizeof(*ci));
		char label[64];

		snprintf(label, sizeof(label), "reserved:%s", reserved_names[id]);
		if (ci)
			ci->id = id;
		if (!ci || !label_set_add(&ci->labels, label, NULL, 0) ||
		    policy_engine_identity_insert(e, ci)) {
			policy_engine_identity_free(ci);
			policy_engine_free(e);
			return NULL;
		}
	}
	return e;
}

static void pe_policy_free(struct pe_policy *p)
{
	if (!p)
		return;
	free(p->key);
	policy_free(&p->pol);
	free(p);
}

static void ep_free(struct pe_endpoint *ep)
{
	if (!ep)
		return;
	label_set_free(&ep->labels);
	free(ep->active);
	free(ep->entries);
	free(ep);
}

void policy_engine_free(struct policy_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_ids; i++)
		policy_engine_identity_free(e->ids[i]);
	for (size_t i = 0; i < e->n_pols; i++)
		pe_policy_free(e->pols[i]);
	for (size_t i = 0; i < e->n_eps; i++)
		ep_free(e->eps[i]);
	free(e->ids);
	free(e->pols);
	free(e->eps);
	free(e->cidrs);
	free(e->cidr_refs);
	free(e);
}

int policy_engine_identity_set(struct policy_engine *e, uint32_t id, const struct label_set *labels,
			       struct policy_changes *changes)
{
	struct policy_compile_identity *ci = policy_engine_id_find(e, id);
	struct label_set copy;
	int rc;

	if (id == POLICY_IDENTITY_ANY || (id & IDENTITY_LOCAL_FLAG))
		return -EINVAL;
	if (ci && label_set_equal(&ci->labels, labels))
		return 0;
	if (!label_set_copy(&copy, labels))
		return -ENOMEM;
	if (ci) {
		label_set_free(&ci->labels);
		ci->labels = copy;
	} else {
		ci = calloc(1, sizeof(*ci));
		if (!ci) {
			label_set_free(&copy);
			return -ENOMEM;
		}
		ci->id = id;
		ci->labels = copy;
		rc = policy_engine_identity_insert(e, ci);
		if (rc) {
			policy_engine_identity_free(ci);
			return rc;
		}
	}
	for (size_t i = 0; i < e->n_eps; i++) {
		rc = ep_update_identity(e, e->eps[i], id, changes);
		if (rc)
			return rc;
	}
	return 0;
}

int policy_engine_identity_remove(struct policy_engine *e, uint32_t id,
				  struct policy_changes *changes)
{
	size_t i = policy_engine_id_lower_bound(e, id);
	int rc;

	if (id & IDENTITY_LOCAL_FLAG)
		return -EINVAL;
	if (i == e->n_ids || e->ids[i]->id != id)
		return -ENOENT;
	policy_engine_identity_free(e->ids[i]);
	policy_engine_ptr_remove((void **)e->ids, &e->n_ids, i);
	for (size_t k = 0; k < e->n_eps; k++) {
		rc = ep_update_identity(e, e->eps[k], id, changes);
		if (rc)
			return rc;
	}
	return 0;
}

const struct label_set *policy_engine_identity_labels(const struct policy_engine *e, uint32_t id)
{
	struct policy_compile_identity *ci = policy_engine_id_find(e, id);

	return ci ? &ci->labels : NULL;
}

uint32_t policy_engine_identity_find(const struct policy_engine *e, const struct label_set *labels)
{
	for (size_t i = 0; i < e->n_ids; i++)
		if (label_set_equal(&e->ids[i]->labels, labels))
			return e->ids[i]->id;
	return 0;
}

int policy_engine_identity_foreach(const struct policy_engine *e,
				   int (*cb)(uint32_t id, const struct label_set *labels,
					     void *arg),
				   void *arg)
{
	for (size_t i = 0; i < e->n_ids; i++) {
		int rc = cb(e->ids[i]->id, &e->ids[i]->labels, arg);

		if (rc)
			return rc;
	}
	return 0;
}

/* ---- policies --------------------------------------------------------------------- */

static bool policy_selects(const struct policy *p, const struct label_set *labels)
{
	for (size_t s = 0; p && s < p->n_specs; s++)
		if (selector_matches(&p->specs[s].subject, labels))
			return true;
	return false;
}

/* Swaps the policy under key for nw (NULL = remove) and brings every endpoint up to date. */
static int policy_replace(struct policy_engine *e, const char *key, struct pe_policy *nw,
			  struct policy_changes *changes)
{
	size_t i = pol_lower_bound(e, key);
	struct pe_policy *old = i < e->n_pols && !strcmp(e->pols[i]->key, key) ? e->pols[i] : NULL;
	struct policy_cidr_identity *added = NULL, *removed = NULL;
	size_t n_added = 0, n_removed = 0;
	int rc = 0;

	if (!old && !nw)
		return -ENOENT;
	if (nw)
		rc = policy_cidr_identity_ref(e, &nw->pol, &added, &n_added);
	if (rc)
		goto out;
	if (old && nw) {
		e->pols[i] = nw;
	} else if (nw) {
		rc = ptr_insert((void ***)&e->pols, &e->n_pols, i, nw);
		if (rc)
			goto out;
	} else {
		policy_engine_ptr_remove((void **)e->pols, &e->n_pols, i);
	}
	if (old)
		rc = policy_cidr_identity_unref(e, &old->pol, &removed, &n_removed);
	for (size_t k = 0; !rc && k < e->n_eps; k++) {
		struct pe_endpoint *ep = e->eps[k];

		if (policy_selects(old ? &old->pol : NULL, &ep->labels) ||
		    policy_selects(nw ? &nw->pol : NULL, &ep->labels)) {
			rc = ep_recompile(e, ep, changes);
			continue;
		}
		for (size_t x = 0; !rc && x < n_added; x++)
			rc = ep_update_identity(e, ep, added[x].identity, changes);
		for (size_t x = 0; !rc && x < n_removed; x++)
			rc = ep_update_identity(e, ep, removed[x].identity, changes);
	}
	if (changes && !rc) {
		for (size_t x = 0; !rc && x < n_added; x++)
			if (!policy_cidr_identity_push(&changes->cidr_add, &changes->n_cidr_add,
						       &added[x]))
				rc = -ENOMEM;
		for (size_t x = 0; !rc && x < n_removed; x++)
			if (!policy_cidr_identity_push(&changes->cidr_del, &changes->n_cidr_del,
						       &removed[x]))
				rc = -ENOMEM;
	}
	pe_policy_free(old);
out:
	free(added);
	free(removed);
	return rc;
}

/* Sorted keys and one fixed number format make equal objects hash equally. */
static int policy_digest(const json_t *object, unsigned char out[PE_POLICY_DIGEST])
{
	char *text = json_dumps(object, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (!text)
		return -ENOMEM;
	crypto_generichash(out, PE_POLICY_DIGEST, (const unsigned char *)text, strlen(text), NULL,
			   0);
	free(text);
	return 0;
}

int policy_engine_policy_set(struct policy_engine *e, const char *key, const json_t *object,
			     struct policy_changes *changes, char *err, size_t err_len)
{
	size_t i = pol_lower_bound(e, key);
	unsigned char digest[PE_POLICY_DIGEST];
	struct pe_policy *p;
	int rc;

	if (policy_digest(object, digest))
		return -ENOMEM;
	/* A store watch re-delivers unchanged objects (resync, compaction): keeping the old
	 * rule ids spares the datapath a delete and re-add of every entry. */
	if (i < e->n_pols && !strcmp(e->pols[i]->key, key) &&
	    !memcmp(e->pols[i]->digest, digest, sizeof(digest)))
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->key = strdup(key);
	if (!p->key) {
		pe_policy_free(p);
		return -ENOMEM;
	}
	memcpy(p->digest, digest, sizeof(digest));
	if (!policy_parse(&p->pol, object, err, err_len)) {
		pe_policy_free(p);
		return -EINVAL;
	}
	for (size_t s = 0; s < p->pol.n_specs; s++)
		p->n_rules += (uint32_t)p->pol.specs[s].n_rules;
	p->rule_base = e->next_rule_base;
	e->next_rule_base += p->n_rules;
	rc = policy_replace(e, key, p, changes);
	if (rc == -ENOMEM && !err)
		return rc;
	if (rc)
		policy_err_set(err, err_len, "%s: %s", key, strerror(-rc));
	return rc;
}

int policy_engine_policy_remove(struct policy_engine *e, const char *key,
				struct policy_changes *changes)
{
	return policy_replace(e, key, NULL, changes);
}

size_t policy_engine_policy_count(const struct policy_engine *e)
{
	return e->n_pols;
}

/* ---- endpoints -------------------------------------------------------------------- */

int policy_engine_endpoint_set(struct policy_engine *e, uint32_t endpoint,
			       const struct label_set *labels, struct policy_changes *changes)
{
	struct pe_endpoint *ep = ep_find(e, endpoint);
	int rc;

	if (!ep) {
		ep = calloc(1, sizeof(*ep));
		if (!ep)
			return -ENOMEM;
		ep->id = endpoint;
		rc = ptr_insert((void ***)&e->eps, &e->n_eps, ep_lower_bound(e, endpoint), ep);
		if (rc) {
			free(ep);
			return rc;
		}
	}
	label_set_free(&ep->labels);
	if (!label_set_copy(&ep->labels, labels))
		return -ENOMEM;
	return ep_recompile(e, ep, changes);
}

int policy_engine_endpoint_remove(struct policy_engine *e, uint32_t endpoint)
{
	size_t i = ep_lower_bound(e, endpoint);

	if (i == e->n_eps || e->eps[i]->id != endpoint)
		return -ENOENT;
	ep_free(e->eps[i]);
	policy_engine_ptr_remove((void **)e->eps, &e->n_eps, i);
	return 0;
}

const struct policy_entry *policy_engine_entries(const struct policy_engine *e, uint32_t endpoint,
						 size_t *n)
{
	struct pe_endpoint *ep = ep_find(e, endpoint);

	*n = ep ? ep->n : 0;
	return ep ? ep->entries : NULL;
}

bool policy_engine_enforced(const struct policy_engine *e, uint32_t endpoint, int dir)
{
	struct pe_endpoint *ep = ep_find(e, endpoint);

	return ep && dir >= 0 && dir < 2 && ep->enforce[dir];
}

int policy_engine_compile_full(const struct policy_engine *e, uint32_t endpoint,
			       struct policy_entry **out, size_t *n)
{
	struct pe_endpoint *ep = ep_find(e, endpoint);
	struct entry_vec v = {0};
	struct pe_active *act;
	size_t n_act;
	bool enforce[2];
	int rc;

	*out = NULL;
	*n = 0;
	if (!ep)
		return -ENOENT;
	rc = collect_active(e, &ep->labels, &act, &n_act, enforce);
	if (rc)
		return rc;
	rc = compile_all(e, act, n_act, enforce, &v);
	free(act);
	if (rc) {
		free(v.v);
		return rc;
	}
	*out = v.v;
	*n = v.n;
	return 0;
}

bool policy_engine_rule_origin(const struct policy_engine *e, uint32_t rule_id,
			       struct policy_rule_origin *out)
{
	for (size_t i = 0; rule_id && i < e->n_pols; i++) {
		const struct pe_policy *p = e->pols[i];
		uint32_t ordinal;

		if (rule_id <= p->rule_base || rule_id > p->rule_base + p->n_rules)
			continue;
		ordinal = rule_id - p->rule_base - 1;
		for (size_t s = 0; s < p->pol.n_specs; s++) {
			if (ordinal < p->pol.specs[s].n_rules) {
				out->key = p->key;
				out->policy = &p->pol;
				out->spec = s;
				out->rule = ordinal;
				return true;
			}
			ordinal -= (uint32_t)p->pol.specs[s].n_rules;
		}
	}
	return false;
}

void policy_engine_foreach_selecting(
    const struct policy_engine *e, const struct label_set *labels, int dir,
    void (*cb)(void *arg, const char *key, const struct policy *policy, size_t spec), void *arg)
{
	for (size_t i = 0; i < e->n_pols; i++) {
		const struct pe_policy *p = e->pols[i];

		for (size_t s = 0; s < p->pol.n_specs; s++)
			if (p->pol.specs[s].enforce[dir] &&
			    selector_matches(&p->pol.specs[s].subject, labels))
				cb(arg, p->key, &p->pol, s);
	}
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy engine: exact entries (minimal, deterministic), CIDR identities, and the property
 * that incremental diffs always equal a full recompile under random churn of identities,
 * policies and endpoints.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/compile.h"
#include "policy/engine.h"
#include "policy/labels.h"
#include "tests/unit/policy/helpers.h"

static void labels(struct label_set *ls, const char *text)
{
	char err[256];

	assert_true(label_set_parse(ls, text, err, sizeof(err)));
}

static const struct policy_entry *entries_of(struct policy_engine *e, uint32_t ep, size_t *n)
{
	return policy_engine_entries(e, ep, n);
}

/* ---- exact entries -------------------------------------------------------------------- */

static void test_exact_entries(void **state)
{
	struct policy_engine *e = policy_engine_new();
	const struct policy_entry *x;
	struct label_set web, client;
	char err[512];
	size_t n;

	assert_non_null(e);
	labels(&web, "app=web,io.kubernetes.pod.namespace=prod");
	labels(&client, "app=client,io.kubernetes.pod.namespace=prod");
	assert_int_equal(policy_engine_identity_set(e, 300, &client, NULL), 0);
	assert_int_equal(policy_engine_identity_set(e, 301, &web, NULL), 0);
	/* Duplicate allows (two policies), an allow shadowed by an any-port allow, an allow
	 * shadowed by a deny: only the minimal set stays. */
	assert_true(th_load(e,
			    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
			    "metadata: {name: a, namespace: prod}\nspec:\n"
			    "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n"
			    "  - fromEndpoints: [{matchLabels: {app: client}}]\n"
			    "    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n"
			    "  - fromEndpoints: [{matchLabels: {app: client}}]\n"
			    "    toPorts: [{ports: [{port: \"0\", protocol: UDP}, {port: \"53\", "
			    "protocol: UDP}]}]\n"
			    "  ingressDeny:\n"
			    "  - toPorts: [{ports: [{port: \"22\", protocol: TCP}]}]\n"
			    "---\n"
			    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
			    "metadata: {name: b, namespace: prod}\nspec:\n"
			    "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n"
			    "  - fromEndpoints: [{matchLabels: {app: client}}]\n"
			    "    toPorts: [{ports: [{port: \"80\", protocol: TCP}, {port: \"22\", "
			    "protocol: TCP}]}]\n",
			    err, sizeof(err)));
	assert_int_equal(policy_engine_endpoint_set(e, 1, &web, NULL), 0);
	x = entries_of(e, 1, &n);
	/* keys prod/a (rules 1..3) and prod/b (rule 4). Expected, sorted:
	 *   ANY ingress TCP 22 deny (rule 3)
	 *   ANY egress  any allow (no policy selects egress, rule 0)
	 *   300 ingress TCP 80 allow (rule 1; rule 4's duplicate dropped)
	 *   300 ingress UDP any allow (rule 2; the UDP 53 entry is inside it)
	 *   (rule 4's TCP 22 allow is shadowed by the deny) */
	assert_int_equal(n, 4);
	assert_true(x[0].identity == 0 && x[0].direction == POLICY_INGRESS &&
		    x[0].proto == IPPROTO_TCP && x[0].port_lo == 22 && x[0].deny &&
		    x[0].rule_id == 3);
	assert_true(x[1].identity == 0 && x[1].direction == POLICY_EGRESS && x[1].proto == 0 &&
		    !x[1].deny && x[1].rule_id == 0);
	assert_true(x[2].identity == 300 && x[2].proto == IPPROTO_TCP && x[2].port_lo == 80 &&
		    x[2].port_hi == 80 && !x[2].deny && x[2].rule_id == 1);
	assert_true(x[3].identity == 300 && x[3].proto == IPPROTO_UDP && x[3].port_lo == 0 &&
		    x[3].port_hi == 0 && x[3].rule_id == 2);
	assert_true(policy_engine_enforced(e, 1, POLICY_INGRESS));
	assert_false(policy_engine_enforced(e, 1, POLICY_EGRESS));
	label_set_free(&web);
	label_set_free(&client);
	policy_engine_free(e);
}

static void test_cidr_identities(void **state)
{
	struct policy_engine *e = policy_engine_new();
	const struct policy_cidr_identity *c;
	struct policy_changes ch = {0};
	char err[512];
	size_t n;
	json_t *obj;

	obj = json_loads(
	    "{\"apiVersion\":\"cilium.io/v2\",\"kind\":\"CiliumNetworkPolicy\","
	    "\"metadata\":{\"name\":\"c\",\"namespace\":\"prod\"},\"spec\":{"
	    "\"endpointSelector\":{},\"egress\":[{\"toCIDRSet\":[{\"cidr\":\"10.0.0.0/8\","
	    "\"except\":[\"10.1.0.0/16\"]},{\"cidr\":\"0.0.0.0/0\"}]},"
	    "{\"toCIDR\":[\"10.0.0.0/8\"]}]}}",
	    0, NULL);
	assert_non_null(obj);
	assert_int_equal(policy_engine_policy_set(e, "prod/c", obj, &ch, err, sizeof(err)), 0);
	/* 10/8 (named twice, one identity) and 10.1/16; /0 is world and needs none. */
	assert_int_equal(ch.n_cidr_add, 2);
	c = policy_engine_cidr_identities(e, &n);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].cidr.len, 8);
	assert_int_equal(c[0].identity & IDENTITY_LOCAL_FLAG, IDENTITY_LOCAL_FLAG);
	assert_int_equal(c[1].cidr.len, 16);
	policy_changes_free(&ch);
	assert_int_equal(policy_engine_policy_remove(e, "prod/c", &ch), 0);
	assert_int_equal(ch.n_cidr_del, 2);
	policy_engine_cidr_identities(e, &n);
	assert_int_equal(n, 0);
	policy_changes_free(&ch);
	assert_int_equal(policy_engine_policy_remove(e, "prod/c", NULL), -ENOENT);
	json_decref(obj);
	policy_engine_free(e);
}

struct id_walk {
	uint32_t ids[64];
	size_t n;
	uint32_t stop_at;
};

static int collect_id(uint32_t id, const struct label_set *labels, void *arg)
{
	struct id_walk *w = arg;

	assert_non_null(labels);
	if (w->n < 64)
		w->ids[w->n++] = id;
	return id == w->stop_at ? 42 : 0;
}

/* Every identity once, in ascending order (reserved, stored, CIDR); cb's nonzero stops. */
static void test_identity_foreach(void **state)
{
	struct policy_engine *e = policy_engine_new();
	const struct policy_cidr_identity *c;
	struct id_walk w = {0};
	struct label_set web;
	char err[512];
	size_t n;

	labels(&web, "app=web");
	assert_int_equal(policy_engine_identity_set(e, 4097, &web, NULL), 0);
	assert_true(th_load(e,
			    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
			    "metadata: {name: c, namespace: prod}\nspec:\n"
			    "  endpointSelector: {}\n  egress:\n  - toCIDR: [10.0.0.0/8]\n",
			    err, sizeof(err)));
	c = policy_engine_cidr_identities(e, &n);
	assert_int_equal(n, 1);
	assert_int_equal(policy_engine_identity_foreach(e, collect_id, &w), 0);
	assert_int_equal(w.n, 12); /* 1..10, 4097, the CIDR identity */
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(w.ids[i], i + 1);
	assert_int_equal(w.ids[10], 4097);
	assert_int_equal(w.ids[11], c[0].identity);
	w = (struct id_walk){.stop_at = 3};
	assert_int_equal(policy_engine_identity_foreach(e, collect_id, &w), 42);
	assert_int_equal(w.n, 3);
	label_set_free(&web);
	policy_engine_free(e);
}

/* Re-putting an unchanged object changes nothing (no rule id churn in the datapath). */
static void test_reput_unchanged(void **state)
{
	struct policy_engine *e = policy_engine_new();
	struct policy_changes ch = {0};
	struct label_set ls;
	json_t *obj =
	    json_loads("{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"x\"},"
		       "\"spec\":{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80}]}]}}",
		       0, NULL);

	labels(&ls, "app=a,io.kubernetes.pod.namespace=default");
	assert_int_equal(policy_engine_endpoint_set(e, 1, &ls, NULL), 0);
	assert_int_equal(policy_engine_policy_set(e, "default/x", obj, &ch, NULL, 0), 0);
	assert_int_equal(ch.n_eps, 1);
	policy_changes_free(&ch);
	assert_int_equal(policy_engine_policy_set(e, "default/x", obj, &ch, NULL, 0), 0);
	assert_int_equal(ch.n_eps, 0);
	json_object_set_new(json_object_get(obj, "spec"), "policyTypes",
			    json_pack("[s]", "Egress"));
	assert_int_equal(policy_engine_policy_set(e, "default/x", obj, &ch, NULL, 0), 0);
	assert_int_equal(ch.n_eps, 1);
	policy_changes_free(&ch);
	label_set_free(&ls);
	json_decref(obj);
	policy_engine_free(e);
}

static void test_invalid_policy_keeps_state(void **state)
{
	struct policy_engine *e = policy_engine_new();
	char err[512] = "";
	json_t *bad = json_loads(
	    "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"x\"},"
	    "\"spec\":{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"http\"}]}]}}",
	    0, NULL);

	assert_int_equal(policy_engine_policy_set(e, "default/x", bad, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "spec.ingress[0].ports[0].port: named port"));
	assert_int_equal(policy_engine_policy_count(e), 0);
	json_decref(bad);
	policy_engine_free(e);
}

/* ---- random churn: incremental == full ------------------------------------------------ */

static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static const char *const apps[] = {"a", "b", "c", "d"};
static const char *const nss[] = {"prod", "dev"};
static const char *const cidrs[] = {"10.1.0.0/16", "10.2.0.0/16", "10.1.1.0/24", "0.0.0.0/0",
				    "192.168.0.0/16"};

static json_t *rand_selector(bool allow_ns)
{
	switch (rnd(5)) {
	case 0:
		return json_pack("{}");
	case 1:
		return json_pack("{s:{s:s}}", "matchLabels", "app", apps[rnd(4)]);
	case 2:
		return json_pack("{s:[{s:s,s:s}]}", "matchExpressions", "key", "tier", "operator",
				 rnd(2) ? "Exists" : "DoesNotExist");
	case 3:
		return json_pack("{s:[{s:s,s:s,s:[s,s]}]}", "matchExpressions", "key", "app",
				 "operator", rnd(2) ? "In" : "NotIn", "values", apps[rnd(4)],
				 apps[rnd(4)]);
	default:
		if (!allow_ns)
			return json_pack("{s:{s:s}}", "matchLabels", "app", apps[rnd(4)]);
		return json_pack("{s:{s:s}}", "matchLabels", "io.kubernetes.pod.namespace",
				 nss[rnd(2)]);
	}
}

static json_t *rand_ports(void)
{
	static const char *const protos[] = {"TCP", "UDP", "ANY"};
	json_t *ports = json_array();
	unsigned k = 1 + rnd(2);

	for (unsigned i = 0; i < k; i++) {
		switch (rnd(4)) {
		case 0:
			json_array_append_new(ports, json_pack("{s:s,s:s}", "port", "80",
							       "protocol", protos[rnd(3)]));
			break;
		case 1:
			json_array_append_new(ports, json_pack("{s:s,s:i,s:s}", "port", "1000",
							       "endPort", 2000, "protocol", "TCP"));
			break;
		case 2:
			json_array_append_new(
			    ports, json_pack("{s:s,s:s}", "port", "1500", "protocol", "TCP"));
			break;
		default:
			json_array_append_new(
			    ports, json_pack("{s:s,s:s}", "port", "0", "protocol", protos[rnd(2)]));
		}
	}
	return json_pack("[{s:o}]", "ports", ports);
}

static json_t *rand_cnp_rule(bool egress)
{
	const char *p = egress ? "to" : "from";
	char key[32];
	json_t *r = json_object();

	switch (rnd(6)) {
	case 0:
		snprintf(key, sizeof(key), "%sEndpoints", p);
		json_object_set_new(r, key, json_pack("[o]", rand_selector(true)));
		break;
	case 1: {
		static const char *const ents[] = {"world", "cluster", "host", "all"};

		snprintf(key, sizeof(key), "%sEntities", p);
		json_object_set_new(r, key, json_pack("[s]", ents[rnd(4)]));
		break;
	}
	case 2:
		snprintf(key, sizeof(key), "%sCIDRSet", p);
		json_object_set_new(
		    r, key,
		    json_pack("[{s:s,s:[s]}]", "cidr", "10.1.0.0/16", "except", "10.1.1.0/24"));
		break;
	case 3:
		snprintf(key, sizeof(key), "%sCIDR", p);
		json_object_set_new(r, key, json_pack("[s]", cidrs[rnd(5)]));
		break;
	default:
		break; /* L4-only or empty */
	}
	if (rnd(2))
		json_object_set_new(r, "toPorts", rand_ports());
	return r;
}

static json_t *rand_policy(void)
{
	static const char *const sections[] = {"ingress", "egress", "ingressDeny", "egressDeny"};
	unsigned kind = rnd(3);
	json_t *spec, *obj;

	if (kind == 2) {
		json_t *ing = json_array();
		unsigned k = rnd(3);

		for (unsigned i = 0; i < k; i++) {
			json_t *from = json_array();

			if (rnd(3))
				json_array_append_new(
				    from,
				    rnd(2)
					? json_pack("{s:o}", "podSelector", rand_selector(false))
					: json_pack("{s:{s:s}}", "ipBlock", "cidr", cidrs[rnd(5)]));
			json_array_append_new(ing, json_pack("{s:o}", "from", from));
		}
		spec = json_pack("{s:o,s:o}", "podSelector", rand_selector(false), "ingress", ing);
		if (rnd(2))
			json_object_set_new(spec, "policyTypes",
					    json_pack("[s,s]", "Ingress", "Egress"));
		return json_pack("{s:s,s:s,s:{s:s,s:s},s:o}", "apiVersion", "networking.k8s.io/v1",
				 "kind", "NetworkPolicy", "metadata", "name", "p", "namespace",
				 nss[rnd(2)], "spec", spec);
	}
	spec = json_pack("{s:o}", "endpointSelector", rand_selector(kind == 1));
	for (unsigned s = 0; s < 4; s++) {
		unsigned k = rnd(3);
		json_t *arr;

		if (!k)
			continue;
		arr = json_array();
		for (unsigned i = 0; i < k; i++)
			json_array_append_new(arr, rand_cnp_rule(s & 1));
		json_object_set_new(spec, sections[s], arr);
	}
	obj = json_pack("{s:s,s:s,s:{s:s},s:o}", "apiVersion", "cilium.io/v2", "kind",
			kind ? "CiliumClusterwideNetworkPolicy" : "CiliumNetworkPolicy", "metadata",
			"name", "p", "spec", spec);
	if (!kind)
		json_object_set_new(json_object_get(obj, "metadata"), "namespace",
				    json_string(nss[rnd(2)]));
	return obj;
}

static void rand_labels(struct label_set *ls)
{
	char text[256];

	snprintf(text, sizeof(text), "app=%s,io.kubernetes.pod.namespace=%s%s", apps[rnd(4)],
		 nss[rnd(2)], rnd(2) ? ",tier=x" : "");
	labels(ls, text);
}

#define N_EPS 3

struct shadow {
	struct policy_entry *v;
	size_t n;
};

static void shadow_apply(struct shadow *s, const struct policy_endpoint_diff *d)
{
	for (size_t i = 0; i < d->n_del; i++) {
		size_t k;

		for (k = 0; k < s->n; k++)
			if (!policy_compile_entry_cmp(&s->v[k], &d->del[i]))
				break;
		assert_true(k < s->n); /* deleting what is not there */
		s->v[k] = s->v[--s->n];
	}
	for (size_t i = 0; i < d->n_add; i++) {
		for (size_t k = 0; k < s->n; k++)
			assert_true(policy_compile_entry_cmp(&s->v[k], &d->add[i]) != 0);
		s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
		assert_non_null(s->v);
		s->v[s->n++] = d->add[i];
	}
	policy_compile_sort(s->v, s->n);
}

static void check_endpoint(struct policy_engine *e, uint32_t ep, const struct shadow *s)
{
	struct policy_entry *full;
	const struct policy_entry *cur;
	size_t n_full, n_cur;

	assert_int_equal(policy_engine_compile_full(e, ep, &full, &n_full), 0);
	cur = policy_engine_entries(e, ep, &n_cur);
	assert_int_equal(n_cur, n_full);
	assert_int_equal(s->n, n_full);
	for (size_t i = 0; i < n_full; i++) {
		assert_int_equal(policy_compile_entry_cmp(&cur[i], &full[i]), 0);
		assert_int_equal(policy_compile_entry_cmp(&s->v[i], &full[i]), 0);
	}
	free(full);
}

/* What the agent's ipcache would hold from the CIDR adds and deletes it was given. */
struct ipcache {
	struct policy_cidr_identity *v;
	size_t n;
};

static void cidr_apply(struct ipcache *c, const struct policy_changes *ch)
{
	for (size_t i = 0; i < ch->n_cidr_del; i++) {
		size_t k;

		for (k = 0; k < c->n; k++)
			if (c->v[k].identity == ch->cidr_del[i].identity &&
			    cidr_equal(&c->v[k].cidr, &ch->cidr_del[i].cidr))
				break;
		assert_true(k < c->n);
		c->v[k] = c->v[--c->n];
	}
	for (size_t i = 0; i < ch->n_cidr_add; i++) {
		c->v = realloc(c->v, (c->n + 1) * sizeof(*c->v));
		assert_non_null(c->v);
		c->v[c->n++] = ch->cidr_add[i];
	}
}

static void cidr_check(const struct policy_engine *e, const struct ipcache *c)
{
	const struct policy_cidr_identity *cur;
	size_t n;

	cur = policy_engine_cidr_identities(e, &n);
	assert_int_equal(n, c->n);
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < c->n; k++)
			if (c->v[k].identity == cur[i].identity &&
			    cidr_equal(&c->v[k].cidr, &cur[i].cidr))
				break;
		assert_true(k < c->n);
	}
}

static void test_incremental_equals_full(void **state)
{
	struct policy_engine *e = policy_engine_new();
	struct shadow sh[N_EPS] = {{0}};
	unsigned ops[5] = {0};
	size_t total = 0, diffs = 0;
	struct ipcache ipc = {0};
	char err[1024];

	assert_non_null(e);
	for (unsigned ep = 0; ep < N_EPS; ep++) {
		struct policy_changes ch = {0};
		struct label_set ls;

		rand_labels(&ls);
		assert_int_equal(policy_engine_endpoint_set(e, ep + 1, &ls, &ch), 0);
		for (size_t i = 0; i < ch.n_eps; i++)
			shadow_apply(&sh[ch.eps[i].endpoint - 1], &ch.eps[i]);
		policy_changes_free(&ch);
		label_set_free(&ls);
	}
	for (unsigned step = 0; step < 1500; step++) {
		struct policy_changes ch = {0};
		unsigned op = rnd(10);
		char key[16];
		int rc = 0;

		if (op < 4) {
			struct label_set ls;

			rand_labels(&ls);
			rc = policy_engine_identity_set(e, 256 + rnd(40), &ls, &ch);
			label_set_free(&ls);
			ops[0]++;
		} else if (op < 5) {
			rc = policy_engine_identity_remove(e, 256 + rnd(40), &ch);
			if (rc == -ENOENT)
				rc = 0;
			ops[1]++;
		} else if (op < 8) {
			json_t *p = rand_policy();

			snprintf(key, sizeof(key), "k%u", rnd(8));
			rc = policy_engine_policy_set(e, key, p, &ch, err, sizeof(err));
			if (rc)
				fprintf(stderr, "policy: %s\n", err);
			json_decref(p);
			ops[2]++;
		} else if (op < 9) {
			snprintf(key, sizeof(key), "k%u", rnd(8));
			rc = policy_engine_policy_remove(e, key, &ch);
			if (rc == -ENOENT)
				rc = 0;
			ops[3]++;
		} else {
			struct label_set ls;

			rand_labels(&ls);
			rc = policy_engine_endpoint_set(e, 1 + rnd(N_EPS), &ls, &ch);
			label_set_free(&ls);
			ops[4]++;
		}
		assert_int_equal(rc, 0);
		cidr_apply(&ipc, &ch);
		cidr_check(e, &ipc);
		for (size_t i = 0; i < ch.n_eps; i++) {
			shadow_apply(&sh[ch.eps[i].endpoint - 1], &ch.eps[i]);
			diffs += ch.eps[i].n_add + ch.eps[i].n_del;
		}
		policy_changes_free(&ch);
		for (unsigned ep = 0; ep < N_EPS; ep++) {
			check_endpoint(e, ep + 1, &sh[ep]);
			total += sh[ep].n;
		}
	}
	/* The churn must exercise real entries, not empty endpoints. */
	fprintf(stderr, "churn: %zu entries checked, %zu diff entries applied\n", total, diffs);
	assert_true(total > 10000 && diffs > 1000);
	fprintf(stderr,
		"churn: %u identity sets, %u removes, %u policy sets, %u removes, "
		"%u endpoint relabels\n",
		ops[0], ops[1], ops[2], ops[3], ops[4]);
	for (unsigned ep = 0; ep < N_EPS; ep++)
		free(sh[ep].v);
	free(ipc.v);
	policy_engine_free(e);
}

static void test_deterministic(void **state)
{
	struct policy_entry *a[2];
	size_t n[2];

	for (int run = 0; run < 2; run++) {
		struct policy_engine *e = policy_engine_new();
		struct label_set ls;

		rnd_state = 777;
		for (unsigned i = 0; i < 30; i++) {
			json_t *p = rand_policy();
			char key[16];

			snprintf(key, sizeof(key), "k%u", i);
			assert_int_equal(policy_engine_policy_set(e, key, p, NULL, NULL, 0), 0);
			json_decref(p);
		}
		for (unsigned i = 0; i < 50; i++) {
			rand_labels(&ls);
			policy_engine_identity_set(e, 256 + i, &ls, NULL);
			label_set_free(&ls);
		}
		labels(&ls, "app=a,io.kubernetes.pod.namespace=prod");
		assert_int_equal(policy_engine_endpoint_set(e, 1, &ls, NULL), 0);
		label_set_free(&ls);
		assert_int_equal(policy_engine_compile_full(e, 1, &a[run], &n[run]), 0);
		policy_engine_free(e);
	}
	assert_int_equal(n[0], n[1]);
	assert_memory_equal(a[0], a[1], n[0] * sizeof(*a[0]));
	free(a[0]);
	free(a[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_entries),
	    cmocka_unit_test(test_cidr_identities),
	    cmocka_unit_test(test_identity_foreach),
	    cmocka_unit_test(test_reput_unchanged),
	    cmocka_unit_test(test_invalid_policy_keeps_state),
	    cmocka_unit_test(test_incremental_equals_full),
	    cmocka_unit_test(test_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

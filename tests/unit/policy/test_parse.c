// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy documents and parsers: every unsupported or malformed construct is rejected with
 * the document number and the field path; valid documents are split and normalised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/document.h"
#include "policy/policy.h"

/* Tables of YAML texts: kept as written, one case per block. */
// clang-format off
#define CNP_HEAD "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  endpointSelector: {}\n"
#define KNP_HEAD "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector: {}\n"

static const struct {
	const char *text, *why;
} bad[] = {
	{ CNP_HEAD "  egress:\n  - toFQDNs: [{matchName: x.com}]\n",
	  "document 1: spec.egress[0].toFQDNs: toFQDNs (DNS-based rules) is not supported" },
	{ CNP_HEAD "  egress:\n  - toServices: [{k8sService: {serviceName: a}}]\n",
	  "spec.egress[0].toServices: toServices is not supported" },
	{ CNP_HEAD "  ingress:\n  - toPorts:\n    - ports: [{port: \"80\"}]\n      rules: {http: [{method: GET}]}\n",
	  "spec.ingress[0].toPorts[0].rules: L7 rules are not supported" },
	{ CNP_HEAD "  ingress:\n  - toPorts:\n    - ports: [{port: http}]\n",
	  "spec.ingress[0].toPorts[0].ports[0].port: named port \"http\" is not supported" },
	{ KNP_HEAD "  ingress:\n  - ports: [{port: http}]\n",
	  "spec.ingress[0].ports[0].port: named port" },
	{ CNP_HEAD "  ingress:\n  - fromEndpoint: []\n", "spec.ingress[0].fromEndpoint: unknown field" },
	{ CNP_HEAD "  ingres: []\n", "spec.ingres: unknown field" },
	{ CNP_HEAD "  egress:\n  - toCIDR: [10.0.0.1/8]\n", "spec.egress[0].toCIDR[0]: '10.0.0.1/8': host bits set below the /8 prefix length (the network is 10.0.0.0/8)" },
	{ CNP_HEAD "  egress:\n  - toCIDR: [10.0.0.0/33]\n", "prefix length must be a number from 0 to 32" },
	{ CNP_HEAD "  egress:\n  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [11.0.0.0/16]}]\n",
	  "spec.egress[0].toCIDRSet[0].except[0]: \"11.0.0.0/16\" is not inside" },
	{ CNP_HEAD "  egress:\n  - toCIDRSet: [{cidrGroupRef: g}]\n", "cidrGroupRef (CiliumCIDRGroup) is not supported" },
	{ CNP_HEAD "  egress:\n  - toEntities: [moon]\n", "spec.egress[0].toEntities[0]: unknown entity moon" },
	{ CNP_HEAD "  ingress:\n  - fromEndpoints:\n    - matchExpressions: [{key: a, operator: Has}]\n",
	  "spec.ingress[0].fromEndpoints[0].matchExpressions[0].operator: Has; expected In" },
	{ CNP_HEAD "  ingress:\n  - fromEndpoints:\n    - matchExpressions: [{key: a, operator: In}]\n",
	  "values: must be non-empty for operator In" },
	{ CNP_HEAD "  ingress:\n  - fromEndpoints:\n    - matchExpressions: [{key: a, operator: Exists, values: [x]}]\n",
	  "values: must be empty for operator Exists" },
	{ CNP_HEAD "  ingress:\n  - toPorts: [{ports: [{port: \"90\", endPort: 80}]}]\n",
	  "spec.ingress[0].toPorts[0].ports[0].endPort: 80 is below port 90" },
	{ CNP_HEAD "  ingress:\n  - toPorts: [{ports: [{port: \"90\", protocol: ICMP}]}]\n",
	  "ports[0].protocol: expected TCP, UDP, SCTP or ANY" },
	{ CNP_HEAD "  ingress:\n  - toPorts: [{ports: [{port: \"99999\"}]}]\n", "expected a port number 0..65535" },
	{ CNP_HEAD "  ingress:\n  - icmps: [{fields: [{type: 8}]}]\n    toPorts: [{ports: [{port: \"80\"}]}]\n",
	  "toPorts and icmps cannot be combined" },
	{ CNP_HEAD "  ingress:\n  - icmps: [{fields: [{type: 0}]}]\n", "ICMP type 0 (EchoReply) cannot be expressed" },
	{ CNP_HEAD "  ingress:\n  - icmps: [{fields: [{type: 8, family: IPv5}]}]\n", "family: expected IPv4 or IPv6" },
	{ CNP_HEAD "  ingress:\n  - fromRequires: [{}]\n", "fromRequires is not supported" },
	{ CNP_HEAD "  ingress:\n  - authentication: {mode: required}\n", "mutual authentication is not supported" },
	{ "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  nodeSelector: {}\n",
	  "spec.nodeSelector: host policies (nodeSelector) are not supported" },
	{ "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress: []\n",
	  "spec.endpointSelector: missing" },
	{ "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\n", "spec: missing" },
	{ "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: P_1}\nspec: {endpointSelector: {}}\n",
	  "metadata.name: missing or invalid" },
	{ "apiVersion: cilium.io/v2alpha1\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec: {endpointSelector: {}}\n",
	  "apiVersion: \"cilium.io/v2alpha1\" is not supported" },
	{ "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "kind: \"Pod\" is not a network policy" },
	{ KNP_HEAD "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      podSelector: {}\n",
	  "spec.ingress[0].from[0]: ipBlock cannot be combined" },
	{ KNP_HEAD "  ingress:\n  - from:\n    - {}\n", "spec.ingress[0].from[0]: empty peer" },
	{ KNP_HEAD "  ingress:\n  - ports: [{protocol: ICMP}]\n", "ports[0].protocol: \"ICMP\"; expected TCP, UDP or SCTP" },
	{ KNP_HEAD "  ingress:\n  - ports: [{endPort: 90}]\n", "endPort: needs a numeric port" },
	{ KNP_HEAD "  policyTypes: [Both]\n", "spec.policyTypes[0]: expected Ingress or Egress" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress: []\n",
	  "spec.podSelector: missing" },
	{ KNP_HEAD "  egress:\n  - to:\n    - namespaceSelector: {matchLabels: {a: \"b c\"}}\n",
	  "spec.egress[0].to[0].namespaceSelector.matchLabels.a: expected a label value" },
	{ KNP_HEAD "---\n" CNP_HEAD "  bogus: 1\n", "document 2: spec.bogus: unknown field" },
	{ "a: [1\n", "line 2:" },
	{ "a: &x 1\nb: *x\n", "YAML aliases are not supported" },
	{ "a: 1\na: 2\n", "duplicate key \"a\"" },
	{ "{\"kind\": \"List\", \"items\": [" "{\"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": \"a\"}, \"spec\": {\"podSelector\": {}}},"
	  "{\"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": \"b\"}, \"spec\": {}}]}",
	  "document 1: items[1]: spec.podSelector: missing" },
	{ "{\"kind\": 1", "line 1 column" },
	{ "# nothing\n---\n", "no policy objects found" },
	{ "- a\n- b\n", "document 1: expected a policy object" },
};
// clang-format on

static void test_rejects(void **state)
{
	int failures = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy_document *docs = (void *)1;
		size_t n = 99;
		char err[1024] = "";

		if (policy_documents_load("f.yaml", bad[i].text, strlen(bad[i].text), &docs, &n,
					  err, sizeof(err))) {
			fprintf(stderr, "case %zu accepted, expected \"%s\"\n", i, bad[i].why);
			policy_documents_free(docs, n);
			failures++;
			continue;
		}
		if (docs != NULL || n != 0 || strncmp(err, "f.yaml: ", 8) ||
		    !strstr(err, bad[i].why)) {
			fprintf(stderr, "case %zu: got \"%s\", expected \"%s\"\n", i, err,
				bad[i].why);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_documents(void **state)
{
	static const char text[] =
	    "# a comment\n---\n"
	    "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
	    "metadata: {name: cw, namespace: ignored}\n"
	    "spec: {endpointSelector: {}}\n"
	    "specs:\n- endpointSelector: {matchLabels: {app: a}}\n  ingress: [{}]\n"
	    "---\n"
	    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
	    "spec: {podSelector: {}}\n"
	    "---\n";
	struct policy_document *docs;
	struct policy p;
	char err[512];
	size_t n;

	assert_true(policy_documents_load("x", text, strlen(text), &docs, &n, err, sizeof(err)));
	assert_int_equal(n, 2);
	assert_string_equal(docs[0].kind, "CiliumClusterwideNetworkPolicy");
	assert_string_equal(docs[0].namespace_, "");
	assert_null(json_object_get(json_object_get(docs[0].object, "metadata"), "namespace"));
	assert_string_equal(docs[1].namespace_, "default");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(docs[1].object, "metadata"), "namespace")),
			    "default");
	/* spec and specs together: two subjects */
	assert_true(policy_parse(&p, docs[0].object, err, sizeof(err)));
	assert_int_equal(p.n_specs, 2);
	assert_false(p.specs[0].enforce[0]);
	assert_true(p.specs[1].enforce[0]);
	policy_free(&p);
	/* KNP default policyTypes: Ingress only */
	assert_true(policy_parse(&p, docs[1].object, err, sizeof(err)));
	assert_true(p.specs[0].enforce[0]);
	assert_false(p.specs[0].enforce[1]);
	policy_free(&p);
	policy_documents_free(docs, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy semantics, table-driven: each case is a set of policies (YAML, as users write
 * them) and flows with the expected verdict, evaluated with the engine through trace (both
 * directions). The cases follow what the Kubernetes NetworkPolicy conformance tests check
 * (deny-all, allow-all, pod/namespace/combined selectors, ipBlock except, ports and
 * endPort, egress, multiple policies) and Cilium's specifics (deny precedence, entities,
 * L4-only rules, namespace scoping, CIDR sets, ICMP, specs, enableDefaultDeny).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/engine.h"
#include "policy/trace.h"
#include "tests/unit/policy/helpers.h"

/* Endpoints: pods in namespaces prod (team=a) and dev (team=b). */
#define NS_PROD	   "io.kubernetes.pod.namespace=prod,io.cilium.k8s.namespace.labels.team=a"
#define NS_DEV	   "io.kubernetes.pod.namespace=dev,io.cilium.k8s.namespace.labels.team=b"
#define WEB	   "app=web," NS_PROD
#define DB	   "app=db," NS_PROD
#define CLIENT	   "app=client," NS_PROD
#define CLIENT_DEV "app=client," NS_DEV
#define OTHER	   "app=other," NS_PROD
#define WEB_DEV	   "app=web," NS_DEV

struct flow {
	const char *src, *dst, *port;
	int allowed;
};

struct tcase {
	const char *name;
	const char *yaml;
	struct flow flows[8];
};

/* Tables of YAML texts: kept as written, one case per block. */
// clang-format off
#define KNP(ns, name) "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: " name "\n  namespace: " ns "\nspec:\n"
#define CNP(ns, name) "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: " name "\n  namespace: " ns "\nspec:\n"
#define CCNP(name) "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata:\n  name: " name "\nspec:\n"

static const struct tcase cases[] = {
	{ "no policy allows all", "",
	  { { CLIENT, WEB, "80/TCP", 1 }, { "10.9.9.9", WEB, "22/TCP", 1 }, { WEB, "8.8.8.8", "53/UDP", 1 } } },
	{ "knp deny all ingress",
	  KNP("prod", "deny-all") "  podSelector: {}\n  policyTypes: [Ingress]\n",
	  { { CLIENT, WEB, "80/TCP", 0 }, { CLIENT_DEV, WEB_DEV, "80/TCP", 1 }, { WEB, CLIENT_DEV, "80/TCP", 1 },
	    { "10.1.1.1", DB, "5432/TCP", 0 } } },
	{ "knp deny all without policyTypes",
	  KNP("prod", "deny-all") "  podSelector: {}\n",
	  { { CLIENT, WEB, "80/TCP", 0 }, { WEB, "8.8.8.8", "53/UDP", 1 } } },
	{ "knp allow all overrides deny all",
	  KNP("prod", "deny-all") "  podSelector: {}\n  policyTypes: [Ingress]\n---\n"
	  KNP("prod", "allow-all") "  podSelector: {}\n  ingress:\n  - {}\n",
	  { { CLIENT, WEB, "80/TCP", 1 }, { "10.1.1.1", WEB, "1/UDP", 1 } } },
	{ "knp deny all egress",
	  KNP("prod", "deny-egress") "  podSelector: {}\n  policyTypes: [Egress]\n",
	  { { WEB, DB, "5432/TCP", 0 }, { WEB, "8.8.8.8", "53/UDP", 0 }, { CLIENT_DEV, WEB, "80/TCP", 1 } } },
	{ "knp pod selector: same namespace only",
	  KNP("prod", "web") "  podSelector:\n    matchLabels: {app: web}\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels: {app: client}\n",
	  { { CLIENT, WEB, "80/TCP", 1 }, { CLIENT_DEV, WEB, "80/TCP", 0 }, { OTHER, WEB, "80/TCP", 0 },
	    { OTHER, DB, "80/TCP", 1 } } },
	{ "knp namespace selector",
	  KNP("prod", "web") "  podSelector:\n    matchLabels: {app: web}\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels: {team: b}\n",
	  { { CLIENT_DEV, WEB, "80/TCP", 1 }, { "app=x," NS_DEV, WEB, "80/TCP", 1 }, { CLIENT, WEB, "80/TCP", 0 },
	    { "reserved:host", WEB, "80/TCP", 0 } } },
	{ "knp namespace selector by kubernetes.io/metadata.name",
	  KNP("prod", "web") "  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: dev\n",
	  { { CLIENT_DEV, WEB, "80/TCP", 1 }, { CLIENT, WEB, "80/TCP", 0 } } },
	{ "knp combined namespace and pod selector",
	  KNP("prod", "web") "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: b}}\n      podSelector: {matchLabels: {app: client}}\n",
	  { { CLIENT_DEV, WEB, "80/TCP", 1 }, { "app=x," NS_DEV, WEB, "80/TCP", 0 }, { CLIENT, WEB, "80/TCP", 0 } } },
	{ "knp two peers are a union",
	  KNP("prod", "web") "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: b}}\n    - podSelector: {matchLabels: {app: client}}\n",
	  { { CLIENT_DEV, WEB, "80/TCP", 1 }, { "app=x," NS_DEV, WEB, "80/TCP", 1 }, { CLIENT, WEB, "80/TCP", 1 },
	    { OTHER, WEB, "80/TCP", 0 } } },
	{ "knp ipBlock with except",
	  KNP("prod", "db") "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n        except: [10.2.0.0/16]\n    ports:\n    - port: 5432\n",
	  { { "10.1.2.3", DB, "5432/TCP", 1 }, { "10.2.0.5", DB, "5432/TCP", 0 }, { "192.168.1.1", DB, "5432/TCP", 0 },
	    { "10.1.2.3", DB, "22/TCP", 0 }, { "10.0.0.0/9", DB, "5432/TCP", 1 } } },
	{ "knp egress ipBlock",
	  KNP("prod", "web") "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}\n",
	  { { WEB, "8.8.8.8", "53/UDP", 1 }, { WEB, "10.3.3.3", "53/UDP", 0 }, { WEB, DB, "5432/TCP", 0 } } },
	{ "knp ports and endPort",
	  KNP("prod", "web") "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports:\n    - port: 8080\n      endPort: 8090\n    - protocol: UDP\n      port: 53\n    - protocol: SCTP\n      port: 9000\n",
	  { { CLIENT, WEB, "8080/TCP", 1 }, { CLIENT, WEB, "8090/TCP", 1 }, { CLIENT, WEB, "8091/TCP", 0 },
	    { CLIENT, WEB, "8085/UDP", 0 }, { CLIENT_DEV, WEB, "53/UDP", 1 }, { CLIENT, WEB, "9000/SCTP", 1 },
	    { CLIENT, WEB, "9000/TCP", 0 } } },
	{ "knp protocol without port",
	  KNP("prod", "web") "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports:\n    - protocol: UDP\n",
	  { { CLIENT, WEB, "5353/UDP", 1 }, { CLIENT, WEB, "80/TCP", 0 } } },
	{ "knp egress restriction",
	  KNP("prod", "web-egress") "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - podSelector: {matchLabels: {app: db}}\n    ports:\n    - port: 5432\n",
	  { { WEB, DB, "5432/TCP", 1 }, { WEB, DB, "80/TCP", 0 }, { WEB, OTHER, "5432/TCP", 0 }, { DB, WEB, "80/TCP", 1 } } },
	{ "knp multiple policies are a union",
	  KNP("prod", "p80") "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{port: 80}]\n---\n"
	  KNP("prod", "p443") "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{port: 443}]\n",
	  { { CLIENT, WEB, "80/TCP", 1 }, { CLIENT, WEB, "443/TCP", 1 }, { CLIENT, WEB, "22/TCP", 0 } } },
	{ "knp egress-only policy leaves ingress open",
	  KNP("prod", "web") "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - podSelector: {}\n",
	  { { WEB, DB, "1/TCP", 1 }, { WEB, CLIENT_DEV, "1/TCP", 0 }, { CLIENT_DEV, WEB, "80/TCP", 1 } } },
	{ "knp rules of a type not in policyTypes have no effect",
	  KNP("prod", "web") "  podSelector: {}\n  policyTypes: [Ingress]\n  egress:\n  - to:\n    - podSelector: {}\n",
	  { { WEB, CLIENT_DEV, "1/TCP", 1 }, { CLIENT, WEB, "80/TCP", 0 } } },
	{ "knp matchExpressions",
	  KNP("prod", "web") "  podSelector: {matchExpressions: [{key: app, operator: In, values: [web, db]}]}\n  ingress:\n  - from:\n    - podSelector:\n        matchExpressions:\n        - {key: app, operator: NotIn, values: [other]}\n        - {key: tier, operator: DoesNotExist}\n    - podSelector:\n        matchExpressions:\n        - {key: tier, operator: Exists}\n",
	  { { CLIENT, WEB, "80/TCP", 1 }, { OTHER, DB, "80/TCP", 0 }, { "app=client,tier=x," NS_PROD, WEB, "80/TCP", 1 },
	    { "app=other,tier=x," NS_PROD, DB, "80/TCP", 1 }, { OTHER, CLIENT, "80/TCP", 1 } } },
	{ "cnp fromEndpoints without namespace means same namespace",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - fromEndpoints:\n    - matchLabels: {app: client}\n",
	  { { CLIENT, WEB, "80/TCP", 1 }, { CLIENT_DEV, WEB, "80/TCP", 0 }, { CLIENT_DEV, WEB_DEV, "80/TCP", 1 } } },
	{ "cnp fromEndpoints naming another namespace",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        app: client\n        k8s:io.kubernetes.pod.namespace: dev\n",
	  { { CLIENT_DEV, WEB, "80/TCP", 1 }, { CLIENT, WEB, "80/TCP", 0 } } },
	{ "cnp L4-only rule has an L3 wildcard",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - toPorts:\n    - ports:\n      - {port: \"80\", protocol: TCP}\n",
	  { { CLIENT_DEV, WEB, "80/TCP", 1 }, { "1.2.3.4", WEB, "80/TCP", 1 }, { "reserved:host", WEB, "80/TCP", 1 },
	    { CLIENT, WEB, "81/TCP", 0 }, { CLIENT, WEB, "80/UDP", 0 } } },
	{ "cnp protocol ANY with a port",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - toPorts:\n    - ports:\n      - {port: \"53\"}\n",
	  { { CLIENT, WEB, "53/UDP", 1 }, { CLIENT, WEB, "53/TCP", 1 }, { CLIENT, WEB, "54/UDP", 0 } } },
	{ "cnp deny beats allow",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - fromEntities: [all]\n  ingressDeny:\n  - fromEndpoints:\n    - matchLabels: {app: other}\n    toPorts:\n    - ports: [{port: \"22\", protocol: TCP}]\n",
	  { { OTHER, WEB, "22/TCP", 0 }, { OTHER, WEB, "80/TCP", 1 }, { CLIENT, WEB, "22/TCP", 1 } } },
	{ "cnp deny across policies beats a more specific allow",
	  CNP("prod", "allow") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {app: client}}]\n    toPorts: [{ports: [{port: \"1500\", protocol: TCP}]}]\n---\n"
	  CCNP("deny-range") "  endpointSelector: {}\n  ingressDeny:\n  - fromEntities: [all]\n    toPorts: [{ports: [{port: \"1000\", endPort: 2000, protocol: TCP}]}]\n",
	  { { CLIENT, WEB, "1500/TCP", 0 }, { CLIENT, WEB, "80/TCP", 0 }, { CLIENT, DB, "80/TCP", 0 } } },
	{ "cnp ingressDeny alone puts the endpoint in default deny",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {app: other}}]\n",
	  { { OTHER, WEB, "80/TCP", 0 }, { CLIENT, WEB, "80/TCP", 0 } } },
	{ "cnp enableDefaultDeny false only adds",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  enableDefaultDeny: {ingress: false}\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {app: other}}]\n",
	  { { OTHER, WEB, "80/TCP", 0 }, { CLIENT, WEB, "80/TCP", 1 } } },
	{ "cnp empty ingress rule is default deny",
	  CNP("prod", "web") "  endpointSelector: {}\n  ingress:\n  - {}\n",
	  { { CLIENT, WEB, "80/TCP", 0 }, { WEB, "8.8.8.8", "443/TCP", 1 } } },
	{ "cnp entities world and cluster",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  egress:\n  - toEntities: [world]\n    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n  - toEntities: [cluster]\n",
	  { { WEB, "8.8.8.8", "443/TCP", 1 }, { WEB, "8.8.8.8", "80/TCP", 0 }, { WEB, CLIENT_DEV, "80/TCP", 1 },
	    { WEB, "reserved:host", "22/TCP", 1 }, { WEB, "reserved:remote-node", "22/TCP", 1 } } },
	{ "cnp entities host and kube-apiserver",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - fromEntities: [host]\n  egress:\n  - toEntities: [kube-apiserver]\n",
	  { { "reserved:host", WEB, "80/TCP", 1 }, { "reserved:remote-node", WEB, "80/TCP", 0 },
	    { WEB, "reserved:kube-apiserver", "443/TCP", 1 }, { WEB, "reserved:host", "443/TCP", 0 } } },
	{ "cnp world covers CIDR identities of other rules",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  egress:\n  - toEntities: [world]\n---\n"
	  CNP("prod", "db") "  endpointSelector: {matchLabels: {app: db}}\n  egress:\n  - toCIDR: [1.2.3.0/24]\n",
	  { { WEB, "1.2.3.4", "80/TCP", 1 }, { WEB, "9.9.9.9", "80/TCP", 1 }, { DB, "1.2.3.4", "80/TCP", 1 },
	    { DB, "1.2.4.4", "80/TCP", 0 } } },
	{ "cnp toCIDR and toCIDRSet with except",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  egress:\n  - toCIDR: [192.168.0.10/32]\n  - toCIDRSet:\n    - cidr: 10.0.0.0/8\n      except: [10.96.0.0/12]\n    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n",
	  { { WEB, "192.168.0.10", "22/TCP", 1 }, { WEB, "192.168.0.11", "22/TCP", 0 }, { WEB, "10.1.0.1", "443/TCP", 1 },
	    { WEB, "10.96.0.1", "443/TCP", 0 }, { WEB, "10.1.0.1", "80/TCP", 0 } } },
	{ "cnp fromCIDR ingress",
	  CNP("prod", "db") "  endpointSelector: {matchLabels: {app: db}}\n  ingress:\n  - fromCIDR: [10.99.0.0/24]\n",
	  { { "10.99.0.7", DB, "5432/TCP", 1 }, { "10.98.0.7", DB, "5432/TCP", 0 } } },
	{ "cnp icmp",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - icmps:\n    - fields:\n      - {type: 8, family: IPv4}\n      - {type: EchoRequest, family: IPv6}\n",
	  { { CLIENT, WEB, "8/ICMP", 1 }, { CLIENT, WEB, "3/ICMP", 0 }, { CLIENT, WEB, "128/ICMPv6", 1 },
	    { CLIENT, WEB, "8/TCP", 0 } } },
	{ "cnp specs: each rule has its own selector",
	  "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: two, namespace: prod}\nspecs:\n"
	  "- endpointSelector: {matchLabels: {app: web}}\n  ingress: [{fromEndpoints: [{matchLabels: {app: client}}]}]\n"
	  "- endpointSelector: {matchLabels: {app: db}}\n  ingress: [{fromEndpoints: [{matchLabels: {app: web}}]}]\n",
	  { { CLIENT, WEB, "80/TCP", 1 }, { CLIENT, DB, "80/TCP", 0 }, { WEB, DB, "5432/TCP", 1 }, { OTHER, WEB, "80/TCP", 0 } } },
	{ "cnp selects only its own namespace",
	  CNP("prod", "deny") "  endpointSelector: {}\n  ingress: [{}]\n",
	  { { CLIENT_DEV, WEB_DEV, "80/TCP", 1 }, { CLIENT_DEV, WEB, "80/TCP", 0 } } },
	{ "ccnp selects every namespace; {} peers are pods only",
	  CCNP("web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - fromEndpoints: [{}]\n",
	  { { CLIENT_DEV, WEB, "80/TCP", 1 }, { CLIENT, WEB_DEV, "80/TCP", 1 }, { "reserved:host", WEB, "80/TCP", 0 },
	    { "10.0.0.1", WEB, "80/TCP", 0 } } },
	{ "ccnp namespace labels",
	  CCNP("team-a") "  endpointSelector: {matchLabels: {io.cilium.k8s.namespace.labels.team: a}}\n  ingress:\n  - fromEndpoints:\n    - matchLabels: {io.cilium.k8s.namespace.labels.team: b}\n",
	  { { CLIENT_DEV, WEB, "80/TCP", 1 }, { CLIENT, WEB, "80/TCP", 0 }, { CLIENT, WEB_DEV, "80/TCP", 1 } } },
	{ "cnp reserved selector is not namespace-scoped",
	  CNP("prod", "web") "  endpointSelector: {matchLabels: {app: web}}\n  ingress:\n  - fromEndpoints:\n    - matchLabels: {\"reserved:host\": \"\"}\n",
	  { { "reserved:host", WEB, "80/TCP", 1 }, { CLIENT, WEB, "80/TCP", 0 } } },
	{ "both sides: egress of source and ingress of destination",
	  CNP("prod", "web-out") "  endpointSelector: {matchLabels: {app: web}}\n  egress:\n  - toEndpoints: [{matchLabels: {app: client}}]\n---\n"
	  CNP("prod", "db-in") "  endpointSelector: {matchLabels: {app: db}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {app: web}}]\n",
	  { { WEB, DB, "5432/TCP", 0 }, { WEB, CLIENT, "80/TCP", 1 }, { OTHER, DB, "5432/TCP", 0 }, { CLIENT, DB, "1/TCP", 0 } } },
	{ "json list of policies",
	  "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"apiVersion\": \"networking.k8s.io/v1\","
	  " \"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": \"x\", \"namespace\": \"prod\"},"
	  " \"spec\": {\"podSelector\": {}, \"ingress\": [{\"from\": [{\"podSelector\": {}}]}]}}]}",
	  { { CLIENT, WEB, "80/TCP", 1 }, { CLIENT_DEV, WEB, "80/TCP", 0 } } },
};
// clang-format on

static void test_cases(void **state)
{
	int failures = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t j = 0; j < 8 && cases[i].flows[j].src; j++) {
			const struct flow *f = &cases[i].flows[j];
			int got = th_trace(cases[i].yaml, f->src, f->dst, f->port);

			if (got != f->allowed) {
				fprintf(stderr,
					"FAIL %s: flow %zu %s -> %s %s: expected %s, got %s\n",
					cases[i].name, j, f->src, f->dst, f->port,
					f->allowed ? "allowed" : "denied",
					got < 0 ? "error"
					: got	? "allowed"
						: "denied");
				failures++;
			}
		}
	}
	assert_int_equal(failures, 0);
}

static const char *case_yaml(const char *name)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].name, name))
			return cases[i].yaml;
	fail_msg("no case %s", name);
	return NULL;
}

/* The deciding rules and the output formats of a trace. */
static void test_trace_output(void **state)
{
	struct policy_engine *e = policy_engine_new();
	struct trace_peer src, dst;
	struct trace_result r;
	char err[512], *text = NULL, *js;
	size_t len = 0;
	FILE *f;
	json_t *j;

	assert_true(th_load(e, case_yaml("cnp deny beats allow"), err, sizeof(err)));
	assert_true(trace_peer_parse(&src, OTHER, err, sizeof(err)));
	assert_true(trace_peer_parse(&dst, WEB, err, sizeof(err)));
	assert_int_equal(policy_trace(e, &src, &dst, 6, 22, &r), 0);
	assert_false(r.allowed);
	assert_true(r.egress.allowed);
	assert_int_equal(r.egress.reason, TRACE_NOT_SELECTED);
	assert_int_equal(r.ingress.reason, TRACE_DENIED);
	assert_int_equal(r.ingress.n_rules, 1);
	assert_string_equal(r.ingress.rules[0].policy, "CiliumNetworkPolicy prod/web");
	assert_string_equal(r.ingress.rules[0].origin, "spec.ingressDeny[0]");
	f = open_memstream(&text, &len);
	trace_print(f, &r, "a", "b");
	fclose(f);
	assert_true(!strncmp(text, "verdict: denied\n", 16));
	assert_non_null(strstr(text, "deny CiliumNetworkPolicy prod/web spec.ingressDeny[0]"));
	free(text);
	j = trace_to_json(&r);
	js = json_dumps(j, JSON_COMPACT);
	assert_true(!strncmp(js, "{\"verdict\":\"denied\",", 20));
	assert_non_null(strstr(js, "\"reason\":\"denied-by-rule\""));
	free(js);
	json_decref(j);
	trace_result_free(&r);
	/* The engine is left as it was: no temporary identity or endpoint remains. */
	assert_int_equal(policy_engine_identity_find(e, &src.labels), 0);
	assert_null(policy_engine_entries(e, 0xfffffff1u, &len));
	trace_peer_free(&src);
	trace_peer_free(&dst);
	policy_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_trace_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

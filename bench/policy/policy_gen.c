// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_gen: the synthetic cluster of bench/policy (10k identities, 1k policies), shared
 * with bench/sync so both measure the same shapes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench/policy/policy_gen.h"

/* Identity i: app-(i%500), tier t(i%10), namespace ns(i%20) with team label. */
void bench_identity_labels(struct label_set *ls, unsigned i)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "app=app-%u,tier=t%u,io.kubernetes.pod.namespace=ns%u,"
		 "io.cilium.k8s.namespace.labels.team=team%u",
		 i % 500, i % 10, i % 20, (i % 20) % 5);
	if (!label_set_parse(ls, text, NULL, 0))
		abort(); /* the generator's own text */
}

/*
 * A mix of what clusters hold: namespaced CNPs between apps, clusterwide tier rules that
 * select a tenth of all identities, NetworkPolicies with namespace selectors, CIDR sets
 * with excepts and deny rules. variant makes a changed version of the same policy.
 */
json_t *bench_make_policy(unsigned k, unsigned variant)
{
	char ns[16], app[32], peer[32], peer2[32], tier[16], tier2[16], cidr[32], exc[32];
	unsigned port = 443 + variant;

	snprintf(ns, sizeof(ns), "ns%u", k % 20);
	snprintf(app, sizeof(app), "app-%u", k % 500);
	snprintf(peer, sizeof(peer), "app-%u", (k * 7 + variant) % 500);
	snprintf(peer2, sizeof(peer2), "app-%u", (k * 13) % 500);
	snprintf(tier, sizeof(tier), "t%u", (k / 10) % 10);
	snprintf(tier2, sizeof(tier2), "t%u", (k / 10 + 1 + variant) % 10);
	snprintf(cidr, sizeof(cidr), "10.%u.0.0/16", k % 256);
	snprintf(exc, sizeof(exc), "10.%u.1.0/24", k % 256);

	switch (k % 10) {
	case 0:
		return json_pack(
		    "{s:s,s:s,s:{s:s},s:{s:{s:{s:s}},s:[{s:[{s:{s:s}}],s:[{s:[{s:s,s:i,s:s}]}]}]}}",
		    "apiVersion", "cilium.io/v2", "kind", "CiliumClusterwideNetworkPolicy",
		    "metadata", "name", app, "spec", "endpointSelector", "matchLabels", "tier",
		    tier, "ingress", "fromEndpoints", "matchLabels", "tier", tier2, "toPorts",
		    "ports", "port", "8000", "endPort", 8000 + port % 100, "protocol", "TCP");
	case 7:
		return json_pack(
		    "{s:s,s:s,s:{s:s,s:s},s:{s:{s:{s:s}},s:[{s:[{s:{s:{s:s}}}],s:[{s:i}]}]}}",
		    "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata",
		    "name", app, "namespace", ns, "spec", "podSelector", "matchLabels", "app", app,
		    "ingress", "from", "namespaceSelector", "matchLabels", "team",
		    variant ? "team1" : "team2", "ports", "port", port);
	case 8:
		return json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:{s:{s:s}},s:[{s:[{s:s,s:[s]}]}]}}",
				 "apiVersion", "cilium.io/v2", "kind", "CiliumNetworkPolicy",
				 "metadata", "name", app, "namespace", ns, "spec",
				 "endpointSelector", "matchLabels", "app", app, "egress",
				 "toCIDRSet", "cidr", cidr, "except", exc);
	case 9:
		return json_pack(
		    "{s:s,s:s,s:{s:s,s:s},s:{s:{s:{s:s}},s:[{s:[{s:{s:s}}],s:[{s:[{s:s,s:s}]}]}]}}",
		    "apiVersion", "cilium.io/v2", "kind", "CiliumNetworkPolicy", "metadata", "name",
		    app, "namespace", ns, "spec", "endpointSelector", "matchLabels", "app", app,
		    "ingressDeny", "fromEndpoints", "matchLabels", "app", peer2, "toPorts", "ports",
		    "port", "22", "protocol", "TCP");
	default:
		return json_pack(
		    "{s:s,s:s,s:{s:s,s:s},s:{s:{s:{s:s}},s:[{s:[{s:{s:s}}],s:[{s:[{s:s,s:s}]}]}],s:"
		    "[{s:[{s:[{s:s,s:s,s:[s,s]}]}],s:[{s:[{s:s,s:s}]}]}]}}",
		    "apiVersion", "cilium.io/v2", "kind", "CiliumNetworkPolicy", "metadata", "name",
		    app, "namespace", ns, "spec", "endpointSelector", "matchLabels", "app", app,
		    "ingress", "fromEndpoints", "matchLabels", "app", peer, "toPorts", "ports",
		    "port", variant ? "8443" : "443", "protocol", "TCP", "egress", "toEndpoints",
		    "matchExpressions", "key", "app", "operator", "In", "values", peer, peer2,
		    "toPorts", "ports", "port", "5432", "protocol", "TCP");
	}
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * networking.k8s.io/v1 NetworkPolicy: podSelector, policyTypes, ingress[].from[] and
 * egress[].to[] peers (podSelector, namespaceSelector, ipBlock) and ports.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/policy_entry.h"
#include "policy/err.h"
#include "policy/labels.h"
#include "policy/parse_internal.h"

static const struct policy_parse_field top_fields[] = {
    {"apiVersion", NULL}, {"kind", NULL},   {"metadata", NULL},
    {"spec", NULL},	  {"status", NULL}, {NULL, NULL},
};

static const struct policy_parse_field spec_fields[] = {
    {"podSelector", NULL}, {"policyTypes", NULL}, {"ingress", NULL}, {"egress", NULL}, {NULL, NULL},
};

static const struct policy_parse_field ingress_fields[] = {
    {"from", NULL},
    {"ports", NULL},
    {NULL, NULL},
};

static const struct policy_parse_field egress_fields[] = {
    {"to", NULL},
    {"ports", NULL},
    {NULL, NULL},
};

static const struct policy_parse_field peer_fields[] = {
    {"podSelector", NULL},
    {"namespaceSelector", NULL},
    {"ipBlock", NULL},
    {NULL, NULL},
};

static const struct policy_parse_field ipblock_fields[] = {
    {"cidr", NULL},
    {"except", NULL},
    {NULL, NULL},
};

static const struct policy_parse_field port_fields[] = {
    {"protocol", NULL},
    {"port", NULL},
    {"endPort", NULL},
    {NULL, NULL},
};

static bool parse_peer(struct policy *p, struct policy_rule *r, const json_t *v, const char *path,
		       char *err, size_t err_len)
{
	json_t *pod = json_object_get(v, "podSelector");
	json_t *ns = json_object_get(v, "namespaceSelector");
	json_t *ipb = json_object_get(v, "ipBlock");
	struct policy_peer *peer;
	struct selector nssel;
	char sub[300];

	if (!json_is_object(v))
		return policy_err_set(
		    err, err_len,
		    "%s: expected an object {podSelector, namespaceSelector, ipBlock}", path);
	if (!policy_parse_check_fields(v, peer_fields, path, err, err_len))
		return false;
	if (json_is_null(pod))
		pod = NULL;
	if (json_is_null(ns))
		ns = NULL;
	if (json_is_null(ipb))
		ipb = NULL;
	if (ipb) {
		const char *cidr;

		policy_err_path(sub, sizeof(sub), "%s.ipBlock", path);
		if (pod || ns)
			return policy_err_set(err, err_len,
					      "%s: ipBlock cannot be combined with podSelector or "
					      "namespaceSelector in one peer",
					      path);
		if (!json_is_object(ipb))
			return policy_err_set(err, err_len, "%s: expected {cidr, except}", sub);
		if (!policy_parse_check_fields(ipb, ipblock_fields, sub, err, err_len))
			return false;
		cidr = json_string_value(json_object_get(ipb, "cidr"));
		if (!cidr)
			return policy_err_set(err, err_len, "%s.cidr: missing; expected a prefix",
					      sub);
		return policy_parse_cidr_peer(r, cidr, json_object_get(ipb, "except"), sub, err,
					      err_len);
	}
	if (!pod && !ns)
		return policy_err_set(err, err_len,
				      "%s: empty peer; expected podSelector, namespaceSelector or "
				      "ipBlock",
				      path);
	peer = policy_parse_peer_add(r);
	if (!peer)
		return policy_err_set(err, err_len, "%s: out of memory", path);
	peer->kind = POLICY_PEER_SELECTOR;
	if (pod) {
		policy_err_path(sub, sizeof(sub), "%s.podSelector", path);
		if (!selector_parse(&peer->sel, pod, LABEL_SOURCE_K8S, NULL, sub, err, err_len))
			return false;
	}
	if (!ns) {
		const char *nsname = p->namespace_;

		/* podSelector alone: pods of the policy's own namespace. */
		if (!selector_add(&peer->sel, LABEL_SOURCE_K8S, LABEL_POD_NAMESPACE, SELECTOR_IN,
				  &nsname, 1))
			return policy_err_set(err, err_len, "%s: out of memory", path);
		return true;
	}
	policy_err_path(sub, sizeof(sub), "%s.namespaceSelector", path);
	if (!selector_parse(&nssel, ns, LABEL_SOURCE_K8S, LABEL_NAMESPACE_LABELS_PREFIX, sub, err,
			    err_len))
		return false;
	/* Only endpoints that are pods (have a namespace) are in any namespace. */
	if (!selector_and(&peer->sel, &nssel) ||
	    !selector_add(&peer->sel, LABEL_SOURCE_K8S, LABEL_POD_NAMESPACE, SELECTOR_EXISTS, NULL,
			  0)) {
		selector_free(&nssel);
		return policy_err_set(err, err_len, "%s: out of memory", path);
	}
	selector_free(&nssel);
	return true;
}

static bool parse_port(struct policy_rule *r, const json_t *v, const char *path, char *err,
		       size_t err_len)
{
	json_t *pv = json_object_get(v, "port"), *ev = json_object_get(v, "endPort");
	const char *proto_s;
	uint16_t lo = 0, hi = 0;
	uint8_t proto;
	char sub[300];

	if (!json_is_object(v))
		return policy_err_set(err, err_len,
				      "%s: expected an object {protocol, port, endPort}", path);
	if (!policy_parse_check_fields(v, port_fields, path, err, err_len))
		return false;
	proto_s = json_string_value(json_object_get(v, "protocol"));
	if (json_object_get(v, "protocol") && !json_is_null(json_object_get(v, "protocol")) &&
	    !proto_s)
		return policy_err_set(err, err_len, "%s.protocol: expected TCP, UDP or SCTP", path);
	if (!proto_s || !strcmp(proto_s, "TCP"))
		proto = IPPROTO_TCP;
	else if (!strcmp(proto_s, "UDP"))
		proto = IPPROTO_UDP;
	else if (!strcmp(proto_s, "SCTP"))
		proto = IPPROTO_SCTP;
	else
		return policy_err_set(
		    err, err_len, "%s.protocol: \"%s\"; expected TCP, UDP or SCTP", path, proto_s);
	policy_err_path(sub, sizeof(sub), "%s.port", path);
	if (pv && !json_is_null(pv) && !policy_parse_port_number(pv, &lo, sub, err, err_len))
		return false;
	hi = lo;
	if (ev && !json_is_null(ev)) {
		long long e = json_is_integer(ev) ? json_integer_value(ev) : -1;

		if (!lo)
			return policy_err_set(err, err_len, "%s.endPort: needs a numeric port",
					      path);
		if (e < lo || e > 65535)
			return policy_err_set(
			    err, err_len, "%s.endPort: expected an integer from port (%u) to 65535",
			    path, lo);
		hi = (uint16_t)e;
	}
	if (!policy_parse_port_add(r, proto, lo, hi))
		return policy_err_set(err, err_len, "%s: out of memory", path);
	return true;
}

static bool parse_rules(struct policy *p, struct policy_spec *spec, const json_t *arr, bool egress,
			char *err, size_t err_len)
{
	const char *section = egress ? "egress" : "ingress";
	const char *peers_key = egress ? "to" : "from";
	char path[64], sub[128];
	json_t *v, *peers, *ports, *x;
	size_t i, j;

	json_array_foreach(arr, i, v)
	{
		struct policy_rule *r;

		policy_err_path(path, sizeof(path), "spec.%s[%zu]", section, i);
		if (!json_is_object(v))
			return policy_err_set(err, err_len, "%s: expected a rule object", path);
		if (!policy_parse_check_fields(v, egress ? egress_fields : ingress_fields, path,
					       err, err_len))
			return false;
		r = policy_parse_rule_add(spec);
		if (!r)
			return policy_err_set(err, err_len, "%s: out of memory", path);
		r->direction = egress ? POLICY_EGRESS : POLICY_INGRESS;
		policy_err_path(r->origin, sizeof(r->origin), "%s", path);
		peers = json_object_get(v, peers_key);
		ports = json_object_get(v, "ports");
		if (peers && !json_is_null(peers) && !json_is_array(peers))
			return policy_err_set(err, err_len, "%s.%s: expected an array of peers",
					      path, peers_key);
		if (ports && !json_is_null(ports) && !json_is_array(ports))
			return policy_err_set(err, err_len, "%s.ports: expected an array", path);
		json_array_foreach(peers, j, x)
		{
			policy_err_path(sub, sizeof(sub), "%s.%s[%zu]", path, peers_key, j);
			if (!parse_peer(p, r, x, sub, err, err_len))
				return false;
		}
		json_array_foreach(ports, j, x)
		{
			policy_err_path(sub, sizeof(sub), "%s.ports[%zu]", path, j);
			if (!parse_port(r, x, sub, err, err_len))
				return false;
		}
		/* No peers: every source/destination; no ports: every port (Kubernetes). */
		if (!r->n_peers)
			r->l3_any = true;
	}
	return true;
}

bool policy_parse_parse_knp(struct policy *p, const json_t *obj, char *err, size_t err_len)
{
	const json_t *spec = json_object_get(obj, "spec");
	json_t *types, *ingress, *egress, *v;
	struct policy_spec *ps;
	const char *ns = p->namespace_;
	size_t i;

	if (!policy_parse_check_fields(obj, top_fields, "", err, err_len))
		return false;
	if (!json_is_object(spec))
		return policy_err_set(err, err_len, "spec: missing or not an object");
	if (!policy_parse_check_fields(spec, spec_fields, "spec", err, err_len))
		return false;
	p->specs = calloc(1, sizeof(*p->specs));
	if (!p->specs)
		return policy_err_set(err, err_len, "out of memory");
	p->n_specs = 1;
	ps = &p->specs[0];
	if (!json_object_get(spec, "podSelector"))
		return policy_err_set(
		    err, err_len,
		    "spec.podSelector: missing; expected a label selector ({} selects "
		    "every pod of the namespace)");
	if (!selector_parse(&ps->subject, json_object_get(spec, "podSelector"), LABEL_SOURCE_K8S,
			    NULL, "spec.podSelector", err, err_len))
		return false;
	if (!selector_add(&ps->subject, LABEL_SOURCE_K8S, LABEL_POD_NAMESPACE, SELECTOR_IN, &ns, 1))
		return policy_err_set(err, err_len, "out of memory");

	ingress = json_object_get(spec, "ingress");
	egress = json_object_get(spec, "egress");
	if (ingress && !json_is_null(ingress) && !json_is_array(ingress))
		return policy_err_set(err, err_len, "spec.ingress: expected an array of rules");
	if (egress && !json_is_null(egress) && !json_is_array(egress))
		return policy_err_set(err, err_len, "spec.egress: expected an array of rules");

	types = json_object_get(spec, "policyTypes");
	if (types && !json_is_null(types)) {
		if (!json_is_array(types))
			return policy_err_set(err, err_len,
					      "spec.policyTypes: expected a list of "
					      "Ingress/Egress");
		json_array_foreach(types, i, v)
		{
			const char *t = json_string_value(v);

			if (t && !strcmp(t, "Ingress"))
				ps->enforce[POLICY_INGRESS] = true;
			else if (t && !strcmp(t, "Egress"))
				ps->enforce[POLICY_EGRESS] = true;
			else
				return policy_err_set(
				    err, err_len,
				    "spec.policyTypes[%zu]: expected Ingress or Egress", i);
		}
	} else {
		/* Kubernetes' default: every policy affects ingress; egress when it has an
		 * egress section. */
		ps->enforce[POLICY_INGRESS] = true;
		ps->enforce[POLICY_EGRESS] = json_is_array(egress) && json_array_size(egress);
	}
	/* Rules of a direction the policy does not affect have no effect in Kubernetes;
	 * they are still validated, then dropped. */
	if (json_is_array(ingress) && !parse_rules(p, ps, ingress, false, err, err_len))
		return false;
	if (json_is_array(egress) && !parse_rules(p, ps, egress, true, err, err_len))
		return false;
	for (size_t r = 0; r < ps->n_rules;) {
		if (ps->enforce[ps->rules[r].direction]) {
			r++;
			continue;
		}
		for (size_t k = 0; k < ps->rules[r].n_peers; k++) {
			selector_free(&ps->rules[r].peers[k].sel);
			free(ps->rules[r].peers[k].except);
		}
		free(ps->rules[r].peers);
		free(ps->rules[r].ports);
		memmove(&ps->rules[r], &ps->rules[r + 1],
			(ps->n_rules - r - 1) * sizeof(ps->rules[0]));
		ps->n_rules--;
	}
	return true;
}

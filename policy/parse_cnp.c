// SPDX-License-Identifier: GPL-2.0-only
/*
 * CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2): spec and/or
 * specs[], each an endpointSelector with ingress, ingressDeny, egress, egressDeny rules.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/policy_entry.h"
#include "policy/err.h"
#include "policy/labels.h"
#include "policy/parse_internal.h"

#define L7 "L7 rules are not supported (pseudopod enforces L3/L4 only)"

static const struct policy_parse_field top_fields[] = {
    {"apiVersion", NULL}, {"kind", NULL},   {"metadata", NULL}, {"spec", NULL},
    {"specs", NULL},	  {"status", NULL}, {NULL, NULL},
};

static const struct policy_parse_field spec_fields[] = {
    {"endpointSelector", NULL},
    {"ingress", NULL},
    {"ingressDeny", NULL},
    {"egress", NULL},
    {"egressDeny", NULL},
    {"labels", NULL},
    {"description", NULL},
    {"enableDefaultDeny", NULL},
    {"nodeSelector", "host policies (nodeSelector) are not supported; use endpointSelector"},
    {NULL, NULL},
};

static const struct policy_parse_field ingress_fields[] = {
    {"fromEndpoints", NULL},
    {"fromCIDR", NULL},
    {"fromCIDRSet", NULL},
    {"fromEntities", NULL},
    {"toPorts", NULL},
    {"icmps", NULL},
    {"fromRequires", "fromRequires is not supported (deprecated in Cilium)"},
    {"fromNodes", "fromNodes is not supported"},
    {"fromGroups", "fromGroups (cloud provider groups) is not supported"},
    {"authentication", "mutual authentication is not supported"},
    {NULL, NULL},
};

static const struct policy_parse_field egress_fields[] = {
    {"toEndpoints", NULL},
    {"toCIDR", NULL},
    {"toCIDRSet", NULL},
    {"toEntities", NULL},
    {"toPorts", NULL},
    {"icmps", NULL},
    {"toRequires", "toRequires is not supported (deprecated in Cilium)"},
    {"toFQDNs", "toFQDNs (DNS-based rules) is not supported; use toCIDR/toCIDRSet"},
    {"toServices", "toServices is not supported; select the backends with toEndpoints"},
    {"toNodes", "toNodes is not supported"},
    {"toGroups", "toGroups (cloud provider groups) is not supported"},
    {"authentication", "mutual authentication is not supported"},
    {NULL, NULL},
};

static const struct policy_parse_field port_rule_fields[] = {
    {"ports", NULL},
    {"rules", L7},
    {"terminatingTLS", "TLS interception is not supported"},
    {"originatingTLS", "TLS interception is not supported"},
    {"serverNames", "serverNames (TLS SNI) is not supported"},
    {"listener", "Envoy listeners are not supported"},
    {NULL, NULL},
};

static const struct policy_parse_field port_fields[] = {
    {"port", NULL},
    {"endPort", NULL},
    {"protocol", NULL},
    {NULL, NULL},
};

static const struct policy_parse_field icmp_fields[] = {{"fields", NULL}, {NULL, NULL}};
static const struct policy_parse_field icmp_field_fields[] = {
    {"type", NULL},
    {"family", NULL},
    {NULL, NULL},
};
static const struct policy_parse_field cidrset_fields[] = {
    {"cidr", NULL},
    {"except", NULL},
    {"cidrGroupRef", "cidrGroupRef (CiliumCIDRGroup) is not supported; list the cidr"},
    {"cidrGroupSelector", "cidrGroupSelector (CiliumCIDRGroup) is not supported"},
    {NULL, NULL},
};

struct cnp_ctx {
	struct policy *p;
	char *err;
	size_t err_len;
};

/* An array member that may be absent or null; false (error set) when it is something else. */
static bool get_array(const json_t *obj, const char *key, json_t **out, const char *path, char *err,
		      size_t err_len)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_array(v))
		return policy_err_set(err, err_len, "%s.%s: expected an array", path, key);
	*out = v;
	return true;
}

/*
 * Cilium's scoping of a peer endpoint selector: reserved selectors stay as they are; one
 * that does not name the namespace label is limited to the policy's namespace (or, in a
 * clusterwide policy, to endpoints that have a namespace at all).
 */
static bool scope_peer_selector(struct selector *sel, const char *ns)
{
	for (size_t i = 0; i < sel->n; i++)
		if (sel->reqs[i].source && !strcmp(sel->reqs[i].source, LABEL_SOURCE_RESERVED))
			return true;
	if (selector_has_key(sel, LABEL_POD_NAMESPACE))
		return true;
	if (*ns)
		return selector_add(sel, LABEL_SOURCE_K8S, LABEL_POD_NAMESPACE, SELECTOR_IN, &ns,
				    1);
	return selector_add(sel, LABEL_SOURCE_K8S, LABEL_POD_NAMESPACE, SELECTOR_EXISTS, NULL, 0);
}

static bool parse_entity(const char *name, unsigned *bit)
{
	static const char *const names[] = {
	    "world",	      "world-ipv4", "world-ipv6", "cluster", "host",	  "remote-node",
	    "kube-apiserver", "health",	    "init",	  "ingress", "unmanaged", "all",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(names[i], name)) {
			*bit = 1u << i;
			return true;
		}
	}
	return false;
}

static bool parse_l3(struct cnp_ctx *c, struct policy_rule *r, const json_t *rule,
		     const char *prefix, const char *path)
{
	char key[32], sub[256];
	json_t *arr, *v;
	size_t i;

	policy_err_path(key, sizeof(key), "%sEndpoints", prefix);
	if (!get_array(rule, key, &arr, path, c->err, c->err_len))
		return false;
	json_array_foreach(arr, i, v)
	{
		struct policy_peer *peer = policy_parse_peer_add(r);

		policy_err_path(sub, sizeof(sub), "%s.%s[%zu]", path, key, i);
		if (!peer)
			return policy_err_set(c->err, c->err_len, "%s: out of memory", sub);
		peer->kind = POLICY_PEER_SELECTOR;
		if (!selector_parse(&peer->sel, v, NULL, NULL, sub, c->err, c->err_len))
			return false;
		if (!scope_peer_selector(&peer->sel, c->p->namespace_))
			return policy_err_set(c->err, c->err_len, "%s: out of memory", sub);
	}

	policy_err_path(key, sizeof(key), "%sEntities", prefix);
	if (!get_array(rule, key, &arr, path, c->err, c->err_len))
		return false;
	if (arr && json_array_size(arr)) {
		struct policy_peer *peer = policy_parse_peer_add(r);

		if (!peer)
			return policy_err_set(c->err, c->err_len, "%s: out of memory", path);
		peer->kind = POLICY_PEER_ENTITY;
		json_array_foreach(arr, i, v)
		{
			const char *name = json_string_value(v);
			unsigned bit;

			if (!name || !parse_entity(name, &bit))
				return policy_err_set(
				    c->err, c->err_len,
				    "%s.%s[%zu]: unknown entity%s%s; expected world, "
				    "world-ipv4, world-ipv6, cluster, host, remote-node, "
				    "kube-apiserver, health, init, ingress, unmanaged "
				    "or all",
				    path, key, i, name ? " " : "", name ? name : "");
			peer->entities |= bit;
		}
	}

	policy_err_path(key, sizeof(key), "%sCIDR", prefix);
	if (!get_array(rule, key, &arr, path, c->err, c->err_len))
		return false;
	json_array_foreach(arr, i, v)
	{
		policy_err_path(sub, sizeof(sub), "%s.%s[%zu]", path, key, i);
		if (!json_is_string(v))
			return policy_err_set(c->err, c->err_len, "%s: expected a prefix string",
					      sub);
		if (!policy_parse_cidr_peer(r, json_string_value(v), NULL, sub, c->err, c->err_len))
			return false;
	}

	policy_err_path(key, sizeof(key), "%sCIDRSet", prefix);
	if (!get_array(rule, key, &arr, path, c->err, c->err_len))
		return false;
	json_array_foreach(arr, i, v)
	{
		const char *cidr;

		policy_err_path(sub, sizeof(sub), "%s.%s[%zu]", path, key, i);
		if (!json_is_object(v))
			return policy_err_set(c->err, c->err_len,
					      "%s: expected an object {cidr, except}", sub);
		if (!policy_parse_check_fields(v, cidrset_fields, sub, c->err, c->err_len))
			return false;
		cidr = json_string_value(json_object_get(v, "cidr"));
		if (!cidr)
			return policy_err_set(c->err, c->err_len,
					      "%s.cidr: missing; expected a prefix", sub);
		if (!policy_parse_cidr_peer(r, cidr, json_object_get(v, "except"), sub, c->err,
					    c->err_len))
			return false;
	}
	return true;
}

static bool parse_protocol(const json_t *v, uint8_t *proto, const char *path, char *err,
			   size_t err_len)
{
	const char *s;

	if (!v || json_is_null(v)) {
		*proto = POLICY_PROTO_ANY;
		return true;
	}
	s = json_string_value(v);
	if (s && !strcmp(s, "TCP"))
		*proto = IPPROTO_TCP;
	else if (s && !strcmp(s, "UDP"))
		*proto = IPPROTO_UDP;
	else if (s && !strcmp(s, "SCTP"))
		*proto = IPPROTO_SCTP;
	else if (s && !strcmp(s, "ANY"))
		*proto = POLICY_PROTO_ANY;
	else
		return policy_err_set(err, err_len, "%s: expected TCP, UDP, SCTP or ANY", path);
	return true;
}

/* ANY with a port means the port on every port-carrying protocol, as in Cilium. */
static bool add_ports(struct policy_rule *r, uint8_t proto, uint16_t lo, uint16_t hi)
{
	if (proto != POLICY_PROTO_ANY || (lo == 0 && hi == 0))
		return policy_parse_port_add(r, proto, lo, hi);
	return policy_parse_port_add(r, IPPROTO_TCP, lo, hi) &&
	       policy_parse_port_add(r, IPPROTO_UDP, lo, hi) &&
	       policy_parse_port_add(r, IPPROTO_SCTP, lo, hi);
}

static bool parse_port(struct cnp_ctx *c, struct policy_rule *r, const json_t *v, const char *path)
{
	uint16_t lo = 0, hi = 0;
	json_t *port, *end;
	uint8_t proto = POLICY_PROTO_ANY;
	char sub[300];

	if (!json_is_object(v))
		return policy_err_set(c->err, c->err_len, "%s: expected an object {port, protocol}",
				      path);
	if (!policy_parse_check_fields(v, port_fields, path, c->err, c->err_len))
		return false;
	policy_err_path(sub, sizeof(sub), "%s.protocol", path);
	if (!parse_protocol(json_object_get(v, "protocol"), &proto, sub, c->err, c->err_len))
		return false;
	port = json_object_get(v, "port");
	end = json_object_get(v, "endPort");
	policy_err_path(sub, sizeof(sub), "%s.port", path);
	if (port && !json_is_null(port) &&
	    !policy_parse_port_number(port, &lo, sub, c->err, c->err_len))
		return false;
	hi = lo;
	if (end && !json_is_null(end)) {
		long long e = json_is_integer(end) ? json_integer_value(end) : -1;

		if (e < 0 || e > 65535)
			return policy_err_set(
			    c->err, c->err_len,
			    "%s.endPort: expected an integer port number 0..65535", path);
		if (e && !lo)
			return policy_err_set(c->err, c->err_len,
					      "%s.endPort: needs a port (the start of the range)",
					      path);
		if (e && e < lo)
			return policy_err_set(
			    c->err, c->err_len,
			    "%s.endPort: %lld is below port %u; expected endPort >= "
			    "port",
			    path, e, lo);
		if (e)
			hi = (uint16_t)e;
	}
	if (!add_ports(r, proto, lo, hi))
		return policy_err_set(c->err, c->err_len, "%s: out of memory", path);
	return true;
}

static bool parse_to_ports(struct cnp_ctx *c, struct policy_rule *r, const json_t *arr,
			   const char *path)
{
	char sub[256], sub2[300];
	json_t *v, *p, *ports;
	size_t i, j;

	json_array_foreach(arr, i, v)
	{
		policy_err_path(sub, sizeof(sub), "%s.toPorts[%zu]", path, i);
		if (!json_is_object(v))
			return policy_err_set(c->err, c->err_len, "%s: expected an object {ports}",
					      sub);
		if (!policy_parse_check_fields(v, port_rule_fields, sub, c->err, c->err_len))
			return false;
		ports = json_object_get(v, "ports");
		if (!json_is_array(ports) || !json_array_size(ports))
			return policy_err_set(c->err, c->err_len,
					      "%s.ports: missing or empty; expected a list of "
					      "{port, protocol}",
					      sub);
		json_array_foreach(ports, j, p)
		{
			policy_err_path(sub2, sizeof(sub2), "%s.ports[%zu]", sub, j);
			if (!parse_port(c, r, p, sub2))
				return false;
		}
	}
	return true;
}

static bool parse_icmp_type(const json_t *v, bool v6, uint16_t *type)
{
	static const struct {
		const char *name;
		uint8_t v4, v6;
	} names[] = {
	    {"EchoReply", 0, 129},
	    {"DestinationUnreachable", 3, 1},
	    {"Redirect", 5, 137},
	    {"EchoRequest", 8, 128},
	    {"TimeExceeded", 11, 3},
	    {"ParameterProblem", 12, 4},
	    {"PacketTooBig", 255, 2},
	    {"RouterAdvertisement", 9, 134},
	    {"RouterSolicitation", 10, 133},
	    {"NeighborSolicitation", 255, 135},
	    {"NeighborAdvertisement", 255, 136},
	};
	const char *s = json_string_value(v);

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > 255)
			return false;
		*type = (uint16_t)json_integer_value(v);
		return true;
	}
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t t = v6 ? names[i].v6 : names[i].v4;

		if (!strcmp(names[i].name, s) && t != 255) {
			*type = t;
			return true;
		}
	}
	return false;
}

static bool parse_icmps(struct cnp_ctx *c, struct policy_rule *r, const json_t *arr,
			const char *path)
{
	char sub[256], sub2[300];
	json_t *v, *f, *fields;
	size_t i, j;

	json_array_foreach(arr, i, v)
	{
		policy_err_path(sub, sizeof(sub), "%s.icmps[%zu]", path, i);
		if (!json_is_object(v))
			return policy_err_set(c->err, c->err_len, "%s: expected an object {fields}",
					      sub);
		if (!policy_parse_check_fields(v, icmp_fields, sub, c->err, c->err_len))
			return false;
		fields = json_object_get(v, "fields");
		if (!json_is_array(fields) || !json_array_size(fields))
			return policy_err_set(c->err, c->err_len,
					      "%s.fields: missing or empty; expected a list of "
					      "{type, family}",
					      sub);
		json_array_foreach(fields, j, f)
		{
			const char *fam;
			uint16_t type;
			bool v6 = false;

			policy_err_path(sub2, sizeof(sub2), "%s.fields[%zu]", sub, j);
			if (!json_is_object(f))
				return policy_err_set(c->err, c->err_len,
						      "%s: expected an object {type, family}",
						      sub2);
			if (!policy_parse_check_fields(f, icmp_field_fields, sub2, c->err,
						       c->err_len))
				return false;
			fam = json_string_value(json_object_get(f, "family"));
			if (json_object_get(f, "family") &&
			    (!fam || (strcmp(fam, "IPv4") && strcmp(fam, "IPv6"))))
				return policy_err_set(c->err, c->err_len,
						      "%s.family: expected IPv4 or IPv6", sub2);
			v6 = fam && !strcmp(fam, "IPv6");
			if (!parse_icmp_type(json_object_get(f, "type"), v6, &type))
				return policy_err_set(
				    c->err, c->err_len,
				    "%s.type: expected an ICMP type 0..255 or a name "
				    "such as EchoRequest",
				    sub2);
			/* The policy map writes an ICMP type where a port goes, and port 0
			 * means "every port" there, so type 0 would silently become every
			 * ICMP type. Echo replies pass through conntrack anyway. */
			if (type == 0)
				return policy_err_set(
				    c->err, c->err_len,
				    "%s.type: ICMP type 0 (EchoReply) cannot be "
				    "expressed in the policy map; replies to allowed "
				    "echo requests are allowed by connection tracking",
				    sub2);
			if (!policy_parse_port_add(r, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, type,
						   type))
				return policy_err_set(c->err, c->err_len, "%s: out of memory",
						      sub2);
		}
	}
	return true;
}

static bool parse_rule(struct cnp_ctx *c, struct policy_spec *spec, const json_t *rule,
		       const char *section, size_t index, const char *spec_path)
{
	bool egress = !strncmp(section, "egress", 6);
	bool deny = strstr(section, "Deny") != NULL;
	struct policy_rule *r;
	json_t *to_ports, *icmps;
	char path[200];

	policy_err_path(path, sizeof(path), "%s.%s[%zu]", spec_path, section, index);
	if (!json_is_object(rule))
		return policy_err_set(c->err, c->err_len, "%s: expected a rule object", path);
	if (!policy_parse_check_fields(rule, egress ? egress_fields : ingress_fields, path, c->err,
				       c->err_len))
		return false;
	r = policy_parse_rule_add(spec);
	if (!r)
		return policy_err_set(c->err, c->err_len, "%s: out of memory", path);
	r->direction = egress ? POLICY_EGRESS : POLICY_INGRESS;
	r->deny = deny;
	policy_err_path(r->origin, sizeof(r->origin), "%s", path);
	if (!parse_l3(c, r, rule, egress ? "to" : "from", path))
		return false;
	if (!get_array(rule, "toPorts", &to_ports, path, c->err, c->err_len) ||
	    !get_array(rule, "icmps", &icmps, path, c->err, c->err_len))
		return false;
	if (to_ports && json_array_size(to_ports) && icmps && json_array_size(icmps))
		return policy_err_set(c->err, c->err_len,
				      "%s: toPorts and icmps cannot be combined in one rule (as in "
				      "Cilium); write two rules",
				      path);
	if (to_ports && !parse_to_ports(c, r, to_ports, path))
		return false;
	if (icmps && !parse_icmps(c, r, icmps, path))
		return false;
	/* L4-only rule: Cilium gives it an L3 wildcard (every identity, world included). */
	if (!r->n_peers && r->n_ports)
		r->l3_any = true;
	return true;
}

static bool parse_spec(struct cnp_ctx *c, const json_t *spec_obj, const char *spec_path)
{
	static const char *const sections[] = {"ingress", "ingressDeny", "egress", "egressDeny"};
	struct policy_spec *grown, *spec;
	bool has_rules[2] = {false, false};
	json_t *sel, *dd, *arr, *v;
	char sub[200];
	size_t i;

	if (!json_is_object(spec_obj))
		return policy_err_set(c->err, c->err_len, "%s: expected an object", spec_path);
	if (!policy_parse_check_fields(spec_obj, spec_fields, spec_path, c->err, c->err_len))
		return false;
	grown = realloc(c->p->specs, (c->p->n_specs + 1) * sizeof(*grown));
	if (!grown)
		return policy_err_set(c->err, c->err_len, "%s: out of memory", spec_path);
	c->p->specs = grown;
	spec = &grown[c->p->n_specs++];
	memset(spec, 0, sizeof(*spec));

	sel = json_object_get(spec_obj, "endpointSelector");
	policy_err_path(sub, sizeof(sub), "%s.endpointSelector", spec_path);
	if (!sel)
		return policy_err_set(c->err, c->err_len,
				      "%s: missing; expected a label selector ({} selects every "
				      "endpoint)",
				      sub);
	if (!selector_parse(&spec->subject, sel, NULL, NULL, sub, c->err, c->err_len))
		return false;
	if (*c->p->namespace_) {
		const char *ns = c->p->namespace_;

		if (!selector_add(&spec->subject, LABEL_SOURCE_K8S, LABEL_POD_NAMESPACE,
				  SELECTOR_IN, &ns, 1))
			return policy_err_set(c->err, c->err_len, "%s: out of memory", sub);
	}

	for (unsigned s = 0; s < 4; s++) {
		if (!get_array(spec_obj, sections[s], &arr, spec_path, c->err, c->err_len))
			return false;
		json_array_foreach(arr, i, v)
		{
			if (!parse_rule(c, spec, v, sections[s], i, spec_path))
				return false;
			has_rules[s >= 2] = true;
		}
	}
	spec->enforce[POLICY_INGRESS] = has_rules[0];
	spec->enforce[POLICY_EGRESS] = has_rules[1];

	dd = json_object_get(spec_obj, "enableDefaultDeny");
	if (dd && !json_is_null(dd)) {
		static const struct policy_parse_field dd_fields[] = {
		    {"ingress", NULL},
		    {"egress", NULL},
		    {NULL, NULL},
		};

		policy_err_path(sub, sizeof(sub), "%s.enableDefaultDeny", spec_path);
		if (!json_is_object(dd))
			return policy_err_set(c->err, c->err_len, "%s: expected {ingress, egress}",
					      sub);
		if (!policy_parse_check_fields(dd, dd_fields, sub, c->err, c->err_len))
			return false;
		for (unsigned d = 0; d < 2; d++) {
			json_t *b = json_object_get(dd, d ? "egress" : "ingress");

			if (!b || json_is_null(b))
				continue;
			if (!json_is_boolean(b))
				return policy_err_set(c->err, c->err_len,
						      "%s.%s: expected true or false", sub,
						      d ? "egress" : "ingress");
			/* false: the rules add to what is allowed without putting the endpoint
			 * in default deny. true without rules is a plain default deny. */
			spec->enforce[d] = json_is_true(b);
		}
	}
	return true;
}

bool policy_parse_parse_cnp(struct policy *p, const json_t *obj, char *err, size_t err_len)
{
	struct cnp_ctx c = {.p = p, .err = err, .err_len = err_len};
	json_t *spec, *specs, *v;
	char path[64];
	size_t i;

	if (!policy_parse_check_fields(obj, top_fields, "", err, err_len))
		return false;
	spec = json_object_get(obj, "spec");
	specs = json_object_get(obj, "specs");
	if ((!spec || json_is_null(spec)) && (!specs || json_is_null(specs)))
		return policy_err_set(err, err_len, "spec: missing; expected spec or specs");
	if (spec && !json_is_null(spec) && !parse_spec(&c, spec, "spec"))
		return false;
	if (specs && !json_is_null(specs)) {
		if (!json_is_array(specs))
			return policy_err_set(err, err_len, "specs: expected an array of rules");
		json_array_foreach(specs, i, v)
		{
			policy_err_path(path, sizeof(path), "specs[%zu]", i);
			if (!parse_spec(&c, v, path))
				return false;
		}
	}
	return true;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Policy objects: dispatch by kind, metadata, helpers shared by the CNP and KNP parsers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/err.h"
#include "policy/labels.h"
#include "policy/parse_internal.h"

const char *policy_kind_name(enum policy_kind kind)
{
	switch (kind) {
	case POLICY_KIND_CNP:
		return "CiliumNetworkPolicy";
	case POLICY_KIND_CCNP:
		return "CiliumClusterwideNetworkPolicy";
	default:
		return "NetworkPolicy";
	}
}

bool policy_parse_check_fields(const json_t *obj, const struct policy_parse_field *fields,
			       const char *path, char *err, size_t err_len)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
	{
		const struct policy_parse_field *f;
		char expected[512] = "";
		size_t off = 0;

		for (f = fields; f->name; f++)
			if (!strcmp(f->name, k))
				break;
		if (f->name && !f->unsupported)
			continue;
		if (f->name)
			return policy_err_set(err, err_len, "%s%s%s: %s", path, *path ? "." : "", k,
					      f->unsupported);
		for (f = fields; f->name; f++) {
			if (f->unsupported)
				continue;
			off += (size_t)snprintf(expected + off, sizeof(expected) - off, "%s%s",
						off ? ", " : "", f->name);
			if (off >= sizeof(expected))
				break;
		}
		return policy_err_set(err, err_len, "%s%s%s: unknown field; expected one of: %s",
				      path, *path ? "." : "", k, expected);
	}
	return true;
}

struct policy_rule *policy_parse_rule_add(struct policy_spec *spec)
{
	struct policy_rule *grown = realloc(spec->rules, (spec->n_rules + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	spec->rules = grown;
	memset(&grown[spec->n_rules], 0, sizeof(*grown));
	return &grown[spec->n_rules++];
}

struct policy_peer *policy_parse_peer_add(struct policy_rule *rule)
{
	struct policy_peer *grown = realloc(rule->peers, (rule->n_peers + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	rule->peers = grown;
	memset(&grown[rule->n_peers], 0, sizeof(*grown));
	return &grown[rule->n_peers++];
}

bool policy_parse_port_add(struct policy_rule *rule, uint8_t proto, uint16_t lo, uint16_t hi)
{
	struct policy_port *grown = realloc(rule->ports, (rule->n_ports + 1) * sizeof(*grown));

	if (!grown)
		return false;
	rule->ports = grown;
	grown[rule->n_ports].proto = proto;
	grown[rule->n_ports].lo = lo;
	grown[rule->n_ports].hi = hi;
	rule->n_ports++;
	return true;
}

bool policy_parse_cidr_peer(struct policy_rule *rule, const char *text, const json_t *except,
			    const char *path, char *err, size_t err_len)
{
	struct policy_peer *peer;
	struct cidr c;
	json_t *v;
	size_t i;

	if (!cidr_parse(&c, text, err, err_len))
		return policy_err_prefix(err, err_len, "%s: ", path);
	if (except && !json_is_null(except) && !json_is_array(except))
		return policy_err_set(err, err_len, "%s: except must be an array of prefixes",
				      path);
	peer = policy_parse_peer_add(rule);
	if (!peer)
		return policy_err_set(err, err_len, "%s: out of memory", path);
	peer->kind = POLICY_PEER_CIDR;
	peer->cidr = c;
	if (!json_is_array(except) || !json_array_size(except))
		return true;
	peer->except = calloc(json_array_size(except), sizeof(*peer->except));
	if (!peer->except)
		return policy_err_set(err, err_len, "%s: out of memory", path);
	json_array_foreach(except, i, v)
	{
		const char *s = json_string_value(v);
		struct cidr *e = &peer->except[i];

		if (!s)
			return policy_err_set(err, err_len,
					      "%s.except[%zu]: expected a prefix string", path, i);
		if (!cidr_parse(e, s, err, err_len))
			return policy_err_prefix(err, err_len, "%s.except[%zu]: ", path, i);
		peer->n_except = i + 1;
		if (!cidr_contains(&c, e))
			return policy_err_set(
			    err, err_len,
			    "%s.except[%zu]: \"%s\" is not inside \"%s\"; an except "
			    "prefix must lie within the cidr",
			    path, i, s, text);
	}
	return true;
}

bool policy_parse_port_number(const json_t *v, uint16_t *out, const char *path, char *err,
			      size_t err_len)
{
	long long n;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		if (!*s || s[0] == '-' || s[0] == '+' || s[0] == ' ')
			goto bad;
		n = strtoll(s, &end, 10);
		if (*end) {
			return policy_err_set(
			    err, err_len,
			    "%s: named port \"%s\" is not supported; give the port "
			    "number",
			    path, s);
		}
	} else {
		goto bad;
	}
	if (n < 0 || n > 65535)
		goto bad;
	*out = (uint16_t)n;
	return true;
bad:
	return policy_err_set(err, err_len, "%s: expected a port number 0..65535", path);
}

static void policy_rule_free(struct policy_rule *r)
{
	for (size_t i = 0; i < r->n_peers; i++) {
		selector_free(&r->peers[i].sel);
		free(r->peers[i].except);
	}
	free(r->peers);
	free(r->ports);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_specs; i++) {
		selector_free(&p->specs[i].subject);
		for (size_t j = 0; j < p->specs[i].n_rules; j++)
			policy_rule_free(&p->specs[i].rules[j]);
		free(p->specs[i].rules);
	}
	free(p->specs);
	memset(p, 0, sizeof(*p));
}

static bool dns_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return s[0] != '-' && s[0] != '.' && s[len - 1] != '-' && s[len - 1] != '.';
}

static bool parse_metadata(struct policy *p, const json_t *obj, char *err, size_t err_len)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *name, *ns;
	json_t *nsv;

	if (!json_is_object(md))
		return policy_err_set(err, err_len,
				      "metadata: missing or not an object; expected "
				      "{name, namespace}");
	name = json_string_value(json_object_get(md, "name"));
	if (!name || !dns_name_ok(name))
		return policy_err_set(
		    err, err_len,
		    "metadata.name: missing or invalid; expected a DNS subdomain name "
		    "(lowercase alphanumerics, '-', '.'; at most 253 characters)");
	snprintf(p->name, sizeof(p->name), "%s", name);
	nsv = json_object_get(md, "namespace");
	if (p->kind == POLICY_KIND_CCNP)
		return true; /* cluster-scoped: a namespace is ignored, as the API server does */
	ns = nsv && !json_is_null(nsv) ? json_string_value(nsv) : "default";
	if (!ns || !dns_name_ok(ns) || strlen(ns) > 63 || strchr(ns, '.'))
		return policy_err_set(
		    err, err_len,
		    "metadata.namespace: invalid; expected a DNS label (lowercase "
		    "alphanumerics and '-', at most 63 characters)");
	snprintf(p->namespace_, sizeof(p->namespace_), "%s", ns);
	return true;
}

bool policy_parse(struct policy *out, const json_t *obj, char *err, size_t err_len)
{
	const char *kind, *api;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return policy_err_set(err, err_len,
				      "expected an object with apiVersion, kind, "
				      "metadata, spec");
	kind = json_string_value(json_object_get(obj, "kind"));
	api = json_string_value(json_object_get(obj, "apiVersion"));
	if (!kind)
		return policy_err_set(err, err_len,
				      "kind: missing; expected CiliumNetworkPolicy, "
				      "CiliumClusterwideNetworkPolicy or NetworkPolicy");
	if (!strcmp(kind, "CiliumNetworkPolicy"))
		out->kind = POLICY_KIND_CNP;
	else if (!strcmp(kind, "CiliumClusterwideNetworkPolicy"))
		out->kind = POLICY_KIND_CCNP;
	else if (!strcmp(kind, "NetworkPolicy"))
		out->kind = POLICY_KIND_KNP;
	else
		return policy_err_set(err, err_len,
				      "kind: \"%s\" is not a network policy; expected "
				      "CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or "
				      "NetworkPolicy",
				      kind);
	if (json_object_get(obj, "apiVersion") && !api)
		return policy_err_set(err, err_len, "apiVersion: expected a string");
	if (api && out->kind == POLICY_KIND_KNP && strcmp(api, "networking.k8s.io/v1"))
		return policy_err_set(
		    err, err_len,
		    "apiVersion: \"%s\" is not supported for NetworkPolicy; expected "
		    "networking.k8s.io/v1",
		    api);
	if (api && out->kind != POLICY_KIND_KNP && strcmp(api, "cilium.io/v2"))
		return policy_err_set(
		    err, err_len,
		    "apiVersion: \"%s\" is not supported for %s; expected cilium.io/v2", api, kind);
	if (!parse_metadata(out, obj, err, err_len))
		return false;
	ok = out->kind == POLICY_KIND_KNP ? policy_parse_parse_knp(out, obj, err, err_len)
					  : policy_parse_parse_cnp(out, obj, err, err_len);
	if (!ok)
		policy_free(out);
	return ok;
}

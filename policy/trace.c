// SPDX-License-Identifier: GPL-2.0-only
/* Flow trace over the engine. See policy/trace.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "policy/compile.h"
#include "policy/engine.h"
#include "policy/err.h"
#include "policy/policy.h"
#include "policy/trace.h"
#include "lib/parse_num.h"

/* Endpoint ids the trace borrows; the agent numbers its endpoints far below these. */
#define TRACE_EP_SRC 0xfffffff0u
#define TRACE_EP_DST 0xfffffff1u

bool trace_peer_parse(struct trace_peer *out, const char *text, char *err, size_t err_len)
{
	memset(out, 0, sizeof(*out));
	/* An address is tried first: "10.0.0.1" would also pass as a label key. */
	if (strchr(text, '=') == NULL && cidr_parse(&out->addr, text, NULL, 0)) {
		out->is_cidr = true;
		return true;
	}
	if (!*text)
		return policy_err_set(err, err_len,
				      "empty peer; expected labels k=v,... or an address");
	return label_set_parse(&out->labels, text, err, err_len);
}

void trace_peer_free(struct trace_peer *p)
{
	if (p)
		label_set_free(&p->labels);
}

bool trace_port_parse(const char *text, uint8_t *proto, uint16_t *port, char *err, size_t err_len)
{
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	char num[8];

	if (len < sizeof(num)) {
		memcpy(num, text, len);
		num[len] = '\0';
	}
	if (len >= sizeof(num) || !parse_u16(num, 0, 65535, port, NULL, 0))
		return policy_err_set(err, err_len, "\"%s\": expected PORT[/PROTO], e.g. 80/TCP",
				      text);
	*proto = IPPROTO_TCP;
	if (!slash)
		return true;
	if (!strcasecmp(slash + 1, "TCP"))
		*proto = IPPROTO_TCP;
	else if (!strcasecmp(slash + 1, "UDP"))
		*proto = IPPROTO_UDP;
	else if (!strcasecmp(slash + 1, "SCTP"))
		*proto = IPPROTO_SCTP;
	else if (!strcasecmp(slash + 1, "ICMP"))
		*proto = IPPROTO_ICMP;
	else if (!strcasecmp(slash + 1, "ICMPv6"))
		*proto = IPPROTO_ICMPV6;
	else
		return policy_err_set(
		    err, err_len,
		    "\"%s\": unknown protocol; expected TCP, UDP, SCTP, ICMP or ICMPv6", text);
	if ((*proto == IPPROTO_ICMP || *proto == IPPROTO_ICMPV6) && *port > 255)
		return policy_err_set(err, err_len, "\"%s\": an ICMP type is 0..255", text);
	return true;
}

/* The identity traffic from/to an address carries: the most specific CIDR identity. */
static uint32_t cidr_identity(const struct policy_engine *e, const struct cidr *addr)
{
	const struct policy_cidr_identity *c;
	uint32_t best = addr->family == AF_INET6 ? IDENTITY_WORLD_IPV6 : IDENTITY_WORLD;
	int best_len = -1;
	size_t n;

	c = policy_engine_cidr_identities(e, &n);
	for (size_t i = 0; i < n; i++) {
		if (cidr_contains(&c[i].cidr, addr) && c[i].cidr.len > best_len) {
			best = c[i].identity;
			best_len = c[i].cidr.len;
		}
	}
	return best;
}

static uint32_t free_identity(const struct policy_engine *e)
{
	for (uint32_t id = 65535; id >= IDENTITY_CLUSTER_MIN; id--)
		if (!policy_engine_identity_labels(e, id))
			return id;
	return 0;
}

static bool side_add(struct trace_side *s, const char *policy, const char *origin, bool deny)
{
	struct trace_rule *g = realloc(s->rules, (s->n_rules + 1) * sizeof(*g));

	if (!g)
		return false;
	s->rules = g;
	policy_err_path(g[s->n_rules].policy, sizeof(g->policy), "%s", policy);
	policy_err_path(g[s->n_rules].origin, sizeof(g->origin), "%s", origin);
	g[s->n_rules].deny = deny;
	s->n_rules++;
	return true;
}

static void policy_title(char *buf, size_t len, const struct policy *p)
{
	if (*p->namespace_)
		policy_err_path(buf, len, "%s %s/%s", policy_kind_name(p->kind), p->namespace_,
				p->name);
	else
		policy_err_path(buf, len, "%s %s", policy_kind_name(p->kind), p->name);
}

static bool entry_matches(const struct policy_entry *x, int dir, uint32_t remote, uint8_t proto,
			  uint16_t port)
{
	if (x->direction != dir)
		return false;
	if (x->identity != POLICY_IDENTITY_ANY && x->identity != remote)
		return false;
	if (x->proto == POLICY_PROTO_ANY)
		return true;
	if (x->proto != proto)
		return false;
	return (x->port_lo == 0 && x->port_hi == 0) || (x->port_lo <= port && port <= x->port_hi);
}

struct selecting_ctx {
	struct trace_side *side;
	bool oom;
};

static void on_selecting(void *arg, const char *key, const struct policy *p, size_t spec)
{
	struct selecting_ctx *c = arg;
	char title[600];

	policy_title(title, sizeof(title), p);
	for (size_t i = 0; i < c->side->n_rules; i++)
		if (!strcmp(c->side->rules[i].policy, title))
			return;
	if (!side_add(c->side, title, "", false))
		c->oom = true;
}

static int eval_side(struct policy_engine *e, uint32_t ep, const struct label_set *labels, int dir,
		     uint32_t remote, uint8_t proto, uint16_t port, struct trace_side *s)
{
	const struct policy_entry *entries;
	bool any_deny = false, any_allow = false;
	size_t n;

	s->remote_identity = remote;
	entries = policy_engine_entries(e, ep, &n);
	for (size_t i = 0; i < n; i++) {
		if (entry_matches(&entries[i], dir, remote, proto, port)) {
			any_deny |= entries[i].deny;
			any_allow |= !entries[i].deny;
		}
	}
	if (!policy_engine_enforced(e, ep, dir) && !any_deny) {
		s->allowed = true;
		s->reason = TRACE_NOT_SELECTED;
		return 0;
	}
	s->allowed = !any_deny && any_allow;
	s->reason = any_deny ? TRACE_DENIED : any_allow ? TRACE_ALLOWED : TRACE_DEFAULT_DENY;
	if (s->reason == TRACE_DEFAULT_DENY) {
		struct selecting_ctx c = {.side = s};

		policy_engine_foreach_selecting(e, labels, dir, on_selecting, &c);
		return c.oom ? -ENOMEM : 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct policy_rule_origin o;
		char title[600];

		if (!entry_matches(&entries[i], dir, remote, proto, port) ||
		    entries[i].deny != any_deny)
			continue;
		if (!policy_engine_rule_origin(e, entries[i].rule_id, &o))
			continue;
		policy_title(title, sizeof(title), o.policy);
		if (!side_add(s, title, o.policy->specs[o.spec].rules[o.rule].origin,
			      entries[i].deny))
			return -ENOMEM;
	}
	return 0;
}

/* Resolves a labels peer to an identity, adding a temporary one when none has the labels. */
static int peer_identity(struct policy_engine *e, const struct trace_peer *p, uint32_t *id,
			 bool *temp)
{
	int rc;

	*temp = false;
	if (p->is_cidr) {
		*id = cidr_identity(e, &p->addr);
		return 0;
	}
	*id = policy_engine_identity_find(e, &p->labels);
	if (*id)
		return 0;
	*id = free_identity(e);
	if (!*id)
		return -ENOSPC;
	rc = policy_engine_identity_set(e, *id, &p->labels, NULL);
	*temp = rc == 0;
	return rc;
}

/*
 * One direction of the flow, seen from peer p: an address has no policy of its own; an
 * endpoint is evaluated under a borrowed endpoint id ep, removed again afterwards.
 */
static int trace_peer_side(struct policy_engine *e, const struct trace_peer *p, uint32_t ep,
			   int dir, uint32_t remote, uint8_t proto, uint16_t port,
			   struct trace_side *s)
{
	int rc;

	if (p->is_cidr) {
		s->allowed = true;
		s->reason = TRACE_NOT_ENDPOINT;
		s->remote_identity = remote;
		return 0;
	}
	rc = policy_engine_endpoint_set(e, ep, &p->labels, NULL);
	if (!rc)
		rc = eval_side(e, ep, &p->labels, dir, remote, proto, port, s);
	policy_engine_endpoint_remove(e, ep);
	return rc;
}

int policy_trace(struct policy_engine *e, const struct trace_peer *src,
		 const struct trace_peer *dst, uint8_t proto, uint16_t port,
		 struct trace_result *out)
{
	bool src_temp = false, dst_temp = false;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = peer_identity(e, src, &out->src_identity, &src_temp);
	if (!rc)
		rc = peer_identity(e, dst, &out->dst_identity, &dst_temp);
	if (rc)
		goto out;
	rc = trace_peer_side(e, src, TRACE_EP_SRC, POLICY_EGRESS, out->dst_identity, proto, port,
			     &out->egress);
	if (rc)
		goto out;
	rc = trace_peer_side(e, dst, TRACE_EP_DST, POLICY_INGRESS, out->src_identity, proto, port,
			     &out->ingress);
	out->allowed = out->egress.allowed && out->ingress.allowed;
out:
	if (dst_temp)
		policy_engine_identity_remove(e, out->dst_identity, NULL);
	if (src_temp)
		policy_engine_identity_remove(e, out->src_identity, NULL);
	if (rc)
		trace_result_free(out);
	return rc;
}

void trace_result_free(struct trace_result *r)
{
	if (!r)
		return;
	free(r->egress.rules);
	free(r->ingress.rules);
	r->egress.rules = r->ingress.rules = NULL;
	r->egress.n_rules = r->ingress.n_rules = 0;
}

static const char *reason_name(enum trace_reason r)
{
	switch (r) {
	case TRACE_NOT_ENDPOINT:
		return "not-an-endpoint";
	case TRACE_NOT_SELECTED:
		return "no-policy-selects";
	case TRACE_ALLOWED:
		return "allowed-by-rule";
	case TRACE_DENIED:
		return "denied-by-rule";
	default:
		return "default-deny";
	}
}

static void print_side(FILE *f, const char *dir, const struct trace_side *s, const char *who,
		       const char *what)
{
	switch (s->reason) {
	case TRACE_NOT_ENDPOINT:
		fprintf(f, "%s: allowed (%s %s is not an endpoint: no %s policy applies)\n", dir,
			what, who, dir);
		return;
	case TRACE_NOT_SELECTED:
		fprintf(f, "%s: allowed (no policy selects %s %s for %s)\n", dir, what, who, dir);
		return;
	case TRACE_DEFAULT_DENY:
		fprintf(f, "%s: denied: default deny (selected by ", dir);
		for (size_t i = 0; i < s->n_rules; i++)
			fprintf(f, "%s%s", i ? ", " : "", s->rules[i].policy);
		fprintf(f, "); no rule allows it\n");
		return;
	default:
		fprintf(f, "%s: %s by:\n", dir, s->allowed ? "allowed" : "denied");
		for (size_t i = 0; i < s->n_rules; i++)
			fprintf(f, "  %s %s %s\n", s->rules[i].deny ? "deny" : "allow",
				s->rules[i].policy, s->rules[i].origin);
	}
}

void trace_print(FILE *f, const struct trace_result *r, const char *src_text, const char *dst_text)
{
	fprintf(f, "verdict: %s\n", r->allowed ? "allowed" : "denied");
	fprintf(f, "source %s: identity %u; destination %s: identity %u\n", src_text,
		r->src_identity, dst_text, r->dst_identity);
	print_side(f, "egress", &r->egress, src_text, "source");
	print_side(f, "ingress", &r->ingress, dst_text, "destination");
}

static json_t *side_json(const struct trace_side *s)
{
	json_t *rules = json_array();

	for (size_t i = 0; rules && i < s->n_rules; i++) {
		json_t *r = s->reason == TRACE_DEFAULT_DENY
				? json_pack("{s:s}", "policy", s->rules[i].policy)
				: json_pack("{s:s, s:s, s:s}", "policy", s->rules[i].policy, "rule",
					    s->rules[i].origin, "action",
					    s->rules[i].deny ? "deny" : "allow");

		json_array_append_new(rules, r);
	}
	return json_pack("{s:s, s:s, s:I, s:o*}", "verdict", s->allowed ? "allowed" : "denied",
			 "reason", reason_name(s->reason), "remote_identity",
			 (json_int_t)s->remote_identity,
			 s->reason == TRACE_DEFAULT_DENY ? "selected_by" : "rules", rules);
}

json_t *trace_to_json(const struct trace_result *r)
{
	return json_pack("{s:s, s:I, s:I, s:o*, s:o*}", "verdict",
			 r->allowed ? "allowed" : "denied", "src_identity",
			 (json_int_t)r->src_identity, "dst_identity", (json_int_t)r->dst_identity,
			 "egress", side_json(&r->egress), "ingress", side_json(&r->ingress));
}

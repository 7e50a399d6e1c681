// SPDX-License-Identifier: GPL-2.0-only
/*
 * api_v1: the /v1 endpoints (contract in api.h, JSON shapes in docs/agent.md). Parameters
 * are checked here, before the daemon's callbacks run, so a bad value is a 400 that
 * names the parameter and the callbacks only ever see valid queries.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "agent/api.h"
#include "bpf/dp.h"
#include "lib/parse_num.h"
#include "lib/policy_entry.h"

struct api_v1 {
	struct api_v1_ops ops;
	struct flows *flows;
};

static bool trace_one(const struct flows_param *p, struct api_trace_query *q, bool *seen_src,
		      bool *seen_dst, char *why, size_t len)
{
	if (!strcmp(p->key, "src"))
		return *seen_src = true, net_ip_parse(p->value, AF_UNSPEC, &q->src, why, len);
	if (!strcmp(p->key, "dst"))
		return *seen_dst = true, net_ip_parse(p->value, AF_UNSPEC, &q->dst, why, len);
	if (!strcmp(p->key, "dport")) {
		q->has_dport = true;
		return parse_u16(p->value, 0, 65535, &q->dport, why, len);
	}
	if (!strcmp(p->key, "proto")) {
		if (dp_proto_parse(p->value, &q->proto))
			return true;
		snprintf(why, len, "'%s': expected tcp, udp, sctp, icmp, icmpv6 or any", p->value);
		return false;
	}
	snprintf(why, len, "unknown parameter (expected src, dst, dport, proto)");
	return false;
}

/* Cross-field rules: both addresses, one family, ports only with a port protocol. */
static bool trace_check(struct api_trace_query *q, bool seen_src, bool seen_dst,
			const char **bad_key, char *why, size_t len)
{
	if (!seen_src || !seen_dst) {
		*bad_key = seen_src ? "dst" : "src";
		return snprintf(why, len, "required (an IP address)"), false;
	}
	if (q->src.family != q->dst.family) {
		*bad_key = "dst";
		return snprintf(why, len, "not of the same address family as src"), false;
	}
	if (q->has_dport && q->proto == 0) {
		*bad_key = "dport";
		return snprintf(why, len, "needs a protocol (proto=tcp|udp|sctp|icmp|icmpv6)"),
		       false;
	}
	if (q->has_dport && (q->proto == IPPROTO_ICMP || q->proto == IPPROTO_ICMPV6) &&
	    q->dport > 255) {
		*bad_key = "dport";
		return snprintf(why, len, "%u: an ICMP type is 0..255", q->dport), false;
	}
	return true;
}

bool api_trace_parse(const struct flows_param *params, size_t n, struct api_trace_query *out,
		     const char **bad_key, char *why, size_t why_len)
{
	bool seen_src = false, seen_dst = false;

	memset(out, 0, sizeof(*out));
	out->proto = IPPROTO_TCP;
	for (size_t i = 0; i < n; i++) {
		const struct flows_param *p = &params[i];

		*bad_key = p->key;
		if (!p->value)
			return snprintf(why, why_len, "needs a value"), false;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(params[j].key, p->key))
				return snprintf(why, why_len, "given twice"), false;
		if (!trace_one(p, out, &seen_src, &seen_dst, why, why_len))
			return false;
	}
	return trace_check(out, seen_src, seen_dst, bad_key, why, why_len);
}

bool api_policy_parse(const struct flows_param *params, size_t n, struct api_policy_query *out,
		      const char **bad_key, char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		*bad_key = params[i].key;
		if (strcmp(params[i].key, "endpoint"))
			return snprintf(why, why_len, "unknown parameter (expected endpoint)"),
			       false;
		if (!params[i].value)
			return snprintf(why, why_len, "needs a value"), false;
		if (out->endpoint)
			return snprintf(why, why_len, "given twice"), false;
		if (!parse_u32(params[i].value, 1, UINT32_MAX, &out->endpoint, why, why_len))
			return false;
	}
	return true;
}

/* id: decimal 1..2^32-1 (0 means "any" in policy entries, never an identity). */
static bool identity_one(const struct flows_param *p, struct api_identity_query *q, char *why,
			 size_t len)
{
	bool is_id = !strcmp(p->key, "id");

	if (!is_id && strcmp(p->key, "ip"))
		return snprintf(why, len, "unknown parameter (expected id or ip)"), false;
	if (q->by != API_IDENTITY_SELF)
		return snprintf(why, len, "%s",
				(q->by == API_IDENTITY_ID) == is_id
				    ? "given twice"
				    : "id and ip exclude each other"),
		       false;
	q->by = is_id ? API_IDENTITY_ID : API_IDENTITY_IP;
	return is_id ? parse_u32(p->value, 1, UINT32_MAX, &q->id, why, len)
		     : net_ip_parse(p->value, AF_UNSPEC, &q->ip, why, len);
}

bool api_identity_parse(const struct flows_param *params, size_t n, struct api_identity_query *out,
			const char **bad_key, char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		*bad_key = params[i].key;
		if (!params[i].value)
			return snprintf(why, why_len, "needs a value"), false;
		if (!identity_one(&params[i], out, why, why_len))
			return false;
	}
	return true;
}

/* -errno from a daemon callback as an HTTP error. */
static int callback_error(int err, const char *what, const char *msg, json_t **out)
{
	if (err == -EAGAIN)
		return api_fail(out, 503, "%s: not ready (the first sync has not completed)", what);
	if (err == -EINVAL)
		return api_fail(out, 400, "%s: %s", what, msg && *msg ? msg : "refused");
	if (err == -ENOENT)
		return api_fail(out, 404, "%s: %s", what, msg && *msg ? msg : "not found");
	return api_fail(out, 500, "%s: %s", what, strerror(-err));
}

static int no_params(const struct api_request *req, json_t **out)
{
	if (req->n_params)
		return api_fail(out, 400, "parameter '%s': %s takes no parameters",
				req->params[0].key, req->path);
	return 0;
}

static int h_status(const struct api_request *req, json_t **out, void *ctx)
{
	struct api_v1 *v = ctx;
	int err = no_params(req, out);

	if (err)
		return err;
	if (!v->ops.status)
		return api_fail(out, 501, "status: not provided by this daemon");
	err = v->ops.status(out, v->ops.ctx);
	return err ? (json_decref(*out), *out = NULL, callback_error(err, "status", NULL, out))
		   : 200;
}

static int h_policy(const struct api_request *req, json_t **out, void *ctx)
{
	struct api_v1 *v = ctx;
	struct api_policy_query q;
	const char *bad = "";
	char why[256] = "";
	int err;

	if (!api_policy_parse(req->params, req->n_params, &q, &bad, why, sizeof(why)))
		return api_fail(out, 400, "parameter '%s': %s", bad, why);
	if (!v->ops.policy_get)
		return api_fail(out, 501, "policy: not provided by this daemon");
	err = v->ops.policy_get(&q, out, why, sizeof(why), v->ops.ctx);
	return err ? (json_decref(*out), *out = NULL, callback_error(err, "policy", why, out))
		   : 200;
}

static int h_trace(const struct api_request *req, json_t **out, void *ctx)
{
	struct api_v1 *v = ctx;
	struct api_trace_query q;
	const char *bad = "";
	char why[256] = "";
	int err;

	if (!api_trace_parse(req->params, req->n_params, &q, &bad, why, sizeof(why)))
		return api_fail(out, 400, "parameter '%s': %s", bad, why);
	if (!v->ops.policy_trace)
		return api_fail(out, 501, "trace: not provided by this daemon");
	err = v->ops.policy_trace(&q, out, why, sizeof(why), v->ops.ctx);
	return err ? (json_decref(*out), *out = NULL, callback_error(err, "trace", why, out)) : 200;
}

static int h_identity(const struct api_request *req, json_t **out, void *ctx)
{
	struct api_v1 *v = ctx;
	struct api_identity_query q;
	const char *bad = "";
	char why[256] = "";
	int err;

	if (!api_identity_parse(req->params, req->n_params, &q, &bad, why, sizeof(why)))
		return api_fail(out, 400, "parameter '%s': %s", bad, why);
	if (!v->ops.identity_get)
		return api_fail(out, 501, "identity: not provided by this daemon");
	err = v->ops.identity_get(&q, out, why, sizeof(why), v->ops.ctx);
	return err ? (json_decref(*out), *out = NULL, callback_error(err, "identity", why, out))
		   : 200;
}

static int h_identities(const struct api_request *req, json_t **out, void *ctx)
{
	struct api_v1 *v = ctx;
	int err = no_params(req, out);

	if (err)
		return err;
	if (!v->ops.identity_list)
		return api_fail(out, 501, "identities: not provided by this daemon");
	err = v->ops.identity_list(out, v->ops.ctx);
	return err ? (json_decref(*out), *out = NULL, callback_error(err, "identities", NULL, out))
		   : 200;
}

static int h_flows(const struct api_request *req, json_t **out, void *ctx)
{
	struct api_v1 *v = ctx;
	struct flows_filter flt;
	const char *bad = "";
	char why[256] = "";

	if (!flows_filter_parse(req->params, req->n_params, &flt, &bad, why, sizeof(why)))
		return api_fail(out, 400, "parameter '%s': %s", bad, why);
	*out = flows_query_json(v->flows, &flt);
	return *out ? 200 : api_fail(out, 500, "flows: out of memory");
}

int api_v1_register(struct api_server *s, const struct api_v1_ops *ops, struct flows *flows)
{
	static struct {
		const char *method, *path;
		api_handler h;
	} const routes[] = {
	    {"GET", "/v1/status", h_status},	     {"GET", "/v1/flows", h_flows},
	    {"GET", "/v1/policy", h_policy},	     {"GET", "/v1/policy/trace", h_trace},
	    {"POST", "/v1/policy/trace", h_trace},   {"GET", "/v1/identity", h_identity},
	    {"GET", "/v1/identities", h_identities},
	};
	struct api_v1 *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	err = api_server_own(s, v); /* freed with the server, whatever happens below */
	if (err)
		return err;
	v->ops = *ops;
	v->flows = flows;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		err = api_route(s, routes[i].method, routes[i].path, routes[i].h, v);
		if (err)
			return err;
	}
	return 0;
}

/* "80", "80-90", "" (any port). */
static void ports_text(const struct policy_entry *e, char *buf, size_t len)
{
	if (e->port_lo == 0 && e->port_hi == 0)
		snprintf(buf, len, "%s", "");
	else if (e->port_lo == e->port_hi)
		snprintf(buf, len, "%u", e->port_lo);
	else
		snprintf(buf, len, "%u-%u", e->port_lo, e->port_hi);
}

json_t *api_policy_entry_json(const struct policy_entry *e, json_t *labels, const char *policy,
			      const char *rule)
{
	char ports[16];
	json_t *o;

	ports_text(e, ports, sizeof(ports));
	o = json_pack("{s:s,s:s,s:I,s:s,s:s,s:I}", "direction", dp_dir_name(e->direction),
		      "verdict", e->deny ? "deny" : "allow", "identity", (json_int_t)e->identity,
		      "proto", dp_proto_name(e->proto), "ports", ports, "rule_id",
		      (json_int_t)e->rule_id);
	if (!o) {
		json_decref(labels);
		return NULL;
	}
	json_object_set_new(o, "labels", labels ? labels : json_array());
	json_object_set_new(o, "policy", policy ? json_string(policy) : json_null());
	json_object_set_new(o, "rule", rule ? json_string(rule) : json_null());
	return o;
}

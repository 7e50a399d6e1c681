// SPDX-License-Identifier: GPL-2.0-only
/*
 * flows: ring of recent flow records, filters, Hubble-style JSON and table lines
 * (contract in flows.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/flows.h"
#include "bpf/dp.h"
#include "lib/net.h"
#include "lib/parse_num.h"

struct flows {
	struct flow_record *ring;
	uint32_t capacity;
	uint64_t next_seq; /* seq of the next record; records [next_seq - count, next_seq) */
	size_t count;
	struct flows_lookup lookup;
};

int flows_new(uint32_t capacity, const struct flows_lookup *lookup, struct flows **out)
{
	struct flows *f;

	if (capacity == 0)
		capacity = FLOWS_DEFAULT_CAPACITY;
	if (capacity > FLOWS_MAX_CAPACITY)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->ring = calloc(capacity, sizeof(*f->ring));
	if (!f->ring) {
		free(f);
		return -ENOMEM;
	}
	f->capacity = capacity;
	f->next_seq = 1;
	if (lookup)
		f->lookup = *lookup;
	*out = f;
	return 0;
}

static void record_clear(struct flow_record *r)
{
	json_decref(r->src_labels);
	json_decref(r->dst_labels);
	free(r->policy);
	free(r->rule);
	memset(r, 0, sizeof(*r));
}

void flows_free(struct flows *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->capacity; i++)
		record_clear(&f->ring[i]);
	free(f->ring);
	free(f);
}

static struct flow_record *slot(const struct flows *f, uint64_t seq)
{
	return &f->ring[seq % f->capacity];
}

/* Fills labels and policy origin; a failed allocation leaves that part empty. */
static int enrich(struct flows *f, struct flow_record *r)
{
	const struct flows_lookup *lk = &f->lookup;
	char policy[256], rule[128];

	if (lk->labels) {
		r->src_labels = lk->labels(r->ev.src_identity, lk->ctx);
		r->dst_labels = lk->labels(r->ev.dst_identity, lk->ctx);
	}
	if (lk->rule && r->ev.type == DP_EV_VERDICT && r->ev.rule_id != 0 &&
	    lk->rule(r->ev.rule_id, policy, sizeof(policy), rule, sizeof(rule), lk->ctx)) {
		r->policy = strdup(policy);
		r->rule = strdup(rule);
		if (!r->policy || !r->rule)
			return -ENOMEM;
	}
	return 0;
}

int flows_add(struct flows *f, const struct dp_event *e, uint64_t time_ns)
{
	uint64_t seq = f->next_seq++;
	struct flow_record *r = slot(f, seq);
	int err;

	record_clear(r); /* the oldest record, when the ring is full */
	r->seq = seq;
	r->time_ns = time_ns;
	r->ev = *e;
	if (f->count < f->capacity)
		f->count++;
	err = enrich(f, r);
	if (err) {
		free(r->policy);
		free(r->rule);
		r->policy = r->rule = NULL;
	}
	return err;
}

uint64_t flows_event_time(uint64_t ktime_ns)
{
	struct timespec mono, real;
	uint64_t mono_ns, real_ns;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	mono_ns = (uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec;
	real_ns = (uint64_t)real.tv_sec * 1000000000u + (uint64_t)real.tv_nsec;
	/* An event from the future (clock skew between CPUs) is "now". */
	if (ktime_ns > mono_ns)
		return real_ns;
	return real_ns - (mono_ns - ktime_ns);
}

uint64_t flows_last_seq(const struct flows *f)
{
	return f->next_seq - 1;
}

size_t flows_count(const struct flows *f)
{
	return f->count;
}

/* ---- filters ---- */

static bool parse_verdict(const char *v, struct flows_filter *out, char *why, size_t len)
{
	if (!strcasecmp(v, "forwarded"))
		out->verdict = FLOWS_VERDICT_FORWARDED;
	else if (!strcasecmp(v, "dropped"))
		out->verdict = FLOWS_VERDICT_DROPPED;
	else
		return snprintf(why, len, "'%s': expected forwarded or dropped", v), false;
	return true;
}

static bool parse_ip(const char *v, struct flows_filter *out, char *why, size_t len)
{
	struct net_prefix p;

	if (!net_ip_parse(v, AF_UNSPEC, &p, why, len))
		return false;
	out->has_ip = true;
	out->ip_family = p.family == AF_INET ? 4 : 6;
	memcpy(out->ip, p.addr, sizeof(out->ip));
	return true;
}

static bool parse_one(const struct flows_param *p, struct flows_filter *out, char *why, size_t len)
{
	uint32_t u32;

	if (!strcmp(p->key, "verdict"))
		return parse_verdict(p->value, out, why, len);
	if (!strcmp(p->key, "ip"))
		return parse_ip(p->value, out, why, len);
	if (!strcmp(p->key, "port")) {
		out->has_port = true;
		return parse_u16(p->value, 0, 65535, &out->port, why, len);
	}
	if (!strcmp(p->key, "identity")) {
		out->has_identity = true;
		return parse_u32(p->value, 0, UINT32_MAX, &out->identity, why, len);
	}
	if (!strcmp(p->key, "last")) {
		if (!parse_u32(p->value, 1, FLOWS_REPLY_MAX, &u32, why, len))
			return false;
		out->last = u32;
		return true;
	}
	if (!strcmp(p->key, "since")) {
		out->has_since = true;
		return parse_u64(p->value, 0, UINT64_MAX, &out->since, why, len);
	}
	snprintf(why, len, "unknown parameter (expected verdict, ip, port, identity, last, since)");
	return false;
}

bool flows_filter_parse(const struct flows_param *params, size_t n, struct flows_filter *out,
			const char **bad_key, char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct flows_param *p = &params[i];

		if (!p->value) {
			*bad_key = p->key;
			snprintf(why, why_len, "needs a value");
			return false;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(params[j].key, p->key)) {
				*bad_key = p->key;
				snprintf(why, why_len, "given twice");
				return false;
			}
		}
		if (!parse_one(p, out, why, why_len)) {
			*bad_key = p->key;
			return false;
		}
	}
	return true;
}

static bool ip_equal(const struct dp_event *e, const uint8_t *a, const struct flows_filter *flt)
{
	size_t n = flt->ip_family == 4 ? 4 : 16;

	return e->family == flt->ip_family && !memcmp(a, flt->ip, n);
}

bool flows_match(const struct flow_record *r, const struct flows_filter *flt)
{
	const struct dp_event *e = &r->ev;
	bool dropped = DP_REASON_IS_DROP(e->reason);

	if (flt->verdict == FLOWS_VERDICT_FORWARDED && dropped)
		return false;
	if (flt->verdict == FLOWS_VERDICT_DROPPED && !dropped)
		return false;
	if (flt->has_ip && !ip_equal(e, e->saddr, flt) && !ip_equal(e, e->daddr, flt))
		return false;
	if (flt->has_port && ntohs(e->sport) != flt->port && ntohs(e->dport) != flt->port)
		return false;
	if (flt->has_identity && e->src_identity != flt->identity &&
	    e->dst_identity != flt->identity)
		return false;
	return true;
}

/* ---- query ---- */

static int append_record(json_t *arr, const struct flow_record *r)
{
	json_t *o = flows_record_json(r);

	if (!o || json_array_append_new(arr, o))
		return -ENOMEM;
	return 0;
}

/* Followers: the oldest matching records after since, at most limit of them. */
static int query_since(const struct flows *f, const struct flows_filter *flt, uint32_t limit,
		       json_t *arr, uint64_t *next, uint64_t *lost)
{
	uint64_t oldest = f->next_seq - f->count, seq;

	/* A cursor from a previous daemon (ahead of ours) restarts at our newest record. */
	if (flt->since >= f->next_seq) {
		*next = f->next_seq - 1;
		return 0;
	}
	seq = flt->since + 1;
	if (seq < oldest) {
		*lost = oldest - seq;
		seq = oldest;
	}
	for (; seq < f->next_seq && json_array_size(arr) < limit; seq++) {
		const struct flow_record *r = slot(f, seq);

		if (flows_match(r, flt) && append_record(arr, r))
			return -ENOMEM;
	}
	*next = seq - 1; /* the last record examined */
	return 0;
}

/* Snapshot: the newest `limit` matching records, printed oldest first. */
static int query_last(const struct flows *f, const struct flows_filter *flt, uint32_t limit,
		      json_t *arr)
{
	uint64_t oldest = f->next_seq - f->count, seq = f->next_seq, first = f->next_seq;
	uint32_t found = 0;

	while (seq > oldest && found < limit) {
		seq--;
		if (flows_match(slot(f, seq), flt)) {
			found++;
			first = seq;
		}
	}
	for (seq = first; seq < f->next_seq; seq++) {
		const struct flow_record *r = slot(f, seq);

		if (flows_match(r, flt) && append_record(arr, r))
			return -ENOMEM;
	}
	return 0;
}

json_t *flows_query_json(const struct flows *f, const struct flows_filter *flt)
{
	uint32_t limit = flt->last ? flt->last : FLOWS_DEFAULT_LAST;
	uint64_t next = f->next_seq - 1, lost = 0;
	json_t *arr = json_array(), *o;
	int err;

	if (!arr)
		return NULL;
	if (flt->has_since)
		err =
		    query_since(f, flt, flt->last ? flt->last : FLOWS_REPLY_MAX, arr, &next, &lost);
	else
		err = query_last(f, flt, limit, arr);
	if (err) {
		json_decref(arr);
		return NULL;
	}
	o = json_pack("{s:o,s:I,s:I}", "flows", arr, "next", (json_int_t)next, "lost",
		      (json_int_t)lost);
	return o;
}

/* ---- encoding ---- */

void flows_time_format(uint64_t time_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(time_ns / 1000000000u);
	struct tm tm;
	char date[32];

	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09luZ", date, (unsigned long)(time_ns % 1000000000u));
}

/* Hubble's DropReason names for what our datapath can drop. */
const char *flows_drop_reason_desc(unsigned int reason)
{
	switch (reason) {
	case DP_DROP_POLICY:
		return "POLICY_DENIED";
	case DP_DROP_POLICY_DENY:
		return "POLICY_DENY";
	case DP_DROP_SHORT_L2:
	case DP_DROP_SHORT_L3:
	case DP_DROP_BAD_L3:
	case DP_DROP_SHORT_L4:
		return "INVALID_PACKET_DROPPED";
	case DP_DROP_BAD_EXTHDR:
		return "INVALID_IPV6_EXTENSION_HEADER";
	case DP_DROP_FRAG_NO_FIRST:
		return "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND";
	case DP_DROP_SPOOF:
		return "INVALID_SOURCE_IP";
	case DP_DROP_NO_TUNNEL:
		return "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT";
	case DP_DROP_TUNNEL_KEY:
		return "ERROR_RETRIEVING_TUNNEL_KEY";
	}
	return NULL;
}

/* Cilium's monitor numbering (PolicyMatchNone = 0, L3Only, L3L4, L4Only, All). */
static int match_type(unsigned int match)
{
	switch (match) {
	case DP_MATCH_L3_ONLY:
		return 1;
	case DP_MATCH_L3_L4:
		return 2;
	case DP_MATCH_L4_ONLY:
		return 3;
	case DP_MATCH_ALL:
		return 4;
	}
	return 0;
}

static void addr_text(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	if (family == 4)
		inet_ntop(AF_INET, a, buf, (socklen_t)len);
	else if (family == 6)
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	else
		snprintf(buf, len, "%s", "");
}

static json_t *ip_json(const struct dp_event *e)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	addr_text(e->family, e->saddr, src, sizeof(src));
	addr_text(e->family, e->daddr, dst, sizeof(dst));
	return json_pack("{s:s,s:s,s:s}", "source", src, "destination", dst, "ipVersion",
			 e->family == 4 ? "IPv4" : "IPv6");
}

static json_t *l4_json(const struct dp_event *e)
{
	const char *name;

	switch (e->proto) {
	case IPPROTO_TCP:
		name = "TCP";
		break;
	case IPPROTO_UDP:
		name = "UDP";
		break;
	case IPPROTO_SCTP:
		name = "SCTP";
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* The datapath keeps the ICMP type where a port would be. */
		return json_pack("{s:{s:i}}", e->proto == IPPROTO_ICMP ? "ICMPv4" : "ICMPv6",
				 "type", (int)ntohs(e->dport));
	default:
		return NULL;
	}
	return json_pack("{s:{s:i,s:i}}", name, "source_port", (int)ntohs(e->sport),
			 "destination_port", (int)ntohs(e->dport));
}

static json_t *endpoint_json(uint32_t identity, json_t *labels)
{
	json_t *o = json_pack("{s:I}", "identity", (json_int_t)identity);

	if (o)
		json_object_set_new(o, "labels", labels ? json_incref(labels) : json_array());
	return o;
}

/* [{"name": "allow-web", "namespace": "prod", "rule": "ingress[0]"}] from "prod/allow-web". */
static json_t *policy_json(const struct flow_record *r)
{
	const char *slash = strchr(r->policy, '/');
	json_t *p = json_object();

	if (!p)
		return NULL;
	if (slash) {
		json_object_set_new(p, "namespace",
				    json_stringn(r->policy, (size_t)(slash - r->policy)));
		json_object_set_new(p, "name", json_string(slash + 1));
	} else {
		json_object_set_new(p, "name", json_string(r->policy));
	}
	json_object_set_new(p, "key", json_string(r->policy));
	json_object_set_new(p, "rule", json_string(r->rule ? r->rule : ""));
	return json_pack("[o]", p);
}

static json_t *extra_json(const struct dp_event *e)
{
	json_t *o =
	    json_pack("{s:s,s:s,s:s,s:I,s:I,s:i,s:i}", "reason", dp_reason_name(e->reason), "match",
		      dp_match_name(e->match), "proto", dp_proto_name(e->proto), "rule_id",
		      (json_int_t)e->rule_id, "endpoint", (json_int_t)e->endpoint, "ifindex",
		      (int)e->ifindex, "len", (int)e->len);
	char tun[INET_ADDRSTRLEN];

	if (o && (e->flags & DP_EV_F_TUNNEL)) {
		inet_ntop(AF_INET, &e->tunnel_ipv4, tun, sizeof(tun));
		json_object_set_new(
		    o, "tunnel",
		    json_pack("{s:I,s:s}", "vni", (json_int_t)e->tunnel_id, "remote", tun));
	}
	return o;
}

static int set(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

json_t *flows_record_json(const struct flow_record *r)
{
	const struct dp_event *e = &r->ev;
	bool dropped = DP_REASON_IS_DROP(e->reason);
	bool ingress = e->dir == DP_DIR_INGRESS;
	char time[48];
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	flows_time_format(r->time_ns, time, sizeof(time));
	err |= set(o, "time", json_string(time));
	err |= set(o, "verdict", json_string(dropped ? "DROPPED" : "FORWARDED"));
	if (dropped)
		err |= set(o, "drop_reason_desc", json_string(flows_drop_reason_desc(e->reason)));
	if (e->family)
		err |= set(o, "IP", ip_json(e));
	if (e->family &&
	    (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP || e->proto == IPPROTO_SCTP ||
	     e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6))
		err |= set(o, "l4", l4_json(e));
	err |= set(o, "source", endpoint_json(e->src_identity, r->src_labels));
	err |= set(o, "destination", endpoint_json(e->dst_identity, r->dst_labels));
	err |= set(o, "Type", json_string("L3_L4"));
	err |= set(o, "traffic_direction", json_string(ingress ? "INGRESS" : "EGRESS"));
	if (e->type == DP_EV_VERDICT)
		err |= set(o, "policy_match_type", json_integer(match_type(e->match)));
	if (r->policy) {
		const char *key = ingress ? (dropped ? "ingress_denied_by" : "ingress_allowed_by")
					  : (dropped ? "egress_denied_by" : "egress_allowed_by");

		err |= set(o, key, policy_json(r));
	}
	err |= set(o, "pseudopod", extra_json(e));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- table line (from JSON: the CLI's side) ---- */

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "10.0.0.1:80" / "[fd00::1]:80" / "10.0.0.1" (no port for ICMP and unknown protocols). */
static void hostport(const char *ip, const json_t *l4proto, const char *port_key, char *buf,
		     size_t len)
{
	const json_t *port = json_object_get(l4proto, port_key);

	if (!ip || !*ip)
		ip = "?";
	if (json_is_integer(port))
		snprintf(buf, len, strchr(ip, ':') ? "[%s]:%lld" : "%s:%lld", ip,
			 (long long)json_integer_value(port));
	else
		snprintf(buf, len, "%s", ip);
}

/* "(300 k8s:app=web,k8s:env=prod)". */
static void ident(const json_t *ep, char *buf, size_t len)
{
	const json_t *id = json_object_get(ep, "identity"), *labels = json_object_get(ep, "labels");
	size_t off, i;
	const json_t *l;

	off = (size_t)snprintf(buf, len, "(%lld",
			       json_is_integer(id) ? (long long)json_integer_value(id) : -1LL);
	json_array_foreach(labels, i, l)
	{
		if (off >= len || !json_is_string(l))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : " ",
					json_string_value(l));
	}
	if (off < len)
		snprintf(buf + off, len - off, ")");
}

static const json_t *first_policy(const json_t *flow)
{
	static const char *const keys[] = {"ingress_denied_by", "egress_denied_by",
					   "ingress_allowed_by", "egress_allowed_by"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *p = json_array_get(json_object_get(flow, keys[i]), 0);

		if (json_is_object(p))
			return p;
	}
	return NULL;
}

int flows_json_line(const json_t *flow, char *buf, size_t len)
{
	const json_t *l4 = json_object_get(flow, "l4"), *l4p = NULL, *pol;
	const char *l4name = NULL, *reason, *verdict;
	char src[64], dst[64], sid[256], did[256], polbuf[320] = "", proto[32];
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)l4, k, v)
	{
		l4name = k;
		l4p = v;
		break;
	}
	hostport(str_at(flow, "IP", "source"), l4p, "source_port", src, sizeof(src));
	hostport(str_at(flow, "IP", "destination"), l4p, "destination_port", dst, sizeof(dst));
	ident(json_object_get(flow, "source"), sid, sizeof(sid));
	ident(json_object_get(flow, "destination"), did, sizeof(did));
	if (l4name && json_is_integer(json_object_get(l4p, "type"))) { /* ICMP: "ICMPv4(8)" */
		snprintf(proto, sizeof(proto), "%s(%lld)", l4name,
			 (long long)json_integer_value(json_object_get(l4p, "type")));
		l4name = proto;
	}
	if (!l4name)
		l4name =
		    str_at(flow, "pseudopod", "proto") ? str_at(flow, "pseudopod", "proto") : "-";
	verdict = str_at(flow, "verdict", NULL);
	reason = str_at(flow, "drop_reason_desc", NULL);
	pol = first_policy(flow);
	if (pol)
		snprintf(polbuf, sizeof(polbuf), " policy=%s rule=%s",
			 str_at(pol, "key", NULL) ? str_at(pol, "key", NULL) : "?",
			 str_at(pol, "rule", NULL) ? str_at(pol, "rule", NULL) : "?");
	return snprintf(
	    buf, len, "%s %-7s %s %s -> %s %s %s %s%s%s%s",
	    str_at(flow, "time", NULL) ? str_at(flow, "time", NULL) : "-",
	    str_at(flow, "traffic_direction", NULL) ? str_at(flow, "traffic_direction", NULL) : "-",
	    src, sid, dst, did, l4name, verdict ? verdict : "-", reason ? " " : "",
	    reason ? reason : "", polbuf);
}

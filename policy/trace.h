/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/trace.h: "would this traffic be allowed?" — evaluates one flow against the
 * engine's policies, both directions: the source's egress and the destination's ingress.
 * The flow is allowed only when both sides allow it.
 *
 * A peer is either a label set (an endpoint: its own policies apply, and it is the remote
 * identity for the other side; an identity with the same labels is reused, otherwise a
 * temporary one is made for the trace) or an address/prefix (not an endpoint: no policy
 * of its own; its remote identity is the most specific local CIDR identity containing it,
 * else world).
 *
 * Each side reports the deciding rule(s): the deny rules when one matches (deny wins),
 * otherwise the allow rules that match, otherwise "default deny" with the policies that
 * select the endpoint; or that no policy selects the endpoint in that direction.
 */
#ifndef PSEUDOPOD_POLICY_TRACE_H
#define PSEUDOPOD_POLICY_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "policy/cidr.h"
#include "policy/labels.h"

struct policy_engine;

struct trace_peer {
	bool is_cidr;
	struct cidr addr;
	struct label_set labels;
};

/* "10.1.2.3", "10.0.0.0/8", "fd00::1" -> address; otherwise a label list "k=v,k2=v2". */
bool trace_peer_parse(struct trace_peer *out, const char *text, char *err, size_t err_len);
void trace_peer_free(struct trace_peer *p);
/* "80/TCP", "53/UDP", "8/ICMP" (type), "128/ICMPv6", "80" (TCP). */
bool trace_port_parse(const char *text, uint8_t *proto, uint16_t *port, char *err, size_t err_len);

enum trace_reason {
	TRACE_NOT_ENDPOINT, /* the peer is an address: no policy of its own */
	TRACE_NOT_SELECTED, /* no policy enforces this direction: allowed */
	TRACE_ALLOWED,	    /* allow rule(s) match */
	TRACE_DENIED,	    /* deny rule(s) match */
	TRACE_DEFAULT_DENY, /* selected, nothing allows it */
};

struct trace_rule {
	char policy[600]; /* "CiliumNetworkPolicy prod/allow-web" */
	char origin[200]; /* "spec.egress[0]" */
	bool deny;
};

struct trace_side {
	bool allowed;
	enum trace_reason reason;
	uint32_t remote_identity;
	struct trace_rule *rules; /* deciding rules, or the selecting policies for
				     TRACE_DEFAULT_DENY (origin empty) */
	size_t n_rules;
};

struct trace_result {
	bool allowed;
	uint32_t src_identity, dst_identity;
	struct trace_side egress, ingress;
};

/* 0 or -errno. The engine is used as is and left as it was. */
int policy_trace(struct policy_engine *e, const struct trace_peer *src,
		 const struct trace_peer *dst, uint8_t proto, uint16_t port,
		 struct trace_result *out);
void trace_result_free(struct trace_result *r);
/* First line "verdict: allowed|denied", then one line per direction. */
void trace_print(FILE *f, const struct trace_result *r, const char *src_text, const char *dst_text);
/* {"verdict": "...", "src_identity": N, "dst_identity": N, "egress": {...}, "ingress": {...}} */
json_t *trace_to_json(const struct trace_result *r);

#endif

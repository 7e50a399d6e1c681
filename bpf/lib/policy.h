/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.h: the per-endpoint policy verdict, Cilium's semantics.
 *   1. the endpoint does not enforce this direction -> allow (DP_MATCH_NO_ENFORCE);
 *   2. a deny entry for the exact remote identity or for "any" covers the packet -> drop;
 *   3. an allow entry for the exact identity or "any" covers it -> allow;
 *   4. otherwise -> drop (default deny).
 * Deny and allow are separate key spaces of one LPM trie (see datapath.h), so each step
 * is at most two lookups and specificity never lets an allow hide a deny. The endpoint's
 * key counts skip the deny step and the "any" lookups when they cannot match.
 * `l3only` (non-first fragments without a tracked first fragment) stops the lookup
 * before the port: only entries that do not restrict the port can match.
 */
#ifndef PSEUDOPOD_BPF_LIB_POLICY_H
#define PSEUDOPOD_BPF_LIB_POLICY_H

#include "bpf/lib/maps.h"

struct dp_verdict {
	__u32 rule_id;
	__u32 endpoint;
	__u8 reason; /* DP_OK_POLICY, DP_DROP_POLICY_DENY or DP_DROP_POLICY */
	__u8 match;  /* enum dp_match */
};

static __always_inline __u8 dp_match_type(int exact_identity, __u8 prefix)
{
	int l4 = prefix >= DP_POL_PREFIX_PROTO - DP_POL_PREFIX_EXACT;

	if (exact_identity)
		return l4 ? DP_MATCH_L3_L4 : DP_MATCH_L3_ONLY;
	return l4 ? DP_MATCH_L4_ONLY : DP_MATCH_ALL;
}

/* One identity in one key space: the exact-port hash, then the trie when it may match. */
static __always_inline struct dp_policy_val *dp_policy_lookup1(struct dp_policy_key *k, int l3only,
							       int has_lpm)
{
	struct dp_policy_val *v = 0;

	if (!l3only) {
		k->prefixlen = DP_POL_PREFIX_FULL;
		v = bpf_map_lookup_elem(&policy_exact, k);
		if (v)
			return v;
	}
	if (!has_lpm)
		return 0;
	k->prefixlen = l3only ? DP_POL_PREFIX_PROTO : DP_POL_PREFIX_FULL;
	return bpf_map_lookup_elem(&policy, k);
}

/* One key space (allow or deny): exact identity first, then any (when there are any). */
static __always_inline struct dp_policy_val *dp_policy_lookup2(struct dp_policy_key *k,
							       __u32 remote, int has_any,
							       int l3only, int has_lpm, int *exact)
{
	struct dp_policy_val *v;

	k->identity = bpf_htonl(remote);
	v = dp_policy_lookup1(k, l3only, has_lpm);
	if (v) {
		*exact = 1;
		return v;
	}
	*exact = 0;
	if (remote == 0 || !has_any)
		return 0;
	k->identity = 0;
	return dp_policy_lookup1(k, l3only, has_lpm);
}

static __always_inline void dp_policy_check(__u32 endpoint, __u32 remote, __u8 dir, __u8 proto,
					    __u16 port_be, int l3only, struct dp_verdict *out)
{
	struct dp_endpoint_val *ep;
	struct dp_policy_key k = {};
	struct dp_policy_val *v;
	int exact, has_any, has_lpm;

	out->endpoint = endpoint;
	out->rule_id = 0;
	ep = bpf_map_lookup_elem(&endpoints, &endpoint);
	if (!ep || !(ep->flags &
		     (dir == DP_DIR_INGRESS ? DP_EP_F_ENFORCE_INGRESS : DP_EP_F_ENFORCE_EGRESS))) {
		out->reason = DP_OK_POLICY;
		out->match = DP_MATCH_NO_ENFORCE;
		return;
	}
	k.endpoint = bpf_htonl(endpoint);
	k.dir = dir;
	k.proto = proto;
	k.port = l3only ? 0 : port_be;

	has_any = ep->any_keys[dir & 1] != 0;
	has_lpm = ep->lpm_keys[dir & 1] != 0;
	k.deny = 1;
	v = ep->deny_keys[dir & 1] ? dp_policy_lookup2(&k, remote, has_any, l3only, has_lpm, &exact)
				   : 0;
	if (v) {
		out->reason = DP_DROP_POLICY_DENY;
		out->rule_id = v->rule_id;
		out->match = dp_match_type(exact, v->prefix);
		return;
	}
	k.deny = 0;
	v = dp_policy_lookup2(&k, remote, has_any, l3only, has_lpm, &exact);
	if (v) {
		out->reason = DP_OK_POLICY;
		out->rule_id = v->rule_id;
		out->match = dp_match_type(exact, v->prefix);
		return;
	}
	out->reason = DP_DROP_POLICY;
	out->match = DP_MATCH_NONE;
}

#endif

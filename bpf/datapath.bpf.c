// SPDX-License-Identifier: GPL-2.0-only
/*
 * datapath.bpf.c: the tc (clsact, direct-action) entry programs. One object for both
 * modes (const volatile dp_cfg_mode) so the maps are defined once; six thin entries —
 * {ingress, egress} x {eth, l3, vxlan} — that differ only in how the packet is framed
 * and whether a tunnel key is read or written. The loader attaches the pair that fits
 * the device (veth: eth; WireGuard/TUN: l3; VXLAN in external mode: vxlan).
 *
 * Verdict order for an IP packet (docs/datapath.md has the full table):
 *   parse (malformed -> drop with its reason) -> gateway ingress: anti-spoofing ->
 *   non-first fragment: tracked first fragment, else L3-only policy -> conntrack
 *   (established / reply / related ICMP error pass, no identity lookup needed) ->
 *   identities (ipcache; VXLAN ingress: VNI from a known gateway) -> policy (gateway ingress:
 *   the machine's egress policy, then the pod's ingress policy) -> conntrack entry created
 *   on allow -> VXLAN egress: tunnel key {remote = ipcache tunnel endpoint, VNI = source
 *   identity}.
 */
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/datapath.h"
#include "bpf/lib/maps.h"
#include "bpf/lib/parse.h"
#include "bpf/lib/ipcache.h"
#include "bpf/lib/policy.h"
#include "bpf/lib/conntrack.h"
#include "bpf/lib/events.h"
#include "bpf/lib/gateway.h"
#include "bpf/lib/identity.h"
#include "bpf/lib/verdict.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline int dp_drop(struct __sk_buff *skb, struct dp_pkt *p, struct dp_ev_info *ev,
				   __u8 reason, __u64 now)
{
	ev->type = (reason == DP_DROP_POLICY || reason == DP_DROP_POLICY_DENY) ? DP_EV_VERDICT
									       : DP_EV_DROP;
	ev->reason = reason;
	dp_event_emit(skb, p, ev, now);
	dp_count(ev->dir, reason, skb->len);
	return TC_ACT_SHOT;
}

/*
 * Tracked traffic needs no identity, so no ipcache lookup: a later fragment of an allowed
 * datagram, or a conntrack hit (established / reply / related). Returns that DP_OK_*
 * reason, or DP_OK_POLICY when the packet is not tracked and policy must decide; *l3only
 * is set for a later fragment whose first fragment is unknown (L3-only verdict).
 */
static __always_inline __u8 dp_tracked(struct dp_pkt *p, __u8 dir, __u32 len, __u64 now,
				       int *l3only)
{
	int ret;

	if (p->frag == DP_FRAG_LATER) {
		if (dp_frag_allowed(p, dir, now))
			return DP_OK_FRAG;
		*l3only = 1;
		return DP_OK_POLICY;
	}
	ret = dp_ct_lookup(p, dir, len, now);
	if (ret == DP_CT_NEW)
		return DP_OK_POLICY;
	return ret == DP_CT_ESTABLISHED ? DP_OK_CT_ESTABLISHED
	       : ret == DP_CT_REPLY	? DP_OK_CT_REPLY
					: DP_OK_CT_RELATED;
}

static __always_inline int dp_pass_tracked(struct __sk_buff *skb, struct dp_pkt *p,
					   struct dp_ev_info *ev, __u8 dir, int vxlan, __u8 reason,
					   __u32 len, __u64 now)
{
	if (vxlan && dir == DP_DIR_EGRESS) {
		/* Tracked packets still need their tunnel key; the VNI is the source identity
		 * (this machine's, or on a gateway the pod's, from the ipcache). */
		__u32 src_id = dp_cfg_mode == DP_MODE_GATEWAY
				   ? dp_ipcache_identity(dp_ipcache_lookup(p->family, p->saddr))
				   : dp_cfg_identity;
		struct dp_ipcache_val *dip = dp_ipcache_lookup(p->family, p->daddr);
		int ret = dp_set_tunnel(skb, dip, src_id, ev);

		if (ret != DP_PARSE_OK)
			return dp_drop(skb, p, ev, ret, now);
	}
	/* A first fragment on a tracked flow (a large datagram on an established flow, a
	 * large reply such as an EDNS answer) vouches for its later fragments exactly as on
	 * a new flow: they carry no ports, so only this record lets them follow. */
	if (p->frag == DP_FRAG_FIRST)
		dp_frag_remember(p, dir, now);
	dp_count(dir, reason, len);
	return TC_ACT_OK;
}

/* A new flow policy allowed: tunnel key, conntrack entry, first fragment, event. */
static __always_inline int dp_pass_new(struct __sk_buff *skb, struct dp_pkt *p,
				       struct dp_ev_info *ev, __u8 dir, int vxlan,
				       struct dp_ipcache_val *dip, __u32 len, __u64 now)
{
	if (vxlan && dir == DP_DIR_EGRESS) {
		int ret = dp_set_tunnel(skb, dip, ev->src_identity, ev);

		if (ret != DP_PARSE_OK)
			return dp_drop(skb, p, ev, ret, now);
	}
	if (p->frag != DP_FRAG_LATER)
		dp_ct_create(p, dir, ev->src_identity, ev->dst_identity, len, now);
	if (p->frag == DP_FRAG_FIRST)
		dp_frag_remember(p, dir, now);
	ev->type = DP_EV_VERDICT;
	ev->reason = DP_OK_POLICY;
	dp_event_emit(skb, p, ev, now);
	dp_count(dir, DP_OK_POLICY, len);
	return TC_ACT_OK;
}

static __always_inline int dp_handle(struct __sk_buff *skb, __u8 dir, int l3, int vxlan)
{
	struct dp_ipcache_val *sip = 0, *dip = 0;
	struct dp_ev_info ev = {};
	struct dp_verdict v = {};
	struct dp_pkt p = {};
	/* Jiffies are enough for lifetimes in seconds, and the verifier inlines this helper
	 * into a load: no clock read on every packet. */
	__u64 now = bpf_jiffies64();
	__u32 len = skb->len;
	int ret, l3only = 0;
	__u8 ok_reason;

	ev.dir = dir;
	ret = dp_parse(skb, &p, l3);
	if (ret == DP_PARSE_NON_IP) {
		dp_count(dir, DP_OK_NON_IP, len);
		return TC_ACT_OK;
	}
	if (ret != DP_PARSE_OK)
		return dp_drop(skb, &p, &ev, ret, now);
	if (p.nd) {
		dp_count(dir, DP_OK_ND, len);
		return TC_ACT_OK;
	}
	if (dp_gw_from_machine(dir)) {
		ret = dp_gw_antispoof(skb, &p, vxlan, &sip);
		if (ret != DP_PARSE_OK)
			return dp_drop(skb, &p, &ev, ret, now);
	}
	ok_reason = dp_tracked(&p, dir, len, now, &l3only);
	if (ok_reason != DP_OK_POLICY)
		return dp_pass_tracked(skb, &p, &ev, dir, vxlan, ok_reason, len, now);

	/* A new flow (or an orphan fragment): identities, then policy. */
	ret = dp_identities(skb, &p, dir, vxlan, &sip, &dip, &ev);
	if (ret != DP_PARSE_OK)
		return dp_drop(skb, &p, &ev, ret, now);
	dp_verdict(&p, dir, l3only, &ev, &v);
	ev.endpoint = v.endpoint;
	ev.rule_id = v.rule_id;
	ev.match = v.match;
	if (v.reason == DP_OK_POLICY)
		return dp_pass_new(skb, &p, &ev, dir, vxlan, dip, len, now);
	if (l3only && v.reason == DP_DROP_POLICY)
		v.reason = DP_DROP_FRAG_NO_FIRST;
	return dp_drop(skb, &p, &ev, v.reason, now);
}

SEC("tc")
int dp_ingress_eth(struct __sk_buff *skb)
{
	return dp_handle(skb, DP_DIR_INGRESS, 0, 0);
}

SEC("tc")
int dp_egress_eth(struct __sk_buff *skb)
{
	return dp_handle(skb, DP_DIR_EGRESS, 0, 0);
}

SEC("tc")
int dp_ingress_l3(struct __sk_buff *skb)
{
	return dp_handle(skb, DP_DIR_INGRESS, 1, 0);
}

SEC("tc")
int dp_egress_l3(struct __sk_buff *skb)
{
	return dp_handle(skb, DP_DIR_EGRESS, 1, 0);
}

/*
 * The VXLAN device is NOARP (tunnel/vxlan.h): the sender's frame carries the sender's own
 * device MAC as destination, which the stack here would drop as PACKET_OTHERHOST. The
 * remote was chosen by IP from the ipcache and the frame passed policy: it is for this
 * host (or for a pod it routes to).
 */
SEC("tc")
int dp_ingress_vxlan(struct __sk_buff *skb)
{
	int ret = dp_handle(skb, DP_DIR_INGRESS, 0, 1);

	if (ret == TC_ACT_OK && skb->pkt_type == PACKET_OTHERHOST)
		bpf_skb_change_type(skb, PACKET_HOST);
	return ret;
}

SEC("tc")
int dp_egress_vxlan(struct __sk_buff *skb)
{
	return dp_handle(skb, DP_DIR_EGRESS, 0, 1);
}

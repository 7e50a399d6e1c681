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

/* VXLAN egress: remote = the destination's tunnel endpoint, VNI = the source identity. */
static __always_inline int dp_set_tunnel(struct __sk_buff *skb, struct dp_ipcache_val *dip,
					 __u32 src_identity, struct dp_ev_info *ev)
{
	struct bpf_tunnel_key tk = {};

	if (!dip || !dip->tunnel_ipv4)
		return DP_DROP_NO_TUNNEL;
	tk.remote_ipv4 = bpf_ntohl(dip->tunnel_ipv4); /* the helper wants host order */
	tk.tunnel_id = src_identity & DP_VNI_MASK;
	tk.tunnel_ttl = 64;
	if (bpf_skb_set_tunnel_key(skb, &tk, sizeof(tk), BPF_F_ZERO_CSUM_TX) < 0)
		return DP_DROP_TUNNEL_KEY;
	ev->flags |= DP_EV_F_TUNNEL;
	ev->tunnel_id = tk.tunnel_id;
	ev->tunnel_ipv4 = dip->tunnel_ipv4;
	return DP_PARSE_OK;
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

	/* Gateway, from a machine: anti-spoofing applies to every packet, tracked or not.
	 * Only a registered machine's overlay IP may come in, and over VXLAN only from the
	 * underlay address registered for it. */
	if (dp_cfg_mode == DP_MODE_GATEWAY && dir == DP_DIR_INGRESS) {
		sip = dp_ipcache_lookup(p.family, p.saddr);
		if (!sip || !(sip->flags & DP_IPC_F_WORKLOAD))
			return dp_drop(skb, &p, &ev, DP_DROP_SPOOF, now);
		if (vxlan) {
			struct bpf_tunnel_key tk = {};

			if (bpf_skb_get_tunnel_key(skb, &tk, sizeof(tk), 0) < 0)
				return dp_drop(skb, &p, &ev, DP_DROP_TUNNEL_KEY, now);
			if (bpf_htonl(tk.remote_ipv4) != sip->tunnel_ipv4)
				return dp_drop(skb, &p, &ev, DP_DROP_SPOOF, now);
		}
	}

	/* Tracked traffic first: it needs no identity, so no ipcache lookup. */
	if (p.frag == DP_FRAG_LATER) {
		if (dp_frag_allowed(&p, dir, now)) {
			ok_reason = DP_OK_FRAG;
			goto pass;
		}
		l3only = 1;
	} else {
		ret = dp_ct_lookup(&p, dir, len, now);
		if (ret != DP_CT_NEW) {
			ok_reason = ret == DP_CT_ESTABLISHED ? DP_OK_CT_ESTABLISHED
				    : ret == DP_CT_REPLY     ? DP_OK_CT_REPLY
							     : DP_OK_CT_RELATED;
			goto pass;
		}
	}

	/* A new flow (or an orphan fragment): identities, then policy. */
	/* A workload needs only the remote side's entry; a gateway both (pod and machine). */
	if (!sip && (dp_cfg_mode == DP_MODE_GATEWAY || dir == DP_DIR_INGRESS))
		sip = dp_ipcache_lookup(p.family, p.saddr);
	if (dp_cfg_mode == DP_MODE_GATEWAY || dir == DP_DIR_EGRESS)
		dip = dp_ipcache_lookup(p.family, p.daddr);
	if (dp_cfg_mode == DP_MODE_GATEWAY) {
		ev.src_identity = dp_ipcache_identity(sip);
		ev.dst_identity = dp_ipcache_identity(dip);
	} else if (dir == DP_DIR_EGRESS) {
		ev.src_identity = dp_cfg_identity;
		ev.dst_identity = dp_ipcache_identity(dip);
	} else {
		ev.dst_identity = dp_cfg_identity;
		ev.src_identity = dp_ipcache_identity(sip);
		if (vxlan) {
			struct bpf_tunnel_key tk = {};

			if (bpf_skb_get_tunnel_key(skb, &tk, sizeof(tk), 0) < 0)
				return dp_drop(skb, &p, &ev, DP_DROP_TUNNEL_KEY, now);
			/* The VNI is trusted only from the gateway serving the inner source. */
			if (sip && sip->tunnel_ipv4 &&
			    bpf_htonl(tk.remote_ipv4) == sip->tunnel_ipv4)
				ev.src_identity = tk.tunnel_id & DP_VNI_MASK;
			else
				ev.src_identity = DP_ID_WORLD;
			ev.flags |= DP_EV_F_TUNNEL;
			ev.tunnel_id = tk.tunnel_id;
			ev.tunnel_ipv4 = bpf_htonl(tk.remote_ipv4);
		}
	}

	/* Gateway, from a machine: the machine's own egress policy first (it may have
	 * unloaded its datapath), then the pod's ingress policy below. */
	if (dp_cfg_mode == DP_MODE_GATEWAY && dir == DP_DIR_INGRESS) {
		dp_policy_check(ev.src_identity, ev.dst_identity, DP_DIR_EGRESS, p.proto,
				p.pol_port, l3only, &v);
		if (v.reason != DP_OK_POLICY)
			goto deny;
	}
	if (dir == DP_DIR_EGRESS)
		dp_policy_check(ev.src_identity, ev.dst_identity, DP_DIR_EGRESS, p.proto,
				p.pol_port, l3only, &v);
	else
		dp_policy_check(ev.dst_identity, ev.src_identity, DP_DIR_INGRESS, p.proto,
				p.pol_port, l3only, &v);
	if (v.reason != DP_OK_POLICY)
		goto deny;

	ev.endpoint = v.endpoint;
	ev.rule_id = v.rule_id;
	ev.match = v.match;
	if (vxlan && dir == DP_DIR_EGRESS) {
		ret = dp_set_tunnel(skb, dip, ev.src_identity, &ev);
		if (ret != DP_PARSE_OK)
			return dp_drop(skb, &p, &ev, ret, now);
	}
	if (p.frag != DP_FRAG_LATER)
		dp_ct_create(&p, dir, ev.src_identity, ev.dst_identity, len, now);
	if (p.frag == DP_FRAG_FIRST)
		dp_frag_remember(&p, dir, now);
	ev.type = DP_EV_VERDICT;
	ev.reason = DP_OK_POLICY;
	dp_event_emit(skb, &p, &ev, now);
	dp_count(dir, DP_OK_POLICY, len);
	return TC_ACT_OK;

deny:
	ev.endpoint = v.endpoint;
	ev.rule_id = v.rule_id;
	ev.match = v.match;
	if (l3only && v.reason == DP_DROP_POLICY)
		v.reason = DP_DROP_FRAG_NO_FIRST;
	return dp_drop(skb, &p, &ev, v.reason, now);

pass:
	if (vxlan && dir == DP_DIR_EGRESS) {
		/* Tracked packets still need their tunnel key; the VNI is the source identity
		 * (this machine's, or on a gateway the pod's, from the ipcache). */
		__u32 src_id = dp_cfg_mode == DP_MODE_GATEWAY
				   ? dp_ipcache_identity(dp_ipcache_lookup(p.family, p.saddr))
				   : dp_cfg_identity;

		dip = dp_ipcache_lookup(p.family, p.daddr);
		ret = dp_set_tunnel(skb, dip, src_id, &ev);
		if (ret != DP_PARSE_OK)
			return dp_drop(skb, &p, &ev, ret, now);
	}
	dp_count(dir, ok_reason, len);
	return TC_ACT_OK;
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

SEC("tc")
int dp_ingress_vxlan(struct __sk_buff *skb)
{
	return dp_handle(skb, DP_DIR_INGRESS, 0, 1);
}

SEC("tc")
int dp_egress_vxlan(struct __sk_buff *skb)
{
	return dp_handle(skb, DP_DIR_EGRESS, 0, 1);
}

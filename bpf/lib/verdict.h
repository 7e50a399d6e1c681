/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * verdict.h: which policy decides a new flow, and the tunnel key of VXLAN egress.
 *   workload egress:  this machine's egress policy towards the destination;
 *   workload ingress: this machine's ingress policy from the source;
 *   gateway egress (towards a machine): the pod's egress policy;
 *   gateway ingress (from a machine): the machine's egress policy first (a machine that
 *     unloaded its own datapath still cannot reach what its policy forbids), then the
 *     pod's ingress policy; both must allow.
 */
#ifndef PSEUDOPOD_BPF_LIB_VERDICT_H
#define PSEUDOPOD_BPF_LIB_VERDICT_H

#include "bpf/lib/maps.h"
#include "bpf/lib/parse.h"
#include "bpf/lib/policy.h"
#include "bpf/lib/events.h"
#include "bpf/lib/gateway.h"

/* v->reason is DP_OK_POLICY when every policy that applies allows the packet. */
static __always_inline void dp_verdict(struct dp_pkt *p, __u8 dir, int l3only,
				       const struct dp_ev_info *ev, struct dp_verdict *v)
{
	if (dp_gw_from_machine(dir)) {
		dp_policy_check(ev->src_identity, ev->dst_identity, DP_DIR_EGRESS, p->proto,
				p->pol_port, l3only, v);
		if (v->reason != DP_OK_POLICY)
			return;
	}
	if (dir == DP_DIR_EGRESS)
		dp_policy_check(ev->src_identity, ev->dst_identity, DP_DIR_EGRESS, p->proto,
				p->pol_port, l3only, v);
	else
		dp_policy_check(ev->dst_identity, ev->src_identity, DP_DIR_INGRESS, p->proto,
				p->pol_port, l3only, v);
}

/*
 * VXLAN egress: remote = the destination's tunnel endpoint, VNI = the source identity. On a
 * machine, an address without one (a pod, a CIDR, an unknown address) is reached through
 * the machine's gateway (the tunnel map); a gateway routes pods itself, so there it drops.
 */
static __always_inline int dp_set_tunnel(struct __sk_buff *skb, struct dp_ipcache_val *dip,
					 __u32 src_identity, struct dp_ev_info *ev)
{
	struct bpf_tunnel_key tk = {};
	__u32 remote = dip ? dip->tunnel_ipv4 : 0;

	if (!remote && dp_cfg_mode == DP_MODE_WORKLOAD)
		remote = dp_tunnel_gateway();
	if (!remote)
		return DP_DROP_NO_TUNNEL;
	tk.remote_ipv4 = bpf_ntohl(remote); /* the helper wants host order */
	tk.tunnel_id = src_identity & DP_VNI_MASK;
	tk.tunnel_ttl = 64;
	if (bpf_skb_set_tunnel_key(skb, &tk, sizeof(tk), BPF_F_ZERO_CSUM_TX) < 0)
		return DP_DROP_TUNNEL_KEY;
	ev->flags |= DP_EV_F_TUNNEL;
	ev->tunnel_id = tk.tunnel_id;
	ev->tunnel_ipv4 = remote;
	return DP_PARSE_OK;
}

#endif

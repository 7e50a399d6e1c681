/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * identity.h: the two identities of a new flow (or an orphan fragment), into the event
 * record that also carries them to conntrack and policy.
 *   workload egress:  source = this machine (dp_cfg_identity), destination from the ipcache;
 *   workload ingress: destination = this machine, source from the ipcache, except over
 *                     VXLAN where it is the VNI — trusted only when the outer source is the
 *                     tunnel endpoint the ipcache lists for the inner source (the gateway
 *                     serving it); a source whose entry lists none (a pod, another machine,
 *                     a CIDR) is behind this machine's gateway (the tunnel map): from there
 *                     its ipcache identity (a CIDR identity is local to each engine, so
 *                     never the VNI); from anywhere else world;
 *   gateway:          both sides from the ipcache (pod and machine).
 * Unknown addresses are world (2).
 */
#ifndef PSEUDOPOD_BPF_LIB_IDENTITY_H
#define PSEUDOPOD_BPF_LIB_IDENTITY_H

#include "bpf/lib/maps.h"
#include "bpf/lib/parse.h"
#include "bpf/lib/ipcache.h"
#include "bpf/lib/events.h"

/* Workload VXLAN ingress: the source identity from the tunnel key. */
static __always_inline int dp_id_from_vni(struct __sk_buff *skb, struct dp_ipcache_val *sip,
					  struct dp_ev_info *ev)
{
	struct bpf_tunnel_key tk = {};

	if (bpf_skb_get_tunnel_key(skb, &tk, sizeof(tk), 0) < 0)
		return DP_DROP_TUNNEL_KEY;
	if (sip && sip->tunnel_ipv4 && bpf_htonl(tk.remote_ipv4) == sip->tunnel_ipv4)
		ev->src_identity = tk.tunnel_id & DP_VNI_MASK;
	else if (!sip || sip->tunnel_ipv4 || !tk.remote_ipv4 ||
		 bpf_htonl(tk.remote_ipv4) != dp_tunnel_gateway())
		ev->src_identity = DP_ID_WORLD;
	/* else: from our gateway, the ipcache identity dp_identities() put there */
	ev->flags |= DP_EV_F_TUNNEL;
	ev->tunnel_id = tk.tunnel_id;
	ev->tunnel_ipv4 = bpf_htonl(tk.remote_ipv4);
	return DP_PARSE_OK;
}

/*
 * Fills ev->src_identity / dst_identity; *sip / *dip are the ipcache entries looked up
 * (*sip may already hold the gateway anti-spoofing lookup). DP_PARSE_OK or a drop reason.
 * A workload needs only the remote side's entry; a gateway both.
 */
static __always_inline int dp_identities(struct __sk_buff *skb, struct dp_pkt *p, __u8 dir,
					 int vxlan, struct dp_ipcache_val **sip,
					 struct dp_ipcache_val **dip, struct dp_ev_info *ev)
{
	if (!*sip && (dp_cfg_mode == DP_MODE_GATEWAY || dir == DP_DIR_INGRESS))
		*sip = dp_ipcache_lookup(p->family, p->saddr);
	if (dp_cfg_mode == DP_MODE_GATEWAY || dir == DP_DIR_EGRESS)
		*dip = dp_ipcache_lookup(p->family, p->daddr);
	if (dp_cfg_mode == DP_MODE_GATEWAY) {
		ev->src_identity = dp_ipcache_identity(*sip);
		ev->dst_identity = dp_ipcache_identity(*dip);
	} else if (dir == DP_DIR_EGRESS) {
		ev->src_identity = dp_cfg_identity;
		ev->dst_identity = dp_ipcache_identity(*dip);
	} else {
		ev->dst_identity = dp_cfg_identity;
		ev->src_identity = dp_ipcache_identity(*sip);
		if (vxlan)
			return dp_id_from_vni(skb, *sip, ev);
	}
	return DP_PARSE_OK;
}

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gateway.h: what only a gateway does on packets coming in from a machine. Anti-spoofing
 * applies to every such packet, tracked or not: only a registered machine's overlay IP
 * (an ipcache entry flagged workload) may come in, and over VXLAN only from the underlay
 * address registered for it.
 */
#ifndef PSEUDOPOD_BPF_LIB_GATEWAY_H
#define PSEUDOPOD_BPF_LIB_GATEWAY_H

#include "bpf/lib/maps.h"
#include "bpf/lib/parse.h"
#include "bpf/lib/ipcache.h"

/* The one test for "a gateway's hook facing the machines" (traffic from a machine). */
static __always_inline int dp_gw_from_machine(__u8 dir)
{
	return dp_cfg_mode == DP_MODE_GATEWAY && dir == DP_DIR_INGRESS;
}

/* Anti-spoofing: DP_PARSE_OK with *sip set to the machine's entry, or a drop reason. */
static __always_inline int dp_gw_antispoof(struct __sk_buff *skb, struct dp_pkt *p, int vxlan,
					   struct dp_ipcache_val **sip)
{
	struct dp_ipcache_val *v = dp_ipcache_lookup(p->family, p->saddr);

	*sip = v;
	if (!v || !(v->flags & DP_IPC_F_WORKLOAD))
		return DP_DROP_SPOOF;
	if (vxlan) {
		struct bpf_tunnel_key tk = {};

		if (bpf_skb_get_tunnel_key(skb, &tk, sizeof(tk), 0) < 0)
			return DP_DROP_TUNNEL_KEY;
		if (bpf_htonl(tk.remote_ipv4) != v->tunnel_ipv4)
			return DP_DROP_SPOOF;
	}
	return DP_PARSE_OK;
}

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * events.h: per-CPU counters (always) and ring-buffer events (new-flow verdicts and
 * drops; never established packets). Events pass a per-CPU limiter of
 * dp_cfg_events_rate per second so a flood of drops cannot fill the ring buffer and
 * starve everyone else's events; what the limiter or a full ring refuses is counted in
 * the DP_METRIC_EVENTS_LOST slot.
 */
#ifndef PSEUDOPOD_BPF_LIB_EVENTS_H
#define PSEUDOPOD_BPF_LIB_EVENTS_H

#include "bpf/lib/maps.h"
#include "bpf/lib/parse.h"

static __always_inline void dp_metric_add(__u32 idx, __u32 len)
{
	struct dp_metric *m = bpf_map_lookup_elem(&metrics, &idx);

	if (m) {
		m->packets++;
		m->bytes += len;
	}
}

static __always_inline void dp_count(__u8 dir, __u8 reason, __u32 len)
{
	dp_metric_add((__u32)dir * DP_REASON_MAX + reason, len);
}

static __always_inline int dp_event_allowed(__u64 now)
{
	__u32 zero = 0;
	struct dp_ratelimit *rl;

	if (!dp_cfg_events_rate)
		return 1;
	rl = bpf_map_lookup_elem(&events_rl, &zero);
	if (!rl)
		return 0;
	if (now - rl->window >= dp_cfg_hz) { /* a one-second window, in jiffies */
		rl->window = now;
		rl->count = 0;
	}
	if (rl->count >= dp_cfg_events_rate)
		return 0;
	rl->count++;
	return 1;
}

struct dp_ev_info {
	__u32 src_identity;
	__u32 dst_identity;
	__u32 endpoint;
	__u32 rule_id;
	__u32 tunnel_id;
	__u32 tunnel_ipv4;
	__u8 type;
	__u8 reason;
	__u8 dir;
	__u8 match;
	__u8 flags;
};

static __always_inline void dp_event_emit(struct __sk_buff *skb, struct dp_pkt *p,
					  struct dp_ev_info *i, __u64 now)
{
	struct dp_event *e;

	if (!dp_event_allowed(now)) {
		dp_metric_add(DP_METRIC_EVENTS_LOST, 0);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		dp_metric_add(DP_METRIC_EVENTS_LOST, 0);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns(); /* events are rare: a real clock read is fine */
	e->type = i->type;
	e->reason = i->reason;
	e->dir = i->dir;
	e->match = i->match;
	e->family = p->family;
	e->proto = p->proto;
	e->flags = i->flags;
	e->pad = 0;
	e->ifindex = skb->ifindex;
	e->len = skb->len;
	e->src_identity = i->src_identity;
	e->dst_identity = i->dst_identity;
	e->endpoint = i->endpoint;
	e->rule_id = i->rule_id;
	e->tunnel_id = i->tunnel_id;
	e->tunnel_ipv4 = i->tunnel_ipv4;
	__builtin_memcpy(e->saddr, p->saddr, 16);
	__builtin_memcpy(e->daddr, p->daddr, 16);
	e->sport = p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6 ? 0 : p->sport;
	e->dport = p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6 ? p->pol_port : p->dport;
	e->pad2 = 0;
	bpf_ringbuf_submit(e, 0);
}

#endif

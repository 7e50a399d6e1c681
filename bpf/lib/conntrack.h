/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conntrack.h: the flow table. Entries are created only after every policy check of the
 * hook allowed the packet (dp_ct_create). A later packet is
 *   established — its own tuple is there with this hook's direction;
 *   reply       — its reversed tuple is there with the other hook's direction;
 *   related     — it is an ICMP error quoting a packet of a tracked flow.
 * TCP flags move the entry's deadline: SYN only 60 s, after a reply 6 h, FIN from both
 * sides or RST 10 s. Expired entries count as absent (the LRU reclaims them). Time is in
 * jiffies (`now` is bpf_jiffies64()).
 */
#ifndef PSEUDOPOD_BPF_LIB_CONNTRACK_H
#define PSEUDOPOD_BPF_LIB_CONNTRACK_H

#include "bpf/lib/maps.h"
#include "bpf/lib/parse.h"

enum dp_ct_result {
	DP_CT_NEW = 0,
	DP_CT_ESTABLISHED,
	DP_CT_REPLY,
	DP_CT_RELATED,
};

/* Seconds -> jiffies. */
#define DP_SEC(s) ((__u64)(s)*dp_cfg_hz)

static __always_inline __u64 dp_ct_lifetime(__u8 proto, __u32 flags)
{
	if (proto != IPPROTO_TCP)
		return DP_SEC(DP_CT_LIFETIME_NONTCP);
	if ((flags & DP_CT_RST) || ((flags & DP_CT_FIN_FWD) && (flags & DP_CT_FIN_REV)))
		return DP_SEC(DP_CT_LIFETIME_TCP_CLOSE);
	if (!(flags & DP_CT_SEEN_REV))
		return DP_SEC(DP_CT_LIFETIME_TCP_SYN);
	return DP_SEC(DP_CT_LIFETIME_TCP);
}

static __always_inline void dp_ct_touch(struct dp_ct_val *v, __u8 proto, __u8 tcp_flags, int rev,
					__u32 len, __u64 now)
{
	__u32 flags = v->flags;
	__u64 exp;

	if (rev)
		flags |= DP_CT_SEEN_REV;
	if (proto == IPPROTO_TCP) {
		if (tcp_flags & DP_TCP_RST)
			flags |= DP_CT_RST;
		if (tcp_flags & DP_TCP_FIN)
			flags |= rev ? DP_CT_FIN_REV : DP_CT_FIN_FWD;
		if (tcp_flags & DP_TCP_SYN)
			flags |= rev ? DP_CT_SYN_REV : DP_CT_SYN_FWD;
	}
	if (flags != v->flags)
		v->flags = flags;
	exp = now + dp_ct_lifetime(proto, flags);
	/* Write the deadline at most once a second per flow: keeps the cache line shared. */
	if (exp > v->expires + DP_SEC(1) || exp < v->expires)
		v->expires = exp;
	v->packets++;
	v->bytes += len;
}

/* The entry for a tuple in the family's table, or NULL (absent or expired). */
static __always_inline struct dp_ct_val *dp_ct_get(const __u8 *s, const __u8 *d, __u16 sp, __u16 dp,
						   __u8 proto, __u8 family, __u8 dir, __u64 now)
{
	struct dp_ct_val *v;

	if (family == 4) {
		struct dp_ct4_key k = {.sport = sp, .dport = dp, .proto = proto, .dir = dir};

		__builtin_memcpy(&k.saddr, s, 4);
		__builtin_memcpy(&k.daddr, d, 4);
		v = bpf_map_lookup_elem(&conntrack4, &k);
	} else {
		struct dp_ct_key k = {
		    .sport = sp, .dport = dp, .proto = proto, .family = 6, .dir = dir};

		__builtin_memcpy(k.saddr, s, 16);
		__builtin_memcpy(k.daddr, d, 16);
		v = bpf_map_lookup_elem(&conntrack6, &k);
	}
	if (v && v->expires < now)
		return 0;
	return v;
}

static __always_inline int dp_ct_lookup(struct dp_pkt *p, __u8 dir, __u32 len, __u64 now)
{
	struct dp_ct_val *v;

	v = dp_ct_get(p->saddr, p->daddr, p->sport, p->dport, p->proto, p->family, dir, now);
	if (v) {
		dp_ct_touch(v, p->proto, p->tcp_flags, 0, len, now);
		return DP_CT_ESTABLISHED;
	}
	v = dp_ct_get(p->daddr, p->saddr, p->dport, p->sport, p->proto, p->family, !dir, now);
	if (v) {
		dp_ct_touch(v, p->proto, p->tcp_flags, 1, len, now);
		return DP_CT_REPLY;
	}
	/* An ICMP error quotes a packet sent by the other side of this hook's traffic. */
	if (p->icmp_err && dp_ct_get(p->in_saddr, p->in_daddr, p->in_sport, p->in_dport,
				     p->in_proto, p->family, !dir, now))
		return DP_CT_RELATED;
	return DP_CT_NEW;
}

static __always_inline void dp_ct_create(struct dp_pkt *p, __u8 dir, __u32 src_id, __u32 dst_id,
					 __u32 len, __u64 now)
{
	struct dp_ct_val v = {};

	v.src_identity = src_id;
	v.dst_identity = dst_id;
	v.packets = 1;
	v.bytes = len;
	if (p->proto == IPPROTO_TCP) {
		if (p->tcp_flags & DP_TCP_SYN)
			v.flags |= DP_CT_SYN_FWD;
		if (p->tcp_flags & DP_TCP_RST)
			v.flags |= DP_CT_RST;
	}
	v.expires = now + dp_ct_lifetime(p->proto, v.flags);
	if (p->family == 4) {
		struct dp_ct4_key k = {
		    .sport = p->sport, .dport = p->dport, .proto = p->proto, .dir = dir};

		__builtin_memcpy(&k.saddr, p->saddr, 4);
		__builtin_memcpy(&k.daddr, p->daddr, 4);
		bpf_map_update_elem(&conntrack4, &k, &v, BPF_ANY);
	} else {
		struct dp_ct_key k = {.sport = p->sport,
				      .dport = p->dport,
				      .proto = p->proto,
				      .family = 6,
				      .dir = dir};

		__builtin_memcpy(k.saddr, p->saddr, 16);
		__builtin_memcpy(k.daddr, p->daddr, 16);
		bpf_map_update_elem(&conntrack6, &k, &v, BPF_ANY);
	}
}

/* Fragments: the first fragment's allow verdict covers the rest of its datagram. */
static __always_inline void dp_frag_key_fill(struct dp_frag_key *k, struct dp_pkt *p, __u8 dir)
{
	__builtin_memcpy(k->saddr, p->saddr, 16);
	__builtin_memcpy(k->daddr, p->daddr, 16);
	k->id = p->frag_id;
	k->proto = p->proto;
	k->family = p->family;
	k->dir = dir;
	k->pad = 0;
}

static __always_inline void dp_frag_remember(struct dp_pkt *p, __u8 dir, __u64 now)
{
	struct dp_frag_key k;
	struct dp_frag_val v = {.expires = now + DP_SEC(DP_FRAG_LIFETIME)};

	dp_frag_key_fill(&k, p, dir);
	bpf_map_update_elem(&frags, &k, &v, BPF_ANY);
}

static __always_inline int dp_frag_allowed(struct dp_pkt *p, __u8 dir, __u64 now)
{
	struct dp_frag_key k;
	struct dp_frag_val *v;

	dp_frag_key_fill(&k, p, dir);
	v = bpf_map_lookup_elem(&frags, &k);
	return v && v->expires >= now;
}

#endif

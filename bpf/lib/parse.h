/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse.h: packet parsing into struct dp_pkt. Every read goes through
 * bpf_skb_load_bytes(), which bounds-checks against the whole skb (linear or paged), so a
 * truncated header is a failed load and a defined drop reason — never an out-of-bounds
 * read. Parsers return DP_PARSE_OK or a drop reason; callers keep going only on OK.
 */
#ifndef PSEUDOPOD_BPF_LIB_PARSE_H
#define PSEUDOPOD_BPF_LIB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/datapath.h"

#define DP_PARSE_OK	0xff /* not a dp_reason: "keep going" */
#define DP_PARSE_NON_IP 0xfe

#define DP_MAX_EXTHDR 6

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif
/* linux/icmp.h drags in libc headers; the few ICMP numbers needed are spelled out. */
#define ICMP_ECHOREPLY	    0
#define ICMP_DEST_UNREACH   3
#define ICMP_ECHO	    8
#define ICMP_TIME_EXCEEDED  11
#define ICMP_PARAMETERPROB  12
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PARAMPROB    4
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY   129
#define DP_NEXTHDR_HOP	    0
#define DP_NEXTHDR_ROUTING  43
#define DP_NEXTHDR_FRAGMENT 44
#define DP_NEXTHDR_AUTH	    51
#define DP_NEXTHDR_DEST	    60

enum dp_frag_state {
	DP_FRAG_NONE = 0,
	DP_FRAG_FIRST = 1, /* offset 0, more fragments follow */
	DP_FRAG_LATER = 2, /* offset != 0: no L4 header */
};

/* A parsed packet. Addresses are 16 bytes; IPv4 uses the first 4, the rest zero. */
struct dp_pkt {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 l3_off;
	__u32 l4_off;
	__u32 frag_id;
	__u16 sport; /* conntrack ports, network order (ICMP echo: id, see datapath.h) */
	__u16 dport;
	__u16 pol_port; /* policy "port": destination port or ICMP type, network order */
	__u8 family;
	__u8 proto;
	__u8 frag;
	__u8 tcp_flags;
	__u8 icmp_err; /* an ICMP error whose inner tuple is in `inner` */
	__u8 nd;       /* ICMPv6 neighbour discovery */
	/* ICMP errors: the offending packet's tuple, as its sender saw it. */
	__u8 in_saddr[16];
	__u8 in_daddr[16];
	__u16 in_sport;
	__u16 in_dport;
	__u8 in_proto;
	__u8 pad[3];
};

/* TCP flag bits in byte 13 of the TCP header. */
#define DP_TCP_FIN 0x01
#define DP_TCP_SYN 0x02
#define DP_TCP_RST 0x04

static __always_inline void dp_copy_addr4(__u8 *dst, __u32 addr)
{
	__builtin_memcpy(dst, &addr, 4);
}

/*
 * Ports of an L4 header at `off` for conntrack. For ICMP echo the identifier stands in
 * for a port: request -> sport = id, reply -> dport = id, so that a reply's tuple is the
 * exact reverse of its request's.
 */
static __always_inline int dp_l4_ports(struct __sk_buff *skb, __u32 off, __u8 proto, __u8 family,
				       __u16 *sport, __u16 *dport)
{
	__u8 b[8];

	*sport = 0;
	*dport = 0;
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (bpf_skb_load_bytes(skb, off, b, 4) < 0)
			return -1;
		__builtin_memcpy(sport, &b[0], 2);
		__builtin_memcpy(dport, &b[2], 2);
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (bpf_skb_load_bytes(skb, off, b, 8) < 0)
			return -1;
		if ((family == 4 && b[0] == ICMP_ECHO) ||
		    (family == 6 && b[0] == ICMPV6_ECHO_REQUEST))
			__builtin_memcpy(sport, &b[4], 2);
		else if ((family == 4 && b[0] == ICMP_ECHOREPLY) ||
			 (family == 6 && b[0] == ICMPV6_ECHO_REPLY))
			__builtin_memcpy(dport, &b[4], 2);
		return 0;
	default:
		return 0;
	}
}

static __always_inline int dp_parse_ipv4(struct __sk_buff *skb, struct dp_pkt *p)
{
	struct iphdr ip;
	__u16 frag_off;
	__u32 hlen;

	if (bpf_skb_load_bytes(skb, p->l3_off, &ip, sizeof(ip)) < 0)
		return DP_DROP_SHORT_L3;
	if (ip.version != 4 || ip.ihl < 5)
		return DP_DROP_BAD_L3;
	hlen = ip.ihl * 4;
	if (bpf_ntohs(ip.tot_len) < hlen)
		return DP_DROP_BAD_L3;
	if (skb->len < p->l3_off + bpf_ntohs(ip.tot_len))
		return DP_DROP_SHORT_L3;
	p->family = 4;
	p->proto = ip.protocol;
	dp_copy_addr4(p->saddr, ip.saddr);
	dp_copy_addr4(p->daddr, ip.daddr);
	p->l4_off = p->l3_off + hlen; /* options are skipped, not interpreted */
	frag_off = bpf_ntohs(ip.frag_off);
	if (frag_off & 0x1fff)
		p->frag = DP_FRAG_LATER;
	else if (frag_off & 0x2000)
		p->frag = DP_FRAG_FIRST;
	p->frag_id = bpf_ntohs(ip.id);
	return DP_PARSE_OK;
}

static __always_inline int dp_parse_ipv6(struct __sk_buff *skb, struct dp_pkt *p)
{
	struct ipv6hdr ip6;
	__u32 off;
	__u8 nh;
	int i;

	if (bpf_skb_load_bytes(skb, p->l3_off, &ip6, sizeof(ip6)) < 0)
		return DP_DROP_SHORT_L3;
	if (ip6.version != 6)
		return DP_DROP_BAD_L3;
	if (skb->len < p->l3_off + sizeof(ip6) + bpf_ntohs(ip6.payload_len))
		return DP_DROP_SHORT_L3;
	p->family = 6;
	__builtin_memcpy(p->saddr, &ip6.saddr, 16);
	__builtin_memcpy(p->daddr, &ip6.daddr, 16);
	off = p->l3_off + sizeof(ip6);
	nh = ip6.nexthdr;

	/* Walk at most DP_MAX_EXTHDR extension headers; a longer chain is refused. */
#pragma unroll
	for (i = 0; i < DP_MAX_EXTHDR; i++) {
		__u8 h[8];

		switch (nh) {
		case DP_NEXTHDR_HOP:
		case DP_NEXTHDR_ROUTING:
		case DP_NEXTHDR_DEST:
			if (bpf_skb_load_bytes(skb, off, h, 2) < 0)
				return DP_DROP_BAD_EXTHDR;
			nh = h[0];
			off += ((__u32)h[1] + 1) * 8;
			break;
		case DP_NEXTHDR_AUTH:
			if (bpf_skb_load_bytes(skb, off, h, 2) < 0)
				return DP_DROP_BAD_EXTHDR;
			nh = h[0];
			off += ((__u32)h[1] + 2) * 4;
			break;
		case DP_NEXTHDR_FRAGMENT: {
			__u16 fo;
			__u32 id;

			if (bpf_skb_load_bytes(skb, off, h, 8) < 0)
				return DP_DROP_BAD_EXTHDR;
			nh = h[0];
			__builtin_memcpy(&fo, &h[2], 2);
			__builtin_memcpy(&id, &h[4], 4);
			fo = bpf_ntohs(fo);
			p->frag_id = bpf_ntohl(id);
			if (fo & 0xfff8)
				p->frag = DP_FRAG_LATER;
			else if (fo & 1)
				p->frag = DP_FRAG_FIRST;
			off += 8;
			if (p->frag == DP_FRAG_LATER)
				goto done; /* no upper-layer header in this fragment */
			break;
		}
		default:
			goto done;
		}
	}
	/* Still an extension header after the limit. */
	if (nh == DP_NEXTHDR_HOP || nh == DP_NEXTHDR_ROUTING || nh == DP_NEXTHDR_DEST ||
	    nh == DP_NEXTHDR_AUTH || nh == DP_NEXTHDR_FRAGMENT)
		return DP_DROP_BAD_EXTHDR;
done:
	p->proto = nh;
	p->l4_off = off;
	return DP_PARSE_OK;
}

/* ICMP error: read the offending packet's header (quoted after the 8-byte ICMP header). */
static __always_inline void dp_parse_icmp_inner(struct __sk_buff *skb, struct dp_pkt *p)
{
	__u32 off = p->l4_off + 8;

	if (p->family == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0 || ip.ihl < 5)
			return;
		dp_copy_addr4(p->in_saddr, ip.saddr);
		dp_copy_addr4(p->in_daddr, ip.daddr);
		p->in_proto = ip.protocol;
		off += ip.ihl * 4;
	} else {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) < 0)
			return;
		__builtin_memcpy(p->in_saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->in_daddr, &ip6.daddr, 16);
		p->in_proto = ip6.nexthdr; /* quoted extension headers are not walked */
		off += sizeof(ip6);
	}
	if (dp_l4_ports(skb, off, p->in_proto, p->family, &p->in_sport, &p->in_dport) < 0)
		return;
	p->icmp_err = 1;
}

static __always_inline int dp_parse_l4(struct __sk_buff *skb, struct dp_pkt *p)
{
	__u8 b[20];

	if (p->frag == DP_FRAG_LATER)
		return DP_PARSE_OK;
	switch (p->proto) {
	case IPPROTO_TCP:
		if (bpf_skb_load_bytes(skb, p->l4_off, b, 20) < 0)
			return DP_DROP_SHORT_L4;
		p->tcp_flags = b[13];
		break;
	case IPPROTO_UDP:
		if (bpf_skb_load_bytes(skb, p->l4_off, b, 8) < 0)
			return DP_DROP_SHORT_L4;
		break;
	case IPPROTO_SCTP:
		if (bpf_skb_load_bytes(skb, p->l4_off, b, 12) < 0)
			return DP_DROP_SHORT_L4;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (bpf_skb_load_bytes(skb, p->l4_off, b, 8) < 0)
			return DP_DROP_SHORT_L4;
		p->pol_port = bpf_htons(b[0]);
		if (p->family == 4 && p->proto == IPPROTO_ICMP &&
		    (b[0] == ICMP_DEST_UNREACH || b[0] == ICMP_TIME_EXCEEDED ||
		     b[0] == ICMP_PARAMETERPROB))
			dp_parse_icmp_inner(skb, p);
		else if (p->family == 6 && p->proto == IPPROTO_ICMPV6) {
			if (b[0] >= ICMPV6_DEST_UNREACH && b[0] <= ICMPV6_PARAMPROB)
				dp_parse_icmp_inner(skb, p);
			else if (b[0] >= 133 && b[0] <= 137)
				p->nd = 1; /* RS, RA, NS, NA, redirect */
		}
		break;
	default:
		return DP_PARSE_OK;
	}
	if (dp_l4_ports(skb, p->l4_off, p->proto, p->family, &p->sport, &p->dport) < 0)
		return DP_DROP_SHORT_L4;
	if (p->proto != IPPROTO_ICMP && p->proto != IPPROTO_ICMPV6)
		p->pol_port = p->dport;
	return DP_PARSE_OK;
}

/*
 * Fast path for the common packet — IPv4 without options and not a fragment, or IPv6
 * without extension headers, carrying TCP or UDP, with IP and L4 headers in the linear
 * area — read through direct packet access instead of helper calls. Anything else returns
 * 0 and takes the general path, which applies the same checks with bpf_skb_load_bytes().
 */
static __always_inline int dp_parse_fast(struct __sk_buff *skb, struct dp_pkt *p, int l3)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 off = l3 ? 0 : sizeof(struct ethhdr);
	__u8 *l4;
	int v6;

	if (l3) {
		if (data + 1 > end)
			return 0;
		v6 = (*(__u8 *)data >> 4) == 6;
	} else {
		struct ethhdr *eth = data;

		if ((void *)(eth + 1) > end)
			return 0;
		if (eth->h_proto == bpf_htons(ETH_P_IP))
			v6 = 0;
		else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
			v6 = 1;
		else
			return 0;
	}
	if (!v6) {
		struct iphdr *ip = data + off;
		__u32 tot;

		if ((void *)(ip + 1) + 20 > end)
			return 0;
		if (ip->version != 4 || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
			return 0;
		if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
			return 0;
		tot = bpf_ntohs(ip->tot_len);
		if (tot < sizeof(*ip) || skb->len < off + tot)
			return 0;
		p->family = 4;
		p->proto = ip->protocol;
		dp_copy_addr4(p->saddr, ip->saddr);
		dp_copy_addr4(p->daddr, ip->daddr);
		p->frag_id = bpf_ntohs(ip->id);
		l4 = (__u8 *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) + 20 > end)
			return 0;
		if (ip6->version != 6 ||
		    (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP))
			return 0;
		if (skb->len < off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len))
			return 0;
		p->family = 6;
		p->proto = ip6->nexthdr;
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
		l4 = (__u8 *)(ip6 + 1);
	}
	p->l3_off = off;
	p->l4_off = (__u32)(l4 - (__u8 *)data);
	__builtin_memcpy(&p->sport, l4, 2);
	__builtin_memcpy(&p->dport, l4 + 2, 2);
	if (p->proto == IPPROTO_TCP)
		p->tcp_flags = l4[13];
	p->pol_port = p->dport;
	return 1;
}

/*
 * Parses from the L3 header at l3_off. `l3` programs (TUN/WireGuard) take the family
 * from the IP version nibble rather than skb->protocol: both agree on a real TUN device,
 * and BPF_PROG_TEST_RUN (which always derives skb->protocol from an Ethernet header) can
 * then drive the L3 programs with bare IP packets.
 */
static __always_inline int dp_parse(struct __sk_buff *skb, struct dp_pkt *p, int l3)
{
	__u16 ethertype;
	int ret;

	if (dp_parse_fast(skb, p, l3))
		return DP_PARSE_OK;
	if (l3) {
		__u8 v;

		p->l3_off = 0;
		if (bpf_skb_load_bytes(skb, 0, &v, 1) < 0)
			return DP_DROP_SHORT_L3;
		ethertype = (v >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
	} else {
		struct ethhdr eth;

		if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0)
			return DP_DROP_SHORT_L2;
		ethertype = bpf_ntohs(eth.h_proto);
		p->l3_off = sizeof(eth);
	}
	if (ethertype == ETH_P_IP)
		ret = dp_parse_ipv4(skb, p);
	else if (ethertype == ETH_P_IPV6)
		ret = dp_parse_ipv6(skb, p);
	else
		return DP_PARSE_NON_IP;
	if (ret != DP_PARSE_OK)
		return ret;
	return dp_parse_l4(skb, p);
}

#endif

// SPDX-License-Identifier: GPL-2.0-only
/* pktgen: see pktgen.h. */
#include "bench/datapath/pktgen.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <string.h>

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

/* The L4 header of the frame: TCP or UDP, in aligned storage. */
union pktgen_l4 {
	struct tcphdr t;
	struct udphdr u;
	uint8_t bytes[sizeof(struct tcphdr)];
};

static void fill_l4(const struct pktgen_flow *flow, union pktgen_l4 *l4, size_t l4len)
{
	if (flow->proto == IPPROTO_TCP) {
		l4->t.source = htons(flow->sport);
		l4->t.dest = htons(flow->dport);
		l4->t.seq = htonl(1);
		l4->t.ack_seq = htonl(flow->tcp_flags & TH_ACK ? 1 : 0);
		l4->t.doff = 5;
		l4->bytes[13] = flow->tcp_flags;
		l4->t.window = htons(65535);
	} else {
		l4->u.source = htons(flow->sport);
		l4->u.dest = htons(flow->dport);
		l4->u.len = htons((uint16_t)l4len);
	}
}

/*
 * Headers are built in aligned locals and copied into the frame: after the 14-byte
 * Ethernet header the IP header is only 2-byte aligned, and writing it in place would be
 * undefined behaviour (UBSan says so).
 */
size_t pktgen_build(const struct pktgen_flow *flow, uint8_t *buf)
{
	struct ethhdr eth = {0};
	union pktgen_l4 l4 = {0};
	size_t l4hdr = flow->proto == IPPROTO_TCP ? sizeof(struct tcphdr) : sizeof(struct udphdr);
	size_t l4len = l4hdr + PKTGEN_PAYLOAD;
	size_t l3len = flow->family == 6 ? sizeof(struct ip6_hdr) : sizeof(struct iphdr);
	uint8_t *payload = buf + sizeof(eth) + l3len + l4hdr;
	uint32_t sum;

	memset(buf, 0, PKTGEN_MAX);
	/* Locally administered MACs: the datapath does not look at them. */
	memcpy(eth.h_dest, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	memcpy(eth.h_source, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	memset(payload, 'b', PKTGEN_PAYLOAD);
	fill_l4(flow, &l4, l4len);

	if (flow->family == 6) {
		struct ip6_hdr ip6 = {0};
		uint32_t be_len = htonl((uint32_t)l4len), be_next = htonl(flow->proto);

		eth.h_proto = htons(ETH_P_IPV6);
		ip6.ip6_flow = htonl(6u << 28);
		ip6.ip6_plen = htons((uint16_t)l4len);
		ip6.ip6_nxt = flow->proto;
		ip6.ip6_hlim = 64;
		memcpy(&ip6.ip6_src, flow->saddr, 16);
		memcpy(&ip6.ip6_dst, flow->daddr, 16);
		/* Pseudo-header: addresses, upper-layer length, next header. */
		sum = csum_add(0, flow->saddr, 16);
		sum = csum_add(sum, flow->daddr, 16);
		sum = csum_add(sum, &be_len, 4);
		sum = csum_add(sum, &be_next, 4);
		memcpy(buf + sizeof(eth), &ip6, sizeof(ip6));
	} else {
		struct iphdr ip = {0};

		eth.h_proto = htons(ETH_P_IP);
		ip.version = 4;
		ip.ihl = 5;
		ip.ttl = 64;
		ip.protocol = flow->proto;
		ip.tot_len = htons((uint16_t)(sizeof(ip) + l4len));
		ip.id = htons(flow->ip_id);
		ip.frag_off = htons(flow->frag == PKTGEN_FRAG_FIRST   ? IP_MF
				    : flow->frag == PKTGEN_FRAG_LATER ? 1480 / 8
								      : IP_DF);
		memcpy(&ip.saddr, flow->saddr, 4);
		memcpy(&ip.daddr, flow->daddr, 4);
		ip.check = htons(csum_fold(csum_add(0, &ip, sizeof(ip))));
		/* Pseudo-header: addresses, protocol, upper-layer length. */
		sum = csum_add(0, &ip.saddr, 8);
		sum += flow->proto + (uint32_t)l4len;
		memcpy(buf + sizeof(eth), &ip, sizeof(ip));
	}
	sum = csum_add(sum, l4.bytes, l4hdr);
	sum = csum_add(sum, payload, PKTGEN_PAYLOAD);
	if (flow->proto == IPPROTO_TCP)
		l4.t.check = htons(csum_fold(sum));
	else
		l4.u.check = htons(csum_fold(sum) ?: 0xffff);

	memcpy(buf, &eth, sizeof(eth));
	memcpy(buf + sizeof(eth) + l3len, l4.bytes, l4hdr);
	return sizeof(eth) + l3len + l4len;
}

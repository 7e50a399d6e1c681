/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkt.h: the golden-packet builder of the datapath tests. Every packet in the tests is
 * built here, header by header, with the field values written out at the call site, so
 * "how it was built" is the code itself: Ethernet (02:00:00:00:00:01 -> :02, optional),
 * then IPv4 (IHL 5 unless options are asked for, TTL 64, DF clear, real header checksum)
 * or IPv6 (hop limit 64, optional extension headers), then the L4 header. L4 checksums are
 * left zero: the datapath never reads them and the bytes are compared as they are.
 */
#ifndef PP_TEST_PKT_H
#define PP_TEST_PKT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define PKT_MAX 1600 /* a full 1500-byte-MTU frame (fragment tests) */

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
	size_t l3; /* offset of the IP header */
	size_t l4; /* offset of the L4 header */
};

static inline void pkt_put(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static inline void pkt_u8(struct pkt *p, uint8_t v)
{
	pkt_put(p, &v, 1);
}

static inline void pkt_be16(struct pkt *p, uint16_t v)
{
	v = htons(v);
	pkt_put(p, &v, 2);
}

static inline void pkt_be32(struct pkt *p, uint32_t v)
{
	v = htonl(v);
	pkt_put(p, &v, 4);
}

/* Ethernet II: dst 02:00:00:00:00:02, src 02:00:00:00:00:01. */
static inline void pkt_eth(struct pkt *p, uint16_t ethertype)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};

	p->len = 0;
	pkt_put(p, macs, sizeof(macs));
	pkt_be16(p, ethertype);
}

static inline uint32_t pkt_ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/*
 * IPv4 header at the current end: version 4, IHL 5 + opt_words, id, frag field (flags <<
 * 13 | offset in 8-byte units), TTL 64, proto, addresses. Total length and checksum are
 * fixed up by pkt_ip4_done() once the payload is in.
 */
static inline void pkt_ipv4(struct pkt *p, uint8_t proto, const char *src, const char *dst,
			    uint16_t id, uint16_t frag, unsigned int opt_words)
{
	uint32_t s = pkt_ip4(src), d = pkt_ip4(dst);

	p->l3 = p->len;
	pkt_u8(p, (uint8_t)(0x40 | (5 + opt_words)));
	pkt_u8(p, 0);	/* TOS */
	pkt_be16(p, 0); /* total length, fixed later */
	pkt_be16(p, id);
	pkt_be16(p, frag);
	pkt_u8(p, 64); /* TTL */
	pkt_u8(p, proto);
	pkt_be16(p, 0); /* checksum, fixed later */
	pkt_put(p, &s, 4);
	pkt_put(p, &d, 4);
	for (unsigned int i = 0; i < opt_words; i++)
		pkt_be32(p, 0x01010101); /* NOP options */
	p->l4 = p->len;
}

static inline void pkt_ip4_done(struct pkt *p)
{
	uint8_t *ip = p->b + p->l3;
	size_t hlen = (size_t)(ip[0] & 0xf) * 4;
	uint16_t tot = htons((uint16_t)(p->len - p->l3));
	uint32_t sum = 0;

	memcpy(ip + 2, &tot, 2);
	ip[10] = ip[11] = 0;
	for (size_t i = 0; i < hlen; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
}

/* IPv6 header; payload length fixed by pkt_ip6_done(). */
static inline void pkt_ipv6(struct pkt *p, uint8_t nexthdr, const char *src, const char *dst)
{
	uint8_t s[16], d[16];

	inet_pton(AF_INET6, src, s);
	inet_pton(AF_INET6, dst, d);
	p->l3 = p->len;
	pkt_be32(p, 0x60000000); /* version 6, class 0, flow 0 */
	pkt_be16(p, 0);
	pkt_u8(p, nexthdr);
	pkt_u8(p, 64);
	pkt_put(p, s, 16);
	pkt_put(p, d, 16);
	p->l4 = p->len;
}

/* An 8-byte hop-by-hop / destination-options header (PadN filling), next = nh. */
static inline void pkt_ext8(struct pkt *p, uint8_t nh)
{
	static const uint8_t padn[6] = {1, 4, 0, 0, 0, 0};

	pkt_u8(p, nh);
	pkt_u8(p, 0); /* (0 + 1) * 8 bytes */
	pkt_put(p, padn, sizeof(padn));
	p->l4 = p->len;
}

/* IPv6 fragment header: next = nh, offset in 8-byte units, M flag, identification. */
static inline void pkt_frag6(struct pkt *p, uint8_t nh, uint16_t offset, int more, uint32_t id)
{
	pkt_u8(p, nh);
	pkt_u8(p, 0);
	pkt_be16(p, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	pkt_be32(p, id);
	p->l4 = p->len;
}

static inline void pkt_ip6_done(struct pkt *p)
{
	uint16_t pl = htons((uint16_t)(p->len - p->l3 - 40));

	memcpy(p->b + p->l3 + 4, &pl, 2);
}

/* TCP: ports, seq 1, ack 0, data offset 5, flags, window 65535. */
static inline void pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
	pkt_be16(p, sport);
	pkt_be16(p, dport);
	pkt_be32(p, 1);
	pkt_be32(p, 0);
	pkt_u8(p, 5 << 4);
	pkt_u8(p, flags);
	pkt_be16(p, 65535);
	pkt_be32(p, 0); /* checksum + urgent */
}

/* UDP with `payload` bytes of 0xab. */
static inline void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport, size_t payload)
{
	pkt_be16(p, sport);
	pkt_be16(p, dport);
	pkt_be16(p, (uint16_t)(8 + payload));
	pkt_be16(p, 0);
	memset(p->b + p->len, 0xab, payload);
	p->len += payload;
}

/* SCTP common header (ports, verification tag 1, checksum 0). */
static inline void pkt_sctp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	pkt_be16(p, sport);
	pkt_be16(p, dport);
	pkt_be32(p, 1);
	pkt_be32(p, 0);
}

/* ICMP / ICMPv6 header: type, code, checksum 0, then id and seq (echo) or unused. */
static inline void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	pkt_u8(p, type);
	pkt_u8(p, code);
	pkt_be16(p, 0);
	pkt_be16(p, id);
	pkt_be16(p, seq);
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/*
 * Fragment `i` of a UDP datagram carrying `data` bytes (after its 8-byte header), cut the
 * way a 1500-byte MTU cuts it: 1480 bytes of IPv4 payload per fragment, 1448 for IPv6
 * (1500 - 40 - 8 rounded down to 8). Returns false when the datagram has no fragment i.
 * Ethernet framing; IPv4 identification / IPv6 fragment id `id`.
 */
static inline bool pkt_udp_frag(struct pkt *p, int v6, const char *src, const char *dst,
				uint16_t sport, uint16_t dport, uint32_t id, size_t data, int i)
{
	size_t total = 8 + data, step = v6 ? 1448 : 1480, off = (size_t)i * step, n;
	int more;

	if (off >= total)
		return false;
	n = total - off < step ? total - off : step;
	more = off + n < total;
	p->len = 0;
	pkt_eth(p, v6 ? 0x86dd : 0x0800);
	if (v6) {
		pkt_ipv6(p, 44, src, dst);
		pkt_frag6(p, IPPROTO_UDP, (uint16_t)(off / 8), more, id);
	} else {
		pkt_ipv4(p, IPPROTO_UDP, src, dst, (uint16_t)id,
			 (uint16_t)((more ? 0x2000 : 0) | off / 8), 0);
	}
	if (i == 0) {
		pkt_be16(p, sport);
		pkt_be16(p, dport);
		pkt_be16(p, (uint16_t)total);
		pkt_be16(p, 0);
		n -= 8;
	}
	memset(p->b + p->len, 0xab, n);
	p->len += n;
	if (v6)
		pkt_ip6_done(p);
	else
		pkt_ip4_done(p);
	return true;
}

#endif

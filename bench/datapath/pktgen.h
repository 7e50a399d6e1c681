/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pktgen: the benchmark's test packets — Ethernet + IPv4 or IPv6 + TCP or UDP, no options
 * or extension headers (IPv4 fragments on request), checksums filled in (the datapath does not
 * check them, but a packet a real stack would drop is a bad benchmark input), 64 bytes of payload.
 */
#ifndef PSEUDOPOD_BENCH_PKTGEN_H
#define PSEUDOPOD_BENCH_PKTGEN_H

#include <stddef.h>
#include <stdint.h>

#define PKTGEN_PAYLOAD 64
#define PKTGEN_MAX     (14 + 40 + 20 + PKTGEN_PAYLOAD)

struct pktgen_flow {
	uint8_t family;	   /* 4 or 6 */
	uint8_t proto;	   /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tcp_flags; /* TCP only: e.g. SYN for a new flow, ACK for an established one */
	uint8_t saddr[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t daddr[16];
	uint16_t sport; /* host order */
	uint16_t dport; /* host order */
	uint8_t frag;	/* IPv4 only: PKTGEN_FRAG_* */
	uint16_t ip_id; /* IPv4 identification (fragments) */
};

enum {
	PKTGEN_FRAG_NONE = 0, /* DF set */
	PKTGEN_FRAG_FIRST,    /* offset 0, MF: carries the L4 header */
	PKTGEN_FRAG_LATER,    /* offset 1480, MF clear: the same bytes are payload only */
};

/* Writes the frame into buf (at least PKTGEN_MAX bytes); returns its length. */
size_t pktgen_build(const struct pktgen_flow *flow, uint8_t *buf);

#endif

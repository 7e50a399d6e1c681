/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkt_dp: the per-packet benchmark's view of the pseudopod datapath — load it, fill its
 * maps with a synthetic population, hand out the program to time. Kept apart from
 * pkt.c so the floor (the empty program) builds and runs even in a tree without the
 * datapath library.
 *
 * The population for `entries` = N and one address family (all host routes — /32 or
 * /128 — all allowed, ingress, TCP port PKTDP_PORT): remote i (0 <= i < N) has address
 * pktdp_remote_addr(family, i) and identity pktdp_identity(i); the local endpoint
 * (pktdp_local_addr(), identity PKTDP_LOCAL_ID) enforces ingress and has one allow entry
 * per remote identity.
 */
#ifndef PSEUDOPOD_BENCH_PKT_DP_H
#define PSEUDOPOD_BENCH_PKT_DP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKTDP_PORT 8080
/* No entry allows it: the "denied" case. */
#define PKTDP_DENIED_PORT 9999
#define PKTDP_LOCAL_ID	  300u

/* 10.64.0.0/10 upwards, host order; room for 4M remotes. */
static inline uint32_t pktdp_remote_ip(uint32_t i)
{
	return 0x0a400000u + i + 1;
}

/* Remote i in network order: 10.64.0.0/10 upwards, or fd00:64::/96 upwards. */
static inline void pktdp_remote_addr(int family, uint32_t i, uint8_t out[16])
{
	static const uint8_t prefix6[12] = {0xfd, 0x00, 0x00, 0x64};
	uint32_t a = family == 6 ? i + 1 : pktdp_remote_ip(i);
	uint8_t *p = out;

	memset(out, 0, 16);
	if (family == 6) {
		memcpy(out, prefix6, sizeof(prefix6));
		p = out + 12;
	}
	p[0] = (uint8_t)(a >> 24);
	p[1] = (uint8_t)(a >> 16);
	p[2] = (uint8_t)(a >> 8);
	p[3] = (uint8_t)a;
}

/* The local endpoint: 10.200.0.1 or fd00:200::1, network order. */
static inline void pktdp_local_addr(int family, uint8_t out[16])
{
	static const uint8_t v4[4] = {10, 200, 0, 1};
	static const uint8_t v6[16] = {0xfd, 0x00, 0x02, 0x00, [15] = 1};

	memset(out, 0, 16);
	if (family == 6)
		memcpy(out, v6, 16);
	else
		memcpy(out, v4, 4);
}

/* Not all of these are valid cluster identities (those stop at 65535): the lookup cost
 * does not depend on it, and 100k distinct keys need the room. */
static inline uint32_t pktdp_identity(uint32_t i)
{
	return 1000u + i;
}

struct pktdp;

/* Loads a private instance (pinned under its own temporary bpffs directory, removed by
 * pktdp_close) with the maps sized for `entries` and `conntrack_max`, and fills them with
 * the population of `family` (4 or 6). Returns 0 or -errno; on error `why` says what. */
int pktdp_open(uint32_t entries, int family, uint32_t conntrack_max, struct pktdp **out, char *why,
	       size_t whylen);
/* The program a packet arriving at the endpoint runs through (tc ingress). */
int pktdp_prog_fd(const struct pktdp *dp);
/* Ingress packets the datapath counted so far as allowed new flows, as established-flow
 * packets and as default-deny drops: proof that a case measured the path it is named
 * after. */
int pktdp_path_counts(struct pktdp *dp, uint64_t *new_flows, uint64_t *established,
		      uint64_t *denied);
void pktdp_close(struct pktdp *dp);

#endif

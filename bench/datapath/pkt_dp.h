/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkt_dp: the per-packet benchmark's view of the pseudopod datapath — load it, fill its
 * maps with a population of the shapes the policy engine emits, hand out programs and
 * counters. Kept apart from pkt.c so the floor (the empty program) builds and runs even in
 * a tree without the datapath library.
 *
 * Workload population for N identities (the machine is endpoint PKTDP_LOCAL_ID, its
 * addresses are 10.200.0.x / fd00:200::x — any x, the policy does not depend on it):
 *   ipcache   remote i: 10.64.0.0/10 + i + 1 and fd00:64::/96 + i + 1 (host entries, both
 *             families), identity 1000 + i, tunnel endpoint 192.168.0.0/16 + i (VXLAN);
 *             64 CIDR identities 172.16.k.0/24 -> PKTDP_CIDR_ID + k (trie entries);
 *   ingress   deny  any identity  TCP 22          (an any-identity deny: every new flow
 *                                                  pays the deny lookups)
 *             allow any identity  ICMP echo       (an any-identity allow)
 *             allow identity i    TCP 8080
 *             allow identity i    TCP 30000-32767 for i % 10 == 0 (a range: trie keys)
 *             deny  identity i    UDP (any port)  for i % 50 == 0
 *             allow CIDR k        TCP 443
 *   egress    allow identity i    TCP 8080, UDP 53 for i % 5 == 0; CIDR k TCP 443;
 *             deny  any identity  TCP 25
 *   both directions enforced.
 * Gateway population: machine i (10.64.0.0/10 + i + 1, identity 1000 + i, flagged
 * workload, tunnel 192.168.0.0/16 + i) may reach pod i % 8 (10.200.0.(k+1), identity
 * PKTDP_POD_ID + k) on TCP 8080: each pod has ingress allows from its N/8 machines and an
 * any-identity deny of TCP 22; the first min(N, PKTDP_GW_ENDPOINTS) machines are endpoints
 * with their own egress policy (one entry each) — the endpoints map holds 4096 — and the
 * gateway cases send from those, so every packet passes both policies.
 */
#ifndef PSEUDOPOD_BENCH_PKT_DP_H
#define PSEUDOPOD_BENCH_PKT_DP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKTDP_PORT	   8080
#define PKTDP_DENIED_PORT  9999 /* no entry allows it: default deny */
#define PKTDP_DENY_PORT	   22	/* an explicit any-identity deny */
#define PKTDP_CIDR_PORT	   443
#define PKTDP_RANGE_LO	   30000
#define PKTDP_RANGE_HI	   32767
#define PKTDP_UDP_PORT	   53
#define PKTDP_LOCAL_ID	   300u
#define PKTDP_POD_ID	   400u
#define PKTDP_PODS	   8u
#define PKTDP_CIDR_ID	   16777216u /* the engine's first local (CIDR) identity */
#define PKTDP_CIDRS	   64u
#define PKTDP_GW_ENDPOINTS 2000u

/* 10.64.0.0/10 upwards, host order; room for 4M remotes. */
static inline uint32_t pktdp_remote_ip(uint32_t i)
{
	return 0x0a400000u + i + 1;
}

static inline void pktdp_put4(uint8_t *p, uint32_t a)
{
	p[0] = (uint8_t)(a >> 24);
	p[1] = (uint8_t)(a >> 16);
	p[2] = (uint8_t)(a >> 8);
	p[3] = (uint8_t)a;
}

/* Remote i in network order: 10.64.0.0/10 upwards, or fd00:64::/96 upwards. */
static inline void pktdp_remote_addr(int family, uint32_t i, uint8_t out[16])
{
	static const uint8_t prefix6[12] = {0xfd, 0x00, 0x00, 0x64};

	memset(out, 0, 16);
	if (family == 6) {
		memcpy(out, prefix6, sizeof(prefix6));
		pktdp_put4(out + 12, i + 1);
	} else {
		pktdp_put4(out, pktdp_remote_ip(i));
	}
}

/* A host inside CIDR identity k: 172.16.k.(1 + x % 250). */
static inline void pktdp_cidr_addr(uint32_t k, uint32_t x, uint8_t out[16])
{
	memset(out, 0, 16);
	pktdp_put4(out, 0xac100000u | (k % PKTDP_CIDRS) << 8 | (1 + x % 250));
}

/* A local (workload) or pod (gateway) address: 10.200.0.(x+1) or fd00:200::(x+1). */
static inline void pktdp_local_addr(int family, uint32_t x, uint8_t out[16])
{
	static const uint8_t v6[4] = {0xfd, 0x00, 0x02, 0x00};

	memset(out, 0, 16);
	if (family == 6) {
		memcpy(out, v6, 4);
		pktdp_put4(out + 12, x + 1);
	} else {
		pktdp_put4(out, 0x0ac80000u + x + 1);
	}
}

/* Not all of these are valid cluster identities (those stop at 65535): the lookup cost
 * does not depend on it, and 100k distinct keys need the room. */
static inline uint32_t pktdp_identity(uint32_t i)
{
	return 1000u + i;
}

enum pktdp_mode { PKTDP_WORKLOAD, PKTDP_GATEWAY };

struct pktdp;

/* Loads a private instance (pinned under its own temporary bpffs directory, removed by
 * pktdp_close) with the maps sized for `entries` and `conntrack_max`, and fills them with
 * the population above. Returns 0 or -errno; on error `why` says what. */
int pktdp_open(enum pktdp_mode mode, uint32_t entries, uint32_t conntrack_max, struct pktdp **out,
	       char *why, size_t whylen);
/* A program of the instance by name ("dp_ingress_eth", ...); the instance keeps the fd. */
int pktdp_prog_fd(struct pktdp *dp, const char *name);
/* Packets the datapath counted for (dir, reason) so far: the proof that a case measured
 * the path it is named after. */
int pktdp_count(struct pktdp *dp, uint8_t dir, uint8_t reason, uint64_t *packets);
/* Empties one of the instance's maps by name (e.g. "frags" between rounds: an LRU map at
 * capacity may evict what was just inserted). 0 or -errno. */
int pktdp_clear_map(struct pktdp *dp, const char *name, size_t key_size);
/* Policy keys the instance holds (both policy maps), for the table. */
uint32_t pktdp_policy_keys(const struct pktdp *dp);
void pktdp_close(struct pktdp *dp);

#endif

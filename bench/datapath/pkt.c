// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-dpbench-pkt: per-packet cost of the datapath, measured with BPF_PROG_TEST_RUN.
 *
 *   pp-dpbench-pkt [--quick] [--entries N,N,...] [--samples N] [--rounds N] [--seed N]
 *
 * Method (the README explains how to read it):
 *   - the maps hold the population of pkt_dp.h: the shapes the policy engine emits for
 *     real policies (an any-identity deny and allow, per-identity ports, port ranges,
 *     per-identity denies, CIDR identities in the trie, both families; on the gateway
 *     many endpoints);
 *   - every timed call runs ONE packet (repeat = 1) and the kernel's own duration is
 *     kept; a case is --samples calls, each with a different flow from a random remote,
 *     so keys are not always in cache. Every case checks its verdict on every packet and
 *     that the datapath counted exactly its samples under the reason the case is named
 *     after (a case that measured another path is an error, not a figure);
 *   - --rounds rounds (>= 5), each running every case once, the empty program (the floor,
 *     which includes the harness's clock reads) among them: interleaved, so a burst of
 *     other work on the machine hits one round of every case, not every round of one.
 *     A case's figure is the median over rounds of its per-round median, with the
 *     smallest and largest round medians as the spread.
 *   - cases: see case_table below (workload eth/L3/VXLAN programs and the gateway).
 *   - "hot": the established packet 10,000 times in one call (everything in cache); and
 *     "lpm_lookup" / "hash_lookup" (probe.bpf.c): one lookup with the ipcache's /
 *     conntrack's key shape in a map of N entries — the parts a verdict is made of.
 *
 * Output: one JSON object per line (stdout): {"part":"pkt_round",...} per case and round,
 * then {"part":"pkt","case":...,"entries":N,"median_ns":...,"min_ns":...,"max_ns":...} per
 * case, with "error" instead of figures when a case could not be measured. Exit 0 when
 * every figure was produced, 1 otherwise, 2 on usage errors.
 */
#include "bpf/datapath.h"
#include "bench/datapath/pkt_dp.h"
#include "bench/datapath/pktgen.h"
#include "bench/datapath/probe.h"

#include "dpbench_empty.skel.h"
#include "dpbench_probe.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOT_REPEAT 10000
#define MAX_SIZES  8

struct opts {
	uint32_t entries[MAX_SIZES];
	int n_entries;
	uint32_t samples;
	uint32_t rounds;
	uint64_t seed;
};

struct stats {
	double median, mean, p90, p99;
	uint32_t samples;
};

/* xorshift64*: reproducible across runs with the same --seed. */
static uint64_t rng_state;

static uint32_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static struct stats stats_of(uint32_t *v, uint32_t n)
{
	struct stats s = {.samples = n};
	double sum = 0;

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (uint32_t i = 0; i < n; i++)
		sum += v[i];
	s.mean = sum / n;
	s.median = v[n / 2];
	s.p90 = v[(uint64_t)n * 90 / 100];
	s.p99 = v[(uint64_t)n * 99 / 100];
	return s;
}

/*
 * Runs one packet `repeat` times; returns 0 or -errno, the kernel's average in *ns. The
 * same syscall as the datapath's dp_test_run(), called directly so that the floor and the
 * probes are timed identically in a tree that has no datapath library.
 */
static int run_packet_l(int prog_fd, const struct pktgen_flow *flow, int repeat, int l3,
			uint32_t *ns, uint32_t *retval)
{
	uint8_t pkt[PKTGEN_MAX], out[PKTGEN_MAX + 256];
	size_t skip = l3 ? 14 : 0; /* L3 programs: bare IP, as on a TUN/WireGuard device */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = sizeof(out),
		    .repeat = repeat);

	o.data_size_in = (uint32_t)(pktgen_build(flow, pkt) - skip);
	o.data_in = pkt + skip;
	if (bpf_prog_test_run_opts(prog_fd, &o) < 0)
		return -errno;
	*ns = o.duration;
	*retval = o.retval;
	return 0;
}

static int run_packet(int prog_fd, const struct pktgen_flow *flow, int repeat, uint32_t *ns,
		      uint32_t *retval)
{
	return run_packet_l(prog_fd, flow, repeat, 0, ns, retval);
}

static void emit(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));

	if (text)
		printf("%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(j);
}

static json_t *record(const char *name, uint32_t entries)
{
	json_t *j = json_object();

	json_object_set_new(j, "part", json_string("pkt"));
	json_object_set_new(j, "case", json_string(name));
	json_object_set_new(j, "entries", json_integer(entries));
	return j;
}

static void emit_stats(const char *name, uint32_t entries, const struct stats *s, int64_t hot)
{
	json_t *j = record(name, entries);

	json_object_set_new(j, "samples", json_integer(s->samples));
	json_object_set_new(j, "median_ns", json_real(s->median));
	json_object_set_new(j, "mean_ns", json_real(s->mean));
	json_object_set_new(j, "p90_ns", json_real(s->p90));
	json_object_set_new(j, "p99_ns", json_real(s->p99));
	if (hot >= 0)
		json_object_set_new(j, "hot_ns", json_integer(hot));
	emit(j);
}

static void emit_error(const char *name, uint32_t entries, const char *why)
{
	json_t *j = record(name, entries);

	json_object_set_new(j, "error", json_string(why));
	emit(j);
}

static struct pktgen_flow flow_of(int family, uint32_t remote, uint16_t sport, uint8_t flags)
{
	struct pktgen_flow f = {
	    .family = (uint8_t)family,
	    .proto = IPPROTO_TCP,
	    .tcp_flags = flags,
	    .sport = sport,
	    .dport = PKTDP_PORT,
	};

	pktdp_remote_addr(family, remote, f.saddr);
	pktdp_local_addr(family, 0, f.daddr);
	return f;
}

/* The floor: the empty program, same packets and method as the datapath cases. */
static bool bench_empty(const struct opts *o, uint32_t *buf)
{
	struct dpbench_empty *skel = dpbench_empty__open_and_load();
	struct pktgen_flow f;
	uint32_t rv, hot;
	int fd, err = 0;
	struct stats s;

	if (!skel) {
		emit_error("empty", 0, "cannot load empty.bpf.o (BPF and root needed)");
		return false;
	}
	fd = bpf_program__fd(skel->progs.dpbench_empty);
	for (uint32_t i = 0; i < o->samples && !err; i++) {
		f = flow_of(4, rng_next() % 100000, (uint16_t)(1024 + rng_next() % 60000), TH_SYN);
		err = run_packet(fd, &f, 1, &buf[i], &rv);
	}
	if (!err)
		err = run_packet(fd, &f, HOT_REPEAT, &hot, &rv);
	dpbench_empty__destroy(skel);
	if (err) {
		emit_error("empty", 0, strerror(-err));
		return false;
	}
	s = stats_of(buf, o->samples);
	emit_stats("empty", 0, &s, hot);
	return true;
}

static uint16_t probe_sport(uint32_t i)
{
	return (uint16_t)(1024 + i % 60000);
}

static int probe_fill(struct dpbench_probe *skel, uint32_t entries)
{
	int lpm = bpf_map__fd(skel->maps.probe_lpm_map);
	int hash = bpf_map__fd(skel->maps.probe_hash_map);

	for (uint32_t i = 0; i < entries; i++) {
		uint8_t a[16], b[16];
		struct probe_lpm_key lk = {.prefixlen = PROBE_LPM_PREFIX_BASE + 32, .family = 4};
		struct probe_lpm_val lv = {.identity = pktdp_identity(i)};
		struct probe_ct_key ck = {.family = 4, .proto = IPPROTO_TCP};
		struct probe_ct_val cv = {.packets = 1};

		pktdp_remote_addr(4, i, a);
		pktdp_local_addr(4, 0, b);
		memcpy(lk.addr, a, 4);
		memcpy(ck.saddr, a, 4);
		memcpy(ck.daddr, b, 4);
		ck.sport = htons(probe_sport(i));
		ck.dport = htons(PKTDP_PORT);
		if (bpf_map_update_elem(lpm, &lk, &lv, BPF_ANY) < 0 ||
		    bpf_map_update_elem(hash, &ck, &cv, BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

/* One program of the probe object over random keys of the population; false on error. */
static bool probe_time(const struct opts *o, const char *name, int fd, uint32_t entries,
		       uint32_t *buf)
{
	struct pktgen_flow f = {0};
	uint32_t rv = 0, hot = 0, i;
	struct stats s;
	int err = 0;

	for (i = 0; i < o->samples && !err; i++) {
		uint32_t r = rng_next() % entries;

		f = flow_of(4, r, probe_sport(r), TH_ACK);
		err = run_packet(fd, &f, 1, &buf[i], &rv);
		if (!err && rv != TC_ACT_OK)
			err = -ENOENT;
	}
	if (!err)
		err = run_packet(fd, &f, HOT_REPEAT, &hot, &rv);
	if (err) {
		emit_error(name, entries,
			   err == -ENOENT ? "a key of the population was not found"
					  : strerror(-err));
		return false;
	}
	s = stats_of(buf, o->samples);
	emit_stats(name, entries, &s, hot);
	return true;
}

/* The parts of a verdict alone: one LPM lookup (ipcache shape), one hash lookup (conntrack
 * shape), with N entries in the map. */
static bool bench_probes(const struct opts *o, uint32_t entries, uint32_t *buf)
{
	struct dpbench_probe *skel = dpbench_probe__open();
	bool ok = false;
	int err;

	if (!skel) {
		emit_error("lpm_lookup", entries, "cannot open probe.bpf.o");
		emit_error("hash_lookup", entries, "cannot open probe.bpf.o");
		return false;
	}
	/* LRU maps evict before they are full (per-CPU free lists): leave headroom so every
	 * key of the population stays in. */
	bpf_map__set_max_entries(skel->maps.probe_lpm_map, entries);
	bpf_map__set_max_entries(skel->maps.probe_hash_map, entries * 2 + 1024);
	err = dpbench_probe__load(skel);
	err = err ?: probe_fill(skel, entries);
	if (err) {
		emit_error("lpm_lookup", entries, strerror(-err));
		emit_error("hash_lookup", entries, strerror(-err));
		goto out;
	}
	ok = probe_time(o, "lpm_lookup", bpf_program__fd(skel->progs.probe_lpm), entries, buf);
	ok = probe_time(o, "hash_lookup", bpf_program__fd(skel->progs.probe_hash), entries, buf) &&
	     ok;
out:
	dpbench_probe__destroy(skel);
	return ok;
}

/* ---- the paths, timed in interleaved rounds ---- */

enum pcase_id {
	C_EMPTY,
	C_NEW,
	C_EST,
	C_REPLY,
	C_RANGE,
	C_CIDR,
	C_DENY,
	C_DEFDENY,
	C_FRAG,
	C_NEW6,
	C_EST6,
	C_DENY6,
	C_NEW_L3,
	C_EST_L3,
	C_NEW_VX,
	C_EST_VX,
	C_NEW_GW,
	C_EST_GW,
	C_DENY_GW,
	C_COUNT,
};

struct pcase {
	const char *name;
	const char *what;
	const char *prog; /* NULL = the empty program */
	bool gw, l3;
	enum pcase_id replays; /* established cases: the new-flow case whose flows they replay */
	uint8_t dir, reason;   /* the counter that must move once per packet */
	int verdict;
};

static const struct pcase case_table[C_COUNT] = {
    [C_EMPTY] = {"empty", "the floor: empty program, same packets", NULL, .replays = C_COUNT},
    [C_NEW] = {"new_flow", "TCP SYN, exact-port allow (hash), deny lookups paid", "dp_ingress_eth",
	       .replays = C_COUNT, .dir = DP_DIR_INGRESS, .reason = DP_OK_POLICY},
    [C_EST] = {"established", "ACK of those flows (own tuple)", "dp_ingress_eth", .replays = C_NEW,
	       .dir = DP_DIR_INGRESS, .reason = DP_OK_CT_ESTABLISHED},
    [C_REPLY] = {"reply", "SYN-ACK of egress-created flows (reversed tuple)", "dp_ingress_eth",
		 .replays = C_COUNT, .dir = DP_DIR_INGRESS, .reason = DP_OK_CT_REPLY},
    [C_RANGE] = {"new_flow_range", "SYN into a port range (trie keys)", "dp_ingress_eth",
		 .replays = C_COUNT, .dir = DP_DIR_INGRESS, .reason = DP_OK_POLICY},
    [C_CIDR] = {"new_flow_cidr", "SYN from a CIDR identity (ipcache trie)", "dp_ingress_eth",
		.replays = C_COUNT, .dir = DP_DIR_INGRESS, .reason = DP_OK_POLICY},
    [C_DENY] = {"denied", "SYN to 22: the any-identity deny", "dp_ingress_eth", .replays = C_COUNT,
		.dir = DP_DIR_INGRESS, .reason = DP_DROP_POLICY_DENY, .verdict = TC_ACT_SHOT},
    [C_DEFDENY] = {"default_deny", "SYN to a port nothing allows", "dp_ingress_eth",
		   .replays = C_COUNT, .dir = DP_DIR_INGRESS, .reason = DP_DROP_POLICY,
		   .verdict = TC_ACT_SHOT},
    [C_FRAG] = {"fragment", "later fragment of an allowed first fragment", "dp_ingress_eth",
		.replays = C_COUNT, .dir = DP_DIR_INGRESS, .reason = DP_OK_FRAG},
    [C_NEW6] = {"new_flow6", "IPv6 SYN", "dp_ingress_eth", .replays = C_COUNT,
		.dir = DP_DIR_INGRESS, .reason = DP_OK_POLICY},
    [C_EST6] = {"established6", "IPv6 ACK", "dp_ingress_eth", .replays = C_NEW6,
		.dir = DP_DIR_INGRESS, .reason = DP_OK_CT_ESTABLISHED},
    [C_DENY6] = {"default_deny6", "IPv6 SYN nothing allows", "dp_ingress_eth", .replays = C_COUNT,
		 .dir = DP_DIR_INGRESS, .reason = DP_DROP_POLICY, .verdict = TC_ACT_SHOT},
    [C_NEW_L3] = {"new_flow_l3", "L3 program (WireGuard/TUN), SYN", "dp_ingress_l3", .l3 = true,
		  .replays = C_COUNT, .dir = DP_DIR_INGRESS, .reason = DP_OK_POLICY},
    [C_EST_L3] = {"established_l3", "L3 program, ACK", "dp_ingress_l3", .l3 = true,
		  .replays = C_NEW_L3, .dir = DP_DIR_INGRESS, .reason = DP_OK_CT_ESTABLISHED},
    [C_NEW_VX] = {"new_flow_vxlan", "VXLAN egress, UDP 53, sets the tunnel key", "dp_egress_vxlan",
		  .replays = C_COUNT, .dir = DP_DIR_EGRESS, .reason = DP_OK_POLICY},
    [C_EST_VX] = {"established_vxlan", "VXLAN egress, tracked, tunnel key again", "dp_egress_vxlan",
		  .replays = C_NEW_VX, .dir = DP_DIR_EGRESS, .reason = DP_OK_CT_ESTABLISHED},
    [C_NEW_GW] = {"new_flow_gw", "gateway from a machine: anti-spoofing + two policies",
		  "dp_ingress_eth", .gw = true, .replays = C_COUNT, .dir = DP_DIR_INGRESS,
		  .reason = DP_OK_POLICY},
    [C_EST_GW] = {"established_gw", "gateway, tracked (anti-spoofing still)", "dp_ingress_eth",
		  .gw = true, .replays = C_NEW_GW, .dir = DP_DIR_INGRESS,
		  .reason = DP_OK_CT_ESTABLISHED},
    [C_DENY_GW] = {"denied_gw", "gateway, machine's egress policy says no", "dp_ingress_eth",
		   .gw = true, .replays = C_COUNT, .dir = DP_DIR_INGRESS, .reason = DP_DROP_POLICY,
		   .verdict = TC_ACT_SHOT},
};

struct pctx {
	const struct opts *o;
	uint32_t entries;
	struct pktdp *wl, *gw;
	int empty_fd;
	uint32_t *buf;
	uint32_t *remote[C_COUNT];	 /* per new-flow case: the remote of sample i this round */
	uint32_t *perm;			 /* replay order */
	struct pktgen_flow *flows, *pre; /* this round's packets of the case being timed */
	double *round_median[C_COUNT];
	double *round_p90[C_COUNT];
	char error[C_COUNT][200];
};

static struct pktgen_flow tcp_flow(int family, const uint8_t *s, const uint8_t *d, uint16_t sp,
				   uint16_t dp, uint8_t flags)
{
	struct pktgen_flow f = {.family = (uint8_t)family,
				.proto = IPPROTO_TCP,
				.tcp_flags = flags,
				.sport = sp,
				.dport = dp};

	memcpy(f.saddr, s, 16);
	memcpy(f.daddr, d, 16);
	return f;
}

/*
 * Sample i of case c in this round: the timed packet, and the untimed packet that must
 * run before it (*pre, returns true) for the reply and fragment cases. `seq` is unique
 * over all rounds (source port, IP id); every case has its own local address, so no two
 * cases share a flow.
 */
static bool build(struct pctx *x, enum pcase_id c, uint32_t i, uint32_t seq, struct pktgen_flow *f,
		  struct pktgen_flow *pre)
{
	const struct pcase *pc = &case_table[c];
	uint32_t n = x->entries, r;
	uint16_t sport = (uint16_t)(1024 + seq);
	int fam = c == C_NEW6 || c == C_EST6 || c == C_DENY6 ? 6 : 4;
	uint8_t rem[16], loc[16];

	if (pc->replays != C_COUNT) { /* established: a flow of the new-flow case, reshuffled */
		uint32_t j = x->perm[i];

		r = x->remote[pc->replays][j];
		sport = (uint16_t)(1024 + (seq - i) + j);
		c = pc->replays;
	} else {
		/* gateway: from the machines that have their own policy (pkt_dp.h) */
		r = rng_next() % (pc->gw && n > PKTDP_GW_ENDPOINTS ? PKTDP_GW_ENDPOINTS : n);
		if (x->remote[c])
			x->remote[c][i] = r;
	}
	pktdp_remote_addr(fam, r, rem);
	pktdp_local_addr(fam, c, loc);
	switch (c) {
	case C_EMPTY:
	case C_NEW:
	case C_NEW6:
	case C_NEW_L3:
		*f = tcp_flow(fam, rem, loc, sport, PKTDP_PORT, TH_SYN);
		break;
	case C_REPLY:
		*pre = tcp_flow(fam, loc, rem, sport, PKTDP_PORT, TH_SYN);
		*f = tcp_flow(fam, rem, loc, PKTDP_PORT, sport, TH_SYN | TH_ACK);
		return true;
	case C_RANGE:
		pktdp_remote_addr(fam, r - r % 10, rem);
		*f = tcp_flow(
		    fam, rem, loc, sport,
		    (uint16_t)(PKTDP_RANGE_LO + seq % (PKTDP_RANGE_HI - PKTDP_RANGE_LO + 1)),
		    TH_SYN);
		break;
	case C_CIDR:
		pktdp_cidr_addr(r, seq, rem);
		*f = tcp_flow(fam, rem, loc, sport, PKTDP_CIDR_PORT, TH_SYN);
		break;
	case C_DENY:
		*f = tcp_flow(fam, rem, loc, sport, PKTDP_DENY_PORT, TH_SYN);
		break;
	case C_DEFDENY:
	case C_DENY6:
		*f = tcp_flow(fam, rem, loc, sport, PKTDP_DENIED_PORT, TH_SYN);
		break;
	case C_FRAG:
		*pre = tcp_flow(fam, rem, loc, sport, PKTDP_PORT, TH_SYN);
		pre->frag = PKTGEN_FRAG_FIRST;
		pre->ip_id = (uint16_t)seq;
		*f = *pre;
		f->frag = PKTGEN_FRAG_LATER;
		return true;
	case C_NEW_VX:
		pktdp_remote_addr(fam, r - r % 5, rem);
		*f = tcp_flow(fam, loc, rem, sport, PKTDP_UDP_PORT, 0);
		f->proto = IPPROTO_UDP;
		break;
	case C_NEW_GW:
		pktdp_local_addr(fam, r % PKTDP_PODS, loc);
		*f = tcp_flow(fam, rem, loc, sport, PKTDP_PORT, TH_SYN);
		break;
	case C_DENY_GW:
		pktdp_local_addr(fam, r % PKTDP_PODS, loc);
		*f = tcp_flow(fam, rem, loc, sport, PKTDP_DENY_PORT, TH_SYN);
		break;
	default:
		break;
	}
	if (pc->replays != C_COUNT && f->proto == IPPROTO_TCP)
		f->tcp_flags = TH_ACK;
	return false;
}

static int case_fd(struct pctx *x, enum pcase_id c, const char *prog)
{
	if (!prog)
		return x->empty_fd;
	return pktdp_prog_fd(case_table[c].gw ? x->gw : x->wl, prog);
}

/* One round of one case: S timed packets; false (with x->error[c]) if it is not the path. */
static bool run_case(struct pctx *x, enum pcase_id c, uint32_t round)
{
	const struct pcase *pc = &case_table[c];
	struct pktdp *dp = pc->gw ? x->gw : x->wl;
	uint32_t S = x->o->samples, rv = 0, ns;
	uint64_t before = 0, after = 0;
	int fd = case_fd(x, c, pc->prog), pre_fd = fd, err = 0;
	struct stats st;

	if (fd < 0) {
		snprintf(x->error[c], sizeof(x->error[c]), "program %s: %s", pc->prog,
			 strerror(-fd));
		return false;
	}
	if (c == C_REPLY)
		pre_fd = case_fd(x, c, "dp_egress_eth");
	if (pc->replays != C_COUNT) { /* a fresh random order of last round's flows */
		for (uint32_t i = 0; i < S; i++)
			x->perm[i] = i;
		for (uint32_t i = S - 1; i > 0; i--) {
			uint32_t j = rng_next() % (i + 1), t = x->perm[i];

			x->perm[i] = x->perm[j];
			x->perm[j] = t;
		}
	}
	/* The fragment table (8192, LRU) would be at capacity after a few rounds: start empty,
	 * as a machine that is not flooded with fragments is. */
	if (c == C_FRAG && (err = pktdp_clear_map(dp, "frags", sizeof(struct dp_frag_key)))) {
		snprintf(x->error[c], sizeof(x->error[c]), "clearing frags: %s", strerror(-err));
		return false;
	}
	/* Set-up packets (reply: the egress SYN; fragment: the first fragment) all run
	 * first, untimed, and the timed packets follow in another order: a set-up packet
	 * run just before its timed one would leave the entry in cache. */
	for (uint32_t i = 0; i < S && !err; i++) {
		x->flows[i] = (struct pktgen_flow){0};
		if (!build(x, c, i, round * S + i, &x->flows[i], &x->pre[i]))
			continue;
		err = run_packet_l(pre_fd, &x->pre[i], 1, pc->l3, &ns, &rv);
		if (!err && rv != TC_ACT_OK) {
			snprintf(x->error[c], sizeof(x->error[c]),
				 "the set-up packet was dropped (tc verdict %u)", rv);
			return false;
		}
	}
	if (pc->prog && !err)
		err = pktdp_count(dp, pc->dir, pc->reason, &before);
	for (uint32_t k = 0; k < S && !err; k++) {
		/* with set-up packets: the flows in reverse order (LRU-coldest first) */
		uint32_t i = c == C_REPLY || c == C_FRAG ? S - 1 - k : k;

		err = run_packet_l(fd, &x->flows[i], 1, pc->l3, &x->buf[k], &rv);
		if (!err && pc->prog && (int)rv != pc->verdict) {
			snprintf(x->error[c], sizeof(x->error[c]),
				 "tc verdict %u, expected %d: not the path the case is named after",
				 rv, pc->verdict);
			return false;
		}
	}
	if (!err && pc->prog)
		err = pktdp_count(dp, pc->dir, pc->reason, &after);
	if (err) {
		snprintf(x->error[c], sizeof(x->error[c]), "%s", strerror(-err));
		return false;
	}
	if (pc->prog && after - before != S) {
		snprintf(x->error[c], sizeof(x->error[c]),
			 "%u packets but the datapath counted %llu as %s: wrong path", S,
			 (unsigned long long)(after - before), pc->name);
		return false;
	}
	st = stats_of(x->buf, S);
	x->round_median[c][round] = st.median;
	x->round_p90[c][round] = st.p90;
	{
		json_t *j = record(pc->name, x->entries);

		json_object_set_new(j, "part", json_string("pkt_round"));
		json_object_set_new(j, "round", json_integer(round));
		json_object_set_new(j, "median_ns", json_real(st.median));
		json_object_set_new(j, "p90_ns", json_real(st.p90));
		emit(j);
	}
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, uint32_t n, double *lo, double *hi)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*lo = v[0];
	*hi = v[n - 1];
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The hot figure of the established path: one flow, 10,000 times in one call. */
static int64_t hot_of(struct pctx *x, enum pcase_id c)
{
	struct pktgen_flow f = {0}, pre = {0};
	uint32_t ns = 0, rv = 0;

	x->perm[0] = 0;
	build(x, c, 0, 0, &f, &pre);
	if (run_packet_l(case_fd(x, c, case_table[c].prog), &f, HOT_REPEAT, case_table[c].l3, &ns,
			 &rv))
		return -1;
	return ns;
}

static void summarize(struct pctx *x, uint32_t rounds)
{
	for (int c = 0; c < C_COUNT; c++) {
		double lo, hi, med, p90lo, p90hi, p90;
		json_t *j;

		if (x->error[c][0]) {
			emit_error(case_table[c].name, x->entries, x->error[c]);
			continue;
		}
		med = median_of(x->round_median[c], rounds, &lo, &hi);
		p90 = median_of(x->round_p90[c], rounds, &p90lo, &p90hi);
		j = record(case_table[c].name, x->entries);
		json_object_set_new(j, "what", json_string(case_table[c].what));
		json_object_set_new(j, "rounds", json_integer(rounds));
		json_object_set_new(j, "samples", json_integer(x->o->samples));
		json_object_set_new(j, "median_ns", json_real(med));
		json_object_set_new(j, "min_ns", json_real(lo));
		json_object_set_new(j, "max_ns", json_real(hi));
		json_object_set_new(j, "p90_ns", json_real(p90));
		if (x->wl)
			json_object_set_new(
			    j, "policy_keys",
			    json_integer(pktdp_policy_keys(case_table[c].gw ? x->gw : x->wl)));
		if (c == C_EST || c == C_EST_GW)
			json_object_set_new(j, "hot_ns", json_integer(hot_of(x, (enum pcase_id)c)));
		emit(j);
	}
}

/* Every case at one population size, in o->rounds interleaved rounds. */
static bool bench_paths(const struct opts *o, uint32_t entries, uint32_t *buf)
{
	struct dpbench_empty *empty = dpbench_empty__open_and_load();
	struct pctx x = {.o = o, .entries = entries, .buf = buf, .empty_fd = -1};
	/* every new-flow case of every round stays in conntrack (LRU headroom x2) */
	uint32_t ct_max = 2 * 8 * o->samples * o->rounds;
	char why[256] = "";
	bool ok = true;
	int err;

	x.perm = calloc(o->samples, sizeof(*x.perm));
	x.flows = calloc(o->samples, sizeof(*x.flows));
	x.pre = calloc(o->samples, sizeof(*x.pre));
	for (int c = 0; c < C_COUNT; c++) {
		x.round_median[c] = calloc(o->rounds, sizeof(double));
		x.round_p90[c] = calloc(o->rounds, sizeof(double));
		if (case_table[c].replays == C_COUNT && c != C_EMPTY)
			x.remote[c] = calloc(o->samples, sizeof(uint32_t));
	}
	err = empty ? 0 : -ENOENT;
	if (!err) {
		x.empty_fd = bpf_program__fd(empty->progs.dpbench_empty);
		err = pktdp_open(PKTDP_WORKLOAD, entries, ct_max, &x.wl, why, sizeof(why));
	}
	err = err ?: pktdp_open(PKTDP_GATEWAY, entries, ct_max, &x.gw, why, sizeof(why));
	if (err) {
		for (int c = 0; c < C_COUNT; c++)
			emit_error(case_table[c].name, entries, why[0] ? why : strerror(-err));
		ok = false;
		goto out;
	}
	for (uint32_t r = 0; r < o->rounds; r++)
		for (int c = 0; c < C_COUNT; c++)
			if (!x.error[c][0] && (case_table[c].replays == C_COUNT ||
					       !x.error[case_table[c].replays][0]))
				ok = run_case(&x, (enum pcase_id)c, r) && ok;
			else if (!x.error[c][0])
				snprintf(x.error[c], sizeof(x.error[c]), "skipped: %s failed",
					 case_table[case_table[c].replays].name);
	summarize(&x, o->rounds);
out:
	pktdp_close(x.wl);
	pktdp_close(x.gw);
	if (empty)
		dpbench_empty__destroy(empty);
	for (int c = 0; c < C_COUNT; c++) {
		free(x.round_median[c]);
		free(x.round_p90[c]);
		free(x.remote[c]);
	}
	free(x.perm);
	free(x.flows);
	free(x.pre);
	return ok;
}

static bool parse_entries(const char *arg, struct opts *o)
{
	char *copy = strdup(arg), *save = NULL, *tok, *end;
	bool ok = copy != NULL;

	o->n_entries = 0;
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && ok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || v == 0 || v > 4000000 || o->n_entries == MAX_SIZES) {
			fprintf(stderr,
				"--entries: '%s' is not a size in 1..4000000 (at most %d)\n", tok,
				MAX_SIZES);
			ok = false;
			break;
		}
		o->entries[o->n_entries++] = (uint32_t)v;
	}
	free(copy);
	return ok && o->n_entries > 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"quick", no_argument, NULL, 'q'},
	    {"entries", required_argument, NULL, 'e'},
	    {"samples", required_argument, NULL, 's'},
	    {"rounds", required_argument, NULL, 'R'},
	    {"seed", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.entries = {10, 1000, 10000, 100000}, .n_entries = 4, .seed = 1};
	bool quick = false, ok = true;
	uint32_t *buf;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quick = true;
			break;
		case 'e':
			if (!parse_entries(optarg, &o))
				return 2;
			break;
		case 's':
			o.samples = (uint32_t)strtoul(optarg, NULL, 10);
			if (o.samples < 100 || o.samples > 20000) {
				fprintf(stderr, "--samples: '%s' is not in 100..20000\n", optarg);
				return 2;
			}
			break;
		case 'R':
			o.rounds = (uint32_t)strtoul(optarg, NULL, 10);
			if (o.rounds < 5 || o.rounds > 50) {
				fprintf(stderr, "--rounds: '%s' is not in 5..50\n", optarg);
				return 2;
			}
			break;
		case 'r':
			o.seed = strtoull(optarg, NULL, 10) ?: 1;
			break;
		default:
			fprintf(stderr, "usage: pp-dpbench-pkt [--quick] [--entries N,N,...] "
					"[--samples N] [--rounds N] [--seed N]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!o.samples)
		o.samples = quick ? 200 : 2000;
	if (!o.rounds)
		o.rounds = quick ? 5 : 7;
	/* Each sample of every round is a distinct source port. */
	if (o.samples * o.rounds > 64000) {
		fprintf(stderr, "--samples x --rounds must stay under 64000 (source ports)\n");
		return 2;
	}
	rng_state = o.seed;
	libbpf_set_print(NULL);

	buf = calloc(o.samples, sizeof(*buf));
	if (!buf) {
		fprintf(stderr, "pp-dpbench-pkt: out of memory\n");
		return 1;
	}
	ok = bench_empty(&o, buf);
	for (int i = 0; i < o.n_entries; i++) {
		ok = bench_paths(&o, o.entries[i], buf) && ok;
		ok = bench_probes(&o, o.entries[i], buf) && ok;
	}
	free(buf);
	return ok ? 0 : 1;
}

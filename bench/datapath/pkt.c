// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-dpbench-pkt: per-packet cost of the datapath, measured with BPF_PROG_TEST_RUN.
 *
 *   pp-dpbench-pkt [--quick] [--entries N,N,...] [--samples N] [--seed N]
 *
 * Method (the README explains how to read it):
 *   - every timed call runs ONE packet (repeat = 1) and the kernel's own duration is
 *     kept; figures are the median / mean / p90 over --samples calls, each with a
 *     different flow picked at random from the population, so keys are not always in
 *     cache. The empty program is timed the same way: it is the floor, and includes the
 *     harness's fixed cost (two clock reads around the call).
 *   - "new_flow": a TCP SYN of a flow conntrack has not seen, from a random remote of the
 *     N in ipcache, allowed by one of N policy entries (the verdict and the conntrack
 *     insertion are both in the figure).
 *   - "established": an ACK of one of those flows, in a fresh random order.
 *   - "denied": a SYN from a random remote to a port no entry allows (default deny).
 *   - the same three over IPv6 ("new_flow6", ...), with a population of /128s.
 *   - "hot": the same packet 10,000 times in one call (everything in cache), for
 *     comparison with figures quoted elsewhere.
 *   - "lpm_lookup" / "hash_lookup": probe.bpf.c, one lookup with the ipcache's / conntrack's
 *     key shape in a map of N entries — the parts a verdict is made of, to read the
 *     datapath's figures against.
 *
 * Output: one JSON object per line (stdout), {"part":"pkt","case":...,"entries":N,...},
 * with "error" instead of figures when a case could not be measured. Exit 0 when every
 * figure was produced, 1 otherwise, 2 on usage errors.
 */
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
 * same syscall as the datapath's dp_test_run(), called directly on the floor and probe
 * programs, which are not datapath objects.
 */
static int run_packet(int prog_fd, const struct pktgen_flow *flow, int repeat, uint32_t *ns,
		      uint32_t *retval)
{
	uint8_t pkt[PKTGEN_MAX], out[PKTGEN_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);

	o.data_size_in = (uint32_t)pktgen_build(flow, pkt);
	if (bpf_prog_test_run_opts(prog_fd, &o) < 0)
		return -errno;
	*ns = o.duration;
	*retval = o.retval;
	return 0;
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
	pktdp_local_addr(family, f.daddr);
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
		pktdp_local_addr(4, b);
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

/*
 * Denied: SYNs from random remotes to a port no entry allows — the default-deny verdict,
 * its drop event (rate-limited) and counters. Nothing is remembered for a denied packet,
 * so the hot figure is the same verdict taken 10,000 times. This is the cost a flood of
 * unwanted traffic puts on the datapath.
 */
static int bench_denied(const struct opts *o, const char *name, int family, struct pktdp *dp,
			int fd, uint32_t entries, uint32_t *buf)
{
	uint64_t n_new, n_est, before, after;
	struct pktgen_flow f = {0};
	uint32_t rv = 0, hot = 0;
	char why[160] = "";
	struct stats s;
	int err = pktdp_path_counts(dp, &n_new, &n_est, &before);

	for (uint32_t i = 0; i < o->samples && !err; i++) {
		f = flow_of(family, rng_next() % entries, (uint16_t)(1024 + rng_next() % 60000),
			    TH_SYN);
		f.dport = PKTDP_DENIED_PORT;
		err = run_packet(fd, &f, 1, &buf[i], &rv);
		if (!err && rv != TC_ACT_SHOT) {
			snprintf(why, sizeof(why),
				 "the datapath passed a SYN to a port no entry "
				 "allows (tc verdict %d)",
				 (int)rv);
			err = -EPROTO;
		}
	}
	if (!err)
		err = run_packet(fd, &f, HOT_REPEAT, &hot, &rv);
	if (!err && !pktdp_path_counts(dp, &n_new, &n_est, &after) &&
	    after - before != (uint64_t)o->samples + HOT_REPEAT) {
		snprintf(why, sizeof(why),
			 "%u denied SYNs but the datapath counted %llu default-deny drops",
			 o->samples + HOT_REPEAT, (unsigned long long)(after - before));
		err = -EPROTO;
	}
	if (err) {
		emit_error(name, entries, why[0] ? why : strerror(-err));
		return err;
	}
	s = stats_of(buf, o->samples);
	emit_stats(name, entries, &s, hot);
	return 0;
}

/* new_flow, established and denied, at one population size. */
static bool bench_datapath(const struct opts *o, uint32_t entries, int family, uint32_t *buf,
			   uint32_t *remote, uint16_t *sport)
{
	/* Case names: "new_flow" for IPv4, "new_flow6" for IPv6. */
	const char *sfx = family == 6 ? "6" : "";
	char nf[24], es[24], dn[24];
	struct pktdp *dp = NULL;
	struct pktgen_flow f;
	char why[256] = "";
	uint32_t rv = 0, hot = 0;
	uint64_t n_new = 0, n_est = 0, n_deny = 0;
	int fd, err;
	struct stats s;

	snprintf(nf, sizeof(nf), "new_flow%s", sfx);
	snprintf(es, sizeof(es), "established%s", sfx);
	snprintf(dn, sizeof(dn), "denied%s", sfx);
	err = pktdp_open(entries, family, o->samples * 2, &dp, why, sizeof(why));
	if (err) {
		emit_error(nf, entries, why[0] ? why : strerror(-err));
		emit_error(es, entries, why[0] ? why : strerror(-err));
		emit_error(dn, entries, why[0] ? why : strerror(-err));
		return false;
	}
	fd = pktdp_prog_fd(dp);

	/* New flows: distinct (remote, sport) pairs, so every SYN misses conntrack. */
	for (uint32_t i = 0; i < o->samples && !err; i++) {
		remote[i] = rng_next() % entries;
		sport[i] = (uint16_t)(1024 + (i % 60000));
		f = flow_of(family, remote[i], sport[i], TH_SYN);
		err = run_packet(fd, &f, 1, &buf[i], &rv);
		if (!err && rv != TC_ACT_OK) {
			snprintf(why, sizeof(why),
				 "the datapath did not pass an allowed SYN (tc verdict %d)",
				 (int)rv);
			err = -EPROTO;
		}
	}
	if (err) {
		emit_error(nf, entries, why[0] ? why : strerror(-err));
		emit_error(es, entries, "skipped: new-flow run failed");
		emit_error(dn, entries, "skipped: new-flow run failed");
		goto out;
	}
	if (!pktdp_path_counts(dp, &n_new, &n_est, &n_deny) && n_new != o->samples) {
		snprintf(why, sizeof(why),
			 "%u SYNs but the datapath counted %llu allowed new flows: wrong path",
			 o->samples, (unsigned long long)n_new);
		emit_error(nf, entries, why);
		emit_error(es, entries, "skipped: new-flow run failed");
		emit_error(dn, entries, "skipped: new-flow run failed");
		err = -EPROTO;
		goto out;
	}
	s = stats_of(buf, o->samples);
	emit_stats(nf, entries, &s, -1);

	/* Established: the same flows, in another random order (Fisher-Yates). */
	for (uint32_t i = o->samples - 1; i > 0; i--) {
		uint32_t j = rng_next() % (i + 1), tr = remote[i];
		uint16_t ts = sport[i];

		remote[i] = remote[j];
		remote[j] = tr;
		sport[i] = sport[j];
		sport[j] = ts;
	}
	for (uint32_t i = 0; i < o->samples && !err; i++) {
		f = flow_of(family, remote[i], sport[i], TH_ACK);
		err = run_packet(fd, &f, 1, &buf[i], &rv);
		if (!err && rv != TC_ACT_OK) {
			snprintf(why, sizeof(why),
				 "the datapath did not pass an established ACK (tc verdict %d)",
				 (int)rv);
			err = -EPROTO;
		}
	}
	if (!err)
		err = run_packet(fd, &f, HOT_REPEAT, &hot, &rv);
	if (!err && !pktdp_path_counts(dp, &n_new, &n_est, &n_deny) &&
	    n_est != (uint64_t)o->samples + HOT_REPEAT) {
		snprintf(why, sizeof(why),
			 "%u ACKs but the datapath counted %llu established packets: wrong path",
			 o->samples + HOT_REPEAT, (unsigned long long)n_est);
		err = -EPROTO;
	}
	if (err) {
		emit_error(es, entries, why[0] ? why : strerror(-err));
		emit_error(dn, entries, "skipped: established run failed");
		goto out;
	}
	s = stats_of(buf, o->samples);
	emit_stats(es, entries, &s, hot);
	err = bench_denied(o, dn, family, dp, fd, entries, buf);
out:
	pktdp_close(dp);
	return !err;
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
	    {"quick", no_argument, NULL, 'q'},	       {"entries", required_argument, NULL, 'e'},
	    {"samples", required_argument, NULL, 's'}, {"seed", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	struct opts o = {
	    .entries = {10, 1000, 10000, 100000}, .n_entries = 4, .samples = 50000, .seed = 1};
	bool quick = false, ok = true;
	uint32_t *buf, *remote;
	uint16_t *sport;
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
			/* At most 60000: each sample is a distinct source port. */
			if (o.samples < 100 || o.samples > 60000) {
				fprintf(stderr, "--samples: '%s' is not in 100..60000\n", optarg);
				return 2;
			}
			break;
		case 'r':
			o.seed = strtoull(optarg, NULL, 10) ?: 1;
			break;
		default:
			fprintf(stderr, "usage: pp-dpbench-pkt [--quick] [--entries N,N,...] "
					"[--samples N] [--seed N]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (quick && o.samples == 50000)
		o.samples = 5000;
	rng_state = o.seed;
	libbpf_set_print(NULL);

	buf = calloc(o.samples, sizeof(*buf));
	remote = calloc(o.samples, sizeof(*remote));
	sport = calloc(o.samples, sizeof(*sport));
	if (!buf || !remote || !sport) {
		fprintf(stderr, "pp-dpbench-pkt: out of memory\n");
		return 1;
	}
	ok = bench_empty(&o, buf);
	for (int i = 0; i < o.n_entries; i++) {
		ok = bench_probes(&o, o.entries[i], buf) && ok;
		ok = bench_datapath(&o, o.entries[i], 4, buf, remote, sport) && ok;
		ok = bench_datapath(&o, o.entries[i], 6, buf, remote, sport) && ok;
	}
	free(buf);
	free(remote);
	free(sport);
	return ok ? 0 : 1;
}

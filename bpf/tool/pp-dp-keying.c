// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-dp-keying: measures the two ways a gateway can key the policy of many endpoints
 * (endpoint in the LPM key vs. map-in-map) with BPF_PROG_TEST_RUN: T policy entries spread
 * over E endpoints, lookups of random existing {endpoint, identity, port}. Prints the
 * median ns per run of each program (including the test-run overhead, see `empty`) and
 * the time to write the entries. The figures are quoted in docs/datapath.md.
 *   pp-dp-keying [--quick]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "keying.skel.h"

#include "bpf/datapath.h"
#include "bpf/dp_testrun.h"

struct inner_key {
	__u32 prefixlen;
	__u32 identity;
	__u8 dir, deny, proto, pad;
	__u16 port, pad2;
};

struct probe_pkt {
	uint8_t eth[14];
	uint32_t endpoint, identity;
	uint16_t port, pad;
	uint8_t fill[32];
} __attribute__((packed)); /* the probe follows the 14-byte header with no gap */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Median ns of `samples` single runs over random existing keys; -1 on error. */
static double median_ns(int fd, uint32_t endpoints, uint32_t per_ep, unsigned int samples)
{
	uint32_t *ns = calloc(samples, sizeof(*ns));
	struct probe_pkt pkt = {.eth = {[12] = 0x88, [13] = 0xb5}};
	struct dp_test_result r;
	double med = -1;
	unsigned int i;

	if (!ns)
		return -1;
	for (i = 0; i < samples; i++) {
		uint32_t ep = (uint32_t)rand() % endpoints, rule = (uint32_t)rand() % per_ep;

		pkt.endpoint = htonl(1000 + ep);
		pkt.identity = htonl(256 + rule);
		pkt.port = htons(80);
		if (dp_test_run(fd, &pkt, sizeof(pkt), 1, NULL, 0, &r) || r.retval != 0) {
			fprintf(stderr, "pp-dp-keying: lookup of endpoint %u rule %u failed\n", ep,
				rule);
			goto out;
		}
		ns[i] = r.ns;
	}
	qsort(ns, samples, sizeof(*ns), cmp_u32);
	med = ns[samples / 2];
out:
	free(ns);
	return med;
}

static int run_case(uint32_t total, uint32_t endpoints, unsigned int samples)
{
	uint32_t per_ep = total / endpoints, ep, rule;
	struct dp_policy_val val = {.refcnt = 1, .prefix = 32};
	double t0, fill_flat, fill_mim, floor_ns, flat_ns, mim_ns;
	struct keying *skel;
	int err = -1, inner_fd;

	skel = keying__open();
	if (!skel)
		return -1;
	bpf_map__set_max_entries(skel->maps.flat, total + 16);
	bpf_map__set_max_entries(skel->maps.inner, per_ep + 16);
	bpf_map__set_max_entries(skel->maps.outer, endpoints + 16);
	if (keying__load(skel))
		goto out;

	t0 = now_s();
	for (ep = 0; ep < endpoints; ep++)
		for (rule = 0; rule < per_ep; rule++) {
			struct dp_policy_key k = {.prefixlen = DP_POL_PREFIX_FULL,
						  .endpoint = htonl(1000 + ep),
						  .identity = htonl(256 + rule),
						  .proto = 6,
						  .port = htons(80)};

			if (bpf_map_update_elem(bpf_map__fd(skel->maps.flat), &k, &val, BPF_ANY))
				goto out;
		}
	fill_flat = now_s() - t0;

	t0 = now_s();
	for (ep = 0; ep < endpoints; ep++) {
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
		uint32_t key = htonl(1000 + ep);

		inner_fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "pp_keying_in",
					  sizeof(struct inner_key), sizeof(val), per_ep + 16, &o);
		if (inner_fd < 0)
			goto out;
		for (rule = 0; rule < per_ep; rule++) {
			struct inner_key k = {.prefixlen = DP_POL_PREFIX_FULL - 32,
					      .identity = htonl(256 + rule),
					      .proto = 6,
					      .port = htons(80)};

			if (bpf_map_update_elem(inner_fd, &k, &val, BPF_ANY)) {
				close(inner_fd);
				goto out;
			}
		}
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.outer), &key, &inner_fd, BPF_ANY);
		close(inner_fd);
		if (err)
			goto out;
	}
	fill_mim = now_s() - t0;
	err = -1;

	floor_ns = median_ns(bpf_program__fd(skel->progs.keying_empty), endpoints, per_ep, samples);
	flat_ns = median_ns(bpf_program__fd(skel->progs.keying_flat), endpoints, per_ep, samples);
	mim_ns = median_ns(bpf_program__fd(skel->progs.keying_mim), endpoints, per_ep, samples);
	if (floor_ns < 0 || flat_ns < 0 || mim_ns < 0)
		goto out;
	printf("%8u %9u %8u | %6.0f %9.0f %9.0f | %10.3f %10.3f\n", total, endpoints, per_ep,
	       floor_ns, flat_ns, mim_ns, fill_flat, fill_mim);
	err = 0;
out:
	if (err)
		fprintf(stderr, "pp-dp-keying: case %u/%u failed: %s\n", total, endpoints,
			strerror(errno));
	keying__destroy(skel);
	return err;
}

int main(int argc, char **argv)
{
	static const uint32_t totals[] = {1000, 100000};
	static const uint32_t eps[] = {1, 10, 100, 1000};
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	unsigned int samples = quick ? 2000 : 20000;
	int rc = 0;

	if (argc > 1 && !quick) {
		fprintf(stderr, "usage: pp-dp-keying [--quick]\n");
		return 2;
	}
	srand(42);
	printf(
	    "policy keying: median ns per BPF_PROG_TEST_RUN (random existing keys, %u samples)\n",
	    samples);
	printf("%8s %9s %8s | %6s %9s %9s | %10s %10s\n", "entries", "endpoints", "per-ep", "empty",
	       "flat-lpm", "map-in-map", "fill flat", "fill mim");
	for (size_t t = 0; t < sizeof(totals) / sizeof(totals[0]); t++)
		for (size_t e = 0; e < sizeof(eps) / sizeof(eps[0]); e++)
			if (eps[e] <= totals[t] && run_case(totals[t], eps[e], samples))
				rc = 1;
	return rc;
}

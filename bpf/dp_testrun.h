/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dp_testrun: BPF_PROG_TEST_RUN of a tc program on one packet, for the BPF tests and
 * bench/datapath. The kernel runs the program `repeat` times back to back and reports the
 * mean duration per run in ns (includes the test-run loop overhead, the same for every
 * program, which is why figures are compared against an empty program).
 *
 * tc test runs always start from an Ethernet frame (the kernel derives skb->protocol with
 * eth_type_trans); the datapath's "l3" programs read the IP version nibble instead, so
 * they are driven with a bare IP packet (at least 14 bytes long).
 */
#ifndef PSEUDOPOD_BPF_DP_TESTRUN_H
#define PSEUDOPOD_BPF_DP_TESTRUN_H

#include <stddef.h>
#include <stdint.h>

struct dp_test_result {
	uint32_t retval;  /* TC_ACT_OK (0) = pass, TC_ACT_SHOT (2) = drop */
	uint32_t ns;	  /* mean ns per run, as reported by the kernel */
	uint32_t out_len; /* bytes written to out (<= out_cap) */
};

/* out may be NULL (then the output packet is discarded). Returns 0 or -errno. */
int dp_test_run(int prog_fd, const void *pkt, size_t len, uint32_t repeat, void *out,
		size_t out_cap, struct dp_test_result *res);

#endif

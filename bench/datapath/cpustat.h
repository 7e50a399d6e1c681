/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cpustat: machine-wide CPU time from /proc/stat, for the benchmark's "CPU per packet".
 *
 * Why machine-wide and not getrusage(): on veth most of a packet's cost is softirq work
 * (the filter, the stack) that the kernel may charge to no task at all, so only the
 * machine's busy time sees it. The benchmark runs on an otherwise idle machine; the
 * figure is only as good as that assumption, which the README says.
 */
#ifndef PSEUDOPOD_BENCH_CPUSTAT_H
#define PSEUDOPOD_BENCH_CPUSTAT_H

#include <stdint.h>

struct cpustat {
	uint64_t busy_ns;  /* user + nice + system + irq + softirq + steal, all CPUs */
	uint64_t total_ns; /* busy + idle + iowait */
};

/* Reads the "cpu" line of /proc/stat. Returns 0 or -errno. */
int cpustat_read(struct cpustat *out);
/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t cpustat_now_ns(void);

#endif

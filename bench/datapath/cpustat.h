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
/* A task's time on a CPU in ns (/proc/PID/schedstat, first field; pid 0 = this process).
 * It includes the softirq work done while the task was current (on veth, the receive path
 * runs in the sender's context), which is why it is the benchmark's CPU figure on a
 * machine others share: the machine-wide counters above see their work too. */
int cpustat_task_ns(int pid, uint64_t *ns);
/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t cpustat_now_ns(void);

#endif

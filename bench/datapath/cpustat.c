// SPDX-License-Identifier: GPL-2.0-only
/* cpustat: see cpustat.h. */
#include "bench/datapath/cpustat.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int cpustat_read(struct cpustat *out)
{
	unsigned long long v[8] = {0};
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "re");
	int n, err = 0;

	if (!f)
		return -errno;
	/* user nice system idle iowait irq softirq steal (guest time is inside user). */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]);
	if (n < 7)
		err = -EPROTO;
	fclose(f);
	if (err)
		return err;
	if (hz <= 0)
		hz = 100;
	out->busy_ns = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * (1000000000ull / (uint64_t)hz);
	out->total_ns = out->busy_ns + (v[3] + v[4]) * (1000000000ull / (uint64_t)hz);
	return 0;
}

int cpustat_task_ns(int pid, uint64_t *ns)
{
	char path[64];
	unsigned long long v = 0;
	FILE *f;
	int n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/schedstat");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &v);
	fclose(f);
	if (n != 1)
		return -EPROTO;
	*ns = v;
	return 0;
}

uint64_t cpustat_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// SPDX-License-Identifier: GPL-2.0-only
/* dp_metrics: sums the per-CPU counters of the metrics map. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/dp_internal.h"

int dp_metrics_read(struct dp *dp, struct dp_metric out[DP_METRICS_SLOTS])
{
	int ncpu = libbpf_num_possible_cpus();
	struct dp_metric *percpu;
	__u32 i;
	int c;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(out, 0, sizeof(*out) * DP_METRICS_SLOTS);
	for (i = 0; i < DP_METRICS_SLOTS; i++) {
		if (bpf_map_lookup_elem(dp->fd[DP_MAP_METRICS], &i, percpu)) {
			int err = -errno;

			free(percpu);
			return err;
		}
		for (c = 0; c < ncpu; c++) {
			out[i].packets += percpu[c].packets;
			out[i].bytes += percpu[c].bytes;
		}
	}
	free(percpu);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* dp_internal.h: the open handle shared by the dp_*.c files (not part of the API). */
#ifndef PSEUDOPOD_BPF_DP_INTERNAL_H
#define PSEUDOPOD_BPF_DP_INTERNAL_H

#include <limits.h>

#include "bpf/dp.h"

enum dp_map_id {
	DP_MAP_IPCACHE = 0,
	DP_MAP_POLICY,
	DP_MAP_ENDPOINTS,
	DP_MAP_CONNTRACK4,
	DP_MAP_CONNTRACK6,
	DP_MAP_FRAGS,
	DP_MAP_EVENTS,
	DP_MAP_METRICS,
	DP_MAP_EVENTS_RL,
	DP_MAP_INFO,
	DP_MAP_IPCACHE_HOST,
	DP_MAP_POLICY_EXACT,
	DP_MAP_TUNNEL,
	DP_MAP_COUNT,
};

extern const char *const dp_map_names[DP_MAP_COUNT];
extern const char *const dp_prog_names[];
extern const unsigned int dp_prog_count;

/* Entering a device's network namespace for a netlink/ioctl operation (NULL = stay). */
struct dp_netns_guard {
	int orig;
};
int dp_netns_enter(const char *netns, struct dp_netns_guard *g);
void dp_netns_leave(struct dp_netns_guard *g);
/* ARPHRD_NONE (TUN, WireGuard) -> l3; ethtool driver "vxlan" -> vxlan; else eth. */
int dp_detect_kind(const char *ifname, enum dp_dev_kind *kind);

/* libbpf's messages through lib/log; quiet mutes them (expected failures of a probe). */
void dp_libbpf_log_init(void);
void dp_libbpf_quiet(bool quiet);

#define DP_TC_HANDLE 0x70700 /* "pp": a fixed handle+priority so attach can replace */
#define DP_TC_PRIO   1

struct dp {
	char bpffs[PATH_MAX];
	int fd[DP_MAP_COUNT];
};

#endif

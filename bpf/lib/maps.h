/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * maps.h: every map of the datapath and the load-time parameters. Sizes here are
 * placeholders: the loader sets the real ones (bpf_map__set_max_entries) before load, and
 * adopts already-pinned maps of the same shape. The pinned names are the map names.
 */
#ifndef PSEUDOPOD_BPF_LIB_MAPS_H
#define PSEUDOPOD_BPF_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bpf/datapath.h"

/* Load-time parameters (set through the skeleton's rodata before load). */
const volatile __u32 dp_cfg_mode = DP_MODE_WORKLOAD;
const volatile __u32 dp_cfg_identity = 0;	 /* workload mode: this machine's identity */
const volatile __u32 dp_cfg_events_rate = 10000; /* events per second per CPU; 0 = no limit */
/* Jiffies per second (CONFIG_HZ), probed by the loader: time in the datapath is
 * bpf_jiffies64(), which the verifier inlines into a load, where a clock read is a helper
 * call (about 15 ns per packet here). */
const volatile __u32 dp_cfg_hz = 250;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct dp_ipcache_key);
	__type(value, struct dp_ipcache_val);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct dp_host_key);
	__type(value, struct dp_ipcache_val);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ipcache_host SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct dp_policy_key);
	__type(value, struct dp_policy_val);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} policy_exact SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct dp_policy_key);
	__type(value, struct dp_policy_val);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct dp_endpoint_val);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct dp_ct4_key);
	__type(value, struct dp_ct_val);
	__uint(max_entries, 1024);
} conntrack4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct dp_ct_key);
	__type(value, struct dp_ct_val);
	__uint(max_entries, 1024);
} conntrack6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct dp_frag_key);
	__type(value, struct dp_frag_val);
	__uint(max_entries, 8192);
} frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dp_metric);
	__uint(max_entries, DP_METRICS_SLOTS);
} metrics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct dp_ratelimit);
	__uint(max_entries, 1);
} events_rl SEC(".maps");

/* tunnel: the machine's gateway, the VXLAN remote of addresses without their own (datapath.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct dp_tunnel);
	__uint(max_entries, 1);
} tunnel SEC(".maps");

static __always_inline __u32 dp_tunnel_gateway(void)
{
	__u32 zero = 0;
	struct dp_tunnel *t = bpf_map_lookup_elem(&tunnel, &zero);

	return t ? t->gateway_ipv4 : 0;
}

/* info: what the loader was told (mode, identity), for the tools that only see the pins. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct dp_info);
	__uint(max_entries, 1);
} info SEC(".maps");

#endif

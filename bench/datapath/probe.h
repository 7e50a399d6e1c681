/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * probe.h: key and value layouts of probe.bpf.c's maps, shared with pp-dpbench-pkt.
 * Same sizes and prefix rule as the datapath's ipcache and conntrack (bpf/datapath.h).
 */
#ifndef PSEUDOPOD_BENCH_PROBE_H
#define PSEUDOPOD_BENCH_PROBE_H

#include <linux/types.h>

struct probe_lpm_key {
	__u32 prefixlen; /* counts from `family`: IPv4 /n = PROBE_LPM_PREFIX_BASE + n */
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};
#define PROBE_LPM_PREFIX_BASE 32u

struct probe_lpm_val {
	__u32 identity;
	__u32 tunnel_ipv4;
	__u32 flags;
	__u32 pad;
};

struct probe_ct_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* network order */
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 dir;
	__u8 pad;
};

struct probe_ct_val {
	__u64 expires_ns;
	__u64 packets;
	__u64 bytes;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 flags;
	__u32 pad;
};

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe.bpf.c: the building blocks of a verdict, timed alone so the datapath's figures can
 * be read as a sum of parts — one LPM-trie lookup with the ipcache's key shape, and one
 * hash lookup with conntrack's key shape, each after the same minimal Ethernet + IPv4 (+
 * ports) parse. The key layouts mirror bpf/datapath.h by size and prefix rule, not by
 * include, so this benchmark builds even without the datapath.
 *
 * Each returns TC_ACT_OK when the key was found and TC_ACT_SHOT when not, so the
 * benchmark can check that it measured hits.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench/datapath/probe.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct probe_lpm_key);
	__type(value, struct probe_lpm_val);
	__uint(max_entries, 1); /* set by the benchmark before load */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} probe_lpm_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct probe_ct_key);
	__type(value, struct probe_ct_val);
	__uint(max_entries, 1); /* set by the benchmark before load */
} probe_hash_map SEC(".maps");

static __always_inline struct iphdr *probe_ipv4(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) + sizeof(struct tcphdr) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return NULL;
	return ip;
}

SEC("tc")
int probe_lpm(struct __sk_buff *skb)
{
	struct probe_lpm_key k = {.prefixlen = PROBE_LPM_PREFIX_BASE + 32, .family = 4};
	struct iphdr *ip = probe_ipv4(skb);

	if (!ip)
		return TC_ACT_SHOT;
	__builtin_memcpy(k.addr, &ip->saddr, 4);
	return bpf_map_lookup_elem(&probe_lpm_map, &k) ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int probe_hash(struct __sk_buff *skb)
{
	struct probe_ct_key k = {.family = 4};
	struct iphdr *ip = probe_ipv4(skb);
	struct tcphdr *th;

	if (!ip || ip->ihl != 5)
		return TC_ACT_SHOT;
	th = (void *)(ip + 1);
	__builtin_memcpy(k.saddr, &ip->saddr, 4);
	__builtin_memcpy(k.daddr, &ip->daddr, 4);
	k.sport = th->source;
	k.dport = th->dest;
	k.proto = ip->protocol;
	return bpf_map_lookup_elem(&probe_hash_map, &k) ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";

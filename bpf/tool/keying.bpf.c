// SPDX-License-Identifier: GPL-2.0-only
/*
 * keying.bpf.c: the measurement behind the gateway's policy keying decision (see
 * docs/datapath.md). Two ways to hold the policy of many endpoints at once:
 *   flat — one LPM trie whose key starts with the endpoint (what the datapath uses);
 *   mim  — a hash of maps, endpoint -> that endpoint's own LPM trie (map-in-map).
 * Each program does the one policy lookup of a new flow's verdict for the
 * {endpoint, identity, port} found in the packet after the Ethernet header, so the driver
 * (pp-dp-keying) can randomise keys per run. `empty` is the floor.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/datapath.h"

char LICENSE[] SEC("license") = "GPL";

/* Per-endpoint trie key: dp_policy_key without the endpoint. */
struct keying_inner_key {
	__u32 prefixlen;
	__u32 identity;
	__u8 dir;
	__u8 deny;
	__u8 proto;
	__u8 pad;
	__u16 port;
	__u16 pad2;
};

struct keying_probe {
	__u32 endpoint;
	__u32 identity;
	__u16 port;
	__u16 pad;
} __attribute__((packed));

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct dp_policy_key);
	__type(value, struct dp_policy_val);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} flat SEC(".maps");

/* Sizes, not BTF types: libbpf 1.1 cannot size a struct key of an inner-map template. */
struct keying_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(key_size, sizeof(struct keying_inner_key));
	__uint(value_size, sizeof(struct dp_policy_val));
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 1024);
	__array(values, struct keying_inner);
} outer SEC(".maps");

static __always_inline struct keying_probe *probe(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct keying_probe *k = data + 14;

	return (void *)(k + 1) > end ? 0 : k;
}

SEC("tc")
int keying_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int keying_flat(struct __sk_buff *skb)
{
	struct keying_probe *pr = probe(skb);
	struct dp_policy_key k = {};

	if (!pr)
		return TC_ACT_SHOT;
	k.prefixlen = DP_POL_PREFIX_FULL;
	k.endpoint = pr->endpoint;
	k.identity = pr->identity;
	k.proto = 6;
	k.port = pr->port;
	return bpf_map_lookup_elem(&flat, &k) ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int keying_mim(struct __sk_buff *skb)
{
	struct keying_probe *pr = probe(skb);
	struct keying_inner_key k = {};
	__u32 ep;
	void *m;

	if (!pr)
		return TC_ACT_SHOT;
	ep = pr->endpoint;
	m = bpf_map_lookup_elem(&outer, &ep);
	if (!m)
		return TC_ACT_SHOT;
	k.prefixlen = DP_POL_PREFIX_FULL - 32;
	k.identity = pr->identity;
	k.proto = 6;
	k.port = pr->port;
	return bpf_map_lookup_elem(m, &k) ? TC_ACT_OK : TC_ACT_SHOT;
}

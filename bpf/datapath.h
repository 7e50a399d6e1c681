/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * datapath.h: everything the BPF programs and userspace share — map keys and values,
 * the event record, drop reasons, match types and counter indexes. Fixed-width __u*
 * types only, explicit padding, so both compilers lay the structs out the same way.
 * Changing a layout changes the pinned maps' key/value sizes: the loader then refuses
 * to adopt the old pins (see dp_load()) and the maps are recreated.
 */
#ifndef PSEUDOPOD_BPF_DATAPATH_H
#define PSEUDOPOD_BPF_DATAPATH_H

#include <linux/types.h>

/* Reserved identities (Cilium's numbering). */
#define DP_ID_UNKNOWN 0u
#define DP_ID_HOST    1u
#define DP_ID_WORLD   2u
/* A VNI carries 24 bits: cluster identities (< 65536) plus an 8-bit cluster id. */
#define DP_VNI_MASK 0xffffffu

/* Load-time mode (const volatile dp_cfg_mode). */
enum dp_mode {
	DP_MODE_WORKLOAD = 0,
	DP_MODE_GATEWAY = 1,
};

/* Hook direction, also the policy direction (same values as enum policy_direction). */
enum dp_dir {
	DP_DIR_INGRESS = 0,
	DP_DIR_EGRESS = 1,
	DP_DIR_MAX,
};

/*
 * ipcache: LPM trie. prefixlen counts from the start of `family` so that the family
 * byte and the 3 pad bytes are always matched exactly: IPv4 /n is prefixlen 32 + n,
 * IPv6 /n is 32 + n.
 */
struct dp_ipcache_key {
	__u32 prefixlen;
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16]; /* IPv4 in the first 4 bytes, network order */
};
#define DP_IPCACHE_PREFIX_BASE 32u

/* ipcache_host: hash for host entries (/32, /128), looked up before the trie. A host entry
 * is the longest possible prefix, so "hash first" is exactly LPM semantics, and it keeps
 * the common case (pods, machines) at one hash lookup however many entries there are. */
struct dp_host_key {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

/* ipcache value flags */
#define DP_IPC_F_WORKLOAD 0x1u /* a registered machine's overlay IP (gateway anti-spoofing) */

struct dp_ipcache_val {
	__u32 identity;
	__u32 tunnel_ipv4; /* tunnel endpoint (gateway or machine underlay IP), network order; 0 =
			      none */
	__u32 flags;
	__u32 pad;
};

/*
 * policy: LPM trie keyed by the local endpoint (its identity: an endpoint's policy is a
 * function of its labels, so endpoints sharing an identity share entries), the remote
 * identity, direction and the deny bit — all exact — then protocol and port by prefix
 * length, which is how Cilium expresses "any protocol", "any port" and port ranges.
 * Allow and deny entries live in separate key spaces (the `deny` byte is part of the
 * exact prefix) so one LPM lookup answers "does any deny cover this packet?" whatever
 * the specificity of the allows: deny beats allow without the writer having to resolve
 * overlaps. port is network order so that its high bits come first in the trie.
 */
struct dp_policy_key {
	__u32 prefixlen;
	__u32 endpoint; /* local endpoint identity, network order */
	__u32 identity; /* remote identity (0 = any), network order */
	__u8 dir;	/* enum dp_dir */
	__u8 deny;	/* 0 = allow key space, 1 = deny key space */
	__u8 proto;	/* 0 = any (then prefix stops before it) */
	__u8 pad;	/* always 0: matched as part of the proto prefix */
	__u16 port;	/* destination port or ICMP type, network order */
	__u16 pad2;	/* never part of a prefix */
};
/*
 * Keys of full length (one port or ICMP type: the common case) live in the hash map
 * policy_exact (same key struct, prefixlen always DP_POL_PREFIX_FULL); the trie holds only
 * the wildcards and range blocks, and is not looked up at all for an endpoint and
 * direction that have none (dp_endpoint_val.lpm_keys).
 */
/* Prefix lengths (bits after the prefixlen field). */
#define DP_POL_PREFIX_EXACT 80u	 /* endpoint + identity + dir + deny */
#define DP_POL_PREFIX_PROTO 96u	 /* + proto + pad */
#define DP_POL_PREFIX_FULL  112u /* + 16 bits of port */

struct dp_policy_val {
	__u32 rule_id; /* engine rule id of the first entry that produced this prefix */
	__u16 refcnt;  /* how many engine entries map to this prefix (writer bookkeeping) */
	__u8 prefix;   /* copy of key.prefixlen - 80: tells the datapath what matched */
	__u8 pad;
};

/*
 * endpoints: hash, endpoint identity -> enforcement flags and, per direction, how many
 * deny keys, "any identity" keys and trie (non-exact) keys the endpoint has. The
 * datapath skips the lookups a zero count proves useless (most endpoints have no deny and
 * few wildcard rules: one LPM lookup instead of four). The writer raises a count before
 * inserting keys and lowers it after deleting them, so a count is never below the truth.
 * No entry = the endpoint enforces nothing (allow all).
 */
#define DP_EP_F_ENFORCE_INGRESS 0x1u
#define DP_EP_F_ENFORCE_EGRESS	0x2u
struct dp_endpoint_val {
	__u32 flags;
	__u32 deny_keys[DP_DIR_MAX];
	__u32 any_keys[DP_DIR_MAX];
	__u32 lpm_keys[DP_DIR_MAX];
	__u32 pad;
};

/*
 * conntrack4 / conntrack6: LRU hashes of tuples as seen by the hook that created the
 * entry. `dir` is the hook that saw the first packet: a reply is a lookup of the reversed
 * tuple with the same `dir`, so traffic in the opposite direction that merely looks like a
 * reply of a flow the other hook created is not confused with one. Two tables because the
 * key is hashed and compared on every packet: 16 bytes for IPv4 instead of 40.
 */
struct dp_ct4_key {
	__u32 saddr; /* network order */
	__u32 daddr;
	__u16 sport; /* network order; ICMP echo: id in sport (request) / dport (reply) */
	__u16 dport;
	__u8 proto;
	__u8 dir;
	__u8 pad[2];
};

struct dp_ct_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* network order; ICMP echo: id in sport (request) / dport (reply) */
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 dir;
	__u8 pad;
};

/* TCP flags seen, per side (forward = the side that opened the flow). */
#define DP_CT_SYN_FWD  0x01u
#define DP_CT_SYN_REV  0x02u
#define DP_CT_FIN_FWD  0x04u
#define DP_CT_FIN_REV  0x08u
#define DP_CT_RST      0x10u
#define DP_CT_SEEN_REV 0x20u

struct dp_ct_val {
	__u64 expires; /* deadline in jiffies (bpf_jiffies64()) */
	__u64 packets; /* both directions */
	__u64 bytes;
	__u32 src_identity; /* identities at creation, for events and observability */
	__u32 dst_identity;
	__u32 flags; /* DP_CT_* */
	__u32 pad;
};

/* Lifetimes (seconds). Cilium's defaults. */
#define DP_CT_LIFETIME_TCP_SYN	 60u
#define DP_CT_LIFETIME_TCP	 21600u
#define DP_CT_LIFETIME_TCP_CLOSE 10u
#define DP_CT_LIFETIME_NONTCP	 60u

/* frags: LRU hash, first fragment's allow verdict for the rest of the datagram. */
struct dp_frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id; /* IPv4 16-bit id or IPv6 32-bit identification, network order */
	__u8 proto;
	__u8 family;
	__u8 dir;
	__u8 pad;
};
struct dp_frag_val {
	__u64 expires; /* jiffies */
};
#define DP_FRAG_LIFETIME 5u

/* Why a packet was forwarded or dropped: metrics index and event field. */
enum dp_reason {
	DP_OK_POLICY = 0,      /* new flow allowed by policy (or no enforcement) */
	DP_OK_CT_ESTABLISHED,  /* established flow */
	DP_OK_CT_REPLY,	       /* reply of an allowed flow */
	DP_OK_CT_RELATED,      /* ICMP error about an allowed flow */
	DP_OK_FRAG,	       /* non-first fragment of an allowed datagram */
	DP_OK_NON_IP,	       /* ARP and other non-IP frames: not ours to filter */
	DP_OK_ND,	       /* ICMPv6 neighbour discovery / router solicitation */
	DP_DROP_POLICY_DENY,   /* an explicit deny matched */
	DP_DROP_POLICY,	       /* enforcement on and no allow matched (default deny) */
	DP_DROP_SHORT_L2,      /* frame shorter than an Ethernet header */
	DP_DROP_SHORT_L3,      /* truncated IPv4/IPv6 header */
	DP_DROP_BAD_L3,	       /* bad version, IHL < 5, total length < header */
	DP_DROP_SHORT_L4,      /* truncated TCP/UDP/SCTP/ICMP header */
	DP_DROP_BAD_EXTHDR,    /* IPv6 extension header chain truncated or too long */
	DP_DROP_FRAG_NO_FIRST, /* non-first fragment without an allowed first fragment */
	DP_DROP_SPOOF,	       /* gateway: source not registered for that peer */
	DP_DROP_NO_TUNNEL,     /* VXLAN egress: destination has no tunnel endpoint */
	DP_DROP_TUNNEL_KEY,    /* bpf_skb_set/get_tunnel_key failed */
	DP_REASON_MAX,
};
#define DP_REASON_IS_DROP(r) ((r) >= DP_DROP_POLICY_DENY)

/* What a policy verdict matched (Hubble's policy_match_type, roughly). */
enum dp_match {
	DP_MATCH_NONE = 0,   /* no entry matched (default allow/deny) */
	DP_MATCH_L3_L4,	     /* exact identity + protocol (+port) */
	DP_MATCH_L3_ONLY,    /* exact identity, any protocol */
	DP_MATCH_L4_ONLY,    /* any identity, protocol (+port) */
	DP_MATCH_ALL,	     /* any identity, any protocol */
	DP_MATCH_NO_ENFORCE, /* the direction is not enforced for this endpoint */
};

/* metrics: per-CPU array, index dir * DP_REASON_MAX + reason. */
struct dp_metric {
	__u64 packets;
	__u64 bytes;
};
#define DP_METRICS_MAX (DP_DIR_MAX * DP_REASON_MAX)
/* One extra slot: events dropped by the rate limiter or a full ring buffer. */
#define DP_METRIC_EVENTS_LOST DP_METRICS_MAX
#define DP_METRICS_SLOTS      (DP_METRICS_MAX + 1)

/* events: ring buffer records. */
enum dp_event_type {
	DP_EV_VERDICT = 1, /* new-flow policy verdict (allow or deny) */
	DP_EV_DROP = 2,	   /* drop for any other reason */
};
#define DP_EV_F_TUNNEL 0x1u /* tunnel_id/tunnel_ipv4 hold the key set on the packet */

struct dp_event {
	__u64 ts_ns;
	__u8 type;   /* enum dp_event_type */
	__u8 reason; /* enum dp_reason */
	__u8 dir;    /* hook direction */
	__u8 match;  /* enum dp_match */
	__u8 family; /* 4, 6 or 0 when not parsed */
	__u8 proto;
	__u8 flags; /* DP_EV_F_* */
	__u8 pad;
	__u32 ifindex;
	__u32 len;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 endpoint; /* whose policy decided */
	__u32 rule_id;
	__u32 tunnel_id;
	__u32 tunnel_ipv4; /* network order */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* network order */
	__u16 dport;
	__u32 pad2;
};

/* events rate limiter: per-CPU array of one slot. */
struct dp_ratelimit {
	__u64 window; /* jiffies */
	__u64 count;
};

/*
 * tunnel map (one entry): workload mode over VXLAN, the remote of every destination whose
 * ipcache entry names no tunnel endpoint (pods, CIDRs, unknown addresses): the machine's
 * gateway, written by the agent (dp_tunnel_set()). 0 = none (WireGuard: the kernel's peer
 * routing decides; such packets then drop as no-tunnel over VXLAN).
 */
struct dp_tunnel {
	__u32 gateway_ipv4; /* network order */
	__u32 pad;
};

/* info map: written by the loader, read by tools (the programs do not read it). */
#define DP_INFO_VERSION 2u
struct dp_info {
	__u32 version;
	__u32 mode;	/* enum dp_mode */
	__u32 identity; /* workload mode: this machine's identity */
	__u32 events_rate;
	__u32 hz; /* the kernel's jiffies per second, as probed by the loader */
	__u32 pad;
};

#endif

// SPDX-License-Identifier: GPL-2.0-only
/* dp_names: stable names for reasons, match types, directions and protocols (events,
 * metrics labels, CLI). Keep in step with the enums in datapath.h. */
#include <netinet/in.h>
#include <string.h>

#include "bpf/dp.h"

static const char *const reason_names[DP_REASON_MAX] = {
    [DP_OK_POLICY] = "allowed",
    [DP_OK_CT_ESTABLISHED] = "established",
    [DP_OK_CT_REPLY] = "reply",
    [DP_OK_CT_RELATED] = "related",
    [DP_OK_FRAG] = "fragment",
    [DP_OK_NON_IP] = "non-ip",
    [DP_OK_ND] = "neighbour-discovery",
    [DP_DROP_POLICY_DENY] = "policy-deny",
    [DP_DROP_POLICY] = "policy-default-deny",
    [DP_DROP_SHORT_L2] = "short-l2",
    [DP_DROP_SHORT_L3] = "short-l3",
    [DP_DROP_BAD_L3] = "bad-l3",
    [DP_DROP_SHORT_L4] = "short-l4",
    [DP_DROP_BAD_EXTHDR] = "bad-ipv6-exthdr",
    [DP_DROP_FRAG_NO_FIRST] = "fragment-no-first",
    [DP_DROP_SPOOF] = "spoofed-source",
    [DP_DROP_NO_TUNNEL] = "no-tunnel-endpoint",
    [DP_DROP_TUNNEL_KEY] = "tunnel-key",
};

const char *dp_reason_name(unsigned int reason)
{
	return reason < DP_REASON_MAX && reason_names[reason] ? reason_names[reason] : "unknown";
}

const char *dp_match_name(unsigned int match)
{
	switch (match) {
	case DP_MATCH_NONE:
		return "none";
	case DP_MATCH_L3_L4:
		return "l3-l4";
	case DP_MATCH_L3_ONLY:
		return "l3-only";
	case DP_MATCH_L4_ONLY:
		return "l4-only";
	case DP_MATCH_ALL:
		return "all";
	case DP_MATCH_NO_ENFORCE:
		return "not-enforced";
	}
	return "unknown";
}

const char *dp_dir_name(unsigned int dir)
{
	return dir == DP_DIR_INGRESS ? "ingress" : dir == DP_DIR_EGRESS ? "egress" : "unknown";
}

static const struct {
	const char *name;
	uint8_t proto;
} protos[] = {
    {"any", 0},
    {"tcp", IPPROTO_TCP},
    {"udp", IPPROTO_UDP},
    {"sctp", IPPROTO_SCTP},
    {"icmp", IPPROTO_ICMP},
    {"icmpv6", IPPROTO_ICMPV6},
};

const char *dp_proto_name(unsigned int proto)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return "other";
}

bool dp_proto_parse(const char *s, uint8_t *proto)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (!strcmp(s, protos[i].name)) {
			*proto = protos[i].proto;
			return true;
		}
	}
	return false;
}

/* Indexed by enum dp_dev_kind; also the suffixes of the entry programs (dp_ingress_eth). */
static const char *const dev_kind_names[] = {
    [DP_DEV_AUTO] = "auto", [DP_DEV_ETH] = "eth", [DP_DEV_L3] = "l3", [DP_DEV_VXLAN] = "vxlan"};

bool dp_dev_kind_parse(const char *s, enum dp_dev_kind *out)
{
	for (size_t i = 0; i < sizeof(dev_kind_names) / sizeof(dev_kind_names[0]); i++) {
		if (!strcmp(s, dev_kind_names[i])) {
			*out = (enum dp_dev_kind)i;
			return true;
		}
	}
	return false;
}

const char *dp_dev_kind_name(enum dp_dev_kind kind)
{
	if ((unsigned int)kind < sizeof(dev_kind_names) / sizeof(dev_kind_names[0]))
		return dev_kind_names[kind];
	return "unknown";
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lib/policy_entry.h: one verdict entry of an endpoint's compiled policy — the contract
 * between the policy engine (which produces entries) and the datapath's map writer
 * (which turns them into policy-map keys). Cilium's semantics:
 *   - identity POLICY_IDENTITY_ANY matches every remote identity;
 *   - proto POLICY_PROTO_ANY matches every protocol (then ports must be 0..0);
 *   - port_lo..port_hi is an inclusive range; 0..0 means every port;
 *     for ICMP/ICMPv6 the "port" is the ICMP type (port_lo == port_hi == type);
 *   - deny beats allow, whatever their specificity.
 */
#ifndef PSEUDOPOD_LIB_POLICY_ENTRY_H
#define PSEUDOPOD_LIB_POLICY_ENTRY_H

#include <stdint.h>

enum policy_direction {
	POLICY_INGRESS = 0,
	POLICY_EGRESS = 1,
};

#define POLICY_IDENTITY_ANY 0u
#define POLICY_PROTO_ANY    0u

struct policy_entry {
	uint32_t identity; /* remote security identity, or POLICY_IDENTITY_ANY */
	uint8_t direction; /* enum policy_direction */
	uint8_t proto;	   /* IPPROTO_TCP/UDP/SCTP/ICMP/ICMPV6, or POLICY_PROTO_ANY */
	uint8_t deny;	   /* 1 = deny, 0 = allow */
	uint8_t pad;
	uint16_t port_lo; /* inclusive; 0..0 = any port */
	uint16_t port_hi;
	uint32_t rule_id; /* engine-assigned id of the rule that produced it (for events) */
};

#endif

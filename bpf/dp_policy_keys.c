// SPDX-License-Identifier: GPL-2.0-only
/*
 * dp_policy_keys: a policy entry -> the policy-map LPM keys it stands for. Pure (no BPF),
 * shared by the map writer and the fuzz harness. A port range becomes the fewest
 * prefix-aligned power-of-two blocks that cover it exactly (at most 2 per bit, so a
 * 16-bit range never needs more than 30 keys; 1-65535 needs 16).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "bpf/dp.h"
#include "lib/policy_entry.h"

bool dp_policy_entry_valid(const struct policy_entry *e)
{
	if (e->direction > POLICY_EGRESS || e->deny > 1 || e->port_lo > e->port_hi)
		return false;
	if (e->proto == POLICY_PROTO_ANY && (e->port_lo || e->port_hi))
		return false;
	if ((e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6) &&
	    (e->port_lo != e->port_hi || e->port_hi > 255))
		return false;
	return true;
}

int dp_policy_expand(uint32_t endpoint, const struct policy_entry *e, struct dp_policy_key *keys,
		     size_t max)
{
	struct dp_policy_key base = {};
	uint32_t lo, hi;
	size_t n = 0;

	if (!dp_policy_entry_valid(e))
		return -EINVAL;
	base.endpoint = htonl(endpoint);
	base.identity = htonl(e->identity);
	base.dir = e->direction;
	base.deny = e->deny;
	base.proto = e->proto;
	if (e->proto == POLICY_PROTO_ANY) {
		if (max < 1)
			return -ENOSPC;
		keys[0] = base;
		keys[0].prefixlen = DP_POL_PREFIX_EXACT;
		return 1;
	}
	if (e->port_lo == 0 && e->port_hi == 0) {
		if (max < 1)
			return -ENOSPC;
		keys[0] = base;
		keys[0].prefixlen = DP_POL_PREFIX_PROTO;
		return 1;
	}
	/* Largest aligned block starting at lo that stays within hi, repeatedly. */
	lo = e->port_lo;
	hi = e->port_hi;
	while (lo <= hi) {
		unsigned int bits = 16;

		while (bits > 0) {
			uint32_t size = 1u << (16 - bits + 1);

			if ((lo & (size - 1)) || lo + size - 1 > hi)
				break;
			bits--;
		}
		if (n >= max)
			return -ENOSPC;
		keys[n] = base;
		keys[n].prefixlen = DP_POL_PREFIX_PROTO + bits;
		keys[n].port = htons((uint16_t)lo);
		n++;
		lo += 1u << (16 - bits);
	}
	return (int)n;
}

void dp_policy_key_row(const struct dp_policy_key *k, uint16_t refcnt, uint32_t rule_id,
		       struct dp_policy_row *out)
{
	*out = (struct dp_policy_row){
	    .endpoint = ntohl(k->endpoint),
	    .identity = ntohl(k->identity),
	    .dir = k->dir,
	    .deny = k->deny,
	    .proto = k->prefixlen > DP_POL_PREFIX_EXACT ? k->proto : 0,
	    .port_bits = k->prefixlen > DP_POL_PREFIX_PROTO
			     ? (uint8_t)(k->prefixlen - DP_POL_PREFIX_PROTO)
			     : 0,
	    .port = ntohs(k->port),
	    .refcnt = refcnt,
	    .rule_id = rule_id,
	};
}

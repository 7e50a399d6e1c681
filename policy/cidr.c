// SPDX-License-Identifier: GPL-2.0-only
/* IPv4/IPv6 prefixes. See policy/cidr.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/cidr.h"
#include "policy/err.h"
#include "lib/net.h"

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

/* Like Cilium's toCIDR: host bits are refused (lib/net.h words the reason). */
bool cidr_parse(struct cidr *out, const char *text, char *err, size_t err_len)
{
	struct net_prefix p;
	char why[200];

	memset(out, 0, sizeof(*out));
	if (!net_prefix_parse(text, NET_HOST_BITS_REFUSE, &p, why, sizeof(why)))
		return policy_err_set(err, err_len, "%s", why);
	out->family = p.family;
	out->len = p.len;
	memcpy(out->addr, p.addr, sizeof(out->addr));
	return true;
}

char *cidr_format(const struct cidr *c, char buf[CIDR_STRLEN])
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family == AF_INET6 ? AF_INET6 : AF_INET, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, CIDR_STRLEN, "%s/%u", a, c->len);
	return buf;
}

bool cidr_contains(const struct cidr *outer, const struct cidr *inner)
{
	unsigned full, rem;

	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	full = outer->len / 8;
	rem = outer->len % 8;
	if (memcmp(outer->addr, inner->addr, full))
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));

		if ((outer->addr[full] & mask) != (inner->addr[full] & mask))
			return false;
	}
	return true;
}

bool cidr_equal(const struct cidr *a, const struct cidr *b)
{
	return cidr_cmp(a, b) == 0;
}

int cidr_cmp(const struct cidr *a, const struct cidr *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, addr_len(a->family));
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

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

/* struct cidr and struct net_prefix hold the same fields; the prefix arithmetic is lib/net's. */
static struct net_prefix cidr_to_net(const struct cidr *c)
{
	struct net_prefix p = {.family = c->family, .len = c->len};

	memcpy(p.addr, c->addr, sizeof(p.addr));
	return p;
}

bool cidr_contains(const struct cidr *outer, const struct cidr *inner)
{
	struct net_prefix o = cidr_to_net(outer), i = cidr_to_net(inner);

	return net_prefix_contains(&o, &i);
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

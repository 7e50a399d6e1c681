// SPDX-License-Identifier: GPL-2.0-only
/* IPv4/IPv6 prefixes. See policy/cidr.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/cidr.h"
#include "policy/err.h"

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

bool cidr_parse(struct cidr *out, const char *text, char *err, size_t err_len)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long plen;
	char *end;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return policy_err_set(err, err_len, "\"%s\": expected an address/length prefix",
				      text);
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return policy_err_set(
		    err, err_len, "\"%s\": not an IPv4 or IPv6 prefix; expected e.g. 10.0.0.0/8",
		    text);
	plen = addr_len(out->family) * 8;
	if (slash) {
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return policy_err_set(err, err_len, "\"%s\": missing prefix length", text);
		plen = strtoul(slash + 1, &end, 10);
		if (*end || plen > addr_len(out->family) * 8)
			return policy_err_set(err, err_len, "\"%s\": prefix length must be 0..%zu",
					      text, addr_len(out->family) * 8);
	}
	out->len = (uint8_t)plen;
	for (size_t bit = plen; bit < addr_len(out->family) * 8; bit++) {
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return policy_err_set(err, err_len,
					      "\"%s\": host bits set below the /%lu prefix length",
					      text, plen);
	}
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

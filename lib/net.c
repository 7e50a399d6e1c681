// SPDX-License-Identifier: GPL-2.0-only
/* IP addresses and CIDR prefixes. See lib/net.h for the accepted syntax. */
#include "lib/net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/why.h"

unsigned int net_family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "IPv4 or IPv6";
}

/* inet_pton() already refuses spaces, zones and IPv4 leading zeros (glibc); the length
 * check keeps a huge input from being copied. */
static bool addr_parse(const char *text, size_t len, int family, struct net_prefix *out)
{
	char buf[NET_IP_STRLEN];

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (family != AF_INET6 && inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
	} else if (family != AF_INET && inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
	} else {
		memset(out, 0, sizeof(*out));
		return false;
	}
	out->len = (uint8_t)net_family_bits(out->family);
	return true;
}

bool net_ip_parse(const char *text, int family, struct net_prefix *out, char *why, size_t why_len)
{
	struct net_prefix any;

	if (addr_parse(text, strlen(text), family, out))
		return true;
	/* Say "an IPv6 address where IPv4 is expected" rather than "not an address". */
	if (family != AF_UNSPEC && addr_parse(text, strlen(text), AF_UNSPEC, &any))
		return why_false(why, why_len, "'%s' is an %s address, expected an %s address",
				 text, family_name(any.family), family_name(family));
	return why_false(why, why_len, "'%s' is not an %s address", text, family_name(family));
}

/* Decimal 0..max, digits only, no leading zero. */
static bool len_parse(const char *s, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

bool net_prefix_has_host_bits(const struct net_prefix *p)
{
	for (unsigned int bit = p->len; bit < net_family_bits(p->family); bit++) {
		if (p->addr[bit / 8] & (0x80u >> (bit % 8)))
			return true;
	}
	return false;
}

struct net_prefix net_prefix_network(const struct net_prefix *p)
{
	struct net_prefix n = *p;

	for (unsigned int bit = n.len; bit < net_family_bits(n.family); bit++)
		n.addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return n;
}

bool net_prefix_parse(const char *text, enum net_host_bits host_bits, struct net_prefix *out,
		      char *why, size_t why_len)
{
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	char net[NET_PREFIX_STRLEN];
	unsigned int len;

	if (!addr_parse(text, alen, AF_UNSPEC, out)) {
		if (alen == 0 || alen >= NET_IP_STRLEN)
			return why_false(why, why_len,
					 "'%.64s': expected ADDRESS[/LENGTH], e.g. 10.0.0.0/8",
					 text);
		return why_false(why, why_len, "'%s': '%.*s' is not an IPv4 or IPv6 address", text,
				 (int)alen, text);
	}
	if (slash) {
		if (!len_parse(slash + 1, net_family_bits(out->family), &len))
			return why_false(
			    why, why_len,
			    "'%s': prefix length must be a number from 0 to %u (digits "
			    "only, no leading zero)",
			    text, net_family_bits(out->family));
		out->len = (uint8_t)len;
	}
	if (host_bits == NET_HOST_BITS_KEEP || !net_prefix_has_host_bits(out))
		return true;
	if (host_bits == NET_HOST_BITS_CLEAR) {
		*out = net_prefix_network(out);
		return true;
	}
	{
		struct net_prefix n = net_prefix_network(out);

		net_prefix_format(&n, net);
	}
	return why_false(why, why_len,
			 "'%s': host bits set below the /%u prefix length (the network is %s)",
			 text, out->len, net);
}

bool net_prefix_contains(const struct net_prefix *outer, const struct net_prefix *inner)
{
	unsigned int full, rem;

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

char *net_ip_format(const struct net_prefix *p, char buf[NET_IP_STRLEN])
{
	if (!inet_ntop(p->family == AF_INET ? AF_INET : AF_INET6, p->addr, buf, NET_IP_STRLEN))
		snprintf(buf, NET_IP_STRLEN, "?");
	return buf;
}

char *net_prefix_format(const struct net_prefix *p, char buf[NET_PREFIX_STRLEN])
{
	char ip[NET_IP_STRLEN];

	snprintf(buf, NET_PREFIX_STRLEN, "%s/%u", net_ip_format(p, ip), p->len);
	return buf;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * net: the one parser of IP addresses and CIDR prefixes every module uses (policy rules,
 * store records, datapath lines, tunnel options, CLI flags), so "10.0.0.1/8" means the
 * same thing everywhere.
 *
 * Syntax, strict on purpose (inputs come from users, YAML and etcd):
 * - An address is what inet_pton() accepts for AF_INET or AF_INET6: dotted quad without
 *   leading zeros ("010.0.0.1" is refused: octal or decimal?), no zone ("%eth0"), no
 *   surrounding or embedded whitespace.
 * - A prefix is ADDRESS or ADDRESS/LEN. A bare address is the host prefix (/32, /128).
 *   LEN is decimal digits only: no sign, no space, no leading zero ("/08"), at most 32 for
 *   IPv4 and 128 for IPv6.
 * - Host bits (bits set after LEN) are handled as the caller says: NET_HOST_BITS_REFUSE
 *   (a rule or record naming "10.0.0.1/8" was probably meant otherwise; the message shows
 *   the network "10.0.0.0/8"), NET_HOST_BITS_CLEAR (masked away), NET_HOST_BITS_KEEP (an
 *   interface address with its subnet, "10.250.0.2/16").
 *
 * Parsers return bool and, on false, write "'TEXT': what is wrong, what was expected" into
 * why (why may be NULL). They never read past the NUL and never crash on any input (fuzzed:
 * tests/fuzz/lib/fuzz_net.c).
 */
#ifndef PSEUDOPOD_LIB_NET_H
#define PSEUDOPOD_LIB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text net_prefix_format() writes, with the NUL (INET6_ADDRSTRLEN + "/128"). */
#define NET_PREFIX_STRLEN 50
/* Longest text net_ip_format() writes, with the NUL (INET6_ADDRSTRLEN). */
#define NET_IP_STRLEN 46

enum net_host_bits {
	NET_HOST_BITS_REFUSE = 0,
	NET_HOST_BITS_CLEAR,
	NET_HOST_BITS_KEEP,
};

/* An address is a prefix whose len is the family's full length. */
struct net_prefix {
	uint8_t family;	  /* AF_INET or AF_INET6 */
	uint8_t len;	  /* prefix length, 0..32 or 0..128 */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes, the rest 0 */
};

/*
 * An address of family AF_INET, AF_INET6 or AF_UNSPEC (either). A family mismatch says
 * which family was expected ("expected an IPv4 address").
 */
bool net_ip_parse(const char *text, int family, struct net_prefix *out, char *why, size_t why_len);
bool net_prefix_parse(const char *text, enum net_host_bits host_bits, struct net_prefix *out,
		      char *why, size_t why_len);

/* 32 or 128 for the family of p. */
unsigned int net_family_bits(int family);
/* True when bits after p->len are set. */
bool net_prefix_has_host_bits(const struct net_prefix *p);
/* p with its host bits cleared. */
struct net_prefix net_prefix_network(const struct net_prefix *p);
/* True when inner lies inside outer (same family, outer no longer, same leading bits). */
bool net_prefix_contains(const struct net_prefix *outer, const struct net_prefix *inner);

/* "10.0.0.0/8", "fd00::/64"; returns buf. */
char *net_prefix_format(const struct net_prefix *p, char buf[NET_PREFIX_STRLEN]);
/* The address alone ("10.0.0.1"); returns buf. */
char *net_ip_format(const struct net_prefix *p, char buf[NET_IP_STRLEN]);

#endif

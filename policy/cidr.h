/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/cidr.h: IPv4/IPv6 prefixes as policy rules name them (toCIDR, CIDRSet, ipBlock).
 *
 * cidr_parse() accepts "a.b.c.d/len" and "x:y::/len"; a bare address is a host prefix
 * (/32 or /128), as Cilium accepts it. Host bits set below the prefix length are an error,
 * because "10.1.2.3/8" usually means the author meant something else than 10.0.0.0/8.
 */
#ifndef PSEUDOPOD_POLICY_CIDR_H
#define PSEUDOPOD_POLICY_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len;	/* prefix length */
	uint8_t addr[16];
};

/* Longest text cidr_format() writes, with the NUL. */
#define CIDR_STRLEN 50

bool cidr_parse(struct cidr *out, const char *text, char *err, size_t err_len);
/* "10.0.0.0/8"; returns buf. */
char *cidr_format(const struct cidr *c, char buf[CIDR_STRLEN]);
/* True when inner lies inside outer (same family, outer no longer, same leading bits). */
bool cidr_contains(const struct cidr *outer, const struct cidr *inner);
bool cidr_equal(const struct cidr *a, const struct cidr *b);
/* Total order: family, then address bytes, then length. */
int cidr_cmp(const struct cidr *a, const struct cidr *b);

#endif

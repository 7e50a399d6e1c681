// SPDX-License-Identifier: GPL-2.0-only
/* Overlay address choice (enroll/ipalloc.h). */
#include "enroll/ipalloc.h"

#include <sys/socket.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/net.h"

/* offset of addr inside p, false when outside. Only the last 8 bytes can differ within the
 * considered range (host bits capped at 63). */
static bool offset_of(const struct net_prefix *p, const uint8_t *addr, unsigned host_bits,
		      uint64_t *off)
{
	unsigned alen = net_family_bits(p->family) / 8, fixed = alen * 8 - host_bits;
	uint64_t v = 0;

	for (unsigned bit = 0; bit < fixed; bit++) {
		unsigned byte = bit / 8, mask = 0x80u >> (bit % 8);

		if ((addr[byte] & mask) != (p->addr[byte] & mask))
			return false;
	}
	for (unsigned i = alen > 8 ? alen - 8 : 0; i < alen; i++)
		v = v << 8 | addr[i];
	*off = host_bits == 64 ? v : v & ((UINT64_C(1) << host_bits) - 1);
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void addr_at(const struct net_prefix *p, uint64_t off, char out[NET_IP_STRLEN])
{
	struct net_prefix a = *p;

	for (unsigned i = net_family_bits(p->family) / 8; i-- > 0 && off; off >>= 8)
		a.addr[i] = (uint8_t)(a.addr[i] | (off & 0xff));
	a.len = (uint8_t)net_family_bits(p->family);
	net_ip_format(&a, out);
}

int enroll_ip_pick(const char *cidr, const char *const *used, size_t n_used, uint64_t start,
		   char out[NET_IP_STRLEN], uint64_t *capacity)
{
	struct net_prefix p;
	unsigned host_bits;
	uint64_t first, last, range, *offs;
	size_t n = 0;
	int rc = -ENOSPC;

	/* a bare address would be its own /32: the workload CIDR always names its length */
	if (!strchr(cidr, '/') || !net_prefix_parse(cidr, NET_HOST_BITS_REFUSE, &p, NULL, 0))
		return -EINVAL;
	host_bits = net_family_bits(p.family) - p.len;
	if (host_bits > 63)
		host_bits = 63;
	first = 1; /* never the network address */
	last = host_bits ? (UINT64_C(1) << host_bits) - 1 : 0;
	if (p.family == AF_INET && host_bits >= 2)
		last--; /* nor the IPv4 broadcast address */
	if (host_bits == 0) {
		first = 0; /* a /32 or /128: the one address */
		last = 0;
	} else if (host_bits == 1 && p.family == AF_INET) {
		first = 0; /* RFC 3021 point-to-point /31: both addresses */
	}
	range = last - first + 1;
	if (capacity)
		*capacity = range;
	offs = calloc(n_used ? n_used : 1, sizeof(*offs));
	if (!offs)
		return -ENOMEM;
	for (size_t i = 0; i < n_used; i++) {
		struct net_prefix a;

		/* other families and unparsable entries cannot collide with a pick */
		if (net_ip_parse(used[i], p.family, &a, NULL, 0) &&
		    offset_of(&p, a.addr, host_bits, &offs[n]))
			n++;
	}
	qsort(offs, n, sizeof(*offs), cmp_u64);
	for (uint64_t i = 0, cand = first + start % range; i < range; i++) {
		if (!bsearch(&cand, offs, n, sizeof(*offs), cmp_u64)) {
			addr_at(&p, cand, out);
			rc = 0;
			break;
		}
		cand = cand == last ? first : cand + 1;
	}
	free(offs);
	return rc;
}

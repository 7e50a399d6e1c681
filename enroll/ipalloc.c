// SPDX-License-Identifier: GPL-2.0-only
/* Overlay address choice (enroll/ipalloc.h). */
#include "enroll/ipalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prefix {
	int family;
	unsigned char net[16]; /* network address, 4 or 16 bytes used */
	unsigned alen, plen;
};

static bool prefix_parse(const char *cidr, struct prefix *p)
{
	char addr[64], *slash, *end;
	unsigned long plen;

	if (strlen(cidr) >= sizeof(addr))
		return false;
	strcpy(addr, cidr);
	slash = strchr(addr, '/');
	if (!slash)
		return false;
	*slash = '\0';
	plen = strtoul(slash + 1, &end, 10);
	if (*end || !slash[1])
		return false;
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, p->net) == 1) {
		p->family = AF_INET;
		p->alen = 4;
	} else if (inet_pton(AF_INET6, addr, p->net) == 1) {
		p->family = AF_INET6;
		p->alen = 16;
	} else {
		return false;
	}
	if (plen > p->alen * 8)
		return false;
	p->plen = (unsigned)plen;
	return true;
}

/* offset of addr inside p, false when outside. Only the last 8 bytes can differ within the
 * considered range (host bits capped at 63). */
static bool offset_of(const struct prefix *p, const unsigned char *addr, unsigned host_bits,
		      uint64_t *off)
{
	unsigned fixed = p->alen * 8 - host_bits;
	uint64_t v = 0;

	for (unsigned bit = 0; bit < fixed; bit++) {
		unsigned byte = bit / 8, mask = 0x80u >> (bit % 8);

		if ((addr[byte] & mask) != (p->net[byte] & mask))
			return false;
	}
	for (unsigned i = p->alen - 8 > p->alen ? 0 : p->alen - 8; i < p->alen; i++)
		v = v << 8 | addr[i];
	*off = host_bits == 64 ? v : v & ((UINT64_C(1) << host_bits) - 1);
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void addr_at(const struct prefix *p, uint64_t off, char out[46])
{
	unsigned char a[16];

	memcpy(a, p->net, sizeof(a));
	for (unsigned i = p->alen; i-- > 0 && off; off >>= 8) {
		unsigned sum = a[i] | (unsigned)(off & 0xff);

		a[i] = (unsigned char)sum;
	}
	inet_ntop(p->family, a, out, 46);
}

int enroll_ip_pick(const char *cidr, const char *const *used, size_t n_used, uint64_t start,
		   char out[46], uint64_t *capacity)
{
	struct prefix p;
	unsigned host_bits;
	uint64_t first, last, range, *offs;
	size_t n = 0;
	int rc = -ENOSPC;

	if (!prefix_parse(cidr, &p))
		return -EINVAL;
	host_bits = p.alen * 8 - p.plen;
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
		unsigned char a[16];
		int fam = strchr(used[i], ':') ? AF_INET6 : AF_INET;

		if (fam == p.family && inet_pton(fam, used[i], a) == 1 &&
		    offset_of(&p, a, host_bits, &offs[n]))
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

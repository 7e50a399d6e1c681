// SPDX-License-Identifier: GPL-2.0-only
/* gateway_vec: sorted arrays with binary search (lookups log n, an insert moves the tail
 * once) for the gateway's mirrors of the store. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/gateway_internal.h"

void *gw_vec_at(const struct gw_vec *a, size_t i)
{
	return (char *)a->v + i * a->size;
}

long gw_vec_find(const struct gw_vec *a, const void *key)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = a->cmp(key, gw_vec_at(a, mid));

		if (c == 0)
			return (long)mid;
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

int gw_vec_insert(struct gw_vec *a, size_t at, const void *e)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		void *p = realloc(a->v, nc * a->size);

		if (!p)
			return -ENOMEM;
		a->v = p;
		a->cap = nc;
	}
	memmove(gw_vec_at(a, at + 1), gw_vec_at(a, at), (a->n - at) * a->size);
	memcpy(gw_vec_at(a, at), e, a->size);
	a->n++;
	return 0;
}

void gw_vec_remove(struct gw_vec *a, size_t at)
{
	memmove(gw_vec_at(a, at), gw_vec_at(a, at + 1), (a->n - at - 1) * a->size);
	a->n--;
}

void gw_vec_clear(struct gw_vec *a)
{
	a->n = 0;
}

void gw_vec_free(struct gw_vec *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

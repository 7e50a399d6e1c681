/* SPDX-License-Identifier: GPL-2.0-only */
/* store_internal: helpers shared by the store's source files. */
#ifndef PSEUDOPOD_STORE_INTERNAL_H
#define PSEUDOPOD_STORE_INTERNAL_H

#include "lib/kv/kv.h"
#include "lib/store/store.h"

void store_seterr(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies kv_error() into the store's error with context; returns rc. */
int store_kverr(struct store *s, int rc, const char *what);
/* Pages through "<prefix><dir>" calling cb for each pair. */
int store_foreach(struct store *s, const char *dir, kv_pair_cb cb, void *arg, int64_t *revision);

/* A growable array of fixed-size items (zeroed on push). */
struct vec {
	void *items;
	size_t n, cap, size;
	struct store *s;
};
void *store_vec_push(struct vec *v);
/* Copies item (v->size bytes) onto the end of v: 0, or -ENOMEM (v unchanged). */
int store_vec_append(struct vec *v, const void *item);

#endif

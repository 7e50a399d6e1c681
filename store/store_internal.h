/* SPDX-License-Identifier: GPL-2.0-only */
/* store_internal: helpers shared by the store's source files. */
#ifndef PSEUDOPOD_STORE_INTERNAL_H
#define PSEUDOPOD_STORE_INTERNAL_H

#include "lib/kv/kv.h"
#include "store/store.h"

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
	/* For store_load_records: a store_*_decode with its output as void *, */
	bool (*decode)(const char *key, const char *value, size_t len, void *out, char *err,
		       size_t err_len);
	/* what releases an item (NULL: nothing to release), */
	void (*clear)(void *item);
	/* and the one kind of key to decode (STORE_KIND_UNKNOWN: every key under the dir). */
	enum store_kind only;
};
void *store_vec_push(struct vec *v);
/*
 * Decodes every record under "<prefix><dir>" into v with v->decode, skipping malformed ones
 * with a warning. 0 with the items in v, or an error with v emptied (items cleared, freed).
 */
int store_load_records(struct store *s, const char *dir, struct vec *v, int64_t *revision);

#endif

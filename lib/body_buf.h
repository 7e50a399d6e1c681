/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * body_buf: a request body collected piece by piece (libmicrohttpd hands the upload over in
 * chunks) under a size limit, for the agent's local API and the enrollment server.
 *
 * A body that would pass the limit is not kept: too_large is set and stays set, and the
 * caller drains the rest of the upload and answers 413 at the end (answering mid-upload is
 * not possible in libmicrohttpd). The data is NUL-terminated so a JSON parser can read it;
 * body_buf_free() wipes it first, because an enrollment body holds a token's secret.
 * Pure memory handling: no HTTP library is needed to use it.
 */
#ifndef PSEUDOPOD_LIB_BODY_BUF_H
#define PSEUDOPOD_LIB_BODY_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct body_buf {
	char *data; /* NULL until the first byte; then NUL-terminated */
	size_t len;
	bool too_large;
};

/* Appends len bytes unless the whole would pass max bytes (then sets too_large). 0, or
 * -ENOMEM when memory ran out (b unchanged). */
int body_buf_append(struct body_buf *b, const void *data, size_t len, size_t max);
/* Wipes and frees the data; b is empty again. */
void body_buf_free(struct body_buf *b);

#endif

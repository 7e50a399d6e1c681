// SPDX-License-Identifier: GPL-2.0-only
/* Request bodies under a size limit. See lib/body_buf.h. */
#include "lib/body_buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int body_buf_append(struct body_buf *b, const void *data, size_t len, size_t max)
{
	char *nb;

	if (b->too_large || len > max || b->len > max - len) {
		b->too_large = true;
		return 0;
	}
	nb = realloc(b->data, b->len + len + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + b->len, data, len);
	b->data = nb;
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

void body_buf_free(struct body_buf *b)
{
	if (b->data) {
		explicit_bzero(b->data, b->len);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

// SPDX-License-Identifier: GPL-2.0-only
/* The server's request parsers (POST /v1/enroll, /v1/leave bodies): never crash, and what
 * they accept encodes back to the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enroll/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enroll_request r, again;
	struct enroll_leave_request l, lagain;
	char why[256], *text;

	if (enroll_request_decode((const char *)data, size, &r, why, sizeof(why))) {
		text = enroll_request_encode(&r);
		if (!text || !enroll_request_decode(text, strlen(text), &again, why, sizeof(why)) ||
		    memcmp(&r, &again, sizeof(r)))
			abort();
		free(text);
	}
	if (enroll_leave_request_decode((const char *)data, size, &l, why, sizeof(why))) {
		text = enroll_leave_request_encode(&l);
		if (!text ||
		    !enroll_leave_request_decode(text, strlen(text), &lagain, why, sizeof(why)) ||
		    memcmp(&l, &lagain, sizeof(l)))
			abort();
		free(text);
	}
	return 0;
}

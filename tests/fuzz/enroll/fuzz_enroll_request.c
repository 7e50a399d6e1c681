// SPDX-License-Identifier: GPL-2.0-only
/* What the server parses: request bodies (POST /v1/enroll, /v1/leave) and the token record
 * it reads from tokens/<id> (anyone with write access to the prefix could put one). Never
 * crash; what is accepted encodes back to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enroll/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enroll_request r, again;
	struct enroll_leave_request l, lagain;
	struct store_token t, tagain;
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
	if (store_token_decode("/p/tokens/abc123", (const char *)data, size, &t, why,
			       sizeof(why))) {
		text = store_token_encode(&t);
		if (!text ||
		    !store_token_decode("/p/tokens/abc123", text, strlen(text), &tagain, why,
					sizeof(why)) ||
		    strcmp(t.secret_sha256, tagain.secret_sha256) || t.uses != tagain.uses ||
		    t.uses_left != tagain.uses_left || t.expires_at != tagain.expires_at ||
		    !label_set_equal(&t.labels, &tagain.labels))
			abort();
		store_token_clear(&tagain);
		store_token_clear(&t);
		free(text);
	}
	return 0;
}

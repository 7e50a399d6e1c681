// SPDX-License-Identifier: GPL-2.0-only
/* The join string parser: never crashes, and what it accepts encodes back to a join string
 * that decodes to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enroll/join.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enroll_join j, again;
	struct enroll_token t;
	uint8_t pin[ENROLL_PIN_LEN];
	char why[256], *text, *z = malloc(size + 1);

	if (!z)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	enroll_token_parse(z, size, &t, why, sizeof(why));
	enroll_pin_parse(z, pin, why, sizeof(why));
	if (enroll_join_decode(z, size, &j, why, sizeof(why))) {
		text = enroll_join_encode(&j);
		if (!text || !enroll_join_decode(text, strlen(text), &again, why, sizeof(why)) ||
		    memcmp(&j, &again, sizeof(j)))
			abort();
		free(text);
	}
	free(z);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: lib/parse_num on arbitrary bytes. Invariants (abort on violation): an
 * accepted number is within [min, max] and prints back to the exact input (so nothing
 * lenient — sign, space, leading zero — was accepted).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parse_num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), why[160], back[32];
	uint64_t v;
	uint32_t u;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (parse_u64(text, 0, UINT64_MAX, &v, why, sizeof(why))) {
		snprintf(back, sizeof(back), "%" PRIu64, v);
		if (strcmp(back, text))
			abort();
	}
	if (parse_u32(text, 10, 1000, &u, why, sizeof(why)) && (u < 10 || u > 1000))
		abort();
	free(text);
	return 0;
}

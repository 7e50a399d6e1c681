// SPDX-License-Identifier: GPL-2.0-only
/* Numbers. See lib/parse_num.h. Hand-written rather than strtoul(): strtoul accepts leading
 * space, '+', '-' (wrapping), and "0x" with base 0, each a way for bad input to pass. */
#include "lib/parse_num.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t why_len)
{
	uint64_t v = 0;
	const char *p = s;
	bool big = false;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
		goto not_a_number;
	for (; *p; p++) {
		unsigned int d;

		if (*p < '0' || *p > '9')
			goto not_a_number;
		d = (unsigned int)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			big = true; /* keep scanning: "99999999999999999999x" is not a number */
		else
			v = v * 10 + d;
	}
	if (big || v < min || v > max) {
		if (why && why_len)
			snprintf(why, why_len,
				 "%.32s%s is out of range, expected an integer from %" PRIu64
				 " to %" PRIu64,
				 s, strlen(s) > 32 ? "..." : "", min, max);
		return false;
	}
	*out = v;
	return true;
not_a_number:
	if (why && why_len)
		snprintf(why, why_len,
			 "'%.64s' is not a number, expected an integer from %" PRIu64
			 " to %" PRIu64,
			 s, min, max);
	return false;
}

bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *why, size_t why_len)
{
	uint64_t v;

	if (!parse_u64(s, min, max, &v, why, why_len))
		return false;
	*out = (uint32_t)v;
	return true;
}

bool parse_u16(const char *s, uint16_t min, uint16_t max, uint16_t *out, char *why, size_t why_len)
{
	uint64_t v;

	if (!parse_u64(s, min, max, &v, why, why_len))
		return false;
	*out = (uint16_t)v;
	return true;
}

bool parse_port(const char *s, uint16_t *out, char *why, size_t why_len)
{
	return parse_u16(s, 1, 65535, out, why, why_len);
}

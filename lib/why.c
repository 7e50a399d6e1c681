// SPDX-License-Identifier: GPL-2.0-only
/* The "why" buffer helpers. See lib/why.h. */
#include "lib/why.h"

#include <stdio.h>

void why_vset(char *why, size_t why_len, const char *fmt, va_list ap)
{
	if (why && why_len)
		vsnprintf(why, why_len, fmt, ap);
}

bool why_false(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	why_vset(why, why_len, fmt, ap);
	va_end(ap);
	return false;
}

int why_rc(int rc, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	why_vset(why, why_len, fmt, ap);
	va_end(ap);
	return rc;
}

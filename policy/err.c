// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/why.h"
#include "policy/err.h"

/* lib/why's why_false() under the policy engine's name (its parsers' one error style). */
bool policy_err_set(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	why_vset(err, err_len, fmt, ap);
	va_end(ap);
	return false;
}

bool policy_err_prefix(char *err, size_t err_len, const char *fmt, ...)
{
	char prefix[512];
	char *old;
	va_list ap;

	if (!err || !err_len)
		return false;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	old = strdup(err);
	if (!old)
		return false;
	snprintf(err, err_len, "%s%s", prefix, old);
	free(old);
	return false;
}

void policy_err_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * why: filling the caller's "why" buffer, the one way parsers and file helpers say what is
 * wrong (CONVENTIONS: parsers return bool and say why; system code returns 0/-errno).
 *
 * Every function formats into why (truncating to why_len, always NUL-terminated) and does
 * nothing when why is NULL or why_len is 0, so callers that do not want the text pass NULL.
 * The return value is fixed, so a failure path is one statement:
 *     return why_false(why, why_len, "'%s': not a port", text);
 *     return why_rc(-EINVAL, why, why_len, "%s: not a regular file", path);
 */
#ifndef PSEUDOPOD_LIB_WHY_H
#define PSEUDOPOD_LIB_WHY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void why_vset(char *why, size_t why_len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Always returns false (for bool parsers). */
bool why_false(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Always returns rc (for 0/-errno code). */
int why_rc(int rc, char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

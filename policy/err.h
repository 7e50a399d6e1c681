/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/err.h: the policy engine's error buffer helper. Every parser in policy/ returns
 * bool and writes one line saying what was wrong and what was expected into a caller's
 * buffer; perr_set() formats into it, perr_prefix() puts context in front of what is there
 * already (so inner parsers need not know the document or field path they were called for).
 * Both accept a NULL or zero-length buffer.
 */
#ifndef PSEUDOPOD_POLICY_ERR_H
#define PSEUDOPOD_POLICY_ERR_H

#include <stdbool.h>
#include <stddef.h>

/* Always returns false, so parsers can "return perr_set(...)". */
bool perr_set(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool perr_prefix(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf for JSON paths in error messages; truncation is harmless there. */
void perr_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/err.h: the policy engine's error buffer helper. Every parser in policy/ returns
 * bool and writes one line saying what was wrong and what was expected into a caller's
 * buffer; policy_err_set() formats into it, policy_err_prefix() puts context in front of what is
 * there already (so inner parsers need not know the document or field path they were called for).
 * Both accept a NULL or zero-length buffer.
 */
#ifndef PSEUDOPOD_POLICY_ERR_H
#define PSEUDOPOD_POLICY_ERR_H

#include <stdbool.h>
#include <stddef.h>

/* Always returns false, so parsers can "return policy_err_set(...)". */
bool policy_err_set(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool policy_err_prefix(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf for JSON paths in error messages; truncation is harmless there. */
void policy_err_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

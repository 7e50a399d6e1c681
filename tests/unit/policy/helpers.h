/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared helpers of the policy unit tests. */
#ifndef PSEUDOPOD_TEST_POLICY_HELPERS_H
#define PSEUDOPOD_TEST_POLICY_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

struct policy_engine;

/* Loads every policy of a YAML/JSON text into e (key = ns/name); false with err. */
bool th_load(struct policy_engine *e, const char *text, char *err, size_t err_len);
/* Traces src -> dst on port ("80/TCP") with the policies of text: 1 allowed, 0 denied,
 * -1 on a load/parse error (printed). */
int th_trace(const char *text, const char *src, const char *dst, const char *port);

#endif

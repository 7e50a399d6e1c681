/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/yamljson.h: YAML text (one or more "---" documents) to JSON values, so policy
 * files are parsed by the same code as the JSON the store holds.
 *
 * Typing follows what kubectl's YAML reader gives for Kubernetes objects: plain scalars
 * null/~/empty -> null, true/false -> boolean, decimal integers -> integer, decimals ->
 * real, anything else -> string; quoted scalars and !!str are strings. Mapping keys must
 * be scalars and unique. Aliases are rejected (no expansion bombs) and nesting is limited,
 * so hostile input cannot make the converter use unbounded memory or stack.
 */
#ifndef PSEUDOPOD_POLICY_YAMLJSON_H
#define PSEUDOPOD_POLICY_YAMLJSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Maximum nesting of mappings and sequences. */
#define YAMLJSON_MAX_DEPTH 64

/*
 * Converts text into *docs, a new JSON array with one element per YAML document (an empty
 * document is JSON null). On error returns false with "line L: what is wrong" in err and
 * *docs NULL.
 */
bool yamljson_load(const char *text, size_t len, json_t **docs, char *err, size_t err_len);

#endif

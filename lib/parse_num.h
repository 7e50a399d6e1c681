/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse_num: the one parser of numbers from outside input (flags, config values, line
 * formats, store keys). Strict decimal: digits only, no sign, no space, no "0x", no
 * leading zero ("010" could mean 8 to a reader used to C), value within [min, max].
 *
 * Returns bool; on false writes why (why may be NULL), in the wording the config file's
 * messages use:
 *   "'5x' is not a number, expected an integer from 1 to 65535"
 *   "70000 is out of range, expected an integer from 1 to 65535"
 * Callers prefix the field ("--port ", "[tunnel] mtu: ").
 */
#ifndef PSEUDOPOD_LIB_PARSE_NUM_H
#define PSEUDOPOD_LIB_PARSE_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t why_len);
bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *why, size_t why_len);
bool parse_u16(const char *s, uint16_t min, uint16_t max, uint16_t *out, char *why, size_t why_len);
/* A TCP/UDP port to listen on or connect to: 1..65535. */
bool parse_port(const char *s, uint16_t *out, char *why, size_t why_len);

#endif

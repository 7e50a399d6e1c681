/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * keys: WireGuard Curve25519 keys with libsodium, byte-for-byte compatible with
 * 'wg genkey' / 'wg pubkey': a private key is 32 random bytes clamped as X25519 wants,
 * printed as standard base64 with padding (44 characters). Key files hold that one line
 * (a trailing newline is accepted) and must have mode 0600 or stricter: a key file that
 * group or others can read is refused, with the chmod that fixes it.
 * System functions return 0 or -errno; parsers return bool and say why.
 */
#ifndef PSEUDOPOD_TUNNEL_KEYS_H
#define PSEUDOPOD_TUNNEL_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/wg.h" /* WG_KEY_LEN, WG_KEY_B64_LEN */

#define TUNNEL_KEY_HEX_LEN 65 /* 64 hex digits + NUL (the UAPI spelling) */

/* A fresh clamped private key. Returns 0 or -errno (libsodium failed to initialise). */
int tunnel_key_generate(uint8_t priv[WG_KEY_LEN]);
/* The public key of priv (X25519 base-point multiplication). Returns 0 or -EINVAL. */
int tunnel_key_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN]);

void tunnel_key_to_base64(char out[WG_KEY_B64_LEN], const uint8_t key[WG_KEY_LEN]);
/* Exactly 44 base64 characters (surrounding whitespace ignored) decoding to 32 bytes. */
bool tunnel_key_from_base64(uint8_t key[WG_KEY_LEN], const char *text, char *why, size_t why_len);
void tunnel_key_to_hex(char out[TUNNEL_KEY_HEX_LEN], const uint8_t key[WG_KEY_LEN]);
bool tunnel_key_from_hex(uint8_t key[WG_KEY_LEN], const char *text, size_t len);

/* Parses a key file's contents (buf need not be NUL-terminated); name is for messages. */
bool tunnel_key_parse_file(uint8_t key[WG_KEY_LEN], const char *buf, size_t len, const char *name,
			   char *why, size_t why_len);
/* Reads a key file, refusing modes other than 0600/0400 and non-regular files. */
int tunnel_key_read_file(const char *path, uint8_t key[WG_KEY_LEN], char *why, size_t why_len);
/* Writes key as base64 + newline, mode 0600, atomically (temp file + rename). */
int tunnel_key_write_file(const char *path, const uint8_t key[WG_KEY_LEN], char *why,
			  size_t why_len);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * join: the join string `pseudopodctl token create` prints and `pseudopod enroll` takes —
 * one copy-paste that carries everything a machine needs to enroll safely:
 *
 *   pp1.<base64url, no padding, of
 * {"url":"https://...","ca":"sha256:<hex>","token":"<id>.<secret>"}>
 *
 * url: the enrollment server (https only). ca: SHA-256 of the cluster CA's public key
 * (SubjectPublicKeyInfo, DER), checked by the client before it sends the token (kubeadm's
 * discovery-token-ca-cert-hash idea). token: id (6 of [a-z0-9], public, names tokens/<id>)
 * and secret (32 lowercase hex digits = 128 bits from libsodium; only its SHA-256 is stored).
 *
 * Pure code (no I/O): parsers return bool and say why in why; they never crash on any input
 * (tests/fuzz/enroll/fuzz_enroll_join.c). Encoders return malloc'd strings, NULL on ENOMEM.
 */
#ifndef PSEUDOPOD_ENROLL_JOIN_H
#define PSEUDOPOD_ENROLL_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENROLL_JOIN_PREFIX  "pp1."
#define ENROLL_JOIN_MAX	    2048 /* longest join string accepted */
#define ENROLL_URL_MAX	    512
#define ENROLL_TOKEN_ID_LEN 6
#define ENROLL_SECRET_BYTES 16 /* 128 bits */
#define ENROLL_SECRET_LEN   (2 * ENROLL_SECRET_BYTES)
#define ENROLL_TOKEN_LEN    (ENROLL_TOKEN_ID_LEN + 1 + ENROLL_SECRET_LEN)
#define ENROLL_PIN_LEN	    32				 /* SHA-256 */
#define ENROLL_PIN_TEXT_LEN (7 + 2 * ENROLL_PIN_LEN + 1) /* "sha256:" + hex + NUL */

struct enroll_token {
	char id[ENROLL_TOKEN_ID_LEN + 1];
	char secret[ENROLL_SECRET_LEN + 1];
};

struct enroll_join {
	char url[ENROLL_URL_MAX]; /* https://host[:port], no trailing '/' */
	uint8_t pin[ENROLL_PIN_LEN];
	struct enroll_token token;
};

/* "<id>.<secret>": id 6 of [a-z0-9], secret 32 lowercase hex digits. */
bool enroll_token_parse(const char *text, size_t len, struct enroll_token *out, char *why,
			size_t why_len);
/* A fresh token (libsodium randomness). Returns 0 or -errno. */
int enroll_token_generate(struct enroll_token *out);
/* SHA-256 of the secret as 64 lowercase hex digits (what tokens/<id> stores). */
void enroll_secret_hash(const char *secret, char hex[65]);

/* "sha256:<64 hex>" (case-insensitive hex). */
bool enroll_pin_parse(const char *text, uint8_t pin[ENROLL_PIN_LEN], char *why, size_t why_len);
void enroll_pin_format(const uint8_t pin[ENROLL_PIN_LEN], char out[ENROLL_PIN_TEXT_LEN]);

/* An https URL with a host and no path beyond "/" (trailing '/' removed in out). */
bool enroll_url_parse(const char *text, char out[ENROLL_URL_MAX], char *why, size_t why_len);

char *enroll_join_encode(const struct enroll_join *j);
/* Surrounding whitespace is ignored (copy-paste). */
bool enroll_join_decode(const char *text, size_t len, struct enroll_join *out, char *why,
			size_t why_len);

#endif

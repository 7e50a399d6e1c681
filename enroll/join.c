// SPDX-License-Identifier: GPL-2.0-only
/* The join string codec (enroll/join.h): base64url (libsodium) of a small JSON (jansson). */
#include "enroll/join.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/why.h"

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool hex_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool enroll_token_parse(const char *text, size_t len, struct enroll_token *out, char *why,
			size_t why_len)
{
	memset(out, 0, sizeof(*out));
	if (len != ENROLL_TOKEN_LEN || text[ENROLL_TOKEN_ID_LEN] != '.')
		return why_false(why, why_len,
				 "token: expected <id>.<secret> (6 + 1 + 32 characters), got %zu "
				 "characters",
				 len);
	for (size_t i = 0; i < ENROLL_TOKEN_ID_LEN; i++)
		if (!id_char(text[i]))
			return why_false(why, why_len, "token: id: expected 6 of a-z0-9");
	for (size_t i = ENROLL_TOKEN_ID_LEN + 1; i < len; i++)
		if (!hex_char(text[i]))
			return why_false(why, why_len,
					 "token: secret: expected 32 lowercase hex digits");
	memcpy(out->id, text, ENROLL_TOKEN_ID_LEN);
	memcpy(out->secret, text + ENROLL_TOKEN_ID_LEN + 1, ENROLL_SECRET_LEN);
	return true;
}

int enroll_token_generate(struct enroll_token *out)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t secret[ENROLL_SECRET_BYTES];

	if (sodium_init() < 0)
		return -EIO;
	for (size_t i = 0; i < ENROLL_TOKEN_ID_LEN; i++)
		out->id[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out->id[ENROLL_TOKEN_ID_LEN] = '\0';
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(out->secret, sizeof(out->secret), secret, sizeof(secret));
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

void enroll_secret_hash(const char *secret, char hex[65])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const uint8_t *)secret, strlen(secret));
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

bool enroll_pin_parse(const char *text, uint8_t pin[ENROLL_PIN_LEN], char *why, size_t why_len)
{
	size_t bin_len = 0;
	const char *end;

	if (strncmp(text, "sha256:", 7) || strlen(text + 7) != 2 * ENROLL_PIN_LEN)
		return why_false(why, why_len, "CA pin: expected sha256:<64 hex digits>");
	if (sodium_hex2bin(pin, ENROLL_PIN_LEN, text + 7, 2 * ENROLL_PIN_LEN, NULL, &bin_len,
			   &end) != 0 ||
	    bin_len != ENROLL_PIN_LEN || *end)
		return why_false(why, why_len, "CA pin: expected sha256:<64 hex digits>");
	return true;
}

void enroll_pin_format(const uint8_t pin[ENROLL_PIN_LEN], char out[ENROLL_PIN_TEXT_LEN])
{
	memcpy(out, "sha256:", 7);
	sodium_bin2hex(out + 7, 2 * ENROLL_PIN_LEN + 1, pin, ENROLL_PIN_LEN);
}

bool enroll_url_parse(const char *text, char out[ENROLL_URL_MAX], char *why, size_t why_len)
{
	size_t len = strlen(text);
	const char *host = text + 8, *slash;

	if (strncmp(text, "https://", 8))
		return why_false(why, why_len, "url: '%.64s' must start with https://", text);
	if (len >= ENROLL_URL_MAX)
		return why_false(why, why_len, "url: longer than %d characters",
				 ENROLL_URL_MAX - 1);
	for (const char *p = text; *p; p++)
		if (!isgraph((unsigned char)*p))
			return why_false(why, why_len,
					 "url: contains a space or control character");
	slash = strchr(host, '/');
	if (slash == host || !*host)
		return why_false(why, why_len, "url: '%.64s' has no host", text);
	if (slash && slash[1])
		return why_false(why, why_len, "url: '%.64s' must not have a path", text);
	if (strpbrk(host, "?#@"))
		return why_false(why, why_len, "url: '%.64s' must be https://host[:port]", text);
	len = slash ? (size_t)(slash - text) : len;
	memcpy(out, text, len);
	out[len] = '\0';
	return true;
}

char *enroll_join_encode(const struct enroll_join *j)
{
	char pin[ENROLL_PIN_TEXT_LEN], token[ENROLL_TOKEN_LEN + 1], *json, *out = NULL;
	json_t *o;
	size_t b64_len;

	enroll_pin_format(j->pin, pin);
	snprintf(token, sizeof(token), "%s.%s", j->token.id, j->token.secret);
	o = json_pack("{s:s, s:s, s:s}", "url", j->url, "ca", pin, "token", token);
	json = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!json)
		return NULL;
	b64_len = sodium_base64_ENCODED_LEN(strlen(json), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	out = malloc(strlen(ENROLL_JOIN_PREFIX) + b64_len);
	if (out) {
		strcpy(out, ENROLL_JOIN_PREFIX);
		sodium_bin2base64(out + strlen(ENROLL_JOIN_PREFIX), b64_len, (const uint8_t *)json,
				  strlen(json), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	}
	sodium_memzero(json, strlen(json));
	free(json);
	return out;
}

/* The string field of o named field, or NULL (with why) when absent or not a string. */
static const char *field(json_t *o, const char *name, char *why, size_t why_len)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		why_false(why, why_len, "join string: %s: missing or not a string", name);
		return NULL;
	}
	return json_string_value(v);
}

static bool join_fields(json_t *o, struct enroll_join *out, char *why, size_t why_len)
{
	const char *url = field(o, "url", why, why_len), *ca, *token;
	char sub[256];

	if (!url || !(ca = field(o, "ca", why, why_len)) ||
	    !(token = field(o, "token", why, why_len)))
		return false;
	if (!enroll_url_parse(url, out->url, sub, sizeof(sub)) ||
	    !enroll_pin_parse(ca, out->pin, sub, sizeof(sub)) ||
	    !enroll_token_parse(token, strlen(token), &out->token, sub, sizeof(sub)))
		return why_false(why, why_len, "join string: %s", sub);
	return true;
}

bool enroll_join_decode(const char *text, size_t len, struct enroll_join *out, char *why,
			size_t why_len)
{
	size_t plen = strlen(ENROLL_JOIN_PREFIX), bin_len = 0;
	uint8_t bin[ENROLL_JOIN_MAX];
	json_error_t jerror;
	const char *end;
	json_t *o;
	bool ok;

	memset(out, 0, sizeof(*out));
	while (len && isspace((unsigned char)*text))
		text++, len--;
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (len < plen || memcmp(text, ENROLL_JOIN_PREFIX, plen))
		return why_false(why, why_len,
				 "join string: expected it to start with '%s' (copy the whole line "
				 "'pseudopodctl token create' printed)",
				 ENROLL_JOIN_PREFIX);
	if (len > ENROLL_JOIN_MAX)
		return why_false(why, why_len, "join string: longer than %d characters",
				 ENROLL_JOIN_MAX);
	if (sodium_base642bin(bin, sizeof(bin), text + plen, len - plen, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != text + len)
		return why_false(
		    why, why_len,
		    "join string: not valid base64url after '%s' (truncated or altered "
		    "when copied?)",
		    ENROLL_JOIN_PREFIX);
	o = json_loadb((const char *)bin, bin_len, JSON_REJECT_DUPLICATES, &jerror);
	sodium_memzero(bin, sizeof(bin));
	if (!json_is_object(o)) {
		json_decref(o);
		return why_false(
		    why, why_len,
		    "join string: payload is not a JSON object (truncated or altered?)");
	}
	ok = join_fields(o, out, why, why_len);
	json_decref(o);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

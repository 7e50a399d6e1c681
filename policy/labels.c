// SPDX-License-Identifier: GPL-2.0-only
/* Label sets: validation, canonical form, JSON and digest. See policy/labels.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "policy/err.h"
#include "policy/labels.h"

static const char *const sources[] = {
    LABEL_SOURCE_K8S, LABEL_SOURCE_RESERVED, LABEL_SOURCE_CIDR,
    LABEL_SOURCE_ANY, LABEL_SOURCE_UNSPEC,
};

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_name_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

/* DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', alphanumeric at both ends. */
static bool dns_subdomain_valid(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return is_alnum(s[0]) && is_alnum(s[len - 1]);
}

static bool name_valid(const char *s, size_t len)
{
	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(s[i]))
			return false;
	return is_alnum(s[0]) && is_alnum(s[len - 1]);
}

bool label_key_valid(const char *key, size_t len)
{
	const char *slash = memchr(key, '/', len);

	if (!slash)
		return name_valid(key, len);
	return dns_subdomain_valid(key, (size_t)(slash - key)) &&
	       name_valid(slash + 1, len - (size_t)(slash - key) - 1);
}

bool label_value_valid(const char *value, size_t len)
{
	if (len > 63)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(value[i]))
			return false;
	return true;
}

/* A CIDR label key: "10.0.0.0/8", "fd00::/64" or Cilium's "fd00--/64" spelling. The
 * prefix itself is checked by the policy parser; here only the character set and shape. */
static bool cidr_key_valid(const char *key, size_t len)
{
	const char *slash = memchr(key, '/', len);

	if (!slash || slash == key || len > 63 || (size_t)(slash - key) + 1 == len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];

		if (!(isxdigit((unsigned char)c) || c == '.' || c == ':' || c == '-' || c == '/'))
			return false;
	}
	return true;
}

static const char *source_lookup(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (strlen(sources[i]) == len && !memcmp(sources[i], s, len))
			return sources[i];
	return NULL;
}

/*
 * Parses one label of any accepted spelling into a malloc'd canonical string.
 * The source prefix is recognised only when the text before the first ':' is a known
 * source, because a Kubernetes key cannot contain ':' but a CIDR key can.
 */
static bool label_canonical(const char *text, size_t len, char **out, char *err, size_t err_len)
{
	const char *source = LABEL_SOURCE_K8S;
	const char *key = text, *eq, *value;
	const char *colon = memchr(text, ':', len);
	size_t key_len, value_len, n;

	*out = NULL;
	if (len == 0)
		return policy_err_set(err, err_len, "empty label; expected [source:]key[=value]");
	if (colon) {
		source = source_lookup(text, (size_t)(colon - text));
		if (!source)
			return policy_err_set(
			    err, err_len,
			    "label \"%.*s\": unknown source \"%.*s\"; expected one of "
			    "k8s, reserved, cidr, any, unspec",
			    (int)len, text, (int)(colon - text), text);
		key = colon + 1;
	}
	eq = memchr(key, '=', len - (size_t)(key - text));
	key_len = eq ? (size_t)(eq - key) : len - (size_t)(key - text);
	value = eq ? eq + 1 : "";
	value_len = eq ? len - (size_t)(value - text) : 0;

	if (source == sources[2] ? !cidr_key_valid(key, key_len) : !label_key_valid(key, key_len))
		return policy_err_set(
		    err, err_len,
		    "label \"%.*s\": invalid key \"%.*s\"; expected [dns-prefix/]name, "
		    "name at most 63 characters of [A-Za-z0-9._-] starting and ending "
		    "alphanumeric%s",
		    (int)len, text, (int)key_len, key,
		    source == sources[2] ? " (cidr: an address/length prefix)" : "");
	if (!label_value_valid(value, value_len))
		return policy_err_set(err, err_len,
				      "label \"%.*s\": invalid value \"%.*s\"; expected at most 63 "
				      "characters of [A-Za-z0-9._-]",
				      (int)len, text, (int)value_len, value);

	n = strlen(source) + 1 + key_len + (value_len ? 1 + value_len : 0) + 1;
	*out = malloc(n);
	if (!*out)
		return policy_err_set(err, err_len, "out of memory");
	if (value_len)
		snprintf(*out, n, "%s:%.*s=%.*s", source, (int)key_len, key, (int)value_len, value);
	else
		snprintf(*out, n, "%s:%.*s", source, (int)key_len, key);
	return true;
}

/* Length of "source:key" of a canonical label (up to '=' or the end). */
static size_t label_id_len(const char *label)
{
	const char *eq = strchr(label, '=');

	return eq ? (size_t)(eq - label) : strlen(label);
}

/* Inserts a canonical, owned string; takes ownership on success and on failure. */
static bool label_set_insert(struct label_set *s, char *label, char *err, size_t err_len)
{
	size_t lo = 0, hi = s->n, id_len = label_id_len(label);
	char **grown;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->labels[mid], label);

		if (c == 0) {
			free(label);
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Same source:key with another value sorts right next to it only when no other key
	 * shares the prefix, so check the whole set: sets are small. */
	for (size_t i = 0; i < s->n; i++) {
		if (label_id_len(s->labels[i]) == id_len && !strncmp(s->labels[i], label, id_len)) {
			policy_err_set(err, err_len,
				       "label \"%s\" conflicts with \"%s\": one value per key",
				       label, s->labels[i]);
			free(label);
			return false;
		}
	}
	grown = realloc(s->labels, (s->n + 1) * sizeof(*grown));
	if (!grown) {
		free(label);
		return policy_err_set(err, err_len, "out of memory");
	}
	s->labels = grown;
	memmove(&s->labels[lo + 1], &s->labels[lo], (s->n - lo) * sizeof(*grown));
	s->labels[lo] = label;
	s->n++;
	return true;
}

bool label_set_add(struct label_set *s, const char *label, char *err, size_t err_len)
{
	char *canon;

	if (!label_canonical(label, strlen(label), &canon, err, err_len))
		return false;
	return label_set_insert(s, canon, err, err_len);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool label_set_parse(struct label_set *out, const char *text, char *err, size_t err_len)
{
	const char *p = text;

	out->labels = NULL;
	out->n = 0;
	while (is_space(*p))
		p++;
	if (!*p)
		return true;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *canon;

		while (len && is_space(*p)) {
			p++;
			len--;
		}
		while (len && is_space(p[len - 1]))
			len--;
		if (!label_canonical(p, len, &canon, err, err_len) ||
		    !label_set_insert(out, canon, err, err_len)) {
			label_set_free(out);
			return false;
		}
		if (!end)
			return true;
		p = end + 1;
	}
}

bool label_set_from_json(struct label_set *out, const json_t *array, char *err, size_t err_len)
{
	size_t i;
	json_t *v;

	out->labels = NULL;
	out->n = 0;
	if (!json_is_array(array))
		return policy_err_set(err, err_len, "labels: expected an array of strings");
	json_array_foreach(array, i, v)
	{
		const char *str = json_string_value(v);
		char *canon;

		if (!str) {
			label_set_free(out);
			return policy_err_set(err, err_len, "labels[%zu]: expected a string", i);
		}
		if (!label_canonical(str, json_string_length(v), &canon, err, err_len) ||
		    !label_set_insert(out, canon, err, err_len)) {
			label_set_free(out);
			return policy_err_prefix(err, err_len, "labels[%zu]: ", i);
		}
	}
	return true;
}

json_t *label_set_to_json(const struct label_set *s)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		if (json_array_append_new(a, json_string(s->labels[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

char *label_set_to_string(const struct label_set *s)
{
	size_t len = 1, off = 0;
	char *str;

	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->labels[i]) + 1;
	str = malloc(len);
	if (!str)
		return NULL;
	str[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		size_t l = strlen(s->labels[i]);

		if (i)
			str[off++] = ',';
		memcpy(str + off, s->labels[i], l);
		off += l;
	}
	str[off] = '\0';
	return str;
}

void label_set_digest(const struct label_set *s, char hex[65])
{
	unsigned char hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
		crypto_hash_sha256_update(&st, (const unsigned char *)s->labels[i],
					  strlen(s->labels[i]));
	}
	crypto_hash_sha256_final(&st, hash);
	sodium_bin2hex(hex, 65, hash, sizeof(hash));
}

const char *label_set_get(const struct label_set *s, const char *source, const char *key)
{
	size_t key_len = strlen(key);
	bool any = !source || !strcmp(source, LABEL_SOURCE_ANY);
	size_t source_len = any ? 0 : strlen(source);

	for (size_t i = 0; i < s->n; i++) {
		const char *l = s->labels[i];
		const char *colon = strchr(l, ':');
		const char *k;

		if (!colon)
			continue;
		if (!any && ((size_t)(colon - l) != source_len || memcmp(l, source, source_len)))
			continue;
		k = colon + 1;
		if (strncmp(k, key, key_len))
			continue;
		if (k[key_len] == '=')
			return k + key_len + 1;
		if (k[key_len] == '\0')
			return "";
	}
	return NULL;
}

bool label_set_equal(const struct label_set *a, const struct label_set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->labels[i], b->labels[i]))
			return false;
	return true;
}

bool label_set_copy(struct label_set *dst, const struct label_set *src)
{
	dst->n = 0;
	dst->labels = NULL;
	if (!src->n)
		return true;
	dst->labels = calloc(src->n, sizeof(*dst->labels));
	if (!dst->labels)
		return false;
	for (size_t i = 0; i < src->n; i++) {
		dst->labels[i] = strdup(src->labels[i]);
		if (!dst->labels[i]) {
			dst->n = i;
			label_set_free(dst);
			return false;
		}
	}
	dst->n = src->n;
	return true;
}

void label_set_free(struct label_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->labels[i]);
	free(s->labels);
	s->labels = NULL;
	s->n = 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Label selectors. See policy/selector.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/err.h"
#include "policy/labels.h"
#include "policy/selector.h"

static const char *const known_sources[] = {"k8s", "reserved", "cidr", "any", "unspec"};

bool selector_add(struct selector *s, const char *source, const char *key, enum selector_op op,
		  const char *const *values, size_t n_values)
{
	struct selector_req *grown = realloc(s->reqs, (s->n + 1) * sizeof(*grown));
	struct selector_req *r;

	if (!grown)
		return false;
	s->reqs = grown;
	r = &s->reqs[s->n];
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->key = strdup(key);
	r->source = source && strcmp(source, "any") ? strdup(source) : NULL;
	if (!r->key || (source && strcmp(source, "any") && !r->source))
		goto fail;
	if (n_values) {
		r->values = calloc(n_values, sizeof(*r->values));
		if (!r->values)
			goto fail;
		for (size_t i = 0; i < n_values; i++) {
			r->values[i] = strdup(values[i]);
			if (!r->values[i])
				goto fail;
			r->n_values = i + 1;
		}
	}
	s->n++;
	return true;
fail:
	for (size_t i = 0; i < r->n_values; i++)
		free(r->values[i]);
	free(r->values);
	free(r->key);
	free(r->source);
	return false;
}

/* Splits "source:key" when the prefix is a known source. */
static void split_key(const char *text, const char *default_source, char *source, size_t slen,
		      const char **key)
{
	const char *colon = strchr(text, ':');

	*key = text;
	snprintf(source, slen, "%s", default_source ? default_source : "any");
	if (!colon)
		return;
	for (size_t i = 0; i < sizeof(known_sources) / sizeof(known_sources[0]); i++) {
		size_t l = strlen(known_sources[i]);

		if ((size_t)(colon - text) == l && !strncmp(text, known_sources[i], l)) {
			snprintf(source, slen, "%s", known_sources[i]);
			*key = colon + 1;
			return;
		}
	}
}

static bool key_ok(const char *key)
{
	size_t len = strlen(key);

	/* Prefixed namespace-label keys can exceed a plain label key; only the shape matters
	 * for matching, so check characters, not lengths. */
	if (!len || len > 512)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == '/'))
			return false;
	}
	return true;
}

static bool add_parsed(struct selector *s, const char *raw_key, const char *default_source,
		       const char *key_prefix, enum selector_op op, const char *const *values,
		       size_t n_values, const char *path, char *err, size_t err_len)
{
	char source[16], full[600];
	const char *key;

	split_key(raw_key, default_source, source, sizeof(source), &key);
	policy_err_path(full, sizeof(full), "%s%s", key_prefix ? key_prefix : "", key);
	/* Kubernetes labels every namespace with kubernetes.io/metadata.name; an endpoint
	 * carries its namespace's name as io.kubernetes.pod.namespace, so a namespaceSelector
	 * on the name selects on that label. */
	if (key_prefix && !strcmp(key, "kubernetes.io/metadata.name"))
		policy_err_path(full, sizeof(full), "%s", LABEL_POD_NAMESPACE);
	if (!key_ok(key))
		return policy_err_set(
		    err, err_len,
		    "%s: invalid label key \"%s\"; expected [source:][dns-prefix/]name", path,
		    raw_key);
	if (!selector_add(s, source, full, op, values, n_values))
		return policy_err_set(err, err_len, "%s: out of memory", path);
	return true;
}

static bool parse_op(const char *text, enum selector_op *op)
{
	static const struct {
		const char *name;
		enum selector_op op;
	} ops[] = {
	    {"In", SELECTOR_IN},
	    {"NotIn", SELECTOR_NOT_IN},
	    {"Exists", SELECTOR_EXISTS},
	    {"DoesNotExist", SELECTOR_DOES_NOT_EXIST},
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!strcmp(ops[i].name, text)) {
			*op = ops[i].op;
			return true;
		}
	}
	return false;
}

static bool parse_expression(struct selector *s, const json_t *e, const char *default_source,
			     const char *key_prefix, const char *path, char *err, size_t err_len)
{
	const char *key, *opname, *k;
	const char **vals = NULL;
	json_t *values, *v;
	enum selector_op op;
	size_t n = 0, i;
	bool ok;

	if (!json_is_object(e))
		return policy_err_set(err, err_len,
				      "%s: expected an object {key, operator, values}", path);
	json_object_foreach((json_t *)e, k, v)
	{
		if (strcmp(k, "key") && strcmp(k, "operator") && strcmp(k, "values"))
			return policy_err_set(
			    err, err_len, "%s.%s: unknown field; expected key, operator, values",
			    path, k);
	}
	key = json_string_value(json_object_get(e, "key"));
	opname = json_string_value(json_object_get(e, "operator"));
	values = json_object_get(e, "values");
	if (!key)
		return policy_err_set(err, err_len, "%s.key: missing or not a string", path);
	if (!opname || !parse_op(opname, &op))
		return policy_err_set(err, err_len,
				      "%s.operator: %s; expected In, NotIn, Exists or DoesNotExist",
				      path, opname ? opname : "missing or not a string");
	if (values && !json_is_null(values) && !json_is_array(values))
		return policy_err_set(err, err_len, "%s.values: expected an array of strings",
				      path);
	n = json_is_array(values) ? json_array_size(values) : 0;
	if ((op == SELECTOR_IN || op == SELECTOR_NOT_IN) && n == 0)
		return policy_err_set(err, err_len, "%s.values: must be non-empty for operator %s",
				      path, opname);
	if ((op == SELECTOR_EXISTS || op == SELECTOR_DOES_NOT_EXIST) && n)
		return policy_err_set(err, err_len, "%s.values: must be empty for operator %s",
				      path, opname);
	if (n) {
		vals = calloc(n, sizeof(*vals));
		if (!vals)
			return policy_err_set(err, err_len, "%s: out of memory", path);
	}
	json_array_foreach(values, i, v)
	{
		vals[i] = json_string_value(v);
		if (!vals[i] || !label_value_valid(vals[i], strlen(vals[i]))) {
			free(vals);
			return policy_err_set(err, err_len,
					      "%s.values[%zu]: expected a label value (at most 63 "
					      "characters of [A-Za-z0-9._-])",
					      path, i);
		}
	}
	ok = add_parsed(s, key, default_source, key_prefix, op, vals, n, path, err, err_len);
	free(vals);
	return ok;
}

bool selector_parse(struct selector *out, const json_t *obj, const char *default_source,
		    const char *key_prefix, const char *path, char *err, size_t err_len)
{
	json_t *ml, *me, *v;
	const char *k;
	char sub[600];
	size_t i;

	out->reqs = NULL;
	out->n = 0;
	if (!json_is_object(obj))
		return policy_err_set(err, err_len,
				      "%s: expected a label selector object {matchLabels, "
				      "matchExpressions}",
				      path);
	json_object_foreach((json_t *)obj, k, v)
	{
		if (strcmp(k, "matchLabels") && strcmp(k, "matchExpressions"))
			return policy_err_set(err, err_len,
					      "%s.%s: unknown field; expected matchLabels or "
					      "matchExpressions",
					      path, k);
	}
	ml = json_object_get(obj, "matchLabels");
	me = json_object_get(obj, "matchExpressions");
	if (ml && !json_is_null(ml)) {
		if (!json_is_object(ml))
			return policy_err_set(err, err_len, "%s.matchLabels: expected an object",
					      path);
		json_object_foreach(ml, k, v)
		{
			const char *val = json_string_value(v);

			policy_err_path(sub, sizeof(sub), "%s.matchLabels.%s", path, k);
			if (!val || !label_value_valid(val, strlen(val))) {
				selector_free(out);
				return policy_err_set(
				    err, err_len,
				    "%s: expected a label value string (at most 63 "
				    "characters of [A-Za-z0-9._-])",
				    sub);
			}
			if (!add_parsed(out, k, default_source, key_prefix, SELECTOR_IN, &val, 1,
					sub, err, err_len)) {
				selector_free(out);
				return false;
			}
		}
	}
	if (me && !json_is_null(me)) {
		if (!json_is_array(me)) {
			selector_free(out);
			return policy_err_set(err, err_len,
					      "%s.matchExpressions: expected an array", path);
		}
		json_array_foreach(me, i, v)
		{
			policy_err_path(sub, sizeof(sub), "%s.matchExpressions[%zu]", path, i);
			if (!parse_expression(out, v, default_source, key_prefix, sub, err,
					      err_len)) {
				selector_free(out);
				return false;
			}
		}
	}
	return true;
}

bool selector_has_key(const struct selector *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->reqs[i].key, key))
			return true;
	return false;
}

/* Calls back for each label whose source and key match; stops when cb returns true. */
static bool req_any_label(const struct selector_req *r, const struct label_set *labels,
			  bool (*cb)(const struct selector_req *r, const char *value))
{
	size_t key_len = strlen(r->key);
	size_t src_len = r->source ? strlen(r->source) : 0;

	for (size_t i = 0; i < labels->n; i++) {
		const char *l = labels->labels[i];
		const char *colon = strchr(l, ':');
		const char *k, *value;

		if (!colon)
			continue;
		if (r->source && ((size_t)(colon - l) != src_len || memcmp(l, r->source, src_len)))
			continue;
		k = colon + 1;
		if (strncmp(k, r->key, key_len) || (k[key_len] != '=' && k[key_len] != '\0'))
			continue;
		value = k[key_len] == '=' ? k + key_len + 1 : "";
		if (cb(r, value))
			return true;
	}
	return false;
}

static bool cb_present(const struct selector_req *r, const char *value)
{
	return true;
}

static bool cb_value_in(const struct selector_req *r, const char *value)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (!strcmp(r->values[i], value))
			return true;
	return false;
}

bool selector_matches(const struct selector *s, const struct label_set *labels)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct selector_req *r = &s->reqs[i];
		bool ok;

		switch (r->op) {
		case SELECTOR_IN:
			ok = req_any_label(r, labels, cb_value_in);
			break;
		case SELECTOR_NOT_IN:
			ok = !req_any_label(r, labels, cb_value_in);
			break;
		case SELECTOR_EXISTS:
			ok = req_any_label(r, labels, cb_present);
			break;
		default:
			ok = !req_any_label(r, labels, cb_present);
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

bool selector_and(struct selector *dst, const struct selector *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct selector_req *r = &src->reqs[i];

		if (!selector_add(dst, r->source, r->key, r->op, (const char *const *)r->values,
				  r->n_values))
			return false;
	}
	return true;
}

void selector_free(struct selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->reqs[i].n_values; j++)
			free(s->reqs[i].values[j]);
		free(s->reqs[i].values);
		free(s->reqs[i].key);
		free(s->reqs[i].source);
	}
	free(s->reqs);
	s->reqs = NULL;
	s->n = 0;
}

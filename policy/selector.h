/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/selector.h: Kubernetes label selectors (matchLabels + matchExpressions) over
 * label sets, with Cilium's label sources.
 *
 * A selector is a conjunction of requirements; the empty selector matches every label
 * set. A requirement's key may carry a source ("k8s:app", "reserved:host"); without one
 * it takes the default source given to the parser (Cilium policies: any source;
 * Kubernetes NetworkPolicy: k8s). Operators, as Kubernetes defines them:
 *   In           a label with the key exists and its value is one of values
 *   NotIn        no label with the key has a value in values (absent key matches)
 *   Exists       a label with the key exists
 *   DoesNotExist no label with the key exists
 * matchLabels {k: v} is In [v].
 */
#ifndef PSEUDOPOD_POLICY_SELECTOR_H
#define PSEUDOPOD_POLICY_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct label_set;

enum selector_op {
	SELECTOR_IN,
	SELECTOR_NOT_IN,
	SELECTOR_EXISTS,
	SELECTOR_DOES_NOT_EXIST,
};

struct selector_req {
	char *source; /* NULL = any source */
	char *key;
	enum selector_op op;
	char **values;
	size_t n_values;
};

struct selector {
	struct selector_req *reqs;
	size_t n;
};

/*
 * Parses a LabelSelector object ({matchLabels, matchExpressions}); other members are an
 * error. default_source is the source of keys without one (NULL = any). key_prefix, when
 * not NULL, is put in front of every key (how a NetworkPolicy namespaceSelector becomes a
 * selector over "io.cilium.k8s.namespace.labels.*"). path names the object in errors.
 */
bool selector_parse(struct selector *out, const json_t *obj, const char *default_source,
		    const char *key_prefix, const char *path, char *err, size_t err_len);
/* Adds a requirement (values copied). false on allocation failure. */
bool selector_add(struct selector *s, const char *source, const char *key, enum selector_op op,
		  const char *const *values, size_t n_values);
/* True when some requirement is on key (any source, or the given source). */
bool selector_has_key(const struct selector *s, const char *key);
bool selector_matches(const struct selector *s, const struct label_set *labels);
/* Appends the requirements of src to dst (a conjunction). */
bool selector_and(struct selector *dst, const struct selector *src);
void selector_free(struct selector *s);

#endif

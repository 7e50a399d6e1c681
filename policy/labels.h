/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/labels.h: security label sets, the currency of identities and selectors.
 *
 * A label is "source:key=value". source is one of k8s, reserved, cidr, any, unspec and
 * defaults to k8s when the text has no known "source:" prefix. key follows the Kubernetes
 * label-key rules (optional DNS-subdomain prefix of at most 253 characters + "/" + a name
 * of at most 63 characters of [A-Za-z0-9._-] starting and ending alphanumeric); for the
 * cidr source the key is a prefix such as "10.0.0.0/8" (IPv6 may use ':' or '-').
 * value is at most 63 characters of [A-Za-z0-9._-] and may be empty.
 *
 * Canonical text: "source:key=value", or "source:key" when the value is empty (as Cilium
 * prints "reserved:host"); "k=" and "k" therefore name the same label. A label set is
 * kept canonical: sorted bytewise by the canonical string, no duplicates, and at most one
 * value per source:key (a second, different value is an error, since an object cannot
 * carry two values for one key).
 *
 * Parsers return bool and write a one-line reason into err (may be NULL). A set that
 * failed to parse is left empty. label_set_free() accepts an empty or zeroed set.
 */
#ifndef PSEUDOPOD_POLICY_LABELS_H
#define PSEUDOPOD_POLICY_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct label_set {
	char **labels;
	size_t n;
};

#define LABEL_SOURCE_K8S      "k8s"
#define LABEL_SOURCE_RESERVED "reserved"
#define LABEL_SOURCE_CIDR     "cidr"
#define LABEL_SOURCE_ANY      "any"
#define LABEL_SOURCE_UNSPEC   "unspec"

/* The label that names an endpoint's namespace, and the prefix of its namespace's labels. */
#define LABEL_POD_NAMESPACE	      "io.kubernetes.pod.namespace"
#define LABEL_NAMESPACE_LABELS_PREFIX "io.cilium.k8s.namespace.labels."

/* "k=v,k2=v2,reserved:host" style (spaces around items are ignored); "" gives the empty set. */
bool label_set_parse(struct label_set *out, const char *text, char *err, size_t err_len);
/* Adds one label (any accepted spelling), keeping the set canonical. Adding a label already
 * present is not an error. */
bool label_set_add(struct label_set *s, const char *label, char *err, size_t err_len);
/* From a JSON array of label strings. */
bool label_set_from_json(struct label_set *out, const json_t *array, char *err, size_t err_len);
/* JSON array of the canonical strings; NULL on allocation failure. */
json_t *label_set_to_json(const struct label_set *s);
/* "a,b,c" (canonical strings joined by ','), malloc'd; NULL on allocation failure. */
char *label_set_to_string(const struct label_set *s);
/* SHA-256 (libsodium) of the canonical labels joined by '\n' (no trailing newline),
 * as 64 lowercase hex characters plus NUL. */
void label_set_digest(const struct label_set *s, char hex[65]);
/* The value of the label with this key, or NULL; source NULL (or "any") matches every
 * source. The returned string points into the set. */
const char *label_set_get(const struct label_set *s, const char *source, const char *key);
bool label_set_equal(const struct label_set *a, const struct label_set *b);
/* Deep copy; false on allocation failure (dst left empty). */
bool label_set_copy(struct label_set *dst, const struct label_set *src);
void label_set_free(struct label_set *s);

/* True when key is a valid Kubernetes label key / value (see the contract above). */
bool label_key_valid(const char *key, size_t len);
bool label_value_valid(const char *value, size_t len);

#endif

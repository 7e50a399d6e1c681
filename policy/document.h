/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/document.h: policy files and store values as a list of validated policy objects.
 *
 * policy_documents_load() takes YAML (one or more "---" documents) or JSON (one object, or
 * a "List"/"...List" with items[]), expands lists, and validates every object with the
 * full policy parser (policy/policy.h). It is all or nothing: on the first error it
 * returns false with "SOURCE: document N: FIELD.PATH: what is wrong, what is expected" in
 * err and nothing in *docs. Empty YAML documents are skipped, as kubectl does; a text
 * without any object is an error.
 *
 * Each document's object is a deep copy the caller owns (what gets stored): a namespaced
 * object without metadata.namespace gets "default" written into it, and a clusterwide
 * object has metadata.namespace removed, so the stored JSON says what was applied.
 */
#ifndef PSEUDOPOD_POLICY_DOCUMENT_H
#define PSEUDOPOD_POLICY_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct policy_document {
	char kind[64];	      /* "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy" |
				 "NetworkPolicy" */
	char namespace_[254]; /* "" for CiliumClusterwideNetworkPolicy; "default" when a
				 namespaced object has no metadata.namespace (as kubectl does) */
	char name[254];
	json_t *object; /* the whole object as JSON, owned (what gets stored) */
};

bool policy_documents_load(const char *source, const char *text, size_t len,
			   struct policy_document **docs, size_t *n, char *err, size_t err_len);
void policy_documents_free(struct policy_document *docs, size_t n);

#endif

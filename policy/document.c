// SPDX-License-Identifier: GPL-2.0-only
/* Policy files to validated policy objects. See policy/document.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/document.h"
#include "policy/err.h"
#include "policy/policy.h"
#include "policy/yamljson.h"

struct loader {
	const char *source;
	struct policy_document *docs;
	size_t n;
	char *err;
	size_t err_len;
};

static bool is_list(const json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	size_t len = kind ? strlen(kind) : 0;

	return len >= 4 && !strcmp(kind + len - 4, "List") && json_object_get(obj, "items") != NULL;
}

/* Validates one object and appends its normalised copy. where: "document 2" or
 * "document 2: items[3]". */
static bool add_object(struct loader *l, const json_t *obj, const char *where)
{
	struct policy_document *grown, *d;
	struct policy p;
	json_t *md;
	char why[1024];

	if (!json_is_object(obj))
		return policy_err_set(l->err, l->err_len, "%s: %s: expected a policy object",
				      l->source, where);
	if (!policy_parse(&p, obj, why, sizeof(why)))
		return policy_err_set(l->err, l->err_len, "%s: %s: %s", l->source, where, why);
	grown = realloc(l->docs, (l->n + 1) * sizeof(*grown));
	if (!grown) {
		policy_free(&p);
		return policy_err_set(l->err, l->err_len, "%s: out of memory", l->source);
	}
	l->docs = grown;
	d = &grown[l->n];
	memset(d, 0, sizeof(*d));
	snprintf(d->kind, sizeof(d->kind), "%s", policy_kind_name(p.kind));
	snprintf(d->namespace_, sizeof(d->namespace_), "%s", p.namespace_);
	snprintf(d->name, sizeof(d->name), "%s", p.name);
	policy_free(&p);
	d->object = json_deep_copy(obj);
	md = d->object ? json_object_get(d->object, "metadata") : NULL;
	if (!md)
		goto oom;
	if (*d->namespace_) {
		if (json_object_set_new(md, "namespace", json_string(d->namespace_)) < 0)
			goto oom;
	} else {
		json_object_del(md, "namespace");
	}
	l->n++;
	return true;
oom:
	json_decref(d->object);
	return policy_err_set(l->err, l->err_len, "%s: out of memory", l->source);
}

static bool add_document(struct loader *l, const json_t *doc, size_t number)
{
	char where[64];
	json_t *items, *v;
	size_t i;

	if (!json_is_object(doc) || !is_list(doc)) {
		policy_err_path(where, sizeof(where), "document %zu", number);
		return add_object(l, doc, where);
	}
	items = json_object_get(doc, "items");
	if (!json_is_array(items))
		return policy_err_set(l->err, l->err_len,
				      "%s: document %zu: items: expected an array", l->source,
				      number);
	json_array_foreach(items, i, v)
	{
		policy_err_path(where, sizeof(where), "document %zu: items[%zu]", number, i);
		if (!add_object(l, v, where))
			return false;
	}
	return true;
}

static bool looks_like_json(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')
			continue;
		return text[i] == '{' || text[i] == '[';
	}
	return false;
}

bool policy_documents_load(const char *source, const char *text, size_t len,
			   struct policy_document **docs, size_t *n, char *err, size_t err_len)
{
	struct loader l = {.source = source ? source : "-", .err = err, .err_len = err_len};
	json_t *all = NULL, *doc;
	char why[512];
	size_t i;
	bool ok = true;

	*docs = NULL;
	*n = 0;
	if (looks_like_json(text, len)) {
		json_error_t jerr;

		doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!doc)
			return policy_err_set(err, err_len, "%s: line %d column %d: %s", l.source,
					      jerr.line, jerr.column, jerr.text);
		ok = add_document(&l, doc, 1);
		json_decref(doc);
	} else {
		if (!yamljson_load(text, len, &all, why, sizeof(why)))
			return policy_err_set(err, err_len, "%s: %s", l.source, why);
		json_array_foreach(all, i, doc)
		{
			if (json_is_null(doc))
				continue;
			ok = add_document(&l, doc, i + 1);
			if (!ok)
				break;
		}
		json_decref(all);
	}
	if (ok && !l.n)
		ok = policy_err_set(err, err_len, "%s: no policy objects found", l.source);
	if (!ok) {
		policy_documents_free(l.docs, l.n);
		return false;
	}
	*docs = l.docs;
	*n = l.n;
	return true;
}

void policy_documents_free(struct policy_document *docs, size_t n)
{
	for (size_t i = 0; docs && i < n; i++)
		json_decref(docs[i].object);
	free(docs);
}

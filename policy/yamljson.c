// SPDX-License-Identifier: GPL-2.0-only
/* YAML to JSON with libyaml's event parser. See policy/yamljson.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "policy/err.h"
#include "policy/yamljson.h"

struct frame {
	json_t *node;
	char *key; /* mapping: key waiting for its value */
};

struct yj {
	struct frame stack[YAMLJSON_MAX_DEPTH];
	int depth;
	json_t *docs;
	json_t *root;
	char *err;
	size_t err_len;
};

static bool all_digits(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool is_decimal(const char *s)
{
	bool digits = false, dot = false;

	if (*s == '-' || *s == '+')
		s++;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits = true;
		else if (*s == '.' && !dot)
			dot = true;
		else if ((*s == 'e' || *s == 'E') && digits)
			return all_digits(s + 1);
		else
			return false;
	}
	return digits && dot;
}

static json_t *scalar_value(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;

	if ((tag && !strcmp(tag, YAML_STR_TAG)) ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || strlen(s) != len)
		return json_stringn(s, len);
	if (!len || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (all_digits(s)) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (!errno && !*end)
			return json_integer(v);
	}
	if (is_decimal(s))
		return json_real(strtod(s, NULL));
	return json_stringn(s, len);
}

/* Attaches a finished value to the container on top of the stack (or makes it the root). */
static bool attach(struct yj *y, json_t *v, size_t line)
{
	struct frame *top;

	if (!v)
		return policy_err_set(y->err, y->err_len, "line %zu: invalid value (not UTF-8?)",
				      line);
	if (!y->depth) {
		y->root = v;
		return true;
	}
	top = &y->stack[y->depth - 1];
	if (json_is_array(top->node)) {
		if (json_array_append_new(top->node, v) < 0)
			return policy_err_set(y->err, y->err_len, "line %zu: out of memory", line);
		return true;
	}
	if (!top->key) {
		const char *k = json_string_value(v);

		if (!k) {
			json_decref(v);
			return policy_err_set(y->err, y->err_len,
					      "line %zu: mapping keys must be scalars", line);
		}
		top->key = strdup(k);
		json_decref(v);
		if (!top->key)
			return policy_err_set(y->err, y->err_len, "line %zu: out of memory", line);
		if (json_object_get(top->node, top->key))
			return policy_err_set(y->err, y->err_len, "line %zu: duplicate key \"%s\"",
					      line, top->key);
		return true;
	}
	if (json_object_set_new(top->node, top->key, v) < 0)
		return policy_err_set(y->err, y->err_len, "line %zu: out of memory", line);
	free(top->key);
	top->key = NULL;
	return true;
}

static bool push(struct yj *y, json_t *node, size_t line)
{
	struct frame *top = y->depth ? &y->stack[y->depth - 1] : NULL;

	if (!node)
		return policy_err_set(y->err, y->err_len, "line %zu: out of memory", line);
	if (top && json_is_object(top->node) && !top->key) {
		json_decref(node);
		return policy_err_set(y->err, y->err_len,
				      "line %zu: mapping keys must be scalars, not collections",
				      line);
	}
	if (y->depth == YAMLJSON_MAX_DEPTH) {
		json_decref(node);
		return policy_err_set(y->err, y->err_len, "line %zu: nesting deeper than %d levels",
				      line, YAMLJSON_MAX_DEPTH);
	}
	y->stack[y->depth].node = node;
	y->stack[y->depth].key = NULL;
	y->depth++;
	return true;
}

static bool pop(struct yj *y, size_t line)
{
	struct frame *top = &y->stack[--y->depth];

	free(top->key);
	top->key = NULL;
	return attach(y, top->node, line);
}

static void unwind(struct yj *y)
{
	while (y->depth) {
		struct frame *top = &y->stack[--y->depth];

		free(top->key);
		json_decref(top->node);
	}
	json_decref(y->root);
	y->root = NULL;
}

bool yamljson_load(const char *text, size_t len, json_t **docs, char *err, size_t err_len)
{
	struct yj y = {.err = err, .err_len = err_len};
	yaml_parser_t parser;
	bool ok = true, done = false;

	*docs = NULL;
	y.docs = json_array();
	if (!y.docs || !yaml_parser_initialize(&parser)) {
		json_decref(y.docs);
		return policy_err_set(err, err_len, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (ok && !done) {
		yaml_event_t ev;
		size_t line;

		if (!yaml_parser_parse(&parser, &ev)) {
			ok = policy_err_set(
			    err, err_len, "line %zu: %s%s%s", parser.problem_mark.line + 1,
			    parser.problem ? parser.problem : "invalid YAML",
			    parser.context ? " " : "", parser.context ? parser.context : "");
			break;
		}
		line = ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			y.root = NULL;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (json_array_append_new(y.docs, y.root ? y.root : json_null()) < 0)
				ok = policy_err_set(err, err_len, "out of memory");
			y.root = NULL;
			break;
		case YAML_MAPPING_START_EVENT:
			ok = push(&y, json_object(), line);
			break;
		case YAML_SEQUENCE_START_EVENT:
			ok = push(&y, json_array(), line);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			ok = pop(&y, line);
			break;
		case YAML_SCALAR_EVENT:
			ok = attach(&y, scalar_value(&ev), line);
			break;
		case YAML_ALIAS_EVENT:
			ok = policy_err_set(err, err_len,
					    "line %zu: YAML aliases are not supported", line);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!ok) {
		unwind(&y);
		json_decref(y.docs);
		return false;
	}
	*docs = y.docs;
	return true;
}

// SPDX-License-Identifier: GPL-2.0-only
/* INI edits that keep the user's file (enroll/state.h). */
#include "enroll/state.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *p = realloc(o->p, cap);

		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put_kv(struct out *o, const struct enroll_conf_set *s)
{
	put(o, s->key, strlen(s->key));
	put(o, " = ", 3);
	put(o, s->value, strlen(s->value));
	put(o, "\n", 1);
}

/* Trims [b, e) of blanks. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static bool span_is(const char *b, const char *e, const char *s)
{
	return (size_t)(e - b) == strlen(s) && !memcmp(b, s, (size_t)(e - b));
}

/* Appends the not yet written keys of section sec. */
static void flush_section(struct out *o, const char *sec, const struct enroll_conf_set *sets,
			  size_t n, bool *done)
{
	size_t blank = 0;

	for (size_t i = 0; i < n; i++)
		blank += !done[i] && !strcmp(sets[i].section, sec);
	if (!blank || o->oom)
		return;
	/* New keys go right after the section's last line, before the blank lines that
	 * separate it from the next one. */
	for (blank = 0; o->len >= 2 && o->p[o->len - 1] == '\n' && o->p[o->len - 2] == '\n';
	     blank++)
		o->p[--o->len] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!done[i] && !strcmp(sets[i].section, sec)) {
			put_kv(o, &sets[i]);
			done[i] = true;
		}
	while (blank--)
		put(o, "\n", 1);
}

char *enroll_conf_apply(const char *text, const struct enroll_conf_set *sets, size_t n)
{
	struct out o = {0};
	bool *done = calloc(n + 1, sizeof(bool));
	char sec[128] = "";
	const char *line = text ? text : "";

	if (!done)
		return NULL;
	put(&o, "", 0);
	while (*line) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		const char *b = line, *e = end, *eq;
		bool replaced = false;

		trim(&b, &e);
		if (b < e && *b == '[' && e[-1] == ']') {
			/* Keys still missing from the section that ends here go before it. */
			flush_section(&o, sec, sets, n, done);
			snprintf(sec, sizeof(sec), "%.*s", (int)(e - b - 2), b + 1);
		} else if (b < e && *b != '#' && *b != ';' &&
			   (eq = memchr(b, '=', (size_t)(e - b)))) {
			const char *kb = b, *ke = eq;

			trim(&kb, &ke);
			for (size_t i = 0; i < n; i++) {
				if (strcmp(sets[i].section, sec) || !span_is(kb, ke, sets[i].key))
					continue;
				if (!done[i])
					put_kv(&o, &sets[i]);
				done[i] = true;
				replaced = true; /* a duplicate later line is dropped */
				break;
			}
		}
		if (!replaced) {
			put(&o, line, (size_t)(end - line));
			put(&o, "\n", 1);
		}
		line = nl ? nl + 1 : end;
	}
	flush_section(&o, sec, sets, n, done);
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		put(&o, "\n[", 2);
		put(&o, sets[i].section, strlen(sets[i].section));
		put(&o, "]\n", 2);
		snprintf(sec, sizeof(sec), "%s", sets[i].section);
		flush_section(&o, sec, sets, n, done);
	}
	free(done);
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	return o.p;
}

void enroll_state_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

// SPDX-License-Identifier: GPL-2.0-only
/* Store options, connection and output helpers shared by pseudopodctl's commands. */
#include "cluster/ctl.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cli.h"
#include "lib/kv/kv.h"

void ctl_init(struct ctl *ctl, const char *prog)
{
	memset(ctl, 0, sizeof(*ctl));
	ctl->prog = prog;
	store_options_init(&ctl->opts);
	/* getopt_long is reused by each command on its own argv. */
	optind = 0;
	opterr = 1;
}

/* "prog: message\n" on stderr */
static void vreport(const struct ctl *ctl, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", ctl->prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int ctl_usage_error(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ctl, fmt, ap);
	va_end(ap);
	fprintf(stderr, "(run with --help for usage)\n");
	return CLI_EXIT_USAGE;
}

int ctl_fail(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ctl, fmt, ap);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

void ctl_print_store_help(FILE *out)
{
	store_options_help(out);
	fprintf(out, "  -o, --output table|json    output format (default table)\n");
}

int ctl_option(struct ctl *ctl, int opt, const char *arg)
{
	char why[512];
	int r = store_options_flag(&ctl->opts, opt, arg, why, sizeof(why));

	if (r < 0) {
		ctl_usage_error(ctl, "%s", why);
		return -1;
	}
	if (r > 0 || opt != 'o')
		return r;
	if (!strcmp(arg, "json")) {
		ctl->json = true;
	} else if (!strcmp(arg, "table")) {
		ctl->json = false;
	} else {
		ctl_usage_error(ctl, "-o %s: expected table or json", arg);
		return -1;
	}
	return 1;
}

int ctl_connect(struct ctl *ctl)
{
	char why[CONFIG_ERR_MAX + 64];

	if (store_options_connect(&ctl->opts, &ctl->kv, &ctl->store, why, sizeof(why)) < 0) {
		store_options_clear(&ctl->opts);
		return ctl_fail(ctl, "%s", why);
	}
	return 0;
}

void ctl_close(struct ctl *ctl)
{
	kv_close(ctl->kv);
	ctl->kv = NULL;
	store_options_clear(&ctl->opts);
}

int ctl_parse(struct ctl *ctl, int argc, char **argv, const char *shortopts,
	      const struct option *opts, void (*help)(FILE *out), ctl_option_fn own, void *data)
{
	int opt;

	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		int r = ctl_option(ctl, opt, optarg);

		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (opt == 'h') {
			help(stdout);
			return CLI_EXIT_OK;
		}
		if (opt == '?' || !own)
			return ctl_usage_error(ctl, "unknown option");
		r = own(ctl, opt, optarg, data);
		if (r >= 0)
			return r;
	}
	return -1;
}

int ctl_connect_no_args(struct ctl *ctl, int argc, char **argv)
{
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);
	return ctl_connect(ctl);
}

int ctl_store_fail(const struct ctl *ctl)
{
	return ctl_fail(ctl, "%s", store_error(&ctl->store));
}

int ctl_delete_by_name(struct ctl *ctl, int argc, char **argv, const char *what,
		       int (*del)(struct store *s, const char *name))
{
	const char *name;
	int rc;

	if (optind + 1 != argc)
		return ctl_usage_error(ctl, "expected one %s name", what);
	name = argv[optind];
	if (!store_name_valid(name, true))
		return ctl_usage_error(ctl, "'%s': not a valid %s name", name, what);
	rc = ctl_connect(ctl);
	if (rc)
		return rc;
	rc = del(&ctl->store, name);
	if (rc < 0)
		rc = ctl_store_fail(ctl);
	else if (!ctl->json)
		printf("%s %s deleted\n", what, name);
	ctl_close(ctl);
	return rc;
}

void ctl_table_init(struct ctl_table *t, size_t ncols, ...)
{
	va_list ap;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	va_start(ap, ncols);
	t->cells = calloc(ncols, sizeof(char *));
	t->cap = 1;
	for (size_t i = 0; i < ncols; i++) {
		const char *s = va_arg(ap, const char *);
		if (t->cells)
			t->cells[i] = strdup(s);
	}
	va_end(ap);
	t->nrows = t->cells ? 1 : 0;
}

void ctl_table_row(struct ctl_table *t, ...)
{
	va_list ap;

	if (!t->cells)
		return;
	if (t->nrows == t->cap) {
		char **p = realloc(t->cells, t->cap * 2 * t->ncols * sizeof(char *));
		if (!p)
			return;
		t->cells = p;
		t->cap *= 2;
	}
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->nrows * t->ncols + i] = strdup(s ? s : "");
	}
	va_end(ap);
	t->nrows++;
}

void ctl_table_print(struct ctl_table *t, FILE *out)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(size_t));

	for (size_t r = 0; w && r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t len = s ? strlen(s) : 0;
			if (len > w[c])
				w[c] = len;
		}
	for (size_t r = 0; w && out && r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 < t->ncols)
				fprintf(out, "%-*s  ", (int)w[c], s ? s : "");
			else
				fprintf(out, "%s\n", s ? s : "");
		}
	}
	for (size_t i = 0; t->cells && i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(w);
	memset(t, 0, sizeof(*t));
}

void ctl_print_json(json_t *v)
{
	if (v) {
		json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	}
	json_decref(v);
}

void ctl_print_result(const struct ctl *ctl, json_t *v, struct ctl_table *t)
{
	if (ctl->json) {
		ctl_print_json(v);
		ctl_table_print(t, NULL); /* only frees */
	} else {
		json_decref(v);
		ctl_table_print(t, stdout);
	}
}

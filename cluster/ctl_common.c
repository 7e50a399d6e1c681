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
	fprintf(
	    out,
	    "Store options:\n"
	    "  --store URL[,URL...]       etcd endpoints (default from the config file, else\n"
	    "                             http://127.0.0.1:2379)\n"
	    "  --store-ca FILE            CA that signed the etcd server certificates\n"
	    "  --store-cert FILE          client certificate (PEM)\n"
	    "  --store-key FILE           client key (PEM)\n"
	    "  --store-user USER[:PASS]   etcd user (password here or in --store-password-file)\n"
	    "  --store-password-file FILE\n"
	    "  --store-prefix PREFIX      key prefix (default /pseudopod/v1/)\n"
	    "  --config FILE              read the [store] section of FILE (default\n"
	    "                             " CONFIG_DEFAULT_PATH " when it exists)\n"
	    "  -o, --output table|json    output format (default table)\n");
}

int ctl_option(struct ctl *ctl, int opt, const char *arg)
{
	switch (opt) {
	case CTL_OPT_STORE:
		ctl->endpoints = arg;
		return 1;
	case CTL_OPT_STORE_CA:
		ctl->ca = arg;
		return 1;
	case CTL_OPT_STORE_CERT:
		ctl->cert = arg;
		return 1;
	case CTL_OPT_STORE_KEY:
		ctl->key = arg;
		return 1;
	case CTL_OPT_STORE_USER:
		ctl->user = arg;
		return 1;
	case CTL_OPT_STORE_PASSWORD_FILE:
		ctl->password_file = arg;
		return 1;
	case CTL_OPT_STORE_PREFIX:
		ctl->prefix = arg;
		return 1;
	case CTL_OPT_CONFIG:
		ctl->config_path = arg;
		return 1;
	case 'o':
		if (!strcmp(arg, "json")) {
			ctl->json = true;
		} else if (!strcmp(arg, "table")) {
			ctl->json = false;
		} else {
			ctl_usage_error(ctl, "-o %s: expected table or json", arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

static void copy_field(char *dst, size_t size, const char *src)
{
	if (src)
		snprintf(dst, size, "%s", src);
}

static int read_password(struct ctl *ctl, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f)
		return ctl_fail(ctl, "%s: %s", path, strerror(errno));
	if (!fgets(ctl->password, sizeof(ctl->password), f))
		ctl->password[0] = '\0';
	fclose(f);
	len = strlen(ctl->password);
	while (len && (ctl->password[len - 1] == '\n' || ctl->password[len - 1] == '\r'))
		ctl->password[--len] = '\0';
	return 0;
}

int ctl_connect(struct ctl *ctl)
{
	struct config_store *st = &ctl->cfg.store;
	char err[CONFIG_ERR_MAX], user[CONFIG_STR_MAX];
	const char *path = ctl->config_path;
	struct kv_options o = {0};
	char *colon;
	int rc;

	config_defaults(&ctl->cfg);
	if (!path && access(CONFIG_DEFAULT_PATH, R_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (path && !config_load(&ctl->cfg, path, err, sizeof(err)))
		return ctl_fail(ctl, "%s", err);
	copy_field(st->endpoints, sizeof(st->endpoints), ctl->endpoints);
	copy_field(st->ca_file, sizeof(st->ca_file), ctl->ca);
	copy_field(st->cert_file, sizeof(st->cert_file), ctl->cert);
	copy_field(st->key_file, sizeof(st->key_file), ctl->key);
	copy_field(st->password_file, sizeof(st->password_file), ctl->password_file);
	copy_field(st->prefix, sizeof(st->prefix), ctl->prefix);
	if (!st->endpoints[0])
		snprintf(st->endpoints, sizeof(st->endpoints), "http://127.0.0.1:2379");
	snprintf(user, sizeof(user), "%s", ctl->user ? ctl->user : st->user);
	/* --store-user USER:PASS, as etcdctl's --user */
	colon = strchr(user, ':');
	if (colon) {
		*colon = '\0';
		snprintf(ctl->password, sizeof(ctl->password), "%s", colon + 1);
	} else if (st->password_file[0] && (rc = read_password(ctl, st->password_file)) != 0) {
		return rc;
	}
	snprintf(st->user, sizeof(st->user), "%s", user);
	o.endpoints = st->endpoints;
	o.ca_file = st->ca_file;
	o.cert_file = st->cert_file;
	o.key_file = st->key_file;
	o.user = st->user;
	o.password = ctl->password;
	o.timeout_ms = st->timeout_ms;
	rc = kv_open(&ctl->kv, &o);
	if (rc < 0)
		return ctl_fail(ctl, "store '%s': %s", st->endpoints, strerror(-rc));
	rc = store_init(&ctl->store, ctl->kv, st->prefix);
	if (rc < 0) {
		ctl_close(ctl);
		return ctl_fail(ctl, "store prefix '%s': %s", st->prefix, strerror(-rc));
	}
	return 0;
}

void ctl_close(struct ctl *ctl)
{
	kv_close(ctl->kv);
	ctl->kv = NULL;
	memset(ctl->password, 0, sizeof(ctl->password));
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

bool ctl_parse_port(const char *arg, uint16_t *out)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
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

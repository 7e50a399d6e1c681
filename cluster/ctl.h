/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl: what every pseudopodctl command that talks to the store shares — the store options
 * (store/store_options.h: flags, or the [store] section of the config file, and the
 * password), the connection, and output as a human table or JSON (-o json).
 */
#ifndef PSEUDOPOD_CLUSTER_CTL_H
#define PSEUDOPOD_CLUSTER_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/config.h"
#include "store/store.h"
#include "store/store_options.h"

struct kv_client;

struct ctl {
	const char *prog;	   /* "pseudopodctl endpoint add", for messages */
	struct store_options opts; /* --store*, --config (store/store_options.h) */
	bool json;		   /* -o json */
	struct kv_client *kv;
	struct store store;
};

/* Long options every store command accepts; end a command's table with CTL_STORE_OPTIONS. */
/* clang-format off */
#define CTL_STORE_OPTIONS                                                                   \
	STORE_OPTIONS_LONG,                                                                 \
	{ "output", required_argument, NULL, 'o' },                                         \
	{ "help", no_argument, NULL, 'h' },                                                 \
	{ NULL, 0, NULL, 0 }
/* clang-format on */
/* getopt short options that go with it */
#define CTL_SHORT "o:h"

void ctl_init(struct ctl *ctl, const char *prog);
/* Handles a shared option: 1 handled, 0 not a shared option, -1 bad value (message
 * printed). */
int ctl_option(struct ctl *ctl, int opt, const char *arg);
/* Prints "prog: message" for a usage error and returns CLI_EXIT_USAGE. */
int ctl_usage_error(const struct ctl *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "prog: message" and returns CLI_EXIT_FAIL. */
int ctl_fail(const struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Help text for the shared options. */
void ctl_print_store_help(FILE *out);
/* Loads the config file, applies flags, connects. Returns a CLI exit code (0 = connected). */
int ctl_connect(struct ctl *ctl);
void ctl_close(struct ctl *ctl);

/*
 * A command's own option (one that is neither a shared store option nor -h): -1 when taken,
 * else the exit code to return (a usage error already printed).
 */
typedef int (*ctl_option_fn)(struct ctl *ctl, int opt, const char *arg, void *data);
/*
 * The getopt_long loop every store command runs: shared options go to ctl_option(), -h prints
 * help(stdout) and ends with CLI_EXIT_OK, the rest go to own (NULL: the command has no options
 * of its own, so they are unknown). Returns -1 to go on (positional arguments stay at optind),
 * else an exit code.
 */
int ctl_parse(struct ctl *ctl, int argc, char **argv, const char *shortopts,
	      const struct option *opts, void (*help)(FILE *out), ctl_option_fn own, void *data);
/* For commands that take no positional argument: a usage error when one is left at optind,
 * else ctl_connect(). Returns a CLI exit code (0 = connected). */
int ctl_connect_no_args(struct ctl *ctl, int argc, char **argv);
/* Prints "prog: <the store's last error>" and returns CLI_EXIT_FAIL. */
int ctl_store_fail(const struct ctl *ctl);
/*
 * "COMMAND delete NAME" for records keyed by one DNS name (what names the kind, e.g.
 * "gateway"): checks the one argument, connects, calls del, says "WHAT NAME deleted" (not with
 * -o json) and closes. Call it after parsing the options. Returns a CLI exit code.
 */
int ctl_delete_by_name(struct ctl *ctl, int argc, char **argv, const char *what,
		       int (*del)(struct store *s, const char *name));

/* Output tables: rows of strings, printed with aligned columns. */
struct ctl_table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, row 0 is the header */
};
void ctl_table_init(struct ctl_table *t, size_t ncols, ...); /* header names */
void ctl_table_row(struct ctl_table *t, ...);		     /* ncols strings (copied) */
void ctl_table_print(struct ctl_table *t, FILE *out);	     /* and frees; out NULL = only free */
/* Prints a JSON value (indented) to stdout and drops the reference. */
void ctl_print_json(json_t *v);
/* Prints what -o asked for — the JSON value or the table — and frees both. */
void ctl_print_result(const struct ctl *ctl, json_t *v, struct ctl_table *t);

#endif

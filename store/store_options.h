/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store_options: how a program finds and authenticates to the cluster store — the one
 * implementation of the --store* flags, the [store] section of the config file and the
 * password, shared by pseudopodctl, pp-policy-sync and (next) pseudopodd and enrollment.
 *
 * Precedence: built-in defaults < config file (--config FILE, else
 * /etc/pseudopod/pseudopod.conf when it exists) < flags. Without any endpoint the store is
 * http://127.0.0.1:2379 (a local single-member etcd, the quickstart default).
 *
 * Secrets never sit on a command line (it is world-readable in ps and /proc for the life
 * of the process): the password comes from --store-password-file FILE, else the
 * environment variable PSEUDOPOD_STORE_PASSWORD, else the config's password-file.
 * "--store-user USER:PASS" is refused with a message saying so (the secret is not echoed).
 * Password and client-key files must pass lib/file.h's secret-file rule; CA and
 * certificate files must be regular files. Only store_options_resolve() reads them.
 *
 * store_options_flag() returns 1 (taken), 0 (not a store flag) or -1 (bad value, why set);
 * store_options_resolve() and store_options_connect() return 0 or -errno with why set
 * ("FILE:LINE: ..." for config errors, "PATH: ..." for files). store_options_clear()
 * wipes the password; call it on every exit path (it accepts a never-resolved struct).
 */
#ifndef PSEUDOPOD_STORE_OPTIONS_H
#define PSEUDOPOD_STORE_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/config.h"

struct kv_client;
struct store;

#define STORE_PASSWORD_ENV "PSEUDOPOD_STORE_PASSWORD"
#define STORE_PASSWORD_MAX 256

struct store_options {
	/* flags as given (NULL = not given) */
	const char *config_path, *endpoints, *ca, *cert, *key, *user, *password_file, *prefix;
	/* after store_options_resolve(): the effective settings */
	struct config cfg;
	char password[STORE_PASSWORD_MAX];
};

/* getopt_long values of the store flags; programs' own values must stay below. */
enum {
	STORE_OPT_ENDPOINTS = 0x1000,
	STORE_OPT_CA,
	STORE_OPT_CERT,
	STORE_OPT_KEY,
	STORE_OPT_USER,
	STORE_OPT_PASSWORD_FILE,
	STORE_OPT_PREFIX,
	STORE_OPT_CONFIG,
};
/* The store flags for a struct option table (no terminator). */
/* clang-format off */
#define STORE_OPTIONS_LONG                                                                  \
	{ "store", required_argument, NULL, STORE_OPT_ENDPOINTS },                          \
	{ "store-ca", required_argument, NULL, STORE_OPT_CA },                              \
	{ "store-cert", required_argument, NULL, STORE_OPT_CERT },                          \
	{ "store-key", required_argument, NULL, STORE_OPT_KEY },                            \
	{ "store-user", required_argument, NULL, STORE_OPT_USER },                          \
	{ "store-password-file", required_argument, NULL, STORE_OPT_PASSWORD_FILE },        \
	{ "store-prefix", required_argument, NULL, STORE_OPT_PREFIX },                      \
	{ "config", required_argument, NULL, STORE_OPT_CONFIG }
/* clang-format on */

void store_options_init(struct store_options *o);
int store_options_flag(struct store_options *o, int opt, const char *arg, char *why,
		       size_t why_len);
/* Help lines for the flags, two-space indented, 80 columns. */
void store_options_help(FILE *out);
/* Config file, then flags, then the password; checks every named file. */
int store_options_resolve(struct store_options *o, char *why, size_t why_len);
/* resolve() + kv_open() + store_init(). On failure *kv is NULL. */
int store_options_connect(struct store_options *o, struct kv_client **kv, struct store *s,
			  char *why, size_t why_len);
void store_options_clear(struct store_options *o);

/*
 * The rule above for programs with their own flag names (pseudopod leave --operator):
 * store_user_check() refuses "USER:PASS" given as FLAG (0 or -EINVAL, why names FILE_FLAG);
 * store_password_read() reads FILE when given, else $PSEUDOPOD_STORE_PASSWORD, else
 * FALLBACK_FILE (NULL or "" = none, out = ""); the first line of a file that passes the
 * secret-file rule. 0 or -errno with why set.
 */
int store_user_check(const char *flag, const char *user, const char *file_flag, char *why,
		     size_t why_len);
int store_password_read(const char *file, const char *fallback_file, char out[STORE_PASSWORD_MAX],
			char *why, size_t why_len);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/* Store connection options: flags, config file, password. See store/store_options.h. */
#include "store/store_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/kv/kv.h"
#include "lib/why.h"
#include "store/store.h"

void store_options_init(struct store_options *o)
{
	memset(o, 0, sizeof(*o));
	config_defaults(&o->cfg);
}

int store_options_flag(struct store_options *o, int opt, const char *arg, char *why, size_t why_len)
{
	switch (opt) {
	case STORE_OPT_ENDPOINTS:
		o->endpoints = arg;
		return 1;
	case STORE_OPT_CA:
		o->ca = arg;
		return 1;
	case STORE_OPT_CERT:
		o->cert = arg;
		return 1;
	case STORE_OPT_KEY:
		o->key = arg;
		return 1;
	case STORE_OPT_USER:
		if (store_user_check("--store-user", arg, "--store-password-file", why, why_len))
			return -1;
		o->user = arg;
		return 1;
	case STORE_OPT_PASSWORD_FILE:
		o->password_file = arg;
		return 1;
	case STORE_OPT_PREFIX:
		o->prefix = arg;
		return 1;
	case STORE_OPT_CONFIG:
		o->config_path = arg;
		return 1;
	default:
		return 0;
	}
}

void store_options_help(FILE *out)
{
	fprintf(out,
		"Store options:\n"
		"  --store URL[,URL...]       etcd endpoints (default from the config file, else\n"
		"                             http://127.0.0.1:2379)\n"
		"  --store-ca FILE            CA that signed the etcd server certificates\n"
		"  --store-cert FILE          client certificate (PEM)\n"
		"  --store-key FILE           client key (PEM; owner-only, mode 0600)\n"
		"  --store-user USER          etcd user; the password comes from\n"
		"  --store-password-file FILE (owner-only, mode 0600), else the environment\n"
		"                             variable " STORE_PASSWORD_ENV "\n"
		"  --store-prefix PREFIX      key prefix (default " STORE_DEFAULT_PREFIX ")\n"
		"  --config FILE              read the [store] section of FILE (default\n"
		"                             " CONFIG_DEFAULT_PATH " when it exists)\n");
}

static int copy_flag(char *dst, size_t size, const char *src, const char *flag, char *why,
		     size_t why_len)
{
	if (!src)
		return 0;
	if (strlen(src) >= size)
		return why_rc(-ENAMETOOLONG, why, why_len,
			      "%s: value is %zu characters long, "
			      "expected at most %zu",
			      flag, strlen(src), size - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* A file curl will read later: fail now, with its name, if it cannot be read. */
static int check_file(const char *path, bool secret, char *why, size_t why_len)
{
	struct stat st;
	int fd, rc;

	if (!path[0])
		return 0;
	rc = file_open_regular(path, 0, &fd, &st, why, why_len);
	if (rc)
		return rc;
	if (secret)
		rc = file_secret_ok(path, &st, why, why_len);
	close(fd);
	return rc;
}

int store_user_check(const char *flag, const char *user, const char *file_flag, char *why,
		     size_t why_len)
{
	/* etcdctl's USER:PASS form would leave the password in ps for the whole run;
	 * the message names only the user part. */
	if (!strchr(user, ':'))
		return 0;
	return why_rc(-EINVAL, why, why_len,
		      "%s '%.*s:...': a password on the command line is visible to every local "
		      "user; use %s USER with %s FILE or " STORE_PASSWORD_ENV,
		      flag, (int)strcspn(user, ":"), user, flag, file_flag);
}

int store_password_read(const char *file, const char *fallback_file, char out[STORE_PASSWORD_MAX],
			char *why, size_t why_len)
{
	const char *env = getenv(STORE_PASSWORD_ENV);
	const char *path = file ? file : fallback_file;
	size_t len = 0;
	int rc;

	out[0] = '\0';
	/* An explicit flag beats the environment, which beats the config file. */
	if (!file && env && env[0]) {
		if (strlen(env) >= STORE_PASSWORD_MAX)
			return why_rc(-E2BIG, why, why_len,
				      STORE_PASSWORD_ENV ": %zu bytes long, expected at most %d",
				      strlen(env), STORE_PASSWORD_MAX - 1);
		memcpy(out, env, strlen(env) + 1);
		return 0;
	}
	if (!path || !path[0])
		return 0;
	rc = file_read_all(path, true, out, STORE_PASSWORD_MAX, &len, why, why_len);
	if (rc)
		return rc;
	/* The first line is the password, as etcdctl and the old readers took it. */
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

int store_options_resolve(struct store_options *o, char *why, size_t why_len)
{
	struct config_store *st = &o->cfg.store;
	const char *path = o->config_path;
	int rc;

	config_defaults(&o->cfg);
	memset(o->password, 0, sizeof(o->password));
	if (!path && access(CONFIG_DEFAULT_PATH, R_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (path && !config_load(&o->cfg, path, why, why_len))
		return -EINVAL;
	if ((rc = copy_flag(st->endpoints, sizeof(st->endpoints), o->endpoints, "--store", why,
			    why_len)) ||
	    (rc = copy_flag(st->ca_file, sizeof(st->ca_file), o->ca, "--store-ca", why, why_len)) ||
	    (rc = copy_flag(st->cert_file, sizeof(st->cert_file), o->cert, "--store-cert", why,
			    why_len)) ||
	    (rc = copy_flag(st->key_file, sizeof(st->key_file), o->key, "--store-key", why,
			    why_len)) ||
	    (rc = copy_flag(st->user, sizeof(st->user), o->user, "--store-user", why, why_len)) ||
	    (rc = copy_flag(st->password_file, sizeof(st->password_file), o->password_file,
			    "--store-password-file", why, why_len)) ||
	    (rc = copy_flag(st->prefix, sizeof(st->prefix), o->prefix, "--store-prefix", why,
			    why_len)))
		return rc;
	if (!st->endpoints[0])
		snprintf(st->endpoints, sizeof(st->endpoints), "http://127.0.0.1:2379");
	if ((st->cert_file[0] != '\0') != (st->key_file[0] != '\0'))
		return why_rc(-EINVAL, why, why_len,
			      "a client certificate and its key go together (--store-cert FILE "
			      "--store-key FILE)");
	if ((rc = check_file(st->ca_file, false, why, why_len)) ||
	    (rc = check_file(st->cert_file, false, why, why_len)) ||
	    (rc = check_file(st->key_file, true, why, why_len)) ||
	    (rc = store_password_read(o->password_file, st->password_file, o->password, why,
				      why_len)))
		return rc;
	if (o->password[0] && !st->user[0]) {
		memset(o->password, 0, sizeof(o->password));
		return why_rc(-EINVAL, why, why_len,
			      "a store password needs a user (--store-user USER or [store] user)");
	}
	return 0;
}

int store_options_connect(struct store_options *o, struct kv_client **kv, struct store *s,
			  char *why, size_t why_len)
{
	const struct config_store *st = &o->cfg.store;
	struct kv_options ko = {0};
	int rc;

	*kv = NULL;
	rc = store_options_resolve(o, why, why_len);
	if (rc)
		return rc;
	ko.endpoints = st->endpoints;
	ko.ca_file = st->ca_file;
	ko.cert_file = st->cert_file;
	ko.key_file = st->key_file;
	ko.user = st->user;
	ko.password = o->password;
	ko.timeout_ms = st->timeout_ms;
	rc = kv_open(kv, &ko);
	if (rc < 0)
		return why_rc(rc, why, why_len, "store '%s': %s", st->endpoints, strerror(-rc));
	rc = store_init(s, *kv, st->prefix);
	if (rc < 0) {
		kv_close(*kv);
		*kv = NULL;
		return why_rc(rc, why, why_len, "store prefix '%s': %s", st->prefix, strerror(-rc));
	}
	return 0;
}

void store_options_clear(struct store_options *o)
{
	explicit_bzero(o->password, sizeof(o->password));
}

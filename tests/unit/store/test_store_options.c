// SPDX-License-Identifier: GPL-2.0-only
/*
 * store_options: flags over the config file, where the password may come from, and the
 * secret rules (issue 10 item 7). No store is contacted: store_options_resolve() is the
 * part that reads files.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store_options.h"
#include "tests/unit/support/test_tmpdir.h"

static char why[1024];

static int setup(void **state)
{
	(void)state;
	unsetenv(STORE_PASSWORD_ENV);
	return test_tmpdir_setup("sopts");
}

static int teardown(void **state)
{
	(void)state;
	return test_tmpdir_teardown();
}

static int flag(struct store_options *o, int opt, const char *arg)
{
	return store_options_flag(o, opt, arg, why, sizeof(why));
}

/* etcdctl's USER:PASS would sit in ps for the whole run: refused, the secret not echoed. */
static void test_user_pass_refused(void **state)
{
	struct store_options o;

	(void)state;
	store_options_init(&o);
	assert_int_equal(flag(&o, STORE_OPT_USER, "root:hunter2"), -1);
	assert_null(strstr(why, "hunter2"));
	assert_string_equal(why, "--store-user 'root:...': a password on the command line is "
				 "visible to every local user; use --store-user USER with "
				 "--store-password-file FILE or PSEUDOPOD_STORE_PASSWORD");
	assert_int_equal(flag(&o, STORE_OPT_USER, "root"), 1);
	assert_int_equal(flag(&o, 'x', "y"), 0);
}

static void test_password_sources(void **state)
{
	struct store_options o;

	(void)state;
	store_options_init(&o);
	flag(&o, STORE_OPT_USER, "root");
	flag(&o, STORE_OPT_PASSWORD_FILE, test_tmpdir_file("pw", "from-file\nsecond line\n", 0600));
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), 0);
	assert_string_equal(o.password, "from-file");
	assert_string_equal(o.cfg.store.user, "root");
	assert_string_equal(o.cfg.store.endpoints, "http://127.0.0.1:2379");

	/* the environment when no flag names a file; the flag wins over it */
	setenv(STORE_PASSWORD_ENV, "from-env", 1);
	store_options_init(&o);
	flag(&o, STORE_OPT_USER, "root");
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), 0);
	assert_string_equal(o.password, "from-env");
	flag(&o, STORE_OPT_PASSWORD_FILE, test_tmpdir_file("pw", "from-file\n", 0600));
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), 0);
	assert_string_equal(o.password, "from-file");
	unsetenv(STORE_PASSWORD_ENV);
	store_options_clear(&o);
	assert_string_equal(o.password, "");

	/* a password without a user is a mistake, not silently dropped */
	store_options_init(&o);
	flag(&o, STORE_OPT_PASSWORD_FILE, test_tmpdir_file("pw", "x\n", 0600));
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), -EINVAL);
	assert_string_equal(why,
			    "a store password needs a user (--store-user USER or [store] user)");
}

/* Flags override the config file's [store] section; the config's password-file is used. */
static void test_config_then_flags(void **state)
{
	struct store_options o;
	char conf[512];

	(void)state;
	snprintf(conf, sizeof(conf),
		 "[store]\nendpoints = https://10.0.0.1:2379\nuser = gw\npassword-file = %s\n"
		 "prefix = /other/\n",
		 test_tmpdir_file("cpw", "config-pw\n", 0400));
	store_options_init(&o);
	flag(&o, STORE_OPT_CONFIG, test_tmpdir_file("pp.conf", conf, 0644));
	flag(&o, STORE_OPT_PREFIX, "/flag/");
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), 0);
	assert_string_equal(o.cfg.store.endpoints, "https://10.0.0.1:2379");
	assert_string_equal(o.cfg.store.user, "gw");
	assert_string_equal(o.password, "config-pw");
	assert_string_equal(o.cfg.store.prefix, "/flag/");
	store_options_clear(&o);
}

static void test_secret_files(void **state)
{
	struct store_options o;
	char want[600], fifo[128];
	const char *p;

	(void)state;
	store_options_init(&o);
	flag(&o, STORE_OPT_USER, "root");
	p = test_tmpdir_file("loose", "pw\n", 0644);
	flag(&o, STORE_OPT_PASSWORD_FILE, p);
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), -EPERM);
	snprintf(want, sizeof(want),
		 "%s: mode 0644 lets group/others read or change a secret; it must be 0600 or "
		 "stricter (chmod 600 %s)",
		 p, p);
	assert_string_equal(why, want);
	assert_string_equal(o.password, "");

	/* a FIFO fails at once (the old fopen() blocked until a writer came) */
	snprintf(fifo, sizeof(fifo), "%s/fifo", test_tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	flag(&o, STORE_OPT_PASSWORD_FILE, fifo);
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), -EINVAL);
	snprintf(want, sizeof(want), "%s: is a FIFO, expected a regular file", fifo);
	assert_string_equal(why, want);

	/* the client key is a secret too; the certificate and CA need only be files */
	store_options_init(&o);
	flag(&o, STORE_OPT_CA, test_tmpdir_file("ca.pem", "x", 0644));
	flag(&o, STORE_OPT_CERT, test_tmpdir_file("c.pem", "x", 0644));
	p = test_tmpdir_file("k.pem", "x", 0640);
	flag(&o, STORE_OPT_KEY, p);
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), -EPERM);
	chmod(p, 0600);
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), 0);
	flag(&o, STORE_OPT_CA, test_tmpdir);
	assert_int_equal(store_options_resolve(&o, why, sizeof(why)), -EINVAL);
	snprintf(want, sizeof(want), "%s: is a directory, expected a regular file", test_tmpdir);
	assert_string_equal(why, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_pass_refused),
	    cmocka_unit_test(test_password_sources),
	    cmocka_unit_test(test_config_then_flags),
	    cmocka_unit_test(test_secret_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

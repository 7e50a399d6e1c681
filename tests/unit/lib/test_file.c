// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/file: a FIFO, a directory or a device fails at once (the old fopen() readers hung on
 * a FIFO and read /dev/zero forever); secret files are refused unless owner-only and owned
 * by root or the caller. Each check is run against a file made for it in a private dir.
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

#include "lib/file.h"
#include "tests/unit/support/test_tmpdir.h"

static char path[128];

static int setup(void **state)
{
	(void)state;
	return test_tmpdir_setup("file");
}

static int teardown(void **state)
{
	(void)state;
	return test_tmpdir_teardown();
}

/* The path of a file made for one check (kept in path, where the checks read it). */
static const char *make(const char *name, const char *text, mode_t mode)
{
	snprintf(path, sizeof(path), "%s", test_tmpdir_file(name, text, mode));
	return path;
}

static void test_not_regular(void **state)
{
	char buf[64], why[256], want[256];
	size_t len;

	(void)state;
	/* A FIFO with no writer: open() without O_NONBLOCK would block here forever. */
	snprintf(path, sizeof(path), "%s/fifo", test_tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(file_read_all(path, false, buf, sizeof(buf), &len, why, sizeof(why)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s: is a FIFO, expected a regular file", path);
	assert_string_equal(why, want);
	assert_int_equal(
	    file_read_all(test_tmpdir, false, buf, sizeof(buf), &len, why, sizeof(why)), -EINVAL);
	snprintf(want, sizeof(want), "%s: is a directory, expected a regular file", test_tmpdir);
	assert_string_equal(why, want);
	assert_int_equal(
	    file_read_all("/dev/zero", false, buf, sizeof(buf), &len, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "/dev/zero: is a device, expected a regular file");
	assert_int_equal(
	    file_read_all("/nonexistent/x", false, buf, sizeof(buf), &len, why, sizeof(why)),
	    -ENOENT);
	assert_string_equal(why, "/nonexistent/x: No such file or directory");
}

static void test_read_all(void **state)
{
	char buf[8], why[256];
	size_t len;

	(void)state;
	make("small", "secret\n", 0644);
	assert_int_equal(file_read_all(path, false, buf, sizeof(buf), &len, why, sizeof(why)), 0);
	assert_int_equal(len, 7);
	assert_string_equal(buf, "secret\n");
	make("big", "secret!!\n", 0644); /* 9 bytes do not fit 8 with the NUL */
	assert_int_equal(file_read_all(path, false, buf, sizeof(buf), &len, why, sizeof(why)),
			 -EFBIG);
}

static void test_secret_modes(void **state)
{
	char buf[64], why[512], want[512];
	size_t len;

	(void)state;
	make("pw600", "pw\n", 0600);
	assert_int_equal(file_read_all(path, true, buf, sizeof(buf), &len, why, sizeof(why)), 0);
	make("pw400", "pw\n", 0400);
	assert_int_equal(file_read_all(path, true, buf, sizeof(buf), &len, why, sizeof(why)), 0);
	make("pw640", "pw\n", 0640);
	assert_int_equal(file_read_all(path, true, buf, sizeof(buf), &len, why, sizeof(why)),
			 -EPERM);
	snprintf(want, sizeof(want),
		 "%s: mode 0640 lets group/others read or change a secret; it must be 0600 or "
		 "stricter (chmod 600 %s)",
		 path, path);
	assert_string_equal(why, want);
	assert_string_equal(buf, ""); /* nothing of a refused secret is left in buf */
	make("pw604", "pw\n", 0604);
	assert_int_equal(file_read_all(path, true, buf, sizeof(buf), &len, why, sizeof(why)),
			 -EPERM);
}

static void test_secret_owner(void **state)
{
	struct stat st = {.st_mode = S_IFREG | 0600};
	char why[256];

	(void)state;
	st.st_uid = geteuid();
	assert_int_equal(file_secret_ok("/x", &st, why, sizeof(why)), 0);
	st.st_uid = 0;
	assert_int_equal(file_secret_ok("/x", &st, why, sizeof(why)), 0);
	st.st_uid = 4242; /* someone else: they could rewrite it */
	if (geteuid() != 4242) {
		char want[200];

		assert_int_equal(file_secret_ok("/x", &st, why, sizeof(why)), -EPERM);
		snprintf(want, sizeof(want),
			 "/x: owned by uid 4242; a file holding a secret must be owned by root or "
			 "by the user running this (uid %u)",
			 (unsigned)geteuid());
		assert_string_equal(why, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_regular),
	    cmocka_unit_test(test_read_all),
	    cmocka_unit_test(test_secret_modes),
	    cmocka_unit_test(test_secret_owner),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

// SPDX-License-Identifier: GPL-2.0-only
/* enroll/files.h: the atomic write, and the bounded read with lib/file.h's rules (regular
 * files only, no hang on a FIFO, owner-only secrets, -EFBIG beyond max). */
#include <errno.h>
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

#include "enroll/files.h"

struct dir {
	char path[64];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/pp-enroll-files-XXXXXX");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static void at(const struct dir *d, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", d->path, name);
}

static void test_roundtrip(void **state)
{
	const struct dir *d = *state;
	char p[128], why[256], *buf = NULL;
	struct stat st;
	size_t len = 0;

	at(d, "a/b", p, sizeof(p));
	assert_int_equal(enroll_mkdirs(p, 0700), 0);
	at(d, "a/b/key", p, sizeof(p));
	assert_int_equal(enroll_write_file(p, "secret\n", 7, 0600), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(enroll_read_file(p, true, 1024, &buf, &len, why, sizeof(why)), 0);
	assert_int_equal(len, 7);
	assert_string_equal(buf, "secret\n");
	free(buf);
}

static void test_limits(void **state)
{
	const struct dir *d = *state;
	char p[128], why[256], *buf = NULL, data[100];
	size_t len = 0;

	memset(data, 'x', sizeof(data));
	at(d, "big", p, sizeof(p));
	assert_int_equal(enroll_write_file(p, data, sizeof(data), 0644), 0);
	/* exactly max bytes fit; one more does not (no silent truncation) */
	assert_int_equal(enroll_read_file(p, false, 100, &buf, &len, why, sizeof(why)), 0);
	assert_int_equal(len, 100);
	free(buf);
	assert_int_equal(enroll_read_file(p, false, 99, &buf, &len, why, sizeof(why)), -EFBIG);
	assert_null(buf);
	assert_non_null(strstr(why, "larger than 99 bytes"));
	/* a small start with growth: max far above the size */
	assert_int_equal(enroll_read_file(p, false, 1 << 20, &buf, &len, NULL, 0), 0);
	assert_int_equal(len, 100);
	free(buf);
	/* empty file */
	at(d, "empty", p, sizeof(p));
	assert_int_equal(enroll_write_file(p, "", 0, 0644), 0);
	assert_int_equal(enroll_read_file(p, false, 10, &buf, &len, why, sizeof(why)), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void test_refusals(void **state)
{
	const struct dir *d = *state;
	char p[128], why[256], *buf = NULL;
	size_t len = 0;

	at(d, "missing", p, sizeof(p));
	assert_int_equal(enroll_read_file(p, false, 10, &buf, &len, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, p));
	/* a FIFO without a writer: refused at once, not a hang */
	at(d, "fifo", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(enroll_read_file(p, false, 10, &buf, &len, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "regular file"));
	/* a directory */
	assert_int_equal(enroll_read_file(d->path, false, 10, &buf, &len, why, sizeof(why)),
			 -EINVAL);
	/* a secret others can read: refused, an ordinary file with that mode is fine */
	at(d, "open.key", p, sizeof(p));
	assert_int_equal(enroll_write_file(p, "k", 1, 0644), 0);
	assert_int_equal(enroll_read_file(p, true, 10, &buf, &len, why, sizeof(why)), -EPERM);
	assert_null(buf);
	assert_non_null(strstr(why, "0600"));
	assert_int_equal(enroll_read_file(p, false, 10, &buf, &len, why, sizeof(why)), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

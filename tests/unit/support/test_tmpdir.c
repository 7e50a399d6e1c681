// SPDX-License-Identifier: GPL-2.0-only
/* A private directory for a test group's files. See tests/unit/support/test_tmpdir.h. */
#include "tests/unit/support/test_tmpdir.h"

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

char test_tmpdir[64];

int test_tmpdir_setup(const char *name)
{
	snprintf(test_tmpdir, sizeof(test_tmpdir), "/tmp/pp-test-%s.XXXXXX", name);
	return mkdtemp(test_tmpdir) ? 0 : -1;
}

int test_tmpdir_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

const char *test_tmpdir_file(const char *name, const char *text, mode_t mode)
{
	static char path[4][128];
	static int next;
	char *p = path[next++ % 4];
	int fd;

	snprintf(p, sizeof(path[0]), "%s/%s", test_tmpdir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return p;
}

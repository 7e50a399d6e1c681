/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_tmpdir: the private directory a cmocka test group writes its files into (the unit
 * tests of file readers: lib/file, store options). test_tmpdir_setup() and
 * test_tmpdir_teardown() are the group's setup and teardown; the directory and all in it
 * is removed at the end. Compiled into each test that uses it (SOURCES in CMakeLists.txt).
 */
#ifndef PSEUDOPOD_TESTS_TEST_TMPDIR_H
#define PSEUDOPOD_TESTS_TEST_TMPDIR_H

#include <sys/types.h>

/* The directory ("/tmp/pp-test-NAME.XXXXXX" made unique), valid after setup. */
extern char test_tmpdir[64];

/* mkdtemp() of the directory for NAME; 0, or -1 (cmocka then fails the group). */
int test_tmpdir_setup(const char *name);
/* rm -rf of the directory; 0 or -1. */
int test_tmpdir_teardown(void);
/* Writes text into test_tmpdir/name with mode (each step asserted, so a failure fails the
 * test there); returns the path, which stays valid for the next three calls. */
const char *test_tmpdir_file(const char *name, const char *text, mode_t mode);

#endif

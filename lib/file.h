/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * file: opening files named by users (config, password, key, CA files) so that a wrong
 * path fails at once with a clear message instead of hanging or reading garbage.
 *
 * - file_open_regular() opens with O_NONBLOCK (a FIFO with no writer would block open()
 *   forever), then refuses anything fstat() says is not a regular file: a directory, a
 *   FIFO, a socket, a device such as /dev/zero (endless) or /dev/tty (blocks on read).
 * - file_secret_ok() is the one rule for files holding secrets (store passwords, private
 *   keys): owned by root or by the invoking user (euid), and no group/other permission
 *   bits. Anyone else who can read or replace the file already holds the secret, so this
 *   refuses rather than warns.
 * - file_read_all() reads a whole small file (at most max - 1 bytes, NUL-terminated);
 *   a bigger file is an error, not a silent truncation.
 *
 * All return 0 or -errno and write "PATH: what is wrong" into why (why may be NULL).
 */
#ifndef PSEUDOPOD_LIB_FILE_H
#define PSEUDOPOD_LIB_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Read-only, O_CLOEXEC, plus extra_flags (e.g. O_NOFOLLOW); *fd blocking again on success.
 * -EINVAL: not a regular file. */
int file_open_regular(const char *path, int extra_flags, int *fd, struct stat *st, char *why,
		      size_t why_len);
/* -EPERM when st (of path) breaks the secret-file rule above. */
int file_secret_ok(const char *path, const struct stat *st, char *why, size_t why_len);
/* Opens path as a regular file (and, when secret, checks the rule) and reads it whole
 * into buf. -EFBIG when it does not fit. *len excludes the NUL. */
int file_read_all(const char *path, bool secret, char *buf, size_t max, size_t *len, char *why,
		  size_t why_len);

#endif

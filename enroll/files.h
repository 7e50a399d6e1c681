/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * files: the small file primitives enrollment needs on both sides (PKI files, the machine's
 * state and config). Writes are atomic and durable: a temp file in the same directory,
 * written, fsync'd, chmod'ed, renamed over the target, then the directory fsync'd — a crash
 * leaves the old file or the new one, never a torn one. Return 0 or -errno.
 */
#ifndef PSEUDOPOD_ENROLL_FILES_H
#define PSEUDOPOD_ENROLL_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int enroll_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* The same without the directory fsync, for several files in one directory: the caller
 * calls enroll_fsync_dir() once after the last of them. */
int enroll_write_file_nodirsync(const char *path, const void *data, size_t len, mode_t mode);
/* fsync of the directory holding path (makes renames into it durable). */
int enroll_fsync_dir(const char *path);
/*
 * Reads a whole file (at most max bytes, -EFBIG beyond) into a malloc'd NUL-terminated buf,
 * by lib/file.h's rules: a regular file only (a FIFO or device fails at once instead of
 * hanging), and when secret (private keys) owner-only. On failure writes "PATH: what is
 * wrong" into why (may be NULL).
 */
int enroll_read_file(const char *path, bool secret, size_t max, char **buf, size_t *len, char *why,
		     size_t why_len);
/* mkdir -p with mode for the directories it creates. */
int enroll_mkdirs(const char *path, mode_t mode);

#endif

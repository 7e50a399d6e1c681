// SPDX-License-Identifier: GPL-2.0-only
/* Atomic, durable file writes and bounded reads (enroll/files.h). */
#include "enroll/files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/why.h"

int enroll_fsync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int enroll_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int rc = enroll_write_file_nodirsync(path, data, len, mode);

	return rc < 0 ? rc : enroll_fsync_dir(path);
}

int enroll_write_file_nodirsync(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	/* fchmod: the umask must not widen or narrow what the caller asked for. */
	if (fchmod(fd, mode) < 0)
		rc = -errno;
	while (rc == 0 && len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int enroll_read_file(const char *path, bool secret, size_t max, char **buf, size_t *len, char *why,
		     size_t why_len)
{
	size_t cap, n = 0;
	struct stat st;
	char *b = NULL;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	rc = file_open_regular(path, 0, &fd, &st, why, why_len);
	if (rc < 0)
		return rc;
	if (secret && (rc = file_secret_ok(path, &st, why, why_len)) < 0)
		goto out;
	/* Room for the size fstat() saw plus one byte (a file growing meanwhile still fits
	 * with one realloc), capped at max + 1: filling that means the file is too big. A
	 * secret is thus normally read into one buffer, with no stale copy left by realloc. */
	cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	for (;;) {
		ssize_t got;

		if (!b || n == cap) {
			size_t ncap = !b ? cap : cap > max / 2 ? max + 1 : cap * 2;
			char *nb;

			if (b && cap > max) {
				rc = why_rc(-EFBIG, why, why_len, "%s: larger than %zu bytes", path,
					    max);
				goto out;
			}
			nb = realloc(b, ncap + 1);
			if (!nb) {
				rc = why_rc(-ENOMEM, why, why_len, "%s: out of memory", path);
				goto out;
			}
			b = nb;
			cap = ncap;
		}
		got = read(fd, b + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = why_rc(-errno, why, why_len, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	if (b) {
		sodium_memzero(b, cap + 1);
		free(b);
	}
	close(fd);
	return rc;
}

int enroll_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

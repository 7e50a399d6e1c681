// SPDX-License-Identifier: GPL-2.0-only
/* Atomic, durable file writes and bounded reads (enroll/files.h). */
#include "enroll/files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int enroll_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 4096, n = 0;
	char *b;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	if (!f)
		return -errno;
	b = malloc(cap + 1);
	while (b) {
		size_t got = fread(b + n, 1, cap - n, f);

		n += got;
		if (n < cap) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
		if (cap >= max) {
			rc = -EFBIG;
			break;
		}
		cap *= 2;
		char *nb = realloc(b, cap + 1);
		if (!nb) {
			free(b);
			b = NULL;
		} else {
			b = nb;
		}
	}
	fclose(f);
	if (!b)
		return -ENOMEM;
	if (rc == 0 && n > max)
		rc = -EFBIG;
	if (rc < 0) {
		free(b);
		return rc;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
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

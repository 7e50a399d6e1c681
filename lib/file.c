// SPDX-License-Identifier: GPL-2.0-only
/* Regular-file opening and the secret-file rule. See lib/file.h. */
#include "lib/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/why.h"

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int file_open_regular(const char *path, int extra_flags, int *fd, struct stat *st, char *why,
		      size_t why_len)
{
	int f, flags, rc;

	f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | extra_flags);
	if (f < 0)
		return why_rc(-errno, why, why_len, "%s: %s", path, strerror(errno));
	if (fstat(f, st) < 0) {
		rc = -errno;
		close(f);
		return why_rc(rc, why, why_len, "%s: %s", path, strerror(-rc));
	}
	if (!S_ISREG(st->st_mode)) {
		close(f);
		return why_rc(-EINVAL, why, why_len, "%s: is %s, expected a regular file", path,
			      kind_of(st->st_mode));
	}
	flags = fcntl(f, F_GETFL);
	if (flags < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		rc = -errno;
		close(f);
		return why_rc(rc, why, why_len, "%s: %s", path, strerror(-rc));
	}
	*fd = f;
	return 0;
}

int file_secret_ok(const char *path, const struct stat *st, char *why, size_t why_len)
{
	uid_t me = geteuid();

	if (st->st_uid != 0 && st->st_uid != me)
		return why_rc(-EPERM, why, why_len,
			      "%s: owned by uid %u; a file holding a secret must be owned by root "
			      "or by the user running this (uid %u)",
			      path, (unsigned)st->st_uid, (unsigned)me);
	if (st->st_mode & 077)
		return why_rc(-EPERM, why, why_len,
			      "%s: mode %04o lets group/others read or change a secret; it must be "
			      "0600 or stricter (chmod 600 %s)",
			      path, (unsigned)(st->st_mode & 07777), path);
	return 0;
}

int file_read_all(const char *path, bool secret, char *buf, size_t max, size_t *len, char *why,
		  size_t why_len)
{
	struct stat st;
	size_t used = 0;
	int fd, rc;

	rc = file_open_regular(path, 0, &fd, &st, why, why_len);
	if (rc)
		return rc;
	if (secret && (rc = file_secret_ok(path, &st, why, why_len)) != 0)
		goto out;
	for (;;) {
		ssize_t n;

		if (used + 1 >= max) {
			char extra;

			n = read(fd, &extra, 1);
			if (n == 0)
				break;
			rc = why_rc(n < 0 ? -errno : -EFBIG, why, why_len, "%s: %s", path,
				    n < 0 ? strerror(errno) : "too big for this kind of file");
			goto out;
		}
		n = read(fd, buf + used, max - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = why_rc(-errno, why, why_len, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*len = used;
out:
	if (rc)
		memset(buf, 0, max);
	close(fd);
	return rc;
}

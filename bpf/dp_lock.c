// SPDX-License-Identifier: GPL-2.0-only
/*
 * dp_lock: one writer at a time per bpffs root. The lock is an flock() on the pin
 * directory itself: the kernel drops it when the holder exits or is killed (no stale lock
 * files after a SIGKILL), and every process that writes the maps pinned there — the sync
 * tool, the daemon, pp-datapath — agrees on the same object without a path convention.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "bpf/dp.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dp_lock(const char *bpffs, int timeout_ms, int *fd_out)
{
	const struct timespec step = {.tv_nsec = 5 * 1000 * 1000};
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int fd = open(bpffs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		if (!flock(fd, timeout_ms < 0 ? LOCK_EX : LOCK_EX | LOCK_NB)) {
			*fd_out = fd;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || now_ms() >= deadline) {
			int err = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;

			close(fd);
			return err;
		}
		nanosleep(&step, NULL);
	}
}

void dp_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the only descriptor releases the flock */
}

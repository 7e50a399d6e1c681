// SPDX-License-Identifier: GPL-2.0-only
/*
 * sd_notify(3) without libsystemd: one datagram with the state ("READY=1") to the unix
 * socket named by $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace). The
 * protocol is that datagram and nothing more, so ten lines here spare every install a
 * library dependency (docs/architecture.md).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/daemon_internal.h"

int daemon_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen;
	int fd, rc = 0;

	if (!path || !path[0])
		return 0; /* not started by systemd with Type=notify */
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

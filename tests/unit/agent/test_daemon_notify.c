// SPDX-License-Identifier: GPL-2.0-only
/* daemon_notify: the sd_notify datagram reaches $NOTIFY_SOCKET (path and abstract). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/daemon_internal.h"

static int bound(const char *name, bool abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	size_t n = strlen(name);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, n);
	if (abstract)
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)),
			 0);
	return fd;
}

static void expect(int fd, const char *want)
{
	char buf[128] = {0};

	assert_int_equal(recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT), (ssize_t)strlen(want));
	assert_string_equal(buf, want);
}

static void test_notify(void **state)
{
	(void)state;
	char path[64], abs_name[64];
	int fd;

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(daemon_notify("READY=1"), 0); /* not under systemd: nothing to do */

	snprintf(path, sizeof(path), "/tmp/pp-notify-%d.sock", (int)getpid());
	unlink(path);
	fd = bound(path, false);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(daemon_notify("READY=1"), 0);
	expect(fd, "READY=1");
	close(fd);
	unlink(path);

	snprintf(abs_name, sizeof(abs_name), "@pp-notify-%d", (int)getpid());
	fd = bound(abs_name, true);
	setenv("NOTIFY_SOCKET", abs_name, 1);
	assert_int_equal(daemon_notify("STOPPING=1"), 0);
	expect(fd, "STOPPING=1");
	close(fd);

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(daemon_notify("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "/nonexistent/pp.sock", 1);
	assert_true(daemon_notify("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_notify)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

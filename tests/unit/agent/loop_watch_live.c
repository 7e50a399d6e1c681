// SPDX-License-Identifier: GPL-2.0-only
/*
 * loop_watch_live: a kv watch registered in pseudopodd's poll loop the way the daemon
 * registers it (kv_watch_fd() polled, kv_watch_timeout_ms() as the source's timeout hook),
 * with no timer in the loop at all. Needs etcd: tests/e2e/daemon_loop_watch.sh runs
 *   loop_watch_live (PP_ETCD=URL)
 * Checks: once the stream is up the watch asks for no wake-up (timeout -1) and an idle loop
 * sleeps through a whole wait without calling anything; a put made by another client wakes
 * the loop at once and the event is delivered by that wake-up; a put arriving while the
 * loop sleeps in poll() with no bound wakes it too.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/daemon_loop.h"
#include "lib/kv/kv.h"

struct seen {
	int events, calls;
	char last[256];
};

static void on_event(void *arg, enum kv_event_type t, const struct kv_pair *kv)
{
	struct seen *s = arg;

	(void)t;
	s->events++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)kv->key_len, kv->key);
}

static const struct kv_watch_ops ops = {.event = on_event};

struct fixture {
	struct kv_watch *w;
	struct seen seen;
};

static int on_watch(int fd, short revents, void *ctx)
{
	struct fixture *f = ctx;

	(void)fd;
	(void)revents;
	f->seen.calls++;
	return kv_watch_poll(f->w, 0);
}

static int watch_timeout(void *ctx)
{
	return kv_watch_timeout_ms(((struct fixture *)ctx)->w);
}

static struct kv_client *open_client(void)
{
	struct kv_client *c = NULL;
	const char *url = getenv("PP_ETCD");

	assert_non_null(url);
	assert_int_equal(kv_open(&c, &(struct kv_options){.endpoints = url, .timeout_ms = 3000}),
			 0);
	return c;
}

static void put_from_child(const char *key, unsigned delay_ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct kv_client *c = open_client();

		usleep(delay_ms * 1000u);
		_exit(kv_put(c, key, "v", 1, 0, NULL) == 0 ? 0 : 1);
	}
}

static int reap(void)
{
	int status = 0;

	wait(&status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void test_event_wakes_loop(void **state)
{
	struct kv_client *c = open_client();
	struct daemon_loop *l = NULL;
	struct fixture f = {0};
	char prefix[128], key[160];
	uint64_t t0;

	(void)state;
	snprintf(prefix, sizeof(prefix), "/loop-watch-%d-%ld/", (int)getpid(), (long)time(NULL));
	assert_int_equal(kv_watch_open(c, prefix, NULL, &ops, &f.seen, &f.w), 0);
	assert_true(kv_watch_fd(f.w) >= 0);
	assert_int_equal(daemon_loop_new(&l), 0);
	assert_true(daemon_loop_add(l, &(struct daemon_loop_source){.name = "watch",
								    .fd = kv_watch_fd(f.w),
								    .events = POLLIN,
								    .cb = on_watch,
								    .timeout_ms = watch_timeout,
								    .ctx = &f}) >= 0);

	/* The stream comes up through the loop alone (curl's timers are the hook's). */
	t0 = daemon_loop_now_ms();
	while (kv_watch_timeout_ms(f.w) != -1 && daemon_loop_now_ms() - t0 < 5000)
		assert_int_equal(daemon_loop_once(l, 1000), 0);
	assert_int_equal(kv_watch_timeout_ms(f.w), -1);

	/* Idle: a whole 1.5 s wait passes without any call (nothing polls on a timer). */
	f.seen.calls = 0;
	t0 = daemon_loop_now_ms();
	assert_int_equal(daemon_loop_once(l, 1500), 0);
	assert_true(daemon_loop_now_ms() - t0 >= 1400);
	assert_int_equal(f.seen.calls, 0);
	assert_int_equal(f.seen.events, 0);

	/* A put by another process while the loop sleeps with a 10 s bound: it wakes now. */
	snprintf(key, sizeof(key), "%sa", prefix);
	put_from_child(key, 300);
	t0 = daemon_loop_now_ms();
	while (!f.seen.events && daemon_loop_now_ms() - t0 < 10000)
		assert_int_equal(daemon_loop_once(l, 10000), 0);
	assert_int_equal(reap(), 0);
	assert_int_equal(f.seen.events, 1);
	assert_string_equal(f.seen.last, key);
	assert_true(daemon_loop_now_ms() - t0 < 2000);

	/* The same through daemon_loop_run() (no bound at all): a source stops it on the
	 * event; the ctest timeout catches a loop that never wakes. */
	snprintf(key, sizeof(key), "%sb", prefix);
	put_from_child(key, 300);
	while (f.seen.events < 2) {
		t0 = daemon_loop_now_ms();
		assert_int_equal(daemon_loop_once(l, -1), 0);
	}
	assert_int_equal(reap(), 0);
	assert_string_equal(f.seen.last, key);
	assert_true(daemon_loop_now_ms() - t0 < 2000);

	daemon_loop_free(l);
	kv_watch_close(f.w);
	kv_delete(c, prefix, true, NULL);
	kv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_event_wakes_loop)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

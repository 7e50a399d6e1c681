// SPDX-License-Identifier: GPL-2.0-only
/* daemon_loop: fd sources, timers, removal from inside a callback, stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "agent/daemon_loop.h"

struct ctr {
	int calls;
	int id;
	struct daemon_loop *l;
	bool remove_self;
	bool stop_after;
};

static int on_fd(int fd, short revents, void *ctx)
{
	struct ctr *c = ctx;
	char b[16];

	c->calls++;
	if (revents & POLLIN)
		(void)!read(fd, b, sizeof(b));
	if (c->remove_self)
		daemon_loop_remove(c->l, c->id);
	if (c->stop_after)
		daemon_loop_stop(c->l);
	return 0;
}

static int on_timer(void *ctx)
{
	struct ctr *c = ctx;

	c->calls++;
	if (c->stop_after && c->calls >= 3)
		daemon_loop_stop(c->l);
	return 0;
}

static void test_fd_source(void **state)
{
	(void)state;
	struct daemon_loop *l;
	int p[2];
	struct ctr c = {0};

	assert_int_equal(daemon_loop_new(&l), 0);
	assert_int_equal(pipe(p), 0);
	c.l = l;
	c.id = daemon_loop_add(
	    l, &(struct daemon_loop_source){
		   .name = "pipe", .fd = p[0], .events = POLLIN, .cb = on_fd, .ctx = &c});
	assert_true(c.id >= 0);
	assert_int_equal(daemon_loop_once(l, 0), 0);
	assert_int_equal(c.calls, 0); /* nothing to read, not always_run */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(daemon_loop_once(l, 1000), 0);
	assert_int_equal(c.calls, 1);
	/* fd < 0: registered but not polled */
	assert_int_equal(daemon_loop_set_fd(l, c.id, -1, 0), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(daemon_loop_once(l, 0), 0);
	assert_int_equal(c.calls, 1);
	/* removal from inside its own callback */
	assert_int_equal(daemon_loop_set_fd(l, c.id, p[0], POLLIN), 0);
	c.remove_self = true;
	assert_int_equal(daemon_loop_once(l, 1000), 0);
	assert_int_equal(c.calls, 2);
	assert_int_equal(daemon_loop_remove(l, c.id), -ENOENT);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(daemon_loop_once(l, 0), 0);
	assert_int_equal(c.calls, 2);
	close(p[0]);
	close(p[1]);
	daemon_loop_free(l);
}

static void test_timers_and_stop(void **state)
{
	(void)state;
	struct daemon_loop *l;
	struct ctr periodic = {0}, once = {0};

	assert_int_equal(daemon_loop_new(&l), 0);
	periodic.l = l;
	periodic.stop_after = true;
	assert_true(daemon_loop_timer_add(l, "p", 0, 10, on_timer, &periodic) >= 0);
	int id = daemon_loop_timer_add(l, "o", 5, 0, on_timer, &once);
	assert_true(id >= 0);
	uint64_t t0 = daemon_loop_now_ms();
	assert_int_equal(daemon_loop_run(l), 0);
	uint64_t dt = daemon_loop_now_ms() - t0;
	assert_int_equal(periodic.calls, 3);
	assert_int_equal(once.calls, 1); /* one-shot: fired once in ~20 ms */
	assert_true(dt >= 19 && dt < 1000);
	/* re-arm the one-shot */
	assert_int_equal(daemon_loop_timer_arm(l, id, 0), 0);
	assert_int_equal(daemon_loop_once(l, 0), 0);
	assert_int_equal(once.calls, 2);
	assert_int_equal(daemon_loop_timer_remove(l, id), 0);
	assert_int_equal(daemon_loop_timer_arm(l, id, 0), -ENOENT);
	daemon_loop_free(l);
}

static int always(int fd, short revents, void *ctx)
{
	(void)fd;
	assert_int_equal(revents, 0);
	((struct ctr *)ctx)->calls++;
	return -EIO; /* logged, the loop goes on */
}

static int soon(void *ctx)
{
	(void)ctx;
	return 5;
}

static void test_always_run_and_timeout_hook(void **state)
{
	(void)state;
	struct daemon_loop *l;
	struct ctr c = {0};

	assert_int_equal(daemon_loop_new(&l), 0);
	assert_true(daemon_loop_add(l, &(struct daemon_loop_source){.name = "mhd",
								    .fd = -1,
								    .always_run = true,
								    .cb = always,
								    .timeout_ms = soon,
								    .ctx = &c}) >= 0);
	uint64_t t0 = daemon_loop_now_ms();
	assert_int_equal(daemon_loop_once(l, -1), 0); /* bounded by the hook's 5 ms */
	assert_true(daemon_loop_now_ms() - t0 < 1000);
	assert_int_equal(c.calls, 1);
	daemon_loop_free(l);
}

/* A hook that asks for a call in 20 ms, then for nothing (-1) once called. */
struct hooked {
	int calls;
	bool due;
	int pipe_rd;
};

static int hook_cb(int fd, short revents, void *ctx)
{
	struct hooked *h = ctx;
	char b[16];

	(void)fd;
	if (revents & POLLIN)
		(void)!read(h->pipe_rd, b, sizeof(b));
	h->calls++;
	h->due = false;
	return 0;
}

static int hook_timeout(void *ctx)
{
	return ((struct hooked *)ctx)->due ? 20 : -1;
}

/* A source's timeout hook alone (no timer, no always_run) gets it called once its deadline
 * passes; with no deadline the loop sleeps until the fd fires. */
static void test_timeout_hook_calls_source(void **state)
{
	(void)state;
	struct daemon_loop *l;
	struct hooked h = {.due = true};
	int p[2];

	assert_int_equal(pipe(p), 0);
	h.pipe_rd = p[0];
	assert_int_equal(daemon_loop_new(&l), 0);
	assert_true(daemon_loop_add(l, &(struct daemon_loop_source){.name = "watch",
								    .fd = p[0],
								    .events = POLLIN,
								    .cb = hook_cb,
								    .timeout_ms = hook_timeout,
								    .ctx = &h}) >= 0);
	uint64_t t0 = daemon_loop_now_ms();
	assert_int_equal(daemon_loop_once(l, -1), 0); /* woken by the hook's 20 ms */
	assert_int_equal(h.calls, 1);
	assert_true(daemon_loop_now_ms() - t0 >= 15);
	assert_int_equal(daemon_loop_once(l, 100), 0); /* nothing due: not called */
	assert_int_equal(h.calls, 1);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(daemon_loop_once(l, -1), 0); /* the fd alone wakes it */
	assert_int_equal(h.calls, 2);
	close(p[0]);
	close(p[1]);
	daemon_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fd_source),
	    cmocka_unit_test(test_timers_and_stop),
	    cmocka_unit_test(test_always_run_and_timeout_hook),
	    cmocka_unit_test(test_timeout_hook_calls_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The poll loop: two small arrays (sources, timers) scanned every iteration. The daemon has
 * about ten sources, so a linear scan is cheaper than any structure; slots are reused by id
 * so that removing a source during a callback never moves another one.
 */
#include "agent/daemon_loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

#define LOOP_MAX_SOURCES 64
#define LOOP_MAX_TIMERS	 32

struct loop_source {
	bool used;
	unsigned int gen; /* bumped on every add: tells a reused slot from the one polled */
	uint64_t due_ms;  /* its timeout hook's deadline this iteration; 0 = none */
	struct daemon_loop_source s;
};

struct loop_timer {
	bool used;
	bool armed;
	const char *name;
	uint64_t due_ms;
	int interval_ms;
	daemon_loop_timer_cb cb;
	void *ctx;
};

struct daemon_loop {
	struct loop_source src[LOOP_MAX_SOURCES];
	struct loop_timer tim[LOOP_MAX_TIMERS];
	bool stop;
};

uint64_t daemon_loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int daemon_loop_new(struct daemon_loop **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void daemon_loop_free(struct daemon_loop *l)
{
	free(l);
}

int daemon_loop_add(struct daemon_loop *l, const struct daemon_loop_source *src)
{
	if (!src->cb)
		return -EINVAL;
	for (int i = 0; i < LOOP_MAX_SOURCES; i++) {
		if (l->src[i].used)
			continue;
		l->src[i].used = true;
		l->src[i].gen++;
		l->src[i].s = *src;
		return i;
	}
	return -ENOSPC;
}

static struct loop_source *source_get(struct daemon_loop *l, int id)
{
	if (id < 0 || id >= LOOP_MAX_SOURCES || !l->src[id].used)
		return NULL;
	return &l->src[id];
}

int daemon_loop_set_fd(struct daemon_loop *l, int id, int fd, short events)
{
	struct loop_source *s = source_get(l, id);

	if (!s)
		return -ENOENT;
	s->s.fd = fd;
	s->s.events = events;
	return 0;
}

int daemon_loop_remove(struct daemon_loop *l, int id)
{
	struct loop_source *s = source_get(l, id);

	if (!s)
		return -ENOENT;
	s->used = false;
	memset(&s->s, 0, sizeof(s->s));
	return 0;
}

int daemon_loop_timer_add(struct daemon_loop *l, const char *name, int first_ms, int interval_ms,
			  daemon_loop_timer_cb cb, void *ctx)
{
	if (!cb || first_ms < 0 || interval_ms < 0)
		return -EINVAL;
	for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &l->tim[i];

		if (t->used)
			continue;
		*t = (struct loop_timer){.used = true,
					 .armed = true,
					 .name = name,
					 .due_ms = daemon_loop_now_ms() + (uint64_t)first_ms,
					 .interval_ms = interval_ms,
					 .cb = cb,
					 .ctx = ctx};
		return i;
	}
	return -ENOSPC;
}

int daemon_loop_timer_arm(struct daemon_loop *l, int id, int first_ms)
{
	if (id < 0 || id >= LOOP_MAX_TIMERS || !l->tim[id].used || first_ms < 0)
		return -ENOENT;
	l->tim[id].armed = true;
	l->tim[id].due_ms = daemon_loop_now_ms() + (uint64_t)first_ms;
	return 0;
}

int daemon_loop_timer_remove(struct daemon_loop *l, int id)
{
	if (id < 0 || id >= LOOP_MAX_TIMERS || !l->tim[id].used)
		return -ENOENT;
	memset(&l->tim[id], 0, sizeof(l->tim[id]));
	return 0;
}

void daemon_loop_stop(struct daemon_loop *l)
{
	l->stop = true;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* The wait: the nearest timer and the smallest source timeout hook. */
static int loop_wait_ms(struct daemon_loop *l, uint64_t now)
{
	int wait = -1;

	for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &l->tim[i];

		if (!t->used || !t->armed)
			continue;
		uint64_t d = t->due_ms > now ? t->due_ms - now : 0;
		wait = min_timeout(wait, d > 600000 ? 600000 : (int)d);
	}
	for (int i = 0; i < LOOP_MAX_SOURCES; i++) {
		struct loop_source *s = &l->src[i];
		int t = s->used && s->s.timeout_ms ? s->s.timeout_ms(s->s.ctx) : -1;

		s->due_ms = t >= 0 ? now + (uint64_t)t : 0;
		wait = min_timeout(wait, t);
	}
	return wait;
}

static void run_timers(struct daemon_loop *l)
{
	uint64_t now = daemon_loop_now_ms();

	for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &l->tim[i];

		if (!t->used || !t->armed || t->due_ms > now)
			continue;
		/* Re-arm before the call, so that the callback may re-arm or remove it. */
		if (t->interval_ms)
			t->due_ms = now + (uint64_t)t->interval_ms;
		else
			t->armed = false;
		int rc = t->cb(t->ctx);
		if (rc < 0)
			log_warn("timer %s: %s", t->name ? t->name : "?", strerror(-rc));
	}
}

int daemon_loop_once(struct daemon_loop *l, int max_wait_ms)
{
	struct pollfd pfd[LOOP_MAX_SOURCES];
	int idx[LOOP_MAX_SOURCES], n = 0;

	for (int i = 0; i < LOOP_MAX_SOURCES; i++) {
		struct loop_source *s = &l->src[i];

		if (!s->used || s->s.fd < 0)
			continue;
		pfd[n] = (struct pollfd){.fd = s->s.fd, .events = s->s.events};
		idx[n++] = i;
	}
	int wait = loop_wait_ms(l, daemon_loop_now_ms());
	if (max_wait_ms >= 0)
		wait = min_timeout(wait, max_wait_ms);
	int rc = poll(pfd, (nfds_t)n, wait);
	if (rc < 0 && errno != EINTR)
		return -errno;

	/* Snapshot which slots fired before calling anything: a callback may remove or add
	 * sources, and a slot reused in this iteration must not get the old slot's event. */
	short rev[LOOP_MAX_SOURCES] = {0};
	unsigned int gen[LOOP_MAX_SOURCES];
	for (int k = 0; k < n && rc > 0; k++)
		rev[idx[k]] = pfd[k].revents;
	uint64_t due[LOOP_MAX_SOURCES], now = daemon_loop_now_ms();
	for (int i = 0; i < LOOP_MAX_SOURCES; i++) {
		gen[i] = l->src[i].gen;
		due[i] = l->src[i].due_ms;
	}

	for (int i = 0; i < LOOP_MAX_SOURCES && !l->stop; i++) {
		struct loop_source *s = &l->src[i];

		if (!s->used || s->gen != gen[i])
			continue;
		/* Called on an event, on every wake-up (always_run), or once its timeout hook's
		 * deadline has passed (a kv watch's reconnect back-off, curl's timers). */
		if (!rev[i] && !s->s.always_run && !(due[i] && now >= due[i]))
			continue;
		int cr = s->s.cb(s->s.fd, rev[i], s->s.ctx);
		if (cr < 0)
			log_warn("%s: %s", s->s.name ? s->s.name : "source", strerror(-cr));
	}
	if (!l->stop)
		run_timers(l);
	return 0;
}

int daemon_loop_run(struct daemon_loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int rc = daemon_loop_once(l, -1);
		if (rc < 0)
			return rc;
	}
	l->stop = false; /* a later daemon_loop_once() runs normally */
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon_loop: pseudopodd's one poll loop (prefix daemon_loop_). A small table of pollable
 * sources (fd, events, callback) and of timers; the workload daemon registers its sources
 * (kv watches, the API and metrics servers, the signalfd, the tunnel supervisor, the
 * datapath's ring buffer) and gateway mode registers its own the same way.
 *
 * Contract:
 * - Single-threaded: every callback runs on the loop's thread, one at a time, and must not
 *   block. A callback may add or remove sources and timers (its own included) and may call
 *   daemon_loop_stop(); changes take effect from the next iteration.
 * - A source's fd may change over its life (a kv watch reconnecting):
 *   daemon_loop_set_fd() replaces it; fd < 0 keeps the source registered but not polled
 *   (its timeout hook, if any, still bounds the wait).
 * - A source may have a timeout hook (`timeout_ms`, e.g. api_server_timeout_ms,
 *   kv_watch_timeout_ms): the wait is bounded by the smallest of these and of the timers,
 *   and a source whose hook's deadline has passed is called (revents 0) even without an
 *   event, so a source with its own timers (a kv watch) needs no periodic timer at all.
 *   The hook is asked again before every wait. Sources with `always_run` are called after
 *   every wake-up even without an event (libmicrohttpd's servers need that to expire idle
 *   connections).
 * - Timers are periodic (interval_ms) or one-shot (interval 0), on CLOCK_MONOTONIC;
 *   daemon_loop_timer_arm() re-arms one.
 * - A callback's negative return is logged with the source's name; it does not stop the
 *   loop (the daemon is fail-static: one failing source must not take enforcement down
 *   with it). Only daemon_loop_stop() ends daemon_loop_run().
 * - Functions return 0 or -errno.
 */
#ifndef PSEUDOPOD_AGENT_DAEMON_LOOP_H
#define PSEUDOPOD_AGENT_DAEMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct daemon_loop;

/* revents: poll()'s, or 0 when called because of always_run / its timeout. */
typedef int (*daemon_loop_fd_cb)(int fd, short revents, void *ctx);
typedef int (*daemon_loop_timeout_cb)(void *ctx); /* ms until it must run; < 0 none */
typedef int (*daemon_loop_timer_cb)(void *ctx);

struct daemon_loop_source {
	const char *name; /* for logs; borrowed, must outlive the source */
	int fd;		  /* < 0: not polled */
	short events;	  /* POLLIN, ... */
	bool always_run;  /* call after every wake-up, even without an event */
	daemon_loop_fd_cb cb;
	daemon_loop_timeout_cb timeout_ms; /* may be NULL */
	void *ctx;
};

int daemon_loop_new(struct daemon_loop **out);
void daemon_loop_free(struct daemon_loop *l); /* accepts NULL */

/* Returns an id (>= 0) for daemon_loop_set_fd/remove, or -errno. */
int daemon_loop_add(struct daemon_loop *l, const struct daemon_loop_source *src);
int daemon_loop_set_fd(struct daemon_loop *l, int id, int fd, short events);
int daemon_loop_remove(struct daemon_loop *l, int id);

/* A timer first firing after first_ms, then every interval_ms (0 = once). Returns an id. */
int daemon_loop_timer_add(struct daemon_loop *l, const char *name, int first_ms, int interval_ms,
			  daemon_loop_timer_cb cb, void *ctx);
int daemon_loop_timer_arm(struct daemon_loop *l, int id, int first_ms);
int daemon_loop_timer_remove(struct daemon_loop *l, int id);

/* Runs until daemon_loop_stop(); returns 0, or -errno when poll() itself fails. */
int daemon_loop_run(struct daemon_loop *l);
void daemon_loop_stop(struct daemon_loop *l);
/* One iteration, waiting at most max_wait_ms (< 0 = as the sources say): for tests. */
int daemon_loop_once(struct daemon_loop *l, int max_wait_ms);

/* CLOCK_MONOTONIC in ms. */
uint64_t daemon_loop_now_ms(void);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * httpd: the enrollment API over HTTPS (libmicrohttpd with its GnuTLS backend), the routes
 * of enroll/proto.h on top of the handlers of enroll/server.h.
 *
 * - A pool of worker threads; each opens its own store client (kv clients are not
 *   thread-safe) on first use and keeps it (connections and auth token reused).
 * - Bodies above ENROLL_BODY_MAX are refused with 413 before they are read; only POST with
 *   a JSON body on the two POST routes; anything else is 404/405.
 * - Per-source rate limit (a token bucket per client address: rate_per_min requests a
 *   minute, as a burst too) on every route but /healthz: 429 beyond it.
 * - timeout_s: a connection idle that long (a slow or stalled client) is closed.
 * - One access-log line per request on stderr: client address, method, path, status,
 *   outcome code, token id / machine name, duration. Never a secret or a password.
 * - enroll_httpd_run() returns when *stop becomes non-zero (SIGTERM/SIGINT set it), after
 *   the requests in flight have finished.
 */
#ifndef PSEUDOPOD_ENROLL_HTTPD_H
#define PSEUDOPOD_ENROLL_HTTPD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "enroll/server.h"
#include "lib/kv/kv.h"

struct enroll_httpd_opts {
	const char *address; /* listen address, NULL/"" = all */
	uint16_t port;
	const char *cert_pem, *key_pem; /* server certificate (+ chain) and key */
	const char *ca_pem;		/* served on GET /v1/ca */
	struct kv_options kv;		/* the server's own store connection */
	const char *prefix;
	struct enroll_server_cfg cfg;
	uint32_t threads;      /* 0 = 4 */
	uint32_t rate_per_min; /* 0 = 60 */
	uint32_t timeout_s;    /* 0 = 10 */
};

int enroll_httpd_run(const struct enroll_httpd_opts *o, volatile sig_atomic_t *stop, char *why,
		     size_t why_len);

#endif

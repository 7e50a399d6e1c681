/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics: pseudopodd's Prometheus metrics (library pp_agent_api): a small registry of
 * counters and gauges with labels, rendered in the text exposition format 0.0.4, and the
 * HTTP listener on [agent] metrics-address (GET /metrics, GET /healthz).
 *
 * Registry. metrics_new() knows every pseudopod_* family (name, type, help, label names:
 * docs/agent.md lists them); a sample is set by family name and label values, in the
 * order the family declares its labels. Unknown names or a wrong number of labels are
 * -EINVAL (a typo must fail a test, not create a new series). Label values are escaped at
 * render time (backslash, double quote, newline), so any gateway name is safe. Ages
 * (`*_age_seconds`) are stored as the monotonic time of the event and computed when
 * rendered, so a scrape always sees the age at that moment without the daemon updating
 * it every second. Families without samples render their HELP/TYPE lines only.
 *
 * Server. Same poll contract as api.h (libmicrohttpd, MHD_USE_EPOLL, no thread): poll
 * metrics_server_fd() for POLLIN with metrics_server_timeout_ms(), then
 * metrics_server_run(). Rendering happens on the daemon's thread at scrape time.
 *
 * Not thread-safe: one poll loop owns it. Functions return 0 or -errno.
 */
#ifndef PSEUDOPOD_AGENT_METRICS_H
#define PSEUDOPOD_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/datapath.h"

#define METRICS_DEFAULT_ADDRESS "127.0.0.1:9962"

struct metrics;

int metrics_new(struct metrics **out);
void metrics_free(struct metrics *m);

/* labels: a NULL-terminated array of exactly as many values as the family has label names,
 * in its order (NULL for a family without labels); otherwise -EINVAL. */
int metrics_set(struct metrics *m, const char *name, const char *const *labels, double value);
int metrics_add(struct metrics *m, const char *name, const char *const *labels, double delta);
/* An age gauge: rendered as (now - since_ns) seconds, since_ns on CLOCK_MONOTONIC. */
int metrics_set_age(struct metrics *m, const char *name, const char *const *labels,
		    uint64_t since_ns);
/* Drops every sample of a family (e.g. before re-setting the per-gateway series). */
int metrics_clear(struct metrics *m, const char *name);

/*
 * Sets the datapath families from dp_metrics_read()'s counters: forward/drop packets and
 * bytes by direction (and reason for drops), pseudopod_policy_verdicts_total and
 * pseudopod_events_lost_total. 0 or -ENOMEM (samples set before the failure keep their new
 * values, the others their old ones).
 */
int metrics_update_datapath(struct metrics *m, const struct dp_metric counters[DP_METRICS_SLOTS]);

/* The exposition text (malloc'd, NUL-terminated), ages computed against now_ns
 * (CLOCK_MONOTONIC; 0 = the clock now). NULL on -ENOMEM. */
char *metrics_render(const struct metrics *m, uint64_t now_ns);

/* Host:port as the listener takes it: "127.0.0.1:9962", "[::1]:9962". */
bool metrics_address_parse(const char *text, void *sockaddr_storage, unsigned int *len, char *why,
			   size_t why_len);

struct metrics_server;
/* health: NULL or a callback whose false makes /healthz answer 503 with its reason. */
typedef bool (*metrics_health_cb)(char *why, size_t why_len, void *ctx);
int metrics_server_start(struct metrics *m, const char *address, metrics_health_cb health,
			 void *health_ctx, struct metrics_server **out);
void metrics_server_stop(struct metrics_server *s);
int metrics_server_fd(const struct metrics_server *s);
int metrics_server_timeout_ms(const struct metrics_server *s);
int metrics_server_run(struct metrics_server *s);
/* The port it listens on (useful with port 0 in tests). */
int metrics_server_port(const struct metrics_server *s);

#endif

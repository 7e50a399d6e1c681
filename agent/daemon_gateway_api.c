// SPDX-License-Identifier: GPL-2.0-only
/*
 * The gateway's local API, flows and metrics (contract in daemon_gateway_api.h). The
 * callbacks run on the loop's thread between gateway_poll() steps and only read.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/api.h"
#include "agent/api_state.h"
#include "agent/daemon_gateway_api.h"
#include "agent/daemon_loop.h"
#include "agent/flows.h"
#include "agent/gateway.h"
#include "agent/metrics.h"
#include "bpf/dp.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/policy_entry.h"
#include "policy/engine.h"
#include "policy/labels.h"

#define GWD_LABELS_MS 5000

struct gwd_api {
	struct gateway *gw;
	const bool *ready;
	struct api_server *api;
	struct api_v1_ops ops;
	struct flows *flows;
	struct dp_events *ev;
	uint64_t events_read;
	struct metrics *metrics;
	struct metrics_server *ms;
	/* identity -> labels array shared by the flow records; emptied every GWD_LABELS_MS so
	 * an identity whose labels changed shows the new ones within that time */
	json_t *label_cache;
};

/* ---- enrichment of flows ---- */

static json_t *labels_of(uint32_t identity, void *ctx)
{
	struct gwd_api *a = ctx;
	struct policy_engine *e = gateway_engine(a->gw);
	const struct label_set *ls = e ? policy_engine_identity_labels(e, identity) : NULL;
	char key[16];
	json_t *v;

	snprintf(key, sizeof(key), "%u", identity);
	v = json_object_get(a->label_cache, key);
	if (v)
		return json_incref(v);
	v = ls ? label_set_to_json(ls) : NULL;
	if (v)
		json_object_set(a->label_cache, key, v);
	return v;
}

static bool rule_of(uint32_t rule_id, char *policy, size_t plen, char *rule, size_t rlen, void *ctx)
{
	struct gwd_api *a = ctx;

	return api_state_rule_origin(gateway_engine(a->gw), rule_id, policy, plen, rule, rlen);
}

static int on_event(const struct dp_event *e, void *ctx)
{
	struct gwd_api *a = ctx;

	a->events_read++;
	flows_add(a->flows, e, flows_event_time(e->ts_ns));
	return 0;
}

static int on_events_fd(int fd, short revents, void *ctx)
{
	struct gwd_api *a = ctx;
	int n;

	(void)fd;
	(void)revents;
	n = dp_events_poll(a->ev, 0);
	return n < 0 ? n : 0;
}

/* ---- /v1 callbacks ---- */

static int h_status(json_t **out, void *ctx)
{
	struct gwd_api *a = ctx;

	*out = gateway_status_json(a->gw);
	if (!*out)
		return -ENOMEM;
	json_object_set_new(*out, "counters",
			    api_state_counters_json(gateway_dp(a->gw), a->events_read));
	json_object_set_new(*out, "mode", json_string("gateway"));
	json_object_set_new(*out, "ready", json_boolean(*a->ready));
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every local endpoint's entries (or one's), each naming its endpoint (pods and machines
 * alike). */
static int h_policy(const struct api_policy_query *q, json_t **out, char *err, size_t err_len,
		    void *ctx)
{
	struct gwd_api *a = ctx;
	struct policy_engine *e = gateway_engine(a->gw);
	size_t n;
	const uint32_t *eps = gateway_endpoints(a->gw, &n);
	bool ok;
	json_t *arr, *ids;

	if (!e || !*a->ready)
		return -EAGAIN;
	if (q->endpoint) {
		if (!bsearch(&q->endpoint, eps, n, sizeof(*eps), cmp_u32))
			return snprintf(err, err_len,
					"endpoint %u: not a local endpoint of this gateway",
					q->endpoint),
			       -ENOENT;
		eps = &q->endpoint;
		n = 1;
	}
	arr = json_array();
	ids = json_array();
	ok = arr && ids;
	for (size_t i = 0; ok && i < n; i++)
		ok = !json_array_append_new(ids, json_integer(eps[i])) &&
		     !api_state_policy_entries(e, eps[i], true, arr);
	if (!ok) {
		json_decref(arr);
		json_decref(ids);
		return -ENOMEM;
	}
	/* "o" steals arr and ids, also when packing fails */
	*out = json_pack("{s:I, s:o, s:o}", "revision", (json_int_t)gateway_policy_revision(a->gw),
			 "endpoints", ids, "entries", arr);
	return *out ? 0 : -ENOMEM;
}

static int h_trace(const struct api_trace_query *q, json_t **out, char *err, size_t err_len,
		   void *ctx)
{
	struct gwd_api *a = ctx;
	struct policy_engine *e = gateway_engine(a->gw);

	if (!e || !*a->ready)
		return -EAGAIN;
	return api_state_trace(e, gateway_dp(a->gw), q, out, err, err_len);
}

static int h_identity(const struct api_identity_query *q, json_t **out, char *err, size_t err_len,
		      void *ctx)
{
	struct gwd_api *a = ctx;
	struct policy_engine *e = gateway_engine(a->gw);

	if (q->by == API_IDENTITY_SELF)
		return snprintf(err, err_len,
				"a gateway has no identity of its own (it enforces its pods' and "
				"machines'): ask for one with an id or an ip"),
		       -ENOENT;
	if (q->by == API_IDENTITY_ID && (!e || !*a->ready))
		return -EAGAIN;
	return api_state_identity_get(e, gateway_dp(a->gw), q, out, err, err_len);
}

static int h_identities(json_t **out, void *ctx)
{
	struct gwd_api *a = ctx;
	struct policy_engine *e = gateway_engine(a->gw);

	return e && *a->ready ? api_state_identities(e, out) : -EAGAIN;
}

/* ---- metrics ---- */

static int count_id(uint32_t id, const struct label_set *labels, void *ctx)
{
	(void)id;
	(void)labels;
	(*(size_t *)ctx)++;
	return 0;
}

/* The entries of the map named name in status's "datapath" section (-1 if absent). */
static double map_entries(const json_t *status, const char *name)
{
	const json_t *m;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(status, "datapath"), "maps"), i, m)
	{
		if (json_is_string(json_object_get(m, "name")) &&
		    !strcmp(json_string_value(json_object_get(m, "name")), name) &&
		    json_is_integer(json_object_get(m, "entries")))
			return (double)json_integer_value(json_object_get(m, "entries"));
	}
	return -1;
}

/*
 * At scrape time only, never from a timer: the status it reads walks the ipcache map once
 * to count it (tens of ms at 100k entries, bench/api), which a periodic refresh would spend
 * at idle for nobody.
 */
static void update_metrics(struct gwd_api *a)
{
	struct policy_engine *e = gateway_engine(a->gw);
	json_t *st = gateway_status_json(a->gw);
	json_t *entries = json_object_get(json_object_get(st, "policy"), "entries");
	const char *lin[] = {"ingress", NULL}, *lout[] = {"egress", NULL};
	struct dp_metric m[DP_METRICS_SLOTS];
	double n_ipc = map_entries(st, "ipcache");
	size_t n_id = 0;

	if (dp_metrics_read(gateway_dp(a->gw), m) == 0)
		metrics_update_datapath(a->metrics, m);
	if (e)
		policy_engine_identity_foreach(e, count_id, &n_id);
	if (n_ipc >= 0)
		metrics_set(a->metrics, "pseudopod_ipcache_entries", NULL, n_ipc);
	metrics_set(a->metrics, "pseudopod_identities", NULL, (double)n_id);
	metrics_set(a->metrics, "pseudopod_tunnel_peers", NULL,
		    (double)json_array_size(json_object_get(st, "peers")));
	metrics_set(a->metrics, "pseudopod_policy_revision", NULL,
		    (double)gateway_policy_revision(a->gw));
	metrics_set(a->metrics, "pseudopod_policy_entries", lin,
		    (double)json_integer_value(json_object_get(entries, "ingress")));
	metrics_set(a->metrics, "pseudopod_policy_entries", lout,
		    (double)json_integer_value(json_object_get(entries, "egress")));
	metrics_set(a->metrics, "pseudopod_store_connected", NULL,
		    json_is_true(json_object_get(json_object_get(st, "store"), "connected")));
	json_decref(st);
}

/* Flow records keep the label arrays they were given; new ones look labels up again. */
static int forget_labels(void *ctx)
{
	json_object_clear(((struct gwd_api *)ctx)->label_cache);
	return 0;
}

static bool health(char *why, size_t len, void *ctx)
{
	struct gwd_api *a = ctx;

	if (!*a->ready)
		snprintf(why, len, "the gateway has not synced yet");
	return *a->ready;
}

/* ---- servers in the loop ---- */

static int api_timeout(void *ctx)
{
	return api_server_timeout_ms(((struct gwd_api *)ctx)->api);
}

static int api_run(int fd, short revents, void *ctx)
{
	(void)fd;
	(void)revents;
	return api_server_run(((struct gwd_api *)ctx)->api);
}

static int ms_timeout(void *ctx)
{
	return metrics_server_timeout_ms(((struct gwd_api *)ctx)->ms);
}

static int ms_run(int fd, short revents, void *ctx)
{
	struct gwd_api *a = ctx;

	(void)fd;
	if (revents & POLLIN)
		update_metrics(a); /* a scrape sees fresh datapath counters */
	return metrics_server_run(a->ms);
}

/* Without the events ring there are no flows for observe; the gateway still enforces. */
static int events_start(struct gwd_api *a, struct daemon_loop *loop)
{
	int rc = dp_events_open(gateway_dp(a->gw), on_event, a, &a->ev);

	if (rc < 0) {
		log_warn("gateway: datapath events: %s (no flows for observe)", strerror(-rc));
		return 0;
	}
	rc = daemon_loop_add(loop, &(struct daemon_loop_source){.name = "datapath events",
								.fd = dp_events_fd(a->ev),
								.events = POLLIN,
								.cb = on_events_fd,
								.ctx = a});
	return rc < 0 ? rc : 0;
}

static int api_start(struct gwd_api *a, const struct config *cfg, struct daemon_loop *loop,
		     char *err, size_t err_len)
{
	int rc = api_server_new(&(struct api_server_opts){.socket_path = cfg->agent.api_socket},
				&a->api);

	a->ops = (struct api_v1_ops){.status = h_status,
				     .policy_get = h_policy,
				     .policy_trace = h_trace,
				     .identity_get = h_identity,
				     .identity_list = h_identities,
				     .ctx = a};
	rc = rc ?: api_v1_register(a->api, &a->ops, a->flows);
	rc = rc ?: api_server_listen(a->api);
	if (rc < 0) {
		snprintf(err, err_len, "local API on %s: %s", cfg->agent.api_socket, strerror(-rc));
		return rc;
	}
	rc = daemon_loop_add(loop, &(struct daemon_loop_source){.name = "api",
								.fd = api_server_fd(a->api),
								.events = POLLIN,
								.always_run = true,
								.cb = api_run,
								.timeout_ms = api_timeout,
								.ctx = a});
	return rc < 0 ? rc : 0;
}

static int metrics_start(struct gwd_api *a, const struct config *cfg, struct daemon_loop *loop,
			 char *err, size_t err_len)
{
	const char *build[] = {PSEUDOPOD_VERSION, NULL};
	int rc;

	metrics_set(a->metrics, "pseudopod_build_info", build, 1);
	if (cfg->agent.metrics_address[0]) {
		rc =
		    metrics_server_start(a->metrics, cfg->agent.metrics_address, health, a, &a->ms);
		if (rc < 0) {
			snprintf(err, err_len, "metrics on %s: %s", cfg->agent.metrics_address,
				 strerror(-rc));
			return rc;
		}
		rc = daemon_loop_add(loop,
				     &(struct daemon_loop_source){.name = "metrics",
								  .fd = metrics_server_fd(a->ms),
								  .events = POLLIN,
								  .always_run = true,
								  .cb = ms_run,
								  .timeout_ms = ms_timeout,
								  .ctx = a});
		if (rc < 0)
			return rc;
	}
	rc = daemon_loop_timer_add(loop, "labels", GWD_LABELS_MS, GWD_LABELS_MS, forget_labels, a);
	return rc < 0 ? rc : 0;
}

int gwd_api_start(struct gateway *gw, const struct config *cfg, struct daemon_loop *loop,
		  const bool *ready, struct gwd_api **out, char *err, size_t err_len)
{
	struct gwd_api *a = calloc(1, sizeof(*a));
	int rc;

	*out = a;
	if (err_len)
		err[0] = '\0';
	if (!a)
		return snprintf(err, err_len, "%s", strerror(ENOMEM)), -ENOMEM;
	a->gw = gw;
	a->ready = ready;
	a->label_cache = json_object();
	rc = flows_new(0, &(struct flows_lookup){labels_of, rule_of, a}, &a->flows);
	rc = rc ?: metrics_new(&a->metrics);
	if (rc < 0 || !a->label_cache) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	rc = events_start(a, loop);
	rc = rc ?: api_start(a, cfg, loop, err, err_len);
	rc = rc ?: metrics_start(a, cfg, loop, err, err_len);
	if (rc < 0 && !err[0])
		snprintf(err, err_len, "gateway API: %s", strerror(-rc));
	return rc;
}

void gwd_api_stop(struct gwd_api *a)
{
	if (!a)
		return;
	api_server_free(a->api);
	metrics_server_stop(a->ms);
	metrics_free(a->metrics);
	dp_events_close(a->ev);
	flows_free(a->flows);
	json_decref(a->label_cache);
	free(a);
}

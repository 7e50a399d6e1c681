// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local API's and the metrics' callbacks (agent/api.h, agent/metrics.h): they read the
 * daemon's in-memory state on the loop's thread and never block. Shapes in docs/agent.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/api.h"
#include "agent/api_state.h"
#include "agent/daemon_internal.h"
#include "agent/flows.h"
#include "agent/metrics.h"
#include "agent/policy_sync.h"
#include "bpf/dp.h"
#include "lib/log.h"
#include "lib/policy_entry.h"
#include "policy/engine.h"
#include "policy/policy.h"

/* ---- enrichment: labels and rule origins ---- */

static json_t *labels_of(uint32_t identity, void *ctx)
{
	struct daemon *d = ctx;
	struct policy_engine *e = daemon_engine(d);
	char key[16];
	json_t *v;

	snprintf(key, sizeof(key), "%u", identity);
	v = json_object_get(d->label_cache, key);
	if (v)
		return json_incref(v);
	const struct label_set *ls = e ? policy_engine_identity_labels(e, identity) : NULL;
	if (!ls)
		return NULL;
	v = label_set_to_json(ls);
	if (v)
		json_object_set(d->label_cache, key, v);
	return v;
}

void daemon_api_forget_labels(struct daemon *d, uint32_t identity)
{
	char key[16];

	snprintf(key, sizeof(key), "%u", identity);
	json_object_del(d->label_cache, key);
}

static bool rule_of(uint32_t rule_id, char *policy, size_t plen, char *rule, size_t rlen, void *ctx)
{
	return api_state_rule_origin(daemon_engine(ctx), rule_id, policy, plen, rule, rlen);
}

/* ---- /v1/status ---- */

static json_t *enrollment_json(struct daemon *d)
{
	const struct store_workload *w = &d->enr.workload;

	return json_pack("{s:b, s:s, s:I, s:o, s:s, s:s, s:s}", "enrolled", d->enr.enrolled, "name",
			 w->name, "identity", (json_int_t)w->identity, "labels",
			 label_set_to_json(&w->labels), "overlay_ip", w->overlay_ip, "namespace",
			 w->namespace_, "server", d->enr.server);
}

static json_t *policy_json(struct daemon *d)
{
	struct policy_engine *e = daemon_engine(d);
	uint32_t ep = d->enr.workload.identity, flags = 0;
	size_t n = 0, in = 0, out = 0;
	const struct policy_entry *v = e ? policy_engine_entries(e, ep, &n) : NULL;

	for (size_t i = 0; i < n; i++)
		v[i].direction == POLICY_INGRESS ? in++ : out++;
	if (d->dp.dp)
		dp_endpoint_get(d->dp.dp, ep, &flags);
	return json_pack(
	    "{s:I, s:s, s:{s:b, s:b}, s:{s:I, s:I}, s:I}", "revision",
	    (json_int_t)d->policy_revision, "source", d->policy_source ? d->policy_source : "none",
	    "enforcement", "ingress", (flags & DP_EP_F_ENFORCE_INGRESS) != 0, "egress",
	    (flags & DP_EP_F_ENFORCE_EGRESS) != 0, "entries", "ingress", (json_int_t)in, "egress",
	    (json_int_t)out, "policies", (json_int_t)(e ? policy_engine_policy_count(e) : 0));
}

static int h_status(json_t **out, void *ctx)
{
	struct daemon *d = ctx;

	*out =
	    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b}", "enrollment", enrollment_json(d),
		      "tunnel", daemon_tunnel_status(d), "store", daemon_store_status(d),
		      "datapath", daemon_datapath_status(d), "policy", policy_json(d), "counters",
		      api_state_counters_json(d->dp.dp, d->dp.events_read), "mode", "workload",
		      "ready", d->ready);
	return *out ? 0 : -ENOMEM;
}

/* ---- /v1/policy ---- */

static int h_policy(const struct api_policy_query *q, json_t **out, char *err, size_t err_len,
		    void *ctx)
{
	struct daemon *d = ctx;
	struct policy_engine *e = daemon_engine(d);
	uint32_t ep = d->enr.workload.identity;
	json_t *arr;

	if (q->endpoint && q->endpoint != ep)
		return snprintf(err, err_len,
				"endpoint %u: not enforced here (this machine is endpoint %u)",
				q->endpoint, ep),
		       -ENOENT;
	if (!e)
		return -EAGAIN; /* on a snapshot or the pins: the engine has not run yet */
	arr = json_array();
	if (!arr || api_state_policy_entries(e, ep, false, arr)) {
		json_decref(arr);
		return -ENOMEM;
	}
	json_t *pj = policy_json(d);
	*out = json_pack("{s:I, s:I, s:O, s:o}", "endpoint", (json_int_t)ep, "revision",
			 (json_int_t)d->policy_revision, "enforcement",
			 json_object_get(pj, "enforcement"), "entries", arr);
	json_decref(pj);
	return *out ? 0 : -ENOMEM;
}

/* ---- /v1/policy/trace ---- */

static int h_trace(const struct api_trace_query *q, json_t **out, char *err, size_t err_len,
		   void *ctx)
{
	struct daemon *d = ctx;
	struct policy_engine *e = daemon_engine(d);

	if (!e)
		return -EAGAIN;
	return api_state_trace(e, d->dp.dp, q, out, err, err_len);
}

/* ---- /v1/identity, /v1/identities ---- */

/* This machine: its identity object plus who it is (enrollment). */
static int identity_self(struct daemon *d, json_t **out, char *err, size_t err_len)
{
	const struct store_workload *w = &d->enr.workload;

	if (!d->enr.enrolled)
		return snprintf(err, err_len, "this machine is not enrolled"), -ENOENT;
	*out = api_state_identity_json(w->identity, &w->labels);
	if (!*out)
		return -ENOMEM;
	json_object_set_new(*out, "name", json_string(w->name));
	json_object_set_new(*out, "namespace", json_string(w->namespace_));
	json_object_set_new(*out, "overlay_ip", json_string(w->overlay_ip));
	return 0;
}

static int h_identity(const struct api_identity_query *q, json_t **out, char *err, size_t err_len,
		      void *ctx)
{
	struct daemon *d = ctx;

	if (q->by == API_IDENTITY_SELF)
		return identity_self(d, out, err, err_len);
	/* before the first sync only the pins answer an address; an id needs the engine */
	if (q->by == API_IDENTITY_ID && !daemon_engine(d))
		return -EAGAIN;
	return api_state_identity_get(daemon_engine(d), d->dp.dp, q, out, err, err_len);
}

static int h_identities(json_t **out, void *ctx)
{
	struct policy_engine *e = daemon_engine(ctx);

	return e ? api_state_identities(e, out) : -EAGAIN;
}

/* ---- metrics ---- */

static bool health(char *why, size_t len, void *ctx)
{
	struct daemon *d = ctx;

	if (!d->ready) {
		snprintf(why, len, "no policy applied yet");
		return false;
	}
	return true;
}

static int update_metrics(void *ctx)
{
	struct daemon *d = ctx;
	struct policy_engine *e = daemon_engine(d);
	size_t n = 0, in = 0, out = 0;
	const struct policy_entry *v =
	    e ? policy_engine_entries(e, d->enr.workload.identity, &n) : NULL;
	const char *lin[] = {"ingress", NULL}, *lout[] = {"egress", NULL};

	for (size_t i = 0; i < n; i++)
		v[i].direction == POLICY_INGRESS ? in++ : out++;
	size_t n_ipc = 0;
	if (daemon_policy_sync(d) && agent_policy_ipcache_count(daemon_policy_sync(d), &n_ipc) == 0)
		metrics_set(d->metrics, "pseudopod_ipcache_entries", NULL, (double)n_ipc);
	daemon_datapath_metrics(d);
	daemon_tunnel_metrics(d);
	metrics_set(d->metrics, "pseudopod_policy_entries", lin, (double)in);
	metrics_set(d->metrics, "pseudopod_policy_entries", lout, (double)out);
	metrics_set(d->metrics, "pseudopod_policy_revision", NULL, (double)d->policy_revision);
	metrics_set(d->metrics, "pseudopod_store_connected", NULL, d->st.connected);
	metrics_set(d->metrics, "pseudopod_store_sync_lag_seconds", NULL, d->st.sync_lag_s);
	metrics_set(d->metrics, "pseudopod_enrolled", NULL, d->enr.enrolled);
	return 0;
}

/* ---- servers in the loop ---- */

static int api_timeout(void *ctx)
{
	return api_server_timeout_ms(((struct daemon *)ctx)->api);
}

static int api_run(int fd, short revents, void *ctx)
{
	(void)fd;
	(void)revents;
	return api_server_run(((struct daemon *)ctx)->api);
}

static int ms_timeout(void *ctx)
{
	return metrics_server_timeout_ms(((struct daemon *)ctx)->ms);
}

static int ms_run(int fd, short revents, void *ctx)
{
	struct daemon *d = ctx;

	(void)fd;
	/* a scrape sees fresh datapath counters */
	if (revents & POLLIN)
		update_metrics(d);
	return metrics_server_run(d->ms);
}

static struct api_v1_ops v1_ops = {
    .status = h_status,
    .policy_get = h_policy,
    .policy_trace = h_trace,
    .identity_get = h_identity,
    .identity_list = h_identities,
};

int daemon_api_start(struct daemon *d, char *err, size_t err_len)
{
	const char *build[] = {PSEUDOPOD_VERSION, NULL};
	int rc;

	d->label_cache = json_object();
	rc = flows_new(0, &(struct flows_lookup){labels_of, rule_of, d}, &d->flows);
	rc = rc ?: metrics_new(&d->metrics);
	if (rc < 0 || !d->label_cache) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	metrics_set(d->metrics, "pseudopod_build_info", build, 1);
	v1_ops.ctx = d;
	rc = api_server_new(&(struct api_server_opts){.socket_path = d->cfg.agent.api_socket},
			    &d->api);
	rc = rc ?: api_v1_register(d->api, &v1_ops, d->flows);
	rc = rc ?: api_server_listen(d->api);
	if (rc < 0) {
		snprintf(err, err_len, "local API on %s: %s", d->cfg.agent.api_socket,
			 strerror(-rc));
		return rc;
	}
	rc = daemon_loop_add(d->loop, &(struct daemon_loop_source){.name = "api",
								   .fd = api_server_fd(d->api),
								   .events = POLLIN,
								   .always_run = true,
								   .cb = api_run,
								   .timeout_ms = api_timeout,
								   .ctx = d});
	if (rc < 0)
		return rc;
	if (d->cfg.agent.metrics_address[0]) {
		rc = metrics_server_start(d->metrics, d->cfg.agent.metrics_address, health, d,
					  &d->ms);
		if (rc < 0) {
			snprintf(err, err_len, "metrics on %s: %s", d->cfg.agent.metrics_address,
				 strerror(-rc));
			return rc;
		}
		rc = daemon_loop_add(d->loop,
				     &(struct daemon_loop_source){.name = "metrics",
								  .fd = metrics_server_fd(d->ms),
								  .events = POLLIN,
								  .always_run = true,
								  .cb = ms_run,
								  .timeout_ms = ms_timeout,
								  .ctx = d});
		if (rc < 0)
			return rc;
	}
	/* No refresh timer: a scrape refreshes the gauges first (ms_run) and /v1/status reads
	 * the live state, so a periodic refresh would only wake an idle daemon. */
	update_metrics(d);
	return 0;
}

void daemon_api_close(struct daemon *d)
{
	api_server_free(d->api);
	metrics_server_stop(d->ms);
	metrics_free(d->metrics);
	flows_free(d->flows);
	json_decref(d->label_cache);
	d->api = NULL;
	d->ms = NULL;
	d->metrics = NULL;
	d->flows = NULL;
	d->label_cache = NULL;
}

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
#include "agent/daemon_internal.h"
#include "agent/flows.h"
#include "agent/metrics.h"
#include "agent/policy_sync.h"
#include "bpf/dp.h"
#include "lib/log.h"
#include "lib/policy_entry.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "policy/trace.h"

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
	struct policy_engine *e = daemon_engine(ctx);
	struct policy_rule_origin o;

	if (!e || !rule_id || !policy_engine_rule_origin(e, rule_id, &o))
		return false;
	snprintf(policy, plen, "%s", o.key);
	if (o.policy && o.spec < o.policy->n_specs && o.rule < o.policy->specs[o.spec].n_rules)
		snprintf(rule, rlen, "%s", o.policy->specs[o.spec].rules[o.rule].origin);
	else
		snprintf(rule, rlen, "?");
	return true;
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

static json_t *counters_json(struct daemon *d)
{
	struct dp_metric m[DP_METRICS_SLOTS];
	uint64_t fwd = 0, drop = 0;

	if (!d->dp.dp || dp_metrics_read(d->dp.dp, m) < 0)
		return json_object();
	for (unsigned dir = 0; dir < 2; dir++)
		for (unsigned r = 0; r < DP_REASON_MAX; r++) {
			const struct dp_metric *x = &m[dir * DP_REASON_MAX + r];
			if (r >= DP_DROP_POLICY_DENY)
				drop += x->packets;
			else
				fwd += x->packets;
		}
	return json_pack("{s:I, s:I, s:I, s:I}", "forwarded", (json_int_t)fwd, "dropped",
			 (json_int_t)drop, "events_lost",
			 (json_int_t)m[DP_METRIC_EVENTS_LOST].packets, "events_read",
			 (json_int_t)d->dp.events_read);
}

static int h_status(json_t **out, void *ctx)
{
	struct daemon *d = ctx;

	*out =
	    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b}", "enrollment", enrollment_json(d),
		      "tunnel", daemon_tunnel_status(d), "store", daemon_store_status(d),
		      "datapath", daemon_datapath_status(d), "policy", policy_json(d), "counters",
		      counters_json(d), "mode", "workload", "ready", d->ready);
	return *out ? 0 : -ENOMEM;
}

/* ---- /v1/policy ---- */

static int h_policy(json_t **out, void *ctx)
{
	struct daemon *d = ctx;
	struct policy_engine *e = daemon_engine(d);
	uint32_t ep = d->enr.workload.identity;
	size_t n = 0;
	const struct policy_entry *v;
	json_t *arr;

	if (!e)
		return -EAGAIN; /* on a snapshot or the pins: the engine has not run yet */
	v = policy_engine_entries(e, ep, &n);
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		char pol[600] = "", rule[200] = "";
		bool named = rule_of(v[i].rule_id, pol, sizeof(pol), rule, sizeof(rule), d);
		json_array_append_new(
		    arr,
		    api_policy_entry_json(&v[i], v[i].identity ? labels_of(v[i].identity, d) : NULL,
					  named ? pol : NULL, named ? rule : NULL));
	}
	json_t *pj = policy_json(d);
	*out = json_pack("{s:I, s:I, s:O, s:o}", "endpoint", (json_int_t)ep, "revision",
			 (json_int_t)d->policy_revision, "enforcement",
			 json_object_get(pj, "enforcement"), "entries", arr);
	json_decref(pj);
	return *out ? 0 : -ENOMEM;
}

/* ---- /v1/policy/trace ---- */

struct best {
	const struct net_prefix *ip;
	int plen;
	uint32_t identity;
};

static int find_ipc(const struct dp_ipcache_entry *e, void *ctx)
{
	struct best *b = ctx;
	unsigned bits = e->plen, i;
	int fam = b->ip->family == AF_INET ? 4 : 6;

	if (e->family != fam || (int)e->plen <= b->plen)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (e->addr[i] != b->ip->addr[i])
			return 0;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
		if ((e->addr[i] & mask) != (b->ip->addr[i] & mask))
			return 0;
	}
	b->plen = e->plen;
	b->identity = e->identity;
	return 0;
}

/* An address the ipcache knows is an endpoint with its identity's labels (its own policy
 * applies, as in the datapath); otherwise an address. */
static bool trace_peer_of(struct daemon *d, const struct net_prefix *ip, struct trace_peer *p,
			  char *err, size_t err_len)
{
	struct best b = {.ip = ip, .plen = -1};
	char text[NET_IP_STRLEN];
	const struct label_set *ls = NULL;

	memset(p, 0, sizeof(*p));
	dp_ipcache_foreach(d->dp.dp, find_ipc, &b);
	if (b.plen >= 0 && b.identity < (1u << 24))
		ls = policy_engine_identity_labels(daemon_engine(d), b.identity);
	if (ls) {
		p->is_cidr = false;
		return label_set_copy(&p->labels, ls);
	}
	net_ip_format(ip, text);
	return trace_peer_parse(p, text, err, err_len);
}

static int h_trace(const struct api_trace_query *q, json_t **out, char *err, size_t err_len,
		   void *ctx)
{
	struct daemon *d = ctx;
	struct policy_engine *e = daemon_engine(d);
	struct trace_peer src, dst;
	struct trace_result r = {0};
	char s[NET_IP_STRLEN], t[NET_IP_STRLEN];
	int rc;

	if (!e)
		return -EAGAIN;
	if (!trace_peer_of(d, &q->src, &src, err, err_len))
		return -EINVAL;
	if (!trace_peer_of(d, &q->dst, &dst, err, err_len)) {
		trace_peer_free(&src);
		return -EINVAL;
	}
	rc = policy_trace(e, &src, &dst, q->proto, q->has_dport ? q->dport : 0, &r);
	if (rc == 0) {
		*out = trace_to_json(&r);
		json_object_set_new(*out, "src", json_string(net_ip_format(&q->src, s)));
		json_object_set_new(*out, "dst", json_string(net_ip_format(&q->dst, t)));
		if (q->has_dport)
			json_object_set_new(*out, "dport", json_integer(q->dport));
	}
	trace_result_free(&r);
	trace_peer_free(&src);
	trace_peer_free(&dst);
	return rc;
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

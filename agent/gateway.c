// SPDX-License-Identifier: GPL-2.0-only
/* gateway: open, one loop step, close (see gateway.h for the contract). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/gateway_internal.h"
#include "agent/policy_sync.h"
#include "lib/kv/kv.h"
#include "lib/log.h"
#include "policy/engine.h"
#include "tunnel/supervisor.h"

#define GW_RETRY_MS 1000 /* after a failed flush */

int64_t gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int workload_cmp(const void *key, const void *elem)
{
	return strcmp(((const struct gw_workload *)key)->name,
		      ((const struct gw_workload *)elem)->name);
}

static int u32_key_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void vecs_init(struct gateway *gw)
{
	gw->workloads = (struct gw_vec){.size = sizeof(struct gw_workload), .cmp = workload_cmp};
	gw->pods =
	    (struct gw_vec){.size = sizeof(struct gw_pod), .cmp = agent_policy_ipcache_prefix_cmp};
	gw->held = (struct gw_vec){.size = sizeof(struct dp_ipcache_entry),
				   .cmp = agent_policy_ipcache_prefix_cmp};
	gw->dirty = (struct gw_vec){.size = sizeof(uint32_t), .cmp = u32_key_cmp};
	gw->removed = (struct gw_vec){.size = sizeof(uint32_t), .cmp = u32_key_cmp};
}

static int copy_name(char *dst, size_t len, const char *src, const char *what, char *err,
		     size_t err_len)
{
	if (!src || !*src || strlen(src) >= len) {
		snprintf(err, err_len, "%s is missing or longer than %zu", what, len - 1);
		return -EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int store_connect(struct gateway *gw, const struct gateway_opts *o, char *err,
			 size_t err_len)
{
	int rc = kv_open(&gw->kv, &o->store);

	rc = rc ?: store_init(&gw->store, gw->kv, o->prefix);
	if (rc) {
		snprintf(err, err_len, "connecting to the store: %s", strerror(-rc));
		return rc;
	}
	rc = store_config_get(&gw->store, &gw->cfg);
	if (rc)
		snprintf(err, err_len, "reading the cluster config: %s", store_error(&gw->store));
	return rc;
}

/* The pod CIDRs this gateway serves: its pods' policies are the ones it enforces. */
static int served_cidrs(struct gateway *gw, const struct gateway_opts *o, char *err, size_t err_len)
{
	size_t n = o->n_cidrs ? o->n_cidrs : gw->cfg.n_pod_cidrs;
	char why[128];

	for (size_t i = 0; i < n; i++) {
		const char *c = o->n_cidrs ? o->cidrs[i] : gw->cfg.pod_cidrs[i];

		if (!dp_parse_cidr(c, &gw->served[i], why, sizeof(why))) {
			snprintf(err, err_len, "served CIDR %s: %s", c, why);
			return -EINVAL;
		}
	}
	gw->n_served = n;
	return 0;
}

static int register_gateway(struct gateway *gw, const struct gateway_opts *o, const char *pubkey,
			    char *err, size_t err_len)
{
	struct store_gateway g = {.wireguard_port = o->port ? o->port : gw->cfg.wireguard_port};
	int rc;

	snprintf(g.name, sizeof(g.name), "%s", gw->name);
	snprintf(g.underlay_ip, sizeof(g.underlay_ip), "%s", o->underlay_ip ? o->underlay_ip : "");
	snprintf(g.wg_public_key, sizeof(g.wg_public_key), "%s", pubkey);
	if (gw->vxlan)
		snprintf(g.vxlan_endpoint, sizeof(g.vxlan_endpoint), "%s", g.underlay_ip);
	for (size_t i = 0; i < gw->n_served; i++) {
		const char *c = o->n_cidrs ? o->cidrs[i] : gw->cfg.pod_cidrs[i];

		snprintf(g.cidrs[i], sizeof(g.cidrs[i]), "%s", c);
	}
	g.n_cidrs = gw->n_served;
	rc = store_gateway_reg_start(&gw->store, &gw->reg, &g, o->lease_ttl_s, gw_now_ms());
	if (rc)
		snprintf(err, err_len, "registering gateways/%s: %s", gw->name,
			 store_error(&gw->store));
	return rc;
}

int gateway_open(const struct gateway_opts *o, struct gateway **out, char *err, size_t err_len)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	char pubkey[WG_KEY_B64_LEN];
	int rc;

	if (!gw)
		return -ENOMEM;
	vecs_init(gw);
	gw->vxlan = o->vxlan;
	gw->keepalive_s = o->keepalive_s;
	gw->lock_timeout_ms = o->lock_timeout_ms ? o->lock_timeout_ms : 5000;
	rc = copy_name(gw->name, sizeof(gw->name), o->name, "the gateway name", err, err_len);
	rc = rc ?: copy_name(gw->bpffs, sizeof(gw->bpffs), o->bpffs, "bpffs", err, err_len);
	rc = rc ?: copy_name(gw->ifname, sizeof(gw->ifname), o->ifname, "the device", err, err_len);
	rc = rc
		 ?: copy_name((char[STORE_IP_MAX]){0}, STORE_IP_MAX, o->underlay_ip,
			      "the underlay IP", err, err_len);
	rc = rc ?: store_connect(gw, o, err, err_len);
	rc = rc ?: served_cidrs(gw, o, err, err_len);
	rc = rc ?: gw_tunnel_up(gw, o, pubkey, err, err_len);
	rc = rc ?: gw_datapath_up(gw, o, err, err_len);
	rc = rc ?: register_gateway(gw, o, pubkey, err, err_len);
	rc = rc ?: gw_watches_open(gw, err, err_len);
	if (rc) {
		gateway_close(gw);
		return rc;
	}
	*out = gw;
	return 0;
}

static void flush_if_due(struct gateway *gw, int64_t now)
{
	char err[768];
	int rc;

	if (now < gw->retry_at_ms)
		return;
	rc = gw_policy_flush(gw, err, sizeof(err));
	if (rc) {
		log_warn("gateway: writing the datapath: %s (the maps keep what they had; retried "
			 "in %d ms)",
			 err, GW_RETRY_MS);
		gw->retry_at_ms = now + GW_RETRY_MS;
	}
}

int gateway_poll(struct gateway *gw, int timeout_ms, char *err, size_t err_len)
{
	int64_t now;
	int rc;

	if (err_len)
		err[0] = '\0';
	rc = gw_watches_poll(gw, timeout_ms);
	if (rc) {
		snprintf(err, err_len, "store watch: %s", strerror(-rc));
		return rc;
	}
	now = gw_now_ms();
	flush_if_due(gw, now);
	if (store_gateway_reg_tick(&gw->store, &gw->reg, now))
		log_warn("gateway: %s (retried)", store_error(&gw->store));
	gw->st.lease_regrants = gw->reg.regrants;
	if (gw->sup && tunnel_supervisor_timeout_ms(gw->sup) == 0)
		tunnel_supervisor_tick(gw->sup, (int64_t)time(NULL));
	return gw->fatal;
}

int gateway_fd(const struct gateway *gw)
{
	return gw->wfd_ok ? gw->wfd : -1;
}

int gateway_timeout_ms(const struct gateway *gw)
{
	int64_t now = gw_now_ms(), t = store_gateway_reg_timeout_ms(&gw->reg, now);
	int w = gw_watches_timeout_ms(gw);

	if (gw->sup && tunnel_supervisor_timeout_ms(gw->sup) < t)
		t = tunnel_supervisor_timeout_ms(gw->sup);
	if (gw->retry_at_ms > now && gw->retry_at_ms - now < t)
		t = gw->retry_at_ms - now;
	if (w >= 0 && w < t)
		t = w;
	return t < 0 ? 0 : t > INT32_MAX ? INT32_MAX : (int)t;
}

void gateway_stats(const struct gateway *gw, struct gateway_stats *out)
{
	*out = gw->st;
	out->peers = 0;
	for (size_t i = 0; gw->wg && i < gw->workloads.n; i++)
		out->peers += ((const struct gw_workload *)gw_vec_at(&gw->workloads, i))->has_key;
}

void gateway_close(struct gateway *gw)
{
	if (!gw)
		return;
	gw_watches_free(gw);
	if (gw->reg.lease && store_gateway_reg_stop(&gw->store, &gw->reg))
		log_warn("gateway: %s", store_error(&gw->store));
	gw_tunnel_close(gw);
	policy_engine_free(gw->engine);
	gw_vec_free(&gw->workloads);
	gw_vec_free(&gw->pods);
	gw_vec_free(&gw->held);
	gw_vec_free(&gw->dirty);
	gw_vec_free(&gw->removed);
	free(gw->eps);
	free(gw->local_ids);
	kv_close(gw->kv);
	free(gw);
}

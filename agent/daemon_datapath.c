// SPDX-License-Identifier: GPL-2.0-only
/*
 * The datapath: adopt the pins a previous process (or pp-datapath) left when they belong
 * to this machine, load them otherwise; attach to the tunnel device ("replace": an already
 * attached program is swapped in one netlink operation, never detached first); read the
 * events ring (flows) and the counters (metrics). Nothing here is undone at exit: the pins
 * and the attachment keep enforcing while no agent runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent/api_state.h"
#include "agent/daemon_internal.h"
#include "agent/flows.h"
#include "agent/metrics.h"
#include "agent/policy_sync.h"
#include "bpf/dp.h"
#include "lib/log.h"
#include "lib/policy_entry.h"

static const char *const prog_names[] = {"dp_ingress_eth", "dp_egress_eth",    "dp_ingress_l3",
					 "dp_egress_l3",   "dp_ingress_vxlan", "dp_egress_vxlan"};

static int on_event(const struct dp_event *e, void *ctx)
{
	struct daemon *d = ctx;

	d->dp.events_read++;
	flows_add(d->flows, e, flows_event_time(e->ts_ns));
	return 0;
}

static int on_events_fd(int fd, short revents, void *ctx)
{
	struct daemon *d = ctx;
	int n;

	(void)fd;
	(void)revents;
	n = dp_events_poll(d->dp.ev, 0);
	return n < 0 ? n : 0;
}

/* Adopt when the pins are this machine's; refuse another identity's or a gateway's (its
 * programs enforce for the identity fixed at load time); load when there are none. */
static int open_or_load(struct daemon *d, char *err, size_t err_len)
{
	uint32_t id = d->enr.workload.identity;
	struct dp_info info;
	/* The pinned info map alone: pins of an older build may lack a map (dp_open() fails),
	 * and another identity's must be refused before a load would adopt their maps. */
	int rc = dp_info_read(d->dp.bpffs, &info);

	if (rc == 0 && (info.mode != DP_MODE_WORKLOAD || info.identity != id)) {
		snprintf(err, err_len,
			 "the datapath pinned under %s is %s mode with identity %u, not this "
			 "machine's (%u): remove it with 'pseudopod leave' or 'pp-datapath "
			 "unload --bpffs %s'",
			 d->dp.bpffs, info.mode == DP_MODE_WORKLOAD ? "workload" : "gateway",
			 info.identity, id, d->dp.bpffs);
		return -EEXIST;
	}
	if (rc == 0 && dp_open(d->dp.bpffs, &d->dp.dp) == 0) {
		d->dp.adopted = true;
		log_info("datapath: adopted the pins under %s (identity %u)", d->dp.bpffs, id);
		return 0;
	}
	/* no pins, or an older build's: a load (adopting every pinned map that still fits) */
	rc = dp_load(&(struct dp_load_opts){
	    .bpffs = d->dp.bpffs,
	    .mode = DP_MODE_WORKLOAD,
	    .identity = id,
	    .ipcache_max = d->cfg.datapath.ipcache_max,
	    .policy_max = d->cfg.datapath.policy_max,
	    .conntrack_max = d->cfg.datapath.conntrack_max,
	    .events_per_second = d->cfg.datapath.events_per_second,
	});
	if (rc == 0)
		rc = dp_open(d->dp.bpffs, &d->dp.dp);
	if (rc < 0) {
		snprintf(err, err_len, "loading the datapath under %s: %s", d->dp.bpffs,
			 strerror(-rc));
		return rc;
	}
	log_info("datapath: loaded and pinned under %s (identity %u)", d->dp.bpffs, id);
	return 0;
}

/*
 * VXLAN: the first gateway (the tunnel's, daemon_tunnel.c) is the remote of every address
 * without a tunnel endpoint of its own, and the only source trusted for their identities
 * (bpf/datapath.h, struct dp_tunnel). WireGuard: none (the peers' allowed-ips route).
 */
static int set_tunnel_gateway(struct daemon *d, char *err, size_t err_len)
{
	struct in_addr a = {0};
	int rc;

	if (d->cfg.tunnel.mode == CONFIG_TUNNEL_VXLAN && d->tun.gws.n &&
	    inet_pton(AF_INET, d->tun.gw_endpoints[0], &a) != 1) {
		snprintf(err, err_len, "gateway %s: VXLAN endpoint '%s' is not an IPv4 address",
			 d->tun.gw_names[0], d->tun.gw_endpoints[0]);
		return -EINVAL;
	}
	rc = dp_tunnel_set(d->dp.dp, a.s_addr);
	if (rc < 0)
		snprintf(err, err_len, "datapath: writing the tunnel gateway: %s", strerror(-rc));
	return rc;
}

int daemon_datapath_up(struct daemon *d, char *err, size_t err_len)
{
	int rc;

	snprintf(d->dp.bpffs, sizeof(d->dp.bpffs), "%s", d->cfg.agent.bpffs_root);
	rc = open_or_load(d, err, err_len);
	rc = rc ?: set_tunnel_gateway(d, err, err_len);
	if (rc < 0)
		return rc;
	rc = dp_events_open(d->dp.dp, on_event, d, &d->dp.ev);
	if (rc < 0) {
		log_warn("datapath: events: %s (no flows for observe)", strerror(-rc));
		return 0;
	}
	rc = daemon_loop_add(d->loop, &(struct daemon_loop_source){
					  .name = "datapath events",
					  .fd = dp_events_fd(d->dp.ev),
					  .events = POLLIN,
					  .cb = on_events_fd,
					  .ctx = d,
				      });
	return rc < 0 ? rc : 0;
}

int daemon_datapath_attach(struct daemon *d)
{
	int rc = dp_attach(d->dp.bpffs, d->cfg.tunnel.device, NULL, DP_DEV_AUTO);

	if (rc < 0)
		log_error("datapath: attaching to %s: %s", d->cfg.tunnel.device, strerror(-rc));
	else
		log_info("datapath: attached to %s", d->cfg.tunnel.device);
	return rc;
}

struct closed_ctx {
	uint32_t ep;
	struct policy_entry *del;
	size_t n, cap;
};

static int collect_allow(const struct dp_policy_row *r, void *arg)
{
	struct closed_ctx *c = arg;
	unsigned int refs = r->refcnt ? r->refcnt : 1;
	struct policy_entry e;

	if (r->endpoint != c->ep || !agent_policy_row_entry(r, &e) || e.deny)
		return 0;
	while (c->n + refs > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		void *p = realloc(c->del, cap * sizeof(*c->del));
		if (!p)
			return -ENOMEM;
		c->del = p;
		c->cap = cap;
	}
	/* a key held by n entries needs n removals */
	for (unsigned int k = 0; k < refs; k++)
		c->del[c->n++] = e;
	return 0;
}

/*
 * fail-mode = closed with neither store nor snapshot: enforce both directions and withdraw
 * every allow key of this endpoint (deny keys stay). Established flows still pass through
 * conntrack, which the datapath consults before policy; nothing new does. Each step only
 * narrows what passes, so the order is safe at every point.
 */
int daemon_datapath_fail_closed(struct daemon *d)
{
	uint32_t ep = d->enr.workload.identity;
	struct closed_ctx c = {.ep = ep};
	int lock = -1, rc;

	rc = dp_lock(d->dp.bpffs, 5000, &lock);
	if (rc < 0)
		return rc;
	rc = dp_endpoint_set(d->dp.dp, ep, DP_EP_F_ENFORCE_INGRESS | DP_EP_F_ENFORCE_EGRESS);
	rc = rc ?: dp_policy_foreach(d->dp.dp, collect_allow, &c);
	for (size_t i = 0; rc == 0 && i < c.n; i++)
		rc = dp_policy_apply(d->dp.dp, ep, NULL, 0, &c.del[i], 1);
	dp_unlock(lock);
	if (rc == 0) {
		d->dp.closed = true;
		log_warn("datapath: fail-mode closed: no store and no snapshot, %zu allow keys "
			 "withdrawn; only established flows pass until the store answers",
			 c.n);
	}
	free(c.del);
	return rc;
}

void daemon_datapath_close(struct daemon *d)
{
	dp_events_close(d->dp.ev);
	d->dp.ev = NULL;
	dp_close(d->dp.dp);
	d->dp.dp = NULL;
}

static json_t *programs_json(struct daemon *d)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < sizeof(prog_names) / sizeof(prog_names[0]); i++) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		int fd = dp_prog_fd(d->dp.bpffs, prog_names[i]);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			json_array_append_new(a, json_pack("{s:s, s:I}", "name", prog_names[i],
							   "id", (json_int_t)info.id));
		close(fd);
	}
	return a;
}

/* The sync's running ipcache count (no walk of a 100k-entry map per request); a walk only
 * before the first store sync (pins, snapshot, fail-closed). */
static json_t *maps_json(struct daemon *d)
{
	struct agent_policy_sync *ps = daemon_policy_sync(d);
	size_t n_ipc = 0;
	bool counted = ps && agent_policy_ipcache_count(ps, &n_ipc) == 0;

	return api_state_maps_json(d->dp.dp, counted ? &n_ipc : NULL);
}

json_t *daemon_datapath_status(struct daemon *d)
{
	uint32_t flags = 0;

	if (!d->dp.dp)
		return json_pack("{s:b}", "loaded", 0);
	dp_endpoint_get(d->dp.dp, d->enr.workload.identity, &flags);
	return json_pack("{s:s, s:[s], s:b, s:b, s:o, s:o, s:I}", "bpffs", d->dp.bpffs, "devices",
			 d->cfg.tunnel.device, "adopted", d->dp.adopted, "fail_closed",
			 d->dp.closed, "programs", programs_json(d), "maps", maps_json(d),
			 "endpoint_flags", (json_int_t)flags);
}

int daemon_datapath_metrics(struct daemon *d)
{
	struct dp_metric m[DP_METRICS_SLOTS];
	int rc;

	if (!d->dp.dp)
		return 0;
	rc = dp_metrics_read(d->dp.dp, m);
	return rc < 0 ? rc : metrics_update_datapath(d->metrics, m);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * gateway_api: read-only views of the gateway's state for pseudopodd's local API and
 * metrics in gateway mode (contract in gateway.h). Nothing here writes the store, the
 * maps or the tunnel device.
 */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "agent/api_state.h"
#include "agent/gateway_internal.h"
#include "lib/kv/kv.h"
#include "lib/policy_entry.h"
#include "policy/engine.h"

struct policy_engine *gateway_engine(const struct gateway *gw)
{
	return gw->engine;
}

struct dp *gateway_dp(const struct gateway *gw)
{
	return gw->dp;
}

const uint32_t *gateway_endpoints(const struct gateway *gw, size_t *n)
{
	*n = gw->n_eps;
	return gw->eps;
}

int64_t gateway_policy_revision(const struct gateway *gw)
{
	return gw->w[GW_W_POLICIES] ? kv_watch_revision(gw->w[GW_W_POLICIES]) : 0;
}

/* One machine served, with what the tunnel device reports for its key. */
static json_t *peer_json(const struct gw_workload *w, const struct wg_peer *peers, size_t n)
{
	char overlay[INET_ADDRSTRLEN] = "", underlay[INET_ADDRSTRLEN] = "";
	json_t *o;

	inet_ntop(AF_INET, w->ipc.addr, overlay, sizeof(overlay));
	inet_ntop(AF_INET, &w->ipc.tunnel_ipv4, underlay, sizeof(underlay));
	o = json_pack("{s:s, s:I, s:s, s:s, s:b}", "name", w->name, "identity",
		      (json_int_t)w->identity, "overlay_ip", overlay, "underlay_ip", underlay,
		      "has_key", w->has_key);
	for (size_t k = 0; o && w->has_key && k < n; k++) {
		if (memcmp(peers[k].public_key, w->key, WG_KEY_LEN))
			continue;
		json_object_set_new(o, "handshake_age_s",
				    peers[k].last_handshake_s
					? json_integer(time(NULL) - peers[k].last_handshake_s)
					: json_null());
		json_object_set_new(o, "rx_bytes", json_integer((json_int_t)peers[k].rx_bytes));
		json_object_set_new(o, "tx_bytes", json_integer((json_int_t)peers[k].tx_bytes));
	}
	return o;
}

static json_t *peers_json(const struct gateway *gw)
{
	struct wg_peer *peers = NULL;
	size_t n = 0;
	json_t *a = json_array();

	if (gw->wg && wg_get_peers(gw->wg, &peers, &n) < 0)
		n = 0;
	for (size_t i = 0; a && i < gw->workloads.n; i++)
		json_array_append_new(a, peer_json(gw_vec_at(&gw->workloads, i), peers, n));
	wg_peers_free(peers, n);
	return a;
}

static json_t *policy_json(const struct gateway *gw)
{
	size_t in = 0, out = 0, n;

	for (size_t i = 0; gw->engine && i < gw->n_eps; i++) {
		const struct policy_entry *v = policy_engine_entries(gw->engine, gw->eps[i], &n);

		for (size_t k = 0; k < n; k++)
			v[k].direction == POLICY_INGRESS ? in++ : out++;
	}
	return json_pack("{s:I, s:I, s:{s:I, s:I}}", "revision",
			 (json_int_t)gateway_policy_revision(gw), "policies",
			 (json_int_t)(gw->engine ? policy_engine_policy_count(gw->engine) : 0),
			 "entries", "ingress", (json_int_t)in, "egress", (json_int_t)out);
}

/* The store as the gateway sees it: a lease renewed within its TTL means the store
 * answered recently (the watches have no connection state of their own to show). */
static json_t *store_json(const struct gateway *gw)
{
	int64_t now = gw_now_ms(), age = gw->reg.renewed_ms ? now - gw->reg.renewed_ms : -1;
	bool connected = gw->reg.lease && age >= 0 && age < gw->reg.ttl_s * 1000;

	return json_pack("{s:b, s:b, s:s, s:I, s:I, s:o, s:I}", "connected", connected, "synced",
			 gw_all_synced(gw), "state",
			 !gw_all_synced(gw) ? "syncing"
			 : connected	    ? "live"
					    : "stale",
			 "revision", (json_int_t)gw->st.revision, "lease",
			 (json_int_t)gw->reg.lease, "lease_renewed_age_s",
			 age >= 0 ? json_integer(age / 1000) : json_null(), "lease_regrants",
			 (json_int_t)gw->reg.regrants);
}

json_t *gateway_status_json(const struct gateway *gw)
{
	struct gateway_stats st;

	gateway_stats(gw, &st);
	return json_pack("{s:{s:s, s:s, s:s, s:b}, s:o, s:{s:I, s:I, s:I}, s:o, s:o, s:{s:s, "
			 "s:o}}",
			 "gateway", "name", gw->name, "device", gw->ifname, "tunnel",
			 gw->vxlan ? "vxlan" : "wireguard", "synced", st.synced, "peers",
			 peers_json(gw), "endpoints", "local", (json_int_t)gw->n_eps, "pods",
			 (json_int_t)gw->pods.n, "machines", (json_int_t)gw->workloads.n, "store",
			 store_json(gw), "policy", policy_json(gw), "datapath", "bpffs", gw->bpffs,
			 "maps", api_state_maps_json(gw->dp, NULL));
}

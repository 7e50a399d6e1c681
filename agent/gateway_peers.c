// SPDX-License-Identifier: GPL-2.0-only
/*
 * gateway_peers: one WireGuard peer per machine of workloads/, changed one peer at a time
 * (tunnel/wg.h's incremental operations): a gateway holds thousands and rewriting them all
 * would reset every session. allowed-ips = the machine's overlay IP alone (replacing what
 * the peer had), so WireGuard's cryptokey routing already refuses any other source from
 * that key; the datapath's anti-spoofing refuses sources that are no machine at all.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "agent/gateway_internal.h"
#include "lib/log.h"
#include "tunnel/keys.h"

static void peer_log(const char *what, const struct gw_workload *w, int rc,
		     const struct gateway *gw)
{
	char b64[WG_KEY_B64_LEN];

	tunnel_key_to_base64(b64, w->key);
	if (rc)
		log_warn("gateway: %s peer %s of workloads/%s: %s (%s)", what, b64, w->name,
			 strerror(-rc), wg_device_error(gw->wg));
	else
		log_info("gateway: %s peer %s of workloads/%s", what, b64, w->name);
}

static int peer_set(struct gateway *gw, const struct gw_workload *w)
{
	struct wg_allowed_ip aip = {.family = w->ipc.family == 4 ? AF_INET : AF_INET6,
				    .cidr = w->ipc.plen};
	struct wg_peer p = {.replace_allowed_ips = true,
			    .allowed_ips = &aip,
			    .n_allowed_ips = 1,
			    .keepalive_s = gw->keepalive_s};

	memcpy(p.public_key, w->key, WG_KEY_LEN);
	memcpy(aip.family == AF_INET ? (void *)&aip.ip4 : (void *)&aip.ip6, w->ipc.addr,
	       aip.family == AF_INET ? 4 : 16);
	/* Where to send first; a machine behind NAT is found by its handshake instead. */
	if (w->ipc.tunnel_ipv4) {
		p.has_endpoint = true;
		p.endpoint.in4.sin_family = AF_INET;
		p.endpoint.in4.sin_addr.s_addr = w->ipc.tunnel_ipv4;
		p.endpoint.in4.sin_port = htons(gw->cfg.wireguard_port);
	}
	return wg_set_peer(gw->wg, &p);
}

void gw_peer_update(struct gateway *gw, const struct gw_workload *old,
		    const struct gw_workload *cur)
{
	int rc;

	if (!gw->wg)
		return; /* VXLAN: the ipcache entry (underlay binding) is the whole binding */
	if (old && old->has_key &&
	    (!cur || !cur->has_key || memcmp(old->key, cur->key, WG_KEY_LEN))) {
		rc = wg_remove_peer(gw->wg, old->key);
		peer_log("removed", old, rc, gw);
	}
	if (cur && cur->has_key &&
	    (!old || !old->has_key || memcmp(old->key, cur->key, WG_KEY_LEN) ||
	     memcmp(&old->ipc, &cur->ipc, sizeof(cur->ipc)))) {
		rc = peer_set(gw, cur);
		peer_log("set", cur, rc, gw);
	}
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, WG_KEY_LEN);
}

/*
 * After a (re)listing of workloads/: the device may hold peers of machines deleted while
 * the gateway was down or disconnected. Each such peer is removed one by one; peers of
 * listed machines are (re)set (a no-op for WireGuard when nothing changed).
 */
void gw_peers_sweep(struct gateway *gw)
{
	struct wg_peer *peers = NULL;
	uint8_t(*want)[WG_KEY_LEN];
	size_t n = 0, n_want = 0;
	int rc;

	if (!gw->wg)
		return;
	want = calloc(gw->workloads.n + 1, WG_KEY_LEN);
	if (!want)
		return;
	for (size_t i = 0; i < gw->workloads.n; i++) {
		const struct gw_workload *w = gw_vec_at(&gw->workloads, i);

		if (!w->has_key)
			continue;
		memcpy(want[n_want++], w->key, WG_KEY_LEN);
		rc = peer_set(gw, w);
		if (rc)
			peer_log("set", w, rc, gw);
	}
	qsort(want, n_want, WG_KEY_LEN, key_cmp);
	rc = wg_get_peers(gw->wg, &peers, &n);
	if (rc)
		log_warn("gateway: reading the peers of %s: %s", gw->ifname, strerror(-rc));
	for (size_t i = 0; !rc && i < n; i++) {
		if (bsearch(peers[i].public_key, want, n_want, WG_KEY_LEN, key_cmp))
			continue;
		if (wg_remove_peer(gw->wg, peers[i].public_key) == 0)
			log_info("gateway: removed a peer no workload names any more");
	}
	gw->st.peers = n_want;
	wg_peers_free(peers, n);
	free(want);
}

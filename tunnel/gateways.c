// SPDX-License-Identifier: GPL-2.0-only
#include "tunnel/gateways.h"

#include <errno.h>
#include <string.h>

bool tunnel_gateways_init(struct tunnel_gateways *g, uint32_t stale_s, uint32_t hold_s)
{
	g->applied = false;
	return g->n_cidrs <= TUNNEL_GATEWAYS_MAX_CIDRS &&
	       tunnel_failover_init(&g->fo, g->n, stale_s, hold_s);
}

static int set_gateway(struct wg_device *dev, const struct tunnel_gateways *g, size_t i,
		       bool active)
{
	struct wg_allowed_ip ips[TUNNEL_GATEWAYS_MAX_CIDRS + 1];
	struct wg_peer p = g->gw[i].peer;

	p.keepalive_s = g->keepalive_s;
	p.replace_allowed_ips = true;
	p.allowed_ips = ips;
	p.n_allowed_ips = 1;
	ips[0] = g->gw[i].overlay;
	if (active) {
		memcpy(ips + 1, g->cidrs, g->n_cidrs * sizeof(ips[0]));
		p.n_allowed_ips += g->n_cidrs;
	}
	return wg_set_peer(dev, &p);
}

int tunnel_gateways_apply(struct wg_device *dev, struct tunnel_gateways *g)
{
	size_t active = g->fo.active;
	int rc;

	g->applied = false;
	rc = set_gateway(dev, g, active, true);
	for (size_t i = 0; rc == 0 && i < g->n; i++)
		if (i != active)
			rc = set_gateway(dev, g, i, false);
	if (rc == 0) {
		g->applied = true;
		g->applied_active = active;
	}
	return rc;
}

int tunnel_gateways_poll(struct wg_device *dev, struct tunnel_gateways *g, int64_t now_s)
{
	size_t before = g->fo.active, n = 0;
	struct wg_peer *peers = NULL;
	int rc;

	rc = wg_get_peers(dev, &peers, &n);
	if (rc < 0)
		return rc;
	for (size_t k = 0; k < g->n; k++)
		for (size_t i = 0; i < n; i++)
			if (!memcmp(peers[i].public_key, g->gw[k].peer.public_key, WG_KEY_LEN))
				tunnel_failover_observe(&g->fo, k, peers[i].last_handshake_s,
							peers[i].rx_bytes, now_s);
	wg_peers_free(peers, n);
	tunnel_failover_decide(&g->fo, now_s);
	if (!g->applied || g->applied_active != g->fo.active) {
		rc = tunnel_gateways_apply(dev, g);
		if (rc < 0)
			return rc;
	}
	return g->fo.active != before;
}

// SPDX-License-Identifier: GPL-2.0-only
#include "tunnel/gateways.h"

#include <errno.h>
#include <sys/types.h>
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

	p.keepalive_s = g->gw[i].quiet_polls ? 0 : g->keepalive_s;
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
	for (size_t k = 0; k < g->n; k++)
		if (g->gw[k].quiet_polls && --g->gw[k].quiet_polls == 0)
			g->applied = false; /* rewritten below, keepalive on */
	tunnel_failover_decide(&g->fo, now_s);
	if (!g->applied || g->applied_active != g->fo.active) {
		rc = tunnel_gateways_apply(dev, g);
		if (rc < 0)
			return rc;
	}
	return g->fo.active != before;
}

static ssize_t find_key(const struct tunnel_gateways *g, const uint8_t *key)
{
	for (size_t i = 0; i < g->n; i++)
		if (!memcmp(g->gw[i].peer.public_key, key, WG_KEY_LEN))
			return (ssize_t)i;
	return -1;
}

/* A failed device write leaves the arrays right and the device to the next poll. */
static int settle(struct tunnel_gateways *g, int rc)
{
	if (rc < 0)
		g->applied = false;
	return rc;
}

int tunnel_gateways_add(struct wg_device *dev, struct tunnel_gateways *g,
			const struct tunnel_gateway *gw)
{
	if (find_key(g, gw->peer.public_key) >= 0)
		return -EEXIST;
	if (!tunnel_failover_add(&g->fo))
		return -ENOSPC;
	g->gw[g->n] = *gw;
	g->gw[g->n++].quiet_polls = TUNNEL_GATEWAYS_QUIET_POLLS;
	return settle(g, set_gateway(dev, g, g->n - 1, g->fo.active == g->n - 1));
}

int tunnel_gateways_update(struct wg_device *dev, struct tunnel_gateways *g, size_t i,
			   const struct tunnel_gateway *gw)
{
	uint8_t old[WG_KEY_LEN];
	bool rekey;
	ssize_t other = find_key(g, gw->peer.public_key);
	int rc;

	if (i >= g->n)
		return -ERANGE;
	if (other >= 0 && (size_t)other != i)
		return -EEXIST;
	memcpy(old, g->gw[i].peer.public_key, WG_KEY_LEN);
	rekey = memcmp(old, gw->peer.public_key, WG_KEY_LEN) != 0;
	g->gw[i] = *gw;
	if (rekey)
		memset(&g->fo.gw[i], 0, sizeof(g->fo.gw[i]));
	rc = set_gateway(dev, g, i, g->fo.active == i);
	if (rc == 0 && rekey)
		rc = wg_remove_peer(dev, old);
	return settle(g, rc);
}

int tunnel_gateways_remove(struct wg_device *dev, struct tunnel_gateways *g, size_t i,
			   int64_t now_s)
{
	struct tunnel_gateway gone;
	int rc = 0;

	if (i >= g->n)
		return -ERANGE;
	if (g->n == 1)
		return -EBUSY;
	gone = g->gw[i];
	bool carried = !g->applied || g->applied_active == i || g->fo.active == i;

	if (!tunnel_failover_remove(&g->fo, i, now_s))
		return -ERANGE;
	memmove(&g->gw[i], &g->gw[i + 1], (g->n - i - 1) * sizeof(g->gw[0]));
	g->n--;
	if (g->applied && g->applied_active > i)
		g->applied_active--;
	/* The successor takes the CIDRs before the leaving peer goes. */
	if (carried)
		rc = tunnel_gateways_apply(dev, g);
	if (rc == 0)
		rc = wg_remove_peer(dev, gone.peer.public_key);
	return settle(g, rc);
}

int tunnel_gateways_set_cidrs(struct wg_device *dev, struct tunnel_gateways *g,
			      const struct wg_allowed_ip *cidrs, size_t n)
{
	if (n > TUNNEL_GATEWAYS_MAX_CIDRS)
		return -E2BIG;
	memcpy(g->cidrs, cidrs, n * sizeof(cidrs[0]));
	g->n_cidrs = n;
	return settle(g, set_gateway(dev, g, g->fo.active, true));
}

// SPDX-License-Identifier: GPL-2.0-only
#include "tunnel/failover.h"

#include <string.h>

bool tunnel_failover_init(struct tunnel_failover *f, size_t n, uint32_t stale_s, uint32_t hold_s)
{
	memset(f, 0, sizeof(*f));
	if (n == 0 || n > TUNNEL_FAILOVER_MAX_GATEWAYS || stale_s == 0)
		return false;
	f->n = n;
	f->stale_s = stale_s;
	f->hold_s = hold_s;
	return true;
}

void tunnel_failover_observe(struct tunnel_failover *f, size_t i, int64_t last_handshake_s,
			     uint64_t rx_bytes, int64_t now_s)
{
	struct tunnel_failover_gw *g;

	if (i >= f->n)
		return;
	g = &f->gw[i];
	if (last_handshake_s > g->last_seen_s && last_handshake_s <= now_s)
		g->last_seen_s = last_handshake_s;
	/* A counter that moved since the last poll means the peer talked to us since then.
	 * A counter that went down means the peer was re-created: take it as the new base. */
	if (g->rx_known && rx_bytes > g->rx_bytes)
		g->last_seen_s = now_s;
	g->rx_bytes = rx_bytes;
	g->rx_known = true;
}

bool tunnel_failover_healthy(const struct tunnel_failover *f, size_t i, int64_t now_s)
{
	const struct tunnel_failover_gw *g = &f->gw[i];

	return g->last_seen_s && now_s - g->last_seen_s <= (int64_t)f->stale_s;
}

/* The active gateway gets the full stale bound from start-up to say hello. */
static bool active_in_grace(const struct tunnel_failover *f, int64_t now_s)
{
	return f->gw[f->active].last_seen_s == 0 && now_s - f->started_s <= (int64_t)f->stale_s;
}

size_t tunnel_failover_decide(struct tunnel_failover *f, int64_t now_s)
{
	size_t pick = f->active;

	if (!f->started_s)
		f->started_s = now_s;
	for (size_t i = 0; i < f->n; i++) {
		bool h = tunnel_failover_healthy(f, i, now_s);

		if (!h)
			f->gw[i].healthy_since_s = 0;
		else if (!f->gw[i].healthy_since_s)
			f->gw[i].healthy_since_s = now_s;
	}
	if (tunnel_failover_healthy(f, f->active, now_s) || active_in_grace(f, now_s)) {
		if (f->active != 0 && f->gw[0].healthy_since_s &&
		    now_s - f->gw[0].healthy_since_s >= (int64_t)f->hold_s)
			pick = 0;
	} else if (f->gw[0].healthy_since_s) {
		pick = 0;
	} else {
		int64_t best = 0;

		for (size_t i = 1; i < f->n; i++) {
			int64_t since = f->gw[i].healthy_since_s;

			if (since && (!best || since < best)) {
				best = since;
				pick = i;
			}
		}
	}
	if (pick != f->active) {
		f->active = pick;
		f->switches++;
	}
	return f->active;
}

bool tunnel_failover_add(struct tunnel_failover *f)
{
	if (f->n >= TUNNEL_FAILOVER_MAX_GATEWAYS)
		return false;
	memset(&f->gw[f->n], 0, sizeof(f->gw[0]));
	f->n++;
	return true;
}

/* Among the gateways other than skip: healthy for longest, else the first. */
static size_t successor(const struct tunnel_failover *f, size_t skip, int64_t now_s)
{
	size_t pick = skip == 0 ? 1 : 0;
	int64_t best = 0;

	for (size_t i = 0; i < f->n; i++) {
		int64_t since = f->gw[i].healthy_since_s;

		if (i == skip || !tunnel_failover_healthy(f, i, now_s))
			continue;
		if (!since)
			since = now_s; /* healthy, not yet seen by decide() */
		if (!best || since < best) {
			best = since;
			pick = i;
		}
	}
	return pick;
}

bool tunnel_failover_remove(struct tunnel_failover *f, size_t i, int64_t now_s)
{
	size_t active = f->active;

	if (i >= f->n || f->n == 1)
		return false;
	if (i == active) {
		active = successor(f, i, now_s);
		f->switches++;
	}
	memmove(&f->gw[i], &f->gw[i + 1], (f->n - i - 1) * sizeof(f->gw[0]));
	f->n--;
	f->active = active > i ? active - 1 : active;
	return true;
}

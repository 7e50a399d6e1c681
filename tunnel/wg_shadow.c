// SPDX-License-Identifier: GPL-2.0-only
#include "tunnel/wg_shadow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static bool same_ip(const struct wg_allowed_ip *a, const struct wg_allowed_ip *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       (a->family == AF_INET ? !memcmp(&a->ip4, &b->ip4, 4)
				     : !memcmp(&a->ip6, &b->ip6, 16));
}

static ssize_t find_index(const struct wg_shadow *s, const uint8_t key[WG_KEY_LEN])
{
	/* Linear: thousands of peers × one memcmp each is microseconds, next to a UAPI
	 * round trip of a millisecond. */
	for (size_t i = 0; i < s->n_peers; i++)
		if (!memcmp(s->peers[i].public_key, key, WG_KEY_LEN))
			return (ssize_t)i;
	return -1;
}

const struct wg_peer *wg_shadow_find(const struct wg_shadow *s,
				     const uint8_t public_key[WG_KEY_LEN])
{
	ssize_t i = find_index(s, public_key);

	return i < 0 ? NULL : &s->peers[i];
}

/* Gives owner's allowed IPs to owner alone, as WireGuard does. */
static void take_ips(struct wg_shadow *s, const struct wg_peer *owner)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		struct wg_peer *p = &s->peers[i];

		if (!memcmp(p->public_key, owner->public_key, WG_KEY_LEN))
			continue;
		for (size_t j = 0; j < p->n_allowed_ips;) {
			bool taken = false;

			for (size_t k = 0; k < owner->n_allowed_ips && !taken; k++)
				taken = same_ip(&p->allowed_ips[j], &owner->allowed_ips[k]);
			if (taken)
				p->allowed_ips[j] = p->allowed_ips[--p->n_allowed_ips];
			else
				j++;
		}
	}
}

int wg_shadow_set_peer(struct wg_shadow *s, const struct wg_peer *in)
{
	ssize_t idx = find_index(s, in->public_key);
	struct wg_peer *p;
	size_t need;

	if (idx < 0) {
		if (s->n_peers == s->cap_peers) {
			size_t ncap = s->cap_peers ? s->cap_peers * 2 : 16;
			struct wg_peer *np = realloc(s->peers, ncap * sizeof(*np));

			if (!np)
				return -ENOMEM;
			s->peers = np;
			s->cap_peers = ncap;
		}
		p = &s->peers[s->n_peers++];
		memset(p, 0, sizeof(*p));
		memcpy(p->public_key, in->public_key, WG_KEY_LEN);
	} else {
		p = &s->peers[idx];
	}
	if (in->has_endpoint) {
		p->has_endpoint = true;
		p->endpoint = in->endpoint;
	}
	p->keepalive_s = in->keepalive_s;
	if (in->replace_allowed_ips)
		p->n_allowed_ips = 0;
	need = p->n_allowed_ips + in->n_allowed_ips;
	if (need) {
		struct wg_allowed_ip *na = realloc(p->allowed_ips, need * sizeof(*na));

		if (!na)
			return -ENOMEM;
		p->allowed_ips = na;
	}
	for (size_t k = 0; k < in->n_allowed_ips; k++) {
		bool dup = false;

		for (size_t j = 0; j < p->n_allowed_ips && !dup; j++)
			dup = same_ip(&p->allowed_ips[j], &in->allowed_ips[k]);
		if (!dup)
			p->allowed_ips[p->n_allowed_ips++] = in->allowed_ips[k];
	}
	p->replace_allowed_ips = true;
	take_ips(s, in);
	return 0;
}

void wg_shadow_remove_peer(struct wg_shadow *s, const uint8_t public_key[WG_KEY_LEN])
{
	ssize_t i = find_index(s, public_key);

	if (i < 0)
		return;
	free(s->peers[i].allowed_ips);
	s->peers[i] = s->peers[--s->n_peers];
}

void wg_shadow_free(struct wg_shadow *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_peers; i++)
		free(s->peers[i].allowed_ips);
	free(s->peers);
	s->peers = NULL;
	s->n_peers = s->cap_peers = 0;
}

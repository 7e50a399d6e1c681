// SPDX-License-Identifier: GPL-2.0-only
/* pp-tunnel: option parsing and device opening shared by the subcommands. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/parse_num.h"
#include "tunnel/keys.h"
#include "tunnel/wg_uapi.h"

#include "tunnel/tool/pp-tunnel.h"

/* ---- peers on the command line: PUB,ENDPOINT|-,ALLOWED[+ALLOWED...]|-[,KEEPALIVE] ---- */

static bool parse_peer_spec_fields(struct wg_peer *p, const char *spec, char *why, size_t why_len)
{
	char buf[4096], *fields[4] = {0}, *save = NULL, *tok, *ip;
	int n = 0;

	memset(p, 0, sizeof(*p));
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		snprintf(why, why_len, "peer spec too long");
		return false;
	}
	for (tok = strtok_r(buf, ",", &save); tok && n < 4; tok = strtok_r(NULL, ",", &save))
		fields[n++] = tok;
	if (n < 2 || tok) {
		snprintf(why, why_len,
			 "'%s': expected PUBKEY,ENDPOINT|-,ALLOWED[+...]|-[,KEEPALIVE]", spec);
		return false;
	}
	if (!tunnel_key_from_base64(p->public_key, fields[0], why, why_len))
		return false;
	if (strcmp(fields[1], "-") && !wg_uapi_parse_endpoint(p, fields[1])) {
		snprintf(why, why_len, "'%s': expected IP:PORT or [IP6]:PORT", fields[1]);
		return false;
	}
	if (fields[2] && strcmp(fields[2], "-")) {
		p->replace_allowed_ips = true;
		for (ip = strtok_r(fields[2], "+", &save); ip; ip = strtok_r(NULL, "+", &save)) {
			struct wg_allowed_ip *na;

			na = realloc(p->allowed_ips, (p->n_allowed_ips + 1) * sizeof(*na));
			if (!na) {
				snprintf(why, why_len, "out of memory");
				return false;
			}
			p->allowed_ips = na;
			if (!wg_uapi_parse_allowed_ip(&na[p->n_allowed_ips], ip)) {
				snprintf(why, why_len, "'%s': expected ADDRESS/PREFIX", ip);
				return false;
			}
			p->n_allowed_ips++;
		}
	}
	if (fields[3] && !parse_u16(fields[3], 0, 65535, &p->keepalive_s, NULL, 0)) {
		snprintf(why, why_len, "'%s': keepalive is seconds 0..65535", fields[3]);
		return false;
	}
	return true;
}

/* Leaves nothing allocated when the spec is rejected. */
bool ppt_parse_peer_spec(struct wg_peer *p, const char *spec, char *why, size_t why_len)
{
	if (parse_peer_spec_fields(p, spec, why, why_len))
		return true;
	free(p->allowed_ips);
	p->allowed_ips = NULL;
	p->n_allowed_ips = 0;
	return false;
}

/* Prints lib/parse_num.h's reason. */
bool ppt_parse_u32_arg(const char *s, uint32_t max, uint32_t *out)
{
	char why[160];

	if (parse_u32(s, 0, max, out, why, sizeof(why)))
		return true;
	fprintf(stderr, "pp-tunnel: %s\n", why);
	return false;
}

bool ppt_parse_backend(const char *s, int *out)
{
	if (!strcmp(s, "auto"))
		*out = 0;
	else if (!strcmp(s, "kernel"))
		*out = WG_BACKEND_KERNEL;
	else if (!strcmp(s, "userspace"))
		*out = WG_BACKEND_USERSPACE;
	else {
		fprintf(stderr, "pp-tunnel: backend '%s': expected auto, kernel or userspace\n", s);
		return false;
	}
	return true;
}

/* wg-set, wg-remove, wg-show: an optional "--backend B" as the last two of exactly at + 2
 * arguments (anything else there is ignored). False when B is not a backend. */
bool ppt_parse_backend_tail(int argc, char **argv, int at, int *backend)
{
	if (argc != at + 2 || strcmp(argv[at], "--backend"))
		return true;
	return ppt_parse_backend(argv[at + 1], backend);
}

int ppt_open_device(struct wg_device **dev, const char *ifname, int backend, const char *wg_go)
{
	enum wg_backend_kind kind;
	char why[512];
	int rc;

	rc = wg_backend_resolve(backend, &kind, wg_go, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return rc;
	}
	rc = wg_device_open(dev, ifname, kind, wg_go);
	if (rc < 0)
		fprintf(stderr, "pp-tunnel: %s: cannot open the WireGuard device: %s\n", ifname,
			strerror(-rc));
	return rc;
}

/* wg-set, wg-remove, wg-show, peer-flood work on a device that wg-up made: never create. */
int ppt_open_existing(struct wg_device **dev, const char *ifname, int backend)
{
	if (!if_nametoindex(ifname)) {
		fprintf(stderr, "pp-tunnel: %s: no such device (create it with wg-up)\n", ifname);
		return -ENODEV;
	}
	return ppt_open_device(dev, ifname, backend, NULL);
}

bool ppt_add_route(struct ppt_up_opts *o, const char *text)
{
	char why[256];

	if (o->link.n_routes == TUNNEL_LINK_MAX_ROUTES) {
		fprintf(stderr, "pp-tunnel: at most %d routes\n", TUNNEL_LINK_MAX_ROUTES);
		return false;
	}
	if (!tunnel_cidr_parse(&o->link.routes[o->link.n_routes], text, NET_HOST_BITS_REFUSE, why,
			       sizeof(why))) {
		fprintf(stderr, "pp-tunnel: --route %s\n", why);
		return false;
	}
	o->link.n_routes++;
	return true;
}

/*
 * The device options wg-up, vxlan-up and link share: --address, --route, and for the up
 * commands --mtu N|auto and --underlay-dev (link has its own --mtu and no --underlay-dev).
 * 1 taken, 0 not one of them, -1 bad value (message printed).
 */
int ppt_parse_link_opt(struct ppt_up_opts *o, int c, const char *arg)
{
	char why[256];

	switch (c) {
	case 'a':
		if (!tunnel_cidr_parse(&o->link.address, arg, NET_HOST_BITS_KEEP, why,
				       sizeof(why))) {
			fprintf(stderr, "pp-tunnel: --address %s\n", why);
			return -1;
		}
		o->link.has_address = true;
		return 1;
	case 'm':
		if (!strcmp(arg, "auto"))
			o->mtu_auto = true;
		else if (!ppt_parse_u32_arg(arg, 65535, &o->mtu))
			return -1;
		return 1;
	case 'u':
		o->underlay_dev = arg;
		return 1;
	case 'r':
		return ppt_add_route(o, arg) ? 1 : -1;
	default:
		return 0;
	}
}
int ppt_resolve_mtu(struct ppt_up_opts *o, enum tunnel_kind kind)
{
	const struct wg_peer *ref = o->gws.n	 ? &o->gws.gw[0].peer
				    : o->n_peers ? &o->peers[0]
						 : NULL;
	char dev[IFNAMSIZ];
	uint32_t under;
	int family = AF_INET, rc;

	if (!o->mtu_auto) {
		o->link.mtu = o->mtu;
		return 0;
	}
	if (ref && ref->has_endpoint)
		family = ref->endpoint.sa.sa_family;
	if (o->underlay_dev) {
		snprintf(dev, sizeof(dev), "%s", o->underlay_dev);
	} else if (ref && ref->has_endpoint) {
		rc = tunnel_link_route_dev(family,
					   family == AF_INET
					       ? (const void *)&ref->endpoint.in4.sin_addr
					       : &ref->endpoint.in6.sin6_addr,
					   dev);
		if (rc < 0) {
			fprintf(stderr, "pp-tunnel: no route to the first endpoint: %s\n",
				strerror(-rc));
			return rc;
		}
	} else {
		fprintf(stderr, "pp-tunnel: --mtu auto needs --underlay-dev or a peer endpoint\n");
		return -EINVAL;
	}
	rc = tunnel_link_mtu(dev, &under);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: MTU of %s: %s\n", dev, strerror(-rc));
		return rc;
	}
	o->link.mtu = under - tunnel_mtu_overhead(kind, family);
	log_info("%s: MTU %u (%s %u - overhead %u)", o->ifname, o->link.mtu, dev, under,
		 tunnel_mtu_overhead(kind, family));
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * link: what a tunnel device needs around it — overlay address, MTU, routes for the
 * cluster CIDRs, rp_filter — over rtnetlink (libmnl), in the caller's network namespace.
 *
 * Every "set" is a replace, so configuring twice is idempotent; tunnel_link_unconfigure()
 * removes exactly the routes and address tunnel_link_configure() would add (absent ones
 * are not an error). MTU: the underlay device's MTU minus the encapsulation overhead
 * (WireGuard 60 B over IPv4 / 80 B over IPv6, VXLAN 50 B / 70 B).
 * rp_filter: the kernel uses max(all, device), so the device is set to 2 (loose): replies
 * arriving on the tunnel from sources routed elsewhere are then not dropped, whatever
 * "all" says. Returns 0 or -errno; parsers return bool and say why.
 */
#ifndef PSEUDOPOD_TUNNEL_LINK_H
#define PSEUDOPOD_TUNNEL_LINK_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/net.h"

enum tunnel_kind { TUNNEL_KIND_WIREGUARD = 0, TUNNEL_KIND_VXLAN };

#define TUNNEL_LINK_MAX_ROUTES 64

struct tunnel_cidr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	};
	uint8_t len;
};

struct tunnel_link_cfg {
	char ifname[IFNAMSIZ];
	bool has_address;
	struct tunnel_cidr address; /* overlay IP/prefix on the device */
	uint32_t mtu;		    /* 0 = leave it */
	struct tunnel_cidr routes[TUNNEL_LINK_MAX_ROUTES];
	size_t n_routes; /* cluster CIDRs routed via the device */
};

/* "10.0.0.0/8", "fd00::/64"; a bare address means a host prefix (lib/net.h syntax). An
 * interface address keeps its host bits ("10.250.0.2/16", NET_HOST_BITS_KEEP); a route
 * refuses them (NET_HOST_BITS_REFUSE), as the kernel would. */
bool tunnel_cidr_parse(struct tunnel_cidr *out, const char *text, enum net_host_bits host_bits,
		       char *why, size_t why_len);
void tunnel_cidr_format(char *out, size_t len, const struct tunnel_cidr *c);

/* Encapsulation overhead in bytes for kind over an underlay of family (AF_INET[6]). */
uint32_t tunnel_mtu_overhead(enum tunnel_kind kind, int underlay_family);

int tunnel_link_mtu(const char *ifname, uint32_t *mtu);
/* The device the kernel routes dst through (the underlay toward a peer). */
int tunnel_link_route_dev(int family, const void *dst, char ifname[IFNAMSIZ]);
int tunnel_link_set_up(const char *ifname);
int tunnel_link_delete(const char *ifname);
int tunnel_link_set_rp_filter(const char *ifname, int value);

/* MTU, up, address, rp_filter, routes: all replace operations. */
int tunnel_link_configure(const struct tunnel_link_cfg *cfg);
int tunnel_link_unconfigure(const struct tunnel_link_cfg *cfg);
/* Moves one route to another device (fail-over): a single RTM_NEWROUTE with REPLACE. */
int tunnel_link_route_replace(const char *ifname, const struct tunnel_cidr *dst);
int tunnel_link_route_delete(const char *ifname, const struct tunnel_cidr *dst);

#endif

// SPDX-License-Identifier: GPL-2.0-only
#include "tunnel/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tunnel/nl.h"

bool tunnel_cidr_parse(struct tunnel_cidr *out, const char *text, enum net_host_bits host_bits,
		       char *why, size_t why_len)
{
	struct net_prefix p;

	memset(out, 0, sizeof(*out));
	if (!net_prefix_parse(text, host_bits, &p, why, why_len))
		return false;
	out->family = p.family;
	out->len = p.len;
	memcpy(out->family == AF_INET ? (void *)&out->ip4 : (void *)&out->ip6, p.addr,
	       out->family == AF_INET ? sizeof(out->ip4) : sizeof(out->ip6));
	return true;
}

void tunnel_cidr_format(char *out, size_t len, const struct tunnel_cidr *c)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->family == AF_INET ? (const void *)&c->ip4 : &c->ip6, ip,
		  sizeof(ip));
	snprintf(out, len, "%s/%u", ip, c->len);
}

uint32_t tunnel_mtu_overhead(enum tunnel_kind kind, int underlay_family)
{
	bool v6 = underlay_family == AF_INET6;

	/* WireGuard: IP (20/40) + UDP 8 + header 16 + tag 16. VXLAN: IP + UDP 8 + VXLAN 8 +
	 * inner Ethernet 14. */
	if (kind == TUNNEL_KIND_VXLAN)
		return v6 ? 70 : 50;
	return v6 ? 80 : 60;
}

static int ifindex_of(const char *ifname)
{
	unsigned int i = if_nametoindex(ifname);

	return i ? (int)i : -ENODEV;
}

struct mtu_ctx {
	uint32_t mtu;
	bool found;
};

static int link_mtu_attr(const struct nlattr *a, void *data)
{
	struct mtu_ctx *ctx = data;

	if (mnl_attr_get_type(a) == IFLA_MTU && mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
		ctx->mtu = mnl_attr_get_u32(a);
		ctx->found = true;
	}
	return MNL_CB_OK;
}

static int link_mtu_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_mtu_attr, data);
	return MNL_CB_OK;
}

int tunnel_link_mtu(const char *ifname, uint32_t *mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mtu_ctx ctx = {0};
	struct nlmsghdr *nlh = nl_start(buf, sizeof(buf), RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int idx = ifindex_of(ifname), rc;

	if (idx < 0)
		return idx;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = idx;
	rc = nl_request(nlh, link_mtu_cb, &ctx);
	if (rc < 0)
		return rc;
	if (!ctx.found)
		return -ENODATA;
	*mtu = ctx.mtu;
	return 0;
}

struct route_dev_ctx {
	int oif;
};

static int route_dev_attr(const struct nlattr *a, void *data)
{
	struct route_dev_ctx *ctx = data;

	if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		ctx->oif = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_dev_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct rtmsg), route_dev_attr, data);
	return MNL_CB_OK;
}

int tunnel_link_route_dev(int family, const void *dst, char ifname[IFNAMSIZ])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct route_dev_ctx ctx = {0};
	struct nlmsghdr *nlh = nl_start(buf, sizeof(buf), RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	int rc;

	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = family == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, dst);
	rc = nl_request(nlh, route_dev_cb, &ctx);
	if (rc < 0)
		return rc;
	if (!ctx.oif || !if_indextoname((unsigned int)ctx.oif, ifname))
		return -ENETUNREACH;
	return 0;
}

/* One RTM_NEWLINK (MTU and/or up) or RTM_DELLINK on an existing device. */
static int link_request(const char *ifname, int type, uint32_t mtu, bool up)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_start(buf, sizeof(buf), type, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int idx = ifindex_of(ifname);

	if (idx < 0)
		return idx;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = idx;
	if (up) {
		ifm->ifi_flags = IFF_UP;
		ifm->ifi_change = IFF_UP;
	}
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_request(nlh, NULL, NULL);
}

int tunnel_link_set_up(const char *ifname)
{
	return link_request(ifname, RTM_NEWLINK, 0, true);
}

int tunnel_link_delete(const char *ifname)
{
	return link_request(ifname, RTM_DELLINK, 0, false);
}

int tunnel_link_set_rp_filter(const char *ifname, int value)
{
	char path[128], text[8];
	int fd, rc = 0, n;

	/* No netlink message sets rp_filter; /proc/sys/net is the calling netns's view. */
	/* Interface names may hold dots (eth0.100) but never a slash; "." and ".." would
	 * name other directories. */
	if (!*ifname || strchr(ifname, '/') || !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(text, sizeof(text), "%d\n", value);
	if (write(fd, text, (size_t)n) != n)
		rc = -errno;
	close(fd);
	return rc;
}

static int addr_request(const char *ifname, const struct tunnel_cidr *a, int type, int flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_start(buf, sizeof(buf), type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	int idx = ifindex_of(ifname);
	size_t alen = a->family == AF_INET ? 4 : 16;

	if (idx < 0)
		return idx;
	ifa->ifa_family = (unsigned char)a->family;
	ifa->ifa_prefixlen = a->len;
	ifa->ifa_index = (unsigned int)idx;
	mnl_attr_put(nlh, IFA_LOCAL, alen, &a->ip4);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, &a->ip4);
	return nl_request(nlh, NULL, NULL);
}

static int route_request(const char *ifname, const struct tunnel_cidr *dst, int type, int flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_start(buf, sizeof(buf), type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	int idx = ifindex_of(ifname);

	if (idx < 0)
		return idx;
	rtm->rtm_family = (unsigned char)dst->family;
	rtm->rtm_dst_len = dst->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (dst->len)
		mnl_attr_put(nlh, RTA_DST, dst->family == AF_INET ? 4 : 16, &dst->ip4);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)idx);
	return nl_request(nlh, NULL, NULL);
}

int tunnel_link_route_replace(const char *ifname, const struct tunnel_cidr *dst)
{
	return route_request(ifname, dst, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
}

int tunnel_link_route_delete(const char *ifname, const struct tunnel_cidr *dst)
{
	int rc = route_request(ifname, dst, RTM_DELROUTE, 0);

	return rc == -ESRCH || rc == -ENOENT ? 0 : rc;
}

int tunnel_link_configure(const struct tunnel_link_cfg *cfg)
{
	int rc;

	if (cfg->mtu) {
		rc = link_request(cfg->ifname, RTM_NEWLINK, cfg->mtu, false);
		if (rc < 0)
			return rc;
	}
	rc = tunnel_link_set_up(cfg->ifname);
	if (rc < 0)
		return rc;
	if (cfg->has_address) {
		rc = addr_request(cfg->ifname, &cfg->address, RTM_NEWADDR,
				  NLM_F_CREATE | NLM_F_REPLACE);
		if (rc < 0)
			return rc;
	}
	rc = tunnel_link_set_rp_filter(cfg->ifname, 2);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->n_routes; i++) {
		rc = tunnel_link_route_replace(cfg->ifname, &cfg->routes[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tunnel_link_unconfigure(const struct tunnel_link_cfg *cfg)
{
	int rc, first = 0;

	if (ifindex_of(cfg->ifname) < 0)
		return 0; /* the device and everything on it is already gone */
	for (size_t i = 0; i < cfg->n_routes; i++) {
		rc = tunnel_link_route_delete(cfg->ifname, &cfg->routes[i]);
		if (rc < 0 && !first)
			first = rc;
	}
	if (cfg->has_address) {
		rc = addr_request(cfg->ifname, &cfg->address, RTM_DELADDR, 0);
		if (rc < 0 && rc != -EADDRNOTAVAIL && !first)
			first = rc;
	}
	return first;
}

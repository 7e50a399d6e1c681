// SPDX-License-Identifier: GPL-2.0-only
#include "tunnel/vxlan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <string.h>

#include "tunnel/link.h"
#include "tunnel/nl.h"

/*
 * IFF_NOARP: the datapath picks the remote per packet from the ipcache, so link-layer
 * addresses mean nothing on this device and ARP could not be answered anyway (an ARP
 * frame carries no tunnel key, so the external device drops it). With NOARP every
 * neighbour resolves at once to the device's own MAC; the receiving datapath marks the
 * frames it passes PACKET_HOST (docs/datapath.md, "VXLAN framing"). Set on creation and
 * on adoption, so a device made by an older version is mended.
 */
static int set_noarp(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_start(buf, sizeof(buf), RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	unsigned int idx = if_nametoindex(ifname);

	if (!idx)
		return -ENODEV;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)idx;
	ifm->ifi_flags = IFF_NOARP;
	ifm->ifi_change = IFF_NOARP;
	return nl_request(nlh, NULL, NULL);
}

int vxlan_create(const struct vxlan_cfg *cfg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint16_t port = cfg->port ? cfg->port : VXLAN_DEFAULT_PORT;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *linkinfo, *data;
	int rc, ext = 0;
	uint16_t cur = 0;

	nlh = nl_start(buf, sizeof(buf), RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_flags = IFF_NOARP;
	ifm->ifi_change = IFF_NOARP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, cfg->ifname);
	if (cfg->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, cfg->mtu);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nlh, IFLA_VXLAN_COLLECT_METADATA, 1);
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 0);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(port));
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	rc = nl_request(nlh, NULL, NULL);
	if (rc == -EEXIST) {
		rc = vxlan_inspect(cfg->ifname, &ext, &cur);
		if (rc < 0)
			return rc;
		if (!ext || cur != port)
			return -EEXIST;
		if (cfg->mtu) {
			struct tunnel_link_cfg lc = {.mtu = cfg->mtu};

			memcpy(lc.ifname, cfg->ifname, IFNAMSIZ);
			rc = tunnel_link_configure(&lc);
			if (rc < 0)
				return rc;
		}
		return set_noarp(cfg->ifname);
	}
	if (rc < 0)
		return rc;
	return tunnel_link_set_up(cfg->ifname);
}

struct inspect_ctx {
	bool is_vxlan;
	int external;
	uint16_t port;
};

static int data_attr(const struct nlattr *a, void *p)
{
	struct inspect_ctx *ctx = p;

	switch (mnl_attr_get_type(a)) {
	case IFLA_VXLAN_COLLECT_METADATA:
		if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
			ctx->external = mnl_attr_get_u8(a);
		break;
	case IFLA_VXLAN_PORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			ctx->port = ntohs(mnl_attr_get_u16(a));
		break;
	}
	return MNL_CB_OK;
}

static int info_attr(const struct nlattr *a, void *p)
{
	struct inspect_ctx *ctx = p;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		ctx->is_vxlan = strcmp(mnl_attr_get_str(a), "vxlan") == 0;
	else if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
		mnl_attr_parse_nested(a, data_attr, p);
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *p)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO)
		mnl_attr_parse_nested(a, info_attr, p);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *p)
{
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr, p);
	return MNL_CB_OK;
}

int vxlan_inspect(const char *ifname, int *is_external, uint16_t *port)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct inspect_ctx ctx = {0};
	struct nlmsghdr *nlh = nl_start(buf, sizeof(buf), RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	unsigned int idx = if_nametoindex(ifname);
	int rc;

	if (!idx)
		return -ENODEV;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)idx;
	rc = nl_request(nlh, link_cb, &ctx);
	if (rc < 0)
		return rc;
	*is_external = ctx.is_vxlan && ctx.external;
	*port = ctx.port;
	return 0;
}

int vxlan_delete(const char *ifname)
{
	int ext = 0;
	uint16_t port;
	int rc = vxlan_inspect(ifname, &ext, &port);

	if (rc == -ENODEV)
		return 0;
	if (rc < 0)
		return rc;
	/* Delete only what vxlan_create() would have made, never a same-named stranger. */
	if (!ext)
		return -EEXIST;
	return tunnel_link_delete(ifname);
}

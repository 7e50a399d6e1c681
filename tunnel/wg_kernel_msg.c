// SPDX-License-Identifier: GPL-2.0-only
/*
 * wg_kernel_msg: the generic netlink requests of the kernel WireGuard backend, built into
 * caller buffers (see wg_kernel_msg.h). Pure: no sockets, so unit tests and the fuzz
 * harness check the bytes without a kernel.
 */
#include "tunnel/wg_kernel_msg.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <string.h>

static struct nlmsghdr *genl_put(void *buf, size_t len, uint16_t type, uint8_t cmd, uint8_t version,
				 uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*g)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

int wg_kernel_build_get_family(void *buf, size_t len, uint32_t seq, const char *family)
{
	struct nlmsghdr *nlh =
	    genl_put(buf, len, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_REQUEST | NLM_F_ACK, seq);

	if (!nlh || !mnl_attr_put_strz_check(nlh, len, CTRL_ATTR_FAMILY_NAME, family))
		return -EMSGSIZE;
	return (int)nlh->nlmsg_len;
}

int wg_kernel_build_set_device(void *buf, size_t len, uint16_t family_id, uint32_t seq,
			       uint32_t ifindex, const uint8_t *key, int port)
{
	struct nlmsghdr *nlh = genl_put(buf, len, family_id, WG_CMD_SET_DEVICE, WG_GENL_VERSION,
					NLM_F_REQUEST | NLM_F_ACK, seq);

	if (port > UINT16_MAX)
		return -EINVAL;
	if (!nlh || !mnl_attr_put_u32_check(nlh, len, WGDEVICE_A_IFINDEX, ifindex))
		return -EMSGSIZE;
	if (key && !mnl_attr_put_check(nlh, len, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, key))
		return -EMSGSIZE;
	if (port >= 0 && !mnl_attr_put_u16_check(nlh, len, WGDEVICE_A_LISTEN_PORT, (uint16_t)port))
		return -EMSGSIZE;
	return (int)nlh->nlmsg_len;
}

int wg_kernel_build_get_device(void *buf, size_t len, uint16_t family_id, uint32_t seq,
			       uint32_t ifindex)
{
	struct nlmsghdr *nlh = genl_put(buf, len, family_id, WG_CMD_GET_DEVICE, WG_GENL_VERSION,
					NLM_F_REQUEST | NLM_F_DUMP, seq);

	if (!nlh || !mnl_attr_put_u32_check(nlh, len, WGDEVICE_A_IFINDEX, ifindex))
		return -EMSGSIZE;
	return (int)nlh->nlmsg_len;
}

static bool put_allowed_ip(struct nlmsghdr *nlh, size_t len, uint16_t idx,
			   const struct wg_allowed_ip *a)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, len, idx);

	if (!nest)
		return false;
	if (!mnl_attr_put_u16_check(nlh, len, WGALLOWEDIP_A_FAMILY, (uint16_t)a->family) ||
	    !mnl_attr_put_check(nlh, len, WGALLOWEDIP_A_IPADDR,
				a->family == AF_INET ? sizeof(a->ip4) : sizeof(a->ip6),
				a->family == AF_INET ? (const void *)&a->ip4
						     : (const void *)&a->ip6) ||
	    !mnl_attr_put_u8_check(nlh, len, WGALLOWEDIP_A_CIDR_MASK, a->cidr)) {
		mnl_attr_nest_cancel(nlh, nest);
		return false;
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

static bool allowed_ip_valid(const struct wg_allowed_ip *a)
{
	return (a->family == AF_INET && a->cidr <= 32) || (a->family == AF_INET6 && a->cidr <= 128);
}

int wg_kernel_build_set_peer(void *buf, size_t len, uint16_t family_id, uint32_t seq,
			     uint32_t ifindex, const struct wg_peer *peer, size_t from,
			     size_t *next)
{
	struct nlmsghdr *nlh = genl_put(buf, len, family_id, WG_CMD_SET_DEVICE, WG_GENL_VERSION,
					NLM_F_REQUEST | NLM_F_ACK, seq);
	struct nlattr *peers, *p, *ips;
	size_t i = from, ep_len = 0;

	if (from > peer->n_allowed_ips || (peer->n_allowed_ips && !peer->allowed_ips))
		return -EINVAL;
	for (size_t j = from; j < peer->n_allowed_ips; j++)
		if (!allowed_ip_valid(&peer->allowed_ips[j]))
			return -EINVAL;
	if (peer->has_endpoint) {
		if (peer->endpoint.sa.sa_family == AF_INET)
			ep_len = sizeof(peer->endpoint.in4);
		else if (peer->endpoint.sa.sa_family == AF_INET6)
			ep_len = sizeof(peer->endpoint.in6);
		else
			return -EAFNOSUPPORT;
	}
	if (!nlh || !mnl_attr_put_u32_check(nlh, len, WGDEVICE_A_IFINDEX, ifindex))
		return -EMSGSIZE;
	peers = mnl_attr_nest_start_check(nlh, len, WGDEVICE_A_PEERS);
	if (!peers)
		return -EMSGSIZE;
	p = mnl_attr_nest_start_check(nlh, len, 0);
	if (!p || !mnl_attr_put_check(nlh, len, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, peer->public_key))
		return -EMSGSIZE;
	if (from > 0) {
		/* A continuation only adds allowed-IPs, and must not re-create the peer if it
		 * was removed between two messages. */
		if (!mnl_attr_put_u32_check(nlh, len, WGPEER_A_FLAGS, WGPEER_F_UPDATE_ONLY))
			return -EMSGSIZE;
	} else {
		uint32_t flags = peer->replace_allowed_ips ? WGPEER_F_REPLACE_ALLOWEDIPS : 0;

		if (!mnl_attr_put_u32_check(nlh, len, WGPEER_A_FLAGS, flags) ||
		    (ep_len &&
		     !mnl_attr_put_check(nlh, len, WGPEER_A_ENDPOINT, ep_len, &peer->endpoint)) ||
		    !mnl_attr_put_u16_check(nlh, len, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
					    peer->keepalive_s))
			return -EMSGSIZE;
	}
	if (from < peer->n_allowed_ips) {
		ips = mnl_attr_nest_start_check(nlh, len, WGPEER_A_ALLOWEDIPS);
		if (!ips)
			return -EMSGSIZE;
		for (; i < peer->n_allowed_ips; i++)
			if (!put_allowed_ip(nlh, len, (uint16_t)(i - from), &peer->allowed_ips[i]))
				break;
		/* No progress would make the caller loop forever. */
		if (i == from)
			return -EMSGSIZE;
		mnl_attr_nest_end(nlh, ips);
	}
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, peers);
	*next = i;
	return (int)nlh->nlmsg_len;
}

int wg_kernel_build_remove_peer(void *buf, size_t len, uint16_t family_id, uint32_t seq,
				uint32_t ifindex, const uint8_t public_key[WG_KEY_LEN])
{
	struct nlmsghdr *nlh = genl_put(buf, len, family_id, WG_CMD_SET_DEVICE, WG_GENL_VERSION,
					NLM_F_REQUEST | NLM_F_ACK, seq);
	struct nlattr *peers, *p;

	if (!nlh || !mnl_attr_put_u32_check(nlh, len, WGDEVICE_A_IFINDEX, ifindex))
		return -EMSGSIZE;
	peers = mnl_attr_nest_start_check(nlh, len, WGDEVICE_A_PEERS);
	p = peers ? mnl_attr_nest_start_check(nlh, len, 0) : NULL;
	if (!p || !mnl_attr_put_check(nlh, len, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, public_key) ||
	    !mnl_attr_put_u32_check(nlh, len, WGPEER_A_FLAGS, WGPEER_F_REMOVE_ME))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, peers);
	return (int)nlh->nlmsg_len;
}

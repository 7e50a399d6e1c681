// SPDX-License-Identifier: GPL-2.0-only
/*
 * wg_kernel: kernel WireGuard over generic netlink (see wg_kernel.h for the contract).
 *
 * Two netlink sockets: NETLINK_ROUTE creates/deletes the link (RTM_NEWLINK kind
 * "wireguard"), NETLINK_GENERIC talks to the "wireguard" family (WG_CMD_SET_DEVICE,
 * WG_CMD_GET_DEVICE dumps). Message building and dump parsing are pure functions on
 * buffers so they are unit-tested and fuzzed without a kernel; the I/O half only sends,
 * receives and turns netlink errors (with extended-ack text) into -errno + a message.
 * wg_kernel_ops.c (tunnel module) adapts these functions to the dispatcher in wg.c.
 */
#include "tunnel/wg_kernel.h"

#include "lib/log.h"
#include "tunnel/keys.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/rtnetlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One page of netlink per request, as wireguard-tools does: a peer with more allowed-IPs
 * than fit is continued in further messages (exercised by the unit tests). */
#define WGK_SEND_BUF MNL_SOCKET_BUFFER_SIZE
#define WGK_RECV_BUF 32768 /* libmnl's advice for dumps (MNL_SOCKET_DUMP_SIZE, newer libmnl) */

struct wg_kernel {
	struct mnl_socket *genl, *rtnl;
	uint16_t family_id;
	uint32_t ifindex;
	uint32_t seq;
	char ifname[IFNAMSIZ];
	char err[320];
	void *buf;
};

/* ---------------------------------------------------------------------------------------
 * Pure message building
 */

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

int wgk_build_get_family(void *buf, size_t len, uint32_t seq, const char *family)
{
	struct nlmsghdr *nlh =
	    genl_put(buf, len, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_REQUEST | NLM_F_ACK, seq);

	if (!nlh || !mnl_attr_put_strz_check(nlh, len, CTRL_ATTR_FAMILY_NAME, family))
		return -EMSGSIZE;
	return (int)nlh->nlmsg_len;
}

int wgk_build_set_device(void *buf, size_t len, uint16_t family_id, uint32_t seq, uint32_t ifindex,
			 const uint8_t *key, int port)
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

int wgk_build_get_device(void *buf, size_t len, uint16_t family_id, uint32_t seq, uint32_t ifindex)
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

int wgk_build_set_peer(void *buf, size_t len, uint16_t family_id, uint32_t seq, uint32_t ifindex,
		       const struct wg_peer *peer, size_t from, size_t *next)
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

int wgk_build_remove_peer(void *buf, size_t len, uint16_t family_id, uint32_t seq, uint32_t ifindex,
			  const uint8_t public_key[WG_KEY_LEN])
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

/* ---------------------------------------------------------------------------------------
 * Pure dump parsing. Everything here reads kernel replies (or fuzzer bytes): every
 * attribute is length-checked before use and unknown attributes are skipped, so a newer
 * kernel adding attributes does not break us.
 */

struct aip_ctx {
	struct wgk_dump *d;
	uint16_t family;
	bool has_family, has_cidr;
	uint8_t addr[16];
	size_t addr_len;
	uint8_t cidr;
};

struct peer_ctx {
	struct wgk_dump *d;
	struct wg_peer p;
	size_t cap;
	bool has_key;
};

static int fail(struct wgk_dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct wgk_dump *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return MNL_CB_ERROR;
}

/* libmnl's iterators stop quietly at an attribute whose length runs past its container;
 * a reply cut that way would lose peers without a word, so check the walk reaches the end. */
static bool attrs_fit(const void *start, size_t len)
{
	const uint8_t *pos = start;

	while (len >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const struct nlattr *)pos;
		size_t step = MNL_ALIGN(a->nla_len);

		if (a->nla_len < sizeof(struct nlattr) || a->nla_len > len)
			return false;
		if (step >= len)
			return true;
		pos += step;
		len -= step;
	}
	return true;
}

static bool nest_fits(const struct nlattr *nest)
{
	return attrs_fit(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest));
}

static int allowed_ip_attr_cb(const struct nlattr *attr, void *data)
{
	struct aip_ctx *c = data;
	uint16_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case WGALLOWEDIP_A_FAMILY:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			return fail(c->d, "allowed-ip family: %u bytes, expected a u16", len);
		c->family = mnl_attr_get_u16(attr);
		c->has_family = true;
		break;
	case WGALLOWEDIP_A_IPADDR:
		if (len != 4 && len != 16)
			return fail(c->d, "allowed-ip address: %u bytes, expected 4 or 16", len);
		memcpy(c->addr, mnl_attr_get_payload(attr), len);
		c->addr_len = len;
		break;
	case WGALLOWEDIP_A_CIDR_MASK:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
			return fail(c->d, "allowed-ip cidr: %u bytes, expected a u8", len);
		c->cidr = mnl_attr_get_u8(attr);
		c->has_cidr = true;
		break;
	}
	return MNL_CB_OK;
}

static int peer_add_allowed_ip(struct peer_ctx *pc, const struct nlattr *nest)
{
	struct aip_ctx c = {.d = pc->d};
	struct wg_allowed_ip *a;

	if (!nest_fits(nest))
		return fail(pc->d, "allowed-ip: attribute runs past the end of its nest");
	if (mnl_attr_parse_nested(nest, allowed_ip_attr_cb, &c) != MNL_CB_OK)
		return pc->d->err[0] ? MNL_CB_ERROR : fail(pc->d, "allowed-ip: malformed nest");
	if (!c.has_family || !c.has_cidr || !c.addr_len)
		return fail(pc->d, "allowed-ip: family, address and cidr are all required");
	if (!((c.family == AF_INET && c.addr_len == 4 && c.cidr <= 32) ||
	      (c.family == AF_INET6 && c.addr_len == 16 && c.cidr <= 128)))
		return fail(pc->d, "allowed-ip: family %u with a %zu-byte address and /%u",
			    c.family, c.addr_len, c.cidr);
	if (pc->p.n_allowed_ips == pc->cap) {
		size_t cap = pc->cap ? pc->cap * 2 : 4;
		void *n = realloc(pc->p.allowed_ips, cap * sizeof(*a));

		if (!n)
			return fail(pc->d, "out of memory");
		pc->p.allowed_ips = n;
		pc->cap = cap;
	}
	a = &pc->p.allowed_ips[pc->p.n_allowed_ips++];
	memset(a, 0, sizeof(*a));
	a->family = c.family;
	a->cidr = c.cidr;
	memcpy(c.family == AF_INET ? (void *)&a->ip4 : (void *)&a->ip6, c.addr, c.addr_len);
	return MNL_CB_OK;
}

static int peer_allowed_ip_cb(const struct nlattr *attr, void *data)
{
	return peer_add_allowed_ip(data, attr);
}

static int peer_attr_cb(const struct nlattr *attr, void *data)
{
	struct peer_ctx *pc = data;
	uint16_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case WGPEER_A_PUBLIC_KEY:
		if (len != WG_KEY_LEN)
			return fail(pc->d, "peer public key: %u bytes, expected %d", len,
				    WG_KEY_LEN);
		memcpy(pc->p.public_key, mnl_attr_get_payload(attr), WG_KEY_LEN);
		pc->has_key = true;
		break;
	case WGPEER_A_ENDPOINT: {
		struct sockaddr sa;

		if (len < sizeof(sa.sa_family))
			return fail(pc->d, "peer endpoint: %u bytes", len);
		memcpy(&sa.sa_family, mnl_attr_get_payload(attr), sizeof(sa.sa_family));
		if (!((sa.sa_family == AF_INET && len == sizeof(struct sockaddr_in)) ||
		      (sa.sa_family == AF_INET6 && len == sizeof(struct sockaddr_in6))))
			return fail(pc->d, "peer endpoint: family %u in %u bytes", sa.sa_family,
				    len);
		memcpy(&pc->p.endpoint, mnl_attr_get_payload(attr), len);
		pc->p.has_endpoint = true;
		break;
	}
	case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			return fail(pc->d, "peer keepalive: %u bytes, expected a u16", len);
		pc->p.keepalive_s = mnl_attr_get_u16(attr);
		break;
	case WGPEER_A_LAST_HANDSHAKE_TIME: {
		struct __kernel_timespec ts;

		if (len != sizeof(ts))
			return fail(pc->d, "peer handshake time: %u bytes, expected %zu", len,
				    sizeof(ts));
		memcpy(&ts, mnl_attr_get_payload(attr), sizeof(ts));
		pc->p.last_handshake_s = ts.tv_sec;
		break;
	}
	case WGPEER_A_RX_BYTES:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			return fail(pc->d, "peer rx bytes: %u bytes, expected a u64", len);
		pc->p.rx_bytes = mnl_attr_get_u64(attr);
		break;
	case WGPEER_A_TX_BYTES:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			return fail(pc->d, "peer tx bytes: %u bytes, expected a u64", len);
		pc->p.tx_bytes = mnl_attr_get_u64(attr);
		break;
	case WGPEER_A_ALLOWEDIPS:
		if (!nest_fits(attr))
			return fail(pc->d, "peer allowed-ips: attribute runs past the end");
		if (mnl_attr_parse_nested(attr, peer_allowed_ip_cb, pc) != MNL_CB_OK)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

static bool dump_grow(struct wgk_dump *d)
{
	size_t cap;
	void *n;

	if (d->n < d->cap)
		return true;
	cap = d->cap ? d->cap * 2 : 16;
	n = realloc(d->peers, cap * sizeof(*d->peers));
	if (!n)
		return false;
	d->peers = n;
	d->cap = cap;
	return true;
}

/* The kernel continues a peer whose allowed-IPs overflow one dump message at the start of
 * the next message, repeating only its public key: merge such a piece into the last peer. */
static int dump_add_peer(struct wgk_dump *d, const struct nlattr *nest)
{
	struct peer_ctx pc = {.d = d};
	struct wg_peer *last = d->n ? &d->peers[d->n - 1] : NULL;

	if (!nest_fits(nest)) {
		fail(d, "peer: attribute runs past the end of its nest");
		goto err;
	}
	if (mnl_attr_parse_nested(nest, peer_attr_cb, &pc) != MNL_CB_OK) {
		if (!d->err[0])
			fail(d, "peer: malformed nest");
		goto err;
	}
	if (!pc.has_key) {
		fail(d, "peer without a public key");
		goto err;
	}
	if (last && !memcmp(last->public_key, pc.p.public_key, WG_KEY_LEN)) {
		size_t n = last->n_allowed_ips + pc.p.n_allowed_ips;
		void *a = realloc(last->allowed_ips, (n ? n : 1) * sizeof(*last->allowed_ips));

		if (!a) {
			fail(d, "out of memory");
			goto err;
		}
		last->allowed_ips = a;
		if (pc.p.n_allowed_ips)
			memcpy(&last->allowed_ips[last->n_allowed_ips], pc.p.allowed_ips,
			       pc.p.n_allowed_ips * sizeof(*last->allowed_ips));
		last->n_allowed_ips = n;
		free(pc.p.allowed_ips);
		return MNL_CB_OK;
	}
	if (!dump_grow(d)) {
		fail(d, "out of memory");
		goto err;
	}
	d->peers[d->n++] = pc.p;
	return MNL_CB_OK;
err:
	free(pc.p.allowed_ips);
	return MNL_CB_ERROR;
}

static int dump_peer_cb(const struct nlattr *attr, void *data)
{
	return dump_add_peer(data, attr);
}

static int device_attr_cb(const struct nlattr *attr, void *data)
{
	struct wgk_dump *d = data;
	uint16_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case WGDEVICE_A_IFINDEX:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return fail(d, "device ifindex: %u bytes, expected a u32", len);
		d->info.ifindex = mnl_attr_get_u32(attr);
		break;
	case WGDEVICE_A_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return fail(d, "device ifname: not a NUL-terminated string");
		snprintf(d->info.ifname, sizeof(d->info.ifname), "%s", mnl_attr_get_str(attr));
		break;
	case WGDEVICE_A_PRIVATE_KEY:
	case WGDEVICE_A_PUBLIC_KEY: {
		bool priv = mnl_attr_get_type(attr) == WGDEVICE_A_PRIVATE_KEY;

		if (len != WG_KEY_LEN)
			return fail(d, "device %s key: %u bytes, expected %d",
				    priv ? "private" : "public", len, WG_KEY_LEN);
		memcpy(priv ? d->info.private_key : d->info.public_key, mnl_attr_get_payload(attr),
		       WG_KEY_LEN);
		*(priv ? &d->info.has_private_key : &d->info.has_public_key) = true;
		break;
	}
	case WGDEVICE_A_LISTEN_PORT:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			return fail(d, "device listen port: %u bytes, expected a u16", len);
		d->info.listen_port = mnl_attr_get_u16(attr);
		break;
	case WGDEVICE_A_FWMARK:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return fail(d, "device fwmark: %u bytes, expected a u32", len);
		d->info.fwmark = mnl_attr_get_u32(attr);
		break;
	case WGDEVICE_A_PEERS:
		if (!nest_fits(attr))
			return fail(d, "device peers: attribute runs past the end");
		if (mnl_attr_parse_nested(attr, dump_peer_cb, d) != MNL_CB_OK)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

bool wgk_parse_device_msg(const struct nlmsghdr *nlh, struct wgk_dump *d)
{
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr))) {
		snprintf(d->err, sizeof(d->err), "message of %u bytes has no genetlink header",
			 nlh->nlmsg_len);
		return false;
	}
	if (!attrs_fit(mnl_nlmsg_get_payload_offset(nlh, sizeof(struct genlmsghdr)),
		       nlh->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(sizeof(struct genlmsghdr)))) {
		snprintf(d->err, sizeof(d->err),
			 "device attribute runs past the end of the message");
		return false;
	}
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), device_attr_cb, d) != MNL_CB_OK) {
		if (!d->err[0])
			snprintf(d->err, sizeof(d->err), "malformed device attributes");
		return false;
	}
	return true;
}

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

uint16_t wgk_parse_family_id(const struct nlmsghdr *nlh)
{
	uint16_t id = 0;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, &id) != MNL_CB_OK)
		return 0;
	return id;
}

void wgk_peers_free(struct wg_peer *peers, size_t n)
{
	for (size_t i = 0; peers && i < n; i++)
		free(peers[i].allowed_ips);
	free(peers);
}

void wgk_dump_free(struct wgk_dump *d)
{
	wgk_peers_free(d->peers, d->n);
	d->peers = NULL;
	d->n = d->cap = 0;
}

/* ---------------------------------------------------------------------------------------
 * Netlink I/O
 */

struct talk {
	int error;     /* -errno from an NLMSG_ERROR / NLMSG_DONE, 0 = none */
	char msg[160]; /* extended-ack text, if the kernel sent one */
	mnl_cb_t data_cb;
	void *data;
};

static int talk_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->data_cb ? t->data_cb(nlh, t->data) : MNL_CB_OK;
}

static int ext_ack_cb(const struct nlattr *attr, void *data)
{
	struct talk *t = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(t->msg, sizeof(t->msg), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int talk_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		t->error = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP; /* the ACK */
	t->error = e->error < 0 ? e->error : -e->error;
	/* Extended ack: TLVs follow the echoed request (or only its header when capped). */
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += MNL_ALIGN(e->msg.nlmsg_len) - sizeof(struct nlmsghdr);
		if (off < mnl_nlmsg_get_payload_len(nlh))
			mnl_attr_parse(nlh, (unsigned int)off, ext_ack_cb, t);
	}
	return MNL_CB_ERROR;
}

static int talk_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	int err;

	/* A dump that fails part-way reports its error in NLMSG_DONE's payload. */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			t->error = err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int talk_noop_cb(const struct nlmsghdr *nlh, void *data)
{
	return MNL_CB_OK;
}

static int talk_overrun_cb(const struct nlmsghdr *nlh, void *data)
{
	((struct talk *)data)->error = -ENOBUFS;
	return MNL_CB_ERROR;
}

/* Sends one request and reads until its ACK, error or end of dump. */
static int nl_talk(struct mnl_socket *s, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
		   char *msg, size_t msg_len)
{
	/* Not const: mnl_cb_run2() takes a non-const array. */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_NOOP] = talk_noop_cb,
	    [NLMSG_ERROR] = talk_error_cb,
	    [NLMSG_DONE] = talk_done_cb,
	    [NLMSG_OVERRUN] = talk_overrun_cb,
	};
	struct talk t = {.data_cb = cb, .data = data};
	uint32_t portid = mnl_socket_get_portid(s);
	char *buf;
	int ret = 0;

	if (msg_len)
		msg[0] = '\0';
	buf = malloc(WGK_RECV_BUF);
	if (!buf)
		return -ENOMEM;
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, buf, WGK_RECV_BUF);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		errno = 0;
		r = mnl_cb_run2(buf, (size_t)n, nlh->nlmsg_seq, portid, talk_data_cb, &t, ctl,
				NLMSG_MIN_TYPE);
		if (r == MNL_CB_ERROR) {
			ret = t.error ? t.error : (errno ? -errno : -EBADMSG);
			break;
		}
		if (r == MNL_CB_STOP)
			break;
	}
out:
	if (msg_len && t.msg[0])
		snprintf(msg, msg_len, "%s", t.msg);
	free(buf);
	return ret;
}

static int seterr(struct wg_kernel *k, int rc, const char *ext, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int seterr(struct wg_kernel *k, int rc, const char *ext, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(k->err, sizeof(k->err), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(k->err))
		snprintf(k->err + n, sizeof(k->err) - (size_t)n, ": %s%s%s", strerror(-rc),
			 ext && ext[0] ? "; kernel says: " : "", ext ? ext : "");
	return rc;
}

static struct mnl_socket *nl_open(int bus)
{
	struct mnl_socket *s = mnl_socket_open(bus);
	int one = 1;

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(s);
		errno = e;
		return NULL;
	}
	/* Best effort: older kernels lack them and still work, with terser errors. */
	mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof(one));
	return s;
}

struct family_reply {
	uint16_t id;
};

static int family_data_cb(const struct nlmsghdr *nlh, void *data)
{
	uint16_t id = wgk_parse_family_id(nlh);

	if (id)
		((struct family_reply *)data)->id = id;
	return MNL_CB_OK;
}

/* Resolves the "wireguard" family; the kernel request_module()s it on demand when it can
 * (the module declares its genetlink family alias). */
static int resolve_family(struct mnl_socket *s, void *buf, uint32_t seq, uint16_t *id, char *ext,
			  size_t ext_len)
{
	struct family_reply r = {0};
	int len = wgk_build_get_family(buf, WGK_SEND_BUF, seq, WG_GENL_NAME);
	int rc;

	if (len < 0)
		return len;
	rc = nl_talk(s, buf, family_data_cb, &r, ext, ext_len);
	if (rc)
		return rc;
	if (!r.id)
		return -ENOENT;
	*id = r.id;
	return 0;
}

/* Says why resolve_family() failed (rc), with the kernel's extended-ack text ext if any. */
static void family_error(char *why, size_t why_len, int rc, const char *ext)
{
	if (rc == -ENOENT)
		snprintf(why, why_len,
			 "the kernel has no WireGuard (generic netlink family \"wireguard\" not "
			 "found): load it with 'modprobe wireguard', or use the userspace backend "
			 "(apt-get install wireguard-go wireguard-tools)");
	else
		snprintf(why, why_len, "resolving genetlink family \"wireguard\": %s%s%s",
			 strerror(-rc), ext[0] ? ": " : "", ext);
}

int wg_kernel_probe(char *why, size_t why_len)
{
	void *buf = malloc(WGK_SEND_BUF);
	struct mnl_socket *s = buf ? nl_open(NETLINK_GENERIC) : NULL;
	uint16_t id;
	int rc;

	if (!s) {
		rc = buf ? -errno : -ENOMEM;
		snprintf(why, why_len, "generic netlink socket: %s", strerror(-rc));
		free(buf);
		return rc;
	}
	rc = resolve_family(s, buf, (uint32_t)time(NULL), &id, NULL, 0);
	if (rc)
		family_error(why, why_len, rc, "");
	mnl_socket_close(s);
	free(buf);
	return rc;
}

static int link_request(struct wg_kernel *k, uint16_t type, uint16_t flags, char *ext,
			size_t ext_len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(k->buf);
	struct ifinfomsg *ifi;
	struct nlattr *info;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++k->seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (type == RTM_DELLINK) {
		ifi->ifi_index = (int)k->ifindex;
	} else {
		mnl_attr_put_strz(nlh, IFLA_IFNAME, k->ifname);
		info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "wireguard");
		mnl_attr_nest_end(nlh, info);
	}
	return nl_talk(k->rtnl, nlh, NULL, NULL, ext, ext_len);
}

static int dump_data_cb(const struct nlmsghdr *nlh, void *data)
{
	return wgk_parse_device_msg(nlh, data) ? MNL_CB_OK : MNL_CB_ERROR;
}

static int get_device(struct wg_kernel *k, struct wgk_dump *d)
{
	char ext[160];
	int len = wgk_build_get_device(k->buf, WGK_SEND_BUF, k->family_id, ++k->seq, k->ifindex);
	int rc;

	memset(d, 0, sizeof(*d));
	if (len < 0)
		return seterr(k, len, NULL, "%s: building the get request", k->ifname);
	rc = nl_talk(k->genl, k->buf, dump_data_cb, d, ext, sizeof(ext));
	if (rc && d->err[0])
		rc = seterr(k, -EBADMSG, NULL, "%s: reading the device: %s", k->ifname, d->err);
	else if (rc)
		rc = seterr(k, rc, ext, "%s: reading the device", k->ifname);
	if (rc)
		wgk_dump_free(d);
	return rc;
}

static int kernel_open(struct wg_kernel **out, const char *ifname, bool create, char *why,
		       size_t why_len)
{
	struct wg_kernel *k;
	struct wgk_dump d;
	char ext[160] = "";
	bool adopted = false;
	int rc;

	*out = NULL;
	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ) {
		snprintf(why, why_len, "interface name \"%s\": expected 1 to %d characters",
			 ifname ? ifname : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k || !(k->buf = malloc(WGK_SEND_BUF))) {
		free(k);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	snprintf(k->ifname, sizeof(k->ifname), "%s", ifname);
	k->seq = (uint32_t)time(NULL);
	k->genl = nl_open(NETLINK_GENERIC);
	k->rtnl = k->genl ? nl_open(NETLINK_ROUTE) : NULL;
	if (!k->rtnl) {
		rc = -errno;
		snprintf(why, why_len, "netlink socket: %s", strerror(-rc));
		goto err;
	}
	rc = resolve_family(k->genl, k->buf, ++k->seq, &k->family_id, ext, sizeof(ext));
	if (rc) {
		family_error(why, why_len, rc, ext);
		goto err;
	}
	rc = create ? link_request(k, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ext, sizeof(ext))
		    : -EEXIST;
	if (rc == -EEXIST) {
		adopted = true;
	} else if (rc) {
		snprintf(why, why_len, "creating WireGuard interface %s: %s%s%s", ifname,
			 strerror(-rc), ext[0] ? ": " : "", ext);
		goto err;
	}
	k->ifindex = if_nametoindex(ifname);
	if (!k->ifindex) {
		rc = -errno;
		snprintf(why, why_len, "interface %s: %s", ifname, strerror(-rc));
		goto err;
	}
	if (adopted) {
		/* The kernel answers EOPNOTSUPP for a device of another kind. */
		rc = get_device(k, &d);
		if (rc) {
			snprintf(why, why_len,
				 "%s exists but cannot be adopted as a WireGuard "
				 "device: %s",
				 ifname, k->err);
			goto err;
		}
		wgk_dump_free(&d);
	}
	*out = k;
	return 0;
err:
	wg_kernel_close(k);
	return rc;
}

int wg_kernel_open(struct wg_kernel **out, const char *ifname, char *why, size_t why_len)
{
	return kernel_open(out, ifname, true, why, why_len);
}

int wg_kernel_adopt(struct wg_kernel **out, const char *ifname, char *why, size_t why_len)
{
	return kernel_open(out, ifname, false, why, why_len);
}

static int set_device(struct wg_kernel *k, const uint8_t *key, int port, const char *what)
{
	char ext[160];
	int len = wgk_build_set_device(k->buf, WGK_SEND_BUF, k->family_id, ++k->seq, k->ifindex,
				       key, port);
	int rc;

	if (len < 0)
		return seterr(k, len, NULL, "%s: %s", k->ifname, what);
	rc = nl_talk(k->genl, k->buf, NULL, NULL, ext, sizeof(ext));
	return rc ? seterr(k, rc, ext, "%s: %s", k->ifname, what) : 0;
}

int wg_kernel_set_private_key(struct wg_kernel *k, const uint8_t key[WG_KEY_LEN])
{
	return set_device(k, key, -1, "setting the private key");
}

int wg_kernel_set_listen_port(struct wg_kernel *k, uint16_t port)
{
	return set_device(k, NULL, port, "setting the listen port");
}

/* A peer with many allowed-IPs goes out in several messages; if a later one fails the
 * peer is left with the first part, which the caller's retry (a full set) repairs. */
int wg_kernel_set_peer(struct wg_kernel *k, const struct wg_peer *peer)
{
	char key[WG_KEY_B64_LEN], ext[160];
	size_t from = 0, next = 0;
	int rc;

	tunnel_key_to_base64(key, peer->public_key);
	do {
		int len = wgk_build_set_peer(k->buf, WGK_SEND_BUF, k->family_id, ++k->seq,
					     k->ifindex, peer, from, &next);

		if (len < 0)
			return seterr(k, len, NULL, "%s: peer %s: invalid or too large", k->ifname,
				      key);
		rc = nl_talk(k->genl, k->buf, NULL, NULL, ext, sizeof(ext));
		if (rc)
			return seterr(k, rc, ext, "%s: setting peer %s", k->ifname, key);
		from = next;
	} while (from < peer->n_allowed_ips);
	return 0;
}

int wg_kernel_remove_peer(struct wg_kernel *k, const uint8_t public_key[WG_KEY_LEN])
{
	char key[WG_KEY_B64_LEN], ext[160];
	int len = wgk_build_remove_peer(k->buf, WGK_SEND_BUF, k->family_id, ++k->seq, k->ifindex,
					public_key);
	int rc;

	tunnel_key_to_base64(key, public_key);
	if (len < 0)
		return seterr(k, len, NULL, "%s: removing peer %s", k->ifname, key);
	rc = nl_talk(k->genl, k->buf, NULL, NULL, ext, sizeof(ext));
	return rc ? seterr(k, rc, ext, "%s: removing peer %s", k->ifname, key) : 0;
}

int wg_kernel_get_device(struct wg_kernel *k, struct wgk_device_info *info, struct wg_peer **peers,
			 size_t *n)
{
	struct wgk_dump d;
	int rc = get_device(k, &d);

	if (rc)
		return rc;
	if (info)
		*info = d.info;
	*peers = d.peers;
	*n = d.n;
	return 0;
}

int wg_kernel_get_peers(struct wg_kernel *k, struct wg_peer **peers, size_t *n)
{
	return wg_kernel_get_device(k, NULL, peers, n);
}

const char *wg_kernel_error(const struct wg_kernel *k)
{
	return k->err;
}

const char *wg_kernel_ifname(const struct wg_kernel *k)
{
	return k->ifname;
}

uint32_t wg_kernel_ifindex(const struct wg_kernel *k)
{
	return k->ifindex;
}

void wg_kernel_destroy(struct wg_kernel *k)
{
	char ext[160];
	int rc;

	if (!k)
		return;
	if (k->rtnl && k->ifindex) {
		rc = link_request(k, RTM_DELLINK, 0, ext, sizeof(ext));
		if (rc && rc != -ENODEV)
			log_warn("wg_kernel: deleting %s: %s %s", k->ifname, strerror(-rc), ext);
	}
	wg_kernel_close(k);
}

void wg_kernel_close(struct wg_kernel *k)
{
	if (!k)
		return;
	if (k->genl)
		mnl_socket_close(k->genl);
	if (k->rtnl)
		mnl_socket_close(k->rtnl);
	free(k->buf);
	free(k);
}

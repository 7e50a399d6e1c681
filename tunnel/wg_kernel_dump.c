// SPDX-License-Identifier: GPL-2.0-only
/*
 * wg_kernel_dump: parsing of the kernel's WG_CMD_GET_DEVICE dump and CTRL_CMD_GETFAMILY
 * reply (see wg_kernel_msg.h). Everything here reads kernel replies (or fuzzer bytes):
 * every attribute is length-checked before use and unknown attributes are skipped, so a
 * newer kernel adding attributes does not break us.
 */
#include "tunnel/wg_kernel_msg.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aip_ctx {
	struct wg_kernel_dump *d;
	uint16_t family;
	bool has_family, has_cidr;
	uint8_t addr[16];
	size_t addr_len;
	uint8_t cidr;
};

struct peer_ctx {
	struct wg_kernel_dump *d;
	struct wg_peer p;
	size_t cap;
	bool has_key;
};

static int fail(struct wg_kernel_dump *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct wg_kernel_dump *d, const char *fmt, ...)
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

static bool dump_grow(struct wg_kernel_dump *d)
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
static int dump_add_peer(struct wg_kernel_dump *d, const struct nlattr *nest)
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
	struct wg_kernel_dump *d = data;
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

bool wg_kernel_parse_device_msg(const struct nlmsghdr *nlh, struct wg_kernel_dump *d)
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

uint16_t wg_kernel_parse_family_id(const struct nlmsghdr *nlh)
{
	uint16_t id = 0;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, &id) != MNL_CB_OK)
		return 0;
	return id;
}

void wg_kernel_peers_free(struct wg_peer *peers, size_t n)
{
	for (size_t i = 0; peers && i < n; i++)
		free(peers[i].allowed_ips);
	free(peers);
}

void wg_kernel_dump_free(struct wg_kernel_dump *d)
{
	wg_kernel_peers_free(d->peers, d->n);
	d->peers = NULL;
	d->n = d->cap = 0;
}

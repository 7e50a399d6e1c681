// SPDX-License-Identifier: GPL-2.0-only
/*
 * wg_kernel: kernel WireGuard over generic netlink (see wg_kernel.h for the contract).
 *
 * Two netlink sockets: NETLINK_ROUTE creates/deletes the link (RTM_NEWLINK kind
 * "wireguard"), NETLINK_GENERIC talks to the "wireguard" family (WG_CMD_SET_DEVICE,
 * WG_CMD_GET_DEVICE dumps). This file is the I/O half only: it builds requests with
 * wg_kernel_msg.c, parses replies with wg_kernel_dump.c, and sends them through the tunnel
 * module's one netlink transport (nl.c), which turns errors (with extended-ack text) into
 * -errno + a message. wg_kernel_ops.c adapts these functions to the dispatcher in wg.c.
 */
#include "tunnel/wg_kernel.h"

#include "lib/log.h"
#include "tunnel/keys.h"
#include "tunnel/nl.h"
#include "tunnel/wg_kernel_msg.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/rtnetlink.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One page of netlink per request, as wireguard-tools does: a peer with more allowed-IPs
 * than fit is continued in further messages (exercised by the unit tests). */
#define WG_KERNEL_SEND_BUF MNL_SOCKET_BUFFER_SIZE

struct wg_kernel {
	struct mnl_socket *genl, *rtnl;
	uint16_t family_id;
	uint32_t ifindex;
	uint32_t seq;
	char ifname[IFNAMSIZ];
	char err[320];
	void *buf;
};

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

struct family_reply {
	uint16_t id;
};

static int family_data_cb(const struct nlmsghdr *nlh, void *data)
{
	uint16_t id = wg_kernel_parse_family_id(nlh);

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
	int len = wg_kernel_build_get_family(buf, WG_KERNEL_SEND_BUF, seq, WG_GENL_NAME);
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
	void *buf = malloc(WG_KERNEL_SEND_BUF);
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
	return wg_kernel_parse_device_msg(nlh, data) ? MNL_CB_OK : MNL_CB_ERROR;
}

static int get_device(struct wg_kernel *k, struct wg_kernel_dump *d)
{
	char ext[NL_MSG_MAX];
	int len = wg_kernel_build_get_device(k->buf, WG_KERNEL_SEND_BUF, k->family_id, ++k->seq,
					     k->ifindex);
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
		wg_kernel_dump_free(d);
	return rc;
}

static int kernel_open(struct wg_kernel **out, const char *ifname, bool create, char *why,
		       size_t why_len)
{
	struct wg_kernel *k;
	struct wg_kernel_dump d;
	char ext[NL_MSG_MAX] = "";
	bool adopted = false;
	int rc;

	*out = NULL;
	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ) {
		snprintf(why, why_len, "interface name \"%s\": expected 1 to %d characters",
			 ifname ? ifname : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k || !(k->buf = malloc(WG_KERNEL_SEND_BUF))) {
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
		wg_kernel_dump_free(&d);
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
	char ext[NL_MSG_MAX];
	int len = wg_kernel_build_set_device(k->buf, WG_KERNEL_SEND_BUF, k->family_id, ++k->seq,
					     k->ifindex, key, port);
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
	char key[WG_KEY_B64_LEN], ext[NL_MSG_MAX];
	size_t from = 0, next = 0;
	int rc;

	tunnel_key_to_base64(key, peer->public_key);
	do {
		int len = wg_kernel_build_set_peer(k->buf, WG_KERNEL_SEND_BUF, k->family_id,
						   ++k->seq, k->ifindex, peer, from, &next);

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
	char key[WG_KEY_B64_LEN], ext[NL_MSG_MAX];
	int len = wg_kernel_build_remove_peer(k->buf, WG_KERNEL_SEND_BUF, k->family_id, ++k->seq,
					      k->ifindex, public_key);
	int rc;

	tunnel_key_to_base64(key, public_key);
	if (len < 0)
		return seterr(k, len, NULL, "%s: removing peer %s", k->ifname, key);
	rc = nl_talk(k->genl, k->buf, NULL, NULL, ext, sizeof(ext));
	return rc ? seterr(k, rc, ext, "%s: removing peer %s", k->ifname, key) : 0;
}

int wg_kernel_get_device(struct wg_kernel *k, struct wg_kernel_device_info *info,
			 struct wg_peer **peers, size_t *n)
{
	struct wg_kernel_dump d;
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

void wg_kernel_destroy(struct wg_kernel *k)
{
	char ext[NL_MSG_MAX];
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

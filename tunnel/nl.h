/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nl: the tunnel module's one netlink transport (libmnl), for rtnetlink (links, addresses,
 * routes, VXLAN: link.c, vxlan.c) and generic netlink (WireGuard: wg_kernel.c).
 *
 * Contract:
 *   - nl_talk() sends one request on a bound socket and reads until its ACK, its error or
 *     the end of its dump, running cb (may be NULL) on every data message. Returns 0 or
 *     -errno: the kernel's error from NLMSG_ERROR, or from NLMSG_DONE when a dump fails
 *     part-way; -ENOBUFS on overrun; -EBADMSG on a reply too short to hold its error; a
 *     data callback's MNL_CB_ERROR with errno unset also reads as -EBADMSG.
 *   - Interrupted send/receive (EINTR) is retried, never reported.
 *   - Sockets from nl_open() ask for extended acks (NETLINK_EXT_ACK, NETLINK_CAP_ACK, best
 *     effort: old kernels answer without them); when the kernel explains an error
 *     (NLMSGERR_ATTR_MSG) its text is copied into msg (always NUL-terminated, "" when none).
 *   - nl_request() is the one-shot form for rtnetlink: a fresh NETLINK_ROUTE socket of the
 *     calling thread's network namespace, one nl_talk(), closed again. The kernel's text,
 *     if any, is logged at debug level, since those callers report -errno only.
 * Private to the tunnel module.
 */
#ifndef PSEUDOPOD_TUNNEL_NL_H
#define PSEUDOPOD_TUNNEL_NL_H

#include <libmnl/libmnl.h>
#include <stddef.h>

/* Size of an extended-ack text buffer that holds what the kernel sends in practice. */
#define NL_MSG_MAX 160

/* A socket on bus (NETLINK_ROUTE, NETLINK_GENERIC), bound, extended acks asked for; NULL
 * with errno set on failure. Close with mnl_socket_close(). */
struct mnl_socket *nl_open(int bus);
int nl_talk(struct mnl_socket *s, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data, char *msg,
	    size_t msg_len);

/* Zeroes buf (len bytes, at least MNL_SOCKET_BUFFER_SIZE) and puts an rtnetlink request
 * header of type with NLM_F_REQUEST | NLM_F_ACK | flags in it. */
struct nlmsghdr *nl_start(char *buf, size_t len, int type, int flags);
int nl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nl: the few rtnetlink request/ack helpers link.c and vxlan.c share (libmnl).
 * tunnel_nl_request() sends one request on a fresh NETLINK_ROUTE socket of the calling
 * thread's network namespace and waits for the ack (or runs cb over a dump's replies).
 * Returns 0 or the kernel's -errno. Private to the tunnel module.
 */
#ifndef PSEUDOPOD_TUNNEL_NL_H
#define PSEUDOPOD_TUNNEL_NL_H

#include <libmnl/libmnl.h>
#include <stddef.h>

/* Allocates a zeroed buffer of MNL_SOCKET_BUFFER_SIZE and puts a header in it. */
struct nlmsghdr *tunnel_nl_start(char *buf, size_t len, int type, int flags);
int tunnel_nl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif

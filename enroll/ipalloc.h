/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipalloc: picks a free overlay address in the workload CIDR (pure; the uniqueness guarantee
 * itself is etcd's: the redemption txn creates ipcache/<ip>/32 only if absent).
 *
 * The network address (and for IPv4 prefixes up to /30 the broadcast address) is never
 * handed out. The scan starts at a random offset so that concurrent enrollments rarely try
 * the same address (each collision costs a txn round), and visits every address once, so a
 * free one is always found when there is one; -ENOSPC when the prefix is full. At most
 * 2^63 host addresses are considered (an IPv6 /64 is more than enough).
 */
#ifndef PSEUDOPOD_ENROLL_IPALLOC_H
#define PSEUDOPOD_ENROLL_IPALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/net.h"

/* cidr: "addr/len" as lib/net.h reads it, without host bits ("10.0.0.0/8"); used:
 * addresses (text) already taken (those outside cidr, or not addresses, are ignored); start:
 * any number (randomness). Writes the address (no /len) into out. Returns 0, -ENOSPC (full),
 * -EINVAL (cidr not a prefix, or host bits set). *capacity = addresses the prefix offers. */
int enroll_ip_pick(const char *cidr, const char *const *used, size_t n_used, uint64_t start,
		   char out[NET_IP_STRLEN], uint64_t *capacity);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* ipcache.h: address -> {identity, tunnel endpoint, flags}: host hash first, then the trie;
 * unknown addresses are world. */
#ifndef PSEUDOPOD_BPF_LIB_IPCACHE_H
#define PSEUDOPOD_BPF_LIB_IPCACHE_H

#include "bpf/lib/maps.h"

static __always_inline struct dp_ipcache_val *dp_ipcache_lookup(__u8 family, const __u8 *addr)
{
	struct dp_ipcache_key k = {};
	struct dp_host_key h = {};
	struct dp_ipcache_val *v;

	h.family = family;
	__builtin_memcpy(h.addr, addr, 16); /* IPv4: the last 12 bytes are zero */
	v = bpf_map_lookup_elem(&ipcache_host, &h);
	if (v)
		return v;

	k.family = family;
	if (family == 4) {
		k.prefixlen = DP_IPCACHE_PREFIX_BASE + 32;
		__builtin_memcpy(k.addr, addr, 4);
	} else {
		k.prefixlen = DP_IPCACHE_PREFIX_BASE + 128;
		__builtin_memcpy(k.addr, addr, 16);
	}
	return bpf_map_lookup_elem(&ipcache, &k);
}

static __always_inline __u32 dp_ipcache_identity(struct dp_ipcache_val *v)
{
	return v ? v->identity : DP_ID_WORLD;
}

#endif

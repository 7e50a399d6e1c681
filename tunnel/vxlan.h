/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vxlan: the kernel VXLAN device in external (collect-metadata) mode, over rtnetlink.
 * One device serves every remote and every VNI: the datapath sets the tunnel key
 * (remote address, VNI = source identity) per packet with bpf_skb_set_tunnel_key, and
 * reads it on receive. Learning is off (the store, not flooding, says where peers are).
 * The device is NOARP: neighbours resolve to its own MAC without ARP (which the external
 * device could not carry), and the receiving datapath marks passed frames PACKET_HOST.
 * vxlan_create() is idempotent: an existing external VXLAN device of that name and port is
 * accepted; a different device of that name is -EEXIST. Returns 0 or -errno.
 */
#ifndef PSEUDOPOD_TUNNEL_VXLAN_H
#define PSEUDOPOD_TUNNEL_VXLAN_H

#include <net/if.h>
#include <stdint.h>

#define VXLAN_DEFAULT_PORT 8472 /* Cilium's and Linux's historic port, not IANA's 4789 */

struct vxlan_cfg {
	char ifname[IFNAMSIZ];
	uint16_t port; /* UDP destination and listen port; 0 = VXLAN_DEFAULT_PORT */
	uint32_t mtu;  /* 0 = kernel default (underlay minus overhead) */
};

int vxlan_create(const struct vxlan_cfg *cfg);
/* Reads back whether ifname is an external VXLAN device and its port. */
int vxlan_inspect(const char *ifname, int *is_external, uint16_t *port);
int vxlan_delete(const char *ifname);

#endif

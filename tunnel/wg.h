/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wg: WireGuard device configuration behind one API, two backends:
 *   - kernel: generic netlink (linux/wireguard.h) through libmnl  (wg_kernel.c)
 *   - userspace: a supervised wireguard-go child, configured over its UAPI socket
 *     (wg_uapi.c for the protocol, wg_userspace.c for the child process)
 * Functions return 0 or -errno; a human-readable reason for the last failure of a
 * device is in wg_device_error(). Peer changes are incremental: adding, updating or
 * removing one peer never rewrites the others (the gateway holds thousands).
 */
#ifndef PSEUDOPOD_TUNNEL_WG_H
#define PSEUDOPOD_TUNNEL_WG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define WG_KEY_LEN     32
#define WG_KEY_B64_LEN 45 /* 44 characters + NUL, as 'wg genkey' prints */

enum wg_backend_kind { WG_BACKEND_KERNEL = 1, WG_BACKEND_USERSPACE = 2 };

struct wg_allowed_ip {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	};
	uint8_t cidr;
};

struct wg_peer {
	uint8_t public_key[WG_KEY_LEN];
	bool has_endpoint;
	union {
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr sa;
	} endpoint;
	uint16_t keepalive_s;	  /* 0 = off */
	bool replace_allowed_ips; /* set: allowed_ips replace the peer's; else are added */
	struct wg_allowed_ip *allowed_ips;
	size_t n_allowed_ips;
	/* Read back by wg_get_peers(): */
	int64_t last_handshake_s; /* unix time, 0 = never */
	uint64_t rx_bytes, tx_bytes;
};

struct wg_device; /* opaque */

/* Creates (or adopts an existing) device named ifname with the chosen backend. */
int wg_device_open(struct wg_device **out, const char *ifname, enum wg_backend_kind backend,
		   const char *wireguard_go_path);
/* Which backend can run here: kernel if the module loads, else userspace if wireguard-go
 * is found in PATH (or at path), else -ENOENT with a message naming the packages. */
int wg_backend_detect(enum wg_backend_kind *out, const char *wireguard_go_path, char *why,
		      size_t why_len);
/* The config's choice (wireguard-backend = auto | kernel | userspace; 0 = auto): auto runs
 * wg_backend_detect(); an explicit backend is checked and, when it cannot run here, fails
 * with -ENOENT/-ENOTSUP and a reason naming what to install. */
int wg_backend_resolve(int requested, enum wg_backend_kind *out, const char *wireguard_go_path,
		       char *why, size_t why_len);
int wg_set_private_key(struct wg_device *dev, const uint8_t key[WG_KEY_LEN]);
int wg_set_listen_port(struct wg_device *dev, uint16_t port);
/* Adds the peer, or updates it when its public key is already configured. */
int wg_set_peer(struct wg_device *dev, const struct wg_peer *peer);
int wg_remove_peer(struct wg_device *dev, const uint8_t public_key[WG_KEY_LEN]);
/* Fills a malloc'd array the caller frees with wg_peers_free(). */
int wg_get_peers(struct wg_device *dev, struct wg_peer **peers, size_t *n);
void wg_peers_free(struct wg_peer *peers, size_t n);
/* Userspace backend: restarts a dead wireguard-go and re-applies the configuration.
 * Call from the owner's poll loop; a no-op for the kernel backend. Returns 0 when healthy,
 * 1 right after a restart (wireguard-go's TUN device died with it, so the owner must put
 * addresses, MTU and routes back on the new device), -EAGAIN while waiting out the restart
 * back-off, or another -errno when a restart failed (retried on a later call). */
int wg_device_supervise(struct wg_device *dev);
const char *wg_device_error(const struct wg_device *dev);
/* Deletes the interface (and stops wireguard-go) and frees dev. Accepts NULL. */
void wg_device_destroy(struct wg_device *dev);
/* Frees dev but leaves the interface up (agent restart keeps the tunnel). Accepts NULL. */
void wg_device_close(struct wg_device *dev);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wg_backend: the private contract between the dispatcher (wg.c) and the two WireGuard
 * backends (wg_kernel.c, wg_userspace.c). Not part of the public API (tunnel/wg.h).
 *
 * wg.c allocates struct wg_device, fills ifname and wireguard_go, picks the ops table and
 * calls ops->open(). Each backend keeps its own state behind dev->priv. Every op returns 0
 * or -errno and, on failure, says why with wg_device_set_error() (the dispatcher adds a
 * generic message only when the backend left none). Optional ops may be NULL:
 *   supervise  NULL = nothing to supervise (kernel)
 *   probe      NULL = always available
 * destroy() deletes the interface and frees priv; close() frees priv and leaves the
 * interface up; both must accept a device whose open() failed half-way (priv may be NULL).
 * wg.c frees the struct wg_device itself after destroy()/close().
 */
#ifndef PSEUDOPOD_TUNNEL_WG_BACKEND_H
#define PSEUDOPOD_TUNNEL_WG_BACKEND_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/wg.h"

#define WG_ERROR_MAX 512
#define WG_PATH_MAX  256

struct wg_backend_ops {
	const char *name; /* "kernel", "userspace" */
	/* Available on this machine? Fills why (the package to install) when not. */
	int (*probe)(const char *wireguard_go_path, char *why, size_t why_len);
	int (*open)(struct wg_device *dev);
	int (*set_private_key)(struct wg_device *dev, const uint8_t key[WG_KEY_LEN]);
	int (*set_listen_port)(struct wg_device *dev, uint16_t port);
	int (*set_peer)(struct wg_device *dev, const struct wg_peer *peer);
	int (*remove_peer)(struct wg_device *dev, const uint8_t public_key[WG_KEY_LEN]);
	int (*get_peers)(struct wg_device *dev, struct wg_peer **peers, size_t *n);
	int (*supervise)(struct wg_device *dev);
	void (*destroy)(struct wg_device *dev);
	void (*close)(struct wg_device *dev);
};

struct wg_device {
	char ifname[IFNAMSIZ];
	char wireguard_go[WG_PATH_MAX]; /* userspace backend: binary name or path */
	const struct wg_backend_ops *ops;
	void *priv;
	char error[WG_ERROR_MAX];
};

void wg_device_set_error(struct wg_device *dev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

extern const struct wg_backend_ops wg_userspace_ops;
extern const struct wg_backend_ops wg_kernel_ops;

#endif

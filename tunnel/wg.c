// SPDX-License-Identifier: GPL-2.0-only
/*
 * wg: the public WireGuard API (tunnel/wg.h) dispatched to a backend's ops table
 * (tunnel/wg_backend.h). Detection prefers the kernel module, then wireguard-go.
 */
#include "tunnel/wg_backend.h"

#include "lib/config.h"
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WG_NO_BACKEND_HINT                                                                         \
	"install the 'wireguard-go' package (userspace backend; 'wireguard-tools' provides "       \
	"wg), or run a kernel with the wireguard module (CONFIG_WIREGUARD)"

/* wg_backend_resolve() takes the config's value as is. */
_Static_assert(CONFIG_WG_AUTO == 0 && (int)CONFIG_WG_KERNEL == (int)WG_BACKEND_KERNEL &&
		   (int)CONFIG_WG_USERSPACE == (int)WG_BACKEND_USERSPACE,
	       "config_wg_backend and wg_backend_kind must agree");

void wg_device_set_error(struct wg_device *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->error, sizeof(dev->error), fmt, ap);
	va_end(ap);
}

static const struct wg_backend_ops *wg_backend_ops_for(enum wg_backend_kind kind)
{
	switch (kind) {
	case WG_BACKEND_USERSPACE:
		return &wg_userspace_ops;
	case WG_BACKEND_KERNEL:
		return &wg_kernel_ops;
	}
	return NULL;
}

static int wg_probe(enum wg_backend_kind kind, const char *wireguard_go_path, char *why,
		    size_t why_len)
{
	const struct wg_backend_ops *ops = wg_backend_ops_for(kind);

	if (!ops) {
		snprintf(why, why_len, "unknown WireGuard backend %d", (int)kind);
		return -ENOTSUP;
	}
	return ops->probe ? ops->probe(wireguard_go_path, why, why_len) : 0;
}

int wg_backend_detect(enum wg_backend_kind *out, const char *wireguard_go_path, char *why,
		      size_t why_len)
{
	char kwhy[256] = "", uwhy[256] = "";

	if (wg_probe(WG_BACKEND_KERNEL, wireguard_go_path, kwhy, sizeof(kwhy)) == 0) {
		*out = WG_BACKEND_KERNEL;
		return 0;
	}
	if (wg_probe(WG_BACKEND_USERSPACE, wireguard_go_path, uwhy, sizeof(uwhy)) == 0) {
		*out = WG_BACKEND_USERSPACE;
		return 0;
	}
	snprintf(why, why_len, "no WireGuard backend: %s; %s; %s", kwhy, uwhy, WG_NO_BACKEND_HINT);
	return -ENOENT;
}

int wg_backend_resolve(int requested, enum wg_backend_kind *out, const char *wireguard_go_path,
		       char *why, size_t why_len)
{
	char reason[256] = "";
	int rc;

	if (requested == 0)
		return wg_backend_detect(out, wireguard_go_path, why, why_len);
	if (requested != WG_BACKEND_KERNEL && requested != WG_BACKEND_USERSPACE) {
		snprintf(why, why_len, "unknown WireGuard backend %d", requested);
		return -EINVAL;
	}
	rc = wg_probe((enum wg_backend_kind)requested, wireguard_go_path, reason, sizeof(reason));
	if (rc < 0) {
		snprintf(why, why_len, "the %s WireGuard backend was requested but %s; %s",
			 requested == WG_BACKEND_KERNEL ? "kernel" : "userspace", reason,
			 requested == WG_BACKEND_KERNEL
			     ? "run a kernel with the wireguard module (CONFIG_WIREGUARD) or "
			       "choose wireguard-backend = userspace"
			     : "install the 'wireguard-go' package");
		return rc;
	}
	*out = (enum wg_backend_kind)requested;
	return 0;
}

int wg_device_open(struct wg_device **out, const char *ifname, enum wg_backend_kind backend,
		   const char *wireguard_go_path)
{
	const struct wg_backend_ops *ops = wg_backend_ops_for(backend);
	struct wg_device *dev;
	int rc;

	*out = NULL;
	if (!ops)
		return -ENOTSUP;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/'))
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	strcpy(dev->ifname, ifname);
	snprintf(dev->wireguard_go, sizeof(dev->wireguard_go), "%s",
		 wireguard_go_path && *wireguard_go_path ? wireguard_go_path : "wireguard-go");
	dev->ops = ops;
	rc = ops->open(dev);
	if (rc < 0) {
		/* Keep the reason visible: the caller only gets -errno back. */
		log_error("wg %s: %s backend: %s", ifname, ops->name,
			  dev->error[0] ? dev->error : strerror(-rc));
		ops->close(dev);
		free(dev);
		return rc;
	}
	*out = dev;
	return 0;
}

/* Runs one op and makes sure a failure always leaves a reason behind. */
static int wg_checked(struct wg_device *dev, const char *what, int rc)
{
	if (rc < 0 && !dev->error[0])
		wg_device_set_error(dev, "%s %s: %s", dev->ifname, what, strerror(-rc));
	return rc;
}

int wg_set_private_key(struct wg_device *dev, const uint8_t key[WG_KEY_LEN])
{
	dev->error[0] = '\0';
	return wg_checked(dev, "set private key", dev->ops->set_private_key(dev, key));
}

int wg_set_listen_port(struct wg_device *dev, uint16_t port)
{
	dev->error[0] = '\0';
	return wg_checked(dev, "set listen port", dev->ops->set_listen_port(dev, port));
}

int wg_set_peer(struct wg_device *dev, const struct wg_peer *peer)
{
	dev->error[0] = '\0';
	return wg_checked(dev, "set peer", dev->ops->set_peer(dev, peer));
}

int wg_remove_peer(struct wg_device *dev, const uint8_t public_key[WG_KEY_LEN])
{
	dev->error[0] = '\0';
	return wg_checked(dev, "remove peer", dev->ops->remove_peer(dev, public_key));
}

int wg_get_peers(struct wg_device *dev, struct wg_peer **peers, size_t *n)
{
	dev->error[0] = '\0';
	*peers = NULL;
	*n = 0;
	return wg_checked(dev, "get peers", dev->ops->get_peers(dev, peers, n));
}

void wg_peers_free(struct wg_peer *peers, size_t n)
{
	if (!peers)
		return;
	for (size_t i = 0; i < n; i++)
		free(peers[i].allowed_ips);
	free(peers);
}

int wg_device_supervise(struct wg_device *dev)
{
	if (!dev->ops->supervise)
		return 0;
	return dev->ops->supervise(dev);
}

const char *wg_device_error(const struct wg_device *dev)
{
	return dev->error;
}

void wg_device_destroy(struct wg_device *dev)
{
	if (!dev)
		return;
	dev->ops->destroy(dev);
	free(dev);
}

void wg_device_close(struct wg_device *dev)
{
	if (!dev)
		return;
	dev->ops->close(dev);
	free(dev);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * wg_kernel_ops: adapts the kernel backend's functions (wg_kernel.h, genetlink) to the
 * dispatcher's ops table (wg_backend.h). Reasons for failures are copied from
 * wg_kernel_error() into the device so wg_device_error() reports them.
 */
#include "tunnel/wg_backend.h"
#include "tunnel/wg_kernel.h"

#include <stdio.h>

static int wg_kernel_result(struct wg_device *dev, int rc)
{
	if (rc < 0 && dev->priv)
		wg_device_set_error(dev, "%s", wg_kernel_error(dev->priv));
	return rc;
}

static int wg_kernel_ops_probe(const char *wireguard_go_path, char *why, size_t why_len)
{
	(void)wireguard_go_path;
	return wg_kernel_probe(why, why_len);
}

static int wg_kernel_ops_open(struct wg_device *dev)
{
	struct wg_kernel *k = NULL;
	int rc = wg_kernel_open(&k, dev->ifname, dev->error, sizeof(dev->error));

	dev->priv = k;
	return rc;
}

static int wg_kernel_ops_set_private_key(struct wg_device *dev, const uint8_t key[WG_KEY_LEN])
{
	return wg_kernel_result(dev, wg_kernel_set_private_key(dev->priv, key));
}

static int wg_kernel_ops_set_listen_port(struct wg_device *dev, uint16_t port)
{
	return wg_kernel_result(dev, wg_kernel_set_listen_port(dev->priv, port));
}

static int wg_kernel_ops_set_peer(struct wg_device *dev, const struct wg_peer *peer)
{
	return wg_kernel_result(dev, wg_kernel_set_peer(dev->priv, peer));
}

static int wg_kernel_ops_remove_peer(struct wg_device *dev, const uint8_t public_key[WG_KEY_LEN])
{
	return wg_kernel_result(dev, wg_kernel_remove_peer(dev->priv, public_key));
}

static int wg_kernel_ops_get_peers(struct wg_device *dev, struct wg_peer **peers, size_t *n)
{
	return wg_kernel_result(dev, wg_kernel_get_peers(dev->priv, peers, n));
}

static void wg_kernel_ops_destroy(struct wg_device *dev)
{
	wg_kernel_destroy(dev->priv);
	dev->priv = NULL;
}

static void wg_kernel_ops_close(struct wg_device *dev)
{
	wg_kernel_close(dev->priv);
	dev->priv = NULL;
}

const struct wg_backend_ops wg_kernel_ops = {
    .name = "kernel",
    .probe = wg_kernel_ops_probe,
    .open = wg_kernel_ops_open,
    .set_private_key = wg_kernel_ops_set_private_key,
    .set_listen_port = wg_kernel_ops_set_listen_port,
    .set_peer = wg_kernel_ops_set_peer,
    .remove_peer = wg_kernel_ops_remove_peer,
    .get_peers = wg_kernel_ops_get_peers,
    .supervise = NULL,
    .destroy = wg_kernel_ops_destroy,
    .close = wg_kernel_ops_close,
};

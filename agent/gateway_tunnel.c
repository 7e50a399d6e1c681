// SPDX-License-Identifier: GPL-2.0-only
/*
 * gateway_tunnel: the gateway's tunnel device and datapath. WireGuard (kernel, or a
 * supervised wireguard-go) or an external-mode VXLAN device; a route for the workload CIDR
 * through it (the machines' overlay IPs), rp_filter loose; the datapath loaded in gateway
 * mode — adopting what is pinned — and attached to the device with replace semantics.
 * Every step is idempotent, so a restarted gateway adopts device, routes and pins.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/gateway_internal.h"
#include "lib/log.h"
#include "tunnel/keys.h"
#include "tunnel/supervisor.h"
#include "tunnel/vxlan.h"

static int link_cfg(struct gateway *gw, char *err, size_t err_len)
{
	char why[256];

	memset(&gw->link, 0, sizeof(gw->link));
	snprintf(gw->link.ifname, sizeof(gw->link.ifname), "%s", gw->ifname);
	if (!tunnel_cidr_parse(&gw->link.routes[0], gw->cfg.workload_cidr, NET_HOST_BITS_REFUSE,
			       why, sizeof(why))) {
		snprintf(err, err_len, "the config's workload CIDR: %s", why);
		return -EINVAL;
	}
	gw->link.n_routes = 1;
	return 0;
}

static int wg_up(struct gateway *gw, const struct gateway_opts *o, char *pubkey_b64, char *err,
		 size_t err_len)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	enum wg_backend_kind kind;
	struct tunnel_supervisor_cfg sc = {0};
	char why[512];
	int rc;

	if (!o->private_key_file) {
		snprintf(err, err_len, "WireGuard needs a private key file");
		return -EINVAL;
	}
	rc = tunnel_key_read_file(o->private_key_file, priv, why, sizeof(why));
	if (rc) {
		snprintf(err, err_len, "%s", why);
		return rc;
	}
	rc = wg_backend_resolve(o->wg_backend, &kind, o->wireguard_go, why, sizeof(why));
	if (rc) {
		snprintf(err, err_len, "%s", why);
		return rc;
	}
	rc = wg_device_open(&gw->wg, gw->ifname, kind, o->wireguard_go);
	if (rc) {
		snprintf(err, err_len, "opening WireGuard device %s: %s", gw->ifname,
			 strerror(-rc));
		return rc;
	}
	rc = wg_set_private_key(gw->wg, priv);
	rc = rc ?: wg_set_listen_port(gw->wg, o->port ? o->port : gw->cfg.wireguard_port);
	if (rc) {
		snprintf(err, err_len, "configuring %s: %s", gw->ifname, wg_device_error(gw->wg));
		return rc;
	}
	tunnel_key_public(pub, priv);
	tunnel_key_to_base64(pubkey_b64, pub);
	rc = tunnel_link_configure(&gw->link);
	if (rc) {
		snprintf(err, err_len, "configuring the link of %s: %s", gw->ifname, strerror(-rc));
		return rc;
	}
	sc.dev = gw->wg;
	sc.link = &gw->link;
	rc = tunnel_supervisor_open(&gw->sup, &sc);
	if (rc)
		snprintf(err, err_len, "supervising %s: %s", gw->ifname, strerror(-rc));
	return rc;
}

static int vxlan_up(struct gateway *gw, const struct gateway_opts *o, char *err, size_t err_len)
{
	struct vxlan_cfg vc = {.port = o->port ? o->port : gw->cfg.vxlan_port};
	int rc;

	snprintf(vc.ifname, sizeof(vc.ifname), "%s", gw->ifname);
	rc = vxlan_create(&vc);
	rc = rc ?: tunnel_link_configure(&gw->link);
	if (rc)
		snprintf(err, err_len, "bringing up VXLAN device %s: %s", gw->ifname,
			 strerror(-rc));
	return rc;
}

int gw_tunnel_up(struct gateway *gw, const struct gateway_opts *o, char *pubkey_b64, char *err,
		 size_t err_len)
{
	int rc = link_cfg(gw, err, err_len);

	pubkey_b64[0] = '\0';
	if (rc)
		return rc;
	return gw->vxlan ? vxlan_up(gw, o, err, err_len) : wg_up(gw, o, pubkey_b64, err, err_len);
}

int gw_datapath_up(struct gateway *gw, const struct gateway_opts *o, char *err, size_t err_len)
{
	struct dp_load_opts lo = {.bpffs = gw->bpffs,
				  .mode = DP_MODE_GATEWAY,
				  .policy_max = o->policy_max,
				  .ipcache_max = o->ipcache_max};
	struct dp_info info;
	int rc, lock = -1;

	/* Loading re-pins programs: the writer lock (a flock on the pin directory, so the
	 * directory must exist) keeps a concurrent tool out. */
	if (mkdir(gw->bpffs, 0700) && errno != EEXIST) {
		snprintf(err, err_len, "creating %s: %s", gw->bpffs, strerror(errno));
		return -errno;
	}
	rc = dp_lock(gw->bpffs, gw->lock_timeout_ms, &lock);
	rc = rc ?: dp_load(&lo);
	dp_unlock(lock);
	if (rc) {
		snprintf(err, err_len, "loading the datapath under %s: %s", gw->bpffs,
			 strerror(-rc));
		return rc;
	}
	rc = dp_open(gw->bpffs, &gw->dp);
	rc = rc ?: dp_info_get(gw->dp, &info);
	if (!rc && info.mode != DP_MODE_GATEWAY)
		rc = -EINVAL;
	rc = rc ?: dp_attach(gw->bpffs, gw->ifname, NULL, DP_DEV_AUTO);
	if (rc)
		snprintf(err, err_len, "opening/attaching the datapath on %s: %s", gw->ifname,
			 strerror(-rc));
	return rc;
}

void gw_tunnel_close(struct gateway *gw)
{
	tunnel_supervisor_close(gw->sup);
	gw->sup = NULL;
	wg_device_close(gw->wg); /* the device, its peers and routes stay */
	gw->wg = NULL;
	dp_close(gw->dp);
	gw->dp = NULL;
}

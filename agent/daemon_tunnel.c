// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tunnel into the cluster: a WireGuard device (kernel, or a supervised wireguard-go)
 * with one peer per gateway and fail-over between them (tunnel/gateways.h), or a VXLAN
 * device in external mode (the datapath sets the remote per packet from the ipcache). The
 * device gets this machine's overlay address and routes for the cluster's CIDRs. It is
 * left up when the daemon exits: traffic keeps flowing and the next process adopts it
 * (wireguard-go keeps running and is adopted through its UAPI socket).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/daemon_internal.h"
#include "agent/metrics.h"
#include "lib/log.h"
#include "tunnel/keys.h"
#include "tunnel/supervisor.h"
#include "tunnel/vxlan.h"
#include "tunnel/wg.h"

static int tfail(char *err, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int tfail(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

static bool add_route(struct tunnel_link_cfg *l, const char *cidr)
{
	char why[256];

	if (!cidr[0] || l->n_routes == TUNNEL_LINK_MAX_ROUTES)
		return false;
	if (!tunnel_cidr_parse(&l->routes[l->n_routes], cidr, NET_HOST_BITS_CLEAR, why,
			       sizeof(why))) {
		log_warn("tunnel: route %s: %s", cidr, why);
		return false;
	}
	for (size_t i = 0; i < l->n_routes; i++)
		if (!memcmp(&l->routes[i], &l->routes[l->n_routes], sizeof(l->routes[i])))
			return false; /* listed twice */
	l->n_routes++;
	return true;
}

/* Address and routes: the overlay IP as a host address; the pod CIDRs, the service CIDR
 * and the workload CIDR (other machines are reached through the gateway too). */
static int link_cfg(struct daemon *d, char *err, size_t err_len)
{
	struct tunnel_link_cfg *l = &d->tun.link;
	const struct store_config *c = &d->enr.cluster;
	char why[256];

	memset(l, 0, sizeof(*l));
	snprintf(l->ifname, sizeof(l->ifname), "%s", d->cfg.tunnel.device);
	if (!tunnel_cidr_parse(&l->address, d->enr.workload.overlay_ip, NET_HOST_BITS_KEEP, why,
			       sizeof(why))) {
		snprintf(err, err_len, "overlay IP '%s': %s", d->enr.workload.overlay_ip, why);
		return -EINVAL;
	}
	l->has_address = true;
	for (size_t i = 0; i < c->n_pod_cidrs; i++)
		add_route(l, c->pod_cidrs[i]);
	add_route(l, c->service_cidr);
	add_route(l, c->workload_cidr);
	for (size_t g = 0; g < d->enr.n_gateways; g++)
		for (size_t i = 0; i < d->enr.gateways[g].n_cidrs; i++)
			add_route(l, d->enr.gateways[g].cidrs[i]);
	return 0;
}

/* The MTU: [tunnel] mtu, or the underlay's toward the first gateway minus the overhead. */
static void link_mtu(struct daemon *d, enum tunnel_kind kind)
{
	char dev[IFNAMSIZ];
	struct in_addr a;
	uint32_t under;

	d->tun.link.mtu = d->cfg.tunnel.mtu;
	if (d->tun.link.mtu || !d->enr.n_gateways)
		return;
	if (d->cfg.tunnel.underlay_device[0])
		snprintf(dev, sizeof(dev), "%s", d->cfg.tunnel.underlay_device);
	else if (inet_pton(AF_INET, d->enr.gateways[0].underlay_ip, &a) != 1 ||
		 tunnel_link_route_dev(AF_INET, &a, dev) < 0)
		return;
	if (tunnel_link_mtu(dev, &under) == 0 && under > tunnel_mtu_overhead(kind, AF_INET))
		d->tun.link.mtu = under - tunnel_mtu_overhead(kind, AF_INET);
}

/* The gateways' fail-over set. A gateway record has no overlay address; its peer's own
 * allowed IP (needed so that WireGuard keeps a standby peer distinct) is its underlay
 * address as a host route, which nothing routes into the device. */
static int gateways_cfg(struct daemon *d, char *err, size_t err_len)
{
	struct tunnel_gateways *g = &d->tun.gws;
	char why[256];

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < d->enr.n_gateways && g->n < TUNNEL_FAILOVER_MAX_GATEWAYS; i++) {
		const struct store_gateway *s = &d->enr.gateways[i];
		struct tunnel_gateway *t = &g->gw[g->n];
		struct tunnel_cidr ov;

		if (!s->wg_public_key[0])
			continue;
		if (!tunnel_key_from_base64(t->peer.public_key, s->wg_public_key, why, sizeof(why)))
			return tfail(err, err_len, -EINVAL, "gateway %s: %s", s->name, why);
		if (inet_pton(AF_INET, s->underlay_ip, &t->peer.endpoint.in4.sin_addr) != 1)
			return tfail(err, err_len, -EINVAL, "gateway %s: underlay %s is not IPv4",
				     s->name, s->underlay_ip);
		t->peer.endpoint.in4.sin_family = AF_INET;
		t->peer.endpoint.in4.sin_port =
		    htons(s->wireguard_port ? s->wireguard_port : 51871);
		t->peer.has_endpoint = true;
		if (!tunnel_cidr_parse(&ov, s->underlay_ip, NET_HOST_BITS_KEEP, why, sizeof(why)))
			return tfail(err, err_len, -EINVAL, "gateway %s: %s", s->name, why);
		t->overlay.family = AF_INET;
		t->overlay.ip4 = ov.ip4;
		t->overlay.cidr = 32;
		snprintf(d->tun.gw_names[g->n], sizeof(d->tun.gw_names[0]), "%s", s->name);
		snprintf(d->tun.gw_endpoints[g->n], sizeof(d->tun.gw_endpoints[0]), "%s:%u",
			 s->underlay_ip, s->wireguard_port ? s->wireguard_port : 51871u);
		g->n++;
	}
	for (size_t i = 0; i < d->tun.link.n_routes && g->n_cidrs < TUNNEL_GATEWAYS_MAX_CIDRS;
	     i++) {
		const struct tunnel_cidr *r = &d->tun.link.routes[i];
		struct wg_allowed_ip *a = &g->cidrs[g->n_cidrs++];

		a->family = r->family;
		a->cidr = r->len;
		if (r->family == AF_INET)
			a->ip4 = r->ip4;
		else
			a->ip6 = r->ip6;
	}
	g->keepalive_s = (uint16_t)d->cfg.tunnel.keepalive_s;
	if (!g->n)
		return tfail(err, err_len, -EINVAL, "enrollment: no gateway with a WireGuard key");
	if (!tunnel_gateways_init(g, d->cfg.tunnel.handshake_stale_s,
				  d->cfg.tunnel.failover_hold_s))
		return tfail(err, err_len, -EINVAL, "[tunnel]: bad fail-over bounds");
	return 0;
}

static int on_supervisor(int fd, short revents, void *ctx)
{
	struct daemon *d = ctx;
	unsigned ch;

	(void)fd;
	(void)revents;
	ch = tunnel_supervisor_tick(d->tun.sup, (int64_t)time(NULL));
	if (ch & TUNNEL_SUPERVISOR_SWITCHED)
		log_info("tunnel: gateway %s now carries the cluster's traffic",
			 d->tun.gw_names[d->tun.gws.fo.active]);
	if (ch & TUNNEL_SUPERVISOR_RELINKED)
		log_warn("tunnel: wireguard-go restarted, link configuration re-applied");
	return 0;
}

static int wireguard_up(struct daemon *d, char *err, size_t err_len)
{
	char key_path[CONFIG_PATH_MAX + 32], why[512];
	enum wg_backend_kind kind;
	uint8_t key[WG_KEY_LEN];
	int rc;

	snprintf(key_path, sizeof(key_path), "%s/wireguard.key", d->cfg.agent.state_dir);
	rc = tunnel_key_read_file(key_path, key, why, sizeof(why));
	if (rc < 0)
		return tfail(err, err_len, rc, "%s", why);
	rc = gateways_cfg(d, err, err_len);
	if (rc < 0)
		return rc;
	rc = wg_backend_resolve((int)d->cfg.tunnel.wg_backend, &kind, d->cfg.tunnel.wireguard_go,
				why, sizeof(why));
	if (rc < 0)
		return tfail(err, err_len, rc, "%s", why);
	d->tun.backend = kind == WG_BACKEND_KERNEL ? "wireguard-kernel" : "wireguard-userspace";
	rc = wg_device_open(&d->tun.wg, d->cfg.tunnel.device, kind, d->cfg.tunnel.wireguard_go);
	if (rc < 0)
		return tfail(err, err_len, rc, "%s: cannot open the WireGuard device: %s",
			     d->cfg.tunnel.device, strerror(-rc));
	rc = wg_set_private_key(d->tun.wg, key);
	rc = rc ?: wg_set_listen_port(d->tun.wg, d->cfg.tunnel.wg_port);
	rc = rc ?: tunnel_gateways_apply(d->tun.wg, &d->tun.gws);
	if (rc < 0)
		return tfail(err, err_len, rc, "%s: %s", d->cfg.tunnel.device,
			     wg_device_error(d->tun.wg));
	link_mtu(d, TUNNEL_KIND_WIREGUARD);
	rc = tunnel_link_configure(&d->tun.link);
	if (rc < 0)
		return tfail(err, err_len, rc, "%s: configuring the link: %s", d->cfg.tunnel.device,
			     strerror(-rc));
	/* Once a second, not the library's 200 ms: gateway fail-over is decided on handshake
	 * and receive ages in whole seconds (it polls at most once a second anyway), and the
	 * wireguard-go liveness probe is the daemon's only periodic wake-up left at idle
	 * (bench/agent's idle CPU); a crashed wireguard-go is restarted within a second. */
	rc = tunnel_supervisor_open(&d->tun.sup, &(struct tunnel_supervisor_cfg){
						     .dev = d->tun.wg,
						     .link = &d->tun.link,
						     .gws = &d->tun.gws,
						     .interval_ms = 1000,
						 });
	if (rc < 0)
		return tfail(err, err_len, rc, "tunnel supervisor: %s", strerror(-rc));
	d->tun.src_id = daemon_loop_add(d->loop, &(struct daemon_loop_source){
						     .name = "tunnel",
						     .fd = tunnel_supervisor_fd(d->tun.sup),
						     .events = POLLIN,
						     .cb = on_supervisor,
						     .ctx = d,
						 });
	return d->tun.src_id < 0 ? d->tun.src_id : 0;
}

static int vxlan_up(struct daemon *d, char *err, size_t err_len)
{
	struct vxlan_cfg v = {.port = d->cfg.tunnel.vxlan_port};
	int rc;

	snprintf(v.ifname, sizeof(v.ifname), "%s", d->cfg.tunnel.device);
	d->tun.backend = "vxlan";
	for (size_t i = 0; i < d->enr.n_gateways && i < TUNNEL_FAILOVER_MAX_GATEWAYS; i++) {
		snprintf(d->tun.gw_names[i], sizeof(d->tun.gw_names[0]), "%s",
			 d->enr.gateways[i].name);
		snprintf(d->tun.gw_endpoints[i], sizeof(d->tun.gw_endpoints[0]), "%s",
			 d->enr.gateways[i].vxlan_endpoint[0] ? d->enr.gateways[i].vxlan_endpoint
							      : d->enr.gateways[i].underlay_ip);
		d->tun.gws.n = i + 1;
	}
	rc = vxlan_create(&v);
	if (rc < 0)
		return tfail(err, err_len, rc, "%s: creating the VXLAN device: %s",
			     d->cfg.tunnel.device, strerror(-rc));
	link_mtu(d, TUNNEL_KIND_VXLAN);
	rc = tunnel_link_configure(&d->tun.link);
	if (rc < 0)
		return tfail(err, err_len, rc, "%s: configuring the link: %s", d->cfg.tunnel.device,
			     strerror(-rc));
	return 0;
}

int daemon_tunnel_up(struct daemon *d, char *err, size_t err_len)
{
	int rc = link_cfg(d, err, err_len);

	if (rc < 0)
		return rc;
	rc = d->cfg.tunnel.mode == CONFIG_TUNNEL_VXLAN ? vxlan_up(d, err, err_len)
						       : wireguard_up(d, err, err_len);
	if (rc == 0) {
		d->tun.up = true;
		log_info("tunnel: %s on %s, overlay %s, %zu routes, %zu gateways", d->tun.backend,
			 d->cfg.tunnel.device, d->enr.workload.overlay_ip, d->tun.link.n_routes,
			 d->tun.gws.n);
	}
	return rc;
}

void daemon_tunnel_close(struct daemon *d)
{
	tunnel_supervisor_close(d->tun.sup);
	d->tun.sup = NULL;
	if (d->tun.wg)
		wg_device_close(d->tun.wg); /* the device and wireguard-go stay */
	d->tun.wg = NULL;
}

/* The peers as the device reports them, matched to the gateways by key. */
static json_t *gateway_json(struct daemon *d, size_t i, const struct wg_peer *peers, size_t n)
{
	json_t *g = json_pack("{s:s, s:s, s:b}", "name", d->tun.gw_names[i], "endpoint",
			      d->tun.gw_endpoints[i], "active",
			      d->tun.wg ? d->tun.gws.fo.active == i : i == 0);

	for (size_t k = 0; g && k < n; k++) {
		if (memcmp(peers[k].public_key, d->tun.gws.gw[i].peer.public_key, WG_KEY_LEN))
			continue;
		json_object_set_new(g, "handshake_age_s",
				    peers[k].last_handshake_s
					? json_integer(time(NULL) - peers[k].last_handshake_s)
					: json_null());
		json_object_set_new(g, "rx_bytes", json_integer((json_int_t)peers[k].rx_bytes));
		json_object_set_new(g, "tx_bytes", json_integer((json_int_t)peers[k].tx_bytes));
	}
	return g;
}

json_t *daemon_tunnel_status(struct daemon *d)
{
	struct wg_peer *peers = NULL;
	size_t n = 0;
	json_t *gws = json_array();
	json_t *o =
	    json_pack("{s:s, s:s, s:b, s:o}", "backend", d->tun.backend ? d->tun.backend : "none",
		      "device", d->cfg.tunnel.device, "up", d->tun.up, "gateways", gws);

	if (d->tun.wg && wg_get_peers(d->tun.wg, &peers, &n) < 0)
		n = 0;
	for (size_t i = 0; gws && i < d->tun.gws.n; i++)
		json_array_append_new(gws, gateway_json(d, i, peers, n));
	if (d->tun.wg)
		json_object_set_new(o, "switches", json_integer(d->tun.gws.fo.switches));
	wg_peers_free(peers, n);
	return o;
}

void daemon_tunnel_metrics(struct daemon *d)
{
	struct wg_peer *peers = NULL;
	size_t n = 0;

	metrics_set(d->metrics, "pseudopod_tunnel_peers", NULL, (double)d->tun.gws.n);
	if (!d->tun.wg || wg_get_peers(d->tun.wg, &peers, &n) < 0)
		return;
	metrics_clear(d->metrics, "pseudopod_tunnel_handshake_age_seconds");
	for (size_t i = 0; i < d->tun.gws.n; i++) {
		for (size_t k = 0; k < n; k++) {
			if (memcmp(peers[k].public_key, d->tun.gws.gw[i].peer.public_key,
				   WG_KEY_LEN) ||
			    !peers[k].last_handshake_s)
				continue;
			/* an age gauge takes the monotonic time of the event */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t age = time(NULL) - peers[k].last_handshake_s;
			uint64_t now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
			uint64_t since = age > 0 && (uint64_t)age * 1000000000u < now_ns
					     ? now_ns - (uint64_t)age * 1000000000u
					     : now_ns;
			const char *lv[] = {d->tun.gw_names[i], NULL};
			metrics_set_age(d->metrics, "pseudopod_tunnel_handshake_age_seconds", lv,
					since);
		}
	}
	wg_peers_free(peers, n);
}

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
#include <sys/types.h>
#include <time.h>

#include "agent/daemon_gwstate.h"
#include "agent/daemon_internal.h"
#include "agent/metrics.h"
#include "enroll/files.h"
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
	for (size_t g = 0; g < d->tun.n_saved; g++)
		for (size_t i = 0; i < d->tun.saved[g].n_cidrs; i++)
			add_route(l, d->tun.saved[g].cidrs[i]);
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

/* One gateway record as a fail-over peer. A gateway record has no overlay address; its
 * peer's own allowed IP (needed so that WireGuard keeps a standby peer distinct) is its
 * underlay address as a host route, which nothing routes into the device. */
static int gateway_peer(const struct store_gateway *s, struct tunnel_gateway *t, char *err,
			size_t err_len)
{
	struct tunnel_cidr ov;
	char why[256];

	memset(t, 0, sizeof(*t));
	if (!tunnel_key_from_base64(t->peer.public_key, s->wg_public_key, why, sizeof(why)))
		return tfail(err, err_len, -EINVAL, "gateway %s: %s", s->name, why);
	if (inet_pton(AF_INET, s->underlay_ip, &t->peer.endpoint.in4.sin_addr) != 1)
		return tfail(err, err_len, -EINVAL, "gateway %s: underlay %s is not IPv4", s->name,
			     s->underlay_ip);
	t->peer.endpoint.in4.sin_family = AF_INET;
	t->peer.endpoint.in4.sin_port = htons(s->wireguard_port ? s->wireguard_port : 51871);
	t->peer.has_endpoint = true;
	if (!tunnel_cidr_parse(&ov, s->underlay_ip, NET_HOST_BITS_KEEP, why, sizeof(why)))
		return tfail(err, err_len, -EINVAL, "gateway %s: %s", s->name, why);
	t->overlay.family = AF_INET;
	t->overlay.ip4 = ov.ip4;
	t->overlay.cidr = 32;
	return 0;
}

static void gateway_label(struct daemon *d, size_t i, const struct store_gateway *s)
{
	if (&d->tun.gw_rec[i] != s)
		d->tun.gw_rec[i] = *s;
	snprintf(d->tun.gw_names[i], sizeof(d->tun.gw_names[0]), "%s", s->name);
	snprintf(d->tun.gw_endpoints[i], sizeof(d->tun.gw_endpoints[0]), "%s:%u", s->underlay_ip,
		 s->wireguard_port ? s->wireguard_port : 51871u);
}

/* The link's routes are the CIDRs the active gateway carries. */
static void cidrs_from_routes(struct daemon *d, struct wg_allowed_ip *out, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < d->tun.link.n_routes && *n < TUNNEL_GATEWAYS_MAX_CIDRS; i++) {
		const struct tunnel_cidr *r = &d->tun.link.routes[i];
		struct wg_allowed_ip *a = &out[(*n)++];

		memset(a, 0, sizeof(*a));
		a->family = r->family;
		a->cidr = r->len;
		if (r->family == AF_INET)
			a->ip4 = r->ip4;
		else
			a->ip6 = r->ip6;
	}
}

/* The gateways' fail-over set: the one saved by the last process, else the enrollment's. */
static int gateways_cfg(struct daemon *d, char *err, size_t err_len)
{
	struct tunnel_gateways *g = &d->tun.gws;
	const struct store_gateway *src = d->tun.n_saved ? d->tun.saved : d->enr.gateways;
	size_t n_src = d->tun.n_saved ? d->tun.n_saved : d->enr.n_gateways;
	int rc;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < n_src && g->n < TUNNEL_FAILOVER_MAX_GATEWAYS; i++) {
		const struct store_gateway *s = &src[i];

		if (!s->wg_public_key[0])
			continue;
		rc = gateway_peer(s, &g->gw[g->n], err, err_len);
		if (rc < 0)
			return rc;
		gateway_label(d, g->n, s);
		g->n++;
	}
	cidrs_from_routes(d, g->cidrs, &g->n_cidrs);
	g->keepalive_s = (uint16_t)d->cfg.tunnel.keepalive_s;
	if (!g->n)
		return tfail(err, err_len, -EINVAL, "enrollment: no gateway with a WireGuard key");
	if (!tunnel_gateways_init(g, d->cfg.tunnel.handshake_stale_s,
				  d->cfg.tunnel.failover_hold_s))
		return tfail(err, err_len, -EINVAL, "[tunnel]: bad fail-over bounds");
	for (size_t i = 0; d->tun.n_saved && i < g->n; i++)
		if (!strcmp(d->tun.gw_names[i], d->tun.saved_active))
			g->fo.active = i; /* where the last process left the traffic */
	return 0;
}

/* ---- the live set on disk (daemon_gwstate.h) ---- */

static void saved_path(const struct daemon *d, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", d->cfg.agent.state_dir, DAEMON_GWSTATE_FILE);
}

/* The enrollment the file belongs to. */
static void saved_owner(const struct daemon *d, char *out, size_t len)
{
	snprintf(out, len, "%s/%lld", d->enr.workload.name, (long long)d->enr.workload.enrolled_at);
}

/* What the last process saved, if it can be used; otherwise the enrollment's set. */
static void saved_load(struct daemon *d)
{
	char path[CONFIG_PATH_MAX + 32], why[512], owner[STORE_NAME_MAX + 32], *buf = NULL;
	size_t len = 0;
	int rc;

	d->tun.n_saved = 0;
	saved_path(d, path, sizeof(path));
	saved_owner(d, owner, sizeof(owner));
	rc = enroll_read_file(path, true, DAEMON_GWSTATE_MAX, &buf, &len, why, sizeof(why));
	if (rc == -ENOENT)
		return;
	if (rc < 0 ||
	    !daemon_gwstate_decode(buf, len, owner, d->tun.saved, TUNNEL_FAILOVER_MAX_GATEWAYS,
				   &d->tun.n_saved, d->tun.saved_active,
				   sizeof(d->tun.saved_active), why, sizeof(why)))
		log_warn("tunnel: %s: %s; starting from the enrollment's gateways", path, why);
	else
		log_info("tunnel: %zu gateways as the last process left them, %s active",
			 d->tun.n_saved, d->tun.saved_active);
	free(buf);
}

/* After every change of the set or of the active gateway (rare events). */
static void saved_write(struct daemon *d)
{
	char path[CONFIG_PATH_MAX + 32], owner[STORE_NAME_MAX + 32];
	char *buf;
	int rc;

	if (!d->tun.wg || !d->tun.gws.n)
		return;
	saved_owner(d, owner, sizeof(owner));
	buf = daemon_gwstate_encode(d->tun.gw_rec, d->tun.gws.n, daemon_tunnel_active_gateway(d),
				    owner);
	saved_path(d, path, sizeof(path));
	rc = buf ? enroll_write_file(path, buf, strlen(buf), 0600) : -ENOMEM;
	if (rc < 0)
		log_warn("tunnel: saving the gateway set to %s: %s (a restart starts from the last "
			 "saved or the enrollment's)",
			 path, strerror(-rc));
	free(buf);
}

static void leaving_retry(struct daemon *d);

static int on_supervisor(int fd, short revents, void *ctx)
{
	struct daemon *d = ctx;
	unsigned ch;

	(void)fd;
	(void)revents;
	ch = tunnel_supervisor_tick(d->tun.sup, (int64_t)time(NULL));
	if (ch & TUNNEL_SUPERVISOR_SWITCHED) {
		log_info("tunnel: gateway %s now carries the cluster's traffic",
			 d->tun.gw_names[d->tun.gws.fo.active]);
		daemon_store_publish_gateway(d); /* the return path follows */
		saved_write(d);
	}
	leaving_retry(d);
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
	int rc;

	if (d->cfg.tunnel.mode != CONFIG_TUNNEL_VXLAN)
		saved_load(d);
	rc = link_cfg(d, err, err_len);

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

/* ---- live changes: gateways/ and config records (docs/agent.md, "Live changes") ---- */

const char *daemon_tunnel_active_gateway(const struct daemon *d)
{
	return d->tun.wg && d->tun.gws.n ? d->tun.gw_names[d->tun.gws.fo.active] : "";
}

static ssize_t gateway_index(const struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->tun.gws.n; i++)
		if (!strcmp(d->tun.gw_names[i], name))
			return (ssize_t)i;
	return -1;
}

static void labels_remove(struct daemon *d, size_t i, size_t n)
{
	memmove(d->tun.gw_names[i], d->tun.gw_names[i + 1],
		(n - i - 1) * sizeof(d->tun.gw_names[0]));
	memmove(d->tun.gw_endpoints[i], d->tun.gw_endpoints[i + 1],
		(n - i - 1) * sizeof(d->tun.gw_endpoints[0]));
	memmove(&d->tun.gw_rec[i], &d->tun.gw_rec[i + 1], (n - i - 1) * sizeof(d->tun.gw_rec[0]));
}

/* A CIDR not routed yet becomes a route into the device at once; true when it is new. */
static bool route_grow(struct daemon *d, const char *cidr)
{
	size_t at = d->tun.link.n_routes;
	int rc;

	if (!add_route(&d->tun.link, cidr))
		return false;
	rc = tunnel_link_route_replace(d->tun.link.ifname, &d->tun.link.routes[at]);
	if (rc < 0)
		log_warn("tunnel: route %s into %s: %s (re-applied with the link)", cidr,
			 d->tun.link.ifname, strerror(-rc));
	else
		log_info("tunnel: route %s into %s added live", cidr, d->tun.link.ifname);
	return true;
}

/* After route_grow(): the active gateway's peer carries the new CIDRs too. */
static void routes_commit(struct daemon *d)
{
	struct wg_allowed_ip cidrs[TUNNEL_GATEWAYS_MAX_CIDRS];
	size_t n;
	int rc;

	if (!d->tun.wg)
		return; /* VXLAN: the route is the whole binding */
	cidrs_from_routes(d, cidrs, &n);
	rc = tunnel_gateways_set_cidrs(d->tun.wg, &d->tun.gws, cidrs, n);
	if (rc < 0)
		log_warn("tunnel: the active gateway's allowed IPs: %s (retried on the next poll)",
			 wg_device_error(d->tun.wg));
}

/* VXLAN: the datapath picks the gateway per packet from the ipcache; the list is status. */
static void vxlan_gateway_put(struct daemon *d, const struct store_gateway *s)
{
	ssize_t i = gateway_index(d, s->name);
	size_t at = i >= 0 ? (size_t)i : d->tun.gws.n;

	if (at >= TUNNEL_FAILOVER_MAX_GATEWAYS)
		return;
	snprintf(d->tun.gw_names[at], sizeof(d->tun.gw_names[0]), "%s", s->name);
	snprintf(d->tun.gw_endpoints[at], sizeof(d->tun.gw_endpoints[0]), "%s",
		 s->vxlan_endpoint[0] ? s->vxlan_endpoint : s->underlay_ip);
	if (i < 0)
		d->tun.gws.n++;
}

static bool same_peer(const struct tunnel_gateway *a, const struct tunnel_gateway *b)
{
	return !memcmp(a->peer.public_key, b->peer.public_key, WG_KEY_LEN) &&
	       !memcmp(&a->peer.endpoint.in4, &b->peer.endpoint.in4,
		       sizeof(a->peer.endpoint.in4)) &&
	       !memcmp(&a->overlay, &b->overlay, sizeof(a->overlay));
}

static void pending_set(struct daemon *d, const char *name, bool on);

void daemon_tunnel_gateway_put(struct daemon *d, const struct store_gateway *s)
{
	struct tunnel_gateways *g = &d->tun.gws;
	struct tunnel_gateway t;
	char err[512];
	ssize_t i = gateway_index(d, s->name);
	bool grew = false;
	int rc;

	if (!d->tun.up)
		return;
	if (!d->tun.wg) {
		vxlan_gateway_put(d, s);
		return;
	}
	if (!s->wg_public_key[0]) {
		log_info("gateways/%s serves no WireGuard: not a peer of this machine", s->name);
		if (i >= 0)
			daemon_tunnel_gateway_delete(d, s->name);
		return;
	}
	if (gateway_peer(s, &t, err, sizeof(err)) < 0) {
		log_warn("gateways/%s: %s; the tunnel keeps what it had", s->name, err);
		return;
	}
	pending_set(d, s->name, false); /* registered (again) */
	for (size_t k = 0; k < s->n_cidrs; k++)
		grew |= route_grow(d, s->cidrs[k]);
	if (grew)
		routes_commit(d);
	if (i >= 0) {
		if (same_peer(&g->gw[i], &t)) {
			/* a re-registration (new lease): nothing to do, unless e.g. its CIDRs
			 * changed, which only the saved set records */
			if (memcmp(&d->tun.gw_rec[i], s, sizeof(*s))) {
				gateway_label(d, (size_t)i, s);
				saved_write(d);
			}
			return;
		}
		rc = tunnel_gateways_update(d->tun.wg, g, (size_t)i, &t);
		gateway_label(d, (size_t)i, s);
		log_info("tunnel: gateway %s changed key or endpoint: its peer is updated",
			 s->name);
	} else {
		size_t before = g->n;

		rc = tunnel_gateways_add(d->tun.wg, g, &t);
		if (g->n == before) {
			log_warn("tunnel: gateway %s not added: %s", s->name,
				 rc == -ENOSPC ? "this machine has the most gateways it takes (8)"
					       : "its key is another gateway's");
			return;
		}
		gateway_label(d, before, s);
		log_info("tunnel: gateway %s (%s) added live: a standby peer", s->name,
			 d->tun.gw_endpoints[before]);
	}
	if (rc < 0)
		log_warn("tunnel: gateway %s: %s (re-applied on the next poll)", s->name,
			 wg_device_error(d->tun.wg));
	saved_write(d);
}

/* Whether a gateway other than i is healthy now (the one to hand the traffic to). */
static bool other_healthy(const struct daemon *d, size_t i)
{
	int64_t now = (int64_t)time(NULL);

	for (size_t k = 0; k < d->tun.gws.n; k++)
		if (k != i && tunnel_failover_healthy(&d->tun.gws.fo, k, now))
			return true;
	return false;
}

static void pending_set(struct daemon *d, const char *name, bool on)
{
	ssize_t free_at = -1;

	for (size_t k = 0; k < TUNNEL_FAILOVER_MAX_GATEWAYS; k++) {
		if (!strcmp(d->tun.gw_leaving[k], name)) {
			if (!on)
				d->tun.gw_leaving[k][0] = '\0';
			return;
		}
		if (!d->tun.gw_leaving[k][0] && free_at < 0)
			free_at = (ssize_t)k;
	}
	if (on && free_at >= 0)
		snprintf(d->tun.gw_leaving[free_at], sizeof(d->tun.gw_leaving[0]), "%s", name);
}

void daemon_tunnel_gateway_delete(struct daemon *d, const char *name)
{
	struct tunnel_gateways *g = &d->tun.gws;
	ssize_t i = gateway_index(d, name);
	size_t n = g->n;
	bool was_active;
	int rc;

	if (!d->tun.up || i < 0)
		return;
	if (!d->tun.wg) {
		labels_remove(d, (size_t)i, n);
		g->n--;
		return;
	}
	was_active = g->fo.active == (size_t)i;
	/* Fail-static: a deregistered gateway that still carries the traffic is dropped only
	 * once another one answers (its registration may have lapsed with its store link
	 * while its tunnel works); the tunnel tick retries. */
	if (g->n == 1 || (was_active && !other_healthy(d, (size_t)i))) {
		bool first = true;

		for (size_t k = 0; k < TUNNEL_FAILOVER_MAX_GATEWAYS; k++)
			first &= strcmp(d->tun.gw_leaving[k], name) != 0;
		if (first)
			log_warn("gateways/%s is not in the store, but no other gateway of this "
				 "machine answers: it keeps carrying the traffic until one does",
				 name);
		pending_set(d, name, true);
		return;
	}
	pending_set(d, name, false);
	rc = tunnel_gateways_remove(d->tun.wg, g, (size_t)i, (int64_t)time(NULL));
	if (g->n == n)
		return;
	labels_remove(d, (size_t)i, n);
	if (rc < 0)
		log_warn("tunnel: removing gateway %s: %s (re-applied on the next poll)", name,
			 wg_device_error(d->tun.wg));
	log_info("tunnel: gateway %s deregistered: peer removed%s%s", name,
		 was_active ? "; now carrying the cluster's traffic: " : "",
		 was_active ? d->tun.gw_names[g->fo.active] : "");
	if (was_active)
		daemon_store_publish_gateway(d);
	saved_write(d);
}

/* From the tunnel tick: deregistered gateways kept for want of another retry. */
static void leaving_retry(struct daemon *d)
{
	char name[STORE_NAME_MAX];

	for (size_t k = 0; k < TUNNEL_FAILOVER_MAX_GATEWAYS; k++) {
		if (!d->tun.gw_leaving[k][0])
			continue;
		snprintf(name, sizeof(name), "%s", d->tun.gw_leaving[k]);
		if (gateway_index(d, name) < 0)
			d->tun.gw_leaving[k][0] = '\0';
		else
			daemon_tunnel_gateway_delete(d, name);
	}
}

static bool listed(const struct store_gateway *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			return true;
	return false;
}

void daemon_tunnel_gateways_keep_only(struct daemon *d, const struct store_gateway *present,
				      size_t n)
{
	/* Called after the puts of a listing, so a replaced set never passes through an empty
	 * one; the last gateway is kept in any case. */
	for (size_t i = d->tun.gws.n; i-- > 0;)
		if (!listed(present, n, d->tun.gw_names[i]))
			daemon_tunnel_gateway_delete(d, d->tun.gw_names[i]);
}

/* Per field (docs/agent.md): CIDRs added are routed at once; the rest is built at start. */
void daemon_tunnel_config(struct daemon *d, const struct store_config *nc)
{
	struct store_config *c = &d->enr.cluster;
	bool grew = false;

	if (!d->tun.up)
		return;
	for (size_t i = 0; i < nc->n_pod_cidrs; i++)
		grew |= route_grow(d, nc->pod_cidrs[i]);
	grew |= route_grow(d, nc->service_cidr);
	grew |= route_grow(d, nc->workload_cidr);
	if (grew)
		routes_commit(d);
	for (size_t i = 0; i < c->n_pod_cidrs; i++) {
		bool kept = false;

		for (size_t k = 0; k < nc->n_pod_cidrs; k++)
			kept |= !strcmp(c->pod_cidrs[i], nc->pod_cidrs[k]);
		if (!kept)
			log_warn(
			    "config: pod CIDR %s removed: its route stays until the machine "
			    "enrolls again (a route taken away live could cut flows the policy "
			    "still allows)",
			    c->pod_cidrs[i]);
	}
	if (strcmp(c->service_cidr, nc->service_cidr) ||
	    strcmp(c->workload_cidr, nc->workload_cidr))
		log_warn("config: service/workload CIDR changed (%s, %s -> %s, %s): new ones are "
			 "routed, old routes stay until the machine enrolls again",
			 c->service_cidr, c->workload_cidr, nc->service_cidr, nc->workload_cidr);
	if (c->tunnel != nc->tunnel || c->wireguard_port != nc->wireguard_port ||
	    c->vxlan_port != nc->vxlan_port)
		log_warn("config: tunnel kind or port changed: the tunnel device is built at start "
			 "from the enrollment state, so this needs `pseudopod enroll` again and a "
			 "restart of pseudopodd");
	if (c->cluster_id != nc->cluster_id)
		log_warn("config: cluster-id changed from %u to %u: identities are the store's, "
			 "nothing changes on this machine until it enrolls again",
			 c->cluster_id, nc->cluster_id);
	if (strcmp(c->cluster_name, nc->cluster_name)) {
		log_info("config: cluster name is now %s", nc->cluster_name);
		snprintf(c->cluster_name, sizeof(c->cluster_name), "%s", nc->cluster_name);
	}
}

/* The peers as the device reports them, matched to the gateways by key. */
static json_t *gateway_json(struct daemon *d, size_t i, const struct wg_peer *peers, size_t n)
{
	json_t *g = json_pack("{s:s, s:s, s:b}", "name", d->tun.gw_names[i], "endpoint",
			      d->tun.gw_endpoints[i], "active",
			      d->tun.wg ? d->tun.gws.fo.active == i : i == 0);

	for (size_t k = 0; g && k < TUNNEL_FAILOVER_MAX_GATEWAYS; k++)
		if (!strcmp(d->tun.gw_leaving[k], d->tun.gw_names[i]))
			json_object_set_new(g, "deregistered", json_true()); /* kept: see delete */
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

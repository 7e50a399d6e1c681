// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gateway mode in the daemon's loop: the gateway is one loop source (gateway_fd(): its
 * store watches) whose timeout hook is gateway_timeout_ms() (lease, supervision, retries),
 * stepped with gateway_poll(gw, 0); signals come through a signalfd. No periodic timer.
 * The gateway's own options come from the config: its name ([agent] name), pins, tunnel
 * device and WireGuard settings, the private key in <state-dir>/wireguard.key. The
 * underlay address it registers (where machines send tunnel traffic) is [gateway]
 * underlay-address, or else the source address the kernel picks toward the first store
 * endpoint — the node's address on the network the machines share with the cluster.
 * The local API, flows and metrics are daemon_gateway_api.c's, on the same loop.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/daemon.h"
#include "agent/daemon_gateway.h"
#include "agent/daemon_gateway_api.h"
#include "agent/daemon_internal.h"
#include "agent/gateway.h"
#include "lib/log.h"
#include "store/store_options.h"

struct gwd {
	struct config cfg; /* as running (SIGHUP compares against it) */
	const char *config_path;
	struct gateway *gw;
	struct gwd_api *api;
	struct daemon_loop *loop;
	int src;
	bool ready;
	char err[512];
	int rc;
};

static int on_step(int fd, short revents, void *ctx)
{
	struct gwd *g = ctx;
	struct gateway_stats s;
	int rc = gateway_poll(g->gw, 0, g->err, sizeof(g->err));

	(void)fd;
	(void)revents;
	if (rc < 0) {
		g->rc = rc;
		daemon_loop_stop(g->loop);
		return rc;
	}
	gateway_stats(g->gw, &s);
	if (!g->ready && s.synced) {
		g->ready = true;
		daemon_notify("READY=1\nSTATUS=gateway synced");
		log_info("ready: gateway synced, %zu endpoints, %zu peers", s.endpoints, s.peers);
	}
	return 0;
}

static int step_timeout(void *ctx)
{
	return gateway_timeout_ms(((struct gwd *)ctx)->gw);
}

static int on_sig(int fd, short revents, void *ctx)
{
	struct gwd *g = ctx;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			daemon_config_reload(&g->cfg, g->config_path);
			continue;
		}
		log_info("stopping; the gateway datapath and tunnels stay");
		daemon_notify("STOPPING=1");
		daemon_loop_stop(g->loop);
	}
	return 0;
}

/* The source address toward the first store endpoint's host (IPv4; no packet is sent:
 * connect() on a UDP socket only picks the route). */
static bool underlay_toward_store(const char *endpoints, char *out, size_t len)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *ai = NULL;
	char host[256];
	const char *p = strstr(endpoints, "://");
	size_t n;
	bool ok = false;

	p = p ? p + 3 : endpoints;
	n = strcspn(p, ":/,");
	if (!n || n >= sizeof(host))
		return false;
	memcpy(host, p, n);
	host[n] = '\0';
	if (getaddrinfo(host, "2379", &hints, &ai) != 0)
		return false;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    !(ntohl(sa.sin_addr.s_addr) >> 24 == 127))
		ok = inet_ntop(AF_INET, &sa.sin_addr, out, (socklen_t)len) != NULL;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ok;
}

/* [gateway] underlay-address, else the source address of the route toward the store. */
static int underlay_address(const struct config *cfg, char *out, size_t len, char *err,
			    size_t err_len)
{
	if (cfg->gateway.underlay_address[0]) {
		snprintf(out, len, "%s", cfg->gateway.underlay_address);
		return 0;
	}
	if (underlay_toward_store(cfg->store.endpoints, out, len))
		return 0;
	snprintf(err, err_len,
		 "gateway mode: cannot tell this node's underlay address from the route toward "
		 "the store (%s); set [gateway] underlay-address in the config",
		 cfg->store.endpoints);
	return -EINVAL;
}

int daemon_gateway_run(const struct config *cfg, const char *config_path, char *err, size_t err_len)
{
	struct store_options so;
	struct gwd g = {.cfg = *cfg, .config_path = config_path, .src = -1};
	char key[CONFIG_PATH_MAX + 32], ul[sizeof(cfg->gateway.underlay_address)];
	sigset_t set;
	int sfd = -1, rc;

	store_options_init(&so);
	so.config_path = config_path;
	rc = store_options_resolve(&so, err, err_len);
	if (rc < 0)
		goto out;
	snprintf(key, sizeof(key), "%s/wireguard.key", cfg->agent.state_dir);
	rc = underlay_address(cfg, ul, sizeof(ul), err, err_len);
	if (rc < 0)
		goto out;
	log_info("gateway %s: registering underlay address %s", cfg->agent.name, ul);
	struct gateway_opts o = {
	    .store = {.endpoints = cfg->store.endpoints,
		      .ca_file = cfg->store.ca_file,
		      .cert_file = cfg->store.cert_file,
		      .key_file = cfg->store.key_file,
		      .user = cfg->store.user,
		      .password = so.password,
		      .timeout_ms = cfg->store.timeout_ms},
	    .prefix = cfg->store.prefix,
	    .name = cfg->agent.name,
	    .bpffs = cfg->agent.bpffs_root,
	    .ifname = cfg->tunnel.device,
	    .vxlan = cfg->tunnel.mode == CONFIG_TUNNEL_VXLAN,
	    .private_key_file = key,
	    .wg_backend = (int)cfg->tunnel.wg_backend,
	    .wireguard_go = cfg->tunnel.wireguard_go,
	    .port = cfg->gateway.listen_port, /* 0: the cluster's, which machines use */
	    .keepalive_s = (uint16_t)cfg->tunnel.keepalive_s,
	    .underlay_ip = ul,
	    .ipcache_max = cfg->datapath.ipcache_max,
	    .policy_max = cfg->datapath.policy_max,
	};
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	rc = sfd < 0 ? -errno : daemon_loop_new(&g.loop);
	if (rc < 0) {
		snprintf(err, err_len, "%s", strerror(-rc));
		goto out;
	}
	rc = gateway_open(&o, &g.gw, err, err_len);
	rc = rc ?: gwd_api_start(g.gw, cfg, g.loop, &g.ready, &g.api, err, err_len);
	if (rc < 0)
		goto out;
	rc = daemon_loop_add(
	    g.loop, &(struct daemon_loop_source){
			.name = "signals", .fd = sfd, .events = POLLIN, .cb = on_sig, .ctx = &g});
	g.src = daemon_loop_add(g.loop, &(struct daemon_loop_source){.name = "gateway",
								     .fd = gateway_fd(g.gw),
								     .events = POLLIN,
								     .cb = on_step,
								     .timeout_ms = step_timeout,
								     .ctx = &g});
	if (rc >= 0 && g.src >= 0)
		rc = daemon_loop_run(g.loop);
	if (g.rc < 0) {
		rc = g.rc;
		snprintf(err, err_len, "%s", g.err);
	}
out:
	gwd_api_stop(g.api);
	gateway_close(g.gw);
	daemon_loop_free(g.loop);
	if (sfd >= 0)
		close(sfd);
	store_options_clear(&so);
	return rc < 0 ? rc : 0;
}

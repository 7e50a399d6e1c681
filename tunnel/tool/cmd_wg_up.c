// SPDX-License-Identifier: GPL-2.0-only
/* pp-tunnel wg-up: a device, its link configuration, and optionally a supervising loop. */
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <getopt.h>

#include "lib/cli.h"
#include "lib/log.h"
#include "tunnel/keys.h"
#include "tunnel/supervisor.h"
#include "tunnel/wg_uapi.h"

#include "tunnel/tool/pp-tunnel.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void up_usage(FILE *f)
{
	fprintf(
	    f, "usage: pp-tunnel wg-up IFNAME --private-key FILE [options]\n"
	       "  --port N                 listen port (default: random)\n"
	       "  --backend auto|kernel|userspace   (default auto)\n"
	       "  --wireguard-go PATH      wireguard-go binary (default: from PATH)\n"
	       "  --address CIDR           overlay address on the device\n"
	       "  --mtu N|auto             auto = underlay MTU minus overhead\n"
	       "  --underlay-dev DEV       underlay device for --mtu auto (default: route to "
	       "the first endpoint)\n"
	       "  --route CIDR             route CIDR via the device (repeatable)\n"
	       "  --peer PUB,ENDPOINT|-,ALLOWED[+ALLOWED...]|-[,KEEPALIVE]   (repeatable)\n"
	       "  --gateway PUB,ENDPOINT,OVERLAY_IP   fail-over gateway (repeatable; the first is "
	       "preferred)\n"
	       "  --cidr CIDR              cluster CIDR carried by the active gateway (repeatable; "
	       "also routed)\n"
	       "  --stale S --hold S       fail-over bounds (default 180 / 60)\n"
	       "  --keepalive S            keepalive toward gateways (default 25)\n"
	       "  --status-file FILE       written with 'active=N switches=M' on every change\n"
	       "  --foreground             stay: supervise wireguard-go, run fail-over, and on\n"
	       "                           SIGTERM/SIGINT remove the device; otherwise exit and "
	       "leave it up\n");
}

static bool parse_gateway(struct ppt_up_opts *o, const char *spec)
{
	char buf[512], why[256], *c1, *c2;
	struct tunnel_gateway *g;

	if (o->gws.n == TUNNEL_FAILOVER_MAX_GATEWAYS) {
		fprintf(stderr, "pp-tunnel: at most %d gateways\n", TUNNEL_FAILOVER_MAX_GATEWAYS);
		return false;
	}
	g = &o->gws.gw[o->gws.n];
	snprintf(buf, sizeof(buf), "%s", spec);
	c1 = strchr(buf, ',');
	c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2) {
		fprintf(stderr, "pp-tunnel: --gateway '%s': expected PUB,ENDPOINT,OVERLAY_IP\n",
			spec);
		return false;
	}
	*c2++ = '\0';
	if (!ppt_parse_peer_spec(&g->peer, buf, why, sizeof(why))) {
		fprintf(stderr, "pp-tunnel: --gateway %s\n", why);
		return false;
	}
	if (!strchr(c2, '/') && strlen(c2) + 5 <= sizeof(buf) - (size_t)(c2 - buf))
		strcat(c2, strchr(c2, ':') ? "/128" : "/32");
	if (!wg_uapi_parse_allowed_ip(&g->overlay, c2)) {
		free(g->peer.allowed_ips);
		g->peer.allowed_ips = NULL;
		fprintf(stderr, "pp-tunnel: --gateway '%s': bad overlay IP\n", c2);
		return false;
	}
	o->gws.n++;
	return true;
}

static bool parse_up(struct ppt_up_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {{"private-key", required_argument, 0, 'k'},
					   {"port", required_argument, 0, 'p'},
					   {"backend", required_argument, 0, 'b'},
					   {"wireguard-go", required_argument, 0, 'w'},
					   {"address", required_argument, 0, 'a'},
					   {"mtu", required_argument, 0, 'm'},
					   {"underlay-dev", required_argument, 0, 'u'},
					   {"route", required_argument, 0, 'r'},
					   {"peer", required_argument, 0, 'P'},
					   {"gateway", required_argument, 0, 'g'},
					   {"cidr", required_argument, 0, 'c'},
					   {"stale", required_argument, 0, 's'},
					   {"hold", required_argument, 0, 'H'},
					   {"keepalive", required_argument, 0, 'K'},
					   {"status-file", required_argument, 0, 'S'},
					   {"foreground", no_argument, 0, 'f'},
					   {0, 0, 0, 0}};
	char why[256];
	int c, r;

	o->stale_s = 180;
	o->hold_s = 60;
	o->keepalive_s = 25;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->key_file = optarg;
			break;
		case 'p':
			if (!ppt_parse_u32_arg(optarg, 65535, &o->port))
				return false;
			o->has_port = true;
			break;
		case 'b':
			if (!ppt_parse_backend(optarg, &o->backend))
				return false;
			break;
		case 'w':
			o->wg_go = optarg;
			break;
		case 'P':
			if (o->n_peers == PPT_MAX_PEERS_ARGS ||
			    !ppt_parse_peer_spec(&o->peers[o->n_peers], optarg, why, sizeof(why))) {
				fprintf(stderr, "pp-tunnel: --peer %s\n", why);
				return false;
			}
			o->n_peers++;
			break;
		case 'g':
			if (!parse_gateway(o, optarg))
				return false;
			break;
		case 'c':
			if (o->gws.n_cidrs == TUNNEL_GATEWAYS_MAX_CIDRS ||
			    !wg_uapi_parse_allowed_ip(&o->gws.cidrs[o->gws.n_cidrs], optarg) ||
			    !ppt_add_route(o, optarg)) {
				fprintf(stderr, "pp-tunnel: --cidr '%s': expected ADDRESS/PREFIX\n",
					optarg);
				return false;
			}
			o->gws.n_cidrs++;
			break;
		case 's':
			if (!ppt_parse_u32_arg(optarg, 86400, &o->stale_s))
				return false;
			break;
		case 'H':
			if (!ppt_parse_u32_arg(optarg, 86400, &o->hold_s))
				return false;
			break;
		case 'K':
			if (!ppt_parse_u32_arg(optarg, 65535, &o->keepalive_s))
				return false;
			break;
		case 'S':
			o->status_file = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		default:
			r = ppt_parse_link_opt(o, c, optarg);
			if (r > 0)
				break;
			if (r == 0)
				up_usage(stderr);
			return false;
		}
	}
	if (optind != argc - 1 || !o->key_file) {
		up_usage(stderr);
		return false;
	}
	o->ifname = argv[optind];
	if (strlen(o->ifname) >= IFNAMSIZ) {
		fprintf(stderr, "pp-tunnel: interface name '%s' longer than %d\n", o->ifname,
			IFNAMSIZ - 1);
		return false;
	}
	snprintf(o->link.ifname, sizeof(o->link.ifname), "%s", o->ifname);
	o->gws.keepalive_s = (uint16_t)o->keepalive_s;
	if (o->gws.n && !tunnel_gateways_init(&o->gws, o->stale_s, o->hold_s)) {
		fprintf(stderr, "pp-tunnel: --stale must be at least 1 second\n");
		return false;
	}
	return true;
}

static void write_status(const struct ppt_up_opts *o, const struct tunnel_failover *f)
{
	char tmp[4096];
	FILE *fp;

	if (!o->status_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->status_file);
	fp = fopen(tmp, "w");
	if (!fp)
		return;
	fprintf(fp, "active=%zu switches=%u\n", f->active, f->switches);
	fclose(fp);
	rename(tmp, o->status_file);
}

/* Until SIGTERM/SIGINT: the tunnel supervisor's ticks, its timer fd polled. */
static int run_foreground(struct wg_device *dev, struct ppt_up_opts *o)
{
	struct tunnel_supervisor_cfg cfg = {.dev = dev, .link = &o->link, .gws = &o->gws};
	struct sigaction sa = {.sa_handler = on_stop};
	struct tunnel_supervisor *sup;
	struct pollfd pfd = {.events = POLLIN};
	int rc;

	rc = tunnel_supervisor_open(&sup, &cfg);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s: supervisor: %s\n", o->ifname, strerror(-rc));
		return CLI_EXIT_FAIL;
	}
	pfd.fd = tunnel_supervisor_fd(sup);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (o->gws.n)
		write_status(o, &o->gws.fo);
	printf("ready %s\n", o->ifname);
	fflush(stdout);
	while (!stop_requested) {
		if (tunnel_supervisor_tick(sup, (int64_t)time(NULL)) & TUNNEL_SUPERVISOR_SWITCHED)
			write_status(o, &o->gws.fo);
		/* EINTR (a stop signal) ends the wait early; the loop condition sees it. */
		poll(&pfd, 1, tunnel_supervisor_timeout_ms(sup));
	}
	log_info("%s: stopping", o->ifname);
	tunnel_supervisor_close(sup);
	return CLI_EXIT_OK;
}

int ppt_cmd_wg_up(int argc, char **argv)
{
	struct ppt_up_opts *o = calloc(1, sizeof(*o));
	struct wg_device *dev = NULL;
	uint8_t key[WG_KEY_LEN];
	char why[512];
	int rc, ret = CLI_EXIT_FAIL;

	if (!o)
		return CLI_EXIT_FAIL;
	if (cli_wants_help(argc, argv)) {
		up_usage(stdout);
		ret = CLI_EXIT_OK;
		goto out;
	}
	if (!parse_up(o, argc, argv)) {
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (tunnel_key_read_file(o->key_file, key, why, sizeof(why)) < 0) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		goto out;
	}
	if (ppt_resolve_mtu(o, TUNNEL_KIND_WIREGUARD) < 0)
		goto out;
	if (ppt_open_device(&dev, o->ifname, o->backend, o->wg_go) < 0)
		goto out;
	rc = wg_set_private_key(dev, key);
	if (rc == 0 && o->has_port)
		rc = wg_set_listen_port(dev, (uint16_t)o->port);
	for (size_t i = 0; rc == 0 && i < o->n_peers; i++)
		rc = wg_set_peer(dev, &o->peers[i]);
	if (rc == 0 && o->gws.n)
		rc = tunnel_gateways_apply(dev, &o->gws);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s\n", wg_device_error(dev));
		goto out_destroy;
	}
	rc = tunnel_link_configure(&o->link);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s: configuring the link: %s\n", o->ifname,
			strerror(-rc));
		goto out_destroy;
	}
	if (!o->foreground) {
		wg_device_close(dev);
		ret = CLI_EXIT_OK;
		goto out;
	}
	ret = run_foreground(dev, o);
out_destroy:
	wg_device_destroy(dev);
out:
	for (size_t i = 0; i < o->n_peers; i++)
		free(o->peers[i].allowed_ips);
	for (size_t i = 0; i < o->gws.n; i++)
		free(o->gws.gw[i].peer.allowed_ips);
	free(o);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-tunnel: a developer/test tool over the tunnel library (keys, WireGuard, VXLAN,
 * links, fail-over). The e2e tests and the benchmark drive it; the agent uses the library
 * directly. Each subcommand's --help lists its options.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cli.h"
#include "lib/log.h"
#include "lib/parse_num.h"
#include "tunnel/failover.h"
#include "tunnel/gateways.h"
#include "tunnel/keys.h"
#include "tunnel/link.h"
#include "tunnel/vxlan.h"
#include "tunnel/wg.h"
#include "tunnel/wg_uapi.h"

#define MAX_PEERS_ARGS 64

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- peers on the command line: PUB,ENDPOINT|-,ALLOWED[+ALLOWED...]|-[,KEEPALIVE] ---- */

static bool parse_peer_spec_fields(struct wg_peer *p, const char *spec, char *why, size_t why_len)
{
	char buf[4096], *fields[4] = {0}, *save = NULL, *tok, *ip;
	int n = 0;

	memset(p, 0, sizeof(*p));
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		snprintf(why, why_len, "peer spec too long");
		return false;
	}
	for (tok = strtok_r(buf, ",", &save); tok && n < 4; tok = strtok_r(NULL, ",", &save))
		fields[n++] = tok;
	if (n < 2 || tok) {
		snprintf(why, why_len,
			 "'%s': expected PUBKEY,ENDPOINT|-,ALLOWED[+...]|-[,KEEPALIVE]", spec);
		return false;
	}
	if (!tunnel_key_from_base64(p->public_key, fields[0], why, why_len))
		return false;
	if (strcmp(fields[1], "-") && !wg_uapi_parse_endpoint(p, fields[1])) {
		snprintf(why, why_len, "'%s': expected IP:PORT or [IP6]:PORT", fields[1]);
		return false;
	}
	if (fields[2] && strcmp(fields[2], "-")) {
		p->replace_allowed_ips = true;
		for (ip = strtok_r(fields[2], "+", &save); ip; ip = strtok_r(NULL, "+", &save)) {
			struct wg_allowed_ip *na;

			na = realloc(p->allowed_ips, (p->n_allowed_ips + 1) * sizeof(*na));
			if (!na) {
				snprintf(why, why_len, "out of memory");
				return false;
			}
			p->allowed_ips = na;
			if (!wg_uapi_parse_allowed_ip(&na[p->n_allowed_ips], ip)) {
				snprintf(why, why_len, "'%s': expected ADDRESS/PREFIX", ip);
				return false;
			}
			p->n_allowed_ips++;
		}
	}
	if (fields[3] && !parse_u16(fields[3], 0, 65535, &p->keepalive_s, NULL, 0)) {
		snprintf(why, why_len, "'%s': keepalive is seconds 0..65535", fields[3]);
		return false;
	}
	return true;
}

/* Leaves nothing allocated when the spec is rejected. */
static bool parse_peer_spec(struct wg_peer *p, const char *spec, char *why, size_t why_len)
{
	if (parse_peer_spec_fields(p, spec, why, why_len))
		return true;
	free(p->allowed_ips);
	p->allowed_ips = NULL;
	p->n_allowed_ips = 0;
	return false;
}

/* Prints lib/parse_num.h's reason. */
static bool parse_u32_arg(const char *s, uint32_t max, uint32_t *out)
{
	char why[160];

	if (parse_u32(s, 0, max, out, why, sizeof(why)))
		return true;
	fprintf(stderr, "pp-tunnel: %s\n", why);
	return false;
}

static bool parse_backend(const char *s, int *out)
{
	if (!strcmp(s, "auto"))
		*out = 0;
	else if (!strcmp(s, "kernel"))
		*out = WG_BACKEND_KERNEL;
	else if (!strcmp(s, "userspace"))
		*out = WG_BACKEND_USERSPACE;
	else {
		fprintf(stderr, "pp-tunnel: backend '%s': expected auto, kernel or userspace\n", s);
		return false;
	}
	return true;
}

/* wg-set, wg-remove, wg-show: an optional "--backend B" as the last two of exactly at + 2
 * arguments (anything else there is ignored). False when B is not a backend. */
static bool parse_backend_tail(int argc, char **argv, int at, int *backend)
{
	if (argc != at + 2 || strcmp(argv[at], "--backend"))
		return true;
	return parse_backend(argv[at + 1], backend);
}

static int open_device(struct wg_device **dev, const char *ifname, int backend, const char *wg_go)
{
	enum wg_backend_kind kind;
	char why[512];
	int rc;

	rc = wg_backend_resolve(backend, &kind, wg_go, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return rc;
	}
	rc = wg_device_open(dev, ifname, kind, wg_go);
	if (rc < 0)
		fprintf(stderr, "pp-tunnel: %s: cannot open the WireGuard device: %s\n", ifname,
			strerror(-rc));
	return rc;
}

/* wg-set, wg-remove, wg-show, peer-flood work on a device that wg-up made: never create. */
static int open_existing(struct wg_device **dev, const char *ifname, int backend)
{
	if (!if_nametoindex(ifname)) {
		fprintf(stderr, "pp-tunnel: %s: no such device (create it with wg-up)\n", ifname);
		return -ENODEV;
	}
	return open_device(dev, ifname, backend, NULL);
}

/* ---- genkey / pubkey ---- */

static void print_public_key(const uint8_t priv[WG_KEY_LEN])
{
	uint8_t pub[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN];

	tunnel_key_public(pub, priv);
	tunnel_key_to_base64(b64, pub);
	printf("%s\n", b64);
}

static int cmd_genkey(int argc, char **argv)
{
	uint8_t k[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN];

	if (cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel genkey\nPrints a new private key (like 'wg genkey').\n");
		return CLI_EXIT_OK;
	}
	if (tunnel_key_generate(k) < 0)
		return CLI_EXIT_FAIL;
	tunnel_key_to_base64(b64, k);
	printf("%s\n", b64);
	return CLI_EXIT_OK;
}

static int cmd_pubkey(int argc, char **argv)
{
	uint8_t k[WG_KEY_LEN];
	char buf[256], why[256];
	size_t n;

	if (cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel pubkey < private\nReads a private key on stdin, prints "
		       "its public key (like 'wg pubkey').\n");
		return CLI_EXIT_OK;
	}
	n = fread(buf, 1, sizeof(buf), stdin);
	if (!tunnel_key_parse_file(k, buf, n, "stdin", why, sizeof(why))) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return CLI_EXIT_FAIL;
	}
	print_public_key(k);
	return CLI_EXIT_OK;
}

static int cmd_writekey(int argc, char **argv)
{
	uint8_t k[WG_KEY_LEN];
	char why[512];

	if (argc != 2 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel writekey FILE\nGenerates a private key into FILE "
		       "(mode 0600), as the agent does at enrollment.\n");
		return argc == 2 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (tunnel_key_generate(k) < 0 || tunnel_key_write_file(argv[1], k, why, sizeof(why))) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static int cmd_readkey(int argc, char **argv)
{
	uint8_t k[WG_KEY_LEN];
	char why[512];

	if (argc != 2 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel readkey FILE\nChecks a private key file (mode, contents) "
		       "and prints its public key.\n");
		return argc == 2 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (tunnel_key_read_file(argv[1], k, why, sizeof(why)) < 0) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return CLI_EXIT_FAIL;
	}
	print_public_key(k);
	return CLI_EXIT_OK;
}

/* ---- wg-up: a device, its link configuration, and optionally a supervising loop ---- */

struct up_opts {
	const char *ifname, *key_file, *wg_go, *underlay_dev, *status_file;
	int backend;
	uint32_t port, stale_s, hold_s, keepalive_s, mtu;
	bool has_port, mtu_auto, foreground;
	struct tunnel_link_cfg link;
	struct wg_peer peers[MAX_PEERS_ARGS];
	size_t n_peers;
	struct tunnel_gateways gws;
};

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

static bool add_route(struct up_opts *o, const char *text)
{
	char why[256];

	if (o->link.n_routes == TUNNEL_LINK_MAX_ROUTES) {
		fprintf(stderr, "pp-tunnel: at most %d routes\n", TUNNEL_LINK_MAX_ROUTES);
		return false;
	}
	if (!tunnel_cidr_parse(&o->link.routes[o->link.n_routes], text, NET_HOST_BITS_REFUSE,
			       why, sizeof(why))) {
		fprintf(stderr, "pp-tunnel: --route %s\n", why);
		return false;
	}
	o->link.n_routes++;
	return true;
}

/*
 * The device options wg-up, vxlan-up and link share: --address, --route, and for the up
 * commands --mtu N|auto and --underlay-dev (link has its own --mtu and no --underlay-dev).
 * 1 taken, 0 not one of them, -1 bad value (message printed).
 */
static int parse_link_opt(struct up_opts *o, int c, const char *arg)
{
	char why[256];

	switch (c) {
	case 'a':
		if (!tunnel_cidr_parse(&o->link.address, arg, NET_HOST_BITS_KEEP, why, sizeof(why))) {
			fprintf(stderr, "pp-tunnel: --address %s\n", why);
			return -1;
		}
		o->link.has_address = true;
		return 1;
	case 'm':
		if (!strcmp(arg, "auto"))
			o->mtu_auto = true;
		else if (!parse_u32_arg(arg, 65535, &o->mtu))
			return -1;
		return 1;
	case 'u':
		o->underlay_dev = arg;
		return 1;
	case 'r':
		return add_route(o, arg) ? 1 : -1;
	default:
		return 0;
	}
}

static bool parse_gateway(struct up_opts *o, const char *spec)
{
	char buf[512], why[256], *c1, *c2;
	struct tunnel_gateway *g;

	if (o->gws.n == FAILOVER_MAX_GATEWAYS) {
		fprintf(stderr, "pp-tunnel: at most %d gateways\n", FAILOVER_MAX_GATEWAYS);
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
	if (!parse_peer_spec(&g->peer, buf, why, sizeof(why))) {
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

static bool parse_up(struct up_opts *o, int argc, char **argv)
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
			if (!parse_u32_arg(optarg, 65535, &o->port))
				return false;
			o->has_port = true;
			break;
		case 'b':
			if (!parse_backend(optarg, &o->backend))
				return false;
			break;
		case 'w':
			o->wg_go = optarg;
			break;
		case 'P':
			if (o->n_peers == MAX_PEERS_ARGS ||
			    !parse_peer_spec(&o->peers[o->n_peers], optarg, why, sizeof(why))) {
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
			    !add_route(o, optarg)) {
				fprintf(stderr, "pp-tunnel: --cidr '%s': expected ADDRESS/PREFIX\n",
					optarg);
				return false;
			}
			o->gws.n_cidrs++;
			break;
		case 's':
			if (!parse_u32_arg(optarg, 86400, &o->stale_s))
				return false;
			break;
		case 'H':
			if (!parse_u32_arg(optarg, 86400, &o->hold_s))
				return false;
			break;
		case 'K':
			if (!parse_u32_arg(optarg, 65535, &o->keepalive_s))
				return false;
			break;
		case 'S':
			o->status_file = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		default:
			r = parse_link_opt(o, c, optarg);
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

static int resolve_mtu(struct up_opts *o, enum tunnel_kind kind)
{
	const struct wg_peer *ref = o->gws.n	 ? &o->gws.gw[0].peer
				    : o->n_peers ? &o->peers[0]
						 : NULL;
	char dev[IFNAMSIZ];
	uint32_t under;
	int family = AF_INET, rc;

	if (!o->mtu_auto) {
		o->link.mtu = o->mtu;
		return 0;
	}
	if (ref && ref->has_endpoint)
		family = ref->endpoint.sa.sa_family;
	if (o->underlay_dev) {
		snprintf(dev, sizeof(dev), "%s", o->underlay_dev);
	} else if (ref && ref->has_endpoint) {
		rc = tunnel_link_route_dev(family,
					   family == AF_INET
					       ? (const void *)&ref->endpoint.in4.sin_addr
					       : &ref->endpoint.in6.sin6_addr,
					   dev);
		if (rc < 0) {
			fprintf(stderr, "pp-tunnel: no route to the first endpoint: %s\n",
				strerror(-rc));
			return rc;
		}
	} else {
		fprintf(stderr, "pp-tunnel: --mtu auto needs --underlay-dev or a peer endpoint\n");
		return -EINVAL;
	}
	rc = tunnel_link_mtu(dev, &under);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: MTU of %s: %s\n", dev, strerror(-rc));
		return rc;
	}
	o->link.mtu = under - tunnel_mtu_overhead(kind, family);
	log_info("%s: MTU %u (%s %u - overhead %u)", o->ifname, o->link.mtu, dev, under,
		 tunnel_mtu_overhead(kind, family));
	return 0;
}

static void write_status(const struct up_opts *o, const struct failover *f)
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

static void gateways_poll(struct wg_device *dev, struct up_opts *o)
{
	size_t before = o->gws.fo.active;
	int rc = tunnel_gateways_poll(dev, &o->gws, (int64_t)time(NULL));

	if (rc < 0) {
		log_warn("%s: fail-over poll: %s (retried next poll)", o->ifname,
			 wg_device_error(dev));
		return;
	}
	if (rc == 1) {
		log_info("%s: fail-over: gateway %zu is now active (was %zu, switch %u)", o->ifname,
			 o->gws.fo.active, before, o->gws.fo.switches);
		write_status(o, &o->gws.fo);
	}
}

static int run_foreground(struct wg_device *dev, struct up_opts *o)
{
	struct sigaction sa = {.sa_handler = on_stop};
	int64_t last_poll = 0;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (o->gws.n)
		write_status(o, &o->gws.fo);
	printf("ready %s\n", o->ifname);
	fflush(stdout);
	while (!stop_requested) {
		int rc = wg_device_supervise(dev);

		if (rc == 1) {
			/* A new wireguard-go means a new TUN device: put the link back. */
			rc = tunnel_link_configure(&o->link);
			if (rc < 0)
				log_warn("%s: re-applying the link after a restart: %s", o->ifname,
					 strerror(-rc));
			else
				log_info("%s: link configuration re-applied", o->ifname);
		} else if (rc < 0 && rc != -EAGAIN) {
			log_warn("%s: supervision: %s", o->ifname, wg_device_error(dev));
		}
		if (o->gws.n && time(NULL) != last_poll) {
			last_poll = time(NULL);
			gateways_poll(dev, o);
		}
		poll(NULL, 0, 200);
	}
	log_info("%s: stopping", o->ifname);
	return CLI_EXIT_OK;
}

static int cmd_wg_up(int argc, char **argv)
{
	struct up_opts *o = calloc(1, sizeof(*o));
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
	if (resolve_mtu(o, TUNNEL_KIND_WIREGUARD) < 0)
		goto out;
	if (open_device(&dev, o->ifname, o->backend, o->wg_go) < 0)
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

/* ---- incremental peer changes on a running device ---- */

static int cmd_wg_set(int argc, char **argv)
{
	struct wg_device *dev = NULL;
	struct wg_peer p;
	char why[256];
	int backend = 0, rc, ret = CLI_EXIT_FAIL;
	const char *ifname;

	if (argc < 3 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel wg-set IFNAME PEERSPEC [--backend B]\n"
		       "Adds or updates one peer (PUB,ENDPOINT|-,ALLOWED[+...]|-[,KEEPALIVE]) "
		       "without touching the others.\n");
		return argc < 3 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	ifname = argv[1];
	if (!parse_backend_tail(argc, argv, 3, &backend))
		return CLI_EXIT_USAGE;
	if (!parse_peer_spec(&p, argv[2], why, sizeof(why))) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return CLI_EXIT_USAGE;
	}
	if (open_existing(&dev, ifname, backend) == 0) {
		rc = wg_set_peer(dev, &p);
		if (rc < 0)
			fprintf(stderr, "pp-tunnel: %s\n", wg_device_error(dev));
		else
			ret = CLI_EXIT_OK;
		wg_device_close(dev);
	}
	free(p.allowed_ips);
	return ret;
}

static int cmd_wg_remove(int argc, char **argv)
{
	struct wg_device *dev = NULL;
	uint8_t key[WG_KEY_LEN];
	char why[256];
	int backend = 0, ret = CLI_EXIT_FAIL;

	if (argc < 3 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel wg-remove IFNAME PUBKEY [--backend B]\n");
		return argc < 3 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (!parse_backend_tail(argc, argv, 3, &backend))
		return CLI_EXIT_USAGE;
	if (!tunnel_key_from_base64(key, argv[2], why, sizeof(why))) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return CLI_EXIT_USAGE;
	}
	if (open_existing(&dev, argv[1], backend) == 0) {
		if (wg_remove_peer(dev, key) < 0)
			fprintf(stderr, "pp-tunnel: %s\n", wg_device_error(dev));
		else
			ret = CLI_EXIT_OK;
		wg_device_close(dev);
	}
	return ret;
}

static int cmd_wg_show(int argc, char **argv)
{
	struct wg_device *dev = NULL;
	struct wg_peer *peers = NULL;
	size_t n = 0;
	int backend = 0;

	if (argc < 2 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel wg-show IFNAME [--backend B]\nOne line per peer: "
		       "PUBKEY ENDPOINT ALLOWED,... HANDSHAKE RX TX (read through our API).\n");
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (!parse_backend_tail(argc, argv, 2, &backend))
		return CLI_EXIT_USAGE;
	if (open_existing(&dev, argv[1], backend) < 0)
		return CLI_EXIT_FAIL;
	if (wg_get_peers(dev, &peers, &n) < 0) {
		fprintf(stderr, "pp-tunnel: %s\n", wg_device_error(dev));
		wg_device_close(dev);
		return CLI_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		char b64[WG_KEY_B64_LEN], ep[80] = "(none)", ip[INET6_ADDRSTRLEN];

		tunnel_key_to_base64(b64, peers[i].public_key);
		if (peers[i].has_endpoint)
			wg_uapi_format_endpoint(ep, sizeof(ep), &peers[i]);
		printf("%s %s ", b64, ep);
		for (size_t j = 0; j < peers[i].n_allowed_ips; j++) {
			const struct wg_allowed_ip *a = &peers[i].allowed_ips[j];

			inet_ntop(a->family,
				  a->family == AF_INET ? (void *)&a->ip4 : (void *)&a->ip6, ip,
				  sizeof(ip));
			printf("%s%s/%u", j ? "," : "", ip, a->cidr);
		}
		printf("%s %" PRId64 " %" PRIu64 " %" PRIu64 "\n",
		       peers[i].n_allowed_ips ? "" : "(none)", peers[i].last_handshake_s,
		       peers[i].rx_bytes, peers[i].tx_bytes);
	}
	wg_peers_free(peers, n);
	wg_device_close(dev);
	return CLI_EXIT_OK;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Adds N generated peers one at a time (the gateway's incremental path) and reports the
 * rate; with --remove-after also removes them one at a time. */
static int cmd_peer_flood(int argc, char **argv)
{
	struct wg_device *dev = NULL;
	uint32_t count, base_host = 0x0a800002; /* 10.128.0.2 upward */
	uint8_t priv[WG_KEY_LEN];
	bool json = false, remove_after = false;
	int backend = 0, ret = CLI_EXIT_FAIL, rc = 0;
	uint8_t(*keys)[WG_KEY_LEN];
	double t0, t_add, t_rm = 0;

	if (argc < 3 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel peer-flood IFNAME N [--json] [--remove-after] "
		       "[--backend B]\nAdds N generated peers (10.128.x.y/32 each) one UAPI/"
		       "netlink operation per peer and prints peers/s.\n");
		return argc < 3 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (!parse_u32_arg(argv[2], 1u << 20, &count))
		return CLI_EXIT_USAGE;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--remove-after"))
			remove_after = true;
		else if (!strcmp(argv[i], "--backend") && i + 1 < argc &&
			 parse_backend(argv[i + 1], &backend))
			i++;
		else
			return CLI_EXIT_USAGE;
	}
	keys = calloc(count ? count : 1, WG_KEY_LEN);
	if (!keys)
		return CLI_EXIT_FAIL;
	for (uint32_t i = 0; i < count; i++) {
		tunnel_key_generate(priv);
		tunnel_key_public(keys[i], priv);
	}
	if (open_existing(&dev, argv[1], backend) < 0)
		goto out;
	t0 = mono_s();
	for (uint32_t i = 0; i < count && rc == 0; i++) {
		struct wg_allowed_ip ip = {.family = AF_INET, .cidr = 32};
		struct wg_peer p = {.allowed_ips = &ip, .n_allowed_ips = 1};

		ip.ip4.s_addr = htonl(base_host + i);
		memcpy(p.public_key, keys[i], WG_KEY_LEN);
		rc = wg_set_peer(dev, &p);
	}
	t_add = mono_s() - t0;
	if (rc == 0 && remove_after) {
		t0 = mono_s();
		for (uint32_t i = 0; i < count && rc == 0; i++)
			rc = wg_remove_peer(dev, keys[i]);
		t_rm = mono_s() - t0;
	}
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s\n", wg_device_error(dev));
	} else {
		double add_rate = t_add > 0 ? count / t_add : 0,
		       rm_rate = t_rm > 0 ? count / t_rm : 0;

		if (json)
			printf("{\"peers\":%u,\"add_seconds\":%.3f,\"add_per_second\":%.0f,"
			       "\"remove_per_second\":%.0f}\n",
			       count, t_add, add_rate, rm_rate);
		else
			printf("added %u peers in %.3f s (%.0f peers/s)%s\n", count, t_add,
			       add_rate, remove_after ? "; removed them too" : "");
		ret = CLI_EXIT_OK;
	}
	wg_device_close(dev);
out:
	free(keys);
	return ret;
}

/* ---- VXLAN, links ---- */

static int cmd_vxlan_up(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"port", required_argument, 0, 'p'},  {"address", required_argument, 0, 'a'},
	    {"mtu", required_argument, 0, 'm'},	  {"underlay-dev", required_argument, 0, 'u'},
	    {"route", required_argument, 0, 'r'}, {0, 0, 0, 0}};
	struct up_opts *o = calloc(1, sizeof(*o));
	struct vxlan_cfg vc = {0};
	int c, rc, ret = CLI_EXIT_USAGE;

	if (!o)
		return CLI_EXIT_FAIL;
	if (cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel vxlan-up IFNAME [--port N] [--address CIDR] "
		       "[--mtu N|auto --underlay-dev DEV] [--route CIDR]...\n"
		       "Creates (idempotently) an external (collect-metadata) VXLAN device.\n");
		ret = CLI_EXIT_OK;
		goto out;
	}
	o->port = VXLAN_DEFAULT_PORT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_u32_arg(optarg, 65535, &o->port))
				goto out;
			break;
		default:
			if (parse_link_opt(o, c, optarg) <= 0)
				goto out;
			break;
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) >= IFNAMSIZ)
		goto out;
	o->ifname = argv[optind];
	snprintf(o->link.ifname, sizeof(o->link.ifname), "%s", o->ifname);
	ret = CLI_EXIT_FAIL;
	if (resolve_mtu(o, TUNNEL_KIND_VXLAN) < 0)
		goto out;
	snprintf(vc.ifname, sizeof(vc.ifname), "%s", o->ifname);
	vc.port = (uint16_t)o->port;
	rc = vxlan_create(&vc);
	if (rc == 0)
		rc = tunnel_link_configure(&o->link);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s: %s\n", o->ifname, strerror(-rc));
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	free(o);
	return ret;
}

static int cmd_vxlan_down(int argc, char **argv)
{
	int rc;

	if (argc != 2 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel vxlan-down IFNAME\nDeletes an external VXLAN device "
		       "(and nothing else of that name).\n");
		return argc == 2 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	rc = vxlan_delete(argv[1]);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s: %s\n", argv[1],
			rc == -EEXIST ? "not an external VXLAN device; left alone" : strerror(-rc));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static int cmd_mtu(int argc, char **argv)
{
	uint32_t mtu;
	enum tunnel_kind kind;
	int rc, family = AF_INET;

	if (argc < 3 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel mtu wireguard|vxlan UNDERLAY_DEV [--ipv6]\n"
		       "Prints the tunnel MTU for that underlay device.\n");
		return argc < 3 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "wireguard"))
		kind = TUNNEL_KIND_WIREGUARD;
	else if (!strcmp(argv[1], "vxlan"))
		kind = TUNNEL_KIND_VXLAN;
	else
		return CLI_EXIT_USAGE;
	if (argc > 3 && !strcmp(argv[3], "--ipv6"))
		family = AF_INET6;
	rc = tunnel_link_mtu(argv[2], &mtu);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: %s: %s\n", argv[2], strerror(-rc));
		return CLI_EXIT_FAIL;
	}
	printf("%u\n", mtu - tunnel_mtu_overhead(kind, family));
	return CLI_EXIT_OK;
}

/* Configures (up) or removes (down) exactly the address and routes named, on an existing
 * device of any kind: what the agent does around a tunnel device. */
static int cmd_link(int argc, char **argv)
{
	static const struct option lo[] = {{"address", required_argument, 0, 'a'},
					   {"route", required_argument, 0, 'r'},
					   {"mtu", required_argument, 0, 'm'},
					   {0, 0, 0, 0}};
	struct up_opts *o = calloc(1, sizeof(*o));
	int c, rc, ret = CLI_EXIT_USAGE;
	bool up;

	if (!o)
		return CLI_EXIT_FAIL;
	if (cli_wants_help(argc, argv) || argc < 3) {
		printf("usage: pp-tunnel link up|down IFNAME [--address CIDR] [--mtu N] "
		       "[--route CIDR]...\n"
		       "up: set MTU, link up, address, rp_filter=2, routes (idempotent).\n"
		       "down: delete exactly that address and those routes.\n");
		ret = cli_wants_help(argc, argv) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
		goto out;
	}
	up = !strcmp(argv[1], "up");
	if (!up && strcmp(argv[1], "down"))
		goto out;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		/* link's --mtu is a plain number for the link itself (no auto) */
		if (c == 'm') {
			if (!parse_u32_arg(optarg, 65535, &o->link.mtu))
				goto out;
		} else if (parse_link_opt(o, c, optarg) <= 0) {
			goto out;
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) >= IFNAMSIZ)
		goto out;
	snprintf(o->link.ifname, sizeof(o->link.ifname), "%s", argv[optind]);
	rc = up ? tunnel_link_configure(&o->link) : tunnel_link_unconfigure(&o->link);
	if (rc < 0) {
		fprintf(stderr, "pp-tunnel: link %s %s: %s\n", argv[1], o->link.ifname,
			strerror(-rc));
		ret = CLI_EXIT_FAIL;
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	free(o);
	return ret;
}

static int cmd_down(int argc, char **argv)
{
	int rc;

	if (argc != 2 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel down IFNAME\nDeletes the interface.\n");
		return argc == 2 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	rc = tunnel_link_delete(argv[1]);
	if (rc < 0 && rc != -ENODEV) {
		fprintf(stderr, "pp-tunnel: %s: %s\n", argv[1], strerror(-rc));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static int cmd_detect(int argc, char **argv)
{
	enum wg_backend_kind kind;
	char why[512];

	if (cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel detect [WIREGUARD_GO]\nPrints the WireGuard backend "
		       "auto-detection would pick.\n");
		return CLI_EXIT_OK;
	}
	if (wg_backend_detect(&kind, argc > 1 ? argv[1] : NULL, why, sizeof(why)) < 0) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return CLI_EXIT_FAIL;
	}
	printf("%s\n", kind == WG_BACKEND_KERNEL ? "kernel" : "userspace");
	return CLI_EXIT_OK;
}

static const struct cli_command commands[] = {
    {"genkey", cmd_genkey, "print a new private key (like wg genkey)"},
    {"pubkey", cmd_pubkey, "private key on stdin -> public key (like wg pubkey)"},
    {"writekey", cmd_writekey, "generate a private key into a 0600 file"},
    {"readkey", cmd_readkey, "check a key file, print its public key"},
    {"detect", cmd_detect, "which WireGuard backend would be used"},
    {"wg-up", cmd_wg_up, "create and configure a WireGuard device (+ link, fail-over)"},
    {"wg-set", cmd_wg_set, "add or update one peer"},
    {"wg-remove", cmd_wg_remove, "remove one peer"},
    {"wg-show", cmd_wg_show, "list peers through our API"},
    {"peer-flood", cmd_peer_flood, "add N peers one by one and report the rate"},
    {"vxlan-up", cmd_vxlan_up, "create an external VXLAN device (+ link)"},
    {"vxlan-down", cmd_vxlan_down, "delete an external VXLAN device"},
    {"mtu", cmd_mtu, "tunnel MTU for an underlay device"},
    {"link", cmd_link, "put an address/routes on a device, or remove exactly them"},
    {"down", cmd_down, "delete an interface"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	const char *lvl = getenv("PP_LOG_LEVEL");
	enum log_level level;

	log_set_ident("pp-tunnel");
	if (lvl && log_level_parse(lvl, &level))
		log_set_level(level);
	return cli_dispatch("pp-tunnel",
			    "usage: pp-tunnel COMMAND [ARGS]\n"
			    "Developer/test tool for pseudopod's tunnel module.\n",
			    commands, argc, argv);
}

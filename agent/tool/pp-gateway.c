// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-gateway: runs the gateway module (agent/gateway.h) in the foreground with its own
 * small loop, for developers and the e2e tests; pseudopodd in gateway mode runs the same
 * module from its poll loop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/gateway.h"
#include "lib/cli.h"
#include "lib/log.h"
#include "lib/parse_num.h"

#define PROG "pp-gateway"

static const char usage[] =
    "Usage: " PROG " --store URL --name NAME --bpffs DIR --dev IFNAME --underlay IP\n"
    "                  [--private-key FILE] [options]\n"
    "\n"
    "Runs a gateway node until SIGTERM/SIGINT: brings up the tunnel device (WireGuard,\n"
    "or VXLAN with --vxlan), loads or adopts the datapath under DIR in gateway mode and\n"
    "attaches it to the device, registers gateways/NAME on a lease, and follows the\n"
    "store: one WireGuard peer per workload, the policies of every local endpoint (the\n"
    "machines and the pods inside the served CIDRs) written as per-endpoint diffs.\n"
    "Prints 'ready' once the first sync is written. On exit the device, routes,\n"
    "programs and pins stay (a restart adopts them); the registration is revoked.\n"
    "\n"
    "Options:\n"
    "  --store URL[,URL]   etcd client URLs (JSON gateway)\n"
    "  --prefix P          store key prefix (default /pseudopod/v1/)\n"
    "  --name NAME         the gateway's name (gateways/NAME)\n"
    "  --bpffs DIR         the datapath's pin directory\n"
    "  --dev IFNAME        the tunnel device (created or adopted)\n"
    "  --underlay IP       this node's address machines reach (registered)\n"
    "  --private-key FILE  WireGuard private key (base64, mode 0600)\n"
    "  --backend B         auto|kernel|userspace (WireGuard; default auto)\n"
    "  --port N            listen port (default: the cluster config's)\n"
    "  --vxlan             VXLAN instead of WireGuard\n"
    "  --cidr CIDR         a served pod CIDR (repeatable; default the config's pod CIDRs)\n"
    "  --lease-ttl S       registration lease TTL in seconds (default 10)\n"
    "  --log-level LEVEL   error|warn|info|debug (default info)\n"
    "  -h, --help          this text\n";

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static bool parse_backend(const char *s, int *out)
{
	if (!strcmp(s, "auto"))
		*out = 0;
	else if (!strcmp(s, "kernel"))
		*out = 1; /* WG_BACKEND_KERNEL */
	else if (!strcmp(s, "userspace"))
		*out = 2; /* WG_BACKEND_USERSPACE */
	else
		return false;
	return true;
}

static bool parse_args(int argc, char **argv, struct gateway_opts *o)
{
	static const struct option lo[] = {
	    {"store", 1, 0, 's'},	{"prefix", 1, 0, 'P'},	{"name", 1, 0, 'n'},
	    {"bpffs", 1, 0, 'b'},	{"dev", 1, 0, 'd'},	{"underlay", 1, 0, 'u'},
	    {"private-key", 1, 0, 'k'}, {"backend", 1, 0, 'B'}, {"port", 1, 0, 'p'},
	    {"vxlan", 0, 0, 'x'},	{"cidr", 1, 0, 'c'},	{"lease-ttl", 1, 0, 't'},
	    {"log-level", 1, 0, 'l'},	{"help", 0, 0, 'h'},	{0, 0, 0, 0}};
	enum log_level lvl;
	char why[128] = "";
	uint32_t v;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->store.endpoints = optarg;
			break;
		case 'P':
			o->prefix = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'b':
			o->bpffs = optarg;
			break;
		case 'd':
			o->ifname = optarg;
			break;
		case 'u':
			o->underlay_ip = optarg;
			break;
		case 'k':
			o->private_key_file = optarg;
			break;
		case 'x':
			o->vxlan = true;
			break;
		case 'B':
			if (!parse_backend(optarg, &o->wg_backend))
				goto bad;
			break;
		case 'p':
			if (!parse_port(optarg, &o->port, why, sizeof(why)))
				goto bad;
			break;
		case 't':
			if (!parse_u32(optarg, 1, 3600, &v, why, sizeof(why)))
				goto bad;
			o->lease_ttl_s = v;
			break;
		case 'c':
			if (o->n_cidrs == STORE_MAX_CIDRS || strlen(optarg) >= STORE_CIDR_MAX)
				goto bad;
			strcpy(o->cidrs[o->n_cidrs++], optarg);
			break;
		case 'l':
			if (!log_level_parse(optarg, &lvl))
				goto bad;
			log_set_level(lvl);
			break;
		case 'h':
			fputs(usage, stdout);
			exit(CLI_EXIT_OK);
		default:
			goto bad;
		}
	}
	if (optind == argc && o->store.endpoints && o->name && o->bpffs && o->ifname &&
	    o->underlay_ip)
		return true;
bad:
	fprintf(stderr, "%s: bad arguments%s%s (--help)\n", PROG, why[0] ? ": " : "", why);
	return false;
}

int main(int argc, char **argv)
{
	struct gateway_opts o = {0};
	struct sigaction sa = {.sa_handler = on_stop};
	struct gateway_stats st;
	struct gateway *gw;
	bool ready = false;
	char err[1024];
	int rc;

	log_set_ident(PROG);
	log_set_level(LOG_LEVEL_INFO);
	if (!parse_args(argc, argv, &o))
		return CLI_EXIT_USAGE;
	rc = gateway_open(&o, &gw, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\n", PROG, err[0] ? err : strerror(-rc));
		return CLI_EXIT_FAIL;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		rc = gateway_poll(gw, gateway_timeout_ms(gw), err, sizeof(err));
		if (rc) {
			fprintf(stderr, "%s: %s\n", PROG, err[0] ? err : strerror(-rc));
			break;
		}
		gateway_stats(gw, &st);
		if (!ready && st.synced) {
			printf("ready endpoints=%zu peers=%zu\n", st.endpoints, st.peers);
			fflush(stdout);
			ready = true;
		}
	}
	gateway_close(gw);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

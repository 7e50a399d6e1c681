// SPDX-License-Identifier: GPL-2.0-only
/* pp-tunnel mtu, link, down, detect: links around a tunnel device and the backend choice. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cli.h"

#include "tunnel/tool/pp-tunnel.h"

int ppt_cmd_mtu(int argc, char **argv)
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
int ppt_cmd_link(int argc, char **argv)
{
	static const struct option lo[] = {{"address", required_argument, 0, 'a'},
					   {"route", required_argument, 0, 'r'},
					   {"mtu", required_argument, 0, 'm'},
					   {0, 0, 0, 0}};
	struct ppt_up_opts *o = calloc(1, sizeof(*o));
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
			if (!ppt_parse_u32_arg(optarg, 65535, &o->link.mtu))
				goto out;
		} else if (ppt_parse_link_opt(o, c, optarg) <= 0) {
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

int ppt_cmd_down(int argc, char **argv)
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

int ppt_cmd_detect(int argc, char **argv)
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

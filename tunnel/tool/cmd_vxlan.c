// SPDX-License-Identifier: GPL-2.0-only
/* pp-tunnel vxlan-up, vxlan-down: external (collect-metadata) VXLAN devices. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cli.h"
#include "tunnel/vxlan.h"

#include "tunnel/tool/pp-tunnel.h"

int ppt_cmd_vxlan_up(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"port", required_argument, 0, 'p'},  {"address", required_argument, 0, 'a'},
	    {"mtu", required_argument, 0, 'm'},	  {"underlay-dev", required_argument, 0, 'u'},
	    {"route", required_argument, 0, 'r'}, {0, 0, 0, 0}};
	struct ppt_up_opts *o = calloc(1, sizeof(*o));
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
			if (!ppt_parse_u32_arg(optarg, 65535, &o->port))
				goto out;
			break;
		default:
			if (ppt_parse_link_opt(o, c, optarg) <= 0)
				goto out;
			break;
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) >= IFNAMSIZ)
		goto out;
	o->ifname = argv[optind];
	snprintf(o->link.ifname, sizeof(o->link.ifname), "%s", o->ifname);
	ret = CLI_EXIT_FAIL;
	if (ppt_resolve_mtu(o, TUNNEL_KIND_VXLAN) < 0)
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

int ppt_cmd_vxlan_down(int argc, char **argv)
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

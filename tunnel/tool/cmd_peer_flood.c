// SPDX-License-Identifier: GPL-2.0-only
/* pp-tunnel peer-flood: the incremental peer path's rate, for the benchmark. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cli.h"
#include "tunnel/keys.h"

#include "tunnel/tool/pp-tunnel.h"

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Adds N generated peers one at a time (the gateway's incremental path) and reports the
 * rate; with --remove-after also removes them one at a time. */
int ppt_cmd_peer_flood(int argc, char **argv)
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
	if (!ppt_parse_u32_arg(argv[2], 1u << 20, &count))
		return CLI_EXIT_USAGE;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--remove-after"))
			remove_after = true;
		else if (!strcmp(argv[i], "--backend") && i + 1 < argc &&
			 ppt_parse_backend(argv[i + 1], &backend))
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
	if (ppt_open_existing(&dev, argv[1], backend) < 0)
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

// SPDX-License-Identifier: GPL-2.0-only
/* pp-tunnel wg-set, wg-remove, wg-show: incremental peer changes on a running device. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/cli.h"
#include "tunnel/keys.h"
#include "tunnel/wg_uapi.h"

#include "tunnel/tool/pp-tunnel.h"

int ppt_cmd_wg_set(int argc, char **argv)
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
	if (!ppt_parse_backend_tail(argc, argv, 3, &backend))
		return CLI_EXIT_USAGE;
	if (!ppt_parse_peer_spec(&p, argv[2], why, sizeof(why))) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return CLI_EXIT_USAGE;
	}
	if (ppt_open_existing(&dev, ifname, backend) == 0) {
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

int ppt_cmd_wg_remove(int argc, char **argv)
{
	struct wg_device *dev = NULL;
	uint8_t key[WG_KEY_LEN];
	char why[256];
	int backend = 0, ret = CLI_EXIT_FAIL;

	if (argc < 3 || cli_wants_help(argc, argv)) {
		printf("usage: pp-tunnel wg-remove IFNAME PUBKEY [--backend B]\n");
		return argc < 3 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (!ppt_parse_backend_tail(argc, argv, 3, &backend))
		return CLI_EXIT_USAGE;
	if (!tunnel_key_from_base64(key, argv[2], why, sizeof(why))) {
		fprintf(stderr, "pp-tunnel: %s\n", why);
		return CLI_EXIT_USAGE;
	}
	if (ppt_open_existing(&dev, argv[1], backend) == 0) {
		if (wg_remove_peer(dev, key) < 0)
			fprintf(stderr, "pp-tunnel: %s\n", wg_device_error(dev));
		else
			ret = CLI_EXIT_OK;
		wg_device_close(dev);
	}
	return ret;
}

int ppt_cmd_wg_show(int argc, char **argv)
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
	if (!ppt_parse_backend_tail(argc, argv, 2, &backend))
		return CLI_EXIT_USAGE;
	if (ppt_open_existing(&dev, argv[1], backend) < 0)
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

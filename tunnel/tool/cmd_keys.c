// SPDX-License-Identifier: GPL-2.0-only
/* pp-tunnel genkey, pubkey, writekey, readkey: key files as the agent handles them. */
#include <stdio.h>

#include "lib/cli.h"
#include "tunnel/keys.h"

#include "tunnel/tool/pp-tunnel.h"

static void print_public_key(const uint8_t priv[WG_KEY_LEN])
{
	uint8_t pub[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN];

	tunnel_key_public(pub, priv);
	tunnel_key_to_base64(b64, pub);
	printf("%s\n", b64);
}

int ppt_cmd_genkey(int argc, char **argv)
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

int ppt_cmd_pubkey(int argc, char **argv)
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

int ppt_cmd_writekey(int argc, char **argv)
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

int ppt_cmd_readkey(int argc, char **argv)
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

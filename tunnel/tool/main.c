// SPDX-License-Identifier: GPL-2.0-only
/* pp-tunnel: developer/test tool for the tunnel module. main() is only the dispatch table;
 * each subcommand's --help lists its options. */
#include <stdlib.h>

#include "lib/cli.h"
#include "lib/log.h"
#include "tunnel/tool/pp-tunnel.h"

static const struct cli_command commands[] = {
    {"genkey", ppt_cmd_genkey, "print a new private key (like wg genkey)"},
    {"pubkey", ppt_cmd_pubkey, "private key on stdin -> public key (like wg pubkey)"},
    {"writekey", ppt_cmd_writekey, "generate a private key into a 0600 file"},
    {"readkey", ppt_cmd_readkey, "check a key file, print its public key"},
    {"detect", ppt_cmd_detect, "which WireGuard backend would be used"},
    {"wg-up", ppt_cmd_wg_up, "create and configure a WireGuard device (+ link, fail-over)"},
    {"wg-set", ppt_cmd_wg_set, "add or update one peer"},
    {"wg-remove", ppt_cmd_wg_remove, "remove one peer"},
    {"wg-show", ppt_cmd_wg_show, "list peers through our API"},
    {"peer-flood", ppt_cmd_peer_flood, "add N peers one by one and report the rate"},
    {"vxlan-up", ppt_cmd_vxlan_up, "create an external VXLAN device (+ link)"},
    {"vxlan-down", ppt_cmd_vxlan_down, "delete an external VXLAN device"},
    {"mtu", ppt_cmd_mtu, "tunnel MTU for an underlay device"},
    {"link", ppt_cmd_link, "put an address/routes on a device, or remove exactly them"},
    {"down", ppt_cmd_down, "delete an interface"},
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

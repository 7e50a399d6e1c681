// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopod: the machine-side CLI. It talks to the local pseudopodd over its unix-socket
 * API (api-socket in pseudopod.conf). main() is only the dispatch table.
 */
#include "agent/cli_cmds.h"
#include "agent/cli_enroll.h"
#include "lib/cli.h"
#include "lib/log.h"

static const char usage[] =
    "Usage: pseudopod [--help] [--version] COMMAND [ARGS...]\n"
    "\n"
    "Makes this machine behave like a pod of a Kubernetes cluster: enroll it with a\n"
    "one-time token, then inspect its identity, tunnel, policy and flows.\n";

static const struct cli_command commands[] = {
    {"enroll", cli_cmd_enroll,
     "join the cluster with a join string from 'pseudopodctl token create'"},
    {"status", cmd_status, "identity, overlay IP, tunnel and gateway health, policy revision"},
    {"observe", cmd_observe, "stream flow verdicts with identities and drop reasons"},
    {"policy", cmd_policy, "show this machine's policy; trace a flow"},
    {"identity", cmd_identity, "show this machine's identity and labels; look up others"},
    {"leave", cli_cmd_leave, "leave the cluster: remove datapath, tunnel, routes and state"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	log_set_ident("pseudopod");
	return cli_dispatch("pseudopod", usage, commands, argc, argv);
}

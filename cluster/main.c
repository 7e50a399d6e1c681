// SPDX-License-Identifier: GPL-2.0-only
/* pseudopodctl: the operator's tool. main() is only the dispatch table. */
#include "cluster/commands.h"
#include "lib/cli.h"
#include "lib/log.h"

static const char usage[] =
    "Usage: pseudopodctl [--help] [--version] COMMAND [ARGS...]\n"
    "\n"
    "Manages a pseudopod cluster store (etcd): cluster config, pod endpoints, security\n"
    "identities, network policies, enrolled workloads, gateways and enrollment tokens.\n"
    "Store options, given after the command (every command that talks to the store):\n"
    "--store URL[,URL],\n"
    "--store-ca FILE, --store-cert FILE, --store-key FILE, --store-user USER,\n"
    "--store-password-file FILE, --store-prefix PREFIX, --config FILE.\n";

static const struct cli_command commands[] = {
    {"init", ctl_cmd_init, "write the cluster config (name, id, CIDRs, tunnel mode)"},
    {"endpoint", ctl_cmd_endpoint, "add/del/list pod endpoints (IP -> labels -> identity)"},
    {"policy", ctl_cmd_policy, "apply/delete/list/get network policies; trace a flow"},
    {"identity", ctl_cmd_identity, "list/get security identities; gc unused ones"},
    {"workload", ctl_cmd_workload, "list/get/delete enrolled machines"},
    {"gateway", ctl_cmd_gateway, "add/list/delete gateway nodes"},
    {"token", ctl_cmd_token, "create/list/revoke one-time enrollment tokens"},
    {"serve", ctl_cmd_serve, "run the HTTPS enrollment API"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	log_set_ident("pseudopodctl");
	return cli_dispatch("pseudopodctl", usage, commands, argc, argv);
}

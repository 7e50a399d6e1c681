// SPDX-License-Identifier: GPL-2.0-only
#include "cluster/commands.h"
#include "lib/cli.h"

static int policy_apply(int argc, char **argv)
{
	return cli_not_implemented("pseudopodctl policy apply");
}

static int policy_delete(int argc, char **argv)
{
	return cli_not_implemented("pseudopodctl policy delete");
}

static int policy_list(int argc, char **argv)
{
	return cli_not_implemented("pseudopodctl policy list");
}

static int policy_get(int argc, char **argv)
{
	return cli_not_implemented("pseudopodctl policy get");
}

static const char usage[] = "Usage: pseudopodctl policy COMMAND [ARGS...]\n"
			    "\n"
			    "Network policies: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and\n"
			    "networking.k8s.io/v1 NetworkPolicy, as YAML or JSON.\n";

static const struct cli_command commands[] = {
	{ "apply", policy_apply, "store policies from -f FILE|DIR|- (all or nothing)" },
	{ "delete", policy_delete, "delete a policy by namespace/name" },
	{ "list", policy_list, "list stored policies" },
	{ "get", policy_get, "print one stored policy" },
	{ "trace", ctl_policy_trace, "would this flow be allowed? (store or --offline)" },
	{ NULL, NULL, NULL },
};

int ctl_cmd_policy(int argc, char **argv)
{
	return cli_dispatch("pseudopodctl policy", usage, commands, argc, argv);
}

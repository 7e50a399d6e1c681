// SPDX-License-Identifier: GPL-2.0-only
#include "cluster/commands.h"
#include "lib/cli.h"

int ctl_cmd_endpoint(int argc, char **argv)
{
	return cli_not_implemented("pseudopodctl endpoint");
}

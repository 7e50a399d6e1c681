// SPDX-License-Identifier: GPL-2.0-only
/* Built when this tree has no gateway module (agent/gateway.c): gateway mode says so. */
#include <errno.h>
#include <stdio.h>

#include "agent/daemon_gateway.h"

int daemon_gateway_run(const struct config *cfg, const char *config_path, char *err, size_t err_len)
{
	(void)cfg;
	(void)config_path;
	snprintf(err, err_len,
		 "this build of pseudopodd has no gateway mode (agent/gateway.c "
		 "was not in the source tree); run it in workload mode");
	return -ENOTSUP;
}

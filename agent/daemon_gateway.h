/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon_gateway: pseudopodd --mode gateway — the gateway module (agent/gateway.h) driven
 * from the daemon's poll loop (agent/daemon_loop.h) with the same signals (SIGTERM/SIGINT
 * stop leaving the datapath and tunnels in place, SIGHUP re-reads the config as
 * daemon_config_reload() says), readiness (READY=1 once the gateway has synced) and local API,
 * flows and metrics (daemon_gateway_api.h). Same contract as daemon_run().
 */
#ifndef PSEUDOPOD_AGENT_DAEMON_GATEWAY_H
#define PSEUDOPOD_AGENT_DAEMON_GATEWAY_H

#include <stddef.h>

struct config;

int daemon_gateway_run(const struct config *cfg, const char *config_path, char *err,
		       size_t err_len);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon_gateway_api: the local API, flows and metrics of pseudopodd --mode gateway (prefix
 * gwd_api_), the same servers the workload daemon runs (agent/api.h, agent/metrics.h) over
 * the gateway's state (agent/gateway.h): `pseudopod status` (gateway view), `observe` (the
 * gateway datapath's verdicts, with identities and labels), `policy get` (every local
 * endpoint's entries), `policy trace`, `identity get|list|--ip`, and /metrics.
 *
 * gwd_api_start() creates the root-only socket ([agent] api-socket), the metrics listener
 * ([agent] metrics-address, "" = off) and the reader of the datapath's events ring, and
 * registers them with the loop. The API answers 503 before the gateway's first sync for
 * what needs the engine. gwd_api_stop() closes them (the socket is unlinked); NULL is
 * fine. Returns 0 or -errno with err filled.
 */
#ifndef PSEUDOPOD_AGENT_DAEMON_GATEWAY_API_H
#define PSEUDOPOD_AGENT_DAEMON_GATEWAY_API_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct daemon_loop;
struct gateway;
struct gwd_api;

/* ready: read at each call, true once the gateway has synced (READY=1, /healthz). */
int gwd_api_start(struct gateway *gw, const struct config *cfg, struct daemon_loop *loop,
		  const bool *ready, struct gwd_api **out, char *err, size_t err_len);
void gwd_api_stop(struct gwd_api *a);

#endif

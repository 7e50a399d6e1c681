/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * daemon: pseudopodd's workload mode (prefix daemon_): one poll loop (agent/daemon_loop.h)
 * that keeps this machine's tunnel, eBPF datapath and policy in step with the cluster
 * store, serves the local API and the metrics, and survives the store and itself going
 * away. docs/agent.md ("The daemon") describes the states, fail modes, signals and files.
 *
 * Contract:
 * - daemon_run() returns when SIGTERM/SIGINT arrives (0) or start-up fails (-errno, with
 *   the reason in err). Either way the datapath's pins and attachments are LEFT in place:
 *   the kernel keeps enforcing the last policy written (fail-static) and the next process
 *   adopts them. The tunnel device stays too (routes and peers keep working).
 * - Nothing is ever flushed: every datapath write is a diff (agent/policy_sync.h).
 * - SIGHUP re-reads the config file; what can change live (log level) changes, the rest is
 *   logged as needing a restart.
 * - Readiness (READY=1 to $NOTIFY_SOCKET) is sent once the first policy state is applied:
 *   from the store, or from the persisted snapshot when the store is unreachable.
 */
#ifndef PSEUDOPOD_AGENT_DAEMON_H
#define PSEUDOPOD_AGENT_DAEMON_H

#include <stddef.h>

struct config;

/* cfg: loaded and validated; config_path: re-read on SIGHUP. */
int daemon_run(const struct config *cfg, const char *config_path, char *err, size_t err_len);

/* SIGHUP in either mode: re-reads PATH; a changed log-level applies at once, any other
 * change is logged as needing a restart; a file that no longer parses is logged and the
 * RUNNING configuration kept. */
void daemon_config_reload(struct config *running, const char *path);

#endif

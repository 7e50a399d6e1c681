/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The workload daemon's state and the functions its files share (agent/daemon*.c). Not an
 * API: agent/daemon.h is. One struct daemon per process, owned by the loop's thread.
 *
 * Files, one job each:
 *   daemon.c           start-up order, signals, reload, shutdown
 *   daemon_enroll.c    enrollment.json -> who this machine is
 *   daemon_tunnel.c    the WireGuard/VXLAN device, its routes, the supervisor
 *   daemon_datapath.c  load or adopt the pins, attach, events, counters, fail-closed
 *   daemon_store.c     first sync, the watch, incremental updates, resync, alive lease
 *   daemon_snapshot.c  the persisted policy snapshot (offline start)
 *   daemon_api.c       the local API's and the metrics' callbacks
 *   daemon_notify.c    sd_notify(READY=1) without libsystemd
 */
#ifndef PSEUDOPOD_AGENT_DAEMON_INTERNAL_H
#define PSEUDOPOD_AGENT_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "agent/daemon_loop.h"
#include "lib/config.h"
#include "store/store.h"
#include "store/store_alive.h"
#include "tunnel/gateways.h"
#include "tunnel/link.h"

struct agent_sync;
struct api_server;
struct dp;
struct dp_events;
struct flows;
struct kv_client;
struct kv_watch;
struct metrics;
struct metrics_server;
struct tunnel_supervisor;
struct wg_device;

#define DAEMON_ERR_MAX 1024

/* Who this machine is (enrollment.json, written by `pseudopod enroll`). */
struct daemon_enrollment {
	bool enrolled;
	struct store_workload workload; /* name, identity, overlay IP, labels */
	struct store_config cluster;	/* pod CIDRs, tunnel kind and ports */
	struct store_gateway *gateways;
	size_t n_gateways;
	char server[512];
};

struct daemon_tunnel {
	bool up;
	const char *backend; /* "wireguard-kernel", "wireguard-userspace", "vxlan" */
	struct wg_device *wg;
	struct tunnel_link_cfg link;
	struct tunnel_gateways gws;
	char gw_names[TUNNEL_FAILOVER_MAX_GATEWAYS][STORE_NAME_MAX];
	char gw_endpoints[TUNNEL_FAILOVER_MAX_GATEWAYS][STORE_IP_MAX + 8];
	struct store_gateway gw_rec[TUNNEL_FAILOVER_MAX_GATEWAYS]; /* the records, as applied */
	/* <state-dir>/gateways.json read at start (daemon_gwstate.h): n records, the active */
	struct store_gateway saved[TUNNEL_FAILOVER_MAX_GATEWAYS];
	size_t n_saved;
	char saved_active[STORE_NAME_MAX];
	/* deregistered but kept: still carrying the traffic, no other gateway answers */
	char gw_leaving[TUNNEL_FAILOVER_MAX_GATEWAYS][STORE_NAME_MAX];
	struct tunnel_supervisor *sup;
	int src_id;
};

struct daemon_store_state {
	struct kv_client *kv; /* the watch's and the lease's connection */
	struct store store;
	struct agent_sync *sync; /* the snapshot sync and its engine */
	struct kv_watch *watch;
	bool connected;
	bool synced;	       /* a store state has been applied once */
	bool resync_pending;   /* the watch reset (compaction): snapshot again */
	bool in_listing;       /* between the watch's reset and synced */
	int64_t revision;      /* newest store revision applied */
	int64_t rev_at_sync;   /* revision of the last snapshot sync */
	time_t last_sync_wall; /* last change applied (wall clock) */
	uint64_t last_sync_mono_ns;
	time_t since_wall; /* connected or disconnected since */
	double sync_lag_s;
	uint64_t events, resyncs;
	struct store_alive alive;
	bool alive_held;
	char alive_gateway[STORE_NAME_MAX]; /* the gateway the alive record names */
	bool alive_gateway_ok;		    /* ... as put (else retried) */
	int watch_src, alive_timer, retry_timer;
	char password[256];
	char last_error[512];
};

struct daemon_dp {
	char bpffs[CONFIG_PATH_MAX];
	struct dp *dp;
	struct dp_events *ev;
	bool adopted; /* the pins were there (same mode and identity) */
	bool closed;  /* fail-closed applied */
	int ev_timer;
	uint64_t events_read;
};

struct daemon {
	struct config cfg;
	char config_path[CONFIG_PATH_MAX];
	struct daemon_loop *loop;
	struct daemon_enrollment enr;
	struct daemon_tunnel tun;
	struct daemon_dp dp;
	struct daemon_store_state st;
	/* policy state as applied (from the store or the snapshot) */
	const char *policy_source; /* "store", "snapshot", "pins", "fail-closed" */
	int64_t policy_revision;
	/* observability */
	struct flows *flows;
	struct api_server *api;
	struct metrics *metrics;
	struct metrics_server *ms;
	json_t *label_cache; /* identity (string) -> labels array, for flows */
	int sigfd;
	int snapshot_timer; /* one-shot, armed by daemon_applied() (daemon.c) */
	bool snapshot_armed;
	bool ready;
	time_t started;
};

/* daemon_enroll.c */
int daemon_enroll_load(struct daemon_enrollment *e, const char *state_dir, char *err,
		       size_t err_len);
void daemon_enroll_free(struct daemon_enrollment *e);

/* daemon_tunnel.c */
int daemon_tunnel_up(struct daemon *d, char *err, size_t err_len);
void daemon_tunnel_close(struct daemon *d); /* leaves the device up */
json_t *daemon_tunnel_status(struct daemon *d);
void daemon_tunnel_metrics(struct daemon *d);
/* Live changes (docs/agent.md "Live changes"): a gateways/ record put or deleted, the
 * set named by a listing after a (re)sync, the cluster config record. They never leave the cluster
 * CIDRs without a peer and never remove the last gateway. */
void daemon_tunnel_gateway_put(struct daemon *d, const struct store_gateway *s);
void daemon_tunnel_gateway_delete(struct daemon *d, const char *name);
/* After a listing: removes the gateways not named in present (the last one stays). */
void daemon_tunnel_gateways_keep_only(struct daemon *d, const struct store_gateway *present,
				      size_t n);
void daemon_tunnel_config(struct daemon *d, const struct store_config *nc);
/* The name of the gateway carrying the cluster's traffic ("" for VXLAN). */
const char *daemon_tunnel_active_gateway(const struct daemon *d);

/* daemon_datapath.c */
int daemon_datapath_up(struct daemon *d, char *err, size_t err_len);
/* Attaches to the tunnel device ("replace"); only once the maps hold a policy. */
int daemon_datapath_attach(struct daemon *d);
int daemon_datapath_fail_closed(struct daemon *d);
void daemon_datapath_close(struct daemon *d); /* leaves pins and attachments */
json_t *daemon_datapath_status(struct daemon *d);
int daemon_datapath_metrics(struct daemon *d);

/* daemon_store.c */
int daemon_store_open(struct daemon *d, char *err, size_t err_len);
/* The first snapshot sync; 0, or -errno when the store could not be read (then retried
 * from the loop). */
int daemon_store_first_sync(struct daemon *d);
int daemon_store_start(struct daemon *d); /* watch + alive lease + timers */
void daemon_store_close(struct daemon *d);
json_t *daemon_store_status(struct daemon *d);
struct policy_engine *daemon_engine(struct daemon *d);
struct agent_policy_sync *daemon_policy_sync(struct daemon *d);
/* Names the active gateway in workloads/<name>/alive (the return path); retried from the
 * alive timer when the store is unreachable. */
void daemon_store_publish_gateway(struct daemon *d);

/* daemon_snapshot.c */
int daemon_snapshot_save(struct daemon *d);
/* Reads and checks <state-dir>/policy.snapshot; with write, writes it into the maps. */
int daemon_snapshot_restore(struct daemon *d, bool write, char *err, size_t err_len);

/* daemon_api.c */
int daemon_api_start(struct daemon *d, char *err, size_t err_len);
void daemon_api_close(struct daemon *d);
void daemon_api_forget_labels(struct daemon *d, uint32_t identity);

/* daemon.c */
void daemon_applied(struct daemon *d, const char *source, int64_t revision);

/* daemon_notify.c: sends state ("READY=1") to $NOTIFY_SOCKET; 0 when unset. */
int daemon_notify(const char *state);

#endif

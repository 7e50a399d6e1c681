/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gateway_internal: the state shared by agent/gateway*.c (not an API). One file per job:
 * gateway.c (open, loop, close), gateway_tunnel.c (device, link, datapath attach),
 * gateway_store.c (watches, mirrors of workloads/ and ipcache/), gateway_peers.c
 * (WireGuard peers), gateway_policy.c (local endpoints, per-endpoint diffs to the maps),
 * gateway_vec.c (sorted arrays).
 */
#ifndef PSEUDOPOD_AGENT_GATEWAY_INTERNAL_H
#define PSEUDOPOD_AGENT_GATEWAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/gateway.h"
#include "bpf/dp.h"
#include "store/gateway_lease.h"
#include "store/store.h"
#include "tunnel/link.h"
#include "tunnel/wg.h"

struct policy_engine;
struct policy_changes;
struct tunnel_supervisor;

/* A sorted array of fixed-size elements (gateway_vec.c). */
struct gw_vec {
	void *v;
	size_t n, cap, size;
	int (*cmp)(const void *key, const void *elem);
};
/* Index of key, or -(insertion point) - 1. */
long gw_vec_find(const struct gw_vec *a, const void *key);
void *gw_vec_at(const struct gw_vec *a, size_t i);
int gw_vec_insert(struct gw_vec *a, size_t at, const void *e); /* -ENOMEM */
void gw_vec_remove(struct gw_vec *a, size_t at);
void gw_vec_clear(struct gw_vec *a);
void gw_vec_free(struct gw_vec *a);

/* A machine from workloads/<name>. */
struct gw_workload {
	char name[STORE_NAME_MAX];
	uint32_t identity;
	struct dp_ipcache_entry ipc; /* overlay/32 -> identity, tunnel = underlay, workload */
	bool has_key;
	uint8_t key[WG_KEY_LEN];
};

/* A pod from ipcache/ (kind pod): the datapath entry. */
struct gw_pod {
	struct dp_ipcache_entry ipc;
};

enum { GW_W_IDENTITIES, GW_W_POLICIES, GW_W_IPCACHE, GW_W_WORKLOADS, GW_W_N };
struct gw_watch_arg {
	struct gateway *gw;
	int which;
};

struct gateway {
	struct kv_client *kv;
	struct store store;
	struct store_config cfg;
	char name[STORE_NAME_MAX];
	char bpffs[256];
	char ifname[16];
	bool vxlan;
	int lock_timeout_ms;
	uint16_t keepalive_s; /* per machine peer (gateway_opts) */

	/* tunnel */
	struct wg_device *wg; /* NULL for VXLAN */
	struct tunnel_link_cfg link;
	struct tunnel_supervisor *sup;

	/* datapath */
	struct dp *dp;

	/* registration */
	struct store_gateway_reg reg;

	/* store */
	struct kv_watch *w[GW_W_N];
	struct gw_watch_arg warg[GW_W_N];
	bool synced[GW_W_N];
	bool restart;	       /* identities/ or policies/ relisted: rebuild the engine */
	int fatal;	       /* a watch's unrecoverable error */
	unsigned delivered;    /* events and listings delivered in this poll */
	int64_t reopen_at_ms;  /* after a failed reopen of the watches */
	int64_t last_event_ms; /* the watches' last delivery */
	int wfd;	       /* epoll set of the watches' fds (gateway_fd()); valid if wfd_ok */
	bool wfd_ok;
	struct policy_engine *engine;
	struct gw_vec workloads; /* struct gw_workload by name */
	struct gw_vec pods;	 /* struct gw_pod by prefix */
	struct gw_vec held;	 /* struct dp_ipcache_entry: prefixes of undecodable records */
	struct dp_ipcache_entry served[STORE_MAX_CIDRS];
	size_t n_served;

	/* policy */
	uint32_t *eps; /* local endpoints, sorted */
	size_t n_eps;
	uint32_t *local_ids; /* identities of local machines and pods, labelled or not */
	size_t n_local_ids;
	struct gw_vec dirty;   /* uint32_t endpoints to rewrite */
	struct gw_vec removed; /* uint32_t endpoints to remove */
	bool eps_dirty, ipc_dirty, full;
	int64_t retry_at_ms; /* after a failed flush */

	struct gateway_stats st;
};

int64_t gw_now_ms(void);

/* gateway_tunnel.c */
int gw_tunnel_up(struct gateway *gw, const struct gateway_opts *o, char *pubkey_b64, char *err,
		 size_t err_len);
int gw_datapath_up(struct gateway *gw, const struct gateway_opts *o, char *err, size_t err_len);
void gw_tunnel_close(struct gateway *gw);

/* gateway_store.c */
int gw_watches_open(struct gateway *gw, char *err, size_t err_len);
void gw_watches_close(struct gateway *gw); /* the watches; the epoll set stays */
void gw_watches_free(struct gateway *gw);  /* the watches and the epoll set */
int gw_watches_poll(struct gateway *gw, int timeout_ms);
/* ms until a watch must be stepped without input (-1: not before gateway_fd() fires). */
int gw_watches_timeout_ms(const struct gateway *gw);
bool gw_all_synced(const struct gateway *gw);

/* gateway_peers.c: old/new may be NULL (added/removed). */
void gw_peer_update(struct gateway *gw, const struct gw_workload *old,
		    const struct gw_workload *cur);
void gw_peers_sweep(struct gateway *gw);

/* gateway_policy.c */
void gw_policy_mark(struct gateway *gw, const struct policy_changes *ch);
void gw_policy_mark_endpoint(struct gateway *gw, uint32_t id);
int gw_policy_flush(struct gateway *gw, char *err, size_t err_len);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agent/gateway: pseudopodd's gateway mode (library pp_gateway, prefix gateway_). A
 * gateway node terminates the machines' tunnels, routes into the pod network with the
 * node's own routing, and enforces the pods' side of every flow that crosses it
 * (docs/agent.md, "Gateway mode").
 *
 * Contract:
 * - gateway_open() connects to the store, reads the cluster config, brings up the tunnel
 *   device (WireGuard: kernel or supervised wireguard-go; VXLAN: external-mode device)
 *   with a route for the workload CIDR, loads or ADOPTS the datapath pinned under bpffs in
 *   gateway mode and attaches it to the tunnel device, registers gateways/<name> on its own
 *   lease, and opens watches (list first) on identities/, policies/, ipcache/, workloads/.
 *   Nothing is written to the maps before every listing is complete: until then the
 *   adopted maps keep enforcing what they held (fail-static).
 * - Local endpoints (whose policy the gateway writes, keyed by identity): every machine of
 *   workloads/ and every pod of ipcache/ whose address lies inside the CIDRs this gateway
 *   serves (opts.cidrs, default the cluster's pod CIDRs). For a machine->pod flow the
 *   datapath checks the machine's egress and the pod's ingress policy; for pod->machine
 *   the pod's egress policy. An identity that stops having a local endpoint loses its keys
 *   and enforcement only after no ipcache entry names it any more.
 * - ipcache on the gateway: pods from ipcache/ (no tunnel endpoint: the node routes them);
 *   machines from workloads/ — overlay IP/32 -> identity, tunnel endpoint = the machine's
 *   underlay IP, flagged workload (anti-spoofing); ipcache/ records of kind workload are
 *   not used (they name the gateway, not the machine); plus the engine's CIDR identities.
 * - WireGuard peers: one per workload with a public key (allowed-ips = its overlay IP/32,
 *   endpoint = its underlay IP on the cluster's WireGuard port), added, updated and
 *   removed one at a time as workloads/ changes; after a (re)listing, peers the device has
 *   and no workload names are removed one by one. Never a full rewrite.
 * - Watch events mutate the incremental policy engine; the endpoints its changes name are
 *   marked dirty and written by gateway_poll() as one per-endpoint diff against the maps
 *   (agent_policy_multi_apply(): ordered, capacity-checked, under dp_lock). A write that
 *   fails is retried on the next poll; a compaction resync rebuilds the engine from a
 *   fresh listing and then diffs every endpoint.
 * - gateway_close() revokes the lease, closes the tunnel handle and the maps WITHOUT
 *   removing the device, routes, programs or pins: enforcement and tunnels outlive the
 *   process (a restart adopts them).
 * - Functions return 0 or -errno and say why in err.
 */
#ifndef PSEUDOPOD_AGENT_GATEWAY_H
#define PSEUDOPOD_AGENT_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/kv/kv.h"
#include "store/store.h"

struct gateway;

struct gateway_opts {
	struct kv_options store; /* borrowed strings */
	const char *prefix;	 /* store prefix; NULL = default */
	const char *name;	 /* gateways/<name>: RFC 1123 subdomain */
	const char *bpffs;	 /* the gateway datapath's pin directory */
	const char *ifname;	 /* tunnel device (created or adopted) */
	bool vxlan;		 /* tunnel: false = WireGuard, true = VXLAN */
	/* WireGuard */
	const char *private_key_file; /* base64 key file (mode 0600) */
	int wg_backend;		      /* 0 auto, else enum wg_backend_kind */
	const char *wireguard_go;     /* NULL = from PATH */
	uint16_t port;		      /* listen port; 0 = the config's */
	/* persistent keepalive toward each machine: what lets a machine tell a live standby
	 * gateway from a dead one (tunnel/failover.h); 0 = none */
	uint16_t keepalive_s;
	const char *underlay_ip; /* advertised endpoint (IPv4) of this node */
	/* served pod CIDRs; 0 = the cluster config's pod CIDRs */
	char cidrs[STORE_MAX_CIDRS][STORE_CIDR_MAX];
	size_t n_cidrs;
	int64_t lease_ttl_s; /* 0 = 10 */
	int lock_timeout_ms; /* waiting for another writer of bpffs; 0 = 5000 */
	uint32_t policy_max; /* datapath map sizes on a fresh load; 0 = defaults */
	uint32_t ipcache_max;
};

struct gateway_stats {
	bool synced;	  /* the first full sync is written (stays true: READY) */
	size_t endpoints; /* local endpoints (identities) enforced */
	size_t peers;	  /* WireGuard peers configured */
	size_t flushes, flush_errors;
	int64_t revision; /* lowest watch revision delivered */
	unsigned lease_regrants;
};

int gateway_open(const struct gateway_opts *o, struct gateway **out, char *err, size_t err_len);
/*
 * One step of the loop: waits at most timeout_ms for store events, applies them, writes
 * the dirty endpoints (when every watch is synced), renews the lease and supervises
 * wireguard-go when due. Returns 0, or -errno for a failure the gateway cannot recover
 * from by itself (watch credentials refused, -ENOMEM); transient store and map errors are
 * logged and retried.
 */
int gateway_poll(struct gateway *gw, int timeout_ms, char *err, size_t err_len);
/* Milliseconds until gateway_poll() must run again without input: timed work (lease,
 * supervision, a flush retry, a store watch's reconnect or curl timer); 0 = now. */
int gateway_timeout_ms(const struct gateway *gw);
/* Readable when a store watch has input (an epoll set of the watches' fds, stable for the
 * gateway's life). A loop polls it for POLLIN, bounds its wait by gateway_timeout_ms()
 * and calls gateway_poll(gw, 0) when either fires: an idle gateway is never woken for
 * nothing. -1 before gateway_open() succeeded. */
int gateway_fd(const struct gateway *gw);
void gateway_stats(const struct gateway *gw, struct gateway_stats *out);
void gateway_close(struct gateway *gw); /* accepts NULL */

/*
 * What the local API and the metrics read in gateway mode (gateway_api.c): read-only views
 * of the gateway's live state, for the daemon's loop thread between gateway_poll() calls.
 */
struct dp;
struct policy_engine;
struct policy_engine *gateway_engine(const struct gateway *gw); /* NULL before the first sync */
struct dp *gateway_dp(const struct gateway *gw);
/* The local endpoints whose policy the gateway writes (identities, sorted). */
const uint32_t *gateway_endpoints(const struct gateway *gw, size_t *n);
/* The revision of the policies/ watch (what the engine has applied). */
int64_t gateway_policy_revision(const struct gateway *gw);
/*
 * GET /v1/status in gateway mode (shapes in docs/agent.md): "gateway" (name, device,
 * tunnel, registration lease), "peers" (one per machine served: name, identity, overlay
 * and underlay IP, WireGuard handshake age and bytes), "endpoints" (local endpoints, pods,
 * machines), "store" (synced, revision, lease renewal), "policy" (revision, policies,
 * entries per direction), "datapath" (map fill levels). NULL on -ENOMEM.
 */
json_t *gateway_status_json(const struct gateway *gw);

#endif

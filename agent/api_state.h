/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * api_state: the answers to the /v1 queries that both daemon modes build from the same
 * kind of state — a policy engine and a pinned datapath (library pp_agent_state, prefix
 * api_state_). The workload daemon (agent/daemon_api.c) and gateway mode
 * (agent/daemon_gateway_api.c) call these from their api_v1_ops callbacks, so an identity,
 * an ipcache lookup or a trace reads the same on a machine and on a gateway.
 *
 * Contract: read-only (nothing here writes the engine or the maps); called on the loop's
 * thread; return 0 with *out set (a new reference), -ENOENT with err saying what is not
 * known, -EINVAL with err for a query refused, -ENOMEM. A NULL dp (no datapath loaded)
 * makes every address unknown.
 *
 * Identity JSON (Cilium's `identity get -o json` names): {"id", "labels": [...], "kind":
 * "reserved" (below 256) | "cluster" (allocated in the store) | "cidr" (the engine's local
 * CIDR identities, bit 24)}.
 */
#ifndef PSEUDOPOD_AGENT_API_STATE_H
#define PSEUDOPOD_AGENT_API_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct api_identity_query;
struct api_trace_query;
struct dp;
struct dp_ipcache_entry;
struct label_set;
struct net_prefix;
struct policy_engine;

/* The longest ipcache prefix holding ip: 0 with *out, or -ENOENT. */
int api_state_ipcache_lookup(struct dp *dp, const struct net_prefix *ip,
			     struct dp_ipcache_entry *out);
/* "reserved", "cluster" or "cidr". */
const char *api_state_identity_kind(uint32_t id);
/* One identity; labels may be NULL (an identity the engine does not know: "labels": []). */
json_t *api_state_identity_json(uint32_t id, const struct label_set *labels);
/* {"identities": [...]} in ascending id order. */
int api_state_identities(const struct policy_engine *e, json_t **out);
/*
 * GET /v1/identity?id=N (-ENOENT when the engine does not know it) or ?ip=IP: {"ip",
 * "prefix" (the ipcache entry that matched; null when none holds the address, which the
 * datapath then treats as world: identity 2), "identity" (an identity object; "labels": []
 * when the engine does not know it), "tunnel_endpoint" (null for none), "workload" (a
 * machine's overlay address)}. API_IDENTITY_SELF is the caller's:
 * -EINVAL here.
 */
int api_state_identity_get(const struct policy_engine *e, struct dp *dp,
			   const struct api_identity_query *q, json_t **out, char *err,
			   size_t err_len);
/* GET /v1/policy/trace: an address the ipcache maps to a labelled identity is that
 * endpoint (its labels, its own policy as in the datapath); any other is a CIDR peer. */
int api_state_trace(struct policy_engine *e, struct dp *dp, const struct api_trace_query *q,
		    json_t **out, char *err, size_t err_len);

/* The maps' fill levels: [{"name", "max", "entries" (ipcache and policy)}]; [] for NULL.
 * IPCACHE_COUNT: a running count the caller keeps, or NULL to walk the map for it. */
json_t *api_state_maps_json(struct dp *dp, const size_t *ipcache_count);
/* The datapath's counters summed: {"forwarded", "dropped" (packets), "events_lost",
 * "events_read"}; {} when dp is NULL or unreadable. */
json_t *api_state_counters_json(struct dp *dp, uint64_t events_read);
/* The policy and rule that produced rule_id (flows and policy entries name them). */
bool api_state_rule_origin(const struct policy_engine *e, uint32_t rule_id, char *policy,
			   size_t plen, char *rule, size_t rlen);
/* One endpoint's effective entries appended to arr, each api_policy_entry_json() with
 * labels and origin, plus "endpoint" when with_endpoint (a gateway lists several). */
int api_state_policy_entries(const struct policy_engine *e, uint32_t endpoint, bool with_endpoint,
			     json_t *arr);

#endif

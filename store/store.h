/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store: the cluster store's schema on top of lib/kv — key builders, versioned JSON record
 * codecs, identity allocation and gc, and loaders for whole record kinds. docs/store.md is
 * the reference for every key; keep both in step.
 *
 * Contract:
 * - Keys live under a prefix (default "/pseudopod/v1/"), which always ends in '/'.
 * - Decoders (store_*_decode) are parsers of outside input: they return bool, never crash
 *   on any bytes, and say why (key, field, what was expected) in err. Loaders skip a
 *   malformed record with a log line naming its key; one bad record never stops the others.
 * - Encoders return malloc'd compact JSON ("version": 1 first) or NULL on ENOMEM.
 * - Operations return 0 or -errno; store_error() says why in words.
 * - Identity allocation is atomic in etcd: create-if-absent of identities-by-labels/<digest>
 *   and identities/<id> in one txn. The same label set always maps to the same id;
 *   concurrent allocators agree (the loser of the txn reads the winner's id); ids below
 *   STORE_IDENTITY_MIN are reserved and never handed out; exhaustion is -ENOSPC.
 * - An identity is "used" while an ipcache entry or a workload record names it. Writers of
 *   users (store_endpoint_add) re-put the identity record in the same txn as the user,
 *   guarded by its mod_revision, and gc deletes guarded by the same mod_revision: either the
 *   writer's txn or gc's fails, never both succeed (no identity is collected under a user).
 */
#ifndef PSEUDOPOD_STORE_H
#define PSEUDOPOD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/labels.h"

struct kv_client;
typedef struct json_t json_t;

#define STORE_DEFAULT_PREFIX "/pseudopod/v1/"
#define STORE_RECORD_VERSION 1
#define STORE_IDENTITY_MIN   256u
#define STORE_IDENTITY_MAX   65535u
#define STORE_NAME_MAX	     254 /* DNS subdomain (253) + NUL */
#define STORE_IP_MAX	     46	 /* INET6_ADDRSTRLEN */
#define STORE_CIDR_MAX	     50
#define STORE_WG_KEY_MAX     45 /* base64 of 32 bytes + NUL */
#define STORE_MAX_CIDRS	     16
#define STORE_TXN_MAX_OPS    128 /* etcd's default --max-txn-ops */

struct store {
	struct kv_client *kv; /* borrowed */
	char prefix[256];
	uint32_t id_min, id_max; /* allocation range, within [STORE_IDENTITY_MIN, _MAX] */
	char err[768];
};

/* Borrows kv. prefix NULL/"" = the default; a missing trailing '/' is added. */
int store_init(struct store *s, struct kv_client *kv, const char *prefix);
/* Narrows the allocation range (tests of exhaustion); -EINVAL if it leaves [256, 65535]. */
int store_set_identity_range(struct store *s, uint32_t min, uint32_t max);
const char *store_error(const struct store *s);

/* ---- keys ---- */
enum store_kind {
	STORE_KIND_UNKNOWN = 0,
	STORE_KIND_CONFIG,
	STORE_KIND_IDENTITY,
	STORE_KIND_IDENTITY_BY_LABELS,
	STORE_KIND_IPCACHE,
	STORE_KIND_POLICY,
	STORE_KIND_WORKLOAD,
	STORE_KIND_WORKLOAD_ALIVE,
	STORE_KIND_GATEWAY,
	STORE_KIND_TOKEN,
};
/* Classifies a full key; *rest points after "<prefix><kind>/" (e.g. "10.0.0.1/32"). */
enum store_kind store_key_kind(const struct store *s, const char *key, const char **rest);
/* Writes "<prefix><path>" (printf-style path) into buf; -ENAMETOOLONG if it does not fit. */
int store_key(const struct store *s, char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Canonical "addr/len" (network address, host bits must be 0; a bare address is a host
 * prefix). false with the reason otherwise. */
bool store_cidr_canon(const char *text, char out[STORE_CIDR_MAX], char *err, size_t err_len);

/* ---- records ---- */
struct store_identity {
	uint32_t id;
	struct label_set labels;
};
void store_identity_clear(struct store_identity *i);
/* key: the full key or just "<id>"; the id comes from the key. */
bool store_identity_decode(const char *key, const char *value, size_t len,
			   struct store_identity *out, char *err, size_t err_len);
char *store_identity_encode(const struct label_set *labels);
/* identities-by-labels/<digest> -> {"version":1,"id":N} */
bool store_idref_decode(const char *key, const char *value, size_t len, uint32_t *id, char *err,
			size_t err_len);
char *store_idref_encode(uint32_t id);

enum store_ipcache_kind { STORE_IPCACHE_POD = 0, STORE_IPCACHE_WORKLOAD };
struct store_ipcache {
	char cidr[STORE_CIDR_MAX]; /* canonical, from the key */
	uint32_t identity;
	enum store_ipcache_kind kind;
	char gateway[STORE_IP_MAX]; /* "" = none */
};
/* key: the full key or "addr/len". */
bool store_ipcache_decode(const char *key, const char *value, size_t len, struct store_ipcache *out,
			  char *err, size_t err_len);
char *store_ipcache_encode(const struct store_ipcache *e);
const char *store_ipcache_kind_name(enum store_ipcache_kind k);

enum store_tunnel { STORE_TUNNEL_WIREGUARD = 0, STORE_TUNNEL_VXLAN };
struct store_config {
	char cluster_name[64];
	uint32_t cluster_id; /* 1..255 (8 bits of the VNI) */
	char pod_cidrs[STORE_MAX_CIDRS][STORE_CIDR_MAX];
	size_t n_pod_cidrs;
	char service_cidr[STORE_CIDR_MAX];
	char workload_cidr[STORE_CIDR_MAX];
	enum store_tunnel tunnel;
	uint16_t wireguard_port;
	uint16_t vxlan_port;
};
bool store_config_decode(const char *value, size_t len, struct store_config *out, char *err,
			 size_t err_len);
char *store_config_encode(const struct store_config *c);
bool store_config_validate(const struct store_config *c, char *err, size_t err_len);

struct store_workload {
	char name[STORE_NAME_MAX];
	uint32_t identity;
	char overlay_ip[STORE_IP_MAX];
	struct label_set labels;
	char namespace_[STORE_NAME_MAX];
	char wg_public_key[STORE_WG_KEY_MAX]; /* "" for VXLAN workloads */
	char underlay_ip[STORE_IP_MAX];
	int64_t enrolled_at; /* unix seconds */
};
void store_workload_clear(struct store_workload *w);
bool store_workload_decode(const char *key, const char *value, size_t len,
			   struct store_workload *out, char *err, size_t err_len);
char *store_workload_encode(const struct store_workload *w);

struct store_gateway {
	char name[STORE_NAME_MAX];
	char underlay_ip[STORE_IP_MAX];
	char wg_public_key[STORE_WG_KEY_MAX]; /* "" = no WireGuard */
	uint16_t wireguard_port;
	char vxlan_endpoint[STORE_IP_MAX]; /* "" = no VXLAN */
	char cidrs[STORE_MAX_CIDRS][STORE_CIDR_MAX];
	size_t n_cidrs;
};
bool store_gateway_decode(const char *key, const char *value, size_t len, struct store_gateway *out,
			  char *err, size_t err_len);
char *store_gateway_encode(const struct store_gateway *g);

/*
 * Labels a user may give an endpoint or identity: not of the reserved source (host, world,
 * ... are the datapath's, a pod labelled reserved:host would be trusted as the host) nor
 * the cidr source (the policy engine's node-local CIDR identities). false names the first
 * such label.
 */
bool store_labels_assignable(const struct label_set *labels, char *err, size_t err_len);

/* Kubernetes object names (RFC 1123 subdomain) and namespaces (RFC 1123 label). */
bool store_name_valid(const char *name, bool subdomain);

/* ---- operations ---- */
int store_config_put(struct store *s, const struct store_config *c, bool force);
int store_config_get(struct store *s, struct store_config *out);

struct store_identity_ref {
	uint32_t id;
	int64_t mod_revision; /* of identities/<id> when read */
	char *value;	      /* its record, for the guarded re-put */
	bool created;
};
void store_identity_ref_clear(struct store_identity_ref *r);
/* Finds or creates the identity of labels (see the contract above); -EINVAL for labels
 * store_labels_assignable() refuses. */
int store_identity_allocate(struct store *s, const struct label_set *labels,
			    struct store_identity_ref *ref);
/* Loads every well-formed identity (sorted by id); malformed ones are logged and skipped. */
int store_load_identities(struct store *s, struct store_identity **out, size_t *n,
			  int64_t *revision);
void store_identities_free(struct store_identity *ids, size_t n);
int store_identity_get(struct store *s, uint32_t id, struct store_identity *out);
/* Deletes identities no ipcache entry or workload uses; *removed = how many (or would be,
 * with dry_run). */
int store_identity_gc(struct store *s, bool dry_run, size_t *removed);

/* Writes ipcache/<cidr> for labels (identity allocated as needed); *id the identity.
 * -EINVAL (store_error() says why) for a /0 prefix (it would give every unknown source this
 * identity), a gateway that is not IPv4 (the datapath's tunnel endpoints are IPv4) or
 * labels store_labels_assignable() refuses. Whether cidr lies in the cluster's CIDRs is
 * the caller's policy (pseudopodctl checks it against the config record). */
int store_endpoint_add(struct store *s, const char *cidr, const struct label_set *labels,
		       enum store_ipcache_kind kind, const char *gateway, uint32_t *id);
int store_endpoint_del(struct store *s, const char *cidr);
int store_load_ipcache(struct store *s, struct store_ipcache **out, size_t *n, int64_t *revision);
/*
 * The same listing, streamed: cb gets each decoded record (valid only during the call), bad
 * (optional) the canonical prefix of each key whose record did not decode (a key that is
 * not a CIDR names none; the record is logged either way). A non-zero return of either
 * stops the listing and is returned; store errors are -errno with store_error(). Memory is
 * one page of the listing, whatever the number of records.
 */
typedef int (*store_ipcache_cb)(const struct store_ipcache *r, void *arg);
typedef int (*store_ipcache_bad_cb)(const char *cidr, void *arg);
int store_foreach_ipcache(struct store *s, store_ipcache_cb cb, store_ipcache_bad_cb bad, void *arg,
			  int64_t *revision);

struct store_policy {
	char namespace_[STORE_NAME_MAX]; /* "" = cluster-wide (stored under _cluster) */
	char name[STORE_NAME_MAX];
	const char *kind;
	json_t *object; /* borrowed on put; owned by the array on load */
};
/* All-or-nothing: one txn puts every policy (at most STORE_TXN_MAX_OPS). A stored policy
 * of another kind under the same namespace/name is not replaced (-EEXIST); the check is
 * part of the txn (mod_revision compares), so a concurrent change fails it (-EAGAIN). */
int store_policies_put(struct store *s, const struct store_policy *p, size_t n);
int store_policy_delete(struct store *s, const char *namespace_, const char *name);
/*
 * A policies/ record: path is the key after "policies/" ("<ns>/<name>", "_cluster/<name>").
 * Accepted when the key is exactly two valid names (namespace: RFC 1123 label or _cluster;
 * name: RFC 1123 subdomain), the value is a JSON object with a kind, and the key BINDS the
 * object's scope: a CiliumClusterwideNetworkPolicy only under _cluster (no
 * metadata.namespace), any other kind only under its metadata.namespace ("default" when
 * absent), and metadata.name equal to the key's name. So write access to one namespace's
 * prefix cannot make policy for another namespace or for the cluster. out->object is a new
 * reference (out->kind points into it).
 */
bool store_policy_decode(const char *path, const char *value, size_t len, struct store_policy *out,
			 char *err, size_t err_len);
/* Every policy record store_policy_decode() accepts; the others are logged with their key
 * and skipped. Every reader of policies/ goes through this. */
int store_load_policies(struct store *s, struct store_policy **out, size_t *n, int64_t *revision);
/* The same listing; *skipped (optional) gets the paths ("<ns>/<name>") of skipped records,
 * free with store_policy_paths_free(). */
int store_list_policies(struct store *s, struct store_policy **out, size_t *n, char ***skipped,
			size_t *n_skipped, int64_t *revision);
void store_policy_paths_free(char **paths, size_t n);
/* True when the policy parser (the engine's validator) accepts obj; why says why not. */
bool store_policy_usable(const json_t *obj, char *why, size_t why_len);
/* The newest EARLIER version of policies/<path> (at most steps versions back) that
 * store_policy_decode() and store_policy_usable() accept, with its mod revision: what a
 * reader that saw it would still enforce when the current record is bad. -ENOENT when there
 * is none (new key, history compacted, all bad), other -errno on store errors. */
int store_policy_last_valid(struct store *s, const char *path, int steps, struct store_policy *out,
			    int64_t *found_rev);
void store_policies_free(struct store_policy *p, size_t n);

int store_load_workloads(struct store *s, struct store_workload **out, size_t *n);
void store_workloads_free(struct store_workload *w, size_t n);
/* True when workloads/<name>/alive exists (the agent's lease is live). */
int store_workload_alive(struct store *s, const char *name, bool *alive);
/* Deletes workloads/<name> (and its sub-keys) and its ipcache entry in one txn. */
int store_workload_delete(struct store *s, const char *name);

int store_gateway_put(struct store *s, const struct store_gateway *g, int64_t lease);
int store_load_gateways(struct store *s, struct store_gateway **out, size_t *n);
int store_gateway_delete(struct store *s, const char *name);

/* ---- enrollment tokens (store_token.c) ----
 * tokens/<id>: the SHA-256 of the secret (never the secret), what a redeemed token makes
 * (labels, namespace, optional machine name), expiry and uses left, on a lease. The lease
 * outlives expires_at by STORE_TOKEN_GRACE_S so that a late redemption is told "expired N
 * minutes ago" rather than "invalid"; the enrollment server enforces expires_at itself.
 * A revoked or used-up token stays (revoked / uses_left 0) until its lease ends, for the
 * same reason. */
#define STORE_TOKEN_ID_LEN  6
#define STORE_TOKEN_GRACE_S 86400
struct store_token {
	char id[STORE_TOKEN_ID_LEN + 1];
	char secret_sha256[65];	 /* lowercase hex */
	struct label_set labels; /* without the namespace label */
	char namespace_[STORE_NAME_MAX];
	char name[STORE_NAME_MAX]; /* "" = the machine picks (its hostname) */
	int64_t created_at, expires_at;
	uint32_t uses, uses_left;
	bool revoked;
};
/* 6 characters of [a-z0-9]. */
bool store_token_id_valid(const char *id);
void store_token_clear(struct store_token *t);
bool store_token_decode(const char *key, const char *value, size_t len, struct store_token *out,
			char *err, size_t err_len);
char *store_token_encode(const struct store_token *t);
/* Creates tokens/<id> on lease (create-if-absent: -EEXIST when the id is taken). */
int store_token_create(struct store *s, const struct store_token *t, int64_t lease);
/* -ENOENT when absent; *mod_revision and *lease of the key as read. */
int store_token_get(struct store *s, const char *id, struct store_token *out, int64_t *mod_revision,
		    int64_t *lease);
int store_load_tokens(struct store *s, struct store_token **out, size_t *n);
void store_tokens_free(struct store_token *t, size_t n);
/* Marks tokens/<id> revoked (guarded by its mod_revision, same lease). -ENOENT when absent. */
int store_token_revoke(struct store *s, const char *id);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv: an etcd v3 client over the JSON gateway (/v3/...), libcurl + jansson.
 *
 * Contract:
 * - Keys and values are byte strings (key_len/value_len); base64 and JSON escaping are the
 *   client's business, never the caller's.
 * - Every call returns 0 or -errno. The last failure's human message (etcd's own text when
 *   etcd said why, e.g. "etcdserver: permission denied") is kv_error(). -EACCES: permission
 *   denied / authentication failed; -ENOENT: no such lease; -ERANGE: revision compacted;
 *   -ECONNREFUSED/-ETIMEDOUT/-EHOSTUNREACH/-ECONNRESET: no endpoint answered; -EPROTO: a
 *   reply that is not what etcd sends (never trusted, never crashes); -EINVAL: etcd refused
 *   the request.
 * - Several endpoints: a call that cannot reach one endpoint (connect/transport error, 503,
 *   "no leader") moves on to the next, each at most once per call. A write whose reply was
 *   lost may therefore be applied twice; every write the store layer makes is idempotent or
 *   guarded by a txn compare.
 * - Auth: with a user, the client authenticates on first use and sends the token; when etcd
 *   says "invalid auth token" (simple tokens expire) it re-authenticates and retries once.
 * - TLS: https:// endpoints use ca_file to verify the server, cert_file/key_file as client
 *   certificate.
 * - A kv_client is not thread-safe; use one per thread. Watches (struct kv_watch) run on a
 *   curl multi handle driven by kv_watch_poll() from the caller's loop; an event loop waits
 *   on kv_watch_fd() with kv_watch_timeout_ms() as its bound and calls kv_watch_poll(w, 0)
 *   when either fires, so an idle watch costs no wake-up (no periodic stepping needed).
 */
#ifndef PSEUDOPOD_KV_H
#define PSEUDOPOD_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_client;
struct kv_watch;
typedef struct json_t json_t;

struct kv_options {
	const char *endpoints; /* "http://127.0.0.1:2379,https://b:2379" */
	const char *ca_file;   /* NULL/"" = system CAs */
	const char *cert_file; /* client certificate (PEM), optional */
	const char *key_file;  /* its key (PEM), optional */
	const char *user;      /* NULL/"" = no auth */
	const char *password;
	uint32_t timeout_ms; /* per unary request; 0 = 5000 */
};

int kv_open(struct kv_client **out, const struct kv_options *opts);
void kv_close(struct kv_client *c); /* accepts NULL */
const char *kv_error(const struct kv_client *c);
/* The endpoint the client currently talks to (after fail-over). */
const char *kv_endpoint(const struct kv_client *c);

struct kv_pair {
	char *key;
	size_t key_len;
	char *value; /* NUL-terminated for convenience (value[value_len] == 0) */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

struct kv_range_opts {
	bool prefix;	  /* every key starting with key */
	int64_t limit;	  /* 0 = no limit */
	int64_t revision; /* 0 = latest */
	bool keys_only;
	bool count_only;
};

struct kv_range_result {
	struct kv_pair *kvs;
	size_t n;
	int64_t revision; /* store revision the range was served at */
	int64_t count;	  /* keys in the range (all of them, not only this page) */
	bool more;
};

int kv_range(struct kv_client *c, const char *key, size_t key_len, const struct kv_range_opts *o,
	     struct kv_range_result *out);
void kv_range_result_free(struct kv_range_result *r); /* accepts a zeroed result */

/*
 * Pages through every key under prefix at one revision (the first page's, unless revision
 * is set), page_size keys at a time (0 = 1000), calling cb for each. cb returning non-zero
 * stops the walk and is returned. *revision_out (optional) is the revision served.
 */
typedef int (*kv_pair_cb)(void *arg, const struct kv_pair *kv);
int kv_range_foreach(struct kv_client *c, const char *prefix, int64_t revision, int64_t page_size,
		     bool keys_only, kv_pair_cb cb, void *arg, int64_t *revision_out);

/* Single key. -ENOENT when absent. *value is malloc'd and NUL-terminated. */
int kv_get(struct kv_client *c, const char *key, char **value, size_t *value_len,
	   int64_t *mod_revision);
int kv_put(struct kv_client *c, const char *key, const char *value, size_t value_len, int64_t lease,
	   int64_t *revision);
int kv_delete(struct kv_client *c, const char *key, bool prefix, int64_t *deleted);
/* Physically compacts history up to revision (tests, maintenance). */
int kv_compact(struct kv_client *c, int64_t revision);

/* Transactions: compares, then the success or failure op list, atomically. */
enum kv_cmp_target { KV_CMP_VERSION, KV_CMP_CREATE, KV_CMP_MOD, KV_CMP_VALUE, KV_CMP_LEASE };
enum kv_cmp_result { KV_EQUAL, KV_NOT_EQUAL, KV_GREATER, KV_LESS };
struct kv_txn;

struct kv_txn *kv_txn_new(void);    /* NULL on ENOMEM */
void kv_txn_free(struct kv_txn *t); /* accepts NULL */
/* Integer compare (VERSION/CREATE/MOD/LEASE). version 0 = "key absent". */
int kv_txn_cmp(struct kv_txn *t, const char *key, enum kv_cmp_target target,
	       enum kv_cmp_result result, int64_t number);
int kv_txn_cmp_value(struct kv_txn *t, const char *key, enum kv_cmp_result result,
		     const char *value, size_t value_len);
/* Ops: on_success selects the branch. */
int kv_txn_put(struct kv_txn *t, bool on_success, const char *key, const char *value,
	       size_t value_len, int64_t lease);
int kv_txn_delete(struct kv_txn *t, bool on_success, const char *key, bool prefix);
int kv_txn_get(struct kv_txn *t, bool on_success, const char *key, bool prefix);
size_t kv_txn_ops(const struct kv_txn *t); /* ops in the larger branch (etcd caps at 128) */

struct kv_txn_result {
	bool succeeded;
	int64_t revision;
	size_t n;			/* responses of the branch that ran, in op order */
	struct kv_range_result *ranges; /* ranges[i] filled for get ops, zeroed otherwise */
};
int kv_txn_commit(struct kv_client *c, struct kv_txn *t, struct kv_txn_result *out);
void kv_txn_result_free(struct kv_txn_result *r);

/* Leases. */
int kv_lease_grant(struct kv_client *c, int64_t ttl_s, int64_t *id, int64_t *granted_ttl);
/* One keep-alive round trip; -ENOENT when the lease has expired or was revoked. */
int kv_lease_keepalive(struct kv_client *c, int64_t id, int64_t *ttl);
int kv_lease_revoke(struct kv_client *c, int64_t id);
/* Remaining TTL (-ENOENT when gone). */
int kv_lease_ttl(struct kv_client *c, int64_t id, int64_t *ttl);

/*
 * Any other gateway call (auth admin, maintenance): POST path with body, *reply set to the
 * decoded JSON object. Auth, fail-over and error mapping apply. Used by enrollment later
 * (user/role creation) without widening this header for every RPC.
 */
int kv_call(struct kv_client *c, const char *path, json_t *body, json_t **reply);

/*
 * Watches. A watch follows every key under a prefix. With list_first, the watch starts by
 * listing the prefix (reset, then one put per key, then synced) and follows from the
 * listing's revision; otherwise it starts at start_revision (0 = the revision current when
 * kv_watch_open() runs, so nothing written after it returns is missed).
 * A dropped stream (member killed, network) is resumed from the last revision seen on the
 * next endpoint, after a short back-off; no event is lost or repeated. When etcd has
 * compacted the revision to resume from, the watch does a clean full resync: reset, a
 * fresh listing, synced. Callbacks run from inside kv_watch_poll().
 */
enum kv_event_type { KV_EVENT_PUT, KV_EVENT_DELETE };
struct kv_watch_ops {
	void (*reset)(void *arg); /* drop what you hold: listing follows */
	void (*event)(void *arg, enum kv_event_type type, const struct kv_pair *kv);
	void (*synced)(void *arg, int64_t revision);   /* listing complete */
	void (*progress)(void *arg, int64_t revision); /* optional: caught up to revision */
};
struct kv_watch_opts {
	bool list_first;
	int64_t start_revision;
	bool progress_notify;
	int64_t page_size; /* listing page size, 0 = 1000 */
};
int kv_watch_open(struct kv_client *c, const char *prefix, const struct kv_watch_opts *o,
		  const struct kv_watch_ops *ops, void *arg, struct kv_watch **out);
/*
 * One step: waits up to timeout_ms for stream data (0 = do not wait), delivers the events
 * received, reconnects when due. Returns 0, or -errno for a failure the watch cannot
 * recover from by itself (-ENOMEM; -EACCES when the credentials are refused or may not
 * watch the prefix).
 */
int kv_watch_poll(struct kv_watch *w, int timeout_ms);
/*
 * Event-loop integration. kv_watch_fd(): one fd, stable for the watch's life (an epoll set
 * holding whatever sockets the stream uses right now, reconnects included), readable when
 * the watch has input. kv_watch_timeout_ms(): ms until the watch must be stepped even
 * without input (curl's own timers, a reconnect back-off, a resync listing), 0 = now,
 * -1 = not before its fd is readable. A loop that polls the fd for POLLIN, bounds its wait
 * by the timeout, and calls kv_watch_poll(w, 0) when either fires misses nothing; ask for
 * the timeout again after every step (a step changes it).
 */
int kv_watch_fd(const struct kv_watch *w);
int kv_watch_timeout_ms(const struct kv_watch *w);
/* The revision everything up to which has been delivered. */
int64_t kv_watch_revision(const struct kv_watch *w);
/* Counters for tests and metrics. */
unsigned kv_watch_reconnects(const struct kv_watch *w);
unsigned kv_watch_resyncs(const struct kv_watch *w);
void kv_watch_close(struct kv_watch *w); /* accepts NULL */

/*
 * Auth administration (kv_auth.c), for enrollment: each machine gets its own user and role.
 * Need a root (or auth-admin) client; return 0 or -errno like every call (-EEXIST is not
 * special: etcd says "user name already exists" with -EINVAL, kv_error() has the text).
 * Permission ranges: key alone (prefix false) or every key starting with key (prefix true).
 */
enum kv_perm { KV_PERM_READ = 0, KV_PERM_WRITE = 1, KV_PERM_READWRITE = 2 };
int kv_auth_user_add(struct kv_client *c, const char *name, const char *password);
int kv_auth_user_delete(struct kv_client *c, const char *name);
int kv_auth_role_add(struct kv_client *c, const char *role);
int kv_auth_role_delete(struct kv_client *c, const char *role);
int kv_auth_role_grant(struct kv_client *c, const char *role, enum kv_perm perm, const char *key,
		       bool prefix);
int kv_auth_user_grant_role(struct kv_client *c, const char *user, const char *role);
/* Checks a user's password with /v3/auth/authenticate (no client state changes). 0 when the
 * credentials are valid, -EACCES when etcd refuses them. */
int kv_auth_check(struct kv_client *c, const char *user, const char *password);

#endif

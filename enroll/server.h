/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * server: the enrollment API's request handlers, without HTTP (httpd.c is the
 * libmicrohttpd glue; pseudopodctl serve drives it). All state is in etcd, so any number of
 * servers may run against one store.
 *
 * Redemption (enroll_handle_enroll) — docs/enroll.md has the full story:
 * - The token's secret is checked against tokens/<id>'s SHA-256 with sodium_memcmp; an
 *   unknown id is compared against a dummy hash, so both take the same time and get the
 *   same answer ("invalid_token"). Only a caller who knows the secret learns more
 *   (token_expired / token_revoked / token_used).
 * - ONE etcd txn consumes the token and registers the machine: compares tokens/<id>'s
 *   mod_revision (read with the check), workloads/<name> absent, ipcache/<ip>/32 absent,
 *   identities/<id>'s mod_revision (the identity gc rule of docs/store.md); puts the token
 *   with one use less, workloads/<name>, ipcache/<ip>/32 (kind workload) and the identity
 *   record unchanged. A token therefore works exactly as many times as it has uses, also
 *   under concurrent redemptions, and no two machines ever get one overlay IP. A lost race
 *   for an address or an identity is retried; nothing is written before the txn except the
 *   machine's etcd user, which no one can use until the txn publishes its password (it is
 *   deleted again when the txn does not commit).
 * - Workload CIDR full: "cidr_exhausted", the token is not consumed.
 * - With etcd auth (store_auth) the machine gets its own user "pp_wl_<name>_<8 hex>" and
 *   role of the same name: read config, identities/, ipcache/, policies/, gateways/ and its
 *   own workloads/<name>; read-write workloads/<name>/ (its "alive" key); nothing else.
 *
 * Replies: status + JSON body (enroll/proto.h), code for the access log. Handlers never
 * put a secret or password into code/detail (the access log prints them).
 */
#ifndef PSEUDOPOD_ENROLL_SERVER_H
#define PSEUDOPOD_ENROLL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct kv_client;

struct enroll_server_cfg {
	const char *machine_endpoints; /* store endpoints machines are given */
	const char *machine_store_ca;  /* PEM given to machines, NULL = none */
	const char *store_prefix;
	bool store_auth;   /* create a user and role per machine */
	uint32_t pause_ms; /* tests: pause before the commit (PSEUDOPOD_ENROLL_TEST_PAUSE_MS) */
};

struct enroll_reply {
	unsigned status;
	char *body;	  /* JSON, malloc'd */
	char code[48];	  /* "ok", "invalid_token", ... */
	char detail[600]; /* for the access log: token id, name, overlay IP; never secrets */
};
void enroll_reply_free(struct enroll_reply *r);

void enroll_handle_enroll(struct store *s, const struct enroll_server_cfg *cfg, const char *body,
			  size_t len, struct enroll_reply *r);
/* POST /v1/leave: the machine proves itself with its own etcd credentials (checked by etcd);
 * the server then deletes its records, user and role. */
void enroll_handle_leave(struct store *s, const struct enroll_server_cfg *cfg, const char *body,
			 size_t len, struct enroll_reply *r);

/* The machine's etcd user/role name prefix: "pp_wl_<name>_" ('_' is not allowed in names,
 * so one machine's prefix never matches another's users). */
void enroll_machine_user_prefix(const char *name, char *out, size_t len);
/* Deletes every user and role of machine name (after a leave or workload delete). 0 when
 * there were none. */
int enroll_machine_users_delete(struct kv_client *kv, const char *name);

#endif

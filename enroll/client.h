/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * client: the machine side — `pseudopod enroll` and `pseudopod leave` (docs/enroll.md).
 *
 * Enroll: decode the join string; fetch GET /v1/ca from the server and check its public key
 * against the pin BEFORE anything secret is sent (a server that does not hold the cluster
 * CA never sees the token); generate the WireGuard key pair locally (the private key never
 * leaves the machine); POST /v1/enroll over TLS verified against that CA (host name
 * checked); write the state atomically (temp + fsync + rename; secrets 0600) under
 * [agent] state-dir, enrollment.json last (it is what "enrolled" means); update only the
 * keys enrollment owns in the config file; start pseudopod.service when systemd runs.
 * libcurl honours https_proxy / no_proxy from the environment.
 *
 * State files in state-dir: wireguard.key (0600), cluster-ca.crt, store-ca.crt (when the
 * store uses TLS), store-password (0600, when etcd auth is on), enrollment.json (0600).
 *
 * Results: 0 done; ENROLL_ALREADY (enroll: already enrolled, nothing changed); -errno with
 * msg saying what failed and what to do next.
 */
#ifndef PSEUDOPOD_ENROLL_CLIENT_H
#define PSEUDOPOD_ENROLL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ENROLL_ALREADY 1

#define ENROLL_STATE_FILE	   "enrollment.json"
#define ENROLL_KEY_FILE		   "wireguard.key"
#define ENROLL_CLUSTER_CA_FILE	   "cluster-ca.crt"
#define ENROLL_STORE_CA_FILE	   "store-ca.crt"
#define ENROLL_STORE_PASSWORD_FILE "store-password"

struct enroll_client_opts {
	const char *join;
	const char *config_path; /* NULL = CONFIG_DEFAULT_PATH */
	const char *name;	 /* NULL = the token's, else this host's name */
	const char *underlay_ip; /* NULL = the source address toward the server */
	bool force;		 /* re-enroll an enrolled machine */
	bool no_start;		 /* do not start pseudopod.service */
	FILE *out;		 /* progress lines */
};
int enroll_client_run(const struct enroll_client_opts *o, char *msg, size_t msg_len);

struct enroll_leave_opts {
	const char *config_path;
	bool offline;		   /* local part only */
	bool keep_state;	   /* keep the enrollment state (package removal, not purge) */
	const char *operator_user; /* delete with these store credentials instead */
	const char *operator_password;
	FILE *out;
};
int enroll_client_leave(const struct enroll_leave_opts *o, char *msg, size_t msg_len);

/* One progress line for enroll and leave: printed to out (NULL: quiet) and flushed at once,
 * so a user watching a slow step sees what is happening. */
void enroll_progress(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* HTTP with libcurl (client.c); exposed for leave.c and the benchmark. */
struct enroll_http_reply {
	long status;
	char *body;
	size_t len;
};
void enroll_http_reply_free(struct enroll_http_reply *r);
/* GET url+path without verifying the server (the caller checks what it gets against a pin). */
int enroll_http_get_unverified(const char *url, const char *path, struct enroll_http_reply *r,
			       char *why, size_t why_len);
/* POST a JSON body to url+path, verifying the server against ca_file (and its host name). */
int enroll_http_post(const char *url, const char *path, const char *ca_file, const char *body,
		     struct enroll_http_reply *r, char *why, size_t why_len);

#endif

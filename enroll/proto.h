/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * proto: the enrollment API's messages (docs/enroll.md), pure codecs shared by the server
 * (pseudopodctl serve) and the client (pseudopod enroll / leave).
 *
 *   POST /v1/enroll  request  {"token":"<id>.<secret>","underlay_ip":"10.99.0.20",
 *                              "name":"db1","hostname":"db1.lab","wg_public_key":"<44>"}
 *                    200      an enroll_response (below)
 *                    4xx/5xx  {"error":"<code>","message":"<words>"}
 *   POST /v1/leave   request  {"name":"db1","user":"...","password":"..."}
 *   GET  /v1/ca      the cluster CA certificate (PEM), for the pin check
 *   GET  /healthz    "ok"
 *
 * Decoders parse outside input (bodies from the network): they return bool, say which field
 * is wrong and why, never crash (tests/fuzz/enroll). Encoders return malloc'd JSON or NULL.
 */
#ifndef PSEUDOPOD_ENROLL_PROTO_H
#define PSEUDOPOD_ENROLL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enroll/join.h"
#include "store/store.h"

#define ENROLL_BODY_MAX	  16384	    /* largest request body the server reads */
#define ENROLL_REPLY_MAX  (1 << 20) /* largest reply the client reads */
#define ENROLL_SECRET_MAX 128	    /* etcd password of a machine */

struct enroll_request {
	struct enroll_token token;
	char name[STORE_NAME_MAX];     /* "" = the token's name */
	char hostname[STORE_NAME_MAX]; /* informational (logs) */
	char underlay_ip[STORE_IP_MAX];
	char wg_public_key[STORE_WG_KEY_MAX]; /* "" = VXLAN machine */
};
bool enroll_request_decode(const char *body, size_t len, struct enroll_request *out, char *why,
			   size_t why_len);
char *enroll_request_encode(const struct enroll_request *r);

struct enroll_leave_request {
	char name[STORE_NAME_MAX];
	char user[STORE_NAME_MAX];
	char password[ENROLL_SECRET_MAX];
};
bool enroll_leave_request_decode(const char *body, size_t len, struct enroll_leave_request *out,
				 char *why, size_t why_len);
char *enroll_leave_request_encode(const struct enroll_leave_request *r);

/* What a machine receives (DESIGN §6): its record, the cluster config, gateways, store. */
struct enroll_response {
	struct store_workload workload; /* name, identity, overlay IP, labels, namespace, ... */
	struct store_config cluster;
	struct store_gateway *gateways;
	size_t n_gateways;
	char store_endpoints[1024];
	char store_prefix[256];
	char *store_ca;			 /* PEM of the store's CA, NULL = system CAs / plain http */
	char store_user[STORE_NAME_MAX]; /* "" = etcd auth off */
	char store_password[ENROLL_SECRET_MAX];
};
void enroll_response_free(struct enroll_response *r);
bool enroll_response_decode(const char *body, size_t len, struct enroll_response *out, char *why,
			    size_t why_len);
char *enroll_response_encode(const struct enroll_response *r);

/* Error replies: a machine-readable code and the message for humans. */
char *enroll_error_encode(const char *code, const char *message);
bool enroll_error_decode(const char *body, size_t len, char code[64], char message[512]);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* kv_internal: what kv.c, kv_txn.c, kv_lease.c and kv_watch.c share (the client struct,
 * request set-up, JSON request pieces). */
#ifndef PSEUDOPOD_KV_INTERNAL_H
#define PSEUDOPOD_KV_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/kv/kv.h"

struct kv_client {
	char **endpoints;
	size_t n_endpoints;
	size_t cur; /* endpoint in use; advanced on failure */
	char *ca_file, *cert_file, *key_file;
	char *user, *password;
	uint32_t timeout_ms;
	char *token;		    /* simple/JWT auth token, NULL until authenticated */
	char *auth_header;	    /* "Authorization: <token>" */
	struct curl_slist *headers; /* content type + auth */
	CURL *easy;		    /* reused for unary calls (keeps connections) */
	char err[512];
};

struct kv_buf {
	char *p;
	size_t len, cap;
};
size_t kv_buf_write(char *data, size_t size, size_t nmemb, void *arg);
void kv_buf_free(struct kv_buf *b);

void kv_set_error(struct kv_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets URL (endpoint + path), TLS files and headers on h. */
int kv_setup_handle(struct kv_client *c, CURL *h, size_t endpoint, const char *path);
/* Authenticates when a user is configured and no token is held. */
int kv_ensure_auth(struct kv_client *c);
/* Forgets the token (after "invalid auth token"). */
void kv_drop_token(struct kv_client *c);
int kv_errno_from_curl(CURLcode rc);
/* Request pieces: "field": base64(value); "key" (and "range_end" when prefix); a whole
 * RangeRequest (o may be NULL). 0 / -ENOMEM, NULL on no memory. */
int kv_req_add_value(json_t *obj, const char *field, const char *value, size_t len);
int kv_req_add_key(json_t *obj, const char *key, size_t key_len, bool prefix);
json_t *kv_req_range(const char *key, size_t key_len, const struct kv_range_opts *o);
/* Passes rc through; on -EPROTO (malformed reply) rewrites the error to name what and the
 * endpoint. */
int kv_reply_error(struct kv_client *c, int rc, const char *what);

#endif

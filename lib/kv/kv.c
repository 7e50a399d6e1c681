// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unary calls: one reused curl easy handle, POST of a JSON body to /v3/<service>/<method>,
 * reply decoded by jansson. Fail-over and token refresh live in kv_call() so every RPC gets
 * them the same way. Transactions are in kv_txn.c, leases in kv_lease.c, watches in
 * kv_watch.c.
 */
#include "lib/kv/kv.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kv/kv_internal.h"
#include "lib/kv/kv_proto.h"

/* A reply bigger than this is not something the store ever needs in one call. */
#define KV_REPLY_MAX (512u << 20)

static int curl_global_done;

size_t kv_buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct kv_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > KV_REPLY_MAX)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

void kv_buf_free(struct kv_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void kv_set_error(struct kv_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *kv_error(const struct kv_client *c)
{
	return c ? c->err : "no client";
}

const char *kv_endpoint(const struct kv_client *c)
{
	return c->endpoints[c->cur];
}

int kv_errno_from_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return -EACCES;
	default:
		return -ECONNRESET;
	}
}

static char *dup_opt(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static int rebuild_headers(struct kv_client *c)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

	if (!h)
		return -ENOMEM;
	if (c->auth_header) {
		struct curl_slist *h2 = curl_slist_append(h, c->auth_header);
		if (!h2) {
			curl_slist_free_all(h);
			return -ENOMEM;
		}
		h = h2;
	}
	curl_slist_free_all(c->headers);
	c->headers = h;
	return 0;
}

int kv_open(struct kv_client **out, const struct kv_options *opts)
{
	struct kv_client *c;
	char *list, *tok, *save = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (!opts->endpoints || !*opts->endpoints)
		return -EINVAL;
	if (!curl_global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -ENOMEM;
		curl_global_done = 1;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	list = strdup(opts->endpoints);
	if (!list)
		goto fail;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char **e;
		size_t len;

		while (*tok == ' ')
			tok++;
		len = strlen(tok);
		while (len && (tok[len - 1] == '/' || tok[len - 1] == ' '))
			tok[--len] = '\0';
		if (!len)
			continue;
		e = realloc(c->endpoints, (c->n_endpoints + 1) * sizeof(*e));
		if (!e)
			goto fail_list;
		c->endpoints = e;
		/* A bare host:port means plain HTTP, as etcdctl assumes. */
		if (!strstr(tok, "://")) {
			if (asprintf(&c->endpoints[c->n_endpoints], "http://%s", tok) < 0)
				goto fail_list;
		} else if (!(c->endpoints[c->n_endpoints] = strdup(tok))) {
			goto fail_list;
		}
		c->n_endpoints++;
	}
	free(list);
	list = NULL;
	if (!c->n_endpoints) {
		rc = -EINVAL;
		goto fail;
	}
	c->ca_file = dup_opt(opts->ca_file);
	c->cert_file = dup_opt(opts->cert_file);
	c->key_file = dup_opt(opts->key_file);
	c->user = dup_opt(opts->user);
	c->password = opts->password ? strdup(opts->password) : strdup("");
	c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 5000;
	c->easy = curl_easy_init();
	if (!c->easy || !c->password || rebuild_headers(c) < 0)
		goto fail;
	*out = c;
	return 0;
fail_list:
	free(list);
fail:
	kv_close(c);
	return rc;
}

void kv_close(struct kv_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_endpoints; i++)
		free(c->endpoints[i]);
	free(c->endpoints);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->user);
	if (c->password)
		sodium_memzero(c->password, strlen(c->password));
	free(c->password);
	free(c->token);
	free(c->auth_header);
	curl_slist_free_all(c->headers);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	free(c);
}

int kv_setup_handle(struct kv_client *c, CURL *h, size_t endpoint, const char *path)
{
	char url[1024];

	if (snprintf(url, sizeof(url), "%s%s", c->endpoints[endpoint], path) >= (int)sizeof(url))
		return -ENAMETOOLONG;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(c->timeout_ms < 2000 ? c->timeout_ms : 2000));
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
	return 0;
}

/* One POST to one endpoint. *http is the status; *reply the decoded body (any status). */
static int post_once(struct kv_client *c, size_t endpoint, const char *path, const char *body,
		     long *http, json_t **reply)
{
	struct kv_buf buf = {0};
	json_error_t jerr;
	CURLcode crc;
	int rc;

	*reply = NULL;
	curl_easy_reset(c->easy);
	rc = kv_setup_handle(c, c->easy, endpoint, path);
	if (rc < 0)
		return rc;
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, kv_buf_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &buf);
	crc = curl_easy_perform(c->easy);
	if (crc != CURLE_OK) {
		kv_set_error(c, "%s%s: %s", c->endpoints[endpoint], path, curl_easy_strerror(crc));
		kv_buf_free(&buf);
		return kv_errno_from_curl(crc);
	}
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, http);
	*reply = json_loadb(buf.p ? buf.p : "", buf.len, 0, &jerr);
	if (!*reply || !json_is_object(*reply)) {
		kv_set_error(c, "%s%s: HTTP %ld, reply is not a JSON object (%s)",
			     c->endpoints[endpoint], path, *http,
			     *reply ? "not an object" : jerr.text);
		json_decref(*reply);
		*reply = NULL;
		kv_buf_free(&buf);
		/* A proxy or a non-etcd server: try the next endpoint. */
		return *http >= 500 ? -EAGAIN : -EPROTO;
	}
	kv_buf_free(&buf);
	return 0;
}

/* Tries each endpoint at most once, starting at the current one. */
static int post_failover(struct kv_client *c, const char *path, const char *body, json_t **reply)
{
	int rc = -ECONNREFUSED;

	for (size_t tries = 0; tries < c->n_endpoints; tries++) {
		long http = 0;
		json_t *r = NULL;

		rc = post_once(c, c->cur, path, body, &http, &r);
		if (rc == 0 && http == 200) {
			*reply = r;
			return 0;
		}
		if (rc == 0) {
			char msg[400];

			rc = kv_parse_error(r, msg, sizeof(msg));
			if (!rc)
				rc = -EPROTO;
			kv_set_error(c, "%s", msg);
			json_decref(r);
			/* "no leader", "too many requests", "stopped": ask another member. */
			if (rc != -EAGAIN && http != 503)
				return rc;
		} else if (rc == -ENOMEM || rc == -ENAMETOOLONG || rc == -EPROTO) {
			return rc;
		}
		c->cur = (c->cur + 1) % c->n_endpoints;
	}
	return rc;
}

void kv_drop_token(struct kv_client *c)
{
	free(c->token);
	free(c->auth_header);
	c->token = NULL;
	c->auth_header = NULL;
	rebuild_headers(c);
}

int kv_ensure_auth(struct kv_client *c)
{
	json_t *body, *reply = NULL;
	const char *tok;
	char *text;
	int rc;

	if (!c->user || c->token)
		return 0;
	body = json_pack("{s:s, s:s}", "name", c->user, "password", c->password);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return -ENOMEM;
	/* Without a token header: the headers carry none while c->token is NULL. */
	rc = post_failover(c, "/v3/auth/authenticate", text, &reply);
	free(text);
	if (rc < 0) {
		char msg[sizeof(c->err)];

		snprintf(msg, sizeof(msg), "%s", c->err);
		kv_set_error(c, "authentication as '%s' failed: %s", c->user, msg);
		return rc;
	}
	tok = json_string_value(json_object_get(reply, "token"));
	if (!tok || !*tok) {
		json_decref(reply);
		kv_set_error(c, "authentication as '%s': reply has no token", c->user);
		return -EPROTO;
	}
	c->token = strdup(tok);
	json_decref(reply);
	if (!c->token || asprintf(&c->auth_header, "Authorization: %s", c->token) < 0) {
		c->auth_header = NULL;
		kv_drop_token(c);
		return -ENOMEM;
	}
	return rebuild_headers(c);
}

int kv_call(struct kv_client *c, const char *path, json_t *body, json_t **reply)
{
	char *text = json_dumps(body, JSON_COMPACT);
	int rc;

	*reply = NULL;
	if (!text)
		return -ENOMEM;
	for (int attempt = 0; attempt < 4; attempt++) {
		rc = kv_ensure_auth(c);
		if (rc < 0)
			break;
		rc = post_failover(c, path, text, reply);
		/* Simple tokens expire (5 min by default): re-authenticate and retry once. */
		if (rc == -EACCES && c->user && attempt == 0 &&
		    strstr(c->err, "invalid auth token")) {
			kv_drop_token(c);
			continue;
		}
		/* Users or roles changed while etcd checked the request: it refused it before
		 * applying it. Retry; the last time with a fresh token (JWT tokens carry the
		 * auth revision they were issued at). */
		if (rc < 0 && c->user && attempt < 3 &&
		    strstr(c->err, "revision of auth store is old")) {
			if (attempt == 2)
				kv_drop_token(c);
			continue;
		}
		break;
	}
	free(text);
	return rc;
}

int kv_req_add_value(json_t *obj, const char *field, const char *value, size_t len)
{
	char *b64 = kv_b64_encode(value, len);
	int rc = b64 && json_object_set_new(obj, field, json_string(b64)) == 0 ? 0 : -ENOMEM;

	free(b64);
	return rc;
}

/* Adds "key" (and "range_end" for a prefix) as base64 to obj. */
int kv_req_add_key(json_t *obj, const char *key, size_t key_len, bool prefix)
{
	size_t end_len;
	char *end;
	int rc;

	if (kv_req_add_value(obj, "key", key, key_len) < 0)
		return -ENOMEM;
	if (!prefix)
		return 0;
	end = malloc(key_len + 1);
	if (!end)
		return -ENOMEM;
	kv_prefix_end(key, key_len, end, &end_len); /* "" (everything) included */
	rc = kv_req_add_value(obj, "range_end", end, end_len);
	free(end);
	return rc;
}

json_t *kv_req_range(const char *key, size_t key_len, const struct kv_range_opts *o)
{
	json_t *req = json_object();

	if (!req || kv_req_add_key(req, key, key_len, o && o->prefix) < 0)
		goto fail;
	if (o && o->limit)
		json_object_set_new(req, "limit", json_integer(o->limit));
	if (o && o->revision)
		json_object_set_new(req, "revision", json_integer(o->revision));
	if (o && o->keys_only)
		json_object_set_new(req, "keys_only", json_true());
	if (o && o->count_only)
		json_object_set_new(req, "count_only", json_true());
	return req;
fail:
	json_decref(req);
	return NULL;
}

int kv_reply_error(struct kv_client *c, int rc, const char *what)
{
	if (rc == -EPROTO) {
		char msg[sizeof(c->err)];

		snprintf(msg, sizeof(msg), "%s", c->err);
		kv_set_error(c, "malformed %s reply from %s: %s", what, kv_endpoint(c), msg);
	}
	return rc;
}

int kv_range(struct kv_client *c, const char *key, size_t key_len, const struct kv_range_opts *o,
	     struct kv_range_result *out)
{
	json_t *req = kv_req_range(key, key_len, o), *reply = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!req)
		return -ENOMEM;
	rc = kv_call(c, "/v3/kv/range", req, &reply);
	json_decref(req);
	if (rc < 0)
		return rc;
	rc = kv_parse_range(reply, out, c->err, sizeof(c->err));
	json_decref(reply);
	return kv_reply_error(c, rc, "range");
}

int kv_range_foreach(struct kv_client *c, const char *prefix, int64_t revision, int64_t page_size,
		     bool keys_only, kv_pair_cb cb, void *arg, int64_t *revision_out)
{
	size_t plen = strlen(prefix);
	char *start = strdup(prefix);
	size_t start_len = plen;
	char end[1024];
	size_t end_len;
	int rc = 0;

	if (!start)
		return -ENOMEM;
	if (plen >= sizeof(end)) {
		free(start);
		return -ENAMETOOLONG;
	}
	kv_prefix_end(prefix, plen, end, &end_len);
	for (;;) {
		struct kv_range_result r;
		json_t *req, *reply = NULL;

		/* [start, end): start moves past the last key of each page. */
		req = json_object();
		if (!req || kv_req_add_value(req, "key", start, start_len) < 0 ||
		    kv_req_add_value(req, "range_end", end, end_len) < 0) {
			json_decref(req);
			rc = -ENOMEM;
			break;
		}
		json_object_set_new(req, "limit", json_integer(page_size > 0 ? page_size : 1000));
		if (revision)
			json_object_set_new(req, "revision", json_integer(revision));
		if (keys_only)
			json_object_set_new(req, "keys_only", json_true());
		rc = kv_call(c, "/v3/kv/range", req, &reply);
		json_decref(req);
		if (rc < 0)
			break;
		rc = kv_parse_range(reply, &r, c->err, sizeof(c->err));
		json_decref(reply);
		if (rc < 0) {
			rc = kv_reply_error(c, rc, "range");
			break;
		}
		if (!revision)
			revision = r.revision; /* every later page at the first page's revision */
		for (size_t i = 0; i < r.n && rc == 0; i++)
			rc = cb(arg, &r.kvs[i]);
		if (rc == 0 && r.more && r.n) {
			struct kv_pair *last = &r.kvs[r.n - 1];
			char *next = malloc(last->key_len + 1);

			if (!next) {
				rc = -ENOMEM;
			} else {
				/* The smallest key after last: last + "\0". */
				memcpy(next, last->key, last->key_len);
				next[last->key_len] = '\0';
				free(start);
				start = next;
				start_len = last->key_len + 1;
			}
		}
		bool more = r.more && r.n;
		kv_range_result_free(&r);
		if (rc || !more)
			break;
	}
	free(start);
	if (revision_out)
		*revision_out = revision;
	return rc;
}

int kv_get(struct kv_client *c, const char *key, char **value, size_t *value_len,
	   int64_t *mod_revision)
{
	struct kv_range_result r;
	int rc = kv_range(c, key, strlen(key), NULL, &r);

	if (rc < 0)
		return rc;
	if (r.n == 0) {
		kv_range_result_free(&r);
		kv_set_error(c, "%s: not found", key);
		return -ENOENT;
	}
	if (mod_revision)
		*mod_revision = r.kvs[0].mod_revision;
	if (value_len)
		*value_len = r.kvs[0].value_len;
	if (value) {
		*value = r.kvs[0].value;
		r.kvs[0].value = NULL;
	}
	kv_range_result_free(&r);
	return 0;
}

int kv_put(struct kv_client *c, const char *key, const char *value, size_t value_len, int64_t lease,
	   int64_t *revision)
{
	json_t *req = json_object(), *reply = NULL;
	int64_t rev = 0;
	int rc = -ENOMEM;

	if (!req || kv_req_add_key(req, key, strlen(key), false) < 0 ||
	    kv_req_add_value(req, "value", value, value_len) < 0)
		goto out;
	if (lease)
		json_object_set_new(req, "lease", json_integer(lease));
	rc = kv_call(c, "/v3/kv/put", req, &reply);
	if (rc < 0)
		goto out;
	if (!kv_json_int64(json_object_get(reply, "header"), "revision", &rev)) {
		kv_set_error(c, "malformed put reply: header.revision");
		rc = -EPROTO;
	}
	if (revision)
		*revision = rev;
out:
	json_decref(req);
	json_decref(reply);
	return rc;
}

int kv_delete(struct kv_client *c, const char *key, bool prefix, int64_t *deleted)
{
	json_t *req = json_object(), *reply = NULL;
	int64_t n = 0;
	int rc = -ENOMEM;

	if (!req || kv_req_add_key(req, key, strlen(key), prefix) < 0)
		goto out;
	rc = kv_call(c, "/v3/kv/deleterange", req, &reply);
	if (rc < 0)
		goto out;
	if (!kv_json_int64(reply, "deleted", &n)) {
		kv_set_error(c, "malformed deleterange reply: deleted");
		rc = -EPROTO;
	}
	if (deleted)
		*deleted = n;
out:
	json_decref(req);
	json_decref(reply);
	return rc;
}

int kv_compact(struct kv_client *c, int64_t revision)
{
	json_t *req = json_pack("{s:I, s:b}", "revision", (json_int_t)revision, "physical", 1);
	json_t *reply = NULL;
	int rc;

	if (!req)
		return -ENOMEM;
	rc = kv_call(c, "/v3/kv/compaction", req, &reply);
	json_decref(req);
	json_decref(reply);
	return rc;
}

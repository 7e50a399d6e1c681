// SPDX-License-Identifier: GPL-2.0-only
/* The enrollment API's HTTPS server: libmicrohttpd glue (enroll/httpd.h). */
#include "enroll/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enroll/proto.h"
#include "lib/body_buf.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/parse_num.h"
#include "store/store.h"

#define RATE_SLOTS 4096

struct rate_slot {
	char addr[INET6_ADDRSTRLEN];
	double tokens;
	double last; /* seconds, monotonic */
};

/* A store connection (kv clients are not thread-safe: one per request in flight). */
struct worker_store {
	struct kv_client *kv;
	struct store store;
	bool busy;
};

struct httpd {
	const struct enroll_httpd_opts *o;
	pthread_mutex_t rate_lock;
	struct rate_slot *slots;
	/* As many connections as worker threads, opened and authenticated at start: a burst
	 * of requests must not become a burst of etcd authentications (bcrypt). */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_free;
	struct worker_store *pool;
	size_t n_pool;
};

/* One request in flight. */
struct req {
	struct body_buf body; /* holds the token's secret: body_buf_free() wipes it */
	double start;
	char peer[INET6_ADDRSTRLEN];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct worker_store *pool_get(struct httpd *h)
{
	struct worker_store *w = NULL;

	pthread_mutex_lock(&h->pool_lock);
	while (!w) {
		for (size_t i = 0; i < h->n_pool && !w; i++)
			if (!h->pool[i].busy)
				w = &h->pool[i];
		if (!w)
			pthread_cond_wait(&h->pool_free, &h->pool_lock);
	}
	w->busy = true;
	pthread_mutex_unlock(&h->pool_lock);
	return w;
}

static void pool_put(struct httpd *h, struct worker_store *w)
{
	pthread_mutex_lock(&h->pool_lock);
	w->busy = false;
	pthread_cond_signal(&h->pool_free);
	pthread_mutex_unlock(&h->pool_lock);
}

static void pool_close(struct httpd *h)
{
	for (size_t i = 0; h->pool && i < h->n_pool; i++)
		kv_close(h->pool[i].kv);
	free(h->pool);
	h->pool = NULL;
}

/* Opens the connections and authenticates each (a read of the config does both). */
static int pool_open(struct httpd *h, char *why, size_t why_len)
{
	h->n_pool = h->o->threads ? h->o->threads : 4;
	h->pool = calloc(h->n_pool, sizeof(*h->pool));
	if (!h->pool)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_pool; i++) {
		struct worker_store *w = &h->pool[i];
		struct store_config cfg;
		int rc = kv_open(&w->kv, &h->o->kv);

		if (rc == 0)
			rc = store_init(&w->store, w->kv, h->o->prefix);
		if (rc == 0)
			rc = store_config_get(&w->store, &cfg);
		if (rc < 0) {
			snprintf(why, why_len, "the cluster store: %s",
				 rc == -ENOENT ? "no cluster config: run 'pseudopodctl init'"
				 : w->kv       ? kv_error(w->kv)
					       : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Token bucket per client address; slots are reused by hash (a flood from many addresses
 * only shares buckets, which errs toward limiting). */
static bool rate_ok(struct httpd *h, const char *peer)
{
	double rate = (h->o->rate_per_min ? h->o->rate_per_min : 60) / 60.0;
	double burst = rate * 60.0, t = now_s();
	struct rate_slot *s;
	uint32_t hash = 2166136261u;
	bool ok;

	for (const char *p = peer; *p; p++)
		hash = (hash ^ (unsigned char)*p) * 16777619u;
	pthread_mutex_lock(&h->rate_lock);
	s = &h->slots[hash % RATE_SLOTS];
	if (strcmp(s->addr, peer)) {
		snprintf(s->addr, sizeof(s->addr), "%s", peer);
		s->tokens = burst;
		s->last = t;
	}
	s->tokens += (t - s->last) * rate;
	if (s->tokens > burst)
		s->tokens = burst;
	s->last = t;
	ok = s->tokens >= 1.0;
	if (ok)
		s->tokens -= 1.0;
	pthread_mutex_unlock(&h->rate_lock);
	return ok;
}

static void peer_of(struct MHD_Connection *c, char out[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, INET6_ADDRSTRLEN, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  INET6_ADDRSTRLEN);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  INET6_ADDRSTRLEN);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, unsigned status, const char *type,
				  const char *body)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void access_log(const struct req *r, const char *method, const char *url, unsigned status,
		       const char *code, const char *detail)
{
	log_info("access peer=%s method=%s path=%.64s status=%u outcome=%s %s ms=%.1f", r->peer,
		 method, url, status, code, detail ? detail : "", (now_s() - r->start) * 1e3);
}

static enum MHD_Result error_reply(struct MHD_Connection *c, const struct req *r,
				   const char *method, const char *url, unsigned status,
				   const char *code, const char *msg)
{
	char *body = enroll_error_encode(code, msg);
	enum MHD_Result rc = send_reply(c, status, "application/json", body ? body : "{}");

	access_log(r, method, url, status, code, NULL);
	free(body);
	return rc;
}

static enum MHD_Result dispatch_post(struct httpd *h, struct MHD_Connection *c, struct req *r,
				     const char *url)
{
	struct enroll_reply rep = {0};
	struct worker_store *w;
	enum MHD_Result rc;

	if (r->body.too_large)
		return error_reply(c, r, "POST", url, 413, "too_large",
				   "request body larger than 16384 bytes");
	w = pool_get(h);
	if (!strcmp(url, "/v1/enroll"))
		enroll_handle_enroll(&w->store, &h->o->cfg, r->body.data ? r->body.data : "",
				     r->body.len, &rep);
	else
		enroll_handle_leave(&w->store, &h->o->cfg, r->body.data ? r->body.data : "",
				    r->body.len, &rep);
	pool_put(h, w);
	rc = send_reply(c, rep.status ? rep.status : 500, "application/json",
			rep.body ? rep.body : "{\"error\":\"internal\"}");
	access_log(r, "POST", url, rep.status, rep.code, rep.detail);
	if (rep.body)
		sodium_memzero(rep.body, strlen(rep.body)); /* it may hold a password */
	enroll_reply_free(&rep);
	return rc;
}

static bool is_post_route(const char *url)
{
	return !strcmp(url, "/v1/enroll") || !strcmp(url, "/v1/leave");
}

/* The first call for a request: rate limit, size check from Content-Length. Returns true
 * when the request may go on (reading its body); otherwise *rc is the reply's result. */
static bool admit(struct httpd *h, struct MHD_Connection *c, struct req *r, const char *method,
		  const char *url, enum MHD_Result *rc)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	uint64_t len = 0;

	if (strcmp(url, "/healthz") && !rate_ok(h, r->peer)) {
		*rc = error_reply(c, r, method, url, 429, "rate_limited",
				  "too many requests from this address; wait a minute");
		return false;
	}
	if (!strcmp(method, "POST") && is_post_route(url) && cl &&
	    !parse_u64(cl, 0, UINT64_MAX, &len, NULL, 0)) {
		*rc = error_reply(c, r, method, url, 400, "invalid_request",
				  "Content-Length: expected a decimal number");
		return false;
	}
	if (len > ENROLL_BODY_MAX) {
		*rc = error_reply(c, r, method, url, 413, "too_large",
				  "request body larger than 16384 bytes");
		return false;
	}
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	struct req *r = *con_cls;
	enum MHD_Result rc = MHD_NO;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->start = now_s();
		peer_of(c, r->peer);
		*con_cls = r;
		if (!admit(h, c, r, method, url, &rc))
			return rc;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		/* Past ENROLL_BODY_MAX: keep draining, answer 413 at the end. */
		if (body_buf_append(&r->body, upload_data, n, ENROLL_BODY_MAX) < 0)
			return MHD_NO;
		return MHD_YES;
	}
	if (!strcmp(method, "GET") && !strcmp(url, "/healthz")) {
		rc = send_reply(c, 200, "text/plain", "ok\n");
		access_log(r, method, url, 200, "ok", NULL);
	} else if (!strcmp(method, "GET") && !strcmp(url, "/v1/ca")) {
		rc = send_reply(c, 200, "application/x-pem-file", h->o->ca_pem);
		access_log(r, method, url, 200, "ok", NULL);
	} else if (is_post_route(url)) {
		rc = strcmp(method, "POST")
			 ? error_reply(c, r, method, url, 405, "method_not_allowed", "use POST")
			 : dispatch_post(h, c, r, url);
	} else {
		rc = error_reply(c, r, method, url, 404, "not_found",
				 "no such path: the API has POST /v1/enroll, POST /v1/leave, "
				 "GET /v1/ca and GET /healthz");
	}
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	if (r) {
		body_buf_free(&r->body);
		free(r);
	}
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("httpd: %s", msg);
}

static struct MHD_Daemon *start(struct httpd *h, const struct sockaddr *sa)
{
	const struct enroll_httpd_opts *o = h->o;

	return MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG | MHD_USE_POLL |
		(sa->sa_family == AF_INET6 ? MHD_USE_DUAL_STACK : 0),
	    o->port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_HTTPS_MEM_CERT,
	    o->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, o->key_pem, MHD_OPTION_HTTPS_PRIORITIES,
	    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)(o->threads ? o->threads : 4), MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)(o->timeout_s ? o->timeout_s : 10), MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)256, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_END);
}

/* address: an IP (lib/net.h), or NULL/"" for all addresses (IPv6 any, dual stack). */
static bool make_addr(const char *address, uint16_t port, struct sockaddr_storage *ss, char *why,
		      size_t why_len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct net_prefix ip;

	memset(ss, 0, sizeof(*ss));
	if (!address || !*address) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_any;
		return true;
	}
	if (!net_ip_parse(address, AF_UNSPEC, &ip, why, why_len))
		return false;
	if (ip.family == AF_INET) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, ip.addr, 4);
	} else {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, ip.addr, 16);
	}
	return true;
}

int enroll_httpd_run(const struct enroll_httpd_opts *o, volatile sig_atomic_t *stop, char *why,
		     size_t why_len)
{
	struct httpd h = {.o = o};
	struct sockaddr_storage ss;
	char err[160];
	struct MHD_Daemon *d;
	int rc;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(why, why_len, "this libmicrohttpd was built without TLS");
		return -ENOTSUP;
	}
	if (!make_addr(o->address, o->port, &ss, err, sizeof(err))) {
		snprintf(why, why_len, "--listen %s", err);
		return -EINVAL;
	}
	h.slots = calloc(RATE_SLOTS, sizeof(*h.slots));
	if (!h.slots) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	rc = pool_open(&h, why, why_len);
	if (rc < 0) {
		pool_close(&h);
		free(h.slots);
		return rc;
	}
	pthread_mutex_init(&h.rate_lock, NULL);
	pthread_mutex_init(&h.pool_lock, NULL);
	pthread_cond_init(&h.pool_free, NULL);
	d = start(&h, (const struct sockaddr *)&ss);
	if (!d) {
		snprintf(why, why_len,
			 "cannot listen on port %u (in use? certificate and key not matching?)",
			 o->port);
	} else {
		log_info("serving the enrollment API on https://%s:%u",
			 o->address && *o->address ? o->address : "[::]", o->port);
		while (!*stop)
			usleep(100 * 1000);
		log_info("stopping: finishing the requests in flight");
		/* MHD_stop_daemon joins the workers after their current request. */
		MHD_stop_daemon(d);
	}
	pthread_mutex_destroy(&h.rate_lock);
	pthread_mutex_destroy(&h.pool_lock);
	pthread_cond_destroy(&h.pool_free);
	pool_close(&h);
	free(h.slots);
	return d ? 0 : -EADDRINUSE;
}

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
#include "lib/log.h"
#include "store/store.h"

#define RATE_SLOTS 4096

struct rate_slot {
	char addr[INET6_ADDRSTRLEN];
	double tokens;
	double last; /* seconds, monotonic */
};

struct httpd {
	const struct enroll_httpd_opts *o;
	pthread_key_t store_key;
	pthread_mutex_t rate_lock;
	struct rate_slot *slots;
};

/* One request in flight. */
struct req {
	char *body;
	size_t len;
	bool too_big;
	double start;
	char peer[INET6_ADDRSTRLEN];
};

/* A worker thread's store connection. */
struct worker_store {
	struct kv_client *kv;
	struct store store;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void worker_store_free(void *p)
{
	struct worker_store *w = p;

	if (w) {
		kv_close(w->kv);
		free(w);
	}
}

static struct store *thread_store(struct httpd *h)
{
	struct worker_store *w = pthread_getspecific(h->store_key);

	if (w)
		return &w->store;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	if (kv_open(&w->kv, &h->o->kv) < 0 || store_init(&w->store, w->kv, h->o->prefix) < 0 ||
	    pthread_setspecific(h->store_key, w) != 0) {
		worker_store_free(w);
		return NULL;
	}
	return &w->store;
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
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void access_log(const struct req *r, const char *method, const char *url,
		       unsigned status, const char *code, const char *detail)
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
	struct store *s;
	enum MHD_Result rc;

	if (r->too_big)
		return error_reply(c, r, "POST", url, 413, "too_large",
				   "request body larger than 16384 bytes");
	s = thread_store(h);
	if (!s)
		return error_reply(c, r, "POST", url, 503, "store_unavailable",
				   "the enrollment server cannot open the cluster store");
	if (!strcmp(url, "/v1/enroll"))
		enroll_handle_enroll(s, &h->o->cfg, r->body ? r->body : "", r->len, &rep);
	else
		enroll_handle_leave(s, &h->o->cfg, r->body ? r->body : "", r->len, &rep);
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

	if (strcmp(url, "/healthz") && !rate_ok(h, r->peer)) {
		*rc = error_reply(c, r, method, url, 429, "rate_limited",
				  "too many requests from this address; wait a minute");
		return false;
	}
	if (!strcmp(method, "POST") && is_post_route(url) && cl &&
	    strtoull(cl, NULL, 10) > ENROLL_BODY_MAX) {
		*rc = error_reply(c, r, method, url, 413, "too_large",
				  "request body larger than 16384 bytes");
		return false;
	}
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
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
		if (r->too_big || r->len + n > ENROLL_BODY_MAX) {
			r->too_big = true; /* keep draining, answer 413 at the end */
			return MHD_YES;
		}
		char *p = realloc(r->body, r->len + n + 1);
		if (!p)
			return MHD_NO;
		memcpy(p + r->len, upload_data, n);
		r->body = p;
		r->len += n;
		r->body[r->len] = '\0';
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
		if (r->body) {
			sodium_memzero(r->body, r->len); /* the token's secret */
			free(r->body);
		}
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
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG |
		MHD_USE_POLL | (sa->sa_family == AF_INET6 ? MHD_USE_DUAL_STACK : 0),
	    o->port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_HTTPS_MEM_CERT, o->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, o->key_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 4),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->timeout_s ? o->timeout_s : 10),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)64, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    h, MHD_OPTION_END);
}

static bool make_addr(const char *address, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!address || !*address) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_any;
		return true;
	}
	if (inet_pton(AF_INET, address, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return true;
	}
	return false;
}

int enroll_httpd_run(const struct enroll_httpd_opts *o, volatile sig_atomic_t *stop, char *why,
		     size_t why_len)
{
	struct httpd h = {.o = o};
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(why, why_len, "this libmicrohttpd was built without TLS");
		return -ENOTSUP;
	}
	if (!make_addr(o->address, o->port, &ss)) {
		snprintf(why, why_len, "--listen %s: not an IP address", o->address);
		return -EINVAL;
	}
	h.slots = calloc(RATE_SLOTS, sizeof(*h.slots));
	if (!h.slots || pthread_key_create(&h.store_key, worker_store_free) != 0) {
		free(h.slots);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&h.rate_lock, NULL);
	d = start(&h, (const struct sockaddr *)&ss);
	if (!d) {
		snprintf(why, why_len,
			 "cannot listen on port %u (in use? certificate and key not matching?)",
			 o->port);
	} else {
		log_info("serving the enrollment API on https://%s:%u", o->address && *o->address
			 ? o->address : "[::]", o->port);
		while (!*stop)
			usleep(100 * 1000);
		log_info("stopping: finishing the requests in flight");
		/* MHD_stop_daemon joins the workers after their current request. */
		MHD_stop_daemon(d);
	}
	pthread_mutex_destroy(&h.rate_lock);
	pthread_key_delete(h.store_key);
	free(h.slots);
	return d ? 0 : -EADDRINUSE;
}

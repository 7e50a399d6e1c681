/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * api: pseudopodd's local HTTP+JSON API on a root-only unix socket (library pp_agent_api),
 * what `pseudopod status|observe|policy` talk to. docs/agent.md lists the endpoints and
 * their JSON.
 *
 * Pieces. A route table (method + exact path -> handler) that the daemon fills; the
 * request's parameters (URL query, or for POST a flat JSON object body, both seen by the
 * handler as the same key/value list); replies are JSON, errors {"error": "..."} with the
 * status: 400 a bad parameter (the message names it), 404 unknown path, 405 known path
 * with another method (Allow header), 413 a body over body_max, 500/503 from handlers.
 * api_v1_register() adds the /v1 endpoints on top of callbacks giving the daemon's state.
 *
 * Socket. api_server_listen() creates the socket with umask 0177 around bind (mode 0600,
 * so only root can connect: the API shows policy and flows), in a parent directory it
 * creates 0700 when missing. A socket file already there is unlinked only when nothing
 * accepts on it (a second daemon gets -EADDRINUSE, never steals a live socket); a path
 * that is not a socket is refused (-EEXIST). api_server_free() unlinks the socket if it
 * is still the one it created.
 *
 * Poll loop (libmicrohttpd with MHD_USE_EPOLL and no thread of its own): MHD keeps all of
 * its sockets in one internal epoll set, so the daemon polls ONE fd per server, whatever
 * the number of clients, and every handler runs on the daemon's thread — no locking of
 * the state the callbacks read. Per iteration:
 *	fds[i] = {.fd = api_server_fd(s), .events = POLLIN};
 *	timeout = min(timeout, api_server_timeout_ms(s));       (-1: none needed)
 *	poll(...);
 *	api_server_run(s);      (when the fd is readable or the timeout passed; cheap if not)
 * Handlers must not block: they read in-memory state and return.
 *
 * Functions return 0 or -errno; parsers return bool and say why.
 */
#ifndef PSEUDOPOD_AGENT_API_H
#define PSEUDOPOD_AGENT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/flows.h"
#include "lib/net.h"

struct policy_entry;

#define API_DEFAULT_SOCKET   "/run/pseudopod/api.sock"
#define API_BODY_MAX_DEFAULT (64u * 1024u)
#define API_PARAMS_MAX	     32u

struct api_server;

struct api_server_opts {
	const char *socket_path;
	size_t body_max;	     /* 0 = API_BODY_MAX_DEFAULT */
	unsigned int conn_timeout_s; /* idle client connections closed after; 0 = 10 */
	unsigned int conn_limit;     /* 0 = 64 */
};

/* What a handler sees. params point into storage valid for the call. */
struct api_request {
	const char *method;
	const char *path;
	const struct flows_param *params; /* the key/value type flows_filter_parse() takes */
	size_t n_params;
};

/*
 * A handler returns the HTTP status and sets *out to the reply (a new reference). For a
 * status >= 400, api_fail() builds the {"error": ...} body.
 */
typedef int (*api_handler)(const struct api_request *req, json_t **out, void *ctx);

int api_server_new(const struct api_server_opts *opts, struct api_server **out);
/* Frees (stopping the listener if any) and unlinks the socket it created. NULL is fine. */
void api_server_free(struct api_server *s);
/* -EEXIST when method+path is already routed, -ENOMEM. Strings are copied. */
int api_route(struct api_server *s, const char *method, const char *path, api_handler h, void *ctx);
/* The server free()s p when it is freed (state a route's ctx points to); on -ENOMEM p is
 * freed at once. */
int api_server_own(struct api_server *s, void *p);
/* Creates the socket and starts the MHD daemon (see above); -EALREADY if listening. */
int api_server_listen(struct api_server *s);
int api_server_fd(const struct api_server *s);
int api_server_timeout_ms(const struct api_server *s);
/* Handles whatever is ready; never blocks. */
int api_server_run(struct api_server *s);

/* The dispatch itself (404/405 included), without HTTP: for tests and the fuzzer. */
int api_dispatch(const struct api_server *s, const struct api_request *req, json_t **out);
/* Sets *out to {"error": message} and returns status. */
int api_fail(json_t **out, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * A POST body as parameters: a flat JSON object whose values are strings, integers or
 * booleans ({"src": "10.0.0.1", "dport": 80}). *doc owns the strings params point to
 * (json_decref it after use). False, with why, for anything else.
 */
bool api_body_params(const char *body, size_t len, json_t **doc, struct flows_param *params,
		     size_t max, size_t *n, char *why, size_t why_len);

/* ---- /v1 ---- */

/* GET /v1/policy/trace?src=IP&dst=IP[&dport=N][&proto=tcp|udp|sctp|icmp|icmpv6|any] */
struct api_trace_query {
	struct net_prefix src; /* addresses (len = full) of the same family */
	struct net_prefix dst;
	uint8_t proto;	/* IPPROTO_*, 0 = any; default tcp */
	uint16_t dport; /* port, or ICMP type; 0 = none given */
	bool has_dport;
};
bool api_trace_parse(const struct flows_param *params, size_t n, struct api_trace_query *out,
		     const char **bad_key, char *why, size_t why_len);

/* GET /v1/policy[?endpoint=N]: one local endpoint's entries (a gateway enforces for many;
 * a workload only for itself); 0 = every local endpoint. */
struct api_policy_query {
	uint32_t endpoint;
};
bool api_policy_parse(const struct flows_param *params, size_t n, struct api_policy_query *out,
		      const char **bad_key, char *why, size_t why_len);

/*
 * GET /v1/identity[?id=N | ?ip=IP]: no parameter = this machine's own identity; id = one
 * identity by number (1..2^32-1); ip = the identity an address maps to (longest prefix
 * in the datapath's ipcache). id and ip exclude each other.
 */
enum api_identity_by { API_IDENTITY_SELF = 0, API_IDENTITY_ID, API_IDENTITY_IP };
struct api_identity_query {
	enum api_identity_by by;
	uint32_t id;
	struct net_prefix ip; /* len = full */
};
bool api_identity_parse(const struct flows_param *params, size_t n, struct api_identity_query *out,
			const char **bad_key, char *why, size_t why_len);

/*
 * The daemon's state, as JSON objects it builds on each call (shapes in docs/agent.md).
 * Return 0 with *out set, -EAGAIN when not ready yet (-> 503, e.g. before the first
 * sync), -EINVAL with err filled for a query the daemon refuses (-> 400), -ENOENT with
 * err filled for an identity or address it does not know (-> 404), other -errno (-> 500).
 * A NULL callback makes its endpoint answer 501.
 */
struct api_v1_ops {
	int (*status)(json_t **out, void *ctx);
	int (*policy_get)(const struct api_policy_query *q, json_t **out, char *err, size_t err_len,
			  void *ctx);
	int (*policy_trace)(const struct api_trace_query *q, json_t **out, char *err,
			    size_t err_len, void *ctx);
	int (*identity_get)(const struct api_identity_query *q, json_t **out, char *err,
			    size_t err_len, void *ctx);
	int (*identity_list)(json_t **out, void *ctx); /* {"identities": [...]} */
	void *ctx;
};

/*
 * Routes GET /v1/status, GET /v1/flows (served from `flows` directly: query parameters of
 * flows_filter_parse(); a follower passes since=<"next" of the previous reply>), GET
 * /v1/policy, GET and POST /v1/policy/trace, GET /v1/identity, GET /v1/identities. ops and
 * flows must outlive the server.
 */
int api_v1_register(struct api_server *s, const struct api_v1_ops *ops, struct flows *flows);

/* One entry of GET /v1/policy's "entries" (helper for the daemon's policy_get):
 * {"direction","verdict":"allow|deny","identity","labels","proto","ports","rule_id",
 *  "policy","rule"}. labels (stolen reference) and policy/rule may be NULL. */
json_t *api_policy_entry_json(const struct policy_entry *e, json_t *labels, const char *policy,
			      const char *rule);

#endif

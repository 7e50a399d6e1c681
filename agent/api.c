// SPDX-License-Identifier: GPL-2.0-only
/*
 * api: the unix-socket HTTP server and its route table (contract in api.h). HTTP itself is
 * libmicrohttpd's; this file owns the socket's life, the request body limit, the mapping
 * of query/body parameters and the JSON replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "agent/api.h"
#include "lib/body_buf.h"
#include "lib/log.h"
#include "lib/parse_num.h"

struct api_route {
	char *method;
	char *path;
	api_handler handler;
	void *ctx;
};

struct api_server {
	struct api_server_opts opts;
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct api_route *routes;
	size_t n_routes;
	struct MHD_Daemon *mhd;
	dev_t sock_dev; /* identity of the socket file we created, for the unlink at exit */
	ino_t sock_ino;
	bool created;
	void **owned; /* api_server_own() */
	size_t n_owned;
};

/* Per-request state across MHD's calls of the access handler. */
struct api_conn {
	struct body_buf body;
	struct flows_param params[API_PARAMS_MAX];
	size_t n_params;
	bool too_many;
};

int api_server_new(const struct api_server_opts *opts, struct api_server **out)
{
	struct api_server *s;

	if (!opts->socket_path || strlen(opts->socket_path) >= sizeof(s->socket_path))
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *opts;
	snprintf(s->socket_path, sizeof(s->socket_path), "%s", opts->socket_path);
	s->opts.socket_path = s->socket_path;
	if (!s->opts.body_max)
		s->opts.body_max = API_BODY_MAX_DEFAULT;
	if (!s->opts.conn_timeout_s)
		s->opts.conn_timeout_s = 10;
	if (!s->opts.conn_limit)
		s->opts.conn_limit = 64;
	*out = s;
	return 0;
}

/* Unlinks the socket only if the file is still the one we bound (a second daemon that
 * replaced it after a stale-socket check keeps its own). */
static void unlink_ours(struct api_server *s)
{
	struct stat st;

	if (s->created && !lstat(s->socket_path, &st) && st.st_dev == s->sock_dev &&
	    st.st_ino == s->sock_ino)
		unlink(s->socket_path);
	s->created = false;
}

void api_server_free(struct api_server *s)
{
	if (!s)
		return;
	if (s->mhd)
		MHD_stop_daemon(s->mhd); /* closes the listen socket it was given */
	unlink_ours(s);
	for (size_t i = 0; i < s->n_routes; i++) {
		free(s->routes[i].method);
		free(s->routes[i].path);
	}
	free(s->routes);
	for (size_t i = 0; i < s->n_owned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s);
}

int api_server_own(struct api_server *s, void *p)
{
	void **o = realloc(s->owned, (s->n_owned + 1) * sizeof(*o));

	if (!o) {
		free(p);
		return -ENOMEM;
	}
	s->owned = o;
	s->owned[s->n_owned++] = p;
	return 0;
}

int api_route(struct api_server *s, const char *method, const char *path, api_handler h, void *ctx)
{
	struct api_route *r;

	for (size_t i = 0; i < s->n_routes; i++)
		if (!strcmp(s->routes[i].method, method) && !strcmp(s->routes[i].path, path))
			return -EEXIST;
	r = realloc(s->routes, (s->n_routes + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->routes = r;
	r = &s->routes[s->n_routes];
	r->method = strdup(method);
	r->path = strdup(path);
	r->handler = h;
	r->ctx = ctx;
	if (!r->method || !r->path) {
		free(r->method);
		free(r->path);
		return -ENOMEM;
	}
	s->n_routes++;
	return 0;
}

int api_fail(json_t **out, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*out = json_pack("{s:s}", "error", msg);
	return status;
}

/* Comma-separated methods routed for path into buf; false if the path is unknown. */
static bool allowed_methods(const struct api_server *s, const char *path, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n_routes; i++) {
		if (strcmp(s->routes[i].path, path) || off >= len)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
					s->routes[i].method);
	}
	return off > 0;
}

int api_dispatch(const struct api_server *s, const struct api_request *req, json_t **out)
{
	char allow[128];
	int status;

	*out = NULL;
	for (size_t i = 0; i < s->n_routes; i++) {
		const struct api_route *r = &s->routes[i];

		if (strcmp(r->method, req->method) || strcmp(r->path, req->path))
			continue;
		status = r->handler(req, out, r->ctx);
		if (!*out)
			return api_fail(out, 500, "%s %s: the handler gave no reply", req->method,
					req->path);
		return status;
	}
	if (allowed_methods(s, req->path, allow, sizeof(allow)))
		return api_fail(out, 405, "%s not allowed on %s (allowed: %s)", req->method,
				req->path, allow);
	return api_fail(out, 404, "no such endpoint: %s", req->path);
}

/* ---- body parameters ---- */

/* Integers and booleans become strings, so that handlers parse one kind of value. */
static bool stringify(json_t *obj, const char *key, json_t *v, char *why, size_t why_len)
{
	char num[32];

	if (json_is_string(v))
		return true;
	if (json_is_integer(v))
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : "false");
	else
		return snprintf(why, why_len, "'%s': expected a string or an integer", key), false;
	if (json_object_set_new(obj, key, json_string(num)))
		return snprintf(why, why_len, "out of memory"), false;
	return true;
}

bool api_body_params(const char *body, size_t len, json_t **doc, struct flows_param *params,
		     size_t max, size_t *n, char *why, size_t why_len)
{
	json_error_t jerr;
	const char *key;
	void *tmp;
	json_t *v, *o;

	*doc = NULL;
	*n = 0;
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return snprintf(why, why_len, "body: not JSON: %s (column %d)", jerr.text,
				jerr.column),
		       false;
	if (!json_is_object(o)) {
		json_decref(o);
		return snprintf(why, why_len, "body: expected a JSON object of parameters"), false;
	}
	if (json_object_size(o) > max) {
		json_decref(o);
		return snprintf(why, why_len, "body: more than %zu parameters", max), false;
	}
	json_object_foreach_safe(o, tmp, key, v)
	{
		if (!stringify(o, key, v, why, why_len)) {
			json_decref(o);
			return false;
		}
	}
	json_object_foreach(o, key, v)
	{
		params[*n].key = key;
		params[*n].value = json_string_value(v);
		(*n)++;
	}
	*doc = o;
	return true;
}

/* ---- HTTP (libmicrohttpd) ---- */

/* The reply text: compact JSON and a newline (readable from `curl --unix-socket`). */
static char *reply_text(json_t *body, size_t *len)
{
	char *json = body ? json_dumps(body, JSON_COMPACT) : NULL, *text;

	if (!json)
		return NULL;
	*len = strlen(json);
	text = malloc(*len + 2);
	if (text) {
		memcpy(text, json, *len);
		text[(*len)++] = '\n';
		text[*len] = '\0';
	}
	free(json);
	return text;
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, json_t *body,
				 const struct api_server *s, const char *path)
{
	static const char oom[] = "{\"error\":\"out of memory\"}\n";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char allow[128], *text;
	size_t len = 0;

	text = reply_text(body, &len);
	if (text) {
		resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	} else {
		status = 500;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
	}
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (status == 405 && allowed_methods(s, path, allow, sizeof(allow)))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, const struct api_server *s,
				  const char *path, int status, const char *msg)
{
	json_t *body = NULL;
	enum MHD_Result ret;

	api_fail(&body, status, "%s", msg);
	ret = send_json(c, status, body, s, path);
	json_decref(body);
	return ret;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct api_conn *st = cls;

	if (st->n_params == API_PARAMS_MAX) {
		st->too_many = true;
		return MHD_NO;
	}
	st->params[st->n_params].key = key;
	st->params[st->n_params].value = value;
	st->n_params++;
	return MHD_YES;
}

/* Appends to the body up to body_max; the rest is read and thrown away (413 at the end). */
/* Out of memory is answered like an oversized body: 413, the request refused either way. */
static void take_body(struct api_server *s, struct api_conn *st, const char *data, size_t len)
{
	if (body_buf_append(&st->body, data, len, s->opts.body_max) < 0)
		st->body.too_large = true;
}

/* Refuses a declared Content-Length over the limit before reading any of it. */
static bool declared_too_large(struct api_server *s, struct MHD_Connection *c)
{
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t n;

	/* A malformed length counts as too large: the body is refused either way. */
	return cl && (!parse_u64(cl, 0, UINT64_MAX, &n, NULL, 0) || n > s->opts.body_max);
}

static enum MHD_Result answer(struct api_server *s, struct MHD_Connection *c, const char *url,
			      const char *method, struct api_conn *st)
{
	struct api_request req = {.method = method, .path = url};
	struct flows_param all[API_PARAMS_MAX];
	json_t *doc = NULL, *out = NULL;
	enum MHD_Result ret;
	char why[256];
	size_t n = 0;
	int status;

	if (st->body.too_large) {
		snprintf(why, sizeof(why), "request body over %zu bytes", s->opts.body_max);
		return send_error(c, s, url, 413, why);
	}
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, st);
	if (st->too_many) {
		snprintf(why, sizeof(why), "more than %u query parameters", API_PARAMS_MAX);
		return send_error(c, s, url, 400, why);
	}
	if (!strcmp(method, "POST") && st->body.len) {
		if (!api_body_params(st->body.data, st->body.len, &doc, all,
				     API_PARAMS_MAX - st->n_params, &n, why, sizeof(why)))
			return send_error(c, s, url, 400, why);
	}
	memcpy(all + n, st->params, st->n_params * sizeof(all[0]));
	req.params = all;
	req.n_params = n + st->n_params;
	status = api_dispatch(s, &req, &out);
	ret = send_json(c, status, out, s, url);
	json_decref(out);
	json_decref(doc);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	struct api_server *s = cls;
	struct api_conn *st = *con_cls;

	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		*con_cls = st;
		if (declared_too_large(s, c)) {
			st->body.too_large = true;
			return answer(s, c, url, method, st);
		}
		return MHD_YES;
	}
	if (*upload_len) {
		take_body(s, st, upload, *upload_len);
		*upload_len = 0;
		return MHD_YES;
	}
	return answer(s, c, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_conn *st = *con_cls;

	if (st) {
		body_buf_free(&st->body);
		free(st);
		*con_cls = NULL;
	}
}

/* MHD's format strings are its own literals: the attribute tells the compiler so (clang's
 * -Wformat-nonliteral fails the libFuzzer build without it). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("api: %s", msg);
}

/* ---- the socket ---- */

static int sockaddr_for(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* Is something accepting on this path? 0 = no (stale), -EADDRINUSE = yes, -EEXIST = the
 * path is not a socket, -ENOENT = nothing there. */
static int probe_existing(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err;

	if (lstat(path, &st))
		return -errno == -ENOENT ? -ENOENT : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
	close(fd);
	if (!err)
		return -EADDRINUSE;
	return err == -ECONNREFUSED ? 0 : err;
}

/* The parent directory: created 0700 when missing (one level; /run exists). */
static int ensure_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int bind_socket(struct api_server *s)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, err;

	err = sockaddr_for(s->socket_path, &sa);
	if (!err)
		err = ensure_parent(s->socket_path);
	if (err)
		return err;
	err = probe_existing(s->socket_path, &sa);
	if (err == 0 && unlink(s->socket_path))
		return -errno;
	if (err && err != -ENOENT)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177); /* the socket is born 0600: no window where others may connect */
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!err && lstat(s->socket_path, &st))
		err = -errno;
	if (!err) {
		s->created = true;
		s->sock_dev = st.st_dev;
		s->sock_ino = st.st_ino;
		err = listen(fd, 16) ? -errno : 0;
	}
	if (err) {
		close(fd);
		unlink_ours(s);
		return err;
	}
	return fd;
}

int api_server_listen(struct api_server *s)
{
	int fd;

	if (s->mhd)
		return -EALREADY;
	fd = bind_socket(s);
	if (fd < 0)
		return fd;
	s->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, s->opts.conn_timeout_s,
	    MHD_OPTION_CONNECTION_LIMIT, s->opts.conn_limit, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
	if (!s->mhd) {
		close(fd);
		unlink_ours(s);
		return -EIO;
	}
	return 0;
}

int api_server_fd(const struct api_server *s)
{
	const union MHD_DaemonInfo *info;

	if (!s->mhd)
		return -1;
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

int api_server_timeout_ms(const struct api_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (!s->mhd || MHD_get_timeout(s->mhd, &ms) != MHD_YES)
		return -1;
	return ms > 60000 ? 60000 : (int)ms;
}

int api_server_run(struct api_server *s)
{
	if (!s->mhd)
		return -EINVAL;
	return MHD_run(s->mhd) == MHD_YES ? 0 : -EIO;
}

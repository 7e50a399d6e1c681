// SPDX-License-Identifier: GPL-2.0-only
/*
 * Watch streams. The gateway's /v3/watch is a long POST whose reply is a stream of
 * newline-delimited JSON messages; curl multi drives it so the caller's loop stays in
 * charge (kv_watch_poll() is one step). Listings (initial and after compaction) reuse the
 * client's unary range calls: they block that one step, which is what a resync means anyway.
 *
 * The multi handle runs on libcurl's socket API: curl tells us which sockets it wants
 * watched (CURLMOPT_SOCKETFUNCTION) and when it next needs a call (CURLMOPT_TIMERFUNCTION).
 * The sockets go into an epoll set of our own whose fd is the watch's one pollable fd
 * (kv_watch_fd()): the caller waits on it in its own poll() without knowing how many
 * sockets a stream uses or when curl swaps them (a reconnect). The step then asks epoll,
 * without waiting, which of them are ready and hands exactly those to
 * curl_multi_socket_action(): an idle stream costs no wake-up at all.
 *
 * The only state that matters for correctness is next_rev: every event below it has been
 * delivered. A reconnect asks etcd for next_rev onwards, so a dropped stream neither loses
 * nor repeats events; a compacted next_rev turns into reset + listing.
 */
#include "lib/kv/kv.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "lib/kv/kv_internal.h"
#include "lib/kv/kv_proto.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define LINE_MAX_BYTES (256u << 20)

struct kv_watch {
	struct kv_client *c;
	char *prefix;
	struct kv_watch_opts opts;
	struct kv_watch_ops ops;
	void *arg;

	CURLM *multi;
	int epfd;	   /* epoll set of the sockets curl wants watched */
	uint64_t curl_due; /* monotonic ms curl wants a timeout call at; 0 = none */
	CURL *easy;	   /* non-NULL while a stream is open */
	char *body;
	struct kv_buf in; /* bytes received, not yet a complete line */

	int64_t next_rev; /* 0 = "from now" (before the first stream was created) */
	bool need_list;
	bool stream_ok;	   /* the current stream said "created" */
	uint64_t retry_at; /* monotonic ms; 0 = now */
	unsigned backoff;
	unsigned reconnects, resyncs;
	unsigned long messages; /* stream messages handled (a step that got some returns) */
	int fatal;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t kv_watch_revision(const struct kv_watch *w)
{
	return w->next_rev ? w->next_rev - 1 : 0;
}

unsigned kv_watch_reconnects(const struct kv_watch *w)
{
	return w->reconnects;
}

unsigned kv_watch_resyncs(const struct kv_watch *w)
{
	return w->resyncs;
}

static void stream_stop(struct kv_watch *w)
{
	if (w->easy) {
		curl_multi_remove_handle(w->multi, w->easy);
		curl_easy_cleanup(w->easy);
		w->easy = NULL;
	}
	free(w->body);
	w->body = NULL;
	kv_buf_free(&w->in);
	w->stream_ok = false;
}

/* The stream broke: try the next member after a back-off (doubling, capped). */
static void schedule_reconnect(struct kv_watch *w, const char *why)
{
	struct kv_client *c = w->c;

	stream_stop(w);
	kv_set_error(c, "watch %s: %s", w->prefix, why);
	if (c->n_endpoints > 1)
		c->cur = (c->cur + 1) % c->n_endpoints;
	w->backoff = w->backoff ? w->backoff * 2 : BACKOFF_MIN_MS;
	if (w->backoff > BACKOFF_MAX_MS)
		w->backoff = BACKOFF_MAX_MS;
	w->retry_at = now_ms() + w->backoff;
	w->reconnects++;
}

static int list_one(void *arg, const struct kv_pair *kv)
{
	struct kv_watch *w = arg;

	w->ops.event(w->arg, KV_EVENT_PUT, kv);
	return 0;
}

static int do_list(struct kv_watch *w)
{
	int64_t rev = 0;
	int rc;

	if (w->ops.reset)
		w->ops.reset(w->arg);
	rc = kv_range_foreach(w->c, w->prefix, 0, w->opts.page_size, false, list_one, w, &rev);
	if (rc < 0)
		return rc;
	w->next_rev = rev + 1;
	w->need_list = false;
	if (w->ops.synced)
		w->ops.synced(w->arg, rev);
	return 0;
}

static int stream_start(struct kv_watch *w)
{
	struct kv_client *c = w->c;
	size_t plen = strlen(w->prefix);
	char end[1024];
	size_t end_len;
	char *kb, *eb;
	json_t *req;
	int rc;

	rc = kv_ensure_auth(c);
	if (rc < 0)
		return rc;
	if (plen >= sizeof(end))
		return -ENAMETOOLONG;
	kv_prefix_end(w->prefix, plen, end, &end_len);
	kb = kv_b64_encode(w->prefix, plen);
	eb = kv_b64_encode(end, end_len);
	req = json_pack("{s:{s:s?, s:s?, s:I, s:b}}", "create_request", "key", kb, "range_end", eb,
			"start_revision", (json_int_t)w->next_rev, "progress_notify",
			(int)w->opts.progress_notify);
	free(kb);
	free(eb);
	w->body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	w->easy = curl_easy_init();
	if (!w->body || !w->easy) {
		stream_stop(w);
		return -ENOMEM;
	}
	rc = kv_setup_handle(c, w->easy, c->cur, "/v3/watch");
	if (rc < 0) {
		stream_stop(w);
		return rc;
	}
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, w->body);
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, kv_buf_write);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, &w->in);
	/* A member that vanishes without a FIN/RST is noticed by TCP keep-alive. */
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPINTVL, 5L);
	if (curl_multi_add_handle(w->multi, w->easy) != CURLM_OK) {
		stream_stop(w);
		return -ENOMEM;
	}
	return 0;
}

static void deliver(struct kv_watch *w, const struct kv_watch_msg *m)
{
	/* Compared with next_rev as the message found it: the events of one txn share a
	 * revision (and etcd sends them in one message), so each must be delivered. */
	int64_t from = w->next_rev;

	for (size_t i = 0; i < m->n_events; i++) {
		const struct kv_pair *kv = &m->events[i].kv;

		/* After a reconnect etcd replays from next_rev; anything older was delivered. */
		if (kv->mod_revision < from)
			continue;
		w->ops.event(w->arg, m->events[i].type, kv);
		if (kv->mod_revision >= w->next_rev)
			w->next_rev = kv->mod_revision + 1;
	}
}

/* Handles one stream message. Returns false when the stream must be dropped. */
static bool handle_line(struct kv_watch *w, const char *line, size_t len)
{
	struct kv_client *c = w->c;
	struct kv_watch_msg m;
	json_error_t jerr;
	json_t *j, *result;
	char msg[400];
	int rc;

	j = json_loadb(line, len, 0, &jerr);
	if (!j) {
		schedule_reconnect(w, "malformed stream message");
		return false;
	}
	rc = kv_parse_error(j, msg, sizeof(msg));
	if (rc) {
		json_decref(j);
		if (strstr(msg, "invalid auth token")) {
			kv_drop_token(c);
			schedule_reconnect(w, msg);
			w->retry_at = 0; /* re-authenticate right away */
		} else if (rc == -EACCES) {
			stream_stop(w);
			kv_set_error(c, "watch %s: %s", w->prefix, msg);
			w->fatal = -EACCES;
		} else {
			schedule_reconnect(w, msg);
		}
		return false;
	}
	w->messages++;
	result = json_object_get(j, "result");
	rc = kv_parse_watch_msg(result ? result : j, &m, msg, sizeof(msg));
	json_decref(j);
	if (rc < 0) {
		schedule_reconnect(w, msg);
		return false;
	}
	if (m.canceled) {
		if (m.compact_revision > 0) {
			/* History we need is gone: start over from a full listing. */
			stream_stop(w);
			w->need_list = true;
			w->resyncs++;
		} else if (strstr(m.cancel_reason, "invalid auth token")) {
			/* etcd 3.4 refuses an expired token as a canceled watch. */
			kv_drop_token(c);
			schedule_reconnect(w, m.cancel_reason);
			w->retry_at = 0;
		} else if (strstr(m.cancel_reason, "permission denied")) {
			stream_stop(w);
			kv_set_error(c, "watch %s: %s", w->prefix, m.cancel_reason);
			w->fatal = -EACCES;
		} else {
			schedule_reconnect(w, m.cancel_reason[0] ? m.cancel_reason : "canceled");
		}
		kv_watch_msg_free(&m);
		return false;
	}
	if (m.created) {
		w->stream_ok = true;
		w->backoff = 0;
		if (!w->next_rev)
			w->next_rev = m.header_revision + 1;
	}
	if (m.n_events) {
		deliver(w, &m);
	} else if (!m.created && m.header_revision >= w->next_rev) {
		/* Progress notification: nothing at or below header_revision is pending. */
		w->next_rev = m.header_revision + 1;
		if (w->ops.progress)
			w->ops.progress(w->arg, m.header_revision);
	}
	kv_watch_msg_free(&m);
	return true;
}

/* Splits the received bytes into lines and handles each complete one. */
static void drain_lines(struct kv_watch *w, bool eof)
{
	size_t off = 0;

	while (w->easy && off < w->in.len) {
		char *nl = memchr(w->in.p + off, '\n', w->in.len - off);
		size_t len;

		if (!nl && !eof)
			break;
		len = nl ? (size_t)(nl - (w->in.p + off)) : w->in.len - off;
		if (len && !handle_line(w, w->in.p + off, len))
			return; /* the stream (and w->in) is gone */
		off += len + (nl ? 1 : 0);
	}
	if (!w->easy)
		return;
	if (off) {
		memmove(w->in.p, w->in.p + off, w->in.len - off);
		w->in.len -= off;
		w->in.p[w->in.len] = '\0';
	}
	if (w->in.len > LINE_MAX_BYTES)
		schedule_reconnect(w, "stream message too large");
}

/* ---- curl's socket API ---- */

/* curl wants s watched for `what` (or no longer): mirror it in the epoll set. */
static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct kv_watch *w = userp;
	struct epoll_event ev = {.data.fd = s};

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		/* ENOENT/EBADF: already gone (closed sockets leave the set by themselves). */
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev.events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ev) == 0)
		return 0;
	if (errno == ENOENT && epoll_ctl(w->epfd, EPOLL_CTL_ADD, s, &ev) == 0)
		return 0;
	return -1; /* curl fails the transfer: the stream reconnects */
}

/* curl's one timeout: -1 = none, 0 = call it as soon as possible. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct kv_watch *w = userp;

	(void)multi;
	w->curl_due = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
	return 0;
}

/* Hands curl the sockets epoll says are ready, then its timeout if due. */
static void curl_step(struct kv_watch *w)
{
	struct epoll_event evs[8];
	int n, running = 0;

	n = epoll_wait(w->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), 0);
	for (int i = 0; i < n; i++) {
		int mask = 0;

		if (evs[i].events & (EPOLLIN | EPOLLHUP))
			mask |= CURL_CSELECT_IN;
		if (evs[i].events & EPOLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (evs[i].events & EPOLLERR)
			mask |= CURL_CSELECT_ERR;
		curl_multi_socket_action(w->multi, evs[i].data.fd, mask, &running);
	}
	if (w->curl_due && now_ms() >= w->curl_due) {
		w->curl_due = 0;
		curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

int kv_watch_fd(const struct kv_watch *w)
{
	return w->epfd;
}

int kv_watch_timeout_ms(const struct kv_watch *w)
{
	uint64_t now = now_ms(), due;

	if (w->fatal)
		return -1;
	if (!w->easy) /* a listing or a (re)connect is due at retry_at */
		due = w->retry_at;
	else if (w->curl_due)
		due = w->curl_due;
	else
		return -1;
	if (due <= now)
		return 0;
	return due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
}

/* Lists or (re)connects when due. Returns 0, or the fatal -errno. */
static int step_connect(struct kv_watch *w)
{
	uint64_t now = now_ms();
	int rc;

	if (w->need_list && now >= w->retry_at) {
		stream_stop(w);
		rc = do_list(w);
		if (rc == -ENOMEM || (rc == -EACCES && !strstr(w->c->err, "invalid auth token"))) {
			w->fatal = rc;
			return rc;
		}
		if (rc < 0) {
			schedule_reconnect(w, w->c->err);
			return 0;
		}
		now = now_ms();
	}
	if (!w->easy && !w->need_list && now >= w->retry_at) {
		rc = stream_start(w);
		/* A refused password does not get better by retrying. */
		if (rc == -ENOMEM || rc == -EACCES) {
			w->fatal = rc;
			return rc;
		}
		if (rc < 0) {
			char why[sizeof(w->c->err)];

			snprintf(why, sizeof(why), "%s", w->c->err);
			schedule_reconnect(w, why);
		}
	}
	return 0;
}

/* Delivers complete lines; a finished transfer schedules the reconnect. */
static void step_stream(struct kv_watch *w)
{
	CURLMsg *msg;
	int left;

	curl_step(w);
	drain_lines(w, false);
	while (w->easy && (msg = curl_multi_info_read(w->multi, &left))) {
		char why[256];
		long http = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &http);
		/* A final message without a newline (an error body) still counts. */
		drain_lines(w, true);
		if (!w->easy)
			break;
		if (msg->data.result != CURLE_OK)
			snprintf(why, sizeof(why), "%s: %s", kv_endpoint(w->c),
				 curl_easy_strerror(msg->data.result));
		else
			snprintf(why, sizeof(why), "%s: stream ended (HTTP %ld)", kv_endpoint(w->c),
				 http);
		schedule_reconnect(w, why);
		break;
	}
}

static int watch_step(struct kv_watch *w)
{
	int rc;

	if (w->fatal)
		return w->fatal;
	rc = step_connect(w);
	if (rc < 0)
		return rc;
	if (w->easy)
		step_stream(w);
	return w->fatal;
}

int kv_watch_poll(struct kv_watch *w, int timeout_ms)
{
	unsigned long before = w->messages;
	int rc = watch_step(w);

	/* Only wait when this step had nothing to deliver. */
	if (rc < 0 || timeout_ms <= 0 || w->messages != before)
		return rc;
	int wait = kv_watch_timeout_ms(w);
	struct pollfd p = {.fd = w->epfd, .events = POLLIN};

	if (wait < 0 || wait > timeout_ms)
		wait = timeout_ms;
	if (poll(&p, 1, wait) < 0 && errno != EINTR)
		return -errno;
	return watch_step(w);
}

int kv_watch_open(struct kv_client *c, const char *prefix, const struct kv_watch_opts *o,
		  const struct kv_watch_ops *ops, void *arg, struct kv_watch **out)
{
	struct kv_watch *w;

	*out = NULL;
	if (!ops || !ops->event)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->c = c;
	w->prefix = strdup(prefix);
	w->multi = curl_multi_init();
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!w->prefix || !w->multi || w->epfd < 0) {
		int rc = w->epfd < 0 ? -errno : -ENOMEM;

		kv_watch_close(w);
		return rc;
	}
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	if (o)
		w->opts = *o;
	w->ops = *ops;
	w->arg = arg;
	w->need_list = w->opts.list_first;
	w->next_rev = w->opts.list_first ? 0 : w->opts.start_revision;
	if (!w->opts.list_first && !w->next_rev) {
		/* "From now" means from this call, not from whenever the stream gets created:
		 * pin the current revision so a put right after open is never missed. */
		struct kv_range_opts ro = {.count_only = true, .prefix = true};
		struct kv_range_result r;

		if (kv_range(c, prefix, strlen(prefix), &ro, &r) == 0) {
			w->next_rev = r.revision + 1;
			kv_range_result_free(&r);
		}
	}
	*out = w;
	return 0;
}

void kv_watch_close(struct kv_watch *w)
{
	if (!w)
		return;
	stream_stop(w);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->prefix);
	free(w);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Watch streams. The gateway's /v3/watch is a long POST whose reply is a stream of
 * newline-delimited JSON messages; curl multi drives it so the caller's loop stays in
 * charge (kv_watch_poll() is one step). Listings (initial and after compaction) reuse the
 * client's unary range calls: they block that one step, which is what a resync means anyway.
 *
 * The only state that matters for correctness is next_rev: every event below it has been
 * delivered. A reconnect asks etcd for next_rev onwards, so a dropped stream neither loses
 * nor repeats events; a compacted next_rev turns into reset + listing.
 */
#include "lib/kv/kv.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
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
	CURL *easy; /* non-NULL while a stream is open */
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

int kv_watch_poll(struct kv_watch *w, int timeout_ms)
{
	uint64_t now;
	CURLMsg *msg;
	int running = 0, left, rc;

	if (w->fatal)
		return w->fatal;
	now = now_ms();
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
			return 0;
		}
	}
	if (!w->easy) {
		uint64_t wait = w->retry_at > now ? w->retry_at - now : 0;

		if (timeout_ms > 0 && wait > 0)
			usleep((useconds_t)(wait < (uint64_t)timeout_ms ? wait
									: (uint64_t)timeout_ms) *
			       1000);
		return 0;
	}
	unsigned long before = w->messages;

	curl_multi_perform(w->multi, &running);
	drain_lines(w, false);
	/* Only wait when this step had nothing to deliver. */
	if (w->easy && timeout_ms > 0 && w->messages == before) {
		curl_multi_poll(w->multi, NULL, 0, timeout_ms, NULL);
		curl_multi_perform(w->multi, &running);
		drain_lines(w, false);
	}
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
	return w->fatal;
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
	if (!w->prefix || !w->multi) {
		kv_watch_close(w);
		return -ENOMEM;
	}
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
	free(w->prefix);
	free(w);
}

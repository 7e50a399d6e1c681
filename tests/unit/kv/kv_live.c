// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_live: every lib/kv call against a real etcd. Not a unit test (it needs etcd): the e2e
 * scripts tests/e2e/store_*.sh start etcd with the harness and run
 *   kv_live basic     (PP_ETCD=URL)            every client call, watch, compaction resync
 *   kv_live failover  (PP_ETCD=URL,URL,URL, PP_ETCD_PIDS="pid pid pid")
 *                                              watch survives killing its member
 *   kv_live readonly  (PP_ETCD=URL, PP_USER=name, PP_PASSWORD=pw, PP_PREFIX=prefix)
 *                                              reads allowed, writes refused clearly
 *   kv_live tls       (PP_ETCD=https URL, PP_CA, PP_CERT, PP_KEY)
 * Each key is under a per-run prefix so reruns never see old data.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/kv/kv.h"

static char prefix[128];

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		fprintf(stderr, "kv_live: %s is not set\n", name);
		exit(2);
	}
	return v;
}

static struct kv_client *open_client(const char *endpoints)
{
	struct kv_options o = {
	    .endpoints = endpoints,
	    .ca_file = getenv("PP_CA"),
	    .cert_file = getenv("PP_CERT"),
	    .key_file = getenv("PP_KEY"),
	    .user = getenv("PP_USER"),
	    .password = getenv("PP_PASSWORD"),
	    .timeout_ms = 3000,
	};
	struct kv_client *c = NULL;

	assert_int_equal(kv_open(&c, &o), 0);
	return c;
}

static void key_of(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void key_of(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t n = (size_t)snprintf(buf, len, "%s", prefix);

	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static void test_put_get_delete(void **state)
{
	struct kv_client *c = open_client(env("PP_ETCD"));
	char key[256], *val = NULL;
	size_t len = 0;
	int64_t rev = 0, mod = 0, deleted = 0;
	/* Bytes that need escaping in JSON and base64 in etcd: the caller never sees either. */
	static const char bin[] = "quote\" back\\slash nl\n nul\0tail \xff";

	key_of(key, sizeof(key), "basic/a");
	assert_int_equal(kv_put(c, key, bin, sizeof(bin) - 1, 0, &rev), 0);
	assert_true(rev > 0);
	assert_int_equal(kv_get(c, key, &val, &len, &mod), 0);
	assert_int_equal(len, sizeof(bin) - 1);
	assert_memory_equal(val, bin, len);
	assert_int_equal(mod, rev);
	free(val);
	assert_int_equal(kv_delete(c, key, false, &deleted), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(kv_get(c, key, &val, &len, NULL), -ENOENT);
	kv_close(c);
}

static int count_cb(void *arg, const struct kv_pair *kv)
{
	(*(int *)arg)++;
	return 0;
}

static void test_range(void **state)
{
	struct kv_client *c = open_client(env("PP_ETCD"));
	struct kv_range_result r;
	struct kv_range_opts o = {.prefix = true};
	char key[256], pre[256];
	int64_t rev_mid = 0, rev = 0, deleted = 0;
	int n = 0;

	for (int i = 0; i < 25; i++) {
		char v[16];

		key_of(key, sizeof(key), "range/k%02d", i);
		snprintf(v, sizeof(v), "v%d", i);
		assert_int_equal(kv_put(c, key, v, strlen(v), 0, &rev), 0);
		if (i == 9)
			rev_mid = rev;
	}
	key_of(pre, sizeof(pre), "range/");
	assert_int_equal(kv_range(c, pre, strlen(pre), &o, &r), 0);
	assert_int_equal(r.n, 25);
	assert_int_equal(r.count, 25);
	assert_false(r.more);
	assert_string_equal(r.kvs[3].value, "v3");
	kv_range_result_free(&r);

	o.limit = 10;
	assert_int_equal(kv_range(c, pre, strlen(pre), &o, &r), 0);
	assert_int_equal(r.n, 10);
	assert_true(r.more);
	assert_int_equal(r.count, 25);
	kv_range_result_free(&r);

	o.limit = 0;
	o.keys_only = true;
	assert_int_equal(kv_range(c, pre, strlen(pre), &o, &r), 0);
	assert_int_equal(r.n, 25);
	assert_int_equal(r.kvs[0].value_len, 0);
	kv_range_result_free(&r);

	o.keys_only = false;
	o.count_only = true;
	assert_int_equal(kv_range(c, pre, strlen(pre), &o, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.count, 25);
	kv_range_result_free(&r);

	/* At a past revision only the first ten existed. */
	o.count_only = false;
	o.revision = rev_mid;
	assert_int_equal(kv_range(c, pre, strlen(pre), &o, &r), 0);
	assert_int_equal(r.n, 10);
	kv_range_result_free(&r);

	/* Paging walks everything at one revision, in pages of 7. */
	assert_int_equal(kv_range_foreach(c, pre, 0, 7, false, count_cb, &n, &rev), 0);
	assert_int_equal(n, 25);
	n = 0;
	assert_int_equal(kv_range_foreach(c, pre, rev_mid, 4, true, count_cb, &n, NULL), 0);
	assert_int_equal(n, 10);

	assert_int_equal(kv_delete(c, pre, true, &deleted), 0);
	assert_int_equal(deleted, 25);
	kv_close(c);
}

static void test_txn(void **state)
{
	struct kv_client *c = open_client(env("PP_ETCD"));
	struct kv_txn_result res;
	struct kv_txn *t;
	char a[256], b[256];
	int64_t mod = 0;

	key_of(a, sizeof(a), "txn/a");
	key_of(b, sizeof(b), "txn/b");
	/* create-if-absent succeeds once */
	for (int round = 0; round < 2; round++) {
		t = kv_txn_new();
		assert_non_null(t);
		assert_int_equal(kv_txn_cmp(t, a, KV_CMP_VERSION, KV_EQUAL, 0), 0);
		assert_int_equal(kv_txn_put(t, true, a, "1", 1, 0), 0);
		assert_int_equal(kv_txn_put(t, true, b, "2", 1, 0), 0);
		assert_int_equal(kv_txn_get(t, false, a, false), 0);
		assert_int_equal(kv_txn_commit(c, t, &res), 0);
		assert_int_equal(res.succeeded, round == 0);
		if (round == 1) {
			assert_int_equal(res.n, 1);
			assert_int_equal(res.ranges[0].n, 1);
			assert_string_equal(res.ranges[0].kvs[0].value, "1");
			mod = res.ranges[0].kvs[0].mod_revision;
		}
		kv_txn_result_free(&res);
		kv_txn_free(t);
	}
	/* mod_revision and value compares */
	t = kv_txn_new();
	assert_int_equal(kv_txn_cmp(t, a, KV_CMP_MOD, KV_EQUAL, mod), 0);
	assert_int_equal(kv_txn_cmp_value(t, b, KV_EQUAL, "2", 1), 0);
	assert_int_equal(kv_txn_delete(t, true, a, false), 0);
	assert_int_equal(kv_txn_commit(c, t, &res), 0);
	assert_true(res.succeeded);
	kv_txn_result_free(&res);
	kv_txn_free(t);
	t = kv_txn_new();
	assert_int_equal(kv_txn_cmp_value(t, b, KV_NOT_EQUAL, "2", 1), 0);
	assert_int_equal(kv_txn_cmp(t, b, KV_CMP_VERSION, KV_GREATER, 0), 0);
	assert_int_equal(kv_txn_delete(t, false, b, true), 0);
	assert_int_equal(kv_txn_commit(c, t, &res), 0);
	assert_false(res.succeeded);
	kv_txn_result_free(&res);
	kv_txn_free(t);
	assert_int_equal(kv_get(c, b, NULL, NULL, NULL), -ENOENT);
	kv_close(c);
}

static void test_lease(void **state)
{
	struct kv_client *c = open_client(env("PP_ETCD"));
	int64_t id = 0, ttl = 0;
	char key[256];

	key_of(key, sizeof(key), "lease/a");
	assert_int_equal(kv_lease_grant(c, 30, &id, &ttl), 0);
	assert_true(id != 0);
	assert_int_equal(ttl, 30);
	assert_int_equal(kv_put(c, key, "x", 1, id, NULL), 0);
	assert_int_equal(kv_lease_keepalive(c, id, &ttl), 0);
	assert_int_equal(ttl, 30);
	assert_int_equal(kv_lease_ttl(c, id, &ttl), 0);
	assert_true(ttl > 0 && ttl <= 30);
	assert_int_equal(kv_lease_revoke(c, id), 0);
	assert_int_equal(kv_get(c, key, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(kv_lease_keepalive(c, id, &ttl), -ENOENT);
	assert_int_equal(kv_lease_revoke(c, id), -ENOENT);
	kv_close(c);
}

struct seen {
	int puts, deletes, resets, synced;
	int64_t last_rev;
	char last_key[256];
	char last_value[64];
};

static void w_reset(void *arg)
{
	struct seen *s = arg;

	s->resets++;
	s->puts = 0;
}

static void w_event(void *arg, enum kv_event_type type, const struct kv_pair *kv)
{
	struct seen *s = arg;

	if (type == KV_EVENT_PUT)
		s->puts++;
	else
		s->deletes++;
	s->last_rev = kv->mod_revision;
	snprintf(s->last_key, sizeof(s->last_key), "%s", kv->key);
	snprintf(s->last_value, sizeof(s->last_value), "%s", kv->value);
}

static void w_synced(void *arg, int64_t rev)
{
	((struct seen *)arg)->synced++;
}

static const struct kv_watch_ops ops = {w_reset, w_event, w_synced, NULL};

static void poll_until(struct kv_watch *w, int *counter, int want, int seconds)
{
	time_t end = time(NULL) + seconds;

	while (*counter < want && time(NULL) < end)
		assert_int_equal(kv_watch_poll(w, 100), 0);
	assert_int_equal(*counter, want);
}

/* Puts two keys (under the test's prefix) in one txn. */
static void txn_two(struct kv_client *c, const char *a, const char *b)
{
	struct kv_txn_result res = {0};
	struct kv_txn *t = kv_txn_new();
	char ka[256], kb[256];

	key_of(ka, sizeof(ka), "%s", a);
	key_of(kb, sizeof(kb), "%s", b);
	assert_non_null(t);
	assert_int_equal(kv_txn_put(t, true, ka, "a", 1, 0), 0);
	assert_int_equal(kv_txn_put(t, true, kb, "b", 1, 0), 0);
	assert_int_equal(kv_txn_commit(c, t, &res), 0);
	assert_true(res.succeeded);
	kv_txn_result_free(&res);
	kv_txn_free(t);
}

static void test_watch(void **state)
{
	struct kv_client *c = open_client(env("PP_ETCD"));
	struct kv_client *w_c = open_client(env("PP_ETCD"));
	struct kv_watch_opts o = {.list_first = true, .progress_notify = true, .page_size = 3};
	struct seen s = {0};
	struct kv_watch *w;
	char pre[256], key[256];
	int64_t rev = 0;

	key_of(pre, sizeof(pre), "watch/");
	for (int i = 0; i < 5; i++) {
		key_of(key, sizeof(key), "watch/pre%d", i);
		assert_int_equal(kv_put(c, key, "p", 1, 0, NULL), 0);
	}
	assert_int_equal(kv_watch_open(w_c, pre, &o, &ops, &s, &w), 0);
	poll_until(w, &s.synced, 1, 5);
	assert_int_equal(s.resets, 1);
	assert_int_equal(s.puts, 5);

	key_of(key, sizeof(key), "watch/new");
	assert_int_equal(kv_put(c, key, "n1", 2, 0, &rev), 0);
	poll_until(w, &s.puts, 6, 5);
	assert_string_equal(s.last_key, key);
	assert_string_equal(s.last_value, "n1");
	assert_int_equal(s.last_rev, rev);
	assert_int_equal(kv_delete(c, key, false, NULL), 0);
	poll_until(w, &s.deletes, 1, 5);
	/* Two keys in one txn share a revision: both events are delivered. */
	txn_two(c, "watch/txn1", "watch/txn2");
	poll_until(w, &s.puts, 8, 5);
	/* a key outside the prefix is not seen */
	key_of(key, sizeof(key), "watchx");
	assert_int_equal(kv_put(c, key, "z", 1, 0, NULL), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(kv_watch_poll(w, 50), 0);
	assert_int_equal(s.puts, 8);
	assert_int_equal(kv_watch_reconnects(w), 0);
	kv_watch_close(w);

	/* Start at a past revision (no listing): replays from there. */
	memset(&s, 0, sizeof(s));
	struct kv_watch_opts from = {.start_revision = rev};
	assert_int_equal(kv_watch_open(w_c, pre, &from, &ops, &s, &w), 0);
	poll_until(w, &s.puts, 3, 5);
	assert_int_equal(s.deletes, 1); /* the put at rev, the delete, the txn's two puts */
	kv_watch_close(w);
	kv_close(w_c);
	kv_close(c);
}

/* Compaction past the watch's revision: a clean reset + listing, not an error loop. */
static void test_watch_compaction(void **state)
{
	struct kv_client *c = open_client(env("PP_ETCD"));
	struct kv_watch_opts o = {0};
	struct seen s = {0};
	struct kv_watch *w;
	char pre[256], key[256];
	int64_t rev = 0, first = 0;

	key_of(pre, sizeof(pre), "compact/");
	key_of(key, sizeof(key), "compact/a");
	assert_int_equal(kv_put(c, key, "1", 1, 0, &first), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(kv_put(c, key, "2", 1, 0, &rev), 0);
	assert_int_equal(kv_compact(c, rev), 0);
	{
		struct kv_range_opts ro = {.revision = first};
		struct kv_range_result rr;

		assert_int_equal(kv_range(c, key, strlen(key), &ro, &rr), -ERANGE);
		assert_non_null(strstr(kv_error(c), "compacted"));
	}
	/* A watch asking for history before the compaction point. */
	o.start_revision = first;
	assert_int_equal(kv_watch_open(c, pre, &o, &ops, &s, &w), 0);
	poll_until(w, &s.synced, 1, 10);
	assert_int_equal(s.resets, 1);
	assert_int_equal(s.puts, 1);
	assert_int_equal(kv_watch_resyncs(w), 1);
	assert_string_equal(s.last_value, "2");
	/* and it keeps following afterwards */
	assert_int_equal(kv_put(c, key, "3", 1, 0, NULL), 0);
	poll_until(w, &s.puts, 2, 5);
	assert_string_equal(s.last_value, "3");
	kv_watch_close(w);
	kv_close(c);
}

static int progress_count;
static void w_progress(void *arg, int64_t rev)
{
	progress_count++;
}

/* etcd started with --experimental-watch-progress-notify-interval 1s by store_kv.sh. */
static void test_progress(void **state)
{
	struct kv_client *c = open_client(env("PP_ETCD"));
	struct kv_watch_ops pops = {w_reset, w_event, w_synced, w_progress};
	struct kv_watch_opts o = {.progress_notify = true};
	struct seen s = {0};
	struct kv_watch *w;
	char pre[256], other[256];
	int64_t rev = 0;
	time_t end = time(NULL) + 10;

	key_of(pre, sizeof(pre), "progress/");
	assert_int_equal(kv_watch_open(c, pre, &o, &pops, &s, &w), 0);
	/* Writes elsewhere move the store revision; progress tells the quiet watch. */
	key_of(other, sizeof(other), "elsewhere");
	assert_int_equal(kv_put(c, other, "x", 1, 0, &rev), 0);
	while (progress_count == 0 && time(NULL) < end)
		assert_int_equal(kv_watch_poll(w, 200), 0);
	assert_true(progress_count > 0);
	assert_true(kv_watch_revision(w) >= rev);
	assert_int_equal(s.puts, 0);
	kv_watch_close(w);
	kv_close(c);
}

static void test_errors(void **state)
{
	struct kv_client *c = NULL;
	struct kv_options o = {.endpoints = "http://127.0.0.1:1", .timeout_ms = 500};

	assert_int_equal(kv_open(&c, &o), 0);
	assert_int_equal(kv_put(c, "x", "y", 1, 0, NULL), -ECONNREFUSED);
	assert_non_null(strstr(kv_error(c), "127.0.0.1:1"));
	kv_close(c);
	o.endpoints = "";
	assert_int_equal(kv_open(&c, &o), -EINVAL);
	/* A dead endpoint first: the client fails over to the live one. */
	char list[512];
	snprintf(list, sizeof(list), "http://127.0.0.1:1,%s", env("PP_ETCD"));
	c = open_client(list);
	assert_int_equal(kv_put(c, prefix, "y", 1, 0, NULL), 0);
	assert_int_equal(kv_delete(c, prefix, false, NULL), 0);
	kv_close(c);
}

/* Watch follows across the death of the member it streams from. */
static void test_failover(void **state)
{
	const char *pids = env("PP_ETCD_PIDS");
	struct kv_client *c = open_client(env("PP_ETCD"));
	struct kv_client *wc = open_client(env("PP_ETCD"));
	struct kv_watch_opts o = {.list_first = true};
	struct seen s = {0};
	struct kv_watch *w;
	char pre[256], key[256];
	const char *ep;
	int idx = 0;

	key_of(pre, sizeof(pre), "fo/");
	assert_int_equal(kv_watch_open(wc, pre, &o, &ops, &s, &w), 0);
	poll_until(w, &s.synced, 1, 10);
	key_of(key, sizeof(key), "fo/a");
	assert_int_equal(kv_put(c, key, "1", 1, 0, NULL), 0);
	poll_until(w, &s.puts, 1, 10);
	/* Which member is the watch on? Kill that one (PIDs are in endpoint order). */
	ep = kv_endpoint(wc);
	{
		char list[1024], *tok, *save = NULL;
		snprintf(list, sizeof(list), "%s", env("PP_ETCD"));
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), idx++)
			if (!strcmp(tok, ep))
				break;
	}
	{
		char list[256], *tok, *save = NULL;
		int i = 0;
		pid_t victim = 0;

		snprintf(list, sizeof(list), "%s", pids);
		for (tok = strtok_r(list, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save), i++)
			if (i == idx)
				victim = (pid_t)atoi(tok);
		assert_true(victim > 0);
		fprintf(stderr, "kv_live: killing etcd member %d (%s)\n", (int)victim, ep);
		assert_int_equal(kill(victim, SIGKILL), 0);
	}
	/* Writes while the watch is down must still arrive, exactly once. */
	for (int i = 0; i < 10; i++) {
		char v[8];
		snprintf(v, sizeof(v), "w%d", i);
		time_t end = time(NULL) + 20;
		int rc;
		while ((rc = kv_put(c, key, v, strlen(v), 0, NULL)) < 0 && time(NULL) < end)
			usleep(200000);
		assert_int_equal(rc, 0);
	}
	poll_until(w, &s.puts, 11, 30);
	assert_string_equal(s.last_value, "w9");
	assert_true(kv_watch_reconnects(w) >= 1);
	assert_string_not_equal(kv_endpoint(wc), ep);
	for (int i = 0; i < 10; i++)
		assert_int_equal(kv_watch_poll(w, 50), 0);
	assert_int_equal(s.puts, 11);
	kv_watch_close(w);
	kv_close(wc);
	kv_close(c);
}

/* A user whose role may only read <prefix>ipcache/. */
static void test_readonly(void **state)
{
	struct kv_client *c = open_client(env("PP_ETCD"));
	struct kv_range_result r;
	struct kv_range_opts o = {.prefix = true};
	struct kv_watch_opts wo = {.list_first = true};
	struct seen s = {0};
	struct kv_watch *w;
	char key[256];

	snprintf(key, sizeof(key), "%sipcache/", env("PP_PREFIX"));
	assert_int_equal(kv_range(c, key, strlen(key), &o, &r), 0);
	assert_int_equal(r.n, 1); /* the script wrote one entry */
	kv_range_result_free(&r);
	/* With etcd's --auth-token-ttl short, the token has expired by now: the client
	 * re-authenticates on "invalid auth token" and the call still succeeds. */
	if (getenv("PP_TOKEN_SLEEP")) {
		/* A watch stream opened with the expired token: etcd answers "invalid auth
		 * token" in the stream; the watch re-authenticates and replays from rev 1. */
		struct kv_watch_opts from1 = {.start_revision = 1};
		struct seen s1 = {0};

		sleep((unsigned)atoi(getenv("PP_TOKEN_SLEEP")));
		assert_int_equal(kv_watch_open(c, key, &from1, &ops, &s1, &w), 0);
		poll_until(w, &s1.puts, 1, 10);
		kv_watch_close(w);
		sleep((unsigned)atoi(getenv("PP_TOKEN_SLEEP")));
	}
	assert_int_equal(kv_range(c, key, strlen(key), &o, &r), 0);
	assert_int_equal(r.n, 1);
	kv_range_result_free(&r);
	assert_int_equal(kv_watch_open(c, key, &wo, &ops, &s, &w), 0);
	poll_until(w, &s.synced, 1, 5);
	kv_watch_close(w);
	/* Watching a prefix the role may not read: a clear -EACCES, not a retry loop. */
	{
		char other[256];
		struct kv_watch_opts now = {.start_revision = 1};
		time_t end = time(NULL) + 10;
		int rc = 0;

		snprintf(other, sizeof(other), "%sidentities/", env("PP_PREFIX"));
		assert_int_equal(kv_watch_open(c, other, &now, &ops, &s, &w), 0);
		while (rc == 0 && time(NULL) < end)
			rc = kv_watch_poll(w, 100);
		assert_int_equal(rc, -EACCES);
		assert_non_null(strstr(kv_error(c), "permission denied"));
		kv_watch_close(w);
	}
	snprintf(key, sizeof(key), "%sipcache/10.0.0.1/32", env("PP_PREFIX"));
	assert_int_equal(kv_put(c, key, "{}", 2, 0, NULL), -EACCES);
	assert_non_null(strstr(kv_error(c), "permission denied"));
	snprintf(key, sizeof(key), "%sidentities/", env("PP_PREFIX"));
	assert_int_equal(kv_range(c, key, strlen(key), &o, &r), -EACCES);
	kv_close(c);

	/* A wrong password is a clear authentication error. */
	struct kv_options bad = {
	    .endpoints = env("PP_ETCD"), .user = env("PP_USER"), .password = "wrong"};
	assert_int_equal(kv_open(&c, &bad), 0);
	assert_int_equal(kv_range(c, key, strlen(key), &o, &r), -EACCES);
	assert_non_null(strstr(kv_error(c), "authentication"));
	kv_close(c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest basic[] = {
	    cmocka_unit_test(test_put_get_delete),
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_txn),
	    cmocka_unit_test(test_lease),
	    cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_watch_compaction),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_progress),
	};
	const struct CMUnitTest failover[] = {cmocka_unit_test(test_failover)};
	const struct CMUnitTest readonly[] = {cmocka_unit_test(test_readonly)};
	const struct CMUnitTest tls[] = {cmocka_unit_test(test_put_get_delete),
					 cmocka_unit_test(test_watch)};

	snprintf(prefix, sizeof(prefix), "/kvlive/%ld-%d/", (long)time(NULL), (int)getpid());
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "basic"))
		return cmocka_run_group_tests(basic, NULL, NULL);
	if (!strcmp(argv[1], "failover"))
		return cmocka_run_group_tests(failover, NULL, NULL);
	if (!strcmp(argv[1], "readonly"))
		return cmocka_run_group_tests(readonly, NULL, NULL);
	if (!strcmp(argv[1], "tls"))
		return cmocka_run_group_tests(tls, NULL, NULL);
usage:
	fprintf(stderr, "usage: kv_live basic|failover|readonly|tls (see the file's comment)\n");
	return 2;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-store-bench: how fast a fresh agent-side watcher syncs the store, and how quickly a
 * put reaches a watcher, against a real etcd (bench/store/run.sh starts one).
 *
 *   pp-store-bench --endpoints URL [--quick] [--json]
 *
 * 1. populate N ipcache + M identity records (txns of 128 puts);
 * 2. a forked child opens a fresh client and watch (listing first, decoding every record
 *    with the store codecs and keeping them, as the agent does) and reports the time to
 *    "synced" and its peak RSS;
 * 3. baseline: `etcdctl get --prefix` of the same keys (time, peak RSS);
 * 4. latency: U sequential puts, each timed until the watcher delivers its event.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/kv/kv.h"
#include "store/store.h"

struct params {
	const char *endpoints;
	unsigned n_ipcache, n_ident, n_updates;
	bool json;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_peak_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static struct kv_client *connect_or_die(const char *endpoints)
{
	struct kv_options o = {.endpoints = endpoints, .timeout_ms = 30000};
	struct kv_client *c = NULL;

	if (kv_open(&c, &o) < 0) {
		fprintf(stderr, "pp-store-bench: cannot open %s\n", endpoints);
		exit(1);
	}
	return c;
}

static void die(struct kv_client *c, const char *what, int rc)
{
	fprintf(stderr, "pp-store-bench: %s: %s (%s)\n", what, strerror(-rc), kv_error(c));
	exit(1);
}

static void populate(struct kv_client *c, struct store *s, const struct params *p)
{
	struct kv_txn *t = NULL;
	unsigned total = p->n_ident + p->n_ipcache;
	char key[256];
	int rc;

	for (unsigned i = 0; i < total; i++) {
		char *val;

		if (!t)
			t = kv_txn_new();
		if (i < p->n_ident) {
			struct label_set l = {0};
			char text[128], err[128];

			snprintf(text, sizeof(text),
				 "app=svc%u,tier=t%u,k8s:io.kubernetes.pod."
				 "namespace=ns%u",
				 i, i % 7, i % 50);
			label_set_parse(&l, text, err, sizeof(err));
			val = store_identity_encode(&l);
			label_set_free(&l);
			store_key(s, key, sizeof(key), "identities/%u", 256 + i);
		} else {
			unsigned j = i - p->n_ident;
			struct store_ipcache e = {.identity =
						      256 + j % (p->n_ident ? p->n_ident : 1)};

			val = store_ipcache_encode(&e);
			store_key(s, key, sizeof(key), "ipcache/10.%u.%u.%u/32", 100 + j / 65536,
				  (j / 256) % 256, j % 256);
		}
		kv_txn_put(t, true, key, val, strlen(val), 0);
		free(val);
		if (kv_txn_ops(t) == STORE_TXN_MAX_OPS || i + 1 == total) {
			struct kv_txn_result r;

			rc = kv_txn_commit(c, t, &r);
			if (rc < 0)
				die(c, "populate", rc);
			kv_txn_result_free(&r);
			kv_txn_free(t);
			t = NULL;
		}
	}
}

/* The watcher's state: decoded records, as an agent would keep them. */
struct mirror {
	struct store *s;
	struct store_ipcache *ip;
	size_t n_ip, cap_ip;
	size_t n_ident, bad;
	bool synced;
	const char *wait_key; /* latency phase: the key we wait for */
	bool got;
};

static void m_reset(void *arg)
{
	struct mirror *m = arg;

	m->n_ip = 0;
	m->n_ident = 0;
}

static void m_event(void *arg, enum kv_event_type type, const struct kv_pair *kv)
{
	struct mirror *m = arg;
	char err[256];

	if (m->wait_key && !strcmp(kv->key, m->wait_key))
		m->got = true;
	if (type != KV_EVENT_PUT)
		return;
	switch (store_key_kind(m->s, kv->key, NULL)) {
	case STORE_KIND_IPCACHE:
		if (m->n_ip == m->cap_ip) {
			m->cap_ip = m->cap_ip ? m->cap_ip * 2 : 4096;
			m->ip = realloc(m->ip, m->cap_ip * sizeof(*m->ip));
			if (!m->ip)
				abort();
		}
		if (store_ipcache_decode(kv->key, kv->value, kv->value_len, &m->ip[m->n_ip], err,
					 sizeof(err)))
			m->n_ip++;
		else
			m->bad++;
		break;
	case STORE_KIND_IDENTITY: {
		struct store_identity id;

		if (store_identity_decode(kv->key, kv->value, kv->value_len, &id, err,
					  sizeof(err))) {
			m->n_ident++;
			store_identity_clear(&id); /* an agent keeps these; small next to ipcache */
		} else {
			m->bad++;
		}
		break;
	}
	default:
		break;
	}
}

static void m_synced(void *arg, int64_t rev)
{
	((struct mirror *)arg)->synced = true;
}

static const struct kv_watch_ops mirror_ops = {m_reset, m_event, m_synced, NULL};

struct sync_result {
	double seconds;
	long rss_kib;
	size_t n_ip, n_ident;
};

/* In a child, so its peak RSS is the watcher's alone. */
static struct sync_result measure_sync(const struct params *p, const char *prefix)
{
	struct sync_result res = {0};
	int fd[2];
	pid_t pid;

	if (pipe(fd) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		struct kv_client *c = connect_or_die(p->endpoints);
		struct kv_watch_opts o = {.list_first = true, .page_size = 5000};
		struct store s;
		struct mirror m = {.s = &s};
		struct kv_watch *w;
		double t0;

		store_init(&s, c, prefix);
		t0 = now_s();
		if (kv_watch_open(c, prefix, &o, &mirror_ops, &m, &w) < 0)
			_exit(1);
		while (!m.synced)
			if (kv_watch_poll(w, 100) < 0)
				_exit(1);
		res.seconds = now_s() - t0;
		res.rss_kib = rss_peak_kib();
		res.n_ip = m.n_ip;
		res.n_ident = m.n_ident;
		if (write(fd[1], &res, sizeof(res)) != sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], &res, sizeof(res)) != sizeof(res)) {
		fprintf(stderr, "pp-store-bench: the sync child failed\n");
		exit(1);
	}
	close(fd[0]);
	waitpid(pid, NULL, 0);
	return res;
}

/* etcdctl get --prefix, output discarded: time and peak RSS (getrusage of the child). */
static int measure_etcdctl(const struct params *p, const char *prefix, double *secs, long *rss)
{
	struct rusage ru;
	double t0 = now_s();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char ep[1100];

		snprintf(ep, sizeof(ep), "--endpoints=%s", p->endpoints);
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		setenv("ETCDCTL_API", "3", 1);
		execlp("etcdctl", "etcdctl", ep, "--command-timeout=120s", "get", "--prefix",
		       prefix, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	*secs = now_s() - t0;
	*rss = ru.ru_maxrss;
	return 0;
}

static int count_pair(void *arg, const struct kv_pair *kv)
{
	(*(size_t *)arg)++;
	return 0;
}

/* The same listing without decoding or keeping records: what the wire costs. */
static double measure_list_only(const struct params *p, const char *prefix)
{
	struct kv_client *c = connect_or_die(p->endpoints);
	size_t n = 0;
	double t0 = now_s();
	int rc = kv_range_foreach(c, prefix, 0, 5000, false, count_pair, &n, NULL);

	if (rc < 0)
		die(c, "list", rc);
	t0 = now_s() - t0;
	kv_close(c);
	return t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void measure_latency(const struct params *p, const char *prefix, double *p50, double *p99,
			    double *max)
{
	struct kv_client *wc = connect_or_die(p->endpoints), *pc = connect_or_die(p->endpoints);
	struct kv_watch_opts o = {0};
	struct store s;
	struct mirror m = {.s = &s};
	double *lat = calloc(p->n_updates, sizeof(double));
	char key[256];
	struct kv_watch *w;
	int rc;

	store_init(&s, pc, prefix);
	if (!lat || kv_watch_open(wc, prefix, &o, &mirror_ops, &m, &w) < 0)
		exit(1);
	for (unsigned i = 0; i < p->n_updates; i++) {
		struct store_ipcache e = {.identity = 256 + i % 100};
		char *val = store_ipcache_encode(&e);
		double t0;

		store_key(&s, key, sizeof(key), "ipcache/10.250.%u.%u/32", (i / 256) % 256,
			  i % 256);
		m.wait_key = key;
		m.got = false;
		t0 = now_s();
		rc = kv_put(pc, key, val, strlen(val), 0, NULL);
		free(val);
		if (rc < 0)
			die(pc, "put", rc);
		while (!m.got) {
			if (kv_watch_poll(w, 100) < 0)
				die(wc, "watch", -EIO);
			if (now_s() - t0 > 10) {
				fprintf(stderr,
					"pp-store-bench: no watch event for %s after 10 s\n", key);
				exit(1);
			}
		}
		lat[i] = (now_s() - t0) * 1000.0;
	}
	qsort(lat, p->n_updates, sizeof(double), cmp_double);
	*p50 = lat[p->n_updates / 2];
	*p99 = lat[(size_t)((double)p->n_updates * 0.99)];
	*max = lat[p->n_updates - 1];
	free(lat);
	free(m.ip);
	kv_watch_close(w);
	kv_close(wc);
	kv_close(pc);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"endpoints", required_argument, NULL, 'e'},
	    {"quick", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct params p = {.n_ipcache = 100000, .n_ident = 10000, .n_updates = 10000};
	struct sync_result sync;
	double pop_s, ctl_s = 0, list_s, p50, p99, max, t0;
	long ctl_rss = 0;
	char prefix[128];
	struct kv_client *c;
	struct store s;
	int opt;

	while ((opt = getopt_long(argc, argv, "e:qjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			p.endpoints = optarg;
			break;
		case 'q':
			p.n_ipcache = 10000;
			p.n_ident = 1000;
			p.n_updates = 1000;
			break;
		case 'j':
			p.json = true;
			break;
		default:
			fprintf(stderr,
				"usage: pp-store-bench --endpoints URL [--quick] [--json]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!p.endpoints) {
		fprintf(stderr, "pp-store-bench: --endpoints is required\n");
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "/bench%d/", (int)getpid());
	c = connect_or_die(p.endpoints);
	store_init(&s, c, prefix);
	t0 = now_s();
	populate(c, &s, &p);
	pop_s = now_s() - t0;
	sync = measure_sync(&p, prefix);
	if (sync.n_ip != p.n_ipcache || sync.n_ident != p.n_ident) {
		fprintf(stderr,
			"pp-store-bench: watcher saw %zu ipcache / %zu identities, expected "
			"%u / %u\n",
			sync.n_ip, sync.n_ident, p.n_ipcache, p.n_ident);
		return 1;
	}
	list_s = measure_list_only(&p, prefix);
	if (measure_etcdctl(&p, prefix, &ctl_s, &ctl_rss) < 0)
		fprintf(stderr,
			"pp-store-bench: etcdctl baseline failed (is etcdctl installed?)\n");
	measure_latency(&p, prefix, &p50, &p99, &max);
	kv_delete(c, prefix, true, NULL);
	kv_close(c);

	if (p.json) {
		json_t *o =
		    json_pack("{s:i, s:i, s:i, s:f, s:f, s:f, s:i, s:f, s:f, s:i, s:f, s:f, s:f}",
			      "ipcache", p.n_ipcache, "identities", p.n_ident, "updates",
			      p.n_updates, "populate_s", pop_s, "sync_s", sync.seconds,
			      "sync_keys_per_s", (double)(p.n_ipcache + p.n_ident) / sync.seconds,
			      "sync_rss_kib", (int)sync.rss_kib, "list_only_s", list_s,
			      "etcdctl_get_s", ctl_s, "etcdctl_rss_kib", (int)ctl_rss,
			      "latency_p50_ms", p50, "latency_p99_ms", p99, "latency_max_ms", max);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return 0;
	}
	printf("store benchmark: %u ipcache + %u identities, %u updates (%s)\n", p.n_ipcache,
	       p.n_ident, p.n_updates, p.endpoints);
	printf("%-44s %12s\n", "metric", "value");
	printf("%-44s %10.2f s\n", "populate (txns of 128 puts)", pop_s);
	printf("%-44s %10.2f s\n", "fresh watcher: list + decode until synced", sync.seconds);
	printf("%-44s %10.0f /s\n", "  keys synced per second",
	       (double)(p.n_ipcache + p.n_ident) / sync.seconds);
	printf("%-44s %10.1f MiB\n", "  watcher peak RSS", (double)sync.rss_kib / 1024.0);
	printf("%-44s %10.2f s\n", "  of which listing only (kv paging, no decode)", list_s);
	printf("%-44s %10.2f s\n", "baseline: etcdctl get --prefix (same keys)", ctl_s);
	printf("%-44s %10.1f MiB\n", "  etcdctl peak RSS", (double)ctl_rss / 1024.0);
	printf("%-44s %10.2f ms\n", "put -> watch event latency p50", p50);
	printf("%-44s %10.2f ms\n", "put -> watch event latency p99", p99);
	printf("%-44s %10.2f ms\n", "put -> watch event latency max", max);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-enroll-bench: what one enrollment costs, end to end, next to what etcd itself costs.
 *
 *   latency     N enrollments one after the other, each timed from "token create" (lease +
 *               tokens/<id> put, as pseudopodctl does) to "state on disk" (enroll_client_run
 *               returned: CA fetched and pin checked, key generated, POST /v1/enroll, state
 *               and config written with fsync): p50, p99, min, max.
 *   throughput  C client threads enrolling M machines with tokens made beforehand:
 *               enrollments per second, all with the same labels (one identity, which every
 *               redemption re-puts under the gc guard, so they contend) and each with its own.
 *   baseline    the same two figures for a bare etcd txn of the redemption's size (4
 *               compares, 4 puts of the same value sizes), measured in the same run.
 *
 * The server must run (bench/enroll/run.sh starts it); output is a table, or JSON with
 * --json.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "enroll/client.h"
#include "enroll/files.h"
#include "enroll/join.h"
#include "enroll/pki.h"
#include "lib/kv/kv.h"
#include "store/store.h"

struct bench {
	const char *store, *prefix, *server, *pki, *work;
	int count, clients, tput_count;
	bool json;
	uint8_t pin[ENROLL_PIN_LEN];
	struct kv_client *kv;
	struct store s;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double p50, p99, min, max;
};

static struct stats stats_of(double *v, int n)
{
	struct stats s;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s.p50 = v[n / 2];
	s.p99 = v[(int)((n - 1) * 0.99)];
	s.min = v[0];
	s.max = v[n - 1];
	return s;
}

/* A token as `pseudopodctl token create` makes it; the join string into join. */
static int make_token(struct kv_client *kv, struct store *s, const struct bench *b,
		      const char *labels, char *join, size_t len)
{
	struct enroll_join j = {0};
	struct store_token t = {0};
	int64_t lease, ttl;
	char why[128], *text;
	int rc;

	snprintf(j.url, sizeof(j.url), "%s", b->server);
	memcpy(j.pin, b->pin, sizeof(j.pin));
	if (enroll_token_generate(&j.token) < 0 ||
	    !label_set_parse(&t.labels, labels, why, sizeof(why)))
		return -EIO;
	memcpy(t.id, j.token.id, sizeof(t.id));
	enroll_secret_hash(j.token.secret, t.secret_sha256);
	snprintf(t.namespace_, sizeof(t.namespace_), "bench");
	t.created_at = time(NULL);
	t.expires_at = t.created_at + 3600;
	t.uses = t.uses_left = 1;
	rc = kv_lease_grant(kv, 3600 + STORE_TOKEN_GRACE_S, &lease, &ttl);
	if (rc == 0)
		rc = store_token_create(s, &t, lease);
	store_token_clear(&t);
	if (rc < 0)
		return rc;
	text = enroll_join_encode(&j);
	if (!text)
		return -ENOMEM;
	snprintf(join, len, "%s", text);
	free(text);
	return 0;
}

/* One machine: its own config file and state dir under work/<name>. */
static int enroll_one(const struct bench *b, const char *name, const char *join)
{
	char dir[PATH_MAX - 64], conf[PATH_MAX], text[PATH_MAX * 2], msg[1024];
	struct enroll_client_opts o = {.join = join,
				       .config_path = conf,
				       .name = name,
				       .underlay_ip = "10.99.0.20",
				       .no_start = true};
	int rc;

	snprintf(dir, sizeof(dir), "%s/%s", b->work, name);
	snprintf(conf, sizeof(conf), "%s/pseudopod.conf", dir);
	snprintf(text, sizeof(text), "[agent]\nstate-dir = %s/state\nbpffs-root = %s/bpf\n", dir,
		 dir);
	if (enroll_mkdirs(dir, 0700) < 0 || enroll_write_file(conf, text, strlen(text), 0644) < 0)
		return -EIO;
	rc = enroll_client_run(&o, msg, sizeof(msg));
	if (rc != 0)
		fprintf(stderr, "pp-enroll-bench: %s: %s\n", name, msg);
	return rc;
}

static int bench_latency(struct bench *b, double *lat)
{
	char join[ENROLL_JOIN_MAX], name[32];

	for (int i = 0; i < b->count; i++) {
		double t0 = now_ms();

		snprintf(name, sizeof(name), "lat%d", i);
		if (make_token(b->kv, &b->s, b, "app=bench", join, sizeof(join)) < 0 ||
		    enroll_one(b, name, join) != 0)
			return -1;
		lat[i] = now_ms() - t0;
	}
	return 0;
}

struct worker {
	struct bench *b;
	char (*joins)[ENROLL_JOIN_MAX];
	const char *tag;
	int first, n, failed;
};

static void *tput_worker(void *arg)
{
	struct worker *w = arg;
	char name[32];

	for (int i = w->first; i < w->first + w->n; i++) {
		snprintf(name, sizeof(name), "tp%s%d", w->tag, i);
		w->failed += enroll_one(w->b, name, w->joins[i]) != 0;
	}
	return NULL;
}

/* distinct: every machine its own labels (its own identity) instead of one shared set:
 * shows what the identity gc guard (a mod_revision compare on the shared identity) costs. */
static double bench_tput(struct bench *b, bool distinct)
{
	char(*joins)[ENROLL_JOIN_MAX] = calloc((size_t)b->tput_count, sizeof(*joins));
	struct worker w[64];
	pthread_t th[64];
	int failed = 0, per = b->tput_count / b->clients;
	double t0, t;

	if (!joins)
		return -1;
	for (int i = 0; i < b->tput_count; i++) {
		char labels[64];

		snprintf(labels, sizeof(labels), "app=bench%d", distinct ? i : -1);
		if (make_token(b->kv, &b->s, b, labels, joins[i], sizeof(joins[i])) < 0)
			return -1;
	}
	t0 = now_ms();
	for (int c = 0; c < b->clients; c++) {
		w[c] = (struct worker){.b = b,
				       .joins = joins,
				       .tag = distinct ? "d" : "s",
				       .first = c * per,
				       .n = per};
		pthread_create(&th[c], NULL, tput_worker, &w[c]);
	}
	for (int c = 0; c < b->clients; c++) {
		pthread_join(th[c], NULL);
		failed += w[c].failed;
	}
	t = now_ms() - t0;
	free(joins);
	return failed ? -1 : per * b->clients / (t / 1e3);
}

/* The redemption txn's shape without the server: compares on 4 keys, puts of 4 values of
 * the sizes enrollment writes. */
static int bare_txn(struct kv_client *kv, const char *prefix, int i)
{
	static const char tok[] = "{\"version\":1,\"secret_sha256\":\"0000000000000000000000000000"
				  "000000000000000000000000000000000000\",\"labels\":[\"k8s:app="
				  "bench\"],\"namespace\":\"bench\",\"created_at\":1,\"expires_at"
				  "\":2,\"uses\":1,\"uses_left\":0}";
	static const char wl[] = "{\"version\":1,\"identity\":256,\"overlay_ip\":\"10.201.0.5\",\""
				 "labels\":[\"k8s:app=bench\",\"k8s:io.kubernetes.pod.namespace="
				 "bench\"],\"namespace\":\"bench\",\"underlay_ip\":\"10.99.0.20\","
				 "\"enrolled_at\":1,\"wg_public_key\":\"L5Xpom5bEXkeY29S+ydj4YiiHJ"
				 "yaNTGcZH3idmdAow0=\"}";
	static const char ipc[] = "{\"version\":1,\"identity\":256,\"kind\":\"workload\"}";
	static const char id[] = "{\"version\":1,\"labels\":[\"k8s:app=bench\",\"k8s:io.kubernetes"
				 ".pod.namespace=bench\"]}";
	const char *vals[4] = {tok, wl, ipc, id};
	struct kv_txn_result res = {0};
	struct kv_txn *t = kv_txn_new();
	char key[4][256];
	int rc = t ? 0 : -ENOMEM;

	for (int k = 0; k < 4 && rc == 0; k++) {
		snprintf(key[k], sizeof(key[k]), "%sbaseline/%d/%d", prefix, i, k);
		rc = kv_txn_cmp(t, key[k], KV_CMP_VERSION, KV_EQUAL, 0);
	}
	for (int k = 0; k < 4 && rc == 0; k++)
		rc = kv_txn_put(t, true, key[k], vals[k], strlen(vals[k]), 0);
	if (rc == 0)
		rc = kv_txn_commit(kv, t, &res);
	if (rc == 0 && !res.succeeded)
		rc = -EAGAIN;
	kv_txn_result_free(&res);
	kv_txn_free(t);
	return rc;
}

struct base_worker {
	const struct bench *b;
	int first, n, failed;
};

static void *base_thread(void *arg)
{
	struct base_worker *w = arg;
	struct kv_options o = {.endpoints = w->b->store};
	struct kv_client *kv;

	if (kv_open(&kv, &o) < 0) {
		w->failed = w->n;
		return NULL;
	}
	for (int i = w->first; i < w->first + w->n; i++)
		w->failed += bare_txn(kv, w->b->prefix, i) != 0;
	kv_close(kv);
	return NULL;
}

static int bench_baseline(struct bench *b, double *lat, double *tput)
{
	struct base_worker w[64];
	pthread_t th[64];
	int per = b->tput_count / b->clients, failed = 0;
	double t0;

	for (int i = 0; i < b->count; i++) {
		t0 = now_ms();
		if (bare_txn(b->kv, b->prefix, 1000000 + i) != 0)
			return -1;
		lat[i] = now_ms() - t0;
	}
	t0 = now_ms();
	for (int c = 0; c < b->clients; c++) {
		w[c] = (struct base_worker){.b = b, .first = 2000000 + c * per, .n = per};
		pthread_create(&th[c], NULL, base_thread, &w[c]);
	}
	for (int c = 0; c < b->clients; c++) {
		pthread_join(th[c], NULL);
		failed += w[c].failed;
	}
	*tput = per * b->clients / ((now_ms() - t0) / 1e3);
	return failed ? -1 : 0;
}

static void report(const struct bench *b, struct stats e, double etput, double dtput,
		   struct stats base, double btput)
{
	if (b->json) {
		printf(
		    "{\"count\":%d,\"clients\":%d,\"throughput_count\":%d,"
		    "\"enroll\":{\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"min_ms\":%.2f,\"max_ms\":%.2f,"
		    "\"per_s\":%.1f,\"per_s_distinct_labels\":%.1f},"
		    "\"etcd_txn\":{\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"min_ms\":%.2f,\"max_ms\":%.2f,"
		    "\"per_s\":%.1f}}\n",
		    b->count, b->clients, b->tput_count, e.p50, e.p99, e.min, e.max, etput, dtput,
		    base.p50, base.p99, base.min, base.max, btput);
		return;
	}
	printf("%-34s %9s %9s %9s %9s %12s\n", "", "p50 ms", "p99 ms", "min ms", "max ms",
	       "per second");
	printf("%-34s %9.2f %9.2f %9.2f %9.2f %12.1f\n", "enrollment (token -> state on disk)",
	       e.p50, e.p99, e.min, e.max, etput);
	printf("%-34s %9s %9s %9s %9s %12.1f\n", "  same, every machine own labels", "", "", "", "",
	       dtput);
	printf("%-34s %9.2f %9.2f %9.2f %9.2f %12.1f\n", "baseline: bare etcd txn, same size",
	       base.p50, base.p99, base.min, base.max, btput);
	printf("(latency: %d sequential; per second: %d with %d concurrent clients)\n", b->count,
	       b->tput_count, b->clients);
}

static int parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"store", required_argument, NULL, 's'},	{"prefix", required_argument, NULL, 'p'},
	    {"server", required_argument, NULL, 'S'},	{"pki-dir", required_argument, NULL, 'k'},
	    {"work-dir", required_argument, NULL, 'w'}, {"count", required_argument, NULL, 'n'},
	    {"clients", required_argument, NULL, 'c'},	{"quick", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},		{NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			b->store = optarg;
			break;
		case 'p':
			b->prefix = optarg;
			break;
		case 'S':
			b->server = optarg;
			break;
		case 'k':
			b->pki = optarg;
			break;
		case 'w':
			b->work = optarg;
			break;
		case 'n':
			b->count = atoi(optarg);
			break;
		case 'c':
			b->clients = atoi(optarg);
			break;
		case 'q':
			b->count = 20;
			b->tput_count = 40;
			break;
		case 'j':
			b->json = true;
			break;
		default:
			return -1;
		}
	}
	if (!b->store || !b->prefix || !b->server || !b->pki || !b->work || b->count < 2 ||
	    b->clients < 1 || b->clients > 64)
		return -1;
	if (b->tput_count < b->clients)
		b->tput_count = b->clients;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = {.count = 200, .clients = 8, .tput_count = 200};
	struct kv_options ko = {0};
	char path[PATH_MAX], why[256], *pem;
	double *lat, *blat, etput, dtput, btput;
	size_t len;

	if (parse_args(&b, argc, argv) < 0) {
		fprintf(stderr,
			"usage: pp-enroll-bench --store URL --prefix P --server URL "
			"--pki-dir DIR --work-dir DIR [--count 200] [--clients 8] [--quick] "
			"[--json]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread uses libcurl */
	snprintf(path, sizeof(path), "%s/ca.crt", b.pki);
	if (enroll_read_file(path, false, 1 << 20, &pem, &len, why, sizeof(why)) < 0 ||
	    !enroll_pki_pin(pem, len, b.pin, why, sizeof(why))) {
		fprintf(stderr, "pp-enroll-bench: %s: no CA (%s)\n", path, why);
		return 1;
	}
	free(pem);
	ko.endpoints = b.store;
	lat = calloc((size_t)b.count, sizeof(*lat));
	blat = calloc((size_t)b.count, sizeof(*blat));
	if (!lat || !blat || kv_open(&b.kv, &ko) < 0 || store_init(&b.s, b.kv, b.prefix) < 0 ||
	    enroll_mkdirs(b.work, 0700) < 0)
		return 1;
	if (bench_latency(&b, lat) < 0 || (etput = bench_tput(&b, false)) < 0 ||
	    (dtput = bench_tput(&b, true)) < 0 || bench_baseline(&b, blat, &btput) < 0) {
		fprintf(stderr, "pp-enroll-bench: a run failed (see above)\n");
		return 1;
	}
	report(&b, stats_of(lat, b.count), etput, dtput, stats_of(blat, b.count), btput);
	kv_close(b.kv);
	free(lat);
	free(blat);
	return 0;
}

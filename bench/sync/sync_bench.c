// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-sync-bench: the store -> engine -> maps sync (agent/sync.h, what pp-policy-sync and
 * pseudopodd run) at 10k / 100k / 500k ipcache entries with 10k identities and 1k policies
 * (bench/policy's generator), against the bare listing of the same keys through lib/kv in
 * the same run. Per size and round, interleaved, each in its own child process (so its
 * peak RSS is its own):
 *   listing  kv_open + kv_range_foreach of identities/, ipcache/, policies/ (values, pages
 *            of 1000, as the store's loaders read them), nothing decoded;
 *   sync     agent_sync_open + agent_sync_run into a freshly loaded datapath (every entry
 *            is written);
 *   resync   the same into the maps the sync just filled: must write nothing (checked).
 * Figures are medians over the rounds with [min-max]. Goals (issue 11) are printed next to
 * them and evaluated: at 100k, sync < 1.5x listing, peak RSS < 30 MB, resync < 1.2x listing.
 *
 * --scale-check (the e2e_sync_scale test): 10k and 100k, fails when the 100k sync costs 20x
 * the 10k one or more (linear is 10x; a quadratic step makes it ~100x) or a resync writes.
 *
 * Usage: pp-sync-bench --endpoints URL [--quick | --scale-check] [--json] [--rounds N]
 *                      [--sizes N,N,...]
 * Needs root (loads a datapath under /sys/fs/bpf/pp-bench-sync-PID); exit 77 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/sync.h"
#include "bench/policy/policy_gen.h"
#include "bpf/dp.h"
#include "lib/kv/kv.h"
#include "lib/log.h"
#include "store/store.h"

#define N_IDENTITIES 10000u
#define N_POLICIES   1000u
#define ENDPOINT     256u /* identity 0 of the generator: app-0, tier t0, ns0 */
#define MAX_SIZES    8
#define MAX_ROUNDS   32

struct cfg {
	const char *endpoints;
	unsigned sizes[MAX_SIZES];
	size_t n_sizes;
	unsigned rounds;
	bool json, scale_check;
	char prefix[64], bpffs[96];
};

/* What a child reports through its pipe. */
struct child_res {
	double ms;
	size_t keys;  /* listing: keys seen */
	size_t wrote; /* sync: entries and keys written (added, changed, removed) */
	int rc;
	char err[256];
};

struct sample {
	double ms[MAX_ROUNDS];
	double rss_mib[MAX_ROUNDS];
	size_t wrote[MAX_ROUNDS];
};

struct row {
	unsigned size;
	struct sample list, sync, resync;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pp-sync-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static struct kv_client *kv_or_die(const struct cfg *c)
{
	struct kv_options o = {.endpoints = c->endpoints, .timeout_ms = 60000};
	struct kv_client *kv = NULL;

	if (kv_open(&kv, &o) < 0)
		die("cannot open %s", c->endpoints);
	return kv;
}

/* ---- the store ---- */

struct batch {
	struct kv_client *kv;
	struct kv_txn *t;
};

static void batch_put(struct batch *b, const char *key, char *val)
{
	if (!val)
		die("%s", "out of memory");
	if (!b->t)
		b->t = kv_txn_new();
	if (!b->t || kv_txn_put(b->t, true, key, val, strlen(val), 0))
		die("%s", "out of memory");
	free(val);
	if (kv_txn_ops(b->t) == STORE_TXN_MAX_OPS)
		return;
}

static void batch_flush(struct batch *b, bool force)
{
	struct kv_txn_result r = {0};

	if (!b->t || (!force && kv_txn_ops(b->t) < STORE_TXN_MAX_OPS))
		return;
	if (kv_txn_commit(b->kv, b->t, &r) < 0)
		die("populate: %s", kv_error(b->kv));
	kv_txn_result_free(&r);
	kv_txn_free(b->t);
	b->t = NULL;
}

static void put_identities(struct store *s, struct batch *b)
{
	char key[256];

	for (unsigned i = 0; i < N_IDENTITIES; i++) {
		struct label_set ls = {0};

		bench_identity_labels(&ls, i);
		store_key(s, key, sizeof(key), "identities/%u", ENDPOINT + i);
		batch_put(b, key, store_identity_encode(&ls));
		label_set_free(&ls);
		batch_flush(b, false);
	}
	batch_flush(b, true);
}

/* The generator's policies, named p<k> in their namespace (or _cluster) as apply would. */
static void put_policies(struct store *s, struct batch *b)
{
	char key[512], name[32];

	for (unsigned k = 0; k < N_POLICIES; k++) {
		json_t *p = bench_make_policy(k, 0), *md = json_object_get(p, "metadata");
		const char *ns = json_string_value(json_object_get(md, "namespace"));

		snprintf(name, sizeof(name), "p%u", k);
		json_object_set_new(md, "name", json_string(name));
		store_key(s, key, sizeof(key), "policies/%s/%s", ns ? ns : "_cluster", name);
		batch_put(b, key, json_dumps(p, JSON_COMPACT));
		json_decref(p);
		batch_flush(b, false);
	}
	batch_flush(b, true);
}

/* Pods j in [from, to): 10.(100 + j/65536).x.y/32, on node 172.16.(j/256) as gateway. */
static void put_ipcache(struct store *s, struct batch *b, unsigned from, unsigned to)
{
	char key[256];

	for (unsigned j = from; j < to; j++) {
		struct store_ipcache e = {.identity = ENDPOINT + j % N_IDENTITIES};

		snprintf(e.gateway, sizeof(e.gateway), "172.16.%u.%u", (j / 256) / 256 % 256,
			 (j / 256) % 256);
		store_key(s, key, sizeof(key), "ipcache/10.%u.%u.%u/32", 100 + j / 65536,
			  (j / 256) % 256, j % 256);
		batch_put(b, key, store_ipcache_encode(&e));
		batch_flush(b, false);
	}
	batch_flush(b, true);
}

/* ---- children ---- */

static int noop_pair(void *arg, const struct kv_pair *kv)
{
	(void)kv;
	++*(size_t *)arg;
	return 0;
}

static void child_listing(const struct cfg *c, struct child_res *r)
{
	static const char *const dirs[] = {"identities/", "ipcache/", "policies/"};
	double t0 = now_ms();
	struct kv_client *kv = kv_or_die(c);
	char prefix[256];

	for (size_t i = 0; i < 3 && !r->rc; i++) {
		snprintf(prefix, sizeof(prefix), "%s%s", c->prefix, dirs[i]);
		r->rc = kv_range_foreach(kv, prefix, 0, 1000, false, noop_pair, &r->keys, NULL);
	}
	if (r->rc)
		snprintf(r->err, sizeof(r->err), "listing: %s", kv_error(kv));
	kv_close(kv);
	r->ms = now_ms() - t0;
}

static void child_sync(const struct cfg *c, struct child_res *r)
{
	struct agent_sync_opts o = {.store = {.endpoints = c->endpoints, .timeout_ms = 60000},
				    .prefix = c->prefix,
				    .bpffs = c->bpffs,
				    .identity = ENDPOINT,
				    .lock_timeout_ms = 0};
	struct agent_sync_result res;
	const struct agent_policy_report *p = &res.rep;
	struct agent_sync *as = NULL;
	double t0 = now_ms();

	r->rc = agent_sync_open(&o, &as, r->err, sizeof(r->err));
	r->rc = r->rc ?: agent_sync_run(as, &res, r->err, sizeof(r->err));
	agent_sync_close(as);
	r->ms = now_ms() - t0;
	if (!r->rc)
		r->wrote = p->ipc_add + p->ipc_change + p->ipc_del + p->pol_add + p->pol_del +
			   p->pol_recount + p->pol_relabel + (p->flags_before != p->flags_after);
}

/* Runs fn in a child; its result and peak RSS (MiB). */
static struct child_res run_child(const struct cfg *c,
				  void (*fn)(const struct cfg *, struct child_res *), double *rss)
{
	struct child_res r = {0};
	struct rusage ru;
	int fd[2], status;
	pid_t pid;

	if (pipe(fd) < 0)
		die("%s", "pipe");
	pid = fork();
	if (pid < 0)
		die("%s", "fork");
	if (pid == 0) {
		close(fd[0]);
		fn(c, &r);
		_exit(write(fd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(fd[1]);
	if (read(fd[0], &r, sizeof(r)) != sizeof(r))
		die("%s", "a child died");
	close(fd[0]);
	if (wait4(pid, &status, 0, &ru) < 0)
		die("%s", "wait4");
	*rss = ru.ru_maxrss / 1024.0;
	if (r.rc)
		die("%s", r.err);
	return r;
}

static void datapath_fresh(const struct cfg *c, unsigned size)
{
	struct dp_load_opts o = {.bpffs = c->bpffs,
				 .mode = DP_MODE_WORKLOAD,
				 .identity = ENDPOINT,
				 .ipcache_max = size + size / 8 + 4096,
				 .policy_max = 65536};
	int rc;

	dp_unload(c->bpffs);
	rc = dp_load(&o);
	if (rc)
		die("loading the datapath: %s", strerror(-rc));
}

static void measure(const struct cfg *c, struct row *row)
{
	for (unsigned r = 0; r < c->rounds; r++) {
		struct child_res x;

		x = run_child(c, child_listing, &row->list.rss_mib[r]);
		row->list.ms[r] = x.ms;
		datapath_fresh(c, row->size);
		x = run_child(c, child_sync, &row->sync.rss_mib[r]);
		row->sync.ms[r] = x.ms;
		row->sync.wrote[r] = x.wrote;
		x = run_child(c, child_sync, &row->resync.rss_mib[r]);
		row->resync.ms[r] = x.ms;
		row->resync.wrote[r] = x.wrote;
	}
}

/* ---- figures ---- */

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, min, max;
};

static struct stat3 stat_of(const double *v, unsigned n)
{
	double s[MAX_ROUNDS];
	struct stat3 r;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), dbl_cmp);
	r.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	r.min = s[0];
	r.max = s[n - 1];
	return r;
}

static size_t max_wrote(const struct sample *s, unsigned n)
{
	size_t m = 0;

	for (unsigned i = 0; i < n; i++)
		m = s->wrote[i] > m ? s->wrote[i] : m;
	return m;
}

static json_t *stat_json(struct stat3 s)
{
	return json_pack("{s:f,s:f,s:f}", "median", s.med, "min", s.min, "max", s.max);
}

static void print_table(const struct cfg *c, const struct row *rows, size_t n)
{
	printf("sync benchmark: %u identities, %u policies, endpoint %u; %u rounds, median "
	       "[min-max]\n",
	       N_IDENTITIES, N_POLICIES, ENDPOINT, c->rounds);
	printf("%-8s %-22s %-22s %-7s %-22s %-7s %-9s %-9s %-7s\n", "ipcache", "listing ms",
	       "sync ms", "x list", "resync ms", "x list", "sync MiB", "list MiB", "writes");
	for (size_t i = 0; i < n; i++) {
		struct stat3 l = stat_of(rows[i].list.ms, c->rounds);
		struct stat3 s = stat_of(rows[i].sync.ms, c->rounds);
		struct stat3 r = stat_of(rows[i].resync.ms, c->rounds);
		struct stat3 m = stat_of(rows[i].sync.rss_mib, c->rounds);
		struct stat3 lm = stat_of(rows[i].list.rss_mib, c->rounds);
		char a[32], b[32], d[32];

		snprintf(a, sizeof(a), "%.0f [%.0f-%.0f]", l.med, l.min, l.max);
		snprintf(b, sizeof(b), "%.0f [%.0f-%.0f]", s.med, s.min, s.max);
		snprintf(d, sizeof(d), "%.0f [%.0f-%.0f]", r.med, r.min, r.max);
		printf("%-8u %-22s %-22s %-7.2f %-22s %-7.2f %-9.1f %-9.1f %zu/%zu\n", rows[i].size,
		       a, b, s.med / l.med, d, r.med / l.med, m.max, lm.max,
		       max_wrote(&rows[i].sync, c->rounds), max_wrote(&rows[i].resync, c->rounds));
	}
	printf("(sync MiB, list MiB: peak RSS of the child, max over rounds; writes: entries "
	       "written by the sync / by the resync, which must be 0)\n");
}

static void print_json(const struct cfg *c, const struct row *rows, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o =
		    json_pack("{s:i,s:o,s:o,s:o,s:o,s:I,s:I}", "ipcache", rows[i].size,
			      "listing_ms", stat_json(stat_of(rows[i].list.ms, c->rounds)),
			      "sync_ms", stat_json(stat_of(rows[i].sync.ms, c->rounds)),
			      "resync_ms", stat_json(stat_of(rows[i].resync.ms, c->rounds)),
			      "sync_rss_mib", stat_json(stat_of(rows[i].sync.rss_mib, c->rounds)),
			      "sync_writes", (json_int_t)max_wrote(&rows[i].sync, c->rounds),
			      "resync_writes", (json_int_t)max_wrote(&rows[i].resync, c->rounds));

		json_array_append_new(arr, o);
	}
	json_dumpf(json_pack("{s:i,s:i,s:i,s:o}", "identities", N_IDENTITIES, "policies",
			     N_POLICIES, "rounds", c->rounds, "sizes", arr),
		   stdout, JSON_INDENT(2));
	putchar('\n');
}

/* Goals at 100k (issue 11), evaluated honestly; returns false when one is missed. */
static bool print_goals(const struct cfg *c, const struct row *rows, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		double l = stat_of(rows[i].list.ms, c->rounds).med;
		double s = stat_of(rows[i].sync.ms, c->rounds).med;
		double r = stat_of(rows[i].resync.ms, c->rounds).med;
		double m = stat_of(rows[i].sync.rss_mib, c->rounds).max;

		if (rows[i].size != 100000)
			continue;
		printf("goal at 100k: sync %.2fx listing (< 1.5x): %s\n", s / l,
		       s / l < 1.5 ? "met" : "MISSED");
		printf("goal at 100k: sync peak RSS %.1f MiB (< 30 MB = 28.6 MiB): %s\n", m,
		       m < 28.6 ? "met" : "MISSED");
		printf("goal at 100k: no-change resync %.2fx listing (< 1.2x): %s\n", r / l,
		       r / l < 1.2 ? "met" : "MISSED");
		ok = ok && s / l < 1.5 && m < 28.6 && r / l < 1.2;
	}
	return ok;
}

/* The regression bound: linear is 10x from 10k to 100k, quadratic ~100x. */
static bool scale_ok(const struct cfg *c, const struct row *rows, size_t n)
{
	double s10 = 0, s100 = 0;
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		double s = stat_of(rows[i].sync.ms, c->rounds).med;

		if (max_wrote(&rows[i].resync, c->rounds)) {
			printf("FAIL: a no-change resync at %u wrote %zu entries\n", rows[i].size,
			       max_wrote(&rows[i].resync, c->rounds));
			ok = false;
		}
		if (rows[i].size == 10000)
			s10 = s;
		if (rows[i].size == 100000)
			s100 = s;
	}
	if (s10 > 0 && s100 > 0) {
		printf("scaling: sync at 100k costs %.1fx the sync at 10k (bound: < 20x)\n",
		       s100 / s10);
		ok = ok && s100 / s10 < 20;
	}
	return ok;
}

static bool parse_sizes(const char *arg, struct cfg *c)
{
	char *end;

	c->n_sizes = 0;
	while (*arg && c->n_sizes < MAX_SIZES) {
		unsigned long v = strtoul(arg, &end, 10);

		if (end == arg || v == 0 || v > 4000000 || (*end && *end != ','))
			return false;
		c->sizes[c->n_sizes++] = (unsigned)v;
		arg = *end ? end + 1 : end;
	}
	return c->n_sizes > 0 && !*arg;
}

static void parse_args(int argc, char **argv, struct cfg *c)
{
	static const struct option opts[] = {
	    {"endpoints", required_argument, NULL, 'e'},
	    {"quick", no_argument, NULL, 'q'},
	    {"scale-check", no_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"sizes", required_argument, NULL, 'z'},
	    {0},
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'e':
			c->endpoints = optarg;
			break;
		case 'q':
			c->sizes[0] = 10000;
			c->n_sizes = 1;
			c->rounds = 2;
			break;
		case 's':
			c->scale_check = true;
			c->sizes[0] = 10000;
			c->sizes[1] = 100000;
			c->n_sizes = 2;
			c->rounds = 3;
			break;
		case 'j':
			c->json = true;
			break;
		case 'r':
			c->rounds = (unsigned)atoi(optarg);
			if (c->rounds < 1 || c->rounds > MAX_ROUNDS)
				die("--rounds: 1..32, not '%s'", optarg);
			break;
		case 'z':
			if (!parse_sizes(optarg, c))
				die("--sizes: expected N[,N...] ascending, not '%s'", optarg);
			break;
		default:
			exit(2);
		}
	}
	if (!c->endpoints)
		die("%s", "--endpoints URL is required");
}

/* Whatever way the parent exits (die() included), the datapath and the keys go. */
static const struct cfg *cleanup_cfg;

static void cleanup(void)
{
	struct kv_options o = {.endpoints = cleanup_cfg->endpoints};
	struct kv_client *kv = NULL;

	dp_unload(cleanup_cfg->bpffs);
	if (!kv_open(&kv, &o))
		kv_delete(kv, cleanup_cfg->prefix, true, NULL);
	kv_close(kv);
}

int main(int argc, char **argv)
{
	struct cfg c = {.sizes = {10000, 100000, 500000}, .n_sizes = 3, .rounds = 5};
	struct row rows[MAX_SIZES] = {0};
	struct kv_client *kv;
	struct store s;
	struct batch b;
	unsigned have = 0;
	bool ok;

	log_set_level(LOG_LEVEL_ERROR);
	parse_args(argc, argv, &c);
	if (geteuid() != 0) {
		fprintf(stderr, "pp-sync-bench: needs root (loads a datapath); skipped\n");
		return 77;
	}
	snprintf(c.prefix, sizeof(c.prefix), "/bench-sync-%d/", getpid());
	snprintf(c.bpffs, sizeof(c.bpffs), "/sys/fs/bpf/pp-bench-sync-%d", getpid());
	cleanup_cfg = &c;
	atexit(cleanup);
	kv = kv_or_die(&c);
	b = (struct batch){.kv = kv};
	if (store_init(&s, kv, c.prefix))
		die("%s", "store_init");
	put_identities(&s, &b);
	put_policies(&s, &b);
	for (size_t i = 0; i < c.n_sizes; i++) {
		if (c.sizes[i] < have)
			die("%s", "--sizes must be ascending");
		put_ipcache(&s, &b, have, c.sizes[i]);
		have = c.sizes[i];
		rows[i].size = have;
		measure(&c, &rows[i]);
	}
	kv_close(kv);
	if (c.json)
		print_json(&c, rows, c.n_sizes);
	else
		print_table(&c, rows, c.n_sizes);
	ok = print_goals(&c, rows, c.n_sizes);
	if (c.scale_check)
		return scale_ok(&c, rows, c.n_sizes) ? 0 : 1;
	(void)ok; /* goals are reported, not enforced: the bound above is the test */
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_policy: the policy engine at scale — full compile of N endpoints against 10k
 * identities and 1k policies (time, peak RSS), then the incremental path (one new
 * identity, one changed policy) side by side with a full recompile of the same endpoints
 * in the same run. Every incremental result is checked against the full recompile, so the
 * figures are for correct output.
 *
 * Usage: bench_policy [--quick] [--json] [--identities N] [--policies N] [--endpoints N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "bench/policy/policy_gen.h"
#include "policy/compile.h"
#include "policy/engine.h"
#include "policy/labels.h"

struct cfg {
	unsigned identities, policies, endpoints;
	bool json;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double peak_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_policy: %s\n", what);
	exit(1);
}

static void policy_key(char *buf, size_t len, unsigned k)
{
	snprintf(buf, len, "p%u", k);
}

/* Full recompile of every endpoint; checks it equals the engine's incremental state. */
static double full_recompile(struct policy_engine *e, unsigned n_eps, size_t *total)
{
	double t0 = now_ms(), elapsed;
	struct policy_entry *full[64];
	size_t n[64];

	*total = 0;
	for (unsigned ep = 0; ep < n_eps; ep++)
		if (policy_engine_compile_full(e, ep + 1, &full[ep], &n[ep]))
			die("compile");
	elapsed = now_ms() - t0;
	for (unsigned ep = 0; ep < n_eps; ep++) {
		size_t cur_n;
		const struct policy_entry *cur = policy_engine_entries(e, ep + 1, &cur_n);

		if (cur_n != n[ep] || memcmp(cur, full[ep], cur_n * sizeof(*cur)))
			die("incremental state differs from a full recompile");
		*total += n[ep];
		free(full[ep]);
	}
	return elapsed;
}

static size_t diff_size(const struct policy_changes *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_eps; i++)
		n += c->eps[i].n_add + c->eps[i].n_del;
	return n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quick", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"identities", required_argument, NULL, 'i'},
	    {"policies", required_argument, NULL, 'p'},
	    {"endpoints", required_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cfg cfg = {.identities = 10000, .policies = 1000, .endpoints = 10};
	double t_load, t_compile, t_inc_id, t_full_id, t_inc_pol, t_full_pol, t0, rss_before;
	size_t entries, entries_id, entries_pol, d_id, d_pol;
	struct policy_changes ch = {0};
	struct policy_engine *e;
	struct label_set ls;
	char key[32], err[512];
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			cfg.identities = 1000;
			cfg.policies = 100;
			cfg.endpoints = 3;
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'i':
			cfg.identities = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			cfg.policies = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			cfg.endpoints = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"Usage: bench_policy [--quick] [--json] [--identities N] "
				"[--policies N] [--endpoints N (<= 64)]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (cfg.endpoints < 1 || cfg.endpoints > 64 || cfg.identities < 100 ||
	    cfg.identities > 65000 || cfg.policies < 10)
		die("--endpoints 1..64, --identities 100..65000, --policies >= 10");

	rss_before = peak_rss_mib();
	e = policy_engine_new();
	if (!e)
		die("out of memory");
	t0 = now_ms();
	for (unsigned i = 0; i < cfg.identities; i++) {
		bench_identity_labels(&ls, i);
		if (policy_engine_identity_set(e, 256 + i, &ls, NULL))
			die("identity");
		label_set_free(&ls);
	}
	for (unsigned k = 0; k < cfg.policies; k++) {
		json_t *p = bench_make_policy(k, 0);

		policy_key(key, sizeof(key), k);
		if (!p || policy_engine_policy_set(e, key, p, NULL, err, sizeof(err)))
			die(err);
		json_decref(p);
	}
	t_load = now_ms() - t0;

	/* Endpoints look like identities spread over apps, tiers and namespaces. */
	t0 = now_ms();
	for (unsigned ep = 0; ep < cfg.endpoints; ep++) {
		bench_identity_labels(&ls, ep * 37);
		if (policy_engine_endpoint_set(e, ep + 1, &ls, NULL))
			die("endpoint");
		label_set_free(&ls);
	}
	t_compile = now_ms() - t0;
	full_recompile(e, cfg.endpoints, &entries);

	/* One identity appears: it matches peers of several policies of every endpoint. */
	bench_identity_labels(&ls, 10001); /* tier t1: a peer of the t0 rules endpoint 1 has */
	t0 = now_ms();
	if (policy_engine_identity_set(e, 256 + cfg.identities, &ls, &ch))
		die("identity");
	t_inc_id = now_ms() - t0;
	label_set_free(&ls);
	d_id = diff_size(&ch);
	policy_changes_free(&ch);
	t_full_id = full_recompile(e, cfg.endpoints, &entries_id);

	/* One policy that selects endpoint 1 changes. */
	{
		json_t *p = bench_make_policy(0, 1);

		policy_key(key, sizeof(key), 0);
		t0 = now_ms();
		if (policy_engine_policy_set(e, key, p, &ch, err, sizeof(err)))
			die(err);
		t_inc_pol = now_ms() - t0;
		json_decref(p);
	}
	d_pol = diff_size(&ch);
	policy_changes_free(&ch);
	t_full_pol = full_recompile(e, cfg.endpoints, &entries_pol);

	if (cfg.json) {
		json_t *o = json_pack(
		    "{s:i, s:i, s:i, s:f, s:f, s:I, s:f, s:f, s:I, s:f, s:f, s:I, s:f}",
		    "identities", cfg.identities, "policies", cfg.policies, "endpoints",
		    cfg.endpoints, "load_ms", t_load, "full_compile_ms", t_compile, "entries",
		    (json_int_t)entries, "identity_add_incremental_ms", t_inc_id,
		    "identity_add_full_recompile_ms", t_full_id, "identity_add_diff_entries",
		    (json_int_t)d_id, "policy_change_incremental_ms", t_inc_pol,
		    "policy_change_full_recompile_ms", t_full_pol, "policy_change_diff_entries",
		    (json_int_t)d_pol, "peak_rss_mib", peak_rss_mib());
		char *s = json_dumps(o, JSON_COMPACT);

		puts(s);
		free(s);
		json_decref(o);
	} else {
		printf("policy engine: %u identities x %u policies, %u endpoints "
		       "(%zu entries in all)\n",
		       cfg.identities, cfg.policies, cfg.endpoints, entries);
		printf("%-44s %12s %12s\n", "step", "time (ms)", "entries");
		printf("%-44s %12.2f %12s\n", "load identities + parse policies", t_load, "-");
		printf("%-44s %12.2f %12zu\n", "full compile, all endpoints", t_compile, entries);
		printf("%-44s %12.3f %12zu\n", "1 new identity: incremental (diff)", t_inc_id,
		       d_id);
		printf("%-44s %12.2f %12zu\n", "1 new identity: full recompile (baseline)",
		       t_full_id, entries_id);
		printf("%-44s %12.3f %12zu\n", "1 policy changed: incremental (diff)", t_inc_pol,
		       d_pol);
		printf("%-44s %12.2f %12zu\n", "1 policy changed: full recompile (baseline)",
		       t_full_pol, entries_pol);
		printf("%-44s %12.1f (%.1f before the engine)\n", "peak RSS (MiB)", peak_rss_mib(),
		       rss_before);
	}
	policy_engine_free(e);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-agent-populate: fills a store prefix with bench/policy's synthetic cluster (the same
 * generator and shapes as bench/sync): 10k identities (ids 256..10255, identity 256 is the
 * machine under test), 1k policies and N ipcache entries, in txns of 128 puts. For
 * bench/agent, which then starts pseudopodd on that prefix.
 *
 * Usage: pp-agent-populate --endpoints URL --prefix P --ipcache N
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench/policy/policy_gen.h"
#include "lib/kv/kv.h"
#include "store/store.h"

#define N_IDENTITIES 10000u
#define N_POLICIES   1000u
#define FIRST_ID     256u

struct batch {
	struct kv_client *kv;
	struct kv_txn *t;
};

static void die(const char *what)
{
	fprintf(stderr, "pp-agent-populate: %s\n", what);
	exit(1);
}

static void flush(struct batch *b, bool force)
{
	struct kv_txn_result r = {0};

	if (!b->t || (!force && kv_txn_ops(b->t) < STORE_TXN_MAX_OPS))
		return;
	if (kv_txn_commit(b->kv, b->t, &r) < 0)
		die(kv_error(b->kv));
	kv_txn_result_free(&r);
	kv_txn_free(b->t);
	b->t = NULL;
}

static void put(struct batch *b, const char *key, char *val)
{
	if (!val || (!b->t && !(b->t = kv_txn_new())) ||
	    kv_txn_put(b->t, true, key, val, strlen(val), 0))
		die("out of memory");
	free(val);
	flush(b, false);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"endpoints", required_argument, NULL, 'e'},
					     {"prefix", required_argument, NULL, 'p'},
					     {"ipcache", required_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	const char *endpoints = NULL, *prefix = NULL;
	unsigned long n = 100000;
	struct batch b = {0};
	struct store s;
	char key[512], name[32];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'e')
			endpoints = optarg;
		else if (c == 'p')
			prefix = optarg;
		else if (c == 'n')
			n = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (!endpoints || !prefix || n > 16u * 65536u)
		die("usage: --endpoints URL --prefix P --ipcache N (N <= 1048576)");
	if (kv_open(&b.kv, &(struct kv_options){.endpoints = endpoints, .timeout_ms = 60000}) ||
	    store_init(&s, b.kv, prefix))
		die("cannot open the store");
	for (unsigned i = 0; i < N_IDENTITIES; i++) {
		struct label_set ls = {0};

		bench_identity_labels(&ls, i);
		store_key(&s, key, sizeof(key), "identities/%u", FIRST_ID + i);
		put(&b, key, store_identity_encode(&ls));
		label_set_free(&ls);
	}
	for (unsigned k = 0; k < N_POLICIES; k++) {
		json_t *p = bench_make_policy(k, 0), *md = json_object_get(p, "metadata");
		const char *ns = json_string_value(json_object_get(md, "namespace"));

		snprintf(name, sizeof(name), "p%u", k);
		json_object_set_new(md, "name", json_string(name));
		store_key(&s, key, sizeof(key), "policies/%s/%s", ns ? ns : "_cluster", name);
		put(&b, key, json_dumps(p, JSON_COMPACT));
		json_decref(p);
	}
	for (unsigned long j = 0; j < n; j++) {
		struct store_ipcache e = {.identity = FIRST_ID + (uint32_t)(j % N_IDENTITIES)};

		snprintf(e.gateway, sizeof(e.gateway), "10.99.0.2");
		store_key(&s, key, sizeof(key), "ipcache/10.%lu.%lu.%lu/32", 100 + j / 65536,
			  (j / 256) % 256, j % 256);
		put(&b, key, store_ipcache_encode(&e));
	}
	flush(&b, true);
	kv_close(b.kv);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-bench-api-lookup: what one `pseudopod identity --ip` costs the daemon's loop
 * (api_state_ipcache_lookup() on a pinned datapath), for an address held by a host entry,
 * one held only by a CIDR entry, and one nothing holds; with the full map walk (the
 * dp_ipcache_foreach() baseline, what the lookup did before) in the same run.
 *
 *   pp-bench-api-lookup --bpffs DIR HOST_IP CIDR_IP ABSENT_IP [ROUNDS] [--json]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "agent/api_state.h"
#include "bpf/dp.h"
#include "lib/net.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int count(const struct dp_ipcache_entry *e, void *ctx)
{
	(void)e;
	(*(size_t *)ctx)++;
	return 0;
}

/* which: 0 = api_state_ipcache_lookup, 1 = a full dp_ipcache_foreach walk */
static void run(struct dp *dp, const char *label, const char *ip, int which, int rounds, bool json)
{
	uint64_t *t = calloc((size_t)rounds, sizeof(*t));
	struct dp_ipcache_entry e = {0};
	struct net_prefix p;
	char why[128];
	int rc = 0;

	if (!t || !net_ip_parse(ip, AF_UNSPEC, &p, why, sizeof(why))) {
		fprintf(stderr, "%s: %s\n", ip, t ? why : "out of memory");
		exit(2);
	}
	for (int i = 0; i < rounds; i++) {
		uint64_t t0 = now_ns();
		size_t n = 0;

		rc = which ? dp_ipcache_foreach(dp, count, &n)
			   : api_state_ipcache_lookup(dp, &p, &e);
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)rounds, sizeof(*t), cmp_u64);
	if (json)
		printf("{\"case\":\"%s\",\"method\":\"%s\",\"rc\":%d,\"plen\":%u,"
		       "\"identity\":%u,\"p50_us\":%.1f,\"max_us\":%.1f}\n",
		       label, which ? "walk" : "lookup", rc, e.plen, e.identity,
		       t[rounds / 2] / 1e3, t[rounds - 1] / 1e3);
	else
		printf("%-8s %-7s rc=%-4d /%-3u id %-9u p50 %10.1f us  max %10.1f us\n", label,
		       which ? "walk" : "lookup", rc, e.plen, e.identity, t[rounds / 2] / 1e3,
		       t[rounds - 1] / 1e3);
	free(t);
}

int main(int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[argc - 1], "--json");
	int n = argc - json, rounds;
	struct dp *dp;
	int rc;

	if (n < 6 || strcmp(argv[1], "--bpffs")) {
		fprintf(stderr, "usage: pp-bench-api-lookup --bpffs DIR HOST_IP CIDR_IP ABSENT_IP "
				"[ROUNDS] [--json]\n");
		return 2;
	}
	rounds = n > 6 ? atoi(argv[6]) : 21;
	if (rounds < 1)
		rounds = 1;
	rc = dp_open(argv[2], &dp);
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(-rc));
		return 1;
	}
	run(dp, "host", argv[3], 0, rounds, json);
	run(dp, "cidr", argv[4], 0, rounds, json);
	run(dp, "absent", argv[5], 0, rounds, json);
	run(dp, "any", argv[3], 1, rounds > 5 ? 5 : rounds, json);
	dp_close(dp);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-bench-api-identities: what one GET /v1/identities (`pseudopod identity list`) costs the
 * daemon's loop with N identities of two labels each: building the reply
 * (api_state_identities()) and encoding it as the server does (compact JSON), and the reply's
 * size. No root needed.
 *
 *   pp-bench-api-identities [N] [ROUNDS] [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/api_state.h"
#include "policy/engine.h"
#include "policy/labels.h"

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

int main(int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[argc - 1], "--json");
	int n = argc > 1 + json ? atoi(argv[1]) : 10000;
	int rounds = argc > 2 + json ? atoi(argv[2]) : 21;
	struct policy_engine *e = policy_engine_new();
	uint64_t *t = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(*t));
	size_t bytes = 0;
	char text[128], why[128];

	if (!e || !t || n < 1 || rounds < 1) {
		fprintf(stderr, "usage: pp-bench-api-identities [N] [ROUNDS] [--json]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		struct label_set ls;

		snprintf(text, sizeof(text), "app=svc-%d,io.kubernetes.pod.namespace=ns-%d", i,
			 i % 50);
		if (!label_set_parse(&ls, text, why, sizeof(why)) ||
		    policy_engine_identity_set(e, 256 + (uint32_t)i, &ls, NULL)) {
			fprintf(stderr, "identity %d: %s\n", i, why);
			return 1;
		}
		label_set_free(&ls);
	}
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();
		json_t *out = NULL;
		char *s;

		if (api_state_identities(e, &out))
			return 1;
		s = json_dumps(out, JSON_COMPACT);
		t[r] = now_ns() - t0;
		bytes = s ? strlen(s) : 0;
		free(s);
		json_decref(out);
	}
	qsort(t, (size_t)rounds, sizeof(*t), cmp_u64);
	if (json)
		printf("{\"identities\":%d,\"bytes\":%zu,\"p50_ms\":%.2f,\"max_ms\":%.2f}\n",
		       n + 10, bytes, t[rounds / 2] / 1e6, t[rounds - 1] / 1e6);
	else
		printf("%d identities (+10 reserved): reply %zu bytes, build+encode p50 %.2f ms, "
		       "max %.2f ms (%d rounds)\n",
		       n, bytes, t[rounds / 2] / 1e6, t[rounds - 1] / 1e6, rounds);
	free(t);
	policy_engine_free(e);
	return 0;
}

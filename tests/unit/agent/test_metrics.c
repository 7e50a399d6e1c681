// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of agent/metrics.c: the exposition text (HELP/TYPE, label escaping, ages
 * computed at render time, the datapath counters' mapping), the registry's refusals, the
 * listen-address parser, and `promtool check metrics` on a filled registry. promtool comes
 * from Debian's prometheus package (scripts/deps); without it the test skips, except under
 * CI=true where a skip would hide a broken check: there it fails.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/metrics.h"
#include "bpf/dp.h"

#define NOW (1000ull * 1000000000ull)

static void assert_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strncmp(text, want + 1, strlen(want + 1)))
		return; /* the first line */
	if (!strstr(text, want))
		fprintf(stderr, "missing line: %s\n--- text ---\n%s", line, text);
	assert_non_null(strstr(text, want));
}

static struct metrics *filled(void)
{
	static const char *const gw[] = {"gw \"a\"\\b\nc", NULL}, *const gw2[] = {"gw-2", NULL};
	static const char *const in[] = {"ingress", NULL}, *const eg[] = {"egress", NULL};
	struct dp_metric c[DP_METRICS_SLOTS] = {0};
	struct metrics *m;

	assert_int_equal(metrics_new(&m), 0);
	c[DP_DIR_INGRESS * DP_REASON_MAX + DP_OK_POLICY] = (struct dp_metric){10, 1000};
	c[DP_DIR_INGRESS * DP_REASON_MAX + DP_OK_CT_ESTABLISHED] = (struct dp_metric){90, 9000};
	c[DP_DIR_EGRESS * DP_REASON_MAX + DP_DROP_POLICY_DENY] = (struct dp_metric){3, 180};
	c[DP_DIR_EGRESS * DP_REASON_MAX + DP_DROP_POLICY] = (struct dp_metric){4, 240};
	c[DP_METRIC_EVENTS_LOST] = (struct dp_metric){7, 0};
	metrics_update_datapath(m, c);
	assert_int_equal(metrics_set(m, "pseudopod_identities", NULL, 12), 0);
	assert_int_equal(metrics_set(m, "pseudopod_ipcache_entries", NULL, 30), 0);
	assert_int_equal(metrics_set(m, "pseudopod_policy_revision", NULL, 42), 0);
	assert_int_equal(metrics_set(m, "pseudopod_policy_entries", in, 2), 0);
	assert_int_equal(metrics_set(m, "pseudopod_policy_entries", eg, 1), 0);
	assert_int_equal(metrics_set(m, "pseudopod_store_connected", NULL, 1), 0);
	assert_int_equal(
	    metrics_set_age(m, "pseudopod_store_last_sync_age_seconds", NULL, NOW - 2500000000ull),
	    0);
	assert_int_equal(metrics_set(m, "pseudopod_store_sync_lag_seconds", NULL, 0.004), 0);
	assert_int_equal(metrics_set(m, "pseudopod_tunnel_peers", NULL, 2), 0);
	assert_int_equal(
	    metrics_set_age(m, "pseudopod_tunnel_handshake_age_seconds", gw, NOW - 12500000000ull),
	    0);
	assert_int_equal(
	    metrics_set_age(m, "pseudopod_tunnel_handshake_age_seconds", gw2, NOW - 1000000000ull),
	    0);
	assert_int_equal(metrics_set(m, "pseudopod_enrolled", NULL, 1), 0);
	return m;
}

static void test_render(void **state)
{
	struct metrics *m = filled();
	char *text = metrics_render(m, NOW);

	assert_non_null(text);
	assert_line(text,
		    "# HELP pseudopod_forward_count_total Packets forwarded by the datapath.");
	assert_line(text, "# TYPE pseudopod_forward_count_total counter");
	assert_line(text, "pseudopod_forward_count_total{direction=\"ingress\"} 100");
	assert_line(text, "pseudopod_forward_bytes_total{direction=\"ingress\"} 10000");
	assert_line(text, "pseudopod_forward_count_total{direction=\"egress\"} 0");
	assert_line(text,
		    "pseudopod_drop_count_total{reason=\"policy-deny\",direction=\"egress\"} 3");
	assert_line(
	    text,
	    "pseudopod_drop_bytes_total{reason=\"policy-default-deny\",direction=\"egress\"} 240");
	assert_line(text,
		    "pseudopod_drop_count_total{reason=\"short-l2\",direction=\"ingress\"} 0");
	assert_line(text,
		    "pseudopod_policy_verdicts_total{direction=\"ingress\",action=\"allowed\"} 10");
	assert_line(text,
		    "pseudopod_policy_verdicts_total{direction=\"egress\",action=\"denied\"} 3");
	assert_line(
	    text,
	    "pseudopod_policy_verdicts_total{direction=\"egress\",action=\"default-denied\"} 4");
	assert_line(text, "pseudopod_events_lost_total 7");
	assert_line(text, "# TYPE pseudopod_identities gauge");
	assert_line(text, "pseudopod_identities 12");
	assert_line(text, "pseudopod_policy_entries{direction=\"egress\"} 1");
	assert_line(text, "pseudopod_store_last_sync_age_seconds 2.5");
	assert_line(text, "pseudopod_store_sync_lag_seconds 0.004");
	/* Escaping: backslash, quote and newline in a label value. */
	assert_line(
	    text, "pseudopod_tunnel_handshake_age_seconds{gateway=\"gw \\\"a\\\"\\\\b\\nc\"} 12.5");
	assert_line(text, "pseudopod_tunnel_handshake_age_seconds{gateway=\"gw-2\"} 1");
	assert_line(text, "pseudopod_build_info{version=\"" PSEUDOPOD_VERSION "\"} 1");
	assert_line(text, "pseudopod_enrolled 1");
	free(text);
	/* Ages never go negative (a sample set "in the future" of the render's clock). */
	assert_int_equal(metrics_set_age(m, "pseudopod_store_last_sync_age_seconds", NULL, NOW + 5),
			 0);
	text = metrics_render(m, NOW);
	assert_line(text, "pseudopod_store_last_sync_age_seconds 0");
	free(text);
	metrics_free(m);
}

static void test_refusals(void **state)
{
	static const char *const one[] = {"x", NULL}, *const three[] = {"a", "b", "c", NULL};
	struct metrics *m;
	char *text;

	assert_int_equal(metrics_new(&m), 0);
	assert_int_equal(metrics_set(m, "pseudopod_no_such", NULL, 1), -EINVAL);
	assert_int_equal(metrics_set(m, "pseudopod_drop_count_total", one, 1), -EINVAL);
	assert_int_equal(metrics_set(m, "pseudopod_tunnel_handshake_age_seconds", NULL, 1),
			 -EINVAL);
	assert_int_equal(metrics_set(m, "pseudopod_tunnel_handshake_age_seconds", three, 1),
			 -EINVAL);
	assert_int_equal(metrics_clear(m, "pseudopod_no_such"), -EINVAL);
	assert_int_equal(metrics_add(m, "pseudopod_tunnel_peers", NULL, 2), 0);
	assert_int_equal(metrics_add(m, "pseudopod_tunnel_peers", NULL, 1), 0);
	assert_int_equal(metrics_set(m, "pseudopod_tunnel_handshake_age_seconds", one, 3), 0);
	assert_int_equal(metrics_clear(m, "pseudopod_tunnel_handshake_age_seconds"), 0);
	text = metrics_render(m, NOW);
	assert_line(text, "pseudopod_tunnel_peers 3");
	assert_null(strstr(text, "pseudopod_tunnel_handshake_age_seconds{"));
	/* A family without samples still says what it is. */
	assert_line(text, "# TYPE pseudopod_tunnel_handshake_age_seconds gauge");
	free(text);
	metrics_free(m);
}

static void test_address_parse(void **state)
{
	struct sockaddr_storage ss;
	unsigned int len;
	char why[128];

	assert_true(metrics_address_parse("127.0.0.1:9962", &ss, &len, why, sizeof(why)));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_true(metrics_address_parse("[::1]:9962", &ss, &len, why, sizeof(why)));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_true(metrics_address_parse("0.0.0.0:0", &ss, &len, why, sizeof(why)));
	assert_false(metrics_address_parse("127.0.0.1", &ss, &len, why, sizeof(why)));
	assert_false(metrics_address_parse("localhost:9962", &ss, &len, why, sizeof(why)));
	assert_false(metrics_address_parse("127.0.0.1:99999", &ss, &len, why, sizeof(why)));
	assert_false(metrics_address_parse("::1:9962", &ss, &len, why, sizeof(why)));
	assert_false(metrics_address_parse("[::1:9962", &ss, &len, why, sizeof(why)));
	assert_false(metrics_address_parse("[]:1", &ss, &len, why, sizeof(why)));
	assert_false(metrics_address_parse(":", &ss, &len, why, sizeof(why)));
}

static void test_server_refusals(void **state)
{
	struct metrics_server *s = NULL, *t = NULL;
	struct metrics *m;

	assert_int_equal(metrics_new(&m), 0);
	assert_int_equal(metrics_server_start(m, "localhost:9962", NULL, NULL, &s), -EINVAL);
	assert_int_equal(metrics_server_start(m, "127.0.0.1:0", NULL, NULL, &s), 0);
	assert_true(metrics_server_port(s) > 0);
	assert_true(metrics_server_fd(s) >= 0);
	assert_int_equal(metrics_server_run(s), 0);
	/* The port is taken: a second listener fails instead of sharing it. */
	char addr[32];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", metrics_server_port(s));
	assert_int_equal(metrics_server_start(m, addr, NULL, NULL, &t), -EADDRNOTAVAIL);
	metrics_server_stop(s);
	metrics_server_stop(NULL);
	metrics_free(m);
}

static bool have_promtool(void)
{
	return system("command -v promtool >/dev/null 2>&1") == 0;
}

static void test_promtool(void **state)
{
	char path[] = "/tmp/pp-metrics-XXXXXX", cmd[256];
	struct metrics *m;
	char *text;
	FILE *f;
	int fd, rc;

	if (!have_promtool()) {
		const char *ci = getenv("CI");

		if (ci && !strcmp(ci, "true"))
			fail_msg("promtool not found (apt-get install prometheus; scripts/deps)");
		skip();
	}
	m = filled();
	text = metrics_render(m, NOW);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	rc = system(cmd);
	unlink(path);
	free(text);
	metrics_free(m);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),	  cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_address_parse), cmocka_unit_test(test_server_refusals),
	    cmocka_unit_test(test_promtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

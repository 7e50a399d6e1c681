// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of agent/api.c and api_v1.c without HTTP (route dispatch, 404/405, the /v1
 * parameter checks and callback error mapping, POST-body parameters) and of the socket's
 * life (mode 0600, a live socket is never stolen, a stale one is replaced, a non-socket is
 * refused), plus the client's reply parser and the CLI renderers on fixture replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/api.h"
#include "agent/api_client.h"
#include "agent/cli_cmds.h"
#include "tests/unit/agent/fixtures.h"

static int h_ok(const struct api_request *req, json_t **out, void *ctx)
{
	*out = json_pack("{s:s,s:i}", "path", req->path, "params", (int)req->n_params);
	return 200;
}

static int h_none(const struct api_request *req, json_t **out, void *ctx)
{
	return 200; /* forgets the reply: must become a 500, not a crash */
}

static struct api_server *server(const char *path)
{
	struct api_server_opts o = {.socket_path = path};
	struct api_server *s;

	assert_int_equal(api_server_new(&o, &s), 0);
	return s;
}

static int call(struct api_server *s, const char *method, const char *path,
		const struct flows_param *p, size_t n, char *err, size_t len)
{
	struct api_request req = {.method = method, .path = path, .params = p, .n_params = n};
	json_t *out = NULL;
	int status = api_dispatch(s, &req, &out);
	const char *e = json_string_value(json_object_get(out, "error"));

	snprintf(err, len, "%s", e ? e : "");
	assert_non_null(out);
	json_decref(out);
	return status;
}

static void test_dispatch(void **state)
{
	struct api_server *s = server("/nonexistent/api.sock");
	char err[256];

	assert_int_equal(api_route(s, "GET", "/a", h_ok, NULL), 0);
	assert_int_equal(api_route(s, "POST", "/a", h_ok, NULL), 0);
	assert_int_equal(api_route(s, "GET", "/a", h_ok, NULL), -EEXIST);
	assert_int_equal(api_route(s, "GET", "/none", h_none, NULL), 0);
	assert_int_equal(call(s, "GET", "/a", NULL, 0, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/b", NULL, 0, err, sizeof(err)), 404);
	assert_string_equal(err, "no such endpoint: /b");
	assert_int_equal(call(s, "DELETE", "/a", NULL, 0, err, sizeof(err)), 405);
	assert_string_equal(err, "DELETE not allowed on /a (allowed: GET, POST)");
	assert_int_equal(call(s, "GET", "/a/", NULL, 0, err, sizeof(err)), 404);
	assert_int_equal(call(s, "GET", "/none", NULL, 0, err, sizeof(err)), 500);
	api_server_free(s);
}

static int not_ready(json_t **out, void *ctx)
{
	return -EAGAIN;
}

static int broken(const struct api_policy_query *q, json_t **out, char *err, size_t len, void *ctx)
{
	return -EIO;
}

static void test_v1(void **state)
{
	struct api_server *s = server("/nonexistent/api.sock");
	struct flows *f;
	char err[256];
	const struct flows_param bad_verdict[] = {{"verdict", "maybe"}};
	const struct flows_param status_param[] = {{"x", "1"}};
	const struct flows_param trace_ok[] = {
	    {"src", "10.244.1.5"}, {"dst", "10.99.0.2"}, {"dport", "5432"}};
	const struct flows_param trace_refused[] = {{"src", "10.0.0.66"}, {"dst", "10.99.0.2"}};
	const struct flows_param trace_bad[] = {{"src", "10.244.1.5"}, {"dst", "fd00::2"}};
	const struct flows_param pol_ep[] = {{"endpoint", "300"}},
				 pol_other[] = {{"endpoint", "301"}},
				 pol_bad[] = {{"endpoint", "0"}};
	const struct flows_param id_ok[] = {{"id", "300"}}, id_unknown[] = {{"id", "77"}},
				 id_bad[] = {{"id", "x"}};

	assert_int_equal(flows_new(16, &fixture_lookup, &f), 0);
	fixture_fill(f);
	assert_int_equal(api_v1_register(s, &fixture_ops, f), 0);
	assert_int_equal(call(s, "GET", "/v1/status", NULL, 0, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/v1/status", status_param, 1, err, sizeof(err)), 400);
	assert_string_equal(err, "parameter 'x': /v1/status takes no parameters");
	assert_int_equal(call(s, "GET", "/v1/flows", NULL, 0, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/v1/flows", bad_verdict, 1, err, sizeof(err)), 400);
	assert_string_equal(err, "parameter 'verdict': 'maybe': expected forwarded or dropped");
	assert_int_equal(call(s, "GET", "/v1/policy", NULL, 0, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/v1/policy/trace", trace_ok, 3, err, sizeof(err)), 200);
	assert_int_equal(call(s, "POST", "/v1/policy/trace", trace_ok, 3, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/v1/policy/trace", trace_refused, 2, err, sizeof(err)),
			 400);
	assert_string_equal(err, "trace: no identity for 10.0.0.66");
	assert_int_equal(call(s, "GET", "/v1/policy/trace", trace_bad, 2, err, sizeof(err)), 400);
	assert_string_equal(err, "parameter 'dst': not of the same address family as src");
	assert_int_equal(call(s, "PUT", "/v1/status", NULL, 0, err, sizeof(err)), 405);
	assert_int_equal(call(s, "GET", "/v1/identity", NULL, 0, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/v1/identity", id_ok, 1, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/v1/identity", id_unknown, 1, err, sizeof(err)), 404);
	assert_string_equal(err, "identity: 77: no such identity");
	assert_int_equal(call(s, "GET", "/v1/identity", id_bad, 1, err, sizeof(err)), 400);
	assert_string_equal(err, "parameter 'id': 'x' is not a number, expected an integer from 1 "
				 "to 4294967295");
	assert_int_equal(call(s, "GET", "/v1/policy", pol_ep, 1, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/v1/policy", pol_other, 1, err, sizeof(err)), 404);
	assert_string_equal(err, "policy: endpoint 301: not enforced here (this machine is "
				 "endpoint 300)");
	assert_int_equal(call(s, "GET", "/v1/policy", pol_bad, 1, err, sizeof(err)), 400);
	assert_string_equal(err, "parameter 'endpoint': 0 is out of range, expected an integer "
				 "from 1 to 4294967295");
	assert_int_equal(call(s, "GET", "/v1/policy", status_param, 1, err, sizeof(err)), 400);
	assert_string_equal(err, "parameter 'x': unknown parameter (expected endpoint)");
	assert_int_equal(call(s, "GET", "/v1/identities", NULL, 0, err, sizeof(err)), 200);
	assert_int_equal(call(s, "GET", "/v1/identities", id_ok, 1, err, sizeof(err)), 400);
	assert_string_equal(err, "parameter 'id': /v1/identities takes no parameters");
	api_server_free(s);

	/* Callback errors: not ready -> 503, failure -> 500, absent -> 501. */
	struct api_v1_ops ops = {.status = not_ready, .policy_get = broken};

	s = server("/nonexistent/api.sock");
	assert_int_equal(api_v1_register(s, &ops, f), 0);
	assert_int_equal(call(s, "GET", "/v1/status", NULL, 0, err, sizeof(err)), 503);
	assert_int_equal(call(s, "GET", "/v1/policy", NULL, 0, err, sizeof(err)), 500);
	assert_string_equal(err, "policy: Input/output error");
	assert_int_equal(call(s, "GET", "/v1/policy/trace", trace_ok, 3, err, sizeof(err)), 501);
	assert_int_equal(call(s, "GET", "/v1/identity", NULL, 0, err, sizeof(err)), 501);
	assert_int_equal(call(s, "GET", "/v1/identities", NULL, 0, err, sizeof(err)), 501);
	api_server_free(s);
	flows_free(f);
}

static void test_trace_parse(void **state)
{
	static const struct {
		struct flows_param p[4];
		size_t n;
		const char *bad; /* NULL = valid */
	} cases[] = {
	    {{{"src", "10.0.0.1"}, {"dst", "10.0.0.2"}}, 2, NULL},
	    {{{"src", "fd00::1"}, {"dst", "fd00::2"}, {"proto", "icmpv6"}, {"dport", "128"}},
	     4,
	     NULL},
	    {{{"src", "10.0.0.1"}}, 1, "dst"},
	    {{{"dst", "10.0.0.1"}}, 1, "src"},
	    {{{"src", "10.0.0.1"}, {"dst", "10.0.0.2"}, {"dport", "65536"}}, 3, "dport"},
	    {{{"src", "10.0.0.1"}, {"dst", "10.0.0.2"}, {"proto", "gre"}}, 3, "proto"},
	    {{{"src", "10.0.0.1"}, {"dst", "10.0.0.2"}, {"proto", "any"}, {"dport", "80"}},
	     4,
	     "dport"},
	    {{{"src", "10.0.0.1"}, {"dst", "10.0.0.2"}, {"proto", "icmp"}, {"dport", "300"}},
	     4,
	     "dport"},
	    {{{"src", "10.0.0.1/32"}, {"dst", "10.0.0.2"}}, 2, "src"},
	    {{{"src", "10.0.0.1"}, {"src", "10.0.0.2"}}, 2, "src"},
	    {{{"src", "10.0.0.1"}, {"dst", "10.0.0.2"}, {"sport", "1"}}, 3, "sport"},
	};
	struct api_trace_query q;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *bad = NULL;
		char why[128] = "";
		bool ok = api_trace_parse(cases[i].p, cases[i].n, &q, &bad, why, sizeof(why));

		if (ok != !cases[i].bad)
			fprintf(stderr, "case %zu: %s %s\n", i, bad ? bad : "", why);
		assert_int_equal(ok, !cases[i].bad);
		if (!ok) {
			assert_string_equal(bad, cases[i].bad);
			assert_true(why[0]);
		}
	}
}

static void test_identity_parse(void **state)
{
	static const struct {
		struct flows_param p[3];
		size_t n;
		enum api_identity_by by;
		const char *bad; /* NULL = valid */
		const char *why;
	} cases[] = {
	    {{{0}}, 0, API_IDENTITY_SELF, NULL, NULL},
	    {{{"id", "4097"}}, 1, API_IDENTITY_ID, NULL, NULL},
	    {{{"id", "4294967295"}}, 1, API_IDENTITY_ID, NULL, NULL},
	    {{{"ip", "fd00::1"}}, 1, API_IDENTITY_IP, NULL, NULL},
	    {{{"id", "0"}},
	     1,
	     0,
	     "id",
	     "0 is out of range, expected an integer from 1 to 4294967295"},
	    {{{"id", "4294967296"}},
	     1,
	     0,
	     "id",
	     "4294967296 is out of range, expected an integer from 1 to 4294967295"},
	    {{{"id", "web"}},
	     1,
	     0,
	     "id",
	     "'web' is not a number, expected an integer from 1 to 4294967295"},
	    {{{"ip", "10.0.0.0/8"}}, 1, 0, "ip", "'10.0.0.0/8' is not an IPv4 or IPv6 address"},
	    {{{"ip", NULL}}, 1, 0, "ip", "needs a value"},
	    {{{"id", "1"}, {"ip", "10.0.0.1"}}, 2, 0, "ip", "id and ip exclude each other"},
	    {{{"id", "1"}, {"id", "2"}}, 2, 0, "id", "given twice"},
	    {{{"name", "x"}}, 1, 0, "name", "unknown parameter (expected id or ip)"},
	};
	struct api_identity_query q;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *bad = NULL;
		char why[128] = "";
		bool ok = api_identity_parse(cases[i].p, cases[i].n, &q, &bad, why, sizeof(why));

		if (ok != !cases[i].bad || (!ok && strcmp(why, cases[i].why)))
			fprintf(stderr, "case %zu: %s %s\n", i, bad ? bad : "", why);
		assert_int_equal(ok, !cases[i].bad);
		if (ok) {
			assert_int_equal(q.by, cases[i].by);
		} else {
			assert_string_equal(bad, cases[i].bad);
			assert_string_equal(why, cases[i].why);
		}
	}
	assert_true(api_identity_parse(cases[1].p, 1, &q, &(const char *){0}, (char[8]){0}, 8));
	assert_int_equal(q.id, 4097);
}

static void test_body_params(void **state)
{
	static const char *const bad[] = {"",
					  "[1]",
					  "{\"a\":{\"b\":1}}",
					  "{\"a\":1,\"a\":2}",
					  "{\"a\":null}",
					  "{\"a\":1.5}",
					  "{\"a\":"};
	struct flows_param p[API_PARAMS_MAX];
	const char *good = "{\"src\":\"10.0.0.1\",\"dport\":80,\"x\":true}";
	json_t *doc;
	char why[128];
	size_t n;

	assert_true(
	    api_body_params(good, strlen(good), &doc, p, API_PARAMS_MAX, &n, why, sizeof(why)));
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(p[i].key, "dport"))
			assert_string_equal(p[i].value, "80");
		if (!strcmp(p[i].key, "x"))
			assert_string_equal(p[i].value, "true");
	}
	json_decref(doc);
	assert_false(api_body_params(good, strlen(good), &doc, p, 2, &n, why, sizeof(why)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(api_body_params(bad[i], strlen(bad[i]), &doc, p, API_PARAMS_MAX, &n,
					     why, sizeof(why)));
		assert_null(doc);
		assert_true(why[0]);
	}
}

/* ---- the socket ---- */

static char dir[64], sock[128];

static int setup_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pp-api-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/run/api.sock", dir);
	return 0;
}

static int teardown_dir(void **state)
{
	char p[160];

	unlink(sock);
	snprintf(p, sizeof(p), "%s/run", dir);
	rmdir(p);
	rmdir(dir);
	return 0;
}

static void test_socket_life(void **state)
{
	struct api_server *a = server(sock), *b = server(sock);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	assert_int_equal(api_server_listen(a), 0);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(api_server_fd(a) >= 0);
	/* A second server must not steal a live socket. */
	assert_int_equal(api_server_listen(b), -EADDRINUSE);
	api_server_free(b);
	assert_int_equal(lstat(sock, &st), 0);
	api_server_free(a);
	assert_int_equal(lstat(sock, &st), -1); /* removed at exit */

	/* A stale socket (bound, nobody listening) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	a = server(sock);
	assert_int_equal(api_server_listen(a), 0);
	api_server_free(a);

	/* A regular file is never unlinked. */
	fd = open(sock, O_CREAT | O_WRONLY, 0644);
	close(fd);
	a = server(sock);
	assert_int_equal(api_server_listen(a), -EEXIST);
	api_server_free(a);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(sock);
}

/* ---- client side ---- */

static char *render(void (*fn)(FILE *, const json_t *), const json_t *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, v);
	fclose(f);
	return buf;
}

static void test_client_render(void **state)
{
	json_t *st = NULL, *pol = NULL;
	char why[128], *text;

	assert_false(api_client_parse_reply("nope", 4, &st, why, sizeof(why)));
	assert_false(api_client_parse_reply("[]", 2, &st, why, sizeof(why)));
	assert_true(api_client_parse_reply("{}", 2, &st, why, sizeof(why)));
	json_decref(st);
	assert_int_equal(fixture_ops.status(&st, NULL), 0);
	text = render(cli_render_status, st);
	assert_non_null(strstr(text, "Enrollment:\n  enrolled:   yes\n  name:       vm-db-1\n"));
	assert_non_null(strstr(text, "  labels:     k8s:app=db\n"));
	assert_non_null(strstr(text, "  gateways:\n    NAME  ENDPOINT          ACTIVE  HANDSHAKE "
				     "AGE S  RX BYTES  TX BYTES\n"));
	assert_non_null(
	    strstr(text, "    gw-1  192.0.2.10:51871  yes     12               4096      2048\n"));
	assert_non_null(strstr(text, "Store:\n"));
	free(text);
	assert_int_equal(
	    fixture_ops.policy_get(&(struct api_policy_query){0}, &pol, (char[64]){0}, 64, NULL),
	    0);
	text = render(cli_render_policy, pol);
	assert_non_null(strstr(text, "ingress   allow   400        tcp     5432         "
				     "prod/allow-web-to-db           ingress[0]     "
				     "k8s:app=web,k8s:io.kubernetes.pod.namespace=prod\n"));
	assert_non_null(strstr(text, "ingress   deny    any        tcp     22           "
				     "prod/deny-ssh                  ingressDeny[0] -\n"));
	free(text);
	json_decref(st);
	json_decref(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dispatch),
	    cmocka_unit_test(test_v1),
	    cmocka_unit_test(test_trace_parse),
	    cmocka_unit_test(test_identity_parse),
	    cmocka_unit_test(test_body_params),
	    cmocka_unit_test_setup_teardown(test_socket_life, setup_dir, teardown_dir),
	    cmocka_unit_test(test_client_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

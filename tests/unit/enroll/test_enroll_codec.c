// SPDX-License-Identifier: GPL-2.0-only
/* The pure parts of enroll/: join strings, tokens, pins, API messages, overlay addresses,
 * config edits. Tables of inputs with the expected verdict and the words of the reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "enroll/ipalloc.h"
#include "enroll/join.h"
#include "enroll/proto.h"
#include "enroll/state.h"

static const struct enroll_join sample = {
    .url = "https://enroll.lab:9443",
    .pin = {1,	2,  3,	4,  5,	6,  7,	8,  9,	10, 11, 12, 13, 14, 15, 16,
	    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32},
    .token = {.id = "abc123", .secret = "0123456789abcdef0123456789abcdef"},
};

/* "pp1." + base64url of text */
static char *wrap(const char *text)
{
	size_t len =
	    sodium_base64_ENCODED_LEN(strlen(text), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(4 + len);

	assert_non_null(out);
	memcpy(out, "pp1.", 4);
	sodium_bin2base64(out + 4, len, (const unsigned char *)text, strlen(text),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

static void test_join_roundtrip(void **state)
{
	struct enroll_join j;
	char why[256], *text = enroll_join_encode(&sample), *padded;

	assert_non_null(text);
	assert_true(enroll_join_decode(text, strlen(text), &j, why, sizeof(why)));
	assert_string_equal(j.url, sample.url);
	assert_memory_equal(j.pin, sample.pin, ENROLL_PIN_LEN);
	assert_string_equal(j.token.id, "abc123");
	assert_string_equal(j.token.secret, sample.token.secret);
	/* Copy-paste leaves blanks around it. */
	assert_true(asprintf(&padded, "  %s\n", text) > 0);
	assert_true(enroll_join_decode(padded, strlen(padded), &j, why, sizeof(why)));
	free(padded);
	free(text);
}

struct join_case {
	const char *payload; /* JSON wrapped as pp1.<b64url>, or raw when raw */
	bool raw;
	const char *why; /* expected words of the reason */
};

static void test_join_rejects(void **state)
{
	static const char pin[] =
	    "sha256:0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
	char good_pin_json[512];
	const struct join_case cases[] = {
	    {"", true, "start with 'pp1.'"},
	    {"pp2.abc", true, "start with 'pp1.'"},
	    {"pp1.", true, "not a JSON object"},
	    {"pp1.!!!!", true, "base64url"},
	    {"pp1.eyJ1cmwiOi", true, "join string"}, /* truncated */
	    {"[1,2]", false, "not a JSON object"},
	    {"{}", false, "url: missing"},
	    {"{\"url\":5}", false, "url: missing or not a string"},
	    {"{\"url\":\"http://a\",\"ca\":\"x\",\"token\":\"x\"}", false, "https://"},
	    {"{\"url\":\"https://a/path\",\"ca\":\"x\",\"token\":\"x\"}", false, "path"},
	    {"{\"url\":\"https://\",\"ca\":\"x\",\"token\":\"x\"}", false, "no host"},
	    {"{\"url\":\"https://a\",\"ca\":\"sha1:00\",\"token\":\"x\"}", false, "CA pin"},
	    {good_pin_json, false, "token: id"},
	};
	char why[256];
	struct enroll_join j;

	snprintf(good_pin_json, sizeof(good_pin_json),
		 "{\"url\":\"https://a:1\",\"ca\":\"%s\",\"token\":\"ABC123.0123456789abcdef"
		 "0123456789abcdef\"}",
		 pin);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = cases[i].raw ? strdup(cases[i].payload) : wrap(cases[i].payload);

		why[0] = '\0';
		assert_false(enroll_join_decode(text, strlen(text), &j, why, sizeof(why)));
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: reason '%s' lacks '%s'", i, why, cases[i].why);
		free(text);
	}
}

static void test_token_parse(void **state)
{
	static const struct {
		const char *text;
		bool ok;
	} cases[] = {
	    {"abc123.0123456789abcdef0123456789abcdef", true},
	    {"abc123.0123456789ABCDEF0123456789abcdef", false}, /* uppercase hex */
	    {"abc12.0123456789abcdef0123456789abcdef0", false},
	    {"abc123-0123456789abcdef0123456789abcdef", false},
	    {"abc123.0123456789abcdef0123456789abcde", false},
	    {"abc_23.0123456789abcdef0123456789abcdef", false},
	    {"", false},
	};
	struct enroll_token t, g;
	char why[128], hash[65];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    enroll_token_parse(cases[i].text, strlen(cases[i].text), &t, why, sizeof(why)),
		    cases[i].ok);
	assert_int_equal(enroll_token_generate(&g), 0);
	char text[ENROLL_TOKEN_LEN + 1];
	snprintf(text, sizeof(text), "%s.%s", g.id, g.secret);
	assert_true(enroll_token_parse(text, strlen(text), &t, why, sizeof(why)));
	/* SHA-256("abc") */
	enroll_secret_hash("abc", hash);
	assert_string_equal(hash,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_ip_pick(void **state)
{
	const char *used[] = {"10.0.0.1", "10.9.9.9", "fd00::1"};
	uint64_t cap;
	char ip[46];

	/* A /30: .1 and .2 only (not the network, not the broadcast address). */
	assert_int_equal(enroll_ip_pick("10.0.0.0/30", used, 1, 0, ip, &cap), 0);
	assert_int_equal(cap, 2);
	assert_string_equal(ip, "10.0.0.2");
	assert_int_equal(enroll_ip_pick("10.0.0.0/30", used, 1, 1, ip, &cap), 0);
	assert_string_equal(ip, "10.0.0.2");
	const char *full[] = {"10.0.0.1", "10.0.0.2"};
	assert_int_equal(enroll_ip_pick("10.0.0.0/30", full, 2, 7, ip, &cap), -ENOSPC);
	/* Every start finds the one free address of a /24 with 253 used. */
	char bufs[256][16];
	const char *many[256];
	size_t n = 0;
	for (int i = 1; i < 255; i++) {
		if (i == 77)
			continue;
		snprintf(bufs[n], sizeof(bufs[n]), "10.1.2.%d", i);
		many[n] = bufs[n];
		n++;
	}
	for (uint64_t start = 0; start < 300; start += 13) {
		assert_int_equal(enroll_ip_pick("10.1.2.0/24", many, n, start, ip, NULL), 0);
		assert_string_equal(ip, "10.1.2.77");
	}
	assert_int_equal(enroll_ip_pick("fd00::/126", used, 3, 0, ip, &cap), 0);
	assert_int_equal(cap, 3);
	assert_string_equal(ip, "fd00::2");
	assert_int_equal(enroll_ip_pick("10.0.0.0", used, 0, 0, ip, NULL), -EINVAL);
	assert_int_equal(enroll_ip_pick("10.0.0.1/8", used, 0, 0, ip, NULL), -EINVAL);
	assert_int_equal(enroll_ip_pick("10.0.0.0/08", used, 0, 0, ip, NULL), -EINVAL);
	assert_int_equal(enroll_ip_pick("10.0.0.0/33", used, 0, 0, ip, NULL), -EINVAL);
	assert_int_equal(enroll_ip_pick("10.0.0.0/8", used, 3, 123456, ip, &cap), 0);
	assert_int_equal(cap, (1u << 24) - 2);
}

static void test_conf_apply(void **state)
{
	const struct enroll_conf_set sets[] = {
	    {"agent", "name", "db1"},
	    {"store", "endpoints", "https://e:2379"},
	    {"store", "user", "pp_wl_db1_x"},
	    {"tunnel", "mode", "vxlan"},
	};
	const char *in = "# mine\n[agent]\nname = old\n;name = commented\nlog-level = debug\n\n"
			 "[store]\nprefix = /x/\n\n[datapath]\nhost-firewall = on\n";
	char *out = enroll_conf_apply(in, sets, 4);

	assert_non_null(out);
	assert_string_equal(out, "# mine\n[agent]\nname = db1\n;name = commented\nlog-level = "
				 "debug\n\n[store]\nprefix = /x/\nendpoints = https://e:2379\n"
				 "user = pp_wl_db1_x\n\n[datapath]\nhost-firewall = on\n"
				 "\n[tunnel]\nmode = vxlan\n");
	/* Idempotent. */
	char *again = enroll_conf_apply(out, sets, 4);
	assert_string_equal(again, out);
	free(again);
	free(out);
	out = enroll_conf_apply(NULL, sets, 1);
	assert_string_equal(out, "\n[agent]\nname = db1\n");
	free(out);
}

static void test_request(void **state)
{
	static const struct {
		const char *body, *why;
	} bad[] = {
	    {"", "not JSON"},
	    {"[]", "expected a JSON object"},
	    {"{}", "token: missing"},
	    {"{\"token\":1}", "token: expected a string"},
	    {"{\"token\":\"abc123.0123456789abcdef0123456789abcdef\"}", "underlay_ip: missing"},
	    {"{\"token\":\"abc123.0123456789abcdef0123456789abcdef\",\"underlay_ip\":\"x\"}",
	     "underlay_ip: 'x' is not an IPv4 or IPv6 address"},
	    {"{\"token\":\"abc123.0123456789abcdef0123456789abcdef\",\"underlay_ip\":\"1.2.3.4\","
	     "\"name\":\"Bad_Name\"}",
	     "name: 'Bad_Name'"},
	    {"{\"token\":\"abc123.0123456789abcdef0123456789abcdef\",\"underlay_ip\":\"1.2.3.4\","
	     "\"wg_public_key\":\"short\"}",
	     "wg_public_key"},
	    {"{\"token\":\"abc123.0123456789abcdef0123456789abcdef\",\"token\":\"x\"}", "not JSON"},
	};
	struct enroll_request r = {.token = sample.token,
				   .name = "db1",
				   .hostname = "db1.lab",
				   .underlay_ip = "10.99.0.20",
				   .wg_public_key = "Ak9JzsClQqWMKGQ+yUZFed0uWHcxrVlivZxuHePFcHA="};
	struct enroll_request back;
	char why[256], *text = enroll_request_encode(&r);

	assert_true(enroll_request_decode(text, strlen(text), &back, why, sizeof(why)));
	assert_memory_equal(&back, &r, sizeof(r));
	free(text);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_false(enroll_request_decode(bad[i].body, strlen(bad[i].body), &back, why,
						   sizeof(why)));
		if (!strstr(why, bad[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, why, bad[i].why);
	}
}

static void test_response(void **state)
{
	struct enroll_response r = {0}, back;
	struct store_gateway gw = {.name = "gw1",
				   .underlay_ip = "10.99.0.3",
				   .wireguard_port = 51871,
				   .n_cidrs = 1,
				   .cidrs = {"10.200.0.0/16"}};
	char why[256], *text;

	snprintf(r.workload.name, sizeof(r.workload.name), "db1");
	r.workload.identity = 300;
	snprintf(r.workload.overlay_ip, sizeof(r.workload.overlay_ip), "10.201.0.5");
	snprintf(r.workload.namespace_, sizeof(r.workload.namespace_), "prod");
	snprintf(r.workload.underlay_ip, sizeof(r.workload.underlay_ip), "10.99.0.20");
	assert_true(label_set_parse(&r.workload.labels, "app=db", why, sizeof(why)));
	snprintf(r.cluster.cluster_name, sizeof(r.cluster.cluster_name), "lab");
	r.cluster.cluster_id = 7;
	r.cluster.n_pod_cidrs = 1;
	snprintf(r.cluster.pod_cidrs[0], STORE_CIDR_MAX, "10.200.0.0/16");
	snprintf(r.cluster.service_cidr, STORE_CIDR_MAX, "10.96.0.0/12");
	snprintf(r.cluster.workload_cidr, STORE_CIDR_MAX, "10.201.0.0/16");
	r.cluster.wireguard_port = 51871;
	r.cluster.vxlan_port = 8472;
	r.gateways = &gw;
	r.n_gateways = 1;
	snprintf(r.store_endpoints, sizeof(r.store_endpoints), "https://127.0.0.1:2379");
	snprintf(r.store_prefix, sizeof(r.store_prefix), "/pseudopod/v1/");
	snprintf(r.store_user, sizeof(r.store_user), "pp_wl_db1_01234567");
	snprintf(r.store_password, sizeof(r.store_password), "pw");
	text = enroll_response_encode(&r);
	assert_non_null(text);
	if (!enroll_response_decode(text, strlen(text), &back, why, sizeof(why)))
		fail_msg("%s: %s", text, why);
	assert_string_equal(back.workload.name, "db1");
	assert_int_equal(back.workload.identity, 300);
	assert_int_equal(back.n_gateways, 1);
	assert_string_equal(back.gateways[0].name, "gw1");
	assert_string_equal(back.store_user, "pp_wl_db1_01234567");
	assert_string_equal(back.store_password, "pw");
	assert_null(back.store_ca);
	enroll_response_free(&back);
	free(text);
	label_set_free(&r.workload.labels);
	assert_false(enroll_response_decode("{\"version\":2}", 13, &back, why, sizeof(why)));
	assert_non_null(strstr(why, "version"));
	assert_false(
	    enroll_response_decode("{\"version\":1,\"name\":\"x\"}", 24, &back, why, sizeof(why)));
	assert_non_null(strstr(why, "workload"));
}

/* tokens/<id> (store/store_token.c): what the server trusts to hold only a hash. */
static void test_token_record(void **state)
{
	static const char h[] = "e2923cbae19c40e0ade627ecbe4aa3a4d13bda7243d5991eb247d9369470e030";
	static const struct {
		const char *key, *value, *why;
	} bad[] = {
	    {"/p/tokens/ABCDEF", "{}", "not a token id"},
	    {"/p/tokens/abc12", "{}", "not a token id"},
	    {"/p/tokens/abc123", "nope", "expected a JSON object"},
	    {"/p/tokens/abc123", "{\"version\":2}", "version"},
	    {"/p/tokens/abc123", "{\"version\":1}", "secret_sha256: missing"},
	    {"/p/tokens/abc123",
	     "{\"version\":1,\"secret_sha256\":\"E2923CBAE19C40E0ADE627ECBE4AA3A4D13BDA7243D599"
	     "1EB247D9369470E030\",\"namespace\":\"prod\",\"expires_at\":1,\"uses\":1,"
	     "\"uses_left\":1,\"labels\":[]}",
	     "64 lowercase hex"},
	    {"/p/tokens/abc123",
	     "{\"version\":1,\"secret_sha256\":\"e2923cbae19c40e0ade627ecbe4aa3a4d13bda7243d599"
	     "1eb247d9369470e030\",\"namespace\":\"prod\",\"expires_at\":1,\"uses\":1,"
	     "\"uses_left\":2,\"labels\":[]}",
	     "uses_left <= uses"},
	    {"/p/tokens/abc123",
	     "{\"version\":1,\"secret_sha256\":\"e2923cbae19c40e0ade627ecbe4aa3a4d13bda7243d599"
	     "1eb247d9369470e030\",\"namespace\":\"Prod\",\"expires_at\":1,\"uses\":1,"
	     "\"uses_left\":1,\"labels\":[]}",
	     "namespace"},
	    {"/p/tokens/abc123",
	     "{\"version\":1,\"secret_sha256\":\"e2923cbae19c40e0ade627ecbe4aa3a4d13bda7243d599"
	     "1eb247d9369470e030\",\"namespace\":\"prod\",\"expires_at\":1,\"uses\":1,"
	     "\"uses_left\":1,\"labels\":[],\"revoked\":1}",
	     "revoked"},
	};
	struct store_token t = {.id = "abc123",
				.namespace_ = "prod",
				.name = "db1",
				.created_at = 10,
				.expires_at = 20,
				.uses = 3,
				.uses_left = 2,
				.revoked = true};
	struct store_token back;
	char why[256], *text;

	memcpy(t.secret_sha256, h, sizeof(h));
	assert_true(label_set_parse(&t.labels, "app=db", why, sizeof(why)));
	text = store_token_encode(&t);
	assert_non_null(text);
	assert_true(
	    store_token_decode("/p/tokens/abc123", text, strlen(text), &back, why, sizeof(why)));
	assert_string_equal(back.id, "abc123");
	assert_string_equal(back.secret_sha256, h);
	assert_string_equal(back.name, "db1");
	assert_true(back.revoked && back.uses == 3 && back.uses_left == 2 && back.expires_at == 20);
	assert_true(label_set_equal(&back.labels, &t.labels));
	store_token_clear(&back);
	free(text);
	label_set_free(&t.labels);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_false(store_token_decode(bad[i].key, bad[i].value, strlen(bad[i].value),
						&back, why, sizeof(why)));
		if (!strstr(why, bad[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, why, bad[i].why);
	}
}

static void test_error_body(void **state)
{
	char code[64], msg[512], *text = enroll_error_encode("token_used", "used\x1b[31m");

	assert_true(enroll_error_decode(text, strlen(text), code, msg));
	assert_string_equal(code, "token_used");
	assert_string_equal(msg, "used [31m"); /* no terminal escapes reach the screen */
	free(text);
	assert_false(enroll_error_decode("{}", 2, code, msg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_roundtrip), cmocka_unit_test(test_join_rejects),
	    cmocka_unit_test(test_token_parse),	   cmocka_unit_test(test_ip_pick),
	    cmocka_unit_test(test_conf_apply),	   cmocka_unit_test(test_request),
	    cmocka_unit_test(test_response),	   cmocka_unit_test(test_token_record),
	    cmocka_unit_test(test_error_body),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

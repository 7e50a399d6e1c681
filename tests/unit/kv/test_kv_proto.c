// SPDX-License-Identifier: GPL-2.0-only
/* lib/kv's wire-format parsers, fed with replies as etcd 3.4's gateway writes them and with
 * broken ones (which must be -EPROTO, never a crash). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/kv/kv_proto.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	assert_non_null(j);
	return j;
}

static void test_b64(void **state)
{
	static const char bin[] = "a\0b\"\xff";
	char *enc = kv_b64_encode(bin, 5), *dec;
	size_t len;

	assert_string_equal(enc, "YQBiIv8=");
	assert_int_equal(kv_b64_decode(enc, &dec, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(dec, bin, 5);
	free(enc);
	free(dec);
	assert_int_equal(kv_b64_decode("not base64!", &dec, &len), -EPROTO);
	assert_int_equal(kv_b64_decode("", &dec, &len), 0);
	assert_int_equal(len, 0);
	free(dec);
}

static void test_int64(void **state)
{
	json_t *j = J("{\"a\":\"123\",\"b\":5,\"c\":\"x\",\"d\":\"\",\"e\":[]}");
	int64_t v;

	assert_true(kv_json_int64(j, "a", &v));
	assert_int_equal(v, 123);
	assert_true(kv_json_int64(j, "b", &v));
	assert_int_equal(v, 5);
	assert_true(kv_json_int64(j, "missing", &v));
	assert_int_equal(v, 0);
	assert_false(kv_json_int64(j, "c", &v));
	assert_false(kv_json_int64(j, "d", &v));
	assert_false(kv_json_int64(j, "e", &v));
	json_decref(j);
}

static void test_range(void **state)
{
	json_t *j =
	    J("{\"header\":{\"cluster_id\":\"1\",\"revision\":\"42\"},\"kvs\":[{\"key\":"
	      "\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"40\",\"version\":\"3\","
	      "\"value\":\"YmFy\"},{\"key\":\"Zm9vMg==\"}],\"more\":true,\"count\":\"7\"}");
	struct kv_range_result r;
	char err[128];

	assert_int_equal(kv_parse_range(j, &r, err, sizeof(err)), 0);
	assert_int_equal(r.revision, 42);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.count, 7);
	assert_true(r.more);
	assert_string_equal(r.kvs[0].key, "foo");
	assert_string_equal(r.kvs[0].value, "bar");
	assert_int_equal(r.kvs[0].mod_revision, 40);
	assert_int_equal(r.kvs[0].version, 3);
	assert_string_equal(r.kvs[1].key, "foo2");
	assert_int_equal(r.kvs[1].value_len, 0); /* protobuf omits empty values */
	kv_range_result_free(&r);
	json_decref(j);

	/* an empty range has no kvs field at all */
	j = J("{\"header\":{\"revision\":\"9\"}}");
	assert_int_equal(kv_parse_range(j, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	kv_range_result_free(&r);
	json_decref(j);

	const char *bad[] = {
	    "{\"kvs\":{}}",
	    "{\"kvs\":[1]}",
	    "{\"kvs\":[{\"key\":\"!!\"}]}",
	    "{\"header\":{\"revision\":\"x\"}}",
	    "{\"kvs\":[{\"key\":\"YQ==\",\"version\":[]}]}",
	    "{\"more\":\"yes\"}",
	    "[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = J(bad[i]);
		assert_int_equal(kv_parse_range(j, &r, err, sizeof(err)), -EPROTO);
		json_decref(j);
	}
}

static void test_txn(void **state)
{
	json_t *j = J("{\"header\":{\"revision\":\"10\"},\"succeeded\":true,\"responses\":[{"
		      "\"response_put\":{\"header\":{}}},{\"response_range\":{\"kvs\":[{\"key\":"
		      "\"YQ==\",\"value\":\"MQ==\"}],\"count\":\"1\"}}]}");
	struct kv_txn_result r;
	char err[128];

	assert_int_equal(kv_parse_txn(j, &r, err, sizeof(err)), 0);
	assert_true(r.succeeded);
	assert_int_equal(r.revision, 10);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ranges[0].n, 0);
	assert_int_equal(r.ranges[1].n, 1);
	assert_string_equal(r.ranges[1].kvs[0].value, "1");
	kv_txn_result_free(&r);
	json_decref(j);
	/* "succeeded": false is omitted by the gateway */
	j = J("{\"header\":{\"revision\":\"11\"}}");
	assert_int_equal(kv_parse_txn(j, &r, err, sizeof(err)), 0);
	assert_false(r.succeeded);
	kv_txn_result_free(&r);
	json_decref(j);
	j = J("{\"responses\":[\"x\"]}");
	assert_int_equal(kv_parse_txn(j, &r, err, sizeof(err)), -EPROTO);
	json_decref(j);
}

static void test_errors(void **state)
{
	char msg[128];
	json_t *j = J("{\"error\":\"etcdserver: permission denied\",\"code\":7,"
		      "\"message\":\"etcdserver: permission denied\"}");

	assert_int_equal(kv_parse_error(j, msg, sizeof(msg)), -EACCES);
	assert_string_equal(msg, "etcdserver: permission denied");
	json_decref(j);
	j = J("{\"error\":{\"grpc_code\":16,\"http_code\":401,\"message\":\"etcdserver: invalid "
	      "auth token\"}}");
	assert_int_equal(kv_parse_error(j, msg, sizeof(msg)), -EACCES);
	assert_string_equal(msg, "etcdserver: invalid auth token");
	json_decref(j);
	j = J("{\"error\":\"etcdserver: requested lease not found\",\"code\":5}");
	assert_int_equal(kv_parse_error(j, msg, sizeof(msg)), -ENOENT);
	json_decref(j);
	j = J("{\"error\":\"etcdserver: mvcc: required revision has been compacted\",\"code\":11}");
	assert_int_equal(kv_parse_error(j, msg, sizeof(msg)), -ERANGE);
	json_decref(j);
	j = J("{\"result\":{}}");
	assert_int_equal(kv_parse_error(j, msg, sizeof(msg)), 0);
	json_decref(j);
	assert_int_equal(kv_errno_from_grpc(14, "etcdserver: no leader"), -EAGAIN);
}

static void test_watch_msgs(void **state)
{
	struct kv_watch_msg m;
	char err[128];
	json_t *j = J("{\"header\":{\"revision\":\"5\"},\"created\":true}");

	assert_int_equal(kv_parse_watch_msg(j, &m, err, sizeof(err)), 0);
	assert_true(m.created);
	assert_int_equal(m.header_revision, 5);
	kv_watch_msg_free(&m);
	json_decref(j);
	j = J("{\"header\":{\"revision\":\"7\"},\"events\":[{\"kv\":{\"key\":\"YQ==\",\"value\":"
	      "\"Yg==\",\"mod_revision\":\"6\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"YQ==\","
	      "\"mod_revision\":\"7\"}}]}");
	assert_int_equal(kv_parse_watch_msg(j, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_events, 2);
	assert_int_equal(m.events[0].type, KV_EVENT_PUT);
	assert_string_equal(m.events[0].kv.value, "b");
	assert_int_equal(m.events[1].type, KV_EVENT_DELETE);
	assert_int_equal(m.events[1].kv.mod_revision, 7);
	kv_watch_msg_free(&m);
	json_decref(j);
	j = J("{\"header\":{\"revision\":\"90\"},\"canceled\":true,\"compact_revision\":\"80\"}");
	assert_int_equal(kv_parse_watch_msg(j, &m, err, sizeof(err)), 0);
	assert_true(m.canceled);
	assert_int_equal(m.compact_revision, 80);
	kv_watch_msg_free(&m);
	json_decref(j);
	j = J("{\"events\":[{\"type\":\"BOGUS\",\"kv\":{}}]}");
	assert_int_equal(kv_parse_watch_msg(j, &m, err, sizeof(err)), -EPROTO);
	json_decref(j);
	j = J("{\"events\":[{\"kv\":5}]}");
	assert_int_equal(kv_parse_watch_msg(j, &m, err, sizeof(err)), -EPROTO);
	json_decref(j);
}

static void test_prefix_end(void **state)
{
	char out[8];
	size_t len;

	kv_prefix_end("abc", 3, out, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "abd", 3);
	kv_prefix_end("a\xff", 2, out, &len);
	assert_int_equal(len, 1);
	assert_memory_equal(out, "b", 1);
	kv_prefix_end("\xff\xff", 2, out, &len);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 0);
	/* The empty prefix (everything): callers rely on it, no special case of their own. */
	kv_prefix_end("", 0, out, &len);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64),	       cmocka_unit_test(test_int64),
	    cmocka_unit_test(test_range),      cmocka_unit_test(test_txn),
	    cmocka_unit_test(test_errors),     cmocka_unit_test(test_watch_msgs),
	    cmocka_unit_test(test_prefix_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

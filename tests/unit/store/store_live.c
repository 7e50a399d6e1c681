// SPDX-License-Identifier: GPL-2.0-only
/*
 * store_live: lib/store against a real etcd (PP_ETCD=URL), run by tests/e2e/store_identity.sh.
 * Identity allocation (same labels -> same id, 16 concurrent allocators agree, reserved
 * ids never handed out, exhaustion is -ENOSPC), gc (and its guard against a concurrent
 * user), and loaders that skip malformed records. Every run uses its own prefix.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/kv/kv.h"
#include "store/store.h"

static char prefix[128];

static struct kv_client *open_kv(void)
{
	struct kv_options o = {.endpoints = getenv("PP_ETCD"), .timeout_ms = 5000};
	struct kv_client *c = NULL;

	assert_non_null(o.endpoints);
	assert_int_equal(kv_open(&c, &o), 0);
	return c;
}

static void labels(struct label_set *s, const char *text)
{
	char err[256];

	assert_true(label_set_parse(s, text, err, sizeof(err)));
}

static void sub_prefix(struct store *s, struct kv_client *c, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s%s/", prefix, name);
	assert_int_equal(store_init(s, c, p), 0);
}

static void test_same_labels_same_id(void **state)
{
	struct kv_client *c = open_kv();
	struct store s;
	struct label_set a, b, other;
	struct store_identity_ref r1, r2, r3;

	sub_prefix(&s, c, "same");
	labels(&a, "app=db,k8s:io.kubernetes.pod.namespace=prod");
	labels(&b, "k8s:io.kubernetes.pod.namespace=prod,k8s:app=db"); /* same set, other order */
	labels(&other, "app=web");
	assert_int_equal(store_identity_allocate(&s, &a, &r1), 0);
	assert_true(r1.created);
	assert_true(r1.id >= 256);
	assert_int_equal(store_identity_allocate(&s, &b, &r2), 0);
	assert_false(r2.created);
	assert_int_equal(r1.id, r2.id);
	assert_int_equal(store_identity_allocate(&s, &other, &r3), 0);
	assert_int_not_equal(r3.id, r1.id);
	store_identity_ref_clear(&r1);
	store_identity_ref_clear(&r2);
	store_identity_ref_clear(&r3);
	label_set_free(&a);
	label_set_free(&b);
	label_set_free(&other);
	kv_close(c);
}

/* 16 processes allocate the same label set at once: one id, one identity record. */
static void test_concurrent_allocators(void **state)
{
	int fds[16][2];
	pid_t pids[16];
	uint32_t ids[16];
	struct store s;
	struct kv_client *c;
	struct store_identity *all = NULL;
	size_t n = 0;

	for (int i = 0; i < 16; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct kv_client *cc = open_kv();
			struct store cs;
			struct label_set l;
			struct store_identity_ref r;
			uint32_t id = 0;

			sub_prefix(&cs, cc, "race");
			labels(&l, "app=race,k8s:io.kubernetes.pod.namespace=default");
			if (store_identity_allocate(&cs, &l, &r) == 0)
				id = r.id;
			else
				fprintf(stderr, "child %d: %s\n", i, store_error(&cs));
			if (write(fds[i][1], &id, sizeof(id)) != sizeof(id))
				_exit(1);
			_exit(0);
		}
		close(fds[i][1]);
	}
	for (int i = 0; i < 16; i++) {
		int st;

		assert_int_equal(read(fds[i][0], &ids[i], sizeof(ids[i])), sizeof(ids[i]));
		close(fds[i][0]);
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (int i = 0; i < 16; i++) {
		assert_true(ids[i] >= 256);
		assert_int_equal(ids[i], ids[0]);
	}
	c = open_kv();
	sub_prefix(&s, c, "race");
	assert_int_equal(store_load_identities(&s, &all, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(all[0].id, ids[0]);
	store_identities_free(all, n);
	kv_close(c);
}

static void test_exhaustion_and_reserved(void **state)
{
	struct kv_client *c = open_kv();
	struct store s;
	char text[64];

	sub_prefix(&s, c, "exhaust");
	/* Reserved ids cannot be configured as allocatable. */
	assert_int_equal(store_set_identity_range(&s, 1, 300), -EINVAL);
	assert_int_equal(store_set_identity_range(&s, 256, 70000), -EINVAL);
	assert_int_equal(store_set_identity_range(&s, 256, 259), 0);
	for (int i = 0; i < 5; i++) {
		struct label_set l;
		struct store_identity_ref r;
		int rc;

		snprintf(text, sizeof(text), "app=x%d", i);
		labels(&l, text);
		rc = store_identity_allocate(&s, &l, &r);
		if (i < 4) {
			assert_int_equal(rc, 0);
			assert_int_equal(r.id, 256 + (uint32_t)i);
			store_identity_ref_clear(&r);
		} else {
			assert_int_equal(rc, -ENOSPC);
			assert_non_null(strstr(store_error(&s), "exhausted"));
		}
		label_set_free(&l);
	}
	kv_close(c);
}

static void test_endpoint_and_gc(void **state)
{
	struct kv_client *c = open_kv();
	struct store s;
	struct label_set a, b;
	struct store_ipcache *eps = NULL;
	size_t n = 0, removed = 0;
	uint32_t ida = 0, idb = 0;

	sub_prefix(&s, c, "gc");
	labels(&a, "app=a");
	labels(&b, "app=b");
	assert_int_equal(store_endpoint_add(&s, "10.1.0.1", &a, STORE_IPCACHE_POD, NULL, &ida), 0);
	assert_int_equal(
	    store_endpoint_add(&s, "10.1.0.2/32", &b, STORE_IPCACHE_WORKLOAD, "10.99.0.3", &idb),
	    0);
	assert_int_equal(store_endpoint_add(&s, "10.1.0.3/24", &b, STORE_IPCACHE_POD, NULL, NULL),
			 -EINVAL); /* host bits set */
	/* issue 10 item 5: the write path refuses what can't be an endpoint, whoever calls */
	assert_int_equal(store_endpoint_add(&s, "0.0.0.0/0", &a, STORE_IPCACHE_POD, NULL, NULL),
			 -EINVAL);
	assert_int_equal(store_endpoint_add(&s, "::/0", &a, STORE_IPCACHE_POD, NULL, NULL),
			 -EINVAL);
	assert_int_equal(
	    store_endpoint_add(&s, "10.1.0.4", &b, STORE_IPCACHE_WORKLOAD, "fd00::3", NULL),
	    -EINVAL);
	assert_non_null(strstr(store_error(&s), "expected an IPv4 address"));
	{
		struct label_set r;
		struct store_identity_ref ref;

		labels(&r, "reserved:host");
		assert_int_equal(
		    store_endpoint_add(&s, "10.1.0.5", &r, STORE_IPCACHE_POD, NULL, NULL), -EINVAL);
		assert_int_equal(store_identity_allocate(&s, &r, &ref), -EINVAL);
		assert_non_null(strstr(store_error(&s), "reserved:host"));
		label_set_free(&r);
	}
	assert_int_equal(store_load_ipcache(&s, &eps, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(eps[1].cidr, "10.1.0.2/32");
	assert_int_equal(eps[1].kind, STORE_IPCACHE_WORKLOAD);
	assert_string_equal(eps[1].gateway, "10.99.0.3");
	free(eps);
	assert_int_equal(store_identity_gc(&s, false, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(store_endpoint_del(&s, "10.1.0.2"), 0);
	assert_int_equal(store_endpoint_del(&s, "10.1.0.2"), -ENOENT);
	assert_int_equal(store_identity_gc(&s, true, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_identity_gc(&s, false, &removed), 0);
	assert_int_equal(removed, 1);
	struct store_identity got;
	assert_int_equal(store_identity_get(&s, idb, &got), -ENOENT);
	assert_int_equal(store_identity_get(&s, ida, &got), 0);
	store_identity_clear(&got);
	/* After gc the labels allocate again (a fresh identity). */
	assert_int_equal(store_endpoint_add(&s, "10.1.0.2", &b, STORE_IPCACHE_POD, NULL, &idb), 0);
	assert_int_equal(store_identity_gc(&s, false, &removed), 0);
	assert_int_equal(removed, 0);
	label_set_free(&a);
	label_set_free(&b);
	kv_close(c);
}

/* An endpoint write racing gc: the guarded txns let only one of them win. */
static void test_gc_guard(void **state)
{
	struct kv_client *c = open_kv();
	struct store s;
	struct label_set a;
	struct store_identity_ref ref;
	struct kv_txn *t;
	struct kv_txn_result res;
	size_t removed = 0;
	char key[256];

	sub_prefix(&s, c, "guard");
	labels(&a, "app=guard");
	/* An allocation that nobody uses yet... */
	assert_int_equal(store_identity_allocate(&s, &a, &ref), 0);
	/* ...gc collects it... */
	assert_int_equal(store_identity_gc(&s, false, &removed), 0);
	assert_int_equal(removed, 1);
	/* ...so the user's guarded write (what store_endpoint_add does) must now fail. */
	assert_int_equal(store_key(&s, key, sizeof(key), "identities/%u", ref.id), 0);
	t = kv_txn_new();
	assert_int_equal(kv_txn_cmp(t, key, KV_CMP_MOD, KV_EQUAL, ref.mod_revision), 0);
	assert_int_equal(kv_txn_put(t, true, key, ref.value, strlen(ref.value), 0), 0);
	assert_int_equal(kv_txn_commit(c, t, &res), 0);
	assert_false(res.succeeded);
	kv_txn_result_free(&res);
	kv_txn_free(t);
	store_identity_ref_clear(&ref);
	label_set_free(&a);
	kv_close(c);
}

static void put_raw(struct kv_client *c, struct store *s, const char *path, const char *value)
{
	char key[512];

	assert_int_equal(store_key(s, key, sizeof(key), "%s", path), 0);
	assert_int_equal(kv_put(c, key, value, strlen(value), 0, NULL), 0);
}

static void test_bad_records_skipped(void **state)
{
	struct kv_client *c = open_kv();
	struct store s;
	struct store_identity *ids = NULL;
	struct store_ipcache *eps = NULL;
	struct store_policy *pols = NULL;
	struct store_workload *wls = NULL;
	struct store_gateway *gws = NULL;
	size_t n = 0;

	sub_prefix(&s, c, "bad");
	put_raw(c, &s, "identities/300", "{\"version\":1,\"labels\":[\"k8s:app=ok\"]}");
	put_raw(c, &s, "identities/301", "not json");
	put_raw(c, &s, "identities/302", "{\"version\":2,\"labels\":[]}");
	put_raw(c, &s, "identities/303", "{\"version\":1,\"labels\":[\"bad label!\"]}");
	put_raw(c, &s, "identities/12", "{\"version\":1,\"labels\":[]}");
	put_raw(c, &s, "identities/abc", "{\"version\":1,\"labels\":[]}");
	put_raw(c, &s, "identities/304", "{\"version\":1,\"labels\":[\"k8s:app=ok2\"]}");
	assert_int_equal(store_load_identities(&s, &ids, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0].id, 300);
	assert_int_equal(ids[1].id, 304);
	store_identities_free(ids, n);

	put_raw(c, &s, "ipcache/10.0.0.1/32", "{\"version\":1,\"identity\":300,\"kind\":\"pod\"}");
	put_raw(c, &s, "ipcache/10.0.0.2/32", "{\"version\":1,\"identity\":\"300\"}");
	put_raw(c, &s, "ipcache/10.0.0.3/33", "{\"version\":1,\"identity\":300}");
	put_raw(c, &s, "ipcache/10.0.0.4/32", "{\"version\":1,\"identity\":300,\"kind\":\"vm\"}");
	put_raw(c, &s, "ipcache/10.0.0.5/32",
		"{\"version\":1,\"identity\":300,\"gateway\":\"nope\"}");
	put_raw(c, &s, "ipcache/10.0.0.6/32", "{\"version\":1,\"identity\":301,\"extra\":true}");
	assert_int_equal(store_load_ipcache(&s, &eps, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(eps[0].cidr, "10.0.0.1/32");
	assert_string_equal(eps[1].cidr, "10.0.0.6/32"); /* unknown fields are fine */
	free(eps);

	put_raw(c, &s, "policies/prod/good",
		"{\"kind\":\"CiliumNetworkPolicy\",\"metadata\":{\"name\":\"good\","
		"\"namespace\":\"prod\"},\"spec\":{}}");
	put_raw(c, &s, "policies/prod/bad", "[1,2]");
	put_raw(c, &s, "policies/_cluster/cw",
		"{\"kind\":\"CiliumClusterwideNetworkPolicy\",\"metadata\":{\"name\":\"cw\"},"
		"\"spec\":{}}");
	put_raw(c, &s, "policies/prod/x/y", "{\"kind\":\"NetworkPolicy\"}");
	/* The key binds the scope (issue 10 item 2): each of these is skipped. */
	put_raw(c, &s, "policies/team-a/x",
		"{\"kind\":\"CiliumNetworkPolicy\",\"metadata\":{\"name\":\"x\","
		"\"namespace\":\"prod\"},\"spec\":{}}");
	put_raw(c, &s, "policies/team-a/cw2",
		"{\"kind\":\"CiliumClusterwideNetworkPolicy\",\"metadata\":{\"name\":\"cw2\"},"
		"\"spec\":{}}");
	put_raw(c, &s, "policies/_cluster/ns-less",
		"{\"kind\":\"CiliumNetworkPolicy\",\"metadata\":{\"name\":\"ns-less\","
		"\"namespace\":\"prod\"},\"spec\":{}}");
	put_raw(c, &s, "policies/prod/renamed",
		"{\"kind\":\"CiliumNetworkPolicy\",\"metadata\":{\"name\":\"other\","
		"\"namespace\":\"prod\"},\"spec\":{}}");
	put_raw(c, &s, "policies/../x",
		"{\"kind\":\"CiliumNetworkPolicy\",\"metadata\":{\"name\":\"x\","
		"\"namespace\":\"..\"},\"spec\":{}}");
	put_raw(c, &s, "policies/Prod/x",
		"{\"kind\":\"CiliumNetworkPolicy\",\"metadata\":{\"name\":\"x\","
		"\"namespace\":\"Prod\"},\"spec\":{}}");
	char **skipped = NULL;
	size_t n_skipped = 0;
	assert_int_equal(store_list_policies(&s, &pols, &n, &skipped, &n_skipped, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(n_skipped, 8); /* bad, x/y, and the six of the scope cases */
	store_policies_free(pols, n);
	store_policy_paths_free(skipped, n_skipped);
	assert_int_equal(store_load_policies(&s, &pols, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pols[0].namespace_, "");
	assert_string_equal(pols[0].name, "cw");
	assert_string_equal(pols[1].namespace_, "prod");
	assert_string_equal(pols[1].kind, "CiliumNetworkPolicy");
	store_policies_free(pols, n);

	put_raw(c, &s, "workloads/db1",
		"{\"version\":1,\"identity\":300,\"overlay_ip\":\"10.201.0.5\",\"labels\":"
		"[\"k8s:app=db\"],\"namespace\":\"prod\",\"underlay_ip\":\"10.99.0.20\","
		"\"enrolled_at\":1700000000}");
	put_raw(c, &s, "workloads/db1/alive", "{}");
	put_raw(c, &s, "workloads/db2", "{\"version\":1,\"identity\":300}");
	assert_int_equal(store_load_workloads(&s, &wls, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(wls[0].name, "db1");
	store_workloads_free(wls, n);
	bool alive = false;
	assert_int_equal(store_workload_alive(&s, "db1", &alive), 0);
	assert_true(alive);
	put_raw(c, &s, "ipcache/10.201.0.5/32", "{\"version\":1,\"identity\":300}");
	assert_int_equal(store_workload_delete(&s, "db1"), 0);
	assert_int_equal(store_workload_alive(&s, "db1", &alive), 0);
	assert_false(alive);
	assert_int_equal(store_load_ipcache(&s, &eps, &n, NULL), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(eps[i].cidr, "10.201.0.5/32");
	free(eps);

	put_raw(c, &s, "gateways/gw1",
		"{\"version\":1,\"underlay_ip\":\"10.99.0.3\",\"cidrs\":[\"10.200.0.0/16\"]}");
	put_raw(c, &s, "gateways/gw2", "{\"version\":1,\"underlay_ip\":\"10.99.0.3\"}");
	assert_int_equal(store_load_gateways(&s, &gws, &n), 0);
	assert_int_equal(n, 1);
	free(gws);

	put_raw(c, &s, "config", "{\"version\":1,\"cluster_name\":\"Bad Name\"}");
	struct store_config cfg;
	assert_int_equal(store_config_get(&s, &cfg), -EBADMSG);
	assert_non_null(strstr(store_error(&s), "config"));
	kv_close(c);
}

static void test_policies_put(void **state)
{
	struct kv_client *c = open_kv();
	struct store s;
	struct store_policy p[2] = {0};
	struct store_policy *got = NULL;
	size_t n = 0;

	sub_prefix(&s, c, "pol");
	snprintf(p[0].namespace_, sizeof(p[0].namespace_), "prod");
	snprintf(p[0].name, sizeof(p[0].name), "a");
	p[0].object = json_pack("{s:s,s:{s:s,s:s}}", "kind", "NetworkPolicy", "metadata", "name",
				"a", "namespace", "prod");
	snprintf(p[1].name, sizeof(p[1].name), "Bad_Name");
	p[1].object = json_pack("{s:s,s:{s:s}}", "kind", "CiliumClusterwideNetworkPolicy",
				"metadata", "name", "cw");
	/* one invalid name: nothing is stored */
	assert_int_equal(store_policies_put(&s, p, 2), -EINVAL);
	assert_int_equal(store_load_policies(&s, &got, &n, NULL), 0);
	assert_int_equal(n, 0);
	store_policies_free(got, n);
	snprintf(p[1].name, sizeof(p[1].name), "cw");
	assert_int_equal(store_policies_put(&s, p, 2), 0);
	assert_int_equal(store_load_policies(&s, &got, &n, NULL), 0);
	assert_int_equal(n, 2);
	store_policies_free(got, n);
	/* An object whose metadata names another scope than its key is refused on write too. */
	snprintf(p[0].namespace_, sizeof(p[0].namespace_), "team-a");
	assert_int_equal(store_policies_put(&s, p, 1), -EINVAL);
	assert_non_null(strstr(store_error(&s), "does not match"));
	snprintf(p[0].namespace_, sizeof(p[0].namespace_), "prod");
	assert_int_equal(store_policy_delete(&s, "", "cw"), 0);
	assert_int_equal(store_policy_delete(&s, "", "cw"), -ENOENT);
	json_decref(p[0].object);
	json_decref(p[1].object);
	kv_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_labels_same_id),
	    cmocka_unit_test(test_concurrent_allocators),
	    cmocka_unit_test(test_exhaustion_and_reserved),
	    cmocka_unit_test(test_endpoint_and_gc),
	    cmocka_unit_test(test_gc_guard),
	    cmocka_unit_test(test_bad_records_skipped),
	    cmocka_unit_test(test_policies_put),
	};

	snprintf(prefix, sizeof(prefix), "/storelive/%ld-%d/", (long)time(NULL), (int)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}

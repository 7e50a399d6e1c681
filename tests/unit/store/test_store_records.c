// SPDX-License-Identifier: GPL-2.0-only
/* lib/store's pure parts: keys, CIDR canonical form, names, and every record codec
 * (round trips, and malformed records rejected with the key and field named). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

static void test_cidr(void **state)
{
	char out[STORE_CIDR_MAX], err[200];

	assert_true(store_cidr_canon("10.0.0.1", out, err, sizeof(err)));
	assert_string_equal(out, "10.0.0.1/32");
	assert_true(store_cidr_canon("10.200.0.0/16", out, err, sizeof(err)));
	assert_string_equal(out, "10.200.0.0/16");
	assert_true(store_cidr_canon("FD00:0::1", out, err, sizeof(err)));
	assert_string_equal(out, "fd00::1/128");
	assert_true(store_cidr_canon("0.0.0.0/0", out, err, sizeof(err)));
	assert_false(store_cidr_canon("10.0.0.1/24", out, err, sizeof(err)));
	assert_non_null(strstr(err, "host bits"));
	assert_false(store_cidr_canon("10.0.0.0/33", out, err, sizeof(err)));
	assert_false(store_cidr_canon("10.0.0.0/", out, err, sizeof(err)));
	assert_false(store_cidr_canon("10.0.0.0/-1", out, err, sizeof(err)));
	assert_false(store_cidr_canon("", out, err, sizeof(err)));
	assert_false(store_cidr_canon("/8", out, err, sizeof(err)));
	assert_false(store_cidr_canon("host.example", out, err, sizeof(err)));
}

static void test_names(void **state)
{
	assert_true(store_name_valid("prod", false));
	assert_true(store_name_valid("a.b-c", true));
	assert_false(store_name_valid("a.b", false));
	assert_false(store_name_valid("Prod", false));
	assert_false(store_name_valid("-a", false));
	assert_false(store_name_valid("a-", false));
	assert_false(store_name_valid("", true));
	assert_false(store_name_valid("a..b", true));
	assert_false(store_name_valid("_cluster", false));
}

static void test_keys(void **state)
{
	struct store s;
	const char *rest;
	char key[64];

	assert_int_equal(store_init(&s, NULL, "/x"), 0);
	assert_string_equal(s.prefix, "/x/");
	assert_int_equal(store_key(&s, key, sizeof(key), "ipcache/%s", "10.0.0.1/32"), 0);
	assert_string_equal(key, "/x/ipcache/10.0.0.1/32");
	assert_int_equal(store_key(&s, key, 8, "ipcache/%s", "10.0.0.1/32"), -ENAMETOOLONG);
	assert_int_equal(store_key_kind(&s, "/x/ipcache/10.0.0.1/32", &rest), STORE_KIND_IPCACHE);
	assert_string_equal(rest, "10.0.0.1/32");
	assert_int_equal(store_key_kind(&s, "/x/config", &rest), STORE_KIND_CONFIG);
	assert_int_equal(store_key_kind(&s, "/x/identities/256", &rest), STORE_KIND_IDENTITY);
	assert_int_equal(store_key_kind(&s, "/x/identities-by-labels/ab", &rest),
			 STORE_KIND_IDENTITY_BY_LABELS);
	assert_int_equal(store_key_kind(&s, "/x/workloads/db", &rest), STORE_KIND_WORKLOAD);
	assert_int_equal(store_key_kind(&s, "/x/workloads/db/alive", &rest),
			 STORE_KIND_WORKLOAD_ALIVE);
	assert_int_equal(store_key_kind(&s, "/x/workloads/db/other", &rest), STORE_KIND_UNKNOWN);
	assert_int_equal(store_key_kind(&s, "/x/policies/prod/a", &rest), STORE_KIND_POLICY);
	assert_int_equal(store_key_kind(&s, "/x/gateways/g", &rest), STORE_KIND_GATEWAY);
	assert_int_equal(store_key_kind(&s, "/x/tokens/abcdef", &rest), STORE_KIND_TOKEN);
	assert_int_equal(store_key_kind(&s, "/y/config", &rest), STORE_KIND_UNKNOWN);
	assert_int_equal(store_key_kind(&s, "/x/ipcache/", &rest), STORE_KIND_UNKNOWN);
	assert_int_equal(store_init(&s, NULL, NULL), 0);
	assert_string_equal(s.prefix, STORE_DEFAULT_PREFIX);
}

static void test_identity(void **state)
{
	struct label_set l = {0};
	struct store_identity id;
	char err[300], *text;

	assert_true(
	    label_set_parse(&l, "app=db,k8s:io.kubernetes.pod.namespace=prod", err, sizeof(err)));
	text = store_identity_encode(&l);
	assert_string_equal(text, "{\"version\":1,\"labels\":[\"k8s:app=db\","
				  "\"k8s:io.kubernetes.pod.namespace=prod\"]}");
	assert_true(
	    store_identity_decode("/p/identities/300", text, strlen(text), &id, err, sizeof(err)));
	assert_int_equal(id.id, 300);
	assert_true(label_set_equal(&id.labels, &l));
	store_identity_clear(&id);
	assert_false(
	    store_identity_decode("/p/identities/255", text, strlen(text), &id, err, sizeof(err)));
	assert_non_null(strstr(err, "/p/identities/255"));
	assert_false(store_identity_decode("/p/identities/300", text, 5, &id, err, sizeof(err)));
	assert_false(store_identity_decode("/p/identities/300", "{\"version\":1}", 13, &id, err,
					   sizeof(err)));
	assert_non_null(strstr(err, "labels"));
	free(text);
	label_set_free(&l);

	uint32_t ref = 0;
	text = store_idref_encode(777);
	assert_string_equal(text, "{\"version\":1,\"id\":777}");
	assert_true(store_idref_decode("k", text, strlen(text), &ref, err, sizeof(err)));
	assert_int_equal(ref, 777);
	free(text);
	assert_false(
	    store_idref_decode("k", "{\"version\":1,\"id\":5}", 20, &ref, err, sizeof(err)));
}

static void test_ipcache(void **state)
{
	struct store_ipcache e = {.identity = 300, .kind = STORE_IPCACHE_WORKLOAD}, got;
	char err[300], *text;

	snprintf(e.cidr, sizeof(e.cidr), "10.0.0.1/32");
	snprintf(e.gateway, sizeof(e.gateway), "10.99.0.3");
	text = store_ipcache_encode(&e);
	assert_string_equal(text, "{\"version\":1,\"identity\":300,\"kind\":\"workload\","
				  "\"gateway\":\"10.99.0.3\"}");
	assert_true(store_ipcache_decode("/p/ipcache/10.0.0.1/32", text, strlen(text), &got, err,
					 sizeof(err)));
	assert_memory_equal(&got, &e, sizeof(e));
	/* non-canonical key */
	assert_false(store_ipcache_decode("/p/ipcache/10.0.0.01/32", text, strlen(text), &got, err,
					  sizeof(err)));
	free(text);
	assert_false(store_ipcache_decode("/p/ipcache/10.0.0.1/32", "{\"version\":1}", 13, &got,
					  err, sizeof(err)));
	assert_non_null(strstr(err, "identity: missing"));
	assert_false(store_ipcache_decode("/p/ipcache/10.0.0.1/32",
					  "{\"version\":1,\"identity\":0}", 26, &got, err,
					  sizeof(err)));
	const char dup[] = "{\"version\":1,\"identity\":5,\"identity\":6}";
	assert_false(store_ipcache_decode("/p/ipcache/10.0.0.1/32", dup, strlen(dup), &got, err,
					  sizeof(err)));
}

static void test_config(void **state)
{
	struct store_config c = {.cluster_id = 7,
				 .n_pod_cidrs = 2,
				 .tunnel = STORE_TUNNEL_VXLAN,
				 .wireguard_port = 51871,
				 .vxlan_port = 8472},
			    got;
	char err[300], *text;

	snprintf(c.cluster_name, sizeof(c.cluster_name), "lab");
	snprintf(c.pod_cidrs[0], STORE_CIDR_MAX, "10.200.0.0/16");
	snprintf(c.pod_cidrs[1], STORE_CIDR_MAX, "fd00::/64");
	snprintf(c.service_cidr, STORE_CIDR_MAX, "10.96.0.0/12");
	snprintf(c.workload_cidr, STORE_CIDR_MAX, "10.201.0.0/16");
	text = store_config_encode(&c);
	assert_true(store_config_decode(text, strlen(text), &got, err, sizeof(err)));
	assert_memory_equal(&got, &c, sizeof(c));
	free(text);
	const char *bad[] = {
	    "{\"version\":1}",
	    "{\"version\":1,\"cluster_name\":\"a\",\"cluster_id\":0,\"pod_cidrs\":[],"
	    "\"service_cidr\":\"10.96.0.0/12\",\"workload_cidr\":\"10.201.0.0/16\",\"tunnel\":"
	    "\"vxlan\"}",
	    "{\"version\":1,\"cluster_name\":\"a\",\"cluster_id\":1,\"pod_cidrs\":[\"x\"],"
	    "\"service_cidr\":\"10.96.0.0/12\",\"workload_cidr\":\"10.201.0.0/16\",\"tunnel\":"
	    "\"vxlan\"}",
	    "{\"version\":1,\"cluster_name\":\"a\",\"cluster_id\":1,\"pod_cidrs\":[\"10.0.0.0/8\"],"
	    "\"service_cidr\":\"10.96.0.0/12\",\"workload_cidr\":\"10.201.0.0/16\",\"tunnel\":"
	    "\"gre\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(store_config_decode(bad[i], strlen(bad[i]), &got, err, sizeof(err)));
}

static void test_workload_gateway(void **state)
{
	struct store_workload w = {.identity = 400, .enrolled_at = 1700000000}, gw_got;
	struct store_gateway g = {.wireguard_port = 51871, .n_cidrs = 1}, g_got;
	char err[300], *text;

	snprintf(w.name, sizeof(w.name), "db1");
	snprintf(w.overlay_ip, sizeof(w.overlay_ip), "10.201.0.5");
	snprintf(w.namespace_, sizeof(w.namespace_), "prod");
	snprintf(w.underlay_ip, sizeof(w.underlay_ip), "10.99.0.20");
	snprintf(w.wg_public_key, sizeof(w.wg_public_key),
		 "Ak9JzsClQqWMKGQ+yUZFed0uWHcxrVlivZxuHePFcHA=");
	assert_true(label_set_parse(&w.labels, "app=db", err, sizeof(err)));
	text = store_workload_encode(&w);
	assert_true(store_workload_decode("/p/workloads/db1", text, strlen(text), &gw_got, err,
					  sizeof(err)));
	assert_string_equal(gw_got.name, "db1");
	assert_int_equal(gw_got.identity, 400);
	assert_int_equal(gw_got.enrolled_at, 1700000000);
	assert_string_equal(gw_got.wg_public_key, w.wg_public_key);
	assert_true(label_set_equal(&gw_got.labels, &w.labels));
	store_workload_clear(&gw_got);
	free(text);
	snprintf(w.wg_public_key, sizeof(w.wg_public_key), "short");
	text = store_workload_encode(&w);
	assert_false(store_workload_decode("/p/workloads/db1", text, strlen(text), &gw_got, err,
					   sizeof(err)));
	assert_non_null(strstr(err, "wg_public_key"));
	free(text);
	store_workload_clear(&w);

	snprintf(g.name, sizeof(g.name), "gw1");
	snprintf(g.underlay_ip, sizeof(g.underlay_ip), "10.99.0.3");
	snprintf(g.cidrs[0], STORE_CIDR_MAX, "10.200.0.0/16");
	snprintf(g.vxlan_endpoint, sizeof(g.vxlan_endpoint), "10.99.0.3");
	text = store_gateway_encode(&g);
	assert_true(
	    store_gateway_decode("/p/gateways/gw1", text, strlen(text), &g_got, err, sizeof(err)));
	assert_memory_equal(&g_got, &g, sizeof(g));
	free(text);
	assert_false(store_gateway_decode("/p/gateways/GW", "{\"version\":1}", 13, &g_got, err,
					  sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_identity),
	    cmocka_unit_test(test_ipcache),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_workload_gateway),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

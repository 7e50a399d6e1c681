// SPDX-License-Identifier: GPL-2.0-only
/* Label sets: parsing, canonical form, errors, JSON, digest, lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/labels.h"

static void test_canonical(void **state)
{
	struct label_set s, t;
	char err[256], *str;

	assert_true(
	    label_set_parse(&s, " b=2, a=1,reserved:host,k8s:c=, any:x=y ", err, sizeof(err)));
	str = label_set_to_string(&s);
	assert_string_equal(str, "any:x=y,k8s:a=1,k8s:b=2,k8s:c,reserved:host");
	free(str);
	/* same set in another order and spelling */
	assert_true(
	    label_set_parse(&t, "reserved:host,any:x=y,k8s:b=2,c,a=1,a=1", err, sizeof(err)));
	assert_true(label_set_equal(&s, &t));
	label_set_free(&t);
	assert_string_equal(label_set_get(&s, NULL, "a"), "1");
	assert_string_equal(label_set_get(&s, "k8s", "c"), "");
	assert_string_equal(label_set_get(&s, "reserved", "host"), "");
	assert_null(label_set_get(&s, "reserved", "a"));
	assert_null(label_set_get(&s, NULL, "ab"));
	assert_string_equal(label_set_get(&s, "any", "x"), "y");
	label_set_free(&s);
	label_set_free(&s); /* accepts an empty set */

	assert_true(label_set_parse(&s, "", err, sizeof(err)));
	assert_int_equal(s.n, 0);
	str = label_set_to_string(&s);
	assert_string_equal(str, "");
	free(str);
	label_set_free(&s);
	assert_true(
	    label_set_parse(&s, "cidr:10.0.0.0/8,example.com/team=a-b_c.d", err, sizeof(err)));
	assert_int_equal(s.n, 2);
	label_set_free(&s);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"a=1,,b=2", "empty label"},
	    {"foo:a=1", "unknown source"},
	    {"-a=1", "invalid key"},
	    {"a b=1", "invalid key"},
	    {"a=has space", "invalid value"},
	    {"a=1234567890123456789012345678901234567890123456789012345678901234", "invalid value"},
	    {"Example.com/a=1", "invalid key"},
	    {"a=1,a=2", "conflicts"},
	    {"=x", "invalid key"},
	    {"cidr:notacidr", "invalid key"},
	};
	struct label_set s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_false(label_set_parse(&s, bad[i].text, err, sizeof(err)));
		assert_int_equal(s.n, 0);
		if (!strstr(err, bad[i].why)) {
			print_error("\"%s\": got \"%s\", expected \"%s\"\n", bad[i].text, err,
				    bad[i].why);
			fail();
		}
	}
}

static void test_json_and_digest(void **state)
{
	struct label_set s, t;
	char err[256], hex[65], hex2[65];
	json_t *j;

	assert_true(label_set_parse(&s, "k8s:app=db,k8s:io.kubernetes.pod.namespace=prod", err,
				    sizeof(err)));
	j = label_set_to_json(&s);
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(json_string_value(json_array_get(j, 0)), "k8s:app=db");
	assert_true(label_set_from_json(&t, j, err, sizeof(err)));
	assert_true(label_set_equal(&s, &t));
	json_decref(j);
	/* equal sets, equal digests */
	label_set_digest(&s, hex);
	assert_int_equal(strlen(hex), 64);
	label_set_digest(&t, hex2);
	assert_string_equal(hex, hex2);
	label_set_free(&t);
	label_set_digest(&t, hex2); /* empty set: sha256 of "" */
	assert_string_equal(hex2,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	j = json_pack("[s, i]", "a=1", 3);
	assert_false(label_set_from_json(&t, j, err, sizeof(err)));
	assert_non_null(strstr(err, "labels[1]"));
	json_decref(j);
	label_set_free(&s);
}

static void test_digest_value(void **state)
{
	struct label_set s;
	char err[64], hex[65];

	/* echo -n 'k8s:a=1' | sha256sum */
	assert_true(label_set_parse(&s, "a=1", err, sizeof(err)));
	label_set_digest(&s, hex);
	assert_string_equal(hex,
			    "32b71349e5682573336ad16646072b9e545ddb0ea08f937630a5a3208fbff75b");
	label_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_json_and_digest),
	    cmocka_unit_test(test_digest_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

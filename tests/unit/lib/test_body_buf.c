// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/body_buf: pieces are joined and NUL-terminated; the limit counts the whole body, a
 * body over it is dropped and stays refused (the caller answers 413), and one exactly at
 * the limit is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/body_buf.h"

static void test_pieces_joined(void **state)
{
	struct body_buf b = {0};

	(void)state;
	assert_int_equal(body_buf_append(&b, "{\"a\":", 5, 16), 0);
	assert_int_equal(body_buf_append(&b, "1}", 2, 16), 0);
	assert_false(b.too_large);
	assert_int_equal(b.len, 7);
	assert_string_equal(b.data, "{\"a\":1}");
	body_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_exactly_at_limit_kept(void **state)
{
	struct body_buf b = {0};

	(void)state;
	assert_int_equal(body_buf_append(&b, "12345678", 8, 10), 0);
	assert_int_equal(body_buf_append(&b, "90", 2, 10), 0);
	assert_false(b.too_large);
	assert_string_equal(b.data, "1234567890");
	body_buf_free(&b);
}

static void test_over_limit_stays_refused(void **state)
{
	struct body_buf b = {0};

	(void)state;
	assert_int_equal(body_buf_append(&b, "12345678", 8, 10), 0);
	assert_int_equal(body_buf_append(&b, "901", 3, 10), 0);
	assert_true(b.too_large);
	/* A later small piece does not make the body acceptable again. */
	assert_int_equal(body_buf_append(&b, "", 0, 10), 0);
	assert_int_equal(body_buf_append(&b, "x", 1, 100), 0);
	assert_true(b.too_large);
	assert_int_equal(b.len, 8);
	body_buf_free(&b);
}

static void test_huge_piece_no_overflow(void **state)
{
	struct body_buf b = {0};

	(void)state;
	assert_int_equal(body_buf_append(&b, "ab", 2, 10), 0);
	assert_int_equal(body_buf_append(&b, "", SIZE_MAX, 10), 0);
	assert_true(b.too_large);
	body_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pieces_joined),
	    cmocka_unit_test(test_exactly_at_limit_kept),
	    cmocka_unit_test(test_over_limit_stays_refused),
	    cmocka_unit_test(test_huge_piece_no_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/* lib/parse_num: what strtoul() let through before (sign, space, hex, wrap) is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/parse_num.h"

static const struct {
	const char *text;
	uint32_t min, max;
	bool ok;
	uint32_t want;
	const char *why;
} rows[] = {
    {"0", 0, 10, true, 0, NULL},
    {"10", 0, 10, true, 10, NULL},
    {"4294967295", 0, UINT32_MAX, true, UINT32_MAX, NULL},
    {"4294967296", 0, UINT32_MAX, false, 0,
     "4294967296 is out of range, expected an integer from 0 to 4294967295"},
    {"18446744073709551616", 0, UINT32_MAX, false, 0,
     "18446744073709551616 is out of range, expected an integer from 0 to 4294967295"},
    {"70000", 1, 65535, false, 0, "70000 is out of range, expected an integer from 1 to 65535"},
    {"0", 1, 65535, false, 0, "0 is out of range, expected an integer from 1 to 65535"},
    {"", 0, 10, false, 0, "'' is not a number, expected an integer from 0 to 10"},
    {"-1", 0, 10, false, 0, "'-1' is not a number, expected an integer from 0 to 10"},
    {"+1", 0, 10, false, 0, "'+1' is not a number, expected an integer from 0 to 10"},
    {" 1", 0, 10, false, 0, "' 1' is not a number, expected an integer from 0 to 10"},
    {"1 ", 0, 10, false, 0, "'1 ' is not a number, expected an integer from 0 to 10"},
    {"0x1", 0, 10, false, 0, "'0x1' is not a number, expected an integer from 0 to 10"},
    {"010", 0, 10, false, 0, "'010' is not a number, expected an integer from 0 to 10"},
    {"5x", 0, 10, false, 0, "'5x' is not a number, expected an integer from 0 to 10"},
    {"99999999999999999999x", 0, 10, false, 0,
     "'99999999999999999999x' is not a number, expected an integer from 0 to 10"},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t v = 12345;
		char why[160] = "";
		bool ok = parse_u32(rows[i].text, rows[i].min, rows[i].max, &v, why, sizeof(why));

		if (ok != rows[i].ok)
			fail_msg("row %zu '%s': %s", i, rows[i].text, ok ? "accepted" : why);
		if (ok) {
			assert_int_equal(v, rows[i].want);
		} else {
			assert_int_equal(v, 12345); /* untouched on failure */
			if (strcmp(why, rows[i].why))
				fail_msg("row %zu:\n  got      '%s'\n  expected '%s'", i, why,
					 rows[i].why);
		}
	}
}

static void test_widths(void **state)
{
	uint16_t p = 0;
	uint64_t u = 0;

	(void)state;
	assert_true(parse_port("65535", &p, NULL, 0));
	assert_int_equal(p, 65535);
	assert_false(parse_port("0", &p, NULL, 0));
	assert_false(parse_port("65536", &p, NULL, 0));
	assert_true(parse_u64("18446744073709551615", 0, UINT64_MAX, &u, NULL, 0));
	assert_true(u == UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_widths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

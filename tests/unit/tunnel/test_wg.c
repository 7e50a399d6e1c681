// SPDX-License-Identifier: GPL-2.0-only
/* The dispatcher (wg.c) without a network: argument checks, backend resolution and the
 * error that names the package to install. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tunnel/wg.h"

static void test_bad_names(void **state)
{
	struct wg_device *dev = (struct wg_device *)1;

	(void)state;
	assert_int_equal(wg_device_open(&dev, "", WG_BACKEND_USERSPACE, NULL), -EINVAL);
	assert_null(dev);
	assert_int_equal(wg_device_open(&dev, "0123456789abcdef", WG_BACKEND_USERSPACE, NULL),
			 -EINVAL);
	assert_int_equal(wg_device_open(&dev, "a/b", WG_BACKEND_USERSPACE, NULL), -EINVAL);
	assert_int_equal(wg_device_open(&dev, "wg0", (enum wg_backend_kind)7, NULL), -ENOTSUP);
	wg_device_close(NULL);
	wg_device_destroy(NULL);
	wg_peers_free(NULL, 0);
}

static void test_missing_wireguard_go(void **state)
{
	struct wg_device *dev = NULL;
	enum wg_backend_kind kind;
	char why[512];

	(void)state;
	assert_int_equal(
	    wg_backend_resolve(WG_BACKEND_USERSPACE, &kind, "/nonexistent/wg-go", why, sizeof(why)),
	    -ENOENT);
	assert_non_null(strstr(why, "wireguard-go"));
	assert_int_equal(wg_backend_resolve(99, &kind, NULL, why, sizeof(why)), -EINVAL);
	/* Starting a binary that does not exist fails cleanly, naming the package. */
	assert_int_equal(
	    wg_device_open(&dev, "ppunit0", WG_BACKEND_USERSPACE, "/nonexistent/wireguard-go"),
	    -ENOENT);
	assert_null(dev);
}

static void test_detect_says_why(void **state)
{
	enum wg_backend_kind kind = 0;
	char why[512] = "";
	int rc;

	(void)state;
	rc = wg_backend_detect(&kind, "/nonexistent/wireguard-go", why, sizeof(why));
	if (rc == 0) {
		/* A kernel with WireGuard: the kernel backend wins. */
		assert_int_equal(kind, WG_BACKEND_KERNEL);
	} else {
		assert_int_equal(rc, -ENOENT);
		assert_non_null(strstr(why, "wireguard-go"));
		assert_non_null(strstr(why, "CONFIG_WIREGUARD"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_missing_wireguard_go),
	    cmocka_unit_test(test_detect_says_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

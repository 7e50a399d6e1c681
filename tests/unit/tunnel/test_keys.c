// SPDX-License-Identifier: GPL-2.0-only
/* Keys: clamping, public-key derivation against a pair made by wireguard-tools
 * ('wg genkey' | tee priv | 'wg pubkey'), base64 strictness, key files and their modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tunnel/keys.h"

/* Made with: wg genkey > k; wg pubkey < k  (wireguard-tools v1.0.20210914). */
static const char *WG_PRIV = "KDZYKpwRVEyRHpj3GOC+3b9FrnXKVcQ9HUgf3yBKJ3U=";
static const char *WG_PUB = "5058STTmIbZ3V3y+Sv2HajpRDsnFZcw3HtBSQ2Q86iQ=";

static void test_generate_is_clamped(void **state)
{
	uint8_t k[WG_KEY_LEN];

	(void)state;
	for (int i = 0; i < 64; i++) {
		assert_int_equal(tunnel_key_generate(k), 0);
		assert_int_equal(k[0] & 7, 0);
		assert_int_equal(k[31] & 128, 0);
		assert_int_equal(k[31] & 64, 64);
	}
}

static void test_public_matches_wg(void **state)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN], why[128];

	(void)state;
	assert_true(tunnel_key_from_base64(priv, WG_PRIV, why, sizeof(why)));
	assert_int_equal(tunnel_key_public(pub, priv), 0);
	tunnel_key_to_base64(b64, pub);
	assert_string_equal(b64, WG_PUB);
	tunnel_key_to_base64(b64, priv);
	assert_string_equal(b64, WG_PRIV);
	assert_int_equal(strlen(b64), 44);
}

static void test_base64_strict(void **state)
{
	uint8_t k[WG_KEY_LEN];
	char why[128];

	(void)state;
	assert_true(tunnel_key_from_base64(k, " KDZYKpwRVEyRHpj3GOC+3b9FrnXKVcQ9HUgf3yBKJ3U=\n",
					   why, sizeof(why)));
	assert_false(tunnel_key_from_base64(k, "", why, sizeof(why)));
	assert_non_null(strstr(why, "44"));
	/* 43 characters, no padding */
	assert_false(tunnel_key_from_base64(k, "KDZYKpwRVEyRHpj3GOC+3b9FrnXKVcQ9HUgf3yBKJ3U", why,
					    sizeof(why)));
	/* URL-safe alphabet is not what wg prints */
	assert_false(tunnel_key_from_base64(k, "KDZYKpwRVEyRHpj3GOC-3b9FrnXKVcQ9HUgf3yBKJ3U=", why,
					    sizeof(why)));
	/* non-zero padding bits: not canonical */
	assert_false(tunnel_key_from_base64(k, "KDZYKpwRVEyRHpj3GOC+3b9FrnXKVcQ9HUgf3yBKJ3V=", why,
					    sizeof(why)));
	assert_false(tunnel_key_from_base64(k, "KDZYKpwRVEyRHpj3GOC+3b9FrnXKVcQ9HUgf3yBK J3U=", why,
					    sizeof(why)));
}

static void test_hex(void **state)
{
	uint8_t k[WG_KEY_LEN], back[WG_KEY_LEN];
	char hex[TUNNEL_KEY_HEX_LEN], why[64];

	(void)state;
	assert_true(tunnel_key_from_base64(k, WG_PRIV, why, sizeof(why)));
	tunnel_key_to_hex(hex, k);
	assert_int_equal(strlen(hex), 64);
	assert_true(tunnel_key_from_hex(back, hex, 64));
	assert_memory_equal(k, back, WG_KEY_LEN);
	assert_false(tunnel_key_from_hex(back, hex, 63));
	hex[5] = 'g';
	assert_false(tunnel_key_from_hex(back, hex, 64));
}

static void test_file_roundtrip_and_modes(void **state)
{
	char dir[] = "/tmp/pp-keys-XXXXXX", path[128], why[512];
	uint8_t k[WG_KEY_LEN], back[WG_KEY_LEN];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/priv", dir);
	assert_int_equal(tunnel_key_generate(k), 0);
	assert_int_equal(tunnel_key_write_file(path, k, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(tunnel_key_read_file(path, back, why, sizeof(why)), 0);
	assert_memory_equal(k, back, WG_KEY_LEN);

	chmod(path, 0640);
	assert_int_equal(tunnel_key_read_file(path, back, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "0640"));
	assert_non_null(strstr(why, "chmod 600"));
	chmod(path, 0400);
	assert_int_equal(tunnel_key_read_file(path, back, why, sizeof(why)), 0);
	unlink(path);

	f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(tunnel_key_read_file(path, back, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, path));
	assert_non_null(strstr(why, "wg genkey"));
	unlink(path);
	assert_int_equal(tunnel_key_read_file(path, back, why, sizeof(why)), -ENOENT);
	assert_int_equal(tunnel_key_read_file(dir, back, why, sizeof(why)) < 0, 1);

	/* A FIFO fails at once (the old open() blocked until a writer came). */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(tunnel_key_read_file(path, back, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "is a FIFO"));
	unlink(path);
	/* Owner-only is not enough when the owner is someone else: they can swap the key. */
	assert_int_equal(tunnel_key_write_file(path, k, why, sizeof(why)), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 4242, 4242), 0);
		assert_int_equal(tunnel_key_read_file(path, back, why, sizeof(why)), -EPERM);
		assert_non_null(strstr(why, "owned by uid 4242"));
	}
	unlink(path);
	rmdir(dir);
}

static void test_parse_file_nul(void **state)
{
	uint8_t k[WG_KEY_LEN];
	char buf[64], why[256];

	(void)state;
	snprintf(buf, sizeof(buf), "%s\n", WG_PRIV);
	assert_true(tunnel_key_parse_file(k, buf, strlen(buf), "t", why, sizeof(why)));
	buf[3] = '\0';
	assert_false(tunnel_key_parse_file(k, buf, 45, "t", why, sizeof(why)));
	assert_non_null(strstr(why, "NUL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate_is_clamped),
	    cmocka_unit_test(test_public_matches_wg),
	    cmocka_unit_test(test_base64_strict),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_file_roundtrip_and_modes),
	    cmocka_unit_test(test_parse_file_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

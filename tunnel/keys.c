// SPDX-License-Identifier: GPL-2.0-only
#include "tunnel/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"

#define KEY_B64_CHARS (WG_KEY_B64_LEN - 1)
#define KEY_FILE_MAX  4096

int tunnel_key_generate(uint8_t priv[WG_KEY_LEN])
{
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(priv, WG_KEY_LEN);
	/* X25519 clamping, as 'wg genkey' does (curve25519_clamp_secret). */
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
	return 0;
}

int tunnel_key_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN])
{
	/* libsodium clamps the scalar itself, so an unclamped key gives wg's answer too. */
	return crypto_scalarmult_base(pub, priv) == 0 ? 0 : -EINVAL;
}

void tunnel_key_to_base64(char out[WG_KEY_B64_LEN], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2base64(out, WG_KEY_B64_LEN, key, WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Shared by the text and file parsers: [b, b+len) with surrounding whitespace trimmed. */
static bool key_from_b64_span(uint8_t key[WG_KEY_LEN], const char *b, size_t len, char *why,
			      size_t why_len)
{
	size_t bin_len = 0;
	const char *end;

	while (len && is_space(*b)) {
		b++;
		len--;
	}
	while (len && is_space(b[len - 1]))
		len--;
	if (len != KEY_B64_CHARS) {
		snprintf(why, why_len, "a key is %d base64 characters, got %zu", KEY_B64_CHARS,
			 len);
		return false;
	}
	if (b[KEY_B64_CHARS - 1] != '=') {
		snprintf(why, why_len, "a key's base64 ends with one '=' of padding");
		return false;
	}
	if (sodium_base642bin(key, WG_KEY_LEN, b, len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != WG_KEY_LEN || end != b + len) {
		snprintf(why, why_len, "not valid base64 of a 32-byte key");
		return false;
	}
	return true;
}

bool tunnel_key_from_base64(uint8_t key[WG_KEY_LEN], const char *text, char *why, size_t why_len)
{
	return key_from_b64_span(key, text, strlen(text), why, why_len);
}

void tunnel_key_to_hex(char out[TUNNEL_KEY_HEX_LEN], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2hex(out, TUNNEL_KEY_HEX_LEN, key, WG_KEY_LEN);
}

bool tunnel_key_from_hex(uint8_t key[WG_KEY_LEN], const char *text, size_t len)
{
	size_t bin_len = 0;
	const char *end;

	if (len != 2 * WG_KEY_LEN)
		return false;
	return sodium_hex2bin(key, WG_KEY_LEN, text, len, NULL, &bin_len, &end) == 0 &&
	       bin_len == WG_KEY_LEN && end == text + len;
}

bool tunnel_key_parse_file(uint8_t key[WG_KEY_LEN], const char *buf, size_t len, const char *name,
			   char *why, size_t why_len)
{
	char reason[128];

	if (memchr(buf, '\0', len)) {
		snprintf(why, why_len, "%s: contains a NUL byte; expected one base64 key line",
			 name);
		return false;
	}
	if (!key_from_b64_span(key, buf, len, reason, sizeof(reason))) {
		snprintf(why, why_len, "%s: %s (expected the output of 'wg genkey')", name, reason);
		return false;
	}
	return true;
}

int tunnel_key_read_file(const char *path, uint8_t key[WG_KEY_LEN], char *why, size_t why_len)
{
	char buf[KEY_FILE_MAX];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	/* A FIFO or device fails at once; a private key others can read is already
	 * compromised: refused, not warned about (lib/file.h's secret-file rule). */
	rc = file_open_regular(path, O_NOFOLLOW, &fd, &st, why, why_len);
	if (rc)
		return rc;
	rc = file_secret_ok(path, &st, why, why_len);
	if (rc)
		goto out;
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		rc = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!tunnel_key_parse_file(key, buf, (size_t)n, path, why, why_len))
		rc = -EINVAL;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

int tunnel_key_write_file(const char *path, const uint8_t key[WG_KEY_LEN], char *why,
			  size_t why_len)
{
	char tmp[4096], line[WG_KEY_B64_LEN + 1];
	size_t len;
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp)) {
		snprintf(why, why_len, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "%s: %s", tmp, strerror(errno));
		return rc;
	}
	tunnel_key_to_base64(line, key);
	len = strlen(line);
	line[len++] = '\n';
	/* fchmod: the umask may have taken bits away, never added; make it exact anyway. */
	if (fchmod(fd, 0600) < 0 || write(fd, line, len) != (ssize_t)len || fsync(fd) < 0) {
		rc = errno ? -errno : -EIO;
		snprintf(why, why_len, "%s: %s", tmp, strerror(-rc));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	sodium_memzero(line, sizeof(line));
	return rc;
}

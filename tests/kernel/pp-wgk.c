// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-wgk: drives the kernel WireGuard backend (tunnel/wg_kernel.h) from shell tests, in
 * the caller's network namespace. A test tool, not a product command.
 *
 *   pp-wgk probe
 *   pp-wgk up IF                      create, or adopt an existing WireGuard IF
 *                                     (the other commands never create IF)
 *   pp-wgk set IF [private-key FILE] [listen-port N]
 *   pp-wgk peer IF PUBKEY [endpoint IP:PORT|[IP6]:PORT] [allowed-ips CIDR[,CIDR...]]
 *                         [keepalive N] [replace]
 *   pp-wgk remove IF PUBKEY
 *   pp-wgk dump IF                    same format as 'wg show IF dump'
 *   pp-wgk bulk IF N                  adds N peers (random keys, 10.128.0.0/9 /32s), one
 *                                     genetlink request each; prints the rate
 *   pp-wgk many-ips IF PUBKEY N       one peer with N allowed-IPs (several messages)
 *   pp-wgk down IF                    delete IF
 *
 * Exit status: 0 ok, 1 failed, 2 usage.
 */
#include "tunnel/keys.h"
#include "tunnel/wg_kernel.h"
#include "tunnel/wg_uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int usage(void)
{
	fprintf(stderr, "usage: pp-wgk probe | up IF | down IF | dump IF |\n"
			"       set IF [private-key FILE] [listen-port N] |\n"
			"       peer IF PUBKEY [endpoint EP] [allowed-ips LIST] [keepalive N] "
			"[replace] |\n"
			"       remove IF PUBKEY | bulk IF N | many-ips IF PUBKEY N\n");
	return 2;
}

/* The parsers are the tunnel module's own (keys.h, wg_uapi.h); pp-wgk adds its messages. */
static bool parse_key(const char *s, uint8_t key[WG_KEY_LEN])
{
	char why[128];

	if (!tunnel_key_from_base64(key, s, why, sizeof(why))) {
		fprintf(stderr, "pp-wgk: key \"%s\": expected 44 base64 characters (32 bytes)\n",
			s);
		return false;
	}
	return true;
}

static bool read_key_file(const char *path, uint8_t key[WG_KEY_LEN])
{
	char line[128] = "";
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f) {
		fprintf(stderr, "pp-wgk: %s: %s\n", path, strerror(errno));
		return false;
	}
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return ok && parse_key(line, key);
}

static bool parse_u16(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > UINT16_MAX) {
		fprintf(stderr, "pp-wgk: \"%s\": expected a number 0..65535\n", s);
		return false;
	}
	*out = (uint16_t)v;
	return true;
}

static bool parse_endpoint(const char *s, struct wg_peer *p)
{
	if (wg_uapi_parse_endpoint(p, s))
		return true;
	fprintf(stderr, "pp-wgk: endpoint \"%s\": expected IPv4:PORT or [IPv6]:PORT\n", s);
	return false;
}

static bool parse_cidr(const char *s, struct wg_allowed_ip *a)
{
	if (wg_uapi_parse_allowed_ip(a, s))
		return true;
	fprintf(stderr, "pp-wgk: allowed-ip \"%s\": expected ADDRESS/PREFIX\n", s);
	return false;
}

static bool parse_cidr_list(const char *s, struct wg_peer *p)
{
	char *copy = strdup(s), *save = NULL;
	size_t n = 1;

	for (const char *c = s; *c; c++)
		n += *c == ',';
	p->allowed_ips = calloc(n, sizeof(*p->allowed_ips));
	if (!copy || !p->allowed_ips) {
		free(copy);
		return false;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!parse_cidr(tok, &p->allowed_ips[p->n_allowed_ips++])) {
			free(copy);
			return false;
		}
	free(copy);
	return true;
}

static void print_key(const uint8_t *key, bool has, const char *sep)
{
	char b64[WG_KEY_B64_LEN];
	static const uint8_t zero[WG_KEY_LEN];

	if (!has || !memcmp(key, zero, WG_KEY_LEN)) {
		printf("(none)%s", sep);
		return;
	}
	tunnel_key_to_base64(b64, key);
	printf("%s%s", b64, sep);
}

static void print_endpoint(const struct wg_peer *p)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t len = p->endpoint.sa.sa_family == AF_INET6 ? sizeof(p->endpoint.in6)
							     : sizeof(p->endpoint.in4);

	if (!p->has_endpoint || getnameinfo(&p->endpoint.sa, len, host, sizeof(host), serv,
					    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) {
		printf("(none)\t");
		return;
	}
	printf(p->endpoint.sa.sa_family == AF_INET6 ? "[%s]:%s\t" : "%s:%s\t", host, serv);
}

/* The exact layout of 'wg show IF dump', so the test can diff the two. */
static void print_dump(const struct wg_kernel_device_info *info, const struct wg_peer *peers,
		       size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	print_key(info->private_key, info->has_private_key, "\t");
	print_key(info->public_key, info->has_public_key, "\t");
	printf("%u\t", info->listen_port);
	if (info->fwmark)
		printf("0x%x\n", info->fwmark);
	else
		printf("off\n");
	for (size_t i = 0; i < n; i++) {
		const struct wg_peer *p = &peers[i];

		print_key(p->public_key, true, "\t");
		printf("(none)\t"); /* preshared key: never set by pseudopod */
		print_endpoint(p);
		for (size_t j = 0; j < p->n_allowed_ips; j++) {
			const struct wg_allowed_ip *a = &p->allowed_ips[j];

			inet_ntop(a->family,
				  a->family == AF_INET ? (const void *)&a->ip4
						       : (const void *)&a->ip6,
				  ip, sizeof(ip));
			printf("%s%s/%u", j ? "," : "", ip, a->cidr);
		}
		printf("%s\t%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t",
		       p->n_allowed_ips ? "" : "(none)", p->last_handshake_s, p->rx_bytes,
		       p->tx_bytes);
		if (p->keepalive_s)
			printf("%u\n", p->keepalive_s);
		else
			printf("off\n");
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmd_set(struct wg_kernel *k, int argc, char **argv)
{
	uint8_t key[WG_KEY_LEN];
	uint16_t port;

	for (int i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "private-key")) {
			if (!read_key_file(argv[i + 1], key))
				return 1;
			if (wg_kernel_set_private_key(k, key))
				goto fail;
		} else if (!strcmp(argv[i], "listen-port")) {
			if (!parse_u16(argv[i + 1], &port))
				return 1;
			if (wg_kernel_set_listen_port(k, port))
				goto fail;
		} else {
			return usage();
		}
	}
	return 0;
fail:
	fprintf(stderr, "pp-wgk: %s\n", wg_kernel_error(k));
	return 1;
}

static int cmd_peer(struct wg_kernel *k, int argc, char **argv)
{
	struct wg_peer p = {0};
	int rc = 1;

	if (argc < 1)
		return usage();
	if (!parse_key(argv[0], p.public_key))
		return 1;
	for (int i = 1; i < argc; i++) {
		bool more = i + 1 < argc;

		if (!strcmp(argv[i], "replace")) {
			p.replace_allowed_ips = true;
		} else if (!strcmp(argv[i], "endpoint") && more) {
			if (!parse_endpoint(argv[++i], &p))
				goto out;
		} else if (!strcmp(argv[i], "allowed-ips") && more && !p.allowed_ips) {
			if (!parse_cidr_list(argv[++i], &p))
				goto out;
		} else if (!strcmp(argv[i], "keepalive") && more) {
			if (!parse_u16(argv[++i], &p.keepalive_s))
				goto out;
		} else {
			rc = usage();
			goto out;
		}
	}
	if (wg_kernel_set_peer(k, &p)) {
		fprintf(stderr, "pp-wgk: %s\n", wg_kernel_error(k));
		goto out;
	}
	rc = 0;
out:
	free(p.allowed_ips);
	return rc;
}

static int cmd_bulk(struct wg_kernel *k, const char *count)
{
	struct wg_allowed_ip a = {.family = AF_INET, .cidr = 32};
	struct wg_peer p = {.allowed_ips = &a, .n_allowed_ips = 1};
	unsigned long n = strtoul(count, NULL, 10);
	double t0 = now_ms(), ms;

	if (n == 0 || n > (1UL << 23))
		return usage();
	for (unsigned long i = 0; i < n; i++) {
		randombytes_buf(p.public_key, sizeof(p.public_key));
		a.ip4.s_addr = htonl(0x0a800000u | (uint32_t)(i + 1)); /* 10.128.0.0/9 */
		if (wg_kernel_set_peer(k, &p)) {
			fprintf(stderr, "pp-wgk: peer %lu: %s\n", i, wg_kernel_error(k));
			return 1;
		}
	}
	ms = now_ms() - t0;
	printf("added %lu peers in %.1f ms (%.0f peers/s)\n", n, ms, (double)n * 1e3 / ms);
	return 0;
}

static int cmd_many_ips(struct wg_kernel *k, const char *key, const char *count)
{
	unsigned long n = strtoul(count, NULL, 10);
	struct wg_peer p = {.replace_allowed_ips = true};
	int rc = 1;

	if (n == 0 || n > 65536)
		return usage();
	if (!parse_key(key, p.public_key))
		return 1;
	p.allowed_ips = calloc(n, sizeof(*p.allowed_ips));
	if (!p.allowed_ips)
		return 1;
	for (unsigned long i = 0; i < n; i++) {
		p.allowed_ips[i].family = AF_INET;
		p.allowed_ips[i].cidr = 32;
		p.allowed_ips[i].ip4.s_addr = htonl(0x0a400000u | (uint32_t)(i + 1)); /* 10.64/10 */
	}
	p.n_allowed_ips = n;
	if (wg_kernel_set_peer(k, &p))
		fprintf(stderr, "pp-wgk: %s\n", wg_kernel_error(k));
	else
		rc = 0;
	free(p.allowed_ips);
	return rc;
}

static int cmd_dump(struct wg_kernel *k)
{
	struct wg_kernel_device_info info;
	struct wg_peer *peers;
	size_t n;

	if (wg_kernel_get_device(k, &info, &peers, &n)) {
		fprintf(stderr, "pp-wgk: %s\n", wg_kernel_error(k));
		return 1;
	}
	print_dump(&info, peers, n);
	wg_kernel_peers_free(peers, n);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t key[WG_KEY_LEN];
	struct wg_kernel *k;
	char why[512];
	const char *cmd;
	int rc;

	if (sodium_init() < 0)
		return 1;
	if (argc < 2)
		return usage();
	cmd = argv[1];
	if (!strcmp(cmd, "probe")) {
		rc = wg_kernel_probe(why, sizeof(why));
		printf("%s\n", rc ? why : "kernel WireGuard available");
		return rc ? 1 : 0;
	}
	if (argc < 3)
		return usage();
	/* Only "up" creates; every other command works on an existing device. */
	rc = !strcmp(cmd, "up") ? wg_kernel_open(&k, argv[2], why, sizeof(why))
				: wg_kernel_adopt(&k, argv[2], why, sizeof(why));
	if (rc) {
		fprintf(stderr, "pp-wgk: %s\n", why);
		return 1;
	}
	if (!strcmp(cmd, "up")) {
		rc = argc == 3 ? 0 : usage();
	} else if (!strcmp(cmd, "down")) {
		wg_kernel_destroy(k);
		return argc == 3 ? 0 : usage();
	} else if (!strcmp(cmd, "set")) {
		rc = cmd_set(k, argc - 3, argv + 3);
	} else if (!strcmp(cmd, "peer")) {
		rc = cmd_peer(k, argc - 3, argv + 3);
	} else if (!strcmp(cmd, "remove") && argc == 4) {
		rc = parse_key(argv[3], key) ? 0 : 1;
		if (!rc && wg_kernel_remove_peer(k, key)) {
			fprintf(stderr, "pp-wgk: %s\n", wg_kernel_error(k));
			rc = 1;
		}
	} else if (!strcmp(cmd, "dump") && argc == 3) {
		rc = cmd_dump(k);
	} else if (!strcmp(cmd, "bulk") && argc == 4) {
		rc = cmd_bulk(k, argv[3]);
	} else if (!strcmp(cmd, "many-ips") && argc == 5) {
		rc = cmd_many_ips(k, argv[3], argv[4]);
	} else {
		rc = usage();
	}
	wg_kernel_close(k);
	return rc;
}

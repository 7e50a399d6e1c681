// SPDX-License-Identifier: GPL-2.0-only
#include "tunnel/wg_uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/net.h"
#include "lib/parse_num.h"
#include "tunnel/keys.h"

#define LINE_MAX_LEN 512

void wg_uapi_format_private_key(FILE *out, const uint8_t key[WG_KEY_LEN])
{
	char hex[TUNNEL_KEY_HEX_LEN];

	tunnel_key_to_hex(hex, key);
	fprintf(out, "private_key=%s\n", hex);
}

void wg_uapi_format_listen_port(FILE *out, uint16_t port)
{
	fprintf(out, "listen_port=%u\n", port);
}

bool wg_uapi_format_endpoint(char *out, size_t out_len, const struct wg_peer *peer)
{
	char ip[INET6_ADDRSTRLEN];

	if (peer->endpoint.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &peer->endpoint.in4.sin_addr, ip, sizeof(ip));
		snprintf(out, out_len, "%s:%u", ip, ntohs(peer->endpoint.in4.sin_port));
		return true;
	}
	if (peer->endpoint.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &peer->endpoint.in6.sin6_addr, ip, sizeof(ip));
		snprintf(out, out_len, "[%s]:%u", ip, ntohs(peer->endpoint.in6.sin6_port));
		return true;
	}
	return false;
}

void wg_uapi_format_peer(FILE *out, const struct wg_peer *peer)
{
	char hex[TUNNEL_KEY_HEX_LEN], ep[INET6_ADDRSTRLEN + 16], ip[INET6_ADDRSTRLEN];

	tunnel_key_to_hex(hex, peer->public_key);
	fprintf(out, "public_key=%s\n", hex);
	if (peer->has_endpoint && wg_uapi_format_endpoint(ep, sizeof(ep), peer))
		fprintf(out, "endpoint=%s\n", ep);
	fprintf(out, "persistent_keepalive_interval=%u\n", peer->keepalive_s);
	if (peer->replace_allowed_ips)
		fprintf(out, "replace_allowed_ips=true\n");
	for (size_t i = 0; i < peer->n_allowed_ips; i++) {
		const struct wg_allowed_ip *a = &peer->allowed_ips[i];

		inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->ip4 : &a->ip6, ip,
			  sizeof(ip));
		fprintf(out, "allowed_ip=%s/%u\n", ip, a->cidr);
	}
}

void wg_uapi_format_remove_peer(FILE *out, const uint8_t key[WG_KEY_LEN])
{
	char hex[TUNNEL_KEY_HEX_LEN];

	tunnel_key_to_hex(hex, key);
	fprintf(out, "public_key=%s\nremove=true\n", hex);
}

const char *wg_uapi_strerror(int err)
{
	/* The codes wireguard-go's device/uapi.go returns, and what each one means there. */
	switch (-abs(err)) {
	case 0:
		return "success";
	case -EIO:
		return "I/O error in wireguard-go (EIO)";
	case -EPROTO:
		return "wireguard-go rejected the request as malformed (EPROTO)";
	case -EINVAL:
		return "wireguard-go rejected a value as invalid (EINVAL)";
	case -EADDRINUSE:
		return "the listen port is already in use (EADDRINUSE)";
	case -55:
		return "unknown error in wireguard-go (ENOANO)";
	}
	return "unrecognised errno from wireguard-go";
}

/* "errno=" carries a decimal that may be negative (wireguard-go writes negative codes). */
static bool parse_errno_value(const char *s, int *err)
{
	bool neg = *s == '-';
	uint64_t v;

	if (!parse_u64(s + neg, 0, 4095, &v, NULL, 0))
		return false;
	*err = -(int)v;
	return true;
}

bool wg_uapi_parse_allowed_ip(struct wg_allowed_ip *out, const char *text)
{
	struct net_prefix p;

	/* Always ADDRESS/LEN here; host bits are kept as given, as the UAPI carries them. */
	memset(out, 0, sizeof(*out));
	if (!strchr(text, '/') || !net_prefix_parse(text, NET_HOST_BITS_KEEP, &p, NULL, 0))
		return false;
	out->family = p.family;
	out->cidr = p.len;
	memcpy(p.family == AF_INET ? (void *)&out->ip4 : (void *)&out->ip6, p.addr,
	       p.family == AF_INET ? sizeof(out->ip4) : sizeof(out->ip6));
	return true;
}

bool wg_uapi_parse_endpoint(struct wg_peer *peer, const char *text)
{
	char ip[INET6_ADDRSTRLEN];
	const char *colon, *host = text;
	struct net_prefix addr;
	uint64_t port;
	size_t n;

	if (*text == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return false;
		host = text + 1;
		n = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return false;
		n = (size_t)(colon - text);
	}
	if (n == 0 || n >= sizeof(ip) || !parse_u64(colon + 1, 0, 65535, &port, NULL, 0))
		return false;
	memcpy(ip, host, n);
	ip[n] = '\0';
	/* IPv6 only in brackets: "fd00::1:51820" would be ambiguous. */
	if (!net_ip_parse(ip, *text == '[' ? AF_INET6 : AF_INET, &addr, NULL, 0))
		return false;
	memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	if (addr.family == AF_INET) {
		peer->endpoint.in4.sin_family = AF_INET;
		peer->endpoint.in4.sin_port = htons((uint16_t)port);
		memcpy(&peer->endpoint.in4.sin_addr, addr.addr, 4);
	} else {
		peer->endpoint.in6.sin6_family = AF_INET6;
		peer->endpoint.in6.sin6_port = htons((uint16_t)port);
		memcpy(&peer->endpoint.in6.sin6_addr, addr.addr, 16);
	}
	peer->has_endpoint = true;
	return true;
}

void wg_uapi_device_free(struct wg_uapi_device *dev)
{
	if (!dev)
		return;
	for (size_t i = 0; i < dev->n_peers; i++)
		free(dev->peers[i].allowed_ips);
	free(dev->peers);
	dev->peers = NULL;
	dev->n_peers = 0;
}

/* Splits buf into lines one at a time; false at the end of the buffer. */
struct line_iter {
	const char *p, *end;
	unsigned lineno;
	char line[LINE_MAX_LEN];
	bool too_long, unterminated;
};

static bool next_line(struct line_iter *it)
{
	const char *nl;
	size_t n;

	if (it->p >= it->end)
		return false;
	it->lineno++;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	it->unterminated = nl == NULL;
	if (!nl)
		nl = it->end;
	n = (size_t)(nl - it->p);
	it->too_long = n >= sizeof(it->line) || memchr(it->p, '\0', n) != NULL;
	if (!it->too_long) {
		memcpy(it->line, it->p, n);
		it->line[n] = '\0';
	}
	it->p = nl + 1;
	return true;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > max)
		ncap = max;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return false;
	memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return true;
}

static bool parse_peer_item(struct wg_peer *peer, size_t *ips_cap, const char *key,
			    const char *value, const char **expected)
{
	uint64_t v;

	if (!strcmp(key, "endpoint")) {
		*expected = "ip:port or [ip6]:port";
		return wg_uapi_parse_endpoint(peer, value);
	}
	if (!strcmp(key, "last_handshake_time_sec")) {
		*expected = "seconds since 1970";
		if (!parse_u64(value, 0, INT64_MAX, &v, NULL, 0))
			return false;
		peer->last_handshake_s = (int64_t)v;
		return true;
	}
	if (!strcmp(key, "rx_bytes") || !strcmp(key, "tx_bytes")) {
		*expected = "a byte count";
		if (!parse_u64(value, 0, UINT64_MAX, &v, NULL, 0))
			return false;
		*(key[0] == 'r' ? &peer->rx_bytes : &peer->tx_bytes) = v;
		return true;
	}
	if (!strcmp(key, "persistent_keepalive_interval")) {
		*expected = "seconds 0..65535";
		if (!parse_u64(value, 0, 65535, &v, NULL, 0))
			return false;
		peer->keepalive_s = (uint16_t)v;
		return true;
	}
	if (!strcmp(key, "allowed_ip")) {
		*expected = "address/prefix";
		if (!grow((void **)&peer->allowed_ips, ips_cap, peer->n_allowed_ips,
			  sizeof(*peer->allowed_ips), WG_UAPI_MAX_ALLOWED_IPS))
			return false;
		if (!wg_uapi_parse_allowed_ip(&peer->allowed_ips[peer->n_allowed_ips], value))
			return false;
		peer->n_allowed_ips++;
		return true;
	}
	if (!strcmp(key, "last_handshake_time_nsec") || !strcmp(key, "protocol_version")) {
		*expected = "a number";
		return parse_u64(value, 0, UINT64_MAX, &v, NULL, 0);
	}
	/* preshared_key and keys of newer protocol versions: accepted, not used. */
	return true;
}

bool wg_uapi_parse_get(const char *buf, size_t len, struct wg_uapi_device *dev, int *err, char *why,
		       size_t why_len)
{
	struct line_iter it = {.p = buf, .end = buf + len};
	struct wg_uapi_device d = {0};
	size_t peers_cap = 0, ips_cap = 0;
	struct wg_peer *peer = NULL;
	bool have_errno = false;
	const char *expected = "";
	uint64_t v;

	while (next_line(&it)) {
		char *key = it.line, *value;

		if (it.too_long) {
			snprintf(why, why_len,
				 "UAPI reply line %u: longer than %d bytes or has NUL", it.lineno,
				 LINE_MAX_LEN - 1);
			goto fail;
		}
		if (!*key) {
			if (!have_errno) {
				snprintf(why, why_len,
					 "UAPI reply line %u: empty line before errno=", it.lineno);
				goto fail;
			}
			if (it.unterminated || it.p < it.end) {
				snprintf(why, why_len,
					 "UAPI reply line %u: data after the closing empty line",
					 it.lineno);
				goto fail;
			}
			*dev = d;
			return true;
		}
		if (have_errno) {
			snprintf(why, why_len, "UAPI reply line %u: '%s' after errno=", it.lineno,
				 key);
			goto fail;
		}
		value = strchr(key, '=');
		if (!value || value == key) {
			snprintf(why, why_len, "UAPI reply line %u: '%s' is not key=value",
				 it.lineno, key);
			goto fail;
		}
		*value++ = '\0';
		if (!strcmp(key, "errno")) {
			expected = "a decimal errno";
			if (!parse_errno_value(value, err))
				goto bad_value;
			have_errno = true;
		} else if (!strcmp(key, "public_key")) {
			expected = "64 hex digits";
			if (!grow((void **)&d.peers, &peers_cap, d.n_peers, sizeof(*d.peers),
				  WG_UAPI_MAX_PEERS))
				goto bad_value;
			peer = &d.peers[d.n_peers];
			if (!tunnel_key_from_hex(peer->public_key, value, strlen(value)))
				goto bad_value;
			d.n_peers++;
			ips_cap = 0;
		} else if (peer) {
			if (!parse_peer_item(peer, &ips_cap, key, value, &expected))
				goto bad_value;
		} else if (!strcmp(key, "private_key")) {
			expected = "64 hex digits";
			if (!tunnel_key_from_hex(d.private_key, value, strlen(value)))
				goto bad_value;
			d.has_private_key = true;
		} else if (!strcmp(key, "listen_port")) {
			expected = "a port 0..65535";
			if (!parse_u64(value, 0, 65535, &v, NULL, 0))
				goto bad_value;
			d.listen_port = (uint16_t)v;
		} else if (!strcmp(key, "fwmark")) {
			expected = "a 32-bit mark";
			if (!parse_u64(value, 0, UINT32_MAX, &v, NULL, 0))
				goto bad_value;
			d.fwmark = (uint32_t)v;
		}
	}
	snprintf(why, why_len, "UAPI reply truncated after line %u: expected %s", it.lineno,
		 have_errno ? "the closing empty line" : "errno=N and an empty line");
	goto fail;
bad_value:
	snprintf(why, why_len, "UAPI reply line %u: %s='%.64s': expected %s", it.lineno, it.line,
		 it.line + strlen(it.line) + 1, expected);
fail:
	wg_uapi_device_free(&d);
	return false;
}

bool wg_uapi_parse_errno(const char *buf, size_t len, int *err, char *why, size_t why_len)
{
	struct wg_uapi_device d;

	if (!wg_uapi_parse_get(buf, len, &d, err, why, why_len))
		return false;
	if (d.n_peers || d.has_private_key || d.listen_port || d.fwmark) {
		wg_uapi_device_free(&d);
		snprintf(why, why_len, "UAPI set reply carries device data; expected only errno=");
		return false;
	}
	return true;
}

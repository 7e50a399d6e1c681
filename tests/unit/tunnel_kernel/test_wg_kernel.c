// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the kernel WireGuard backend's pure half (tunnel/wg_kernel.h): the
 * WG_CMD_SET_DEVICE / GET_DEVICE / CTRL_CMD_GETFAMILY messages it builds and the dump
 * parser, on buffers, without a kernel. Set messages use the same attribute layout as
 * dump replies, so most tests build a message and parse it back; the malformed replies
 * are built attribute by attribute with libmnl and each says what is wrong with it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/wg_kernel_msg.h"

#define FAMILY	0x1d
#define IFINDEX 7

/* 4-byte aligned, as netlink buffers must be. */
static uint32_t buf32[8192 / 4];
#define BUF ((void *)buf32)

static struct wg_allowed_ip v4(const char *s, uint8_t cidr)
{
	struct wg_allowed_ip a = {.family = AF_INET, .cidr = cidr};

	assert_int_equal(inet_pton(AF_INET, s, &a.ip4), 1);
	return a;
}

static struct wg_allowed_ip v6(const char *s, uint8_t cidr)
{
	struct wg_allowed_ip a = {.family = AF_INET6, .cidr = cidr};

	assert_int_equal(inet_pton(AF_INET6, s, &a.ip6), 1);
	return a;
}

static void fill_key(uint8_t key[WG_KEY_LEN], uint8_t seed)
{
	for (int i = 0; i < WG_KEY_LEN; i++)
		key[i] = (uint8_t)(seed + i);
}

static void assert_ip_equal(const struct wg_allowed_ip *a, const struct wg_allowed_ip *b)
{
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->cidr, b->cidr);
	if (a->family == AF_INET)
		assert_memory_equal(&a->ip4, &b->ip4, sizeof(a->ip4));
	else
		assert_memory_equal(&a->ip6, &b->ip6, sizeof(a->ip6));
}

/* Finds attribute type in the first peer of a WG_CMD_SET_DEVICE message. */
struct peer_find {
	uint16_t type;
	const struct nlattr *found;
};

static int peer_find_cb(const struct nlattr *attr, void *data)
{
	struct peer_find *f = data;

	if (mnl_attr_get_type(attr) == f->type)
		f->found = attr;
	return MNL_CB_OK;
}

static const struct nlattr *peer_nest_attr(const struct nlattr *peers, uint16_t type)
{
	struct peer_find f = {.type = type};

	/* The first peer is the first attribute inside WGDEVICE_A_PEERS. */
	mnl_attr_parse_nested(mnl_attr_get_payload(peers), peer_find_cb, &f);
	return f.found;
}

/* The top-level attribute of that type after the genetlink header, or NULL. */
static const struct nlattr *top_attr(const struct nlmsghdr *nlh, uint16_t type)
{
	struct peer_find f = {.type = type};

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), peer_find_cb, &f);
	return f.found;
}

static const struct nlattr *first_peer_attr(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *peers = top_attr(nlh, WGDEVICE_A_PEERS);

	return peers ? peer_nest_attr(peers, type) : NULL;
}

static void test_set_peer_round_trip(void **state)
{
	struct wg_allowed_ip ips[3] = {v4("10.77.0.2", 32), v4("10.96.0.0", 12),
				       v6("fd00:77::", 64)};
	struct wg_peer p = {.keepalive_s = 25,
			    .replace_allowed_ips = true,
			    .allowed_ips = ips,
			    .n_allowed_ips = 3,
			    .has_endpoint = true};
	struct wg_kernel_dump d = {0};
	const struct genlmsghdr *g;
	const struct nlattr *flags;
	size_t next = 99;
	int len;

	fill_key(p.public_key, 1);
	p.endpoint.in4.sin_family = AF_INET;
	p.endpoint.in4.sin_port = htons(51871);
	inet_pton(AF_INET, "192.0.2.9", &p.endpoint.in4.sin_addr);

	len = wg_kernel_build_set_peer(BUF, sizeof(buf32), FAMILY, 42, IFINDEX, &p, 0, &next);
	assert_true(len > 0);
	assert_int_equal(next, 3);
	assert_int_equal(((struct nlmsghdr *)BUF)->nlmsg_len, (uint32_t)len);
	assert_int_equal(((struct nlmsghdr *)BUF)->nlmsg_type, FAMILY);
	assert_int_equal(((struct nlmsghdr *)BUF)->nlmsg_seq, 42);
	assert_true(((struct nlmsghdr *)BUF)->nlmsg_flags & NLM_F_ACK);
	g = mnl_nlmsg_get_payload(BUF);
	assert_int_equal(g->cmd, WG_CMD_SET_DEVICE);
	assert_int_equal(g->version, WG_GENL_VERSION);
	flags = first_peer_attr(BUF, WGPEER_A_FLAGS);
	assert_non_null(flags);
	assert_int_equal(mnl_attr_get_u32(flags), WGPEER_F_REPLACE_ALLOWEDIPS);

	assert_true(wg_kernel_parse_device_msg(BUF, &d));
	assert_int_equal(d.info.ifindex, IFINDEX);
	assert_int_equal(d.n, 1);
	assert_memory_equal(d.peers[0].public_key, p.public_key, WG_KEY_LEN);
	assert_true(d.peers[0].has_endpoint);
	assert_memory_equal(&d.peers[0].endpoint.in4, &p.endpoint.in4, sizeof(p.endpoint.in4));
	assert_int_equal(d.peers[0].keepalive_s, 25);
	assert_int_equal(d.peers[0].n_allowed_ips, 3);
	for (int i = 0; i < 3; i++)
		assert_ip_equal(&d.peers[0].allowed_ips[i], &ips[i]);
	wg_kernel_dump_free(&d);
}

static void test_set_peer_add_only_and_v6_endpoint(void **state)
{
	struct wg_peer p = {.has_endpoint = true};
	struct wg_kernel_dump d = {0};
	size_t next = 99;

	fill_key(p.public_key, 2);
	p.endpoint.in6.sin6_family = AF_INET6;
	p.endpoint.in6.sin6_port = htons(8472);
	inet_pton(AF_INET6, "2001:db8::1", &p.endpoint.in6.sin6_addr);

	assert_true(wg_kernel_build_set_peer(BUF, sizeof(buf32), FAMILY, 1, IFINDEX, &p, 0, &next) >
		    0);
	assert_int_equal(next, 0);
	/* Not replacing: flags 0, so the kernel adds to the peer's allowed-IPs. */
	assert_int_equal(mnl_attr_get_u32(first_peer_attr(BUF, WGPEER_A_FLAGS)), 0);
	/* keepalive 0 is sent explicitly: an update turns keepalive off. */
	assert_non_null(first_peer_attr(BUF, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL));
	assert_null(first_peer_attr(BUF, WGPEER_A_ALLOWEDIPS));
	assert_true(wg_kernel_parse_device_msg(BUF, &d));
	assert_int_equal(d.n, 1);
	assert_int_equal(d.peers[0].endpoint.sa.sa_family, AF_INET6);
	assert_memory_equal(&d.peers[0].endpoint.in6, &p.endpoint.in6, sizeof(p.endpoint.in6));
	assert_int_equal(d.peers[0].n_allowed_ips, 0);
	wg_kernel_dump_free(&d);
}

/* A peer whose allowed-IPs do not fit one message: the first message carries flags and
 * endpoint, the continuations only the key, UPDATE_ONLY and more allowed-IPs, and the parser merges
 * the pieces back into one peer (as it must for the kernel's split dumps). */
static void test_set_peer_split_across_messages(void **state)
{
	enum { N = 50 };
	static uint32_t small[512 / 4];
	struct wg_allowed_ip ips[N];
	struct wg_peer p = {.replace_allowed_ips = true,
			    .allowed_ips = ips,
			    .n_allowed_ips = N,
			    .has_endpoint = true};
	struct wg_kernel_dump d = {0};
	size_t from = 0, next = 0;
	int messages = 0;

	fill_key(p.public_key, 3);
	p.endpoint.in4.sin_family = AF_INET;
	for (int i = 0; i < N; i++) {
		ips[i] = v4("10.0.0.0", 32);
		ips[i].ip4.s_addr = htonl(0x0a000001u + (uint32_t)i);
	}
	do {
		int len = wg_kernel_build_set_peer(small, sizeof(small), FAMILY, 1, IFINDEX, &p,
						   from, &next);

		assert_true(len > 0 && (size_t)len <= sizeof(small));
		assert_true(next > from);
		if (from == 0) {
			assert_non_null(first_peer_attr((void *)small, WGPEER_A_FLAGS));
			assert_non_null(first_peer_attr((void *)small, WGPEER_A_ENDPOINT));
		} else {
			/* REPLACE here would drop what the previous message set; UPDATE_ONLY
			 * keeps a continuation from re-creating a peer removed meanwhile. */
			const struct nlattr *f = first_peer_attr((void *)small, WGPEER_A_FLAGS);

			assert_non_null(f);
			assert_int_equal(mnl_attr_get_u32(f), WGPEER_F_UPDATE_ONLY);
			assert_null(first_peer_attr((void *)small, WGPEER_A_ENDPOINT));
		}
		assert_true(wg_kernel_parse_device_msg((void *)small, &d));
		messages++;
		from = next;
	} while (from < N);
	assert_true(messages > 1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.peers[0].n_allowed_ips, N);
	for (int i = 0; i < N; i++)
		assert_ip_equal(&d.peers[0].allowed_ips[i], &ips[i]);
	wg_kernel_dump_free(&d);
}

static void test_remove_peer(void **state)
{
	uint8_t key[WG_KEY_LEN];
	const struct nlattr *a;

	fill_key(key, 4);
	assert_true(wg_kernel_build_remove_peer(BUF, sizeof(buf32), FAMILY, 1, IFINDEX, key) > 0);
	a = first_peer_attr(BUF, WGPEER_A_FLAGS);
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_u32(a), WGPEER_F_REMOVE_ME);
	a = first_peer_attr(BUF, WGPEER_A_PUBLIC_KEY);
	assert_non_null(a);
	assert_memory_equal(mnl_attr_get_payload(a), key, WG_KEY_LEN);
	/* Never WGDEVICE_F_REPLACE_PEERS: the others stay. */
	assert_null(top_attr(BUF, WGDEVICE_A_FLAGS));
}

static void test_set_device(void **state)
{
	uint8_t key[WG_KEY_LEN];
	struct wg_kernel_dump d = {0};

	fill_key(key, 5);
	assert_true(wg_kernel_build_set_device(BUF, sizeof(buf32), FAMILY, 1, IFINDEX, key, 51871) >
		    0);
	assert_true(wg_kernel_parse_device_msg(BUF, &d));
	assert_true(d.info.has_private_key);
	assert_memory_equal(d.info.private_key, key, WG_KEY_LEN);
	assert_int_equal(d.info.listen_port, 51871);
	assert_int_equal(d.n, 0);

	memset(&d, 0, sizeof(d));
	assert_true(wg_kernel_build_set_device(BUF, sizeof(buf32), FAMILY, 1, IFINDEX, NULL, 0) >
		    0);
	assert_true(wg_kernel_parse_device_msg(BUF, &d));
	assert_false(d.info.has_private_key); /* key untouched when not given */
	assert_int_equal(d.info.listen_port, 0);

	assert_int_equal(
	    wg_kernel_build_set_device(BUF, sizeof(buf32), FAMILY, 1, IFINDEX, NULL, 65536),
	    -EINVAL);
}

static void test_get_requests(void **state)
{
	struct nlmsghdr *nlh = BUF;
	const struct nlattr *a;

	assert_true(wg_kernel_build_get_device(BUF, sizeof(buf32), FAMILY, 9, IFINDEX) > 0);
	assert_true(nlh->nlmsg_flags & NLM_F_DUMP);
	assert_int_equal(((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd, WG_CMD_GET_DEVICE);

	assert_true(wg_kernel_build_get_family(BUF, sizeof(buf32), 9, WG_GENL_NAME) > 0);
	assert_int_equal(nlh->nlmsg_type, GENL_ID_CTRL);
	a = top_attr(nlh, CTRL_ATTR_FAMILY_NAME);
	assert_non_null(a);
	assert_string_equal(mnl_attr_get_str(a), "wireguard");
}

static void test_buffers_too_small(void **state)
{
	struct wg_allowed_ip ip = v4("10.0.0.1", 32);
	struct wg_peer p = {.allowed_ips = &ip, .n_allowed_ips = 1};
	uint8_t key[WG_KEY_LEN] = {0};
	size_t next = 0;

	assert_int_equal(wg_kernel_build_get_family(BUF, 8, 1, "wireguard"), -EMSGSIZE);
	assert_int_equal(wg_kernel_build_get_device(BUF, 8, FAMILY, 1, 1), -EMSGSIZE);
	assert_int_equal(wg_kernel_build_set_device(BUF, 40, FAMILY, 1, 1, key, 1), -EMSGSIZE);
	assert_int_equal(wg_kernel_build_remove_peer(BUF, 40, FAMILY, 1, 1, key), -EMSGSIZE);
	/* Room for the peer but not for one allowed-IP: an error, not an endless loop. */
	assert_int_equal(wg_kernel_build_set_peer(BUF, 96, FAMILY, 1, 1, &p, 0, &next), -EMSGSIZE);
}

static void test_invalid_peers(void **state)
{
	struct wg_allowed_ip bad4 = v4("10.0.0.0", 33), bad6 = v6("::", 129);
	struct wg_peer p = {.allowed_ips = &bad4, .n_allowed_ips = 1};
	size_t next;

	assert_int_equal(wg_kernel_build_set_peer(BUF, sizeof(buf32), FAMILY, 1, 1, &p, 0, &next),
			 -EINVAL);
	p.allowed_ips = &bad6;
	assert_int_equal(wg_kernel_build_set_peer(BUF, sizeof(buf32), FAMILY, 1, 1, &p, 0, &next),
			 -EINVAL);
	p.n_allowed_ips = 0;
	p.has_endpoint = true;
	p.endpoint.sa.sa_family = AF_UNIX;
	assert_int_equal(wg_kernel_build_set_peer(BUF, sizeof(buf32), FAMILY, 1, 1, &p, 0, &next),
			 -EAFNOSUPPORT);
	p.has_endpoint = false;
	assert_int_equal(wg_kernel_build_set_peer(BUF, sizeof(buf32), FAMILY, 1, 1, &p, 2, &next),
			 -EINVAL);
}

/* ---- replies built by hand, the way the kernel lays out a dump ---- */

static struct nlmsghdr *reply_start(void)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	memset(buf32, 0, sizeof(buf32));
	nlh = mnl_nlmsg_put_header(BUF);
	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	return nlh;
}

static void put_ip4(struct nlmsghdr *nlh, uint16_t idx, uint32_t addr, uint8_t cidr)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, idx);

	addr = htonl(addr);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, &addr);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, cidr);
	mnl_attr_nest_end(nlh, n);
}

/* A peer with key seed and count /32s starting at first. */
static void put_peer(struct nlmsghdr *nlh, uint16_t idx, uint8_t seed, uint32_t first, int count)
{
	struct nlattr *p = mnl_attr_nest_start(nlh, idx), *ips;
	uint8_t key[WG_KEY_LEN];

	fill_key(key, seed);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, key);
	mnl_attr_put_u64(nlh, WGPEER_A_RX_BYTES, 1000 + seed);
	mnl_attr_put_u64(nlh, WGPEER_A_TX_BYTES, 2000 + seed);
	mnl_attr_put_u32(nlh, 99, 0xdead); /* an attribute from a newer kernel: ignored */
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	for (int i = 0; i < count; i++)
		put_ip4(nlh, (uint16_t)i, first + (uint32_t)i, 32);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, p);
}

static void test_parse_multipart_dump(void **state)
{
	struct wg_kernel_dump d = {0};
	struct nlmsghdr *nlh;
	struct nlattr *peers;
	uint8_t key[WG_KEY_LEN];

	/* Message 1: the device, peer A (2 IPs), the first part of peer B (1 IP). */
	nlh = reply_start();
	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, IFINDEX);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "wg0");
	fill_key(key, 50);
	mnl_attr_put(nlh, WGDEVICE_A_PUBLIC_KEY, WG_KEY_LEN, key);
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 51871);
	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 0x10);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	put_peer(nlh, 0, 10, 0x0a000001, 2);
	put_peer(nlh, 1, 20, 0x0a000101, 1);
	mnl_attr_nest_end(nlh, peers);
	assert_true(wg_kernel_parse_device_msg(nlh, &d));

	/* Message 2: the rest of peer B (2 IPs), then peer C. */
	nlh = reply_start();
	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, IFINDEX);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	put_peer(nlh, 0, 20, 0x0a000102, 2);
	put_peer(nlh, 1, 30, 0x0a000201, 1);
	mnl_attr_nest_end(nlh, peers);
	assert_true(wg_kernel_parse_device_msg(nlh, &d));

	assert_string_equal(d.info.ifname, "wg0");
	assert_true(d.info.has_public_key);
	assert_false(d.info.has_private_key);
	assert_int_equal(d.info.listen_port, 51871);
	assert_int_equal(d.info.fwmark, 0x10);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.peers[0].n_allowed_ips, 2);
	assert_int_equal(d.peers[1].n_allowed_ips, 3);
	assert_int_equal(ntohl(d.peers[1].allowed_ips[2].ip4.s_addr), 0x0a000103);
	assert_int_equal(d.peers[2].n_allowed_ips, 1);
	assert_int_equal(d.peers[2].rx_bytes, 1030);
	assert_int_equal(d.peers[2].tx_bytes, 2030);
	wg_kernel_dump_free(&d);
}

/* Each case: one bad attribute in an otherwise good reply; the parser refuses it and says
 * which field was wrong. */
enum bad_case {
	BAD_NO_KEY,
	BAD_SHORT_KEY,
	BAD_ENDPOINT,
	BAD_IP_LEN,
	BAD_CIDR,
	BAD_NO_CIDR,
	BAD_PORT_LEN,
	BAD_HANDSHAKE
};

static void build_bad(enum bad_case c)
{
	struct nlmsghdr *nlh = reply_start();
	struct nlattr *peers, *p, *ips, *ip;
	uint8_t key[WG_KEY_LEN] = {1}, addr16[16] = {0};
	uint32_t addr = htonl(0x0a000001), junk[3] = {0};

	if (c == BAD_PORT_LEN)
		mnl_attr_put_u8(nlh, WGDEVICE_A_LISTEN_PORT, 1);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	p = mnl_attr_nest_start(nlh, 0);
	if (c != BAD_NO_KEY)
		mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, c == BAD_SHORT_KEY ? 31 : WG_KEY_LEN, key);
	if (c == BAD_ENDPOINT)
		mnl_attr_put(nlh, WGPEER_A_ENDPOINT, 12, junk); /* AF_UNSPEC, 12 bytes */
	if (c == BAD_HANDSHAKE)
		mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, 8, junk);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	ip = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	if (c == BAD_IP_LEN)
		mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 16, addr16);
	else
		mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, &addr);
	if (c != BAD_NO_CIDR)
		mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, c == BAD_CIDR ? 33 : 32);
	mnl_attr_nest_end(nlh, ip);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, peers);
}

static void test_parse_rejects_bad_replies(void **state)
{
	static const struct {
		enum bad_case c;
		const char *says;
	} cases[] = {
	    {BAD_NO_KEY, "without a public key"},
	    {BAD_SHORT_KEY, "public key: 31 bytes"},
	    {BAD_ENDPOINT, "endpoint"},
	    {BAD_IP_LEN, "allowed-ip: family 2 with a 16-byte address"},
	    {BAD_CIDR, "/33"},
	    {BAD_NO_CIDR, "are all required"},
	    {BAD_PORT_LEN, "listen port"},
	    {BAD_HANDSHAKE, "handshake time"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_kernel_dump d = {0};

		build_bad(cases[i].c);
		assert_false(wg_kernel_parse_device_msg(BUF, &d));
		if (!strstr(d.err, cases[i].says))
			fail_msg("case %zu: error \"%s\" does not mention \"%s\"", i, d.err,
				 cases[i].says);
		assert_int_equal(d.n, 0);
		wg_kernel_dump_free(&d);
	}
}

static void test_parse_truncated(void **state)
{
	struct wg_kernel_dump d = {0};
	struct nlmsghdr *nlh = reply_start();
	struct nlattr *peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);

	put_peer(nlh, 0, 1, 0x0a000001, 3);
	mnl_attr_nest_end(nlh, peers);
	/* Cut the message inside the peer: the nest's length now points past the end. */
	nlh->nlmsg_len -= 24;
	assert_false(wg_kernel_parse_device_msg(nlh, &d));
	assert_true(d.err[0] != '\0');
	wg_kernel_dump_free(&d);

	nlh->nlmsg_len = MNL_NLMSG_HDRLEN; /* no genetlink header at all */
	assert_false(wg_kernel_parse_device_msg(nlh, &d));
	assert_non_null(strstr(d.err, "no genetlink header"));
}

static void test_parse_family_id(void **state)
{
	struct nlmsghdr *nlh = reply_start();

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "wireguard");
	assert_int_equal(wg_kernel_parse_family_id(nlh), 0);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, 0x22);
	assert_int_equal(wg_kernel_parse_family_id(nlh), 0x22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_peer_round_trip),
	    cmocka_unit_test(test_set_peer_add_only_and_v6_endpoint),
	    cmocka_unit_test(test_set_peer_split_across_messages),
	    cmocka_unit_test(test_remove_peer),
	    cmocka_unit_test(test_set_device),
	    cmocka_unit_test(test_get_requests),
	    cmocka_unit_test(test_buffers_too_small),
	    cmocka_unit_test(test_invalid_peers),
	    cmocka_unit_test(test_parse_multipart_dump),
	    cmocka_unit_test(test_parse_rejects_bad_replies),
	    cmocka_unit_test(test_parse_truncated),
	    cmocka_unit_test(test_parse_family_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

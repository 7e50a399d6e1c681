// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: lib/net's address and prefix parsers on arbitrary bytes, in every
 * host-bits mode. Invariants checked (abort on violation): an accepted prefix formats to
 * text that parses back to the same prefix; REFUSE accepts only what has no host bits; CLEAR
 * gives REFUSE's answer for the network; KEEP keeps exactly the bytes given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text)
{
	struct net_prefix r, c, k, back;
	char why[256], out[NET_PREFIX_STRLEN];
	bool okr = net_prefix_parse(text, NET_HOST_BITS_REFUSE, &r, why, sizeof(why));
	bool okc = net_prefix_parse(text, NET_HOST_BITS_CLEAR, &c, why, sizeof(why));
	bool okk = net_prefix_parse(text, NET_HOST_BITS_KEEP, &k, why, sizeof(why));

	if (okr != okk && !(okk && net_prefix_has_host_bits(&k)))
		abort();
	if (okc != okk)
		abort();
	if (okr && (net_prefix_has_host_bits(&r) || memcmp(&r, &c, sizeof(r))))
		abort();
	if (okc) {
		net_prefix_format(&c, out);
		if (!net_prefix_parse(out, NET_HOST_BITS_REFUSE, &back, why, sizeof(why)) ||
		    memcmp(&back, &c, sizeof(back)))
			abort();
		if (!net_prefix_contains(&c, &k))
			abort();
	}
	(void)net_ip_parse(text, AF_UNSPEC, &r, why, sizeof(why));
	(void)net_ip_parse(text, AF_INET, &r, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check(text);
	free(text);
	return 0;
}

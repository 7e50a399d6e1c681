// SPDX-License-Identifier: GPL-2.0-only
/* Drives the key-file parser: accepted input must round-trip through base64. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[WG_KEY_LEN], back[WG_KEY_LEN];
	char why[256] = "", b64[WG_KEY_B64_LEN];

	if (tunnel_key_parse_file(key, (const char *)data, size, "fuzz", why, sizeof(why))) {
		tunnel_key_to_base64(b64, key);
		if (!tunnel_key_from_base64(back, b64, why, sizeof(why)) ||
		    memcmp(key, back, WG_KEY_LEN))
			abort();
	} else if (!why[0]) {
		abort();
	}
	return 0;
}

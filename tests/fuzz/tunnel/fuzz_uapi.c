// SPDX-License-Identifier: GPL-2.0-only
/* Drives the UAPI reply parsers with arbitrary bytes: they must never crash or leak, and
 * whatever they accept must be self-consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/wg_uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_uapi_device d;
	char why[256];
	int err = 0;

	if (wg_uapi_parse_get((const char *)data, size, &d, &err, why, sizeof(why))) {
		for (size_t i = 0; i < d.n_peers; i++)
			if (d.peers[i].n_allowed_ips > WG_UAPI_MAX_ALLOWED_IPS)
				abort();
		if (err > 0)
			abort();
		wg_uapi_device_free(&d);
	} else if (!why[0]) {
		abort(); /* a rejection always says why */
	}
	why[0] = '\0';
	if (!wg_uapi_parse_errno((const char *)data, size, &err, why, sizeof(why)) && !why[0])
		abort();
	return 0;
}

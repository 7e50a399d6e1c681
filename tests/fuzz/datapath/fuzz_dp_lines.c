// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the pp-datapath line parsers: every line of the input goes through both the
 * policy-line and the ipcache-line parser, the way `policy load` / `ipcache load` read
 * files. Accepted entries are then expanded to policy-map keys, which must succeed and
 * stay within the 32-key bound. A refusal must come with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/dp.h"
#include "lib/policy_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *line, *save = NULL;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct dp_policy_key keys[32];
		struct dp_ipcache_entry ie;
		struct policy_entry pe;
		uint32_t ep = 0;
		bool has_ep, skip;
		char why[256] = "";

		if (dp_parse_policy_line(line, &pe, &ep, &has_ep, &skip, why, sizeof(why))) {
			if (!skip) {
				int n = dp_policy_expand(ep, &pe, keys, 32);

				if (n < 1 || n > 32)
					abort();
			}
		} else if (!why[0]) {
			abort();
		}
		why[0] = '\0';
		if (!dp_parse_ipcache_line(line, &ie, &skip, why, sizeof(why)) && !why[0])
			abort();
	}
	free(buf);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the event decoder and both formatters (text, JSON) with arbitrary ring-buffer
 * records: a record from an older or newer datapath must be refused or printed, never
 * read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/dp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_event e;
	char why[128] = "", out[1024];

	if (!dp_event_decode(data, size, &e, why, sizeof(why))) {
		if (!why[0])
			abort();
		return 0;
	}
	dp_event_format(&e, false, out, sizeof(out));
	dp_event_format(&e, true, out, sizeof(out));
	dp_event_format(&e, false, out, 16); /* truncation */
	return 0;
}

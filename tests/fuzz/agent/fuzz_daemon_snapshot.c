// SPDX-License-Identifier: GPL-2.0-only
/* The persisted policy snapshot (agent/daemon_snapshot.h): any bytes in the file must give
 * an intact snapshot or a reasoned refusal, never a crash; what decodes re-encodes to the
 * same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/daemon_snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon_snapshot s;
	char why[256];
	uint32_t id = 0;

	if (size >= 12)
		memcpy(&id, data + 12, sizeof(id)); /* the header's identity: reach the body */
	if (!daemon_snapshot_decode(data, size, id, &s, why, sizeof(why)))
		return 0;
	size_t len = 0;
	void *back = daemon_snapshot_encode(&s, &len);
	if (back && (len != size || memcmp(back, data, size)))
		abort();
	free(back);
	daemon_snapshot_free(&s);
	return 0;
}

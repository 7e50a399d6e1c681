// SPDX-License-Identifier: GPL-2.0-only
/* The persisted gateway set (agent/daemon_gwstate.h): any bytes in the file must give a
 * whole set or a reasoned refusal, never a crash; what decodes re-encodes to a set that
 * decodes to the same records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/daemon_gwstate.h"

#define MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store_gateway a[MAX], b[MAX];
	char active[STORE_NAME_MAX], active2[STORE_NAME_MAX], why[512];
	size_t n = 0, n2 = 0;

	if (!daemon_gwstate_decode((const char *)data, size, "m1/1", a, MAX, &n, active,
				   sizeof(active), why, sizeof(why))) {
		if (n != 0 || !why[0])
			abort(); /* a refusal is whole and says why */
		return 0;
	}
	if (n == 0 || n > MAX)
		abort();
	char *back = daemon_gwstate_encode(a, n, active, "m1/1");
	if (!back)
		return 0;
	if (!daemon_gwstate_decode(back, strlen(back), "m1/1", b, MAX, &n2, active2,
				   sizeof(active2), why, sizeof(why)) ||
	    n2 != n || strcmp(active, active2))
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		while (k < n2 && strcmp(a[i].name, b[k].name))
			k++;
		if (k == n2 || memcmp(&a[i], &b[k], sizeof(a[i])))
			abort();
	}
	free(back);
	return 0;
}

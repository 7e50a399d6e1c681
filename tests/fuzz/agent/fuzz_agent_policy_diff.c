// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes agent_policy_policy_diff() and agent_policy_ipcache_diff() with arbitrary map
 * contents and desired lists. Input: byte 0 = number of desired entries (mod 16), then
 * that many 16-byte struct policy_entry images, then 20-byte rows
 * {endpoint, identity, dir, deny, proto, port_bits, port, refcnt, rule_id}; the same bytes
 * are also read as ipcache entries for the ipcache diff.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agent/policy_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_entry want[16];
	struct dp_policy_row rows[64];
	struct dp_ipcache_entry ipc[32];
	struct agent_policy_diff d;
	struct agent_ipcache_diff id;
	size_t nw, nr = 0, ni = 0, off = 1;
	char err[256];

	if (!size)
		return 0;
	nw = data[0] % 16;
	for (size_t i = 0; i < nw; i++) {
		memset(&want[i], 0, sizeof(want[i]));
		if (off + 16 <= size) {
			memcpy(&want[i], data + off, sizeof(want[i]) < 16 ? sizeof(want[i]) : 16);
			off += 16;
		}
	}
	while (off + 20 <= size && nr < 64) {
		const uint8_t *p = data + off;
		struct dp_policy_row *r = &rows[nr++];

		memset(r, 0, sizeof(*r));
		memcpy(&r->endpoint, p, 4);
		memcpy(&r->identity, p + 4, 4);
		r->dir = p[8];
		r->deny = p[9];
		r->proto = p[10];
		r->port_bits = p[11];
		memcpy(&r->port, p + 12, 2);
		memcpy(&r->refcnt, p + 14, 2);
		memcpy(&r->rule_id, p + 16, 4);
		/* half of the rows belong to the endpoint under test */
		if (p[0] & 1)
			r->endpoint = 300;
		off += 20;
	}
	if (agent_policy_policy_diff(300, want, nw, rows, nr, &d, err, sizeof(err)) == 0)
		agent_policy_diff_free(&d);

	for (off = 1; off + sizeof(ipc[0]) <= size && ni < 32; off += sizeof(ipc[0]))
		memcpy(&ipc[ni++], data + off, sizeof(ipc[0]));
	if (agent_policy_ipcache_diff(ipc, ni / 2, ipc + ni / 2, ni - ni / 2, ipc, ni / 4, &id) ==
	    0)
		agent_ipcache_diff_free(&id);
	(void)agent_policy_enforce_flags(want, nw, data[0] & 0x10, data[0] & 0x20);
	return 0;
}

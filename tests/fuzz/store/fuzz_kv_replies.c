// SPDX-License-Identifier: GPL-2.0-only
/* The etcd gateway's replies as lib/kv parses them (range, txn, watch messages, errors):
 * whatever a server or a man in the middle sends must be -EPROTO or parsed, never a crash. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/kv/kv_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_range_result r;
	struct kv_txn_result t;
	struct kv_watch_msg m;
	char err[256];
	json_t *j = json_loadb((const char *)data, size, 0, NULL);

	if (!j)
		return 0;
	if (kv_parse_range(j, &r, err, sizeof(err)) == 0)
		kv_range_result_free(&r);
	if (kv_parse_txn(j, &t, err, sizeof(err)) == 0)
		kv_txn_result_free(&t);
	json_t *res = json_object_get(j, "result");
	if (kv_parse_watch_msg(res ? res : j, &m, err, sizeof(err)) == 0)
		kv_watch_msg_free(&m);
	(void)kv_parse_error(j, err, sizeof(err));
	json_decref(j);
	return 0;
}

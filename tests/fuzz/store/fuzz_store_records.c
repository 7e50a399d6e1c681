// SPDX-License-Identifier: GPL-2.0-only
/* Every store record decoder on the same bytes (store values are outside input: anything
 * with write access to the prefix can put them). Decoders must never crash or leak, and
 * whatever they accept must encode and decode back to the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v = (const char *)data;
	char err[512], canon[STORE_CIDR_MAX], *text;
	struct store_identity id;
	struct store_ipcache e;
	struct store_config c;
	struct store_workload w;
	struct store_gateway g;
	uint32_t ref;

	if (store_identity_decode("/p/identities/300", v, size, &id, err, sizeof(err))) {
		text = store_identity_encode(&id.labels);
		struct store_identity again;
		if (!text ||
		    !store_identity_decode("/p/identities/300", text, strlen(text), &again, err,
					   sizeof(err)) ||
		    !label_set_equal(&again.labels, &id.labels))
			abort();
		store_identity_clear(&again);
		free(text);
		store_identity_clear(&id);
	}
	if (store_ipcache_decode("/p/ipcache/10.0.0.1/32", v, size, &e, err, sizeof(err))) {
		struct store_ipcache again;
		text = store_ipcache_encode(&e);
		if (!text ||
		    !store_ipcache_decode("/p/ipcache/10.0.0.1/32", text, strlen(text), &again, err,
					  sizeof(err)) ||
		    memcmp(&again, &e, sizeof(e)))
			abort();
		free(text);
	}
	if (store_config_decode(v, size, &c, err, sizeof(err))) {
		struct store_config again;
		text = store_config_encode(&c);
		if (!text || !store_config_decode(text, strlen(text), &again, err, sizeof(err)) ||
		    memcmp(&again, &c, sizeof(c)))
			abort();
		free(text);
	}
	if (store_workload_decode("/p/workloads/w1", v, size, &w, err, sizeof(err))) {
		text = store_workload_encode(&w);
		struct store_workload again;
		if (!text || !store_workload_decode("/p/workloads/w1", text, strlen(text), &again,
						    err, sizeof(err)))
			abort();
		store_workload_clear(&again);
		free(text);
		store_workload_clear(&w);
	}
	if (store_gateway_decode("/p/gateways/g1", v, size, &g, err, sizeof(err))) {
		text = store_gateway_encode(&g);
		if (!text)
			abort();
		free(text);
	}
	(void)store_idref_decode("/p/identities-by-labels/x", v, size, &ref, err, sizeof(err));
	/* The key side: CIDRs come from keys and flags. */
	if (size < 128) {
		char key[128];
		memcpy(key, data, size);
		key[size] = '\0';
		(void)store_cidr_canon(key, canon, err, sizeof(err));
		(void)store_name_valid(key, true);
	}
	return 0;
}

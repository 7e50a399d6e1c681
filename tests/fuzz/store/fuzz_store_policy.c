// SPDX-License-Identifier: GPL-2.0-only
/* The policy record decoder on a fuzzed key and value (both are outside input: anything with
 * write access to a prefix of policies/ chooses them). Input: the path after "policies/",
 * a newline, the value. It must never crash or leak, and what it accepts must bind its
 * scope: a clusterwide kind only under _cluster, any other under its namespace. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct store_policy p;
	char path[600], err[600];
	size_t plen;

	if (!nl || (plen = (size_t)(nl - data)) >= sizeof(path))
		return 0;
	memcpy(path, data, plen);
	path[plen] = '\0';
	if (!store_policy_decode(path, (const char *)nl + 1, size - plen - 1, &p, err, sizeof(err)))
		return 0;
	if (!p.kind || !p.name[0] ||
	    !strcmp(p.kind, "CiliumClusterwideNetworkPolicy") == !!p.namespace_[0] ||
	    strncmp(path, p.namespace_[0] ? p.namespace_ : "_cluster",
		    strlen(p.namespace_[0] ? p.namespace_ : "_cluster")))
		abort();
	json_decref(p.object);
	return 0;
}

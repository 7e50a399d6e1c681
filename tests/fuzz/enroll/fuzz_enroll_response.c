// SPDX-License-Identifier: GPL-2.0-only
/* What the client parses from the network: the enrollment response (and an error body), and
 * the CA certificate the pin check reads. Never crash or leak; an accepted response encodes
 * and decodes back to the same workload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enroll/pki.h"
#include "enroll/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enroll_response r, again;
	uint8_t pin[ENROLL_PIN_LEN];
	char why[256], code[64], msg[512], *text;

	enroll_error_decode((const char *)data, size, code, msg);
	enroll_pki_pin((const char *)data, size, pin, why, sizeof(why));
	if (enroll_response_decode((const char *)data, size, &r, why, sizeof(why))) {
		text = enroll_response_encode(&r);
		if (!text ||
		    !enroll_response_decode(text, strlen(text), &again, why, sizeof(why)) ||
		    strcmp(r.workload.name, again.workload.name) ||
		    r.workload.identity != again.workload.identity ||
		    strcmp(r.workload.overlay_ip, again.workload.overlay_ip) ||
		    r.n_gateways != again.n_gateways || strcmp(r.store_user, again.store_user))
			abort();
		enroll_response_free(&again);
		enroll_response_free(&r);
		free(text);
	}
	return 0;
}

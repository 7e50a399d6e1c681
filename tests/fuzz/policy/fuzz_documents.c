// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: any bytes through policy_documents_load(); every document that
 * validates is also compiled for an endpoint and traced, so the parser's output is
 * exercised by the compiler too (a parser that accepts something the compiler trips on is
 * a bug).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/document.h"
#include "policy/engine.h"
#include "policy/labels.h"
#include "policy/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void trace_once(struct policy_engine *e, const char *src, const char *dst)
{
	struct trace_peer s = {0}, d = {0};
	struct trace_result r;

	if (trace_peer_parse(&s, src, NULL, 0) && trace_peer_parse(&d, dst, NULL, 0) &&
	    !policy_trace(e, &s, &d, 6, 443, &r))
		trace_result_free(&r);
	trace_peer_free(&s);
	trace_peer_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_document *docs;
	struct policy_engine *e;
	struct label_set ls;
	char err[1024], key[600];
	size_t n;

	if (!policy_documents_load("fuzz", (const char *)data, size, &docs, &n, err, sizeof(err)))
		return 0;
	e = policy_engine_new();
	if (e &&
	    label_set_parse(&ls, "app=a,io.kubernetes.pod.namespace=default", err, sizeof(err))) {
		policy_engine_identity_set(e, 256, &ls, NULL);
		policy_engine_endpoint_set(e, 1, &ls, NULL);
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "%s/%s", docs[i].namespace_, docs[i].name);
			policy_engine_policy_set(e, key, docs[i].object, NULL, err, sizeof(err));
		}
		trace_once(e, "app=a,io.kubernetes.pod.namespace=default", "10.1.2.3");
		trace_once(e, "10.1.2.3", "app=b,io.kubernetes.pod.namespace=default");
		label_set_free(&ls);
	}
	policy_engine_free(e);
	policy_documents_free(docs, n);
	return 0;
}

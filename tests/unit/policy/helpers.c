// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>

#include "policy/document.h"
#include "policy/engine.h"
#include "policy/trace.h"
#include "tests/unit/policy/helpers.h"

bool th_load(struct policy_engine *e, const char *text, char *err, size_t err_len)
{
	struct policy_document *docs;
	char key[600];
	size_t n;

	if (!policy_documents_load("test", text, strlen(text), &docs, &n, err, err_len))
		return false;
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s/%s", docs[i].namespace_, docs[i].name);
		if (policy_engine_policy_set(e, key, docs[i].object, NULL, err, err_len)) {
			policy_documents_free(docs, n);
			return false;
		}
	}
	policy_documents_free(docs, n);
	return true;
}

int th_trace(const char *text, const char *src, const char *dst, const char *port)
{
	struct policy_engine *e = policy_engine_new();
	struct trace_peer s, d;
	struct trace_result r;
	char err[1024];
	uint16_t p;
	uint8_t proto;
	int verdict = -1;

	if (!e)
		return -1;
	if (text && *text && !th_load(e, text, err, sizeof(err))) {
		fprintf(stderr, "load: %s\n", err);
		policy_engine_free(e);
		return -1;
	}
	if (!trace_peer_parse(&s, src, err, sizeof(err)) ||
	    !trace_peer_parse(&d, dst, err, sizeof(err)) ||
	    !trace_port_parse(port, &proto, &p, err, sizeof(err))) {
		fprintf(stderr, "args: %s\n", err);
		policy_engine_free(e);
		return -1;
	}
	if (!policy_trace(e, &s, &d, proto, p, &r)) {
		verdict = r.allowed;
		trace_result_free(&r);
	}
	trace_peer_free(&s);
	trace_peer_free(&d);
	policy_engine_free(e);
	return verdict;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * What `pseudopod` does with a reply from the daemon: parse it (api_client_parse_reply) and
 * render it as status, policy, trace, flows and identity tables, plus one table line per flow
 * object. A daemon of another version (or anything else listening on the socket) may send
 * any JSON: missing fields, wrong types, deep nesting. The CLI must print what it can.
 */
#include <stdint.h>
#include <stdio.h>

#include "agent/api_client.h"
#include "agent/cli_cmds.h"
#include "agent/flows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	json_t *reply = NULL, *f;
	char why[256], line[1024];
	size_t i;

	if (!null)
		null = fopen("/dev/null", "w");
	if (!api_client_parse_reply((const char *)data, size, &reply, why, sizeof(why)))
		return 0;
	cli_render_status(null, reply);
	cli_render_policy(null, reply);
	cli_render_trace(null, reply);
	cli_render_flows(null, reply);
	cli_render_identity(null, reply);
	cli_render_identities(null, reply);
	json_array_foreach(json_object_get(reply, "flows"), i, f)
	    flows_json_line(f, line, sizeof(line));
	flows_json_line(reply, line, sizeof(line));
	json_decref(reply);
	return 0;
}

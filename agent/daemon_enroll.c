// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who this machine is: <state-dir>/enrollment.json as `pseudopod enroll` wrote it
 * (docs/enroll.md): {"version":1, "server", "ca_pin", "enrolled_at", "response": the
 * enrollment server's reply without the store password}. The reply is read by enroll's own
 * decoder (enroll_response_decode): one parser for that format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/daemon_internal.h"
#include "enroll/client.h"
#include "enroll/files.h"
#include "enroll/proto.h"

#define ENROLL_STATE_MAX (1u << 20)

/* The password lives in its own 0600 file (the store connection reads it through the
 * config's password-file); the decoder insists on one when a user is named, so a
 * placeholder stands in for it here. It is never used. */
static void fill_password(json_t *resp)
{
	json_t *st = json_object_get(resp, "store");

	if (json_is_object(st) && json_string_length(json_object_get(st, "user")) &&
	    !json_object_get(st, "password"))
		json_object_set_new(st, "password", json_string("(in store-password)"));
}

static int take(struct daemon_enrollment *e, struct enroll_response *r, const json_t *top)
{
	const char *server = json_string_value(json_object_get(top, "server"));

	e->workload = r->workload;
	memset(&r->workload, 0, sizeof(r->workload)); /* its labels now belong to e */
	e->cluster = r->cluster;
	e->gateways = r->gateways;
	e->n_gateways = r->n_gateways;
	r->gateways = NULL;
	r->n_gateways = 0;
	snprintf(e->server, sizeof(e->server), "%s", server ? server : "");
	e->enrolled = true;
	return 0;
}

int daemon_enroll_load(struct daemon_enrollment *e, const char *state_dir, char *err,
		       size_t err_len)
{
	struct enroll_response r;
	char path[CONFIG_PATH_MAX + 32], why[512], *text = NULL, *resp_text = NULL;
	json_t *top = NULL;
	size_t len = 0;
	int rc;

	memset(e, 0, sizeof(*e));
	snprintf(path, sizeof(path), "%s/%s", state_dir, ENROLL_STATE_FILE);
	rc = enroll_read_file(path, true, ENROLL_STATE_MAX, &text, &len, why, sizeof(why));
	if (rc == -ENOENT) {
		snprintf(err, err_len,
			 "this machine is not enrolled (no %s): run 'pseudopod enroll JOIN' first",
			 path);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, err_len, "%s", why);
		return rc;
	}
	top = json_loadb(text, len, 0, NULL);
	json_t *resp = json_object_get(top, "response");
	if (!json_is_object(top) || json_integer_value(json_object_get(top, "version")) != 1 ||
	    !json_is_object(resp)) {
		snprintf(err, err_len, "%s: expected {\"version\": 1, \"response\": {...}}", path);
		rc = -EINVAL;
		goto out;
	}
	fill_password(resp);
	resp_text = json_dumps(resp, JSON_COMPACT);
	if (!resp_text) {
		rc = -ENOMEM;
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		goto out;
	}
	if (!enroll_response_decode(resp_text, strlen(resp_text), &r, why, sizeof(why))) {
		snprintf(err, err_len, "%s: response.%s", path, why);
		rc = -EINVAL;
		goto out;
	}
	rc = take(e, &r, top);
	enroll_response_free(&r);
out:
	free(resp_text);
	json_decref(top);
	free(text);
	return rc;
}

void daemon_enroll_free(struct daemon_enrollment *e)
{
	store_workload_clear(&e->workload);
	free(e->gateways);
	memset(e, 0, sizeof(*e));
}

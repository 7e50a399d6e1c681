// SPDX-License-Identifier: GPL-2.0-only
#include "lib/kv/kv_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/why.h"

char *kv_b64_encode(const void *data, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(n);

	if (!out)
		return NULL;
	sodium_bin2base64(out, n, data, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

int kv_b64_decode(const char *b64, char **out, size_t *out_len)
{
	size_t in_len = strlen(b64);
	size_t cap = in_len / 4 * 3 + 3;
	size_t bin_len = 0;
	const char *end = NULL;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)buf, cap, b64, in_len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    (end && *end)) {
		free(buf);
		return -EPROTO;
	}
	buf[bin_len] = '\0';
	*out = buf;
	*out_len = bin_len;
	return 0;
}

bool kv_json_int64(const json_t *obj, const char *field, int64_t *out)
{
	json_t *v = json_object_get(obj, field);
	const char *s;
	char *end;
	long long n;

	*out = 0;
	if (!v || json_is_null(v))
		return true;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (!*s)
		return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = n;
	return true;
}

/* An optional base64 string field: absent = empty (protobuf omits empty bytes). */
static int b64_field(const json_t *obj, const char *field, char **out, size_t *len, char *err,
		     size_t err_len)
{
	json_t *v = json_object_get(obj, field);

	if (!v || json_is_null(v))
		return kv_b64_decode("", out, len);
	if (!json_is_string(v))
		return why_rc(-EPROTO, err, err_len, "field %s: expected a base64 string", field);
	if (kv_b64_decode(json_string_value(v), out, len) < 0)
		return why_rc(-EPROTO, err, err_len, "field %s: invalid base64", field);
	return 0;
}

void kv_pair_clear(struct kv_pair *p)
{
	free(p->key);
	free(p->value);
	memset(p, 0, sizeof(*p));
}

int kv_parse_pair(const json_t *obj, struct kv_pair *out, char *err, size_t err_len)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return why_rc(-EPROTO, err, err_len, "kv: expected an object");
	if (!kv_json_int64(obj, "create_revision", &out->create_revision) ||
	    !kv_json_int64(obj, "mod_revision", &out->mod_revision) ||
	    !kv_json_int64(obj, "version", &out->version) ||
	    !kv_json_int64(obj, "lease", &out->lease))
		return why_rc(-EPROTO, err, err_len,
			      "kv: a revision/version/lease is not an int64");
	if (b64_field(obj, "key", &out->key, &out->key_len, err, err_len) < 0)
		goto fail;
	if (b64_field(obj, "value", &out->value, &out->value_len, err, err_len) < 0)
		goto fail;
	return 0;
fail:
	kv_pair_clear(out);
	return -EPROTO;
}

static int header_revision(const json_t *reply, int64_t *rev, char *err, size_t err_len)
{
	json_t *h = json_object_get(reply, "header");

	*rev = 0;
	if (h && !json_is_object(h))
		return why_rc(-EPROTO, err, err_len, "header: expected an object");
	if (h && !kv_json_int64(h, "revision", rev))
		return why_rc(-EPROTO, err, err_len, "header.revision: expected an int64");
	return 0;
}

int kv_parse_range(const json_t *reply, struct kv_range_result *out, char *err, size_t err_len)
{
	json_t *kvs, *more;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(reply))
		return why_rc(-EPROTO, err, err_len, "range reply: expected an object");
	if (header_revision(reply, &out->revision, err, err_len) < 0)
		return -EPROTO;
	if (!kv_json_int64(reply, "count", &out->count))
		return why_rc(-EPROTO, err, err_len, "range reply: count is not an int64");
	more = json_object_get(reply, "more");
	if (more && !json_is_boolean(more))
		return why_rc(-EPROTO, err, err_len, "range reply: more is not a boolean");
	out->more = more && json_is_true(more);
	kvs = json_object_get(reply, "kvs");
	if (!kvs || json_is_null(kvs))
		return 0;
	if (!json_is_array(kvs))
		return why_rc(-EPROTO, err, err_len, "range reply: kvs is not an array");
	out->kvs = calloc(json_array_size(kvs) ? json_array_size(kvs) : 1, sizeof(*out->kvs));
	if (!out->kvs)
		return -ENOMEM;
	for (i = 0; i < json_array_size(kvs); i++) {
		if (kv_parse_pair(json_array_get(kvs, i), &out->kvs[i], err, err_len) < 0) {
			kv_range_result_free(out);
			return -EPROTO;
		}
		out->n++;
	}
	return 0;
}

void kv_range_result_free(struct kv_range_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		kv_pair_clear(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

int kv_parse_txn(const json_t *reply, struct kv_txn_result *out, char *err, size_t err_len)
{
	json_t *ok, *resps;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(reply))
		return why_rc(-EPROTO, err, err_len, "txn reply: expected an object");
	if (header_revision(reply, &out->revision, err, err_len) < 0)
		return -EPROTO;
	ok = json_object_get(reply, "succeeded");
	if (ok && !json_is_boolean(ok))
		return why_rc(-EPROTO, err, err_len, "txn reply: succeeded is not a boolean");
	out->succeeded = ok && json_is_true(ok);
	resps = json_object_get(reply, "responses");
	if (!resps || json_is_null(resps))
		return 0;
	if (!json_is_array(resps))
		return why_rc(-EPROTO, err, err_len, "txn reply: responses is not an array");
	out->ranges =
	    calloc(json_array_size(resps) ? json_array_size(resps) : 1, sizeof(*out->ranges));
	if (!out->ranges)
		return -ENOMEM;
	out->n = json_array_size(resps);
	for (i = 0; i < out->n; i++) {
		json_t *r = json_array_get(resps, i);
		json_t *range = json_object_get(r, "response_range");

		if (!json_is_object(r)) {
			kv_txn_result_free(out);
			return why_rc(-EPROTO, err, err_len,
				      "txn reply: responses[%zu] is not an object", i);
		}
		if (!range)
			continue;
		rc = kv_parse_range(range, &out->ranges[i], err, err_len);
		if (rc < 0) {
			kv_txn_result_free(out);
			return rc;
		}
	}
	return 0;
}

void kv_txn_result_free(struct kv_txn_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		kv_range_result_free(&r->ranges[i]);
	free(r->ranges);
	memset(r, 0, sizeof(*r));
}

int kv_errno_from_grpc(int code, const char *message)
{
	const char *m = message ? message : "";

	if (strstr(m, "compacted"))
		return -ERANGE;
	/* etcd says InvalidArgument for a wrong password; it is an access problem. */
	if (strstr(m, "authentication failed") || strstr(m, "permission denied") ||
	    strstr(m, "invalid auth token") || strstr(m, "user name is empty"))
		return -EACCES;
	if (strstr(m, "lease not found") || strstr(m, "requested lease not found"))
		return -ENOENT;
	switch (code) {
	case 3:	 /* InvalidArgument */
	case 9:	 /* FailedPrecondition */
	case 11: /* OutOfRange */
		return -EINVAL;
	case 5: /* NotFound */
		return -ENOENT;
	case 7:	 /* PermissionDenied */
	case 16: /* Unauthenticated */
		return -EACCES;
	case 4: /* DeadlineExceeded */
		return -ETIMEDOUT;
	case 8: /* ResourceExhausted */
		return -ENOSPC;
	case 14: /* Unavailable */
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int kv_parse_error(const json_t *reply, char *msg, size_t msg_len)
{
	json_t *e = json_object_get(reply, "error");
	const char *text = NULL;
	int64_t code = 0;

	if (!e)
		return 0;
	if (json_is_object(e)) { /* watch stream error */
		text = json_string_value(json_object_get(e, "message"));
		if (!kv_json_int64(e, "grpc_code", &code))
			code = 2;
	} else {
		text = json_string_value(json_object_get(reply, "message"));
		if (!text)
			text = json_string_value(e);
		if (!kv_json_int64(reply, "code", &code))
			code = 2;
	}
	snprintf(msg, msg_len, "%s", text ? text : "etcd returned an error without a message");
	return kv_errno_from_grpc((int)code, text);
}

void kv_watch_msg_free(struct kv_watch_msg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_events; i++)
		kv_pair_clear(&m->events[i].kv);
	free(m->events);
	memset(m, 0, sizeof(*m));
}

int kv_parse_watch_msg(const json_t *msg, struct kv_watch_msg *out, char *err, size_t err_len)
{
	json_t *evs, *b;
	const char *reason;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(msg))
		return why_rc(-EPROTO, err, err_len, "watch message: expected an object");
	if (header_revision(msg, &out->header_revision, err, err_len) < 0)
		return -EPROTO;
	if (!kv_json_int64(msg, "watch_id", &out->watch_id) ||
	    !kv_json_int64(msg, "compact_revision", &out->compact_revision))
		return why_rc(-EPROTO, err, err_len,
			      "watch message: watch_id/compact_revision not an int64");
	b = json_object_get(msg, "created");
	out->created = b && json_is_true(b);
	b = json_object_get(msg, "canceled");
	out->canceled = b && json_is_true(b);
	reason = json_string_value(json_object_get(msg, "cancel_reason"));
	snprintf(out->cancel_reason, sizeof(out->cancel_reason), "%s", reason ? reason : "");
	evs = json_object_get(msg, "events");
	if (!evs || json_is_null(evs))
		return 0;
	if (!json_is_array(evs))
		return why_rc(-EPROTO, err, err_len, "watch message: events is not an array");
	out->events = calloc(json_array_size(evs) ? json_array_size(evs) : 1, sizeof(*out->events));
	if (!out->events)
		return -ENOMEM;
	for (i = 0; i < json_array_size(evs); i++) {
		json_t *ev = json_array_get(evs, i);
		json_t *type = json_object_get(ev, "type");
		struct kv_watch_event *dst = &out->events[i];

		if (!json_is_object(ev)) {
			kv_watch_msg_free(out);
			return why_rc(-EPROTO, err, err_len,
				      "watch message: events[%zu] not an object", i);
		}
		/* Protobuf JSON omits the default enum value, PUT. */
		if (!type || (json_is_string(type) && !strcmp(json_string_value(type), "PUT")) ||
		    (json_is_integer(type) && json_integer_value(type) == 0))
			dst->type = KV_EVENT_PUT;
		else if ((json_is_string(type) && !strcmp(json_string_value(type), "DELETE")) ||
			 (json_is_integer(type) && json_integer_value(type) == 1))
			dst->type = KV_EVENT_DELETE;
		else {
			kv_watch_msg_free(out);
			return why_rc(-EPROTO, err, err_len,
				      "watch message: events[%zu].type unknown", i);
		}
		if (kv_parse_pair(json_object_get(ev, "kv"), &dst->kv, err, err_len) < 0) {
			kv_watch_msg_free(out);
			return -EPROTO;
		}
		out->n_events++;
	}
	return 0;
}

void kv_prefix_end(const char *prefix, size_t len, char *out, size_t *out_len)
{
	memcpy(out, prefix, len);
	while (len > 0) {
		unsigned char ch = (unsigned char)out[len - 1];
		if (ch < 0xff) {
			out[len - 1] = (char)(ch + 1);
			*out_len = len;
			return;
		}
		len--;
	}
	/* All 0xff (or empty): etcd's "\0" range_end means "to the end of the keyspace". */
	out[0] = '\0';
	*out_len = 1;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_proto: the etcd JSON gateway's wire format — base64 fields, int64-as-string numbers,
 * range/txn/watch replies, error bodies. Internal to lib/kv; separate so the unit tests and
 * the fuzz harness drive the reply parsers without an etcd. Parsers never trust a reply:
 * anything malformed is -EPROTO with the reason in err.
 */
#ifndef PSEUDOPOD_KV_PROTO_H
#define PSEUDOPOD_KV_PROTO_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/kv/kv.h"

/* Standard base64 of bytes (malloc'd, NUL-terminated). NULL on ENOMEM. */
char *kv_b64_encode(const void *data, size_t len);
/* Decodes standard base64; *out malloc'd with a NUL after *out_len bytes. 0 / -EPROTO. */
int kv_b64_decode(const char *b64, char **out, size_t *out_len);

/* An int64 field that may be a JSON string ("123", as the gateway sends) or a number.
 * Absent = 0 (protobuf default). false when present but not an int64. */
bool kv_json_int64(const json_t *obj, const char *field, int64_t *out);

int kv_parse_pair(const json_t *obj, struct kv_pair *out, char *err, size_t err_len);
void kv_pair_clear(struct kv_pair *p);
int kv_parse_range(const json_t *reply, struct kv_range_result *out, char *err, size_t err_len);
int kv_parse_txn(const json_t *reply, struct kv_txn_result *out, char *err, size_t err_len);

/* An error body {"error": "...", "code": N, "message": "..."} or a watch-stream error
 * {"error": {"grpc_code": N, "message": "..."}}: returns the -errno it means and copies the
 * message. 0 when the object is not an error. */
int kv_parse_error(const json_t *reply, char *msg, size_t msg_len);
/* Maps an etcd/gRPC error (code + message) to -errno. */
int kv_errno_from_grpc(int code, const char *message);

/* One message of a watch stream, already unwrapped from {"result": ...}. */
struct kv_watch_msg {
	int64_t header_revision;
	int64_t watch_id;
	bool created;
	bool canceled;
	int64_t compact_revision;
	char cancel_reason[256];
	size_t n_events;
	struct kv_watch_event {
		enum kv_event_type type;
		struct kv_pair kv;
	} * events;
};
int kv_parse_watch_msg(const json_t *msg, struct kv_watch_msg *out, char *err, size_t err_len);
void kv_watch_msg_free(struct kv_watch_msg *m);

/* The key just after every key that has prefix (etcd's range_end for a prefix); "\0" when
 * the prefix is empty or all 0xff (= to the end of the keyspace). Writes *len bytes into out
 * (at least 1). */
void kv_prefix_end(const char *prefix, size_t len, char *out, size_t *out_len);

#endif

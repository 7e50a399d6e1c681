/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flows: the bounded in-memory ring of recent flow records behind `pseudopod observe`
 * (library pp_agent_api).
 *
 * Feeding. pseudopodd's dp_events callback calls flows_add() with each decoded datapath
 * event (bpf/dp.h). The record is enriched at that moment through the caller's lookups:
 * the labels of both identities and, for a verdict that names a rule, the policy and rule
 * that produced it. Enriching at add time (as Hubble does) shows what the agent believed
 * when the packet passed, even if the identity or policy changes a second later.
 *
 * Bounded. The ring holds `capacity` records; adding to a full ring overwrites the oldest.
 * Every record gets a sequence number (1, 2, ...): a reader that asks for "after SEQ"
 * learns how many records it missed because they were overwritten (`lost`), so a slow
 * `observe --follow` says it lost flows rather than silently skipping them.
 *
 * Encoding. flows_record_json() uses Hubble's flow field names (`time`, `verdict`,
 * `drop_reason_desc`, `IP.source`, `l4.TCP.destination_port`, `source.identity`,
 * `source.labels`, `traffic_direction`, `policy_match_type`, `ingress_allowed_by`, ...),
 * so habits (and jq filters) from `hubble observe -o json` carry over; what Hubble has no
 * field for sits under `pseudopod` (our reason name, rule id, endpoint). flows_json_line()
 * turns such a JSON object back into one table line (the CLI receives JSON).
 *
 * Filters. flows_filter_parse() reads the API's query parameters (verdict, ip, port,
 * identity, last, since) and says which one is wrong; a record matches when it matches
 * every given filter (ip/port/identity: either side).
 *
 * Not thread-safe: one poll loop owns it. Functions return 0 or -errno; parsers bool+why.
 */
#ifndef PSEUDOPOD_AGENT_FLOWS_H
#define PSEUDOPOD_AGENT_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bpf/datapath.h"

#define FLOWS_DEFAULT_CAPACITY 4096u
#define FLOWS_MAX_CAPACITY     (1u << 20)
#define FLOWS_DEFAULT_LAST     20u
/* Most records in one reply. Encoding costs ~27 us per record (measured: 4096 records took
 * 112 ms), and the daemon's loop does nothing else meanwhile: 1000 bounds a request to
 * ~30 ms. A follower gets the rest on its next call (the cursor says where it stopped). */
#define FLOWS_REPLY_MAX 1000u

/* Enrichment lookups; any may be NULL. */
struct flows_lookup {
	/* The labels of identity id as a JSON array of strings ("k8s:app=web"), as a NEW
	 * reference, or NULL when unknown. Return a cached array per identity (json_incref):
	 * records then share it instead of each holding a copy (~400 bytes a side). The
	 * records never modify it. */
	json_t *(*labels)(uint32_t identity, void *ctx);
	/* The policy (its store key, "prod/allow-web") and rule ("ingress[0]") that produced
	 * rule_id; false when the id is unknown (e.g. the policy changed since). */
	bool (*rule)(uint32_t rule_id, char *policy, size_t policy_len, char *rule, size_t rule_len,
		     void *ctx);
	void *ctx;
};

struct flow_record {
	uint64_t seq;
	uint64_t time_ns; /* wall clock (CLOCK_REALTIME), ns */
	struct dp_event ev;
	json_t *src_labels; /* owned references, or NULL */
	json_t *dst_labels;
	char *policy; /* owned, or NULL */
	char *rule;
};

enum flows_verdict { FLOWS_VERDICT_ANY = 0, FLOWS_VERDICT_FORWARDED, FLOWS_VERDICT_DROPPED };

struct flows_filter {
	enum flows_verdict verdict;
	bool has_ip;
	uint8_t ip_family; /* 4 or 6 (the event's encoding) */
	uint8_t ip[16];
	bool has_port;
	uint16_t port; /* host order */
	bool has_identity;
	uint32_t identity;
	uint32_t last;	/* at most this many (1..FLOWS_REPLY_MAX); 0 = FLOWS_DEFAULT_LAST, or
			   FLOWS_REPLY_MAX with since */
	uint64_t since; /* only records with seq > since; 0 = none given */
	bool has_since;
};

/* One query parameter (from the URL or a JSON body). */
struct flows_param {
	const char *key;
	const char *value;
};

struct flows;

/* capacity 0 = FLOWS_DEFAULT_CAPACITY; above FLOWS_MAX_CAPACITY is -EINVAL. */
int flows_new(uint32_t capacity, const struct flows_lookup *lookup, struct flows **out);
void flows_free(struct flows *f);
/* Adds one event seen at wall-clock time_ns (flows_event_time() converts the event's
 * monotonic timestamp). Returns 0 or -ENOMEM (the ring then holds the event without
 * enrichment rather than losing it). */
int flows_add(struct flows *f, const struct dp_event *e, uint64_t time_ns);
/* Wall-clock time of a bpf_ktime_get_ns() timestamp (CLOCK_MONOTONIC), from the clocks
 * now. */
uint64_t flows_event_time(uint64_t ktime_ns);
/* Sequence number of the newest record (0 when nothing was ever added). */
uint64_t flows_last_seq(const struct flows *f);
size_t flows_count(const struct flows *f);

/* Parses query parameters into a filter (unknown keys are refused: a typo must not look
 * like "no filter"). On false, *bad_key names the parameter and why says what is wrong. */
bool flows_filter_parse(const struct flows_param *params, size_t n, struct flows_filter *out,
			const char **bad_key, char *why, size_t why_len);
bool flows_match(const struct flow_record *r, const struct flows_filter *flt);

/*
 * The query result as {"flows": [...oldest first...], "next": SEQ, "lost": N}: with
 * has_since the records after since (at most `last` of them, the oldest first so that a
 * follower resumes at "next" without gaps), otherwise the newest `last` matching ones.
 * "next" is the cursor for the following call; "lost" counts records after since that
 * were overwritten before this call. NULL on -ENOMEM.
 */
json_t *flows_query_json(const struct flows *f, const struct flows_filter *flt);

/* One record as a Hubble-style flow object (new reference, NULL on -ENOMEM). */
json_t *flows_record_json(const struct flow_record *r);
/* RFC 3339 UTC with nanoseconds: "2026-11-29T11:40:01.123456789Z". */
void flows_time_format(uint64_t time_ns, char *buf, size_t len);
/* Hubble's drop_reason_desc for a drop reason ("POLICY_DENIED"), NULL if forwarded. */
const char *flows_drop_reason_desc(unsigned int reason);

/* One human line from a flow object made by flows_record_json() (tolerates missing
 * fields: it reads what a daemon of another version sent). Returns snprintf's count. */
int flows_json_line(const json_t *flow, char *buf, size_t len);

#endif

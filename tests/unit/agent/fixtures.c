// SPDX-License-Identifier: GPL-2.0-only
/* Fixtures for the agent API tests (see fixtures.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "bpf/datapath.h"
#include "lib/policy_entry.h"
#include "tests/unit/agent/fixtures.h"

static void addr(struct dp_event *e, const char *src, const char *dst)
{
	int af = e->family == 4 ? AF_INET : AF_INET6;

	inet_pton(af, src, e->saddr);
	inet_pton(af, dst, e->daddr);
}

struct dp_event fixture_event(size_t i)
{
	struct dp_event e = {
	    .type = DP_EV_VERDICT, .family = 4, .ifindex = 3, .len = 60, .endpoint = 300};

	switch (i) {
	case 0: /* web (400) -> db (300):5432, allowed by prod/allow-web-to-db */
		e.dir = DP_DIR_INGRESS, e.proto = IPPROTO_TCP, e.reason = DP_OK_POLICY;
		e.match = DP_MATCH_L3_L4, e.rule_id = 7, e.src_identity = 400, e.dst_identity = 300;
		addr(&e, "10.244.1.5", "10.99.0.2");
		e.sport = htons(40000), e.dport = htons(5432);
		break;
	case 1: /* web -> db:22, denied by prod/deny-ssh */
		e.dir = DP_DIR_INGRESS, e.proto = IPPROTO_TCP, e.reason = DP_DROP_POLICY_DENY;
		e.match = DP_MATCH_L3_L4, e.rule_id = 9, e.src_identity = 400, e.dst_identity = 300;
		addr(&e, "10.244.1.5", "10.99.0.2");
		e.sport = htons(40001), e.dport = htons(22);
		break;
	case 2: /* db -> world DNS, default deny */
		e.dir = DP_DIR_EGRESS, e.proto = IPPROTO_UDP, e.reason = DP_DROP_POLICY;
		e.match = DP_MATCH_NONE, e.src_identity = 300, e.dst_identity = 2;
		addr(&e, "10.99.0.2", "8.8.8.8");
		e.sport = htons(5353), e.dport = htons(53);
		break;
	case 3: /* db -> web echo request, egress not enforced */
		e.dir = DP_DIR_EGRESS, e.proto = IPPROTO_ICMP, e.reason = DP_OK_POLICY;
		e.match = DP_MATCH_NO_ENFORCE, e.src_identity = 300, e.dst_identity = 400;
		addr(&e, "10.99.0.2", "10.244.1.5");
		e.sport = htons(77), e.dport = htons(8);
		break;
	default: /* IPv6 spoofed source, a non-verdict drop */
		e.type = DP_EV_DROP, e.family = 6, e.dir = DP_DIR_INGRESS, e.proto = IPPROTO_TCP;
		e.reason = DP_DROP_SPOOF, e.src_identity = 2, e.dst_identity = 300;
		addr(&e, "fd00::66", "fd00::2");
		e.sport = htons(1234), e.dport = htons(443);
		break;
	}
	return e;
}

uint64_t fixture_time(size_t i)
{
	return FIXTURE_T0_NS + i * 1000000000ull + 123456789ull;
}

static json_t *labels(uint32_t id, void *ctx)
{
	switch (id) {
	case 2:
		return json_pack("[s]", "reserved:world");
	case 300:
		return json_pack("[s]", "k8s:app=db");
	case 400:
		return json_pack("[s,s]", "k8s:app=web", "k8s:io.kubernetes.pod.namespace=prod");
	}
	return NULL;
}

static bool rule(uint32_t id, char *policy, size_t plen, char *r, size_t rlen, void *ctx)
{
	if (id == 7)
		return snprintf(policy, plen, "prod/allow-web-to-db"),
		       snprintf(r, rlen, "ingress[0]"), true;
	if (id == 9)
		return snprintf(policy, plen, "prod/deny-ssh"), snprintf(r, rlen, "ingressDeny[0]"),
		       true;
	return false;
}

const struct flows_lookup fixture_lookup = {.labels = labels, .rule = rule};

void fixture_fill(struct flows *f)
{
	for (size_t i = 0; i < FIXTURE_N_EVENTS; i++) {
		struct dp_event e = fixture_event(i);

		flows_add(f, &e, fixture_time(i));
	}
}

static int status(json_t **out, void *ctx)
{
	*out = json_pack("{s:{s:b,s:s,s:i,s:[s],s:s},s:{s:s,s:s,s:[{s:s,s:s,s:b,s:i,s:i,s:i}]},"
			 "s:{s:s,s:b,s:i,s:s,s:b},s:{s:[s],s:[{s:s,s:i,s:i}]},"
			 "s:{s:i,s:{s:b,s:b},s:{s:i,s:i}},s:{s:i,s:i,s:i}}",
			 "enrollment", "enrolled", 1, "name", "vm-db-1", "identity", 300, "labels",
			 "k8s:app=db", "overlay_ip", "10.99.0.2", "tunnel", "backend",
			 "wireguard-kernel", "device", "pp0", "gateways", "name", "gw-1",
			 "endpoint", "192.0.2.10:51871", "active", 1, "handshake_age_s", 12,
			 "rx_bytes", 4096, "tx_bytes", 2048, "store", "endpoints",
			 "http://127.0.0.1:2379", "connected", 1, "revision", 42, "last_sync",
			 "2026-11-29T11:40:00Z", "stale", 0, "datapath", "devices", "pp0", "maps",
			 "name", "ipcache", "entries", 12, "max", 65536, "policy", "revision", 42,
			 "enforcement", "ingress", 1, "egress", 0, "entries", "ingress", 2,
			 "egress", 1, "counters", "forwarded", 120, "dropped", 3, "events_lost", 0);
	return *out ? 0 : -ENOMEM;
}

static int policy_get(const struct api_policy_query *q, json_t **out, char *err, size_t len,
		      void *ctx)
{
	struct policy_entry a = {.identity = 400,
				 .direction = POLICY_INGRESS,
				 .proto = IPPROTO_TCP,
				 .port_lo = 5432,
				 .port_hi = 5432,
				 .rule_id = 7};
	struct policy_entry d = {.identity = 0,
				 .direction = POLICY_INGRESS,
				 .proto = IPPROTO_TCP,
				 .port_lo = 22,
				 .port_hi = 22,
				 .deny = 1,
				 .rule_id = 9};

	/* this machine is endpoint 300, as the workload daemon answers for another */
	if (q->endpoint && q->endpoint != 300)
		return snprintf(err, len,
				"endpoint %u: not enforced here (this machine is "
				"endpoint 300)",
				q->endpoint),
		       -ENOENT;
	*out = json_pack(
	    "{s:i,s:i,s:{s:b,s:b},s:[o,o]}", "endpoint", 300, "revision", 42, "enforcement",
	    "ingress", 1, "egress", 0, "entries",
	    api_policy_entry_json(&a, labels(400, NULL), "prod/allow-web-to-db", "ingress[0]"),
	    api_policy_entry_json(&d, NULL, "prod/deny-ssh", "ingressDeny[0]"));
	return *out ? 0 : -ENOMEM;
}

/* Allowed only to 5432/tcp; an address without identity is refused like the daemon does. */
static int trace(const struct api_trace_query *q, json_t **out, char *err, size_t len, void *ctx)
{
	char src[NET_IP_STRLEN], dst[NET_IP_STRLEN];
	bool allowed = q->proto == IPPROTO_TCP && q->dport == 5432;

	net_ip_format(&q->src, src);
	net_ip_format(&q->dst, dst);
	if (!strcmp(src, "10.0.0.66"))
		return snprintf(err, len, "no identity for %s", src), -EINVAL;
	*out = json_pack("{s:s,s:s,s:s,s:i,s:s,s:[s,s]}", "verdict", allowed ? "allowed" : "denied",
			 "src", src, "dst", dst, "dport", q->dport, "policy",
			 allowed ? "prod/allow-web-to-db" : "-", "lines",
			 "ingress of endpoint 300 (k8s:app=db)",
			 allowed ? "allowed by prod/allow-web-to-db ingress[0]" : "default deny");
	return *out ? 0 : -ENOMEM;
}

/* Identities 2, 300, 400 (the labels above); this machine is 400 ("web-vm"); the ipcache
 * holds 10.244.1.0/24 -> 300 and 10.99.0.2/32 -> 400 (a machine behind 192.0.2.2). */
static json_t *identity_of(uint32_t id)
{
	json_t *l = labels(id, NULL);

	return l ? json_pack("{s:i, s:o, s:s}", "id", (int)id, "labels", l, "kind",
			     id < 256 ? "reserved" : "cluster")
		 : NULL;
}

static int identity_get(const struct api_identity_query *q, json_t **out, char *err, size_t len,
			void *ctx)
{
	char ip[NET_IP_STRLEN];

	if (q->by == API_IDENTITY_SELF) {
		*out = identity_of(400);
		json_object_set_new(*out, "name", json_string("web-vm"));
		json_object_set_new(*out, "overlay_ip", json_string("10.99.0.2"));
		return 0;
	}
	if (q->by == API_IDENTITY_ID) {
		*out = identity_of(q->id);
		return *out ? 0 : (snprintf(err, len, "%u: no such identity", q->id), -ENOENT);
	}
	net_ip_format(&q->ip, ip);
	if (!strncmp(ip, "10.244.1.", 9))
		*out = json_pack("{s:s, s:s, s:o, s:n, s:b}", "ip", ip, "prefix", "10.244.1.0/24",
				 "identity", identity_of(300), "tunnel_endpoint", "workload", 0);
	else if (!strcmp(ip, "10.99.0.2"))
		*out = json_pack("{s:s, s:s, s:o, s:s, s:b}", "ip", ip, "prefix", "10.99.0.2/32",
				 "identity", identity_of(400), "tunnel_endpoint", "192.0.2.2",
				 "workload", 1);
	else /* no prefix holds it: world, as the datapath decides */
		*out = json_pack("{s:s, s:n, s:o, s:n, s:b}", "ip", ip, "prefix", "identity",
				 identity_of(2), "tunnel_endpoint", "workload", 0);
	return *out ? 0 : -ENOMEM;
}

static int identity_list(json_t **out, void *ctx)
{
	*out = json_pack("{s:[o, o, o]}", "identities", identity_of(2), identity_of(300),
			 identity_of(400));
	return *out ? 0 : -ENOMEM;
}

const struct api_v1_ops fixture_ops = {.status = status,
				       .policy_get = policy_get,
				       .policy_trace = trace,
				       .identity_get = identity_get,
				       .identity_list = identity_list};

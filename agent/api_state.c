// SPDX-License-Identifier: GPL-2.0-only
/*
 * api_state: /v1 answers from a policy engine and a pinned datapath (contract in
 * api_state.h). The ipcache lookup walks the map (the datapath's LPM trie cannot be asked
 * "which prefix matched" from user space); it runs per API request, never per packet.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "agent/api.h"
#include "agent/api_state.h"
#include "bpf/datapath.h"
#include "bpf/dp.h"
#include "lib/net.h"
#include "policy/compile.h"
#include "policy/engine.h"
#include "policy/labels.h"
#include "policy/policy.h"
#include "lib/policy_entry.h"
#include "policy/trace.h"
#include "store/store.h"

/* Whether the entry's prefix holds the address (same family, leading plen bits equal). */
static bool holds(uint8_t family, unsigned plen, const uint8_t *addr, const struct net_prefix *ip)
{
	unsigned i;

	if (family != (ip->family == AF_INET ? 4 : 6) || plen > net_family_bits(ip->family))
		return false;
	for (i = 0; i < plen / 8; i++)
		if (addr[i] != ip->addr[i])
			return false;
	if (plen % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - plen % 8));

		if ((addr[i] & mask) != (ip->addr[i] & mask))
			return false;
	}
	return true;
}

static void entry_of(uint8_t family, unsigned plen, const uint8_t *addr,
		     const struct dp_ipcache_val *v, struct dp_ipcache_entry *out)
{
	*out = (struct dp_ipcache_entry){.family = family,
					 .plen = (uint8_t)plen,
					 .identity = v->identity,
					 .tunnel_ipv4 = v->tunnel_ipv4,
					 .flags = v->flags};
	memcpy(out->addr, addr, sizeof(out->addr));
}

/* The trie's entry with the longest prefix holding ip, found by walking the trie's keys
 * (CIDR entries only: the host entries live in the hash). */
static int trie_longest(int fd, const struct net_prefix *ip, struct dp_ipcache_entry *out)
{
	struct dp_ipcache_key k, next;
	struct dp_ipcache_val v;
	void *prev = NULL;
	int best = -1;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		unsigned plen = next.prefixlen - DP_IPCACHE_PREFIX_BASE;

		k = next;
		prev = &k;
		if ((int)plen <= best || !holds(k.family, plen, k.addr, ip) ||
		    bpf_map_lookup_elem(fd, &k, &v))
			continue;
		entry_of(k.family, plen, k.addr, &v, out);
		best = (int)plen;
	}
	if (errno != ENOENT)
		return -errno;
	return best < 0 ? -ENOENT : 0;
}

/*
 * As the datapath decides: the host hash first (a /32 or /128 is the longest prefix there
 * can be; one lookup however many pods and machines the map holds), then the trie. One LPM
 * lookup tells whether any prefix holds the address; only then is the trie walked to learn
 * which one (user space cannot ask the trie which entry matched). Measured by bench/api:
 * the whole-map walk this replaces took ~40-70 ms of the daemon's loop at 100k entries.
 */
int api_state_ipcache_lookup(struct dp *dp, const struct net_prefix *ip,
			     struct dp_ipcache_entry *out)
{
	uint8_t family = ip->family == AF_INET ? 4 : 6;
	struct dp_host_key hk = {.family = family};
	struct dp_ipcache_key k = {.family = family};
	struct dp_ipcache_val v;
	int hfd, fd;

	if (!dp)
		return -ENOENT;
	hfd = dp_map_fd(dp, "ipcache_host");
	fd = dp_map_fd(dp, "ipcache");
	memcpy(hk.addr, ip->addr, sizeof(hk.addr));
	if (hfd >= 0 && !bpf_map_lookup_elem(hfd, &hk, &v)) {
		entry_of(family, net_family_bits(ip->family), ip->addr, &v, out);
		return 0;
	}
	if (fd < 0)
		return -ENOENT;
	k.prefixlen = DP_IPCACHE_PREFIX_BASE + net_family_bits(ip->family);
	memcpy(k.addr, ip->addr, sizeof(k.addr));
	if (bpf_map_lookup_elem(fd, &k, &v))
		return errno == ENOENT ? -ENOENT : -errno;
	return trie_longest(fd, ip, out);
}

const char *api_state_identity_kind(uint32_t id)
{
	if (id & IDENTITY_LOCAL_FLAG)
		return "cidr";
	return id < STORE_IDENTITY_MIN ? "reserved" : "cluster";
}

json_t *api_state_identity_json(uint32_t id, const struct label_set *labels)
{
	return json_pack("{s:I, s:o, s:s}", "id", (json_int_t)id, "labels",
			 labels ? label_set_to_json(labels) : json_array(), "kind",
			 api_state_identity_kind(id));
}

static int add_identity(uint32_t id, const struct label_set *labels, void *arg)
{
	return json_array_append_new(arg, api_state_identity_json(id, labels)) ? -ENOMEM : 0;
}

int api_state_identities(const struct policy_engine *e, json_t **out)
{
	json_t *arr = json_array();
	int rc = arr ? policy_engine_identity_foreach(e, add_identity, arr) : -ENOMEM;

	*out = rc ? NULL : json_pack("{s:o}", "identities", arr);
	if (rc)
		json_decref(arr);
	return rc ? rc : *out ? 0 : -ENOMEM;
}

static void prefix_text(const struct dp_ipcache_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, e->plen);
}

/* No prefix holds it: the datapath treats the address as world (reserved identity 2). */
static int by_ip(const struct policy_engine *e, struct dp *dp, const struct net_prefix *ip,
		 json_t **out)
{
	char text[NET_IP_STRLEN], prefix[NET_IP_STRLEN + 4], tun[INET_ADDRSTRLEN];
	struct dp_ipcache_entry ent = {.identity = DP_ID_WORLD};
	int rc = api_state_ipcache_lookup(dp, ip, &ent);

	if (rc && rc != -ENOENT)
		return rc;
	net_ip_format(ip, text);
	prefix_text(&ent, prefix, sizeof(prefix));
	*out =
	    json_pack("{s:s, s:o, s:o}", "ip", text, "prefix",
		      rc ? json_null() : json_string(prefix), "identity",
		      api_state_identity_json(
			  ent.identity, e ? policy_engine_identity_labels(e, ent.identity) : NULL));
	if (!*out)
		return -ENOMEM;
	json_object_set_new(*out, "tunnel_endpoint",
			    ent.tunnel_ipv4 &&
				    inet_ntop(AF_INET, &ent.tunnel_ipv4, tun, sizeof(tun))
				? json_string(tun)
				: json_null());
	json_object_set_new(*out, "workload", json_boolean(ent.flags & DP_IPC_F_WORKLOAD));
	return 0;
}

int api_state_identity_get(const struct policy_engine *e, struct dp *dp,
			   const struct api_identity_query *q, json_t **out, char *err,
			   size_t err_len)
{
	const struct label_set *ls;

	*out = NULL;
	if (q->by == API_IDENTITY_IP)
		return by_ip(e, dp, &q->ip, out);
	if (q->by != API_IDENTITY_ID)
		return snprintf(err, err_len, "no identity asked for"), -EINVAL;
	ls = e ? policy_engine_identity_labels(e, q->id) : NULL;
	if (!ls)
		return snprintf(err, err_len, "%u: no such identity", q->id), -ENOENT;
	*out = api_state_identity_json(q->id, ls);
	return *out ? 0 : -ENOMEM;
}

/* An address the ipcache knows is an endpoint with its identity's labels (its own policy
 * applies, as in the datapath); otherwise an address. */
static bool trace_peer_of(const struct policy_engine *e, struct dp *dp, const struct net_prefix *ip,
			  struct trace_peer *p, char *err, size_t err_len)
{
	struct dp_ipcache_entry ent;
	const struct label_set *ls = NULL;
	char text[NET_IP_STRLEN];

	memset(p, 0, sizeof(*p));
	if (api_state_ipcache_lookup(dp, ip, &ent) == 0 && !(ent.identity & IDENTITY_LOCAL_FLAG))
		ls = policy_engine_identity_labels(e, ent.identity);
	if (ls) {
		p->is_cidr = false;
		return label_set_copy(&p->labels, ls);
	}
	net_ip_format(ip, text);
	return trace_peer_parse(p, text, err, err_len);
}

int api_state_trace(struct policy_engine *e, struct dp *dp, const struct api_trace_query *q,
		    json_t **out, char *err, size_t err_len)
{
	struct trace_peer src, dst;
	struct trace_result r = {0};
	char s[NET_IP_STRLEN], t[NET_IP_STRLEN];
	int rc;

	*out = NULL;
	if (!trace_peer_of(e, dp, &q->src, &src, err, err_len))
		return -EINVAL;
	if (!trace_peer_of(e, dp, &q->dst, &dst, err, err_len)) {
		trace_peer_free(&src);
		return -EINVAL;
	}
	rc = policy_trace(e, &src, &dst, q->proto, q->has_dport ? q->dport : 0, &r);
	if (rc == 0) {
		*out = trace_to_json(&r);
		if (!*out)
			rc = -ENOMEM;
	}
	if (*out) {
		json_object_set_new(*out, "src", json_string(net_ip_format(&q->src, s)));
		json_object_set_new(*out, "dst", json_string(net_ip_format(&q->dst, t)));
		if (q->has_dport)
			json_object_set_new(*out, "dport", json_integer(q->dport));
	}
	trace_result_free(&r);
	trace_peer_free(&src);
	trace_peer_free(&dst);
	return rc;
}

static const char *const map_names[] = {"ipcache",   "ipcache_host", "policy",	  "policy_exact",
					"endpoints", "conntrack4",   "conntrack6"};

static int count_ipc(const struct dp_ipcache_entry *e, void *ctx)
{
	(void)e;
	(*(size_t *)ctx)++;
	return 0;
}

static int count_pol(const struct dp_policy_row *r, void *ctx)
{
	(void)r;
	(*(size_t *)ctx)++;
	return 0;
}

json_t *api_state_maps_json(struct dp *dp, const size_t *ipcache_count)
{
	json_t *a = json_array();
	size_t n_ipc = 0, n_pol = 0;

	if (!dp || !a)
		return a;
	if (ipcache_count)
		n_ipc = *ipcache_count;
	else
		dp_ipcache_foreach(dp, count_ipc, &n_ipc);
	dp_policy_foreach(dp, count_pol, &n_pol);
	for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
		struct bpf_map_info info = {0};
		__u32 len = sizeof(info);
		int fd = dp_map_fd(dp, map_names[i]);
		json_t *m;

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
			continue;
		m = json_pack("{s:s, s:I}", "name", map_names[i], "max",
			      (json_int_t)info.max_entries);
		if (m && !strcmp(map_names[i], "ipcache"))
			json_object_set_new(m, "entries", json_integer((json_int_t)n_ipc));
		if (m && !strcmp(map_names[i], "policy"))
			json_object_set_new(m, "entries", json_integer((json_int_t)n_pol));
		json_array_append_new(a, m);
	}
	return a;
}

json_t *api_state_counters_json(struct dp *dp, uint64_t events_read)
{
	struct dp_metric m[DP_METRICS_SLOTS];
	uint64_t fwd = 0, drop = 0;

	if (!dp || dp_metrics_read(dp, m) < 0)
		return json_object();
	for (unsigned dir = 0; dir < 2; dir++)
		for (unsigned r = 0; r < DP_REASON_MAX; r++) {
			const struct dp_metric *x = &m[dir * DP_REASON_MAX + r];

			if (r >= DP_DROP_POLICY_DENY)
				drop += x->packets;
			else
				fwd += x->packets;
		}
	return json_pack("{s:I, s:I, s:I, s:I}", "forwarded", (json_int_t)fwd, "dropped",
			 (json_int_t)drop, "events_lost",
			 (json_int_t)m[DP_METRIC_EVENTS_LOST].packets, "events_read",
			 (json_int_t)events_read);
}

bool api_state_rule_origin(const struct policy_engine *e, uint32_t rule_id, char *policy,
			   size_t plen, char *rule, size_t rlen)
{
	struct policy_rule_origin o;

	if (!e || !rule_id || !policy_engine_rule_origin(e, rule_id, &o))
		return false;
	snprintf(policy, plen, "%s", o.key);
	if (o.policy && o.spec < o.policy->n_specs && o.rule < o.policy->specs[o.spec].n_rules)
		snprintf(rule, rlen, "%s", o.policy->specs[o.spec].rules[o.rule].origin);
	else
		snprintf(rule, rlen, "?");
	return true;
}

int api_state_policy_entries(const struct policy_engine *e, uint32_t endpoint, bool with_endpoint,
			     json_t *arr)
{
	size_t n = 0;
	const struct policy_entry *v = policy_engine_entries(e, endpoint, &n);

	for (size_t i = 0; i < n; i++) {
		char pol[600] = "", rule[200] = "";
		bool named =
		    api_state_rule_origin(e, v[i].rule_id, pol, sizeof(pol), rule, sizeof(rule));
		const struct label_set *ls =
		    v[i].identity ? policy_engine_identity_labels(e, v[i].identity) : NULL;
		json_t *o = api_policy_entry_json(&v[i], ls ? label_set_to_json(ls) : NULL,
						  named ? pol : NULL, named ? rule : NULL);

		if (!o)
			return -ENOMEM;
		if (with_endpoint)
			json_object_set_new(o, "endpoint", json_integer(endpoint));
		if (json_array_append_new(arr, o))
			return -ENOMEM;
	}
	return 0;
}

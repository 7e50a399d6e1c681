// SPDX-License-Identifier: GPL-2.0-only
/*
 * dp_events: the ring-buffer reader. Records come from the kernel, but they are still
 * checked (size, enum ranges) before anyone prints them: a layout mismatch between an
 * old pinned ring and a new reader must give a clear refusal, not garbage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <jansson.h>

#include "bpf/dp_internal.h"
#include "lib/log.h"

_Static_assert(sizeof(struct dp_event) == 88, "struct dp_event is the ring-buffer ABI");

bool dp_event_decode(const void *data, size_t len, struct dp_event *out, char *why, size_t why_len)
{
	if (len < sizeof(*out)) {
		snprintf(why, why_len, "event of %zu bytes, expected %zu", len, sizeof(*out));
		return false;
	}
	memcpy(out, data, sizeof(*out));
	if (out->type != DP_EV_VERDICT && out->type != DP_EV_DROP) {
		snprintf(why, why_len, "event type %u unknown", out->type);
		return false;
	}
	if (out->reason >= DP_REASON_MAX || out->dir >= DP_DIR_MAX ||
	    out->match > DP_MATCH_NO_ENFORCE) {
		snprintf(why, why_len, "event field out of range (reason %u dir %u match %u)",
			 out->reason, out->dir, out->match);
		return false;
	}
	if (out->family != 0 && out->family != 4 && out->family != 6) {
		snprintf(why, why_len, "event family %u unknown", out->family);
		return false;
	}
	return true;
}

static void addr_str(const struct dp_event *e, const uint8_t *a, char *buf, size_t len)
{
	if (e->family == 4)
		inet_ntop(AF_INET, a, buf, (socklen_t)len);
	else if (e->family == 6)
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	else
		snprintf(buf, len, "-");
}

static const char *verdict_str(const struct dp_event *e)
{
	return DP_REASON_IS_DROP(e->reason) ? "DROPPED" : "FORWARDED";
}

int dp_event_format(const struct dp_event *e, bool json, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], tun[INET_ADDRSTRLEN] = "";
	bool icmp = e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6;
	int n;

	addr_str(e, e->saddr, src, sizeof(src));
	addr_str(e, e->daddr, dst, sizeof(dst));
	if (e->flags & DP_EV_F_TUNNEL)
		inet_ntop(AF_INET, &e->tunnel_ipv4, tun, sizeof(tun));
	if (json) {
		json_t *o = json_pack(
		    "{s:I,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:i,s:i,s:i,s:i,"
		    "s:I,s:I,s:i}",
		    "ts_ns", (json_int_t)e->ts_ns, "type",
		    e->type == DP_EV_VERDICT ? "policy-verdict" : "drop", "verdict", verdict_str(e),
		    "reason", dp_reason_name(e->reason), "direction", dp_dir_name(e->dir), "match",
		    dp_match_name(e->match), "family", (int)e->family, "proto",
		    dp_proto_name(e->proto), "proto_num", (int)e->proto, "src", src,
		    icmp ? "icmp_id" : "sport", (int)ntohs(e->sport), icmp ? "icmp_type" : "dport",
		    (int)ntohs(e->dport), "ifindex", (int)e->ifindex, "len", (int)e->len,
		    "src_identity", (json_int_t)e->src_identity, "dst_identity",
		    (json_int_t)e->dst_identity, "rule_id", (int)e->rule_id);
		char *s;

		if (!o)
			return snprintf(buf, len, "{}");
		json_object_set_new(o, "dst", json_string(dst));
		json_object_set_new(o, "endpoint", json_integer(e->endpoint));
		if (e->flags & DP_EV_F_TUNNEL) {
			json_object_set_new(o, "tunnel_vni", json_integer(e->tunnel_id));
			json_object_set_new(o, "tunnel_remote", json_string(tun));
		}
		s = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		n = snprintf(buf, len, "%s", s ? s : "{}");
		free(s);
		return n;
	}
	n = snprintf(buf, len, "%s %s %s %s:%u -> %s:%u %s id %u -> %u reason=%s match=%s rule=%u",
		     verdict_str(e), dp_dir_name(e->dir), dp_proto_name(e->proto), src,
		     ntohs(e->sport), dst, ntohs(e->dport), icmp ? "(icmp type)" : "",
		     e->src_identity, e->dst_identity, dp_reason_name(e->reason),
		     dp_match_name(e->match), e->rule_id);
	if (n >= 0 && (size_t)n < len && (e->flags & DP_EV_F_TUNNEL))
		n += snprintf(buf + n, len - (size_t)n, " vni=%u remote=%s", e->tunnel_id, tun);
	return n;
}

struct dp_events {
	struct ring_buffer *rb;
	dp_event_cb cb;
	void *ctx;
	int stop;
};

static int on_record(void *ctx, void *data, size_t len)
{
	struct dp_events *ev = ctx;
	struct dp_event e;
	char why[128];

	if (!dp_event_decode(data, len, &e, why, sizeof(why))) {
		log_warn("datapath: skipping bad event: %s", why);
		return 0;
	}
	ev->stop = ev->cb(&e, ev->ctx);
	return ev->stop ? -ECANCELED : 0; /* a negative return stops ring_buffer__poll */
}

int dp_events_open(struct dp *dp, dp_event_cb cb, void *ctx, struct dp_events **out)
{
	struct dp_events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	ev->cb = cb;
	ev->ctx = ctx;
	ev->rb = ring_buffer__new(dp->fd[DP_MAP_EVENTS], on_record, ev, NULL);
	if (!ev->rb) {
		int err = -errno;

		free(ev);
		return err ? err : -EINVAL;
	}
	*out = ev;
	return 0;
}

int dp_events_poll(struct dp_events *ev, int timeout_ms)
{
	int n = ring_buffer__poll(ev->rb, timeout_ms);

	if (n == -ECANCELED || ev->stop)
		return 0;
	return n;
}

void dp_events_close(struct dp_events *ev)
{
	if (!ev)
		return;
	ring_buffer__free(ev->rb);
	free(ev);
}

int dp_events_fd(const struct dp_events *ev)
{
	return ring_buffer__epoll_fd(ev->rb);
}

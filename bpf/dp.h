/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dp: the datapath's userspace side (library pp_datapath).
 *
 * Life cycle. dp_load() loads the BPF object and pins its maps and programs under a bpffs
 * root (one directory per agent). Maps already pinned there with the same shape are
 * adopted, not recreated, so conntrack and policy survive an agent restart or upgrade;
 * programs are pinned under a temporary name and renamed over the old pin. dp_attach()
 * puts the pinned programs on a device's clsact ingress+egress with "replace" semantics:
 * re-attaching after an upgrade swaps the program in one netlink operation, with no
 * moment where the device has no filter. dp_detach() removes them; dp_unload() unpins.
 *
 * Everything else works on an open handle (dp_open()): the map writer (ipcache and policy
 * diffs, applied in batches), the events reader and the counters reader. Functions return
 * 0 or -errno; parsers return bool and explain failures in `why`.
 */
#ifndef PSEUDOPOD_BPF_DP_H
#define PSEUDOPOD_BPF_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/datapath.h"

struct policy_entry;

#define DP_DEFAULT_BPFFS "/sys/fs/bpf/pseudopod"

struct dp_load_opts {
	const char *bpffs; /* pin directory; created if missing */
	enum dp_mode mode;
	uint32_t identity;	    /* workload mode: this machine's identity (VNI, endpoint) */
	uint32_t ipcache_max;	    /* 0 = default (65536) */
	uint32_t policy_max;	    /* 0 = default (16384) */
	uint32_t conntrack_max;	    /* 0 = default (65536) */
	uint32_t events_per_second; /* per CPU; 0 = no limit */
};

/* Load and pin (adopting compatible pinned maps). */
int dp_load(const struct dp_load_opts *opts);
/* Unpin every map and program under bpffs and remove the directory. Attached programs keep
 * running until detached (the kernel holds them). */
int dp_unload(const char *bpffs);

enum dp_dev_kind {
	DP_DEV_AUTO = 0, /* ARPHRD_NONE -> l3, driver "vxlan" -> vxlan, otherwise eth */
	DP_DEV_ETH,
	DP_DEV_L3,
	DP_DEV_VXLAN,
};
bool dp_dev_kind_parse(const char *s, enum dp_dev_kind *out);
const char *dp_dev_kind_name(enum dp_dev_kind kind);

/* netns: a path like /run/netns/NAME or /proc/PID/ns/net, or NULL for the current one. */
int dp_attach(const char *bpffs, const char *ifname, const char *netns, enum dp_dev_kind kind);
int dp_detach(const char *ifname, const char *netns);

/*
 * ---- what is attached where (stale programs) ----
 * A program keeps running, with the maps it was loaded with, for as long as it is
 * attached, even after its pins are gone. After `unload` + `load` without `attach`, the
 * devices still run the old programs on maps that are no longer pinned, and every write
 * into the new pins is lost on them. These functions find our tc filters (the fixed
 * handle/priority dp_attach() uses) and compare the map ids each program uses
 * (bpf_obj_get_info_by_fd) with the ids of the maps pinned under bpffs.
 */
struct dp_attachment {
	char ifname[16]; /* IF_NAMESIZE */
	uint32_t ifindex;
	uint8_t dir;		 /* DP_DIR_INGRESS or DP_DIR_EGRESS (the tc hook) */
	enum dp_dev_kind kind;	 /* from the program's name; DP_DEV_AUTO if not one of ours */
	uint32_t prog_id;	 /* the attached program */
	char prog_name[16];	 /* as the kernel keeps it (15 characters) */
	uint32_t pinned_prog_id; /* the program pinned under bpffs with that name, 0 = none */
	bool pinned_maps;	 /* every map the program uses is pinned under bpffs */
};
/*
 * Our filters on the devices `devs[0..n_devs)` of the netns (a path like /run/netns/NAME,
 * NULL = the current one); devs NULL = every device there. A device that does not exist
 * has nothing attached. Fills at most `max` entries of out, sets *n to how many exist.
 */
int dp_attached_list(const char *bpffs, const char *netns, const char *const *devs, size_t n_devs,
		     struct dp_attachment *out, size_t max, size_t *n);
/*
 * The check a loader, a map writer (sync) or the daemon makes before trusting the pins:
 * 0 when every filter of ours on those devices runs a program that uses the maps pinned
 * under bpffs (an older program on the same maps is fine: an upgrade in progress);
 * -ESTALE when one enforces other maps, each such filter logged as an error (device, hook,
 * program id). With reattach, the pinned programs of the same kind are attached in their
 * place first (dp_attach(): atomic replace) and -ESTALE is returned only if that failed —
 * call it so only once the pinned maps hold the policy, as the stale programs enforce
 * what was there before and an empty map set enforces nothing.
 */
int dp_attached_check(const char *bpffs, const char *netns, const char *const *devs, size_t n_devs,
		      bool reattach);

struct dp;
int dp_open(const char *bpffs, struct dp **out);
void dp_close(struct dp *dp);
int dp_info_get(struct dp *dp, struct dp_info *out);
/* The same from the pinned info map alone (pins of an older build may lack other maps):
 * -ENOENT when nothing is pinned there. */
int dp_info_read(const char *bpffs, struct dp_info *out);
/* Workload mode over VXLAN: the gateway (IPv4, network order; 0 = none) that is the
 * remote of every address whose ipcache entry names no tunnel endpoint, and whose
 * packets carry trusted identities for those addresses (datapath.h, struct dp_tunnel). */
int dp_tunnel_set(struct dp *dp, uint32_t gateway_ipv4);
int dp_tunnel_get(struct dp *dp, uint32_t *gateway_ipv4);
/* fd of a pinned program ("dp_egress_eth", ...), for BPF_PROG_TEST_RUN; caller closes. */
int dp_prog_fd(const char *bpffs, const char *name);
int dp_map_fd(struct dp *dp, const char *name); /* borrowed fd, or -ENOENT */

/*
 * One writer at a time per bpffs root (dp_lock.c): an exclusive flock on the pin directory,
 * released by dp_unlock() or when the holder exits (a killed writer leaves no stale lock).
 * timeout_ms: < 0 waits as long as it takes, 0 tries once, > 0 waits that long. Returns 0
 * with *fd set, -ETIMEDOUT when another writer still holds it, or -errno.
 */
int dp_lock(const char *bpffs, int timeout_ms, int *fd);
void dp_unlock(int fd); /* accepts -1 */

/* ---- map writer ---- */
struct dp_ipcache_entry {
	uint8_t family; /* 4 or 6 */
	uint8_t plen;
	uint8_t addr[16];
	uint32_t identity;
	uint32_t tunnel_ipv4; /* network order, 0 = none */
	uint32_t flags;	      /* DP_IPC_F_* */
};

/* Deletions first, then additions (an add of an existing prefix replaces it). */
int dp_ipcache_apply(struct dp *dp, const struct dp_ipcache_entry *add, size_t n_add,
		     const struct dp_ipcache_entry *del, size_t n_del);
typedef int (*dp_ipcache_cb)(const struct dp_ipcache_entry *e, void *ctx);
int dp_ipcache_foreach(struct dp *dp, dp_ipcache_cb cb, void *ctx);

/*
 * Applies a diff of one endpoint's policy: `del` entries are removed, `add` entries
 * inserted. Port ranges are split into prefix-aligned blocks (Cilium's expansion), each
 * an LPM key; keys shared by several entries are reference-counted so removing one entry
 * never removes another's key. Entries are validated first: nothing is written when one
 * is invalid (-EINVAL).
 */
int dp_policy_apply(struct dp *dp, uint32_t endpoint, const struct policy_entry *add, size_t n_add,
		    const struct policy_entry *del, size_t n_del);
/* Checks an entry against lib/policy_entry.h's rules (ports only with a protocol, ICMP one type).
 */
bool dp_policy_entry_valid(const struct policy_entry *e);
/* The LPM keys an entry expands to (at most 32); returns how many, or -EINVAL. */
int dp_policy_expand(uint32_t endpoint, const struct policy_entry *e, struct dp_policy_key *keys,
		     size_t max);
struct dp_policy_row {
	uint32_t endpoint;
	uint32_t identity;
	uint8_t dir;
	uint8_t deny;
	uint8_t proto;	   /* 0 = any */
	uint8_t port_bits; /* 0 = any port, 16 = exact port */
	uint16_t port;
	uint16_t refcnt;
	uint32_t rule_id;
};
/* A map key (with its value's reference count and rule id) as a row: the one decoding of
 * the key layout, for the map reader and the agent's diff. */
void dp_policy_key_row(const struct dp_policy_key *k, uint16_t refcnt, uint32_t rule_id,
		       struct dp_policy_row *out);
typedef int (*dp_policy_cb)(const struct dp_policy_row *r, void *ctx);
int dp_policy_foreach(struct dp *dp, dp_policy_cb cb, void *ctx);

/* Turns default-deny on or off for an endpoint's direction(s) (DP_EP_F_ENFORCE_*). */
int dp_endpoint_set(struct dp *dp, uint32_t endpoint, uint32_t flags);
int dp_endpoint_get(struct dp *dp, uint32_t endpoint, uint32_t *flags);

/* ---- line parsers (pp-datapath policy load / ipcache load; fuzzed) ---- */
/*
 * Policy line: the flags of `pp-datapath policy add`, whitespace separated:
 *   [--endpoint ID] --dir ingress|egress --identity ID|any --proto tcp|udp|sctp|icmp|icmpv6|any
 *   [--port N[-M]] [--type N] [--deny] [--rule ID]
 * Blank lines and lines starting with '#' are *skip = true. has_endpoint says whether
 * --endpoint was given (otherwise the caller's default applies).
 */
bool dp_parse_policy_line(const char *line, struct policy_entry *e, uint32_t *endpoint,
			  bool *has_endpoint, bool *skip, char *why, size_t why_len);
/* ipcache line: "CIDR IDENTITY [--tunnel IPV4] [--workload]"; same skip rule. */
bool dp_parse_ipcache_line(const char *line, struct dp_ipcache_entry *e, bool *skip, char *why,
			   size_t why_len);
bool dp_parse_cidr(const char *s, struct dp_ipcache_entry *e, char *why, size_t why_len);

/* ---- events ---- */
/* Checks size and enum ranges of a ring-buffer record; false (with why) if bogus. */
bool dp_event_decode(const void *data, size_t len, struct dp_event *out, char *why, size_t why_len);
/* One line of text, or one JSON object (jansson) when json is true. Returns the length
 * written (snprintf-like). */
int dp_event_format(const struct dp_event *e, bool json, char *buf, size_t len);

struct dp_events;
typedef int (*dp_event_cb)(const struct dp_event *e, void *ctx); /* nonzero stops polling */
int dp_events_open(struct dp *dp, dp_event_cb cb, void *ctx, struct dp_events **out);
/* Waits up to timeout_ms; returns events handled, or -errno. */
int dp_events_poll(struct dp_events *ev, int timeout_ms);
/* An fd that polls readable (POLLIN) when records are waiting: the ring buffer's epoll fd,
 * for a caller's poll loop (then dp_events_poll(ev, 0)). */
int dp_events_fd(const struct dp_events *ev);
void dp_events_close(struct dp_events *ev);

/* ---- counters ---- */
/* Sums the per-CPU counters: out[dir * DP_REASON_MAX + reason], out[DP_METRIC_EVENTS_LOST]. */
int dp_metrics_read(struct dp *dp, struct dp_metric out[DP_METRICS_SLOTS]);

const char *dp_reason_name(unsigned int reason);
const char *dp_match_name(unsigned int match);
const char *dp_dir_name(unsigned int dir);
const char *dp_proto_name(unsigned int proto);
bool dp_proto_parse(const char *s, uint8_t *proto);

#endif

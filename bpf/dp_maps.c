// SPDX-License-Identifier: GPL-2.0-only
/*
 * dp_maps: the map writer. ipcache diffs are split into host entries (hash, written in one
 * batch call) and prefixes (LPM trie, element by element: tries have no batch operations).
 * Policy entries are expanded to keys (port ranges -> aligned power-of-two blocks, as
 * Cilium does); full-length keys go to the exact hash, the rest to the trie; keys are
 * reference-counted, which needs a read before each write, so policy diffs are validated
 * as a whole first and then written key by key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpf/dp_internal.h"
#include "lib/log.h"
#include "lib/policy_entry.h"

#define DP_EXPAND_MAX 32

static bool ipcache_is_host(const struct dp_ipcache_entry *e)
{
	return e->plen == (e->family == 4 ? 32 : 128);
}

static void ipcache_key(const struct dp_ipcache_entry *e, struct dp_ipcache_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = DP_IPCACHE_PREFIX_BASE + e->plen;
	k->family = e->family;
	memcpy(k->addr, e->addr, sizeof(k->addr));
}

static void host_key(const struct dp_ipcache_entry *e, struct dp_host_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = e->family;
	memcpy(k->addr, e->addr, sizeof(k->addr));
}

static bool ipcache_valid(const struct dp_ipcache_entry *e)
{
	return (e->family == 4 && e->plen <= 32) || (e->family == 6 && e->plen <= 128);
}

/* One batch call when the kernel supports it for the map type, element by element
 * otherwise (LPM tries have no batch operations). */
static int update_many(int fd, const void *keys, const void *vals, size_t n, size_t ksz, size_t vsz)
{
	__u32 count = (__u32)n;
	size_t i;

	if (!n)
		return 0;
	if (!bpf_map_update_batch(fd, keys, vals, &count, NULL) && count == n)
		return 0;
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * ksz,
					(const char *)vals + i * vsz, BPF_ANY))
			return -errno;
	return 0;
}

#define IPCACHE_CHUNK 4096

static int ipcache_add_chunk(int fd, int hfd, const struct dp_ipcache_entry *add, size_t n_add)
{
	struct dp_ipcache_key *keys = calloc(n_add, sizeof(*keys));
	struct dp_host_key *hkeys = calloc(n_add, sizeof(*hkeys));
	struct dp_ipcache_val *vals = calloc(n_add, sizeof(*vals));
	struct dp_ipcache_val *hvals = calloc(n_add, sizeof(*hvals));
	size_t i, n = 0, nh = 0;
	int err = 0;

	if (!keys || !hkeys || !vals || !hvals) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n_add; i++) {
		struct dp_ipcache_val v = {.identity = add[i].identity,
					   .tunnel_ipv4 = add[i].tunnel_ipv4,
					   .flags = add[i].flags};

		if (ipcache_is_host(&add[i])) {
			host_key(&add[i], &hkeys[nh]);
			hvals[nh++] = v;
		} else {
			ipcache_key(&add[i], &keys[n]);
			vals[n++] = v;
		}
	}
	err = update_many(hfd, hkeys, hvals, nh, sizeof(*hkeys), sizeof(*hvals));
	err = err ?: update_many(fd, keys, vals, n, sizeof(*keys), sizeof(*vals));
out:
	free(keys);
	free(hkeys);
	free(vals);
	free(hvals);
	return err;
}

int dp_ipcache_apply(struct dp *dp, const struct dp_ipcache_entry *add, size_t n_add,
		     const struct dp_ipcache_entry *del, size_t n_del)
{
	int fd = dp->fd[DP_MAP_IPCACHE], hfd = dp->fd[DP_MAP_IPCACHE_HOST];
	size_t i;
	int err = 0;

	for (i = 0; i < n_add; i++)
		if (!ipcache_valid(&add[i]))
			return -EINVAL;
	for (i = 0; i < n_del; i++)
		if (!ipcache_valid(&del[i]))
			return -EINVAL;
	for (i = 0; i < n_del; i++) {
		struct dp_ipcache_key k;
		struct dp_host_key h;
		int r;

		if (ipcache_is_host(&del[i])) {
			host_key(&del[i], &h);
			r = bpf_map_delete_elem(hfd, &h);
		} else {
			ipcache_key(&del[i], &k);
			r = bpf_map_delete_elem(fd, &k);
		}
		if (r && errno != ENOENT)
			return -errno;
	}
	/* Written in chunks: the batch buffers stay small whatever the size of the diff. */
	for (size_t off = 0; off < n_add && !err; off += IPCACHE_CHUNK)
		err = ipcache_add_chunk(fd, hfd, add + off,
					n_add - off < IPCACHE_CHUNK ? n_add - off : IPCACHE_CHUNK);
	return err;
}

/* One row of either half (host hash or trie) to the caller's callback. */
static int ipcache_emit(uint8_t family, uint8_t plen, const uint8_t *addr,
			const struct dp_ipcache_val *v, dp_ipcache_cb cb, void *ctx)
{
	struct dp_ipcache_entry e = {.family = family,
				     .plen = plen,
				     .identity = v->identity,
				     .tunnel_ipv4 = v->tunnel_ipv4,
				     .flags = v->flags};

	memcpy(e.addr, addr, sizeof(e.addr));
	return cb(&e, ctx);
}

#define HOST_BATCH 1024

/*
 * The host hash in batches (one syscall per HOST_BATCH entries instead of two per entry:
 * the sync reads the whole ipcache back every time). 1 = batches not usable here (kernel
 * without them, or a bucket larger than a batch), the caller walks the keys instead.
 */
static int host_foreach_batch(int hfd, dp_ipcache_cb cb, void *ctx)
{
	struct dp_host_key *keys = calloc(HOST_BATCH, sizeof(*keys));
	struct dp_ipcache_val *vals = calloc(HOST_BATCH, sizeof(*vals));
	uint64_t token = 0;
	bool first = true, done = false;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!done && !err) {
		__u32 count = HOST_BATCH;

		if (bpf_map_lookup_batch(hfd, first ? NULL : &token, &token, keys, vals, &count,
					 NULL)) {
			if (errno != ENOENT) {
				err = first ? 1 : -errno;
				break;
			}
			done = true;
		}
		first = false;
		for (__u32 i = 0; i < count && !err; i++)
			err = ipcache_emit(keys[i].family, keys[i].family == 4 ? 32 : 128,
					   keys[i].addr, &vals[i], cb, ctx);
	}
out:
	free(keys);
	free(vals);
	return err;
}

int dp_ipcache_foreach(struct dp *dp, dp_ipcache_cb cb, void *ctx)
{
	int fd = dp->fd[DP_MAP_IPCACHE], hfd = dp->fd[DP_MAP_IPCACHE_HOST], err;
	struct dp_ipcache_key k, next;
	struct dp_host_key hk, hnext;
	struct dp_ipcache_val v;
	void *prev = NULL;

	err = host_foreach_batch(hfd, cb, ctx);
	if (err != 1) {
		if (err)
			return err;
		goto trie;
	}
	while (!bpf_map_get_next_key(hfd, prev, &hnext)) {
		hk = hnext;
		prev = &hk;
		if (bpf_map_lookup_elem(hfd, &hk, &v))
			continue;
		err = ipcache_emit(hk.family, hk.family == 4 ? 32 : 128, hk.addr, &v, cb, ctx);
		if (err)
			return err;
	}
	if (errno != ENOENT)
		return -errno;
trie:
	prev = NULL;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		err = ipcache_emit(k.family, (uint8_t)(k.prefixlen - DP_IPCACHE_PREFIX_BASE),
				   k.addr, &v, cb, ctx);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* Per-direction key counts kept in the endpoints map (see datapath.h). */
struct key_counts {
	int64_t deny[DP_DIR_MAX];
	int64_t any[DP_DIR_MAX];
	int64_t lpm[DP_DIR_MAX];
};

static void count_key(struct key_counts *c, const struct dp_policy_key *k, int delta)
{
	unsigned int d = k->dir & 1;

	if (k->deny)
		c->deny[d] += delta;
	if (k->identity == 0)
		c->any[d] += delta;
	if (k->prefixlen != DP_POL_PREFIX_FULL)
		c->lpm[d] += delta;
}

static uint32_t adjust(uint32_t v, int64_t delta)
{
	int64_t r = (int64_t)v + delta;

	return r < 0 ? 0 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

static int endpoint_adjust(int fd, uint32_t endpoint, const struct key_counts *c)
{
	struct dp_endpoint_val v;

	if (bpf_map_lookup_elem(fd, &endpoint, &v)) {
		if (errno != ENOENT)
			return -errno;
		memset(&v, 0, sizeof(v));
	}
	for (int d = 0; d < DP_DIR_MAX; d++) {
		v.deny_keys[d] = adjust(v.deny_keys[d], c->deny[d]);
		v.any_keys[d] = adjust(v.any_keys[d], c->any[d]);
		v.lpm_keys[d] = adjust(v.lpm_keys[d], c->lpm[d]);
	}
	return bpf_map_update_elem(fd, &endpoint, &v, BPF_ANY) ? -errno : 0;
}

/*
 * The value stored under exactly k. A lookup in the trie is a longest-prefix MATCH: for an
 * absent 8192/7 it returns a present 8192/3's value. The value's prefix tells them apart.
 */
static bool policy_key_get(int fd, const struct dp_policy_key *k, struct dp_policy_val *v)
{
	return !bpf_map_lookup_elem(fd, k, v) && v->prefix == k->prefixlen - DP_POL_PREFIX_EXACT;
}

/* Returns 1 when the key was created, 0 when only its reference count went up. */
static int policy_key_add(int fd, const struct dp_policy_key *k, uint32_t rule_id)
{
	struct dp_policy_val v;
	int created = 0;

	if (policy_key_get(fd, k, &v)) {
		if (v.refcnt < UINT16_MAX)
			v.refcnt++;
	} else {
		memset(&v, 0, sizeof(v));
		v.rule_id = rule_id;
		v.refcnt = 1;
		v.prefix = (uint8_t)(k->prefixlen - DP_POL_PREFIX_EXACT);
		created = 1;
	}
	return bpf_map_update_elem(fd, k, &v, BPF_ANY) ? -errno : created;
}

/* Returns 1 when the key was removed, 0 when only its reference count went down. */
static int policy_key_del(int fd, const struct dp_policy_key *k)
{
	struct dp_policy_val v;

	if (!policy_key_get(fd, k, &v))
		return 0; /* already gone: deleting is idempotent */
	if (v.refcnt > 1) {
		v.refcnt--;
		return bpf_map_update_elem(fd, k, &v, BPF_EXIST) ? -errno : 0;
	}
	if (bpf_map_delete_elem(fd, k))
		return errno == ENOENT ? 0 : -errno;
	return 1;
}

/* Full-length keys go to the exact hash, the rest to the trie. */
#define KEY_FD(k) ((k)->prefixlen == DP_POL_PREFIX_FULL ? xfd : lfd)

/*
 * Order matters for the datapath reading the counts concurrently: counts go up by an
 * upper bound before the keys are inserted and are corrected (down) afterwards; counts go
 * down only after keys are deleted. A count is never below the real number of keys, so
 * the datapath never skips a lookup that could match.
 */
int dp_policy_apply(struct dp *dp, uint32_t endpoint, const struct policy_entry *add, size_t n_add,
		    const struct policy_entry *del, size_t n_del)
{
	struct dp_policy_key keys[DP_EXPAND_MAX];
	int lfd = dp->fd[DP_MAP_POLICY], xfd = dp->fd[DP_MAP_POLICY_EXACT];
	int efd = dp->fd[DP_MAP_ENDPOINTS];
	struct key_counts upper = {}, fix = {}, removed = {};
	size_t i;
	int n, j, err = 0, ret;

	for (i = 0; i < n_add; i++)
		if (!dp_policy_entry_valid(&add[i]))
			return -EINVAL;
	for (i = 0; i < n_del; i++)
		if (!dp_policy_entry_valid(&del[i]))
			return -EINVAL;

	for (i = 0; i < n_del; i++) {
		n = dp_policy_expand(endpoint, &del[i], keys, DP_EXPAND_MAX);
		for (j = 0; j < n; j++) {
			ret = policy_key_del(KEY_FD(&keys[j]), &keys[j]);
			if (ret < 0) {
				err = ret;
				goto out_del;
			}
			if (ret)
				count_key(&removed, &keys[j], -1);
		}
	}
out_del:
	if (n_del) {
		ret = endpoint_adjust(efd, endpoint, &removed);
		err = err ?: ret;
	}
	if (err || !n_add)
		return err;

	for (i = 0; i < n_add; i++) {
		n = dp_policy_expand(endpoint, &add[i], keys, DP_EXPAND_MAX);
		for (j = 0; j < n; j++)
			count_key(&upper, &keys[j], 1);
	}
	err = endpoint_adjust(efd, endpoint, &upper);
	if (err)
		return err;
	fix = upper; /* what was not created is taken back below */
	for (i = 0; i < n_add && !err; i++) {
		n = dp_policy_expand(endpoint, &add[i], keys, DP_EXPAND_MAX);
		for (j = 0; j < n; j++) {
			ret = policy_key_add(KEY_FD(&keys[j]), &keys[j], add[i].rule_id);
			if (ret < 0) {
				err = ret;
				break;
			}
			if (ret)
				count_key(&fix, &keys[j], -1);
		}
	}
	for (int d = 0; d < DP_DIR_MAX; d++) {
		fix.deny[d] = -fix.deny[d];
		fix.any[d] = -fix.any[d];
		fix.lpm[d] = -fix.lpm[d];
	}
	ret = endpoint_adjust(efd, endpoint, &fix);
	return err ?: ret;
}

static int policy_foreach_map(int fd, dp_policy_cb cb, void *ctx)
{
	struct dp_policy_key k, next;
	struct dp_policy_val v;
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct dp_policy_row r;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		dp_policy_key_row(&k, v.refcnt, v.rule_id, &r);
		err = cb(&r, ctx);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

int dp_policy_foreach(struct dp *dp, dp_policy_cb cb, void *ctx)
{
	int err = policy_foreach_map(dp->fd[DP_MAP_POLICY_EXACT], cb, ctx);

	return err ?: policy_foreach_map(dp->fd[DP_MAP_POLICY], cb, ctx);
}

int dp_endpoint_set(struct dp *dp, uint32_t endpoint, uint32_t flags)
{
	int fd = dp->fd[DP_MAP_ENDPOINTS];
	struct dp_endpoint_val v;

	if (bpf_map_lookup_elem(fd, &endpoint, &v)) {
		if (errno != ENOENT)
			return -errno;
		if (!flags)
			return 0;
		memset(&v, 0, sizeof(v));
	}
	v.flags = flags; /* the key counts belong to dp_policy_apply() */
	return bpf_map_update_elem(fd, &endpoint, &v, BPF_ANY) ? -errno : 0;
}

int dp_endpoint_get(struct dp *dp, uint32_t endpoint, uint32_t *flags)
{
	struct dp_endpoint_val v;

	if (bpf_map_lookup_elem(dp->fd[DP_MAP_ENDPOINTS], &endpoint, &v)) {
		if (errno != ENOENT)
			return -errno;
		*flags = 0;
		return 0;
	}
	*flags = v.flags;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * dp_attached: which of our programs are attached where, and whether they use the pinned
 * maps. See dp.h ("stale programs") for the contract.
 *
 * Identity of a map is its kernel id: the pins give one id per map name, an attached
 * program lists the ids of every map it uses (BPF_OBJ_GET_INFO_BY_FD, map_ids). A program
 * loaded before an unload references maps nobody can reach any more through the pins.
 */
#include <net/if.h> /* before the linux/ headers: they defer to it (libc-compat.h) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/dp_internal.h"
#include "lib/log.h"

#define DP_MAX_PROG_MAPS 32

/* Ids of the maps pinned under bpffs (missing pins are left out). */
static size_t pinned_map_ids(const char *bpffs, uint32_t ids[DP_MAP_COUNT])
{
	char path[PATH_MAX];
	size_t n = 0;

	for (int i = 0; i < DP_MAP_COUNT; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd, n_path;

		n_path = snprintf(path, sizeof(path), "%s/%s", bpffs, dp_map_names[i]);
		if (n_path < 0 || (size_t)n_path >= sizeof(path))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			ids[n++] = info.id;
		close(fd);
	}
	return n;
}

static bool id_in(uint32_t id, const uint32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * Whether a map is one the loader pins (by its name): the object's internal maps
 * (.rodata with the load-time parameters, ...) are never pinned and do not count.
 */
static bool is_pinnable_map(uint32_t id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	bool ours = false;
	int fd = bpf_map_get_fd_by_id(id);

	if (fd < 0)
		return true; /* cannot tell: count it as not pinned */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		for (int i = 0; i < DP_MAP_COUNT && !ours; i++)
			ours = !strncmp(info.name, dp_map_names[i], BPF_OBJ_NAME_LEN);
	} else {
		ours = true;
	}
	close(fd);
	return ours;
}

/* The pinned program's id for a kernel program name (truncated to 15 characters). */
static uint32_t pinned_prog_id(const char *bpffs, const char *kname, enum dp_dev_kind *kind)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	uint32_t id = 0;
	int fd, n;

	*kind = DP_DEV_AUTO;
	for (unsigned int i = 0; i < dp_prog_count; i++) {
		if (strncmp(kname, dp_prog_names[i], BPF_OBJ_NAME_LEN - 1))
			continue;
		/* dp_{ingress,egress}_{eth,l3,vxlan}: the kind is the last word */
		dp_dev_kind_parse(strrchr(dp_prog_names[i], '_') + 1, kind);
		n = snprintf(path, sizeof(path), "%s/%s", bpffs, dp_prog_names[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return 0;
		fd = bpf_obj_get(path);
		if (fd < 0)
			return 0;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			id = info.id;
		close(fd);
		return id;
	}
	return 0;
}

/* Fills name, kind, pinned id and the map comparison of an attached program. */
static int describe_prog(const char *bpffs, const uint32_t *pinned, size_t n_pinned,
			 struct dp_attachment *a)
{
	uint32_t map_ids[DP_MAX_PROG_MAPS];
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, err = 0;

	fd = bpf_prog_get_fd_by_id(a->prog_id);
	if (fd < 0)
		return -errno;
	info.nr_map_ids = DP_MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	snprintf(a->prog_name, sizeof(a->prog_name), "%s", info.name);
	a->pinned_prog_id = pinned_prog_id(bpffs, info.name, &a->kind);
	a->pinned_maps = info.nr_map_ids <= DP_MAX_PROG_MAPS && n_pinned > 0;
	for (__u32 i = 0; a->pinned_maps && i < info.nr_map_ids; i++)
		if (!id_in(map_ids[i], pinned, n_pinned) && is_pinnable_map(map_ids[i]))
			a->pinned_maps = false;
out:
	close(fd);
	return err;
}

/* Our filter on one hook of one device: 1 and *a filled, 0 when there is none. */
static int query_hook(const char *bpffs, const uint32_t *pinned, size_t n_pinned,
		      unsigned int ifindex, uint8_t dir, struct dp_attachment *a)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
			    .attach_point = dir == DP_DIR_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIO);
	int err;

	dp_libbpf_quiet(true); /* "no qdisc" is an expected answer here */
	err = bpf_tc_query(&hook, &opts);
	dp_libbpf_quiet(false);
	if (err == -ENOENT || err == -EINVAL) /* no filter, or no clsact qdisc at all */
		return 0;
	if (err)
		return err;
	memset(a, 0, sizeof(*a));
	a->ifindex = ifindex;
	if_indextoname(ifindex, a->ifname);
	a->dir = dir;
	a->prog_id = opts.prog_id;
	err = describe_prog(bpffs, pinned, n_pinned, a);
	if (err == -ENOENT) /* detached meanwhile */
		return 0;
	return err ? err : 1;
}

static int list_in_netns(const char *bpffs, const char *const *devs, size_t n_devs,
			 struct dp_attachment *out, size_t max, size_t *n)
{
	struct if_nameindex *all = NULL;
	uint32_t pinned[DP_MAP_COUNT];
	size_t n_pinned = pinned_map_ids(bpffs, pinned), count;
	int err = 0;

	if (!devs) {
		all = if_nameindex();
		if (!all)
			return -errno;
		for (count = 0; all[count].if_index; count++)
			;
		n_devs = count;
	}
	for (size_t i = 0; i < n_devs && !err; i++) {
		unsigned int ifindex = all ? all[i].if_index : if_nametoindex(devs[i]);

		for (uint8_t dir = 0; ifindex && dir < 2 && !err; dir++) {
			struct dp_attachment a;
			int r = query_hook(bpffs, pinned, n_pinned, ifindex, dir, &a);

			if (r < 0)
				err = r;
			else if (r == 1 && *n < max)
				out[(*n)++] = a;
			else if (r == 1)
				(*n)++;
		}
	}
	if (all)
		if_freenameindex(all);
	return err;
}

int dp_attached_list(const char *bpffs, const char *netns, const char *const *devs, size_t n_devs,
		     struct dp_attachment *out, size_t max, size_t *n)
{
	struct dp_netns_guard g;
	int err;

	*n = 0;
	dp_libbpf_log_init();
	err = dp_netns_enter(netns, &g);
	if (err)
		return err;
	err = list_in_netns(bpffs, devs, n_devs, out, max, n);
	dp_netns_leave(&g);
	return err;
}

#define DP_ATTACHED_MAX 256

/* Counts (and logs) the stale filters of a listing. */
static size_t count_stale(const struct dp_attachment *a, size_t n, const char *bpffs, bool loud)
{
	size_t stale = 0;

	for (size_t i = 0; i < n; i++) {
		if (a[i].pinned_maps)
			continue;
		stale++;
		if (loud)
			log_error(
			    "datapath: %s %s runs program %u (%s), which enforces maps that are "
			    "not the ones pinned under %s: writes to the pins do not reach it",
			    a[i].ifname, dp_dir_name(a[i].dir), a[i].prog_id, a[i].prog_name,
			    bpffs);
	}
	return stale;
}

int dp_attached_check(const char *bpffs, const char *netns, const char *const *devs, size_t n_devs,
		      bool reattach)
{
	struct dp_attachment *a;
	size_t n = 0;
	int err;

	a = calloc(DP_ATTACHED_MAX, sizeof(*a));
	if (!a)
		return -ENOMEM;
	err = dp_attached_list(bpffs, netns, devs, n_devs, a, DP_ATTACHED_MAX, &n);
	if (err || !count_stale(a, n < DP_ATTACHED_MAX ? n : DP_ATTACHED_MAX, bpffs, !reattach))
		goto out;
	if (!reattach) {
		err = -ESTALE;
		goto out;
	}
	for (size_t i = 0; i < n && i < DP_ATTACHED_MAX; i++) {
		if (a[i].pinned_maps ||
		    (i > 0 && a[i - 1].ifindex == a[i].ifindex && !a[i - 1].pinned_maps))
			continue; /* one attach replaces both hooks of a device */
		if (a[i].kind == DP_DEV_AUTO) {
			log_error("datapath: %s: program %u (%s) is not one of ours; not replaced",
				  a[i].ifname, a[i].prog_id, a[i].prog_name);
			err = -ESTALE;
			continue;
		}
		log_warn("datapath: %s %s ran program %u on maps no longer pinned under %s: "
			 "attaching the pinned %s programs",
			 a[i].ifname, dp_dir_name(a[i].dir), a[i].prog_id, bpffs,
			 dp_dev_kind_name(a[i].kind));
		if (dp_attach(bpffs, a[i].ifname, netns, a[i].kind) && !err)
			err = -ESTALE;
	}
	if (err)
		goto out;
	/* Prove it: the listing again, now without a stale filter. */
	n = 0;
	err = dp_attached_list(bpffs, netns, devs, n_devs, a, DP_ATTACHED_MAX, &n);
	if (!err && count_stale(a, n < DP_ATTACHED_MAX ? n : DP_ATTACHED_MAX, bpffs, true))
		err = -ESTALE;
out:
	free(a);
	return err;
}

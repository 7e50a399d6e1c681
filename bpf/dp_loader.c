// SPDX-License-Identifier: GPL-2.0-only
/*
 * dp_loader: load, pin, adopt, attach, detach, unload. See dp.h for the contract.
 *
 * Why tc through netlink (bpf_tc_attach) and not tcx links: libbpf 1.1 and kernels
 * before 6.6 have no tcx; a netlink filter with BPF_TC_F_REPLACE on a fixed
 * handle/priority is replaced atomically by the kernel (the classifier list is swapped
 * under RTNL), which is the "no moment without enforcement" the upgrade path needs.
 */
#include <net/if.h> /* before the linux/ headers: they defer to it (libc-compat.h) */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/sockios.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <math.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.skel.h"

#include "bpf/dp_internal.h"
#include "lib/log.h"

const char *const dp_map_names[DP_MAP_COUNT] = {
    [DP_MAP_IPCACHE] = "ipcache",
    [DP_MAP_POLICY] = "policy",
    [DP_MAP_ENDPOINTS] = "endpoints",
    [DP_MAP_CONNTRACK4] = "conntrack4",
    [DP_MAP_CONNTRACK6] = "conntrack6",
    [DP_MAP_FRAGS] = "frags",
    [DP_MAP_EVENTS] = "events",
    [DP_MAP_METRICS] = "metrics",
    [DP_MAP_EVENTS_RL] = "events_rl",
    [DP_MAP_INFO] = "info",
    [DP_MAP_IPCACHE_HOST] = "ipcache_host",
    [DP_MAP_POLICY_EXACT] = "policy_exact",
    [DP_MAP_TUNNEL] = "tunnel",
};

const char *const dp_prog_names[] = {
    "dp_ingress_eth", "dp_egress_eth",	  "dp_ingress_l3",
    "dp_egress_l3",   "dp_ingress_vxlan", "dp_egress_vxlan",
};
const unsigned int dp_prog_count = sizeof(dp_prog_names) / sizeof(dp_prog_names[0]);

/*
 * libbpf's messages go through our log: warnings as warnings (verifier logs on a failed
 * load), the rest at debug. While probing for an existing clsact qdisc its expected
 * "no qdisc" complaint is muted.
 */
static bool libbpf_quiet;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	if (libbpf_quiet || (level == LIBBPF_DEBUG && log_get_level() < LOG_LEVEL_DEBUG))
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (level == LIBBPF_WARN)
		log_warn("libbpf: %s", buf);
	else
		log_debug("libbpf: %s", buf);
	return 0;
}

void dp_libbpf_log_init(void)
{
	static bool done;

	if (!done) {
		libbpf_set_print(libbpf_print);
		done = true;
	}
}

void dp_libbpf_quiet(bool quiet)
{
	libbpf_quiet = quiet;
}

static int pin_path(char *buf, size_t len, const char *bpffs, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", bpffs, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Adopt a pinned map when its type, key and value sizes match what this build expects;
 * its max_entries wins (resizing would mean recreating it and losing conntrack). A
 * mismatching pin is an older layout: unpinned so that load creates a fresh map.
 */
static int adopt_map(struct bpf_map *map, const char *path)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	if (err) {
		err = -errno;
		close(fd);
		return err;
	}
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map)) {
		log_warn("datapath: pinned map %s has another layout; recreating it", path);
		close(fd);
		return unlink(path) ? -errno : 0;
	}
	if (info.max_entries != bpf_map__max_entries(map)) {
		log_info("datapath: adopting %s with its %u entries (asked %u)", path,
			 info.max_entries, bpf_map__max_entries(map));
		bpf_map__set_max_entries(map, info.max_entries);
	}
	err = bpf_map__reuse_fd(map, fd);
	close(fd); /* reuse_fd dups it */
	if (err)
		return err;
	log_debug("datapath: adopted %s", path);
	return 1;
}

/*
 * CONFIG_HZ, for the datapath's jiffies clock. Not exposed to userspace (sysconf's
 * CLK_TCK is USER_HZ), so measured the way Cilium does: a two-instruction program
 * returns bpf_jiffies64(), run twice 100 ms apart, rounded to the nearest value the
 * kernel can be built with. A pinned info map already holding it (same boot: pins do not
 * survive a reboot, HZ does not change without one) is trusted instead.
 */
static int probe_hz(const char *bpffs, uint32_t *hz)
{
	static const uint32_t candidates[] = {100, 250, 300, 1000};
	struct bpf_insn insns[] = {
	    {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_jiffies64},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	uint8_t pkt[64] = {0};
	struct dp_info info;
	struct timespec t0, t1;
	uint32_t j0, j1, best = 0;
	double est, dt;
	int fd, err;

	if (dp_info_read(bpffs, &info) == 0 && info.version == DP_INFO_VERSION && info.hz) {
		*hz = info.hz;
		return 0;
	}
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "pp_hz_probe", "GPL", insns, 2, NULL);
	if (fd < 0)
		return -errno;
	{
		DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
				    .data_size_in = sizeof(pkt));

		clock_gettime(CLOCK_MONOTONIC, &t0);
		err = bpf_prog_test_run_opts(fd, &o);
		j0 = o.retval;
		usleep(100000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		err = err ?: bpf_prog_test_run_opts(fd, &o);
		j1 = o.retval;
	}
	close(fd);
	if (err)
		return -errno;
	dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	est = (double)(j1 - j0) / dt;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (!best || fabs(est - candidates[i]) < fabs(est - best))
			best = candidates[i];
	log_debug("datapath: jiffies advance %.0f/s: HZ=%u", est, best);
	*hz = best;
	return 0;
}

static int set_max(struct bpf_map *map, uint32_t n, uint32_t dflt)
{
	return bpf_map__set_max_entries(map, n ? n : dflt);
}

int dp_load(const struct dp_load_opts *o)
{
	struct datapath *skel = NULL;
	char path[PATH_MAX], tmp[PATH_MAX];
	struct bpf_map *maps[DP_MAP_COUNT];
	bool adopted[DP_MAP_COUNT] = {};
	struct bpf_program *prog;
	struct dp_info info = {};
	__u32 zero = 0;
	uint32_t hz = 0;
	int err, i;

	dp_libbpf_log_init();
	if (mkdir(o->bpffs, 0700) && errno != EEXIST)
		return -errno;
	err = probe_hz(o->bpffs, &hz);
	if (err) {
		log_error("datapath: cannot measure the kernel's HZ: %s", strerror(-err));
		return err;
	}
	skel = datapath__open();
	if (!skel)
		return -errno ? -errno : -ENOMEM;
	skel->rodata->dp_cfg_mode = o->mode;
	skel->rodata->dp_cfg_identity = o->identity;
	skel->rodata->dp_cfg_events_rate = o->events_per_second;
	skel->rodata->dp_cfg_hz = hz;
	/* Each limit applies to both halves of a split map (host hash + trie, exact hash +
	 * trie): either may hold all the entries. */
	err = set_max(skel->maps.ipcache, o->ipcache_max, 65536);
	err = err ?: set_max(skel->maps.ipcache_host, o->ipcache_max, 65536);
	err = err ?: set_max(skel->maps.policy, o->policy_max, 16384);
	err = err ?: set_max(skel->maps.policy_exact, o->policy_max, 16384);
	err = err ?: set_max(skel->maps.conntrack4, o->conntrack_max, 65536);
	err = err ?: set_max(skel->maps.conntrack6, o->conntrack_max, 65536);
	if (err)
		goto out;

	for (i = 0; i < DP_MAP_COUNT; i++) {
		maps[i] = bpf_object__find_map_by_name(skel->obj, dp_map_names[i]);
		if (!maps[i]) {
			err = -ENOENT;
			goto out;
		}
		err = pin_path(path, sizeof(path), o->bpffs, dp_map_names[i]);
		if (err)
			goto out;
		err = adopt_map(maps[i], path);
		if (err < 0) {
			log_error("datapath: cannot adopt %s: %s", path, strerror(-err));
			goto out;
		}
		adopted[i] = err == 1;
	}

	err = datapath__load(skel);
	if (err) {
		log_error("datapath: load failed (verifier log above): %s", strerror(-err));
		goto out;
	}

	for (i = 0; i < DP_MAP_COUNT; i++) {
		if (adopted[i])
			continue;
		pin_path(path, sizeof(path), o->bpffs, dp_map_names[i]);
		err = bpf_map__pin(maps[i], path);
		if (err) {
			log_error("datapath: pin %s: %s", path, strerror(-err));
			goto out;
		}
	}
	/* Programs: pin under a temporary name, then rename over the old pin, so a reader of
	 * the pin always finds a complete program (bpffs supports rename). */
	bpf_object__for_each_program(prog, skel->obj)
	{
		err = pin_path(path, sizeof(path), o->bpffs, bpf_program__name(prog));
		err = err ?: pin_path(tmp, sizeof(tmp), o->bpffs, "tmp_prog");
		if (err)
			goto out;
		unlink(tmp);
		err = bpf_program__pin(prog, tmp);
		if (err)
			goto out;
		if (rename(tmp, path)) {
			err = -errno;
			unlink(tmp);
			goto out;
		}
	}
	info.version = DP_INFO_VERSION;
	info.mode = o->mode;
	info.identity = o->identity;
	info.events_rate = o->events_per_second;
	info.hz = hz;
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.info), &zero, &info, BPF_ANY);
	if (err)
		err = -errno;
out:
	datapath__destroy(skel);
	return err;
}

int dp_unload(const char *bpffs)
{
	char path[PATH_MAX];
	unsigned int i;
	int err = 0;

	for (i = 0; i < DP_MAP_COUNT; i++) {
		pin_path(path, sizeof(path), bpffs, dp_map_names[i]);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	for (i = 0; i < dp_prog_count; i++) {
		pin_path(path, sizeof(path), bpffs, dp_prog_names[i]);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	pin_path(path, sizeof(path), bpffs, "tmp_prog");
	unlink(path);
	if (rmdir(bpffs) && errno != ENOENT)
		err = err ?: -errno;
	return err;
}

int dp_prog_fd(const char *bpffs, const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	err = pin_path(path, sizeof(path), bpffs, name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* ---- netns + device ---- */

int dp_netns_enter(const char *netns, struct dp_netns_guard *g)
{
	int fd, err;

	g->orig = -1;
	if (!netns)
		return 0;
	g->orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (g->orig < 0)
		return -errno;
	fd = open(netns, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		close(g->orig);
		g->orig = -1;
		return err;
	}
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	if (err) {
		close(g->orig);
		g->orig = -1;
	}
	return err;
}

void dp_netns_leave(struct dp_netns_guard *g)
{
	if (g->orig < 0)
		return;
	if (setns(g->orig, CLONE_NEWNET))
		log_error("datapath: cannot return to the original netns: %s", strerror(errno));
	close(g->orig);
}

/* ARPHRD_NONE (TUN, WireGuard) -> l3; ethtool driver "vxlan" -> vxlan; else eth. */
int dp_detect_kind(const char *ifname, enum dp_dev_kind *kind)
{
	struct ethtool_drvinfo drv = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr = {};
	int s, err = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFHWADDR, &ifr)) {
		err = -errno;
		goto out;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		*kind = DP_DEV_L3;
		goto out;
	}
	*kind = DP_DEV_ETH;
	ifr.ifr_data = (void *)&drv;
	if (!ioctl(s, SIOCETHTOOL, &ifr) && !strcmp(drv.driver, "vxlan"))
		*kind = DP_DEV_VXLAN;
out:
	close(s);
	return err;
}

int dp_attach(const char *bpffs, const char *ifname, const char *netns, enum dp_dev_kind kind)
{
	int fds[2] = {-1, -1}, err, ifindex, i;
	struct dp_netns_guard g;
	char name[64];

	dp_libbpf_log_init();
	/* setns() changes only the network namespace: the pins stay reachable. */
	err = dp_netns_enter(netns, &g);
	if (err)
		return err;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		err = -errno;
		goto out;
	}
	if (kind == DP_DEV_AUTO) {
		err = dp_detect_kind(ifname, &kind);
		if (err)
			goto out;
	}
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "dp_%s_%s", i ? "egress" : "ingress",
			 dp_dev_kind_name(kind));
		fds[i] = dp_prog_fd(bpffs, name);
		if (fds[i] < 0) {
			err = fds[i];
			goto out;
		}
	}
	for (i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE,
				    .priority = DP_TC_PRIO, .prog_fd = fds[i],
				    .flags = BPF_TC_F_REPLACE);

		/* Attach first: the clsact qdisc is usually there already, and creating it
		 * again only makes the kernel log "exclusivity flag on". */
		libbpf_quiet = true;
		err = bpf_tc_attach(&hook, &opts);
		libbpf_quiet = false;
		if (err) {
			err = bpf_tc_hook_create(&hook);
			if (err && err != -EEXIST)
				goto out;
			opts.prog_id = 0;
			err = bpf_tc_attach(&hook, &opts);
			if (err)
				goto out;
		}
	}
	log_debug("datapath: attached %s programs to %s", dp_dev_kind_name(kind), ifname);
out:
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	dp_netns_leave(&g);
	return err;
}

int dp_detach(const char *ifname, const char *netns)
{
	struct dp_netns_guard g;
	int err, ret = 0, ifindex, i;

	err = dp_netns_enter(netns, &g);
	if (err)
		return err;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = i ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE,
				    .priority = DP_TC_PRIO);

		err = bpf_tc_detach(&hook, &opts);
		if (err && err != -ENOENT && !ret)
			ret = err;
	}
out:
	dp_netns_leave(&g);
	return ret;
}

/* ---- open handle ---- */

int dp_open(const char *bpffs, struct dp **out)
{
	char path[PATH_MAX];
	struct dp *dp;
	int i, err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	for (i = 0; i < DP_MAP_COUNT; i++)
		dp->fd[i] = -1;
	snprintf(dp->bpffs, sizeof(dp->bpffs), "%s", bpffs);
	for (i = 0; i < DP_MAP_COUNT; i++) {
		err = pin_path(path, sizeof(path), bpffs, dp_map_names[i]);
		if (err)
			goto fail;
		dp->fd[i] = bpf_obj_get(path);
		if (dp->fd[i] < 0) {
			err = -errno;
			goto fail;
		}
	}
	*out = dp;
	return 0;
fail:
	dp_close(dp);
	return err;
}

void dp_close(struct dp *dp)
{
	if (!dp)
		return;
	for (int i = 0; i < DP_MAP_COUNT; i++)
		if (dp->fd[i] >= 0)
			close(dp->fd[i]);
	free(dp);
}

int dp_map_fd(struct dp *dp, const char *name)
{
	for (int i = 0; i < DP_MAP_COUNT; i++)
		if (!strcmp(name, dp_map_names[i]))
			return dp->fd[i];
	return -ENOENT;
}

int dp_info_get(struct dp *dp, struct dp_info *out)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(dp->fd[DP_MAP_INFO], &zero, out) ? -errno : 0;
}

int dp_info_read(const char *bpffs, struct dp_info *out)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err = pin_path(path, sizeof(path), bpffs, "info");

	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = bpf_map_lookup_elem(fd, &zero, out) ? -errno : 0;
	close(fd);
	return err;
}

int dp_tunnel_set(struct dp *dp, uint32_t gateway_ipv4)
{
	struct dp_tunnel t = {.gateway_ipv4 = gateway_ipv4};
	__u32 zero = 0;

	return bpf_map_update_elem(dp->fd[DP_MAP_TUNNEL], &zero, &t, BPF_ANY) ? -errno : 0;
}

int dp_tunnel_get(struct dp *dp, uint32_t *gateway_ipv4)
{
	struct dp_tunnel t;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(dp->fd[DP_MAP_TUNNEL], &zero, &t))
		return -errno;
	*gateway_ipv4 = t.gateway_ipv4;
	return 0;
}

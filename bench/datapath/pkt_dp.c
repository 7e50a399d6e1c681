// SPDX-License-Identifier: GPL-2.0-only
/* pkt_dp: see pkt_dp.h. Built only when the tree has the datapath library (pp_datapath). */
#include "bench/datapath/pkt_dp.h"

#include "bpf/dp.h"
#include "lib/policy_entry.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PKTDP_PROGS 6

struct pktdp {
	char bpffs[96];
	struct dp *dp;
	int prog_fd[PKTDP_PROGS];
	char prog_name[PKTDP_PROGS][24];
	uint32_t policy_keys;
	bool loaded;
};

/* A growable list of policy entries of one endpoint. */
struct plist {
	struct policy_entry *e;
	size_t n, cap;
};

static int padd(struct plist *l, uint32_t id, uint8_t dir, uint8_t proto, uint16_t lo, uint16_t hi,
		int deny)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct policy_entry *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n++] = (struct policy_entry){.identity = id,
					     .direction = dir,
					     .proto = proto,
					     .deny = (uint8_t)deny,
					     .port_lo = lo,
					     .port_hi = hi,
					     .rule_id = (uint32_t)l->n + 1};
	return 0;
}

static void ipc_host(struct dp_ipcache_entry *e, int family, uint32_t i, uint32_t flags)
{
	memset(e, 0, sizeof(*e));
	e->family = (uint8_t)family;
	e->plen = family == 6 ? 128 : 32;
	pktdp_remote_addr(family, i, e->addr);
	e->identity = pktdp_identity(i);
	e->tunnel_ipv4 = htonl(0xc0a80000u | (i & 0xffff));
	e->flags = flags;
}

static int apply(struct pktdp *p, uint32_t ep, struct plist *l, char *why, size_t whylen)
{
	int err = dp_policy_apply(p->dp, ep, l->e, l->n, NULL, 0);

	if (err)
		snprintf(why, whylen, "dp_policy_apply(endpoint %u, %zu entries): %s", ep, l->n,
			 strerror(-err));
	l->n = 0;
	return err;
}

static int fill_workload(struct pktdp *p, uint32_t n, char *why, size_t whylen)
{
	struct dp_ipcache_entry *ipc = calloc(2 * (size_t)n + PKTDP_CIDRS, sizeof(*ipc));
	struct plist l = {0};
	size_t m = 0;
	int err = -ENOMEM;

	if (!ipc)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		ipc_host(&ipc[m++], 4, i, 0);
		ipc_host(&ipc[m++], 6, i, 0);
	}
	for (uint32_t k = 0; k < PKTDP_CIDRS; k++, m++) {
		pktdp_cidr_addr(k, 0, ipc[m].addr);
		ipc[m].addr[3] = 0;
		ipc[m].family = 4;
		ipc[m].plen = 24;
		ipc[m].identity = PKTDP_CIDR_ID + k;
	}
	err = dp_ipcache_apply(p->dp, ipc, m, NULL, 0);
	if (err) {
		snprintf(why, whylen, "dp_ipcache_apply(%zu entries): %s", m, strerror(-err));
		goto out;
	}
	err = padd(&l, POLICY_IDENTITY_ANY, POLICY_INGRESS, IPPROTO_TCP, PKTDP_DENY_PORT,
		   PKTDP_DENY_PORT, 1);
	err = err ?: padd(&l, POLICY_IDENTITY_ANY, POLICY_INGRESS, IPPROTO_ICMP, 8, 8, 0);
	err = err ?: padd(&l, POLICY_IDENTITY_ANY, POLICY_EGRESS, IPPROTO_TCP, 25, 25, 1);
	for (uint32_t i = 0; i < n && !err; i++) {
		uint32_t id = pktdp_identity(i);

		err = padd(&l, id, POLICY_INGRESS, IPPROTO_TCP, PKTDP_PORT, PKTDP_PORT, 0);
		err = err ?: padd(&l, id, POLICY_EGRESS, IPPROTO_TCP, PKTDP_PORT, PKTDP_PORT, 0);
		if (!err && i % 10 == 0)
			err = padd(&l, id, POLICY_INGRESS, IPPROTO_TCP, PKTDP_RANGE_LO,
				   PKTDP_RANGE_HI, 0);
		if (!err && i % 50 == 0)
			err = padd(&l, id, POLICY_INGRESS, IPPROTO_UDP, 0, 0, 1);
		if (!err && i % 5 == 0)
			err = padd(&l, id, POLICY_EGRESS, IPPROTO_UDP, PKTDP_UDP_PORT,
				   PKTDP_UDP_PORT, 0);
	}
	for (uint32_t k = 0; k < PKTDP_CIDRS && !err; k++) {
		err = padd(&l, PKTDP_CIDR_ID + k, POLICY_INGRESS, IPPROTO_TCP, PKTDP_CIDR_PORT,
			   PKTDP_CIDR_PORT, 0);
		err = err
			  ?: padd(&l, PKTDP_CIDR_ID + k, POLICY_EGRESS, IPPROTO_TCP,
				  PKTDP_CIDR_PORT, PKTDP_CIDR_PORT, 0);
	}
	if (err) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	err = apply(p, PKTDP_LOCAL_ID, &l, why, whylen);
	err = err
		  ?: dp_endpoint_set(p->dp, PKTDP_LOCAL_ID,
				     DP_EP_F_ENFORCE_INGRESS | DP_EP_F_ENFORCE_EGRESS);
out:
	free(ipc);
	free(l.e);
	return err;
}

static int fill_gateway(struct pktdp *p, uint32_t n, char *why, size_t whylen)
{
	struct dp_ipcache_entry *ipc = calloc((size_t)n + PKTDP_PODS, sizeof(*ipc));
	struct plist l = {0};
	size_t m = 0;
	int err = -ENOMEM;

	if (!ipc)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		ipc_host(&ipc[m++], 4, i, DP_IPC_F_WORKLOAD);
	for (uint32_t k = 0; k < PKTDP_PODS; k++, m++) {
		pktdp_local_addr(4, k, ipc[m].addr);
		ipc[m].family = 4;
		ipc[m].plen = 32;
		ipc[m].identity = PKTDP_POD_ID + k;
	}
	err = dp_ipcache_apply(p->dp, ipc, m, NULL, 0);
	if (err) {
		snprintf(why, whylen, "dp_ipcache_apply(%zu entries): %s", m, strerror(-err));
		goto out;
	}
	/* Each machine: its own endpoint, one egress allow towards its pod. */
	for (uint32_t i = 0; i < n && i < PKTDP_GW_ENDPOINTS && !err; i++) {
		err = padd(&l, PKTDP_POD_ID + i % PKTDP_PODS, POLICY_EGRESS, IPPROTO_TCP,
			   PKTDP_PORT, PKTDP_PORT, 0);
		err = err ?: apply(p, pktdp_identity(i), &l, why, whylen);
		err = err ?: dp_endpoint_set(p->dp, pktdp_identity(i), DP_EP_F_ENFORCE_EGRESS);
	}
	/* Each pod: ingress from its machines, and an any-identity deny. */
	for (uint32_t k = 0; k < PKTDP_PODS && !err; k++) {
		err = padd(&l, POLICY_IDENTITY_ANY, POLICY_INGRESS, IPPROTO_TCP, PKTDP_DENY_PORT,
			   PKTDP_DENY_PORT, 1);
		for (uint32_t i = k; i < n && !err; i += PKTDP_PODS)
			err = padd(&l, pktdp_identity(i), POLICY_INGRESS, IPPROTO_TCP, PKTDP_PORT,
				   PKTDP_PORT, 0);
		err = err ?: apply(p, PKTDP_POD_ID + k, &l, why, whylen);
		err = err
			  ?: dp_endpoint_set(p->dp, PKTDP_POD_ID + k,
					     DP_EP_F_ENFORCE_INGRESS | DP_EP_F_ENFORCE_EGRESS);
	}
out:
	free(ipc);
	free(l.e);
	return err;
}

static int count_key(const struct dp_policy_row *r, void *ctx)
{
	(void)r;
	(*(uint32_t *)ctx)++;
	return 0;
}

int pktdp_open(enum pktdp_mode mode, uint32_t entries, uint32_t conntrack_max, struct pktdp **out,
	       char *why, size_t whylen)
{
	struct pktdp *p = calloc(1, sizeof(*p));
	struct dp_load_opts lo = {
	    .mode = mode == PKTDP_GATEWAY ? DP_MODE_GATEWAY : DP_MODE_WORKLOAD,
	    .identity = PKTDP_LOCAL_ID,
	    .ipcache_max = 2 * entries + 1024,
	    /* exact keys: ~2.2 per identity; trie keys: range blocks + UDP denies */
	    .policy_max = 3 * entries + 1024,
	    .conntrack_max = conntrack_max,
	    /* Events are part of a verdict's cost: keep the default rate limit. */
	    .events_per_second = 10000,
	};
	int err;

	if (!p)
		return -ENOMEM;
	for (int i = 0; i < PKTDP_PROGS; i++)
		p->prog_fd[i] = -1;
	snprintf(p->bpffs, sizeof(p->bpffs), "/sys/fs/bpf/pp-dpbench-%d-%u-%c", (int)getpid(),
		 entries, mode == PKTDP_GATEWAY ? 'g' : 'w');
	lo.bpffs = p->bpffs;
	err = dp_load(&lo);
	if (err) {
		snprintf(why, whylen, "dp_load(%s): %s", p->bpffs, strerror(-err));
		goto fail;
	}
	p->loaded = true;
	err = dp_open(p->bpffs, &p->dp);
	if (err) {
		snprintf(why, whylen, "dp_open(%s): %s", p->bpffs, strerror(-err));
		goto fail;
	}
	err = mode == PKTDP_GATEWAY ? fill_gateway(p, entries, why, whylen)
				    : fill_workload(p, entries, why, whylen);
	if (err)
		goto fail;
	dp_policy_foreach(p->dp, count_key, &p->policy_keys);
	*out = p;
	return 0;
fail:
	pktdp_close(p);
	return err;
}

int pktdp_prog_fd(struct pktdp *p, const char *name)
{
	int i;

	for (i = 0; i < PKTDP_PROGS && p->prog_fd[i] >= 0; i++)
		if (!strcmp(p->prog_name[i], name))
			return p->prog_fd[i];
	if (i == PKTDP_PROGS)
		return -ENOSPC;
	p->prog_fd[i] = dp_prog_fd(p->bpffs, name);
	snprintf(p->prog_name[i], sizeof(p->prog_name[i]), "%s", name);
	return p->prog_fd[i];
}

int pktdp_count(struct pktdp *p, uint8_t dir, uint8_t reason, uint64_t *packets)
{
	struct dp_metric m[DP_METRICS_SLOTS];
	int err = dp_metrics_read(p->dp, m);

	if (!err)
		*packets = m[dir * DP_REASON_MAX + reason].packets;
	return err;
}

int pktdp_clear_map(struct pktdp *p, const char *name, size_t key_size)
{
	int fd = dp_map_fd(p->dp, name);
	uint8_t key[64];

	if (fd < 0)
		return fd;
	if (key_size > sizeof(key))
		return -EINVAL;
	/* Always delete the first key: deleting while walking would skip entries. */
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	return 0;
}

uint32_t pktdp_policy_keys(const struct pktdp *p)
{
	return p->policy_keys;
}

void pktdp_close(struct pktdp *p)
{
	if (!p)
		return;
	for (int i = 0; i < PKTDP_PROGS; i++)
		if (p->prog_fd[i] >= 0)
			close(p->prog_fd[i]);
	dp_close(p->dp);
	if (p->loaded)
		dp_unload(p->bpffs);
	free(p);
}

// SPDX-License-Identifier: GPL-2.0-only
/* pkt_dp: see pkt_dp.h. Built only when the tree has the datapath library (pp_datapath). */
#include "bench/datapath/pkt_dp.h"

#include "bpf/dp.h"
#include "lib/policy_entry.h"

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pktdp {
	char bpffs[96];
	struct dp *dp;
	int prog_fd;
	bool loaded;
};

static int fill(struct pktdp *p, uint32_t entries, int family, char *why, size_t whylen)
{
	struct dp_ipcache_entry *ipc = calloc(entries, sizeof(*ipc));
	struct policy_entry *pol = calloc(entries, sizeof(*pol));
	int err = -ENOMEM;

	if (!ipc || !pol)
		goto out;
	for (uint32_t i = 0; i < entries; i++) {
		ipc[i].family = (uint8_t)family;
		ipc[i].plen = family == 6 ? 128 : 32;
		pktdp_remote_addr(family, i, ipc[i].addr);
		ipc[i].identity = pktdp_identity(i);
		pol[i] = (struct policy_entry){
		    .identity = pktdp_identity(i),
		    .direction = POLICY_INGRESS,
		    .proto = IPPROTO_TCP,
		    .port_lo = PKTDP_PORT,
		    .port_hi = PKTDP_PORT,
		    .rule_id = i + 1,
		};
	}
	err = dp_ipcache_apply(p->dp, ipc, entries, NULL, 0);
	if (err) {
		snprintf(why, whylen, "dp_ipcache_apply(%u entries): %s", entries, strerror(-err));
		goto out;
	}
	err = dp_policy_apply(p->dp, PKTDP_LOCAL_ID, pol, entries, NULL, 0);
	if (err) {
		snprintf(why, whylen, "dp_policy_apply(%u entries): %s", entries, strerror(-err));
		goto out;
	}
	/* With enforcement off the policy map would not even be looked up. */
	err = dp_endpoint_set(p->dp, PKTDP_LOCAL_ID, DP_EP_F_ENFORCE_INGRESS);
	if (err)
		snprintf(why, whylen, "dp_endpoint_set: %s", strerror(-err));
out:
	free(ipc);
	free(pol);
	return err;
}

int pktdp_open(uint32_t entries, int family, uint32_t conntrack_max, struct pktdp **out, char *why,
	       size_t whylen)
{
	struct pktdp *p = calloc(1, sizeof(*p));
	struct dp_load_opts lo = {
	    .mode = DP_MODE_WORKLOAD,
	    .identity = PKTDP_LOCAL_ID,
	    .ipcache_max = entries + 16,
	    .policy_max = entries + 16,
	    .conntrack_max = conntrack_max,
	    /* Events are part of a verdict's cost: keep the default rate limit. */
	    .events_per_second = 10000,
	};
	int err;

	if (!p)
		return -ENOMEM;
	p->prog_fd = -1;
	snprintf(p->bpffs, sizeof(p->bpffs), "/sys/fs/bpf/pp-dpbench-%d-%u-v%d", (int)getpid(),
		 entries, family);
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
	err = fill(p, entries, family, why, whylen);
	if (err)
		goto fail;
	p->prog_fd = dp_prog_fd(p->bpffs, "dp_ingress_eth");
	if (p->prog_fd < 0) {
		err = p->prog_fd;
		snprintf(why, whylen, "dp_prog_fd(dp_ingress_eth): %s", strerror(-err));
		goto fail;
	}
	*out = p;
	return 0;
fail:
	pktdp_close(p);
	return err;
}

int pktdp_prog_fd(const struct pktdp *p)
{
	return p->prog_fd;
}

int pktdp_path_counts(struct pktdp *p, uint64_t *new_flows, uint64_t *established, uint64_t *denied)
{
	struct dp_metric m[DP_METRICS_SLOTS];
	int err = dp_metrics_read(p->dp, m);

	if (err)
		return err;
	*new_flows = m[DP_DIR_INGRESS * DP_REASON_MAX + DP_OK_POLICY].packets;
	*established = m[DP_DIR_INGRESS * DP_REASON_MAX + DP_OK_CT_ESTABLISHED].packets;
	*denied = m[DP_DIR_INGRESS * DP_REASON_MAX + DP_DROP_POLICY].packets;
	return 0;
}

void pktdp_close(struct pktdp *p)
{
	if (!p)
		return;
	if (p->prog_fd >= 0)
		close(p->prog_fd);
	dp_close(p->dp);
	if (p->loaded)
		dp_unload(p->bpffs);
	free(p);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * empty.bpf.c: the floor of the per-packet benchmark — a tc (clsact, direct action)
 * program that does nothing and lets every packet through. Whatever BPF_PROG_TEST_RUN
 * reports for it is the cost of the test harness itself (skb set-up excluded, timer
 * reads and the program call included), so the datapath's figures are read against it.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int dpbench_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

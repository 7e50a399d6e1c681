// SPDX-License-Identifier: GPL-2.0-only
/* dp_testrun: see dp_testrun.h. */
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpf/dp_testrun.h"

int dp_test_run(int prog_fd, const void *pkt, size_t len, uint32_t repeat, void *out,
		size_t out_cap, struct dp_test_result *res)
{
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = out ? (__u32)out_cap : 0,
			    .repeat = repeat ? repeat : 1);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	res->retval = opts.retval;
	res->ns = opts.duration;
	res->out_len = out ? opts.data_size_out : 0;
	return 0;
}

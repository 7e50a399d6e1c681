// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the kernel WireGuard backend's reply parsers (tunnel/wg_kernel.h): the input is a
 * stream of netlink messages, as one recv() of a WG_CMD_GET_DEVICE dump returns them, each
 * fed to wg_kernel_parse_device_msg() into one accumulating dump (so split-peer merging is
 * exercised too) and to wg_kernel_parse_family_id().
 */
#include <libmnl/libmnl.h>
#include <stdint.h>
#include <string.h>

#include "tunnel/wg_kernel_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The kernel hands us 4-byte aligned buffers; so does this harness. */
	static uint32_t buf[65536 / 4];
	struct wg_kernel_dump d = {0};
	size_t off = 0;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	/* Walk by hand: mnl_nlmsg_ok() casts nlmsg_len to int, so a length above 2^31 would
	 * pass it (the kernel never sends one; fuzzers do). */
	while (off + sizeof(struct nlmsghdr) <= size) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)((uint8_t *)buf + off);

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > size - off)
			break;
		(void)wg_kernel_parse_device_msg(nlh, &d);
		(void)wg_kernel_parse_family_id(nlh);
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	wg_kernel_dump_free(&d);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * nl: one netlink request/reply loop for rtnetlink and generic netlink (see nl.h).
 * The control messages are handled here rather than by mnl_cb_run()'s defaults because
 * those drop the extended-ack text and the error a failing dump puts in NLMSG_DONE.
 */
#include "tunnel/nl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

/* libmnl's advice for dump replies (MNL_SOCKET_DUMP_SIZE in newer libmnl). */
#define NL_RECV_BUF 32768

struct talk {
	int error;	      /* -errno from an NLMSG_ERROR / NLMSG_DONE, 0 = none */
	char msg[NL_MSG_MAX]; /* extended-ack text, if the kernel sent one */
	mnl_cb_t data_cb;
	void *data;
};

static int talk_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->data_cb ? t->data_cb(nlh, t->data) : MNL_CB_OK;
}

static int ext_ack_cb(const struct nlattr *attr, void *data)
{
	struct talk *t = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(t->msg, sizeof(t->msg), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int talk_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		t->error = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP; /* the ACK */
	t->error = e->error < 0 ? e->error : -e->error;
	/* Extended ack: TLVs follow the echoed request (or only its header when capped). */
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += MNL_ALIGN(e->msg.nlmsg_len) - sizeof(struct nlmsghdr);
		if (off < mnl_nlmsg_get_payload_len(nlh))
			mnl_attr_parse(nlh, (unsigned int)off, ext_ack_cb, t);
	}
	return MNL_CB_ERROR;
}

static int talk_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	int err;

	/* A dump that fails part-way reports its error in NLMSG_DONE's payload. */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			t->error = err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int talk_noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int talk_overrun_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	((struct talk *)data)->error = -ENOBUFS;
	return MNL_CB_ERROR;
}

struct mnl_socket *nl_open(int bus)
{
	struct mnl_socket *s = mnl_socket_open(bus);
	int one = 1;

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(s);
		errno = e;
		return NULL;
	}
	/* Best effort: older kernels lack them and still work, with terser errors. */
	mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof(one));
	return s;
}

static int send_request(struct mnl_socket *s, const struct nlmsghdr *nlh)
{
	while (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Reads replies into buf until the request's ACK, error or end of dump. */
static int read_replies(struct mnl_socket *s, const struct nlmsghdr *nlh, char *buf, struct talk *t)
{
	/* Not const: mnl_cb_run2() takes a non-const array. */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_NOOP] = talk_noop_cb,
	    [NLMSG_ERROR] = talk_error_cb,
	    [NLMSG_DONE] = talk_done_cb,
	    [NLMSG_OVERRUN] = talk_overrun_cb,
	};
	uint32_t portid = mnl_socket_get_portid(s);

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, buf, NL_RECV_BUF);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		errno = 0;
		r = mnl_cb_run2(buf, (size_t)n, nlh->nlmsg_seq, portid, talk_data_cb, t, ctl,
				NLMSG_MIN_TYPE);
		if (r == MNL_CB_ERROR)
			return t->error ? t->error : (errno ? -errno : -EBADMSG);
		if (r == MNL_CB_STOP)
			return 0;
	}
}

int nl_talk(struct mnl_socket *s, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data, char *msg,
	    size_t msg_len)
{
	struct talk t = {.data_cb = cb, .data = data};
	char *buf;
	int ret;

	if (msg_len)
		msg[0] = '\0';
	buf = malloc(NL_RECV_BUF);
	if (!buf)
		return -ENOMEM;
	ret = send_request(s, nlh);
	if (ret == 0)
		ret = read_replies(s, nlh, buf, &t);
	if (msg_len && t.msg[0])
		snprintf(msg, msg_len, "%s", t.msg);
	free(buf);
	return ret;
}

struct nlmsghdr *nl_start(char *buf, size_t len, int type, int flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	return nlh;
}

int nl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char msg[NL_MSG_MAX];
	struct mnl_socket *s = nl_open(NETLINK_ROUTE);
	int rc;

	if (!s)
		return -errno;
	rc = nl_talk(s, nlh, cb, data, msg, sizeof(msg));
	if (rc && msg[0])
		log_debug("rtnetlink: %s: kernel says: %s", strerror(-rc), msg);
	mnl_socket_close(s);
	return rc;
}

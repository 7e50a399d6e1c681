// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-dpbench-load: the real-traffic load of the datapath benchmark, with MANY flows.
 *
 *   pp-dpbench-load serve --addr IP --port P          TCP server: per connection, answers
 *                                                      every 64-byte request with 64 bytes
 *                                                      until the peer closes
 *   pp-dpbench-load sink --addr IP --port P --expect N --quiet-ms MS [--wait-ms MS]
 *                                                      UDP sink: counts datagrams until N
 *                                                      arrived, none came for --quiet-ms
 *                                                      after one did, or none at all in
 *                                                      --wait-ms (30 s); prints the count
 *   pp-dpbench-load crr --dst IP --port P --src IP --sources N --count C --max-seconds T
 *                                                      TCP connect / 64-byte request /
 *                                                      response / close, C times, source
 *                                                      address src + (k mod N): every
 *                                                      connection a new flow of one of the
 *                                                      N identities (netperf TCP_CRR)
 *   pp-dpbench-load udp --dst IP --port P --src IP --sources N --sockets K --count C
 *                       --max-seconds T               64-byte datagrams, source address
 *                                                      src + (k mod N), source port one of
 *                                                      K sockets': N x K flows
 *   pp-dpbench-load rr --dst IP --port P --src IP --count C --max-seconds T
 *                                                      one connection, C transactions of
 *                                                      64 bytes each way (netperf TCP_RR)
 *
 * The client modes print one JSON object: ops done, seconds, the CPU time of this process
 * and of the --peer-pid processes (server, sink; at most 2) over the run from
 * /proc/PID/schedstat — which includes the softirq work done in their context, where veth
 * runs the receive path and the filters — and, as a cross-check, the machine's busy time
 * from /proc/stat (every CPU, but also every other process on the machine).
 * Sources are bound addresses: the client namespace routes the source range to itself
 * (`ip route add local RANGE dev lo`), so nothing outside the benchmark's namespaces is
 * ever addressed. Bounded in count and in time (--max-seconds). Exit 0, 1 on failure, 2 on
 * usage errors.
 */
#include "bench/datapath/cpustat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MSG	    64
#define UDP_BATCH   64
#define MAX_SOCKETS 64

struct lopts {
	struct in_addr addr, dst, src;
	uint16_t port;
	uint32_t sources, sockets, count, expect, quiet_ms, wait_ms;
	double max_seconds;
};

static int usage(void)
{
	fprintf(stderr, "usage: pp-dpbench-load serve|sink|crr|udp|rr [options] (see the source "
			"header or bench/datapath/README.md)\n");
	return 2;
}

static struct sockaddr_in sin_of(struct in_addr a, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = a};

	return s;
}

static bool full_io(int fd, char *buf, bool rd)
{
	size_t done = 0;

	while (done < MSG) {
		ssize_t n =
		    rd ? read(fd, buf + done, MSG - done) : write(fd, buf + done, MSG - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static int cmd_serve(const struct lopts *o)
{
	struct sockaddr_in a = sin_of(o->addr, o->port);
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[MSG];

	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 4096)) {
		perror("pp-dpbench-load serve");
		return 1;
	}
	for (;;) {
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			return 1;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (full_io(c, buf, true) && full_io(c, buf, false))
			;
		close(c);
	}
}

static int cmd_sink(const struct lopts *o)
{
	struct sockaddr_in a = sin_of(o->addr, o->port);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rcvbuf = 8 << 20;
	static char bufs[UDP_BATCH][MSG + 64];
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	uint64_t got = 0;

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("pp-dpbench-load sink");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof(bufs[i])};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	while (got < o->expect) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		/* before the first datagram: wait up to --wait-ms for the sender to start */
		int r = poll(&p, 1, (int)(got ? o->quiet_ms : o->wait_ms)), n;

		if (r <= 0)
			break;
		n = recvmmsg(s, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			got += (uint64_t)n;
	}
	printf("{\"received\":%llu}\n", (unsigned long long)got);
	return 0;
}

/* Tasks whose CPU time counts: this process and the --peer-pid ones (server, sink). */
static int peer_pids[2];
static int n_peer_pids;

static uint64_t tasks_ns(void)
{
	uint64_t sum = 0, ns;

	if (!cpustat_task_ns(0, &ns))
		sum += ns;
	for (int i = 0; i < n_peer_pids; i++)
		if (!cpustat_task_ns(peer_pids[i], &ns))
			sum += ns;
	return sum;
}

struct run {
	struct cpustat c0;
	uint64_t t0, task0;
};

static void run_start(struct run *r)
{
	cpustat_read(&r->c0);
	r->task0 = tasks_ns();
	r->t0 = cpustat_now_ns();
}

static void run_report(const char *test, const struct run *r, uint64_t ops, uint64_t failed,
		       const struct lopts *o)
{
	struct cpustat c1;
	uint64_t t1 = cpustat_now_ns(), task1 = tasks_ns();

	cpustat_read(&c1);
	printf("{\"test\":\"%s\",\"ops\":%llu,\"failed\":%llu,\"seconds\":%.6f,"
	       "\"task_cpu_s\":%.6f,\"busy_cpu_s\":%.4f,\"sources\":%u,\"sockets\":%u}\n",
	       test, (unsigned long long)ops, (unsigned long long)failed, (t1 - r->t0) / 1e9,
	       (task1 - r->task0) / 1e9, (c1.busy_ns - r->c0.busy_ns) / 1e9, o->sources,
	       o->sockets);
}

static bool timed_out(const struct run *r, const struct lopts *o)
{
	return (cpustat_now_ns() - r->t0) / 1e9 > o->max_seconds;
}

static struct in_addr src_of(const struct lopts *o, uint64_t k)
{
	struct in_addr a = {htonl(ntohl(o->src.s_addr) + (uint32_t)(k % o->sources))};

	return a;
}

/* A dropped SYN or segment must fail the run in seconds, not hang it for minutes. */
static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = 3};

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* One connection: connect from src, one request/response, close. */
static bool crr_once(const struct lopts *o, struct in_addr src)
{
	struct sockaddr_in s = sin_of(src, 0), d = sin_of(o->dst, o->port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[MSG];
	bool ok;

	memset(buf, 'q', sizeof(buf));
	if (fd < 0)
		return false;
	set_timeouts(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ok = !bind(fd, (struct sockaddr *)&s, sizeof(s)) &&
	     !connect(fd, (struct sockaddr *)&d, sizeof(d)) && full_io(fd, buf, false) &&
	     full_io(fd, buf, true);
	close(fd);
	return ok;
}

static int cmd_crr(const struct lopts *o)
{
	uint64_t done = 0, failed = 0;
	struct run r;

	run_start(&r);
	for (uint64_t k = 0; k < o->count && !timed_out(&r, o); k++) {
		if (crr_once(o, src_of(o, k)))
			done++;
		else if (++failed > 100)
			break;
	}
	run_report("crr", &r, done, failed, o);
	return failed > 100 ? 1 : 0;
}

static int cmd_rr(const struct lopts *o)
{
	struct sockaddr_in s = sin_of(o->src, 0), d = sin_of(o->dst, o->port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint64_t done = 0;
	char buf[MSG];
	struct run r;

	memset(buf, 'q', sizeof(buf));
	if (fd >= 0)
		set_timeouts(fd);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s, sizeof(s)) ||
	    connect(fd, (struct sockaddr *)&d, sizeof(d))) {
		perror("pp-dpbench-load rr: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	run_start(&r);
	while (done < o->count && !timed_out(&r, o) && full_io(fd, buf, false) &&
	       full_io(fd, buf, true))
		done++;
	run_report("rr", &r, done, o->count - done, o);
	close(fd);
	return 0;
}

static int cmd_udp(const struct lopts *o)
{
	static char payload[MSG];
	struct sockaddr_in d = sin_of(o->dst, o->port);
	char ctl[UDP_BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov = {.iov_base = payload, .iov_len = MSG};
	int fds[MAX_SOCKETS];
	uint64_t sent = 0, k = 0;
	struct run r;

	memset(payload, 'u', sizeof(payload));
	for (uint32_t i = 0; i < o->sockets; i++) {
		struct sockaddr_in any = sin_of((struct in_addr){INADDR_ANY}, 0);

		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&any, sizeof(any))) {
			perror("pp-dpbench-load udp: socket");
			return 1;
		}
	}
	run_start(&r);
	while (sent < o->count && !timed_out(&r, o)) {
		/* one batch per socket, the batch's datagrams from successive sources */
		int fd = fds[(k / o->sources) % o->sockets], n = UDP_BATCH;

		if (o->count - sent < UDP_BATCH)
			n = (int)(o->count - sent);
		for (int i = 0; i < n; i++, k++) {
			struct msghdr *h = &msgs[i].msg_hdr;
			struct cmsghdr *c;
			struct in_pktinfo pi = {.ipi_spec_dst = src_of(o, k)};

			memset(&msgs[i], 0, sizeof(msgs[i]));
			h->msg_name = &d;
			h->msg_namelen = sizeof(d);
			h->msg_iov = &iov;
			h->msg_iovlen = 1;
			h->msg_control = ctl[i];
			h->msg_controllen = sizeof(ctl[i]);
			c = CMSG_FIRSTHDR(h);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		}
		n = sendmmsg(fd, msgs, (unsigned)n, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			perror("pp-dpbench-load udp: sendmmsg");
			return 1;
		}
		sent += (uint64_t)n;
	}
	run_report("udp", &r, sent, 0, o);
	return 0;
}

static bool parse_addr(const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) == 1)
		return true;
	fprintf(stderr, "pp-dpbench-load: '%s' is not an IPv4 address\n", s);
	return false;
}

static bool parse_num(const char *name, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s && !*end && v >= lo && v <= hi) {
		*out = (uint32_t)v;
		return true;
	}
	fprintf(stderr, "pp-dpbench-load: --%s '%s': expected %u..%u\n", name, s, lo, hi);
	return false;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"addr", required_argument, 0, 'a'},
	    {"dst", required_argument, 0, 'd'},
	    {"src", required_argument, 0, 's'},
	    {"port", required_argument, 0, 'p'},
	    {"sources", required_argument, 0, 'n'},
	    {"sockets", required_argument, 0, 'k'},
	    {"count", required_argument, 0, 'c'},
	    {"expect", required_argument, 0, 'e'},
	    {"quiet-ms", required_argument, 0, 'q'},
	    {"max-seconds", required_argument, 0, 't'},
	    {"wait-ms", required_argument, 0, 'w'},
	    {"peer-pid", required_argument, 0, 'P'},
	    {0, 0, 0, 0},
	};
	struct lopts o = {.sources = 1,
			  .sockets = 1,
			  .count = 1000,
			  .quiet_ms = 300,
			  .wait_ms = 30000,
			  .max_seconds = 10};
	uint32_t port = 0, secs = 10;
	const char *cmd;
	bool ok = true;
	int c;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while (ok && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			ok = parse_addr(optarg, &o.addr);
			break;
		case 'd':
			ok = parse_addr(optarg, &o.dst);
			break;
		case 's':
			ok = parse_addr(optarg, &o.src);
			break;
		case 'p':
			ok = parse_num("port", optarg, 1, 65535, &port);
			break;
		case 'n':
			ok = parse_num("sources", optarg, 1, 1 << 20, &o.sources);
			break;
		case 'k':
			ok = parse_num("sockets", optarg, 1, MAX_SOCKETS, &o.sockets);
			break;
		case 'c':
			ok = parse_num("count", optarg, 1, 100000000, &o.count);
			break;
		case 'e':
			ok = parse_num("expect", optarg, 1, 100000000, &o.expect);
			break;
		case 'q':
			ok = parse_num("quiet-ms", optarg, 10, 60000, &o.quiet_ms);
			break;
		case 't':
			ok = parse_num("max-seconds", optarg, 1, 600, &secs);
			break;
		case 'w':
			ok = parse_num("wait-ms", optarg, 10, 600000, &o.wait_ms);
			break;
		case 'P': {
			uint32_t pid = 0;

			ok = n_peer_pids < 2 && parse_num("peer-pid", optarg, 1, 1 << 22, &pid);
			if (ok)
				peer_pids[n_peer_pids++] = (int)pid;
			break;
		}
		default:
			return usage();
		}
	}
	if (!ok || optind != argc || !port)
		return usage();
	o.port = (uint16_t)port;
	o.max_seconds = secs;
	if (!strcmp(cmd, "serve"))
		return cmd_serve(&o);
	if (!strcmp(cmd, "sink"))
		return cmd_sink(&o);
	if (!strcmp(cmd, "crr"))
		return cmd_crr(&o);
	if (!strcmp(cmd, "udp"))
		return cmd_udp(&o);
	if (!strcmp(cmd, "rr"))
		return cmd_rr(&o);
	return usage();
}

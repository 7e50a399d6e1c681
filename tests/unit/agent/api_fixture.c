// SPDX-License-Identifier: GPL-2.0-only
/*
 * api_fixture: the API server and metrics listener with fixture state, driven by one poll
 * loop exactly as pseudopodd will drive them (api.h / metrics.h contracts): the fds, the
 * timeouts, run when ready; signals through a signalfd. test_cli_api.sh runs the real
 * `pseudopod` binary against it.
 *
 *   api_fixture SOCKET METRICS_ADDRESS [RING]
 * RING (for measurements): a ring of that many records, filled with copies of the
 * fixture events.
 * prints "ready metrics-port=N" once both listen. SIGUSR1 adds one new flow (web -> db
 * :5432 with a fresh source port) for --follow; SIGUSR2 makes /healthz fail ("store not
 * synced"); SIGTERM/SIGINT stop it (socket removed).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "agent/api.h"
#include "agent/flows.h"
#include "agent/metrics.h"
#include "tests/unit/agent/fixtures.h"

static bool healthy = true;

static bool health(char *why, size_t len, void *ctx)
{
	if (!healthy)
		snprintf(why, len, "store not synced");
	return healthy;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void add_live_flow(struct flows *f, uint16_t n)
{
	struct dp_event e = fixture_event(0);
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	e.sport = htons((uint16_t)(50000 + n));
	e.ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	flows_add(f, &e, flows_event_time(e.ts_ns));
}

static int serve(struct api_server *api, struct metrics_server *ms, struct flows *f, int sfd)
{
	struct signalfd_siginfo si;
	uint16_t live = 0;

	for (;;) {
		struct pollfd fds[3] = {{.fd = api_server_fd(api), .events = POLLIN},
					{.fd = metrics_server_fd(ms), .events = POLLIN},
					{.fd = sfd, .events = POLLIN}};
		int timeout =
		    min_timeout(api_server_timeout_ms(api), metrics_server_timeout_ms(ms));

		if (poll(fds, 3, timeout) < 0 && errno != EINTR)
			return -errno;
		api_server_run(api);
		metrics_server_run(ms);
		if (!(fds[2].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGUSR1)
			add_live_flow(f, live++);
		else if (si.ssi_signo == SIGUSR2)
			healthy = false;
		else
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct api_server_opts opts = {.socket_path = argc > 1 ? argv[1] : NULL, .body_max = 4096};
	struct api_server *api = NULL;
	struct metrics_server *ms = NULL;
	struct metrics *m = NULL;
	struct flows *f = NULL;
	sigset_t set;
	uint32_t ring = argc == 4 ? (uint32_t)strtoul(argv[3], NULL, 10) : FIXTURE_N_EVENTS;
	int err, sfd;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: api_fixture SOCKET METRICS_ADDRESS [RING]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	err = sfd < 0 ? -errno : 0;
	if (!err)
		err = flows_new(ring, &fixture_lookup, &f);
	for (uint32_t i = 0; !err && i < ring; i += FIXTURE_N_EVENTS)
		fixture_fill(f);
	if (!err) {
		err = metrics_new(&m);
	}
	if (!err)
		err = metrics_set(m, "pseudopod_enrolled", NULL, 1);
	if (!err)
		err = api_server_new(&opts, &api);
	if (!err)
		err = api_v1_register(api, &fixture_ops, f);
	if (!err)
		err = api_server_listen(api);
	if (!err)
		err = metrics_server_start(m, argv[2], health, NULL, &ms);
	if (err) {
		fprintf(stderr, "api_fixture: %s\n", strerror(-err));
		goto out;
	}
	printf("ready metrics-port=%d\n", metrics_server_port(ms));
	fflush(stdout);
	err = serve(api, ms, f, sfd);
out:
	metrics_server_stop(ms);
	api_server_free(api);
	metrics_free(m);
	flows_free(f);
	if (sfd >= 0)
		close(sfd);
	return err ? 1 : 0;
}

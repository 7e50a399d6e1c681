// SPDX-License-Identifier: GPL-2.0-only
/*
 * tunnel_supervisor: supervise wireguard-go -> relink -> fail-over, one tick at a time
 * (see supervisor.h). A timerfd gives poll-loop callers an fd to wait on, so the daemon
 * needs no thread and no extra timer of its own for the tunnel.
 */
#include "tunnel/supervisor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "tunnel/gateways.h"
#include "tunnel/link.h"
#include "tunnel/wg.h"

struct tunnel_supervisor {
	struct tunnel_supervisor_cfg cfg;
	int timer_fd;
	int64_t last_poll_s; /* fail-over polls at most once per second */
};

int tunnel_supervisor_open(struct tunnel_supervisor **out, const struct tunnel_supervisor_cfg *cfg)
{
	struct tunnel_supervisor *s;
	struct itimerspec its = {0};
	uint32_t ms;

	*out = NULL;
	if (!cfg->dev)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	ms = cfg->interval_ms ? cfg->interval_ms : TUNNEL_SUPERVISOR_INTERVAL_MS;
	s->cfg.interval_ms = ms;
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timer_fd < 0) {
		int rc = -errno;

		free(s);
		return rc;
	}
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(s->timer_fd, 0, &its, NULL) < 0) {
		int rc = -errno;

		tunnel_supervisor_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int tunnel_supervisor_fd(const struct tunnel_supervisor *s)
{
	return s->timer_fd;
}

int tunnel_supervisor_timeout_ms(const struct tunnel_supervisor *s)
{
	struct itimerspec its;

	if (timerfd_gettime(s->timer_fd, &its) < 0)
		return (int)s->cfg.interval_ms;
	return (int)(its.it_value.tv_sec * 1000 + its.it_value.tv_nsec / 1000000);
}

/* A new wireguard-go means a new TUN device: put the link back. */
static unsigned supervise(struct tunnel_supervisor *s)
{
	struct wg_device *dev = s->cfg.dev;
	const char *ifname = s->cfg.link ? s->cfg.link->ifname : "wireguard";
	int rc = wg_device_supervise(dev);

	if (rc < 0 && rc != -EAGAIN)
		log_warn("%s: supervision: %s", ifname, wg_device_error(dev));
	if (rc != 1)
		return 0;
	if (!s->cfg.link)
		return TUNNEL_SUPERVISOR_RELINKED;
	rc = tunnel_link_configure(s->cfg.link);
	if (rc < 0) {
		log_warn("%s: re-applying the link after a restart: %s", ifname, strerror(-rc));
		return 0;
	}
	log_info("%s: link configuration re-applied", ifname);
	return TUNNEL_SUPERVISOR_RELINKED;
}

static unsigned fail_over(struct tunnel_supervisor *s, int64_t now_s)
{
	struct tunnel_gateways *g = s->cfg.gws;
	const char *ifname = s->cfg.link ? s->cfg.link->ifname : "wireguard";
	size_t before;
	int rc;

	if (!g || !g->n || now_s == s->last_poll_s)
		return 0;
	s->last_poll_s = now_s;
	before = g->fo.active;
	rc = tunnel_gateways_poll(s->cfg.dev, g, now_s);
	if (rc < 0) {
		log_warn("%s: fail-over poll: %s (retried next poll)", ifname,
			 wg_device_error(s->cfg.dev));
		return 0;
	}
	if (rc != 1)
		return 0;
	log_info("%s: fail-over: gateway %zu is now active (was %zu, switch %u)", ifname,
		 g->fo.active, before, g->fo.switches);
	return TUNNEL_SUPERVISOR_SWITCHED;
}

unsigned tunnel_supervisor_tick(struct tunnel_supervisor *s, int64_t now_s)
{
	uint64_t expirations;

	/* Drain the timer so a poll on it blocks until the next interval; EAGAIN (an early
	 * tick) is fine. */
	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_debug("tunnel supervisor timer: %s", strerror(errno));
	return supervise(s) | fail_over(s, now_s);
}

void tunnel_supervisor_close(struct tunnel_supervisor *s)
{
	if (!s)
		return;
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	free(s);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopodd's workload mode: the start-up order, the signals and the shutdown. Each part
 * lives in its own file (daemon_internal.h lists them); this one decides what runs when.
 *
 * Start-up order, and why:
 *   1. signals (signalfd) and the enrollment state: who this machine is;
 *   2. the local API and metrics, so `pseudopod status` answers during everything below;
 *   3. the tunnel device (adopted when it exists: wireguard-go keeps running);
 *   4. the datapath: adopt this machine's pins (they enforce the last policy while we
 *      start) or load fresh maps — fresh maps are NOT attached until they hold a policy;
 *   5. the first policy state: the store (snapshot sync, a diff against the maps), else
 *      the persisted snapshot when the pins were lost, else fail-mode closed;
 *   6. attach, READY=1, then the watch and the timers.
 * Shutdown (SIGTERM/SIGINT) undoes none of 3-6: the pins and the attachment keep
 * enforcing, the tunnel keeps carrying traffic; only the alive lease is revoked.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/daemon.h"
#include "agent/daemon_internal.h"
#include "lib/log.h"

#define DAEMON_SNAPSHOT_MIN_MS 2000

static int on_snapshot_timer(void *ctx);

/* The snapshot is written DAEMON_SNAPSHOT_MIN_MS after a store change is applied (one
 * write for a burst of changes), by a one-shot timer: nothing wakes an idle daemon. */
static void snapshot_due(struct daemon *d)
{
	if (d->snapshot_armed)
		return;
	if (d->snapshot_timer < 0)
		d->snapshot_timer = daemon_loop_timer_add(
		    d->loop, "snapshot", DAEMON_SNAPSHOT_MIN_MS, 0, on_snapshot_timer, d);
	else
		daemon_loop_timer_arm(d->loop, d->snapshot_timer, DAEMON_SNAPSHOT_MIN_MS);
	d->snapshot_armed = d->snapshot_timer >= 0;
}

void daemon_applied(struct daemon *d, const char *source, int64_t revision)
{
	d->policy_source = source;
	d->policy_revision = revision;
	if (!strcmp(source, "store"))
		snapshot_due(d);
	if (!strcmp(source, "store"))
		d->dp.closed = false; /* the store's policy replaced the fail-closed state */
	if (d->ready)
		return;
	if (!d->dp.adopted)
		daemon_datapath_attach(d);
	d->ready = true;
	daemon_notify("READY=1\nSTATUS=policy applied");
	log_info("ready: policy from %s (revision %lld) enforced on %s", source,
		 (long long)revision, d->cfg.tunnel.device);
}

/* ---- signals ---- */

void daemon_config_reload(struct config *running, const char *path)
{
	struct config nc;
	char err[CONFIG_ERR_MAX];

	config_defaults(&nc);
	if (!config_load(&nc, path, err, sizeof(err))) {
		log_error("SIGHUP: %s (keeping the running configuration)", err);
		return;
	}
	nc.agent.mode = running->agent.mode; /* --mode given on the command line wins */
	if (nc.agent.log_level != running->agent.log_level) {
		log_set_level(nc.agent.log_level);
		log_info("SIGHUP: log-level = %s", log_level_name(nc.agent.log_level));
	}
	running->agent.log_level = nc.agent.log_level;
	if (memcmp(&nc, running, sizeof(nc)))
		log_warn("SIGHUP: %s changed beyond log-level; restart pseudopodd to apply it",
			 path);
	else
		log_info("SIGHUP: configuration re-read, unchanged");
}

static int on_signal(int fd, short revents, void *ctx)
{
	struct daemon *d = ctx;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping; the datapath keeps enforcing",
				 si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			daemon_notify("STOPPING=1");
			daemon_loop_stop(d->loop);
			break;
		case SIGHUP:
			daemon_config_reload(&d->cfg, d->config_path);
			break;
		}
	}
	return 0;
}

static int signals_open(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -errno;
	return daemon_loop_add(d->loop, &(struct daemon_loop_source){
					    .name = "signals",
					    .fd = d->sigfd,
					    .events = POLLIN,
					    .cb = on_signal,
					    .ctx = d,
					});
}

/* ---- the snapshot, written behind the applied state ---- */

static int on_snapshot_timer(void *ctx)
{
	static int64_t saved = -1;
	struct daemon *d = ctx;

	d->snapshot_armed = false;
	if (!d->ready || !d->policy_source || strcmp(d->policy_source, "store") ||
	    d->policy_revision == saved)
		return 0;
	if (daemon_snapshot_save(d) == 0)
		saved = d->policy_revision;
	else
		snapshot_due(d); /* retried, like a change */
	return 0;
}

/* ---- the first policy state ---- */

static int first_state(struct daemon *d)
{
	bool closed = d->cfg.agent.fail_mode == CONFIG_FAIL_CLOSED;
	char err[DAEMON_ERR_MAX];
	int rc = daemon_store_first_sync(d);

	if (rc == 0)
		return 0;
	/* Adopted pins are at least as new as any snapshot this machine wrote: they stay,
	 * in static mode always, in closed mode while a snapshot vouches for a known state. */
	rc = daemon_snapshot_restore(d, !d->dp.adopted, err, sizeof(err));
	if (d->dp.adopted && (rc == 0 || !closed)) {
		log_warn("store unreachable: the adopted pins keep enforcing their policy");
		daemon_applied(d, "pins", 0);
		return 0;
	}
	if (rc == 0)
		return 0;
	log_warn("store unreachable and the snapshot cannot be used (%s)", err);
	if (closed) {
		rc = daemon_datapath_fail_closed(d);
		if (rc < 0)
			return rc;
		daemon_applied(d, "fail-closed", 0);
		return 0;
	}
	log_warn("fail-mode static with nothing to enforce: the datapath stays detached "
		 "until the store answers");
	return 0;
}

/* ---- run ---- */

static int start(struct daemon *d, char *err, size_t err_len)
{
	int rc;

	rc = signals_open(d);
	if (rc < 0) {
		snprintf(err, err_len, "signals: %s", strerror(-rc));
		return rc;
	}
	rc = daemon_enroll_load(&d->enr, d->cfg.agent.state_dir, err, err_len);
	if (rc < 0)
		return rc;
	log_info("machine %s: identity %u, overlay %s", d->enr.workload.name,
		 d->enr.workload.identity, d->enr.workload.overlay_ip);
	rc = daemon_api_start(d, err, err_len);
	rc = rc ?: daemon_tunnel_up(d, err, err_len);
	rc = rc ?: daemon_datapath_up(d, err, err_len);
	if (rc < 0)
		return rc;
	if (d->dp.adopted)
		daemon_datapath_attach(d); /* replace: keeps or restores the attachment */
	rc = daemon_store_open(d, err, err_len);
	rc = rc ?: first_state(d);
	rc = rc ?: daemon_store_start(d);
	if (rc < 0) {
		if (!err[0])
			snprintf(err, err_len, "%s", strerror(-rc));
		return rc;
	}
	if (d->ready)
		snapshot_due(d); /* the first sync ran before the loop had timers */
	return 0;
}

static void stop(struct daemon *d)
{
	on_snapshot_timer(d); /* the newest applied state, if not written yet */
	daemon_store_close(d);
	daemon_api_close(d);
	daemon_datapath_close(d);
	daemon_tunnel_close(d);
	daemon_enroll_free(&d->enr);
	if (d->sigfd >= 0)
		close(d->sigfd);
	daemon_loop_free(d->loop);
}

int daemon_run(const struct config *cfg, const char *config_path, char *err, size_t err_len)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int rc;

	if (err_len)
		err[0] = '\0';
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->sigfd = -1;
	d->snapshot_timer = -1;
	d->started = time(NULL);
	snprintf(d->config_path, sizeof(d->config_path), "%s", config_path);
	log_set_level(cfg->agent.log_level);
	rc = daemon_loop_new(&d->loop);
	rc = rc ?: start(d, err, err_len);
	if (rc == 0)
		rc = daemon_loop_run(d->loop);
	if (rc < 0 && !err[0])
		snprintf(err, err_len, "%s", strerror(-rc));
	if (d->loop)
		stop(d);
	free(d);
	return rc;
}

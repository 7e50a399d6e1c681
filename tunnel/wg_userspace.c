// SPDX-License-Identifier: GPL-2.0-only
/*
 * wg_userspace: the wireguard-go backend. We start wireguard-go as our child in the
 * foreground (WG_PROCESS_FOREGROUND=1, -f), talk the UAPI text protocol (wg_uapi.c) over
 * /var/run/wireguard/IFNAME.sock, and keep a shadow of everything we set (private key,
 * port, peers) because a restarted wireguard-go starts empty: supervise() notices the
 * child died, restarts it with exponential back-off and replays the shadow.
 *
 * wireguard-go's TUN device is not persistent: when the process dies, the interface and
 * its addresses and routes die with it. supervise() therefore returns 1 after a restart
 * so the owner re-applies what lives on the link (tunnel_link_configure()).
 */
#include "tunnel/wg_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "tunnel/link.h"
#include "tunnel/wg_shadow.h"
#include "tunnel/wg_uapi.h"

#define WGU_SOCK_DIR	     "/var/run/wireguard"
#define WGU_START_TIMEOUT_MS 10000
#define WGU_IO_TIMEOUT_S     10
#define WGU_BACKOFF_MIN_MS   200
#define WGU_BACKOFF_MAX_MS   30000
#define WGU_STABLE_MS	     60000 /* a child that lived this long resets the back-off */

struct wgu {
	pid_t pid;    /* our wireguard-go child; 0 = none (adopted or dead) */
	bool adopted; /* the socket was served by a process we did not start */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int64_t started_ms, next_restart_ms;
	unsigned backoff_ms, restarts;
	struct wg_shadow shadow; /* what we set, replayed after a restart */
};

extern char **environ;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int probe_wireguard_go(const char *path, char *found, size_t found_len)
{
	const char *p;
	char dir[512];

	if (strchr(path, '/')) {
		snprintf(found, found_len, "%s", path);
		return access(path, X_OK) == 0 ? 0 : -errno;
	}
	p = getenv("PATH");
	if (!p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		size_t n = strcspn(p, ":");

		bool fits =
		    (size_t)snprintf(dir, sizeof(dir), "%.*s", (int)n, p) < sizeof(dir) &&
		    (size_t)snprintf(found, found_len, "%s/%s", n ? dir : ".", path) < found_len;

		/* An entry too long to hold a path is skipped, not truncated into another. */
		if (fits && access(found, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return -ENOENT;
}

static int wgu_probe(const char *wireguard_go_path, char *why, size_t why_len)
{
	const char *name =
	    wireguard_go_path && *wireguard_go_path ? wireguard_go_path : "wireguard-go";
	char found[512];

	if (probe_wireguard_go(name, found, sizeof(found)) == 0)
		return 0;
	snprintf(why, why_len, "'%s' was not found%s", name, strchr(name, '/') ? "" : " in PATH");
	return -ENOENT;
}

static int uapi_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = WGU_IO_TIMEOUT_S};
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one reply: everything up to and including the empty line that ends it. */
static int read_reply(int fd, char **out, size_t *out_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = errno == EAGAIN ? -ETIMEDOUT : -errno;

			free(buf);
			return rc;
		}
		if (n == 0)
			break; /* the parser reports the truncation */
		len += (size_t)n;
		if ((len == 1 && buf[0] == '\n') ||
		    (len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n'))
			break;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

/* Sends a request built in req and returns the raw reply. */
static int uapi_exchange(struct wg_device *dev, const char *req, size_t req_len, char **reply,
			 size_t *reply_len)
{
	struct wgu *u = dev->priv;
	int fd, rc;

	fd = uapi_connect(u->sock_path);
	if (fd < 0) {
		wg_device_set_error(dev, "%s: cannot reach wireguard-go at %s: %s", dev->ifname,
				    u->sock_path, strerror(-fd));
		return fd;
	}
	rc = write_all(fd, req, req_len);
	if (rc == 0)
		rc = read_reply(fd, reply, reply_len);
	if (rc < 0)
		wg_device_set_error(dev, "%s: UAPI exchange with wireguard-go failed: %s",
				    dev->ifname, strerror(-rc));
	close(fd);
	return rc;
}

/* Runs a "set=1" transaction: build() writes the items. */
static int uapi_set(struct wg_device *dev, void (*build)(FILE *, const void *), const void *arg)
{
	char *req = NULL, *reply = NULL, why[256];
	size_t req_len = 0, reply_len = 0;
	int rc, err = 0;
	FILE *f;

	f = open_memstream(&req, &req_len);
	if (!f)
		return -ENOMEM;
	fputs("set=1\n", f);
	build(f, arg);
	fputs("\n", f);
	if (fclose(f) != 0) {
		free(req);
		return -ENOMEM;
	}
	rc = uapi_exchange(dev, req, req_len, &reply, &reply_len);
	free(req);
	if (rc < 0)
		return rc;
	if (!wg_uapi_parse_errno(reply, reply_len, &err, why, sizeof(why))) {
		wg_device_set_error(dev, "%s: %s", dev->ifname, why);
		rc = -EPROTO;
	} else if (err) {
		wg_device_set_error(dev, "%s: wireguard-go refused the configuration: %s",
				    dev->ifname, wg_uapi_strerror(err));
		rc = err;
	}
	free(reply);
	return rc;
}

static void build_key(FILE *f, const void *arg)
{
	wg_uapi_format_private_key(f, arg);
}

static void build_port(FILE *f, const void *arg)
{
	wg_uapi_format_listen_port(f, *(const uint16_t *)arg);
}

static void build_peer(FILE *f, const void *arg)
{
	wg_uapi_format_peer(f, arg);
}

static void build_remove(FILE *f, const void *arg)
{
	wg_uapi_format_remove_peer(f, arg);
}

/* Everything in the shadow, in one transaction (after a restart). */
static void build_all(FILE *f, const void *arg)
{
	const struct wgu *u = arg;

	const struct wg_shadow *s = &u->shadow;

	if (s->has_key)
		wg_uapi_format_private_key(f, s->key);
	if (s->has_port)
		wg_uapi_format_listen_port(f, s->port);
	for (size_t i = 0; i < s->n_peers; i++)
		wg_uapi_format_peer(f, &s->peers[i]);
}

static int wait_socket(struct wg_device *dev, int64_t deadline)
{
	struct wgu *u = dev->priv;

	for (;;) {
		int fd = uapi_connect(u->sock_path), status;

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (u->pid > 0 && waitpid(u->pid, &status, WNOHANG) == u->pid) {
			u->pid = 0;
			wg_device_set_error(
			    dev, "%s: wireguard-go exited (%s %d) before opening %s", dev->ifname,
			    WIFEXITED(status) ? "status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			    u->sock_path);
			return -ECHILD;
		}
		if (now_ms() > deadline) {
			wg_device_set_error(dev, "%s: wireguard-go did not open %s within %d ms",
					    dev->ifname, u->sock_path, WGU_START_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		usleep(20000);
	}
}

static void stop_child(struct wgu *u)
{
	int status;

	if (u->pid <= 0)
		return;
	kill(u->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(u->pid, &status, WNOHANG) == u->pid) {
			u->pid = 0;
			return;
		}
		usleep(20000);
	}
	kill(u->pid, SIGKILL);
	waitpid(u->pid, &status, 0);
	u->pid = 0;
}

static int spawn(struct wg_device *dev)
{
	struct wgu *u = dev->priv;
	char *argv[] = {dev->wireguard_go, "-f", dev->ifname, NULL};
	char **envp;
	size_t n = 0;
	int pfd[2], child_errno = 0, rc;
	ssize_t got;
	pid_t pid;

	/* Build the child's environment before fork: only async-signal-safe calls after. */
	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	envp[0] = "WG_PROCESS_FOREGROUND=1";
	for (size_t i = 0, j = 1; i < n; i++)
		if (strncmp(environ[i], "WG_PROCESS_FOREGROUND=", 22) != 0)
			envp[j++] = environ[i];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		rc = -errno;
		free(envp);
		return rc;
	}
	mkdir(WGU_SOCK_DIR, 0755);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(pfd[0]);
		close(pfd[1]);
		free(envp);
		return rc;
	}
	if (pid == 0) {
		int e;

		close(pfd[0]);
		/* Its own process group: a Ctrl-C to the agent's terminal must not kill the
		 * tunnel before the agent decides what to do. */
		setpgid(0, 0);
		execvpe(argv[0], argv, envp);
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	free(envp);
	close(pfd[1]);
	/* The pipe closes on a successful exec (CLOEXEC) or carries the exec errno. */
	do
		got = read(pfd[0], &child_errno, sizeof(child_errno));
	while (got < 0 && errno == EINTR);
	close(pfd[0]);
	if (got == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		wg_device_set_error(dev, "cannot run '%s': %s (install the 'wireguard-go' package)",
				    dev->wireguard_go, strerror(child_errno));
		return -child_errno;
	}
	u->pid = pid;
	u->adopted = false;
	u->started_ms = now_ms();
	log_info("wg %s: started wireguard-go (pid %d)", dev->ifname, (int)pid);
	rc = wait_socket(dev, u->started_ms + WGU_START_TIMEOUT_MS);
	if (rc < 0)
		stop_child(u);
	return rc;
}

static int wgu_open(struct wg_device *dev)
{
	struct wgu *u = calloc(1, sizeof(*u));
	int fd;

	if (!u)
		return -ENOMEM;
	dev->priv = u;
	snprintf(u->sock_path, sizeof(u->sock_path), WGU_SOCK_DIR "/%s.sock", dev->ifname);
	/* A live socket means a wireguard-go already serves this device (we were restarted
	 * and close()d it before): adopt it rather than fight over the name. */
	fd = uapi_connect(u->sock_path);
	if (fd >= 0) {
		close(fd);
		if (!if_nametoindex(dev->ifname)) {
			wg_device_set_error(
			    dev,
			    "%s: a wireguard-go serving %s runs in another network "
			    "namespace; its UAPI sockets are machine-wide, so interface "
			    "names must be unique across namespaces",
			    dev->ifname, u->sock_path);
			return -EEXIST;
		}
		u->adopted = true;
		log_debug("wg %s: adopted the running wireguard-go at %s", dev->ifname,
			  u->sock_path);
		return 0;
	}
	return spawn(dev);
}

static void wgu_free(struct wgu *u)
{
	if (!u)
		return;
	wg_shadow_free(&u->shadow);
	free(u);
}

static int wgu_set_private_key(struct wg_device *dev, const uint8_t key[WG_KEY_LEN])
{
	struct wgu *u = dev->priv;
	int rc = uapi_set(dev, build_key, key);

	if (rc == 0) {
		memcpy(u->shadow.key, key, WG_KEY_LEN);
		u->shadow.has_key = true;
	}
	return rc;
}

static int wgu_set_listen_port(struct wg_device *dev, uint16_t port)
{
	struct wgu *u = dev->priv;
	int rc = uapi_set(dev, build_port, &port);

	if (rc == 0) {
		u->shadow.port = port;
		u->shadow.has_port = true;
	}
	return rc;
}

static int wgu_set_peer(struct wg_device *dev, const struct wg_peer *peer)
{
	struct wgu *u = dev->priv;
	int rc = uapi_set(dev, build_peer, peer);

	return rc == 0 ? wg_shadow_set_peer(&u->shadow, peer) : rc;
}

static int wgu_remove_peer(struct wg_device *dev, const uint8_t public_key[WG_KEY_LEN])
{
	struct wgu *u = dev->priv;
	int rc = uapi_set(dev, build_remove, public_key);

	if (rc == 0)
		wg_shadow_remove_peer(&u->shadow, public_key);
	return rc;
}

static int wgu_get_peers(struct wg_device *dev, struct wg_peer **peers, size_t *n)
{
	static const char req[] = "get=1\n\n";
	struct wg_uapi_device d;
	char *reply = NULL, why[256];
	size_t reply_len = 0;
	int rc, err = 0;

	rc = uapi_exchange(dev, req, sizeof(req) - 1, &reply, &reply_len);
	if (rc < 0)
		return rc;
	if (!wg_uapi_parse_get(reply, reply_len, &d, &err, why, sizeof(why))) {
		wg_device_set_error(dev, "%s: %s", dev->ifname, why);
		free(reply);
		return -EPROTO;
	}
	free(reply);
	if (err) {
		wg_uapi_device_free(&d);
		wg_device_set_error(dev, "%s: wireguard-go: %s", dev->ifname,
				    wg_uapi_strerror(err));
		return err;
	}
	*peers = d.peers;
	*n = d.n_peers;
	return 0;
}

/*
 * Back-off: the first death is restarted at once; another within WGU_STABLE_MS of the last
 * start waits WGU_BACKOFF_MIN_MS, then twice as long each time up to WGU_BACKOFF_MAX_MS.
 * A child that stayed up WGU_STABLE_MS resets it.
 */
static void schedule_restart(struct wgu *u, int64_t now)
{
	if (u->started_ms && now - u->started_ms >= WGU_STABLE_MS)
		u->backoff_ms = 0;
	u->next_restart_ms = now + u->backoff_ms;
	if (!u->backoff_ms)
		u->backoff_ms = WGU_BACKOFF_MIN_MS;
	else if (u->backoff_ms * 2 > WGU_BACKOFF_MAX_MS)
		u->backoff_ms = WGU_BACKOFF_MAX_MS;
	else
		u->backoff_ms *= 2;
}

static int restart(struct wg_device *dev)
{
	struct wgu *u = dev->priv;
	int rc;

	u->restarts++;
	rc = spawn(dev);
	if (rc == 0)
		rc = uapi_set(dev, build_all, u);
	if (rc < 0) {
		stop_child(u);
		schedule_restart(u, now_ms());
		log_warn("wg %s: restart %u failed (%s); next try in %lld ms", dev->ifname,
			 u->restarts, dev->error, (long long)(u->next_restart_ms - now_ms()));
		return rc;
	}
	log_info("wg %s: wireguard-go restarted (restart %u), %zu peers re-applied", dev->ifname,
		 u->restarts, u->shadow.n_peers);
	return 1;
}

static int wgu_supervise(struct wg_device *dev)
{
	struct wgu *u = dev->priv;
	int64_t now = now_ms();
	int status;

	if (u->pid > 0) {
		if (waitpid(u->pid, &status, WNOHANG) != u->pid)
			return 0;
		if (WIFSIGNALED(status))
			log_warn("wg %s: wireguard-go (pid %d) killed by signal %d", dev->ifname,
				 (int)u->pid, WTERMSIG(status));
		else
			log_warn("wg %s: wireguard-go (pid %d) exited with status %d", dev->ifname,
				 (int)u->pid, WEXITSTATUS(status));
		u->pid = 0;
		schedule_restart(u, now);
	} else if (u->adopted) {
		int fd = uapi_connect(u->sock_path);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		/* Not our child, so no waitpid: if it hangs rather than died, deleting its TUN
		 * device makes it exit and frees the name for the new one. */
		log_warn("wg %s: the adopted wireguard-go stopped answering", dev->ifname);
		tunnel_link_delete(dev->ifname);
		u->adopted = false;
		schedule_restart(u, now);
	}
	if (now < u->next_restart_ms)
		return -EAGAIN;
	return restart(dev);
}

static void wgu_destroy(struct wg_device *dev)
{
	struct wgu *u = dev->priv;

	if (u)
		stop_child(u);
	/* An adopted wireguard-go is not our child: deleting its TUN device makes it exit. */
	tunnel_link_delete(dev->ifname);
	wgu_free(u);
	dev->priv = NULL;
}

static void wgu_close(struct wg_device *dev)
{
	wgu_free(dev->priv);
	dev->priv = NULL;
}

const struct wg_backend_ops wg_userspace_ops = {
    .name = "userspace",
    .probe = wgu_probe,
    .open = wgu_open,
    .set_private_key = wgu_set_private_key,
    .set_listen_port = wgu_set_listen_port,
    .set_peer = wgu_set_peer,
    .remove_peer = wgu_remove_peer,
    .get_peers = wgu_get_peers,
    .supervise = wgu_supervise,
    .destroy = wgu_destroy,
    .close = wgu_close,
};

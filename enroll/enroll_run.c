// SPDX-License-Identifier: GPL-2.0-only
/*
 * enroll_client_run(): `pseudopod enroll JOIN` step by step (the contract is in
 * enroll/client.h). Each failure says what to do next; nothing secret is sent before the
 * pin check, and the state is committed by writing enrollment.json last.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enroll/client.h"
#include "enroll/files.h"
#include "enroll/pki.h"
#include "enroll/proto.h"
#include "enroll/state.h"
#include "lib/config.h"
#include "lib/why.h"
#include "tunnel/keys.h"

struct run {
	const struct enroll_client_opts *o;
	const char *config_path;
	struct config cfg;
	struct enroll_join join;
	char state_dir[CONFIG_PATH_MAX];
	uint8_t priv[WG_KEY_LEN];
	struct enroll_request req;
	struct enroll_response resp;
	char *resp_body;
	size_t resp_len;
	char *msg;
	size_t msg_len;
};

static void path(const struct run *x, char *buf, size_t len, const char *name)
{
	enroll_state_path(buf, len, x->state_dir, name);
}

/* The config file as it is (defaults when it does not exist yet). */
static int load_config(struct run *x)
{
	char err[CONFIG_ERR_MAX];

	config_defaults(&x->cfg);
	if (access(x->config_path, F_OK) == 0 &&
	    !config_load(&x->cfg, x->config_path, err, sizeof(err)))
		return why_rc(-EINVAL, x->msg, x->msg_len, "%s (fix the file, or pass --config)",
			      err);
	snprintf(x->state_dir, sizeof(x->state_dir), "%s", x->cfg.agent.state_dir);
	return 0;
}

/* The address this machine uses toward the server: the source the kernel picks for it. */
static int detect_underlay(struct run *x, char out[STORE_IP_MAX])
{
	char host[ENROLL_URL_MAX], *p, port[8] = "443";
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, rc;

	snprintf(host, sizeof(host), "%s", x->join.url + 8);
	if (host[0] == '[') { /* [v6]:port */
		p = strchr(host, ']');
		if (p && p[1] == ':')
			snprintf(port, sizeof(port), "%s", p + 2);
		if (p)
			*p = '\0';
		memmove(host, host + 1, strlen(host));
	} else if ((p = strrchr(host, ':'))) {
		snprintf(port, sizeof(port), "%s", p + 1);
		*p = '\0';
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0)
		return why_rc(-EHOSTUNREACH, x->msg, x->msg_len,
			      "%s: %s (check the server name, or DNS)", host, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		     getsockname(fd, (struct sockaddr *)&ss, &sl) == 0
		 ? 0
		 : -errno;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	if (rc < 0)
		return why_rc(rc, x->msg, x->msg_len,
			      "no route to %s (%s): check the network, or pass --underlay-ip", host,
			      strerror(-rc));
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, STORE_IP_MAX);
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, STORE_IP_MAX);
	return 0;
}

/* --name as the name; the host name (lowercased) only as a hint: the server uses the
 * token's name first, then --name, then the host name when it is a valid name. */
static int pick_name(struct run *x)
{
	char host[HOST_NAME_MAX + 1] = "";

	if (x->o->name) {
		if (!store_name_valid(x->o->name, true))
			return why_rc(-EINVAL, x->msg, x->msg_len,
				      "--name %s: expected a DNS name (a-z, 0-9, '-', '.')",
				      x->o->name);
		snprintf(x->req.name, sizeof(x->req.name), "%s", x->o->name);
	}
	if (gethostname(host, sizeof(host)) == 0) {
		for (char *p = host; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(x->req.hostname, sizeof(x->req.hostname), "%.*s",
			 (int)sizeof(x->req.hostname) - 1, host);
	}
	return 0;
}

/* GET /v1/ca and compare its key with the pin; on a match the CA is written to the state
 * dir (the POST verifies the server against it). Nothing secret has left the machine yet. */
static int check_pin(struct run *x, char *ca_path, size_t ca_path_len)
{
	struct enroll_http_reply r;
	uint8_t pin[ENROLL_PIN_LEN];
	char why[600], want[ENROLL_PIN_TEXT_LEN], got[ENROLL_PIN_TEXT_LEN];
	int rc;

	rc = enroll_http_get_unverified(x->join.url, "/v1/ca", &r, why, sizeof(why));
	if (rc < 0)
		return why_rc(rc, x->msg, x->msg_len,
			      "cannot reach the enrollment server: %s (is 'pseudopodctl serve' "
			      "running there? a proxy in the way? check https_proxy/no_proxy)",
			      why);
	if (r.status != 200 || !enroll_pki_pin(r.body, r.len, pin, why, sizeof(why))) {
		enroll_http_reply_free(&r);
		return why_rc(-EPROTO, x->msg, x->msg_len,
			      "%s does not serve a CA certificate on /v1/ca: the join string does "
			      "not point at a pseudopod enrollment server",
			      x->join.url);
	}
	if (sodium_memcmp(pin, x->join.pin, ENROLL_PIN_LEN) != 0) {
		enroll_pin_format(x->join.pin, want);
		enroll_pin_format(pin, got);
		enroll_http_reply_free(&r);
		return why_rc(-EACCES, x->msg, x->msg_len,
			      "CA pin mismatch: the join string does not belong to this server "
			      "(expected %s, the server has %s); the token was not sent. Check the "
			      "URL, or create the token on the cluster this server serves",
			      want, got);
	}
	rc = enroll_mkdirs(x->state_dir, 0700);
	path(x, ca_path, ca_path_len, ENROLL_CLUSTER_CA_FILE);
	if (rc == 0)
		rc = enroll_write_file_nodirsync(ca_path, r.body, r.len, 0644);
	enroll_http_reply_free(&r);
	if (rc < 0)
		return why_rc(rc, x->msg, x->msg_len,
			      "%s: %s (run as root, or set [agent] state-dir)", ca_path,
			      strerror(-rc));
	enroll_progress(x->o->out, "cluster CA matches the pin in the join string\n");
	return 0;
}

/* A refusal from the server, with the next step. */
static int refused(struct run *x, const struct enroll_http_reply *r)
{
	char code[64], message[512];

	if (!enroll_error_decode(r->body, r->len, code, message))
		return why_rc(-EPROTO, x->msg, x->msg_len,
			      "the enrollment server answered HTTP %ld without a reason",
			      r->status);
	return why_rc(r->status == 503 || r->status == 429 ? -EAGAIN : -EPERM, x->msg, x->msg_len,
		      "enrollment refused (%s): %s", code, message);
}

static int post_enroll(struct run *x, const char *ca_path)
{
	struct enroll_http_reply r;
	char why[600], *body = enroll_request_encode(&x->req);
	int rc;

	if (!body)
		return why_rc(-ENOMEM, x->msg, x->msg_len, "out of memory");
	rc = enroll_http_post(x->join.url, "/v1/enroll", ca_path, body, &r, why, sizeof(why));
	sodium_memzero(body, strlen(body));
	free(body);
	if (rc < 0)
		return why_rc(rc, x->msg, x->msg_len,
			      "enrollment request failed: %s (the token may still be unused: retry "
			      "the same command; if it says the token was used, check "
			      "'pseudopodctl workload get NAME' on the cluster)",
			      why);
	if (r.status != 200) {
		rc = refused(x, &r);
		enroll_http_reply_free(&r);
		return rc;
	}
	if (!enroll_response_decode(r.body, r.len, &x->resp, why, sizeof(why))) {
		enroll_http_reply_free(&r);
		return why_rc(-EPROTO, x->msg, x->msg_len,
			      "the enrollment server's reply is malformed: %s", why);
	}
	x->resp_body = r.body;
	x->resp_len = r.len;
	return 0;
}

/* enrollment.json: the reply without the password (that is in its own 0600 file), plus
 * where it came from. */
static int write_state_json(struct run *x, const char *file)
{
	json_t *resp = json_loadb(x->resp_body, x->resp_len, 0, NULL), *o;
	char pin[ENROLL_PIN_TEXT_LEN], *text;
	int rc;

	enroll_pin_format(x->join.pin, pin);
	json_object_del(json_object_get(resp, "store"), "password");
	o = json_pack("{s:i, s:s, s:s, s:I, s:o*}", "version", 1, "server", x->join.url, "ca_pin",
		      pin, "enrolled_at", (json_int_t)time(NULL), "response", resp);
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	rc = enroll_write_file(file, text, strlen(text), 0600);
	free(text);
	return rc;
}

/* The key and the credentials first (each file fsync'd, one fsync of the directory for
 * their renames), then enrollment.json, which is what makes the machine "enrolled". */
static int write_state(struct run *x)
{
	char p[PATH_MAX], why[300];
	int rc = 0;

	path(x, p, sizeof(p), ENROLL_KEY_FILE);
	rc = tunnel_key_write_file(p, x->priv, why, sizeof(why));
	if (rc == 0 && x->resp.store_ca) {
		path(x, p, sizeof(p), ENROLL_STORE_CA_FILE);
		rc = enroll_write_file_nodirsync(p, x->resp.store_ca, strlen(x->resp.store_ca),
						 0644);
	}
	if (rc == 0 && x->resp.store_user[0]) {
		path(x, p, sizeof(p), ENROLL_STORE_PASSWORD_FILE);
		rc = enroll_write_file_nodirsync(p, x->resp.store_password,
						 strlen(x->resp.store_password), 0600);
	}
	if (rc == 0)
		rc = enroll_fsync_dir(p);
	if (rc == 0) {
		path(x, p, sizeof(p), ENROLL_STATE_FILE);
		rc = write_state_json(x, p);
	}
	if (rc < 0)
		return why_rc(rc, x->msg, x->msg_len,
			      "%s: %s. The cluster registered this machine as '%s' but its state "
			      "could not be saved: fix the state directory, run 'pseudopodctl "
			      "workload delete %s' on the cluster and enroll with a new token",
			      p, strerror(-rc), x->resp.workload.name, x->resp.workload.name);
	return 0;
}

/* Only the keys enrollment owns; the rest of the file stays as the user wrote it. */
static int write_config(struct run *x)
{
	char ca[PATH_MAX], pw[PATH_MAX], wgport[8], vxport[8], err[CONFIG_ERR_MAX];
	const struct store_config *c = &x->resp.cluster;
	struct enroll_conf_set sets[12];
	size_t n = 0, len = 0;
	char *old = NULL, *text;
	struct config check;
	int rc;

	path(x, ca, sizeof(ca), ENROLL_STORE_CA_FILE);
	path(x, pw, sizeof(pw), ENROLL_STORE_PASSWORD_FILE);
	snprintf(wgport, sizeof(wgport), "%u", c->wireguard_port);
	snprintf(vxport, sizeof(vxport), "%u", c->vxlan_port);
	sets[n++] = (struct enroll_conf_set){"agent", "mode", "workload"};
	sets[n++] = (struct enroll_conf_set){"agent", "name", x->resp.workload.name};
	sets[n++] = (struct enroll_conf_set){"store", "endpoints", x->resp.store_endpoints};
	sets[n++] = (struct enroll_conf_set){"store", "prefix", x->resp.store_prefix};
	if (x->resp.store_ca)
		sets[n++] = (struct enroll_conf_set){"store", "ca-file", ca};
	if (x->resp.store_user[0]) {
		sets[n++] = (struct enroll_conf_set){"store", "user", x->resp.store_user};
		sets[n++] = (struct enroll_conf_set){"store", "password-file", pw};
	}
	sets[n++] = (struct enroll_conf_set){
	    "tunnel", "mode", c->tunnel == STORE_TUNNEL_VXLAN ? "vxlan" : "wireguard"};
	sets[n++] = (struct enroll_conf_set){"tunnel", "wireguard-port", wgport};
	sets[n++] = (struct enroll_conf_set){"tunnel", "vxlan-port", vxport};
	rc = enroll_read_file(x->config_path, false, 1 << 20, &old, &len, err, sizeof(err));
	if (rc < 0 && rc != -ENOENT)
		return why_rc(rc, x->msg, x->msg_len, "%s", err);
	text = enroll_conf_apply(old, sets, n);
	free(old);
	if (!text)
		return why_rc(-ENOMEM, x->msg, x->msg_len, "out of memory");
	config_defaults(&check);
	if (!config_load_string(&check, x->config_path, text, err, sizeof(err))) {
		free(text);
		return why_rc(-EINVAL, x->msg, x->msg_len, "the updated config would not load: %s",
			      err);
	}
	{
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", x->config_path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			enroll_mkdirs(dir, 0755);
		}
	}
	rc = enroll_write_file(x->config_path, text, strlen(text), 0644);
	free(text);
	if (rc < 0)
		return why_rc(rc, x->msg, x->msg_len,
			      "%s: %s (the state is saved; fix it and re-run with --force)",
			      x->config_path, strerror(-rc));
	return 0;
}

/* systemctl enable --now pseudopod.service when systemd is PID 1's init. */
static void start_service(struct run *x)
{
	int status = -1;
	pid_t pid;

	if (x->o->no_start) {
		enroll_progress(x->o->out, "not starting pseudopod.service (--no-start)\n");
		return;
	}
	if (access("/run/systemd/system", F_OK) != 0) {
		enroll_progress(x->o->out,
				"systemd is not running here: start the agent yourself with "
				"'pseudopodd --config %s'\n",
				x->config_path);
		return;
	}
	pid = fork();
	if (pid == 0) {
		execlp("systemctl", "systemctl", "enable", "--now", "pseudopod.service",
		       (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		enroll_progress(x->o->out, "started pseudopod.service\n");
	else
		enroll_progress(
		    x->o->out,
		    "could not start pseudopod.service: see 'systemctl status "
		    "pseudopod.service', then 'systemctl enable --now pseudopod.service'\n");
}

static void cleanup_failed(struct run *x)
{
	char p[PATH_MAX];

	/* Nothing of a failed attempt stays (enrollment.json was not written). */
	path(x, p, sizeof(p), ENROLL_CLUSTER_CA_FILE);
	unlink(p);
}

/* 1 when enrollment.json exists (the machine is enrolled), else 0. */
static int is_enrolled(const struct run *x)
{
	char p[PATH_MAX];

	path(x, p, sizeof(p), ENROLL_STATE_FILE);
	return access(p, F_OK) == 0;
}

static int already_enrolled(struct run *x)
{
	if (!is_enrolled(x) || x->o->force)
		return 0;
	enroll_progress(
	    x->o->out,
	    "already enrolled as '%s' (state in %s): nothing changed. To enroll again, run "
	    "'pseudopod leave' first, or 'pseudopod enroll --force JOIN' with a new token\n",
	    x->cfg.agent.name[0] ? x->cfg.agent.name : "?", x->state_dir);
	return ENROLL_ALREADY;
}

static int enroll_steps(struct run *x)
{
	char ca_path[PATH_MAX], why[400];
	uint8_t pub[WG_KEY_LEN];
	int rc;

	if (!enroll_join_decode(x->o->join, strlen(x->o->join), &x->join, why, sizeof(why)))
		return why_rc(-EINVAL, x->msg, x->msg_len, "%s", why);
	if ((rc = load_config(x)) < 0 || (rc = already_enrolled(x)) != 0)
		return rc;
	if (x->o->force && is_enrolled(x)) {
		struct enroll_leave_opts lo = {.config_path = x->config_path, .out = x->o->out};

		enroll_progress(x->o->out, "--force: leaving the cluster first\n");
		if (enroll_client_leave(&lo, why, sizeof(why)) < 0)
			enroll_progress(x->o->out, "warning: %s; enrolling anyway\n", why);
	}
	x->req.token = x->join.token;
	if ((rc = pick_name(x)) < 0)
		return rc;
	if (x->o->underlay_ip)
		snprintf(x->req.underlay_ip, sizeof(x->req.underlay_ip), "%s", x->o->underlay_ip);
	else if ((rc = detect_underlay(x, x->req.underlay_ip)) < 0)
		return rc;
	if (tunnel_key_generate(x->priv) < 0 || tunnel_key_public(pub, x->priv) < 0)
		return why_rc(-EIO, x->msg, x->msg_len, "generating the WireGuard key failed");
	tunnel_key_to_base64(x->req.wg_public_key, pub);
	if ((rc = check_pin(x, ca_path, sizeof(ca_path))) < 0)
		return rc;
	if ((rc = post_enroll(x, ca_path)) < 0 || (rc = write_state(x)) < 0 ||
	    (rc = write_config(x)) < 0) {
		if (!x->resp_body)
			cleanup_failed(x);
		return rc;
	}
	enroll_progress(x->o->out, "enrolled as '%s': identity %u, overlay IP %s, namespace %s\n",
			x->resp.workload.name, x->resp.workload.identity,
			x->resp.workload.overlay_ip, x->resp.workload.namespace_);
	enroll_progress(x->o->out, "state in %s, config in %s\n", x->state_dir, x->config_path);
	start_service(x);
	return 0;
}

int enroll_client_run(const struct enroll_client_opts *o, char *msg, size_t msg_len)
{
	struct run x = {.o = o, .msg = msg, .msg_len = msg_len};
	int rc;

	x.config_path = o->config_path ? o->config_path : CONFIG_DEFAULT_PATH;
	msg[0] = '\0';
	if (sodium_init() < 0)
		return why_rc(-EIO, x.msg, x.msg_len, "libsodium failed to initialise");
	rc = enroll_steps(&x);
	sodium_memzero(x.priv, sizeof(x.priv));
	sodium_memzero(&x.req, sizeof(x.req));
	sodium_memzero(&x.join, sizeof(x.join));
	enroll_response_free(&x.resp);
	if (x.resp_body) {
		sodium_memzero(x.resp_body, x.resp_len);
		free(x.resp_body);
	}
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * enroll_client_leave(): `pseudopod leave`. The cluster part first (so a failure leaves the
 * machine as it was and says how to go on), then the local part: datapath pins, tunnel
 * device (its routes go with it), state files. The config file is the user's and stays.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/dp.h"
#include "enroll/client.h"
#include "enroll/files.h"
#include "enroll/proto.h"
#include "enroll/server.h"
#include "enroll/state.h"
#include "lib/config.h"
#include "lib/file.h"
#include "lib/kv/kv.h"
#include "lib/why.h"
#include "store/store.h"
#include "tunnel/link.h"

struct leave {
	const struct enroll_leave_opts *o;
	struct config cfg;
	const char *config_path;
	char server[ENROLL_URL_MAX];
	char name[STORE_NAME_MAX], endpoints[1024], prefix[256], user[STORE_NAME_MAX];
	char password[ENROLL_SECRET_MAX];
	char *msg;
	size_t msg_len;
};

static void spath(const struct leave *x, char *buf, size_t len, const char *name)
{
	enroll_state_path(buf, len, x->cfg.agent.state_dir, name);
}

static void copy_str(json_t *o, const char *field, char *out, size_t size)
{
	const char *v = json_string_value(json_object_get(o, field));

	snprintf(out, size, "%s", v ? v : "");
}

/* enrollment.json (and the password file): who this machine is in the cluster. */
static int read_state(struct leave *x)
{
	char p[PATH_MAX], *text = NULL;
	json_t *o, *resp, *st;
	size_t len;
	int rc;

	spath(x, p, sizeof(p), ENROLL_STATE_FILE);
	rc = enroll_read_file(p, false, 1 << 20, &text, &len, x->msg, x->msg_len);
	if (rc == -ENOENT)
		return why_rc(rc, x->msg, x->msg_len, "this machine is not enrolled (no %s)", p);
	if (rc < 0)
		return rc;
	o = json_loadb(text, len, 0, NULL);
	free(text);
	resp = json_object_get(o, "response");
	st = json_object_get(resp, "store");
	copy_str(o, "server", x->server, sizeof(x->server));
	copy_str(resp, "name", x->name, sizeof(x->name));
	copy_str(st, "endpoints", x->endpoints, sizeof(x->endpoints));
	copy_str(st, "prefix", x->prefix, sizeof(x->prefix));
	copy_str(st, "user", x->user, sizeof(x->user));
	json_decref(o);
	if (!store_name_valid(x->name, true) || !x->endpoints[0])
		return why_rc(-EPROTO, x->msg, x->msg_len,
			      "%s: damaged (no machine name or store): use 'pseudopod "
			      "leave --offline' and 'pseudopodctl workload delete' on "
			      "the cluster",
			      p);
	if (x->user[0]) {
		/* the same secret-file rule the agent's store connection applies to it */
		spath(x, p, sizeof(p), ENROLL_STORE_PASSWORD_FILE);
		rc = file_read_all(p, true, x->password, sizeof(x->password), &len, x->msg,
				   x->msg_len);
		if (rc < 0)
			return rc;
		x->password[strcspn(x->password, "\r\n")] = '\0';
	}
	return 0;
}

/* Deletes the records (and machine users) with direct store credentials: the operator's,
 * or none when the store has no auth. */
static int leave_direct(struct leave *x, const char *user, const char *password)
{
	char ca[PATH_MAX];
	struct kv_options ko = {.endpoints = x->endpoints, .user = user, .password = password};
	struct kv_client *kv = NULL;
	struct store s;
	int rc;

	spath(x, ca, sizeof(ca), ENROLL_STORE_CA_FILE);
	if (access(ca, R_OK) == 0)
		ko.ca_file = ca;
	rc = kv_open(&kv, &ko);
	if (rc == 0)
		rc = store_init(&s, kv, x->prefix);
	if (rc == 0) {
		rc = store_workload_delete(&s, x->name);
		if (rc == -ENOENT)
			rc = 0;
		if (rc < 0)
			why_rc(rc, x->msg, x->msg_len, "%s", store_error(&s));
		else if (user && (rc = enroll_machine_users_delete(kv, x->name)) < 0)
			why_rc(rc, x->msg, x->msg_len, "deleting the store user: %s", kv_error(kv));
	} else {
		why_rc(rc, x->msg, x->msg_len, "store '%s': %s", x->endpoints, strerror(-rc));
	}
	kv_close(kv);
	return rc;
}

/* The machine's own credentials cannot delete its records (its role may not write them):
 * the enrollment server does it after etcd accepted those credentials. */
static int leave_via_server(struct leave *x)
{
	struct enroll_leave_request req = {0};
	struct enroll_http_reply r;
	char ca[PATH_MAX], why[600], code[64], message[512], *body;
	int rc;

	snprintf(req.name, sizeof(req.name), "%s", x->name);
	snprintf(req.user, sizeof(req.user), "%s", x->user);
	snprintf(req.password, sizeof(req.password), "%s", x->password);
	body = enroll_leave_request_encode(&req);
	sodium_memzero(&req, sizeof(req));
	if (!body)
		return why_rc(-ENOMEM, x->msg, x->msg_len, "out of memory");
	spath(x, ca, sizeof(ca), ENROLL_CLUSTER_CA_FILE);
	rc = enroll_http_post(x->server, "/v1/leave", ca, body, &r, why, sizeof(why));
	sodium_memzero(body, strlen(body));
	free(body);
	if (rc < 0)
		return why_rc(rc, x->msg, x->msg_len, "%s", why);
	if (r.status != 200) {
		enroll_error_decode(r.body, r.len, code, message);
		why_rc(-EPERM, x->msg, x->msg_len, "the enrollment server refused (%s): %s", code,
		       message);
		rc = -EPERM;
	}
	enroll_http_reply_free(&r);
	return rc;
}

static int leave_cluster(struct leave *x)
{
	int rc;

	if (x->o->operator_user)
		rc = leave_direct(x, x->o->operator_user, x->o->operator_password);
	else if (x->user[0])
		rc = leave_via_server(x);
	else
		rc = leave_direct(x, NULL, NULL);
	if (rc < 0) {
		char why[700];

		snprintf(why, sizeof(why), "%s", x->msg);
		return why_rc(rc, x->msg, x->msg_len,
			      "could not deregister '%s' from the cluster: %s. Nothing was "
			      "changed. Retry, use --operator USER with the operator's store "
			      "credentials, or --offline (then run 'pseudopodctl workload delete "
			      "%s' on the cluster)",
			      x->name, why, x->name);
	}
	enroll_progress(x->o->out,
			"deregistered '%s' from the cluster (records and store user removed)\n",
			x->name);
	return 0;
}

/* Datapath pins, the tunnel device (and with it its routes), the state files. */
static void leave_local(struct leave *x)
{
	static const char *const files[] = {ENROLL_STATE_FILE, ENROLL_STORE_PASSWORD_FILE,
					    ENROLL_KEY_FILE, ENROLL_STORE_CA_FILE,
					    ENROLL_CLUSTER_CA_FILE};
	char p[PATH_MAX];
	int rc;

	if (access(x->cfg.agent.bpffs_root, F_OK) == 0) {
		rc = dp_unload(x->cfg.agent.bpffs_root);
		enroll_progress(x->o->out,
				rc < 0 ? "warning: unpinning %s: %s\n"
				       : "removed the datapath pins in %s\n",
				x->cfg.agent.bpffs_root, strerror(-rc));
	}
	if (if_nametoindex(x->cfg.tunnel.device) != 0) {
		rc = tunnel_link_delete(x->cfg.tunnel.device);
		enroll_progress(x->o->out,
				rc < 0 ? "warning: deleting tunnel device %s: %s\n"
				       : "deleted tunnel device %s and its routes\n",
				x->cfg.tunnel.device, strerror(-rc));
	}
	if (x->o->keep_state) {
		enroll_progress(x->o->out, "kept the enrollment state in %s\n",
				x->cfg.agent.state_dir);
		return;
	}
	/* enrollment.json first: once it is gone the machine counts as not enrolled. */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		spath(x, p, sizeof(p), files[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			enroll_progress(x->o->out, "warning: %s: %s\n", p, strerror(errno));
	}
	enroll_progress(x->o->out, "removed the enrollment state in %s\n", x->cfg.agent.state_dir);
}

int enroll_client_leave(const struct enroll_leave_opts *o, char *msg, size_t msg_len)
{
	struct leave x = {.o = o, .msg = msg, .msg_len = msg_len};
	char err[CONFIG_ERR_MAX];
	int rc;

	msg[0] = '\0';
	x.config_path = o->config_path ? o->config_path : CONFIG_DEFAULT_PATH;
	config_defaults(&x.cfg);
	if (access(x.config_path, F_OK) == 0 &&
	    !config_load(&x.cfg, x.config_path, err, sizeof(err)))
		return why_rc(-EINVAL, x.msg, x.msg_len, "%s", err);
	rc = read_state(&x);
	/* --offline --keep-state is the package's prerm: it also runs on a machine that was
	 * never enrolled (nothing to deregister; pins or a device may still be there). */
	if (rc < 0 && !(o->offline && (rc != -ENOENT || o->keep_state)))
		goto out;
	if (o->offline) {
		enroll_progress(
		    x.o->out,
		    "warning: --offline: the cluster still lists '%s'; run 'pseudopodctl "
		    "workload delete %s' there\n",
		    x.name[0] ? x.name : "this machine", x.name[0] ? x.name : "NAME");
	} else if ((rc = leave_cluster(&x)) < 0) {
		goto out;
	}
	leave_local(&x);
	rc = 0;
out:
	sodium_memzero(x.password, sizeof(x.password));
	return rc;
}

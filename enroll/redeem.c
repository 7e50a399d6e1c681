// SPDX-License-Identifier: GPL-2.0-only
/*
 * POST /v1/enroll: token check and the one-txn redemption (the contract is in
 * enroll/server.h). Every exit says what happened in the reply's code; no path writes to
 * the store except the txn itself and the machine user that goes with it.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enroll/ipalloc.h"
#include "enroll/machine_user.h"
#include "enroll/proto.h"
#include "enroll/server.h"
#include "lib/kv/kv.h"
#include "lib/log.h"
#include "store/store.h"

#define REDEEM_ROUNDS 32 /* txn attempts before giving up (lost address/identity races) */

struct redeem {
	struct store *s;
	const struct enroll_server_cfg *cfg;
	struct enroll_request req;
	struct store_token tok;
	int64_t tok_mod, tok_lease;
	struct store_config cluster;
	struct store_workload w;
	char user[STORE_NAME_MAX], password[ENROLL_SECRET_MAX];
	char **excluded; /* addresses found taken by someone else (ipcache) */
	size_t n_excluded;
	int rounds; /* txn rounds so far */
};

void enroll_reply_free(struct enroll_reply *r)
{
	free(r->body);
	r->body = NULL;
}

static void reply_error(struct enroll_reply *r, unsigned status, const char *code, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));

static void reply_error(struct enroll_reply *r, unsigned status, const char *code, const char *fmt,
			...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(r->body);
	r->status = status;
	snprintf(r->code, sizeof(r->code), "%s", code);
	r->body = enroll_error_encode(code, msg);
}

static void store_unavailable(struct enroll_reply *r, struct store *s)
{
	log_warn("enroll: store: %s", store_error(s));
	reply_error(r, 503, "store_unavailable",
		    "the enrollment server cannot reach the cluster store; try again later");
}

/* "12 min", "3 h", "40 s" */
static void fmt_ago(int64_t secs, char *buf, size_t len)
{
	if (secs < 120)
		snprintf(buf, len, "%lld s", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, len, "%lld min", (long long)(secs / 60));
	else
		snprintf(buf, len, "%lld h", (long long)(secs / 3600));
}

/*
 * Loads tokens/<id> and checks the secret. An unknown id, a malformed record and a wrong
 * secret all answer "invalid_token" after the same work (a hash and a constant-time compare
 * against a dummy when there is nothing to compare with), so the answer and its timing say
 * nothing about which ids exist. false with the reply set when the token cannot be used.
 */
static bool token_check(struct redeem *x, struct enroll_reply *r)
{
	static const char dummy[65] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	char hash[65], ago[32];
	const char *want;
	int64_t now = time(NULL);
	bool match;
	int rc;

	store_token_clear(&x->tok);
	rc = store_token_get(x->s, x->req.token.id, &x->tok, &x->tok_mod, &x->tok_lease);
	enroll_secret_hash(x->req.token.secret, hash);
	want = rc == 0 ? x->tok.secret_sha256 : dummy;
	match = sodium_memcmp(hash, want, 64) == 0;
	sodium_memzero(hash, sizeof(hash));
	if (rc < 0 && rc != -ENOENT && rc != -EPROTO && rc != -EINVAL) {
		store_unavailable(r, x->s);
		return false;
	}
	if (rc == -EPROTO)
		log_warn("enroll: %s", store_error(x->s));
	if (rc < 0 || !match) {
		reply_error(r, 401, "invalid_token",
			    "invalid token: check that the join string was copied whole, or "
			    "create a new one with 'pseudopodctl token create'");
		return false;
	}
	if (x->tok.revoked) {
		reply_error(r, 403, "token_revoked",
			    "token %s was revoked: create a new one with 'pseudopodctl token "
			    "create'",
			    x->tok.id);
		return false;
	}
	if (x->tok.uses_left == 0) {
		reply_error(r, 409, "token_used",
			    "token %s has already been used: create a new one with "
			    "'pseudopodctl token create'",
			    x->tok.id);
		return false;
	}
	if (now >= x->tok.expires_at) {
		fmt_ago(now - x->tok.expires_at, ago, sizeof(ago));
		reply_error(r, 410, "token_expired",
			    "token %s expired %s ago: create a new one with 'pseudopodctl token "
			    "create'",
			    x->tok.id, ago);
		return false;
	}
	return true;
}

/* The machine's name (the token's, else the request's), labels (the token's plus its
 * namespace label) and the cluster config. */
static bool prepare(struct redeem *x, struct enroll_reply *r)
{
	char nslabel[STORE_NAME_MAX + 64], why[256];
	const char *name = x->tok.name[0] ? x->tok.name : x->req.name;
	int rc;

	if (!name[0] && store_name_valid(x->req.hostname, true))
		name = x->req.hostname;
	if (x->tok.name[0] && x->req.name[0] && strcmp(x->tok.name, x->req.name)) {
		reply_error(r, 400, "name_mismatch",
			    "token %s is for machine '%s', this machine asked for '%s': use "
			    "'pseudopod enroll --name %s' or a token without --name",
			    x->tok.id, x->tok.name, x->req.name, x->tok.name);
		return false;
	}
	if (!name[0]) {
		reply_error(r, 400, "invalid_request",
			    "no machine name: the token names none and the host name '%s' is not "
			    "a valid one: pass --name",
			    x->req.hostname);
		return false;
	}
	snprintf(x->w.name, sizeof(x->w.name), "%s", name);
	snprintf(x->w.namespace_, sizeof(x->w.namespace_), "%s", x->tok.namespace_);
	snprintf(x->w.underlay_ip, sizeof(x->w.underlay_ip), "%s", x->req.underlay_ip);
	snprintf(x->w.wg_public_key, sizeof(x->w.wg_public_key), "%s", x->req.wg_public_key);
	snprintf(nslabel, sizeof(nslabel), "k8s:%s=%s", LABEL_POD_NAMESPACE, x->tok.namespace_);
	if (!label_set_copy(&x->w.labels, &x->tok.labels) ||
	    !label_set_add(&x->w.labels, nslabel, why, sizeof(why))) {
		reply_error(r, 500, "internal", "token %s: labels: %s", x->tok.id, why);
		return false;
	}
	rc = store_config_get(x->s, &x->cluster);
	if (rc == -ENOENT) {
		reply_error(r, 503, "not_initialised",
			    "the cluster has no config yet: run 'pseudopodctl init' first");
		return false;
	}
	if (rc < 0) {
		store_unavailable(r, x->s);
		return false;
	}
	if (x->cluster.tunnel == STORE_TUNNEL_WIREGUARD && !x->w.wg_public_key[0]) {
		reply_error(r, 400, "invalid_request",
			    "wg_public_key: missing, and the cluster tunnel is WireGuard");
		return false;
	}
	return true;
}

/* Picks a free address. The first rounds guess at random (only addresses found taken in
 * earlier rounds excluded): in a sparse CIDR that is right at once and costs no listing of
 * every workload; the txn's "ipcache/<ip>/32 absent" compare is what guarantees uniqueness.
 * Later rounds (a dense CIDR) exclude every workload's address, which also tells a full
 * CIDR apart (-ENOSPC). */
static int pick_overlay(struct redeem *x, struct enroll_reply *r)
{
	struct store_workload *ws = NULL;
	const char **used;
	size_t n = 0, k = 0;
	uint64_t capacity = 0;
	int rc = x->rounds++ < 3 ? 0 : store_load_workloads(x->s, &ws, &n);

	if (rc < 0) {
		store_unavailable(r, x->s);
		return rc;
	}
	used = calloc(n + x->n_excluded + 1, sizeof(*used));
	if (!used) {
		store_workloads_free(ws, n);
		reply_error(r, 500, "internal", "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		used[k++] = ws[i].overlay_ip;
	for (size_t i = 0; i < x->n_excluded; i++)
		used[k++] = x->excluded[i];
	rc = enroll_ip_pick(x->cluster.workload_cidr, used, k,
			    randombytes_random() ^ ((uint64_t)randombytes_random() << 32),
			    x->w.overlay_ip, &capacity);
	if (rc == -ENOSPC)
		reply_error(r, 507, "cidr_exhausted",
			    "the workload CIDR %s is full (%llu addresses, all in use): delete "
			    "unused machines with 'pseudopodctl workload delete', or widen the "
			    "CIDR; the token was not used",
			    x->cluster.workload_cidr, (unsigned long long)capacity);
	else if (rc < 0)
		reply_error(r, 500, "internal", "workload CIDR '%s' unusable",
			    x->cluster.workload_cidr);
	free(used);
	store_workloads_free(ws, n);
	return rc;
}

static int exclude(struct redeem *x, const char *ip)
{
	char **p = realloc(x->excluded, (x->n_excluded + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	x->excluded = p;
	p[x->n_excluded] = strdup(ip);
	return p[x->n_excluded] ? (int)++x->n_excluded * 0 : -ENOMEM;
}

struct txn_keys {
	char token[512], workload[512], ipcache[512], identity[512];
};

static int build_txn(struct redeem *x, const struct store_identity_ref *ref,
		     const struct txn_keys *k, struct kv_txn *t)
{
	struct store_token next = x->tok;
	char *wl = store_workload_encode(&x->w), *tok, *ipc;
	struct store_ipcache e = {.identity = ref->id, .kind = STORE_IPCACHE_WORKLOAD};
	int rc;

	next.uses_left--;
	tok = store_token_encode(&next);
	ipc = store_ipcache_encode(&e);
	rc = wl && tok && ipc ? 0 : -ENOMEM;
	/* The compares: the token as checked, the name and address free, the identity as
	 * allocated (gc deletes guarded by the same mod_revision: one of us fails). */
	if (rc == 0)
		rc = kv_txn_cmp(t, k->token, KV_CMP_MOD, KV_EQUAL, x->tok_mod);
	if (rc == 0)
		rc = kv_txn_cmp(t, k->workload, KV_CMP_VERSION, KV_EQUAL, 0);
	if (rc == 0)
		rc = kv_txn_cmp(t, k->ipcache, KV_CMP_VERSION, KV_EQUAL, 0);
	if (rc == 0)
		rc = kv_txn_cmp(t, k->identity, KV_CMP_MOD, KV_EQUAL, ref->mod_revision);
	if (rc == 0)
		rc = kv_txn_put(t, true, k->token, tok, strlen(tok), x->tok_lease);
	if (rc == 0)
		rc = kv_txn_put(t, true, k->workload, wl, strlen(wl), 0);
	if (rc == 0)
		rc = kv_txn_put(t, true, k->ipcache, ipc, strlen(ipc), 0);
	if (rc == 0)
		rc = kv_txn_put(t, true, k->identity, ref->value, strlen(ref->value), 0);
	/* On failure, read back what broke the compares. */
	if (rc == 0)
		rc = kv_txn_get(t, false, k->token, false);
	if (rc == 0)
		rc = kv_txn_get(t, false, k->workload, false);
	if (rc == 0)
		rc = kv_txn_get(t, false, k->ipcache, false);
	free(wl);
	free(tok);
	free(ipc);
	return rc;
}

enum round_result { ROUND_DONE, ROUND_RETRY, ROUND_FAILED };

/* etcd refused a request because users/roles changed meanwhile (other machines being
 * enrolled): nothing was applied, the round can simply run again. */
static bool auth_race(struct store *s)
{
	return strstr(kv_error(s->kv), "revision of auth store is old") != NULL;
}

/* Why the txn did not commit: another redemption of the token (re-check it: it is used up
 * now, or still has uses), the name taken, the address taken, or the identity changed. */
static enum round_result lost_race(struct redeem *x, const struct kv_txn_result *res,
				   struct enroll_reply *r)
{
	const struct kv_range_result *tok = &res->ranges[0], *wl = &res->ranges[1],
				     *ipc = &res->ranges[2];

	if (tok->n == 0 || tok->kvs[0].mod_revision != x->tok_mod)
		return token_check(x, r) ? ROUND_RETRY : ROUND_FAILED;
	if (wl->n) {
		reply_error(r, 409, "name_taken",
			    "a machine named '%s' is already enrolled: run 'pseudopod leave' on "
			    "it, or 'pseudopodctl workload delete %s', or enroll with another "
			    "--name; the token was not used",
			    x->w.name, x->w.name);
		return ROUND_FAILED;
	}
	if (ipc->n && exclude(x, x->w.overlay_ip) < 0) {
		reply_error(r, 500, "internal", "out of memory");
		return ROUND_FAILED;
	}
	return ROUND_RETRY;
}

static enum round_result round_once(struct redeem *x, struct enroll_reply *r)
{
	struct store_identity_ref ref = {0};
	struct kv_txn_result res = {0};
	struct txn_keys k;
	struct kv_txn *t = NULL;
	enum round_result out = ROUND_FAILED;
	char cidr[STORE_CIDR_MAX], why[200];
	int rc;

	rc = store_identity_allocate(x->s, &x->w.labels, &ref);
	if (rc == -ENOSPC) {
		reply_error(r, 507, "identity_exhausted",
			    "no free security identity: run 'pseudopodctl identity gc'; the "
			    "token was not used");
		goto out;
	}
	if (rc < 0) {
		store_unavailable(r, x->s);
		out = auth_race(x->s) ? ROUND_RETRY : ROUND_FAILED;
		goto out;
	}
	x->w.identity = ref.id;
	x->w.enrolled_at = time(NULL);
	if ((rc = pick_overlay(x, r)) < 0) {
		out = rc != -ENOSPC && auth_race(x->s) ? ROUND_RETRY : ROUND_FAILED;
		goto out;
	}
	if (!store_cidr_canon(x->w.overlay_ip, cidr, why, sizeof(why)) ||
	    store_key(x->s, k.token, sizeof(k.token), "tokens/%s", x->tok.id) < 0 ||
	    store_key(x->s, k.workload, sizeof(k.workload), "workloads/%s", x->w.name) < 0 ||
	    store_key(x->s, k.ipcache, sizeof(k.ipcache), "ipcache/%s", cidr) < 0 ||
	    store_key(x->s, k.identity, sizeof(k.identity), "identities/%u", ref.id) < 0) {
		reply_error(r, 500, "internal", "key too long");
		goto out;
	}
	t = kv_txn_new();
	if (!t || build_txn(x, &ref, &k, t) < 0) {
		reply_error(r, 500, "internal", "out of memory");
		goto out;
	}
	if (x->cfg->pause_ms)
		usleep(x->cfg->pause_ms * 1000u);
	rc = kv_txn_commit(x->s->kv, t, &res);
	if (rc == -ENOENT) { /* the token's lease ended between the check and the txn */
		out = token_check(x, r) ? ROUND_RETRY : ROUND_FAILED;
	} else if (rc < 0) {
		log_warn("enroll: txn: %s", kv_error(x->s->kv));
		reply_error(r, 503, "store_unavailable",
			    "the cluster store did not answer; try again (the token was not used "
			    "unless 'pseudopodctl workload get %s' shows the machine)",
			    x->w.name);
		if (auth_race(x->s))
			out = ROUND_RETRY;
	} else if (res.succeeded) {
		out = ROUND_DONE;
	} else if (res.n == 3) {
		out = lost_race(x, &res, r);
	} else {
		reply_error(r, 500, "internal", "unexpected txn reply");
	}
out:
	kv_txn_result_free(&res);
	kv_txn_free(t);
	store_identity_ref_clear(&ref);
	return out;
}

static void reply_ok(struct redeem *x, struct enroll_reply *r)
{
	struct enroll_response resp = {0};
	int rc;

	resp.workload = x->w;
	resp.cluster = x->cluster;
	rc = store_load_gateways(x->s, &resp.gateways, &resp.n_gateways);
	if (rc < 0) {
		/* Registered already: the agent learns gateways from the store anyway. */
		log_warn("enroll: gateways: %s", store_error(x->s));
		resp.gateways = NULL;
		resp.n_gateways = 0;
	}
	snprintf(resp.store_endpoints, sizeof(resp.store_endpoints), "%s",
		 x->cfg->machine_endpoints);
	snprintf(resp.store_prefix, sizeof(resp.store_prefix), "%s", x->s->prefix);
	resp.store_ca = (char *)x->cfg->machine_store_ca;
	snprintf(resp.store_user, sizeof(resp.store_user), "%s", x->user);
	snprintf(resp.store_password, sizeof(resp.store_password), "%s", x->password);
	free(r->body);
	r->body = enroll_response_encode(&resp);
	sodium_memzero(resp.store_password, sizeof(resp.store_password));
	free(resp.gateways);
	if (!r->body) {
		reply_error(r, 500, "internal", "out of memory");
		return;
	}
	r->status = 200;
	snprintf(r->code, sizeof(r->code), "ok");
}

/* The machine's user, again when another enrollment changed the auth store meanwhile. */
static int machine_user(struct redeem *x)
{
	int rc = -EAGAIN;

	for (int i = 0; i < 4 && rc < 0; i++) {
		if (i)
			usleep(randombytes_uniform(50000) + 10000);
		rc = enroll_machine_user_create(x->s, x->w.name, x->user, sizeof(x->user),
						x->password, sizeof(x->password));
		if (rc < 0 && rc != -EAGAIN)
			break;
	}
	return rc;
}

void enroll_handle_enroll(struct store *s, const struct enroll_server_cfg *cfg, const char *body,
			  size_t len, struct enroll_reply *r)
{
	struct redeem x = {.s = s, .cfg = cfg};
	enum round_result res = ROUND_RETRY;
	char why[300];

	memset(r, 0, sizeof(*r));
	if (!enroll_request_decode(body, len, &x.req, why, sizeof(why))) {
		reply_error(r, 400, "invalid_request", "%s", why);
		return;
	}
	snprintf(r->detail, sizeof(r->detail), "token=%s", x.req.token.id);
	if (!token_check(&x, r) || !prepare(&x, r))
		goto out;
	snprintf(r->detail, sizeof(r->detail), "token=%s name=%s", x.req.token.id, x.w.name);
	if (cfg->store_auth && machine_user(&x) < 0) {
		log_warn("enroll: creating the etcd user of %s: %s", x.w.name, kv_error(s->kv));
		reply_error(r, 503, "store_unavailable",
			    "the enrollment server could not create this machine's store "
			    "credentials; try again (the token was not used)");
		goto out;
	}
	for (int i = 0; i < REDEEM_ROUNDS && res == ROUND_RETRY; i++) {
		/* Machines with the same labels share an identity, and every redemption re-puts
		 * it guarded by its mod_revision (the gc rule), so concurrent ones collide:
		 * back off a random, growing while before the next round. */
		if (i)
			usleep(randombytes_uniform(1000u << (i < 6 ? i : 6)) + 500);
		res = round_once(&x, r);
	}
	if (res == ROUND_RETRY)
		reply_error(r, 503, "busy",
			    "too many concurrent enrollments won the race; try again (the token "
			    "was not used)");
	if (res == ROUND_DONE) {
		reply_ok(&x, r);
		snprintf(r->detail, sizeof(r->detail), "token=%s name=%s overlay=%s identity=%u",
			 x.req.token.id, x.w.name, x.w.overlay_ip, x.w.identity);
	} else if (x.user[0]) {
		enroll_machine_user_drop(s->kv, x.user);
	}
out:
	sodium_memzero(&x.req, sizeof(x.req));
	sodium_memzero(x.password, sizeof(x.password));
	store_token_clear(&x.tok);
	store_workload_clear(&x.w);
	for (size_t i = 0; i < x.n_excluded; i++)
		free(x.excluded[i]);
	free(x.excluded);
}

void enroll_handle_leave(struct store *s, const struct enroll_server_cfg *cfg, const char *body,
			 size_t len, struct enroll_reply *r)
{
	struct enroll_leave_request req;
	char prefix[STORE_NAME_MAX + 16], why[300];
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!enroll_leave_request_decode(body, len, &req, why, sizeof(why))) {
		reply_error(r, 400, "invalid_request", "%s", why);
		return;
	}
	snprintf(r->detail, sizeof(r->detail), "name=%s", req.name);
	enroll_machine_user_prefix(req.name, prefix, sizeof(prefix));
	if (!cfg->store_auth) {
		reply_error(r, 400, "no_store_auth",
			    "the cluster store has no auth, so the server cannot tell machines "
			    "apart: 'pseudopod leave' deletes the records itself");
		goto out;
	}
	/* The credentials must be this machine's own (etcd checks the password). */
	if (strncmp(req.user, prefix, strlen(prefix)) ||
	    (rc = kv_auth_check(s->kv, req.user, req.password)) == -EACCES || rc == -EINVAL) {
		reply_error(r, 401, "invalid_credentials",
			    "the store credentials are not machine %s's: use 'pseudopod leave "
			    "--operator' or 'pseudopodctl workload delete %s'",
			    req.name, req.name);
		goto out;
	}
	if (rc < 0 || ((rc = store_workload_delete(s, req.name)) < 0 && rc != -ENOENT) ||
	    enroll_machine_users_delete(s->kv, req.name) < 0) {
		store_unavailable(r, s);
		goto out;
	}
	r->status = 200;
	snprintf(r->code, sizeof(r->code), "ok");
	r->body = strdup("{\"left\":true}");
out:
	sodium_memzero(&req, sizeof(req));
}

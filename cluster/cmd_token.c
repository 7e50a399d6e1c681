// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopodctl token create|list|revoke: one-time enrollment tokens (docs/enroll.md). The
 * secret exists only in the printed join string; the store keeps its SHA-256.
 */
#include "cluster/commands.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/ctl.h"
#include "enroll/files.h"
#include "enroll/join.h"
#include "enroll/pki.h"
#include "lib/cli.h"
#include "lib/kv/kv.h"
#include "lib/parse_num.h"

enum { OPT_LABELS = 1, OPT_NS, OPT_NAME, OPT_TTL, OPT_USES, OPT_SERVER, OPT_PKI, OPT_PIN };

#define TOKEN_TTL_MAX (30 * 86400) /* a join string is a credential: keep it short-lived */

static void help(FILE *out)
{
	fprintf(
	    out,
	    "Usage: pseudopodctl token create --server URL [--labels k=v,...] [--namespace NS]\n"
	    "         [--name MACHINE] [--ttl 1h] [--uses 1] [--pki-dir DIR | --ca-pin PIN]\n"
	    "       pseudopodctl token list [-o json]\n"
	    "       pseudopodctl token revoke ID\n"
	    "\n"
	    "create prints a join string (the enrollment server URL, the cluster CA pin, the\n"
	    "token id and its secret) and the command to run on the machine. The secret is\n"
	    "shown once; the store keeps only its SHA-256, under a lease that expires it.\n"
	    "  --server URL     the enrollment server (pseudopodctl serve), https://host:port\n"
	    "  --labels k=v,... labels the machine gets (its identity); --namespace (default\n"
	    "                   'default') adds k8s:io.kubernetes.pod.namespace\n"
	    "  --name MACHINE   the machine's name (default: the machine's host name)\n"
	    "  --ttl DURATION   lifetime: 90s, 30m, 1h, 7d (default 1h, at most 30d)\n"
	    "  --uses N         how many machines may enroll with it (default 1; >1 needs no\n"
	    "                   --name)\n"
	    "  --pki-dir DIR    where the cluster CA is (default " ENROLL_PKI_DEFAULT_DIR ")\n"
	    "  --ca-pin PIN     the CA pin (sha256:...) instead of reading the CA\n"
	    "list shows tokens without secrets; revoke makes one unusable at once.\n\n");
	ctl_print_store_help(out);
}

static const struct option opts[] = {
    {"labels", required_argument, NULL, OPT_LABELS},
    {"namespace", required_argument, NULL, OPT_NS},
    {"name", required_argument, NULL, OPT_NAME},
    {"ttl", required_argument, NULL, OPT_TTL},
    {"uses", required_argument, NULL, OPT_USES},
    {"server", required_argument, NULL, OPT_SERVER},
    {"pki-dir", required_argument, NULL, OPT_PKI},
    {"ca-pin", required_argument, NULL, OPT_PIN},
    CTL_STORE_OPTIONS,
};

struct create_args {
	const char *labels, *ns, *name, *server, *pki, *pin;
	int64_t ttl;
	uint32_t uses;
};

/*
 * "90", "90s", "30m", "1h", "7d" -> seconds in 1..TOKEN_TTL_MAX. lib/ has no duration
 * parser; the number part goes through parse_num, the unit is one trailing letter.
 */
static bool parse_ttl(const char *arg, int64_t *out, char *why, size_t why_len)
{
	static const struct {
		char unit;
		uint64_t mul;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	size_t n = strlen(arg);
	uint64_t mul = 1, v;
	char num[24];

	for (size_t i = 0; n > 0 && i < sizeof(units) / sizeof(units[0]); i++)
		if (arg[n - 1] == units[i].unit) {
			mul = units[i].mul;
			n--;
			break;
		}
	if (n >= sizeof(num)) {
		snprintf(why, why_len, "too long");
		return false;
	}
	memcpy(num, arg, n);
	num[n] = '\0';
	if (!parse_u64(num, 1, TOKEN_TTL_MAX / mul, &v, why, why_len))
		return false;
	*out = (int64_t)(v * mul);
	return true;
}

static int create_option(struct ctl *ctl, int opt, const char *arg, void *data)
{
	struct create_args *a = data;
	char why[160];

	switch (opt) {
	case OPT_LABELS:
		a->labels = arg;
		break;
	case OPT_NS:
		a->ns = arg;
		break;
	case OPT_NAME:
		a->name = arg;
		break;
	case OPT_TTL:
		if (!parse_ttl(arg, &a->ttl, why, sizeof(why)))
			return ctl_usage_error(ctl, "--ttl %s: %s (unit s, m, h or d; at most 30d)",
					       arg, why);
		break;
	case OPT_USES:
		if (!parse_u32(arg, 1, 100000, &a->uses, why, sizeof(why)))
			return ctl_usage_error(ctl, "--uses %s", why);
		break;
	case OPT_SERVER:
		a->server = arg;
		break;
	case OPT_PKI:
		a->pki = arg;
		break;
	case OPT_PIN:
		a->pin = arg;
		break;
	default:
		return ctl_usage_error(ctl, "unknown option");
	}
	return -1;
}

/* The pin: --ca-pin, else the public key of <pki-dir>/ca.crt. */
static int find_pin(struct ctl *ctl, const struct create_args *a, struct enroll_join *j)
{
	char path[PATH_MAX], why[PATH_MAX + 200], *pem = NULL;
	size_t len = 0;
	int rc;

	if (a->pin)
		return enroll_pin_parse(a->pin, j->pin, why, sizeof(why))
			   ? 0
			   : ctl_usage_error(ctl, "--ca-pin: %s", why);
	snprintf(path, sizeof(path), "%s/ca.crt", a->pki ? a->pki : ENROLL_PKI_DEFAULT_DIR);
	rc = enroll_read_file(path, false, 1 << 20, &pem, &len, why, sizeof(why));
	if (rc < 0)
		return ctl_fail(ctl,
				"%s (create the cluster CA with 'pseudopodctl init "
				"--server-name NAME', or pass --pki-dir/--ca-pin)",
				why);
	rc = enroll_pki_pin(pem, len, j->pin, why, sizeof(why))
		 ? 0
		 : ctl_fail(ctl, "%s: %s", path, why);
	free(pem);
	return rc;
}

/* The token record from the options (labels checked, namespace label not included). */
static int token_record(struct ctl *ctl, const struct create_args *a, struct store_token *t)
{
	char why[300];

	memset(t, 0, sizeof(*t));
	if (!store_name_valid(a->ns, false))
		return ctl_usage_error(ctl, "--namespace '%s': expected a Kubernetes namespace",
				       a->ns);
	if (a->name && !store_name_valid(a->name, true))
		return ctl_usage_error(ctl, "--name '%s': expected a DNS name (a-z0-9.-)", a->name);
	if (a->name && a->uses > 1)
		return ctl_usage_error(ctl, "--name and --uses > 1: one name cannot enroll "
					    "several machines");
	if (!label_set_parse(&t->labels, a->labels ? a->labels : "", why, sizeof(why)))
		return ctl_usage_error(ctl, "--labels: %s", why);
	if (label_set_get(&t->labels, NULL, LABEL_POD_NAMESPACE)) {
		label_set_free(&t->labels);
		return ctl_usage_error(ctl, "--labels: use --namespace for the namespace");
	}
	snprintf(t->namespace_, sizeof(t->namespace_), "%s", a->ns);
	snprintf(t->name, sizeof(t->name), "%s", a->name ? a->name : "");
	t->created_at = time(NULL);
	t->expires_at = t->created_at + a->ttl;
	t->uses = t->uses_left = a->uses;
	return 0;
}

/* Puts tokens/<id> on a fresh lease; a new id when one is taken (36^6 ids: rare). */
static int store_new_token(struct ctl *ctl, struct store_token *t, struct enroll_token *tok,
			   int64_t ttl)
{
	int64_t lease = 0, granted = 0;
	int rc = kv_lease_grant(ctl->kv, ttl + STORE_TOKEN_GRACE_S, &lease, &granted);

	if (rc < 0)
		return ctl_fail(ctl, "lease: %s", kv_error(ctl->kv));
	for (int i = 0; i < 8; i++) {
		if (enroll_token_generate(tok) < 0)
			return ctl_fail(ctl, "libsodium failed");
		memcpy(t->id, tok->id, sizeof(t->id));
		enroll_secret_hash(tok->secret, t->secret_sha256);
		rc = store_token_create(&ctl->store, t, lease);
		if (rc != -EEXIST)
			break;
	}
	if (rc < 0) {
		kv_lease_revoke(ctl->kv, lease);
		return ctl_store_fail(ctl);
	}
	return 0;
}

static void print_created(const struct ctl *ctl, const struct store_token *t, const char *join)
{
	char when[32];
	time_t e = (time_t)t->expires_at;
	struct tm tm;

	gmtime_r(&e, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (ctl->json) {
		char cmd[ENROLL_JOIN_MAX + 32];

		snprintf(cmd, sizeof(cmd), "pseudopod enroll %s", join);
		ctl_print_json(json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", t->id, "join", join,
					 "command", cmd, "expires_at", (json_int_t)t->expires_at,
					 "uses", (json_int_t)t->uses));
		return;
	}
	printf("token %s created (expires %s, %u use%s)\n", t->id, when, t->uses,
	       t->uses == 1 ? "" : "s");
	printf("run this on the machine, as root:\n\n    pseudopod enroll %s\n\n", join);
	printf("the join string is a secret until it is used or expires (revoke it with\n"
	       "'pseudopodctl token revoke %s')\n",
	       t->id);
}

static int token_create(int argc, char **argv)
{
	struct create_args a = {.ns = "default", .ttl = 3600, .uses = 1};
	struct enroll_join j = {0};
	struct store_token t;
	char why[300], *join = NULL;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl token create");
	rc = ctl_parse(&ctl, argc, argv, CTL_SHORT, opts, help, create_option, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return ctl_usage_error(&ctl, "unexpected argument '%s'", argv[optind]);
	if (!a.server) {
		const char *dir = a.pki ? a.pki : ENROLL_PKI_DEFAULT_DIR;

		if (enroll_pki_server_url(dir, 9443, j.url, why, sizeof(why)) < 0)
			return ctl_usage_error(&ctl, "--server URL is needed (%s)", why);
	} else if (!enroll_url_parse(a.server, j.url, why, sizeof(why))) {
		return ctl_usage_error(&ctl, "--server: %s", why);
	}
	if ((rc = find_pin(&ctl, &a, &j)) != 0)
		return rc;
	if ((rc = token_record(&ctl, &a, &t)) != 0)
		return rc;
	rc = ctl_connect(&ctl);
	if (rc == 0 && (rc = store_new_token(&ctl, &t, &j.token, a.ttl)) == 0) {
		join = enroll_join_encode(&j);
		if (!join)
			rc = ctl_fail(&ctl, "out of memory");
		else
			print_created(&ctl, &t, join);
	}
	if (join) {
		sodium_memzero(join, strlen(join));
		free(join);
	}
	sodium_memzero(&j, sizeof(j));
	store_token_clear(&t);
	ctl_close(&ctl);
	return rc;
}

static const char *token_state(const struct store_token *t, int64_t now)
{
	if (t->revoked)
		return "revoked";
	if (t->uses_left == 0)
		return "used";
	return now >= t->expires_at ? "expired" : "active";
}

static json_t *token_json(const struct store_token *t, int64_t now)
{
	return json_pack("{s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:I, s:s}", "id", t->id, "namespace",
			 t->namespace_, "labels", label_set_to_json(&t->labels), "name", t->name,
			 "created_at", (json_int_t)t->created_at, "expires_at",
			 (json_int_t)t->expires_at, "uses", (json_int_t)t->uses, "uses_left",
			 (json_int_t)t->uses_left, "state", token_state(t, now));
}

static int token_list(int argc, char **argv)
{
	struct store_token *t = NULL;
	int64_t now = time(NULL);
	size_t n = 0;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl token list");
	rc = ctl_parse(&ctl, argc, argv, CTL_SHORT, opts, help, NULL, NULL);
	if (rc >= 0)
		return rc;
	rc = ctl_connect_no_args(&ctl, argc, argv);
	if (rc)
		return rc;
	if (store_load_tokens(&ctl.store, &t, &n) < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		json_t *arr = json_array();
		struct ctl_table tab;

		ctl_table_init(&tab, 7, "ID", "NAMESPACE", "LABELS", "NAME", "EXPIRES", "USES-LEFT",
			       "STATE");
		for (size_t i = 0; i < n; i++) {
			char when[32], left[32], *labels = label_set_to_string(&t[i].labels);
			time_t e = (time_t)t[i].expires_at;
			struct tm tm;

			gmtime_r(&e, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			snprintf(left, sizeof(left), "%u/%u", t[i].uses_left, t[i].uses);
			ctl_table_row(
			    &tab, t[i].id, t[i].namespace_, labels && *labels ? labels : "-",
			    t[i].name[0] ? t[i].name : "-", when, left, token_state(&t[i], now));
			json_array_append_new(arr, token_json(&t[i], now));
			free(labels);
		}
		ctl_print_result(&ctl, arr, &tab);
	}
	store_tokens_free(t, n);
	ctl_close(&ctl);
	return rc;
}

static int token_revoke(int argc, char **argv)
{
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl token revoke");
	rc = ctl_parse(&ctl, argc, argv, CTL_SHORT, opts, help, NULL, NULL);
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc)
		return ctl_usage_error(&ctl, "expected one token id");
	if (!store_token_id_valid(argv[optind]))
		return ctl_usage_error(&ctl, "'%s': a token id is 6 of a-z0-9", argv[optind]);
	rc = ctl_connect(&ctl);
	if (rc)
		return rc;
	if (store_token_revoke(&ctl.store, argv[optind]) < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		if (!ctl.json)
			printf("token %s revoked\n", argv[optind]);
		rc = CLI_EXIT_OK;
	}
	ctl_close(&ctl);
	return rc;
}

static const char usage[] = "Usage: pseudopodctl token COMMAND [ARGS...]\n"
			    "\n"
			    "One-time enrollment tokens.\n";

static const struct cli_command commands[] = {
    {"create", token_create, "create a token and print its join string"},
    {"list", token_list, "list tokens (never their secrets)"},
    {"revoke", token_revoke, "make a token unusable"},
    {NULL, NULL, NULL},
};

int ctl_cmd_token(int argc, char **argv)
{
	return cli_dispatch("pseudopodctl token", usage, commands, argc, argv);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopodctl serve: the HTTPS enrollment API in the foreground (docs/enroll.md). All
 * state is in etcd, so several instances may serve one cluster.
 */
#include "cluster/commands.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/ctl.h"
#include "enroll/files.h"
#include "enroll/httpd.h"
#include "enroll/pki.h"
#include "lib/cli.h"
#include "lib/kv/kv.h"
#include "lib/log.h"
#include "lib/parse_num.h"

enum {
	OPT_LISTEN = 1,
	OPT_PORT,
	OPT_PKI,
	OPT_THREADS,
	OPT_RATE,
	OPT_TIMEOUT,
	OPT_MSTORE,
	OPT_MSTORE_CA
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void help(FILE *out)
{
	fprintf(out,
		"Usage: pseudopodctl serve [--listen ADDR] [--port 9443] [--pki-dir DIR]\n"
		"         [--threads 4] [--rate 60] [--timeout 10]\n"
		"         [--machine-store URL[,URL]] [--machine-store-ca FILE]\n"
		"\n"
		"Runs the enrollment API (POST /v1/enroll, POST /v1/leave, GET /v1/ca, GET\n"
		"/healthz) over HTTPS with the certificate 'pseudopodctl init --server-name'\n"
		"made, until SIGTERM/SIGINT. With a store user (etcd auth on) every machine gets\n"
		"its own etcd user and least-privilege role.\n"
		"  --listen ADDR            address to listen on (default: all)\n"
		"  --port N                 (default 9443)\n"
		"  --pki-dir DIR            default " ENROLL_PKI_DEFAULT_DIR "\n"
		"  --threads N              worker threads (default 4)\n"
		"  --rate N                 requests a minute per client address (default 60)\n"
		"  --timeout S              idle connection timeout in seconds (default 10)\n"
		"  --machine-store URLS     store endpoints machines are given (default: --store)\n"
		"  --machine-store-ca FILE  store CA machines are given (default: --store-ca)\n\n");
	ctl_print_store_help(out);
}

static const struct option opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"port", required_argument, NULL, OPT_PORT},
    {"pki-dir", required_argument, NULL, OPT_PKI},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"rate", required_argument, NULL, OPT_RATE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"machine-store", required_argument, NULL, OPT_MSTORE},
    {"machine-store-ca", required_argument, NULL, OPT_MSTORE_CA},
    CTL_STORE_OPTIONS,
};

struct serve_args {
	struct enroll_httpd_opts h;
	const char *pki, *mstore, *mstore_ca;
};

static int serve_option(struct ctl *ctl, int opt, const char *arg, void *data)
{
	struct serve_args *a = data;
	char why[160];

	switch (opt) {
	case OPT_LISTEN:
		a->h.address = arg;
		break;
	case OPT_PORT:
		if (!parse_port(arg, &a->h.port, why, sizeof(why)))
			return ctl_usage_error(ctl, "--port %s", why);
		break;
	case OPT_PKI:
		a->pki = arg;
		break;
	case OPT_THREADS:
		if (!parse_u32(arg, 1, 256, &a->h.threads, why, sizeof(why)))
			return ctl_usage_error(ctl, "--threads %s", why);
		break;
	case OPT_RATE:
		if (!parse_u32(arg, 1, 1000000, &a->h.rate_per_min, why, sizeof(why)))
			return ctl_usage_error(ctl, "--rate %s", why);
		break;
	case OPT_TIMEOUT:
		if (!parse_u32(arg, 1, 3600, &a->h.timeout_s, why, sizeof(why)))
			return ctl_usage_error(ctl, "--timeout %s", why);
		break;
	case OPT_MSTORE:
		a->mstore = arg;
		break;
	case OPT_MSTORE_CA:
		a->mstore_ca = arg;
		break;
	default:
		return ctl_usage_error(ctl, "unknown option");
	}
	return -1;
}

/* Reads <pki>/<name> into *out (secret: the key, owner-only); prints why and returns an
 * exit code on failure. */
static int read_pki(struct ctl *ctl, const char *dir, const char *name, bool secret, char **out)
{
	char path[PATH_MAX], why[PATH_MAX + 200];
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = enroll_read_file(path, secret, 1 << 20, out, &len, why, sizeof(why));
	if (rc == -ENOENT)
		return ctl_fail(ctl,
				"%s (create it with 'pseudopodctl init --server-name NAME "
				"--pki-dir %s')",
				why, dir);
	if (rc < 0)
		return ctl_fail(ctl, "%s", why);
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int ctl_cmd_serve(int argc, char **argv)
{
	struct serve_args a = {.h = {.port = 9443}};
	char *cert = NULL, *key = NULL, *ca = NULL, *mca = NULL, why[300];
	const char *dir, *pause = getenv("PSEUDOPOD_ENROLL_TEST_PAUSE_MS");
	uint32_t pause_ms = 0;
	size_t len;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl serve");
	rc = ctl_parse(&ctl, argc, argv, CTL_SHORT, opts, help, serve_option, &a);
	if (rc >= 0)
		return rc;
	dir = a.pki ? a.pki : ENROLL_PKI_DEFAULT_DIR;
	/* a test hook (tests/e2e/enroll_concurrency.sh): a bad value is an error, not 0 */
	if (pause && !parse_u32(pause, 0, 60000, &pause_ms, why, sizeof(why)))
		return ctl_usage_error(&ctl, "PSEUDOPOD_ENROLL_TEST_PAUSE_MS %s", why);
	if ((rc = ctl_connect_no_args(&ctl, argc, argv)) != 0)
		return rc;
	if ((rc = read_pki(&ctl, dir, "server.crt", false, &cert)) ||
	    (rc = read_pki(&ctl, dir, "server.key", true, &key)) ||
	    (rc = read_pki(&ctl, dir, "ca.crt", false, &ca)))
		goto out;
	if (!a.mstore_ca && ctl.opts.cfg.store.ca_file[0])
		a.mstore_ca = ctl.opts.cfg.store.ca_file;
	if (a.mstore_ca &&
	    enroll_read_file(a.mstore_ca, false, 1 << 20, &mca, &len, why, sizeof(why)) < 0) {
		rc = ctl_fail(&ctl, "%s", why);
		goto out;
	}
	a.h.cert_pem = cert;
	a.h.key_pem = key;
	a.h.ca_pem = ca;
	a.h.kv = (struct kv_options){.endpoints = ctl.opts.cfg.store.endpoints,
				     .ca_file = ctl.opts.cfg.store.ca_file,
				     .cert_file = ctl.opts.cfg.store.cert_file,
				     .key_file = ctl.opts.cfg.store.key_file,
				     .user = ctl.opts.cfg.store.user,
				     .password = ctl.opts.password,
				     .timeout_ms = ctl.opts.cfg.store.timeout_ms};
	a.h.prefix = ctl.store.prefix;
	if (!a.mstore)
		a.mstore = ctl.opts.cfg.store.endpoints;
	a.h.cfg = (struct enroll_server_cfg){.machine_endpoints = a.mstore,
					     .machine_store_ca = mca,
					     .store_prefix = ctl.store.prefix,
					     .store_auth = ctl.opts.cfg.store.user[0] != '\0',
					     .pause_ms = pause_ms};
	install_signals();
	log_set_level(LOG_LEVEL_INFO);
	rc = enroll_httpd_run(&a.h, &stop, why, sizeof(why));
	rc = rc < 0 ? ctl_fail(&ctl, "%s", why) : CLI_EXIT_OK;
out:
	free(cert);
	if (key)
		explicit_bzero(key, strlen(key));
	free(key);
	free(ca);
	free(mca);
	ctl_close(&ctl);
	return rc;
}

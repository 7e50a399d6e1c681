// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-policy-sync: one snapshot sync from the cluster store into a datapath's pinned maps
 * (agent/policy_sync.h), for developers and tests until pseudopodd runs the
 * same code continuously from watch streams. Its output lines are a contract of the e2e
 * tests (docs/agent.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sync.h"
#include "bpf/dp.h"
#include "lib/cli.h"
#include "lib/kv/kv.h"
#include "lib/log.h"
#include "lib/parse_num.h"
#include "store/store.h"
#include "store/store_options.h"

#define PROG "pp-policy-sync"
/* Another writer of the same pin directory (a sync, the daemon) is waited for this long;
 * PP_SYNC_LOCK_TIMEOUT_MS overrides it (tests). */
#define LOCK_TIMEOUT_MS 60000

static const char usage[] =
    "Usage: " PROG " --store URL[,URL] --bpffs DIR --identity ID [options]\n"
    "\n"
    "Reads the cluster store once (identities, ipcache, policies), computes the local\n"
    "endpoint's policy with the policy engine, and writes the datapath pinned under DIR:\n"
    "ipcache entries (store ipcache records + the engine's CIDR identities), the\n"
    "endpoint's policy keys and its enforcement flags. What the maps already hold is\n"
    "read back first and only the difference is written, in an order that never drops a\n"
    "flow both the old and the new policy allow (docs/agent.md). The maps are never\n"
    "emptied: running it against maps a previous run (or pp-datapath) filled ADOPTS them.\n"
    "\n"
    "This is a one-shot developer tool: it syncs one snapshot and exits. It does not\n"
    "watch the store; pseudopodd will run the same code continuously.\n"
    "\n"
    "Options:\n"
    "  --store URL[,URL]    etcd client URLs (JSON gateway), default http://127.0.0.1:2379\n"
    "  --prefix P           store key prefix (default " STORE_DEFAULT_PREFIX ")\n"
    "  --store-ca FILE      CA to verify https:// endpoints\n"
    "  --store-cert FILE    client certificate (PEM); --store-key FILE its key (mode 0600)\n"
    "  --store-user USER    etcd user; password from --store-password-file FILE (mode\n"
    "                       0600) or the environment variable " STORE_PASSWORD_ENV "\n"
    "  --config FILE        the [store] section of FILE (default " CONFIG_DEFAULT_PATH "\n"
    "                       when it exists); flags override it\n"
    "  --bpffs DIR          the datapath's pin directory (pp-datapath load --bpffs DIR)\n"
    "  --identity ID        the local endpoint's identity (the machine's); must be the\n"
    "                       identity the datapath was loaded with\n"
    "  --once               sync one snapshot and exit (the only mode; accepted for\n"
    "                       forward compatibility with a watching mode)\n"
    "  -v, --verbose        also print every change written, one per line\n"
    "  --log-level LEVEL    error|warn|info|debug (default warn)\n"
    "  -h, --help           this text\n"
    "\n"
    "One writer at a time per DIR: a run waits up to 60 s (PP_SYNC_LOCK_TIMEOUT_MS) for\n"
    "another writer of DIR (a sync, the daemon) and then fails without writing.\n"
    "\n"
    "Output (stdout):\n"
    "  store revision R: I identities, C ipcache records (S skipped), P policies (K skipped,\n"
    "    H from history)\n"
    "  endpoint ID: N entries -> M keys, ingress enforced|not enforced, egress ...\n"
    "  ipcache added=A changed=C removed=R unchanged=U\n"
    "  policy added=A removed=R recounted=C unchanged=U relabelled=L\n"
    "  enforce ingress=on|off egress=on|off (was ingress=... egress=...)\n"
    "With -v, before those: '+ipcache ...', '~ipcache ...', '-ipcache ...', '+policy ...',\n"
    "'-policy ...', '~policy ...' (a kept key now named after a live rule), 'enforce ...'\n"
    "for each change. Records that cannot be used are logged on stderr with their key\n"
    "and skipped: the datapath keeps its entry for a malformed ipcache record's prefix,\n"
    "and a malformed or invalid policy is replaced by its last valid version in etcd's\n"
    "history (\"from history\"), so a bad record neither opens nor closes anything.\n"
    "\n"
    "Exit status: 0 synced, 1 failed (store unreachable, identity unknown, map error:\n"
    "nothing or only a safe part was written), 2 usage.\n";

static void on_change(void *arg, const char *kind, const char *text)
{
	(void)arg;
	/* "ipcache+" -> "+ipcache" reads better in a log of changes */
	size_t n = strlen(kind);

	if (n && (kind[n - 1] == '+' || kind[n - 1] == '-' || kind[n - 1] == '~'))
		printf("%c%.*s %s\n", kind[n - 1], (int)(n - 1), kind, text);
	else
		printf("%s %s\n", kind, text);
}

static int lock_timeout_ms(void)
{
	const char *env = getenv("PP_SYNC_LOCK_TIMEOUT_MS");
	uint32_t v;

	return env && parse_u32(env, 0, 3600000, &v, NULL, 0) ? (int)v : LOCK_TIMEOUT_MS;
}

static const char *onoff(uint32_t flags, uint32_t bit)
{
	return (flags & bit) ? "on" : "off";
}

static void print_report(const struct agent_sync_result *res, uint32_t identity)
{
	const struct agent_policy_report *rep = &res->rep;

	printf("store revision %lld: %zu identities, %zu ipcache records (%zu skipped), %zu "
	       "policies (%zu skipped, %zu from history)\n",
	       (long long)res->revision, rep->ids, rep->ipcache_records, rep->ipcache_skipped,
	       rep->policies, rep->policies_skipped, res->policies_recovered);
	printf("endpoint %u: %zu entries -> %zu keys, %zu CIDR identities, ingress %s, egress %s\n",
	       identity, rep->entries, rep->pol_keys, rep->cidr_ids,
	       rep->enforced[0] ? "enforced" : "not enforced",
	       rep->enforced[1] ? "enforced" : "not enforced");
	printf("ipcache added=%zu changed=%zu removed=%zu unchanged=%zu\n", rep->ipc_add,
	       rep->ipc_change, rep->ipc_del, rep->ipc_same);
	printf("policy added=%zu removed=%zu recounted=%zu unchanged=%zu relabelled=%zu\n",
	       rep->pol_add, rep->pol_del, rep->pol_recount, rep->pol_same, rep->pol_relabel);
	printf("enforce ingress=%s egress=%s (was ingress=%s egress=%s)\n",
	       onoff(rep->flags_after, DP_EP_F_ENFORCE_INGRESS),
	       onoff(rep->flags_after, DP_EP_F_ENFORCE_EGRESS),
	       onoff(rep->flags_before, DP_EP_F_ENFORCE_INGRESS),
	       onoff(rep->flags_before, DP_EP_F_ENFORCE_EGRESS));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    STORE_OPTIONS_LONG,
	    {"prefix", required_argument, NULL, STORE_OPT_PREFIX},
	    {"bpffs", required_argument, NULL, 'b'},
	    {"identity", required_argument, NULL, 'i'},
	    {"once", no_argument, NULL, 'o'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct kv_options ko = {0};
	struct store_options so;
	const char *bpffs = NULL;
	struct agent_sync_opts sopts = {0};
	struct agent_sync_result res;
	struct agent_sync *as = NULL;
	enum log_level lvl;
	uint32_t identity = 0;
	bool have_id = false, verbose = false;
	char err[1024] = "";
	int c, rc, ret = CLI_EXIT_FAIL;

	log_set_ident(PROG);
	log_set_level(LOG_LEVEL_WARN);
	store_options_init(&so);
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bpffs = optarg;
			break;
		case 'i':
			if (!parse_u32(optarg, 1, UINT32_MAX, &identity, NULL, 0)) {
				fprintf(stderr,
					PROG ": --identity: '%s' is not an identity (1..2^32-1)\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			have_id = true;
			break;
		case 'o':
			break;
		case 'v':
			verbose = true;
			break;
		case 'l':
			if (!log_level_parse(optarg, &lvl)) {
				fprintf(stderr,
					PROG ": --log-level: '%s' is not error|warn|info|debug\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			log_set_level(lvl);
			break;
		case 'h':
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		default:
			rc = store_options_flag(&so, c, optarg, err, sizeof(err));
			if (rc > 0)
				break;
			if (rc < 0)
				fprintf(stderr, PROG ": %s\n", err);
			else
				fputs(usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc || !bpffs || !have_id) {
		fprintf(stderr, PROG ": %s\n%s",
			optind < argc ? "unexpected argument"
				      : "--bpffs and --identity are required",
			usage);
		return CLI_EXIT_USAGE;
	}
	rc = store_options_resolve(&so, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	ko.endpoints = so.cfg.store.endpoints;
	ko.ca_file = so.cfg.store.ca_file;
	ko.cert_file = so.cfg.store.cert_file;
	ko.key_file = so.cfg.store.key_file;
	ko.user = so.cfg.store.user;
	ko.password = so.password;
	ko.timeout_ms = so.cfg.store.timeout_ms;

	sopts.store = ko;
	sopts.prefix = so.cfg.store.prefix;
	sopts.bpffs = bpffs;
	sopts.identity = identity;
	sopts.lock_timeout_ms = lock_timeout_ms();
	if (verbose)
		sopts.cb = on_change;
	rc = agent_sync_open(&sopts, &as, err, sizeof(err));
	rc = rc ?: agent_sync_run(as, &res, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	print_report(&res, identity);
	ret = CLI_EXIT_OK;
out:
	agent_sync_close(as);
	store_options_clear(&so);
	return ret;
}

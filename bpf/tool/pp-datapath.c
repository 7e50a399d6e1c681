// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-datapath: developer/test tool for the eBPF datapath — load, attach, fill maps, read
 * events and counters — without the agent. The benchmark and the e2e tests drive it from
 * shell, so its command line is a stable contract (see usage below and docs/datapath.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "bpf/dp.h"
#include "lib/cli.h"
#include "lib/log.h"
#include "policy/entry.h"

#define PROG  "pp-datapath"
#define BATCH 4096

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(-err));
	return CLI_EXIT_FAIL;
}

static int usage_err(const char *msg, const char *usage)
{
	fprintf(stderr, PROG ": %s\n%s", msg, usage);
	return CLI_EXIT_USAGE;
}

static int open_dp(const char *bpffs, struct dp **dp)
{
	int err = dp_open(bpffs, dp);

	if (err)
		fprintf(stderr,
			PROG ": cannot open the datapath pinned under %s: %s (run '" PROG
			     " load' first)\n",
			bpffs, strerror(-err));
	return err;
}

static bool parse_u32_opt(const char *name, const char *v, uint32_t *out)
{
	if (dp_parse_u32(v, out))
		return true;
	fprintf(stderr, PROG ": %s '%s': expected a non-negative number\n", name, v);
	return false;
}

/* ---- load / unload ---- */

static const char load_usage[] =
    "Usage: " PROG " load --bpffs DIR --mode workload|gateway --identity ID\n"
    "                  [--ipcache-max N] [--policy-max N] [--conntrack-max N] [--events-rate N]\n"
    "Loads the datapath and pins its maps and programs under DIR. Maps already pinned there\n"
    "with the same layout are adopted (conntrack and policy survive); programs are replaced.\n"
    "--events-rate: events per second per CPU (default 10000, 0 = unlimited).\n";

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bpffs", required_argument, 0, 'b'},
	    {"mode", required_argument, 0, 'm'},
	    {"identity", required_argument, 0, 'i'},
	    {"ipcache-max", required_argument, 0, 'I'},
	    {"policy-max", required_argument, 0, 'P'},
	    {"conntrack-max", required_argument, 0, 'C'},
	    {"events-rate", required_argument, 0, 'e'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	struct dp_load_opts o = {.bpffs = DP_DEFAULT_BPFFS, .events_per_second = 10000};
	bool have_identity = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.bpffs = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "workload"))
				o.mode = DP_MODE_WORKLOAD;
			else if (!strcmp(optarg, "gateway"))
				o.mode = DP_MODE_GATEWAY;
			else
				return usage_err("--mode: expected workload or gateway",
						 load_usage);
			break;
		case 'i':
			if (!parse_u32_opt("--identity", optarg, &o.identity))
				return CLI_EXIT_USAGE;
			have_identity = true;
			break;
		case 'I':
			if (!parse_u32_opt("--ipcache-max", optarg, &o.ipcache_max))
				return CLI_EXIT_USAGE;
			break;
		case 'P':
			if (!parse_u32_opt("--policy-max", optarg, &o.policy_max))
				return CLI_EXIT_USAGE;
			break;
		case 'C':
			if (!parse_u32_opt("--conntrack-max", optarg, &o.conntrack_max))
				return CLI_EXIT_USAGE;
			break;
		case 'e':
			if (!parse_u32_opt("--events-rate", optarg, &o.events_per_second))
				return CLI_EXIT_USAGE;
			break;
		case 'h':
			printf("%s", load_usage);
			return CLI_EXIT_OK;
		default:
			return usage_err("bad option", load_usage);
		}
	}
	if (!have_identity && o.mode == DP_MODE_WORKLOAD)
		return usage_err("workload mode needs --identity", load_usage);
	err = dp_load(&o);
	return err ? fail("load", err) : CLI_EXIT_OK;
}

static const char bpffs_usage[] = "Usage: " PROG " unload --bpffs DIR\n"
				  "Unpins every map and program under DIR (attached programs keep "
				  "running until detached).\n";

static bool only_bpffs(int argc, char **argv, const char *usage, const char **bpffs)
{
	static const struct option opts[] = {
	    {"bpffs", required_argument, 0, 'b'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	int c;

	*bpffs = DP_DEFAULT_BPFFS;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'b') {
			*bpffs = optarg;
		} else {
			fprintf(c == 'h' ? stdout : stderr, "%s", usage);
			return false;
		}
	}
	return true;
}

static int cmd_unload(int argc, char **argv)
{
	const char *bpffs;
	int err;

	if (!only_bpffs(argc, argv, bpffs_usage, &bpffs))
		return cli_wants_help(argc, argv) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	err = dp_unload(bpffs);
	return err ? fail("unload", err) : CLI_EXIT_OK;
}

/* ---- attach / detach ---- */

static const char attach_usage[] =
    "Usage: " PROG " attach --bpffs DIR --dev IFNAME [--netns PATH] [--kind auto|eth|l3|vxlan]\n"
    "       " PROG " detach [--bpffs DIR] --dev IFNAME [--netns PATH]\n"
    "attach puts the pinned programs on IFNAME's clsact ingress and egress, replacing ours\n"
    "atomically if already there. --kind auto: TUN/WireGuard -> l3, VXLAN -> vxlan,\n"
    "otherwise eth. --netns: the device's network namespace (/run/netns/NAME).\n";

static int attach_detach(int argc, char **argv, bool attach)
{
	static const struct option opts[] = {
	    {"bpffs", required_argument, 0, 'b'}, {"dev", required_argument, 0, 'd'},
	    {"netns", required_argument, 0, 'n'}, {"kind", required_argument, 0, 'k'},
	    {"help", no_argument, 0, 'h'},	  {0, 0, 0, 0},
	};
	const char *bpffs = DP_DEFAULT_BPFFS, *dev = NULL, *netns = NULL;
	enum dp_dev_kind kind = DP_DEV_AUTO;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bpffs = optarg;
			break;
		case 'd':
			dev = optarg;
			break;
		case 'n':
			netns = optarg;
			break;
		case 'k':
			if (!dp_dev_kind_parse(optarg, &kind))
				return usage_err("--kind: expected auto, eth, l3 or vxlan",
						 attach_usage);
			break;
		case 'h':
			printf("%s", attach_usage);
			return CLI_EXIT_OK;
		default:
			return usage_err("bad option", attach_usage);
		}
	}
	if (!dev)
		return usage_err("--dev is required", attach_usage);
	err = attach ? dp_attach(bpffs, dev, netns, kind) : dp_detach(dev, netns);
	return err ? fail(attach ? "attach" : "detach", err) : CLI_EXIT_OK;
}

static int cmd_attach(int argc, char **argv)
{
	return attach_detach(argc, argv, true);
}

static int cmd_detach(int argc, char **argv)
{
	return attach_detach(argc, argv, false);
}

/* ---- ipcache ---- */

static const char ipcache_usage[] =
    "Usage: " PROG " ipcache add  --bpffs DIR CIDR IDENTITY [--tunnel IPV4] [--workload]\n"
    "       " PROG " ipcache del  --bpffs DIR CIDR\n"
    "       " PROG " ipcache list --bpffs DIR\n"
    "       " PROG " ipcache load --bpffs DIR -f FILE   (\"CIDR IDENTITY [--tunnel IPV4] "
    "[--workload]\" per line, '-' = stdin)\n"
    "--tunnel: the tunnel endpoint (gateway, or a machine's underlay IP on a gateway).\n"
    "--workload: a registered machine's overlay IP (gateway anti-spoofing).\n";

/* Pulls "--bpffs DIR" and "-f FILE" out of argv; the rest stays in rest[] in order. */
static bool split_args(int argc, char **argv, const char **bpffs, const char **file, char **rest,
		       int *nrest)
{
	*nrest = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bpffs") || !strcmp(argv[i], "-f")) {
			if (i + 1 >= argc) {
				fprintf(stderr, PROG ": %s needs a value\n", argv[i]);
				return false;
			}
			if (argv[i][1] == 'f')
				*file = argv[++i];
			else
				*bpffs = argv[++i];
		} else {
			rest[(*nrest)++] = argv[i];
		}
	}
	return true;
}

static void join(char **tok, int n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", tok[i]);
}

static FILE *open_input(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;

	if (!f)
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(errno));
	return f;
}

static int ipcache_print(const struct dp_ipcache_entry *e, void *ctx)
{
	char a[INET6_ADDRSTRLEN], t[INET_ADDRSTRLEN] = "-";

	(void)ctx;
	inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, a, sizeof(a));
	if (e->tunnel_ipv4)
		inet_ntop(AF_INET, &e->tunnel_ipv4, t, sizeof(t));
	printf("%s/%u identity %u tunnel %s%s\n", a, e->plen, e->identity, t,
	       e->flags & DP_IPC_F_WORKLOAD ? " workload" : "");
	return 0;
}

static int ipcache_load_file(struct dp *dp, const char *file)
{
	struct dp_ipcache_entry *batch;
	char line[1024], why[256];
	size_t n = 0, total = 0;
	unsigned int lineno = 0;
	int err = 0;
	FILE *f;

	f = open_input(file);
	if (!f)
		return CLI_EXIT_FAIL;
	batch = calloc(BATCH, sizeof(*batch));
	if (!batch) {
		err = -ENOMEM;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		bool skip;

		lineno++;
		if (!dp_parse_ipcache_line(line, &batch[n], &skip, why, sizeof(why))) {
			fprintf(stderr, PROG ": %s:%u: %s\n", file, lineno, why);
			err = -EINVAL;
			goto out;
		}
		if (skip)
			continue;
		if (++n == BATCH) {
			err = dp_ipcache_apply(dp, batch, n, NULL, 0);
			if (err)
				goto out;
			total += n;
			n = 0;
		}
	}
	if (n)
		err = dp_ipcache_apply(dp, batch, n, NULL, 0);
	total += n;
	if (!err)
		fprintf(stderr, PROG ": %zu ipcache entries loaded\n", total);
out:
	free(batch);
	if (f != stdin)
		fclose(f);
	if (err == -EINVAL)
		return CLI_EXIT_FAIL;
	return err ? fail("ipcache load", err) : CLI_EXIT_OK;
}

static int cmd_ipcache(int argc, char **argv)
{
	const char *bpffs = DP_DEFAULT_BPFFS, *file = NULL, *sub;
	char **rest = calloc((size_t)argc + 1, sizeof(char *)), line[1024], why[256];
	struct dp_ipcache_entry e;
	struct dp *dp = NULL;
	int nrest, ret = CLI_EXIT_USAGE, err;
	bool skip;

	if (!rest)
		return CLI_EXIT_FAIL;
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fprintf(argc < 2 ? stderr : stdout, "%s", ipcache_usage);
		ret = argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
		goto out;
	}
	sub = argv[1];
	if (!split_args(argc - 1, argv + 1, &bpffs, &file, rest, &nrest))
		goto out;
	if (open_dp(bpffs, &dp)) {
		ret = CLI_EXIT_FAIL;
		goto out;
	}
	if (!strcmp(sub, "list") && nrest == 0) {
		err = dp_ipcache_foreach(dp, ipcache_print, NULL);
		ret = err ? fail("ipcache list", err) : CLI_EXIT_OK;
	} else if (!strcmp(sub, "load") && file && nrest == 0) {
		ret = ipcache_load_file(dp, file);
	} else if (!strcmp(sub, "add") && nrest >= 2) {
		join(rest, nrest, line, sizeof(line));
		if (!dp_parse_ipcache_line(line, &e, &skip, why, sizeof(why)) || skip) {
			fprintf(stderr, PROG ": ipcache add: %s\n", skip ? "nothing to add" : why);
			goto out;
		}
		err = dp_ipcache_apply(dp, &e, 1, NULL, 0);
		ret = err ? fail("ipcache add", err) : CLI_EXIT_OK;
	} else if (!strcmp(sub, "del") && nrest == 1) {
		memset(&e, 0, sizeof(e));
		if (!dp_parse_cidr(rest[0], &e, why, sizeof(why))) {
			fprintf(stderr, PROG ": ipcache del: %s\n", why);
			goto out;
		}
		err = dp_ipcache_apply(dp, NULL, 0, &e, 1);
		ret = err ? fail("ipcache del", err) : CLI_EXIT_OK;
	} else {
		fprintf(stderr, "%s", ipcache_usage);
	}
out:
	dp_close(dp);
	free(rest);
	return ret;
}

/* ---- policy ---- */

static const char policy_usage[] =
    "Usage: " PROG " policy add  --bpffs DIR [--endpoint ID] --dir ingress|egress\n"
    "                  --identity ID|any --proto tcp|udp|sctp|icmp|icmpv6|any\n"
    "                  [--port N[-M]] [--type ICMPTYPE] [--deny] [--rule ID]\n"
    "       " PROG " policy del  --bpffs DIR (same fields as add)\n"
    "       " PROG " policy load --bpffs DIR -f FILE   (one entry per line, same fields; '-' = "
    "stdin)\n"
    "       " PROG " policy list --bpffs DIR\n"
    "       " PROG " policy enforce --bpffs DIR [--endpoint ID] --dir ingress|egress|both "
    "on|off\n"
    "--endpoint defaults to the identity given to 'load' (workload mode). Adding entries turns\n"
    "on default-deny for that endpoint and direction (Kubernetes: once a policy selects an\n"
    "endpoint, what it does not allow is denied); 'policy enforce' sets it explicitly.\n";

static int policy_default_endpoint(struct dp *dp, uint32_t *ep)
{
	struct dp_info info;
	int err = dp_info_get(dp, &info);

	if (err)
		return err;
	if (info.mode != DP_MODE_WORKLOAD) {
		fprintf(stderr, PROG ": gateway mode: --endpoint is required\n");
		return -EINVAL;
	}
	*ep = info.identity;
	return 0;
}

static int enforce_add(struct dp *dp, uint32_t ep, uint8_t dir)
{
	uint32_t flags;
	int err = dp_endpoint_get(dp, ep, &flags);

	if (err)
		return err;
	flags |= dir == POLICY_INGRESS ? DP_EP_F_ENFORCE_INGRESS : DP_EP_F_ENFORCE_EGRESS;
	return dp_endpoint_set(dp, ep, flags);
}

static int policy_flush(struct dp *dp, uint32_t ep, struct policy_entry *batch, size_t n)
{
	bool dirs[2] = {false, false};
	int err;

	err = dp_policy_apply(dp, ep, batch, n, NULL, 0);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		dirs[batch[i].direction & 1] = true;
	for (int d = 0; d < 2; d++)
		if (dirs[d] && (err = enforce_add(dp, ep, (uint8_t)d)))
			return err;
	return 0;
}

static int policy_load_file(struct dp *dp, const char *file)
{
	struct policy_entry *batch;
	uint32_t def_ep = 0, cur_ep = 0, ep;
	char line[1024], why[256];
	bool have_def = false, has_ep, skip;
	size_t n = 0, total = 0;
	unsigned int lineno = 0;
	int err = 0;
	FILE *f;

	f = open_input(file);
	if (!f)
		return CLI_EXIT_FAIL;
	batch = calloc(BATCH, sizeof(*batch));
	if (!batch) {
		err = -ENOMEM;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		struct policy_entry e;

		lineno++;
		if (!dp_parse_policy_line(line, &e, &ep, &has_ep, &skip, why, sizeof(why))) {
			fprintf(stderr, PROG ": %s:%u: %s\n", file, lineno, why);
			err = -EINVAL;
			goto out;
		}
		if (skip)
			continue;
		if (!has_ep) {
			if (!have_def) {
				err = policy_default_endpoint(dp, &def_ep);
				if (err)
					goto out;
				have_def = true;
			}
			ep = def_ep;
		}
		/* A batch holds one endpoint's entries. */
		if (n && (ep != cur_ep || n == BATCH)) {
			err = policy_flush(dp, cur_ep, batch, n);
			if (err)
				goto out;
			total += n;
			n = 0;
		}
		cur_ep = ep;
		batch[n++] = e;
	}
	if (n)
		err = policy_flush(dp, cur_ep, batch, n);
	total += n;
	if (!err)
		fprintf(stderr, PROG ": %zu policy entries loaded\n", total);
out:
	free(batch);
	if (f != stdin)
		fclose(f);
	if (err == -EINVAL)
		return CLI_EXIT_FAIL;
	return err ? fail("policy load", err) : CLI_EXIT_OK;
}

static int policy_print(const struct dp_policy_row *r, void *ctx)
{
	char id[16], port[16];

	(void)ctx;
	snprintf(id, sizeof(id), "%u", r->identity);
	if (r->proto == 0 || r->port_bits == 0)
		snprintf(port, sizeof(port), "any");
	else if (r->port_bits == 16)
		snprintf(port, sizeof(port), "%u", r->port);
	else
		snprintf(port, sizeof(port), "%u-%u", r->port,
			 r->port + (1u << (16 - r->port_bits)) - 1);
	printf("endpoint %u %s %s identity %s proto %s port %s rule %u refs %u\n", r->endpoint,
	       dp_dir_name(r->dir), r->deny ? "deny" : "allow", r->identity ? id : "any",
	       dp_proto_name(r->proto), port, r->rule_id, r->refcnt);
	return 0;
}

static int policy_enforce(struct dp *dp, char **rest, int nrest)
{
	uint32_t ep = 0, flags, mask = 0;
	bool have_ep = false, on;
	int i, err;

	if (nrest < 1)
		return usage_err("policy enforce: on|off missing", policy_usage);
	for (i = 0; i + 1 < nrest; i += 2) {
		if (!strcmp(rest[i], "--endpoint")) {
			if (!parse_u32_opt("--endpoint", rest[i + 1], &ep))
				return CLI_EXIT_USAGE;
			have_ep = true;
		} else if (!strcmp(rest[i], "--dir")) {
			if (!strcmp(rest[i + 1], "ingress"))
				mask = DP_EP_F_ENFORCE_INGRESS;
			else if (!strcmp(rest[i + 1], "egress"))
				mask = DP_EP_F_ENFORCE_EGRESS;
			else if (!strcmp(rest[i + 1], "both"))
				mask = DP_EP_F_ENFORCE_INGRESS | DP_EP_F_ENFORCE_EGRESS;
			else
				return usage_err("--dir: expected ingress, egress or both",
						 policy_usage);
		} else {
			return usage_err("policy enforce: unknown field", policy_usage);
		}
	}
	if (i != nrest - 1 || !mask)
		return usage_err("policy enforce: expected --dir D and on|off last", policy_usage);
	if (!strcmp(rest[i], "on"))
		on = true;
	else if (!strcmp(rest[i], "off"))
		on = false;
	else
		return usage_err("policy enforce: expected on or off", policy_usage);
	if (!have_ep && (err = policy_default_endpoint(dp, &ep)))
		return fail("policy enforce", err);
	err = dp_endpoint_get(dp, ep, &flags);
	if (!err)
		err = dp_endpoint_set(dp, ep, on ? flags | mask : flags & ~mask);
	return err ? fail("policy enforce", err) : CLI_EXIT_OK;
}

static int cmd_policy(int argc, char **argv)
{
	const char *bpffs = DP_DEFAULT_BPFFS, *file = NULL, *sub;
	char **rest = calloc((size_t)argc + 1, sizeof(char *)), line[1024], why[256];
	int nrest, ret = CLI_EXIT_USAGE, err;
	struct policy_entry e;
	struct dp *dp = NULL;
	bool has_ep, skip;
	uint32_t ep;

	if (!rest)
		return CLI_EXIT_FAIL;
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fprintf(argc < 2 ? stderr : stdout, "%s", policy_usage);
		ret = argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
		goto out;
	}
	sub = argv[1];
	if (!split_args(argc - 1, argv + 1, &bpffs, &file, rest, &nrest))
		goto out;
	if (open_dp(bpffs, &dp)) {
		ret = CLI_EXIT_FAIL;
		goto out;
	}
	if (!strcmp(sub, "list") && nrest == 0) {
		err = dp_policy_foreach(dp, policy_print, NULL);
		ret = err ? fail("policy list", err) : CLI_EXIT_OK;
	} else if (!strcmp(sub, "load") && file && nrest == 0) {
		ret = policy_load_file(dp, file);
	} else if (!strcmp(sub, "enforce")) {
		ret = policy_enforce(dp, rest, nrest);
	} else if (!strcmp(sub, "add") || !strcmp(sub, "del")) {
		join(rest, nrest, line, sizeof(line));
		if (!dp_parse_policy_line(line, &e, &ep, &has_ep, &skip, why, sizeof(why)) ||
		    skip) {
			fprintf(stderr, PROG ": policy %s: %s\n", sub, skip ? "no fields" : why);
			goto out;
		}
		if (!has_ep && (err = policy_default_endpoint(dp, &ep))) {
			ret = fail("policy", err);
			goto out;
		}
		if (sub[0] == 'a')
			err = policy_flush(dp, ep, &e, 1);
		else
			err = dp_policy_apply(dp, ep, NULL, 0, &e, 1);
		ret = err ? fail(sub[0] == 'a' ? "policy add" : "policy del", err) : CLI_EXIT_OK;
	} else {
		fprintf(stderr, "%s", policy_usage);
	}
out:
	dp_close(dp);
	free(rest);
	return ret;
}

/* ---- events / metrics / conntrack ---- */

static const char events_usage[] =
    "Usage: " PROG " events --bpffs DIR [--count N] [--timeout SECONDS] [--json]\n"
    "Prints ring-buffer events (new-flow verdicts and drops), one per line, until N events,\n"
    "SECONDS elapsed or SIGINT. Text: VERDICT dir proto src:port -> dst:port id SRC -> DST\n"
    "reason=.. match=.. rule=..; --json: one JSON object per line.\n";

struct events_ctx {
	bool json;
	uint64_t count, seen;
};

static int on_event(const struct dp_event *e, void *ctx)
{
	struct events_ctx *c = ctx;
	char buf[1024];

	dp_event_format(e, c->json, buf, sizeof(buf));
	printf("%s\n", buf);
	fflush(stdout);
	c->seen++;
	return c->count && c->seen >= c->count;
}

static int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bpffs", required_argument, 0, 'b'},   {"count", required_argument, 0, 'c'},
	    {"timeout", required_argument, 0, 't'}, {"json", no_argument, 0, 'j'},
	    {"help", no_argument, 0, 'h'},	    {0, 0, 0, 0},
	};
	const char *bpffs = DP_DEFAULT_BPFFS;
	struct events_ctx ctx = {};
	struct dp_events *ev = NULL;
	struct timespec start, now;
	uint32_t count = 0, timeout = 0;
	struct dp *dp = NULL;
	int c, err, ret = CLI_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bpffs = optarg;
			break;
		case 'c':
			if (!parse_u32_opt("--count", optarg, &count))
				return CLI_EXIT_USAGE;
			break;
		case 't':
			if (!parse_u32_opt("--timeout", optarg, &timeout))
				return CLI_EXIT_USAGE;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			printf("%s", events_usage);
			return CLI_EXIT_OK;
		default:
			return usage_err("bad option", events_usage);
		}
	}
	ctx.count = count;
	if (open_dp(bpffs, &dp))
		return CLI_EXIT_FAIL;
	err = dp_events_open(dp, on_event, &ctx, &ev);
	if (err) {
		ret = fail("events", err);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop_flag && !(count && ctx.seen >= count)) {
		err = dp_events_poll(ev, 100);
		if (err < 0 && err != -EINTR) {
			ret = fail("events", err);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout && now.tv_sec - start.tv_sec >= (time_t)timeout)
			break;
	}
out:
	dp_events_close(ev);
	dp_close(dp);
	return ret;
}

static const char metrics_usage[] =
    "Usage: " PROG " metrics --bpffs DIR [--json]\n"
    "Per-direction, per-reason packet and byte counters (summed over CPUs), and the number\n"
    "of events lost to the rate limiter or a full ring buffer.\n";

static int cmd_metrics(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bpffs", required_argument, 0, 'b'},
	    {"json", no_argument, 0, 'j'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	struct dp_metric m[DP_METRICS_SLOTS];
	const char *bpffs = DP_DEFAULT_BPFFS;
	struct dp *dp = NULL;
	bool json = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bpffs = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			printf("%s", metrics_usage);
			return CLI_EXIT_OK;
		default:
			return usage_err("bad option", metrics_usage);
		}
	}
	if (open_dp(bpffs, &dp))
		return CLI_EXIT_FAIL;
	err = dp_metrics_read(dp, m);
	dp_close(dp);
	if (err)
		return fail("metrics", err);
	if (json) {
		json_t *o = json_object();
		char *s;

		for (unsigned int d = 0; d < DP_DIR_MAX; d++) {
			json_t *dir = json_object();

			for (unsigned int r = 0; r < DP_REASON_MAX; r++) {
				struct dp_metric *x = &m[d * DP_REASON_MAX + r];

				json_object_set_new(dir, dp_reason_name(r),
						    json_pack("{s:I,s:I}", "packets",
							      (json_int_t)x->packets, "bytes",
							      (json_int_t)x->bytes));
			}
			json_object_set_new(o, dp_dir_name(d), dir);
		}
		json_object_set_new(o, "events_lost",
				    json_integer((json_int_t)m[DP_METRIC_EVENTS_LOST].packets));
		s = json_dumps(o, JSON_COMPACT);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
		return CLI_EXIT_OK;
	}
	printf("%-8s %-22s %12s %14s\n", "DIR", "REASON", "PACKETS", "BYTES");
	for (unsigned int d = 0; d < DP_DIR_MAX; d++)
		for (unsigned int r = 0; r < DP_REASON_MAX; r++) {
			struct dp_metric *x = &m[d * DP_REASON_MAX + r];

			if (x->packets)
				printf("%-8s %-22s %12llu %14llu\n", dp_dir_name(d),
				       dp_reason_name(r), (unsigned long long)x->packets,
				       (unsigned long long)x->bytes);
		}
	printf("events lost: %llu\n", (unsigned long long)m[DP_METRIC_EVENTS_LOST].packets);
	return CLI_EXIT_OK;
}

static const char ct_usage[] = "Usage: " PROG " conntrack list --bpffs DIR\n"
			       "Lists conntrack entries (creator's direction, tuple, identities, "
			       "packets, TCP flags).\n";

static void ct_print(const struct dp_ct_key *k, const struct dp_ct_val *v)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = k->family == 4 ? AF_INET : AF_INET6;

	inet_ntop(af, k->saddr, s, sizeof(s));
	inet_ntop(af, k->daddr, d, sizeof(d));
	printf("%s %s %s:%u -> %s:%u id %u -> %u packets %llu flags 0x%x\n", dp_dir_name(k->dir),
	       dp_proto_name(k->proto), s, ntohs(k->sport), d, ntohs(k->dport), v->src_identity,
	       v->dst_identity, (unsigned long long)v->packets, v->flags);
}

static int cmd_conntrack(int argc, char **argv)
{
	struct dp_ct4_key k4, next4;
	struct dp_ct_key k6, next6;
	struct dp_ct_val v;
	const char *bpffs;
	struct dp *dp = NULL;
	void *prev = NULL;
	int fd;

	if (argc < 2 || strcmp(argv[1], "list")) {
		fprintf(stderr, "%s", ct_usage);
		return cli_wants_help(argc, argv) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (!only_bpffs(argc - 1, argv + 1, ct_usage, &bpffs))
		return cli_wants_help(argc, argv) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (open_dp(bpffs, &dp))
		return CLI_EXIT_FAIL;
	fd = dp_map_fd(dp, "conntrack4");
	while (!bpf_map_get_next_key(fd, prev, &next4)) {
		struct dp_ct_key k = {.sport = next4.sport,
				      .dport = next4.dport,
				      .proto = next4.proto,
				      .family = 4,
				      .dir = next4.dir};

		k4 = next4;
		prev = &k4;
		memcpy(k.saddr, &k4.saddr, 4);
		memcpy(k.daddr, &k4.daddr, 4);
		if (!bpf_map_lookup_elem(fd, &k4, &v))
			ct_print(&k, &v);
	}
	fd = dp_map_fd(dp, "conntrack6");
	prev = NULL;
	while (!bpf_map_get_next_key(fd, prev, &next6)) {
		k6 = next6;
		prev = &k6;
		if (!bpf_map_lookup_elem(fd, &k6, &v))
			ct_print(&k6, &v);
	}
	dp_close(dp);
	return CLI_EXIT_OK;
}

static const char usage[] =
    "Usage: " PROG " [--help] [--version] COMMAND [ARGS...]\n"
    "\n"
    "Developer and test tool for the pseudopod eBPF datapath: load and pin it under a bpffs\n"
    "directory, attach it to devices, fill its ipcache and policy maps, read its events and\n"
    "counters. Every command takes --bpffs DIR (default " DP_DEFAULT_BPFFS ").\n";

static const struct cli_command commands[] = {
    {"load", cmd_load, "load + pin maps and programs (adopts pinned maps)"},
    {"attach", cmd_attach, "attach to a device's tc ingress+egress (atomic replace)"},
    {"detach", cmd_detach, "remove our tc filters from a device"},
    {"ipcache", cmd_ipcache, "add | del | list | load  address -> identity entries"},
    {"policy", cmd_policy, "add | del | list | load | enforce  policy entries"},
    {"events", cmd_events, "print decoded ring-buffer events"},
    {"metrics", cmd_metrics, "print per-direction, per-reason counters"},
    {"conntrack", cmd_conntrack, "list conntrack entries"},
    {"unload", cmd_unload, "unpin everything under --bpffs"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	log_set_ident(PROG);
	return cli_dispatch(PROG, usage, commands, argc, argv);
}

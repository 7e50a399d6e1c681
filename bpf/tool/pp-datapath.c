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
#include "lib/parse_num.h"
#include "lib/policy_entry.h"

#define PROG	 "pp-datapath"
#define BATCH	 4096
#define MAX_DEVS 16

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

/* Prints lib/parse_num.h's reason under the option's name. */
static bool parse_u32_opt(const char *name, const char *v, uint32_t *out)
{
	char why[160];

	if (parse_u32(v, 0, UINT32_MAX, out, why, sizeof(why)))
		return true;
	fprintf(stderr, PROG ": %s %s\n", name, why);
	return false;
}

/*
 * The options most subcommands share. Each command lists the ones it takes in its getopt
 * table (COMMON_OPT_* values) and hands every option to common_opt() first.
 */
enum { OPT_BPFFS = 0x100, OPT_NETNS, OPT_DEV, OPT_JSON };

struct common_opts {
	const char *bpffs, *netns;
	const char *devs[MAX_DEVS];
	size_t n_devs;
	bool json;
};

#define COMMON_OPT_BPFFS                                                                           \
	{                                                                                          \
		"bpffs", required_argument, 0, OPT_BPFFS                                           \
	}
#define COMMON_OPT_NETNS                                                                           \
	{                                                                                          \
		"netns", required_argument, 0, OPT_NETNS                                           \
	}
#define COMMON_OPT_DEV                                                                             \
	{                                                                                          \
		"dev", required_argument, 0, OPT_DEV                                               \
	}
#define COMMON_OPT_JSON                                                                            \
	{                                                                                          \
		"json", no_argument, 0, OPT_JSON                                                   \
	}
#define COMMON_OPT_HELP                                                                            \
	{                                                                                          \
		"help", no_argument, 0, 'h'                                                        \
	}

static void common_opts_init(struct common_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bpffs = DP_DEFAULT_BPFFS;
}

/*
 * Takes option C if it is a shared one (or --help, or getopt's "bad option"). Returns -1 when
 * taken and parsing goes on, an exit code when the command must end (help printed, or a
 * usage error), or -2 when C is the command's own.
 */
static int common_opt(int c, struct common_opts *o, const char *usage)
{
	switch (c) {
	case OPT_BPFFS:
		o->bpffs = optarg;
		return -1;
	case OPT_NETNS:
		o->netns = optarg;
		return -1;
	case OPT_DEV:
		if (o->n_devs == MAX_DEVS)
			return usage_err("too many --dev", usage);
		o->devs[o->n_devs++] = optarg;
		return -1;
	case OPT_JSON:
		o->json = true;
		return -1;
	case 'h':
		printf("%s", usage);
		return CLI_EXIT_OK;
	case '?':
		return usage_err("bad option", usage);
	default:
		return -2;
	}
}

/* A command's own options: -1 to go on, else an exit code (CTX is the command's). */
typedef int (*own_opt_fn)(int c, const char *arg, void *ctx);

/*
 * Parses ARGV with OPTS: shared options into CO, the others through OWN (NULL: none).
 * Returns -1 when the command goes on, else its exit code.
 */
static int parse_opts(int argc, char **argv, const struct option *opts, const char *usage,
		      struct common_opts *co, own_opt_fn own, void *ctx)
{
	int c, ret;

	common_opts_init(co);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		ret = common_opt(c, co, usage);
		if (ret == -2)
			ret = own ? own(c, optarg, ctx) : usage_err("bad option", usage);
		if (ret >= 0)
			return ret;
	}
	return -1;
}

/* The devices named with --dev, or NULL for "every device of the netns". */
static const char *const *common_devs(const struct common_opts *o)
{
	return o->n_devs ? o->devs : NULL;
}

/* ---- load / unload ---- */

static const char load_usage[] =
    "Usage: " PROG " load --bpffs DIR --mode workload|gateway --identity ID\n"
    "                  [--ipcache-max N] [--policy-max N] [--conntrack-max N] [--events-rate N]\n"
    "                  [--netns PATH] [--dev IFNAME]...\n"
    "Loads the datapath and pins its maps and programs under DIR. Maps already pinned there\n"
    "with the same layout are adopted (conntrack and policy survive); programs are replaced.\n"
    "--events-rate: events per second per CPU (default 10000, 0 = unlimited).\n"
    "Then checks the devices (--dev, default every device of the netns --netns, default the\n"
    "current one) for programs of ours still attached on maps that are no longer pinned\n"
    "(after an unload): if there are, it says which and fails (exit 1); fill the maps and\n"
    "run 'attach' (see 'status').\n";

struct load_args {
	struct dp_load_opts o;
	bool have_identity;
};

static int load_opt(int c, const char *arg, void *ctx)
{
	struct load_args *l = ctx;

	switch (c) {
	case 'm':
		if (!strcmp(arg, "workload"))
			l->o.mode = DP_MODE_WORKLOAD;
		else if (!strcmp(arg, "gateway"))
			l->o.mode = DP_MODE_GATEWAY;
		else
			return usage_err("--mode: expected workload or gateway", load_usage);
		return -1;
	case 'i':
		l->have_identity = true;
		return parse_u32_opt("--identity", arg, &l->o.identity) ? -1 : CLI_EXIT_USAGE;
	case 'I':
		return parse_u32_opt("--ipcache-max", arg, &l->o.ipcache_max) ? -1 : CLI_EXIT_USAGE;
	case 'P':
		return parse_u32_opt("--policy-max", arg, &l->o.policy_max) ? -1 : CLI_EXIT_USAGE;
	case 'C':
		return parse_u32_opt("--conntrack-max", arg, &l->o.conntrack_max) ? -1
										  : CLI_EXIT_USAGE;
	case 'e':
		return parse_u32_opt("--events-rate", arg, &l->o.events_per_second)
			   ? -1
			   : CLI_EXIT_USAGE;
	default:
		return usage_err("bad option", load_usage);
	}
}

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
	    COMMON_OPT_BPFFS,
	    {"mode", required_argument, 0, 'm'},
	    {"identity", required_argument, 0, 'i'},
	    {"ipcache-max", required_argument, 0, 'I'},
	    {"policy-max", required_argument, 0, 'P'},
	    {"conntrack-max", required_argument, 0, 'C'},
	    {"events-rate", required_argument, 0, 'e'},
	    COMMON_OPT_NETNS,
	    COMMON_OPT_DEV,
	    COMMON_OPT_HELP,
	    {0, 0, 0, 0},
	};
	struct load_args l = {.o = {.events_per_second = 10000}};
	struct common_opts co;
	int err, ret;

	ret = parse_opts(argc, argv, opts, load_usage, &co, load_opt, &l);
	if (ret >= 0)
		return ret;
	if (!l.have_identity && l.o.mode == DP_MODE_WORKLOAD)
		return usage_err("workload mode needs --identity", load_usage);
	l.o.bpffs = co.bpffs;
	err = dp_load(&l.o);
	if (err)
		return fail("load", err);
	err = dp_attached_check(co.bpffs, co.netns, common_devs(&co), co.n_devs, false);
	if (err == -ESTALE) {
		fprintf(stderr,
			PROG ": loaded, but programs attached on the devices above enforce "
			     "maps that are no longer pinned under %s: fill the new maps, then "
			     "'" PROG " attach' (or detach them)\n",
			co.bpffs);
		return CLI_EXIT_FAIL;
	}
	return err ? fail("load: checking attached programs", err) : CLI_EXIT_OK;
}

/* ---- status ---- */

static const char status_usage[] =
    "Usage: " PROG " status [--bpffs DIR] [--netns PATH] [--dev IFNAME]... [--json] [--reattach]\n"
    "Shows which of our programs are attached where (device, tc hook, kind, program id), the\n"
    "id of the program pinned under DIR for the same name, and whether the attached program\n"
    "uses the maps pinned under DIR. A program on maps that are no longer pinned (left by an\n"
    "unload + load without attach) enforces a policy no write can change: exit 1 then.\n"
    "--reattach attaches the pinned programs in its place (only once the maps are filled).\n"
    "Devices: --dev (repeatable), default every device of the netns.\n";

static void status_print(const struct dp_attachment *a, size_t n, bool json)
{
	json_t *arr = json ? json_array() : NULL;

	if (!json)
		printf("%-15s %-7s %-5s %8s %8s  %s\n", "device", "hook", "kind", "program",
		       "pinned", "maps");
	for (size_t i = 0; i < n; i++) {
		const char *kind = a[i].kind == DP_DEV_AUTO ? "-" : dp_dev_kind_name(a[i].kind);

		if (json) {
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:b, s:b}", "device",
					   a[i].ifname, "hook", dp_dir_name(a[i].dir), "kind", kind,
					   "prog_id", (json_int_t)a[i].prog_id, "prog_name",
					   a[i].prog_name, "pinned_prog_id",
					   (json_int_t)a[i].pinned_prog_id, "is_pinned_prog",
					   a[i].prog_id == a[i].pinned_prog_id, "pinned_maps",
					   a[i].pinned_maps));
			continue;
		}
		printf("%-15s %-7s %-5s %8u %8u  %s\n", a[i].ifname, dp_dir_name(a[i].dir), kind,
		       a[i].prog_id, a[i].pinned_prog_id,
		       a[i].pinned_maps
			   ? (a[i].prog_id == a[i].pinned_prog_id ? "pinned"
								  : "pinned (older program)")
			   : "NOT PINNED (stale: enforces orphaned maps)");
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(arr);
	}
}

static int status_opt(int c, const char *arg, void *ctx)
{
	(void)arg;
	if (c != 'r')
		return usage_err("bad option", status_usage);
	*(bool *)ctx = true;
	return -1;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    COMMON_OPT_BPFFS,
	    COMMON_OPT_NETNS,
	    COMMON_OPT_DEV,
	    COMMON_OPT_JSON,
	    {"reattach", no_argument, 0, 'r'},
	    COMMON_OPT_HELP,
	    {0, 0, 0, 0},
	};
	struct dp_attachment a[64];
	struct common_opts co;
	bool reattach = false;
	size_t n = 0, stale = 0;
	int err, ret;

	ret = parse_opts(argc, argv, opts, status_usage, &co, status_opt, &reattach);
	if (ret >= 0)
		return ret;
	if (reattach) {
		err = dp_attached_check(co.bpffs, co.netns, common_devs(&co), co.n_devs, true);
		if (err && err != -ESTALE)
			return fail("reattach", err);
	}
	err = dp_attached_list(co.bpffs, co.netns, common_devs(&co), co.n_devs, a, 64, &n);
	if (err)
		return fail("status", err);
	if (n > 64)
		fprintf(stderr, PROG ": %zu filters, showing 64\n", n);
	n = n > 64 ? 64 : n;
	status_print(a, n, co.json);
	for (size_t i = 0; i < n; i++)
		stale += !a[i].pinned_maps;
	if (stale)
		fprintf(stderr, PROG ": %zu attached program(s) enforce maps not pinned under %s\n",
			stale, co.bpffs);
	return stale ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static const char bpffs_usage[] = "Usage: " PROG " unload --bpffs DIR\n"
				  "Unpins every map and program under DIR (attached programs keep "
				  "running until detached).\n";

static int cmd_unload(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPT_BPFFS, COMMON_OPT_HELP, {0, 0, 0, 0}};
	struct common_opts co;
	int err, ret;

	ret = parse_opts(argc, argv, opts, bpffs_usage, &co, NULL, NULL);
	if (ret >= 0)
		return ret;
	err = dp_unload(co.bpffs);
	return err ? fail("unload", err) : CLI_EXIT_OK;
}

/* ---- attach / detach ---- */

static const char attach_usage[] =
    "Usage: " PROG " attach --bpffs DIR --dev IFNAME [--netns PATH] [--kind auto|eth|l3|vxlan]\n"
    "       " PROG " detach [--bpffs DIR] --dev IFNAME [--netns PATH]\n"
    "attach puts the pinned programs on IFNAME's clsact ingress and egress, replacing ours\n"
    "atomically if already there. --kind auto: TUN/WireGuard -> l3, VXLAN -> vxlan,\n"
    "otherwise eth. --netns: the device's network namespace (/run/netns/NAME).\n";

static int attach_opt(int c, const char *arg, void *ctx)
{
	if (c != 'k')
		return usage_err("bad option", attach_usage);
	if (!dp_dev_kind_parse(arg, ctx))
		return usage_err("--kind: expected auto, eth, l3 or vxlan", attach_usage);
	return -1;
}

static int attach_detach(int argc, char **argv, bool attach)
{
	static const struct option opts[] = {
	    COMMON_OPT_BPFFS, COMMON_OPT_DEV, COMMON_OPT_NETNS, {"kind", required_argument, 0, 'k'},
	    COMMON_OPT_HELP,  {0, 0, 0, 0},
	};
	enum dp_dev_kind kind = DP_DEV_AUTO;
	struct common_opts co;
	int err, ret;

	ret = parse_opts(argc, argv, opts, attach_usage, &co, attach_opt, &kind);
	if (ret >= 0)
		return ret;
	if (co.n_devs != 1)
		return usage_err("one --dev is required", attach_usage);
	err = attach ? dp_attach(co.bpffs, co.devs[0], co.netns, kind)
		     : dp_detach(co.devs[0], co.netns);
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

/* What a map command ("ipcache", "policy") works on once its arguments are split. */
struct map_cmd {
	const char *sub;  /* argv[1]: add, del, list, load, ... */
	const char *file; /* -f FILE, or NULL */
	char **rest;	  /* the other arguments, in order */
	int nrest;
	struct dp *dp;
};

/*
 * The start the map commands share: usage on stderr without a subcommand (exit 2) or on
 * stdout with --help (exit 0), --bpffs and -f split from the rest, the datapath opened.
 * Returns -1 to go on, else an exit code; map_cmd_close() either way.
 */
static int map_cmd_open(int argc, char **argv, const char *usage, struct map_cmd *m)
{
	const char *bpffs = DP_DEFAULT_BPFFS;

	memset(m, 0, sizeof(*m));
	m->rest = calloc((size_t)argc + 1, sizeof(char *));
	if (!m->rest)
		return CLI_EXIT_FAIL;
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fprintf(argc < 2 ? stderr : stdout, "%s", usage);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	m->sub = argv[1];
	if (!split_args(argc - 1, argv + 1, &bpffs, &m->file, m->rest, &m->nrest))
		return CLI_EXIT_USAGE;
	if (open_dp(bpffs, &m->dp))
		return CLI_EXIT_FAIL;
	return -1;
}

static void map_cmd_close(struct map_cmd *m)
{
	dp_close(m->dp);
	free(m->rest);
}

/* A "load -f FILE" in progress: up to BATCH parsed entries waiting to be written. */
struct load {
	struct dp *dp;
	void *batch;  /* BATCH entries of the kind being loaded */
	size_t n;     /* entries in batch */
	size_t total; /* entries written */
	void *ctx;    /* the kind's own state */
	/* Writes the batch: 0 or -errno. */
	int (*write)(struct load *l);
};

/* Writes the batch and empties it. */
static int load_flush(struct load *l)
{
	int err = l->write(l);

	if (!err) {
		l->total += l->n;
		l->n = 0;
	}
	return err;
}

/* A line's return for a line it cannot parse (why says why). */
#define LOAD_BAD_LINE 1

/*
 * The "ipcache load" / "policy load" skeleton: reads FILE ('-' = stdin) line by line into
 * line(), which adds the entry to l->batch and writes full batches with load_flush() (0,
 * LOAD_BAD_LINE, or -errno); what is left at the end is written too. A bad line is reported
 * as FILE:LINE: why and ends the load. what ("ipcache", "policy") names the entries in
 * messages.
 */
static int load_file(struct dp *dp, const char *file, const char *what, size_t entry_size,
		     int (*line)(struct load *l, char *text, char *why, size_t why_len),
		     int (*write)(struct load *l), void *ctx)
{
	struct load l = {.dp = dp, .ctx = ctx, .write = write};
	char text[1024], why[256], op[32];
	unsigned int lineno = 0;
	int err = 0;
	FILE *f;

	f = open_input(file);
	if (!f)
		return CLI_EXIT_FAIL;
	l.batch = calloc(BATCH, entry_size);
	if (!l.batch) {
		err = -ENOMEM;
		goto out;
	}
	while (fgets(text, sizeof(text), f)) {
		lineno++;
		err = line(&l, text, why, sizeof(why));
		if (err == LOAD_BAD_LINE) {
			fprintf(stderr, PROG ": %s:%u: %s\n", file, lineno, why);
			err = -EINVAL;
		}
		if (err)
			goto out;
	}
	if (l.n)
		err = load_flush(&l);
	if (!err)
		fprintf(stderr, PROG ": %zu %s entries loaded\n", l.total, what);
out:
	free(l.batch);
	if (f != stdin)
		fclose(f);
	if (err == -EINVAL) /* already reported */
		return CLI_EXIT_FAIL;
	snprintf(op, sizeof(op), "%s load", what);
	return err ? fail(op, err) : CLI_EXIT_OK;
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

static int ipcache_write(struct load *l)
{
	return dp_ipcache_apply(l->dp, l->batch, l->n, NULL, 0);
}

static int ipcache_line(struct load *l, char *text, char *why, size_t why_len)
{
	struct dp_ipcache_entry *batch = l->batch;
	bool skip;

	if (!dp_parse_ipcache_line(text, &batch[l->n], &skip, why, why_len))
		return LOAD_BAD_LINE;
	if (skip)
		return 0;
	if (++l->n == BATCH)
		return load_flush(l);
	return 0;
}

static int cmd_ipcache(int argc, char **argv)
{
	char line[1024], why[256];
	struct dp_ipcache_entry e;
	struct map_cmd m;
	int ret, err;
	bool skip;

	ret = map_cmd_open(argc, argv, ipcache_usage, &m);
	if (ret >= 0)
		goto out;
	ret = CLI_EXIT_USAGE;
	if (!strcmp(m.sub, "list") && m.nrest == 0) {
		err = dp_ipcache_foreach(m.dp, ipcache_print, NULL);
		ret = err ? fail("ipcache list", err) : CLI_EXIT_OK;
	} else if (!strcmp(m.sub, "load") && m.file && m.nrest == 0) {
		ret = load_file(m.dp, m.file, "ipcache", sizeof(struct dp_ipcache_entry),
				ipcache_line, ipcache_write, NULL);
	} else if (!strcmp(m.sub, "add") && m.nrest >= 2) {
		join(m.rest, m.nrest, line, sizeof(line));
		if (!dp_parse_ipcache_line(line, &e, &skip, why, sizeof(why)) || skip) {
			fprintf(stderr, PROG ": ipcache add: %s\n", skip ? "nothing to add" : why);
			goto out;
		}
		err = dp_ipcache_apply(m.dp, &e, 1, NULL, 0);
		ret = err ? fail("ipcache add", err) : CLI_EXIT_OK;
	} else if (!strcmp(m.sub, "del") && m.nrest == 1) {
		memset(&e, 0, sizeof(e));
		if (!dp_parse_cidr(m.rest[0], &e, why, sizeof(why))) {
			fprintf(stderr, PROG ": ipcache del: %s\n", why);
			goto out;
		}
		err = dp_ipcache_apply(m.dp, NULL, 0, &e, 1);
		ret = err ? fail("ipcache del", err) : CLI_EXIT_OK;
	} else {
		fprintf(stderr, "%s", ipcache_usage);
	}
out:
	map_cmd_close(&m);
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

/* policy load: the endpoint of the batch, and the default one once looked up. */
struct policy_load {
	uint32_t def_ep, cur_ep;
	bool have_def;
};

static int policy_load_write(struct load *l)
{
	struct policy_load *pl = l->ctx;

	return policy_flush(l->dp, pl->cur_ep, l->batch, l->n);
}

static int policy_line(struct load *l, char *text, char *why, size_t why_len)
{
	struct policy_load *pl = l->ctx;
	struct policy_entry e, *batch = l->batch;
	bool has_ep, skip;
	uint32_t ep;
	int err;

	if (!dp_parse_policy_line(text, &e, &ep, &has_ep, &skip, why, why_len))
		return LOAD_BAD_LINE;
	if (skip)
		return 0;
	if (!has_ep) {
		if (!pl->have_def) {
			err = policy_default_endpoint(l->dp, &pl->def_ep);
			if (err)
				return err;
			pl->have_def = true;
		}
		ep = pl->def_ep;
	}
	/* A batch holds one endpoint's entries. */
	if (l->n && (ep != pl->cur_ep || l->n == BATCH)) {
		err = load_flush(l);
		if (err)
			return err;
	}
	pl->cur_ep = ep;
	batch[l->n++] = e;
	return 0;
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
	char line[1024], why[256];
	struct policy_load pl = {0};
	struct policy_entry e;
	struct map_cmd m;
	bool has_ep, skip;
	int ret, err;
	uint32_t ep;

	ret = map_cmd_open(argc, argv, policy_usage, &m);
	if (ret >= 0)
		goto out;
	ret = CLI_EXIT_USAGE;
	if (!strcmp(m.sub, "list") && m.nrest == 0) {
		err = dp_policy_foreach(m.dp, policy_print, NULL);
		ret = err ? fail("policy list", err) : CLI_EXIT_OK;
	} else if (!strcmp(m.sub, "load") && m.file && m.nrest == 0) {
		ret = load_file(m.dp, m.file, "policy", sizeof(struct policy_entry), policy_line,
				policy_load_write, &pl);
	} else if (!strcmp(m.sub, "enforce")) {
		ret = policy_enforce(m.dp, m.rest, m.nrest);
	} else if (!strcmp(m.sub, "add") || !strcmp(m.sub, "del")) {
		join(m.rest, m.nrest, line, sizeof(line));
		if (!dp_parse_policy_line(line, &e, &ep, &has_ep, &skip, why, sizeof(why)) ||
		    skip) {
			fprintf(stderr, PROG ": policy %s: %s\n", m.sub, skip ? "no fields" : why);
			goto out;
		}
		if (!has_ep && (err = policy_default_endpoint(m.dp, &ep))) {
			ret = fail("policy", err);
			goto out;
		}
		if (m.sub[0] == 'a')
			err = policy_flush(m.dp, ep, &e, 1);
		else
			err = dp_policy_apply(m.dp, ep, NULL, 0, &e, 1);
		ret = err ? fail(m.sub[0] == 'a' ? "policy add" : "policy del", err) : CLI_EXIT_OK;
	} else {
		fprintf(stderr, "%s", policy_usage);
	}
out:
	map_cmd_close(&m);
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

struct events_args {
	uint32_t count, timeout;
};

static int events_opt(int c, const char *arg, void *ctx)
{
	struct events_args *a = ctx;

	if (c == 'c')
		return parse_u32_opt("--count", arg, &a->count) ? -1 : CLI_EXIT_USAGE;
	if (c == 't')
		return parse_u32_opt("--timeout", arg, &a->timeout) ? -1 : CLI_EXIT_USAGE;
	return usage_err("bad option", events_usage);
}

static int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
	    COMMON_OPT_BPFFS,
	    {"count", required_argument, 0, 'c'},
	    {"timeout", required_argument, 0, 't'},
	    COMMON_OPT_JSON,
	    COMMON_OPT_HELP,
	    {0, 0, 0, 0},
	};
	struct events_ctx ctx = {};
	struct dp_events *ev = NULL;
	struct events_args args = {};
	struct timespec start, now;
	struct common_opts co;
	struct dp *dp = NULL;
	int err, ret;

	ret = parse_opts(argc, argv, opts, events_usage, &co, events_opt, &args);
	if (ret >= 0)
		return ret;
	ret = CLI_EXIT_OK;
	ctx.json = co.json;
	ctx.count = args.count;
	if (open_dp(co.bpffs, &dp))
		return CLI_EXIT_FAIL;
	err = dp_events_open(dp, on_event, &ctx, &ev);
	if (err) {
		ret = fail("events", err);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop_flag && !(args.count && ctx.seen >= args.count)) {
		err = dp_events_poll(ev, 100);
		if (err < 0 && err != -EINTR) {
			ret = fail("events", err);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (args.timeout && now.tv_sec - start.tv_sec >= (time_t)args.timeout)
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
	    COMMON_OPT_BPFFS,
	    COMMON_OPT_JSON,
	    COMMON_OPT_HELP,
	    {0, 0, 0, 0},
	};
	struct dp_metric m[DP_METRICS_SLOTS];
	struct common_opts co;
	struct dp *dp = NULL;
	int err, ret;

	ret = parse_opts(argc, argv, opts, metrics_usage, &co, NULL, NULL);
	if (ret >= 0)
		return ret;
	if (open_dp(co.bpffs, &dp))
		return CLI_EXIT_FAIL;
	err = dp_metrics_read(dp, m);
	dp_close(dp);
	if (err)
		return fail("metrics", err);
	if (co.json) {
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
	static const struct option opts[] = {COMMON_OPT_BPFFS, COMMON_OPT_HELP, {0, 0, 0, 0}};
	struct dp_ct_val v;
	struct common_opts co;
	struct dp *dp = NULL;
	void *prev = NULL;
	int fd, ret;

	if (argc < 2 || strcmp(argv[1], "list")) {
		bool help = cli_wants_help(argc, argv);

		fprintf(help ? stdout : stderr, "%s", ct_usage);
		return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	ret = parse_opts(argc - 1, argv + 1, opts, ct_usage, &co, NULL, NULL);
	if (ret >= 0)
		return ret;
	if (open_dp(co.bpffs, &dp))
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
    {"status", cmd_status, "which programs are attached where, on the pinned maps or not"},
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

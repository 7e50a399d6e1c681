// SPDX-License-Identifier: GPL-2.0-only
/*
 * pseudopodctl policy trace: would this flow be allowed? Evaluates the source's egress and
 * the destination's ingress with the policy engine (policy/trace.h), from policy files
 * (--offline -f) or from the store's policies and identities.
 * Exit code: 0 allowed, 1 denied, 2 bad input (usage, unreadable or invalid policy) or the
 * store could not be read — never 1, so a script can trust 1 to mean "denied".
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/commands.h"
#include "cluster/ctl.h"
#include "lib/cli.h"
#include "policy/document.h"
#include "policy/engine.h"
#include "policy/trace.h"

static const char usage[] =
    "Usage: pseudopodctl policy trace --src LABELS|ADDR --dst LABELS|ADDR --dport PORT[/PROTO]\n"
    "                                 [--offline -f FILE|DIR [-f ...]] [-o json] [store options]\n"
    "\n"
    "Answers \"would this traffic be allowed?\": evaluates the egress policy of the source and\n"
    "the ingress policy of the destination, and prints \"verdict: allowed\" or \"verdict: "
    "denied\"\n"
    "as the first line, then the deciding rule(s) of each direction.\n"
    "\n"
    "  --src, --dst   labels of an endpoint, k=v,k2=v2 (include io.kubernetes.pod.namespace=NS\n"
    "                 for a namespaced endpoint; reserved:host and other sources allowed), or an\n"
    "                 address/prefix (not an endpoint: only the other side's policy applies)\n"
    "  --dport        destination port and protocol: 80/TCP, 53/UDP, 8/ICMP (ICMP type), 80\n"
    "  --offline      do not use the store; read policies from -f files or directories\n"
    "                 (*.yaml, *.yml, *.json)\n"
    "  -f, --file     policy file or directory (repeatable; with --offline)\n"
    "  -o json        print {\"verdict\": ..., \"egress\": {...}, \"ingress\": {...}}\n"
    "\n"
    "Without --offline the policies and identities are read from the store.\n"
    "Exit status: 0 allowed, 1 denied, 2 bad input or the store could not be read.\n";

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static int read_all(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (cap - n < 65536) {
			char *g = realloc(data, cap + 65536 + 1);

			if (!g) {
				free(data);
				fclose(f);
				return -ENOMEM;
			}
			data = g;
			cap += 65536;
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(data);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	data[n] = '\0';
	*buf = data;
	*len = n;
	return 0;
}

/* The store's key of a policy, which the engine is keyed by too: "<namespace>/<name>",
 * "_cluster/<name>" for a clusterwide one. */
static void engine_key(char *buf, size_t len, const char *namespace_, const char *name)
{
	snprintf(buf, len, "%s/%s", *namespace_ ? namespace_ : "_cluster", name);
}

static int load_file(struct policy_engine *e, const char *path)
{
	struct policy_document *docs;
	char err[1024], key[600];
	size_t n, len = 0;
	char *text = NULL;
	int rc = read_all(path, &text, &len);

	if (rc) {
		fprintf(stderr, "pseudopodctl policy trace: %s: %s\n", path, strerror(-rc));
		return CLI_EXIT_USAGE;
	}
	if (!policy_documents_load(path, text, len, &docs, &n, err, sizeof(err))) {
		free(text);
		fprintf(stderr, "pseudopodctl policy trace: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	free(text);
	for (size_t i = 0; i < n; i++) {
		/* The store's key: a later object of the same namespace/name replaces it. */
		engine_key(key, sizeof(key), docs[i].namespace_, docs[i].name);
		if (policy_engine_policy_set(e, key, docs[i].object, NULL, err, sizeof(err))) {
			fprintf(stderr, "pseudopodctl policy trace: %s: %s\n", path, err);
			policy_documents_free(docs, n);
			return CLI_EXIT_USAGE;
		}
	}
	policy_documents_free(docs, n);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_path(struct policy_engine *e, const char *path)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	struct stat st;
	int rc = 0;
	DIR *d;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "pseudopodctl policy trace: %s: %s\n", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(e, path);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "pseudopodctl policy trace: %s: %s\n", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	while ((de = readdir(d))) {
		char **g;

		if (de->d_name[0] == '.' ||
		    !(has_suffix(de->d_name, ".yaml") || has_suffix(de->d_name, ".yml") ||
		      has_suffix(de->d_name, ".json")))
			continue;
		g = realloc(names, (n + 1) * sizeof(*g));
		if (!g || asprintf(&g[n], "%s/%s", path, de->d_name) < 0) {
			names = g ? g : names;
			rc = CLI_EXIT_FAIL;
			break;
		}
		names = g;
		n++;
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = load_file(e, names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

/*
 * An address the store's ipcache knows is an endpoint (a pod or an enrolled machine): the
 * trace then uses its identity's labels, so its own policy applies, as in the datapath.
 */
static int resolve_address(struct ctl *ctl, struct policy_engine *e, struct trace_peer *p,
			   const struct store_ipcache *ipc, size_t n)
{
	const struct label_set *labels = NULL;
	int best = -1;

	if (!p->is_cidr)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct cidr c;

		if (!cidr_parse(&c, ipc[i].cidr, NULL, 0) || !cidr_contains(&c, &p->addr) ||
		    c.len <= best)
			continue;
		labels = policy_engine_identity_labels(e, ipc[i].identity);
		best = labels ? c.len : best;
	}
	if (!labels)
		return 0;
	if (!label_set_copy(&p->labels, labels))
		return ctl_fail(ctl, "out of memory");
	p->is_cidr = false;
	return 0;
}

static int load_store(struct ctl *ctl, struct policy_engine *e, struct trace_peer *src,
		      struct trace_peer *dst)
{
	struct store_identity *ids = NULL;
	struct store_policy *pols = NULL;
	struct store_ipcache *ipc = NULL;
	size_t n_ids = 0, n_pols = 0, n_ipc = 0;
	int64_t rev;
	char err[1024], key[600];
	int rc;

	rc = ctl_connect(ctl);
	if (rc)
		return rc;
	if (store_load_identities(&ctl->store, &ids, &n_ids, &rev) ||
	    store_load_policies(&ctl->store, &pols, &n_pols, &rev) ||
	    store_load_ipcache(&ctl->store, &ipc, &n_ipc, &rev)) {
		rc = ctl_fail(ctl, "reading the store: %s", store_error(&ctl->store));
		goto out;
	}
	for (size_t i = 0; i < n_ids; i++) {
		if (policy_engine_identity_set(e, ids[i].id, &ids[i].labels, NULL)) {
			rc = ctl_fail(ctl, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < n_pols; i++) {
		engine_key(key, sizeof(key), pols[i].namespace_, pols[i].name);
		/* A stored policy that does not validate is reported and skipped: it is not
		 * enforced by the agents either. */
		if (policy_engine_policy_set(e, key, pols[i].object, NULL, err, sizeof(err)))
			fprintf(stderr, "%s: warning: stored policy %s skipped: %s\n", ctl->prog,
				key, err);
	}
	rc = resolve_address(ctl, e, src, ipc, n_ipc);
	if (!rc)
		rc = resolve_address(ctl, e, dst, ipc, n_ipc);
out:
	store_identities_free(ids, n_ids);
	store_policies_free(pols, n_pols);
	free(ipc);
	return rc;
}

/* What the command line asks for; the strings point into argv. */
struct trace_args {
	const char *src_text, *dst_text, *port_text;
	const char **files; /* malloc'd */
	size_t n_files;
	bool offline;
};

/* Returns -1 when the options are complete and consistent, else the exit code (help
 * printed, usage error reported, or no memory). */
static int trace_parse_options(struct ctl *ctl, int argc, char **argv, struct trace_args *a)
{
	static const struct option opts[] = {
	    {"offline", no_argument, NULL, 'O'},     {"file", required_argument, NULL, 'f'},
	    {"src", required_argument, NULL, 's'},   {"dst", required_argument, NULL, 'd'},
	    {"dport", required_argument, NULL, 'p'}, CTL_STORE_OPTIONS,
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:" CTL_SHORT, opts, NULL)) != -1) {
		const char **g;
		int handled;

		switch (opt) {
		case 'O':
			a->offline = true;
			continue;
		case 'f':
			g = realloc(a->files, (a->n_files + 1) * sizeof(*g));
			if (!g)
				return CLI_EXIT_USAGE;
			a->files = g;
			a->files[a->n_files++] = optarg;
			continue;
		case 's':
			a->src_text = optarg;
			continue;
		case 'd':
			a->dst_text = optarg;
			continue;
		case 'p':
			a->port_text = optarg;
			continue;
		case 'h':
			fputs(usage, stdout);
			ctl_print_store_help(stdout);
			return CLI_EXIT_OK;
		default:
			handled = ctl_option(ctl, opt, optarg);
			if (handled == 1)
				continue;
			if (handled == 0)
				fputs(usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument \"%s\"", argv[optind]);
	if (!a->src_text || !a->dst_text || !a->port_text)
		return ctl_usage_error(ctl, "--src, --dst and --dport are required (see --help)");
	if (a->offline && !a->n_files)
		return ctl_usage_error(ctl, "--offline needs at least one -f FILE|DIR");
	if (!a->offline && a->n_files)
		return ctl_usage_error(ctl, "-f needs --offline (the store mode reads the store)");
	return -1;
}

/* Returns -1 when --src, --dst and --dport parse, else the usage error's exit code. */
static int trace_parse_flow(struct ctl *ctl, const struct trace_args *a, struct trace_peer *src,
			    struct trace_peer *dst, uint8_t *proto, uint16_t *port)
{
	char err[512];

	if (!trace_peer_parse(src, a->src_text, err, sizeof(err)))
		return ctl_usage_error(ctl, "--src: %s", err);
	if (!trace_peer_parse(dst, a->dst_text, err, sizeof(err)))
		return ctl_usage_error(ctl, "--dst: %s", err);
	if (!trace_port_parse(a->port_text, proto, port, err, sizeof(err)))
		return ctl_usage_error(ctl, "--dport: %s", err);
	return -1;
}

int ctl_policy_trace(int argc, char **argv)
{
	struct trace_args a = {0};
	struct trace_peer src = {0}, dst = {0};
	struct policy_engine *e = NULL;
	struct trace_result res;
	struct ctl ctl;
	uint16_t port;
	uint8_t proto;
	int rc;

	ctl_init(&ctl, "pseudopodctl policy trace");
	rc = trace_parse_options(&ctl, argc, argv, &a);
	if (rc < 0)
		rc = trace_parse_flow(&ctl, &a, &src, &dst, &proto, &port);
	if (rc >= 0)
		goto out;
	e = policy_engine_new();
	if (!e) {
		rc = ctl_fail(&ctl, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < a.n_files; i++) {
		rc = load_path(e, a.files[i]);
		if (rc)
			goto out;
	}
	if (!a.offline && load_store(&ctl, e, &src, &dst)) {
		/* Not 1: that would read as "denied" to a script. */
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (policy_trace(e, &src, &dst, proto, port, &res)) {
		rc = ctl_fail(&ctl, "trace failed: out of memory");
		goto out;
	}
	if (ctl.json)
		ctl_print_json(trace_to_json(&res));
	else
		trace_print(stdout, &res, a.src_text, a.dst_text);
	rc = res.allowed ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	trace_result_free(&res);
out:
	policy_engine_free(e);
	trace_peer_free(&src);
	trace_peer_free(&dst);
	free(a.files);
	ctl_close(&ctl);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-only
/* pseudopodctl policy apply|delete|list|get (trace lives in cmd_policy_trace.c). */
#include "cluster/commands.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/ctl.h"
#include "lib/cli.h"
#include "policy/document.h"

#define POLICY_FILE_MAX (16u << 20)

enum { OPT_FILE = 'f', OPT_NS = 'n', OPT_CLUSTER = 1 };

static const struct option opts[] = {
    {"filename", required_argument, NULL, OPT_FILE},
    {"namespace", required_argument, NULL, OPT_NS},
    {"clusterwide", no_argument, NULL, OPT_CLUSTER},
    CTL_STORE_OPTIONS,
};

static void help(FILE *out)
{
	fprintf(out,
		"Usage: pseudopodctl policy apply -f FILE|DIR|- [-f ...]\n"
		"       pseudopodctl policy delete [-n NS | --clusterwide] NAME   (or NS/NAME)\n"
		"       pseudopodctl policy list [-n NS] [-o json]\n"
		"       pseudopodctl policy get [-n NS | --clusterwide] NAME\n"
		"\n"
		"apply reads YAML (several '---' documents) or JSON (an object or a List) from\n"
		"files, every *.yaml, *.yml and *.json of a directory, or stdin (-), validates\n"
		"every object, and stores all of them in one etcd transaction: one invalid\n"
		"object (reported as FILE: document N: FIELD: problem) stores nothing.\n"
		"Namespaced objects default to namespace 'default'.\n\n");
	ctl_print_store_help(out);
}

struct args {
	const char *files[64];
	size_t n_files;
	const char *ns;
	bool clusterwide;
};

/* One policy option into a (a struct args); -1 = taken, else an exit code. */
static int policy_option(struct ctl *ctl, int opt, const char *arg, void *data)
{
	struct args *a = data;

	switch (opt) {
	case OPT_FILE:
		if (a->n_files == sizeof(a->files) / sizeof(a->files[0]))
			return ctl_usage_error(ctl, "too many -f options");
		a->files[a->n_files++] = arg;
		break;
	case OPT_NS:
		a->ns = arg;
		break;
	case OPT_CLUSTER:
		a->clusterwide = true;
		break;
	default:
		return ctl_usage_error(ctl, "unknown option");
	}
	return -1;
}

static int parse(struct ctl *ctl, int argc, char **argv, struct args *a)
{
	return ctl_parse(ctl, argc, argv, CTL_SHORT "f:n:", opts, help, policy_option, a);
}

static char *read_stream(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
		if (n + 1 == cap) {
			char *p = cap >= POLICY_FILE_MAX ? NULL : realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (!buf || ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

struct docs {
	struct policy_document *d;
	size_t n;
};

/* Loads one file into docs; false with the message printed. */
static bool load_file(const struct ctl *ctl, const char *path, struct docs *all)
{
	struct policy_document *d = NULL;
	size_t n = 0, len = 0;
	char err[1024];
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *text;

	if (!f) {
		ctl_fail(ctl, "%s: %s", path, strerror(errno));
		return false;
	}
	text = read_stream(f, &len);
	if (f != stdin)
		fclose(f);
	if (!text) {
		ctl_fail(ctl, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!policy_documents_load(strcmp(path, "-") ? path : "<stdin>", text, len, &d, &n, err,
				   sizeof(err))) {
		free(text);
		ctl_fail(ctl, "%s", err);
		return false;
	}
	free(text);
	struct policy_document *p = realloc(all->d, (all->n + n) * sizeof(*p));
	if (!p && all->n + n) {
		policy_documents_free(d, n);
		ctl_fail(ctl, "out of memory");
		return false;
	}
	all->d = p;
	memcpy(all->d + all->n, d, n * sizeof(*d));
	all->n += n;
	free(d); /* the objects now belong to all */
	return true;
}

static bool policy_ext(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

static bool load_path(const struct ctl *ctl, const char *path, struct docs *all)
{
	struct dirent **ents = NULL;
	struct stat st;
	bool ok = true;
	int n;

	if (strcmp(path, "-") == 0 || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return load_file(ctl, path, all);
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		ctl_fail(ctl, "%s: %s", path, strerror(errno));
		return false;
	}
	for (int i = 0; i < n; i++) {
		char child[4096];

		if (ok && ents[i]->d_name[0] != '.' && policy_ext(ents[i]->d_name)) {
			snprintf(child, sizeof(child), "%s/%s", path, ents[i]->d_name);
			ok = load_file(ctl, child, all);
		}
		free(ents[i]);
	}
	free(ents);
	return ok;
}

static int policy_apply(int argc, char **argv)
{
	struct args a = {0};
	struct docs all = {0};
	struct store_policy *sp = NULL;
	size_t nsp = 0;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl policy apply");
	rc = parse(&ctl, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return ctl_usage_error(&ctl, "unexpected argument '%s' (use -f)", argv[optind]);
	if (!a.n_files)
		return ctl_usage_error(&ctl, "-f FILE|DIR|- is required");
	for (size_t i = 0; i < a.n_files; i++)
		if (!load_path(&ctl, a.files[i], &all)) {
			rc = CLI_EXIT_FAIL;
			goto out;
		}
	if (!all.n) {
		rc = ctl_fail(&ctl, "no policy objects found");
		goto out;
	}
	sp = calloc(all.n, sizeof(*sp));
	if (!sp) {
		rc = ctl_fail(&ctl, "out of memory");
		goto out;
	}
	/* The same object twice in one apply: the later one wins, as with kubectl. */
	for (size_t i = 0; i < all.n; i++) {
		size_t j;

		for (j = 0; j < nsp; j++)
			if (!strcmp(sp[j].namespace_, all.d[i].namespace_) &&
			    !strcmp(sp[j].name, all.d[i].name))
				break;
		snprintf(sp[j].namespace_, sizeof(sp[j].namespace_), "%s", all.d[i].namespace_);
		snprintf(sp[j].name, sizeof(sp[j].name), "%s", all.d[i].name);
		sp[j].kind = all.d[i].kind;
		sp[j].object = all.d[i].object;
		if (j == nsp)
			nsp++;
	}
	rc = ctl_connect(&ctl);
	if (rc)
		goto out;
	rc = store_policies_put(&ctl.store, sp, nsp);
	if (rc < 0) {
		rc = ctl_fail(&ctl, "%s (nothing was stored)", store_error(&ctl.store));
	} else {
		json_t *arr = json_array();

		for (size_t i = 0; i < nsp; i++) {
			if (ctl.json)
				json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "kind",
								     sp[i].kind, "namespace",
								     sp[i].namespace_, "name",
								     sp[i].name));
			else
				printf("%s %s%s%s applied\n", sp[i].kind, sp[i].namespace_,
				       sp[i].namespace_[0] ? "/" : "", sp[i].name);
		}
		if (ctl.json)
			ctl_print_json(arr);
		else
			json_decref(arr);
		rc = CLI_EXIT_OK;
	}
	ctl_close(&ctl);
out:
	free(sp);
	policy_documents_free(all.d, all.n);
	return rc;
}

/* NAME with -n/--clusterwide, or NS/NAME. */
static int target(struct ctl *ctl, int argc, char **argv, const struct args *a, char *ns,
		  char *name)
{
	const char *arg, *slash;

	if (optind + 1 != argc)
		return ctl_usage_error(ctl, "expected one policy name");
	arg = argv[optind];
	slash = strchr(arg, '/');
	if (slash) {
		if (a->ns || a->clusterwide)
			return ctl_usage_error(ctl, "give NS/NAME or -n NS NAME, not both");
		snprintf(ns, STORE_NAME_MAX, "%.*s", (int)(slash - arg), arg);
		snprintf(name, STORE_NAME_MAX, "%s", slash + 1);
		if (!strcmp(ns, "_cluster"))
			ns[0] = '\0';
	} else {
		if (a->ns && a->clusterwide)
			return ctl_usage_error(ctl, "-n and --clusterwide exclude each other");
		snprintf(ns, STORE_NAME_MAX, "%s",
			 a->clusterwide ? "" : (a->ns ? a->ns : "default"));
		snprintf(name, STORE_NAME_MAX, "%s", arg);
	}
	if ((ns[0] && !store_name_valid(ns, false)) || !store_name_valid(name, true))
		return ctl_usage_error(ctl, "'%s': not a valid namespace/name", arg);
	return -1;
}

/* What delete and get start with: options, the one NAME (or NS/NAME), the connection.
 * Returns -1 when connected, else an exit code. */
static int connect_target(struct ctl *ctl, const char *prog, int argc, char **argv, char *ns,
			  char *name)
{
	struct args a = {0};
	int rc;

	ctl_init(ctl, prog);
	rc = parse(ctl, argc, argv, &a);
	if (rc >= 0)
		return rc;
	rc = target(ctl, argc, argv, &a, ns, name);
	if (rc >= 0)
		return rc;
	rc = ctl_connect(ctl);
	return rc ? rc : -1;
}

static int policy_delete(int argc, char **argv)
{
	char ns[STORE_NAME_MAX], name[STORE_NAME_MAX];
	struct ctl ctl;
	int rc;

	rc = connect_target(&ctl, "pseudopodctl policy delete", argc, argv, ns, name);
	if (rc >= 0)
		return rc;
	rc = store_policy_delete(&ctl.store, ns, name);
	if (rc < 0)
		rc = ctl_store_fail(&ctl);
	else if (!ctl.json)
		printf("policy %s%s%s deleted\n", ns, ns[0] ? "/" : "", name);
	ctl_close(&ctl);
	return rc;
}

static int policy_list(int argc, char **argv)
{
	struct store_policy *p = NULL;
	struct args a = {0};
	size_t n = 0;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl policy list");
	rc = parse(&ctl, argc, argv, &a);
	if (rc >= 0)
		return rc;
	rc = ctl_connect_no_args(&ctl, argc, argv);
	if (rc)
		return rc;
	rc = store_load_policies(&ctl.store, &p, &n, NULL);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		json_t *arr = json_array();
		struct ctl_table t;

		ctl_table_init(&t, 3, "NAMESPACE", "NAME", "KIND");
		for (size_t i = 0; i < n; i++) {
			if (a.ns && strcmp(a.ns, p[i].namespace_))
				continue;
			if (a.clusterwide && p[i].namespace_[0])
				continue;
			if (ctl.json)
				json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "namespace",
								     p[i].namespace_, "name",
								     p[i].name, "kind", p[i].kind));
			else
				ctl_table_row(&t, p[i].namespace_[0] ? p[i].namespace_ : "-",
					      p[i].name, p[i].kind);
		}
		ctl_print_result(&ctl, arr, &t);
	}
	store_policies_free(p, n);
	ctl_close(&ctl);
	return rc;
}

static int policy_get(int argc, char **argv)
{
	char ns[STORE_NAME_MAX], name[STORE_NAME_MAX];
	struct store_policy *p = NULL;
	size_t n = 0;
	struct ctl ctl;
	int rc;

	rc = connect_target(&ctl, "pseudopodctl policy get", argc, argv, ns, name);
	if (rc >= 0)
		return rc;
	rc = store_load_policies(&ctl.store, &p, &n, NULL);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		size_t i;

		for (i = 0; i < n; i++)
			if (!strcmp(p[i].namespace_, ns) && !strcmp(p[i].name, name))
				break;
		if (i == n) {
			rc = ctl_fail(&ctl, "policy %s%s%s: not found", ns, ns[0] ? "/" : "", name);
		} else {
			ctl_print_json(json_incref(p[i].object));
			rc = CLI_EXIT_OK;
		}
	}
	store_policies_free(p, n);
	ctl_close(&ctl);
	return rc;
}

static const char usage[] =
    "Usage: pseudopodctl policy COMMAND [ARGS...]\n"
    "\n"
    "Network policies: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and\n"
    "networking.k8s.io/v1 NetworkPolicy, as YAML or JSON.\n";

static const struct cli_command commands[] = {
    {"apply", policy_apply, "store policies from -f FILE|DIR|- (all or nothing)"},
    {"delete", policy_delete, "delete a policy by namespace/name"},
    {"list", policy_list, "list stored policies"},
    {"get", policy_get, "print one stored policy"},
    {"trace", ctl_policy_trace, "would this flow be allowed? (store or --offline)"},
    {NULL, NULL, NULL},
};

int ctl_cmd_policy(int argc, char **argv)
{
	return cli_dispatch("pseudopodctl policy", usage, commands, argc, argv);
}

// SPDX-License-Identifier: GPL-2.0-only
/* pseudopodctl workload list|get|delete: enrolled machines (written by enrollment). */
#include "cluster/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/ctl.h"
#include "enroll/server.h"
#include "lib/cli.h"
#include "lib/kv/kv.h"

static const struct option opts[] = {CTL_STORE_OPTIONS};

static void help(FILE *out)
{
	fprintf(out,
		"Usage: pseudopodctl workload list [-o json]\n"
		"       pseudopodctl workload get NAME [-o json]\n"
		"       pseudopodctl workload delete NAME\n"
		"\n"
		"Enrolled machines. ALIVE says whether the machine's agent holds its lease.\n"
		"delete removes the workload record, its sub-keys and its ipcache entry in one\n"
		"transaction, then the machine's etcd user and role (when etcd auth is on).\n\n");
	ctl_print_store_help(out);
}

static int parse(struct ctl *ctl, int argc, char **argv)
{
	return ctl_parse(ctl, argc, argv, CTL_SHORT, opts, help, NULL, NULL);
}

static json_t *workload_json(const struct store_workload *w, bool alive)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:I, s:o, s:s, s:s, s:I, s:b}", "name", w->name, "namespace",
		      w->namespace_, "identity", (json_int_t)w->identity, "labels",
		      label_set_to_json(&w->labels), "overlay_ip", w->overlay_ip, "underlay_ip",
		      w->underlay_ip, "enrolled_at", (json_int_t)w->enrolled_at, "alive", alive);

	if (o && w->wg_public_key[0])
		json_object_set_new(o, "wg_public_key", json_string(w->wg_public_key));
	return o;
}

static void fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
}

static int load(struct ctl *ctl, struct store_workload **w, size_t *n, bool **alive)
{
	int rc = store_load_workloads(&ctl->store, w, n);

	if (rc < 0)
		return rc;
	*alive = calloc(*n ? *n : 1, sizeof(bool));
	if (!*alive)
		return -ENOMEM;
	for (size_t i = 0; i < *n && rc == 0; i++)
		rc = store_workload_alive(&ctl->store, (*w)[i].name, &(*alive)[i]);
	return rc;
}

static int workload_list(int argc, char **argv)
{
	struct store_workload *w = NULL;
	bool *alive = NULL;
	size_t n = 0;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl workload list");
	rc = parse(&ctl, argc, argv);
	if (rc >= 0)
		return rc;
	rc = ctl_connect_no_args(&ctl, argc, argv);
	if (rc)
		return rc;
	rc = load(&ctl, &w, &n, &alive);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else if (ctl.json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, workload_json(&w[i], alive[i]));
		ctl_print_json(arr);
	} else {
		struct ctl_table t;

		ctl_table_init(&t, 7, "NAME", "NAMESPACE", "IDENTITY", "OVERLAY-IP", "UNDERLAY-IP",
			       "ALIVE", "ENROLLED");
		for (size_t i = 0; i < n; i++) {
			char num[16], when[32];

			snprintf(num, sizeof(num), "%u", w[i].identity);
			fmt_time(w[i].enrolled_at, when, sizeof(when));
			ctl_table_row(&t, w[i].name, w[i].namespace_, num, w[i].overlay_ip,
				      w[i].underlay_ip, alive[i] ? "yes" : "no", when);
		}
		ctl_table_print(&t, stdout);
	}
	free(alive);
	store_workloads_free(w, n);
	ctl_close(&ctl);
	return rc;
}

static int workload_get(int argc, char **argv)
{
	struct store_workload *w = NULL;
	bool *alive = NULL;
	size_t n = 0, i;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl workload get");
	rc = parse(&ctl, argc, argv);
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc)
		return ctl_usage_error(&ctl, "expected one workload name");
	rc = ctl_connect(&ctl);
	if (rc)
		return rc;
	rc = load(&ctl, &w, &n, &alive);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!strcmp(w[i].name, argv[optind]))
			break;
	if (i == n) {
		rc = ctl_fail(&ctl, "workload %s: not found", argv[optind]);
	} else if (ctl.json) {
		ctl_print_json(workload_json(&w[i], alive[i]));
	} else {
		char when[32], *labels = label_set_to_string(&w[i].labels);

		fmt_time(w[i].enrolled_at, when, sizeof(when));
		printf("name:          %s\nnamespace:     %s\nidentity:      %u\n"
		       "labels:        %s\noverlay-ip:    %s\nunderlay-ip:   %s\n"
		       "wg-public-key: %s\nenrolled:      %s\nalive:         %s\n",
		       w[i].name, w[i].namespace_, w[i].identity, labels ? labels : "",
		       w[i].overlay_ip, w[i].underlay_ip,
		       w[i].wg_public_key[0] ? w[i].wg_public_key : "-", when,
		       alive[i] ? "yes" : "no");
		free(labels);
	}
out:
	free(alive);
	store_workloads_free(w, n);
	ctl_close(&ctl);
	return rc;
}

/* The records (one txn), then the machine's etcd users/roles (its credentials die with it;
 * also the leftovers of an enrollment that never committed). */
static int delete_machine(struct store *s, const char *name)
{
	int rc = store_workload_delete(s, name), urc;

	if (rc < 0 && rc != -ENOENT)
		return rc;
	urc = enroll_machine_users_delete(s->kv, name);
	if (urc < 0 && urc != -EINVAL) {
		fprintf(stderr, "pseudopodctl workload delete: the store user of %s: %s\n", name,
			kv_error(s->kv));
		return urc;
	}
	return rc;
}

static int workload_delete(int argc, char **argv)
{
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl workload delete");
	rc = parse(&ctl, argc, argv);
	if (rc >= 0)
		return rc;
	return ctl_delete_by_name(&ctl, argc, argv, "workload", delete_machine);
}

static const char usage[] = "Usage: pseudopodctl workload COMMAND [ARGS...]\n"
			    "\n"
			    "Enrolled machines (workloads).\n";

static const struct cli_command commands[] = {
    {"list", workload_list, "list enrolled machines"},
    {"get", workload_get, "show one machine"},
    {"delete", workload_delete, "remove a machine and its ipcache entry"},
    {NULL, NULL, NULL},
};

int ctl_cmd_workload(int argc, char **argv)
{
	return cli_dispatch("pseudopodctl workload", usage, commands, argc, argv);
}

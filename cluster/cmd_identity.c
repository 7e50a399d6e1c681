// SPDX-License-Identifier: GPL-2.0-only
/* pseudopodctl identity list|get|gc */
#include "cluster/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/ctl.h"
#include "lib/cli.h"
#include "lib/parse_num.h"

enum { OPT_DRY_RUN = 1 };

static const struct option opts[] = {
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    CTL_STORE_OPTIONS,
};

static void help(FILE *out)
{
	fprintf(out,
		"Usage: pseudopodctl identity list [-o json]\n"
		"       pseudopodctl identity get ID [-o json]\n"
		"       pseudopodctl identity gc [--dry-run]\n"
		"\n"
		"Security identities (256..65535) and their label sets. gc deletes identities\n"
		"that no ipcache entry and no workload uses.\n\n");
	ctl_print_store_help(out);
}

/* --dry-run, only where the command takes it (dry_run not NULL). */
static int identity_option(struct ctl *ctl, int opt, const char *arg, void *dry_run)
{
	(void)arg;
	if (opt == OPT_DRY_RUN && dry_run) {
		*(bool *)dry_run = true;
		return -1;
	}
	return ctl_usage_error(ctl, "unknown option");
}

/* Parses options; -1 = continue, else an exit code. Positional args stay at optind. */
static int parse(struct ctl *ctl, int argc, char **argv, bool *dry_run)
{
	return ctl_parse(ctl, argc, argv, CTL_SHORT, opts, help, identity_option, dry_run);
}

static json_t *identity_json(const struct store_identity *id)
{
	return json_pack("{s:I, s:o}", "id", (json_int_t)id->id, "labels",
			 label_set_to_json(&id->labels));
}

static int identity_list(int argc, char **argv)
{
	struct store_identity *ids = NULL;
	size_t n = 0;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl identity list");
	rc = parse(&ctl, argc, argv, NULL);
	if (rc >= 0)
		return rc;
	rc = ctl_connect_no_args(&ctl, argc, argv);
	if (rc)
		return rc;
	rc = store_load_identities(&ctl.store, &ids, &n, NULL);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else if (ctl.json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, identity_json(&ids[i]));
		ctl_print_json(arr);
	} else {
		struct ctl_table t;

		ctl_table_init(&t, 2, "ID", "LABELS");
		for (size_t i = 0; i < n; i++) {
			char num[16], *labels = label_set_to_string(&ids[i].labels);

			snprintf(num, sizeof(num), "%u", ids[i].id);
			ctl_table_row(&t, num, labels ? labels : "");
			free(labels);
		}
		ctl_table_print(&t, stdout);
	}
	store_identities_free(ids, n);
	ctl_close(&ctl);
	return rc;
}

static int identity_get(int argc, char **argv)
{
	struct store_identity id;
	uint32_t num;
	struct ctl ctl;
	char why[160];
	int rc;

	ctl_init(&ctl, "pseudopodctl identity get");
	rc = parse(&ctl, argc, argv, NULL);
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc)
		return ctl_usage_error(&ctl, "expected one identity number");
	if (!parse_u32(argv[optind], STORE_IDENTITY_MIN, STORE_IDENTITY_MAX, &num, why,
		       sizeof(why)))
		return ctl_usage_error(&ctl, "identity %s", why);
	rc = ctl_connect(&ctl);
	if (rc)
		return rc;
	rc = store_identity_get(&ctl.store, (uint32_t)num, &id);
	if (rc < 0) {
		rc = ctl_store_fail(&ctl);
	} else {
		if (ctl.json) {
			ctl_print_json(identity_json(&id));
		} else {
			printf("identity %u\n", id.id);
			for (size_t i = 0; i < id.labels.n; i++)
				printf("  %s\n", id.labels.labels[i]);
		}
		store_identity_clear(&id);
	}
	ctl_close(&ctl);
	return rc;
}

static int identity_gc(int argc, char **argv)
{
	bool dry_run = false;
	size_t removed = 0;
	struct ctl ctl;
	int rc;

	ctl_init(&ctl, "pseudopodctl identity gc");
	rc = parse(&ctl, argc, argv, &dry_run);
	if (rc >= 0)
		return rc;
	rc = ctl_connect_no_args(&ctl, argc, argv);
	if (rc)
		return rc;
	rc = store_identity_gc(&ctl.store, dry_run, &removed);
	if (rc < 0)
		rc = ctl_store_fail(&ctl);
	else if (ctl.json)
		ctl_print_json(
		    json_pack("{s:I, s:b}", "removed", (json_int_t)removed, "dry_run", dry_run));
	else
		printf("%zu unused identit%s %s\n", removed, removed == 1 ? "y" : "ies",
		       dry_run ? "would be removed" : "removed");
	ctl_close(&ctl);
	return rc;
}

static const char usage[] = "Usage: pseudopodctl identity COMMAND [ARGS...]\n"
			    "\n"
			    "Security identities: numbers naming label sets.\n";

static const struct cli_command commands[] = {
    {"list", identity_list, "list identities and their labels"},
    {"get", identity_get, "show one identity"},
    {"gc", identity_gc, "delete identities nothing uses"},
    {NULL, NULL, NULL},
};

int ctl_cmd_identity(int argc, char **argv)
{
	return cli_dispatch("pseudopodctl identity", usage, commands, argc, argv);
}

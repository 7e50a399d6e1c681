// SPDX-License-Identifier: GPL-2.0-only
/*
 * pp-dpbench-report: turns the measurement records of one benchmark run (JSON lines
 * from pp-dpbench-pkt and pp-dpbench-traffic) into the table, or one JSON object, with
 * the targets of issue 6 evaluated next to the figures.
 *
 *   pp-dpbench-report [--json] [--mode quick|full] FILE
 *
 * A target is "met", "NOT MET", or "not measured" when a figure it needs is missing;
 * nothing is rounded in a target's favour. Exit status: 0 when every expected figure
 * was produced (whether or not targets were met), 1 when a record carries an error or
 * a figure is missing, 2 on usage errors or an unreadable file. Targets never affect
 * the exit status: the quick run in the test suite must not fail because of noise.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *const filters[] = {"none", "tc-empty", "pseudopod", "iptables", "nftables"};
#define N_FILTERS 5

struct run {
	json_t *pkt;	 /* array of pkt records */
	json_t *traffic; /* array of traffic records */
	json_t *targets; /* array of {target, status, detail} */
	int errors;	 /* records with "error" */
};

static double num(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s ? s : "";
}

/* The pkt record for case/entries, or NULL. */
static json_t *find_pkt(const struct run *r, const char *name, double entries)
{
	size_t i;
	json_t *rec;

	for (i = 0; i < json_array_size(r->pkt); i++) {
		rec = json_array_get(r->pkt, i);
		if (!strcmp(str(rec, "case"), name) && num(rec, "entries") == entries)
			return rec;
	}
	return NULL;
}

static json_t *find_traffic(const struct run *r, const char *test, const char *filter, double rules)
{
	size_t i;
	json_t *rec;

	for (i = 0; i < json_array_size(r->traffic); i++) {
		rec = json_array_get(r->traffic, i);
		if (!strcmp(str(rec, "test"), test) && !strcmp(str(rec, "filter"), filter) &&
		    (rules < 0 || num(rec, "rules") == rules))
			return rec;
	}
	return NULL;
}

static bool has_figures(const json_t *rec, const char *key)
{
	return rec && !json_object_get(rec, "error") && !isnan(num(rec, key));
}

/* Sorted distinct values of `key` among records of `arr` matching field=value. */
static int distinct(const json_t *arr, const char *key, const char *field, const char *value,
		    double *out, int max)
{
	size_t i;
	int n = 0;

	for (i = 0; i < json_array_size(arr); i++) {
		json_t *rec = json_array_get(arr, i);
		double v = num(rec, key);
		int k;

		if (field && strcmp(str(rec, field), value))
			continue;
		if (isnan(v))
			continue;
		for (k = 0; k < n && out[k] != v; k++)
			;
		if (k < n || n == max)
			continue;
		out[n++] = v;
	}
	for (int a = 1; a < n; a++)
		for (int b = a; b > 0 && out[b - 1] > out[b]; b--) {
			double t = out[b];

			out[b] = out[b - 1];
			out[b - 1] = t;
		}
	return n;
}

static void target(struct run *r, const char *name, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void target(struct run *r, const char *name, const char *status, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	json_t *t = json_object();

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_object_set_new(t, "target", json_string(name));
	json_object_set_new(t, "status", json_string(status));
	json_object_set_new(t, "detail", json_string(detail));
	json_array_append_new(r->targets, t);
}

/* "met" / "NOT MET", marked when measured at a smaller size than the target names (quick). */
static const char *status(bool ok, bool smaller)
{
	if (smaller)
		return ok ? "met (small N)" : "NOT MET (small N)";
	return ok ? "met" : "NOT MET";
}

/* Target 1: established-flow cost within 30 ns of the empty program (worst size). */
static void target_established(struct run *r)
{
	static const char *name = "established-flow cost within 30 ns of the empty program";
	json_t *empty = find_pkt(r, "empty", 0);
	double sizes[16], worst = -INFINITY;
	int n = distinct(r->pkt, "entries", "case", "established", sizes, 16), used = 0;
	char list[256] = "";
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		json_t *e = find_pkt(r, "established", sizes[i]);
		double d;

		if (!has_figures(e, "median_ns") || !has_figures(empty, "median_ns"))
			continue;
		d = num(e, "median_ns") - num(empty, "median_ns");
		used++;
		if (d > worst)
			worst = d;
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%+.0f ns at %.0f", len ? ", " : "", d, sizes[i]);
	}
	if (!used) {
		target(r, name, "not measured", "no established-flow or empty-program figure");
		return;
	}
	target(r, name, worst <= 30 ? "met" : "NOT MET", "median over the floor: %s", list);
}

/* Target 2: new-flow cost at the largest size under 2x its cost at the smallest. */
static void target_new_flow(struct run *r)
{
	static const char *name = "new-flow cost at 100k entries under 2x its cost at 10";
	json_t *empty = find_pkt(r, "empty", 0), *lo, *hi;
	double sizes[16], floor_ns, ratio;
	int n = distinct(r->pkt, "entries", "case", "new_flow", sizes, 16);

	lo = n ? find_pkt(r, "new_flow", sizes[0]) : NULL;
	hi = n ? find_pkt(r, "new_flow", sizes[n - 1]) : NULL;
	if (n < 2 || !has_figures(lo, "median_ns") || !has_figures(hi, "median_ns") ||
	    !has_figures(empty, "median_ns")) {
		target(r, name, "not measured",
		       "needs new-flow figures at two sizes and the floor");
		return;
	}
	/* The program's own cost: the harness's fixed part (the floor) would flatter it. */
	floor_ns = num(empty, "median_ns");
	ratio = (num(hi, "median_ns") - floor_ns) / (num(lo, "median_ns") - floor_ns);
	target(r, name, status(ratio < 2, sizes[n - 1] < 100000),
	       "%.2fx over the floor (%.0f ns at %.0f vs %.0f ns at %.0f; %.2fx with the floor "
	       "included)%s",
	       ratio, num(hi, "median_ns") - floor_ns, sizes[n - 1],
	       num(lo, "median_ns") - floor_ns, sizes[0],
	       num(hi, "median_ns") / num(lo, "median_ns"),
	       sizes[n - 1] < 100000 ? " — largest size measured is below 100k" : "");
}

/* Target 3: pseudopod at the most rules within 10% of no filter, per test. */
static void target_throughput(struct run *r, const char *test)
{
	char name[128];
	double rules[16];
	int n = distinct(r->traffic, "rules", "filter", "pseudopod", rules, 16);
	json_t *none = find_traffic(r, test, "none", -1), *pp;
	double rel;

	snprintf(name, sizeof(name),
		 "%s throughput with pseudopod at 10k rules within 10%% of no filter",
		 !strcmp(test, "udp") ? "UDP" : "TCP_RR");
	pp = n ? find_traffic(r, test, "pseudopod", rules[n - 1]) : NULL;
	if (!has_figures(none, "rate_cpu") || !has_figures(pp, "rate_cpu")) {
		target(r, name, "not measured", "needs the no-filter and pseudopod figures");
		return;
	}
	/* Judged per CPU-second (robust to other work on the machine); the wall-clock
	 * figures are printed next to it. */
	rel = num(pp, "rate_cpu") / num(none, "rate_cpu") - 1;
	target(r, name, status(rel >= -0.10, rules[n - 1] < 10000),
	       "%+.1f%% per CPU-second at %.0f rules (%.0f vs %.0f); wall clock %+.1f%% (%.0f vs "
	       "%.0f /s)%s",
	       100 * rel, rules[n - 1], num(pp, "rate_cpu"), num(none, "rate_cpu"),
	       100 * (num(pp, "rate") / num(none, "rate") - 1), num(pp, "rate"), num(none, "rate"),
	       rules[n - 1] < 10000 ? " — largest rule count measured is below 10k" : "");
}

/* Target 4: the iptables figures show a per-rule cost (CPU per packet grows with N). */
static void target_iptables(struct run *r)
{
	static const char *name = "iptables shows the linear per-rule cost (UDP)";
	double rules[16];
	int n = distinct(r->traffic, "rules", "filter", "iptables", rules, 16);
	json_t *lo, *hi, *nft_lo, *nft_hi;
	double slope, nft_slope = NAN;
	char nft[48];

	lo = n ? find_traffic(r, "udp", "iptables", rules[0]) : NULL;
	hi = n ? find_traffic(r, "udp", "iptables", rules[n - 1]) : NULL;
	if (n < 2 || !has_figures(lo, "proc_cpu_ns_per_op") ||
	    !has_figures(hi, "proc_cpu_ns_per_op")) {
		target(r, name, "not measured", "needs iptables UDP figures at two rule counts");
		return;
	}
	slope = (num(hi, "proc_cpu_ns_per_op") - num(lo, "proc_cpu_ns_per_op")) /
		(rules[n - 1] - rules[0]);
	nft_lo = find_traffic(r, "udp", "nftables", rules[0]);
	nft_hi = find_traffic(r, "udp", "nftables", rules[n - 1]);
	if (has_figures(nft_lo, "proc_cpu_ns_per_op") && has_figures(nft_hi, "proc_cpu_ns_per_op"))
		nft_slope =
		    (num(nft_hi, "proc_cpu_ns_per_op") - num(nft_lo, "proc_cpu_ns_per_op")) /
		    (rules[n - 1] - rules[0]);
	if (isnan(nft_slope))
		snprintf(nft, sizeof(nft), "not measured");
	else
		snprintf(nft, sizeof(nft), "%+.2f ns per element", nft_slope);
	target(r, name, num(hi, "rate_cpu") < num(lo, "rate_cpu") / 2 ? "shown" : "NOT SHOWN",
	       "%.1f ns CPU per rule per packet; %.0f -> %.0f pkt per CPU-second (wall %.0f -> "
	       "%.0f pkt/s) from %.0f to %.0f rules (nftables set: %s)",
	       slope, num(lo, "rate_cpu"), num(hi, "rate_cpu"), num(lo, "rate"), num(hi, "rate"),
	       rules[0], rules[n - 1], nft);
}

/* One right-aligned column: a space, then the value or "-" when there is none. */
static void cell(double v, int width, int decimals, bool sign, const char *suffix)
{
	if (isnan(v))
		printf(" %*s%s", width, "-", suffix[0] ? " " : "");
	else if (sign)
		printf(" %+*.*f%s", width, decimals, v, suffix);
	else
		printf(" %*.*f%s", width, decimals, v, suffix);
}

static void print_pkt(const struct run *r)
{
	static const char *const cases[] = {
	    "empty",  "lpm_lookup", "hash_lookup",  "new_flow", "established",
	    "denied", "new_flow6",  "established6", "denied6",
	};
	static const char *const labels[] = {
	    "empty (floor)", "1 LPM lookup", "1 hash lookup",  "new flow",  "established",
	    "denied",	     "new flow v6",  "established v6", "denied v6",
	};
	const int n_cases = (int)(sizeof(cases) / sizeof(cases[0]));
	json_t *empty = find_pkt(r, "empty", 0);
	double sizes[16];
	int n = distinct(r->pkt, "entries", NULL, NULL, sizes, 16);

	printf("Per-packet cost: BPF_PROG_TEST_RUN, 1 packet per call, random flows (ns)\n");
	printf("%-14s %8s %8s %8s %8s %8s %9s\n", "case", "entries", "median", "mean", "p90", "hot",
	       "-floor");
	for (int c = 0; c < n_cases; c++)
		for (int i = 0; i < n; i++) {
			json_t *rec = find_pkt(r, cases[c], sizes[i]);

			if (!rec || (c == 0) != (sizes[i] == 0))
				continue;
			printf("%-14s", labels[c]);
			cell(sizes[i] ? sizes[i] : NAN, 8, 0, false, "");
			printf(" ");
			if (json_object_get(rec, "error")) {
				printf("n/a: %s\n", str(rec, "error"));
				continue;
			}
			cell(num(rec, "median_ns"), 8, 0, false, "");
			cell(num(rec, "mean_ns"), 8, 1, false, "");
			cell(num(rec, "p90_ns"), 8, 0, false, "");
			cell(num(rec, "hot_ns"), 8, 0, false, "");
			cell(c ? num(rec, "median_ns") - num(empty, "median_ns") : NAN, 9, 0, true,
			     "");
			printf("\n");
		}
	printf("\n");
}

static void print_traffic(const struct run *r, const char *test)
{
	bool udp = !strcmp(test, "udp");
	json_t *none = find_traffic(r, test, "none", -1), *any = find_traffic(r, test, "none", -1);
	double rules[16];
	int n = distinct(r->traffic, "rules", "test", test, rules, 16);

	if (!any) {
		size_t i;

		for (i = 0; i < json_array_size(r->traffic) && !any; i++)
			if (!strcmp(str(json_array_get(r->traffic, i), "test"), test))
				any = json_array_get(r->traffic, i);
	}
	if (!any)
		return;
	if (udp)
		printf(
		    "Real traffic over veth: UDP, %.0f-byte datagrams, %.0f per run, fastest run\n",
		    num(any, "payload"), num(any, "count"));
	else
		printf("Real traffic over veth: TCP request/response, %.0f bytes each way, %.0f "
		       "transactions per run, fastest run\n",
		       num(any, "payload"), num(any, "count"));
	printf("%-10s %6s %10s %10s %8s %7s %6s %10s %10s %4s\n", "filter", "rules",
	       udp ? "pkt/s" : "trans/s", "per CPU-s", "vs none", "spread", udp ? "loss%" : "",
	       udp ? "CPU ns/pkt" : "CPU ns/tr", "machine ns", "runs");
	for (int f = 0; f < N_FILTERS; f++)
		for (int i = 0; i < n; i++) {
			json_t *rec = find_traffic(r, test, filters[f], rules[i]);

			if (!rec)
				continue;
			printf("%-10s %6.0f", filters[f], rules[i]);
			if (json_object_get(rec, "error")) {
				printf(" n/a: %s\n", str(rec, "error"));
				continue;
			}
			cell(num(rec, "rate"), 10, 0, false, "");
			cell(num(rec, "rate_cpu"), 10, 0, false, "");
			cell(has_figures(none, "rate_cpu")
				 ? 100 * (num(rec, "rate_cpu") / num(none, "rate_cpu") - 1)
				 : NAN,
			     6, 1, true, "%");
			/* How far apart the runs were: differences smaller than this are noise. */
			cell(100 * (1 - num(rec, "rate_cpu_min") / num(rec, "rate_cpu_max")), 5, 1,
			     false, "%");
			cell(udp ? num(rec, "loss_pct") : NAN, 6, 1, false, "");
			cell(num(rec, "proc_cpu_ns_per_op"), 10, 0, false, "");
			cell(num(rec, "machine_cpu_ns_per_op"), 10, 0, false, "");
			cell(num(rec, "runs"), 4, 0, false, "");
			printf("\n");
		}
	printf("\n");
}

static bool load(const char *path, struct run *r)
{
	FILE *f = fopen(path, "re");
	char line[8192];
	int lineno = 0;

	if (!f) {
		fprintf(stderr, "pp-dpbench-report: %s: %s\n", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		json_error_t jerr;
		json_t *rec;
		const char *part;

		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		rec = json_loads(line, 0, &jerr);
		part = rec ? str(rec, "part") : "";
		if (!rec || !json_is_object(rec) ||
		    (strcmp(part, "pkt") && strcmp(part, "traffic"))) {
			/* A generator that crashed mid-line: count it as a missing figure. */
			fprintf(stderr, "pp-dpbench-report: %s:%d: not a measurement record (%s)\n",
				path, lineno, rec ? "no part pkt|traffic" : jerr.text);
			json_decref(rec);
			r->errors++;
			continue;
		}
		if (json_object_get(rec, "error"))
			r->errors++;
		json_array_append_new(strcmp(part, "pkt") ? r->traffic : r->pkt, rec);
	}
	fclose(f);
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"mode", required_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	struct run r = {json_array(), json_array(), json_array(), 0};
	const char *mode = "full";
	bool as_json = false;
	struct utsname u;
	size_t i;
	json_t *t;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'j')
			as_json = true;
		else if (c == 'm')
			mode = optarg;
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: pp-dpbench-report [--json] [--mode quick|full] FILE\n");
		return 2;
	}
	if (!load(argv[optind], &r))
		return 2;
	if (!json_array_size(r.pkt) || !json_array_size(r.traffic))
		r.errors++;
	uname(&u);

	target_established(&r);
	target_new_flow(&r);
	target_throughput(&r, "udp");
	target_throughput(&r, "rr");
	target_iptables(&r);
	rc = r.errors ? 1 : 0;

	if (as_json) {
		json_t *out = json_object();
		char *text;

		json_object_set_new(out, "benchmark", json_string("datapath"));
		json_object_set_new(out, "mode", json_string(mode));
		json_object_set_new(out, "kernel", json_string(u.release));
		json_object_set_new(out, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
		json_object_set_new(out, "complete", json_boolean(!r.errors));
		json_object_set(out, "per_packet", r.pkt);
		json_object_set(out, "traffic", r.traffic);
		json_object_set(out, "targets", r.targets);
		text = json_dumps(out, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(out);
	} else {
		printf("pseudopod datapath benchmark (%s mode), kernel %s, %ld CPUs\n\n", mode,
		       u.release, sysconf(_SC_NPROCESSORS_ONLN));
		print_pkt(&r);
		print_traffic(&r, "udp");
		print_traffic(&r, "rr");
		printf("Targets (issue 6)\n");
		for (i = 0; i < json_array_size(r.targets); i++) {
			t = json_array_get(r.targets, i);
			printf("  %-17s %s: %s\n", str(t, "status"), str(t, "target"),
			       str(t, "detail"));
		}
		if (r.errors)
			printf("\nINCOMPLETE: %d figure(s) missing; see the n/a lines above.\n",
			       r.errors);
	}
	json_decref(r.pkt);
	json_decref(r.traffic);
	json_decref(r.targets);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics: registry, Prometheus text exposition 0.0.4, and the /metrics listener
 * (contract in metrics.h). The text format is simple enough that a client library would
 * add a dependency for ~100 lines; the escaping rules are the format's own (label values:
 * \\, \", \n; HELP: \\, \n).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "agent/metrics.h"
#include "bpf/dp.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/parse_num.h"

#define MAX_LABELS 3

enum metric_type { COUNTER, GAUGE };

struct family_def {
	const char *name;
	enum metric_type type;
	const char *help;
	const char *labels[MAX_LABELS]; /* NULL-terminated */
};

static const struct family_def defs[] = {
    {"pseudopod_forward_count_total", COUNTER, "Packets forwarded by the datapath.", {"direction"}},
    {"pseudopod_forward_bytes_total", COUNTER, "Bytes forwarded by the datapath.", {"direction"}},
    {"pseudopod_drop_count_total",
     COUNTER,
     "Packets dropped by the datapath.",
     {"reason", "direction"}},
    {"pseudopod_drop_bytes_total",
     COUNTER,
     "Bytes dropped by the datapath.",
     {"reason", "direction"}},
    {"pseudopod_policy_verdicts_total",
     COUNTER,
     "New flows judged by policy: allowed, denied (explicit deny) or default-denied.",
     {"direction", "action"}},
    {"pseudopod_events_lost_total",
     COUNTER,
     "Flow events the datapath could not report (rate limit or full ring buffer).",
     {NULL}},
    {"pseudopod_identities", GAUGE, "Security identities known to the agent.", {NULL}},
    {"pseudopod_ipcache_entries", GAUGE, "Entries in the datapath's ipcache.", {NULL}},
    {"pseudopod_policy_revision",
     GAUGE,
     "Store revision of the policy state last applied.",
     {NULL}},
    {"pseudopod_policy_entries",
     GAUGE,
     "Policy entries of this machine's endpoint.",
     {"direction"}},
    {"pseudopod_store_connected",
     GAUGE,
     "1 when the store (etcd) is reachable, 0 when not.",
     {NULL}},
    {"pseudopod_store_last_sync_age_seconds",
     GAUGE,
     "Seconds since the last change from the store was applied.",
     {NULL}},
    {"pseudopod_store_sync_lag_seconds",
     GAUGE,
     "Seconds between a store change and its application at the last sync.",
     {NULL}},
    {"pseudopod_tunnel_peers", GAUGE, "Tunnel peers configured.", {NULL}},
    {"pseudopod_tunnel_handshake_age_seconds",
     GAUGE,
     "Seconds since the last WireGuard handshake with each gateway.",
     {"gateway"}},
    {"pseudopod_enrolled", GAUGE, "1 when this machine is enrolled, 0 when not.", {NULL}},
    {"pseudopod_build_info", GAUGE, "Build information (value always 1).", {"version"}},
};
#define N_FAMILIES (sizeof(defs) / sizeof(defs[0]))

struct sample {
	char *labels[MAX_LABELS];
	double value;
	bool is_age;
	uint64_t since_ns;
};

struct family {
	struct sample *samples;
	size_t n;
};

struct metrics {
	struct family fam[N_FAMILIES];
};

static size_t n_labels(const struct family_def *d)
{
	size_t n = 0;

	while (n < MAX_LABELS && d->labels[n])
		n++;
	return n;
}

int metrics_new(struct metrics **out)
{
	static const char *const version[] = {PSEUDOPOD_VERSION, NULL};
	struct metrics *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	err = metrics_set(m, "pseudopod_build_info", version, 1);
	if (err) {
		metrics_free(m);
		return err;
	}
	*out = m;
	return 0;
}

static void family_clear(struct family *f, size_t nl)
{
	for (size_t i = 0; i < f->n; i++)
		for (size_t j = 0; j < nl; j++)
			free(f->samples[i].labels[j]);
	free(f->samples);
	f->samples = NULL;
	f->n = 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < N_FAMILIES; i++)
		family_clear(&m->fam[i], n_labels(&defs[i]));
	free(m);
}

static int family_index(const char *name)
{
	for (size_t i = 0; i < N_FAMILIES; i++)
		if (!strcmp(defs[i].name, name))
			return (int)i;
	return -1;
}

/* The sample with these label values, created when missing; NULL with *err set. */
static struct sample *sample_get(struct metrics *m, const char *name, const char *const *labels,
				 int *err)
{
	int fi = family_index(name);
	struct family *f;
	struct sample *s;
	size_t nl, i, j;

	*err = -EINVAL;
	if (fi < 0)
		return NULL;
	f = &m->fam[fi];
	nl = n_labels(&defs[fi]);
	for (j = 0; j < nl; j++)
		if (!labels || !labels[j])
			return NULL;
	if (labels && labels[nl]) /* more values than the family has labels */
		return NULL;
	for (i = 0; i < f->n; i++) {
		for (j = 0; j < nl && !strcmp(f->samples[i].labels[j], labels[j]); j++)
			;
		if (j == nl)
			return &f->samples[i];
	}
	*err = -ENOMEM;
	s = realloc(f->samples, (f->n + 1) * sizeof(*s));
	if (!s)
		return NULL;
	f->samples = s;
	s = &f->samples[f->n];
	memset(s, 0, sizeof(*s));
	for (j = 0; j < nl; j++) {
		s->labels[j] = strdup(labels[j]);
		if (!s->labels[j]) {
			while (j--)
				free(s->labels[j]);
			return NULL;
		}
	}
	f->n++;
	return s;
}

int metrics_set(struct metrics *m, const char *name, const char *const *labels, double value)
{
	int err;
	struct sample *s = sample_get(m, name, labels, &err);

	if (!s)
		return err;
	s->value = value;
	s->is_age = false;
	return 0;
}

int metrics_add(struct metrics *m, const char *name, const char *const *labels, double delta)
{
	int err;
	struct sample *s = sample_get(m, name, labels, &err);

	if (!s)
		return err;
	s->value += delta;
	return 0;
}

int metrics_set_age(struct metrics *m, const char *name, const char *const *labels,
		    uint64_t since_ns)
{
	int err;
	struct sample *s = sample_get(m, name, labels, &err);

	if (!s)
		return err;
	s->is_age = true;
	s->since_ns = since_ns;
	return 0;
}

int metrics_clear(struct metrics *m, const char *name)
{
	int fi = family_index(name);

	if (fi < 0)
		return -EINVAL;
	family_clear(&m->fam[fi], n_labels(&defs[fi]));
	return 0;
}

int metrics_update_datapath(struct metrics *m, const struct dp_metric c[DP_METRICS_SLOTS])
{
	int err = 0;
	static const char *const actions[] = {"allowed", "denied", "default-denied"};

	for (unsigned int dir = 0; dir < DP_DIR_MAX; dir++) {
		const char *d = dp_dir_name(dir), *dl[] = {d, NULL};
		double fwd = 0, fwd_bytes = 0;

		for (unsigned int r = 0; r < DP_REASON_MAX; r++) {
			const struct dp_metric *x = &c[dir * DP_REASON_MAX + r];
			const char *drop[] = {dp_reason_name(r), d, NULL};

			if (!DP_REASON_IS_DROP(r)) {
				fwd += (double)x->packets;
				fwd_bytes += (double)x->bytes;
				continue;
			}
			err |=
			    metrics_set(m, "pseudopod_drop_count_total", drop, (double)x->packets);
			err |= metrics_set(m, "pseudopod_drop_bytes_total", drop, (double)x->bytes);
		}
		err |= metrics_set(m, "pseudopod_forward_count_total", dl, fwd);
		err |= metrics_set(m, "pseudopod_forward_bytes_total", dl, fwd_bytes);
		err |= metrics_set(m, "pseudopod_policy_verdicts_total",
				   (const char *[]){d, actions[0], NULL},
				   (double)c[dir * DP_REASON_MAX + DP_OK_POLICY].packets);
		err |= metrics_set(m, "pseudopod_policy_verdicts_total",
				   (const char *[]){d, actions[1], NULL},
				   (double)c[dir * DP_REASON_MAX + DP_DROP_POLICY_DENY].packets);
		err |= metrics_set(m, "pseudopod_policy_verdicts_total",
				   (const char *[]){d, actions[2], NULL},
				   (double)c[dir * DP_REASON_MAX + DP_DROP_POLICY].packets);
	}
	err |= metrics_set(m, "pseudopod_events_lost_total", NULL,
			   (double)c[DP_METRIC_EVENTS_LOST].packets);
	return err ? -ENOMEM : 0; /* the names and labels are ours: only memory can fail */
}

/* ---- rendering ---- */

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *np = realloc(b->p, b->cap * 2 + (size_t)n);

		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

/* Escapes per the format: in label values \ " and newline; in HELP \ and newline. */
static void put_escaped(struct buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(b, "\\\\");
		else if (*s == '\n')
			put(b, "\\n");
		else if (*s == '"' && quote)
			put(b, "\\\"");
		else
			put(b, "%c", *s);
	}
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Integers exactly (counters up to 2^63), other values with 15 significant digits (what a
 * double holds reliably: 0.004, not 0.0040000000000000001). */
static void put_value(struct buf *b, double v)
{
	if (isnan(v))
		put(b, "NaN\n");
	else if (isinf(v))
		put(b, v > 0 ? "+Inf\n" : "-Inf\n");
	else if (v == floor(v) && fabs(v) < 9.2e18)
		put(b, "%lld\n", (long long)v);
	else
		put(b, "%.15g\n", v);
}

static void put_sample(struct buf *b, const struct family_def *d, const struct sample *s,
		       uint64_t now)
{
	size_t nl = n_labels(d);
	double v = s->value;

	if (s->is_age)
		v = now > s->since_ns ? (double)(now - s->since_ns) / 1e9 : 0;
	put(b, "%s", d->name);
	for (size_t j = 0; j < nl; j++) {
		put(b, "%s%s=\"", j ? "," : "{", d->labels[j]);
		put_escaped(b, s->labels[j], true);
		put(b, "\"");
	}
	put(b, "%s ", nl ? "}" : "");
	put_value(b, v);
}

char *metrics_render(const struct metrics *m, uint64_t now_ns)
{
	struct buf b = {.cap = 4096};

	b.p = malloc(b.cap);
	if (!b.p)
		return NULL;
	b.p[0] = '\0';
	if (!now_ns)
		now_ns = mono_now();
	for (size_t i = 0; i < N_FAMILIES; i++) {
		put(&b, "# HELP %s ", defs[i].name);
		put_escaped(&b, defs[i].help, false);
		put(&b, "\n# TYPE %s %s\n", defs[i].name,
		    defs[i].type == COUNTER ? "counter" : "gauge");
		for (size_t j = 0; j < m->fam[i].n; j++)
			put_sample(&b, &defs[i], &m->fam[i].samples[j], now_ns);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- listener ---- */

bool metrics_address_parse(const char *text, void *storage, unsigned int *len, char *why,
			   size_t why_len)
{
	char host[64];
	const char *colon, *h = text;
	struct net_prefix ip;
	uint16_t port;
	size_t hl;

	colon = strrchr(text, ':');
	if (!colon)
		return snprintf(why, why_len, "'%s': expected HOST:PORT", text), false;
	hl = (size_t)(colon - text);
	if (text[0] == '[') { /* [v6]:port */
		if (hl < 2 || text[hl - 1] != ']')
			return snprintf(why, why_len, "'%s': expected [IPV6]:PORT", text), false;
		h = text + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return snprintf(why, why_len, "'%s': address too long", text), false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (!net_ip_parse(host, text[0] == '[' ? AF_INET6 : AF_INET, &ip, why, why_len))
		return false;
	if (!parse_u16(colon + 1, 0, 65535, &port, why, why_len))
		return false;
	memset(storage, 0, sizeof(struct sockaddr_storage));
	if (ip.family == AF_INET) {
		struct sockaddr_in *sin = storage;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip.addr, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = storage;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, ip.addr, 16);
		*len = sizeof(*sin6);
	}
	return true;
}

struct metrics_server {
	struct metrics *m;
	metrics_health_cb health;
	void *health_ctx;
	struct MHD_Daemon *mhd;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     char *text, bool must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    strlen(text), text, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r) {
		if (must_free)
			free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_scrape(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_len, void **con_cls)
{
	static const char text_type[] = "text/plain; charset=utf-8";
	struct metrics_server *s = cls;
	char why[256] = "ok", msg[300];
	char *body;

	if (*upload_len) /* bodies are not ours to read: ignore them */
		return *upload_len = 0, MHD_YES;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, 405, text_type, "only GET\n", false);
	if (!strcmp(url, "/metrics")) {
		body = metrics_render(s->m, 0);
		if (!body)
			return reply(c, 500, text_type, "out of memory\n", false);
		return reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, true);
	}
	if (!strcmp(url, "/healthz")) {
		bool ok = !s->health || s->health(why, sizeof(why), s->health_ctx);

		snprintf(msg, sizeof(msg), "%s\n", why);
		return reply(c, ok ? 200 : 503, text_type, msg, false);
	}
	return reply(c, 404, text_type, "not found (try /metrics or /healthz)\n", false);
}

/* MHD's format strings are its own literals (see api.c). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("metrics: %s", msg);
}

int metrics_server_start(struct metrics *m, const char *address, metrics_health_cb health,
			 void *health_ctx, struct metrics_server **out)
{
	struct sockaddr_storage ss;
	struct metrics_server *s;
	unsigned int len;
	char why[128];

	if (!metrics_address_parse(address, &ss, &len, why, sizeof(why))) {
		log_error("metrics-address %s", why);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->m = m;
	s->health = health;
	s->health_ctx = health_ctx;
	s->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
	    NULL, NULL, on_scrape, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 16u,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
	if (!s->mhd) {
		free(s);
		return -EADDRNOTAVAIL;
	}
	*out = s;
	return 0;
}

void metrics_server_stop(struct metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	free(s);
}

int metrics_server_fd(const struct metrics_server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

int metrics_server_timeout_ms(const struct metrics_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(s->mhd, &ms) != MHD_YES)
		return -1;
	return ms > 60000 ? 60000 : (int)ms;
}

int metrics_server_run(struct metrics_server *s)
{
	return MHD_run(s->mhd) == MHD_YES ? 0 : -EIO;
}

int metrics_server_port(const struct metrics_server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : -1;
}

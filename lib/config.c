// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table-driven: every key is one row naming its section, type, field and limits, so the
 * parser, the error messages and the "unknown key" check cannot drift apart.
 *
 * The file is read here (lib/file.h: a FIFO, device or directory fails at once) and fed to
 * inih line by line through our own reader, which counts lines: inih does not pass line
 * numbers to the handler, and the duplicate-key message needs both lines. Lines longer
 * than inih's buffer are refused before parsing; inih would split them and report a
 * syntax error on a line number that is not the file's.
 */
#include "lib/config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/file.h"
#include "lib/net.h"
#include "lib/parse_num.h"

/* KEY_FILE: an absolute path that must name an existing regular file (a CA, a password).
 * KEY_IFNAME: a network interface name. KEY_LISTEN: ADDRESS:PORT or "" (off). KEY_URLS:
 * comma-separated http(s) URLs. KEY_MTU: 0 (automatic) or min..max. KEY_IPV4: an IPv4
 * address (a host's, not a network or broadcast one) or "" (automatic). */
enum key_type {
	KEY_STRING,
	KEY_PATH,
	KEY_FILE,
	KEY_UINT,
	KEY_BOOL,
	KEY_ENUM,
	KEY_LOG_LEVEL,
	KEY_IFNAME,
	KEY_LISTEN,
	KEY_URLS,
	KEY_MTU,
	KEY_IPV4,
};

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;		    /* KEY_STRING/KEY_PATH: buffer size; KEY_UINT: 2 or 4 */
	unsigned long min, max;	    /* KEY_UINT */
	const char *const *choices; /* KEY_ENUM: NULL-terminated; the index is the value */
};

static const char *const modes[] = {"workload", "gateway", NULL};
static const char *const fail_modes[] = {"static", "closed", NULL};
static const char *const tunnels[] = {"wireguard", "vxlan", NULL};
static const char *const wg_backends[] = {"auto", "kernel", "userspace", NULL};

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define NKEYS	 (sizeof(keys) / sizeof(keys[0]))

static const struct key_def keys[] = {
    {"agent", "mode", KEY_ENUM, F(agent.mode), 0, 0, modes},
    {"agent", "name", KEY_STRING, F(agent.name), 0, 0, NULL},
    {"agent", "state-dir", KEY_PATH, F(agent.state_dir), 0, 0, NULL},
    {"agent", "bpffs-root", KEY_PATH, F(agent.bpffs_root), 0, 0, NULL},
    {"agent", "api-socket", KEY_PATH, F(agent.api_socket), 0, 0, NULL},
    {"agent", "metrics-address", KEY_LISTEN, F(agent.metrics_address), 0, 0, NULL},
    {"agent", "fail-mode", KEY_ENUM, F(agent.fail_mode), 0, 0, fail_modes},
    {"agent", "log-level", KEY_LOG_LEVEL, F(agent.log_level), 0, 0, NULL},
    {"store", "endpoints", KEY_URLS, F(store.endpoints), 0, 0, NULL},
    {"store", "prefix", KEY_STRING, F(store.prefix), 0, 0, NULL},
    {"store", "ca-file", KEY_FILE, F(store.ca_file), 0, 0, NULL},
    {"store", "cert-file", KEY_FILE, F(store.cert_file), 0, 0, NULL},
    {"store", "key-file", KEY_FILE, F(store.key_file), 0, 0, NULL},
    {"store", "user", KEY_STRING, F(store.user), 0, 0, NULL},
    {"store", "password-file", KEY_FILE, F(store.password_file), 0, 0, NULL},
    {"store", "timeout-ms", KEY_UINT, F(store.timeout_ms), 100, 600000, NULL},
    {"tunnel", "mode", KEY_ENUM, F(tunnel.mode), 0, 0, tunnels},
    {"tunnel", "device", KEY_IFNAME, F(tunnel.device), 0, 0, NULL},
    {"tunnel", "wireguard-backend", KEY_ENUM, F(tunnel.wg_backend), 0, 0, wg_backends},
    {"tunnel", "wireguard-go", KEY_STRING, F(tunnel.wireguard_go), 0, 0, NULL},
    {"tunnel", "wireguard-port", KEY_UINT, F(tunnel.wg_port), 1, 65535, NULL},
    {"tunnel", "vxlan-port", KEY_UINT, F(tunnel.vxlan_port), 1, 65535, NULL},
    {"tunnel", "mtu", KEY_MTU, F(tunnel.mtu), 0, 65535, NULL},
    {"tunnel", "keepalive", KEY_UINT, F(tunnel.keepalive_s), 0, 3600, NULL},
    {"tunnel", "handshake-stale", KEY_UINT, F(tunnel.handshake_stale_s), 10, 86400, NULL},
    {"tunnel", "failover-hold", KEY_UINT, F(tunnel.failover_hold_s), 0, 86400, NULL},
    {"tunnel", "underlay-device", KEY_IFNAME, F(tunnel.underlay_device), 0, 0, NULL},
    {"datapath", "ipcache-max", KEY_UINT, F(datapath.ipcache_max), 16, 16777216, NULL},
    {"datapath", "policy-max", KEY_UINT, F(datapath.policy_max), 16, 16777216, NULL},
    {"datapath", "conntrack-max", KEY_UINT, F(datapath.conntrack_max), 1024, 16777216, NULL},
    {"datapath", "events-per-second", KEY_UINT, F(datapath.events_per_second), 0, 10000000, NULL},
    {"datapath", "host-firewall", KEY_BOOL, F(datapath.host_firewall), 0, 0, NULL},
    {"gateway", "underlay-address", KEY_IPV4, F(gateway.underlay_address), 0, 0, NULL},
    {"gateway", "listen-port", KEY_UINT, F(gateway.listen_port), 0, 65535, NULL},
};

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->agent.mode = CONFIG_MODE_WORKLOAD;
	snprintf(cfg->agent.state_dir, sizeof(cfg->agent.state_dir), "/var/lib/pseudopod");
	snprintf(cfg->agent.bpffs_root, sizeof(cfg->agent.bpffs_root), "/sys/fs/bpf/pseudopod");
	snprintf(cfg->agent.api_socket, sizeof(cfg->agent.api_socket), "/run/pseudopod/api.sock");
	snprintf(cfg->agent.metrics_address, sizeof(cfg->agent.metrics_address), "127.0.0.1:9962");
	cfg->agent.fail_mode = CONFIG_FAIL_STATIC;
	cfg->agent.log_level = LOG_LEVEL_INFO;
	snprintf(cfg->store.prefix, sizeof(cfg->store.prefix), "/pseudopod/v1/");
	cfg->store.timeout_ms = 5000;
	cfg->tunnel.mode = CONFIG_TUNNEL_WIREGUARD;
	snprintf(cfg->tunnel.device, sizeof(cfg->tunnel.device), "pp0");
	cfg->tunnel.wg_backend = CONFIG_WG_AUTO;
	snprintf(cfg->tunnel.wireguard_go, sizeof(cfg->tunnel.wireguard_go), "wireguard-go");
	cfg->tunnel.wg_port = 51871;
	cfg->tunnel.vxlan_port = 8472;
	cfg->tunnel.keepalive_s = 5;
	cfg->tunnel.handshake_stale_s = 15;
	cfg->tunnel.failover_hold_s = 60;
	cfg->datapath.ipcache_max = 524288;
	cfg->datapath.policy_max = 16384;
	cfg->datapath.conntrack_max = 524288;
	cfg->datapath.events_per_second = 10000;
	cfg->datapath.host_firewall = false;
}

struct parse_ctx {
	struct config *cfg;
	char msg[CONFIG_ERR_MAX]; /* first error, without file:line (inih supplies the line) */
	bool failed;
	/* the reader's position: the line inih is handling and where the next one starts */
	const char *next;
	int line;
	bool continuation; /* the current line starts with whitespace (inih: multi-line) */
	int seen[64];	   /* per keys[] row: the line that set it, 0 = not yet */
};

static bool fail(struct parse_ctx *ctx, const char *section, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail(struct parse_ctx *ctx, const char *section, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ctx->failed)
		return false;
	ctx->failed = true;
	n = snprintf(ctx->msg, sizeof(ctx->msg), "[%s] %s: ", section, name);
	if (n < 0 || (size_t)n >= sizeof(ctx->msg))
		return false;
	va_start(ap, fmt);
	vsnprintf(ctx->msg + n, sizeof(ctx->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static void join_choices(const char *const *choices, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; choices[i]; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", choices[i]);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

static bool parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(value, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcmp(value, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool set_uint(struct parse_ctx *ctx, const struct key_def *k, const char *value, void *field)
{
	char why[CONFIG_ERR_MAX / 2];
	uint32_t v;

	if (!parse_u32(value, (uint32_t)k->min, (uint32_t)k->max, &v, why, sizeof(why)))
		return fail(ctx, k->section, k->name, "%s", why);
	/* The overlay carries whatever families the cluster's CIDRs have, known only after
	 * enrollment; below 1280 the kernel turns IPv6 off on the link. */
	if (k->type == KEY_MTU && v != 0 && v < CONFIG_MTU_MIN)
		return fail(ctx, k->section, k->name,
			    "%u is below %u, the least a link carrying IPv6 may have (the overlay "
			    "carries the cluster's families); 0 = the underlay MTU minus the "
			    "overhead",
			    v, CONFIG_MTU_MIN);
	if (k->size == sizeof(uint16_t))
		*(uint16_t *)field = (uint16_t)v;
	else
		*(uint32_t *)field = v;
	return true;
}

static bool set_string(struct parse_ctx *ctx, const struct key_def *k, const char *value,
		       void *field)
{
	if (strlen(value) >= k->size)
		return fail(ctx, k->section, k->name,
			    "value is %zu characters long, expected at most %zu", strlen(value),
			    k->size - 1);
	memcpy(field, value, strlen(value) + 1);
	return true;
}

/* Checked when the file is read, so a typo shows with its line, not at first use. stat()
 * rather than open(): the file may be readable only by the service that uses it. */
static bool set_file(struct parse_ctx *ctx, const struct key_def *k, const char *value, void *field)
{
	struct stat st;

	if (value[0] != '/')
		return fail(ctx, k->section, k->name,
			    "'%s' is not an absolute path, expected a path starting with /", value);
	if (stat(value, &st) < 0)
		return fail(ctx, k->section, k->name, "%s: %s", value, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(ctx, k->section, k->name, "%s: not a regular file", value);
	return set_string(ctx, k, value, field);
}

/* The kernel's dev_valid_name(): 1..IFNAMSIZ-1 bytes, no '/', ':' or whitespace, not "."
 * or "..". Anything else fails only later, inside netlink, far from the config line. */
static bool set_ifname(struct parse_ctx *ctx, const struct key_def *k, const char *value,
		       void *field)
{
	bool bad = !strcmp(value, ".") || !strcmp(value, "..");

	if (strlen(value) >= k->size)
		return set_string(ctx, k, value, field);
	for (const char *p = value; *p; p++)
		bad = bad || *p == '/' || *p == ':' || *p == ' ' || *p == '\t' || *p == '\n' ||
		      *p == '\r' || *p == '\v' || *p == '\f';
	if (bad)
		return fail(ctx, k->section, k->name,
			    "'%s' is not an interface name, expected at most 15 characters "
			    "without '/', ':' or spaces, and not '.' or '..'",
			    value);
	return set_string(ctx, k, value, field);
}

/* ADDRESS:PORT with an IP literal ("[::1]:9962" for IPv6), or "" = off. */
static bool set_listen(struct parse_ctx *ctx, const struct key_def *k, const char *value,
		       void *field)
{
	char host[NET_IP_STRLEN + 2], why[CONFIG_ERR_MAX / 2];
	const char *colon = strrchr(value, ':'), *h = value;
	size_t hlen = colon ? (size_t)(colon - value) : 0;
	struct net_prefix ip;
	uint16_t port;

	if (!value[0])
		return set_string(ctx, k, value, field);
	if (value[0] == '[') {
		if (!colon || hlen < 2 || colon[-1] != ']')
			colon = NULL;
		h++;
		hlen -= 2;
	}
	if (!colon || hlen == 0 || hlen >= sizeof(host))
		return fail(ctx, k->section, k->name,
			    "'%s': expected ADDRESS:PORT, e.g. 127.0.0.1:9962 or [::1]:9962",
			    value);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (!net_ip_parse(host, value[0] == '[' ? AF_INET6 : AF_INET, &ip, why, sizeof(why)))
		return fail(ctx, k->section, k->name, "'%s': %s (IPv6 in brackets: [::1]:9962)",
			    value, why);
	if (!parse_port(colon + 1, &port, why, sizeof(why)))
		return fail(ctx, k->section, k->name, "'%s': port %s", value, why);
	return set_string(ctx, k, value, field);
}

/* The address machines send tunnel traffic to: it is advertised in gateways/<name> and
 * becomes every machine's WireGuard endpoint, so an address no peer can reach (0.0.0.0,
 * loopback, multicast, broadcast) is refused here rather than discovered as a dead tunnel.
 * IPv4 only: the gateway registration and the machines' tunnels are IPv4 on the underlay. */
static bool set_ipv4(struct parse_ctx *ctx, const struct key_def *k, const char *value, void *field)
{
	char why[CONFIG_ERR_MAX / 2];
	struct net_prefix ip;

	if (!value[0])
		return set_string(ctx, k, value, field);
	if (!net_ip_parse(value, AF_INET, &ip, why, sizeof(why)))
		return fail(ctx, k->section, k->name,
			    "'%s': %s (this node's underlay address, e.g. 192.0.2.10)", value, why);
	if (ip.addr[0] == 0 || ip.addr[0] == 127 || ip.addr[0] >= 224)
		return fail(ctx, k->section, k->name,
			    "'%s' is not an address machines can reach (unspecified, loopback, "
			    "multicast or reserved), expected this node's underlay IPv4 address",
			    value);
	return set_string(ctx, k, value, field);
}

/* One http:// or https:// URL with a host and nothing after it but an optional '/'. */
static bool url_valid(const char *u, size_t len)
{
	size_t skip = !strncmp(u, "http://", 7) ? 7 : !strncmp(u, "https://", 8) ? 8 : 0;
	size_t host = 0;

	if (!skip)
		return false;
	for (size_t i = skip; i < len; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= ' ' || c >= 0x7f || c == '@' || c == '?' || c == '#' ||
		    (c == '/' && i + 1 != len))
			return false;
		host += c != '/';
	}
	return host > 0;
}

static bool set_urls(struct parse_ctx *ctx, const struct key_def *k, const char *value, void *field)
{
	for (const char *p = value;; p++) {
		size_t len = strcspn(p, ",");

		if (!url_valid(p, len))
			return fail(ctx, k->section, k->name,
				    "'%.*s' is not an http:// or https:// URL, expected "
				    "comma-separated etcd client URLs like https://10.0.0.1:2379",
				    (int)len, p);
		p += len;
		if (!*p)
			break;
	}
	return set_string(ctx, k, value, field);
}

static bool set_value(struct parse_ctx *ctx, const struct key_def *k, const char *value)
{
	void *field = (char *)ctx->cfg + k->offset;
	char choices[128];

	switch (k->type) {
	case KEY_PATH:
		if (value[0] != '/')
			return fail(ctx, k->section, k->name,
				    "'%s' is not an absolute path, expected a path starting with /",
				    value);
		/* fall through */
	case KEY_STRING:
		return set_string(ctx, k, value, field);
	case KEY_FILE:
		return set_file(ctx, k, value, field);
	case KEY_IFNAME:
		return set_ifname(ctx, k, value, field);
	case KEY_LISTEN:
		return set_listen(ctx, k, value, field);
	case KEY_URLS:
		return set_urls(ctx, k, value, field);
	case KEY_IPV4:
		return set_ipv4(ctx, k, value, field);
	case KEY_MTU:
	case KEY_UINT:
		return set_uint(ctx, k, value, field);
	case KEY_BOOL:
		if (!parse_bool(value, (bool *)field))
			return fail(ctx, k->section, k->name,
				    "'%s' is not a boolean, expected on or off", value);
		return true;
	case KEY_ENUM:
		for (int i = 0; k->choices[i]; i++) {
			if (!strcmp(value, k->choices[i])) {
				*(int *)field = i;
				return true;
			}
		}
		join_choices(k->choices, choices, sizeof(choices));
		return fail(ctx, k->section, k->name, "'%s' is not valid, expected one of: %s",
			    value, choices);
	case KEY_LOG_LEVEL:
		if (!log_level_parse(value, (enum log_level *)field))
			return fail(ctx, k->section, k->name,
				    "'%s' is not a log level, expected error, warn, info or debug",
				    value);
		return true;
	}
	return false;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	bool section_known = false;

	if (ctx->failed)
		return 1; /* report only the first error; inih keeps its line number */
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(section, keys[i].section) != 0)
			continue;
		section_known = true;
		if (strcmp(name, keys[i].name) != 0)
			continue;
		if (ctx->seen[i] && ctx->continuation)
			return fail(ctx, section, name,
				    "indented line continues the value of line %d; continuation "
				    "lines are not supported, expected one 'key = value' line",
				    ctx->seen[i]),
			       0;
		/* Two values for one key: which one the author meant is a guess, refuse. */
		if (ctx->seen[i])
			return fail(ctx, section, name,
				    "set again, first set on line %d; expected each key once",
				    ctx->seen[i]),
			       0;
		ctx->seen[i] = ctx->line;
		return set_value(ctx, &keys[i], value) ? 1 : 0;
	}
	if (!section_known)
		return fail(ctx, section, name,
			    "unknown section [%s], expected [agent], [store], [tunnel], "
			    "[datapath] or [gateway]",
			    section),
		       0;
	return fail(ctx, section, name, "unknown key in [%s] (see pseudopod.conf(5))", section), 0;
}

/* Checks that involve several keys; run once the whole file is read. */
static bool validate(const struct config *cfg, const char *file, char *err, size_t err_len)
{
	const struct config_store *s = &cfg->store;

	if (cfg->agent.mode == CONFIG_MODE_GATEWAY && cfg->agent.name[0] == '\0') {
		snprintf(err, err_len,
			 "%s: [agent] name: missing, required in gateway mode "
			 "(the gateway's name in the store)",
			 file);
		return false;
	}
	if (cfg->agent.mode == CONFIG_MODE_GATEWAY && s->endpoints[0] == '\0') {
		snprintf(err, err_len,
			 "%s: [store] endpoints: missing, required in gateway mode "
			 "(comma-separated etcd URLs)",
			 file);
		return false;
	}
	if ((s->cert_file[0] != '\0') != (s->key_file[0] != '\0')) {
		snprintf(err, err_len,
			 "%s: [store] %s: missing, cert-file and key-file go together", file,
			 s->cert_file[0] ? "key-file" : "cert-file");
		return false;
	}
	if (s->prefix[0] != '/' || s->prefix[strlen(s->prefix) - 1] != '/') {
		snprintf(err, err_len, "%s: [store] prefix: '%s' must start and end with /", file,
			 s->prefix);
		return false;
	}
	if (cfg->datapath.host_firewall) {
		/* Accepting "on" without enforcing anything would be a silent hole. */
		snprintf(err, err_len,
			 "%s: [datapath] host-firewall: on is not supported yet (the "
			 "underlay host firewall is planned), expected off",
			 file);
		return false;
	}
	if (cfg->tunnel.device[0] == '\0') {
		snprintf(err, err_len, "%s: [tunnel] device: empty, expected an interface name",
			 file);
		return false;
	}
	return true;
}

/* inih's reader: one line of the text per call (the caller checked every line fits). */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	size_t len;

	if (!*ctx->next)
		return NULL;
	len = strcspn(ctx->next, "\n");
	if (ctx->next[len] == '\n')
		len++;
	if (len > (size_t)num - 1)
		len = (size_t)num - 1; /* not reached: lines were checked */
	memcpy(str, ctx->next, len);
	str[len] = '\0';
	ctx->continuation = str[0] == ' ' || str[0] == '\t';
	ctx->next += len;
	ctx->line++;
	return str;
}

/* The first line inih cannot hold in its buffer (with its length), 0 when every line fits. */
static int long_line(const char *text, size_t *len)
{
	int line = 1;

	for (const char *p = text;; line++) {
		*len = strcspn(p, "\n");
		if (*len > CONFIG_LINE_MAX)
			return line;
		p += *len;
		if (!*p++)
			return 0;
	}
}

static bool finish(struct parse_ctx *ctx, int rc, const char *name, char *err, size_t err_len)
{
	if (rc == 0)
		return validate(ctx->cfg, name, err, err_len);
	if (rc == -2) {
		snprintf(err, err_len, "%s: out of memory while reading", name);
		return false;
	}
	if (ctx->failed)
		snprintf(err, err_len, "%s:%d: %s", name, rc, ctx->msg);
	else
		snprintf(err, err_len,
			 "%s:%d: syntax error, expected '[section]', 'key = value' or a comment",
			 name, rc);
	return false;
}

bool config_load_string(struct config *cfg, const char *name, const char *text, char *err,
			size_t err_len)
{
	struct parse_ctx ctx = {.cfg = cfg, .next = text};
	size_t len;
	int line = long_line(text, &len);

	_Static_assert(NKEYS <= sizeof(ctx.seen) / sizeof(ctx.seen[0]), "grow parse_ctx.seen");
	if (line) {
		snprintf(err, err_len, "%s:%d: line is %zu characters long, expected at most %d",
			 name, line, len, CONFIG_LINE_MAX);
		return false;
	}
	return finish(&ctx, ini_parse_stream(read_line, &ctx, on_key, &ctx), name, err, err_len);
}

bool config_load(struct config *cfg, const char *path, char *err, size_t err_len)
{
	char *text = malloc(CONFIG_FILE_MAX);
	size_t len;
	bool ok;
	int rc;

	if (!text) {
		snprintf(err, err_len, "%s: out of memory while reading", path);
		return false;
	}
	rc = file_read_all(path, false, text, CONFIG_FILE_MAX, &len, err, err_len);
	if (rc == -EFBIG)
		snprintf(err, err_len, "%s: larger than %d bytes, expected a pseudopod config file",
			 path, CONFIG_FILE_MAX - 1);
	else if (rc && rc != -EINVAL)
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(-rc));
	if (rc) {
		free(text);
		return false;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, err_len, "%s: contains a NUL byte, expected a text file", path);
		free(text);
		return false;
	}
	ok = config_load_string(cfg, path, text, err, err_len);
	free(text);
	return ok;
}

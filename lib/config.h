/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config: /etc/pseudopod/pseudopod.conf (INI, parsed with inih) into a typed struct.
 *
 * config_defaults() fills every field; config_load() overlays a file on top of that.
 * Errors are reported as "FILE:LINE: [section] key: what was wrong, what is expected"
 * into the caller's buffer; config_load() stops at the first error and the struct is
 * then unspecified (callers discard it). Refused besides bad values: a path that is not a
 * regular file (a directory, FIFO or device fails at once, nothing hangs), a file over
 * CONFIG_FILE_MAX bytes or with a NUL byte, a line over CONFIG_LINE_MAX characters, a key
 * given twice (both lines named), and files named by the [store] section that do not exist. The
 * example file packaging/pseudopod.conf documents every key; keep it and this header in step.
 */
#ifndef PSEUDOPOD_CONFIG_H
#define PSEUDOPOD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"

#define CONFIG_DEFAULT_PATH "/etc/pseudopod/pseudopod.conf"
#define CONFIG_PATH_MAX	    256
#define CONFIG_STR_MAX	    256
#define CONFIG_ERR_MAX	    512
#define CONFIG_FILE_MAX	    65536
/* inih (Debian's build) holds 200 bytes per line: 198 characters, the newline, the NUL. */
#define CONFIG_LINE_MAX 198
/* The least tunnel MTU: IPv6's minimum link MTU (RFC 8200); see [tunnel] mtu. */
#define CONFIG_MTU_MIN 1280

enum config_mode { CONFIG_MODE_WORKLOAD = 0, CONFIG_MODE_GATEWAY };
enum config_fail_mode { CONFIG_FAIL_STATIC = 0, CONFIG_FAIL_CLOSED };
enum config_tunnel { CONFIG_TUNNEL_WIREGUARD = 0, CONFIG_TUNNEL_VXLAN };
enum config_wg_backend { CONFIG_WG_AUTO = 0, CONFIG_WG_KERNEL, CONFIG_WG_USERSPACE };

struct config_agent {
	enum config_mode mode;		      /* mode = workload | gateway */
	char name[CONFIG_STR_MAX];	      /* name = this machine's name in the store */
	char state_dir[CONFIG_PATH_MAX];      /* state-dir = /var/lib/pseudopod */
	char bpffs_root[CONFIG_PATH_MAX];     /* bpffs-root = /sys/fs/bpf/pseudopod */
	char api_socket[CONFIG_PATH_MAX];     /* api-socket = /run/pseudopod/api.sock */
	char metrics_address[CONFIG_STR_MAX]; /* metrics-address = 127.0.0.1:9962 ("" = off) */
	enum config_fail_mode fail_mode;      /* fail-mode = static | closed */
	enum log_level log_level;	      /* log-level = error | warn | info | debug */
};

struct config_store {
	char endpoints[1024];		     /* endpoints = https://a:2379,https://b:2379 */
	char prefix[CONFIG_STR_MAX];	     /* prefix = /pseudopod/v1/ */
	char ca_file[CONFIG_PATH_MAX];	     /* ca-file */
	char cert_file[CONFIG_PATH_MAX];     /* cert-file */
	char key_file[CONFIG_PATH_MAX];	     /* key-file */
	char user[CONFIG_STR_MAX];	     /* user */
	char password_file[CONFIG_PATH_MAX]; /* password-file */
	uint32_t timeout_ms;		     /* timeout-ms = 5000 */
};

struct config_tunnel_section {
	enum config_tunnel mode;	    /* mode = wireguard | vxlan */
	char device[16];		    /* device = pp0 (IFNAMSIZ) */
	enum config_wg_backend wg_backend;  /* wireguard-backend = auto | kernel | userspace */
	char wireguard_go[CONFIG_PATH_MAX]; /* wireguard-go = wireguard-go (binary, PATH search) */
	uint16_t wg_port;		    /* wireguard-port = 51871 */
	uint16_t vxlan_port;		    /* vxlan-port = 8472 */
	uint32_t mtu;			    /* mtu = 0 (0 = underlay MTU minus overhead) */
	uint32_t keepalive_s;		    /* keepalive = 5 */
	uint32_t handshake_stale_s;	    /* handshake-stale = 15 */
	uint32_t failover_hold_s; /* failover-hold = 60 (healthy this long before moving back) */
	char underlay_device[16]; /* underlay-device = "" (auto: route to the gateway) */
};

struct config_datapath {
	uint32_t ipcache_max;	    /* ipcache-max = 524288 */
	uint32_t policy_max;	    /* policy-max = 16384 */
	uint32_t conntrack_max;	    /* conntrack-max = 524288 */
	uint32_t events_per_second; /* events-per-second = 10000 (per CPU) */
	bool host_firewall;	    /* host-firewall = off */
};

/* Read in gateway mode only (a workload's tunnel endpoint comes from enrollment). */
struct config_gateway {
	char underlay_address[64]; /* underlay-address = "" (auto: toward the store) */
	uint16_t listen_port;	   /* listen-port = 0 (the cluster's port for the tunnel kind) */
};

struct config {
	struct config_agent agent;
	struct config_store store;
	struct config_tunnel_section tunnel;
	struct config_datapath datapath;
	struct config_gateway gateway;
};

void config_defaults(struct config *cfg);
/* Loads path over the defaults already in cfg. Returns false and fills err on error. */
bool config_load(struct config *cfg, const char *path, char *err, size_t err_len);
/* Same, from an in-memory buffer (name is used in messages). Used by tests and fuzzing. */
bool config_load_string(struct config *cfg, const char *name, const char *text, char *err,
			size_t err_len);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pp-tunnel: a developer/test tool over the tunnel library (keys, WireGuard, VXLAN, links,
 * fail-over). The e2e tests and the benchmark drive it; the agent uses the library
 * directly. One file per subcommand (cmd_*.c), main.c is the dispatch table, common.c the
 * option parsing they share. Helpers print their own message and return false / -errno;
 * subcommands return CLI_EXIT_* codes.
 */
#ifndef PSEUDOPOD_TUNNEL_TOOL_PP_TUNNEL_H
#define PSEUDOPOD_TUNNEL_TOOL_PP_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tunnel/gateways.h"
#include "tunnel/link.h"
#include "tunnel/wg.h"

#define PPT_MAX_PEERS_ARGS 64

/* wg-up's options; vxlan-up and link use the link part. */
struct ppt_up_opts {
	const char *ifname, *key_file, *wg_go, *underlay_dev, *status_file;
	int backend;
	uint32_t port, stale_s, hold_s, keepalive_s, mtu;
	bool has_port, mtu_auto, foreground;
	struct tunnel_link_cfg link;
	struct wg_peer peers[PPT_MAX_PEERS_ARGS];
	size_t n_peers;
	struct tunnel_gateways gws;
};

/* PUB,ENDPOINT|-,ALLOWED[+ALLOWED...]|-[,KEEPALIVE]. Leaves nothing allocated when the spec
 * is rejected. */
bool ppt_parse_peer_spec(struct wg_peer *p, const char *spec, char *why, size_t why_len);
bool ppt_parse_u32_arg(const char *s, uint32_t max, uint32_t *out);
/* auto (0), kernel, userspace. */
bool ppt_parse_backend(const char *s, int *out);
/* wg-set, wg-remove, wg-show: an optional "--backend B" as the last two of exactly at + 2
 * arguments (anything else there is ignored). False when B is not a backend. */
bool ppt_parse_backend_tail(int argc, char **argv, int at, int *backend);
int ppt_open_device(struct wg_device **dev, const char *ifname, int backend, const char *wg_go);
/* wg-set, wg-remove, wg-show, peer-flood work on a device that wg-up made: never create. */
int ppt_open_existing(struct wg_device **dev, const char *ifname, int backend);
bool ppt_add_route(struct ppt_up_opts *o, const char *text);
/* --address, --route, --mtu N|auto, --underlay-dev: 1 taken, 0 not one of them, -1 bad
 * value (message printed). */
int ppt_parse_link_opt(struct ppt_up_opts *o, int c, const char *arg);
/* Fills o->link.mtu: the given MTU, or for --mtu auto the underlay's minus the overhead. */
int ppt_resolve_mtu(struct ppt_up_opts *o, enum tunnel_kind kind);

int ppt_cmd_genkey(int argc, char **argv);
int ppt_cmd_pubkey(int argc, char **argv);
int ppt_cmd_writekey(int argc, char **argv);
int ppt_cmd_readkey(int argc, char **argv);
int ppt_cmd_detect(int argc, char **argv);
int ppt_cmd_wg_up(int argc, char **argv);
int ppt_cmd_wg_set(int argc, char **argv);
int ppt_cmd_wg_remove(int argc, char **argv);
int ppt_cmd_wg_show(int argc, char **argv);
int ppt_cmd_peer_flood(int argc, char **argv);
int ppt_cmd_vxlan_up(int argc, char **argv);
int ppt_cmd_vxlan_down(int argc, char **argv);
int ppt_cmd_mtu(int argc, char **argv);
int ppt_cmd_link(int argc, char **argv);
int ppt_cmd_down(int argc, char **argv);

#endif

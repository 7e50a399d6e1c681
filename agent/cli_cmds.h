/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli_cmds: the `pseudopod` subcommands that talk to pseudopodd's local API
 * (cmd_status.c, cmd_observe.c, cmd_policy.c, cmd_identity.c; library pp_agent_cli), and their
 * table renderers, which take the daemon's JSON (exposed for the fuzzer: a reply from a daemon of
 * another version must print what it can, never crash).
 */
#ifndef PSEUDOPOD_AGENT_CLI_CMDS_H
#define PSEUDOPOD_AGENT_CLI_CMDS_H

#include <stdio.h>

#include <jansson.h>

int cmd_status(int argc, char **argv);
int cmd_observe(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_identity(int argc, char **argv);

void cli_render_status(FILE *out, const json_t *status);
void cli_render_flows(FILE *out, const json_t *reply);
void cli_render_policy(FILE *out, const json_t *policy);
void cli_render_trace(FILE *out, const json_t *trace);
/* GET /v1/identity (an identity, or an ipcache answer) and GET /v1/identities. */
void cli_render_identity(FILE *out, const json_t *reply);
void cli_render_identities(FILE *out, const json_t *reply);
/* Generic "key: value" rendering of an object, nested objects indented, arrays of objects
 * as aligned tables (status and trace use it). */
void cli_render_object(FILE *out, const json_t *obj, int indent);

#endif

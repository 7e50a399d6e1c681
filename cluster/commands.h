/* SPDX-License-Identifier: GPL-2.0-only */
/* pseudopodctl's command groups; each lives in its own cmd_*.c. argv[0] is the group name. */
#ifndef PSEUDOPOD_CLUSTER_COMMANDS_H
#define PSEUDOPOD_CLUSTER_COMMANDS_H

int ctl_cmd_init(int argc, char **argv);
int ctl_cmd_token(int argc, char **argv);
int ctl_cmd_policy(int argc, char **argv);
int ctl_cmd_endpoint(int argc, char **argv);
int ctl_cmd_identity(int argc, char **argv);
int ctl_cmd_workload(int argc, char **argv);
int ctl_cmd_gateway(int argc, char **argv);
int ctl_cmd_serve(int argc, char **argv);

/* "policy trace" lives in cmd_policy_trace.c; argv[0] is "trace". */
int ctl_policy_trace(int argc, char **argv);

#endif

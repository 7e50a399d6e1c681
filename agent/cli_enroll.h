/* SPDX-License-Identifier: GPL-2.0-only */
/* pseudopod enroll / leave (cmd_enroll.c, cmd_leave.c); argv[0] is the command name. */
#ifndef PSEUDOPOD_AGENT_CLI_ENROLL_H
#define PSEUDOPOD_AGENT_CLI_ENROLL_H

int cli_cmd_enroll(int argc, char **argv);
int cli_cmd_leave(int argc, char **argv);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* machine_user: internal to the enrollment server (see enroll/server.h for the contract). */
#ifndef PSEUDOPOD_ENROLL_MACHINE_USER_H
#define PSEUDOPOD_ENROLL_MACHINE_USER_H

#include <stddef.h>

struct store;
struct kv_client;

/* Creates user "pp_wl_<name>_<8 hex>" with a random password and its role. 0 or -errno
 * (nothing left behind on failure, as far as etcd answers); -EAGAIN when etcd refused
 * because the auth store changed meanwhile (worth retrying). */
int enroll_machine_user_create(struct store *s, const char *name, char *user, size_t user_len,
			       char *password, size_t password_len);
/* Best effort: deletes one user and its role. */
void enroll_machine_user_drop(struct kv_client *kv, const char *user);

#endif

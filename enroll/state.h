/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * state: the machine's enrollment state and config file edits (client side).
 *
 * enroll_conf_apply() is pure: it sets section/key = value in an INI text, keeping every
 * other line (comments, user edits, unknown keys) as it was. A key already set in its
 * section is replaced in place (also when commented out as ";key = ..." it is left alone and
 * a live line is added); a missing key is appended at the end of its section; a missing
 * section is appended. Returns malloc'd text or NULL on ENOMEM.
 */
#ifndef PSEUDOPOD_ENROLL_STATE_H
#define PSEUDOPOD_ENROLL_STATE_H

#include <stddef.h>

struct enroll_conf_set {
	const char *section, *key, *value;
};
char *enroll_conf_apply(const char *text, const struct enroll_conf_set *sets, size_t n);

/* "<dir>/<name>" into buf. */
void enroll_state_path(char *buf, size_t len, const char *dir, const char *name);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cidr_identity: the policy engine's local CIDR identities. Every prefix a policy names
 * (ipBlock / toCIDR and their excepts, /0 excepted: that is world) gets one local identity
 * (IDENTITY_LOCAL_FLAG | n, labels "cidr:<prefix>" and "reserved:world"), shared and
 * reference-counted across policies, released when the last policy naming it goes.
 * Private to the policy module (engine.c); policy_engine_cidr_identities() in engine.h is
 * the public view.
 *
 * Contract: ref/unref return 0 or -errno and append the identities they created / released
 * to the caller's list (malloc'd, the caller frees it), so the engine can report them as
 * ipcache adds and deletes. On -ENOMEM part of the prefixes may be referenced already.
 */
#ifndef PSEUDOPOD_POLICY_CIDR_IDENTITY_H
#define PSEUDOPOD_POLICY_CIDR_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/engine.h"

struct policy;

int policy_cidr_identity_ref(struct policy_engine *e, const struct policy *p,
			     struct policy_cidr_identity **added, size_t *n_added);
int policy_cidr_identity_unref(struct policy_engine *e, const struct policy *p,
			       struct policy_cidr_identity **removed, size_t *n_removed);
/* Appends x to the list arr[0..n); false on no memory. */
bool policy_cidr_identity_push(struct policy_cidr_identity **arr, size_t *n,
			       const struct policy_cidr_identity *x);

#endif

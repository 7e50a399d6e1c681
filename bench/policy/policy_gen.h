/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy_gen: the synthetic cluster the policy benchmarks share. Identity i has labels
 * app-(i%500), tier t(i%10), namespace ns(i%20) with a team label; policy k is one of a mix
 * of namespaced CNPs between apps, clusterwide tier rules, NetworkPolicies with namespace
 * selectors, CIDR sets with excepts and deny rules (k % 10 picks the shape); variant makes a
 * changed version of the same policy. Deterministic.
 */
#ifndef PSEUDOPOD_BENCH_POLICY_GEN_H
#define PSEUDOPOD_BENCH_POLICY_GEN_H

#include <jansson.h>

#include "policy/labels.h"

void bench_identity_labels(struct label_set *ls, unsigned i);
/* A new reference (metadata.name is app-(k%500): callers storing it rename it). */
json_t *bench_make_policy(unsigned k, unsigned variant);

#endif

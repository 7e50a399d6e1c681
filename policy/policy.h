/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/policy.h: a parsed network policy — CiliumNetworkPolicy, CiliumClusterwideNetwork-
 * Policy or networking.k8s.io/v1 NetworkPolicy — reduced to one common form the compiler
 * reads. policy_parse() is the full validator: every field of the input is either
 * understood or rejected with its path ("spec.ingress[0].toPorts[0].rules: L7 rules are
 * not supported"), never ignored, because ignoring a field would open or close traffic its
 * author did not intend.
 *
 * Scoping is resolved here, as Cilium does when it imports a policy:
 *   - a namespaced policy's subject selector gets io.kubernetes.pod.namespace=NS;
 *   - a from/toEndpoints selector of a namespaced policy that does not name
 *     io.kubernetes.pod.namespace gets =NS (same namespace); in a clusterwide policy it
 *     gets "Exists" instead (only endpoints that have a namespace, i.e. not reserved ones);
 *   - a NetworkPolicy podSelector peer is scoped to the policy's namespace; a
 *     namespaceSelector becomes a selector over io.cilium.k8s.namespace.labels.*.
 * An L4-only rule (toPorts or icmps without any L3 peer) has an L3 wildcard: it applies to
 * every remote identity (Cilium's semantics), as does a NetworkPolicy rule without from/to.
 */
#ifndef PSEUDOPOD_POLICY_POLICY_H
#define PSEUDOPOD_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy/cidr.h"
#include "policy/selector.h"

enum policy_kind {
	POLICY_KIND_CNP,  /* cilium.io/v2 CiliumNetworkPolicy */
	POLICY_KIND_CCNP, /* cilium.io/v2 CiliumClusterwideNetworkPolicy */
	POLICY_KIND_KNP,  /* networking.k8s.io/v1 NetworkPolicy */
};

/* Entities (from/toEntities), as a bit set. */
enum policy_entity {
	POLICY_ENTITY_WORLD = 1u << 0,
	POLICY_ENTITY_WORLD_IPV4 = 1u << 1,
	POLICY_ENTITY_WORLD_IPV6 = 1u << 2,
	POLICY_ENTITY_CLUSTER = 1u << 3,
	POLICY_ENTITY_HOST = 1u << 4,
	POLICY_ENTITY_REMOTE_NODE = 1u << 5,
	POLICY_ENTITY_KUBE_APISERVER = 1u << 6,
	POLICY_ENTITY_HEALTH = 1u << 7,
	POLICY_ENTITY_INIT = 1u << 8,
	POLICY_ENTITY_INGRESS = 1u << 9,
	POLICY_ENTITY_UNMANAGED = 1u << 10,
	POLICY_ENTITY_ALL = 1u << 11,
};

enum policy_peer_kind {
	POLICY_PEER_SELECTOR, /* endpoints whose labels match sel */
	POLICY_PEER_ENTITY,   /* entities */
	POLICY_PEER_CIDR,     /* prefix cidr minus except[] */
};

struct policy_peer {
	enum policy_peer_kind kind;
	struct selector sel;
	unsigned entities;
	struct cidr cidr;
	struct cidr *except;
	size_t n_except;
};

/* One L4 match: proto 0 = any protocol (then lo = hi = 0); lo..hi inclusive, 0..0 = any
 * port; for ICMP/ICMPv6 lo = hi = the type. */
struct policy_port {
	uint8_t proto;
	uint16_t lo, hi;
};

struct policy_rule {
	uint8_t direction; /* enum policy_direction */
	bool deny;
	bool l3_any; /* applies to every remote identity */
	struct policy_peer *peers;
	size_t n_peers;
	struct policy_port *ports; /* n_ports == 0: every protocol and port */
	size_t n_ports;
	char origin[200]; /* "spec.ingress[0]", "specs[1].egressDeny[2]" */
};

/* One endpointSelector/podSelector with its rules (CNP "specs" has several). */
struct policy_spec {
	struct selector subject;
	bool enforce[2]; /* puts selected endpoints in default deny, per direction */
	struct policy_rule *rules;
	size_t n_rules;
};

struct policy {
	enum policy_kind kind;
	char namespace_[254]; /* "" for clusterwide */
	char name[254];
	struct policy_spec *specs;
	size_t n_specs;
};

/*
 * Parses and validates one policy object (JSON, as stored or converted from YAML).
 * A namespaced object without metadata.namespace is in "default". Errors are
 * "FIELD.PATH: what is wrong; what is expected". out is zeroed on failure.
 */
bool policy_parse(struct policy *out, const json_t *object, char *err, size_t err_len);
void policy_free(struct policy *p);
const char *policy_kind_name(enum policy_kind kind);

#endif

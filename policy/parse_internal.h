/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy/parse_internal.h: helpers shared by the policy parsers (parse.c, parse_cnp.c,
 * parse_knp.c); not part of pp_policy's API. Every helper takes the JSON path of the value
 * it reads, so errors name the field.
 */
#ifndef PSEUDOPOD_POLICY_PARSE_INTERNAL_H
#define PSEUDOPOD_POLICY_PARSE_INTERNAL_H

#include "policy/policy.h"

struct policy_parse_field {
	const char *name;
	const char *unsupported; /* NULL = accepted; otherwise why it is rejected */
};

/* Checks that every member of obj is listed; unsupported ones and unknown ones are errors. */
bool policy_parse_check_fields(const json_t *obj, const struct policy_parse_field *fields,
			       const char *path, char *err, size_t err_len);
/* Appends a zeroed rule to spec; NULL on allocation failure. */
struct policy_rule *policy_parse_rule_add(struct policy_spec *spec);
struct policy_peer *policy_parse_peer_add(struct policy_rule *rule);
bool policy_parse_port_add(struct policy_rule *rule, uint8_t proto, uint16_t lo, uint16_t hi);
/* A CIDR peer with its excepts (each must lie inside cidr). */
bool policy_parse_cidr_peer(struct policy_rule *rule, const char *cidr, const json_t *except,
			    const char *path, char *err, size_t err_len);
/* Port number: integer or decimal string 0..65535 (named ports are rejected). */
bool policy_parse_port_number(const json_t *v, uint16_t *out, const char *path, char *err,
			      size_t err_len);

bool policy_parse_parse_cnp(struct policy *p, const json_t *obj, char *err, size_t err_len);
bool policy_parse_parse_knp(struct policy *p, const json_t *obj, char *err, size_t err_len);

#endif

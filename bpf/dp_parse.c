// SPDX-License-Identifier: GPL-2.0-only
/*
 * dp_parse: the line formats of `pp-datapath policy load` and `ipcache load`. Input is
 * whatever a user or a generator wrote, so every field is checked and a refusal names the
 * field, the value and what was expected. Pure functions: the fuzz harness drives them.
 */
#include <stdint.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/dp.h"
#include "lib/net.h"
#include "lib/parse_num.h"
#include "lib/policy_entry.h"

#define DP_LINE_MAX   512
#define DP_MAX_TOKENS 24

/* Splits a copy of line into whitespace-separated tokens; false if too long/many. */
static bool tokenize(const char *line, char *buf, char **tok, int *ntok, bool *skip, char *why,
		     size_t why_len)
{
	size_t len = strlen(line);
	char *p, *save = NULL;

	*ntok = 0;
	*skip = false;
	if (len >= DP_LINE_MAX) {
		snprintf(why, why_len, "line longer than %d characters", DP_LINE_MAX - 1);
		return false;
	}
	memcpy(buf, line, len + 1);
	for (p = strtok_r(buf, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
		if (*ntok == 0 && p[0] == '#')
			break;
		if (*ntok >= DP_MAX_TOKENS) {
			snprintf(why, why_len, "more than %d fields", DP_MAX_TOKENS);
			return false;
		}
		tok[(*ntok)++] = p;
	}
	if (*ntok == 0)
		*skip = true;
	return true;
}

static bool parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char tmp[32], *dash;
	uint32_t a, b;

	if (strlen(s) >= sizeof(tmp))
		return false;
	strcpy(tmp, s);
	dash = strchr(tmp, '-');
	if (dash)
		*dash = '\0';
	if (!parse_u32(tmp, 0, 65535, &a, NULL, 0))
		return false;
	b = a;
	if (dash && (!parse_u32(dash + 1, 0, 65535, &b, NULL, 0) || b < a))
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

bool dp_parse_policy_line(const char *line, struct policy_entry *e, uint32_t *endpoint,
			  bool *has_endpoint, bool *skip, char *why, size_t why_len)
{
	char buf[DP_LINE_MAX], *tok[DP_MAX_TOKENS];
	bool have_dir = false, have_id = false, have_proto = false;
	int n, i;

	memset(e, 0, sizeof(*e));
	*has_endpoint = false;
	if (!tokenize(line, buf, tok, &n, skip, why, why_len))
		return false;
	if (*skip)
		return true;
	for (i = 0; i < n; i++) {
		const char *k = tok[i], *v = i + 1 < n ? tok[i + 1] : NULL;
		uint32_t u;

		if (!strcmp(k, "--deny")) {
			e->deny = 1;
			continue;
		}
		if (strncmp(k, "--", 2)) {
			snprintf(why, why_len, "field '%s': expected a --flag", k);
			return false;
		}
		if (!v) {
			snprintf(why, why_len, "field '%s': missing its value", k);
			return false;
		}
		i++;
		if (!strcmp(k, "--endpoint")) {
			if (!parse_u32(v, 0, UINT32_MAX, endpoint, NULL, 0)) {
				snprintf(why, why_len,
					 "--endpoint '%s': expected an identity number", v);
				return false;
			}
			*has_endpoint = true;
		} else if (!strcmp(k, "--dir")) {
			if (!strcmp(v, "ingress"))
				e->direction = POLICY_INGRESS;
			else if (!strcmp(v, "egress"))
				e->direction = POLICY_EGRESS;
			else {
				snprintf(why, why_len, "--dir '%s': expected ingress or egress", v);
				return false;
			}
			have_dir = true;
		} else if (!strcmp(k, "--identity")) {
			if (!strcmp(v, "any"))
				e->identity = POLICY_IDENTITY_ANY;
			else if (!parse_u32(v, 1, UINT32_MAX, &e->identity, NULL, 0)) {
				snprintf(
				    why, why_len,
				    "--identity '%s': expected 'any' or an identity number > 0", v);
				return false;
			}
			have_id = true;
		} else if (!strcmp(k, "--proto")) {
			if (!dp_proto_parse(v, &e->proto)) {
				snprintf(
				    why, why_len,
				    "--proto '%s': expected tcp, udp, sctp, icmp, icmpv6 or any",
				    v);
				return false;
			}
			have_proto = true;
		} else if (!strcmp(k, "--port")) {
			if (!parse_port_range(v, &e->port_lo, &e->port_hi)) {
				snprintf(why, why_len,
					 "--port '%s': expected N or N-M within 0-65535, N <= M",
					 v);
				return false;
			}
		} else if (!strcmp(k, "--type")) {
			if (!parse_u32(v, 0, 255, &u, NULL, 0)) {
				snprintf(why, why_len, "--type '%s': expected an ICMP type 0-255",
					 v);
				return false;
			}
			e->port_lo = e->port_hi = (uint16_t)u;
		} else if (!strcmp(k, "--rule")) {
			if (!parse_u32(v, 0, UINT32_MAX, &e->rule_id, NULL, 0)) {
				snprintf(why, why_len, "--rule '%s': expected a number", v);
				return false;
			}
		} else {
			snprintf(why, why_len, "unknown field '%s'", k);
			return false;
		}
	}
	if (!have_dir || !have_id || !have_proto) {
		snprintf(why, why_len, "missing %s",
			 !have_dir  ? "--dir"
			 : !have_id ? "--identity"
				    : "--proto");
		return false;
	}
	/* The rules across fields are the map writer's; the parser only names the one broken
	 * (direction, deny and port order cannot be wrong here). */
	if (!dp_policy_entry_valid(e)) {
		snprintf(why, why_len, "%s",
			 e->proto == POLICY_PROTO_ANY
			     ? "--port needs a protocol (--proto any matches every port)"
			     : "ICMP takes one type 0-255 (--type N), not a range");
		return false;
	}
	return true;
}

/* An ipcache key names a network: host bits are refused like everywhere else (lib/net.h),
 * so "10.1.2.3/8" is an error, not a silent 10.0.0.0/8. */
bool dp_parse_cidr(const char *s, struct dp_ipcache_entry *e, char *why, size_t why_len)
{
	struct net_prefix p;
	char reason[200];

	if (!net_prefix_parse(s, NET_HOST_BITS_REFUSE, &p, reason, sizeof(reason))) {
		snprintf(why, why_len, "CIDR %s", reason);
		return false;
	}
	e->family = p.family == AF_INET ? 4 : 6;
	e->plen = p.len;
	memcpy(e->addr, p.addr, sizeof(e->addr));
	return true;
}

bool dp_parse_ipcache_line(const char *line, struct dp_ipcache_entry *e, bool *skip, char *why,
			   size_t why_len)
{
	char buf[DP_LINE_MAX], *tok[DP_MAX_TOKENS];
	struct net_prefix tun;
	int n, i;

	memset(e, 0, sizeof(*e));
	if (!tokenize(line, buf, tok, &n, skip, why, why_len))
		return false;
	if (*skip)
		return true;
	if (n < 2) {
		snprintf(why, why_len, "expected 'CIDR IDENTITY [--tunnel IPV4] [--workload]'");
		return false;
	}
	if (!dp_parse_cidr(tok[0], e, why, why_len))
		return false;
	if (!parse_u32(tok[1], 0, UINT32_MAX, &e->identity, NULL, 0)) {
		snprintf(why, why_len, "identity '%s': expected a number", tok[1]);
		return false;
	}
	for (i = 2; i < n; i++) {
		if (!strcmp(tok[i], "--workload")) {
			e->flags |= DP_IPC_F_WORKLOAD;
		} else if (!strcmp(tok[i], "--tunnel") && i + 1 < n) {
			/* The datapath encapsulates toward IPv4 underlay endpoints only. */
			if (!net_ip_parse(tok[++i], AF_INET, &tun, NULL, 0)) {
				snprintf(why, why_len, "--tunnel '%s': expected an IPv4 address",
					 tok[i]);
				return false;
			}
			memcpy(&e->tunnel_ipv4, tun.addr, sizeof(e->tunnel_ipv4));
		} else {
			snprintf(why, why_len, "unknown field '%s'", tok[i]);
			return false;
		}
	}
	return true;
}

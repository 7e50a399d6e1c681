// SPDX-License-Identifier: GPL-2.0-only
/*
 * Record codecs. Every decoder is fed bytes someone else wrote into etcd, so each field is
 * checked for type, range and syntax, and the first problem is reported as
 * "KEY: FIELD: what is wrong (what is expected)". Unknown fields are ignored so a newer
 * writer can add fields without breaking older readers; a newer "version" is refused.
 */
#include "store/store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/net.h"
#include "lib/parse_num.h"
#include "lib/why.h"

/* The part of key after the last '/' (or the n-th from the end). */
static const char *key_tail(const char *key, int parts)
{
	const char *p = key + strlen(key);

	while (p > key) {
		if (p[-1] == '/' && --parts == 0)
			break;
		p--;
	}
	return p;
}

bool store_cidr_canon(const char *text, char out[STORE_CIDR_MAX], char *err, size_t err_len)
{
	struct net_prefix p;

	/* Keys and records name networks: a stray host bit is a writer's bug, refused. */
	if (!net_prefix_parse(text, NET_HOST_BITS_REFUSE, &p, err, err_len))
		return false;
	net_prefix_format(&p, out);
	return true;
}

static bool ip_valid(const char *s)
{
	struct net_prefix p;

	return net_ip_parse(s, AF_UNSPEC, &p, NULL, 0);
}

bool store_labels_assignable(const struct label_set *labels, char *err, size_t err_len)
{
	static const char *const refused[] = {LABEL_SOURCE_RESERVED ":", LABEL_SOURCE_CIDR ":"};

	for (size_t i = 0; i < labels->n; i++) {
		for (size_t j = 0; j < sizeof(refused) / sizeof(refused[0]); j++) {
			if (!strncmp(labels->labels[i], refused[j], strlen(refused[j])))
				return why_false(
				    err, err_len,
				    "label '%s': the %.*s source is assigned by pseudopod "
				    "itself, not by users",
				    labels->labels[i], (int)strlen(refused[j]) - 1, refused[j]);
		}
	}
	return true;
}

bool store_name_valid(const char *name, bool subdomain)
{
	size_t len = strlen(name);
	size_t label = 0;

	if (len == 0 || len > (subdomain ? 253u : 63u))
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (ch == '.' && subdomain) {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '-'))
			return false;
		if (ch == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return name[len - 1] != '-' && name[len - 1] != '.';
}

/* Parses value as a JSON object and checks "version". */
static json_t *load_record(const char *key, const char *value, size_t len, char *err,
			   size_t err_len)
{
	json_error_t jerr;
	json_t *obj, *ver;

	obj = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		why_false(err, err_len, "%s: not JSON (%s at byte %d)", key, jerr.text,
			  jerr.position);
		return NULL;
	}
	if (!json_is_object(obj)) {
		why_false(err, err_len, "%s: expected a JSON object", key);
		goto fail;
	}
	ver = json_object_get(obj, "version");
	if (!json_is_integer(ver)) {
		why_false(err, err_len, "%s: version: missing or not an integer (expected 1)", key);
		goto fail;
	}
	if (json_integer_value(ver) != STORE_RECORD_VERSION) {
		why_false(err, err_len,
			  "%s: version: %" JSON_INTEGER_FORMAT " is not supported "
			  "(this build reads version 1)",
			  key, json_integer_value(ver));
		goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

/* String field into buf. required=false: absent leaves buf "". */
static bool get_str(const char *key, json_t *obj, const char *field, bool required, char *buf,
		    size_t size, char *err, size_t err_len)
{
	json_t *v = json_object_get(obj, field);
	const char *s;

	buf[0] = '\0';
	if (!v || json_is_null(v)) {
		if (required)
			return why_false(err, err_len, "%s: %s: missing", key, field);
		return true;
	}
	if (!json_is_string(v))
		return why_false(err, err_len, "%s: %s: expected a string", key, field);
	s = json_string_value(v);
	if (strlen(s) >= size || strlen(s) != json_string_length(v))
		return why_false(err, err_len, "%s: %s: longer than %zu characters or contains NUL",
				 key, field, size - 1);
	memcpy(buf, s, strlen(s) + 1);
	return true;
}

static bool get_uint(const char *key, json_t *obj, const char *field, bool required, uint64_t min,
		     uint64_t max, uint64_t *out, char *err, size_t err_len)
{
	json_t *v = json_object_get(obj, field);

	if (!v) {
		if (required)
			return why_false(err, err_len, "%s: %s: missing", key, field);
		return true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return why_false(err, err_len,
				 "%s: %s: expected an integer in %" PRIu64 "..%" PRIu64, key, field,
				 min, max);
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool get_ip(const char *key, json_t *obj, const char *field, bool required, char *buf,
		   char *err, size_t err_len)
{
	if (!get_str(key, obj, field, required, buf, STORE_IP_MAX, err, err_len))
		return false;
	if (buf[0] && !ip_valid(buf))
		return why_false(err, err_len, "%s: %s: '%s' is not an IP address", key, field,
				 buf);
	return true;
}

static bool get_cidr(const char *key, json_t *obj, const char *field, bool required, char *buf,
		     char *err, size_t err_len)
{
	char why[160];
	char raw[STORE_CIDR_MAX];

	if (!get_str(key, obj, field, required, raw, sizeof(raw), err, err_len))
		return false;
	buf[0] = '\0';
	if (raw[0] && !store_cidr_canon(raw, buf, why, sizeof(why)))
		return why_false(err, err_len, "%s: %s: %s", key, field, why);
	return true;
}

static bool get_cidr_array(const char *key, json_t *obj, const char *field, bool required,
			   char (*out)[STORE_CIDR_MAX], size_t *n, char *err, size_t err_len)
{
	json_t *arr = json_object_get(obj, field), *v;
	size_t i;
	char why[160];

	*n = 0;
	if (!arr) {
		if (required)
			return why_false(err, err_len, "%s: %s: missing", key, field);
		return true;
	}
	if (!json_is_array(arr) || json_array_size(arr) > STORE_MAX_CIDRS)
		return why_false(err, err_len,
				 "%s: %s: expected an array of at most %d CIDR strings", key, field,
				 STORE_MAX_CIDRS);
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) ||
		    !store_cidr_canon(json_string_value(v), out[i], why, sizeof(why)))
			return why_false(err, err_len, "%s: %s[%zu]: %s", key, field, i,
					 json_is_string(v) ? why : "expected a CIDR string");
		(*n)++;
	}
	return true;
}

static bool wg_key_valid(const char *s)
{
	unsigned char bin[32];
	size_t len = 0;
	const char *end = NULL;

	return strlen(s) == 44 &&
	       sodium_base642bin(bin, sizeof(bin), s, 44, NULL, &len, &end,
				 sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       len == 32 && end && !*end;
}

static char *dump(json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(obj);
	return s;
}

/* ---- identities ---- */

void store_identity_clear(struct store_identity *i)
{
	label_set_free(&i->labels);
	i->id = 0;
}

bool store_identity_decode(const char *key, const char *value, size_t len,
			   struct store_identity *out, char *err, size_t err_len)
{
	const char *idtext = key_tail(key, 1);
	char why[256];
	uint32_t id;
	json_t *obj;

	memset(out, 0, sizeof(*out));
	if (!parse_u32(idtext, STORE_IDENTITY_MIN, STORE_IDENTITY_MAX, &id, NULL, 0))
		return why_false(err, err_len, "%s: key: identity '%s' is not a number in %u..%u",
				 key, idtext, STORE_IDENTITY_MIN, STORE_IDENTITY_MAX);
	obj = load_record(key, value, len, err, err_len);
	if (!obj)
		return false;
	if (!json_is_array(json_object_get(obj, "labels"))) {
		json_decref(obj);
		return why_false(err, err_len, "%s: labels: expected an array of label strings",
				 key);
	}
	if (!label_set_from_json(&out->labels, json_object_get(obj, "labels"), why, sizeof(why))) {
		json_decref(obj);
		return why_false(err, err_len, "%s: labels: %s", key, why);
	}
	json_decref(obj);
	out->id = (uint32_t)id;
	return true;
}

char *store_identity_encode(const struct label_set *labels)
{
	json_t *arr = label_set_to_json(labels);

	if (!arr)
		return NULL;
	return dump(json_pack("{s:i, s:o}", "version", STORE_RECORD_VERSION, "labels", arr));
}

bool store_idref_decode(const char *key, const char *value, size_t len, uint32_t *id, char *err,
			size_t err_len)
{
	uint64_t v = 0;
	json_t *obj = load_record(key, value, len, err, err_len);

	if (!obj)
		return false;
	if (!get_uint(key, obj, "id", true, STORE_IDENTITY_MIN, STORE_IDENTITY_MAX, &v, err,
		      err_len)) {
		json_decref(obj);
		return false;
	}
	json_decref(obj);
	*id = (uint32_t)v;
	return true;
}

char *store_idref_encode(uint32_t id)
{
	return dump(json_pack("{s:i, s:I}", "version", STORE_RECORD_VERSION, "id", (json_int_t)id));
}

/* ---- ipcache ---- */

const char *store_ipcache_kind_name(enum store_ipcache_kind k)
{
	return k == STORE_IPCACHE_WORKLOAD ? "workload" : "pod";
}

bool store_ipcache_decode(const char *key, const char *value, size_t len, struct store_ipcache *out,
			  char *err, size_t err_len)
{
	const char *tail = key_tail(key, 2);
	char why[160], kind[16];
	uint64_t id = 0;
	json_t *obj;

	memset(out, 0, sizeof(*out));
	if (!store_cidr_canon(tail, out->cidr, why, sizeof(why)))
		return why_false(err, err_len, "%s: key: %s", key, why);
	if (strcmp(out->cidr, tail))
		return why_false(err, err_len, "%s: key: '%s' is not canonical (expected '%s')",
				 key, tail, out->cidr);
	obj = load_record(key, value, len, err, err_len);
	if (!obj)
		return false;
	if (!get_uint(key, obj, "identity", true, 1, UINT32_MAX, &id, err, err_len) ||
	    !get_str(key, obj, "kind", false, kind, sizeof(kind), err, err_len) ||
	    !get_ip(key, obj, "gateway", false, out->gateway, err, err_len))
		goto fail;
	if (!kind[0] || !strcmp(kind, "pod")) {
		out->kind = STORE_IPCACHE_POD;
	} else if (!strcmp(kind, "workload")) {
		out->kind = STORE_IPCACHE_WORKLOAD;
	} else {
		why_false(err, err_len, "%s: kind: '%s' (expected pod or workload)", key, kind);
		goto fail;
	}
	out->identity = (uint32_t)id;
	json_decref(obj);
	return true;
fail:
	json_decref(obj);
	return false;
}

char *store_ipcache_encode(const struct store_ipcache *e)
{
	json_t *o = json_pack("{s:i, s:I, s:s}", "version", STORE_RECORD_VERSION, "identity",
			      (json_int_t)e->identity, "kind", store_ipcache_kind_name(e->kind));

	if (o && e->gateway[0])
		json_object_set_new(o, "gateway", json_string(e->gateway));
	return dump(o);
}

/* ---- config ---- */

bool store_config_validate(const struct store_config *c, char *err, size_t err_len)
{
	if (!store_name_valid(c->cluster_name, false))
		return why_false(err, err_len,
				 "cluster_name: '%s' must be 1-63 characters of a-z, 0-9 "
				 "and '-' (an RFC 1123 label)",
				 c->cluster_name);
	if (c->cluster_id < 1 || c->cluster_id > 255)
		return why_false(err, err_len, "cluster_id: %u must be 1..255 (8 bits of the VNI)",
				 c->cluster_id);
	if (c->n_pod_cidrs == 0)
		return why_false(err, err_len, "pod_cidrs: at least one pod CIDR is required");
	if (!c->service_cidr[0] || !c->workload_cidr[0])
		return why_false(err, err_len, "service_cidr/workload_cidr: both are required");
	if (c->wireguard_port == 0 || c->vxlan_port == 0)
		return why_false(err, err_len, "wireguard_port/vxlan_port: must be 1..65535");
	return true;
}

bool store_config_decode(const char *value, size_t len, struct store_config *out, char *err,
			 size_t err_len)
{
	const char *key = "config";
	char tunnel[16];
	uint64_t id = 0, wg = 51871, vx = 8472;
	json_t *obj;

	memset(out, 0, sizeof(*out));
	obj = load_record(key, value, len, err, err_len);
	if (!obj)
		return false;
	if (!get_str(key, obj, "cluster_name", true, out->cluster_name, sizeof(out->cluster_name),
		     err, err_len) ||
	    !get_uint(key, obj, "cluster_id", true, 1, 255, &id, err, err_len) ||
	    !get_cidr_array(key, obj, "pod_cidrs", true, out->pod_cidrs, &out->n_pod_cidrs, err,
			    err_len) ||
	    !get_cidr(key, obj, "service_cidr", true, out->service_cidr, err, err_len) ||
	    !get_cidr(key, obj, "workload_cidr", true, out->workload_cidr, err, err_len) ||
	    !get_str(key, obj, "tunnel", true, tunnel, sizeof(tunnel), err, err_len) ||
	    !get_uint(key, obj, "wireguard_port", false, 1, 65535, &wg, err, err_len) ||
	    !get_uint(key, obj, "vxlan_port", false, 1, 65535, &vx, err, err_len))
		goto fail;
	if (!strcmp(tunnel, "wireguard")) {
		out->tunnel = STORE_TUNNEL_WIREGUARD;
	} else if (!strcmp(tunnel, "vxlan")) {
		out->tunnel = STORE_TUNNEL_VXLAN;
	} else {
		why_false(err, err_len, "config: tunnel: '%s' (expected wireguard or vxlan)",
			  tunnel);
		goto fail;
	}
	out->cluster_id = (uint32_t)id;
	out->wireguard_port = (uint16_t)wg;
	out->vxlan_port = (uint16_t)vx;
	json_decref(obj);
	if (!store_config_validate(out, err, err_len)) {
		char why[400];

		snprintf(why, sizeof(why), "%s", err ? err : "");
		return why_false(err, err_len, "config: %s", why);
	}
	return true;
fail:
	json_decref(obj);
	return false;
}

/* A JSON array of the n CIDR strings, or NULL without memory. */
static json_t *cidrs_to_json(const char (*cidrs)[STORE_CIDR_MAX], size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(cidrs[i]));
	return arr;
}

char *store_config_encode(const struct store_config *c)
{
	json_t *cidrs = cidrs_to_json(c->pod_cidrs, c->n_pod_cidrs);
	json_t *o;

	if (!cidrs)
		return NULL;
	o = json_pack("{s:i, s:s, s:I, s:o, s:s, s:s, s:s, s:i, s:i}", "version",
		      STORE_RECORD_VERSION, "cluster_name", c->cluster_name, "cluster_id",
		      (json_int_t)c->cluster_id, "pod_cidrs", cidrs, "service_cidr",
		      c->service_cidr, "workload_cidr", c->workload_cidr, "tunnel",
		      c->tunnel == STORE_TUNNEL_VXLAN ? "vxlan" : "wireguard", "wireguard_port",
		      (int)c->wireguard_port, "vxlan_port", (int)c->vxlan_port);
	return dump(o);
}

/* ---- workloads ---- */

void store_workload_clear(struct store_workload *w)
{
	label_set_free(&w->labels);
	memset(w, 0, sizeof(*w));
}

bool store_workload_decode(const char *key, const char *value, size_t len,
			   struct store_workload *out, char *err, size_t err_len)
{
	const char *name = key_tail(key, 1);
	uint64_t id = 0, at = 0;
	char why[256];
	json_t *obj;

	memset(out, 0, sizeof(*out));
	if (!store_name_valid(name, true))
		return why_false(err, err_len, "%s: key: '%s' is not a valid workload name", key,
				 name);
	snprintf(out->name, sizeof(out->name), "%s", name);
	obj = load_record(key, value, len, err, err_len);
	if (!obj)
		return false;
	if (!get_uint(key, obj, "identity", true, STORE_IDENTITY_MIN, STORE_IDENTITY_MAX, &id, err,
		      err_len) ||
	    !get_ip(key, obj, "overlay_ip", true, out->overlay_ip, err, err_len) ||
	    !get_str(key, obj, "namespace", true, out->namespace_, sizeof(out->namespace_), err,
		     err_len) ||
	    !get_str(key, obj, "wg_public_key", false, out->wg_public_key,
		     sizeof(out->wg_public_key), err, err_len) ||
	    !get_ip(key, obj, "underlay_ip", true, out->underlay_ip, err, err_len) ||
	    !get_uint(key, obj, "enrolled_at", false, 0, INT64_MAX, &at, err, err_len))
		goto fail;
	if (!store_name_valid(out->namespace_, false)) {
		why_false(err, err_len, "%s: namespace: '%s' is not a valid namespace", key,
			  out->namespace_);
		goto fail;
	}
	if (out->wg_public_key[0] && !wg_key_valid(out->wg_public_key)) {
		why_false(err, err_len,
			  "%s: wg_public_key: expected 44 characters of base64 (32 bytes)", key);
		goto fail;
	}
	if (!json_is_array(json_object_get(obj, "labels")) ||
	    !label_set_from_json(&out->labels, json_object_get(obj, "labels"), why, sizeof(why))) {
		why_false(err, err_len, "%s: labels: %s", key,
			  json_is_array(json_object_get(obj, "labels"))
			      ? why
			      : "expected an array of labels");
		goto fail;
	}
	out->identity = (uint32_t)id;
	out->enrolled_at = (int64_t)at;
	json_decref(obj);
	return true;
fail:
	json_decref(obj);
	label_set_free(&out->labels);
	return false;
}

char *store_workload_encode(const struct store_workload *w)
{
	json_t *labels = label_set_to_json(&w->labels);
	json_t *o;

	if (!labels)
		return NULL;
	o = json_pack("{s:i, s:I, s:s, s:o, s:s, s:s, s:I}", "version", STORE_RECORD_VERSION,
		      "identity", (json_int_t)w->identity, "overlay_ip", w->overlay_ip, "labels",
		      labels, "namespace", w->namespace_, "underlay_ip", w->underlay_ip,
		      "enrolled_at", (json_int_t)w->enrolled_at);
	if (o && w->wg_public_key[0])
		json_object_set_new(o, "wg_public_key", json_string(w->wg_public_key));
	return dump(o);
}

/* ---- gateways ---- */

bool store_gateway_decode(const char *key, const char *value, size_t len, struct store_gateway *out,
			  char *err, size_t err_len)
{
	const char *name = key_tail(key, 1);
	uint64_t port = 51871;
	json_t *obj;

	memset(out, 0, sizeof(*out));
	if (!store_name_valid(name, true))
		return why_false(err, err_len, "%s: key: '%s' is not a valid gateway name", key,
				 name);
	snprintf(out->name, sizeof(out->name), "%s", name);
	obj = load_record(key, value, len, err, err_len);
	if (!obj)
		return false;
	if (!get_ip(key, obj, "underlay_ip", true, out->underlay_ip, err, err_len) ||
	    !get_str(key, obj, "wg_public_key", false, out->wg_public_key,
		     sizeof(out->wg_public_key), err, err_len) ||
	    !get_uint(key, obj, "wireguard_port", false, 1, 65535, &port, err, err_len) ||
	    !get_ip(key, obj, "vxlan_endpoint", false, out->vxlan_endpoint, err, err_len) ||
	    !get_cidr_array(key, obj, "cidrs", true, out->cidrs, &out->n_cidrs, err, err_len))
		goto fail;
	if (out->wg_public_key[0] && !wg_key_valid(out->wg_public_key)) {
		why_false(err, err_len,
			  "%s: wg_public_key: expected 44 characters of base64 (32 bytes)", key);
		goto fail;
	}
	out->wireguard_port = (uint16_t)port;
	json_decref(obj);
	return true;
fail:
	json_decref(obj);
	return false;
}

char *store_gateway_encode(const struct store_gateway *g)
{
	json_t *cidrs = cidrs_to_json(g->cidrs, g->n_cidrs);
	json_t *o;

	if (!cidrs)
		return NULL;
	o = json_pack("{s:i, s:s, s:i, s:o}", "version", STORE_RECORD_VERSION, "underlay_ip",
		      g->underlay_ip, "wireguard_port", (int)g->wireguard_port, "cidrs", cidrs);
	if (o && g->wg_public_key[0])
		json_object_set_new(o, "wg_public_key", json_string(g->wg_public_key));
	if (o && g->vxlan_endpoint[0])
		json_object_set_new(o, "vxlan_endpoint", json_string(g->vxlan_endpoint));
	return dump(o);
}

/* The namespace a parser gives an object: metadata.namespace, "default" when absent (as
 * policy_documents_load() and kubectl do), "" for the clusterwide kind. */
static const char *policy_object_ns(json_t *md, bool clusterwide)
{
	const char *ns = json_string_value(json_object_get(md, "namespace"));

	if (clusterwide)
		return ns ? ns : "";
	return ns ? ns : "default";
}

bool store_policy_decode(const char *path, const char *value, size_t len, struct store_policy *out,
			 char *err, size_t err_len)
{
	const char *slash = strchr(path, '/'), *kind, *name, *ns;
	char kns[STORE_NAME_MAX], kname[STORE_NAME_MAX];
	bool clusterwide;
	json_error_t jerr;
	json_t *obj, *md;

	memset(out, 0, sizeof(*out));
	if (!slash || strchr(slash + 1, '/') || (size_t)(slash - path) >= sizeof(kns) ||
	    strlen(slash + 1) >= sizeof(kname))
		return why_false(err, err_len,
				 "policies/%s: key: expected policies/<namespace>/<name>", path);
	snprintf(kns, sizeof(kns), "%.*s", (int)(slash - path), path);
	snprintf(kname, sizeof(kname), "%s", slash + 1);
	if (strcmp(kns, "_cluster") && !store_name_valid(kns, false))
		return why_false(
		    err, err_len,
		    "policies/%s: key: '%s' is not a namespace name (RFC 1123 label) nor "
		    "_cluster",
		    path, kns);
	if (!store_name_valid(kname, true))
		return why_false(
		    err, err_len,
		    "policies/%s: key: '%s' is not an object name (RFC 1123 subdomain)", path,
		    kname);
	obj = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
	kind = json_string_value(json_object_get(obj, "kind"));
	if (!json_is_object(obj) || !kind) {
		why_false(err, err_len, "policies/%s: %s", path,
			  obj ? "expected a policy object with a kind" : jerr.text);
		json_decref(obj);
		return false;
	}
	/* The key is the scope an etcd role can be limited to: the object must say the same. */
	clusterwide = !strcmp(kind, "CiliumClusterwideNetworkPolicy");
	md = json_object_get(obj, "metadata");
	name = json_string_value(json_object_get(md, "name"));
	ns = policy_object_ns(md, clusterwide);
	if (clusterwide != !strcmp(kns, "_cluster") || strcmp(ns, clusterwide ? "" : kns) ||
	    !name || strcmp(name, kname)) {
		why_false(
		    err, err_len,
		    "policies/%s: key does not match the object (%s '%s%s%s'): a %s is stored "
		    "under %s",
		    path, kind, ns, *ns ? "/" : "", name ? name : "(no name)", kind,
		    clusterwide ? "policies/_cluster/<name>"
				: "policies/<metadata.namespace>/<metadata.name>");
		json_decref(obj);
		return false;
	}
	if (!clusterwide)
		snprintf(out->namespace_, sizeof(out->namespace_), "%s", kns);
	snprintf(out->name, sizeof(out->name), "%s", kname);
	out->object = obj;
	out->kind = kind; /* points into obj */
	return true;
}

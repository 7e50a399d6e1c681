// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment API message codecs (enroll/proto.h). Records inside the response reuse the
 * store's own codecs, so a machine checks what it receives exactly as an agent checks what
 * it reads from etcd.
 */
#include "enroll/proto.h"

#include <sys/socket.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/net.h"
#include "lib/why.h"

static json_t *load_object(const char *body, size_t len, char *why, size_t why_len)
{
	json_error_t e;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);

	if (json_is_object(o))
		return o;
	if (o)
		why_false(why, why_len, "body: expected a JSON object");
	else
		why_false(why, why_len, "body: not JSON (%s at byte %d)", e.text, e.position);
	json_decref(o);
	return NULL;
}

/* A string field into out (size bytes with the NUL); absent = "" unless required. */
static bool str_field(json_t *o, const char *name, bool required, char *out, size_t size, char *why,
		      size_t why_len)
{
	json_t *v = json_object_get(o, name);

	out[0] = '\0';
	if (!v)
		return required ? why_false(why, why_len, "%s: missing", name) : true;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return why_false(why, why_len, "%s: expected a string", name);
	if (json_string_length(v) >= size)
		return why_false(why, why_len, "%s: longer than %zu characters", name, size - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return true;
}

static bool isalnum_ascii(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool wg_key_text_valid(const char *k)
{
	size_t n = strlen(k);

	if (n != 44 || k[43] != '=')
		return false;
	for (size_t i = 0; i < 43; i++)
		if (!(isalnum_ascii(k[i]) || k[i] == '+' || k[i] == '/'))
			return false;
	return true;
}

bool enroll_request_decode(const char *body, size_t len, struct enroll_request *out, char *why,
			   size_t why_len)
{
	char token[ENROLL_TOKEN_LEN + 2], sub[200], err[160];
	struct net_prefix ip;
	json_t *o;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	o = load_object(body, len, why, why_len);
	if (!o)
		return false;
	if (!str_field(o, "token", true, token, sizeof(token), why, why_len) ||
	    !str_field(o, "name", false, out->name, sizeof(out->name), why, why_len) ||
	    !str_field(o, "hostname", false, out->hostname, sizeof(out->hostname), why, why_len) ||
	    !str_field(o, "underlay_ip", true, out->underlay_ip, sizeof(out->underlay_ip), why,
		       why_len) ||
	    !str_field(o, "wg_public_key", false, out->wg_public_key, sizeof(out->wg_public_key),
		       why, why_len))
		goto out;
	if (!enroll_token_parse(token, strlen(token), &out->token, sub, sizeof(sub))) {
		why_false(why, why_len, "%s", sub);
		goto out;
	}
	if (out->name[0] && !store_name_valid(out->name, true)) {
		why_false(why, why_len,
			  "name: '%s' is not a valid machine name (RFC 1123 subdomain)", out->name);
		goto out;
	}
	if (!net_ip_parse(out->underlay_ip, AF_UNSPEC, &ip, err, sizeof(err))) {
		why_false(why, why_len, "underlay_ip: %s", err);
		goto out;
	}
	if (out->wg_public_key[0] && !wg_key_text_valid(out->wg_public_key)) {
		why_false(why, why_len,
			  "wg_public_key: expected 44 characters of base64 (32 bytes)");
		goto out;
	}
	ok = true;
out:
	memset(token, 0, sizeof(token));
	json_decref(o);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

char *enroll_request_encode(const struct enroll_request *r)
{
	char token[ENROLL_TOKEN_LEN + 1], *text;
	json_t *o;

	snprintf(token, sizeof(token), "%s.%s", r->token.id, r->token.secret);
	o = json_pack("{s:s, s:s}", "token", token, "underlay_ip", r->underlay_ip);
	if (o && r->name[0])
		json_object_set_new(o, "name", json_string(r->name));
	if (o && r->hostname[0])
		json_object_set_new(o, "hostname", json_string(r->hostname));
	if (o && r->wg_public_key[0])
		json_object_set_new(o, "wg_public_key", json_string(r->wg_public_key));
	text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return text;
}

bool enroll_leave_request_decode(const char *body, size_t len, struct enroll_leave_request *out,
				 char *why, size_t why_len)
{
	json_t *o = load_object(body, len, why, why_len);
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!o)
		return false;
	ok = str_field(o, "name", true, out->name, sizeof(out->name), why, why_len) &&
	     str_field(o, "user", true, out->user, sizeof(out->user), why, why_len) &&
	     str_field(o, "password", true, out->password, sizeof(out->password), why, why_len);
	json_decref(o);
	if (ok && !store_name_valid(out->name, true))
		ok = why_false(why, why_len, "name: '%s' is not a valid machine name", out->name);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

char *enroll_leave_request_encode(const struct enroll_leave_request *r)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:s}", "name", r->name, "user", r->user, "password", r->password);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return text;
}

void enroll_response_free(struct enroll_response *r)
{
	store_workload_clear(&r->workload);
	free(r->gateways);
	r->gateways = NULL;
	r->n_gateways = 0;
	if (r->store_ca)
		free(r->store_ca);
	r->store_ca = NULL;
	memset(r->store_password, 0, sizeof(r->store_password));
}

/* Decodes o[name] (an object) with a store decoder by dumping it back to text: the store's
 * codecs take bytes, and this keeps one implementation of each record's rules. */
static char *dump_field(json_t *o, const char *name, char *why, size_t why_len)
{
	json_t *v = json_object_get(o, name);
	char *text;

	if (!json_is_object(v)) {
		why_false(why, why_len, "%s: missing or not an object", name);
		return NULL;
	}
	text = json_dumps(v, JSON_COMPACT);
	if (!text)
		why_false(why, why_len, "%s: out of memory", name);
	return text;
}

static bool response_gateways(json_t *o, struct enroll_response *out, char *why, size_t why_len)
{
	json_t *gws = json_object_get(o, "gateways"), *v;
	const char *name;
	char sub[400];

	if (!json_is_object(gws))
		return why_false(why, why_len, "gateways: missing or not an object");
	if (json_object_size(gws) > 256)
		return why_false(why, why_len, "gateways: more than 256");
	out->gateways = calloc(json_object_size(gws) + 1, sizeof(*out->gateways));
	if (!out->gateways)
		return why_false(why, why_len, "gateways: out of memory");
	json_object_foreach(gws, name, v)
	{
		char *text = json_is_object(v) ? json_dumps(v, JSON_COMPACT) : NULL;
		bool ok =
		    text && store_gateway_decode(name, text, strlen(text),
						 &out->gateways[out->n_gateways], sub, sizeof(sub));

		free(text);
		if (!ok)
			return why_false(why, why_len, "gateways: %s",
					 json_is_object(v) ? sub : "expected objects");
		out->n_gateways++;
	}
	return true;
}

static bool response_store(json_t *o, struct enroll_response *out, char *why, size_t why_len)
{
	json_t *st = json_object_get(o, "store");
	json_t *ca = json_object_get(st, "ca");

	if (!json_is_object(st))
		return why_false(why, why_len, "store: missing or not an object");
	if (!str_field(st, "endpoints", true, out->store_endpoints, sizeof(out->store_endpoints),
		       why, why_len) ||
	    !str_field(st, "prefix", true, out->store_prefix, sizeof(out->store_prefix), why,
		       why_len) ||
	    !str_field(st, "user", false, out->store_user, sizeof(out->store_user), why, why_len) ||
	    !str_field(st, "password", false, out->store_password, sizeof(out->store_password), why,
		       why_len))
		return false;
	if (!out->store_endpoints[0] || strpbrk(out->store_endpoints, " \t\r\n"))
		return why_false(why, why_len, "store.endpoints: expected a comma list of URLs");
	if (out->store_prefix[0] != '/' || strpbrk(out->store_prefix, " \t\r\n"))
		return why_false(why, why_len,
				 "store.prefix: expected a key prefix starting with '/'");
	if (ca && (!json_is_string(ca) || json_string_length(ca) > 65536 ||
		   strlen(json_string_value(ca)) != json_string_length(ca) ||
		   !strstr(json_string_value(ca), "-----BEGIN CERTIFICATE-----")))
		return why_false(why, why_len, "store.ca: expected PEM certificates");
	if (ca && !(out->store_ca = strdup(json_string_value(ca))))
		return why_false(why, why_len, "store.ca: out of memory");
	if (out->store_user[0] && !out->store_password[0])
		return why_false(why, why_len, "store.password: missing for user '%s'",
				 out->store_user);
	return true;
}

static bool response_fields(json_t *o, struct enroll_response *out, char *why, size_t why_len)
{
	char name[STORE_NAME_MAX], sub[400], *text;
	bool ok;

	if (!str_field(o, "name", true, name, sizeof(name), why, why_len))
		return false;
	if (!store_name_valid(name, true))
		return why_false(why, why_len, "name: '%s' is not a valid machine name", name);
	if (!(text = dump_field(o, "workload", why, why_len)))
		return false;
	ok = store_workload_decode(name, text, strlen(text), &out->workload, sub, sizeof(sub));
	free(text);
	if (!ok)
		return why_false(why, why_len, "workload: %s", sub);
	if (!(text = dump_field(o, "cluster", why, why_len)))
		return false;
	ok = store_config_decode(text, strlen(text), &out->cluster, sub, sizeof(sub));
	free(text);
	if (!ok)
		return why_false(why, why_len, "cluster: %s", sub);
	return response_gateways(o, out, why, why_len) && response_store(o, out, why, why_len);
}

bool enroll_response_decode(const char *body, size_t len, struct enroll_response *out, char *why,
			    size_t why_len)
{
	json_t *o;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (len > ENROLL_REPLY_MAX)
		return why_false(why, why_len, "reply: larger than %d bytes", ENROLL_REPLY_MAX);
	o = load_object(body, len, why, why_len);
	if (!o)
		return false;
	ok = json_integer_value(json_object_get(o, "version")) == 1 ||
	     why_false(why, why_len, "version: expected 1");
	ok = ok && response_fields(o, out, why, why_len);
	json_decref(o);
	if (!ok)
		enroll_response_free(out);
	return ok;
}

/* A store encoder's text back as a JSON value (NULL on failure). */
static json_t *reload(char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	return v;
}

char *enroll_response_encode(const struct enroll_response *r)
{
	json_t *o, *gws = json_object(), *st;
	char *text = NULL;

	for (size_t i = 0; gws && i < r->n_gateways; i++)
		json_object_set_new(gws, r->gateways[i].name,
				    reload(store_gateway_encode(&r->gateways[i])));
	st = json_pack("{s:s, s:s}", "endpoints", r->store_endpoints, "prefix", r->store_prefix);
	if (st && r->store_ca)
		json_object_set_new(st, "ca", json_string(r->store_ca));
	if (st && r->store_user[0]) {
		json_object_set_new(st, "user", json_string(r->store_user));
		json_object_set_new(st, "password", json_string(r->store_password));
	}
	o = json_pack("{s:i, s:s, s:o*, s:o*, s:o*, s:o*}", "version", 1, "name", r->workload.name,
		      "workload", reload(store_workload_encode(&r->workload)), "cluster",
		      reload(store_config_encode(&r->cluster)), "gateways", gws, "store", st);
	if (o)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

char *enroll_error_encode(const char *code, const char *message)
{
	json_t *o = json_pack("{s:s, s:s}", "error", code, "message", message);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return text;
}

bool enroll_error_decode(const char *body, size_t len, char code[64], char message[512])
{
	json_t *o = load_object(body, len, NULL, 0);
	bool ok;

	code[0] = message[0] = '\0';
	if (!o)
		return false;
	ok = str_field(o, "error", true, code, 64, NULL, 0) &&
	     str_field(o, "message", false, message, 512, NULL, 0);
	for (char *p = message; ok && *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' '; /* never echo terminal control characters */
	json_decref(o);
	return ok;
}

// SPDX-License-Identifier: GPL-2.0-only
/* The persisted gateway set (daemon_gwstate.h). */
#include "agent/daemon_gwstate.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool gfail(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool gfail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return false;
}

char *daemon_gwstate_encode(const struct store_gateway *gws, size_t n, const char *active,
			    const char *owner)
{
	json_t *set = json_object();
	json_t *o = json_pack("{s:i, s:s, s:s, s:o}", "version", 1, "owner", owner, "active",
			      active, "gateways", set);
	char *out = NULL;
	bool ok = o != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		char *rec = store_gateway_encode(&gws[i]);
		json_t *v = rec ? json_loads(rec, 0, NULL) : NULL;

		free(rec);
		ok = v && json_object_set_new(set, gws[i].name, v) == 0;
	}
	if (ok)
		out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return out;
}

/* One record, through the store's own decoder (its key names the gateway). */
static bool record(const char *name, json_t *v, struct store_gateway *out, char *why,
		   size_t why_len)
{
	char key[STORE_NAME_MAX + 16];
	char *text;
	bool ok;

	if (!json_is_object(v))
		return gfail(why, why_len, "gateways.%s: expected an object", name);
	snprintf(key, sizeof(key), "gateways/%s", name);
	text = json_dumps(v, JSON_COMPACT);
	if (!text)
		return gfail(why, why_len, "gateways.%s: out of memory", name);
	ok = store_gateway_decode(key, text, strlen(text), out, why, why_len);
	free(text);
	return ok;
}

bool daemon_gwstate_decode(const char *buf, size_t len, const char *owner,
			   struct store_gateway *out, size_t max, size_t *n, char *active,
			   size_t active_len, char *why, size_t why_len)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je), *set, *v;
	const char *name, *act = NULL;
	bool ok = true, found = false;

	*n = 0;
	if (!o)
		return gfail(why, why_len, "line %d: %s", je.line, je.text);
	set = json_object_get(o, "gateways");
	if (!json_is_object(o) || json_integer_value(json_object_get(o, "version")) != 1 ||
	    !json_is_object(set) || !json_is_string(json_object_get(o, "active"))) {
		json_decref(o);
		return gfail(why, why_len,
			     "expected {\"version\":1,\"active\":NAME,\"gateways\":{...}}");
	}
	act = json_string_value(json_object_get(o, "active"));
	name = json_string_value(json_object_get(o, "owner"));
	if (!name || strcmp(name, owner)) {
		gfail(why, why_len, "written for another enrollment (owner %s, expected %s)",
		      name ? name : "absent", owner);
		json_decref(o); /* after: name points into it */
		return false;
	}
	if (json_object_size(set) == 0 || json_object_size(set) > max)
		ok = gfail(why, why_len, "gateways: %zu records, expected 1 to %zu",
			   json_object_size(set), max);
	json_object_foreach(set, name, v)
	{
		if (!ok)
			break;
		ok = record(name, v, &out[*n], why, why_len);
		if (ok)
			found |= !strcmp(out[(*n)++].name, act);
	}
	if (ok && !found)
		ok = gfail(why, why_len, "active: '%s' is none of the gateways", act);
	if (ok && strlen(act) >= active_len)
		ok = gfail(why, why_len, "active: name too long");
	if (ok)
		snprintf(active, active_len, "%s", act);
	else
		*n = 0;
	json_decref(o);
	return ok;
}

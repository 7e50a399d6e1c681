// SPDX-License-Identifier: GPL-2.0-only
/*
 * api_client: libcurl over the API's unix socket (contract in api_client.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent/api.h"
#include "agent/api_client.h"
#include "lib/cli.h"
#include "lib/config.h"

struct reply {
	char *data;
	size_t len;
	bool too_large;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct reply *r = ctx;
	size_t n = size * nmemb;
	char *nd;

	if (n > API_CLIENT_REPLY_MAX - r->len) {
		r->too_large = true;
		return 0; /* aborts the transfer */
	}
	nd = realloc(r->data, r->len + n + 1);
	if (!nd)
		return 0;
	memcpy(nd + r->len, ptr, n);
	r->data = nd;
	r->len += n;
	r->data[r->len] = '\0';
	return n;
}

bool api_client_parse_reply(const char *text, size_t len, json_t **out, char *why, size_t why_len)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, 0, &jerr);

	*out = NULL;
	if (!o)
		return snprintf(why, why_len, "reply is not JSON: %s (line %d)", jerr.text,
				jerr.line),
		       false;
	if (!json_is_object(o)) {
		json_decref(o);
		return snprintf(why, why_len, "reply is not a JSON object"), false;
	}
	*out = o;
	return true;
}

/* curl's failure as the -errno the header promises. */
static int curl_error(CURLcode rc, long os_errno, char *why, size_t why_len, const char *detail)
{
	snprintf(why, why_len, "%s", detail[0] ? detail : curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		if (os_errno == EACCES || os_errno == EPERM)
			return -EACCES;
		return os_errno == ENOENT ? -ENOENT : -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	default:
		return -EPROTO;
	}
}

int api_client_get(const char *socket_path, const char *path_query, long *status, json_t **body,
		   char *why, size_t why_len)
{
	char url[4096], detail[CURL_ERROR_SIZE] = "";
	struct reply r = {0};
	long os_errno = 0;
	CURLcode rc;
	CURL *c;
	int err = 0;

	*body = NULL;
	if (snprintf(url, sizeof(url), "http://localhost%s", path_query) >= (int)sizeof(url))
		return snprintf(why, why_len, "request too long"), -EINVAL;
	c = curl_easy_init();
	if (!c)
		return snprintf(why, why_len, "curl_easy_init failed"), -ENOMEM;
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, API_CLIENT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		if (r.too_large)
			err = (snprintf(why, why_len, "reply over %u bytes", API_CLIENT_REPLY_MAX),
			       -EPROTO);
		else
			err = curl_error(rc, os_errno, why, why_len, detail);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (!api_client_parse_reply(r.data ? r.data : "", r.len, body, why, why_len))
		err = -EPROTO;
out:
	curl_easy_cleanup(c);
	free(r.data);
	return err;
}

bool api_client_query_add(char *url, size_t len, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	size_t used = strlen(url);
	int n;

	if (!esc)
		return false;
	n = snprintf(url + used, len - used, "%c%s=%s", strchr(url, '?') ? '&' : '?', key, esc);
	curl_free(esc);
	return n > 0 && (size_t)n < len - used;
}

const char *api_client_error_text(const json_t *body)
{
	const char *e = json_string_value(json_object_get(body, "error"));

	return e ? e : "the daemon reported an error without a message";
}

bool api_client_socket_path(const char *override, const char *config_file, char *out, size_t len,
			    char *why, size_t why_len)
{
	struct config cfg;

	if (override) {
		snprintf(out, len, "%s", override);
		return true;
	}
	config_defaults(&cfg);
	if (config_file && !config_load(&cfg, config_file, why, why_len))
		return false;
	/* The default file, when it exists, only to find the socket: a mistake elsewhere in
	 * it (a missing CA file, say) must not stop `pseudopod status`, the command one runs
	 * to find out what is wrong. */
	if (!config_file && access(CONFIG_DEFAULT_PATH, F_OK) == 0 &&
	    !config_load(&cfg, CONFIG_DEFAULT_PATH, why, why_len)) {
		fprintf(stderr, "pseudopod: warning: %s; using the API socket %s\n", why,
			API_DEFAULT_SOCKET);
		config_defaults(&cfg);
	}
	snprintf(out, len, "%s",
		 cfg.agent.api_socket[0] ? cfg.agent.api_socket : API_DEFAULT_SOCKET);
	return true;
}

int api_client_report(int err, const char *socket_path, const char *why)
{
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		fprintf(stderr,
			"pseudopod: pseudopodd is not running (no API on %s): start it with "
			"systemctl start pseudopod\n",
			socket_path);
		break;
	case -EACCES:
		fprintf(stderr,
			"pseudopod: permission denied on %s: the API socket is root-only, run "
			"with sudo\n",
			socket_path);
		break;
	case -ETIMEDOUT:
		fprintf(stderr, "pseudopod: pseudopodd did not answer on %s in %ld s (%s)\n",
			socket_path, API_CLIENT_TIMEOUT_MS / 1000, why);
		break;
	default:
		fprintf(stderr, "pseudopod: bad reply from pseudopodd on %s: %s\n", socket_path,
			why);
	}
	return 1;
}

int api_client_fetch(const char *socket_path, const char *path_query, json_t **out)
{
	char why[512] = "";
	long status = 0;
	int err = api_client_get(socket_path, path_query, &status, out, why, sizeof(why));

	if (err)
		return api_client_report(err, socket_path, why);
	if (status < 200 || status > 299) {
		fprintf(stderr, "pseudopod: pseudopodd: %s (HTTP %ld)\n",
			api_client_error_text(*out), status);
		json_decref(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}

int api_client_opt(int c, const char *arg, struct api_client_opts *o, const char *cmd,
		   const char *usage)
{
	switch (c) {
	case 'o':
		if (strcmp(arg, "json") && strcmp(arg, "table")) {
			fprintf(stderr, "pseudopod %s: -o: expected table or json, not %s\n\n%s",
				cmd, arg, usage);
			return CLI_EXIT_USAGE;
		}
		o->json = !strcmp(arg, "json");
		return -1;
	case 'S':
		o->socket_path = arg;
		return -1;
	case 'c':
		o->config = arg;
		return -1;
	case 'h':
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	default:
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
}

// SPDX-License-Identifier: GPL-2.0-only
/* `pseudopod enroll`: the machine side of enrollment (enroll/client.h), libcurl for HTTPS. */
#include "enroll/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enroll/proto.h"

void enroll_http_reply_free(struct enroll_http_reply *r)
{
	if (r->body) {
		sodium_memzero(r->body, r->len);
		free(r->body);
	}
	r->body = NULL;
	r->len = 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct enroll_http_reply *r = arg;
	size_t n = size * nmemb;
	char *p;

	if (r->len + n > ENROLL_REPLY_MAX)
		return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
	p = realloc(r->body, r->len + n + 1);
	if (!p)
		return 0;
	memcpy(p + r->len, data, n);
	r->body = p;
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static int perform(CURL *h, const char *url, const char *path, struct enroll_http_reply *r,
		   char *why, size_t why_len)
{
	char full[ENROLL_URL_MAX + 64], errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	snprintf(full, sizeof(full), "%s%s", url, path);
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pseudopod/" PSEUDOPOD_VERSION);
	/* No CURLOPT_PROXY/NOPROXY: libcurl takes https_proxy and no_proxy from the
	 * environment, which is what a machine behind a proxy needs. */
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		enroll_http_reply_free(r);
		snprintf(why, why_len, "%s: %s", full, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
		       : rc == CURLE_COULDNT_CONNECT  ? -ECONNREFUSED
		       : rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
			   ? -EACCES
			   : -EIO;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (!r->body && !(r->body = calloc(1, 1)))
		return -ENOMEM;
	return 0;
}

int enroll_http_get_unverified(const char *url, const char *path, struct enroll_http_reply *r,
			       char *why, size_t why_len)
{
	CURL *h = curl_easy_init();
	int rc;

	if (!h)
		return -ENOMEM;
	/* Unverified on purpose: this fetch carries nothing secret, and what it returns is
	 * trusted only if its public key matches the pin from the join string. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	rc = perform(h, url, path, r, why, why_len);
	curl_easy_cleanup(h);
	return rc;
}

int enroll_http_post(const char *url, const char *path, const char *ca_file, const char *body,
		     struct enroll_http_reply *r, char *why, size_t why_len)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *h = curl_easy_init();
	int rc = -ENOMEM;

	if (h && hdr) {
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL); /* only the cluster CA */
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		rc = perform(h, url, path, r, why, why_len);
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return rc;
}

void enroll_progress(FILE *out, const char *fmt, ...)
{
	va_list ap;

	if (!out)
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
}

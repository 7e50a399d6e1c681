/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pki: the cluster CA and the enrollment server's certificate, made with GnuTLS (the one TLS
 * library of pseudopod: libmicrohttpd serves with it, libcurl-gnutls connects with it).
 *
 * Files in dir (ENROLL_PKI_DEFAULT_DIR unless given): ca.crt (0644), ca.key (0600),
 * server.crt (0644, leaf then CA), server.key (0600). ECDSA P-256, SHA-256 signatures; the
 * CA is valid 10 years, the server certificate 1 year (serverAuth, digitalSignature, SANs
 * from names and ips).
 *
 * enroll_pki_ensure() is idempotent: an existing CA is kept, an existing server certificate
 * is kept unless rotate (a new key and certificate under the same CA). The pin is SHA-256 of
 * the CA's SubjectPublicKeyInfo (DER): it survives re-issuing the CA certificate with the
 * same key, and is what join strings carry. Returns 0 or -errno with why filled.
 */
#ifndef PSEUDOPOD_ENROLL_PKI_H
#define PSEUDOPOD_ENROLL_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enroll/join.h"

#define ENROLL_PKI_DEFAULT_DIR "/etc/pseudopod/pki"
#define ENROLL_PKI_MAX_SANS    16

struct enroll_pki_result {
	bool ca_created, server_created;
	uint8_t pin[ENROLL_PIN_LEN];
};

int enroll_pki_ensure(const char *dir, const char *const *names, size_t n_names,
		      const char *const *ips, size_t n_ips, bool rotate,
		      struct enroll_pki_result *out, char *why, size_t why_len);
/* The pin of the first certificate in pem (a parser of outside input: the client feeds it
 * what the server sent). false with why when it is not a PEM certificate. */
bool enroll_pki_pin(const char *pem, size_t len, uint8_t pin[ENROLL_PIN_LEN], char *why,
		    size_t why_len);

/* The default enrollment URL: https://<first SAN of dir/server.crt>:port (IPv6 in
 * brackets). 0 or -errno with why. */
int enroll_pki_server_url(const char *dir, unsigned port, char out[ENROLL_URL_MAX], char *why,
			  size_t why_len);

#endif

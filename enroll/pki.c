// SPDX-License-Identifier: GPL-2.0-only
/* Cluster CA and server certificate with GnuTLS (enroll/pki.h). */
#include "enroll/pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enroll/files.h"
#include "lib/net.h"
#include "lib/why.h"

#define CA_DAYS	    3650
#define SERVER_DAYS 365

struct pair {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

static void pair_free(struct pair *p)
{
	if (p->crt)
		gnutls_x509_crt_deinit(p->crt);
	if (p->key)
		gnutls_x509_privkey_deinit(p->key);
	p->crt = NULL;
	p->key = NULL;
}

static void path_of(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Loads dir/<base>.crt and dir/<base>.key; -ENOENT when either is missing. */
static int pair_load(const char *dir, const char *base, struct pair *p, char *why, size_t why_len)
{
	char crt_path[PATH_MAX], key_path[PATH_MAX], name[64];
	char *crt = NULL, *key = NULL;
	size_t crt_len, key_len;
	gnutls_datum_t d;
	int rc;

	snprintf(name, sizeof(name), "%s.crt", base);
	path_of(crt_path, sizeof(crt_path), dir, name);
	snprintf(name, sizeof(name), "%s.key", base);
	path_of(key_path, sizeof(key_path), dir, name);
	if (access(crt_path, F_OK) < 0 || access(key_path, F_OK) < 0)
		return -ENOENT;
	rc = enroll_read_file(crt_path, false, 1 << 20, &crt, &crt_len, why, why_len);
	if (rc == 0)
		rc = enroll_read_file(key_path, true, 1 << 20, &key, &key_len, why, why_len);
	if (rc < 0)
		goto out;
	if (gnutls_x509_crt_init(&p->crt) < 0 || gnutls_x509_privkey_init(&p->key) < 0) {
		rc = why_rc(-ENOMEM, why, why_len, "out of memory");
		goto out;
	}
	d = (gnutls_datum_t){(unsigned char *)crt, (unsigned)crt_len};
	if (gnutls_x509_crt_import(p->crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		rc = why_rc(-EINVAL, why, why_len, "%s: not a PEM certificate", crt_path);
		goto out;
	}
	d = (gnutls_datum_t){(unsigned char *)key, (unsigned)key_len};
	if (gnutls_x509_privkey_import(p->key, &d, GNUTLS_X509_FMT_PEM) < 0) {
		rc = why_rc(-EINVAL, why, why_len, "%s: not a PEM private key", key_path);
		goto out;
	}
	rc = 0;
out:
	if (key) {
		sodium_memzero(key, key_len);
		free(key);
	}
	free(crt);
	if (rc < 0)
		pair_free(p);
	return rc;
}

/* A certificate skeleton: fresh P-256 key, v3, random positive serial, validity, CN. */
static int pair_new(struct pair *p, const char *cn, unsigned days)
{
	unsigned char serial[16];
	time_t now = time(NULL);

	if (gnutls_x509_privkey_init(&p->key) < 0 || gnutls_x509_crt_init(&p->crt) < 0)
		return -ENOMEM;
	if (gnutls_x509_privkey_generate2(p->key, GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL,
					  0) < 0)
		return -EIO;
	randombytes_buf(serial, sizeof(serial));
	serial[0] &= 0x7f; /* DER INTEGER: positive */
	serial[0] |= 0x01; /* and no leading zero byte */
	if (gnutls_x509_crt_set_version(p->crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(p->crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(p->crt, now - 3600) < 0 ||
	    gnutls_x509_crt_set_expiration_time(p->crt, now + (time_t)days * 86400) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(p->crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
					  (unsigned)strlen(cn)) < 0 ||
	    gnutls_x509_crt_set_key(p->crt, p->key) < 0)
		return -EINVAL;
	return 0;
}

static int set_key_id(gnutls_x509_crt_t crt)
{
	unsigned char id[64];
	size_t len = sizeof(id);

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &len) < 0 ||
	    gnutls_x509_crt_set_subject_key_id(crt, id, len) < 0)
		return -EINVAL;
	return 0;
}

static int ca_create(struct pair *ca, char *why, size_t why_len)
{
	int rc = pair_new(ca, "pseudopod cluster CA", CA_DAYS);

	if (rc == 0 &&
	    (gnutls_x509_crt_set_basic_constraints(ca->crt, 1, 0) < 0 ||
	     gnutls_x509_crt_set_key_usage(ca->crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
							GNUTLS_KEY_DIGITAL_SIGNATURE) < 0))
		rc = -EINVAL;
	if (rc == 0)
		rc = set_key_id(ca->crt);
	if (rc == 0 && gnutls_x509_crt_sign2(ca->crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0) < 0)
		rc = -EINVAL;
	return rc < 0 ? why_rc(rc, why, why_len, "creating the CA certificate failed") : 0;
}

static int add_sans(gnutls_x509_crt_t crt, const char *const *names, size_t n_names,
		    const char *const *ips, size_t n_ips, char *why, size_t why_len)
{
	for (size_t i = 0; i < n_names; i++)
		if (gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, names[i],
							 (unsigned)strlen(names[i]),
							 GNUTLS_FSAN_APPEND) < 0)
			return why_rc(-EINVAL, why, why_len, "--server-name %s: not usable",
				      names[i]);
	for (size_t i = 0; i < n_ips; i++) {
		struct net_prefix ip;
		char err[160];

		if (!net_ip_parse(ips[i], AF_UNSPEC, &ip, err, sizeof(err)))
			return why_rc(-EINVAL, why, why_len, "--server-ip %s", err);
		if (gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip.addr,
							 net_family_bits(ip.family) / 8,
							 GNUTLS_FSAN_APPEND) < 0)
			return why_rc(-EINVAL, why, why_len, "--server-ip %s: not usable", ips[i]);
	}
	return 0;
}

static int server_create(struct pair *srv, const struct pair *ca, const char *const *names,
			 size_t n_names, const char *const *ips, size_t n_ips, char *why,
			 size_t why_len)
{
	unsigned char id[64];
	size_t id_len = sizeof(id);
	int rc;

	if (n_names + n_ips == 0 || n_names + n_ips > ENROLL_PKI_MAX_SANS)
		return why_rc(-EINVAL, why, why_len,
			      "the server certificate needs 1..%d --server-name/--server-ip",
			      ENROLL_PKI_MAX_SANS);
	rc = pair_new(srv, n_names ? names[0] : ips[0], SERVER_DAYS);
	if (rc < 0)
		return why_rc(rc, why, why_len, "creating the server key failed");
	rc = add_sans(srv->crt, names, n_names, ips, n_ips, why, why_len);
	if (rc < 0)
		return rc;
	if (gnutls_x509_crt_set_basic_constraints(srv->crt, 0, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(srv->crt, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
	    gnutls_x509_crt_set_key_purpose_oid(srv->crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0 ||
	    set_key_id(srv->crt) < 0 ||
	    gnutls_x509_crt_get_subject_key_id(ca->crt, id, &id_len, NULL) < 0 ||
	    gnutls_x509_crt_set_authority_key_id(srv->crt, id, id_len) < 0 ||
	    gnutls_x509_crt_sign2(srv->crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0) < 0)
		return why_rc(-EINVAL, why, why_len, "signing the server certificate failed");
	return 0;
}

/* Writes the key (0600) first, then the certificate(s) (0644): a pair is "present" only
 * when both files are, so a crash in between makes the next run create it again. */
static int pair_write(const char *dir, const char *base, const struct pair *p,
		      const struct pair *chain, char *why, size_t why_len)
{
	gnutls_datum_t key = {0}, crt = {0}, ca = {0};
	char path[PATH_MAX], name[64], *both = NULL;
	int rc = -ENOMEM;

	if (gnutls_x509_privkey_export2(p->key, GNUTLS_X509_FMT_PEM, &key) < 0 ||
	    gnutls_x509_crt_export2(p->crt, GNUTLS_X509_FMT_PEM, &crt) < 0 ||
	    (chain && gnutls_x509_crt_export2(chain->crt, GNUTLS_X509_FMT_PEM, &ca) < 0))
		goto out;
	if (asprintf(&both, "%.*s%.*s", (int)crt.size, crt.data, (int)ca.size,
		     ca.data ? (char *)ca.data : "") < 0) {
		both = NULL;
		goto out;
	}
	snprintf(name, sizeof(name), "%s.key", base);
	path_of(path, sizeof(path), dir, name);
	rc = enroll_write_file(path, key.data, key.size, 0600);
	if (rc == 0) {
		snprintf(name, sizeof(name), "%s.crt", base);
		path_of(path, sizeof(path), dir, name);
		rc = enroll_write_file(path, both, strlen(both), 0644);
	}
	if (rc < 0)
		why_rc(rc, why, why_len, "%s: %s", path, strerror(-rc));
out:
	if (key.data) {
		sodium_memzero(key.data, key.size);
		gnutls_free(key.data);
	}
	gnutls_free(crt.data);
	gnutls_free(ca.data);
	free(both);
	return rc == -ENOMEM ? why_rc(rc, why, why_len, "out of memory") : rc;
}

static int crt_pin(gnutls_x509_crt_t crt, uint8_t pin[ENROLL_PIN_LEN])
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = {0};
	int rc = -EINVAL;

	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_import_x509(pub, crt, 0) == 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) == 0) {
		crypto_hash_sha256(pin, der.data, der.size);
		rc = 0;
	}
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	return rc;
}

int enroll_pki_ensure(const char *dir, const char *const *names, size_t n_names,
		      const char *const *ips, size_t n_ips, bool rotate,
		      struct enroll_pki_result *out, char *why, size_t why_len)
{
	struct pair ca = {0}, srv = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if (sodium_init() < 0)
		return why_rc(-EIO, why, why_len, "libsodium failed to initialise");
	rc = enroll_mkdirs(dir, 0755);
	if (rc < 0)
		return why_rc(rc, why, why_len, "%s: %s", dir, strerror(-rc));
	rc = pair_load(dir, "ca", &ca, why, why_len);
	if (rc == -ENOENT) {
		rc = ca_create(&ca, why, why_len);
		if (rc == 0)
			rc = pair_write(dir, "ca", &ca, NULL, why, why_len);
		out->ca_created = rc == 0;
		rotate = true; /* a new CA needs a new server certificate */
	}
	if (rc < 0)
		goto out;
	rc = rotate ? -ENOENT : pair_load(dir, "server", &srv, why, why_len);
	if (rc == -ENOENT) {
		rc = server_create(&srv, &ca, names, n_names, ips, n_ips, why, why_len);
		if (rc == 0)
			rc = pair_write(dir, "server", &srv, &ca, why, why_len);
		out->server_created = rc == 0;
	}
	if (rc == 0 && crt_pin(ca.crt, out->pin) < 0)
		rc = why_rc(-EINVAL, why, why_len, "the CA's public key cannot be exported");
out:
	pair_free(&ca);
	pair_free(&srv);
	return rc;
}

bool enroll_pki_pin(const char *pem, size_t len, uint8_t pin[ENROLL_PIN_LEN], char *why,
		    size_t why_len)
{
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	gnutls_x509_crt_t crt;
	bool ok = false;

	if (len > (1u << 20) || gnutls_x509_crt_init(&crt) < 0) {
		why_rc(0, why, why_len, "CA certificate: too large");
		return false;
	}
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0)
		why_rc(0, why, why_len, "CA certificate: not a PEM certificate");
	else if (crt_pin(crt, pin) < 0)
		why_rc(0, why, why_len, "CA certificate: its public key cannot be read");
	else
		ok = true;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

int enroll_pki_server_url(const char *dir, unsigned port, char out[ENROLL_URL_MAX], char *why,
			  size_t why_len)
{
	struct pair srv = {0};
	char san[256], text[INET6_ADDRSTRLEN];
	size_t len = sizeof(san) - 1;
	unsigned critical;
	int rc = pair_load(dir, "server", &srv, why, why_len), type;

	if (rc == -ENOENT)
		return why_rc(rc, why, why_len, "%s/server.crt: missing", dir);
	if (rc < 0)
		return rc;
	type = gnutls_x509_crt_get_subject_alt_name(srv.crt, 0, san, &len, &critical);
	if (type == GNUTLS_SAN_DNSNAME && len < sizeof(san)) {
		san[len] = '\0';
		snprintf(out, ENROLL_URL_MAX, "https://%s:%u", san, port);
	} else if (type == GNUTLS_SAN_IPADDRESS && (len == 4 || len == 16)) {
		inet_ntop(len == 4 ? AF_INET : AF_INET6, san, text, sizeof(text));
		snprintf(out, ENROLL_URL_MAX, len == 4 ? "https://%s:%u" : "https://[%s]:%u", text,
			 port);
	} else {
		rc = why_rc(-EINVAL, why, why_len, "%s/server.crt: no DNS name or IP address", dir);
	}
	pair_free(&srv);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The persisted policy snapshot, <state-dir>/policy.snapshot: what this machine's datapath
 * enforced at the last applied store state — the ipcache, the endpoint's policy entries
 * (one per key reference) and its enforcement flags. It exists for one case: the pins are
 * gone (reboot: bpffs is empty) and the store does not answer. Loading fresh maps, writing
 * the snapshot into them and only then attaching restores enforcement without a moment of
 * "allow everything"; the store, once back, is diffed against it like any other state.
 *
 * Format (host byte order: the file never leaves the machine): a header {magic
 * "PPSNAP01", version, identity, revision, flags, n_ipcache, n_entries}, the entries, and
 * a BLAKE2b-256 (libsodium crypto_generichash) of everything before it. A torn, truncated,
 * foreign-identity or altered file is refused as a whole (daemon_snapshot_decode(), which
 * the fuzzer drives). Writes are atomic: temp file, fsync, rename, directory fsync
 * (enroll/files.h), so a crash leaves the old snapshot or the new one.
 *
 * Saved after the first sync and then at most every DAEMON_SNAPSHOT_MIN_MS after changes,
 * so a burst of policy changes costs one write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent/daemon_internal.h"
#include "agent/daemon_snapshot.h"
#include "agent/policy_sync.h"
#include "bpf/dp.h"
#include "enroll/files.h"
#include "lib/log.h"
#include "lib/policy_entry.h"

#define SNAP_MAGIC "PPSNAP01"
#define SNAP_HASH  32u

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t identity;
	int64_t revision;
	uint32_t flags;
	uint32_t n_ipcache;
	uint32_t n_entries;
	uint32_t pad;
};

static bool sfail(char *why, size_t len, const char *msg)
{
	snprintf(why, len, "%s", msg);
	return false;
}

bool daemon_snapshot_decode(const void *buf, size_t len, uint32_t identity,
			    struct daemon_snapshot *out, char *why, size_t why_len)
{
	const unsigned char *p = buf;
	struct snap_header h;
	unsigned char hash[SNAP_HASH];
	size_t body;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(h) + SNAP_HASH)
		return sfail(why, why_len, "shorter than its header");
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, SNAP_MAGIC, 8) || h.version != DAEMON_SNAPSHOT_VERSION)
		return sfail(why, why_len, "not a policy snapshot of this version");
	if (h.n_ipcache > DAEMON_SNAPSHOT_MAX || h.n_entries > DAEMON_SNAPSHOT_MAX)
		return sfail(why, why_len, "more entries than a datapath holds");
	body = sizeof(h) + (size_t)h.n_ipcache * sizeof(struct dp_ipcache_entry) +
	       (size_t)h.n_entries * sizeof(struct policy_entry);
	if (len != body + SNAP_HASH)
		return sfail(why, why_len, "its length does not match its counts (torn write?)");
	crypto_generichash(hash, SNAP_HASH, p, body, NULL, 0);
	if (sodium_memcmp(hash, p + body, SNAP_HASH))
		return sfail(why, why_len, "checksum mismatch (altered or torn)");
	if (h.identity != identity)
		return sfail(why, why_len, "written for another identity");
	if (h.flags & ~(uint32_t)(DP_EP_F_ENFORCE_INGRESS | DP_EP_F_ENFORCE_EGRESS))
		return sfail(why, why_len, "unknown endpoint flags");
	out->ipcache = calloc(h.n_ipcache + 1, sizeof(*out->ipcache));
	out->entries = calloc(h.n_entries + 1, sizeof(*out->entries));
	if (!out->ipcache || !out->entries) {
		daemon_snapshot_free(out);
		return sfail(why, why_len, "out of memory");
	}
	memcpy(out->ipcache, p + sizeof(h), h.n_ipcache * sizeof(*out->ipcache));
	memcpy(out->entries, p + sizeof(h) + h.n_ipcache * sizeof(*out->ipcache),
	       h.n_entries * sizeof(*out->entries));
	for (uint32_t i = 0; i < h.n_ipcache; i++) {
		const struct dp_ipcache_entry *e = &out->ipcache[i];
		if ((e->family != 4 && e->family != 6) || e->plen > (e->family == 4 ? 32 : 128)) {
			daemon_snapshot_free(out);
			return sfail(why, why_len, "an ipcache entry with a bad prefix");
		}
	}
	for (uint32_t i = 0; i < h.n_entries; i++) {
		if (!dp_policy_entry_valid(&out->entries[i])) {
			daemon_snapshot_free(out);
			return sfail(why, why_len, "a policy entry the datapath refuses");
		}
	}
	out->identity = h.identity;
	out->revision = h.revision;
	out->flags = h.flags;
	out->n_ipcache = h.n_ipcache;
	out->n_entries = h.n_entries;
	return true;
}

void *daemon_snapshot_encode(const struct daemon_snapshot *s, size_t *len)
{
	struct snap_header h = {.version = DAEMON_SNAPSHOT_VERSION,
				.identity = s->identity,
				.revision = s->revision,
				.flags = s->flags,
				.n_ipcache = (uint32_t)s->n_ipcache,
				.n_entries = (uint32_t)s->n_entries};
	size_t a = s->n_ipcache * sizeof(*s->ipcache), b = s->n_entries * sizeof(*s->entries);
	unsigned char *buf = malloc(sizeof(h) + a + b + SNAP_HASH);

	if (!buf)
		return NULL;
	memcpy(h.magic, SNAP_MAGIC, 8);
	memcpy(buf, &h, sizeof(h));
	if (a)
		memcpy(buf + sizeof(h), s->ipcache, a);
	if (b)
		memcpy(buf + sizeof(h) + a, s->entries, b);
	crypto_generichash(buf + sizeof(h) + a + b, SNAP_HASH, buf, sizeof(h) + a + b, NULL, 0);
	*len = sizeof(h) + a + b + SNAP_HASH;
	return buf;
}

void daemon_snapshot_free(struct daemon_snapshot *s)
{
	free(s->ipcache);
	free(s->entries);
	memset(s, 0, sizeof(*s));
}

/* ---- reading the maps back ---- */

struct grow {
	struct daemon_snapshot *s;
	size_t cap_ipc, cap_ent;
};

static int add_ipc(const struct dp_ipcache_entry *e, void *ctx)
{
	struct grow *g = ctx;

	if (g->s->n_ipcache == g->cap_ipc) {
		size_t cap = g->cap_ipc ? g->cap_ipc * 2 : 1024;
		void *p = realloc(g->s->ipcache, cap * sizeof(*e));
		if (!p)
			return -ENOMEM;
		g->s->ipcache = p;
		g->cap_ipc = cap;
	}
	g->s->ipcache[g->s->n_ipcache++] = *e;
	return 0;
}

static int add_row(const struct dp_policy_row *r, void *ctx)
{
	struct grow *g = ctx;
	struct policy_entry e;
	unsigned int refs = r->refcnt ? r->refcnt : 1;

	if (r->endpoint != g->s->identity || !agent_policy_row_entry(r, &e))
		return 0;
	while (g->s->n_entries + refs > g->cap_ent) {
		size_t cap = g->cap_ent ? g->cap_ent * 2 : 256;
		void *p = realloc(g->s->entries, cap * sizeof(e));
		if (!p)
			return -ENOMEM;
		g->s->entries = p;
		g->cap_ent = cap;
	}
	for (unsigned int i = 0; i < refs; i++)
		g->s->entries[g->s->n_entries++] = e;
	return 0;
}

static void snapshot_path(struct daemon *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", d->cfg.agent.state_dir, DAEMON_SNAPSHOT_FILE);
}

int daemon_snapshot_save(struct daemon *d)
{
	struct daemon_snapshot s = {.identity = d->enr.workload.identity,
				    .revision = d->policy_revision};
	struct grow g = {.s = &s};
	char path[CONFIG_PATH_MAX + 32];
	size_t len = 0;
	void *buf = NULL;
	int rc = dp_endpoint_get(d->dp.dp, s.identity, &s.flags);

	rc = rc ?: dp_ipcache_foreach(d->dp.dp, add_ipc, &g);
	rc = rc ?: dp_policy_foreach(d->dp.dp, add_row, &g);
	if (rc == 0 && !(buf = daemon_snapshot_encode(&s, &len)))
		rc = -ENOMEM;
	snapshot_path(d, path, sizeof(path));
	if (rc == 0)
		rc = enroll_write_file(path, buf, len, 0600);
	if (rc < 0)
		log_warn("snapshot: writing %s: %s (the previous one stays)", path, strerror(-rc));
	else
		log_debug("snapshot: %s: revision %lld, %zu ipcache entries, %zu policy entries",
			  path, (long long)s.revision, s.n_ipcache, s.n_entries);
	free(buf);
	daemon_snapshot_free(&s);
	return rc;
}

/* Into fresh maps: ipcache, then policy (denies before allows), then the flags last, so
 * that every step only narrows what the empty, unattached maps would let through. */
static int snapshot_write(struct daemon *d, const struct daemon_snapshot *s)
{
	struct policy_entry *ord = calloc(s->n_entries + 1, sizeof(*ord));
	int lock = -1, rc;

	if (!ord)
		return -ENOMEM;
	agent_policy_write_order(s->entries, s->n_entries, true, ord);
	rc = dp_lock(d->dp.bpffs, 5000, &lock);
	rc = rc ?: dp_ipcache_apply(d->dp.dp, s->ipcache, s->n_ipcache, NULL, 0);
	rc = rc ?: dp_policy_apply(d->dp.dp, s->identity, ord, s->n_entries, NULL, 0);
	rc = rc ?: dp_endpoint_set(d->dp.dp, s->identity, s->flags);
	dp_unlock(lock);
	free(ord);
	return rc;
}

int daemon_snapshot_restore(struct daemon *d, bool write, char *err, size_t err_len)
{
	struct daemon_snapshot s;
	char path[CONFIG_PATH_MAX + 32], why[512];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	snapshot_path(d, path, sizeof(path));
	rc = enroll_read_file(path, true, DAEMON_SNAPSHOT_FILE_MAX, &buf, &len, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, err_len, "%s", rc == -ENOENT ? "no snapshot" : why);
		return rc;
	}
	if (!daemon_snapshot_decode(buf, len, d->enr.workload.identity, &s, why, sizeof(why))) {
		free(buf);
		snprintf(err, err_len, "%s: %s", path, why);
		return -EINVAL;
	}
	free(buf);
	if (!write) {
		daemon_snapshot_free(&s);
		return 0;
	}
	rc = snapshot_write(d, &s);
	if (rc < 0)
		snprintf(err, err_len, "writing the snapshot into the maps: %s", strerror(-rc));
	else
		log_warn("snapshot: restored %s (revision %lld: %zu ipcache, %zu policy entries) "
			 "while the store is unreachable",
			 path, (long long)s.revision, s.n_ipcache, s.n_entries);
	if (rc == 0)
		daemon_applied(d, "snapshot", s.revision);
	daemon_snapshot_free(&s);
	return rc;
}

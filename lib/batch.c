/* batch.c - batch signatures with per-message proofs: signer, verifier, continuity. */
#include "batch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "codec.h"
#include "error.h"
#include "fsync_worker.h"
#include "str.h"
#include "merkle.h"
#include "pki.h"
#include "seqstate.h"
#include "strindex.h"

#define CTX_LEN (sizeof BATCH_SIG_CONTEXT)   /* the context string and its NUL */
#define HEADER_MAX 512                       /* avro(BatchHeader) is at most ~230 bytes */
#define CONTENT_OVERHEAD (64 + UNIT_CODE_MAX) /* Content fields other than the body */
#define PROOF_MAX (HEADER_MAX + 64 + 10 + 10 + (ENVELOPE_MAX_PATH + 1) * 32 + ENVELOPE_HEADER_LEN)

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes "docbus-batch-v1\0" || avro(h) into buf (HEADER_MAX + CTX_LEN bytes). */
static int signed_bytes(const batch_header_t *h, uint8_t *buf, size_t *len)
{
    size_t hl = 0;
    int rc;
    memcpy(buf, BATCH_SIG_CONTEXT, CTX_LEN);
    if ((rc = batch_header_encode(h, buf + CTX_LEN, HEADER_MAX, &hl)))
        return rc;
    *len = CTX_LEN + hl;
    return 0;
}

/* ---- signer ------------------------------------------------------------------------ */

struct batch_signer {
    char unit[UNIT_CODE_MAX];
    EVP_PKEY *key;
    EVP_MD_CTX *md_ctx;
    uint8_t key_id[32];
    seqstate_file_t *sf;
    seqstate_t st;               /* as persisted: the last emitted batch */
    int max_count, linger_ms;
    batch_emit_cb *emit;
    void *opaque;
    int64_t (*clock)(void *);
    void *clock_opaque;
    batch_envelope_writer *write_envelope;   /* envelope_write, or a test's */
    /* the open batch */
    int n;
    int64_t first_add_ms;
    content_t *items;            /* body is fixed up at emit time (arena may move) */
    size_t *off, *len;           /* content avro spans inside arena */
    void **opaques;
    uint8_t (*leaves)[32];
    uint8_t *arena;
    size_t arena_len, arena_cap;
    size_t max_content;
    /* reused per batch */
    merkle_tree_t *tree;
    proof_t proof;
    uint8_t sigmsg[CTX_LEN + HEADER_MAX];
    char err[512];
    uint8_t *out;                /* one envelope at a time, at release */
    size_t out_cap;
    /* The sealed batch: signed and its state written; emitted once that state is
     * durable. Its arrays, arena and tree are swapped with the open batch's at sealing,
     * so nothing is copied. At most one: sealing the next waits for it. */
    int async;                   /* the state's fdatasync runs on the fsync worker */
    struct sealed {
        int n;                   /* messages; 0 when there is no sealed batch */
        int next;                /* the first not emitted yet (after a failed envelope) */
        int synced;              /* its state is durable */
        int resave;              /* its background sync failed: save its state inline */
        char why[128];           /* that failure */
        seqstate_t state;        /* the state it wrote */
        fsync_job_t job;
        proof_t proof;           /* its signed header and signature (path per message) */
        merkle_tree_t *tree;
        content_t *items;
        void **opaques;
        size_t *off, *len;
        uint8_t *arena;
        size_t arena_cap;
    } sealed;
};

static int64_t signer_now(const batch_signer_t *s)
{
    return s->clock ? s->clock(s->clock_opaque) : wall_ms();
}

batch_signer_t *batch_signer_new(const char *unit, const char *key_path, const char *cert_path,
                                 const char *state_path, int max_count, int linger_ms,
                                 batch_emit_cb *emit_cb, void *opaque, char *errstr,
                                 size_t errstr_size)
{
    batch_signer_t *s = NULL;
    X509 *cert = NULL;
    char got[UNIT_CODE_MAX];
    int ok = 0;
    if (!unit || !pki_unit_code_ok(unit) || !emit_cb || max_count < 1 ||
        max_count > BATCH_MAX_COUNT || linger_ms < 0) {
        snprintf(errstr, errstr_size, "batch signer for \"%s\": bad arguments (batch size %d must be "
                 "1..%d, linger %d ms must be >= 0)", unit ? unit : "", max_count, BATCH_MAX_COUNT,
                 linger_ms);
        return NULL;
    }
    if (!(s = calloc(1, sizeof *s))) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    snprintf(s->unit, sizeof s->unit, "%s", unit);
    s->max_count = max_count;
    s->linger_ms = linger_ms;
    s->emit = emit_cb;
    s->write_envelope = envelope_write;
    s->opaque = opaque;
    if (pki_key_load(key_path, &s->key, errstr, errstr_size) ||
        pki_cert_load(cert_path, &cert, errstr, errstr_size))
        goto out;
    if (X509_check_private_key(cert, s->key) != 1) {
        snprintf(errstr, errstr_size, "key %s does not match certificate %s", key_path, cert_path);
        goto out;
    }
    if (pki_cert_unit(cert, got, errstr, errstr_size))
        goto out;
    if (strcmp(got, unit) != 0) {
        snprintf(errstr, errstr_size, "certificate %s belongs to unit %s, not %s", cert_path, got, unit);
        goto out;
    }
    if (X509_cmp_time(X509_get0_notAfter(cert), NULL) < 0) {
        snprintf(errstr, errstr_size, "certificate %s of %s has expired; issue a new one with "
                 "`docbus pki issue --unit %s`", cert_path, unit, unit);
        goto out;
    }
    if (pki_cert_key_id(cert, s->key_id)) {
        snprintf(errstr, errstr_size, "cannot hash certificate %s", cert_path);
        goto out;
    }
    if (seqstate_open(state_path, unit, &s->sf, &s->st, errstr, errstr_size))
        goto out;
    s->items = calloc((size_t)max_count, sizeof *s->items);
    s->off = calloc((size_t)max_count, sizeof *s->off);
    s->len = calloc((size_t)max_count, sizeof *s->len);
    s->opaques = calloc((size_t)max_count, sizeof *s->opaques);
    s->leaves = calloc((size_t)max_count, sizeof *s->leaves);
    s->sealed.items = calloc((size_t)max_count, sizeof *s->sealed.items);
    s->sealed.off = calloc((size_t)max_count, sizeof *s->sealed.off);
    s->sealed.len = calloc((size_t)max_count, sizeof *s->sealed.len);
    s->sealed.opaques = calloc((size_t)max_count, sizeof *s->sealed.opaques);
    s->sealed.tree = merkle_tree_new();
    s->tree = merkle_tree_new();
    s->md_ctx = EVP_MD_CTX_new();
    if (!s->items || !s->off || !s->len || !s->opaques || !s->leaves || !s->tree || !s->md_ctx ||
        !s->sealed.items || !s->sealed.off || !s->sealed.len || !s->sealed.opaques ||
        !s->sealed.tree) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    ok = 1;
out:
    ERR_clear_error();
    X509_free(cert);
    if (!ok) {
        batch_signer_destroy(s);
        s = NULL;
    }
    return s;
}

void batch_signer_set_clock(batch_signer_t *s, int64_t (*now_ms)(void *), void *opaque)
{
    s->clock = now_ms;
    s->clock_opaque = opaque;
}

void batch_signer_set_envelope_writer(batch_signer_t *s, batch_envelope_writer *fn)
{
    s->write_envelope = fn ? fn : envelope_write;
}

const char *batch_signer_error(const batch_signer_t *s)
{
    return s->err;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    size_t n = *cap ? *cap : 4096;
    uint8_t *p;
    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    p = realloc(*buf, n);
    if (!p)
        return DB_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

/* The arena size an add of a content of need bytes asks for. An empty arena is sized
 * for a whole batch of such contents at once (up to ARENA_FIRST_MAX): grown by doubling
 * from 4 KiB, each unit's two arenas were copied seven times over in its first batches
 * (realloc ~2 % of an import's signing thread). */
#define ARENA_FIRST_MAX ((size_t)8 << 20)
static size_t arena_want(const batch_signer_t *s, size_t need)
{
    if (s->arena_cap)
        return s->arena_len + need;
    size_t whole = need * (size_t)s->max_count;
    return whole < ARENA_FIRST_MAX ? whole : need > ARENA_FIRST_MAX ? need : ARENA_FIRST_MAX;
}

static int signer_release(batch_signer_t *s, int wait);

#define SWAP(a, b)                                                                         \
    do {                                                                                   \
        __typeof__(a) swap_tmp_ = (a);                                                     \
        (a) = (b);                                                                         \
        (b) = swap_tmp_;                                                                   \
    } while (0)

/* Signs the open batch and writes the chain position, then makes it the sealed batch
 * (the open one is empty after). There must be no sealed batch. Returns 0 or a negative
 * db_err_t: the batch stays open if it could not be signed or its state written. */
static int signer_seal(batch_signer_t *s)
{
    batch_header_t *h = &s->proof.header;
    struct sealed *z = &s->sealed;
    seqstate_t next = s->st;
    size_t siglen = sizeof s->proof.signature, msglen = 0;
    int rc = 0, n = s->n, durable = 0;
    if (n == 0)
        return 0;
    memset(h, 0, sizeof *h);
    snprintf(h->producer, sizeof h->producer, "%s", s->unit);
    h->batch_seq = s->st.last_batch_seq + 1;
    h->first_seq = s->items[0].seq;
    h->count = n;
    memcpy(h->prev_root, s->st.last_root, 32);
    h->created_at = signer_now(s);
    memcpy(h->key_id, s->key_id, 32);
    if ((rc = merkle_tree_build(s->tree, (const uint8_t(*)[32])s->leaves, (size_t)n, h->root))) {
        snprintf(s->err, sizeof s->err, "building the Merkle tree of batch %lld of %s failed",
                 (long long)h->batch_seq, s->unit);
        return rc;
    }
    if ((rc = signed_bytes(h, s->sigmsg, &msglen))) {
        snprintf(s->err, sizeof s->err, "encoding the header of batch %lld of %s failed: %s",
                 (long long)h->batch_seq, s->unit, db_strerror(rc));
        return rc;
    }
    /* Ed25519 is one-shot: the context is re-initialised for each batch (no digest). */
    if (EVP_DigestSignInit(s->md_ctx, NULL, NULL, NULL, s->key) != 1 ||
        EVP_DigestSign(s->md_ctx, s->proof.signature, &siglen, s->sigmsg, msglen) != 1 ||
        siglen != sizeof s->proof.signature) {
        snprintf(s->err, sizeof s->err, "signing batch %lld of %s failed", (long long)h->batch_seq,
                 s->unit);
        ERR_clear_error();
        return DB_ERR_CRYPTO;
    }
    /* Durable before anything leaves: a restart continues after this batch. If writing
     * fails the batch stays open and nothing is emitted. */
    next.last_seq = h->first_seq + n - 1;
    next.last_batch_seq = h->batch_seq;
    memcpy(next.last_root, h->root, 32);
    {
        int wrc = seqstate_write(s->sf, &next, &durable, s->err, sizeof s->err);
        if (!wrc && !durable && (!s->async || fsync_submit(&z->job, seqstate_fd(s->sf)) != 0)) {
            wrc = seqstate_sync(s->sf, s->err, sizeof s->err);
            durable = !wrc;
        }
        if (wrc)
            return wrc;
    }
    s->st = next;
    SWAP(s->items, z->items);
    SWAP(s->opaques, z->opaques);
    SWAP(s->off, z->off);
    SWAP(s->len, z->len);
    SWAP(s->arena, z->arena);
    SWAP(s->arena_cap, z->arena_cap);
    SWAP(s->tree, z->tree);
    z->proof = s->proof;
    z->n = n;
    z->synced = durable;
    z->resave = 0;
    z->state = next;
    s->n = 0;
    s->arena_len = 0;
    s->max_content = 0;
    return 0;
}

/* Emits every message of the sealed batch once its state is durable: at once when wait
 * is set, else only if its fdatasync has finished. Returns the number emitted (0 when
 * there is none or it is not durable yet), or a negative db_err_t when its state could
 * not be made durable: the batch stays sealed and a later call tries again. A message
 * whose envelope cannot be written is left out (a gap, named in s->err). */
static int signer_release(batch_signer_t *s, int wait)
{
    struct sealed *z = &s->sealed;
    int n = z->n, emitted = 0;
    if (n == 0 || (!z->synced && !wait && !fsync_done(&z->job)))
        return 0;
    if (!z->synced) {
        int err = z->resave ? 0 : fsync_wait(&z->job);
        if (err) {
            /* once per failed write: from here on the slot is written and synced inline */
            seqstate_take_back(s->sf);
            z->resave = 1;
            snprintf(z->why, sizeof z->why, "%s", strerror(err));
        }
        if (z->resave) {
            int rc = seqstate_save(s->sf, &z->state, s->err, sizeof s->err);
            if (rc) {
                size_t l = strlen(s->err);
                snprintf(s->err + l, sizeof s->err - l, " (after a background sync failed: %s)",
                         z->why);
                return rc;
            }
            z->resave = 0;
        }
        z->synced = 1;
    }
    /* A message whose envelope cannot be written (out of memory) stops the release: the
     * batch stays sealed from that message on, and a later call goes on from there, so
     * no signed message is dropped without its caller hearing of it. */
    for (int i = z->next; i < n; i++) {
        content_t *c = &z->items[i];
        size_t outlen = 0;
        int wrc;
        z->proof.leaf_index = i;
        merkle_tree_path(z->tree, (size_t)i, z->proof.path, &z->proof.path_len);
        wrc = grow(&s->out, &s->out_cap, z->len[i] + PROOF_MAX);
        if (!wrc)
            wrc = s->write_envelope(z->arena + z->off[i], z->len[i], &z->proof, s->out,
                                    s->out_cap, &outlen);
        if (wrc) {
            z->next = i;
            snprintf(s->err, sizeof s->err, "writing the envelope of %s seq %lld failed: %s",
                     s->unit, (long long)c->seq, db_strerror(wrc));
            return wrc;
        }
        c->body = z->arena + z->off[i] + z->len[i] - c->body_len;   /* body is Content's last field */
        s->emit(s->opaque, s->out, outlen, c, z->opaques[i]);
        emitted++;
    }
    z->n = 0;
    z->next = 0;
    return emitted;
}

/* Closes the open batch. A sealed batch still there is emitted first (waiting for its
 * sync: one unsynced state at a time); with wait, the closed batch is emitted too, else
 * it stays sealed. Returns the number emitted, or a negative db_err_t when a batch could
 * not be closed or made durable: it is kept, and a later call tries again. */
static int signer_close(batch_signer_t *s, int wait)
{
    int before, rc;
    if ((before = signer_release(s, 1)) < 0 || (rc = signer_seal(s)) < 0)
        return before < 0 ? before : rc;
    if (!wait)
        return before;
    rc = signer_release(s, 1);
    return rc < 0 ? rc : before + rc;
}

/* Closes the open batch as the signer's mode says: emitted now, or sealed (async). */
static int signer_emit(batch_signer_t *s)
{
    return signer_close(s, !s->async);
}

void batch_signer_set_async(batch_signer_t *s, int on)
{
    s->async = on;
}

int batch_signer_add(batch_signer_t *s, content_t *c, void *msg_opaque)
{
    size_t need, len = 0;
    int rc = 0, i;
    s->err[0] = '\0';
    /* An async signer emits its sealed batch as soon as its state is durable. */
    if ((rc = signer_release(s, 0)) < 0)
        return rc;
    /* A batch left full by a failed close (not signed, or its state not saved) is
     * retried first: its failure is reported here, before a message is taken. */
    if (s->n == s->max_count && (rc = signer_emit(s)) < 0 && s->n == s->max_count)
        return rc;
    i = s->n;
    if (strcmp(c->producer, s->unit) != 0) {
        snprintf(s->err, sizeof s->err, "content names producer %.63s but this signer signs for %s",
                 c->producer, s->unit);
        return DB_ERR_INVALID;
    }
    if (c->body_len > ENVELOPE_MAX_BYTES - CONTENT_OVERHEAD - PROOF_MAX) {
        snprintf(s->err, sizeof s->err, "body of %zu bytes does not fit in one message (%d bytes)",
                 c->body_len, ENVELOPE_MAX_BYTES);
        return DB_ERR_TOO_LARGE;
    }
    need = c->body_len + CONTENT_OVERHEAD;
    if ((rc = grow(&s->arena, &s->arena_cap, arena_want(s, need)))) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return rc;
    }
    if (i == 0)
        s->first_add_ms = wall_ms();
    c->seq = s->st.last_seq + i + 1;
    c->produced_at = signer_now(s);
    if ((rc = content_encode(c, s->arena + s->arena_len, need, &len))) {
        snprintf(s->err, sizeof s->err, "encoding content of %s seq %lld failed: %s", s->unit,
                 (long long)c->seq, db_strerror(rc));
        return rc;
    }
    if ((rc = merkle_leaf(s->arena + s->arena_len, len, s->leaves[i]))) {
        snprintf(s->err, sizeof s->err, "hashing content failed");
        return rc;
    }
    s->items[i] = *c;
    s->items[i].body = NULL;
    s->off[i] = s->arena_len;
    s->len[i] = len;
    s->opaques[i] = msg_opaque;
    s->arena_len += len;
    if (len > s->max_content)
        s->max_content = len;
    s->n++;
    /* The message is taken: a failure to close the batch now is reported by the next
     * add, poll or flush, which try again. */
    if (s->n == s->max_count)
        signer_emit(s);
    return 0;
}

int batch_signer_poll(batch_signer_t *s, int64_t now_ms)
{
    int released = signer_release(s, 0), rc;
    if (released < 0)
        return released;
    if (s->n == 0 || now_ms - s->first_add_ms < s->linger_ms)
        return released;
    rc = signer_emit(s);
    return rc < 0 ? rc : released + rc;
}

int batch_signer_flush(batch_signer_t *s)
{
    return signer_close(s, 1);
}

int batch_signer_seal(batch_signer_t *s)
{
    return signer_emit(s);
}

int batch_signer_holding(const batch_signer_t *s)
{
    return s->sealed.n > 0;
}

void batch_signer_destroy(batch_signer_t *s)
{
    if (!s)
        return;
    if (s->sf)
        signer_close(s, 1);
    fsync_wait(&s->sealed.job);   /* none is left running after signer_close; to be sure */
    seqstate_close(s->sf);
    EVP_PKEY_free(s->key);   /* OpenSSL wipes the private key material when freeing it */
    EVP_MD_CTX_free(s->md_ctx);
    merkle_tree_destroy(s->tree);
    free(s->items);
    free(s->off);
    free(s->len);
    free(s->opaques);
    free(s->leaves);
    free(s->arena);
    free(s->sealed.items);
    free(s->sealed.off);
    free(s->sealed.len);
    free(s->sealed.opaques);
    free(s->sealed.arena);
    merkle_tree_destroy(s->sealed.tree);
    free(s->out);
    free(s);
}

/* ---- verifier ---------------------------------------------------------------------- */

/* Verified batch signatures remembered: 1024 sets of 8, round-robin within a set. A
 * direct-mapped cache let two live batches of one slot evict each other on every message
 * (consumers read batches interleaved), which re-verified 5x the signatures needed. An
 * entry holds the signature and the header bytes it signs, compared in full; the set
 * and a per-way tag come from the signature's first ten bytes (an Ed25519 R, uniform),
 * so no hash is computed per message and a lookup reads one line of tags. */
#define VCACHE_WAYS 8
#define VCACHE_SETS 1024
#define VCACHE_HDR 256         /* longer headers (none are) are verified every time */

typedef struct vsig {
    uint16_t len;              /* header bytes; 0: empty */
    uint8_t sig[64];
    uint8_t hdr[VCACHE_HDR];
} vsig_t;

struct batch_verifier {
    trust_t *trust;
    EVP_MD_CTX *md_ctx;          /* signature verification */
    merkle_cache_t *nodes;  /* proven Merkle nodes of recent batches */
    uint64_t *tags;         /* per entry: signature bytes 2..9 (0: empty) */
    vsig_t *cache;          /* VCACHE_SETS * VCACHE_WAYS verified signatures */
    uint8_t *cache_next;    /* per set: the way to replace next */
    uint64_t sig_checks;    /* Ed25519 verifications done */
    uint8_t sigmsg[CTX_LEN + HEADER_MAX];
    uint8_t leaf[32];          /* the Merkle leaf of the content checked last */
};

batch_verifier_t *batch_verifier_new(trust_t *trust)
{
    batch_verifier_t *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->trust = trust;
    v->md_ctx = EVP_MD_CTX_new();
    v->tags = calloc(VCACHE_SETS * VCACHE_WAYS, sizeof *v->tags);
    v->cache = calloc(VCACHE_SETS * VCACHE_WAYS, sizeof *v->cache);
    v->cache_next = calloc(VCACHE_SETS, 1);
    v->nodes = merkle_cache_new();
    if (!v->md_ctx || !v->tags || !v->cache || !v->cache_next || !v->nodes) {
        batch_verifier_destroy(v);
        return NULL;
    }
    return v;
}

static void hex8(const uint8_t *b, char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int batch_verifier_check(batch_verifier_t *v, const content_t *c, const proof_t *p,
                         const uint8_t *content_avro, size_t content_len, char *errstr,
                         size_t errstr_size)
{
    const batch_header_t *h = &p->header;
    uint8_t leaf[32];
    size_t msglen = 0, hlen;
    unsigned set;
    uint64_t tag;
    EVP_PKEY *pub = NULL;
    char root[17];
    int rc = 0;
    if (strncmp(c->producer, h->producer, UNIT_CODE_MAX) != 0) {
        snprintf(errstr, errstr_size, "content producer %.63s differs from batch producer %.63s",
                 c->producer, h->producer);
        rc = DB_ERR_BAD_CONTENT;
        goto out;
    }
    if (h->count < 1 || h->first_seq < 1 || c->seq < h->first_seq ||
        c->seq - h->first_seq >= (int64_t)h->count || p->leaf_index != c->seq - h->first_seq) {
        snprintf(errstr, errstr_size, "%.63s seq %lld with leaf index %d is not in batch %lld "
                 "(first_seq %lld, count %d)", c->producer, (long long)c->seq, (int)p->leaf_index,
                 (long long)h->batch_seq, (long long)h->first_seq, (int)h->count);
        rc = DB_ERR_BAD_CONTENT;
        goto out;
    }
    if ((rc = merkle_leaf(content_avro, content_len, leaf)))
        goto out;
    memcpy(v->leaf, leaf, sizeof v->leaf);
    if (merkle_verify_cached(v->nodes, leaf, (uint64_t)p->leaf_index, (uint64_t)h->count,
                             (const uint8_t(*)[32])p->path, p->path_len, h->root) != 0) {
        hex8(h->root, root);   /* only on failure: snprintf per message cost ~3% of aggregate */
        snprintf(errstr, errstr_size, "%.63s seq %lld: inclusion path does not lead to root %s... "
                 "of batch %lld", c->producer, (long long)c->seq, root, (long long)h->batch_seq);
        rc = DB_ERR_BAD_PROOF;
        goto out;
    }
    /* The certificate is judged on every message (cheap, and a CRL may have changed);
     * the signature once per batch. */
    if ((rc = trust_check(v->trust, h->key_id, h->producer, h->created_at, &pub, errstr, errstr_size)))
        goto out;
    if ((rc = signed_bytes(h, v->sigmsg, &msglen))) {
        snprintf(errstr, errstr_size, "cannot encode the header of batch %lld of %.63s",
                 (long long)h->batch_seq, h->producer);
        goto out;
    }
    hlen = msglen - CTX_LEN;
    set = ((unsigned)p->signature[0] << 8 | p->signature[1]) % VCACHE_SETS;
    memcpy(&tag, p->signature + 2, sizeof tag);
    for (unsigned w = 0; w < VCACHE_WAYS; w++) {
        const vsig_t *e = &v->cache[set * VCACHE_WAYS + w];
        if (v->tags[set * VCACHE_WAYS + w] == tag && e->len == hlen &&
            memcmp(e->sig, p->signature, sizeof e->sig) == 0 &&
            memcmp(e->hdr, v->sigmsg + CTX_LEN, hlen) == 0)
            goto out;   /* verified before */
    }
    /* A one-shot EdDSA context is re-initialised per batch; resetting it first keeps
     * no state from the previous batch (a colleague saw later batches fail without it;
     * not reproduced with OpenSSL 3.0.x here, kept as cheap insurance). */
    EVP_MD_CTX_reset(v->md_ctx);
    v->sig_checks++;
    if (EVP_DigestVerifyInit(v->md_ctx, NULL, NULL, NULL, pub) != 1 ||
        EVP_DigestVerify(v->md_ctx, p->signature, sizeof p->signature, v->sigmsg, msglen) != 1) {
        hex8(h->root, root);
        snprintf(errstr, errstr_size, "signature of batch %lld of %.63s (root %s...) does not verify",
                 (long long)h->batch_seq, h->producer, root);
        ERR_clear_error();
        rc = DB_ERR_BAD_SIGNATURE;
        goto out;
    }
    if (hlen <= VCACHE_HDR) {
        unsigned slot = set * VCACHE_WAYS + v->cache_next[set];
        vsig_t *e = &v->cache[slot];
        v->cache_next[set] = (uint8_t)((v->cache_next[set] + 1) % VCACHE_WAYS);
        v->tags[slot] = tag;
        e->len = (uint16_t)hlen;
        memcpy(e->sig, p->signature, sizeof e->sig);
        memcpy(e->hdr, v->sigmsg + CTX_LEN, hlen);
    }
out:
    return rc;
}

const uint8_t *batch_verifier_leaf(const batch_verifier_t *v)
{
    return v->leaf;
}

uint64_t batch_verifier_signature_checks(const batch_verifier_t *v)
{
    return v->sig_checks;
}

void batch_verifier_destroy(batch_verifier_t *v)
{
    if (!v)
        return;
    EVP_MD_CTX_free(v->md_ctx);
    merkle_cache_destroy(v->nodes);
    free(v->tags);
    free(v->cache);
    free(v->cache_next);
    free(v);
}

/* ---- continuity -------------------------------------------------------------------- */

/* int64 -> uint32 index, open addressing; value UINT32_MAX marks an empty slot. */
typedef struct i64map {
    int64_t *keys;
    uint32_t *vals;
    size_t cap, n;
} i64map_t;

static size_t i64_hash(int64_t k, size_t cap)
{
    uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ULL;
    return (size_t)(x >> 32) & (cap - 1);
}

static uint32_t i64map_get(const i64map_t *m, int64_t k)
{
    if (!m->cap)
        return UINT32_MAX;
    for (size_t i = i64_hash(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->vals[i] == UINT32_MAX)
            return UINT32_MAX;
        if (m->keys[i] == k)
            return m->vals[i];
    }
}

static int i64map_put(i64map_t *m, int64_t k, uint32_t v)
{
    if ((m->n + 1) * 2 > m->cap) {
        i64map_t g = {0};
        g.cap = m->cap ? m->cap * 2 : 256;
        g.keys = malloc(g.cap * sizeof *g.keys);
        g.vals = malloc(g.cap * sizeof *g.vals);
        if (!g.keys || !g.vals) {
            free(g.keys);
            free(g.vals);
            return DB_ERR_NOMEM;
        }
        memset(g.vals, 0xff, g.cap * sizeof *g.vals);
        for (size_t i = 0; i < m->cap; i++)
            if (m->vals[i] != UINT32_MAX)
                i64map_put(&g, m->keys[i], m->vals[i]);
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    size_t i = i64_hash(k, m->cap);
    while (m->vals[i] != UINT32_MAX)
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
    return 0;
}

typedef struct cont_msg {
    int64_t seq;
    uint8_t hash[32];
    uint32_t loc;               /* offset in the producer's location pool */
} cont_msg_t;

typedef struct cont_batch {
    int64_t batch_seq;
    uint8_t prev_root[32], root[32];
    uint32_t loc;
} cont_batch_t;

typedef struct cont_stream {
    char *name;
    int64_t last_batch_seq;
    uint32_t loc;
} cont_stream_t;

typedef struct cont_producer {
    char name[UNIT_CODE_MAX];
    cont_msg_t *msgs;
    size_t nmsgs, capmsgs;
    i64map_t by_seq;
    cont_batch_t *batches;
    size_t nbatches, capbatches;
    i64map_t by_batch;
    cont_stream_t *streams;
    size_t nstreams;
    size_t last_stream;          /* the stream fed last: consecutive messages share it */
    strindex_t *stream_of;       /* stream name -> index in streams */
    char *pool;                 /* NUL-terminated locations */
    size_t pool_len, pool_cap;
} cont_producer_t;

struct continuity {
    continuity_cb *cb;
    void *opaque;
    int expect_from_one;
    unsigned brief;             /* kinds reported without locations and detail (bits) */
    cont_producer_t **prods;    /* open addressing by name */
    size_t nprods, capprods;
    int64_t counts[5];
};

static size_t name_hash(const char *s, size_t cap)
{
    return (size_t)str_fnv64(s) & (cap - 1);
}

continuity_t *continuity_new(continuity_cb *cb, void *opaque, int expect_from_one)
{
    continuity_t *ct = calloc(1, sizeof *ct);
    if (!ct)
        return NULL;
    ct->cb = cb;
    ct->opaque = opaque;
    ct->expect_from_one = expect_from_one;
    return ct;
}

void continuity_brief(continuity_t *ct, continuity_kind_t kind)
{
    if ((unsigned)kind < 5)
        ct->brief |= 1u << kind;
}

const char *continuity_kind_name(continuity_kind_t kind)
{
    static const char *names[] = {"seq_gap", "duplicate_resend", "duplicate_tampered",
                                  "chain_break", "reorder"};
    return (unsigned)kind < 5 ? names[kind] : "unknown";
}

int64_t continuity_count(const continuity_t *ct, continuity_kind_t kind)
{
    return (unsigned)kind < 5 ? ct->counts[kind] : 0;
}

static cont_producer_t *producer_get(continuity_t *ct, const char *name)
{
    cont_producer_t *p;
    size_t i;
    if (ct->capprods) {
        for (i = name_hash(name, ct->capprods); ct->prods[i]; i = (i + 1) & (ct->capprods - 1))
            if (!strcmp(ct->prods[i]->name, name))
                return ct->prods[i];
    }
    if ((ct->nprods + 1) * 2 > ct->capprods) {
        size_t cap = ct->capprods ? ct->capprods * 2 : 64;
        cont_producer_t **np = calloc(cap, sizeof *np);
        if (!np)
            return NULL;
        for (size_t j = 0; j < ct->capprods; j++) {
            if (!ct->prods[j])
                continue;
            size_t k = name_hash(ct->prods[j]->name, cap);
            while (np[k])
                k = (k + 1) & (cap - 1);
            np[k] = ct->prods[j];
        }
        free(ct->prods);
        ct->prods = np;
        ct->capprods = cap;
    }
    if (!(p = calloc(1, sizeof *p)))
        return NULL;
    snprintf(p->name, sizeof p->name, "%s", name);
    for (i = name_hash(name, ct->capprods); ct->prods[i]; i = (i + 1) & (ct->capprods - 1))
        ;
    ct->prods[i] = p;
    ct->nprods++;
    return p;
}

static int pool_add(cont_producer_t *p, const char *s, uint32_t *off)
{
    size_t n = strlen(s) + 1;
    if (p->pool_len + n > UINT32_MAX)
        return DB_ERR_NOMEM;
    if (p->pool_len + n > p->pool_cap) {
        size_t cap = p->pool_cap ? p->pool_cap : 4096;
        char *np;
        while (cap < p->pool_len + n)
            cap *= 2;
        if (!(np = realloc(p->pool, cap)))
            return DB_ERR_NOMEM;
        p->pool = np;
        p->pool_cap = cap;
    }
    memcpy(p->pool + p->pool_len, s, n);
    *off = (uint32_t)p->pool_len;
    p->pool_len += n;
    return 0;
}

static void report(continuity_t *ct, continuity_kind_t kind, const char *producer, int64_t from,
                   int64_t to, int64_t batch_seq, const char *loc, const char *other,
                   const char *fmt, ...) __attribute__((format(printf, 9, 10)));

static void report(continuity_t *ct, continuity_kind_t kind, const char *producer, int64_t from,
                   int64_t to, int64_t batch_seq, const char *loc, const char *other,
                   const char *fmt, ...)
{
    continuity_finding_t f;
    va_list ap;
    ct->counts[kind]++;
    if (!ct->cb)
        return;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    str_join(f.producer, sizeof f.producer, producer, NULL);
    f.seq_from = from;
    f.seq_to = to;
    f.batch_seq = batch_seq;
    if (ct->brief & (1u << kind)) {
        ct->cb(ct->opaque, &f);
        return;
    }
    str_join(f.location, sizeof f.location, loc ? loc : "", NULL);
    str_join(f.other_location, sizeof f.other_location, other ? other : "", NULL);
    va_start(ap, fmt);
    vsnprintf(f.detail, sizeof f.detail, fmt, ap);
    va_end(ap);
    ct->cb(ct->opaque, &f);
}

static const uint8_t zero_root[32];

static int feed_batch(continuity_t *ct, cont_producer_t *p, const continuity_item_t *it)
{
    uint32_t idx = i64map_get(&p->by_batch, it->batch_seq), nb;
    cont_batch_t *b;
    const char *loc = it->location ? it->location : "";
    int rc;
    if (idx != UINT32_MAX) {
        b = &p->batches[idx];
        if (memcmp(b->root, it->root, 32) != 0 || memcmp(b->prev_root, it->prev_root, 32) != 0)
            report(ct, CONT_CHAIN_BREAK, p->name, it->seq, it->seq, it->batch_seq, loc, p->pool + b->loc,
                   "batch %lld of %s exists with two different roots (forked or forged batch)",
                   (long long)it->batch_seq, p->name);
        return 0;
    }
    if (p->nbatches == p->capbatches) {
        size_t cap = p->capbatches ? p->capbatches * 2 : 64;
        cont_batch_t *nbp = realloc(p->batches, cap * sizeof *nbp);
        if (!nbp)
            return DB_ERR_NOMEM;
        p->batches = nbp;
        p->capbatches = cap;
    }
    nb = (uint32_t)p->nbatches;
    b = &p->batches[nb];
    b->batch_seq = it->batch_seq;
    memcpy(b->root, it->root, 32);
    memcpy(b->prev_root, it->prev_root, 32);
    if ((rc = pool_add(p, loc, &b->loc)) || (rc = i64map_put(&p->by_batch, it->batch_seq, nb)))
        return rc;
    p->nbatches++;
    if (it->batch_seq == 1 && memcmp(it->prev_root, zero_root, 32) != 0)
        report(ct, CONT_CHAIN_BREAK, p->name, it->seq, it->seq, 1, loc, NULL,
               "first batch of %s has a non-zero prev_root", p->name);
    if ((idx = i64map_get(&p->by_batch, it->batch_seq - 1)) != UINT32_MAX &&
        memcmp(p->batches[idx].root, it->prev_root, 32) != 0)
        report(ct, CONT_CHAIN_BREAK, p->name, it->seq, it->seq, it->batch_seq, loc,
               p->pool + p->batches[idx].loc,
               "batch %lld of %s does not chain to batch %lld (prev_root differs from its root)",
               (long long)it->batch_seq, p->name, (long long)(it->batch_seq - 1));
    if ((idx = i64map_get(&p->by_batch, it->batch_seq + 1)) != UINT32_MAX &&
        memcmp(p->batches[idx].prev_root, it->root, 32) != 0)
        report(ct, CONT_CHAIN_BREAK, p->name, it->seq, it->seq, it->batch_seq + 1,
               p->pool + p->batches[idx].loc, loc,
               "batch %lld of %s does not chain to batch %lld (prev_root differs from its root)",
               (long long)(it->batch_seq + 1), p->name, (long long)it->batch_seq);
    return 0;
}

static int feed_stream(continuity_t *ct, cont_producer_t *p, const continuity_item_t *it)
{
    const char *name = it->stream ? it->stream : "";
    const char *loc = it->location ? it->location : "";
    cont_stream_t *s = NULL;
    long at;
    int rc;
    if (p->last_stream < p->nstreams && !strcmp(p->streams[p->last_stream].name, name))
        s = &p->streams[p->last_stream];
    else if (p->stream_of && (at = strindex_get(p->stream_of, name)) >= 0)
        s = &p->streams[at];
    if (s)
        p->last_stream = (size_t)(s - p->streams);
    if (!s) {
        cont_stream_t *ns = realloc(p->streams, (p->nstreams + 1) * sizeof *ns);
        if (!ns)
            return DB_ERR_NOMEM;
        p->streams = ns;
        s = &ns[p->nstreams];
        if ((!p->stream_of && !(p->stream_of = strindex_new())) || !(s->name = strdup(name)))
            return DB_ERR_NOMEM;
        s->last_batch_seq = it->batch_seq;
        /* counted only once whole: a stream without its location could be reported */
        if ((rc = pool_add(p, loc, &s->loc)) ||
            (rc = strindex_put(p->stream_of, name, (long)p->nstreams))) {
            free(s->name);
            return rc;
        }
        p->nstreams++;
        return 0;
    }
    if (it->batch_seq < s->last_batch_seq)
        report(ct, CONT_REORDER, p->name, it->seq, it->seq, it->batch_seq, loc, p->pool + s->loc,
               "batch %lld of %s read after batch %lld%s%s", (long long)it->batch_seq, p->name,
               (long long)s->last_batch_seq, *name ? " in " : "", name);
    else if (it->batch_seq > s->last_batch_seq) {
        s->last_batch_seq = it->batch_seq;
        return pool_add(p, loc, &s->loc);
    }
    return 0;
}

int continuity_feed(continuity_t *ct, const continuity_item_t *it)
{
    cont_producer_t *p;
    const char *loc;
    uint32_t idx;
    int rc;
    if (!it || !it->producer || !it->content_hash || !it->root || !it->prev_root || it->seq < 1)
        return DB_ERR_INVALID;
    loc = it->location ? it->location : "";
    if (!(p = producer_get(ct, it->producer)))
        return DB_ERR_NOMEM;
    idx = i64map_get(&p->by_seq, it->seq);
    if (idx != UINT32_MAX) {
        cont_msg_t *m = &p->msgs[idx];
        if (!memcmp(m->hash, it->content_hash, 32))
            report(ct, CONT_DUP_RESEND, p->name, it->seq, it->seq, it->batch_seq, loc, p->pool + m->loc,
                   "%s seq %lld delivered again with the same content", p->name, (long long)it->seq);
        else
            report(ct, CONT_DUP_TAMPERED, p->name, it->seq, it->seq, it->batch_seq, loc,
                   p->pool + m->loc, "%s seq %lld seen twice with different content",
                   p->name, (long long)it->seq);
    } else {
        if (p->nmsgs == p->capmsgs) {
            size_t cap = p->capmsgs ? p->capmsgs * 2 : 1024;
            cont_msg_t *nm;
            if (cap > UINT32_MAX - 1 || !(nm = realloc(p->msgs, cap * sizeof *nm)))
                return DB_ERR_NOMEM;
            p->msgs = nm;
            p->capmsgs = cap;
        }
        cont_msg_t *m = &p->msgs[p->nmsgs];
        m->seq = it->seq;
        memcpy(m->hash, it->content_hash, 32);
        if ((rc = pool_add(p, loc, &m->loc)) || (rc = i64map_put(&p->by_seq, it->seq, (uint32_t)p->nmsgs)))
            return rc;
        p->nmsgs++;
    }
    if ((rc = feed_batch(ct, p, it)) || (rc = feed_stream(ct, p, it)))
        return rc;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t continuity_finish(continuity_t *ct)
{
    for (size_t i = 0; i < ct->capprods; i++) {
        cont_producer_t *p = ct->prods[i];
        int64_t *seqs, prev;
        if (!p || !p->nmsgs)
            continue;
        seqs = malloc(p->nmsgs * sizeof *seqs);
        if (!seqs)
            continue;
        for (size_t j = 0; j < p->nmsgs; j++)
            seqs[j] = p->msgs[j].seq;
        qsort(seqs, p->nmsgs, sizeof *seqs, cmp_i64);
        prev = ct->expect_from_one ? 0 : seqs[0] - 1;
        for (size_t j = 0; j < p->nmsgs; j++) {
            if (seqs[j] > prev + 1)
                report(ct, CONT_SEQ_GAP, p->name, prev + 1, seqs[j] - 1, 0, NULL, NULL,
                       "%s seqs %lld..%lld missing (%lld messages)", p->name, (long long)(prev + 1),
                       (long long)(seqs[j] - 1), (long long)(seqs[j] - 1 - prev));
            prev = seqs[j];
        }
        free(seqs);
    }
    int64_t total = 0;
    for (int k = 0; k < 5; k++)
        total += ct->counts[k];
    return total;
}

void continuity_destroy(continuity_t *ct)
{
    if (!ct)
        return;
    for (size_t i = 0; i < ct->capprods; i++) {
        cont_producer_t *p = ct->prods[i];
        if (!p)
            continue;
        free(p->msgs);
        free(p->by_seq.keys);
        free(p->by_seq.vals);
        free(p->batches);
        free(p->by_batch.keys);
        free(p->by_batch.vals);
        for (size_t j = 0; j < p->nstreams; j++)
            free(p->streams[j].name);
        free(p->streams);
        strindex_destroy(p->stream_of);
        free(p->pool);
        free(p);
    }
    free(ct->prods);
    free(ct);
}

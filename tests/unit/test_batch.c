/* test_batch.c - batch signer and verifier round trips, tamper detection, persisted
 * chain state, certificate verdicts through real messages, continuity findings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "batch.h"
#include "codec.h"
#include "error.h"
#include "merkle.h"
#include "pki.h"
#include "trust.h"

#define UNIT_A "000.00.00.H29"
#define UNIT_B "000.00.01.H29"

/* The interposed syncs' state (see fdatasync below). */
static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *synced_path;
static int64_t synced_seq;
static int fail_syncs;

typedef struct msg {
    uint8_t *value;
    size_t len;
    int64_t seq;
    void *opaque;
} msg_t;

typedef struct fixture {
    char root[512], pki[600], state[600];
    char key_a[700], crt_a[700], key_b[700], crt_b[700];
    msg_t *msgs;
    size_t n, cap;
    char err[512];
    int64_t clock_ms;
} fixture_t;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    const char *base = getenv("DOCBUS_TEST_TMP") ? getenv("DOCBUS_TEST_TMP") : "/tmp";
    snprintf(f->root, sizeof f->root, "%s/batch-XXXXXX", base);
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->pki, sizeof f->pki, "%s/pki", f->root);
    snprintf(f->state, sizeof f->state, "%s/state/" UNIT_A ".seq", f->root);
    snprintf(f->key_a, sizeof f->key_a, "%s/units/" UNIT_A ".key", f->pki);
    snprintf(f->crt_a, sizeof f->crt_a, "%s/units/" UNIT_A ".crt", f->pki);
    snprintf(f->key_b, sizeof f->key_b, "%s/units/" UNIT_B ".key", f->pki);
    snprintf(f->crt_b, sizeof f->crt_b, "%s/units/" UNIT_B ".crt", f->pki);
    pthread_mutex_lock(&sync_mu);
    synced_path = f->state;
    synced_seq = 0;
    fail_syncs = 0;
    pthread_mutex_unlock(&sync_mu);
    if (pki_init(f->pki, f->err, sizeof f->err) ||
        pki_issue(f->pki, UNIT_A, "Unit A", 30, f->err, sizeof f->err) ||
        pki_issue(f->pki, UNIT_B, "Unit B", 30, f->err, sizeof f->err)) {
        fprintf(stderr, "setup: %s\n", f->err);
        return -1;
    }
    *state = f;
    return 0;
}

static void clear_msgs(fixture_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->msgs[i].value);
    f->n = 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    clear_msgs(f);
    free(f->msgs);
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* The highest last_seq in the state file at path (either slot), -1 if unreadable. */
static int64_t state_last_seq(const char *path)
{
    char buf[2048];
    int64_t best = -1;
    FILE *fp = fopen(path, "rb");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp)
        fclose(fp);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!strncmp(buf + i, "last_seq=", 9) && strtoll(buf + i + 9, NULL, 10) > best)
            best = strtoll(buf + i + 9, NULL, 10);
    return best;
}

/* fsync and fdatasync, interposed for every caller in this binary (the signer and the
 * fsync worker): the next fail_syncs fdatasyncs fail with EIO, and after each sync that
 * succeeds synced_seq is the state file's last_seq, what a crash would keep. */

static int synced(long rc)
{
    pthread_mutex_lock(&sync_mu);
    if (rc == 0 && synced_path) {
        int64_t seq = state_last_seq(synced_path);
        if (seq > synced_seq)
            synced_seq = seq;
    }
    pthread_mutex_unlock(&sync_mu);
    return (int)rc;
}

int fdatasync(int fd)
{
    int fail;
    pthread_mutex_lock(&sync_mu);
    fail = fail_syncs > 0;
    fail_syncs -= fail;
    pthread_mutex_unlock(&sync_mu);
    if (fail) {
        errno = EIO;
        return -1;
    }
    return synced(syscall(SYS_fdatasync, fd));
}

int fsync(int fd)
{
    return synced(syscall(SYS_fsync, fd));
}

static void emit(void *opaque, const uint8_t *value, size_t len, const content_t *c, void *msg_opaque)
{
    fixture_t *f = opaque;
    int64_t durable;
    pthread_mutex_lock(&sync_mu);
    durable = synced_seq;
    pthread_mutex_unlock(&sync_mu);
    /* never emitted before the state that covers it is on disk */
    if (durable < c->seq)
        fail_msg("seq %lld emitted while the synced state ends at %lld", (long long)c->seq,
                 (long long)durable);
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->msgs = realloc(f->msgs, f->cap * sizeof *f->msgs);
    }
    msg_t *m = &f->msgs[f->n++];
    m->value = malloc(len);
    memcpy(m->value, value, len);
    m->len = len;
    m->seq = c->seq;
    m->opaque = msg_opaque;
}

static int64_t fixed_clock(void *opaque)
{
    return ((fixture_t *)opaque)->clock_ms;
}

static batch_signer_t *signer(fixture_t *f, int n, int linger)
{
    batch_signer_t *s = batch_signer_new(UNIT_A, f->key_a, f->crt_a, f->state, n, linger, emit, f,
                                         f->err, sizeof f->err);
    if (!s)
        fprintf(stderr, "batch_signer_new: %s\n", f->err);
    assert_non_null(s);
    return s;
}

/* Offers message number i (body "document i" padded) to s: batch_signer_add's result. */
static int try_add(batch_signer_t *s, int i)
{
    char body[200];
    content_t c;
    int n = snprintf(body, sizeof body, "document %d body bytes ........................................", i);
    int rc;
    memset(&c, 0, sizeof c);
    memset(c.msg_id, i & 0xff, sizeof c.msg_id);
    snprintf(c.producer, sizeof c.producer, "%s", UNIT_A);
    c.body_type = BODY_EVENT;
    memset(c.body_fingerprint, 0x5a, sizeof c.body_fingerprint);
    c.body = (const uint8_t *)body;
    c.body_len = (size_t)n;
    rc = batch_signer_add(s, &c, (void *)(intptr_t)(i + 1));
    if (rc == 0)
        assert_true(c.seq > 0);
    memset(body, 'X', sizeof body);   /* the signer must have copied the body */
    return rc;
}

/* Adds message number i to s. */
static void add(batch_signer_t *s, int i)
{
    assert_int_equal(try_add(s, i), 0);
}

static trust_t *load_trust(fixture_t *f)
{
    trust_t *t = NULL;
    assert_int_equal(trust_load_pki(f->pki, &t, f->err, sizeof f->err), 0);
    return t;
}

/* envelope_read + batch_verifier_check of one value. */
static int verify(batch_verifier_t *v, const uint8_t *value, size_t len, content_t *c, proof_t *p,
                  char *err, size_t errsz)
{
    const uint8_t *ca = NULL;
    size_t cl = 0;
    int rc = envelope_read(value, len, c, p, &ca, &cl, err, errsz);
    return rc ? rc : batch_verifier_check(v, c, p, ca, cl, err, errsz);
}

/* total messages through a signer of batch size batch (async: the state synced on the
 * fsync worker), then every message verified in seq order with its chain. */
static void round_trip_mode(fixture_t *f, int batch, int total, int async)
{
    batch_signer_t *s = signer(f, batch, 1000000);
    trust_t *t;
    batch_verifier_t *v;
    content_t c;
    proof_t p, prev;
    size_t full = (size_t)(total / batch * batch), before;
    batch_signer_set_async(s, async);
    for (int i = 0; i < total; i++)
        add(s, i);
    before = f->n;
    if (async)   /* the last full batch may still wait for its sync */
        assert_true(before % (size_t)batch == 0 && before <= full &&
                    before + (size_t)batch >= full);
    else
        assert_int_equal(before, full);
    assert_int_equal(batch_signer_flush(s), (int)((size_t)total - before));
    assert_int_equal(f->n, (size_t)total);
    batch_signer_destroy(s);
    t = load_trust(f);
    v = batch_verifier_new(t);
    assert_non_null(v);
    for (int i = 0; i < total; i++) {
        int rc = verify(v, f->msgs[i].value, f->msgs[i].len, &c, &p, f->err, sizeof f->err);
        if (rc)
            fprintf(stderr, "message %d: %s\n", i, f->err);
        assert_int_equal(rc, 0);
        assert_int_equal(c.seq, i + 1);
        assert_int_equal(f->msgs[i].seq, i + 1);
        assert_ptr_equal(f->msgs[i].opaque, (void *)(intptr_t)(i + 1));
        assert_int_equal(p.header.batch_seq, i / batch + 1);
        assert_int_equal(p.header.first_seq, (i / batch) * batch + 1);
        assert_int_equal(p.leaf_index, i % batch);
        assert_true(c.body_len > 9 && !memcmp(c.body, "document ", 9));
        if (i % batch == 0) {
            if (i == 0) {
                uint8_t zero[32] = {0};
                assert_memory_equal(p.header.prev_root, zero, 32);
            } else {
                assert_memory_equal(p.header.prev_root, prev.header.root, 32);
            }
        }
        prev = p;
    }
    batch_verifier_destroy(v);
    trust_destroy(t);
}

/* Envelope writes left before the failing writer starts to fail (-1: never again). */
static int writes_before_failure;

static int failing_writer(const uint8_t *content_avro, size_t content_len, const proof_t *p,
                          uint8_t *buf, size_t cap, size_t *len)
{
    if (writes_before_failure == 0)
        return DB_ERR_NOMEM;
    if (writes_before_failure > 0)
        writes_before_failure--;
    return envelope_write(content_avro, content_len, p, buf, cap, len);
}

/* Out of memory while writing the third envelope of a batch: the release stops there and
 * says so, the next add is refused, and once envelopes can be written again every
 * message comes out once, in seq order, and verifies (none dropped as a gap). */
static void test_failed_envelope_holds_the_rest_of_the_batch(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 4, 1000000);
    trust_t *t;
    batch_verifier_t *v;
    content_t c;
    proof_t p;
    batch_signer_set_envelope_writer(s, failing_writer);
    writes_before_failure = 2;
    for (int i = 0; i < 4; i++)
        add(s, i);   /* the fourth is taken; closing its batch fails after two envelopes */
    assert_int_equal(f->n, 2);
    assert_non_null(strstr(batch_signer_error(s), "writing the envelope of " UNIT_A " seq 3"));
    assert_true(batch_signer_holding(s));
    assert_int_equal(try_add(s, 4), DB_ERR_NOMEM);   /* refused, not taken */
    assert_true(batch_signer_flush(s) < 0);
    assert_int_equal(f->n, 2);
    batch_signer_set_envelope_writer(s, NULL);
    add(s, 4);
    assert_int_equal(f->n, 4);
    assert_int_equal(batch_signer_flush(s), 1);
    assert_int_equal(f->n, 5);
    batch_signer_destroy(s);
    t = load_trust(f);
    v = batch_verifier_new(t);
    assert_non_null(v);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(verify(v, f->msgs[i].value, f->msgs[i].len, &c, &p, f->err, sizeof f->err), 0);
        assert_int_equal(c.seq, i + 1);
        assert_ptr_equal(f->msgs[i].opaque, (void *)(intptr_t)(i + 1));
        assert_int_equal(p.header.batch_seq, i < 4 ? 1 : 2);
    }
    batch_verifier_destroy(v);
    trust_destroy(t);
}

static void round_trip(fixture_t *f, int batch, int total)
{
    round_trip_mode(f, batch, total, 0);
}

static void test_async_round_trip_emits_every_batch_in_order(void **state)
{
    fixture_t *f = *state;
    round_trip_mode(f, 7, 100, 1);
    clear_msgs(f);
    remove(f->state);
    round_trip_mode(f, 1, 20, 1);
}

/* An async signer's sealed batch goes out through poll once synced, and a restart
 * continues its chain. */
static void test_async_poll_emits_once_durable(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 4, 1000000);
    int got = 0;
    batch_signer_set_async(s, 1);
    for (int i = 0; i < 4; i++)
        add(s, i);   /* the fourth seals batch 1 */
    for (int tries = 0; got == 0 && tries < 5000; tries++) {
        got = batch_signer_poll(s, 0);
        if (!got)
            usleep(1000);
    }
    assert_int_equal(got, 4);
    assert_int_equal(f->n, 4);
    assert_int_equal(batch_signer_poll(s, 0), 0);
    add(s, 4);
    batch_signer_destroy(s);   /* flushes seq 5 as batch 2 */
    assert_int_equal(f->n, 5);
    assert_int_equal(state_last_seq(f->state), 5);
}

/* Failed fdatasyncs (the background one, then the inline retries) keep the batch back,
 * refuse new messages while it cannot be made durable, and lose nothing: once a sync
 * succeeds every message goes out, in order, on an unbroken chain. */
static void test_async_failed_syncs_hold_the_batch_back(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 4, 1000000);
    content_t c;
    int rc = 0;
    batch_signer_set_async(s, 1);
    for (int i = 0; i < 4; i++)
        add(s, i);   /* batch 1: the file's first save, durable at once */
    assert_int_equal(batch_signer_flush(s), 4);
    fail_syncs = 3;  /* the background sync of batch 2, then two inline retries */
    for (int i = 4; i < 8; i++)
        add(s, i);   /* the eighth seals batch 2; its sync fails in the background */
    assert_true(batch_signer_flush(s) < 0);   /* retry 1 fails */
    assert_int_equal(f->n, 4);
    assert_non_null(strstr(batch_signer_error(s), "background sync failed"));
    memset(&c, 0, sizeof c);
    snprintf(c.producer, sizeof c.producer, "%s", UNIT_A);
    c.body_type = BODY_EVENT;
    c.body = (const uint8_t *)"x";
    c.body_len = 1;
    rc = batch_signer_add(s, &c, NULL);       /* retry 2 fails: the message is refused */
    assert_true(rc < 0);
    assert_int_equal(f->n, 4);
    add(s, 8);                                /* retry 3 succeeds: batch 2 out, 9 taken */
    assert_int_equal(f->n, 8);
    assert_int_equal(batch_signer_flush(s), 1);
    assert_int_equal(f->n, 9);
    batch_signer_destroy(s);
    assert_int_equal(fail_syncs, 0);
    {
        trust_t *t = load_trust(f);
        batch_verifier_t *v = batch_verifier_new(t);
        proof_t p, prev;
        for (size_t i = 0; i < f->n; i++) {
            assert_int_equal(verify(v, f->msgs[i].value, f->msgs[i].len, &c, &p, f->err,
                                    sizeof f->err), 0);
            assert_int_equal(c.seq, (int64_t)i + 1);
            if (i == 4 || i == 8)
                assert_memory_equal(p.header.prev_root, prev.header.root, 32);
            prev = p;
        }
        batch_verifier_destroy(v);
        trust_destroy(t);
    }
    assert_int_equal(state_last_seq(f->state), 9);
}

static void test_round_trip_batch_of_1_signs_every_message(void **state)
{
    round_trip(*state, 1, 5);
}

static void test_round_trip_batch_of_7_with_partial_last_batch(void **state)
{
    round_trip(*state, 7, 20);
}

static void test_round_trip_batch_of_1000(void **state)
{
    round_trip(*state, 1000, 2500);
}

/* Messages of many live batches read interleaved (as a consumer reads partitions) cost
 * one Ed25519 verification per batch, not one per switch between batches. */
static void test_interleaved_batches_are_verified_once_each(void **state)
{
    enum { BATCHES = 400, PASSES = 3 };
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 1, 1000000);
    trust_t *t;
    batch_verifier_t *v;
    content_t c;
    proof_t p;
    for (int i = 0; i < BATCHES; i++)
        add(s, i);
    batch_signer_destroy(s);
    assert_int_equal(f->n, BATCHES);
    t = load_trust(f);
    v = batch_verifier_new(t);
    for (int pass = 0; pass < PASSES; pass++)
        for (int i = 0; i < BATCHES; i++)
            assert_int_equal(verify(v, f->msgs[i].value, f->msgs[i].len, &c, &p, f->err, sizeof f->err), 0);
    assert_int_equal(batch_verifier_signature_checks(v), BATCHES);
    batch_verifier_destroy(v);
    trust_destroy(t);
}

/* Flipping any single bit of an encoded message makes envelope_read or
 * batch_verifier_check fail, even with the batch signature already cached. */
static void test_every_single_bit_flip_is_detected(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 7, 1000000);
    trust_t *t;
    batch_verifier_t *v;
    content_t c;
    proof_t p;
    for (int i = 0; i < 7; i++)
        add(s, i);
    batch_signer_destroy(s);
    t = load_trust(f);
    v = batch_verifier_new(t);
    for (size_t m = 0; m < f->n; m += 3) {   /* leaves 0, 3 and 6: left, middle, carried */
        uint8_t *buf = malloc(f->msgs[m].len);
        assert_int_equal(verify(v, f->msgs[m].value, f->msgs[m].len, &c, &p, f->err, sizeof f->err), 0);
        for (size_t bit = 0; bit < f->msgs[m].len * 8; bit++) {
            memcpy(buf, f->msgs[m].value, f->msgs[m].len);
            buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int rc = verify(v, buf, f->msgs[m].len, &c, &p, f->err, sizeof f->err);
            if (rc == 0)
                fprintf(stderr, "message %zu: flipping bit %zu (byte %zu) went unnoticed\n", m, bit, bit / 8);
            assert_int_not_equal(rc, 0);
        }
        /* the original still verifies afterwards */
        assert_int_equal(verify(v, f->msgs[m].value, f->msgs[m].len, &c, &p, f->err, sizeof f->err), 0);
        free(buf);
    }
    batch_verifier_destroy(v);
    trust_destroy(t);
}

static void test_state_persists_across_restart(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 4, 1000000), *s2;
    trust_t *t;
    batch_verifier_t *v;
    content_t c;
    proof_t p;
    uint8_t root2[32];
    for (int i = 0; i < 6; i++)
        add(s, i);
    /* a second signer on the same state must be refused while the first lives */
    s2 = batch_signer_new(UNIT_A, f->key_a, f->crt_a, f->state, 4, 10, emit, f, f->err, sizeof f->err);
    assert_null(s2);
    assert_non_null(strstr(f->err, "locked"));
    batch_signer_destroy(s);   /* flushes seqs 5..6 as batch 2 */
    assert_int_equal(f->n, 6);
    s = signer(f, 4, 1000000);
    for (int i = 6; i < 9; i++)
        add(s, i);
    assert_int_equal(batch_signer_flush(s), 3);
    batch_signer_destroy(s);
    t = load_trust(f);
    v = batch_verifier_new(t);
    assert_int_equal(verify(v, f->msgs[5].value, f->msgs[5].len, &c, &p, f->err, sizeof f->err), 0);
    assert_int_equal(p.header.batch_seq, 2);
    memcpy(root2, p.header.root, 32);
    for (size_t i = 6; i < 9; i++) {
        assert_int_equal(verify(v, f->msgs[i].value, f->msgs[i].len, &c, &p, f->err, sizeof f->err), 0);
        assert_int_equal(c.seq, (int64_t)i + 1);
        assert_int_equal(p.header.batch_seq, 3);
        assert_int_equal(p.header.first_seq, 7);
        assert_memory_equal(p.header.prev_root, root2, 32);
    }
    batch_verifier_destroy(v);
    trust_destroy(t);
}

static void test_linger_closes_batch_only_when_due(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 100, 50);
    struct timespec ts;
    int64_t now;
    add(s, 0);
    add(s, 1);
    clock_gettime(CLOCK_REALTIME, &ts);
    now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    assert_int_equal(batch_signer_poll(s, now - 1000), 0);
    assert_int_equal(f->n, 0);
    assert_int_equal(batch_signer_poll(s, now + 100), 2);
    assert_int_equal(f->n, 2);
    assert_int_equal(batch_signer_poll(s, now + 200), 0);
    batch_signer_destroy(s);
}

static void test_add_refuses_content_of_another_producer(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 4, 10);
    content_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.producer, sizeof c.producer, "%s", UNIT_B);
    c.body = (const uint8_t *)"x";
    c.body_len = 1;
    assert_int_equal(batch_signer_add(s, &c, NULL), DB_ERR_INVALID);
    batch_signer_destroy(s);
    /* key and certificate of different units are refused up front */
    assert_null(batch_signer_new(UNIT_A, f->key_b, f->crt_a, f->state, 4, 10, emit, f, f->err, sizeof f->err));
    assert_null(batch_signer_new(UNIT_A, f->key_b, f->crt_b, f->state, 4, 10, emit, f, f->err, sizeof f->err));
}

/* Re-signs the header of value with key and re-encodes the message into out. */
static size_t forge(const uint8_t *value, size_t len, const uint8_t *key_id, const char *key_path,
                    uint8_t *out, size_t cap)
{
    content_t c;
    proof_t p;
    const uint8_t *ca;
    size_t cl, hl, olen = 0, siglen = 64;
    uint8_t msg[600];
    char err[256];
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(envelope_read(value, len, &c, &p, &ca, &cl, err, sizeof err), 0);
    if (key_id)
        memcpy(p.header.key_id, key_id, 32);
    memcpy(msg, BATCH_SIG_CONTEXT, sizeof BATCH_SIG_CONTEXT);
    assert_int_equal(batch_header_encode(&p.header, msg + sizeof BATCH_SIG_CONTEXT,
                                         sizeof msg - sizeof BATCH_SIG_CONTEXT, &hl), 0);
    assert_int_equal(pki_key_load(key_path, &key, err, sizeof err), 0);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, p.signature, &siglen, msg, sizeof BATCH_SIG_CONTEXT + hl), 1);
    assert_int_equal(envelope_write(ca, cl, &p, out, cap, &olen), 0);
    EVP_PKEY_free(key);
    EVP_MD_CTX_free(ctx);
    return olen;
}

static void test_signature_by_wrong_key_is_rejected(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 3, 1000000);
    trust_t *t;
    batch_verifier_t *v;
    content_t c;
    proof_t p;
    uint8_t out[8192];
    X509 *xb = NULL;
    uint8_t kid_b[32];
    size_t n;
    for (int i = 0; i < 3; i++)
        add(s, i);
    batch_signer_destroy(s);
    t = load_trust(f);
    v = batch_verifier_new(t);
    /* A's header, signed by B's key, still naming A's certificate */
    n = forge(f->msgs[0].value, f->msgs[0].len, NULL, f->key_b, out, sizeof out);
    assert_int_equal(verify(v, out, n, &c, &p, f->err, sizeof f->err), DB_ERR_BAD_SIGNATURE);
    /* ... or naming B's certificate: B may not sign for A */
    assert_int_equal(pki_cert_load(f->crt_b, &xb, f->err, sizeof f->err), 0);
    assert_int_equal(pki_cert_key_id(xb, kid_b), 0);
    n = forge(f->msgs[0].value, f->msgs[0].len, kid_b, f->key_b, out, sizeof out);
    assert_int_equal(verify(v, out, n, &c, &p, f->err, sizeof f->err), DB_ERR_CERT_UNIT);
    /* control: re-signing with A's own key verifies */
    n = forge(f->msgs[0].value, f->msgs[0].len, NULL, f->key_a, out, sizeof out);
    assert_int_equal(verify(v, out, n, &c, &p, f->err, sizeof f->err), 0);
    X509_free(xb);
    batch_verifier_destroy(v);
    trust_destroy(t);
}

static void test_revocation_rejects_batches_signed_after_it(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 2, 1000000);
    trust_t *t;
    batch_verifier_t *v;
    content_t c;
    proof_t p;
    int64_t now = (int64_t)time(NULL) * 1000;
    batch_signer_set_clock(s, fixed_clock, f);
    f->clock_ms = now;
    add(s, 0);
    add(s, 1);                         /* batch 1 signed now */
    assert_int_equal(pki_revoke(f->pki, UNIT_A, now / 1000 + 3600, f->err, sizeof f->err), 0);
    f->clock_ms = now + 2 * 3600 * 1000;
    add(s, 2);
    add(s, 3);                         /* batch 2 signed two hours later, after revocation */
    batch_signer_destroy(s);
    t = load_trust(f);
    v = batch_verifier_new(t);
    assert_int_equal(verify(v, f->msgs[1].value, f->msgs[1].len, &c, &p, f->err, sizeof f->err), 0);
    assert_int_equal(verify(v, f->msgs[2].value, f->msgs[2].len, &c, &p, f->err, sizeof f->err),
                     DB_ERR_CERT_REVOKED);
    batch_verifier_destroy(v);
    trust_destroy(t);
}

static void test_batch_signed_after_expiry_is_rejected(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 1, 1000000);
    trust_t *t;
    batch_verifier_t *v;
    content_t c;
    proof_t p;
    batch_signer_set_clock(s, fixed_clock, f);
    f->clock_ms = ((int64_t)time(NULL) + 31 * 86400) * 1000;   /* the certificate is for 30 days */
    add(s, 0);
    batch_signer_destroy(s);
    t = load_trust(f);
    v = batch_verifier_new(t);
    assert_int_equal(verify(v, f->msgs[0].value, f->msgs[0].len, &c, &p, f->err, sizeof f->err),
                     DB_ERR_CERT_EXPIRED);
    batch_verifier_destroy(v);
    trust_destroy(t);
}

static void test_unknown_signer_is_rejected(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 1, 1000000);
    trust_t *t = NULL;
    batch_verifier_t *v;
    content_t c;
    proof_t p;
    char ca[700];
    add(s, 0);
    batch_signer_destroy(s);
    snprintf(ca, sizeof ca, "%s/ca.crt", f->pki);
    assert_int_equal(trust_load(ca, NULL, NULL, &t, f->err, sizeof f->err), 0);   /* no unit certs */
    v = batch_verifier_new(t);
    assert_int_equal(verify(v, f->msgs[0].value, f->msgs[0].len, &c, &p, f->err, sizeof f->err),
                     DB_ERR_UNKNOWN_SIGNER);
    batch_verifier_destroy(v);
    trust_destroy(t);
}

static void test_decoded_fields_inconsistent_with_header_are_bad_content(void **state)
{
    fixture_t *f = *state;
    batch_signer_t *s = signer(f, 4, 1000000);
    trust_t *t;
    batch_verifier_t *v;
    content_t c, c2;
    proof_t p, p2;
    const uint8_t *ca;
    size_t cl;
    for (int i = 0; i < 4; i++)
        add(s, i);
    batch_signer_destroy(s);
    t = load_trust(f);
    v = batch_verifier_new(t);
    assert_int_equal(envelope_read(f->msgs[1].value, f->msgs[1].len, &c, &p, &ca, &cl, f->err, sizeof f->err), 0);
    assert_int_equal(batch_verifier_check(v, &c, &p, ca, cl, f->err, sizeof f->err), 0);
    c2 = c;
    c2.seq = 9;
    assert_int_equal(batch_verifier_check(v, &c2, &p, ca, cl, f->err, sizeof f->err), DB_ERR_BAD_CONTENT);
    c2 = c;
    snprintf(c2.producer, sizeof c2.producer, "%s", UNIT_B);
    assert_int_equal(batch_verifier_check(v, &c2, &p, ca, cl, f->err, sizeof f->err), DB_ERR_BAD_CONTENT);
    p2 = p;
    p2.leaf_index = 2;
    assert_int_equal(batch_verifier_check(v, &c, &p2, ca, cl, f->err, sizeof f->err), DB_ERR_BAD_CONTENT);
    p2 = p;
    p2.header.count = 0;
    assert_int_equal(batch_verifier_check(v, &c, &p2, ca, cl, f->err, sizeof f->err), DB_ERR_BAD_CONTENT);
    batch_verifier_destroy(v);
    trust_destroy(t);
}

/* ---- continuity ------------------------------------------------------------------- */

typedef struct seen {
    int n[5];
    continuity_finding_t last;
} seen_t;

static void on_finding(void *opaque, const continuity_finding_t *f)
{
    seen_t *s = opaque;
    s->n[f->kind]++;
    s->last = *f;
}

static void item(continuity_item_t *it, int64_t seq, int64_t bseq, uint8_t hash, uint8_t prev,
                 uint8_t root, const char *stream, uint8_t bufs[4][32])
{
    memset(bufs[0], hash, 32);
    memset(bufs[1], prev, 32);
    memset(bufs[2], root, 32);
    memset(bufs[3], (uint8_t)seq, 16);
    it->producer = UNIT_A;
    it->seq = seq;
    it->msg_id = bufs[3];
    it->content_hash = bufs[0];
    it->batch_seq = bseq;
    it->prev_root = bufs[1];
    it->root = bufs[2];
    it->location = "docbus.events/0@1";
    it->stream = stream;
}

/* batch b has root b (byte value), prev_root b-1; batch 1 has prev_root 0. */
static void feed(continuity_t *ct, int64_t seq, int64_t bseq, uint8_t hash, const char *stream)
{
    continuity_item_t it;
    uint8_t bufs[4][32];
    item(&it, seq, bseq, hash, (uint8_t)(bseq - 1), (uint8_t)bseq, stream, bufs);
    assert_int_equal(continuity_feed(ct, &it), 0);
}

static void test_continuity_clean_stream_has_no_findings(void **state)
{
    (void)state;
    seen_t s = {0};
    continuity_t *ct = continuity_new(on_finding, &s, 1);
    /* three batches of two, consumed out of order across two partitions */
    feed(ct, 3, 2, 3, "p1");
    feed(ct, 1, 1, 1, "p0");
    feed(ct, 4, 2, 4, "p1");
    feed(ct, 2, 1, 2, "p0");
    feed(ct, 5, 3, 5, "p0");
    feed(ct, 6, 3, 6, "p1");
    assert_int_equal(continuity_finish(ct), 0);
    continuity_destroy(ct);
}

static void test_continuity_reports_gaps_duplicates_chain_breaks_and_reorder(void **state)
{
    (void)state;
    seen_t s = {0};
    continuity_item_t it;
    uint8_t bufs[4][32];
    continuity_t *ct = continuity_new(on_finding, &s, 1);
    feed(ct, 3, 2, 3, "p0");
    feed(ct, 3, 2, 3, "p0");                        /* resend */
    assert_int_equal(s.n[CONT_DUP_RESEND], 1);
    feed(ct, 4, 2, 99, "p0");
    feed(ct, 4, 2, 98, "p0");                       /* same seq, other content */
    assert_int_equal(s.n[CONT_DUP_TAMPERED], 1);
    assert_int_equal(s.last.seq_from, 4);
    feed(ct, 1, 1, 1, "p0");                        /* batch 1 after batch 2 in one stream */
    assert_int_equal(s.n[CONT_REORDER], 1);
    item(&it, 9, 4, 9, 0x77, 4, "p0", bufs);        /* batch 4 does not chain to batch 3 ... */
    assert_int_equal(continuity_feed(ct, &it), 0);
    assert_int_equal(s.n[CONT_CHAIN_BREAK], 0);     /* ... which is not seen yet */
    feed(ct, 7, 3, 7, "p1");                        /* now batch 3 arrives: root 3 != 0x77 */
    assert_int_equal(s.n[CONT_CHAIN_BREAK], 1);
    item(&it, 8, 3, 8, 2, 0x55, "p1", bufs);        /* batch 3 again, with another root */
    assert_int_equal(continuity_feed(ct, &it), 0);
    assert_int_equal(s.n[CONT_CHAIN_BREAK], 2);
    assert_int_equal(continuity_finish(ct), 1 + 1 + 1 + 2 + 2);
    /* seen: 1, 3, 4, 7, 8, 9 -> gaps 2..2 and 5..6 */
    assert_int_equal(s.n[CONT_SEQ_GAP], 2);
    assert_int_equal(s.last.seq_from, 5);
    assert_int_equal(s.last.seq_to, 6);
    assert_int_equal(continuity_count(ct, CONT_SEQ_GAP), 2);
    continuity_destroy(ct);
    continuity_destroy(NULL);
}

/* A brief kind is counted and reported without locations or detail; the other kinds
 * keep theirs. Among hundreds of streams of one producer (a stream is found through an
 * index), order is judged per stream. */
static void test_continuity_brief_kinds_and_many_streams(void **state)
{
    (void)state;
    seen_t s = {0};
    char name[16];
    continuity_t *ct = continuity_new(on_finding, &s, 0);
    continuity_brief(ct, CONT_DUP_RESEND);
    feed(ct, 3, 2, 3, "p0");
    feed(ct, 3, 2, 3, "p0");
    assert_int_equal(s.n[CONT_DUP_RESEND], 1);
    assert_int_equal(s.last.seq_from, 3);
    assert_string_equal(s.last.detail, "");
    assert_string_equal(s.last.location, "");
    feed(ct, 3, 2, 4, "p0");
    assert_int_equal(s.n[CONT_DUP_TAMPERED], 1);
    assert_true(strstr(s.last.detail, "seen twice") != NULL);
    assert_string_equal(s.last.location, "docbus.events/0@1");
    /* 300 streams, each fed batches 10 + i and then 20 + i, interleaved; then batch 15 + i
     * again in stream 150 only: one reorder, none in the streams it shares names with */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 300; i++) {
            snprintf(name, sizeof name, "p%d", i);
            feed(ct, 1000 + 2 * i + round, 10 + i + 10 * round, 5, name);
        }
    assert_int_equal(s.n[CONT_REORDER], 0);
    feed(ct, 5000, 165, 5, "p150");
    assert_int_equal(s.n[CONT_REORDER], 1);
    feed(ct, 5001, 30, 5, "p15");      /* after 25 and 35 in p15: a reorder there too */
    assert_int_equal(s.n[CONT_REORDER], 2);
    feed(ct, 5002, 400, 5, "p1");
    assert_int_equal(s.n[CONT_REORDER], 2);
    continuity_destroy(ct);
}

static void test_continuity_gap_before_first_seq_only_when_expected(void **state)
{
    (void)state;
    seen_t s = {0};
    continuity_t *ct = continuity_new(on_finding, &s, 0);
    feed(ct, 10, 5, 10, NULL);
    feed(ct, 11, 5, 11, NULL);
    assert_int_equal(continuity_finish(ct), 0);
    continuity_destroy(ct);
    ct = continuity_new(on_finding, &s, 1);
    feed(ct, 10, 5, 10, NULL);
    assert_int_equal(continuity_finish(ct), 1);
    assert_int_equal(s.last.seq_from, 1);
    assert_int_equal(s.last.seq_to, 9);
    continuity_destroy(ct);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_failed_envelope_holds_the_rest_of_the_batch),
        T(test_round_trip_batch_of_1_signs_every_message),
        T(test_async_round_trip_emits_every_batch_in_order),
        T(test_async_poll_emits_once_durable),
        T(test_async_failed_syncs_hold_the_batch_back),
        T(test_round_trip_batch_of_7_with_partial_last_batch),
        T(test_round_trip_batch_of_1000),
        T(test_interleaved_batches_are_verified_once_each),
        T(test_every_single_bit_flip_is_detected),
        T(test_state_persists_across_restart),
        T(test_linger_closes_batch_only_when_due),
        T(test_add_refuses_content_of_another_producer),
        T(test_signature_by_wrong_key_is_rejected),
        T(test_revocation_rejects_batches_signed_after_it),
        T(test_batch_signed_after_expiry_is_rejected),
        T(test_unknown_signer_is_rejected),
        T(test_decoded_fields_inconsistent_with_header_are_bad_content),
        cmocka_unit_test(test_continuity_clean_stream_has_no_findings),
        cmocka_unit_test(test_continuity_reports_gaps_duplicates_chain_breaks_and_reorder),
        cmocka_unit_test(test_continuity_brief_kinds_and_many_streams),
        cmocka_unit_test(test_continuity_gap_before_first_seq_only_when_expected),
    };
    return cmocka_run_group_tests_name("batch", tests, NULL, NULL);
}

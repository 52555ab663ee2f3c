/* test_verify_pipe.c - the verifying thread gives every message the verdict a direct
 * verifier_check gives it, in input order, with each verified body (each message has its
 * own doc_id) still intact when it is popped after later ones were decoded, its body
 * hash when asked for; discard and destroy release every owner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jansson.h>

#include "batch.h"
#include "codec.h"
#include "error.h"
#include "json_avro.h"
#include "merkle.h"
#include "pki.h"
#include "schema.h"
#include "verify.h"
#include "verify_pipe.h"

#define UNIT "000.00.00.H29"
#define MSGS 700        /* over five times the pipe's depth */
#define BATCH 9

typedef struct msg {
    uint8_t *value;
    size_t len;
    int released;
} msg_t;

typedef struct fixture {
    char root[512], pki[600], state[600], key[700], crt[700], err[512];
    msg_t msgs[MSGS];
    size_t n;
    json_t *doc;                 /* the golden Document */
    json_avro_t *conv;
} fixture_t;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void emit(void *opaque, const uint8_t *value, size_t len, const content_t *c, void *mo)
{
    fixture_t *f = opaque;
    (void)c; (void)mo;
    msg_t *m = &f->msgs[f->n++];
    m->value = malloc(len);
    memcpy(m->value, value, len);
    m->len = len;
}

/* Loads the golden Document into f->doc. */
static void golden_doc(fixture_t *f)
{
    char path[1024], err[256];
    const char *root = getenv("DOCBUS_ROOT");
    json_error_t jerr;
    snprintf(path, sizeof path, "%s/tests/golden/envelope-1.json", root ? root : ".");
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("%s: %s", path, jerr.text);
    f->doc = json_incref(json_object_get(j, "body"));
    json_decref(j);
    assert_int_equal(json_avro_new_body(BODY_DOCUMENT, &f->conv, err, sizeof err), 0);
}

/* The golden Document with doc_id "pipe-<i>", Avro-encoded into body (*len bytes). */
static void body_of(fixture_t *f, int i, uint8_t *body, size_t cap, size_t *len)
{
    char id[32], err[256];
    avro_value_t v;
    snprintf(id, sizeof id, "pipe-%d", i);
    json_object_set_new(f->doc, "doc_id", json_string(id));
    assert_int_equal(json_avro_value_new(f->conv, &v), 0);
    assert_int_equal(json_avro_from_json(f->conv, f->doc, &v, err, sizeof err), 0);
    assert_int_equal(body_encode(&v, body, cap, len), 0);
    avro_value_decref(&v);
}

/* MSGS signed Documents in batches of BATCH; every 17th has a content byte flipped. */
static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    const char *base = getenv("DOCBUS_TEST_TMP") ? getenv("DOCBUS_TEST_TMP") : "/tmp";
    batch_signer_t *s;
    snprintf(f->root, sizeof f->root, "%s/vpipe-XXXXXX", base);
    if (!mkdtemp(f->root) || schemas_init(f->err, sizeof f->err))
        return -1;
    snprintf(f->pki, sizeof f->pki, "%s/pki", f->root);
    snprintf(f->state, sizeof f->state, "%s/" UNIT ".seq", f->root);
    snprintf(f->key, sizeof f->key, "%s/units/" UNIT ".key", f->pki);
    snprintf(f->crt, sizeof f->crt, "%s/units/" UNIT ".crt", f->pki);
    if (pki_init(f->pki, f->err, sizeof f->err) ||
        pki_issue(f->pki, UNIT, "Unit", 30, f->err, sizeof f->err)) {
        fprintf(stderr, "setup: %s\n", f->err);
        return -1;
    }
    golden_doc(f);
    s = batch_signer_new(UNIT, f->key, f->crt, f->state, BATCH, 1000000, emit, f, f->err,
                         sizeof f->err);
    if (!s)
        return -1;
    for (int i = 0; i < MSGS; i++) {
        static uint8_t body[8192];
        size_t body_len;
        content_t c;
        body_of(f, i, body, sizeof body, &body_len);
        memset(&c, 0, sizeof c);
        memset(c.msg_id, 0, sizeof c.msg_id);
        memcpy(c.msg_id, &i, sizeof i);
        snprintf(c.producer, sizeof c.producer, "%s", UNIT);
        c.body_type = BODY_DOCUMENT;
        schemas_fingerprint(body_type_schema(BODY_DOCUMENT), c.body_fingerprint);
        c.body = body;
        c.body_len = body_len;
        if (batch_signer_add(s, &c, NULL))
            return -1;
    }
    batch_signer_flush(s);
    batch_signer_destroy(s);
    if (f->n != MSGS)
        return -1;
    for (int i = 16; i < MSGS; i += 17)
        f->msgs[i].value[f->msgs[i].len / 2] ^= 0x01;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < f->n; i++)
        free(f->msgs[i].value);
    json_decref(f->doc);
    json_avro_destroy(f->conv);
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void release(void *owner)
{
    ((msg_t *)owner)->released++;
}

/* Each message's verdict through the pipe equals verifier_check's on a fresh verifier:
 * same code, same reason, same content; a popped body still reads its own doc_id
 * although up to the pipe's depth of later bodies were decoded meanwhile. */
static void test_verdicts_match_direct_checks_in_order(void **state)
{
    fixture_t *f = *state;
    static int want_rc[MSGS];
    static char want_err[MSGS][512];
    static int64_t want_seq[MSGS];
    const char *got_doc;
    char want_doc[32];
    size_t len, next = 0, popped = 0;
    int failures = 0;
    verified_t v;
    verifier_t *direct = verifier_new(f->pki, f->err, sizeof f->err);
    verifier_t *piped = verifier_new(f->pki, f->err, sizeof f->err);
    assert_non_null(direct);
    assert_non_null(piped);
    for (int i = 0; i < MSGS; i++) {
        want_rc[i] = verifier_check(direct, f->msgs[i].value, f->msgs[i].len, &v, want_err[i],
                                    sizeof want_err[i]);
        want_seq[i] = want_rc[i] ? -1 : v.content.seq;
        failures += want_rc[i] != 0;
    }
    assert_int_equal(failures, MSGS / 17);   /* exactly the tampered ones fail */

    verify_pipe_t *p = verify_pipe_new(piped, release, VERIFY_PIPE_BODY_HASH);
    assert_non_null(p);
    /* push in bursts, pop some ready, some waited for, to vary the interleaving */
    while (popped < MSGS) {
        verify_slot_t *s;
        for (int k = 0; k < 50 && next < MSGS && !verify_pipe_full(p); k++, next++)
            verify_pipe_push(p, f->msgs[next].value, f->msgs[next].len, &f->msgs[next]);
        int wait = next == MSGS || verify_pipe_full(p);
        while ((s = verify_pipe_pop(p, wait)) != NULL) {
            assert_ptr_equal(s->owner, &f->msgs[popped]);
            assert_int_equal(s->rc, want_rc[popped]);
            if (s->rc) {
                assert_string_equal(s->errstr, want_err[popped]);
            } else {
                avro_value_t field;
                uint8_t hash[32];
                assert_int_equal(s->v.content.seq, want_seq[popped]);
                assert_int_equal(merkle_sha256(s->v.content.body, s->v.content.body_len, hash), 0);
                assert_int_equal(s->hash_rc, 0);
                assert_memory_equal(s->body_hash, hash, 32);   /* VERIFY_PIPE_BODY_HASH */
                assert_int_equal(avro_value_get_by_name(s->v.body, "doc_id", &field, NULL), 0);
                assert_int_equal(avro_value_get_string(&field, &got_doc, &len), 0);
                snprintf(want_doc, sizeof want_doc, "pipe-%d", (int)popped);
                assert_string_equal(got_doc, want_doc);
            }
            verify_pipe_done(p);
            popped++;
            wait = 0;
        }
    }
    assert_int_equal(verify_pipe_in_flight(p), 0);
    assert_null(verify_pipe_pop(p, 1));   /* empty: returns at once */
    verify_pipe_destroy(p);
    for (int i = 0; i < MSGS; i++)
        assert_int_equal(f->msgs[i].released, 1);
    verifier_destroy(direct);
    verifier_destroy(piped);
}

/* Discard empties the pipe, destroy releases what is still in it: every owner once. */
static void test_discard_and_destroy_release_every_owner(void **state)
{
    fixture_t *f = *state;
    verifier_t *v = verifier_new(f->pki, f->err, sizeof f->err);
    verify_pipe_t *p = verify_pipe_new(v, release, 0);
    size_t i = 0;
    assert_non_null(p);
    for (; i < 100; i++)
        verify_pipe_push(p, f->msgs[i].value, f->msgs[i].len, &f->msgs[i]);
    assert_int_equal(verify_pipe_in_flight(p), 100);
    verify_pipe_discard(p);
    assert_int_equal(verify_pipe_in_flight(p), 0);
    for (; !verify_pipe_full(p); i++)
        verify_pipe_push(p, f->msgs[i].value, f->msgs[i].len, &f->msgs[i]);
    assert_true(i > 100 && i < MSGS);
    verify_pipe_destroy(p);
    for (size_t k = 0; k < MSGS; k++)
        assert_int_equal(f->msgs[k].released, k < i ? 1 : 0);
    verifier_destroy(v);
}

struct drained {
    fixture_t *f;
    size_t next, stop_at;    /* the message expected next; fail on this one (0: never) */
};

static int take(void *opaque, verify_slot_t *s)
{
    struct drained *d = opaque;
    assert_ptr_equal(s->owner, &d->f->msgs[d->next]);
    d->next++;
    return d->next == d->stop_at ? 7 : 0;
}

/* verify_pipe_drain: ALL empties the pipe in order; a callback's non-zero result stops
 * it there (that message done, the rest still in); BURST takes all of a pipe holding
 * fewer than a burst; READY never waits and takes only what is proven. */
static void test_drain_modes(void **state)
{
    fixture_t *f = *state;
    verifier_t *v = verifier_new(f->pki, f->err, sizeof f->err);
    verify_pipe_t *p = verify_pipe_new(v, release, 0);
    struct drained d = {f, 0, 0};
    for (size_t i = 0; i < 50; i++)
        verify_pipe_push(p, f->msgs[i].value, f->msgs[i].len, &f->msgs[i]);
    assert_int_equal(verify_pipe_drain(p, VERIFY_DRAIN_ALL, take, &d), 0);
    assert_int_equal(d.next, 50);
    assert_int_equal(verify_pipe_in_flight(p), 0);
    for (size_t i = 50; i < 60; i++)
        verify_pipe_push(p, f->msgs[i].value, f->msgs[i].len, &f->msgs[i]);
    d.stop_at = 53;
    assert_int_equal(verify_pipe_drain(p, VERIFY_DRAIN_ALL, take, &d), 7);
    assert_int_equal(d.next, 53);
    assert_int_equal(verify_pipe_in_flight(p), 7);
    assert_int_equal(f->msgs[52].released, 1);
    assert_int_equal(f->msgs[53].released, 0);
    d.stop_at = 0;
    assert_int_equal(verify_pipe_drain(p, VERIFY_DRAIN_BURST, take, &d), 0);
    assert_int_equal(d.next, 60);
    assert_int_equal(verify_pipe_in_flight(p), 0);
    assert_int_equal(verify_pipe_drain(p, VERIFY_DRAIN_ALL, take, &d), 0);
    assert_int_equal(verify_pipe_drain(p, VERIFY_DRAIN_READY, take, &d), 0);   /* empty */
    /* a full pipe: BURST takes at least its oldest quarter, in order */
    size_t i = 60;
    while (!verify_pipe_full(p)) {
        assert_true(i < MSGS);
        verify_pipe_push(p, f->msgs[i].value, f->msgs[i].len, &f->msgs[i]);
        i++;
    }
    size_t full = verify_pipe_in_flight(p);
    assert_int_equal(verify_pipe_drain(p, VERIFY_DRAIN_BURST, take, &d), 0);
    assert_true(d.next - 60 >= full / 4);
    assert_int_equal(verify_pipe_in_flight(p), i - d.next);
    assert_int_equal(verify_pipe_drain(p, VERIFY_DRAIN_ALL, take, &d), 0);
    assert_int_equal(d.next, i);
    verify_pipe_destroy(p);
    for (size_t j = 0; j < i; j++)
        assert_int_equal(f->msgs[j].released, 1);
    verifier_destroy(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verdicts_match_direct_checks_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discard_and_destroy_release_every_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_modes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_seqstate.c - the producer state file: round trip, alternating slots, a torn slot
 * falls back to the previous state, both damaged is an error, a v1 file is read and
 * upgraded, the lock, another producer's file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "error.h"
#include "seqstate.h"

#define UNIT "000.00.01.H29"

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_seqstate.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/state/" UNIT ".seq", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[160];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static seqstate_t state_at(int64_t seq)
{
    seqstate_t st = {0};
    snprintf(st.producer, sizeof st.producer, UNIT);
    st.last_seq = seq;
    st.last_batch_seq = seq / 10;
    memset(st.last_root, (int)(seq & 0xff), sizeof st.last_root);
    return st;
}

/* Opens path and returns the loaded last_seq (asserting the open succeeds). */
static int64_t reopen_seq(void)
{
    seqstate_file_t *f;
    seqstate_t st;
    char err[512];
    assert_int_equal(seqstate_open(path, UNIT, &f, &st, err, sizeof err), 0);
    seqstate_close(f);
    return st.last_seq;
}

static long file_size(void)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Flips one byte of the file at off. */
static void damage(long off)
{
    FILE *fp = fopen(path, "r+b");
    int c;
    assert_non_null(fp);
    fseek(fp, off, SEEK_SET);
    c = fgetc(fp);
    fseek(fp, off, SEEK_SET);
    fputc(c ^ 0x20, fp);
    fclose(fp);
}

static void test_saves_round_trip_in_alternating_slots(void **state)
{
    (void)state;
    seqstate_file_t *f;
    seqstate_t st, want;
    char err[512];
    assert_int_equal(seqstate_open(path, UNIT, &f, &st, err, sizeof err), 0);
    assert_int_equal(st.last_seq, 0);
    for (int64_t s = 1; s <= 7; s++) {
        want = state_at(s * 512);
        assert_int_equal(seqstate_save(f, &want, err, sizeof err), 0);
    }
    seqstate_close(f);
    long size = file_size();
    assert_int_equal(reopen_seq(), 7 * 512);
    assert_int_equal(seqstate_open(path, UNIT, &f, &st, err, sizeof err), 0);
    assert_memory_equal(st.last_root, want.last_root, 32);
    assert_int_equal(st.last_batch_seq, want.last_batch_seq);
    /* saves after a reopen continue the generations; the file never grows */
    want = state_at(8 * 512);
    assert_int_equal(seqstate_save(f, &want, err, sizeof err), 0);
    seqstate_close(f);
    assert_int_equal(file_size(), size);
    assert_int_equal(reopen_seq(), 8 * 512);
}

static void test_torn_slot_falls_back_to_the_previous_state(void **state)
{
    (void)state;
    seqstate_file_t *f;
    seqstate_t st, s1 = state_at(100), s2 = state_at(200);
    char err[512];
    assert_int_equal(seqstate_open(path, UNIT, &f, &st, err, sizeof err), 0);
    assert_int_equal(seqstate_save(f, &s1, err, sizeof err), 0);
    assert_int_equal(seqstate_save(f, &s2, err, sizeof err), 0);
    seqstate_close(f);
    long half = file_size() / 2;
    /* the newest slot is the one s2 went to: damage each slot in turn */
    int64_t a, b;
    damage(20);
    a = reopen_seq();
    damage(20);
    damage(half + 20);
    b = reopen_seq();
    damage(half + 20);
    assert_true((a == 100 && b == 200) || (a == 200 && b == 100));
    /* both damaged: refuse to guess */
    damage(20);
    damage(half + 20);
    assert_int_equal(seqstate_open(path, UNIT, &f, &st, err, sizeof err), DB_ERR_CONFIG);
    assert_non_null(strstr(err, "damaged"));
}

/* 1 when the state file holds a slot with last_seq=seq (valid or not). */
static int file_has_seq(int64_t seq)
{
    char buf[4096], want[64];
    FILE *fp = fopen(path, "rb");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp)
        fclose(fp);
    for (size_t i = 0; i < n; i++)
        if (!buf[i])
            buf[i] = ' ';
    buf[n] = '\0';
    snprintf(want, sizeof want, "last_seq=%lld ", (long long)seq);
    return strstr(buf, want) != NULL;
}

/* A write whose background fdatasync failed is taken back: saving again goes to the
 * same slot and the durable state in the other slot survives. Write then sync is a
 * save. */
static void test_taken_back_write_never_overwrites_the_durable_slot(void **state)
{
    (void)state;
    seqstate_file_t *f;
    seqstate_t st, s1 = state_at(100), s2 = state_at(200), s3 = state_at(300),
               s4 = state_at(400);
    char err[512];
    int durable = -1;
    assert_int_equal(seqstate_open(path, UNIT, &f, &st, err, sizeof err), 0);
    assert_int_equal(seqstate_save(f, &s1, err, sizeof err), 0);
    assert_int_equal(seqstate_save(f, &s2, err, sizeof err), 0);
    assert_int_equal(seqstate_write(f, &s3, &durable, err, sizeof err), 0);
    assert_int_equal(durable, 0);
    assert_true(file_has_seq(200) && file_has_seq(300) && !file_has_seq(100));
    seqstate_take_back(f);   /* as after a failed background fdatasync */
    assert_int_equal(seqstate_save(f, &s3, err, sizeof err), 0);
    assert_true(file_has_seq(200) && file_has_seq(300));
    /* the next write goes over s2's slot, as the older one now */
    assert_int_equal(seqstate_write(f, &s4, &durable, err, sizeof err), 0);
    assert_int_equal(seqstate_sync(f, err, sizeof err), 0);
    assert_true(file_has_seq(300) && file_has_seq(400) && !file_has_seq(200));
    seqstate_close(f);
    assert_int_equal(reopen_seq(), 400);
}

static void test_v1_file_is_read_and_upgraded(void **state)
{
    (void)state;
    seqstate_file_t *f;
    seqstate_t st, next = state_at(9000);
    char err[512], cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/state", dir);
    assert_int_equal(system(cmd), 0);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "docbus-seqstate-v1 producer=" UNIT " last_seq=4242 last_batch_seq=9 last_root=");
    for (int i = 0; i < 32; i++)
        fprintf(fp, "ab");
    fprintf(fp, "\n");
    fclose(fp);
    assert_int_equal(seqstate_open(path, UNIT, &f, &st, err, sizeof err), 0);
    assert_int_equal(st.last_seq, 4242);
    assert_int_equal(st.last_batch_seq, 9);
    assert_int_equal(st.last_root[31], 0xab);
    assert_int_equal(seqstate_save(f, &next, err, sizeof err), 0);
    seqstate_close(f);
    assert_int_equal(reopen_seq(), 9000);
}

static void test_lock_and_other_producer(void **state)
{
    (void)state;
    seqstate_file_t *f, *g;
    seqstate_t st, s1 = state_at(5);
    char err[512];
    assert_int_equal(seqstate_open(path, UNIT, &f, &st, err, sizeof err), 0);
    assert_int_equal(seqstate_open(path, UNIT, &g, &st, err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(seqstate_save(f, &s1, err, sizeof err), 0);
    seqstate_close(f);
    assert_int_equal(seqstate_open(path, "000.00.02.H29", &g, &st, err, sizeof err), DB_ERR_CONFIG);
    assert_non_null(strstr(err, "not 000.00.02.H29"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_saves_round_trip_in_alternating_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_slot_falls_back_to_the_previous_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_taken_back_write_never_overwrites_the_durable_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_file_is_read_and_upgraded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_and_other_producer, setup, teardown),
    };
    return cmocka_run_group_tests_name("seqstate", tests, NULL, NULL);
}

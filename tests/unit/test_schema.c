/* test_schema.c - Parsing Canonical Form and CRC-64-AVRO against the Avro project's
 * vectors (tests/golden/schema-pcf-vectors.txt), and the schema registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "schema.h"

static char *read_text(const char *rel)
{
    char path[1024];
    const char *root = getenv("DOCBUS_ROOT");
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* One block of the vectors file. */
typedef struct vec {
    const char *input, *canonical, *fingerprint, *fp_le, *crc_text;
    int line;
} vec_t;

static int check_vector(const vec_t *v)
{
    char err[256] = "", fphex[17];
    uint8_t fp[8];
    int checks = 0;
    if (v->input != NULL) {
        char *pcf = NULL;
        int rc = schema_pcf(v->input, &pcf, err, sizeof err);
        if (rc != 0)
            fail_msg("line %d: schema_pcf failed: %s", v->line, err);
        if (v->canonical != NULL) {
            if (strcmp(pcf, v->canonical) != 0)
                fail_msg("line %d: canonical form\n  got  %s\n  want %s", v->line, pcf, v->canonical);
            checks++;
        }
        uint64_t crc = schema_crc64_avro(pcf, strlen(pcf));
        if (v->fingerprint != NULL) {
            int64_t want = strtoll(v->fingerprint, NULL, 10);
            if ((int64_t)crc != want)
                fail_msg("line %d: fingerprint %lld, want %lld", v->line, (long long)(int64_t)crc,
                         (long long)want);
            checks++;
        }
        if (v->fp_le != NULL) {
            assert_int_equal(schema_fingerprint(v->input, fp, err, sizeof err), 0);
            hex(fp, 8, fphex);
            if (strcmp(fphex, v->fp_le) != 0)
                fail_msg("line %d: fingerprint bytes %s, want %s", v->line, fphex, v->fp_le);
            checks++;
        }
        free(pcf);
    } else if (v->crc_text != NULL && v->fp_le != NULL) {
        schema_fp_bytes(schema_crc64_avro(v->crc_text, strlen(v->crc_text)), fp);
        hex(fp, 8, fphex);
        if (strcmp(fphex, v->fp_le) != 0)
            fail_msg("line %d: CRC of text %s, want %s", v->line, fphex, v->fp_le);
        checks++;
    }
    return checks;
}

/* Every vector in the golden file passes; and the file holds as many as expected. */
static void pcf_and_fingerprint_match_avro_vectors(void **state)
{
    (void)state;
    char *text = read_text("tests/golden/schema-pcf-vectors.txt");
    vec_t v = {0};
    int n_vec = 0, n_checks = 0, line = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save);; l = strtok_r(NULL, "\n", &save)) {
        line++;
        /* strtok_r skips empty lines, so a block ends at the next comment or key "input"/"crc_text". */
        int starts = l == NULL || l[0] == '#' || strncmp(l, "input:", 6) == 0 ||
                     strncmp(l, "crc_text:", 9) == 0;
        if (starts && (v.input || v.crc_text)) {
            n_checks += check_vector(&v);
            n_vec++;
            memset(&v, 0, sizeof v);
        }
        if (l == NULL)
            break;
        char *val = strchr(l, ':');
        if (l[0] == '#' || val == NULL)
            continue;
        val++;
        while (*val == ' ')
            val++;
        if (strncmp(l, "input:", 6) == 0)
            v.input = val, v.line = line;
        else if (strncmp(l, "canonical:", 10) == 0)
            v.canonical = val;
        else if (strncmp(l, "fingerprint:", 12) == 0)
            v.fingerprint = val;
        else if (strncmp(l, "fp_le:", 6) == 0)
            v.fp_le = val;
        else if (strncmp(l, "crc_text:", 9) == 0)
            v.crc_text = val, v.line = line;
    }
    free(text);
    /* 34 spec cases + 32 py fingerprints + 4 py canonical forms + 2 spec facts. */
    assert_int_equal(n_vec, 72);
    assert_true(n_checks >= 34 + 24 + 32 + 4 + 2);
}

/* The CRC of no bytes is the specification's EMPTY constant. */
static void crc_of_nothing_is_empty_constant(void **state)
{
    (void)state;
    assert_true(schema_crc64_avro("", 0) == 0xc15d213aa4d7a795ULL);
}

/* A named type used a second time is written as its fullname (Java, fastavro). */
static void repeated_named_type_is_written_as_fullname(void **state)
{
    (void)state;
    char *pcf = NULL, err[256];
    assert_int_equal(schema_pcf("{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\",\"fields\":["
                                "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"H\",\"size\":2}},"
                                "{\"name\":\"y\",\"type\":\"H\"},{\"name\":\"z\",\"type\":\"a.b.H\"}]}",
                                &pcf, err, sizeof err),
                     0);
    assert_string_equal(pcf, "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":["
                             "{\"name\":\"x\",\"type\":{\"name\":\"a.b.H\",\"type\":\"fixed\",\"size\":2}},"
                             "{\"name\":\"y\",\"type\":\"a.b.H\"},{\"name\":\"z\",\"type\":\"a.b.H\"}]}");
    free(pcf);
}

/* Nested types inherit the enclosing namespace; "namespace":"" resets it. */
static void nested_namespaces_follow_the_spec(void **state)
{
    (void)state;
    char *pcf = NULL, err[256];
    assert_int_equal(
        schema_pcf("{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\",\"fields\":["
                   "{\"name\":\"x\",\"type\":{\"type\":\"record\",\"name\":\"S\",\"namespace\":\"\","
                   "\"fields\":[{\"name\":\"y\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"Z\"]}}]}},"
                   "{\"name\":\"q\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":1}},"
                   "{\"name\":\"d\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}}]}",
                   &pcf, err, sizeof err),
        0);
    assert_string_equal(pcf, "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":["
                             "{\"name\":\"x\",\"type\":{\"name\":\"S\",\"type\":\"record\",\"fields\":"
                             "[{\"name\":\"y\",\"type\":{\"name\":\"E\",\"type\":\"enum\",\"symbols\":[\"Z\"]}}]}},"
                             "{\"name\":\"q\",\"type\":{\"name\":\"a.b.F\",\"type\":\"fixed\",\"size\":1}},"
                             "{\"name\":\"d\",\"type\":\"int\"}]}");
    free(pcf);
}

static void expect_invalid(const char *json, const char *why_part)
{
    char *pcf = (char *)"untouched", err[256] = "";
    assert_int_equal(schema_pcf(json, &pcf, err, sizeof err), DB_ERR_INVALID);
    assert_null(pcf);
    if (strstr(err, why_part) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, why_part);
}

/* Invalid schemas are refused with a reason, never canonicalised. */
static void invalid_schemas_are_rejected(void **state)
{
    (void)state;
    expect_invalid("{\"type\":", "not JSON");
    expect_invalid("\"Nope\"", "unknown type 'Nope'");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\"}", "no \"fields\"");
    expect_invalid("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"S\"}]}",
                   "unknown type 'S'");
    expect_invalid("[{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[]},"
                   "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[]}]",
                   "defined twice");
    expect_invalid("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"a b\"]}", "symbol 0");
    expect_invalid("{\"type\":\"fixed\",\"name\":\"F\"}", "size");
    expect_invalid("{\"type\":\"fixed\",\"name\":\"9F\",\"size\":1}", "valid \"name\"");
}

/* The wire schemas' fingerprints equal those fastavro 1.13.1 computes from the same
 * files (tests/golden/schema-wire-fingerprints.txt), and lookups work both ways. */
static void registry_fingerprints_match_fastavro(void **state)
{
    (void)state;
    char err[256] = "";
    char *text = read_text("tests/golden/schema-wire-fingerprints.txt");
    int n = 0;
    char *save = NULL;
    assert_int_equal(schemas_init(err, sizeof err), 0);
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char name[128], want[17], got[17];
        uint8_t fp[8];
        if (l[0] == '#' || sscanf(l, "%127s %16s", name, want) != 2)
            continue;
        assert_int_equal(schemas_fingerprint(name, fp), 0);
        hex(fp, 8, got);
        if (strcmp(got, want) != 0)
            fail_msg("%s: fingerprint %s, fastavro says %s", name, got, want);
        assert_string_equal(schemas_name_by_fingerprint(fp), name);
        assert_non_null(schemas_get(name));
        assert_string_equal(avro_schema_name(schemas_get(name)), strrchr(name, '.') + 1);
        n++;
    }
    free(text);
    assert_int_equal(n, 4);
}

/* Unknown names and fingerprints are reported as such. */
static void registry_unknowns_are_null(void **state)
{
    (void)state;
    char err[256];
    uint8_t fp[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(schemas_init(err, sizeof err), 0);
    assert_null(schemas_get("vn.docbus.v1.Nothing"));
    assert_null(schemas_name_by_fingerprint(fp));
    assert_int_equal(schemas_fingerprint("Document", fp), DB_ERR_NOT_FOUND);
}

/* An older version registers beside the current one: same name, own fingerprint,
 * and schemas_get still answers the current version. */
static void registry_keeps_older_versions_apart(void **state)
{
    (void)state;
    char err[256] = "";
    char *old = read_text("schemas/history/status-v0.avsc");
    uint8_t cur_fp[8], old_fp[8];
    assert_int_equal(schemas_init(err, sizeof err), 0);
    assert_int_equal(schemas_register("history/status-v0.avsc", old, err, sizeof err), 0);
    assert_int_equal(schema_fingerprint(old, old_fp, err, sizeof err), 0);
    assert_int_equal(schemas_fingerprint(SCHEMA_STATUS, cur_fp), 0);
    assert_memory_not_equal(old_fp, cur_fp, 8);
    assert_string_equal(schemas_name_by_fingerprint(old_fp), SCHEMA_STATUS);
    assert_int_equal(schemas_lookup_fingerprint(old_fp)->current, 0);
    assert_ptr_equal(schemas_get(SCHEMA_STATUS), schemas_lookup_fingerprint(cur_fp)->schema);
    /* A second current version of a name is refused. */
    assert_int_equal(schemas_register("status-again.avsc",
                                      "{\"type\":\"record\",\"name\":\"Status\",\"namespace\":"
                                      "\"vn.docbus.v1\",\"fields\":[]}",
                                      err, sizeof err),
                     DB_ERR_INVALID);
    free(old);
}

static int teardown(void **state)
{
    (void)state;
    schemas_term();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pcf_and_fingerprint_match_avro_vectors),
        cmocka_unit_test(crc_of_nothing_is_empty_constant),
        cmocka_unit_test(repeated_named_type_is_written_as_fullname),
        cmocka_unit_test(nested_namespaces_follow_the_spec),
        cmocka_unit_test(invalid_schemas_are_rejected),
        cmocka_unit_test_teardown(registry_fingerprints_match_fastavro, teardown),
        cmocka_unit_test_teardown(registry_unknowns_are_null, teardown),
        cmocka_unit_test_teardown(registry_keeps_older_versions_apart, teardown),
    };
    return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}

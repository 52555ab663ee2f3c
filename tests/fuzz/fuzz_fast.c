/* fuzz_fast.c - libFuzzer harness for the import's one pass (json_fast) against the full
 * path on the same line: whenever the one pass takes the bytes as a body of some type,
 * jsonl_parse_line + json_avro_from_json + avro_value_write must take them as that type
 * too and write the very same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json_avro.h"
#include "json_fast.h"
#include "jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_avro_t *ja[3];
static avro_value_t val[3];
static json_fast_t *fast[3];
static uint8_t buf[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[512];
    if (!ja[0]) {
        for (int t = 0; t < 3; t++)
            if (json_avro_new_body((body_type_t)t, &ja[t], err, sizeof err) ||
                json_avro_value_new(ja[t], &val[t]) || !(fast[t] = json_fast_new(ja[t]))) {
                fprintf(stderr, "setup: %s\n", err);
                abort();
            }
    }
    /* as submit_prepare_line: the one pass for lines starting {"type":"<type>", */
    int t = jsonl_leading_type(text, size);
    const uint8_t *out;
    size_t len, want = 0;
    body_type_t bt;
    json_t *rec = NULL;
    if (t < 0 || json_fast_encode(fast[t], text, size, "type", sizeof buf, &out, &len))
        return 0;
    if (jsonl_parse_line(text, size, &bt, &rec, err, sizeof err) || bt != (body_type_t)t ||
        json_avro_from_json(ja[t], rec, &val[t], err, sizeof err) ||
        body_encode(&val[t], buf, sizeof buf, &want)) {
        fprintf(stderr, "json_fast takes what the full path refuses: %s\n", err);
        abort();
    }
    if (want != len || memcmp(buf, out, len) != 0) {
        fprintf(stderr, "json_fast and the full path wrote different bytes\n");
        abort();
    }
    json_decref(rec);
    return 0;
}

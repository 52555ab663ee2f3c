/* fuzz_json.c - libFuzzer harness for the import line parser: json_parse (yajl events
 * into jansson values) against json_loadb on the same bytes. Both must accept or both
 * refuse (json_parse may refuse only for its nesting cap), and accepted values must be
 * equal; then jsonl_parse_line on the bytes must not crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[256];
    json_t *mine = NULL, *ref, *rec = NULL;
    body_type_t t;
    int rc = json_parse(text, size, &mine, err, sizeof err);

    ref = json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!rc && !ref) {
        fprintf(stderr, "json_parse accepts what jansson refuses\n");
        abort();
    }
    if (rc && ref && !strstr(err, "nested too deep")) {
        fprintf(stderr, "json_parse refuses what jansson accepts: %s\n", err);
        abort();
    }
    if (!rc && !json_equal(mine, ref)) {
        fprintf(stderr, "json_parse and jansson read different values\n");
        abort();
    }
    json_decref(mine);
    json_decref(ref);
    if (jsonl_parse_line(text, size, &t, &rec, err, sizeof err) == 0)
        json_decref(rec);
    return 0;
}

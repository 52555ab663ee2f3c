/* seen.c - the grouped records of the aggregator's dedup topic (see seen.h). */
#include "seen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define MAGIC "ids:"
#define MAGIC_LEN (sizeof MAGIC - 1)
#define HEAD_MAX 16   /* "ids:4096\n" */

int seen_record_encode(const uint8_t (*ids)[16], size_t n, char **buf, size_t *len)
{
    char head[HEAD_MAX];
    int hl;
    if (n < 1 || n > SEEN_IDS_MAX)
        return DB_ERR_INVALID;
    hl = snprintf(head, sizeof head, MAGIC "%zu\n", n);
    if (!(*buf = malloc((size_t)hl + n * 16)))
        return DB_ERR_NOMEM;
    memcpy(*buf, head, (size_t)hl);
    memcpy(*buf + hl, ids, n * 16);
    *len = (size_t)hl + n * 16;
    return 0;
}

int seen_record_load(idset_t *set, const void *key, size_t key_len, const void *value,
                     size_t len, char *errstr, size_t errstr_size)
{
    const char *v = value, *nl, *p;
    size_t n = 0;
    if (key_len != 16) {
        snprintf(errstr, errstr_size, "key of %zu bytes is not a message id", key_len);
        return DB_ERR_INVALID;
    }
    if (idset_add(set, key) < 0)
        return DB_ERR_NOMEM;
    if (!v || len < MAGIC_LEN || memcmp(v, MAGIC, MAGIC_LEN) != 0)
        return 0;   /* a single-id record */
    nl = memchr(v, '\n', len < HEAD_MAX ? len : HEAD_MAX);
    for (p = v + MAGIC_LEN; nl && p < nl && *p >= '0' && *p <= '9' && n <= SEEN_IDS_MAX; p++)
        n = n * 10 + (size_t)(*p - '0');
    if (!nl || p != nl || n < 1 || n > SEEN_IDS_MAX) {
        snprintf(errstr, errstr_size, "list of message ids has no valid count (1..%d) in its "
                 "header", SEEN_IDS_MAX);
        return DB_ERR_INVALID;
    }
    if ((size_t)(v + len - (nl + 1)) != n * 16) {
        snprintf(errstr, errstr_size, "list of %zu message ids holds %zu bytes, not %zu", n,
                 (size_t)(v + len - (nl + 1)), n * 16);
        return DB_ERR_INVALID;
    }
    if (memcmp(nl + 1, key, 16) != 0) {
        snprintf(errstr, errstr_size, "list of message ids does not start with its key");
        return DB_ERR_INVALID;
    }
    for (const uint8_t *id = (const uint8_t *)nl + 1; n--; id += 16)
        if (idset_add(set, id) < 0)
            return DB_ERR_NOMEM;
    return 0;
}

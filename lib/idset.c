/* idset.c - open-addressing (linear probing) set of 16-byte ids. Message ids are
 * SHA-256 prefixes, so their first 8 bytes are already a good hash. */
#include "idset.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

struct idset {
    uint8_t (*slots)[16];
    uint8_t *used;
    size_t cap, n;   /* cap is a power of two */
};

idset_t *idset_new(void)
{
    idset_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cap = 1 << 16;
    s->slots = malloc(s->cap * sizeof *s->slots);
    s->used = calloc(s->cap, 1);
    if (!s->slots || !s->used) {
        idset_destroy(s);
        return NULL;
    }
    return s;
}

void idset_destroy(idset_t *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s->used);
    free(s);
}

static size_t slot_of(const idset_t *s, const uint8_t id[16])
{
    uint64_t h;
    memcpy(&h, id, 8);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return (size_t)(h ^ (h >> 32)) & (s->cap - 1);
}

static int grow(idset_t *s)
{
    idset_t bigger = {0};
    bigger.cap = s->cap * 2;
    bigger.slots = malloc(bigger.cap * sizeof *bigger.slots);
    bigger.used = calloc(bigger.cap, 1);
    if (!bigger.slots || !bigger.used) {
        free(bigger.slots);
        free(bigger.used);
        return DB_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->used[i])
            continue;
        size_t j = slot_of(&bigger, s->slots[i]);
        while (bigger.used[j])
            j = (j + 1) & (bigger.cap - 1);
        bigger.used[j] = 1;
        memcpy(bigger.slots[j], s->slots[i], 16);
    }
    free(s->slots);
    free(s->used);
    s->slots = bigger.slots;
    s->used = bigger.used;
    s->cap = bigger.cap;
    return 0;
}

int idset_add(idset_t *s, const uint8_t id[16])
{
    size_t i;
    if ((s->n + 1) * 4 > s->cap * 3 && grow(s))
        return DB_ERR_NOMEM;
    for (i = slot_of(s, id); s->used[i]; i = (i + 1) & (s->cap - 1))
        if (!memcmp(s->slots[i], id, 16))
            return 0;
    s->used[i] = 1;
    memcpy(s->slots[i], id, 16);
    s->n++;
    return 1;
}

int idset_has(const idset_t *s, const uint8_t id[16])
{
    for (size_t i = slot_of(s, id); s->used[i]; i = (i + 1) & (s->cap - 1))
        if (!memcmp(s->slots[i], id, 16))
            return 1;
    return 0;
}

size_t idset_size(const idset_t *s)
{
    return s->n;
}

void idset_clear(idset_t *s)
{
    memset(s->used, 0, s->cap);
    s->n = 0;
}

/* strindex.c - open addressing (linear probing, load under 1/2) over copied strings. */
#include "strindex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "str.h"

struct slot {
    char *s;            /* NULL: empty */
    uint64_t hash;
    long value;
};

struct strindex {
    struct slot *slots;
    size_t cap, n;      /* cap: a power of two */
};

/* FNV-1a, its high bits folded into the low ones that pick a slot. */
static uint64_t str_hash(const char *s)
{
    uint64_t h = str_fnv64(s);
    return h ^ (h >> 29);
}

strindex_t *strindex_new(void)
{
    strindex_t *ix = calloc(1, sizeof *ix);
    if (ix && !(ix->slots = calloc(ix->cap = 64, sizeof *ix->slots))) {
        free(ix);
        return NULL;
    }
    return ix;
}

void strindex_destroy(strindex_t *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->cap; i++)
        free(ix->slots[i].s);
    free(ix->slots);
    free(ix);
}

/* The slot holding s, or the empty slot where it would go. */
static struct slot *find(const strindex_t *ix, const char *s, uint64_t h)
{
    size_t mask = ix->cap - 1, p = (size_t)h & mask;
    while (ix->slots[p].s && (ix->slots[p].hash != h || strcmp(ix->slots[p].s, s) != 0))
        p = (p + 1) & mask;
    return &ix->slots[p];
}

long strindex_get(const strindex_t *ix, const char *s)
{
    const struct slot *sl = find(ix, s, str_hash(s));
    return sl->s ? sl->value : -1;
}

const char *strindex_key(const strindex_t *ix, const char *s)
{
    return find(ix, s, str_hash(s))->s;
}

static int grow(strindex_t *ix)
{
    size_t ncap = ix->cap * 2, mask = ncap - 1;
    struct slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return DB_ERR_NOMEM;
    for (size_t i = 0; i < ix->cap; i++) {
        if (!ix->slots[i].s)
            continue;
        size_t p = (size_t)ix->slots[i].hash & mask;
        while (ns[p].s)
            p = (p + 1) & mask;
        ns[p] = ix->slots[i];
    }
    free(ix->slots);
    ix->slots = ns;
    ix->cap = ncap;
    return 0;
}

int strindex_put(strindex_t *ix, const char *s, long value)
{
    uint64_t h = str_hash(s);
    struct slot *sl = find(ix, s, h);
    if (sl->s) {
        sl->value = value;
        return 0;
    }
    if ((ix->n + 1) * 2 > ix->cap) {
        if (grow(ix))
            return DB_ERR_NOMEM;
        sl = find(ix, s, h);
    }
    if (!(sl->s = strdup(s)))
        return DB_ERR_NOMEM;
    sl->hash = h;
    sl->value = value;
    ix->n++;
    return 0;
}

size_t strindex_size(const strindex_t *ix)
{
    return ix->n;
}

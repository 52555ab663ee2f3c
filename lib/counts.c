/* counts.c - the counts table: records keyed per metric, quarter, slot and source in a
 * dense array with an open-addressing index; queries and the report model. */
#include "counts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json_parse.h"
#include "str.h"

#define KEY_MAX (METRICS_ID_MAX + 16 + METRICS_SLOT_MAX + COUNTS_SRC_MAX)

enum { SLOT_DIMS, SLOT_MEMBER, SLOT_ITEM };

typedef struct rec {
    char *key;            /* "<metric>|<quarter>|<slot>|<src>", NUL-terminated */
    uint64_t hash;
    uint32_t klen;
    uint16_t slot_off, slot_len;  /* offsets into key */
    uint16_t src_off;
    uint8_t slot_kind;    /* SLOT_* */
    int32_t mid;          /* index into counts.mids */
    quarter_t quarter;
    int32_t dirty_pos;    /* position in counts.dirty, or -1 */
    int64_t value;        /* count/sum/distinct: the total; list: the item's fact time */
    int64_t updated_at;
    char *item;           /* list: the item JSON */
    char *json;           /* dims/member records: the serialized record around its two
                             changing numbers, "<head>\0<tail>" (see rec_text) */
    uint16_t json_tail;   /* offset of <tail> in json */
} rec_t;

struct counts {
    rec_t *recs;
    size_t n, cap;
    uint64_t *index;      /* 0 empty, else slot_of(hash, record index): the hash's high
                             half beside the index, so a probe reads a record only when
                             they match (an aggregate probes ~1.3 M times) */
    size_t icap;          /* power of two */
    uint32_t *dirty;      /* record indexes, in first-change order */
    size_t ndirty, dcap;
    char **mids;          /* interned metric ids */
    int nmids, capmids;
    const metrics_t *cache_for;      /* metric index -> mids index, for this file */
    int cache_mid[METRICS_MAX];
    char kbuf[KEY_MAX];
    /* The records of each metric, for queries: built on first use after a change. */
    uint64_t gen, bymid_gen;   /* bumped by every add or remove; gen the index is for */
    uint32_t *bymid;           /* record indexes grouped by mid */
    size_t *bymid_start;       /* mid m's records: bymid[bymid_start[m] .. [m + 1]) */
    int bymid_nmids;           /* mids the index covers */
};

/* ---------- table ---------- */

/* A multiply-xorshift hash taking 8 bytes a step (keys are 40-100 bytes and hashed for
 * every fact counted: the byte-at-a-time FNV-1a it replaces was ~3 % of an aggregate). */
static uint64_t key_hash(const char *s, size_t n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t h = n * k, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (n) {
        w = 0;
        memcpy(&w, s, n);
        h = (h ^ w ^ (uint64_t)n << 56) * k;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    return h ^ (h >> 32);
}

counts_t *counts_new(void)
{
    counts_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->icap = 1024;
    if (!(c->index = calloc(c->icap, sizeof *c->index))) {
        free(c);
        return NULL;
    }
    return c;
}

void counts_destroy(counts_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->recs[i].key);
        free(c->recs[i].item);
        free(c->recs[i].json);
    }
    for (int i = 0; i < c->nmids; i++)
        free(c->mids[i]);
    free(c->mids);
    free(c->recs);
    free(c->index);
    free(c->dirty);
    free(c->bymid);
    free(c->bymid_start);
    free(c);
}

size_t counts_size(const counts_t *c)
{
    return c->n;
}

/* An index slot for record ri of hash h; slot_rec gives ri back. */
static uint64_t slot_of(uint64_t h, size_t ri)
{
    return (h >> 32) << 32 | ((uint64_t)ri + 1);
}

static size_t slot_rec(uint64_t v)
{
    return (size_t)(uint32_t)v - 1;
}

/* Position in the index of key (holding it, or the empty slot where it would go). */
static size_t index_find(const counts_t *c, uint64_t h, const char *key, size_t klen)
{
    size_t mask = c->icap - 1, p = h & mask;
    for (;;) {
        uint64_t v = c->index[p];
        if (!v)
            return p;
        if (v >> 32 == h >> 32) {
            const rec_t *r = &c->recs[slot_rec(v)];
            if (r->hash == h && r->klen == klen && memcmp(r->key, key, klen) == 0)
                return p;
        }
        p = (p + 1) & mask;
    }
}

static int index_grow(counts_t *c)
{
    size_t ncap = c->icap * 2;
    uint64_t *ni = calloc(ncap, sizeof *ni);
    if (!ni)
        return DB_ERR_NOMEM;
    for (size_t i = 0; i < c->n; i++) {
        size_t p = c->recs[i].hash & (ncap - 1);
        while (ni[p])
            p = (p + 1) & (ncap - 1);
        ni[p] = slot_of(c->recs[i].hash, i);
    }
    free(c->index);
    c->index = ni;
    c->icap = ncap;
    return 0;
}

/* Empties index slot p, shifting later entries of the probe run back. */
static void index_delete(counts_t *c, size_t p)
{
    size_t mask = c->icap - 1, i = p, j = p;
    c->index[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!c->index[j])
            return;
        size_t home = c->recs[slot_rec(c->index[j])].hash & mask;
        /* the entry at j may move to i only if its home is not in (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        c->index[i] = c->index[j];
        c->index[j] = 0;
        i = j;
    }
}

static int mark_dirty(counts_t *c, size_t ri)
{
    rec_t *r = &c->recs[ri];
    if (r->dirty_pos >= 0)
        return 0;
    if (c->ndirty == c->dcap) {
        size_t ncap = c->dcap ? c->dcap * 2 : 256;
        uint32_t *nd = realloc(c->dirty, ncap * sizeof *nd);
        if (!nd)
            return DB_ERR_NOMEM;
        c->dirty = nd;
        c->dcap = ncap;
    }
    r->dirty_pos = (int32_t)c->ndirty;
    c->dirty[c->ndirty++] = (uint32_t)ri;
    return 0;
}

/* Removes record ri: dirty list, index, then the last record moves into its place. */
static void rec_remove(counts_t *c, size_t ri)
{
    rec_t *r = &c->recs[ri];
    size_t last = c->n - 1;
    if (r->dirty_pos >= 0) {
        uint32_t moved = c->dirty[--c->ndirty];
        if ((size_t)r->dirty_pos < c->ndirty) {
            c->dirty[r->dirty_pos] = moved;
            c->recs[moved].dirty_pos = r->dirty_pos;
        }
    }
    index_delete(c, index_find(c, r->hash, r->key, r->klen));
    free(r->key);
    free(r->item);
    free(r->json);
    if (ri != last) {
        rec_t *l = &c->recs[last];
        size_t p = l->hash & (c->icap - 1);
        while (slot_rec(c->index[p]) != last)
            p = (p + 1) & (c->icap - 1);
        c->index[p] = slot_of(l->hash, ri);
        if (l->dirty_pos >= 0)
            c->dirty[l->dirty_pos] = (uint32_t)ri;
        *r = *l;
    }
    c->n--;
    c->gen++;
}

static int mid_intern(counts_t *c, const char *id, size_t len)
{
    for (int i = 0; i < c->nmids; i++)
        if (strlen(c->mids[i]) == len && memcmp(c->mids[i], id, len) == 0)
            return i;
    if (c->nmids == c->capmids) {
        int ncap = c->capmids ? c->capmids * 2 : 32;
        char **nm = realloc(c->mids, (size_t)ncap * sizeof *nm);
        if (!nm)
            return DB_ERR_NOMEM;
        c->mids = nm;
        c->capmids = ncap;
    }
    if (!(c->mids[c->nmids] = strndup(id, len)))
        return DB_ERR_NOMEM;
    return c->nmids++;
}

static int mid_find(const counts_t *c, const char *id)
{
    for (int i = 0; id && i < c->nmids; i++)
        if (strcmp(c->mids[i], id) == 0)
            return i;
    return -1;
}

/* Parses the key into a new record (not yet indexed). */
static int rec_init(rec_t *r, const char *key, size_t klen, quarter_t q, int mid, int kind)
{
    const char *p1 = memchr(key, '|', klen), *p2, *p3;
    memset(r, 0, sizeof *r);
    p2 = memchr(p1 + 1, '|', klen - (size_t)(p1 + 1 - key));
    p3 = memrchr(key, '|', klen);
    if (!(r->key = malloc(klen + 1)))
        return DB_ERR_NOMEM;
    memcpy(r->key, key, klen);
    r->key[klen] = '\0';
    r->klen = (uint32_t)klen;
    r->hash = key_hash(key, klen);
    r->slot_off = (uint16_t)(p2 + 1 - key);
    r->slot_len = (uint16_t)(p3 - p2 - 1);
    r->src_off = (uint16_t)(p3 + 1 - key);
    r->slot_kind = (uint8_t)kind;
    r->mid = mid;
    r->quarter = q;
    r->dirty_pos = -1;
    return 0;
}

/* Finds or inserts the record of key; *ri is its index. */
static int rec_get(counts_t *c, const char *key, size_t klen, quarter_t q, int mid, int kind,
                   size_t *ri, int *created)
{
    uint64_t h = key_hash(key, klen);
    size_t p = index_find(c, h, key, klen);
    int rc;
    *created = 0;
    if (c->index[p]) {
        *ri = slot_rec(c->index[p]);
        return 0;
    }
    if ((c->n + 1) * 4 > c->icap * 3) {  /* keep the load under 3/4 */
        if ((rc = index_grow(c)) < 0)
            return rc;
        p = index_find(c, h, key, klen);
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        rec_t *nr = realloc(c->recs, ncap * sizeof *nr);
        if (!nr)
            return DB_ERR_NOMEM;
        c->recs = nr;
        c->cap = ncap;
    }
    if ((rc = rec_init(&c->recs[c->n], key, klen, q, mid, kind)) < 0)
        return rc;
    c->index[p] = slot_of(h, c->n);
    *ri = c->n++;
    c->gen++;
    *created = 1;
    return 0;
}

/* Writes "2018-Q1" (7 bytes, no NUL) at p. */
static char *put_quarter(char *p, quarter_t q)
{
    int y = q / 4;
    p[0] = (char)('0' + y / 1000 % 10);
    p[1] = (char)('0' + y / 100 % 10);
    p[2] = (char)('0' + y / 10 % 10);
    p[3] = (char)('0' + y % 10);
    p[4] = '-';
    p[5] = 'Q';
    p[6] = (char)('1' + q % 4);
    return p + 7;
}

static int src_valid(const char *src, size_t *len)
{
    *len = src ? strlen(src) : 0;
    return *len > 0 && *len < COUNTS_SRC_MAX && !memchr(src, '|', *len);
}

int counts_apply(counts_t *c, const metrics_t *m, const metrics_fact_t *f, const char *src,
                 int64_t now_ms, char *errstr, size_t errstr_size)
{
    const char *id, *slot;
    size_t idlen, slen, srclen, ri, klen;
    metrics_kind_t kind;
    int mid, created, rc = 0, skind;
    char *p;
    rec_t *r;

    if (f->metric < 0 || f->metric >= metrics_count(m) || f->quarter < 1970 * 4 ||
        f->quarter > 9999 * 4 + 3 || !src_valid(src, &srclen)) {
        snprintf(errstr, errstr_size, "fact of metric %d, quarter %d, source \"%s\": bad metric "
                 "index, quarter or source", f->metric, (int)f->quarter, src ? src : "");
        return DB_ERR_INVALID;
    }
    id = metrics_id(m, f->metric);
    kind = metrics_kind(m, f->metric);
    skind = kind == METRICS_DISTINCT ? SLOT_MEMBER : kind == METRICS_LIST ? SLOT_ITEM : SLOT_DIMS;
    slot = skind == SLOT_MEMBER ? f->member : skind == SLOT_ITEM ? f->item_id : f->dims;
    if (!slot || (skind == SLOT_ITEM && !f->item)) {
        snprintf(errstr, errstr_size, "fact of metric \"%s\" has no %s", id,
                 skind == SLOT_MEMBER ? "member" : skind == SLOT_ITEM ? "item" : "dims");
        return DB_ERR_INVALID;
    }
    idlen = strlen(id);
    slen = strlen(slot);
    if (slen >= METRICS_SLOT_MAX || memchr(slot, '|', slen)) {
        snprintf(errstr, errstr_size, "fact of metric \"%s\": slot too long or unescaped", id);
        return DB_ERR_INVALID;
    }
    /* the metric index -> interned id map is rebuilt when the metrics file changes */
    if (c->cache_for != m) {
        for (int i = 0; i < METRICS_MAX; i++)
            c->cache_mid[i] = -1;
        c->cache_for = m;
    }
    mid = c->cache_mid[f->metric];
    if (mid < 0 || strcmp(c->mids[mid], id) != 0) {
        if ((mid = mid_intern(c, id, idlen)) < 0) {
            snprintf(errstr, errstr_size, "out of memory");
            return mid;
        }
        c->cache_mid[f->metric] = mid;
    }
    p = c->kbuf;
    memcpy(p, id, idlen);
    p += idlen;
    *p++ = '|';
    p = put_quarter(p, f->quarter);
    *p++ = '|';
    memcpy(p, slot, slen);
    p += slen;
    *p++ = '|';
    memcpy(p, src, srclen);
    p += srclen;
    klen = (size_t)(p - c->kbuf);
    if ((rc = rec_get(c, c->kbuf, klen, f->quarter, mid, skind, &ri, &created)) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return rc;
    }
    r = &c->recs[ri];
    if (skind == SLOT_ITEM) {
        if (created || f->delta >= r->value) {
            char *it = strdup(f->item);
            if (!it) {
                if (created)
                    rec_remove(c, ri);
                snprintf(errstr, errstr_size, "out of memory");
                return DB_ERR_NOMEM;
            }
            free(r->item);
            r->item = it;
            r->value = f->delta;
        }
    } else {
        int64_t v;
        if (__builtin_add_overflow(r->value, f->delta, &v)) {
            snprintf(errstr, errstr_size, "metric \"%s\": total overflows int64", id);
            if (created)
                rec_remove(c, ri);
            return DB_ERR_INVALID;
        }
        r->value = v;
    }
    r->updated_at = now_ms;
    if ((rc = mark_dirty(c, ri)) < 0)
        snprintf(errstr, errstr_size, "out of memory");
    return rc;
}

/* ---------- records on the wire ---------- */

/* Adds the unescaped "k=v,k=v" pairs of s[0..n) to object o. */
static int dims_to_json(const char *s, size_t n, json_t *o)
{
    char buf[METRICS_SLOT_MAX];
    size_t i = 0;
    while (i < n) {
        const char *pe = memchr(s + i, ',', n - i), *eq;
        size_t end = pe ? (size_t)(pe - s) : n;
        eq = memchr(s + i, '=', end - i);
        if (!eq)
            return DB_ERR_INVALID;
        int vl = metrics_unescape(eq + 1, (size_t)(s + end - eq - 1), buf, sizeof buf);
        if (vl < 0)
            return DB_ERR_INVALID;
        char name[METRICS_SLOT_MAX];
        size_t nl = (size_t)(eq - (s + i));
        memcpy(name, s + i, nl);
        name[nl] = '\0';
        if (json_object_set_new(o, name, json_stringn(buf, (size_t)vl)))
            return DB_ERR_NOMEM;
        i = end + 1;
    }
    return 0;
}

static json_t *rec_json(const counts_t *c, const rec_t *r)
{
    char q[8], buf[METRICS_SLOT_MAX];
    json_t *o = json_object(), *x = NULL;
    const char *slot = r->key + r->slot_off;
    int n;
    if (!o)
        return NULL;
    quarter_format(r->quarter, q, sizeof q);
    if (json_object_set_new(o, "metric", json_string(c->mids[r->mid])) ||
        json_object_set_new(o, "quarter", json_string(q)))
        goto fail;
    switch (r->slot_kind) {
    case SLOT_DIMS:
        if (!(x = json_object()) || dims_to_json(slot, r->slot_len, x) < 0 ||
            json_object_set_new(o, "dims", x)) {
            json_decref(x);
            goto fail;
        }
        break;
    case SLOT_MEMBER:
        if ((n = metrics_unescape(slot, r->slot_len, buf, sizeof buf)) < 0 ||
            json_object_set_new(o, "member", json_stringn(buf, (size_t)n)))
            goto fail;
        break;
    default:
        if (!(x = json_loads(r->item, 0, NULL)) || json_object_set_new(o, "item", x))
            goto fail;
        break;
    }
    if (json_object_set_new(o, "value", json_integer(r->value)) ||
        json_object_set_new(o, "src", json_string(r->key + r->src_off)) ||
        json_object_set_new(o, "updated_at", json_integer(r->updated_at)))
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* A growing text buffer for rec_cut. */
typedef struct text {
    char *p;
    size_t len, cap;
    int failed;   /* out of memory, or a string that is not UTF-8 */
} text_t;

static void text_put(text_t *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        /* a record's text is ~150 bytes: one allocation, not five reallocs */
        size_t cap = (t->len + n + 1) * 2 < 256 ? 256 : (t->len + n + 1) * 2;
        char *np = realloc(t->p, cap);
        if (!np) {
            t->failed = 1;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

/* Appends s[0..n) as a JSON string, escaped as jansson's compact dump escapes. */
static void text_str(text_t *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!json_utf8_valid(s, n)) {
        t->failed = 1;
        return;
    }
    text_put(t, "\"", 1);
    for (size_t i = 0, run = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : 0;
        const char *esc = NULL;
        char u[7];
        if (i < n && c >= 0x20 && c != '"' && c != '\\')
            continue;
        text_put(t, s + run, i - run);   /* the plain bytes before this one */
        run = i + 1;
        if (i == n)
            break;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        text_put(t, esc, strlen(esc));
    }
    text_put(t, "\"", 1);
}

/* Sets r->json: the record's text as rec_json would dump it, cut around the two numbers
 * that change ("value" and "updated_at"): head "{...,\"value\":" NUL, then tail
 * ",\"src\":...,\"updated_at\":". Written directly (dumping a JSON object per new
 * record was ~12% of the aggregator). Leaves it NULL when the slot does not parse or a
 * string is not UTF-8; rec_text then dumps the whole record each time. */
static void rec_cut(counts_t *c, rec_t *r)
{
    const char *slot = r->key + r->slot_off, *src = r->key + r->src_off;
    char q[8], buf[METRICS_SLOT_MAX];
    text_t t = {0};
    size_t hl;
    int n;

    quarter_format(r->quarter, q, sizeof q);
    text_put(&t, "{\"metric\":", 10);
    text_str(&t, c->mids[r->mid], strlen(c->mids[r->mid]));
    text_put(&t, ",\"quarter\":", 11);
    text_str(&t, q, strlen(q));
    if (r->slot_kind == SLOT_DIMS) {
        size_t i = 0, sl = r->slot_len;
        text_put(&t, ",\"dims\":{", 9);
        while (i < sl && !t.failed) {
            const char *pe = memchr(slot + i, ',', sl - i), *eq;
            size_t end = pe ? (size_t)(pe - slot) : sl;
            if (!(eq = memchr(slot + i, '=', end - i)) ||
                (n = metrics_unescape(eq + 1, (size_t)(slot + end - eq - 1), buf, sizeof buf)) < 0)
                t.failed = 1;
            /* a name twice would be one key in rec_json's object: leave that to it */
            for (size_t j = 0; !t.failed && j < i;) {
                const char *pj = memchr(slot + j, ',', i - j), *ej = memchr(slot + j, '=', i - j);
                if (ej && ej - (slot + j) == eq - (slot + i) &&
                    !memcmp(slot + j, slot + i, (size_t)(eq - (slot + i))))
                    t.failed = 1;
                j = pj ? (size_t)(pj - slot) + 1 : i;
            }
            if (t.failed)
                break;
            if (i)
                text_put(&t, ",", 1);
            text_str(&t, slot + i, (size_t)(eq - (slot + i)));
            text_put(&t, ":", 1);
            text_str(&t, buf, (size_t)n);
            i = end + 1;
        }
        text_put(&t, "}", 1);
    } else {
        if ((n = metrics_unescape(slot, r->slot_len, buf, sizeof buf)) < 0)
            t.failed = 1;
        text_put(&t, ",\"member\":", 10);
        if (!t.failed)
            text_str(&t, buf, (size_t)n);
    }
    text_put(&t, ",\"value\":", 9);
    hl = t.len;
    text_put(&t, "", 1);   /* the NUL between head and tail */
    text_put(&t, ",\"src\":", 7);
    text_str(&t, src, strlen(src));
    text_put(&t, ",\"updated_at\":", 14);
    if (t.failed || hl >= UINT16_MAX) {
        free(t.p);
        return;
    }
    r->json = t.p;
    r->json_tail = (uint16_t)(hl + 1);
}

/* Serializes r as rec_json would (same fields, same order), reusing the parts that never
 * change once the record exists: only "value" and "updated_at" are formatted per call,
 * where building and dumping a JSON object per record per transaction cost ~18% of the
 * aggregator. Returns malloc'd text or NULL. */
static char *rec_text(counts_t *c, rec_t *r)
{
    char *text;
    if (r->slot_kind != SLOT_ITEM && !r->json)
        rec_cut(c, r);
    if (!r->json) {
        json_t *o = rec_json(c, r);
        text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return text;
    }
    const char *head = r->json, *tail = r->json + r->json_tail;
    char value[21], updated[21];
    str_i64(value, r->value);
    str_i64(updated, r->updated_at);
    size_t hl = strlen(head), tl = strlen(tail), vl = strlen(value), ul = strlen(updated);
    if (!(text = malloc(hl + vl + tl + ul + 2)))
        return NULL;
    memcpy(text, head, hl);
    memcpy(text + hl, value, vl);
    memcpy(text + hl + vl, tail, tl);
    memcpy(text + hl + vl + tl, updated, ul);
    memcpy(text + hl + vl + tl + ul, "}", 2);
    return text;
}

int counts_dirty_foreach(counts_t *c, counts_record_cb cb, void *opaque)
{
    int rc = 0;
    for (size_t i = 0; i < c->ndirty && !rc; i++) {
        rec_t *r = &c->recs[c->dirty[i]];
        char *text = rec_text(c, r);
        if (!text)
            return DB_ERR_NOMEM;
        rc = cb(r->key, r->klen, text, strlen(text), opaque);
        free(text);
    }
    return rc;
}

/* The item JSON of a list record, NULL for any other. */
static const char *rec_item(const rec_t *r)
{
    return r->slot_kind == SLOT_ITEM ? r->item : NULL;
}

int counts_dirty_values(const counts_t *c, counts_value_cb cb, void *opaque)
{
    int rc = 0;
    for (size_t i = 0; i < c->ndirty && !rc; i++) {
        const rec_t *r = &c->recs[c->dirty[i]];
        rc = cb(r->key, r->klen, r->value, rec_item(r), opaque);
    }
    return rc;
}

int counts_values(const counts_t *c, counts_value_cb cb, void *opaque)
{
    int rc = 0;
    for (size_t i = 0; i < c->n && !rc; i++) {
        const rec_t *r = &c->recs[i];
        rc = cb(r->key, r->klen, r->value, rec_item(r), opaque);
    }
    return rc;
}

int counts_get(const counts_t *c, const char *key, size_t klen, int64_t *value, const char **item)
{
    const rec_t *r;
    uint64_t at;
    if (!c->icap || !(at = c->index[index_find(c, key_hash(key, klen), key, klen)]))
        return 0;
    r = &c->recs[slot_rec(at)];
    *value = r->value;
    *item = rec_item(r);
    return 1;
}

size_t counts_dirty_count(const counts_t *c)
{
    return c->ndirty;
}

void counts_clear_dirty(counts_t *c)
{
    for (size_t i = 0; i < c->ndirty; i++)
        c->recs[c->dirty[i]].dirty_pos = -1;
    c->ndirty = 0;
}

/* Escapes s as metrics does for key slots. -1 if it does not fit. */
static int slot_escape(const char *s, size_t n, char *buf, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 4 > size)
            return -1;
        if (ch < 0x20 || ch == 0x7f || ch == '%' || ch == ',' || ch == '=' || ch == '|') {
            buf[o++] = '%';
            buf[o++] = hex[ch >> 4];
            buf[o++] = hex[ch & 15];
        } else {
            buf[o++] = (char)ch;
        }
    }
    buf[o] = '\0';
    return (int)o;
}

/* The canonical slot of a record value (dims sorted by name, member, or item id). */
static int value_slot(json_t *v, int *kind, char *buf, size_t size)
{
    json_t *x;
    if ((x = json_object_get(v, "item"))) {
        const char *id = json_string_value(json_object_get(x, "id"));
        *kind = SLOT_ITEM;
        if (!json_is_object(x) || !id || strlen(id) >= size)
            return -1;
        strcpy(buf, id);  /* the id is already in key-safe form */
        return (int)strlen(id);
    }
    if ((x = json_object_get(v, "member"))) {
        *kind = SLOT_MEMBER;
        if (!json_is_string(x))
            return -1;
        return slot_escape(json_string_value(x), json_string_length(x), buf, size);
    }
    x = json_object_get(v, "dims");
    *kind = SLOT_DIMS;
    if (!json_is_object(x))
        return -1;
    /* jansson iterates in insertion order: sort the names */
    const char *names[16], *k;
    json_t *dv;
    size_t nn = 0, o = 0;
    json_object_foreach(x, k, dv) {
        if (nn == 16 || !json_is_string(dv))
            return -1;
        size_t j = nn++;
        while (j > 0 && strcmp(names[j - 1], k) > 0) {
            names[j] = names[j - 1];
            j--;
        }
        names[j] = k;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < nn; i++) {
        size_t nl = strlen(names[i]);
        json_t *s = json_object_get(x, names[i]);
        if (o + nl + 3 > size)
            return -1;
        if (i)
            buf[o++] = ',';
        memcpy(buf + o, names[i], nl);
        o += nl;
        buf[o++] = '=';
        int el = slot_escape(json_string_value(s), json_string_length(s), buf + o, size - o);
        if (el < 0)
            return -1;
        o += (size_t)el;
    }
    buf[o] = '\0';
    return (int)o;
}

int counts_load_value(counts_t *c, const char *key, size_t klen, int has_value, json_t *v,
                      char *errstr, size_t errstr_size)
{
    int rc = DB_ERR_INVALID, kind, mid, created, sl;
    const char *p1, *p2, *p3, *why = NULL;
    char qs[8], slot[METRICS_SLOT_MAX + 8];
    quarter_t q;
    size_t ri;

    if (klen == 0 || klen >= KEY_MAX || !(p1 = memchr(key, '|', klen)) ||
        !(p2 = memchr(p1 + 1, '|', klen - (size_t)(p1 + 1 - key))) ||
        !(p3 = memrchr(key, '|', klen)) || p3 == p2 || p2 - p1 != 8 || p3 + 1 == key + klen ||
        memchr(p2 + 1, '|', (size_t)(p3 - p2 - 1)) || p1 == key) {
        why = "key is not <metric>|<quarter>|<slot>|<src>";
        goto out;
    }
    memcpy(qs, p1 + 1, 7);
    qs[7] = '\0';
    if (quarter_parse(qs, &q, errstr, errstr_size) < 0) {
        why = "bad quarter";
        goto out;
    }
    if (!has_value) {  /* tombstone */
        uint64_t h = key_hash(key, klen);
        size_t p = index_find(c, h, key, klen);
        if (c->index[p])
            rec_remove(c, slot_rec(c->index[p]));
        rc = 0;
        goto out;
    }
    if (!v || !json_is_object(v)) {
        why = "value is not a JSON object";
        goto out;
    }
    const char *vm = json_string_value(json_object_get(v, "metric"));
    const char *vq = json_string_value(json_object_get(v, "quarter"));
    const char *vs = json_string_value(json_object_get(v, "src"));
    json_t *val = json_object_get(v, "value"), *upd = json_object_get(v, "updated_at");
    if (!vm || !vq || !vs || !json_is_integer(val) || !json_is_integer(upd)) {
        why = "value lacks metric, quarter, src, value or updated_at";
        goto out;
    }
    if (strlen(vm) != (size_t)(p1 - key) || memcmp(vm, key, strlen(vm)) != 0 || strcmp(vq, qs) != 0 ||
        strlen(vs) != (size_t)(key + klen - p3 - 1) || memcmp(vs, p3 + 1, strlen(vs)) != 0) {
        why = "metric, quarter or src of the value differ from the key";
        goto out;
    }
    if ((sl = value_slot(v, &kind, slot, sizeof slot)) < 0 || (size_t)sl != (size_t)(p3 - p2 - 1) ||
        memcmp(slot, p2 + 1, (size_t)sl) != 0) {
        why = "dims, member or item of the value differ from the key";
        goto out;
    }
    if (kind != SLOT_ITEM && json_integer_value(val) < 0) {
        why = "negative value";
        goto out;
    }
    char *item = NULL;
    if (kind == SLOT_ITEM && !(item = json_dumps(json_object_get(v, "item"), JSON_COMPACT))) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    if ((mid = mid_intern(c, vm, strlen(vm))) < 0 ||
        rec_get(c, key, klen, q, mid, kind, &ri, &created) < 0) {
        free(item);
        rc = DB_ERR_NOMEM;
        goto out;
    }
    rec_t *r = &c->recs[ri];
    r->slot_kind = (uint8_t)kind;
    free(r->item);
    r->item = item;
    r->value = json_integer_value(val);
    r->updated_at = json_integer_value(upd);
    rc = 0;
out:
    if (rc == DB_ERR_INVALID)
        snprintf(errstr, errstr_size, "counts record \"%.*s\": %s", (int)(klen < 200 ? klen : 200),
                 key, why ? why : "invalid");
    else if (rc == DB_ERR_NOMEM)
        snprintf(errstr, errstr_size, "out of memory");
    return rc;
}

int counts_load_record(counts_t *c, const char *key, size_t klen, const char *value,
                       size_t vlen, char *errstr, size_t errstr_size)
{
    json_t *v = NULL;
    char perr[256];
    if (value && json_parse(value, vlen, &v, perr, sizeof perr))
        v = NULL;   /* counts_load_value reports an unreadable record */
    int rc = counts_load_value(c, key, klen, value != NULL, v, errstr, errstr_size);
    json_decref(v);
    return rc;
}

size_t counts_forget_src(counts_t *c, const char *src)
{
    size_t removed = 0, sl = src ? strlen(src) : 0;
    for (size_t i = c->n; i-- > 0;) {
        const rec_t *r = &c->recs[i];
        if (r->klen - r->src_off == sl && memcmp(r->key + r->src_off, src, sl) == 0) {
            rec_remove(c, i);
            removed++;
        }
    }
    return removed;
}

/* ---------- queries ---------- */

static int in_window(quarter_t rq, quarter_t q, metrics_window_t w)
{
    return w == METRICS_CUMULATIVE ? rq <= q : rq == q;
}

/* Whether the dims s[0..n) contain the whole pair p[0..pl). */
static int dims_have(const char *s, size_t n, const char *p, size_t pl)
{
    size_t i = 0;
    while (i <= n) {
        const char *e = memchr(s + i, ',', n - i);
        size_t end = e ? (size_t)(e - s) : n;
        if (end - i == pl && memcmp(s + i, p, pl) == 0)
            return 1;
        if (!e)
            return 0;
        i = end + 1;
    }
    return 0;
}

static int dims_match(const rec_t *r, const char *filter)
{
    const char *s = r->key + r->slot_off, *f = filter;
    if (!filter || !*filter)
        return 1;
    while (*f) {
        const char *e = strchr(f, ',');
        size_t pl = e ? (size_t)(e - f) : strlen(f);
        if (!dims_have(s, r->slot_len, f, pl))
            return 0;
        f += pl + (e ? 1 : 0);
    }
    return 1;
}

/* qsort that accepts an empty (NULL) array. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

typedef struct sref {
    const char *s;
    size_t n;
    int64_t v;
    const rec_t *r;
} sref_t;

static int cmp_sref(const void *a, const void *b)
{
    const sref_t *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int d = memcmp(x->s, y->s, n);
    return d ? d : (x->n > y->n) - (x->n < y->n);
}

/* Records of metric mid in window, optionally filtered, as slot refs in *out. */
/* The indexes of metric mid's records, *n of them. When memory runs out it returns NULL
 * with *n = c->n: callers then scan every record (checking mid themselves), the same
 * result slower. The grouping is cached in c (hence the cast: a counts_t is always one
 * counts_new made) until the next add or remove. */
static const uint32_t *mid_recs(const counts_t *cc, int mid, size_t *n)
{
    counts_t *c = (counts_t *)cc;
    *n = 0;
    if (mid < 0 || mid >= c->nmids)
        return NULL;
    if (!c->bymid || c->bymid_gen != c->gen || c->bymid_nmids != c->nmids) {
        uint32_t *by = malloc((c->n ? c->n : 1) * sizeof *by);
        size_t *start = calloc((size_t)c->nmids + 2, sizeof *start);
        if (!by || !start) {
            free(by);
            free(start);
            *n = c->n;
            return NULL;
        }
        for (size_t i = 0; i < c->n; i++)
            start[c->recs[i].mid + 2]++;
        for (int m = 0; m < c->nmids; m++)
            start[m + 2] += start[m + 1];
        for (size_t i = 0; i < c->n; i++)   /* start[m + 1] is m's fill position */
            by[start[c->recs[i].mid + 1]++] = (uint32_t)i;
        free(c->bymid);
        free(c->bymid_start);
        c->bymid = by;
        c->bymid_start = start;
        c->bymid_gen = c->gen;
        c->bymid_nmids = c->nmids;
    }
    *n = c->bymid_start[mid + 1] - c->bymid_start[mid];
    return c->bymid + c->bymid_start[mid];
}

static int collect(const counts_t *c, int mid, quarter_t q, metrics_window_t w,
                   const char *filter, sref_t **out, size_t *n)
{
    size_t k = 0;
    sref_t *v = NULL;
    *out = NULL;
    *n = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t nr;
        const uint32_t *by = mid_recs(c, mid, &nr);
        k = 0;
        for (size_t i = 0; i < nr; i++) {
            const rec_t *r = &c->recs[by ? by[i] : i];
            if (r->mid != mid || !in_window(r->quarter, q, w) || !dims_match(r, filter))
                continue;
            if (pass)
                v[k] = (sref_t){r->key + r->slot_off, r->slot_len, r->value, r};
            k++;
        }
        if (!pass && k && !(v = malloc(k * sizeof *v)))
            return DB_ERR_NOMEM;
        if (!k)
            break;
    }
    *out = v;
    *n = k;
    return 0;
}

int64_t counts_value(const counts_t *c, const metrics_t *m, const char *id, quarter_t q,
                     metrics_window_t w, const char *dims_filter)
{
    int mi = metrics_find(m, id), mid = mid_find(c, id);
    int64_t total = 0;
    sref_t *v = NULL;
    size_t n = 0;

    if (mi < 0 || mid < 0)
        return 0;
    if (metrics_kind(m, mi) == METRICS_COUNT || metrics_kind(m, mi) == METRICS_SUM) {
        size_t nr;
        const uint32_t *by = mid_recs(c, mid, &nr);
        for (size_t i = 0; i < nr; i++) {
            const rec_t *r = &c->recs[by ? by[i] : i];
            if (r->mid == mid && in_window(r->quarter, q, w) && dims_match(r, dims_filter))
                total += r->value;
        }
        return total;
    }
    /* distinct members / distinct items: sort the slots and count the runs */
    if (collect(c, mid, q, w, NULL, &v, &n) < 0)
        return 0;
    sort(v, n, sizeof *v, cmp_sref);
    for (size_t i = 0, k = 0; i < n; i++) {
        if (v[i].v <= 0 && metrics_kind(m, mi) == METRICS_DISTINCT)
            continue;  /* a member seen zero times is no member */
        if (k == 0 || cmp_sref(&v[k - 1], &v[i]) != 0)
            total++;
        v[k++] = v[i];
    }
    free(v);
    return total;
}

void counts_series(const counts_t *c, const metrics_t *m, const char *id, quarter_t first,
                   size_t n, int64_t *quarter, int64_t *cumulative)
{
    int mi = metrics_find(m, id), mid = mid_find(c, id);
    size_t nr;
    int64_t before = 0;
    memset(quarter, 0, n * sizeof *quarter);
    if (cumulative)
        memset(cumulative, 0, n * sizeof *cumulative);
    if (mi < 0 || mid < 0 || n == 0)
        return;
    if (metrics_kind(m, mi) != METRICS_COUNT && metrics_kind(m, mi) != METRICS_SUM) {
        for (size_t i = 0; i < n; i++) {
            quarter[i] = counts_value(c, m, id, first + (quarter_t)i, METRICS_QUARTER, NULL);
            if (cumulative)
                cumulative[i] = counts_value(c, m, id, first + (quarter_t)i, METRICS_CUMULATIVE, NULL);
        }
        return;
    }
    const uint32_t *by = mid_recs(c, mid, &nr);
    for (size_t k = 0; k < nr; k++) {
        const rec_t *r = &c->recs[by ? by[k] : k];
        if (r->mid != mid)
            continue;
        if (r->quarter < first)
            before += r->value;
        else if ((size_t)(r->quarter - first) < n)
            quarter[r->quarter - first] += r->value;
    }
    for (size_t i = 0; cumulative && i < n; i++) {
        before += quarter[i];
        cumulative[i] = before;
    }
}

void counts_buckets_free(counts_bucket_t *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++)
        free(b[i].value);
    free(b);
}

static int cmp_bucket(const void *a, const void *b)
{
    const counts_bucket_t *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->value, y->value);
}

int counts_breakdown(const counts_t *c, const char *id, quarter_t q, metrics_window_t w,
                     const char *dim, counts_bucket_t **out, size_t *nout)
{
    int mid = mid_find(c, id), rc = 0;
    size_t dl = strlen(dim), n = 0, k = 0;
    sref_t *v = NULL;
    counts_bucket_t *b = NULL;
    char buf[METRICS_SLOT_MAX];

    *out = NULL;
    *nout = 0;
    if (mid < 0)
        return 0;
    if ((rc = collect(c, mid, q, w, NULL, &v, &n)) < 0 || n == 0)
        goto out;
    /* narrow each slot to the value of dim */
    for (size_t i = 0; i < n; i++) {
        const char *s = v[i].s, *end = s + v[i].n;
        v[i].s = NULL;
        while (s < end) {
            const char *e = memchr(s, ',', (size_t)(end - s));
            if (!e)
                e = end;
            if ((size_t)(e - s) > dl && memcmp(s, dim, dl) == 0 && s[dl] == '=') {
                v[k] = v[i];
                v[k].s = s + dl + 1;
                v[k].n = (size_t)(e - s) - dl - 1;
                k++;
                break;
            }
            s = e + 1;
        }
    }
    sort(v, k, sizeof *v, cmp_sref);
    if (k && !(b = calloc(k, sizeof *b))) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    n = 0;
    for (size_t i = 0; i < k; i++) {
        if (i > 0 && cmp_sref(&v[i - 1], &v[i]) == 0) {
            b[n - 1].n += v[i].v;
            continue;
        }
        int ul = metrics_unescape(v[i].s, v[i].n, buf, sizeof buf);
        if (ul < 0 || !(b[n].value = strndup(buf, (size_t)ul))) {
            rc = DB_ERR_NOMEM;
            counts_buckets_free(b, n);
            b = NULL;
            goto out;
        }
        b[n++].n = v[i].v;
    }
    sort(b, n, sizeof *b, cmp_bucket);
    *out = b;
    *nout = n;
out:
    free(v);
    return rc;
}

static int cmp_quarter(const void *a, const void *b)
{
    quarter_t x = *(const quarter_t *)a, y = *(const quarter_t *)b;
    return (x > y) - (x < y);
}

int counts_quarters(const counts_t *c, quarter_t **out, size_t *n)
{
    quarter_t *q = malloc((c->n ? c->n : 1) * sizeof *q);
    size_t k = 0;
    *out = NULL;
    *n = 0;
    if (!q)
        return DB_ERR_NOMEM;
    for (size_t i = 0; i < c->n; i++)
        q[i] = c->recs[i].quarter;
    sort(q, c->n, sizeof *q, cmp_quarter);
    for (size_t i = 0; i < c->n; i++)
        if (i == 0 || q[i] != q[k - 1])
            q[k++] = q[i];
    *out = q;
    *n = k;
    return 0;
}

int64_t counts_last_changed(const counts_t *c, const char *id, quarter_t q, metrics_window_t w)
{
    int mid = mid_find(c, id);
    int64_t t = 0;
    size_t nr;
    const uint32_t *by = mid_recs(c, mid, &nr);
    for (size_t i = 0; i < nr; i++) {
        const rec_t *r = &c->recs[by ? by[i] : i];
        if (r->mid == mid && in_window(r->quarter, q, w) && r->updated_at > t)
            t = r->updated_at;
    }
    return t;
}

/* Items sort by fact time, then id. */
static int cmp_item(const void *a, const void *b)
{
    const sref_t *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return cmp_sref(a, b);
}

int counts_list(const counts_t *c, const char *id, quarter_t q, metrics_window_t w, json_t **out)
{
    int mid = mid_find(c, id), rc = 0;
    sref_t *v = NULL;
    size_t n = 0, k = 0;
    json_t *arr = json_array();

    *out = NULL;
    if (!arr)
        return DB_ERR_NOMEM;
    if (mid >= 0 && (rc = collect(c, mid, q, w, NULL, &v, &n)) < 0)
        goto out;
    /* latest version per id: sort by id, keep the last time of each run (ties: the
     * smallest source, so every reader picks the same one) */
    sort(v, n, sizeof *v, cmp_sref);
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && cmp_sref(&v[k - 1], &v[i]) == 0) {
            const rec_t *a = v[k - 1].r, *b = v[i].r;
            if (b->value > a->value ||
                (b->value == a->value && strcmp(b->key + b->src_off, a->key + a->src_off) < 0))
                v[k - 1] = v[i];
            continue;
        }
        v[k++] = v[i];
    }
    sort(v, k, sizeof *v, cmp_item);
    for (size_t i = 0; i < k; i++) {
        json_t *it = v[i].r->item ? json_loads(v[i].r->item, 0, NULL) : NULL;
        if (!it || json_array_append_new(arr, it)) {
            rc = DB_ERR_NOMEM;
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
out:
    free(v);
    json_decref(arr);
    return rc;
}

/* ---------- report model ---------- */

static json_t *figure_json(const counts_t *c, const metrics_t *m, int mi, quarter_t q, int hist)
{
    const char *id = metrics_id(m, mi);
    metrics_window_t w = metrics_window(m, mi);
    json_t *f = json_object(), *series = json_array(), *by = NULL;
    char qs[8], ts[32];
    int64_t lc;

    if (!f || !series)
        goto fail;
    if (json_object_set_new(f, "value", json_integer(counts_value(c, m, id, q, w, NULL))) ||
        json_object_set_new(f, "title", json_string(metrics_title(m, mi))) ||
        json_object_set_new(f, "kind", json_string(metrics_kind_name(metrics_kind(m, mi)))) ||
        json_object_set_new(f, "window", json_string(metrics_window_name(w))))
        goto fail;
    if (metrics_round(m, mi) > 0 &&
        json_object_set_new(f, "round", json_integer(metrics_round(m, mi))))
        goto fail;
    if (json_object_set_new(f, "quarter_value",
                            json_integer(counts_value(c, m, id, q, METRICS_QUARTER, NULL))))
        goto fail;
    for (int h = hist - 1; h >= 0; h--) {
        json_t *pt = json_pack("{s:s, s:I}", "quarter", quarter_format(q - h, qs, sizeof qs),
                               "value", (json_int_t)counts_value(c, m, id, q - h, w, NULL));
        if (!pt || json_array_append_new(series, pt))
            goto fail;
    }
    if (json_object_set(f, "series", series))
        goto fail;
    if (metrics_dim_count(m, mi) > 0) {
        if (!(by = json_object()) || json_object_set_new(f, "by", by))
            goto fail;
        for (int j = 0; j < metrics_dim_count(m, mi); j++) {
            counts_bucket_t *b;
            size_t n;
            json_t *d = json_object();
            if (!d || json_object_set_new(by, metrics_dim_name(m, mi, j), d) ||
                counts_breakdown(c, id, q, w, metrics_dim_name(m, mi, j), &b, &n) < 0)
                goto fail;
            for (size_t i = 0; i < n; i++)
                json_object_set_new(d, b[i].value, json_integer(b[i].n));
            counts_buckets_free(b, n);
        }
    }
    lc = counts_last_changed(c, id, q, w);
    if (json_object_set_new(f, "last_changed", lc ? json_string(vn_time_format(lc, ts, sizeof ts))
                                                  : json_null()))
        goto fail;
    json_decref(series);
    return f;
fail:
    json_decref(series);
    json_decref(f);
    return NULL;
}

/* The top COUNTS_TOP_UNITS values of the first dimension of metric id, as units. */
static json_t *top_units(const counts_t *c, const metrics_t *m, const char *id, quarter_t q,
                         counts_unit_name_fn names, void *opaque)
{
    int mi = metrics_find(m, id);
    json_t *arr = json_array();
    counts_bucket_t *b = NULL;
    size_t n = 0;
    if (!arr)
        return NULL;
    if (mi < 0 || metrics_dim_count(m, mi) == 0)
        return arr;
    if (counts_breakdown(c, id, q, metrics_window(m, mi), metrics_dim_name(m, mi, 0), &b, &n) < 0) {
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < n && i < COUNTS_TOP_UNITS; i++) {
        const char *name = names ? names(opaque, b[i].value) : NULL;
        json_t *u = json_pack("{s:s, s:o, s:I}", "unit", b[i].value, "name",
                              name ? json_string(name) : json_null(), "value", (json_int_t)b[i].n);
        if (!u || json_array_append_new(arr, u)) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    }
    counts_buckets_free(b, n);
    return arr;
}

static int report_list(const counts_t *c, const metrics_t *m, const char *id, quarter_t q,
                       json_t *report, const char *name)
{
    int mi = metrics_find(m, id);
    json_t *arr = NULL;
    if (mi < 0 || metrics_kind(m, mi) != METRICS_LIST)
        return json_object_set_new(report, name, json_array()) ? DB_ERR_NOMEM : 0;
    if (counts_list(c, id, q, metrics_window(m, mi), &arr) < 0 ||
        json_object_set_new(report, name, arr))
        return DB_ERR_NOMEM;
    return 0;
}

int counts_report(const counts_t *c, const metrics_t *m, counts_unit_name_fn names,
                  void *names_opaque, quarter_t q, int history_quarters, json_t **out,
                  char *errstr, size_t errstr_size)
{
    int rc = DB_ERR_NOMEM, has = 0;
    char qs[8], qv[24];
    json_t *r = json_object(), *figs = json_object(), *top = json_object(), *x;

    *out = NULL;
    if (history_quarters < 1 || history_quarters > 400 || q < 1970 * 4 || q > 9999 * 4 + 3) {
        snprintf(errstr, errstr_size, "report: history of %d quarters or quarter %d out of range",
                 history_quarters, (int)q);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if (!r || !figs || !top)
        goto out;
    if (json_object_set_new(r, "quarter", json_string(quarter_format(q, qs, sizeof qs))) ||
        json_object_set_new(r, "quarter_vi", json_string(quarter_format_vi(q, qv, sizeof qv))) ||
        json_object_set(r, "figures", figs))
        goto out;
    for (int i = 0; i < metrics_count(m); i++) {
        if (metrics_kind(m, i) == METRICS_LIST)
            continue;
        if (!(x = figure_json(c, m, i, q, history_quarters)) ||
            json_object_set_new(figs, metrics_id(m, i), x))
            goto out;
    }
    if (json_object_set(r, "top_units", top))
        goto out;
    if (!(x = top_units(c, m, "docs.sent", q, names, names_opaque)) ||
        json_object_set_new(top, "sent", x))
        goto out;
    if (!(x = top_units(c, m, "docs.received", q, names, names_opaque)) ||
        json_object_set_new(top, "received", x))
        goto out;
    if (report_list(c, m, "appendix.tasks", q, r, "tasks") < 0 ||
        report_list(c, m, "appendix.highlights", q, r, "highlights") < 0)
        goto out;
    for (size_t i = 0; i < c->n && !has; i++)
        has = c->recs[i].quarter == q;
    if (json_object_set_new(r, "has_data", json_boolean(has)))
        goto out;
    *out = r;
    r = NULL;
    rc = 0;
out:
    if (rc == DB_ERR_NOMEM)
        snprintf(errstr, errstr_size, "report: out of memory");
    json_decref(figs);
    json_decref(top);
    json_decref(r);
    return rc;
}

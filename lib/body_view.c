/* body_view.c - one-pass Avro decoding into an arena, read through avro_value_t. */
#include "body_view.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define CHUNK_BYTES 65536
/* Names remembered per record plan. Eight slots chosen by address bits 3-5 left the
 * import's checks of a document (a dozen names, packed literals) missing - a search of
 * the schema's field names - for 3 % of a preparing thread's samples. */
#define MEMO_SLOTS 32

/* What decoding needs of one schema node, looked up once per view. */
typedef struct plan plan_t;
struct plan {
    avro_schema_t schema;     /* never a link */
    avro_type_t type;
    size_t n;                 /* record fields, union branches, enum symbols, fixed size */
    plan_t **kids;            /* record fields, union branches; array items, map values: [0] */
    const char **names;       /* record field names */
    /* The field index of each name asked for by address (callers ask with the same
     * literals), checked against names[] before use: a name whose bytes changed at the
     * same address only costs the lookup. Filled in order, then overwritten in turn. */
    struct {
        const char *name;
        int index;
    } memo[MEMO_SLOTS];
    unsigned memo_n;
};

typedef struct vnode vnode_t;
struct vnode {
    const plan_t *plan;
    union {
        int64_t l;
        int32_t i;
        double d;
        float f;
        int b;
        struct {              /* string: NUL-terminated, len counts the NUL (as Avro-C) */
            const char *p;
            size_t len;
        } buf;
        struct {              /* record fields, array items, map values (and keys) */
            vnode_t *kids;
            const char **keys;
            size_t n;
        } c;
        struct {
            int disc;
            vnode_t *branch;
        } u;
    } x;
};

typedef struct chunk chunk_t;
struct chunk {
    chunk_t *next;
    size_t cap, used;
    max_align_t data[];
};

struct body_view {
    chunk_t *first, *cur;     /* the arena: chunks reused from body to body */
    struct {
        avro_schema_t schema;
        plan_t *plan;
    } *plans;
    size_t n_plans, cap_plans;
    vnode_t root;
    avro_value_t out;
    const uint8_t *p, *end;   /* the bytes still to decode */
    avro_guard_caps_t caps;   /* as avro_guard_check applies them */
    size_t items_total;
    char *err;
    size_t errsz;
};

static avro_value_iface_t view_iface;

/* ---- arena ---------------------------------------------------------------------- */

/* Returns size bytes (aligned) from the arena, valid until the next read. */
static void *arena_alloc(body_view_t *v, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    while (v->cur && v->cur->used + size > v->cur->cap && v->cur->next) {
        v->cur = v->cur->next;
        v->cur->used = 0;
    }
    if (!v->cur || v->cur->used + size > v->cur->cap) {
        size_t cap = size > CHUNK_BYTES ? size : CHUNK_BYTES;
        chunk_t *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = NULL;
        if (v->cur)
            v->cur->next = c;   /* only at the tail: earlier chunks were all too small */
        else
            v->first = c;
        v->cur = c;
    }
    void *p = (char *)v->cur->data + v->cur->used;
    v->cur->used += size;
    return p;
}

/* Starts the arena over for the next body. If the last one needed more than one chunk,
 * they are replaced by one chunk as large as all of them: the arena is then one chunk no
 * larger than the biggest body ever needed, however bodies vary (walking a chain of
 * chunks forward only, varied sizes kept adding chunks: the fuzzer saw the memory grow
 * without bound). */
static void arena_reset(body_view_t *v)
{
    if (v->first && v->first->next) {
        size_t total = 0;
        for (chunk_t *c = v->first, *next; c; c = next) {
            next = c->next;
            total += c->cap;
            free(c);
        }
        v->first = malloc(sizeof *v->first + total);   /* NULL: arena_alloc makes one */
        if (v->first) {
            v->first->cap = total;
            v->first->next = NULL;
        }
    }
    v->cur = v->first;
    if (v->cur)
        v->cur->used = 0;
}

/* ---- plans ---------------------------------------------------------------------- */

static plan_t *plan_of(body_view_t *v, avro_schema_t s);

static int plan_kids(body_view_t *v, plan_t *pl)
{
    avro_schema_t s = pl->schema;
    switch (pl->type) {
    case AVRO_RECORD:
        pl->n = avro_schema_record_size(s);
        pl->kids = calloc(pl->n ? pl->n : 1, sizeof *pl->kids);
        pl->names = calloc(pl->n ? pl->n : 1, sizeof *pl->names);
        if (!pl->kids || !pl->names)
            return DB_ERR_NOMEM;
        for (size_t i = 0; i < pl->n; i++) {
            pl->names[i] = avro_schema_record_field_name(s, (int)i);
            if (!(pl->kids[i] = plan_of(v, avro_schema_record_field_get_by_index(s, (int)i))))
                return DB_ERR_NOMEM;
        }
        return 0;
    case AVRO_UNION:
        pl->n = avro_schema_union_size(s);
        if (!(pl->kids = calloc(pl->n ? pl->n : 1, sizeof *pl->kids)))
            return DB_ERR_NOMEM;
        for (size_t i = 0; i < pl->n; i++)
            if (!(pl->kids[i] = plan_of(v, avro_schema_union_branch(s, (int)i))))
                return DB_ERR_NOMEM;
        return 0;
    case AVRO_ARRAY:
    case AVRO_MAP:
        if (!(pl->kids = calloc(1, sizeof *pl->kids)))
            return DB_ERR_NOMEM;
        pl->kids[0] = plan_of(v, pl->type == AVRO_ARRAY ? avro_schema_array_items(s)
                                                         : avro_schema_map_values(s));
        return pl->kids[0] ? 0 : DB_ERR_NOMEM;
    case AVRO_ENUM:
        pl->n = (size_t)avro_schema_enum_number_of_symbols(s);
        return 0;
    case AVRO_FIXED:
        pl->n = (size_t)avro_schema_fixed_size(s);
        return 0;
    default:
        return 0;
    }
}

/* The plan of s (links followed), made on first use; NULL when out of memory. A plan is
 * registered before its children, so recursive schemas end. */
static plan_t *plan_of(body_view_t *v, avro_schema_t s)
{
    plan_t *pl;
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < v->n_plans; i++)
        if (v->plans[i].schema == s)
            return v->plans[i].plan;
    if (v->n_plans == v->cap_plans) {
        size_t cap = v->cap_plans ? v->cap_plans * 2 : 32;
        void *grown = realloc(v->plans, cap * sizeof *v->plans);
        if (!grown)
            return NULL;
        v->plans = grown;
        v->cap_plans = cap;
    }
    if (!(pl = calloc(1, sizeof *pl)))
        return NULL;
    pl->schema = s;
    pl->type = avro_typeof(s);
    v->plans[v->n_plans].schema = s;
    v->plans[v->n_plans++].plan = pl;
    return plan_kids(v, pl) ? NULL : pl;
}

/* ---- decoding ------------------------------------------------------------------- */

static int bad(body_view_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err, v->errsz, fmt, ap);
    va_end(ap);
    return DB_ERR_INVALID;
}

/* A zig-zag varint of at most max_bytes bytes whose last byte carries no bit beyond
 * `bits` (5 and 32 for int, 10 and 64 for long: avro_guard_check's rule). */
static int read_varint(body_view_t *v, int max_bytes, int bits, int64_t *out)
{
    uint64_t u = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (v->p >= v->end)
            return bad(v, "body ends inside a number");
        uint8_t b = *v->p++;
        u |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i == max_bytes - 1 && (b >> (bits - 7 * i)) != 0)
                return bad(v, "number overflows %d bits", bits);
            if (bits == 32)
                *out = (int32_t)((uint32_t)(u >> 1) ^ (uint32_t)-(int32_t)(u & 1));
            else
                *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return 0;
        }
    }
    return bad(v, "number longer than %d bytes", max_bytes);
}

static int read_long(body_view_t *v, int64_t *out)
{
    return read_varint(v, 10, 64, out);
}

/* Reads a length-prefixed string or bytes of at most max bytes into the arena (NUL
 * added after it). */
static int read_buf(body_view_t *v, vnode_t *n, int nul, size_t max)
{
    int64_t len;
    char *p;
    int rc = read_long(v, &len);
    if (rc)
        return rc;
    if (len < 0 || (uint64_t)len > max || (uint64_t)len > (uint64_t)(v->end - v->p))
        return bad(v, "string or bytes of length %lld: negative, over its cap or past the end",
                   (long long)len);
    if (!(p = arena_alloc(v, (size_t)len + 1)))
        return DB_ERR_NOMEM;
    memcpy(p, v->p, (size_t)len);
    p[len] = '\0';
    v->p += len;
    n->x.buf.p = p;
    n->x.buf.len = (size_t)len + (nul ? 1 : 0);
    return 0;
}

static int decode(body_view_t *v, const plan_t *pl, vnode_t *n, int depth);

/* Arrays and maps: blocks of items until a block of 0 (a negative count is followed by
 * the block's byte size). Items of later blocks are moved next to the earlier ones. */
static int decode_blocks(body_view_t *v, const plan_t *pl, vnode_t *n, int depth)
{
    int is_map = pl->type == AVRO_MAP;
    size_t n_read = 0;   /* items read, repeated map keys included (the guard's count) */
    n->x.c.kids = NULL;
    n->x.c.keys = NULL;
    n->x.c.n = 0;
    for (;;) {
        int64_t count, block_bytes = -1;
        int rc = read_long(v, &count);
        if (rc)
            return rc;
        if (count == 0)
            return 0;
        if (count < 0) {
            if (count == INT64_MIN)
                return bad(v, "block count out of range");
            count = -count;
            if ((rc = read_long(v, &block_bytes)))
                return rc;
            if (block_bytes < 0 || (uint64_t)block_bytes > (uint64_t)(v->end - v->p))
                return bad(v, "block size %lld negative or past the end", (long long)block_bytes);
        }
        if ((uint64_t)count > v->caps.array_items_max - n_read ||
            (uint64_t)count > v->caps.items_total_max - v->items_total)
            return bad(v, "collection of more items than its cap");
        v->items_total += (size_t)count;
        n_read += (size_t)count;
        const uint8_t *items_start = v->p;
        size_t total = n->x.c.n + (size_t)count;
        vnode_t *kids = arena_alloc(v, total * sizeof *kids);
        const char **keys = is_map ? arena_alloc(v, total * sizeof *keys) : NULL;
        if (!kids || (is_map && !keys))
            return DB_ERR_NOMEM;
        if (n->x.c.n) {
            memcpy(kids, n->x.c.kids, n->x.c.n * sizeof *kids);
            if (is_map)
                memcpy(keys, n->x.c.keys, n->x.c.n * sizeof *keys);
        }
        n->x.c.kids = kids;
        n->x.c.keys = keys;
        for (int64_t k = 0; k < count; k++) {
            size_t at = n->x.c.n;
            if (is_map) {
                vnode_t key;
                if (depth + 1 > AVRO_GUARD_MAX_DEPTH)
                    return bad(v, "nested deeper than %d", AVRO_GUARD_MAX_DEPTH);
                if ((rc = read_buf(v, &key, 1, v->caps.string_max)))
                    return rc;
                /* a repeated key keeps its first place and takes the later value, as
                 * Avro-C's generic map does */
                for (size_t j = 0; j < n->x.c.n; j++)
                    if (!strcmp(keys[j], key.x.buf.p)) {
                        at = j;
                        break;
                    }
                keys[at] = key.x.buf.p;
            }
            if ((rc = decode(v, pl->kids[0], &kids[at], depth + 1)))
                return rc;
            if (at == n->x.c.n)
                n->x.c.n++;
        }
        /* readers that skip by the byte size and readers that parse items must agree */
        if (block_bytes >= 0 && v->p - items_start != block_bytes)
            return bad(v, "block says %lld bytes but its items take %td", (long long)block_bytes,
                       v->p - items_start);
    }
}

static int decode(body_view_t *v, const plan_t *pl, vnode_t *n, int depth)
{
    int64_t l;
    int rc;
    n->plan = pl;
    if (depth > AVRO_GUARD_MAX_DEPTH)
        return bad(v, "nested deeper than %d", AVRO_GUARD_MAX_DEPTH);
    switch (pl->type) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (v->p >= v->end || *v->p > 1)
            return bad(v, "boolean is not 0 or 1");
        n->x.b = *v->p++;
        return 0;
    case AVRO_INT32:
        if ((rc = read_varint(v, 5, 32, &l)))
            return rc;
        n->x.i = (int32_t)l;
        return 0;
    case AVRO_INT64:
        return read_long(v, &n->x.l);
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        size_t size = pl->type == AVRO_FLOAT ? 4 : 8;
        uint64_t bits = 0;
        if ((size_t)(v->end - v->p) < size)
            return bad(v, "body ends inside a floating-point number");
        for (size_t i = 0; i < size; i++)   /* little-endian on the wire */
            bits |= (uint64_t)v->p[i] << (8 * i);
        v->p += size;
        if (size == 4) {
            uint32_t b32 = (uint32_t)bits;
            memcpy(&n->x.f, &b32, 4);
        } else {
            memcpy(&n->x.d, &bits, 8);
        }
        return 0;
    }
    case AVRO_STRING:
        return read_buf(v, n, 1, v->caps.string_max);
    case AVRO_BYTES:
        return read_buf(v, n, 0, v->caps.bytes_max);
    case AVRO_FIXED: {
        char *p;
        if ((size_t)(v->end - v->p) < pl->n)
            return bad(v, "body ends inside a fixed of %zu bytes", pl->n);
        if (!(p = arena_alloc(v, pl->n + 1)))
            return DB_ERR_NOMEM;
        memcpy(p, v->p, pl->n);
        v->p += pl->n;
        n->x.buf.p = p;
        n->x.buf.len = pl->n;
        return 0;
    }
    case AVRO_ENUM:
        if ((rc = read_varint(v, 5, 32, &l)))
            return rc;
        if (l < 0 || (uint64_t)l >= pl->n)
            return bad(v, "enum index %lld out of range", (long long)l);
        n->x.i = (int32_t)l;
        return 0;
    case AVRO_UNION:
        if ((rc = read_long(v, &l)))
            return rc;
        if (l < 0 || (uint64_t)l >= pl->n)
            return bad(v, "union branch %lld out of range", (long long)l);
        n->x.u.disc = (int)l;
        if (!(n->x.u.branch = arena_alloc(v, sizeof *n->x.u.branch)))
            return DB_ERR_NOMEM;
        return decode(v, pl->kids[l], n->x.u.branch, depth + 1);
    case AVRO_RECORD:
        n->x.c.n = pl->n;
        n->x.c.keys = NULL;
        if (!(n->x.c.kids = arena_alloc(v, (pl->n ? pl->n : 1) * sizeof *n->x.c.kids)))
            return DB_ERR_NOMEM;
        for (size_t i = 0; i < pl->n; i++)
            if ((rc = decode(v, pl->kids[i], &n->x.c.kids[i], depth + 1)))
                return rc;
        return 0;
    case AVRO_ARRAY:
    case AVRO_MAP:
        return decode_blocks(v, pl, n, depth);
    default:
        return bad(v, "schema type %d not supported", (int)pl->type);
    }
}

body_view_t *body_view_new(void)
{
    return calloc(1, sizeof(body_view_t));
}

int body_view_read(body_view_t *v, avro_schema_t schema, const uint8_t *body, size_t len,
                   const avro_guard_caps_t *caps, avro_value_t **out, char *errstr,
                   size_t errstr_size)
{
    const plan_t *pl = plan_of(v, schema);
    int rc;
    if (!pl) {
        snprintf(errstr, errstr_size, "out of memory for a body view");
        return DB_ERR_NOMEM;
    }
    v->caps = (avro_guard_caps_t){AVRO_GUARD_STRING_MAX, AVRO_GUARD_BYTES_MAX,
                                  AVRO_GUARD_ARRAY_ITEMS_MAX, AVRO_GUARD_ITEMS_TOTAL_MAX,
                                  AVRO_GUARD_TOTAL_MAX};
    if (caps && caps->string_max)
        v->caps.string_max = caps->string_max;
    if (caps && caps->bytes_max)
        v->caps.bytes_max = caps->bytes_max;
    if (caps && caps->array_items_max)
        v->caps.array_items_max = caps->array_items_max;
    if (caps && caps->items_total_max)
        v->caps.items_total_max = caps->items_total_max;
    if (caps && caps->total_max)
        v->caps.total_max = caps->total_max;
    if (len > v->caps.total_max) {
        snprintf(errstr, errstr_size, "body of %zu bytes over cap %zu", len, v->caps.total_max);
        return DB_ERR_INVALID;
    }
    v->items_total = 0;
    arena_reset(v);
    v->p = body;
    v->end = body + len;
    v->err = errstr;
    v->errsz = errstr_size;
    if ((rc = decode(v, pl, &v->root, 0))) {
        if (rc == DB_ERR_NOMEM)
            snprintf(errstr, errstr_size, "out of memory decoding a body");
        return rc;
    }
    if (v->p != v->end)
        return bad(v, "%zu bytes after the end of the body", (size_t)(v->end - v->p));
    v->out.iface = &view_iface;
    v->out.self = &v->root;
    *out = &v->out;
    return 0;
}

size_t body_view_arena_bytes(const body_view_t *v)
{
    size_t total = 0;
    for (const chunk_t *c = v->first; c; c = c->next)
        total += c->cap;
    return total;
}

void body_view_destroy(body_view_t *v)
{
    if (!v)
        return;
    for (chunk_t *c = v->first, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    for (size_t i = 0; i < v->n_plans; i++) {
        free(v->plans[i].plan->kids);
        free(v->plans[i].plan->names);
        free(v->plans[i].plan);
    }
    free(v->plans);
    free(v);
}

/* ---- avro_value_iface_t --------------------------------------------------------- */

#define NODE(self) ((const vnode_t *)(self))
#define TYPE(self) (NODE(self)->plan->type)

static avro_value_iface_t *view_incref_iface(avro_value_iface_t *iface)
{
    return iface;
}

static void view_decref_iface(avro_value_iface_t *iface)
{
    (void)iface;
}

static void view_incref(avro_value_t *value)
{
    (void)value;
}

static void view_decref(avro_value_t *value)
{
    (void)value;
}

static int view_reset(const avro_value_iface_t *iface, void *self)
{
    (void)iface;
    (void)self;
    return EINVAL;   /* read-only */
}

static avro_type_t view_get_type(const avro_value_iface_t *iface, const void *self)
{
    (void)iface;
    return TYPE(self);
}

static avro_schema_t view_get_schema(const avro_value_iface_t *iface, const void *self)
{
    (void)iface;
    return NODE(self)->plan->schema;
}

/* A getter of one scalar type: EINVAL for a value of any other type. */
#define SCALAR_GETTER(fn, ctype, avro_type, member)                                   \
    static int fn(const avro_value_iface_t *iface, const void *self, ctype *out)     \
    {                                                                                \
        (void)iface;                                                                 \
        if (TYPE(self) != (avro_type))                                               \
            return EINVAL;                                                           \
        *out = NODE(self)->x.member;                                                 \
        return 0;                                                                    \
    }
SCALAR_GETTER(view_get_boolean, int, AVRO_BOOLEAN, b)
SCALAR_GETTER(view_get_double, double, AVRO_DOUBLE, d)
SCALAR_GETTER(view_get_float, float, AVRO_FLOAT, f)
SCALAR_GETTER(view_get_int, int32_t, AVRO_INT32, i)
SCALAR_GETTER(view_get_long, int64_t, AVRO_INT64, l)
SCALAR_GETTER(view_get_enum, int, AVRO_ENUM, i)

/* A getter of a string, bytes or fixed: pointer and size (a string's counts its NUL). */
#define BUF_GETTER(fn, ptype, avro_type)                                                  \
    static int fn(const avro_value_iface_t *iface, const void *self, ptype *buf,         \
                  size_t *size)                                                          \
    {                                                                                    \
        (void)iface;                                                                     \
        if (TYPE(self) != (avro_type))                                                   \
            return EINVAL;                                                               \
        if (buf)                                                                         \
            *buf = NODE(self)->x.buf.p;                                                  \
        if (size)                                                                        \
            *size = NODE(self)->x.buf.len;                                               \
        return 0;                                                                        \
    }
BUF_GETTER(view_get_string, const char *, AVRO_STRING)
BUF_GETTER(view_get_bytes, const void *, AVRO_BYTES)
BUF_GETTER(view_get_fixed, const void *, AVRO_FIXED)

static int view_get_null(const avro_value_iface_t *iface, const void *self)
{
    (void)iface;
    return TYPE(self) == AVRO_NULL ? 0 : EINVAL;
}

static int is_container(avro_type_t t)
{
    return t == AVRO_RECORD || t == AVRO_ARRAY || t == AVRO_MAP;
}

static int view_get_size(const avro_value_iface_t *iface, const void *self, size_t *size)
{
    (void)iface;
    if (!is_container(TYPE(self)))
        return EINVAL;
    *size = NODE(self)->x.c.n;
    return 0;
}

static void child_value(const vnode_t *kid, avro_value_t *child)
{
    child->iface = &view_iface;
    child->self = (void *)kid;
}

static int view_get_by_index(const avro_value_iface_t *iface, const void *self, size_t index,
                             avro_value_t *child, const char **name)
{
    const vnode_t *n = NODE(self);
    (void)iface;
    if (!is_container(n->plan->type) || index >= n->x.c.n)
        return EINVAL;
    child_value(&n->x.c.kids[index], child);
    if (name)
        *name = n->plan->type == AVRO_RECORD ? n->plan->names[index]
                : n->plan->type == AVRO_MAP  ? n->x.c.keys[index]
                                             : NULL;
    return 0;
}

static int view_get_by_name(const avro_value_iface_t *iface, const void *self, const char *name,
                            avro_value_t *child, size_t *index)
{
    const vnode_t *n = NODE(self);
    (void)iface;
    if (n->plan->type == AVRO_RECORD) {
        /* the view's plans are its own, and a view serves one thread at a time */
        plan_t *pl = (plan_t *)n->plan;
        unsigned k, filled = pl->memo_n < MEMO_SLOTS ? pl->memo_n : MEMO_SLOTS;
        int i = -1;
        for (k = 0; k < filled && pl->memo[k].name != name; k++)
            ;
        if (k < filled && strcmp(pl->names[pl->memo[k].index], name) == 0) {
            i = pl->memo[k].index;
        } else if ((i = avro_schema_record_field_get_index(pl->schema, name)) >= 0) {
            if (k == filled)
                k = pl->memo_n++ % MEMO_SLOTS;
            pl->memo[k].name = name;
            pl->memo[k].index = i;
        }
        if (i < 0 || (size_t)i >= n->x.c.n)
            return EINVAL;
        child_value(&n->x.c.kids[i], child);
        if (index)
            *index = (size_t)i;
        return 0;
    }
    if (n->plan->type == AVRO_MAP) {
        for (size_t i = 0; i < n->x.c.n; i++)
            if (!strcmp(n->x.c.keys[i], name)) {
                child_value(&n->x.c.kids[i], child);
                if (index)
                    *index = i;
                return 0;
            }
    }
    return EINVAL;
}

static int view_get_discriminant(const avro_value_iface_t *iface, const void *self, int *out)
{
    (void)iface;
    if (TYPE(self) != AVRO_UNION)
        return EINVAL;
    *out = NODE(self)->x.u.disc;
    return 0;
}

static int view_get_current_branch(const avro_value_iface_t *iface, const void *self,
                                   avro_value_t *branch)
{
    (void)iface;
    if (TYPE(self) != AVRO_UNION)
        return EINVAL;
    child_value(NODE(self)->x.u.branch, branch);
    return 0;
}

static avro_value_iface_t view_iface = {
    .incref_iface = view_incref_iface,
    .decref_iface = view_decref_iface,
    .incref = view_incref,
    .decref = view_decref,
    .reset = view_reset,
    .get_type = view_get_type,
    .get_schema = view_get_schema,
    .get_boolean = view_get_boolean,
    .get_bytes = view_get_bytes,
    .get_double = view_get_double,
    .get_float = view_get_float,
    .get_int = view_get_int,
    .get_long = view_get_long,
    .get_null = view_get_null,
    .get_string = view_get_string,
    .get_enum = view_get_enum,
    .get_fixed = view_get_fixed,
    .get_size = view_get_size,
    .get_by_index = view_get_by_index,
    .get_by_name = view_get_by_name,
    .get_discriminant = view_get_discriminant,
    .get_current_branch = view_get_current_branch,
};

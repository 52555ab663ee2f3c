/* json_parse.c - json_scan or yajl events -> jansson values. */
#include "json_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "json_scan.h"
#include "utf8.h"

/* The value being built: open containers, and the key waiting for its value. */
struct builder {
    json_t *root;
    json_t *open[JSON_PARSE_MAX_DEPTH];
    int depth;
    char *key;                 /* the pending key of the innermost object */
    size_t key_len, key_cap;
    const char *why;           /* set when a callback refuses the input */
    yajl_handle h;
    int finishing;             /* in yajl_complete_parse: offsets are not into the text */
    size_t text_len;
    size_t end;                /* bytes of text up to the end of the root value */
};

/* Notes where the root value ended: yajl does not always check what follows it (an
 * unterminated string after the value passes), so json_parse checks that itself. */
static void root_done(struct builder *b, size_t text_len)
{
    b->end = b->finishing ? text_len : yajl_get_bytes_consumed(b->h);
}

/* Puts v (reference stolen) where the parse is: the root, the next array item, or the
 * pending key of the innermost object. Returns 1, or 0 (yajl stops) with b->why. */
static int put(struct builder *b, json_t *v)
{
    json_t *parent;
    if (!v) {
        b->why = "out of memory";
        return 0;
    }
    if (b->depth == 0) {
        if (b->root) {   /* yajl lets a second top-level value through in some states */
            json_decref(v);
            b->why = "end of file expected after the value";
            return 0;
        }
        b->root = v;
        if (!json_is_object(v) && !json_is_array(v))
            root_done(b, b->text_len);
        return 1;
    }
    parent = b->open[b->depth - 1];
    if (json_is_array(parent)) {
        if (json_array_append_new(parent, v) == 0)
            return 1;
        b->why = "out of memory";
        return 0;
    }
    if (json_object_getn(parent, b->key, b->key_len)) {
        json_decref(v);
        b->why = "duplicate object key";
        return 0;
    }
    if (json_object_setn_new_nocheck(parent, b->key, b->key_len, v) == 0)
        return 1;
    b->why = "out of memory";
    return 0;
}

/* put, then make v the innermost open container. */
static int open_container(struct builder *b, json_t *v)
{
    if (b->depth == JSON_PARSE_MAX_DEPTH) {
        json_decref(v);
        b->why = "nested too deep";
        return 0;
    }
    if (!put(b, json_incref(v))) {
        json_decref(v);
        return 0;
    }
    b->open[b->depth++] = v;
    json_decref(v);   /* the parent (or root) holds it now */
    return 1;
}

static int on_null(void *ctx)
{
    return put(ctx, json_null());
}

static int on_boolean(void *ctx, int v)
{
    return put(ctx, json_boolean(v));
}

static int on_integer(void *ctx, long long v)
{
    return put(ctx, json_integer((json_int_t)v));
}

/* json_scan's integers ("-?(0|[1-9][0-9]*)", nothing else: it leaves fractions and
 * exponents to yajl). One beyond 64 bits stops the scan for the full path's verdict. */
static int on_number(void *ctx, const char *s, size_t len)
{
    struct builder *b = ctx;
    int neg = len > 0 && s[0] == '-';
    unsigned long long v = 0, limit = neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
    for (size_t i = (size_t)neg; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return 0;   /* the scan stops: the full path refuses it */
        v = v * 10 + d;
    }
    return put(b, json_integer(neg ? (json_int_t)(0 - v) : (json_int_t)v));
}

static int on_double(void *ctx, double v)
{
    return put(ctx, json_real(v));
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct builder *b = ctx;
    if (memchr(s, '\0', len)) {
        b->why = "\\u0000 is not allowed in a string";
        return 0;
    }
    return put(b, json_stringn_nocheck((const char *)s, len));
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, json_object());
}

static int on_map_key(void *ctx, const unsigned char *s, size_t len)
{
    struct builder *b = ctx;
    if (memchr(s, '\0', len)) {
        b->why = "\\u0000 is not allowed in an object key";
        return 0;
    }
    if (len + 1 > b->key_cap) {
        size_t cap = len + 64;
        char *k = realloc(b->key, cap);
        if (!k) {
            b->why = "out of memory";
            return 0;
        }
        b->key = k;
        b->key_cap = cap;
    }
    memcpy(b->key, s, len);
    b->key[len] = '\0';
    b->key_len = len;
    return 1;
}

static int on_end(void *ctx)
{
    struct builder *b = ctx;
    if (--b->depth == 0)
        root_done(b, b->text_len);
    return 1;
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, json_array());
}

static const yajl_callbacks callbacks = {
    on_null,   on_boolean, on_integer, on_double,      NULL,  on_string,
    on_start_map, on_map_key, on_end, on_start_array, on_end,
};

/* The same values from json_scan's events (numbers as text). */
static const yajl_callbacks scan_callbacks = {
    on_null,   on_boolean, NULL, NULL,      on_number,  on_string,
    on_start_map, on_map_key, on_end, on_start_array, on_end,
};

/* yajl checks only the shape of a UTF-8 sequence, hence this. Eight bytes a step while
 * they are ASCII; otherwise straight to the first non-ASCII byte of the eight (Vietnamese
 * text has a multi-byte letter every few characters: 2.3x the byte-at-a-time loop). */
int json_utf8_valid(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, seq;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & UTF8_HIGHS)) {
                i += 8;
                continue;
            }
            i += utf8_first_marked(w & UTF8_HIGHS);
        } else if (s[i] < 0x80) {
            i++;
            continue;
        }
        if (!(seq = utf8_sequence(s + i, n - i)))
            return 0;
        i += seq;
    }
    return 1;
}

/* 1 when yajl might read text differently from jansson: bytes that are not strict
 * UTF-8 (yajl lets overlong forms through), an escape of a UTF-16 surrogate
 * (\uD800-\uDFFF; yajl turns a lone one into "?", jansson refuses it), or a vertical
 * tab or form feed byte (white space to yajl; JSON allows neither anywhere). */
static int needs_jansson(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    if (memchr(text, '\v', len) || memchr(text, '\f', len) ||
        !json_utf8_valid(text, len))
        return 1;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL && end - p >= 4) {
        if (p[1] == 'u' && (p[2] | 0x20) == 'd' && strchr("89abcdef", p[3] | 0x20))
            return 1;
        p += 2;   /* past the escaped character: a backslash escapes only one */
    }
    return 0;
}

int json_parse_yajl_safe(const char *text, size_t len)
{
    return !needs_jansson(text, len);
}

/* How many of the n bytes at s are in the set accept (s need not end in NUL). */
static size_t strspn_len(const char *s, size_t n, const char *accept)
{
    size_t i = 0;
    while (i < n && s[i] && strchr(accept, s[i]))
        i++;
    return i;
}

/* json_loadb's verdict on text: the path for what yajl cannot be trusted with. */
static int parse_with_jansson(const char *text, size_t len, json_t **out, char *errstr,
                              size_t errstr_size)
{
    json_error_t jerr;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (*out)
        return 0;
    snprintf(errstr, errstr_size, "column %d: %s", jerr.column, jerr.text);
    return -1;
}

/* The value of text when json_scan takes it whole, else NULL. Nearly every docbus record
 * (count records, import lines) is such text: strict UTF-8, no escape, integers only,
 * nesting within the scan's cap; yajl and jansson read it alike, so this is the value
 * either would give. Any other outcome (a refusal, an escape, a fraction, a duplicate
 * key) is left to json_parse's full path, from the start, with its messages. */
static json_t *parse_scanned(const char *text, size_t len)
{
    struct builder b = {0};
    b.text_len = len;
    b.finishing = 1;   /* root_done: the scan takes the whole text or nothing */
    if (json_scan(text, len, &scan_callbacks, &b) != JSON_SCAN_DONE) {
        json_decref(b.root);
        b.root = NULL;
    }
    free(b.key);
    return b.root;
}

int json_parse(const char *text, size_t len, json_t **out, char *errstr, size_t errstr_size)
{
    struct builder b = {0};
    yajl_handle h;
    yajl_status st;

    if ((*out = parse_scanned(text, len)))
        return 0;
    if (needs_jansson(text, len))
        return parse_with_jansson(text, len, out, errstr, errstr_size);
    if (!(h = yajl_alloc(&callbacks, NULL, &b))) {
        snprintf(errstr, errstr_size, "column 1: out of memory");
        return -1;
    }
    /* needs_jansson has checked the whole text's UTF-8, more strictly than yajl would
     * (overlong forms): yajl's own pass over every string is redundant. */
    yajl_config(h, yajl_dont_validate_strings, 1);
    b.h = h;
    b.text_len = len;
    st = yajl_parse(h, (const unsigned char *)text, len);
    b.finishing = 1;
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    if (st == yajl_status_ok && b.root && b.end <= len &&
        strspn_len(text + b.end, len - b.end, " \t\n\r") == len - b.end) {
        *out = b.root;
        b.root = NULL;
    } else if (b.why) {
        snprintf(errstr, errstr_size, "column %zu: %s", yajl_get_bytes_consumed(h), b.why);
    }
    yajl_free(h);
    json_decref(b.root);
    free(b.key);
    if (*out || b.why)
        return *out ? 0 : -1;
    /* A syntax error, something after the value, or a value yajl's ranges refuse (an
     * integer at the very edge of 64 bits): jansson decides, and its message names the
     * column and the reason. */
    return parse_with_jansson(text, len, out, errstr, errstr_size);
}

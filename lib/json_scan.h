/* json_scan.h - a strict scanner for the JSON the import meets nearly always, raising
 * yajl's events: strings without escapes, integers and the rest of RFC 8259's grammar.
 * It reads a string eight bytes a step where yajl reads one, checking its UTF-8 on the
 * way, and leaves everything it does not take to yajl: a caller that gets
 * JSON_SCAN_UNHANDLED parses the same text with yajl from the start. */
#ifndef DOCBUS_JSON_SCAN_H
#define DOCBUS_JSON_SCAN_H

#include <stddef.h>
#include <yajl/yajl_parse.h>

#define JSON_SCAN_MAX_DEPTH 64   /* open objects and arrays; deeper text is unhandled */

typedef enum {
    JSON_SCAN_DONE = 0,      /* one value and white space only; every callback took its event */
    JSON_SCAN_REFUSED,       /* a callback returned 0: yajl would stop at the same event */
    JSON_SCAN_UNHANDLED      /* not valid JSON, or a form left to yajl: an escape, a control
                              * byte in a string, nesting over JSON_SCAN_MAX_DEPTH, a
                              * number with a fraction or an exponent, no text at all */
} json_scan_rc;

/* Scans text[0..len) as one JSON value with optional white space around it, calling cb
 * (NULL entries are skipped) with ctx as yajl_parse would: numbers through
 * yajl_number only, so cb must have it (else JSON_SCAN_UNHANDLED before any event).
 * Events may have been raised when it returns JSON_SCAN_UNHANDLED. Strings must be
 * strict UTF-8 (json_utf8_valid's rules), and only ASCII may stand outside them, so a
 * text scanned to JSON_SCAN_DONE is strict UTF-8 with no \u escape, vertical tab or
 * form feed: one that yajl and jansson read alike (json_parse_yajl_safe holds). */
json_scan_rc json_scan(const char *text, size_t len, const yajl_callbacks *cb, void *ctx);

#endif

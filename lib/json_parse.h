/* json_parse.h - JSON text to jansson values on the hot paths (import lines, count
 * records): json_scan (strict text) or else yajl lexes, the values are built with
 * jansson's constructors. Several times faster than json_loadb on docbus records, with
 * the same strictness. */
#ifndef DOCBUS_JSON_PARSE_H
#define DOCBUS_JSON_PARSE_H

#include <jansson.h>
#include <stddef.h>

#define JSON_PARSE_MAX_DEPTH 128   /* deeper nesting is refused */

/* Parses the len bytes at text as one JSON value into *out (caller json_decrefs).
 * Accepts and refuses what json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) does
 * (bad syntax, invalid UTF-8, a lone surrogate escape, "\u0000", a duplicate key, an
 * integer beyond 64 bits, trailing data; text yajl refuses or may misread is handed to
 * jansson), and also nesting deeper than JSON_PARSE_MAX_DEPTH. Returns 0, or -1 with
 * "column N: reason" in errstr and *out NULL. */
int json_parse(const char *text, size_t len, json_t **out, char *errstr, size_t errstr_size);

/* 1 when the n bytes at s are well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), as JSON text and jansson strings must be. */
int json_utf8_valid(const char *s, size_t n);

/* 1 when yajl reads text exactly as jansson would: strict UTF-8 throughout, no escaped
 * UTF-16 surrogate, no vertical tab or form feed byte. Text for which it is 0 must go
 * through json_parse (which hands it to jansson). */
int json_parse_yajl_safe(const char *text, size_t len);

#endif

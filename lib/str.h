/* str.h - building short strings without printf: concatenation and decimal digits, for
 * paths run once per message (vsnprintf's format parsing cost ~0.1 us a call there). */
#ifndef DOCBUS_STR_H
#define DOCBUS_STR_H

#include <stddef.h>
#include <stdint.h>

/* Writes the concatenation of the strings after size (a NULL ends the list) to dst,
 * truncated to size - 1 bytes and NUL-terminated when size > 0; returns the full length
 * (>= size means truncated), as snprintf does. */
size_t str_join(char *dst, size_t size, ...);

/* FNV-1a of the NUL-terminated s: a quick hash of short names (topics, unit codes) for
 * tables and caches, not for anything an adversary may choose to collide. */
uint64_t str_fnv64(const char *s);

/* Writes v in decimal to buf (room for 21 bytes), NUL-terminated; returns buf. */
char *str_u64(char buf[21], uint64_t v);

/* Writes v in decimal, with a '-' when negative, to buf (room for 21 bytes); returns buf. */
char *str_i64(char buf[21], int64_t v);

#endif

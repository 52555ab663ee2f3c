/* strindex.h - a hash index from strings to small integers, for lookups made once per
 * message among a few hundred names (topics, producing units) where a strcmp scan was
 * the cost. The strings are copied; the index only grows. */
#ifndef DOCBUS_STRINDEX_H
#define DOCBUS_STRINDEX_H

#include <stddef.h>

typedef struct strindex strindex_t;

/* Returns an empty index, or NULL when out of memory. */
strindex_t *strindex_new(void);

/* Frees ix; NULL is allowed. */
void strindex_destroy(strindex_t *ix);

/* The value stored for s, or -1 when s is not in ix. */
long strindex_get(const strindex_t *ix, const char *s);

/* The index's own copy of s (valid until strindex_destroy), or NULL when s is not in
 * ix: lets callers keep one copy of each name. */
const char *strindex_key(const strindex_t *ix, const char *s);

/* Stores value (>= 0) for s, replacing an older one; 0, or DB_ERR_NOMEM. */
int strindex_put(strindex_t *ix, const char *s, long value);

/* How many strings ix holds. */
size_t strindex_size(const strindex_t *ix);

#endif

/* idset.h - a growable hash set of 16-byte message ids (the aggregator's dedup state). */
#ifndef DOCBUS_IDSET_H
#define DOCBUS_IDSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct idset idset_t;

/* Returns an empty set, or NULL on allocation failure. */
idset_t *idset_new(void);

/* Frees s; NULL is allowed. */
void idset_destroy(idset_t *s);

/* Adds id. Returns 1 if it was added, 0 if it was already present, DB_ERR_NOMEM. */
int idset_add(idset_t *s, const uint8_t id[16]);

/* Returns 1 if id is present, else 0. */
int idset_has(const idset_t *s, const uint8_t id[16]);

/* Number of ids held. */
size_t idset_size(const idset_t *s);

/* Removes every id (keeps the memory). */
void idset_clear(idset_t *s);

#endif

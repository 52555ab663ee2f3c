/* prep_pool.h - worker threads that read JSON Lines and prepare each line (convert,
 * validate, route, encode) for signing, handed out in input order. */
#ifndef DOCBUS_PREP_POOL_H
#define DOCBUS_PREP_POOL_H

#include <stdint.h>
#include <stdio.h>

#include "submit.h"
#include "units.h"

#define PREP_POOL_MAX_WORKERS 8
#define PREP_POOL_LINE_CAP (4 * 1024 * 1024)   /* a longer line is rejected (first 200 bytes kept) */

/* One input line after a worker: a prepared record (rc 0), a rejected line (rc
 * DB_ERR_INVALID, with the line kept for the rejects file) or a failure (other rc). */
typedef struct prep_slot {
    uint64_t line;             /* 1-based line number in the input */
    int rc;
    char errstr[1024];
    char *text;                /* rejected: the line (or its first 200 bytes) */
    size_t text_len;
    submit_item_t item;
} prep_slot_t;

typedef struct prep_pool prep_pool_t;

/* Starts workers (1..PREP_POOL_MAX_WORKERS) threads reading in's lines against units;
 * blank lines are skipped. NULL with errstr when memory or a thread is refused. */
prep_pool_t *prep_pool_start(FILE *in, const units_t *units, int workers, char *errstr,
                             size_t errstr_size);

/* The next prepared line in input order (waits for it), or NULL once every line is
 * taken. The slot is the caller's until prep_pool_release. */
prep_slot_t *prep_pool_take(prep_pool_t *p);

/* Gives back the slot prep_pool_take returned last. */
void prep_pool_release(prep_pool_t *p);

/* Input bytes read so far (any thread). */
uint64_t prep_pool_bytes(prep_pool_t *p);

/* After prep_pool_take returned NULL: the lines read, and 0 at end of input or the
 * errno that stopped reading. */
uint64_t prep_pool_lines(const prep_pool_t *p);
int prep_pool_read_errno(const prep_pool_t *p);

/* Stops the workers (mid-input is fine), waits for them and frees p; NULL is allowed. */
void prep_pool_stop(prep_pool_t *p);

#endif

/* seqstate.h - a producer's persisted chain position: last seq, last batch, last root. */
#ifndef DOCBUS_SEQSTATE_H
#define DOCBUS_SEQSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

/* What a producer must never forget: the next seq to assign is last_seq + 1, the next
 * batch is last_batch_seq + 1 and chains to last_root. A fresh state is all zero. */
typedef struct seqstate {
    char producer[UNIT_CODE_MAX];
    int64_t last_seq;
    int64_t last_batch_seq;
    uint8_t last_root[32];
} seqstate_t;

/* An open state file, locked against a second process using the same producer. */
typedef struct seqstate_file seqstate_file_t;

/* Opens (creating the directory if needed) the state at path for producer, takes an
 * exclusive lock on path.lock (DB_ERR_INVALID if another process holds it), and loads
 * it into *st (all zero when the file does not exist yet). DB_ERR_CONFIG if the file is
 * malformed or belongs to another producer. *out is closed with seqstate_close. */
int seqstate_open(const char *path, const char *producer, seqstate_file_t **out, seqstate_t *st,
                  char *errstr, size_t errstr_size);

/* Persists st durably: in place into the older of the file's two slots, one fdatasync
 * (the first save of a new or v1 file: temp file, fsync, rename, directory fsync).
 * Returns 0 or DB_ERR_IO; on error the previous state stays on disk. */
int seqstate_save(seqstate_file_t *f, const seqstate_t *st, char *errstr, size_t errstr_size);

/* The first half of seqstate_save: writes st into the older slot (no sync yet) and sets
 * *durable to 1 when the write was already made durable (the first save of a file).
 * Otherwise st is durable once fdatasync(seqstate_fd(f)) has succeeded; until then no
 * further state may be written (a second write would overwrite the slot that is the
 * durable state). Returns 0 or DB_ERR_IO. */
int seqstate_write(seqstate_file_t *f, const seqstate_t *st, int *durable, char *errstr,
                   size_t errstr_size);

/* The open state file's descriptor (for an fdatasync after seqstate_write made on
 * another thread). */
int seqstate_fd(const seqstate_file_t *f);

/* The second half of seqstate_save: fdatasyncs the last seqstate_write. On failure
 * (DB_ERR_IO) the write is taken back: the next one goes to the same slot. */
int seqstate_sync(seqstate_file_t *f, char *errstr, size_t errstr_size);

/* Takes the last seqstate_write back after its fdatasync failed on another thread: the
 * next write (a seqstate_save of the same state, since a failed fdatasync may have
 * dropped the page) goes to the same slot, never over the durable one. Call it once
 * per failed write. */
void seqstate_take_back(seqstate_file_t *f);

/* Releases the lock and frees f; NULL is allowed. */
void seqstate_close(seqstate_file_t *f);

#endif

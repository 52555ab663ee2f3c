/* seen.h - records of <prefix>seen, the aggregator's dedup set kept on Kafka. The key is
 * a counted message id. A value "ids:<n>\n" followed by n raw 16-byte ids (the key's
 * first) lists the ids one transaction counted; any other value marks the key's id alone
 * (records written before ids were grouped carried the message's source there). */
#ifndef DOCBUS_SEEN_H
#define DOCBUS_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "idset.h"

#define SEEN_IDS_MAX 4096   /* ids per record: at most 64 KiB of ids */

/* Encodes ids[0..n) (1 <= n <= SEEN_IDS_MAX) as one value into *buf (malloc'd, free it)
 * of *len bytes; its key is ids[0]. Returns 0, DB_ERR_INVALID (n) or DB_ERR_NOMEM. */
int seen_record_encode(const uint8_t (*ids)[16], size_t n, char **buf, size_t *len);

/* Adds every id the record names to set. Returns 0, DB_ERR_NOMEM, or DB_ERR_INVALID with
 * errstr saying what is malformed. */
int seen_record_load(idset_t *set, const void *key, size_t key_len, const void *value,
                     size_t len, char *errstr, size_t errstr_size);

#endif

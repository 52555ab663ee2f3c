/* record.h - the meaning of body records (Document, Status, Event) beyond their
 * schema: semantic checks, natural keys, the signing unit. */
#ifndef DOCBUS_RECORD_H
#define DOCBUS_RECORD_H

#include <avro.h>
#include <stddef.h>

#include "envelope.h"
#include "units.h"

#define RECORD_KEY_MAX 1024   /* enough for any natural key of a valid record */

/* Checks what the schema cannot say about a converted record v of body type t:
 * organisation codes well-formed and (when registry is not NULL) known - the sender,
 * recipients, status from/to, event unit, districts (which must be districts);
 * recipients differ from the sender and from each other; doc_id equals
 * "from.code,YYYY/MM/DD,number/notation" (for a status: its sender part equals "to");
 * no negative amounts, counts, sizes; end_date not before start_date, due_date not
 * before promulgation_date; deadline_quarter like "2018-Q2".
 * Returns 0, or DB_ERR_INVALID with "path: reason" in errstr. */
int record_validate(body_type_t t, avro_value_t *v, const units_t *registry, char *errstr,
                    size_t errstr_size);

/* Writes the record's natural key into buf: Document doc_id; Status
 * "doc_id|from|code|at" (code as "S01", at in ms since epoch); Event "unit|event_id".
 * Returns 0, DB_ERR_INVALID when v lacks the fields, DB_ERR_TOO_LARGE when buf is too
 * small (buf then holds an empty string). */
int record_natural_key(body_type_t t, avro_value_t *v, char *buf, size_t size);

/* Returns the organisation code of the unit that signs the record: Document
 * from.code, Status from, Event unit. The string is owned by v and valid until v
 * changes; NULL when v lacks the field. */
const char *record_producer(body_type_t t, avro_value_t *v);

/* Every fact is counted by exactly one partition: a document delivered to several
 * inboxes counts only in the copy on topic_prefix "inbox." + its first recipient.
 * Returns 1 when the copy on topic is the counted one (always for statuses and
 * events), else 0. */
int record_counted_copy(const char *topic_prefix, const char *topic, body_type_t bt,
                        avro_value_t *body);

#endif

/* quarter.h - Vietnam time (UTC+7, no DST) and quarters ("2018-Q1", "Quý I/2018"). */
#ifndef DOCBUS_QUARTER_H
#define DOCBUS_QUARTER_H

#include <stddef.h>
#include <stdint.h>

#define VN_UTC_OFFSET_MS (7LL * 3600 * 1000)

/* A quarter as one integer: year * 4 + (q - 1). Orders naturally. */
typedef int32_t quarter_t;

/* Returns the quarter containing the instant ms (ms since epoch, UTC) in Vietnam time. */
quarter_t quarter_of_ms(int64_t ms);

/* Returns the quarter containing a civil date given as days since 1970-01-01
 * (Avro "date"), which is already a Vietnam calendar date. */
quarter_t quarter_of_days(int32_t days);

/* Parses "2018-Q1" into *q. Returns 0, or DB_ERR_INVALID with the reason in errstr. */
int quarter_parse(const char *s, quarter_t *q, char *errstr, size_t errstr_size);

/* Writes "2018-Q1" into buf (at least 8 bytes). Returns buf. */
char *quarter_format(quarter_t q, char *buf, size_t size);

/* Writes "Quý I/2018" (UTF-8) into buf (at least 16 bytes). Returns buf. */
char *quarter_format_vi(quarter_t q, char *buf, size_t size);

/* First instant of quarter q in ms since epoch (UTC), Vietnam time. */
int64_t quarter_start_ms(quarter_t q);

/* Parses a time "2018-01-01", "2018-01-01T08:00:00", with optional "Z" or "+07:00"
 * offsets (no offset means Vietnam time) into ms since epoch. 0 or DB_ERR_INVALID. */
int vn_time_parse(const char *s, int64_t *ms, char *errstr, size_t errstr_size);

/* Parses a civil date "YYYY-MM-DD" into days since 1970-01-01, rejecting impossible
 * dates (2018-02-30). 0 or DB_ERR_INVALID. */
int vn_date_parse(const char *s, int32_t *days, char *errstr, size_t errstr_size);

/* Formats ms as "2018-01-08T09:30:00+07:00" into buf (>= 26 bytes). Returns buf. */
char *vn_time_format(int64_t ms, char *buf, size_t size);

/* Formats days as "2018-01-08" into buf (>= 11 bytes). Returns buf. */
char *vn_date_format(int32_t days, char *buf, size_t size);

#endif

/* vi_format.h - Vietnamese formatting of numbers, money, dates and quarters for reports. */
#ifndef DOCBUS_VI_FORMAT_H
#define DOCBUS_VI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* A buffer of this size holds every result of the functions below. */
#define VI_FMT_SIZE 64

/* Writes n with '.' between thousands ("2.779.043", "-1.500") into buf. Returns buf;
 * the result is truncated (still NUL-terminated) if size is too small. */
char *vi_number(int64_t n, char *buf, size_t size);

/* Writes n rounded DOWN to a multiple of step, prefixed "hơn " when that drops
 * something: (2779043, 100) -> "hơn 2.779.000", (2779000, 100) -> "2.779.000".
 * step <= 1 or n < 0 writes the plain number. Returns buf. */
char *vi_number_more(int64_t n, int64_t step, char *buf, size_t size);

/* Writes counts from 0 to 9 with two digits ("06"), others as vi_number. Returns buf. */
char *vi_number_2digit(int64_t n, char *buf, size_t size);

/* Writes an amount of money: "189.000.000 đồng". Returns buf. */
char *vi_vnd(int64_t n, char *buf, size_t size);

/* Writes an amount of money in the largest unit, to one decimal (comma, half up, ",0"
 * dropped): 4500000000 -> "4,5 tỷ đồng", 189000000 -> "189 triệu đồng"; under one
 * million as vi_vnd. Returns buf. */
char *vi_vnd_short(int64_t n, char *buf, size_t size);

/* Writes the date "2018-03-13" as "13/03/2018". Returns 0, or DB_ERR_INVALID with the
 * reason in errstr (buf then holds ""). */
int vi_date(const char *iso, char *buf, size_t size, char *errstr, size_t errstr_size);

/* Writes a date range with an en dash, sharing what the ends share: "13–19/02/2018",
 * "28/02–02/03/2018", "28/12/2017–02/01/2018"; end NULL, "" or equal to start writes
 * the single date. Returns 0, or DB_ERR_INVALID (malformed date, end before start). */
int vi_date_range(const char *start, const char *end, char *buf, size_t size,
                  char *errstr, size_t errstr_size);

/* Writes the quarter "2018-Q1" as "Quý I/2018". Returns 0, or DB_ERR_INVALID. */
int vi_quarter(const char *quarter, char *buf, size_t size, char *errstr, size_t errstr_size);

#endif

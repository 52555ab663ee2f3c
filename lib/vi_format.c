/* vi_format.c - Vietnamese formatting of numbers, money, dates and quarters for reports. */
#include "vi_format.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "quarter.h"

char *vi_number(int64_t n, char *buf, size_t size)
{
    char digits[24], out[40];
    /* Work on the magnitude as unsigned so INT64_MIN has one too. */
    uint64_t mag = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)mag);
    size_t o = 0;

    if (n < 0)
        out[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = '.';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    snprintf(buf, size, "%s", out);
    return buf;
}

char *vi_number_more(int64_t n, int64_t step, char *buf, size_t size)
{
    char num[VI_FMT_SIZE];
    if (step <= 1 || n < 0 || n % step == 0)
        return vi_number(n, buf, size);
    snprintf(buf, size, "hơn %s", vi_number(n - n % step, num, sizeof num));
    return buf;
}

char *vi_number_2digit(int64_t n, char *buf, size_t size)
{
    if (n >= 0 && n < 10) {
        snprintf(buf, size, "0%d", (int)n);
        return buf;
    }
    return vi_number(n, buf, size);
}

char *vi_vnd(int64_t n, char *buf, size_t size)
{
    char num[VI_FMT_SIZE];
    snprintf(buf, size, "%s đồng", vi_number(n, num, sizeof num));
    return buf;
}

char *vi_vnd_short(int64_t n, char *buf, size_t size)
{
    static const struct {
        int64_t unit;
        const char *name;
    } units[] = {{1000000000LL, "tỷ"}, {1000000LL, "triệu"}};
    char num[VI_FMT_SIZE];

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (n < units[i].unit)
            continue;
        int64_t tenths = (n / (units[i].unit / 10)) + ((n % (units[i].unit / 10)) * 2 >=
                                                        units[i].unit / 10);
        vi_number(tenths / 10, num, sizeof num);
        if (tenths % 10)
            snprintf(buf, size, "%s,%d %s đồng", num, (int)(tenths % 10), units[i].name);
        else
            snprintf(buf, size, "%s %s đồng", num, units[i].name);
        return buf;
    }
    return vi_vnd(n, buf, size);
}

/* Splits a valid "YYYY-MM-DD" into its fields; DB_ERR_INVALID otherwise. */
static int split_date(const char *iso, int *y, int *m, int *d, int32_t *days,
                      char *errstr, size_t errstr_size)
{
    int rc = vn_date_parse(iso, days, errstr, errstr_size);
    if (rc == 0 && sscanf(iso, "%4d-%2d-%2d", y, m, d) != 3)
        rc = DB_ERR_INVALID; /* unreachable: vn_date_parse checked the shape */
    return rc;
}

int vi_date(const char *iso, char *buf, size_t size, char *errstr, size_t errstr_size)
{
    int y, m, d;
    int32_t days;
    int rc = split_date(iso, &y, &m, &d, &days, errstr, errstr_size);
    if (rc)
        buf[0] = '\0';
    else
        snprintf(buf, size, "%02d/%02d/%04d", d, m, y);
    return rc;
}

int vi_date_range(const char *start, const char *end, char *buf, size_t size,
                  char *errstr, size_t errstr_size)
{
    int y1, m1, d1, y2, m2, d2, rc;
    int32_t days1, days2;

    buf[0] = '\0';
    if (!end || !*end)
        return vi_date(start, buf, size, errstr, errstr_size);
    if ((rc = split_date(start, &y1, &m1, &d1, &days1, errstr, errstr_size)) ||
        (rc = split_date(end, &y2, &m2, &d2, &days2, errstr, errstr_size)))
        goto out;
    if (days2 < days1) {
        snprintf(errstr, errstr_size, "date range ends (%s) before it starts (%s)", end, start);
        rc = DB_ERR_INVALID;
    } else if (days2 == days1) {
        snprintf(buf, size, "%02d/%02d/%04d", d1, m1, y1);
    } else if (y1 == y2 && m1 == m2) {
        snprintf(buf, size, "%02d–%02d/%02d/%04d", d1, d2, m2, y2);
    } else if (y1 == y2) {
        snprintf(buf, size, "%02d/%02d–%02d/%02d/%04d", d1, m1, d2, m2, y2);
    } else {
        snprintf(buf, size, "%02d/%02d/%04d–%02d/%02d/%04d", d1, m1, y1, d2, m2, y2);
    }
out:
    return rc;
}

int vi_quarter(const char *quarter, char *buf, size_t size, char *errstr, size_t errstr_size)
{
    quarter_t q;
    int rc = quarter_parse(quarter, &q, errstr, errstr_size);
    if (rc)
        buf[0] = '\0';
    else
        quarter_format_vi(q, buf, size);
    return rc;
}

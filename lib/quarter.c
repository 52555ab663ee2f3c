/* quarter.c - Vietnam civil time (UTC+7, no daylight saving) and calendar quarters. */
#include "quarter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Days since 1970-01-01 of a proleptic Gregorian civil date (Howard Hinnant's
 * well-known days_from_civil algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static int floor_div(int64_t a, int64_t b, int64_t *q)
{
    *q = a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
    return 0;
}

static int days_in_month(int y, unsigned m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

/* First day of every quarter from 1970-Q1 to 2199-Q4: quarter_of_days runs for every
 * fact counted (1.3 M in a bench aggregate), where the civil-date conversion was a sixth
 * of metric evaluation. */
#define QTABLE_FIRST (1970 * 4)
#define QTABLE_N (230 * 4)
static int32_t qtable[QTABLE_N + 1];
static pthread_once_t qtable_once = PTHREAD_ONCE_INIT;

static void qtable_fill(void)
{
    for (int i = 0; i <= QTABLE_N; i++) {
        int q = QTABLE_FIRST + i;
        qtable[i] = (int32_t)days_from_civil(q / 4, (unsigned)(q % 4) * 3 + 1, 1);
    }
}

quarter_t quarter_of_days(int32_t days)
{
    int y;
    unsigned m, d;
    pthread_once(&qtable_once, qtable_fill);
    if (days >= qtable[0] && days < qtable[QTABLE_N]) {
        /* 1461 days make 16 quarters: the estimate is off by at most one */
        int i = (int)((int64_t)(days - qtable[0]) * 16 / 1461);
        if (i >= QTABLE_N)
            i = QTABLE_N - 1;
        while (i > 0 && qtable[i] > days)
            i--;
        while (i + 1 < QTABLE_N && qtable[i + 1] <= days)
            i++;
        return (quarter_t)(QTABLE_FIRST + i);
    }
    civil_from_days(days, &y, &m, &d);
    return (quarter_t)(y * 4 + (int)(m - 1) / 3);
}

quarter_t quarter_of_ms(int64_t ms)
{
    int64_t days;
    floor_div(ms + VN_UTC_OFFSET_MS, 86400000LL, &days);
    return quarter_of_days((int32_t)days);
}

int64_t quarter_start_ms(quarter_t q)
{
    int y = q / 4;
    unsigned m = (unsigned)(q % 4) * 3 + 1;
    return days_from_civil(y, m, 1) * 86400000LL - VN_UTC_OFFSET_MS;
}

int quarter_parse(const char *s, quarter_t *q, char *errstr, size_t errstr_size)
{
    /* by hand, not sscanf: the audit parses the quarter of every committed record */
    int ok = s != NULL, y = 0, n;
    for (int i = 0; ok && i < 4; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        y = y * 10 + (s[i] - '0');
    }
    ok = ok && s[4] == '-' && s[5] == 'Q' && s[6] >= '1' && s[6] <= '4' && s[7] == '\0';
    n = ok ? s[6] - '0' : 0;
    if (!ok || y < 1970) {
        snprintf(errstr, errstr_size,
                 "malformed quarter \"%s\": expected YEAR-QN, e.g. 2018-Q1", s ? s : "");
        return DB_ERR_INVALID;
    }
    *q = (quarter_t)(y * 4 + n - 1);
    return 0;
}

char *quarter_format(quarter_t q, char *buf, size_t size)
{
    snprintf(buf, size, "%d-Q%d", q / 4, q % 4 + 1);
    return buf;
}

char *quarter_format_vi(quarter_t q, char *buf, size_t size)
{
    static const char *roman[] = {"I", "II", "III", "IV"};
    snprintf(buf, size, "Quý %s/%d", roman[q % 4], q / 4);
    return buf;
}

/* Parses exactly n digits at s into *out. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Parses "YYYY-MM-DD" at s; checks the date exists. */
static int parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) < 10 || digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) ||
        s[7] != '-' || digits(s + 8, 2, d))
        return -1;
    if (*y < 1970 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, (unsigned)*m))
        return -2;
    return 0;
}

int vn_date_parse(const char *s, int32_t *days, char *errstr, size_t errstr_size)
{
    int y, m, d, rc = parse_ymd(s ? s : "", &y, &m, &d);
    if (rc == 0 && s[10] != '\0')
        rc = -1;
    if (rc) {
        snprintf(errstr, errstr_size, rc == -2 ? "impossible date \"%s\"" :
                 "malformed date \"%s\": expected YYYY-MM-DD", s ? s : "");
        return DB_ERR_INVALID;
    }
    *days = (int32_t)days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

int vn_time_parse(const char *s, int64_t *ms, char *errstr, size_t errstr_size)
{
    int y, mo, d, hh = 0, mi = 0, ss = 0, frac = 0;
    int64_t offset = VN_UTC_OFFSET_MS;
    const char *p;
    int rc = parse_ymd(s ? s : "", &y, &mo, &d);
    if (rc)
        goto bad;
    p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if (digits(p + 1, 2, &hh) || p[3] != ':' || digits(p + 4, 2, &mi))
            goto bad;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &ss))
                goto bad;
            p += 3;
            if (*p == '.') {
                int n = 0;
                p++;
                while (*p >= '0' && *p <= '9') {
                    if (n < 3)
                        frac = frac * 10 + (*p - '0');
                    n++, p++;
                }
                if (n == 0)
                    goto bad;
                for (; n < 3; n++)
                    frac *= 10;
            }
        }
        if (hh > 23 || mi > 59 || ss > 60)
            goto bad;
    }
    if (*p == 'Z') {
        offset = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 14 || om > 59)
            goto bad;
        offset = (oh * 60LL + om) * 60000LL * (*p == '-' ? -1 : 1);
        p += 6;
    }
    if (*p != '\0')
        goto bad;
    *ms = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000LL +
          ((hh * 60LL + mi) * 60 + ss) * 1000 + frac - offset;
    return 0;
bad:
    snprintf(errstr, errstr_size, rc == -2 ? "impossible date in \"%s\"" :
             "malformed time \"%s\": expected YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z|+HH:MM]",
             s ? s : "");
    return DB_ERR_INVALID;
}

char *vn_date_format(int32_t days, char *buf, size_t size)
{
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999 || size < 11) {   /* the rare case: printf's widths */
        snprintf(buf, size, "%04d-%02u-%02u", y, m, d);
        return buf;
    }
    buf[0] = (char)('0' + y / 1000), buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10), buf[3] = (char)('0' + y % 10), buf[4] = '-';
    buf[5] = (char)('0' + m / 10), buf[6] = (char)('0' + m % 10), buf[7] = '-';
    buf[8] = (char)('0' + d / 10), buf[9] = (char)('0' + d % 10), buf[10] = '\0';
    return buf;
}

char *vn_time_format(int64_t ms, char *buf, size_t size)
{
    int64_t local = ms + VN_UTC_OFFSET_MS, days, rem;
    int y;
    unsigned m, d;
    floor_div(local, 86400000LL, &days);
    rem = local - days * 86400000LL;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04d-%02u-%02uT%02d:%02d:%02d+07:00", y, m, d,
             (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60));
    return buf;
}

/* str.c - string concatenation and decimal digits without printf. */
#include "str.h"

#include <stdarg.h>
#include <string.h>

size_t str_join(char *dst, size_t size, ...)
{
    va_list ap;
    const char *s;
    size_t total = 0;
    va_start(ap, size);
    while ((s = va_arg(ap, const char *)) != NULL) {
        size_t n = strlen(s);
        if (total + 1 < size) {
            size_t room = size - 1 - total;
            memcpy(dst + total, s, n < room ? n : room);
        }
        total += n;
    }
    va_end(ap);
    if (size)
        dst[total < size ? total : size - 1] = '\0';
    return total;
}

uint64_t str_fnv64(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

char *str_u64(char buf[21], uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

char *str_i64(char buf[21], int64_t v)
{
    if (v >= 0)
        return str_u64(buf, (uint64_t)v);
    char digits[21];
    buf[0] = '-';
    str_u64(digits, (uint64_t)0 - (uint64_t)v);
    memcpy(buf + 1, digits, strlen(digits) + 1);   /* at most 19 digits */
    return buf;
}

/* utf8.h - strict UTF-8 (RFC 3629) a sequence at a time, and eight bytes at a time while
 * they are ASCII: shared by the JSON readers' checks. */
#ifndef DOCBUS_UTF8_H
#define DOCBUS_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_HIGHS 0x8080808080808080ULL   /* the high bit of each of eight bytes */

/* The length (2 to 4) of the valid multi-byte sequence at s[0..n), s[0] >= 0x80, or 0:
 * a continuation byte first, an overlong form, an encoded surrogate, past U+10FFFF, or
 * cut short. */
static inline size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned c = s[0], c1;
    if (c < 0xC2)                    /* a continuation byte, or C0/C1 (overlong) */
        return 0;
    if (c < 0xE0)                    /* two bytes: C2..DF, one continuation */
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {                  /* three bytes; E0 overlong, ED surrogates */
        if (n < 3)
            return 0;
        c1 = s[1];
        if ((c1 & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (c == 0xE0 && c1 < 0xA0) ||
            (c == 0xED && c1 > 0x9F))
            return 0;
        return 3;
    }
    if (c > 0xF4 || n < 4)           /* four bytes; F0 overlong, F4 past U+10FFFF */
        return 0;
    c1 = s[1];
    if ((c1 & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80 ||
        (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
        return 0;
    return 4;
}

/* The index (0-7) of the first byte in memory of eight loaded as w whose high bit is set
 * in mask (mask != 0, only high bits set). */
static inline unsigned utf8_first_marked(uint64_t mask)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (unsigned)__builtin_ctzll(mask) / 8;
#else
    return (unsigned)__builtin_clzll(mask) / 8;
#endif
}

#endif

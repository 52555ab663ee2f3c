/* error.h - the one error enum every docbus module returns, and its names. */
#ifndef DOCBUS_ERROR_H
#define DOCBUS_ERROR_H

/* Library functions return 0 on success or one of these (negative) codes, and fill a
 * caller's errstr with the human reason (what, where, why). */
typedef enum {
    DB_OK = 0,
    /* generic */
    DB_ERR_NOMEM = -1,          /* allocation failed */
    DB_ERR_IO = -2,             /* file or system call failed */
    DB_ERR_CONFIG = -3,         /* bad configuration key or value */
    DB_ERR_INVALID = -4,        /* input is well-formed but not acceptable */
    DB_ERR_KAFKA = -5,          /* broker or client error */
    DB_ERR_CRYPTO = -6,         /* OpenSSL failed */
    DB_ERR_NOT_FOUND = -7,      /* looked-up thing does not exist */
    /* decoding untrusted bytes */
    DB_ERR_TOO_LARGE = -20,     /* message over the total size cap */
    DB_ERR_TRUNCATED = -21,     /* input ended inside a value */
    DB_ERR_TRAILING = -22,      /* bytes left after the value */
    DB_ERR_BAD_MAGIC = -23,     /* not C3 01 */
    DB_ERR_UNKNOWN_SCHEMA = -24,/* fingerprint not known */
    DB_ERR_NEG_LENGTH = -25,    /* negative string/bytes/array length */
    DB_ERR_LENGTH_CAP = -26,    /* string/bytes/array longer than its cap */
    DB_ERR_BAD_ENUM = -27,      /* enum index out of range */
    DB_ERR_BAD_UNION = -28,     /* union branch index out of range */
    DB_ERR_BAD_VARINT = -29,    /* varint longer than 10 bytes */
    DB_ERR_BAD_FIXED = -30,     /* fixed field of the wrong size */
    /* verification */
    DB_ERR_BAD_SIGNATURE = -40, /* batch signature does not verify */
    DB_ERR_BAD_PROOF = -41,     /* inclusion path does not lead to the signed root */
    DB_ERR_UNKNOWN_SIGNER = -42,/* no certificate for this key id / unit */
    DB_ERR_CERT_CHAIN = -43,    /* certificate does not chain to the trusted root */
    DB_ERR_CERT_EXPIRED = -44,  /* certificate not valid at signing time */
    DB_ERR_CERT_REVOKED = -45,  /* certificate revoked before signing time */
    DB_ERR_CERT_UNIT = -46,     /* certificate's unit differs from the producer */
    DB_ERR_BAD_CONTENT = -47,   /* content inconsistent (body fingerprint, producer, seq range) */
} db_err_t;

/* Returns a one-line description of code; never NULL. */
const char *db_strerror(int code);

/* Returns a stable lower-case name for code (used in rejected records and JSON), e.g.
 * "bad_signature"; never NULL. */
const char *db_errname(int code);

#endif

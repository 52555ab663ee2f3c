/* error.c - descriptions and stable names of docbus error codes. */
#include "error.h"

static const struct {
    int code;
    const char *name;
    const char *text;
} errors[] = {
    {DB_OK, "ok", "success"},
    {DB_ERR_NOMEM, "nomem", "out of memory"},
    {DB_ERR_IO, "io", "input/output error"},
    {DB_ERR_CONFIG, "config", "configuration error"},
    {DB_ERR_INVALID, "invalid", "invalid input"},
    {DB_ERR_KAFKA, "kafka", "Kafka error"},
    {DB_ERR_CRYPTO, "crypto", "cryptography error"},
    {DB_ERR_NOT_FOUND, "not_found", "not found"},
    {DB_ERR_TOO_LARGE, "too_large", "message larger than the size cap"},
    {DB_ERR_TRUNCATED, "truncated", "input ends inside a value"},
    {DB_ERR_TRAILING, "trailing_bytes", "bytes left after the value"},
    {DB_ERR_BAD_MAGIC, "bad_magic", "not Avro single-object encoding (C3 01)"},
    {DB_ERR_UNKNOWN_SCHEMA, "unknown_schema", "unknown schema fingerprint"},
    {DB_ERR_NEG_LENGTH, "negative_length", "negative length"},
    {DB_ERR_LENGTH_CAP, "length_cap", "length over its cap"},
    {DB_ERR_BAD_ENUM, "bad_enum", "enum index out of range"},
    {DB_ERR_BAD_UNION, "bad_union", "union branch out of range"},
    {DB_ERR_BAD_VARINT, "bad_varint", "malformed variable-length integer"},
    {DB_ERR_BAD_FIXED, "bad_fixed", "fixed value of the wrong size"},
    {DB_ERR_BAD_SIGNATURE, "bad_signature", "batch signature does not verify"},
    {DB_ERR_BAD_PROOF, "bad_proof", "inclusion proof does not match the signed root"},
    {DB_ERR_UNKNOWN_SIGNER, "unknown_signer", "signer unknown to the PKI"},
    {DB_ERR_CERT_CHAIN, "cert_chain", "certificate does not chain to the trusted root"},
    {DB_ERR_CERT_EXPIRED, "cert_expired", "certificate not valid at signing time"},
    {DB_ERR_CERT_REVOKED, "cert_revoked", "certificate revoked"},
    {DB_ERR_CERT_UNIT, "cert_unit", "certificate belongs to another unit"},
    {DB_ERR_BAD_CONTENT, "bad_content", "content inconsistent with its proof"},
};

static int find(int code)
{
    for (unsigned i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code)
            return (int)i;
    return -1;
}

const char *db_strerror(int code)
{
    int i = find(code);
    return i < 0 ? "unknown error" : errors[i].text;
}

const char *db_errname(int code)
{
    int i = find(code);
    return i < 0 ? "unknown" : errors[i].name;
}

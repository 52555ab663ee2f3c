/* evidence.h - audit evidence files: an Avro Object Container File (schemas/evidence.avsc)
 * holding the audited Kafka records byte for byte, the trust material that verifies
 * them, the counts records compared with and the audit's own verdict. */
#ifndef DOCBUS_EVIDENCE_H
#define DOCBUS_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "trust.h"

#define EVIDENCE_SCHEMA "vn.docbus.v1.EvidenceEntry"
#define EVIDENCE_FORMAT_VERSION 1

typedef enum { EVIDENCE_MESSAGE = 0, EVIDENCE_COUNT = 1 } evidence_kind_t;

/* How the audit was run. Strings are owned by whoever filled the struct. */
typedef struct evidence_header {
    int format_version;
    int64_t created_at;           /* ms since epoch */
    const char *tool;             /* "docbus 0.1.0" */
    const char *topic_prefix;
    int64_t from_ms, to_ms;       /* AUDIT_TIME_OPEN_START / _END when open */
    int64_t slack_ms, replay_ms;
    const char *against;          /* "counts", "none" or the report file name */
    const char *against_report;   /* report JSON text, or NULL */
} evidence_header_t;

/* Trust material in DER. Owned by the struct (evidence_trust_free). */
typedef struct evidence_trust {
    uint8_t *ca;
    size_t ca_len;
    uint8_t **certs;
    size_t *cert_lens;
    size_t ncerts;
    uint8_t *crl;                 /* NULL when the PKI has no CRL */
    size_t crl_len;
} evidence_trust_t;

/* Reads a PKI directory's ca.crt, crl.pem (optional) and units/ *.crt (what
 * trust_load_pki trusts) into *out as DER. DB_ERR_CONFIG/IO with errstr naming the file. */
int evidence_trust_from_pki(const char *pki_dir, evidence_trust_t *out, char *errstr,
                            size_t errstr_size);

/* Builds a trust store from t (the CA, every certificate, the CA-signed CRL). *out is
 * the caller's. DB_ERR_INVALID (a certificate or CRL does not parse), DB_ERR_CERT_CHAIN
 * (CRL not signed by the CA), DB_ERR_IO. */
int evidence_trust_build(const evidence_trust_t *t, trust_t **out, char *errstr,
                         size_t errstr_size);

/* Writes the SHA-256 of the CA certificate's DER as 64 hex digits into hex[65]. */
void evidence_trust_ca_sha256(const evidence_trust_t *t, char hex[65]);

/* Frees what t holds and zeroes it; NULL is allowed. */
void evidence_trust_free(evidence_trust_t *t);

typedef struct evidence_writer evidence_writer_t;

/* Opens path for writing (as path.tmp; renamed into place by evidence_writer_close so a
 * half-written file never has the final name). *out is the caller's. */
int evidence_writer_open(const char *path, evidence_writer_t **out, char *errstr,
                         size_t errstr_size);

/* Appends one entry. 0, or DB_ERR_IO / DB_ERR_INVALID with errstr (Avro-C's reason). */
int evidence_write_header(evidence_writer_t *w, const evidence_header_t *h, char *errstr,
                          size_t errstr_size);
int evidence_write_trust(evidence_writer_t *w, const evidence_trust_t *t, char *errstr,
                         size_t errstr_size);
int evidence_write_record(evidence_writer_t *w, evidence_kind_t kind, const audit_msg_t *m,
                          char *errstr, size_t errstr_size);
int evidence_write_summary(evidence_writer_t *w, const char *verdict_json, char *errstr,
                           size_t errstr_size);

/* Flushes, closes and renames the file into place, then frees w. 0 or DB_ERR_IO. */
int evidence_writer_close(evidence_writer_t *w, char *errstr, size_t errstr_size);

/* Abandons the file (the temporary is removed) and frees w; NULL is allowed. */
void evidence_writer_abort(evidence_writer_t *w);

/* Called for each entry while reading; pointers are valid only during the call. A
 * non-zero return stops evidence_read, which returns it. Any callback may be NULL. */
typedef struct evidence_visitor {
    int (*header)(void *opaque, const evidence_header_t *h);
    int (*trust)(void *opaque, const evidence_trust_t *t);
    int (*record)(void *opaque, evidence_kind_t kind, const audit_msg_t *m);
    int (*summary)(void *opaque, const char *verdict_json);
} evidence_visitor_t;

/* Reads an evidence file written by any Avro writer with a compatible schema, calling v
 * in file order. Returns 0, the first non-zero callback return, or DB_ERR_IO /
 * DB_ERR_INVALID (not an Avro container, not evidence: no header first, unknown entry)
 * with errstr. */
int evidence_read(const char *path, const evidence_visitor_t *v, void *opaque, char *errstr,
                  size_t errstr_size);

#endif

/* verify.h - prove one Kafka value: decode (hardened), check the inclusion proof, the
 * batch signature and the signer's certificate, then decode the body. Shared by
 * inbox, aggregate, audit and inspect so every consumer trusts the same way. */
#ifndef DOCBUS_VERIFY_H
#define DOCBUS_VERIFY_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "envelope.h"
#include "trust.h"

typedef struct verifier verifier_t;

/* A verified message. Pointers borrow from the input buffer and the verifier; valid
 * until the next verifier_check. */
typedef struct verified {
    content_t content;
    proof_t proof;
    const uint8_t *content_avro;   /* the signed Content bytes (the leaf preimage) */
    size_t content_len;
    avro_value_t *body;            /* decoded Document / Status / Event */
    uint8_t leaf[32];              /* the proven Merkle leaf hash of the Content bytes */
} verified_t;

/* Returns a verifier trusting the PKI at pki_dir (CA, CRL, unit certificates), or NULL
 * with errstr (exit EXIT_CONFIG). */
verifier_t *verifier_new(const char *pki_dir, char *errstr, size_t errstr_size);

/* Returns a verifier for the configuration cfg: the root CA (and, when present, the
 * CRL and unit certificates) from docbus.pki.dir, plus every unit certificate and the
 * newest CRL published on <prefix>certs (`docbus pki publish`). Only the CA must be
 * local: certificates and CRLs are signed by it, so their transport needs no trust.
 * NULL with errstr on error (exit EXIT_CONFIG). */
struct db_config;
verifier_t *verifier_new_cfg(const struct db_config *cfg, char *errstr, size_t errstr_size);

/* Returns a verifier over an existing trust store (taken over: freed with the verifier). */
verifier_t *verifier_new_trust(trust_t *trust, char *errstr, size_t errstr_size);

/* Proves buf. Returns 0 with *out filled, or the first failing check's db_err_t
 * (decode, proof, signature, certificate or body error) with errstr saying why.
 * Signature checks are cached per batch, so a batch costs one Ed25519 verification. */
int verifier_check(verifier_t *v, const uint8_t *buf, size_t len, verified_t *out,
                   char *errstr, size_t errstr_size);

/* verifier_check with the body decoded by bodies (out->body is valid until the next
 * read on bodies): a pipeline keeps several verified messages alive at once. */
int verifier_check_into(verifier_t *v, body_decoder_t *bodies, const uint8_t *buf, size_t len,
                        verified_t *out, char *errstr, size_t errstr_size);

/* Frees v; NULL is allowed. */
void verifier_destroy(verifier_t *v);

#endif

/* record.c - semantic checks, natural keys and producers of body records. */
#include "record.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "quarter.h"
#include "str.h"

/* Returns the string field name of record v, or NULL. */
static const char *fstr(avro_value_t *v, const char *name)
{
    avro_value_t f;
    const char *s = NULL;
    size_t size;
    if (avro_value_get_by_name(v, name, &f, NULL) != 0 || avro_value_get_string(&f, &s, &size) != 0)
        return NULL;
    return s;
}

/* Reads an int or long field into *out; -1 when absent. */
static int fnum(avro_value_t *v, const char *name, int64_t *out)
{
    avro_value_t f;
    int32_t i;
    if (avro_value_get_by_name(v, name, &f, NULL) != 0)
        return -1;
    if (avro_value_get_type(&f) == AVRO_INT32) {
        if (avro_value_get_int(&f, &i) != 0)
            return -1;
        *out = i;
        return 0;
    }
    if (avro_value_get_type(&f) == AVRO_UNION) {
        avro_value_t b;
        if (avro_value_get_current_branch(&f, &b) != 0 || avro_value_get_type(&b) == AVRO_NULL)
            return -1;
        f = b;
        if (avro_value_get_type(&f) == AVRO_INT32) {
            if (avro_value_get_int(&f, &i) != 0)
                return -1;
            *out = i;
            return 0;
        }
    }
    return avro_value_get_long(&f, out) == 0 ? 0 : -1;
}

__attribute__((format(printf, 3, 4)))
static int bad(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return DB_ERR_INVALID;
}

/* Checks one organisation code at path; want_district asks for a district. */
static int check_code(const char *path, const char *code, const units_t *reg, int want_district,
                      char *errstr, size_t errstr_size)
{
    const unit_t *u;
    if (!code)
        return bad(errstr, errstr_size, "%s: missing", path);
    if (!unit_code_valid(code))
        return bad(errstr, errstr_size,
                   "%s: \"%s\" is not an organisation code (expected the shape 000.00.11.H29)",
                   path, code);
    if (!reg)
        return 0;
    u = units_find(reg, code);
    if (!u)
        return bad(errstr, errstr_size, "%s: unknown organisation code \"%s\"", path, code);
    if (want_district && u->kind != UNIT_DISTRICT)
        return bad(errstr, errstr_size, "%s: \"%s\" (%s) is a %s, not a district", path, code,
                   u->name, unit_kind_name(u->kind));
    return 0;
}

static int nonneg(avro_value_t *v, const char *path, const char *field, char *errstr,
                  size_t errstr_size)
{
    int64_t x;
    if (fnum(v, field, &x) == 0 && x < 0)
        return bad(errstr, errstr_size, "%s%s: %" PRId64 " is negative", path, field, x);
    return 0;
}

static int validate_document(avro_value_t *v, const units_t *reg, char *errstr, size_t errstr_size)
{
    avro_value_t from, to, att, e;
    const char *sender, *doc_id, *number, *notation;
    int64_t date, due;
    size_t n, i, j;
    char want[700], path[64], ymd[16], num[21];
    int rc;

    if (avro_value_get_by_name(v, "from", &from, NULL) != 0 ||
        avro_value_get_by_name(v, "to", &to, NULL) != 0)
        return bad(errstr, errstr_size, "(record): not a Document");
    sender = fstr(&from, "code");
    if ((rc = check_code("from.code", sender, reg, 0, errstr, errstr_size)))
        return rc;
    avro_value_get_size(&to, &n);
    if (n == 0)
        return bad(errstr, errstr_size, "to: a document needs at least one recipient");
    for (i = 0; i < n; i++) {
        const char *code;
        avro_value_get_by_index(&to, i, &e, NULL);
        code = fstr(&e, "code");
        /* the path is written out only for a message: most documents have none */
        if (check_code("to", code, reg, 0, errstr, errstr_size)) {
            str_join(path, sizeof path, "to[", str_u64(num, i), "].code", NULL);
            return check_code(path, code, reg, 0, errstr, errstr_size);
        }
        if (strcmp(code, sender) == 0)
            return bad(errstr, errstr_size, "to[%zu].code: recipient \"%s\" is the sender", i,
                       code);
        for (j = 0; j < i; j++) {
            avro_value_t prev;
            avro_value_get_by_index(&to, j, &prev, NULL);
            if (strcmp(fstr(&prev, "code"), code) == 0)
                return bad(errstr, errstr_size,
                           "to[%zu].code: duplicate recipient \"%s\" (also to[%zu])", i, code, j);
        }
    }
    doc_id = fstr(v, "doc_id");
    number = fstr(v, "number");
    notation = fstr(v, "notation");
    if (!doc_id || !number || !notation || fnum(v, "promulgation_date", &date) != 0)
        return bad(errstr, errstr_size, "(record): not a Document");
    if (!*number || strchr(number, ',') || strchr(number, '/'))
        return bad(errstr, errstr_size, "number: \"%s\" must be non-empty, without ',' or '/'",
                   number);
    if (!*notation || strchr(notation, ','))
        return bad(errstr, errstr_size, "notation: \"%s\" must be non-empty, without ','",
                   notation);
    vn_date_format((int32_t)date, ymd, sizeof ymd);
    ymd[4] = '/', ymd[7] = '/';
    str_join(want, sizeof want, sender, ",", ymd, ",", number, "/", notation, NULL);
    if (strcmp(doc_id, want) != 0)
        return bad(errstr, errstr_size,
                   "doc_id: \"%s\" does not match from/promulgation_date/number/notation "
                   "(expected \"%s\")", doc_id, want);
    if (fnum(v, "due_date", &due) == 0 && due < date) {
        char a[16], b[16];
        return bad(errstr, errstr_size, "due_date: %s is before promulgation_date %s",
                   vn_date_format((int32_t)due, a, sizeof a),
                   vn_date_format((int32_t)date, b, sizeof b));
    }
    if ((rc = nonneg(v, "", "page_amount", errstr, errstr_size)))
        return rc;
    if (avro_value_get_by_name(v, "attachments", &att, NULL) == 0) {
        avro_value_get_size(&att, &n);
        for (i = 0; i < n; i++) {
            avro_value_get_by_index(&att, i, &e, NULL);
            if (nonneg(&e, "", "size", errstr, errstr_size)) {
                str_join(path, sizeof path, "attachments[", str_u64(num, i), "].", NULL);
                return nonneg(&e, path, "size", errstr, errstr_size);
            }
        }
    }
    return 0;
}

static int validate_status(avro_value_t *v, const units_t *reg, char *errstr, size_t errstr_size)
{
    const char *from = fstr(v, "from"), *to = fstr(v, "to"), *doc_id = fstr(v, "doc_id");
    const char *comma;
    int rc;
    if ((rc = check_code("from", from, reg, 0, errstr, errstr_size)) ||
        (rc = check_code("to", to, reg, 0, errstr, errstr_size)))
        return rc;
    if (strcmp(from, to) == 0)
        return bad(errstr, errstr_size, "to: \"%s\" is the replying unit itself", to);
    if (!doc_id || !(comma = strchr(doc_id, ',')) || !strchr(comma + 1, ','))
        return bad(errstr, errstr_size,
                   "doc_id: \"%s\" is not senderCode,YYYY/MM/DD,number/notation",
                   doc_id ? doc_id : "");
    if ((size_t)(comma - doc_id) != strlen(to) || strncmp(doc_id, to, strlen(to)) != 0)
        return bad(errstr, errstr_size,
                   "doc_id: the document's sender \"%.*s\" differs from to \"%s\"",
                   (int)(comma - doc_id), doc_id, to);
    return 0;
}

static int validate_event(avro_value_t *v, const units_t *reg, char *errstr, size_t errstr_size)
{
    avro_value_t detail, b;
    const char *name;
    char path[96];
    int rc;
    int64_t s, e;

    if ((rc = check_code("unit", fstr(v, "unit"), reg, 0, errstr, errstr_size)))
        return rc;
    if (avro_value_get_by_name(v, "detail", &detail, NULL) != 0 ||
        avro_value_get_current_branch(&detail, &b) != 0)
        return bad(errstr, errstr_size, "detail: missing");
    name = avro_schema_name(avro_value_get_schema(&b));
    str_join(path, sizeof path, "detail.", name, ".", NULL);
    if (strcmp(name, "LandBranchJoined") == 0 || strcmp(name, "LandDatabaseLinked") == 0) {
        char p2[128];
        str_join(p2, sizeof p2, path, "district", NULL);
        return check_code(p2, fstr(&b, "district"), reg, 1, errstr, errstr_size);
    }
    if (strcmp(name, "MailboxesIssued") == 0)
        return nonneg(&b, path, "count", errstr, errstr_size);
    if (strcmp(name, "PressBriefing") == 0)
        return nonneg(&b, path, "articles_commended", errstr, errstr_size);
    if (strcmp(name, "PropagandaAssigned") == 0)
        return nonneg(&b, path, "items", errstr, errstr_size);
    if (strcmp(name, "PenaltyDecision") == 0)
        return nonneg(&b, path, "amount_vnd", errstr, errstr_size);
    if (strcmp(name, "TaskProgress") == 0) {
        quarter_t q;
        char why[160];
        const char *dq = fstr(&b, "deadline_quarter");
        if (quarter_parse(dq, &q, why, sizeof why) != 0)
            return bad(errstr, errstr_size, "%sdeadline_quarter: %s", path, why);
        return 0;
    }
    if (strcmp(name, "Highlight") == 0) {
        if ((rc = nonneg(&b, path, "visitors", errstr, errstr_size)) ||
            (rc = nonneg(&b, path, "revenue_vnd", errstr, errstr_size)))
            return rc;
        if (fnum(&b, "start_date", &s) == 0 && fnum(&b, "end_date", &e) == 0 && e < s) {
            char a[16], c[16];
            return bad(errstr, errstr_size, "%send_date: %s is before start_date %s", path,
                       vn_date_format((int32_t)e, a, sizeof a),
                       vn_date_format((int32_t)s, c, sizeof c));
        }
    }
    return 0;
}

int record_validate(body_type_t t, avro_value_t *v, const units_t *registry, char *errstr,
                    size_t errstr_size)
{
    switch (t) {
    case BODY_DOCUMENT:
        return validate_document(v, registry, errstr, errstr_size);
    case BODY_STATUS:
        return validate_status(v, registry, errstr, errstr_size);
    case BODY_EVENT:
        return validate_event(v, registry, errstr, errstr_size);
    }
    return bad(errstr, errstr_size, "unknown body type %d", (int)t);
}

int record_natural_key(body_type_t t, avro_value_t *v, char *buf, size_t size)
{
    int n = -1;
    if (size)
        buf[0] = '\0';
    if (t == BODY_DOCUMENT) {
        const char *id = fstr(v, "doc_id");
        if (!id)
            return DB_ERR_INVALID;
        n = (int)str_join(buf, size, id, NULL);
    } else if (t == BODY_STATUS) {
        const char *id = fstr(v, "doc_id"), *from = fstr(v, "from");
        avro_value_t code;
        int sym = -1;
        int64_t at;
        if (!id || !from || fnum(v, "at", &at) != 0 ||
            avro_value_get_by_name(v, "code", &code, NULL) != 0 ||
            avro_value_get_enum(&code, &sym) != 0)
            return DB_ERR_INVALID;
        const char *cs = avro_schema_enum_get(avro_value_get_schema(&code), sym);
        if (!cs)
            return DB_ERR_INVALID;
        char digits[21];
        n = (int)str_join(buf, size, id, "|", from, "|", cs, "|", str_i64(digits, at), NULL);
    } else if (t == BODY_EVENT) {
        const char *unit = fstr(v, "unit"), *id = fstr(v, "event_id");
        if (!unit || !id)
            return DB_ERR_INVALID;
        n = (int)str_join(buf, size, unit, "|", id, NULL);
    } else {
        return DB_ERR_INVALID;
    }
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = '\0';
        return DB_ERR_TOO_LARGE;
    }
    return 0;
}

const char *record_producer(body_type_t t, avro_value_t *v)
{
    avro_value_t from;
    switch (t) {
    case BODY_DOCUMENT:
        if (avro_value_get_by_name(v, "from", &from, NULL) != 0)
            return NULL;
        return fstr(&from, "code");
    case BODY_STATUS:
        return fstr(v, "from");
    case BODY_EVENT:
        return fstr(v, "unit");
    }
    return NULL;
}

int record_counted_copy(const char *topic_prefix, const char *topic, body_type_t bt,
                       avro_value_t *body)
{
    avro_value_t to, first, code;
    const char *s;
    size_t len, n = 0, plen = strlen(topic_prefix);
    if (bt != BODY_DOCUMENT)
        return 1;
    if (avro_value_get_by_name(body, "to", &to, NULL) || avro_value_get_size(&to, &n) || n == 0 ||
        avro_value_get_by_index(&to, 0, &first, NULL) ||
        avro_value_get_by_name(&first, "code", &code, NULL) ||
        avro_value_get_string(&code, &s, &len))
        return 0;
    /* topic == prefix "inbox." code; len counts the NUL */
    return !strncmp(topic, topic_prefix, plen) && !strncmp(topic + plen, "inbox.", 6) &&
           !strcmp(topic + plen + 6, s);
}

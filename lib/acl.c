/* acl.c - docbus ACLs: derivation from the unit registry, diff, Admin API calls. */
#include "acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct acl_list {
    acl_entry_t *v;
    size_t n, cap;
    int failed;    /* DB_ERR_* of the first failed add */
    char *errstr;
    size_t errstr_size;
};

static void add(struct acl_list *l, const char *user, acl_res_t res, int prefixed,
                const char *name1, const char *name2, rd_kafka_AclOperation_t op)
{
    acl_entry_t *e;
    int np, nn;
    if (l->failed)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        acl_entry_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            snprintf(l->errstr, l->errstr_size, "out of memory");
            l->failed = DB_ERR_NOMEM;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    e = &l->v[l->n];
    memset(e, 0, sizeof *e);
    np = snprintf(e->principal, sizeof e->principal, "User:%s", user);
    nn = snprintf(e->name, sizeof e->name, "%s%s", name1, name2 ? name2 : "");
    if (np < 0 || (size_t)np >= sizeof e->principal || nn < 0 || (size_t)nn >= sizeof e->name) {
        snprintf(l->errstr, l->errstr_size, "ACL for %s on %s%s: name too long", user, name1,
                 name2 ? name2 : "");
        l->failed = DB_ERR_INVALID;
        return;
    }
    e->resource = res;
    e->prefixed = prefixed;
    e->op = op;
    l->n++;
}

int acl_entry_cmp(const void *a, const void *b)
{
    const acl_entry_t *x = a, *y = b;
    int c;
    if ((c = strcmp(x->principal, y->principal)))
        return c;
    if (x->resource != y->resource)
        return x->resource < y->resource ? -1 : 1;
    if (x->prefixed != y->prefixed)
        return x->prefixed < y->prefixed ? -1 : 1;
    if ((c = strcmp(x->name, y->name)))
        return c;
    if (x->op != y->op)
        return x->op < y->op ? -1 : 1;
    return 0;
}

/* Sorts and drops duplicates. */
static void normalise(acl_entry_t *v, size_t *n)
{
    size_t k = 0;
    if (*n == 0)
        return;
    qsort(v, *n, sizeof *v, acl_entry_cmp);
    for (size_t i = 1; i < *n; i++)
        if (acl_entry_cmp(&v[k], &v[i]))
            v[++k] = v[i];
    *n = k + 1;
}

#define OR(x, d) ((x) ? (x) : (d))

int acl_derive(const units_t *units, const acl_options_t *opts, acl_entry_t **out, size_t *n,
               char *errstr, size_t errstr_size)
{
    static const acl_options_t none = {0};
    const acl_options_t *o = opts ? opts : &none;
    const char *prefix = OR(o->topic_prefix, "docbus.");
    const char *agg = OR(o->aggregator, "docbus-aggregator");
    const char *aud = OR(o->auditor, "docbus-auditor");
    const char *agg_group = OR(o->aggregate_group, "docbus-aggregate");
    const char *inbox_group = OR(o->inbox_group_prefix, "docbus-inbox-");
    const char *audit_group = OR(o->audit_group_prefix, "docbus-audit");
    const char *nogroup = OR(o->nogroup, "docbus-nogroup");
    struct acl_list l = {.errstr = errstr, .errstr_size = errstr_size};
    char inbox[ACL_NAME_MAX], events[ACL_NAME_MAX], certs[ACL_NAME_MAX];
    static const char *agg_writes[] = {"counts", "seen", "rejected"};

    *out = NULL;
    *n = 0;
    snprintf(inbox, sizeof inbox, "%sinbox.", prefix);
    snprintf(events, sizeof events, "%sevents", prefix);
    snprintf(certs, sizeof certs, "%scerts", prefix);

    for (size_t i = 0; units && i < units_count(units); i++) {
        const char *code = units_at(units, i)->code;
        /* any unit may address a document or status to any unit, and report events */
        add(&l, code, ACL_RES_TOPIC, 1, inbox, NULL, RD_KAFKA_ACL_OPERATION_WRITE);
        add(&l, code, ACL_RES_TOPIC, 1, inbox, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);
        add(&l, code, ACL_RES_TOPIC, 0, events, NULL, RD_KAFKA_ACL_OPERATION_WRITE);
        add(&l, code, ACL_RES_TOPIC, 0, events, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);
        /* but reads only what is addressed to it, in its own consumer groups */
        add(&l, code, ACL_RES_TOPIC, 0, inbox, code, RD_KAFKA_ACL_OPERATION_READ);
        add(&l, code, ACL_RES_GROUP, 1, inbox_group, code, RD_KAFKA_ACL_OPERATION_READ);
        /* every verifier learns unit certificates and the CRL from the certs topic,
         * read with a group-less consumer */
        add(&l, code, ACL_RES_TOPIC, 0, certs, NULL, RD_KAFKA_ACL_OPERATION_READ);
        add(&l, code, ACL_RES_TOPIC, 0, certs, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);
        add(&l, code, ACL_RES_GROUP, 0, nogroup, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);
        if (o->grant_create) {
            add(&l, code, ACL_RES_TOPIC, 1, inbox, NULL, RD_KAFKA_ACL_OPERATION_CREATE);
            add(&l, code, ACL_RES_TOPIC, 0, events, NULL, RD_KAFKA_ACL_OPERATION_CREATE);
        }
    }

    add(&l, agg, ACL_RES_TOPIC, 1, prefix, NULL, RD_KAFKA_ACL_OPERATION_READ);
    add(&l, agg, ACL_RES_TOPIC, 1, prefix, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);
    for (size_t i = 0; i < sizeof agg_writes / sizeof agg_writes[0]; i++) {
        add(&l, agg, ACL_RES_TOPIC, 0, prefix, agg_writes[i], RD_KAFKA_ACL_OPERATION_WRITE);
        if (o->grant_create)
            add(&l, agg, ACL_RES_TOPIC, 0, prefix, agg_writes[i], RD_KAFKA_ACL_OPERATION_CREATE);
    }
    if (o->grant_create)   /* the aggregator ensures docbus.events exists too */
        add(&l, agg, ACL_RES_TOPIC, 0, events, NULL, RD_KAFKA_ACL_OPERATION_CREATE);
    add(&l, agg, ACL_RES_GROUP, 0, agg_group, NULL, RD_KAFKA_ACL_OPERATION_READ);
    /* rebuilding state reads the changelogs with a group-less consumer */
    add(&l, agg, ACL_RES_GROUP, 0, nogroup, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);
    /* its transactional ids are agg_group + "-" + instance */
    add(&l, agg, ACL_RES_TRANSACTIONAL_ID, 1, agg_group, NULL, RD_KAFKA_ACL_OPERATION_WRITE);
    add(&l, agg, ACL_RES_TRANSACTIONAL_ID, 1, agg_group, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);

    add(&l, aud, ACL_RES_TOPIC, 1, prefix, NULL, RD_KAFKA_ACL_OPERATION_READ);
    add(&l, aud, ACL_RES_TOPIC, 1, prefix, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);
    add(&l, aud, ACL_RES_GROUP, 1, audit_group, NULL, RD_KAFKA_ACL_OPERATION_READ);
    add(&l, aud, ACL_RES_GROUP, 0, nogroup, NULL, RD_KAFKA_ACL_OPERATION_DESCRIBE);

    if (l.failed) {
        free(l.v);
        return l.failed;
    }
    normalise(l.v, &l.n);
    *out = l.v;
    *n = l.n;
    return 0;
}

const char *acl_res_name(acl_res_t r)
{
    switch (r) {
    case ACL_RES_TOPIC:
        return "topic";
    case ACL_RES_GROUP:
        return "group";
    case ACL_RES_TRANSACTIONAL_ID:
        return "transactional-id";
    }
    return "unknown";
}

const char *acl_op_name(rd_kafka_AclOperation_t op)
{
    switch (op) {
    case RD_KAFKA_ACL_OPERATION_READ:
        return "read";
    case RD_KAFKA_ACL_OPERATION_WRITE:
        return "write";
    case RD_KAFKA_ACL_OPERATION_DESCRIBE:
        return "describe";
    case RD_KAFKA_ACL_OPERATION_CREATE:
        return "create";
    case RD_KAFKA_ACL_OPERATION_ALL:
        return "all";
    case RD_KAFKA_ACL_OPERATION_DELETE:
        return "delete";
    case RD_KAFKA_ACL_OPERATION_ALTER:
        return "alter";
    case RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS:
        return "describe-configs";
    case RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS:
        return "alter-configs";
    case RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE:
        return "idempotent-write";
    case RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION:
        return "cluster-action";
    default:
        return "unknown";
    }
}

char *acl_entry_format(const acl_entry_t *e, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s %s:%s%s", e->principal, acl_op_name(e->op), acl_res_name(e->resource),
             e->name, e->prefixed ? "*" : "");
    return buf;
}

int acl_entry_manageable(const acl_entry_t *e)
{
    return e->resource == ACL_RES_TOPIC || e->resource == ACL_RES_GROUP;
}

static int principal_in(const acl_entry_t *v, size_t n, const char *principal)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].principal, principal))
            return 1;
    return 0;
}

int acl_diff(const acl_entry_t *want, size_t nwant, const acl_entry_t *have, size_t nhave,
             acl_entry_t **missing, size_t *nmissing, acl_entry_t **extra, size_t *nextra)
{
    acl_entry_t *m = calloc(nwant ? nwant : 1, sizeof *m), *x = NULL;
    size_t nm = 0, nx = 0;
    if (!m)
        return DB_ERR_NOMEM;
    for (size_t i = 0; i < nwant; i++)
        if (!bsearch(&want[i], have, nhave, sizeof *have, acl_entry_cmp))
            m[nm++] = want[i];
    if (extra) {
        if (!(x = calloc(nhave ? nhave : 1, sizeof *x))) {
            free(m);
            return DB_ERR_NOMEM;
        }
        for (size_t i = 0; i < nhave; i++)
            if (principal_in(want, nwant, have[i].principal) &&
                !bsearch(&have[i], want, nwant, sizeof *want, acl_entry_cmp))
                x[nx++] = have[i];
        *extra = x;
        *nextra = nx;
    }
    *missing = m;
    *nmissing = nm;
    return 0;
}

/* ---- Admin API -------------------------------------------------------------------- */

static rd_kafka_ResourceType_t rk_restype(acl_res_t r)
{
    return r == ACL_RES_GROUP ? RD_KAFKA_RESOURCE_GROUP : RD_KAFKA_RESOURCE_TOPIC;
}

static rd_kafka_AdminOptions_t *options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int timeout_ms)
{
    char e[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    if (o)
        rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, e, sizeof e);
    return o;
}

/* Issues nothing; waits for the event on q and checks its top-level error. */
static rd_kafka_event_t *wait_event(rd_kafka_queue_t *q, int timeout_ms, const char *what,
                                    rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (!ev) {
        *kerr = RD_KAFKA_RESP_ERR__TIMED_OUT;
        snprintf(errstr, errstr_size, "%s: no answer within %d ms", what, timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        *kerr = rd_kafka_event_error(ev);
        snprintf(errstr, errstr_size, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static int describe_type(rd_kafka_t *rk, rd_kafka_queue_t *q, rd_kafka_ResourceType_t type,
                         struct acl_list *l, int timeout_ms, rd_kafka_resp_err_t *kerr,
                         char *errstr, size_t errstr_size)
{
    char e[256];
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        type, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL, RD_KAFKA_ACL_OPERATION_ANY,
        RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, e, sizeof e);
    rd_kafka_AdminOptions_t *o = options(rk, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, timeout_ms);
    rd_kafka_event_t *ev = NULL;
    int rc = 0;
    if (!f || !o) {
        snprintf(errstr, errstr_size, "DescribeAcls filter: %s", f ? "out of memory" : e);
        rc = DB_ERR_NOMEM;
        goto out;
    }
    rd_kafka_DescribeAcls(rk, f, o, q);
    if (!(ev = wait_event(q, timeout_ms, "DescribeAcls", kerr, errstr, errstr_size))) {
        rc = DB_ERR_KAFKA;
        goto out;
    }
    {
        size_t cnt = 0;
        const rd_kafka_AclBinding_t **b =
            rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_ResourcePatternType_t pt = rd_kafka_AclBinding_resource_pattern_type(b[i]);
            const char *principal = rd_kafka_AclBinding_principal(b[i]);
            const char *host = rd_kafka_AclBinding_host(b[i]);
            /* docbus grants only ALLOW for host * with literal or prefixed patterns */
            if ((pt != RD_KAFKA_RESOURCE_PATTERN_LITERAL && pt != RD_KAFKA_RESOURCE_PATTERN_PREFIXED) ||
                !host || strcmp(host, "*") || !principal || strncmp(principal, "User:", 5))
                continue;
            add(l, principal + 5, type == RD_KAFKA_RESOURCE_GROUP ? ACL_RES_GROUP : ACL_RES_TOPIC,
                pt == RD_KAFKA_RESOURCE_PATTERN_PREFIXED, rd_kafka_AclBinding_name(b[i]), NULL,
                rd_kafka_AclBinding_operation(b[i]));
        }
        if (l->failed)
            rc = l->failed;
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (f)
        rd_kafka_AclBinding_destroy(f);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    return rc;
}

int acl_describe(rd_kafka_t *rk, acl_entry_t **out, size_t *n, int timeout_ms,
                 rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t dummy;
    struct acl_list l = {.errstr = errstr, .errstr_size = errstr_size};
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int rc;
    if (!kerr)
        kerr = &dummy;
    *kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    *out = NULL;
    *n = 0;
    if (!q) {
        snprintf(errstr, errstr_size, "out of memory");
        return DB_ERR_NOMEM;
    }
    /* One request per type: a filter of ANY type would also return transactional-id
     * bindings, which librdkafka 2.0.2 cannot represent (it warns about each). */
    if (!(rc = describe_type(rk, q, RD_KAFKA_RESOURCE_TOPIC, &l, timeout_ms, kerr, errstr, errstr_size)))
        rc = describe_type(rk, q, RD_KAFKA_RESOURCE_GROUP, &l, timeout_ms, kerr, errstr, errstr_size);
    rd_kafka_queue_destroy(q);
    if (rc) {
        free(l.v);
        return rc;
    }
    normalise(l.v, &l.n);
    *out = l.v;
    *n = l.n;
    return 0;
}

int acl_create(rd_kafka_t *rk, const acl_entry_t *entries, size_t n, int timeout_ms,
               rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t dummy;
    rd_kafka_AclBinding_t **b = NULL;
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    size_t k = 0;
    int rc = 0;
    if (!kerr)
        kerr = &dummy;
    *kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (n == 0)
        return 0;
    if (!(b = calloc(n, sizeof *b)) || !(q = rd_kafka_queue_new(rk)) ||
        !(o = options(rk, RD_KAFKA_ADMIN_OP_CREATEACLS, timeout_ms))) {
        snprintf(errstr, errstr_size, "out of memory");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (; k < n; k++) {
        const acl_entry_t *e = &entries[k];
        char fmt[512];
        if (!acl_entry_manageable(e)) {
            snprintf(errstr, errstr_size, "%s: librdkafka cannot create %s ACLs",
                     acl_entry_format(e, fmt, sizeof fmt), acl_res_name(e->resource));
            rc = DB_ERR_INVALID;
            goto out;
        }
        b[k] = rd_kafka_AclBinding_new(rk_restype(e->resource), e->name,
                                       e->prefixed ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED
                                                   : RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                       e->principal, "*", e->op, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
                                       errstr, errstr_size);
        if (!b[k]) {
            rc = DB_ERR_INVALID;
            goto out;
        }
    }
    rd_kafka_CreateAcls(rk, b, n, o, q);
    if (!(ev = wait_event(q, timeout_ms, "CreateAcls", kerr, errstr, errstr_size))) {
        rc = DB_ERR_KAFKA;
        goto out;
    }
    {
        size_t cnt = 0;
        const rd_kafka_acl_result_t **r =
            rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            const rd_kafka_error_t *err = rd_kafka_acl_result_error(r[i]);
            if (err) {
                char fmt[512];
                *kerr = rd_kafka_error_code(err);
                snprintf(errstr, errstr_size, "creating ACL %s: %s",
                         i < n ? acl_entry_format(&entries[i], fmt, sizeof fmt) : "?",
                         rd_kafka_error_string(err));
                rc = DB_ERR_KAFKA;
                break;
            }
        }
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; b && i < k; i++)
        rd_kafka_AclBinding_destroy(b[i]);
    free(b);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

/* DeleteAcls with the given filters; counts the bindings the broker removed. */
static int delete_filters(rd_kafka_t *rk, rd_kafka_AclBindingFilter_t **f, size_t n,
                          size_t *deleted, int timeout_ms, rd_kafka_resp_err_t *kerr,
                          char *errstr, size_t errstr_size)
{
    rd_kafka_AdminOptions_t *o = options(rk, RD_KAFKA_ADMIN_OP_DELETEACLS, timeout_ms);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    int rc = 0;
    if (deleted)
        *deleted = 0;
    if (!o || !q) {
        snprintf(errstr, errstr_size, "out of memory");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    rd_kafka_DeleteAcls(rk, f, n, o, q);
    if (!(ev = wait_event(q, timeout_ms, "DeleteAcls", kerr, errstr, errstr_size))) {
        rc = DB_ERR_KAFKA;
        goto out;
    }
    {
        size_t cnt = 0;
        const rd_kafka_DeleteAcls_result_response_t **r =
            rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            const rd_kafka_error_t *err = rd_kafka_DeleteAcls_result_response_error(r[i]);
            size_t m = 0;
            if (err) {
                *kerr = rd_kafka_error_code(err);
                snprintf(errstr, errstr_size, "DeleteAcls: %s", rd_kafka_error_string(err));
                rc = DB_ERR_KAFKA;
                break;
            }
            rd_kafka_DeleteAcls_result_response_matching_acls(r[i], &m);
            if (deleted)
                *deleted += m;
        }
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

int acl_delete(rd_kafka_t *rk, const acl_entry_t *entries, size_t n, int timeout_ms,
               rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t dummy;
    rd_kafka_AclBindingFilter_t **f;
    size_t k = 0;
    int rc = 0;
    if (!kerr)
        kerr = &dummy;
    *kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (n == 0)
        return 0;
    if (!(f = calloc(n, sizeof *f))) {
        snprintf(errstr, errstr_size, "out of memory");
        return DB_ERR_NOMEM;
    }
    for (; k < n; k++) {
        const acl_entry_t *e = &entries[k];
        if (!acl_entry_manageable(e) ||
            !(f[k] = rd_kafka_AclBindingFilter_new(
                  rk_restype(e->resource), e->name,
                  e->prefixed ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED : RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                  e->principal, "*", e->op, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr,
                  errstr_size))) {
            if (!acl_entry_manageable(e))
                snprintf(errstr, errstr_size, "librdkafka cannot delete %s ACLs",
                         acl_res_name(e->resource));
            rc = DB_ERR_INVALID;
            goto out;
        }
    }
    rc = delete_filters(rk, f, n, NULL, timeout_ms, kerr, errstr, errstr_size);
out:
    for (size_t i = 0; i < k; i++)
        rd_kafka_AclBinding_destroy(f[i]);
    free(f);
    return rc;
}

int acl_delete_principal(rd_kafka_t *rk, const char *principal, size_t *deleted, int timeout_ms,
                         rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t dummy;
    rd_kafka_AclBindingFilter_t *f;
    int rc;
    if (!kerr)
        kerr = &dummy;
    *kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    f = rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY,
                                      principal, NULL, RD_KAFKA_ACL_OPERATION_ANY,
                                      RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, errstr_size);
    if (!f)
        return DB_ERR_INVALID;
    rc = delete_filters(rk, &f, 1, deleted, timeout_ms, kerr, errstr, errstr_size);
    rd_kafka_AclBinding_destroy(f);
    return rc;
}

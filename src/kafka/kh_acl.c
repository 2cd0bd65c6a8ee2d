/*
 * kh_acl.c - authorization on the broker: the check every handler makes (wr__kauthz*) against
 * src/security/acl.h, and the ACL APIs: CreateAcls, DescribeAcls, DeleteAcls (v0-1).
 *
 * Without an authorizer (authorizer.class.name unset) every check allows and the ACL APIs answer
 * SECURITY_DISABLED, as Kafka does. With one, the principal is the connection's (User:<name>
 * after SASL, the certificate's subject under SSL with a client certificate, User:ANONYMOUS
 * otherwise) and the host its peer address. The handlers that check per resource are listed in
 * wr__kauthz_api_covered; every other API is served to super users only (fail closed) until it
 * checks its resources too.
 *
 * Threads: the broker's loop thread (and Produce's worker, which only reads the store).
 */
#include <string.h>

#include "src/base/logging.h"
#include "src/kafka/broker_int.h"

bool
wr__kauthz(wr_kreq *r, int op, int rtype, const char *name, size_t nlen)
{
    wr_kconn *c = r->conn;
    wr_broker *b = c->b;
    if (b->acl == NULL)
        return true;
    bool ok = wr_acl_authorize(b->acl, c->principal, c->host, op, rtype, name, nlen);
    if (!ok)
        wr_log(WR_LOG_INFO, "kafka", "%s: %s denied %s on %.*s (%s)", c->peer, c->principal,
               r->api ? r->api->name : "?", (int)(nlen > 200 ? 200 : nlen), name,
               rtype == WR_ACL_RES_TOPIC     ? "topic"
               : rtype == WR_ACL_RES_GROUP   ? "group"
               : rtype == WR_ACL_RES_CLUSTER ? "cluster"
                                             : "transactional id");
    return ok;
}

bool
wr__kauthz_str(wr_kreq *r, int op, int rtype, wr_kstr name)
{
    return wr__kauthz(r, op, rtype, name.s ? name.s : "", name.s ? (size_t)name.len : 0);
}

bool
wr__kauthz_cluster(wr_kreq *r, int op)
{
    return wr__kauthz(r, op, WR_ACL_RES_CLUSTER, "kafka-cluster", 13);
}

bool
wr__kauthz_idempotent(wr_kreq *r)
{
    wr_kconn *c = r->conn;
    wr_broker *b = c->b;
    /* Kafka's rule since KIP-679: IDEMPOTENT_WRITE on the cluster, or WRITE on any topic */
    return b->acl == NULL || wr__kauthz_cluster(r, WR_ACL_OP_IDEMPOTENT_WRITE) ||
           wr_acl_allows_any(b->acl, c->principal, c->host, WR_ACL_OP_WRITE, WR_ACL_RES_TOPIC);
}

bool
wr__kauthz_api_covered(int16_t api_key)
{
    switch (api_key) {
    case WR_KAPI_API_VERSIONS:
    case WR_KAPI_SASL_HANDSHAKE:
    case WR_KAPI_SASL_AUTHENTICATE:
    case WR_KAPI_METADATA:
    case WR_KAPI_PRODUCE:
    case WR_KAPI_FETCH:
    case WR_KAPI_LIST_OFFSETS:
    case WR_KAPI_FIND_COORDINATOR:
    case WR_KAPI_JOIN_GROUP:
    case WR_KAPI_SYNC_GROUP:
    case WR_KAPI_HEARTBEAT:
    case WR_KAPI_LEAVE_GROUP:
    case WR_KAPI_OFFSET_COMMIT:
    case WR_KAPI_OFFSET_FETCH:
    case WR_KAPI_CREATE_TOPICS:
    case WR_KAPI_DELETE_TOPICS:
    case WR_KAPI_INIT_PRODUCER_ID:
    case WR_KAPI_CREATE_ACLS:
    case WR_KAPI_DESCRIBE_ACLS:
    case WR_KAPI_DELETE_ACLS:
        return true;
    default:
        return false;
    }
}

bool
wr__kauthz_super(const wr_kconn *c)
{
    return c->b->acl == NULL || wr_acl_is_super(c->b->acl, c->principal);
}

/* ---- the ACL APIs ----------------------------------------------------------------------- */

static const char *
dup_or_null(wr_kreq *r, wr_kstr s)
{
    return s.s ? wr_arena_strndup(r->arena, s.s, (size_t)s.len) : NULL;
}

static wr_kstr
kstr_dup(wr_kreq *r, const char *s)
{
    return wr_kstr_of(wr_arena_strdup(r->arena, s));
}

void
wr__kh_create_acls(wr_kreq *r)
{
    const wr_kp_create_acls_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_create_acls_resp *s = wr_kp_new(r->arena, &wr_kp_create_acls_resp_desc, v);
    r->resp = s;
    int32_t n = q->creations.n > 0 ? q->creations.n : 0;
    s->results.n = n;
    s->results.v = wr_kp_new_array(r->arena, &wr_kp_create_acls_resp_acl_creation_result_desc, n, v);
    wr_broker *b = r->conn->b;
    bool allowed = wr__kauthz_cluster(r, WR_ACL_OP_ALTER);
    for (int32_t i = 0; i < n; i++) {
        const wr_kp_create_acls_req_acl_creation *cr = &q->creations.v[i];
        wr_kp_create_acls_resp_acl_creation_result *res = &s->results.v[i];
        if (b->acl == NULL) {
            res->error_code = WR_KERR_SECURITY_DISABLED;
            res->error_message = wr_kstr_of("no authorizer is configured (authorizer.class.name)");
            continue;
        }
        if (!allowed) {
            res->error_code = WR_KERR_CLUSTER_AUTHORIZATION_FAILED;
            continue;
        }
        wr_acl a = {cr->resource_type,         dup_or_null(r, cr->resource_name),
                    v >= 1 ? cr->resource_pattern_type : (int8_t)WR_ACL_PAT_LITERAL,
                    dup_or_null(r, cr->principal), dup_or_null(r, cr->host), cr->operation,
                    cr->permission_type};
        wr_err err = {0};
        int rc = wr_acl_add(b->acl, &a, &err);
        if (rc != WR_OK) {
            res->error_code = rc == WR_EINVAL ? WR_KERR_INVALID_REQUEST : WR_KERR_UNKNOWN_SERVER_ERROR;
            res->error_message = kstr_dup(r, err.msg);
        }
    }
    wr__kreq_finish(r);
}

typedef struct describe_ctx {
    wr_kreq *r;
    wr_kp_describe_acls_resp *s;
    int32_t cap;
} describe_ctx;

static int
describe_one(void *arg, const wr_acl *a)
{
    describe_ctx *d = arg;
    wr_kreq *r = d->r;
    int16_t v = r->hdr.api_version;
    wr_kp_describe_acls_resp *s = d->s;
    /* one resource entry per (type, name, pattern), its bindings under it */
    wr_kp_describe_acls_resp_describe_acls_resource *res = NULL;
    for (int32_t i = 0; i < s->resources.n && res == NULL; i++) {
        wr_kp_describe_acls_resp_describe_acls_resource *e = &s->resources.v[i];
        if (e->resource_type == a->resource_type && e->pattern_type == a->pattern_type &&
            (size_t)e->resource_name.len == strlen(a->resource_name) &&
            memcmp(e->resource_name.s, a->resource_name, strlen(a->resource_name)) == 0)
            res = e;
    }
    if (res == NULL) {
        if (s->resources.n == d->cap) {
            int32_t cap = d->cap ? d->cap * 2 : 8;
            wr_kp_describe_acls_resp_describe_acls_resource *nv = wr_kp_new_array(
                r->arena, &wr_kp_describe_acls_resp_describe_acls_resource_desc, cap, v);
            if (nv == NULL)
                return 1;
            if (s->resources.n > 0)
                memcpy(nv, s->resources.v, (size_t)s->resources.n * sizeof *nv);
            s->resources.v = nv;
            d->cap = cap;
        }
        res = &s->resources.v[s->resources.n++];
        res->resource_type = a->resource_type;
        res->resource_name = kstr_dup(r, a->resource_name);
        res->pattern_type = a->pattern_type;
        res->acls.n = 0;
        res->acls.v = NULL;
    }
    wr_kp_describe_acls_resp_acl_description *nv =
        wr_kp_new_array(r->arena, &wr_kp_describe_acls_resp_acl_description_desc, res->acls.n + 1, v);
    if (nv == NULL)
        return 1;
    if (res->acls.n > 0)
        memcpy(nv, res->acls.v, (size_t)res->acls.n * sizeof *nv);
    nv[res->acls.n] = (wr_kp_describe_acls_resp_acl_description){
        kstr_dup(r, a->principal), kstr_dup(r, a->host), a->operation, a->permission};
    res->acls.v = nv;
    res->acls.n++;
    return 0;
}

void
wr__kh_describe_acls(wr_kreq *r)
{
    const wr_kp_describe_acls_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_describe_acls_resp *s = wr_kp_new(r->arena, &wr_kp_describe_acls_resp_desc, v);
    r->resp = s;
    s->resources.n = 0;
    wr_broker *b = r->conn->b;
    if (b->acl == NULL) {
        s->error_code = WR_KERR_SECURITY_DISABLED;
        s->error_message = wr_kstr_of("no authorizer is configured (authorizer.class.name)");
    } else if (!wr__kauthz_cluster(r, WR_ACL_OP_DESCRIBE)) {
        s->error_code = WR_KERR_CLUSTER_AUTHORIZATION_FAILED;
    } else {
        wr_acl f = {q->resource_type_filter, dup_or_null(r, q->resource_name_filter),
                    v >= 1 ? q->pattern_type_filter : (int8_t)WR_ACL_PAT_LITERAL,
                    dup_or_null(r, q->principal_filter), dup_or_null(r, q->host_filter),
                    q->operation, q->permission_type};
        describe_ctx d = {r, s, 0};
        wr_acl_describe(b->acl, &f, describe_one, &d);
    }
    wr__kreq_finish(r);
}

typedef struct delete_ctx {
    wr_kreq *r;
    wr_kp_delete_acls_resp_delete_acls_filter_result *fr;
} delete_ctx;

static void
deleted_one(void *arg, const wr_acl *a)
{
    delete_ctx *d = arg;
    wr_kreq *r = d->r;
    int16_t v = r->hdr.api_version;
    wr_kp_delete_acls_resp_delete_acls_filter_result *fr = d->fr;
    wr_kp_delete_acls_resp_delete_acls_matching_acl *nv = wr_kp_new_array(
        r->arena, &wr_kp_delete_acls_resp_delete_acls_matching_acl_desc, fr->matching_acls.n + 1, v);
    if (nv == NULL)
        return;
    if (fr->matching_acls.n > 0)
        memcpy(nv, fr->matching_acls.v, (size_t)fr->matching_acls.n * sizeof *nv);
    wr_kp_delete_acls_resp_delete_acls_matching_acl *m = &nv[fr->matching_acls.n];
    m->resource_type = a->resource_type;
    m->resource_name = kstr_dup(r, a->resource_name);
    m->pattern_type = a->pattern_type;
    m->principal = kstr_dup(r, a->principal);
    m->host = kstr_dup(r, a->host);
    m->operation = a->operation;
    m->permission_type = a->permission;
    fr->matching_acls.v = nv;
    fr->matching_acls.n++;
}

void
wr__kh_delete_acls(wr_kreq *r)
{
    const wr_kp_delete_acls_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_delete_acls_resp *s = wr_kp_new(r->arena, &wr_kp_delete_acls_resp_desc, v);
    r->resp = s;
    int32_t n = q->filters.n > 0 ? q->filters.n : 0;
    s->filter_results.n = n;
    s->filter_results.v =
        wr_kp_new_array(r->arena, &wr_kp_delete_acls_resp_delete_acls_filter_result_desc, n, v);
    wr_broker *b = r->conn->b;
    bool allowed = wr__kauthz_cluster(r, WR_ACL_OP_ALTER);
    for (int32_t i = 0; i < n; i++) {
        const wr_kp_delete_acls_req_delete_acls_filter *qf = &q->filters.v[i];
        wr_kp_delete_acls_resp_delete_acls_filter_result *fr = &s->filter_results.v[i];
        fr->matching_acls.n = 0;
        if (b->acl == NULL) {
            fr->error_code = WR_KERR_SECURITY_DISABLED;
            continue;
        }
        if (!allowed) {
            fr->error_code = WR_KERR_CLUSTER_AUTHORIZATION_FAILED;
            continue;
        }
        wr_acl f = {qf->resource_type_filter, dup_or_null(r, qf->resource_name_filter),
                    v >= 1 ? qf->pattern_type_filter : (int8_t)WR_ACL_PAT_LITERAL,
                    dup_or_null(r, qf->principal_filter), dup_or_null(r, qf->host_filter),
                    qf->operation, qf->permission_type};
        delete_ctx d = {r, fr};
        wr_err err = {0};
        if (wr_acl_delete(b->acl, &f, deleted_one, &d, &err) != WR_OK) {
            fr->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
            fr->error_message = kstr_dup(r, err.msg);
        }
    }
    wr__kreq_finish(r);
}

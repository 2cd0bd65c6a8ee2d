/*
 * acl.c - ACL bindings (kept in memory, written through to the metadata table "acls") and the
 * authorizer. See acl.h.
 *
 * A row's key is the binding itself: the four small numbers, then the three strings each
 * NUL-terminated (resource name, principal, host); its value is empty.
 */
#include "src/security/acl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/buf.h"
#include "src/log/log.h"

#define TABLE     "acls"
#define MAX_SUPER 64

typedef struct binding {
    int8_t rtype, pattern, op, perm;
    char *name, *principal, *host;
} binding;

struct wr_acl_store {
    wr_logdb *db;
    pthread_rwlock_t lock;
    binding *b;
    size_t n, cap;
    char *supers[MAX_SUPER];
    int nsupers;
    bool allow_if_none;
};

static wr_acl
view(const binding *b)
{
    return (wr_acl){b->rtype, b->name, b->pattern, b->principal, b->host, b->op, b->perm};
}

/* The row key of a into k; returns its length. */
static size_t
row_key(const wr_acl *a, wr_buf *k)
{
    wr_buf_reset(k);
    uint8_t nums[4] = {(uint8_t)a->resource_type, (uint8_t)a->pattern_type, (uint8_t)a->operation,
                       (uint8_t)a->permission};
    wr_buf_append(k, nums, 4);
    wr_buf_append(k, a->resource_name, strlen(a->resource_name) + 1);
    wr_buf_append(k, a->principal, strlen(a->principal) + 1);
    wr_buf_append(k, a->host, strlen(a->host) + 1);
    return wr_buf_ok(k) ? k->len : 0;
}

static bool
same(const binding *b, const wr_acl *a)
{
    return b->rtype == a->resource_type && b->pattern == a->pattern_type &&
           b->op == a->operation && b->perm == a->permission &&
           strcmp(b->name, a->resource_name) == 0 && strcmp(b->principal, a->principal) == 0 &&
           strcmp(b->host, a->host) == 0;
}

static int
keep(wr_acl_store *s, const wr_acl *a)
{
    for (size_t i = 0; i < s->n; i++)
        if (same(&s->b[i], a))
            return WR_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        binding *nb = realloc(s->b, cap * sizeof *nb);
        if (nb == NULL)
            return WR_ENOMEM;
        s->b = nb;
        s->cap = cap;
    }
    binding *b = &s->b[s->n];
    *b = (binding){a->resource_type, a->pattern_type, a->operation, a->permission,
                   strdup(a->resource_name), strdup(a->principal), strdup(a->host)};
    if (b->name == NULL || b->principal == NULL || b->host == NULL) {
        free(b->name);
        free(b->principal);
        free(b->host);
        return WR_ENOMEM;
    }
    s->n++;
    return WR_OK;
}

static int
load_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    wr_acl_store *s = arg;
    const char *k = key;
    if (klen < 7 || k[klen - 1] != 0)
        return 0; /* not a row of ours */
    const char *name = k + 4, *end = k + klen;
    const char *principal = memchr(name, 0, (size_t)(end - name));
    const char *host = principal ? memchr(principal + 1, 0, (size_t)(end - principal - 1)) : NULL;
    if (principal == NULL || host == NULL || host + 1 >= end)
        return 0;
    wr_acl a = {(int8_t)k[0], name, (int8_t)k[1], principal + 1, host + 1, (int8_t)k[2],
                (int8_t)k[3]};
    wr_err err = {0};
    if (wr_acl_validate(&a, &err) != WR_OK)
        return 0;
    return keep(s, &a) == WR_OK ? 0 : 1;
}

int
wr_acl_store_open(wr_logdb *db,
                  const char *super_users,
                  bool allow_if_no_acl,
                  wr_acl_store **out,
                  wr_err *err)
{
    *out = NULL;
    wr_acl_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    s->db = db;
    s->allow_if_none = allow_if_no_acl;
    pthread_rwlock_init(&s->lock, NULL);
    for (const char *p = super_users ? super_users : ""; *p;) {
        while (*p == ';' || *p == ' ')
            p++;
        size_t n = strcspn(p, "; ");
        if (n == 0)
            break;
        if (s->nsupers == MAX_SUPER || memchr(p, ':', n) == NULL) {
            wr_acl_store_close(s);
            return wr_err_set(err, WR_EINVAL,
                              "super.users: '%.*s' is not a principal (Type:name; at most %d)",
                              (int)n, p, MAX_SUPER);
        }
        if ((s->supers[s->nsupers++] = strndup(p, n)) == NULL) {
            wr_acl_store_close(s);
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        }
        p += n;
    }
    int rc = wr_log_meta_scan(db, TABLE, "", 0, load_one, s, err);
    if (rc != WR_OK) {
        wr_acl_store_close(s);
        return rc;
    }
    *out = s;
    return WR_OK;
}

void
wr_acl_store_close(wr_acl_store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->b[i].name);
        free(s->b[i].principal);
        free(s->b[i].host);
    }
    free(s->b);
    for (int i = 0; i < s->nsupers; i++)
        free(s->supers[i]);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

bool
wr_acl_is_super(const wr_acl_store *s, const char *principal)
{
    for (int i = 0; i < s->nsupers; i++)
        if (strcmp(s->supers[i], principal) == 0)
            return true;
    return false;
}

/* Whether b's pattern covers the resource (type, name). */
static bool
covers(const binding *b, int rtype, const char *name, size_t nlen)
{
    if (b->rtype != rtype)
        return false;
    size_t bl = strlen(b->name);
    if (b->pattern == WR_ACL_PAT_LITERAL)
        return (bl == 1 && b->name[0] == '*') || (bl == nlen && memcmp(b->name, name, nlen) == 0);
    return b->pattern == WR_ACL_PAT_PREFIXED && bl <= nlen && memcmp(b->name, name, bl) == 0;
}

static bool
who(const binding *b, const char *principal, const char *host)
{
    return (strcmp(b->principal, principal) == 0 || strcmp(b->principal, "User:*") == 0) &&
           (strcmp(b->host, "*") == 0 || strcmp(b->host, host) == 0);
}

/* Whether an ALLOW of b's operation allows op. */
static bool
allows(int bop, int op)
{
    if (bop == op || bop == WR_ACL_OP_ALL)
        return true;
    if (op == WR_ACL_OP_DESCRIBE)
        return bop == WR_ACL_OP_READ || bop == WR_ACL_OP_WRITE || bop == WR_ACL_OP_DELETE ||
               bop == WR_ACL_OP_ALTER;
    return op == WR_ACL_OP_DESCRIBE_CONFIGS && bop == WR_ACL_OP_ALTER_CONFIGS;
}

bool
wr_acl_authorize(wr_acl_store *s,
                 const char *principal,
                 const char *host,
                 int operation,
                 int resource_type,
                 const char *name,
                 size_t nlen)
{
    if (wr_acl_is_super(s, principal))
        return true;
    pthread_rwlock_rdlock(&s->lock);
    bool any = false, denied = false, allowed = false;
    for (size_t i = 0; i < s->n && !denied; i++) {
        const binding *b = &s->b[i];
        if (!covers(b, resource_type, name, nlen))
            continue;
        any = true;
        if (!who(b, principal, host))
            continue;
        if (b->perm == WR_ACL_PERM_DENY && (b->op == operation || b->op == WR_ACL_OP_ALL))
            denied = true;
        else if (b->perm == WR_ACL_PERM_ALLOW && allows(b->op, operation))
            allowed = true;
    }
    pthread_rwlock_unlock(&s->lock);
    if (!any)
        return s->allow_if_none;
    return !denied && allowed;
}

bool
wr_acl_allows_any(wr_acl_store *s, const char *principal, const char *host, int operation,
                  int resource_type)
{
    if (wr_acl_is_super(s, principal))
        return true;
    pthread_rwlock_rdlock(&s->lock);
    bool yes = false;
    for (size_t i = 0; i < s->n && !yes; i++) {
        const binding *b = &s->b[i];
        yes = b->rtype == resource_type && b->perm == WR_ACL_PERM_ALLOW &&
              allows(b->op, operation) && who(b, principal, host);
    }
    pthread_rwlock_unlock(&s->lock);
    return yes;
}

int
wr_acl_validate(const wr_acl *a, wr_err *err)
{
    if (a->resource_type < WR_ACL_RES_TOPIC || a->resource_type > WR_ACL_RES_DELEGATION_TOKEN)
        return wr_err_set(err, WR_EINVAL, "invalid resource type %d", a->resource_type);
    if (a->pattern_type != WR_ACL_PAT_LITERAL && a->pattern_type != WR_ACL_PAT_PREFIXED)
        return wr_err_set(err, WR_EINVAL, "invalid pattern type %d", a->pattern_type);
    if (a->operation < WR_ACL_OP_ALL || a->operation > WR_ACL_OP_IDEMPOTENT_WRITE)
        return wr_err_set(err, WR_EINVAL, "invalid operation %d", a->operation);
    if (a->permission != WR_ACL_PERM_DENY && a->permission != WR_ACL_PERM_ALLOW)
        return wr_err_set(err, WR_EINVAL, "invalid permission type %d", a->permission);
    if (a->resource_name == NULL || a->resource_name[0] == 0 || strlen(a->resource_name) > 1000)
        return wr_err_set(err, WR_EINVAL, "a resource name must have 1 to 1000 bytes");
    if (a->resource_type == WR_ACL_RES_CLUSTER && strcmp(a->resource_name, "kafka-cluster") != 0)
        return wr_err_set(err, WR_EINVAL, "the cluster resource is named kafka-cluster");
    const char *colon = a->principal ? strchr(a->principal, ':') : NULL;
    if (colon == NULL || colon == a->principal || colon[1] == 0 || strlen(a->principal) > 300)
        return wr_err_set(err, WR_EINVAL, "'%s' is not a principal (Type:name)",
                          a->principal ? a->principal : "");
    if (a->host == NULL || a->host[0] == 0 || strlen(a->host) > 64)
        return wr_err_set(err, WR_EINVAL, "a host is '*' or an address");
    return WR_OK;
}

int
wr_acl_add(wr_acl_store *s, const wr_acl *a, wr_err *err)
{
    int rc = wr_acl_validate(a, err);
    if (rc != WR_OK)
        return rc;
    wr_buf k = WR_BUF_INIT;
    size_t kl = row_key(a, &k);
    pthread_rwlock_wrlock(&s->lock);
    rc = kl == 0 ? wr_err_set(err, WR_ENOMEM, "out of memory")
                 : wr_log_meta_put(s->db, TABLE, k.data, kl, "", 0, err);
    if (rc == WR_OK && keep(s, a) != WR_OK)
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    pthread_rwlock_unlock(&s->lock);
    wr_buf_free(&k);
    return rc;
}

static bool
str_match(const char *want, const char *have)
{
    return want == NULL || strcmp(want, have) == 0;
}

/* Whether the filter f matches the binding b (Kafka's AclBindingFilter). */
static bool
matches(const wr_acl *f, const binding *b)
{
    if (f->resource_type != WR_ACL_RES_ANY && f->resource_type != b->rtype)
        return false;
    if (f->operation != WR_ACL_OP_ANY && f->operation != b->op)
        return false;
    if (f->permission != WR_ACL_PERM_ANY && f->permission != b->perm)
        return false;
    if (!str_match(f->principal, b->principal) || !str_match(f->host, b->host))
        return false;
    if (f->pattern_type == WR_ACL_PAT_MATCH) {
        /* the bindings that would apply to the named resource */
        if (f->resource_name == NULL)
            return true;
        return covers(b, b->rtype, f->resource_name, strlen(f->resource_name));
    }
    if (f->pattern_type != WR_ACL_PAT_ANY && f->pattern_type != b->pattern)
        return false;
    return str_match(f->resource_name, b->name);
}

void
wr_acl_describe(wr_acl_store *s, const wr_acl *filter, int (*fn)(void *arg, const wr_acl *a),
                void *arg)
{
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = 0; i < s->n; i++) {
        if (!matches(filter, &s->b[i]))
            continue;
        wr_acl a = view(&s->b[i]);
        if (fn(arg, &a) != 0)
            break;
    }
    pthread_rwlock_unlock(&s->lock);
}

int
wr_acl_delete(wr_acl_store *s, const wr_acl *filter, void (*fn)(void *arg, const wr_acl *a),
              void *arg, wr_err *err)
{
    int rc = WR_OK;
    wr_buf k = WR_BUF_INIT;
    pthread_rwlock_wrlock(&s->lock);
    for (size_t i = 0; i < s->n && rc == WR_OK;) {
        binding *b = &s->b[i];
        if (!matches(filter, b)) {
            i++;
            continue;
        }
        wr_acl a = view(b);
        size_t kl = row_key(&a, &k);
        rc = kl == 0 ? wr_err_set(err, WR_ENOMEM, "out of memory")
                     : wr_log_meta_del(s->db, TABLE, k.data, kl, err);
        if (rc != WR_OK)
            break;
        fn(arg, &a);
        free(b->name);
        free(b->principal);
        free(b->host);
        s->b[i] = s->b[--s->n];
    }
    pthread_rwlock_unlock(&s->lock);
    wr_buf_free(&k);
    return rc;
}

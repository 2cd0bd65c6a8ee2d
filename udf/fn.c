/*
 * fn.c - the function registry: a name-sorted array of descriptors (see fn.h).
 */
#include "udf/fn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grammar/sql.h"

struct wr_fn_registry {
    const wr_fn_desc **v; /* sorted by name */
    int n, cap;
    wr_arena **owned; /* wr_fn_registry_adopt's */
    int nowned;
};

wr_fn_registry *
wr_fn_registry_create(void)
{
    return calloc(1, sizeof(wr_fn_registry));
}

void
wr_fn_registry_destroy(wr_fn_registry *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->nowned; i++)
        wr_arena_destroy(r->owned[i]);
    free(r->owned);
    free(r->v);
    free(r);
}

int
wr_fn_registry_adopt(wr_fn_registry *r, wr_arena *a)
{
    wr_arena **o = realloc(r->owned, (size_t)(r->nowned + 1) * sizeof *o);
    if (o == NULL)
        return WR_ENOMEM;
    r->owned = o;
    r->owned[r->nowned++] = a;
    return WR_OK;
}

/* The index of name, or -(insertion point) - 1. */
static int
find(const wr_fn_registry *r, const char *name)
{
    int lo = 0, hi = r->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcasecmp(name, r->v[mid]->name);
        if (c == 0)
            return mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -lo - 1;
}

int
wr_fn_register(wr_fn_registry *r, const wr_fn_desc *d, wr_err *err)
{
    int at = find(r, d->name);
    if (at >= 0)
        return wr_err_set(err, WR_EEXIST, "function %s already exists", d->name);
    at = -at - 1;
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 64;
        const wr_fn_desc **v = realloc(r->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        r->v = v;
        r->cap = cap;
    }
    memmove(&r->v[at + 1], &r->v[at], (size_t)(r->n - at) * sizeof *r->v);
    r->v[at] = d;
    r->n++;
    return WR_OK;
}

int
wr_fn_replace(wr_fn_registry *r, const wr_fn_desc *d, wr_err *err)
{
    int at = find(r, d->name);
    if (at < 0)
        return wr_err_set(err, WR_ENOENT, "function %s does not exist", d->name);
    r->v[at] = d;
    return WR_OK;
}

const wr_fn_desc *
wr_fn_lookup(const wr_fn_registry *r, const char *name)
{
    int at = find(r, name);
    return at >= 0 ? r->v[at] : NULL;
}

int
wr_fn_list(const wr_fn_registry *r, const wr_fn_desc *const **out)
{
    *out = r->v;
    return r->n;
}

void
wr_fn_warn(wr_fn_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->warning, sizeof ctx->warning, fmt, ap);
    va_end(ap);
}

const char *
wr_fn_type_list(wr_arena *a, const wr_sql_type *const *types, int n)
{
    wr_buf b = WR_BUF_INIT;
    for (int i = 0; i < n; i++) {
        if (i)
            wr_buf_printf(&b, ", ");
        if (types[i] == NULL)
            wr_buf_printf(&b, "NULL");
        else
            wr_ast_format_type(&b, types[i]);
    }
    wr_buf_put_u8(&b, 0);
    const char *s = wr_arena_strdup(a, wr_buf_ok(&b) ? (const char *)b.data : "?");
    wr_buf_free(&b);
    return s ? s : "?";
}

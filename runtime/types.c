/*
 * types.c - coercion, common types and CAST rules (see types.h).
 */
#include "runtime/types.h"

#include <string.h>

static const wr_sql_type prims[] = {
    [WR_T_BOOLEAN] = {.kind = WR_T_BOOLEAN},
    [WR_T_INT] = {.kind = WR_T_INT},
    [WR_T_BIGINT] = {.kind = WR_T_BIGINT},
    [WR_T_DOUBLE] = {.kind = WR_T_DOUBLE},
    [WR_T_DECIMAL] = {.kind = WR_T_DECIMAL, .precision = 38, .scale = 0},
    [WR_T_STRING] = {.kind = WR_T_STRING},
    [WR_T_BYTES] = {.kind = WR_T_BYTES},
    [WR_T_TIMESTAMP] = {.kind = WR_T_TIMESTAMP},
    [WR_T_DATE] = {.kind = WR_T_DATE},
    [WR_T_TIME] = {.kind = WR_T_TIME},
};

const wr_sql_type *
wr_type_of(wr_tkind k)
{
    return k <= WR_T_TIME ? &prims[k] : NULL;
}

const wr_sql_type *
wr_type_decimal(wr_arena *a, int precision, int scale)
{
    if (precision < 1 || precision > WR_DECIMAL_MAX_PRECISION || scale < 0 || scale > precision)
        return NULL;
    wr_sql_type *t = wr_arena_calloc(a, 1, sizeof *t);
    if (t != NULL) {
        t->kind = WR_T_DECIMAL;
        t->precision = precision;
        t->scale = scale;
    }
    return t;
}

bool
wr_type_is_numeric(const wr_sql_type *t)
{
    return t->kind == WR_T_INT || t->kind == WR_T_BIGINT || t->kind == WR_T_DECIMAL ||
           t->kind == WR_T_DOUBLE;
}

/* INT < BIGINT < DECIMAL < DOUBLE */
static int
numeric_rank(wr_tkind k)
{
    switch (k) {
    case WR_T_INT:
        return 1;
    case WR_T_BIGINT:
        return 2;
    case WR_T_DECIMAL:
        return 3;
    case WR_T_DOUBLE:
        return 4;
    default:
        return 0;
    }
}

static const wr_sql_type *
field_type(const wr_sql_type *s, const char *name)
{
    for (int i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return s->fields[i].type;
    return NULL;
}

bool
wr_type_equal(const wr_sql_type *x, const wr_sql_type *y)
{
    if (x == y)
        return true;
    if (x == NULL || y == NULL || x->kind != y->kind)
        return false;
    switch (x->kind) {
    case WR_T_DECIMAL:
        return x->precision == y->precision && x->scale == y->scale;
    case WR_T_ARRAY:
        return wr_type_equal(x->elem, y->elem);
    case WR_T_MAP:
        return wr_type_equal(x->key, y->key) && wr_type_equal(x->elem, y->elem);
    case WR_T_STRUCT:
        if (x->nfields != y->nfields)
            return false;
        for (int i = 0; i < x->nfields; i++)
            if (strcmp(x->fields[i].name, y->fields[i].name) != 0 ||
                !wr_type_equal(x->fields[i].type, y->fields[i].type))
                return false;
        return true;
    default:
        return true;
    }
}

/* Integer digits a DECIMAL needs to hold every value of an integer type. */
static int
int_digits(wr_tkind k)
{
    return k == WR_T_INT ? 10 : 19;
}

bool
wr_type_coercible(const wr_sql_type *from, const wr_sql_type *to)
{
    if (wr_type_equal(from, to))
        return true;
    int rf = numeric_rank(from->kind), rt = numeric_rank(to->kind);
    if (rf && rt) {
        if (rf > rt)
            return false;
        if (to->kind != WR_T_DECIMAL)
            return true;
        /* into a DECIMAL: the integer digits must fit, and a DECIMAL's scale too */
        int from_int =
            from->kind == WR_T_DECIMAL ? from->precision - from->scale : int_digits(from->kind);
        int from_scale = from->kind == WR_T_DECIMAL ? from->scale : 0;
        return to->precision - to->scale >= from_int && to->scale >= from_scale;
    }
    if (from->kind != to->kind)
        return false;
    switch (from->kind) {
    case WR_T_ARRAY:
        return wr_type_coercible(from->elem, to->elem);
    case WR_T_MAP:
        return wr_type_coercible(from->key, to->key) && wr_type_coercible(from->elem, to->elem);
    case WR_T_STRUCT:
        for (int i = 0; i < from->nfields; i++) {
            const wr_sql_type *ft = field_type(to, from->fields[i].name);
            if (ft != NULL && !wr_type_coercible(from->fields[i].type, ft))
                return false;
        }
        return true;
    default:
        return false;
    }
}

const wr_sql_type *
wr_type_as_decimal(wr_arena *a, const wr_sql_type *t)
{
    if (t->kind == WR_T_DECIMAL)
        return t;
    if (t->kind != WR_T_INT && t->kind != WR_T_BIGINT)
        return NULL;
    return wr_type_decimal(a, int_digits(t->kind), 0);
}

static const wr_sql_type *
common_numeric(wr_arena *a, const wr_sql_type *x, const wr_sql_type *y)
{
    int rx = numeric_rank(x->kind), ry = numeric_rank(y->kind);
    if (rx == 4 || ry == 4)
        return wr_type_of(WR_T_DOUBLE);
    if (rx < 3 && ry < 3)
        return rx >= ry ? x : y;
    const wr_sql_type *dx = wr_type_as_decimal(a, x), *dy = wr_type_as_decimal(a, y);
    if (dx == NULL || dy == NULL)
        return NULL;
    int scale = dx->scale > dy->scale ? dx->scale : dy->scale;
    int ix = dx->precision - dx->scale, iy = dy->precision - dy->scale;
    int precision = (ix > iy ? ix : iy) + scale;
    if (precision > WR_DECIMAL_MAX_PRECISION)
        return wr_type_of(WR_T_DOUBLE);
    if (precision == dx->precision && scale == dx->scale)
        return dx;
    if (precision == dy->precision && scale == dy->scale)
        return dy;
    return wr_type_decimal(a, precision, scale);
}

const wr_sql_type *
wr_type_common(wr_arena *a, const wr_sql_type *x, const wr_sql_type *y)
{
    if (wr_type_equal(x, y))
        return x;
    if (wr_type_is_numeric(x) && wr_type_is_numeric(y))
        return common_numeric(a, x, y);
    if (x->kind != y->kind)
        return NULL;
    wr_sql_type *t = wr_arena_calloc(a, 1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->kind = x->kind;
    switch (x->kind) {
    case WR_T_ARRAY:
        t->elem = wr_type_common(a, x->elem, y->elem);
        return t->elem ? t : NULL;
    case WR_T_MAP:
        t->key = wr_type_common(a, x->key, y->key);
        t->elem = wr_type_common(a, x->elem, y->elem);
        return t->key && t->elem ? t : NULL;
    case WR_T_STRUCT: {
        /* every field of x, in order, then the fields only y has */
        wr_sql_field *f = wr_arena_calloc(a, (size_t)(x->nfields + y->nfields) + 1, sizeof *f);
        if (f == NULL)
            return NULL;
        int n = 0;
        for (int i = 0; i < x->nfields; i++) {
            const wr_sql_type *yt = field_type(y, x->fields[i].name);
            f[n].name = x->fields[i].name;
            f[n].type = yt ? wr_type_common(a, x->fields[i].type, yt) : x->fields[i].type;
            if (f[n++].type == NULL)
                return NULL;
        }
        for (int i = 0; i < y->nfields; i++)
            if (field_type(x, y->fields[i].name) == NULL)
                f[n++] = y->fields[i];
        t->fields = f;
        t->nfields = n;
        return t;
    }
    default:
        return NULL; /* different primitive kinds, or a DECIMAL against a DECIMAL handled above */
    }
}

bool
wr_type_castable(const wr_sql_type *from, const wr_sql_type *to)
{
    if (wr_type_equal(from, to) || to->kind == WR_T_STRING)
        return true; /* everything has a string form */
    if (wr_type_is_numeric(from) && wr_type_is_numeric(to))
        return true; /* narrowing included: out-of-range values become null at run time */
    switch (from->kind) {
    case WR_T_STRING:
        return to->kind != WR_T_BYTES && to->kind != WR_T_ARRAY && to->kind != WR_T_MAP &&
               to->kind != WR_T_STRUCT;
    case WR_T_TIMESTAMP:
        return to->kind == WR_T_DATE || to->kind == WR_T_TIME;
    case WR_T_DATE:
        return to->kind == WR_T_TIMESTAMP;
    case WR_T_ARRAY:
        return to->kind == WR_T_ARRAY && wr_type_castable(from->elem, to->elem);
    case WR_T_MAP:
        return to->kind == WR_T_MAP && wr_type_castable(from->key, to->key) &&
               wr_type_castable(from->elem, to->elem);
    case WR_T_STRUCT:
        if (to->kind != WR_T_STRUCT)
            return false;
        for (int i = 0; i < from->nfields; i++) {
            const wr_sql_type *ft = field_type(to, from->fields[i].name);
            if (ft != NULL && !wr_type_castable(from->fields[i].type, ft))
                return false;
        }
        return true;
    default:
        return false;
    }
}

const wr_sql_type *
wr_type_copy(wr_arena *a, const wr_sql_type *t)
{
    if (t == NULL)
        return NULL;
    if (t->kind != WR_T_DECIMAL && t->kind != WR_T_ARRAY && t->kind != WR_T_MAP &&
        t->kind != WR_T_STRUCT)
        return wr_type_of(t->kind);
    wr_sql_type *c = wr_arena_memdup(a, t, sizeof *t);
    if (c == NULL)
        return NULL;
    if ((t->elem != NULL && (c->elem = wr_type_copy(a, t->elem)) == NULL) ||
        (t->key != NULL && (c->key = wr_type_copy(a, t->key)) == NULL))
        return NULL;
    if (t->nfields > 0) {
        wr_sql_field *f = wr_arena_calloc(a, (size_t)t->nfields, sizeof *f);
        if (f == NULL)
            return NULL;
        for (int i = 0; i < t->nfields; i++) {
            f[i].name = wr_arena_strdup(a, t->fields[i].name);
            f[i].type = wr_type_copy(a, t->fields[i].type);
            if (f[i].name == NULL || f[i].type == NULL)
                return NULL;
        }
        c->fields = f;
    }
    return c;
}

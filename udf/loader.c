/*
 * loader.c - user-defined functions from shared objects (loader.h, weir_udf.h).
 *
 * A library's functions become wr_fn_desc descriptors (udf_fn, one per function) whose
 * resolve, eval, veval, table and udaf members adapt the registry's calling conventions to the
 * library's: the signatures are parsed once (sig.h), the argument and result vectors are passed
 * as they are (weir_udf.h's types are weir's own layout, checked below at compile time).
 * weir's built-in functions (builtin.c) come through here too, as an in-binary library
 * (wr_udf_register_internal): same host table, same checks, same adapters.
 */
#include "udf/loader.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "grammar/sql.h"
#include "runtime/types.h"
#include "runtime/value.h"
#include "src/base/logging.h"
#include "udf/sig.h"
#include "udf/weir_udf.h"

/* The ABI is the in-memory column format: a change of wr_val or wr_vec needs a new ABI version. */
_Static_assert(sizeof(weir_value) == sizeof(wr_val), "weir_value is wr_val");
_Static_assert(offsetof(weir_value, null) == offsetof(wr_val, null), "weir_value is wr_val");
_Static_assert(offsetof(weir_value, u) == offsetof(wr_val, u), "weir_value is wr_val");
_Static_assert(sizeof(weir_str) == sizeof(wr_str), "weir_str is wr_str");
_Static_assert(sizeof(weir_column) == sizeof(wr_vec), "weir_column is wr_vec");
_Static_assert(offsetof(weir_column, null) == offsetof(wr_vec, null), "weir_column is wr_vec");
_Static_assert(offsetof(weir_column, d) == offsetof(wr_vec, d), "weir_column is wr_vec");
_Static_assert((int)WEIR_BOOLEAN == (int)WR_T_BOOLEAN && (int)WEIR_INT == (int)WR_T_INT &&
                   (int)WEIR_BIGINT == (int)WR_T_BIGINT && (int)WEIR_DOUBLE == (int)WR_T_DOUBLE &&
                   (int)WEIR_DECIMAL == (int)WR_T_DECIMAL && (int)WEIR_STRING == (int)WR_T_STRING &&
                   (int)WEIR_BYTES == (int)WR_T_BYTES &&
                   (int)WEIR_TIMESTAMP == (int)WR_T_TIMESTAMP && (int)WEIR_DATE == (int)WR_T_DATE &&
                   (int)WEIR_TIME == (int)WR_T_TIME && (int)WEIR_ARRAY == (int)WR_T_ARRAY &&
                   (int)WEIR_MAP == (int)WR_T_MAP && (int)WEIR_STRUCT == (int)WR_T_STRUCT,
               "weir_type_kind is wr_tkind");

#define MAX_TYPE_TEXT 512

typedef struct udf_lib {
    struct udf_lib *next;
    void *dl;
    char *path;
} udf_lib;

typedef struct udf_fn {
    wr_fn_desc d; /* first: the registry holds &d */
    const weir_function *f;
    wr_sig *sigs;               /* one per signature */
    const wr_sql_type **states; /* WEIR_AGGREGATE: each signature's state type */
    wr_arena *arena;            /* the descriptor's strings and signatures */
    struct udf_fn *next;        /* the loader's, or a registry's pending list */
} udf_fn;

struct wr_udf_loader {
    wr_fn_registry *fns;
    char **allow; /* resolved directories */
    int nallow;
    udf_lib *libs;
    udf_fn *funcs;
};

/* A library's init in progress: what it registered so far, and the first refusal. */
struct weir_registry {
    wr_fn_registry *fns; /* where its functions go */
    const char *path;
    udf_fn *pending;
    int n;
    bool failed;
    wr_err *err;
    wr_arena *arena; /* weir's in-binary library: one arena for all its descriptors (NULL: an
                        arena per function, a shared object's) */
};

/* Whether the weir_function f (of the size the library saw) has member m. */
#define HAS(f, m) ((f)->size >= offsetof(weir_function, m) + sizeof((f)->m))

/* What a function's prepare made for one call (wr_fn_ctx.state). */
typedef struct prepared {
    void *state;
    void (*release)(void *state);
} prepared;

struct weir_ctx {
    wr_fn_ctx *c;
    wr_vec *out; /* vector form: the result column (an error nulls its row) */
    bool failed; /* row form: the row failed */
    int32_t row; /* row form over a batch: the row (-1: none) */
};

/* ---- the host API ---------------------------------------------------------------------------- */

static void *
h_alloc(weir_ctx *x, size_t n)
{
    return wr_arena_alloc(x->c->arena, n > 0 ? n : 1);
}

static void
h_error(weir_ctx *x, int32_t row, const char *msg)
{
    x->failed = true;
    if (x->out == NULL)
        row = x->row;
    else if (row >= 0)
        x->out->null[row] = 1;
    wr_fn_errs *e = x->c->errs;
    if (e != NULL && row >= 0 && e->n < e->cap) { /* the row's own processing-log record */
        e->rows[e->n] = row;
        e->msgs[e->n] = wr_arena_printf(x->c->arena, "%s: %s", x->c->fn ? x->c->fn->name : "?",
                                        msg ? msg : "failed");
        e->n++;
    } else if (x->c->warning[0] == 0) {
        wr_fn_warn(x->c, "%s", msg ? msg : "failed");
    }
}

static void
h_log(int level, const char *msg)
{
    static const wr_log_level lv[] = {WR_LOG_DEBUG, WR_LOG_INFO, WR_LOG_WARN, WR_LOG_ERROR};
    wr_log(lv[level < 0 ? 0 : level > 3 ? 3 : level], "udf", "%s", msg ? msg : "");
}

static int
h_nargs(weir_ctx *x)
{
    return x->c->nargs;
}

static const weir_type *
h_arg_type(weir_ctx *x, int i)
{
    return i >= 0 && i < x->c->nargs ? (const weir_type *)x->c->args[i] : NULL;
}

static const weir_type *
h_return_type(weir_ctx *x)
{
    return (const weir_type *)x->c->ret;
}

static weir_type_kind
h_type_kind(const weir_type *t)
{
    return (weir_type_kind)((const wr_sql_type *)t)->kind;
}

static const weir_type *
h_type_elem(const weir_type *t)
{
    return (const weir_type *)((const wr_sql_type *)t)->elem;
}

static const weir_type *
h_type_key(const weir_type *t)
{
    return (const weir_type *)((const wr_sql_type *)t)->key;
}

static int
h_type_nfields(const weir_type *t)
{
    return ((const wr_sql_type *)t)->nfields;
}

static const char *
h_type_field(const weir_type *t, int i, const weir_type **ft)
{
    const wr_sql_type *s = (const wr_sql_type *)t;
    if (i < 0 || i >= s->nfields)
        return NULL;
    if (ft != NULL)
        *ft = (const weir_type *)s->fields[i].type;
    return s->fields[i].name;
}

static void
h_type_decimal(const weir_type *t, int *precision, int *scale)
{
    *precision = ((const wr_sql_type *)t)->precision;
    *scale = ((const wr_sql_type *)t)->scale;
}

static void
type_text(const wr_sql_type *t, char *buf, size_t cap)
{
    wr_buf b = WR_BUF_INIT;
    if (t != NULL)
        wr_ast_format_type(&b, t);
    else
        wr_buf_printf(&b, "NULL");
    snprintf(buf, cap, "%.*s", wr_buf_ok(&b) ? (int)b.len : 0, (const char *)b.data);
    wr_buf_free(&b);
}

static void
h_type_text(const weir_type *t, char *buf, size_t cap)
{
    type_text((const wr_sql_type *)t, buf, cap);
}

static void *
h_prepared(weir_ctx *x)
{
    const prepared *p = x->c->state;
    return p != NULL ? p->state : NULL;
}

static int h_register(weir_registry *r, const weir_function *f);

static const weir_host HOST = {
    .abi_version = WEIR_UDF_ABI_VERSION,
    .size = sizeof(weir_host),
    .register_function = h_register,
    .alloc = h_alloc,
    .error = h_error,
    .log = h_log,
    .nargs = h_nargs,
    .arg_type = h_arg_type,
    .return_type = h_return_type,
    .type_kind = h_type_kind,
    .type_elem = h_type_elem,
    .type_key = h_type_key,
    .type_nfields = h_type_nfields,
    .type_field = h_type_field,
    .type_decimal = h_type_decimal,
    .type_text = h_type_text,
    .prepared = h_prepared,
};

/* ---- calls --------------------------------------------------------------------------------- */

static const weir_signature *
sig_of(const wr_fn_desc *d, int variant)
{
    return &((const udf_fn *)d)->f->signatures[variant];
}

static const wr_sql_type *
u_resolve(const wr_fn_desc *self,
          wr_arena *a,
          const wr_sql_type *const *args,
          int n,
          int *variant,
          wr_err *err)
{
    const udf_fn *uf = (const udf_fn *)self;
    const wr_sql_type *bound[WR_SIG_MAX_VARS];
    int best = -1, best_score = 0, conflict = -1, conflict_sig = -1;
    for (int s = 0; s < uf->f->nsignatures && best_score < 2; s++) {
        int c, score = wr_sig_bind(&uf->sigs[s], a, args, n, bound, &c);
        if (score > best_score) {
            best = s;
            best_score = score;
        } else if (score == 0 && c >= 0 && conflict < 0) {
            conflict = c;
            conflict_sig = s;
        }
    }
    if (best < 0) {
        /* ksqlDB's wording: "Function 'ucase' does not accept parameters (INTEGER).\nValid
           alternatives are:\n..." (the name in lower case, as ksqlDB registers it) */
        char low[64];
        size_t ln = strlen(self->name) < sizeof low - 1 ? strlen(self->name) : sizeof low - 1;
        for (size_t i = 0; i < ln; i++)
            low[i] = (char)tolower((unsigned char)self->name[i]);
        low[ln] = 0;
        const char *tl = wr_fn_type_list(a, args, n);
        if (conflict >= 0)
            wr_err_set(err, WR_ESEMANTIC,
                       "Function '%s' does not accept parameters (%s): the arguments for %s must "
                       "have a common type.\nValid alternatives are:\n%s",
                       low, tl, uf->sigs[conflict_sig].vars[conflict], self->signatures);
        else
            wr_err_set(err, WR_ESEMANTIC,
                       "Function '%s' does not accept parameters (%s).\nValid alternatives are:\n%s",
                       low, tl, self->signatures);
        return NULL;
    }
    wr_sig_bind(&uf->sigs[best], a, args, n, bound, NULL);
    *variant = best;
    const weir_signature *ws = &uf->f->signatures[best];
    if (uf->sigs[best].ret != NULL) {
        const wr_sql_type *t = wr_sig_instantiate(a, uf->sigs[best].ret, bound);
        if (t == NULL)
            wr_err_set(err, WR_ESEMANTIC,
                       "function %s: the type of its result depends on an argument that is an "
                       "untyped NULL: CAST it",
                       self->name);
        return t;
    }
    char text[MAX_TYPE_TEXT] = "";
    if (ws->returns_fn((const weir_type *const *)args, n, text, sizeof text) != 0) {
        wr_err_set(err, WR_ESEMANTIC, "function %s does not accept (%s)%s%s", self->name,
                   wr_fn_type_list(a, args, n), text[0] ? ": " : "", text);
        return NULL;
    }
    const wr_sql_type *t;
    wr_err perr = {0};
    if (wr_sig_parse_type(a, text, &t, &perr) != WR_OK) {
        wr_err_set(err, WR_ESEMANTIC, "function %s: its return type: %s", self->name, perr.msg);
        return NULL;
    }
    return t;
}

static const wr_sql_type *
u_param(
    const wr_fn_desc *self, wr_arena *a, const wr_sql_type *const *args, int n, int variant, int i)
{
    const udf_fn *uf = (const udf_fn *)self;
    const wr_sql_type *bound[WR_SIG_MAX_VARS];
    wr_sig_bind(&uf->sigs[variant], a, args, n, bound, NULL);
    return wr_sig_instantiate(a, wr_sig_param(&uf->sigs[variant], i), bound);
}

static void
u_release(void *state)
{
    prepared *p = state;
    if (p->release != NULL)
        p->release(p->state);
    free(p);
}

/* A call site: the function's prepare with the call's constants. */
static int
u_prepare(wr_fn_ctx *c, const wr_val *const *consts, int n, wr_err *err)
{
    const weir_function *f = ((const udf_fn *)c->fn)->f;
    weir_ctx x = {c, NULL, false, -1};
    char msg[200] = "";
    void *state = NULL;
    if (f->prepare(&x, (const weir_value *const *)consts, n, &state, msg, sizeof msg) != 0) {
        if (state != NULL && f->release != NULL)
            f->release(state);
        return wr_err_set(err, WR_EINVAL, "%s", msg[0] ? msg : "refused its arguments");
    }
    if (state == NULL)
        return WR_OK;
    prepared *p = malloc(sizeof *p);
    if (p == NULL) {
        if (f->release != NULL)
            f->release(state);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    *p = (prepared){state, f->release};
    c->state = p;
    return WR_OK;
}

/* Composite results whose values came without a type get the call's. */
static void
type_results(wr_vec *out, const int32_t *rows, int32_t n, const wr_sql_type *ret)
{
    if (ret == NULL ||
        (ret->kind != WR_T_ARRAY && ret->kind != WR_T_MAP && ret->kind != WR_T_STRUCT))
        return;
    for (int32_t k = 0; k < n; k++)
        if (!out->null[rows[k]] && out->d.val[rows[k]].type == NULL)
            out->d.val[rows[k]].type = ret;
}

/* Whether a result fits its type: a DECIMAL beyond its precision (CEIL(99.99) as DECIMAL(4, 2)
   is 100.00) cannot be written, and ksqlDB's serializer refuses it; that row fails instead,
   for a built-in and a library's function alike. */
static bool
fits(const wr_sql_type *t, const wr_val *v)
{
    if (v->null || t == NULL)
        return true;
    if (t->kind == WR_T_STRING || t->kind == WR_T_BYTES) /* and a string WR_FN_MAX_BYTES */
        return v->u.s.len >= 0 && v->u.s.len <= WR_FN_MAX_BYTES;
    if (t->kind != WR_T_DECIMAL)
        return true;
    wr_i128 lim = wr_decimal_pow10(t->precision);
    return v->u.dec < lim && v->u.dec > -lim;
}

static void
misfit(weir_ctx *x, int32_t row)
{
    char m[96];
    if (x->c->ret->kind == WR_T_DECIMAL)
        snprintf(m, sizeof m, "its result does not fit DECIMAL(%d, %d)", x->c->ret->precision,
                 x->c->ret->scale);
    else
        snprintf(m, sizeof m, "its result is larger than %d bytes", WR_FN_MAX_BYTES);
    h_error(x, row, m);
}

/* The rows of a vector result that do not fit the return type fail. */
static void
check_fits(weir_ctx *x, wr_vec *out, const int32_t *rows, int32_t n)
{
    if (x->c->ret == NULL ||
        (x->c->ret->kind != WR_T_DECIMAL && x->c->ret->kind != WR_T_STRING &&
         x->c->ret->kind != WR_T_BYTES))
        return;
    for (int32_t k = 0; k < n; k++) {
        wr_val v = wr_vec_get(out, rows[k]);
        if (!fits(x->c->ret, &v))
            misfit(x, rows[k]);
    }
}

static void
u_veval(wr_fn_ctx *c, const wr_vec *args, int n, const int32_t *sel, int32_t nsel, wr_vec *out)
{
    const wr_fn_desc *self = c->fn;
    const weir_signature *ws = sig_of(self, c->variant);
    weir_ctx x = {c, out, false, -1};
    const int32_t *rows = sel;
    int32_t m = nsel;
    if (self->flags & WR_FN_NULL_IN_NULL_OUT) { /* the rows with no null argument */
        int32_t *keep = wr_arena_alloc(c->arena, (size_t)(nsel > 0 ? nsel : 1) * sizeof *keep);
        if (keep == NULL) {
            for (int32_t k = 0; k < nsel; k++)
                out->null[sel[k]] = 1;
            return;
        }
        m = 0;
        for (int32_t k = 0; k < nsel; k++) {
            bool any = false;
            for (int i = 0; i < n && !any; i++)
                any = args[i].null[sel[k]] != 0;
            if (any)
                out->null[sel[k]] = 1;
            else
                keep[m++] = sel[k];
        }
        rows = keep;
    }
    if (ws->eval != NULL) {
        ws->eval(&x, (const weir_column *)args, n, rows, m, (weir_column *)out);
        type_results(out, rows, m, c->ret);
        check_fits(&x, out, rows, m);
        return;
    }
    wr_val buf[16];
    wr_val *av = n <= 16 ? buf : wr_arena_alloc(c->arena, (size_t)n * sizeof *av);
    for (int32_t k = 0; k < m && av != NULL; k++) {
        for (int i = 0; i < n; i++)
            av[i] = wr_vec_get(&args[i], rows[k]);
        wr_val o = wr_val_null(c->ret);
        x.failed = false;
        x.out = NULL;
        x.row = rows[k];
        ws->eval_row(&x, (const weir_value *)av, n, (weir_value *)&o);
        if (!x.failed && !fits(c->ret, &o))
            misfit(&x, rows[k]);
        if (x.failed)
            o = wr_val_null(c->ret);
        if (!o.null && o.type == NULL)
            o.type = c->ret;
        wr_vec_set(out, rows[k], &o);
    }
}

/* One row (the interpreter's path: CASE branches, lambdas): the row form, or the vector form
   over one-row vectors. */
static void
u_eval(wr_fn_ctx *c, const wr_val *args, int n, wr_val *out)
{
    const wr_fn_desc *self = c->fn;
    const weir_signature *ws = sig_of(self, c->variant);
    weir_ctx x = {c, NULL, false, -1};
    *out = wr_val_null(c->ret);
    if (ws->eval_row != NULL) {
        ws->eval_row(&x, (const weir_value *)args, n, (weir_value *)out);
    } else {
        wr_vec *av = wr_arena_calloc(c->arena, (size_t)n + 1, sizeof *av);
        wr_vec ov;
        int32_t row = 0;
        if (av == NULL || wr_vec_alloc(&ov, c->ret, 1, c->arena) != WR_OK)
            return;
        for (int i = 0; i < n; i++) {
            const wr_sql_type *t = i < c->nargs && c->args[i] ? c->args[i] : args[i].type;
            if (wr_vec_alloc(&av[i], t ? t : wr_type_of(WR_T_STRING), 1, c->arena) != WR_OK)
                return;
            wr_vec_set(&av[i], 0, &args[i]);
        }
        x.out = &ov;
        ws->eval(&x, (const weir_column *)av, n, &row, 1, (weir_column *)&ov);
        type_results(&ov, &row, 1, c->ret);
        *out = wr_vec_get(&ov, 0);
    }
    if (!x.failed && !fits(c->ret, out)) {
        x.out = NULL;
        misfit(&x, -1);
    }
    if (x.failed)
        *out = wr_val_null(c->ret);
    if (!out->null && out->type == NULL)
        out->type = c->ret;
}

static void
u_table(wr_fn_ctx *c, const wr_val *args, int n, wr_val *out, int cap, int *nout)
{
    const wr_fn_desc *self = c->fn;
    *nout = 0;
    for (int i = 0; (self->flags & WR_FN_NULL_IN_NULL_OUT) && i < n; i++)
        if (args[i].null)
            return;
    weir_ctx x = {c, NULL, false, -1};
    int k =
        sig_of(self, c->variant)->table(&x, (const weir_value *)args, n, (weir_value *)out, cap);
    if (x.failed || k < 0) {
        if (k < 0 && c->warning[0] == 0)
            wr_fn_warn(c, "returned %d", k);
        return;
    }
    *nout = k;
    for (int i = 0; k <= cap && i < k; i++)
        if (!out[i].null && out[i].type == NULL)
            out[i].type = c->ret;
}

/* ---- aggregates ---------------------------------------------------------------------------- */

static const weir_aggregate *
agg_of(const wr_fn_desc *f, int variant)
{
    return sig_of(f, variant)->aggregate;
}

static const wr_sql_type *
a_state(const wr_fn_desc *f, int variant)
{
    return ((const udf_fn *)f)->states[variant];
}

static bool
a_can_undo(const wr_fn_desc *f, int variant)
{
    return agg_of(f, variant)->undo != NULL;
}

static bool
a_can_merge(const wr_fn_desc *f, int variant)
{
    return agg_of(f, variant)->merge != NULL;
}

/* A state that came back without its type (the UDAF built it) gets the state's. */
static void
typed(const wr_fn_desc *f, int variant, wr_val *state)
{
    if (!state->null && state->type == NULL)
        state->type = a_state(f, variant);
}

static void
a_init(const wr_fn_desc *f, wr_fn_ctx *c, wr_val *state)
{
    weir_ctx x = {c, NULL, false, -1};
    *state = wr_val_null(a_state(f, c->variant));
    agg_of(f, c->variant)->init(&x, (weir_value *)state);
    typed(f, c->variant, state);
}

static void
a_add(const wr_fn_desc *f, wr_fn_ctx *c, wr_val *state, const wr_val *args, int n)
{
    weir_ctx x = {c, NULL, false, -1};
    agg_of(f, c->variant)->accumulate(&x, (weir_value *)state, (const weir_value *)args, n);
    typed(f, c->variant, state);
}

static void
a_undo(const wr_fn_desc *f, wr_fn_ctx *c, wr_val *state, const wr_val *args, int n)
{
    weir_ctx x = {c, NULL, false, -1};
    agg_of(f, c->variant)->undo(&x, (weir_value *)state, (const weir_value *)args, n);
    typed(f, c->variant, state);
}

static void
a_merge(const wr_fn_desc *f, wr_fn_ctx *c, wr_val *into, const wr_val *from)
{
    weir_ctx x = {c, NULL, false, -1};
    agg_of(f, c->variant)->merge(&x, (weir_value *)into, (const weir_value *)from);
    typed(f, c->variant, into);
}

static void
a_result(const wr_fn_desc *f, wr_fn_ctx *c, const wr_val *state, wr_val *out)
{
    weir_ctx x = {c, NULL, false, -1};
    *out = wr_val_null(c->ret);
    agg_of(f, c->variant)->finalize(&x, (const weir_value *)state, (weir_value *)out);
    if (x.failed)
        *out = wr_val_null(c->ret);
}

static const struct wr_udaf UDAF = {a_state, a_can_undo, a_can_merge, a_init,
                                    a_add,   a_undo,     a_merge,     a_result};

/* ---- registering ----------------------------------------------------------------------------- */

/* Compares dotted version numbers ("1.10.0" > "1.9"): <0, 0, >0. */
static int
version_cmp(const char *x, const char *y)
{
    while (*x || *y) {
        char *ex, *ey;
        unsigned long a = strtoul(x, &ex, 10), b = strtoul(y, &ey, 10);
        if (a != b)
            return a < b ? -1 : 1;
        x = *ex == '.' ? ex + 1 : ex + strlen(ex);
        y = *ey == '.' ? ey + 1 : ey + strlen(ey);
    }
    return 0;
}

static bool
good_name(const char *n)
{
    if (n == NULL || !((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') || *n == '_'))
        return false;
    for (; *n; n++)
        if (!((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') ||
              *n == '_'))
            return false;
    return true;
}

static int refuse(weir_registry *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The library is refused: the first reason is its error. */
static int
refuse(weir_registry *r, int code, const char *fmt, ...)
{
    if (!r->failed) {
        char m[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        wr_err_set(r->err, code, "refused %s: %s", r->path, m);
    }
    r->failed = true;
    return -1;
}

static udf_fn *
find_fn(const udf_fn *list, const char *name)
{
    for (const udf_fn *u = list; u != NULL; u = u->next)
        if (strcasecmp(u->d.name, name) == 0)
            return (udf_fn *)u;
    return NULL;
}

/* Checks a function the library registers and makes its descriptor (pending until the whole
   library is accepted). */
static int
h_register(weir_registry *r, const weir_function *f)
{
    if (r->failed)
        return -1;
    if (f == NULL || f->size < offsetof(weir_function, signatures) + sizeof f->signatures)
        return refuse(r, WR_EINVAL, "a weir_function is smaller than this ABI's");
    const char *name = f->name;
    if (!good_name(name))
        return refuse(r, WR_EINVAL, "'%s' is not a function name (letters, digits, _)",
                      name ? name : "(null)");
    if (f->kind != WEIR_SCALAR && f->kind != WEIR_AGGREGATE && f->kind != WEIR_TABLE)
        return refuse(r, WR_EINVAL, "function %s has an unknown kind", name);
    if (f->nsignatures < 1 || f->signatures == NULL)
        return refuse(r, WR_EINVAL, "function %s has no signature", name);
    if (find_fn(r->pending, name) != NULL)
        return refuse(r, WR_EEXIST, "function %s is registered twice", name);
    bool native = (f->flags & WEIR_NATIVE) != 0;
    if (native && r->arena == NULL)
        return refuse(r, WR_EINVAL, "function %s is WEIR_NATIVE: only weir's own functions can be",
                      name);
    const wr_fn_desc *old = wr_fn_lookup(r->fns, name);
    if (old != NULL && (old->flags & WR_FN_BUILTIN))
        return refuse(r, WR_EEXIST,
                      "function %s has the name of a built-in function; a library cannot "
                      "replace it",
                      name);
    const char *version = f->version ? f->version : "0";
    if (old != NULL && version_cmp(version, old->version ? old->version : "0") <= 0) {
        return refuse(r, WR_EEXIST,
                      "function %s version %s is not newer than the loaded version %s from %s: "
                      "only a newer version replaces it",
                      name, version, old->version ? old->version : "0", old->path);
    }
    wr_arena *a = r->arena ? r->arena : wr_arena_create(0);
    udf_fn *u = a ? wr_arena_calloc(a, 1, sizeof *u) : NULL;
    if (u == NULL) {
        if (a != r->arena)
            wr_arena_destroy(a);
        return refuse(r, WR_ENOMEM, "out of memory");
    }
    u->arena = a != r->arena ? a : NULL;
    u->f = f;
    u->sigs = wr_arena_calloc(a, (size_t)f->nsignatures, sizeof *u->sigs);
    u->states = wr_arena_calloc(a, (size_t)f->nsignatures, sizeof *u->states);
    char *upper = wr_arena_strdup(a, name);
    for (char *c = upper; c && *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    wr_buf sigtext = WR_BUF_INIT;
    int rc = u->sigs && u->states && upper ? 0 : refuse(r, WR_ENOMEM, "out of memory");
    for (int s = 0; rc == 0 && s < f->nsignatures; s++) {
        const weir_signature *ws = &f->signatures[s];
        wr_err serr = {0};
        if (ws->returns == NULL && ws->returns_fn == NULL)
            rc =
                refuse(r, WR_EINVAL, "function %s: signature %s has neither returns nor returns_fn",
                       upper, ws->params ? ws->params : "");
        else if (wr_sig_parse(a, ws->params, ws->returns, &u->sigs[s], &serr) != WR_OK)
            rc = refuse(r, WR_EINVAL, "function %s: %s", upper, serr.msg);
        else if (u->sigs[s].lambdas && !native)
            rc = refuse(r, WR_EINVAL,
                        "function %s: signature (%s) has a lambda parameter: only weir's own "
                        "functions can",
                        upper, ws->params);
        else if (native)
            ; /* weir computes it: no calls to check */
        else if (f->kind == WEIR_SCALAR && ws->eval == NULL && ws->eval_row == NULL)
            rc = refuse(r, WR_EINVAL, "scalar function %s: signature (%s) has no eval or eval_row",
                        upper, ws->params ? ws->params : "");
        else if (f->kind == WEIR_TABLE && ws->table == NULL)
            rc = refuse(r, WR_EINVAL, "table function %s: signature (%s) has no table function",
                        upper, ws->params ? ws->params : "");
        else if (f->kind == WEIR_AGGREGATE &&
                 (ws->aggregate == NULL || ws->aggregate->init == NULL ||
                  ws->aggregate->accumulate == NULL || ws->aggregate->finalize == NULL ||
                  ws->aggregate->state == NULL))
            rc = refuse(r, WR_EINVAL,
                        "aggregate function %s: signature (%s) needs a state type, init, "
                        "accumulate and finalize",
                        upper, ws->params ? ws->params : "");
        else if (f->kind == WEIR_AGGREGATE && u->sigs[s].nparams < 1)
            rc = refuse(r, WR_EINVAL, "aggregate function %s: signature (%s) takes no column",
                        upper, ws->params ? ws->params : "");
        else if (f->kind == WEIR_AGGREGATE &&
                 wr_sig_parse_type(a, ws->aggregate->state, &u->states[s], &serr) != WR_OK)
            rc = refuse(r, WR_EINVAL, "aggregate function %s: its state type: %s", upper, serr.msg);
        if (rc == 0) {
            if (s > 0)
                wr_buf_put_u8(&sigtext, '\n');
            wr_sig_format(&sigtext, upper, &u->sigs[s], "(decided by the call)");
        }
    }
    if (rc != 0 || !wr_buf_ok(&sigtext)) {
        wr_buf_free(&sigtext);
        if (a != r->arena)
            wr_arena_destroy(a);
        return refuse(r, WR_ENOMEM, "out of memory");
    }
    wr_fn_desc *d = &u->d;
    d->name = upper;
    d->kind = f->kind == WEIR_SCALAR  ? WR_FN_SCALAR
              : f->kind == WEIR_TABLE ? WR_FN_TABLE
                                      : WR_FN_AGGREGATE;
    d->flags = ((f->flags & WEIR_CALLED_ON_NULL) ? 0 : WR_FN_NULL_IN_NULL_OUT) |
               ((f->flags & WEIR_NONDETERMINISTIC) ? WR_FN_NONDETERMINISTIC : 0) |
               (r->arena != NULL ? WR_FN_BUILTIN : 0);
    const char *category = HAS(f, category) ? f->category : NULL;
    d->category = category != NULL             ? wr_arena_strdup(a, category)
                  : d->kind == WR_FN_AGGREGATE ? "AGGREGATE"
                  : d->kind == WR_FN_TABLE     ? "TABLE"
                                               : "OTHER";
    d->description = wr_arena_strdup(a, f->description ? f->description : "");
    d->signatures = wr_arena_strndup(a, (const char *)sigtext.data, sigtext.len);
    wr_buf_free(&sigtext);
    d->resolve = u_resolve;
    d->param = u_param;
    if (!native) { /* a native function's calls are weir's own: runtime/agg.c, the analyser */
        d->eval = u_eval;
        d->veval = u_veval;
        d->table = u_table;
        d->udaf = d->kind == WR_FN_AGGREGATE ? &UDAF : NULL;
    }
    if (HAS(f, prepare) && f->prepare != NULL && d->kind == WR_FN_SCALAR) {
        d->init = u_prepare;
        d->fini = u_release;
    }
    d->author = wr_arena_strdup(a, f->author ? f->author : "");
    d->version = wr_arena_strdup(a, version);
    d->path = wr_arena_strdup(a, r->path);
    u->next = r->pending;
    r->pending = u;
    r->n++;
    return 0;
}

/* ---- loading -----------------------------------------------------------------------------------
 */

wr_udf_loader *
wr_udf_loader_create(wr_fn_registry *fns, const char *const *allow, int nallow)
{
    wr_udf_loader *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->fns = fns;
    l->allow = calloc((size_t)nallow + 1, sizeof *l->allow);
    if (l->allow == NULL) {
        free(l);
        return NULL;
    }
    for (int i = 0; i < nallow; i++) {
        char rp[PATH_MAX];
        if (realpath(allow[i], rp) != NULL && (l->allow[l->nallow] = strdup(rp)) != NULL)
            l->nallow++;
        else
            wr_log(WR_LOG_WARN, "udf", "allowlisted directory %s cannot be used: %s", allow[i],
                   strerror(errno));
    }
    return l;
}

static void
free_fns(udf_fn *u)
{
    while (u != NULL) {
        udf_fn *next = u->next;
        wr_arena_destroy(u->arena);
        u = next;
    }
}

void
wr_udf_loader_destroy(wr_udf_loader *l)
{
    if (l == NULL)
        return;
    free_fns(l->funcs);
    while (l->libs != NULL) {
        udf_lib *b = l->libs;
        l->libs = b->next;
        dlclose(b->dl);
        free(b->path);
        free(b);
    }
    for (int i = 0; i < l->nallow; i++)
        free(l->allow[i]);
    free(l->allow);
    free(l);
}

/* Whether the resolved directory dir is on the allowlist. */
static bool
allowed(const wr_udf_loader *l, const char *dir)
{
    for (int i = 0; i < l->nallow; i++)
        if (strcmp(l->allow[i], dir) == 0)
            return true;
    return false;
}

/* A library's file and directory must not be writable by users other than their owner. */
static int
check_perms(const char *file, const char *dir, wr_err *err)
{
    struct stat sf, sd;
    if (stat(file, &sf) != 0)
        return wr_err_set(err, WR_ENOENT, "refused %s: %s", file, strerror(errno));
    if (!S_ISREG(sf.st_mode))
        return wr_err_set(err, WR_EINVAL, "refused %s: not a regular file", file);
    if (stat(dir, &sd) != 0)
        return wr_err_set(err, WR_ENOENT, "refused %s: %s", dir, strerror(errno));
    if ((sf.st_mode & (S_IWGRP | S_IWOTH)) || ((sd.st_mode & S_IWOTH) && !(sd.st_mode & S_ISVTX)))
        return wr_err_set(err, WR_EPERM,
                          "refused %s: it or its directory is writable by other users", file);
    return WR_OK;
}

static int load(wr_udf_loader *l, const char *path, int *nfuncs, wr_err *err);

int
wr_udf_load(wr_udf_loader *l, const char *path, int *nfuncs, wr_err *err)
{
    int rc = load(l, path, nfuncs, err);
    if (rc != WR_OK)
        wr_log(WR_LOG_ERROR, "udf", "%s", err->msg);
    return rc;
}

static int
load(wr_udf_loader *l, const char *path, int *nfuncs, wr_err *err)
{
    if (nfuncs != NULL)
        *nfuncs = 0;
    char rp[PATH_MAX], dir[PATH_MAX];
    if (realpath(path, rp) == NULL)
        return wr_err_set(err, WR_ENOENT, "refused %s: %s", path, strerror(errno));
    snprintf(dir, sizeof dir, "%s", rp);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *(slash == dir ? slash + 1 : slash) = 0;
    if (!allowed(l, dir))
        return wr_err_set(err, WR_EPERM,
                          "refused %s: its directory %s is not on the allowlist "
                          "(weir.udf.allowlist)",
                          path, dir);
    int rc = check_perms(rp, dir, err);
    if (rc != WR_OK)
        return rc;
    for (udf_lib *b = l->libs; b != NULL; b = b->next)
        if (strcmp(b->path, rp) == 0)
            return wr_err_set(err, WR_EEXIST, "refused %s: it is loaded already", path);
    void *dl = dlopen(rp, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL)
        return wr_err_set(err, WR_EINVAL, "refused %s: %s", path, dlerror());
    uint64_t (*abi)(void);
    int (*init)(const weir_host *, weir_registry *);
    void *sym = dlsym(dl, "weir_udf_abi"); /* POSIX: a function's address comes as a void * */
    memcpy(&abi, &sym, sizeof abi);
    sym = dlsym(dl, "weir_udf_init");
    memcpy(&init, &sym, sizeof init);
    weir_registry reg = {l->fns, rp, NULL, 0, false, err, NULL};
    if (abi == NULL) {
        rc = wr_err_set(err, WR_EINVAL,
                        "refused %s: it does not export weir_udf_abi (build it with "
                        "WEIR_UDF_LIBRARY from weir_udf.h)",
                        path);
    } else if ((abi() >> 32) != WEIR_UDF_MAGIC) {
        rc =
            wr_err_set(err, WR_EINVAL, "refused %s: weir_udf_abi does not return weir's tag", path);
    } else if ((uint32_t)abi() != WEIR_UDF_ABI_VERSION) {
        rc = wr_err_set(err, WR_EINVAL,
                        "refused %s: it was built for UDF ABI version %u; this weir speaks "
                        "version %u",
                        path, (unsigned)(uint32_t)abi(), WEIR_UDF_ABI_VERSION);
    } else if (init == NULL) {
        rc = wr_err_set(err, WR_EINVAL, "refused %s: it does not export weir_udf_init", path);
    } else {
        int ir = init(&HOST, &reg);
        if (reg.failed)
            rc = err->code ? err->code : WR_EINVAL;
        else if (ir != 0)
            rc = wr_err_set(err, WR_EINVAL, "refused %s: weir_udf_init returned %d", path, ir);
        else if (reg.n == 0)
            rc = wr_err_set(err, WR_EINVAL, "refused %s: it registered no function", path);
    }
    udf_lib *b = rc == WR_OK ? calloc(1, sizeof *b) : NULL;
    if (rc == WR_OK && (b == NULL || (b->path = strdup(rp)) == NULL)) {
        free(b);
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    if (rc != WR_OK) {
        free_fns(reg.pending);
        dlclose(dl);
        return rc;
    }
    /* accepted: every function goes in at once */
    b->dl = dl;
    b->next = l->libs;
    l->libs = b;
    wr_buf names = WR_BUF_INIT;
    while (reg.pending != NULL) {
        udf_fn *u = reg.pending;
        reg.pending = u->next;
        const wr_fn_desc *old = wr_fn_lookup(l->fns, u->d.name);
        if (old != NULL)
            (void)wr_fn_replace(l->fns, &u->d, err);
        else if (wr_fn_register(l->fns, &u->d, err) != WR_OK) {
            wr_log(WR_LOG_ERROR, "udf", "%s: %s", rp, err->msg);
            wr_arena_destroy(u->arena);
            continue;
        }
        wr_buf_printf(&names, "%s%s %s%s", names.len ? ", " : "", u->d.name, u->d.version,
                      old != NULL ? " (replaces the older one for new queries)" : "");
        u->next = l->funcs;
        l->funcs = u;
        if (nfuncs != NULL)
            (*nfuncs)++;
    }
    wr_log(WR_LOG_INFO, "udf", "loaded %s: %.*s", rp, wr_buf_ok(&names) ? (int)names.len : 0,
           (const char *)names.data);
    wr_buf_free(&names);
    return WR_OK;
}

int
wr_udf_register_internal(wr_fn_registry *fns,
                         int (*init)(const weir_host *host, weir_registry *registry),
                         wr_err *err)
{
    wr_arena *a = wr_arena_create(1 << 16);
    if (a == NULL || wr_fn_registry_adopt(fns, a) != WR_OK) {
        wr_arena_destroy(a);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    weir_registry reg = {fns, "internal", NULL, 0, false, err, a};
    int ir = init(&HOST, &reg);
    if (reg.failed)
        return err->code ? err->code : WR_EINVAL;
    if (ir != 0)
        return wr_err_set(err, WR_EINVAL, "weir's own functions: their init returned %d", ir);
    for (udf_fn *u = reg.pending; u != NULL; u = u->next) {
        int rc = wr_fn_register(fns, &u->d, err);
        if (rc != WR_OK)
            return rc;
    }
    return WR_OK;
}

static int
by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

int
wr_udf_load_dir(wr_udf_loader *l, const char *dir, int *nlibs, wr_err *err)
{
    if (nlibs != NULL)
        *nlibs = 0;
    char rp[PATH_MAX];
    if (realpath(dir, rp) == NULL)
        return wr_err_set(err, WR_ENOENT, "extension directory %s: %s", dir, strerror(errno));
    if (!allowed(l, rp))
        return wr_err_set(err, WR_EPERM,
                          "extension directory %s is not on the allowlist (weir.udf.allowlist)",
                          dir);
    DIR *d = opendir(rp);
    if (d == NULL)
        return wr_err_set(err, WR_ENOENT, "extension directory %s: %s", dir, strerror(errno));
    char **files = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nf = realloc(files, cap * sizeof *nf);
            if (nf == NULL)
                break;
            files = nf;
        }
        if ((files[n] = malloc(strlen(rp) + len + 2)) != NULL)
            sprintf(files[n++], "%s/%s", rp, de->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(files, n, sizeof *files, by_name);
    for (size_t i = 0; i < n; i++) {
        wr_err lerr = {0};
        if (wr_udf_load(l, files[i], NULL, &lerr) == WR_OK && nlibs != NULL)
            (*nlibs)++;
        free(files[i]);
    }
    free(files);
    return WR_OK;
}

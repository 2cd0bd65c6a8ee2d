/*
 * sig.c - signatures as SQL type text with type variables (sig.h).
 */
#include "udf/sig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "grammar/sql.h"
#include "runtime/types.h"

typedef struct parser {
    wr_arena *a;
    const char *text, *p;
    wr_sig *sig; /* NULL: variables are not allowed */
    wr_err *err;
} parser;

static void
skip_ws(parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static bool
eat(parser *ps, char c)
{
    skip_ws(ps);
    if (*ps->p != c)
        return false;
    ps->p++;
    return true;
}

/* The next word (letters, digits, _) upper-cased into w. */
static bool
word(parser *ps, char *w, size_t cap)
{
    skip_ws(ps);
    size_t n = 0;
    while ((isalnum((unsigned char)*ps->p) || *ps->p == '_') && n + 1 < cap)
        w[n++] = (char)toupper((unsigned char)*ps->p++);
    w[n] = 0;
    return n > 0;
}

static int
fail(parser *ps, const char *what, const char *name)
{
    return wr_err_set(ps->err, WR_ESEMANTIC, "%s%s in '%s'", what, name, ps->text);
}

static bool
is_var_name(const char *w)
{
    if (w[0] < 'A' || w[0] > 'Z')
        return false;
    for (const char *c = w + 1; *c; c++)
        if (!isdigit((unsigned char)*c))
            return false;
    return strlen(w) < 8;
}

static const struct {
    const char *name;
    wr_tkind kind;
} PRIMS[] = {
    {"BOOLEAN", WR_T_BOOLEAN}, {"INT", WR_T_INT},       {"INTEGER", WR_T_INT},
    {"BIGINT", WR_T_BIGINT},   {"DOUBLE", WR_T_DOUBLE}, {"STRING", WR_T_STRING},
    {"VARCHAR", WR_T_STRING},  {"BYTES", WR_T_BYTES},   {"TIMESTAMP", WR_T_TIMESTAMP},
    {"DATE", WR_T_DATE},       {"TIME", WR_T_TIME},
};

static int parse_tmpl(parser *ps, const wr_tmpl **out);

/* t is the signature's variable named w (made on its first use); decimal: a bare DECIMAL. */
static int
var_of(parser *ps, wr_tmpl *t, const char *w, bool decimal)
{
    for (int i = 0; i < ps->sig->nvars; i++)
        if (strcmp(ps->sig->vars[i], w) == 0) {
            t->var = i;
            return WR_OK;
        }
    if (ps->sig->nvars == WR_SIG_MAX_VARS)
        return fail(ps, "too many type variables", "");
    snprintf(ps->sig->vars[ps->sig->nvars], sizeof ps->sig->vars[0], "%s", w);
    ps->sig->decimal_var[ps->sig->nvars] = decimal;
    t->var = ps->sig->nvars++;
    return WR_OK;
}

static wr_tmpl *
new_tmpl(parser *ps)
{
    wr_tmpl *t = wr_arena_calloc(ps->a, 1, sizeof *t);
    if (t != NULL)
        t->var = -1;
    return t;
}

static int
parse_struct(parser *ps, wr_tmpl *t)
{
    t->kind = WR_T_STRUCT;
    int cap = 8;
    t->names = wr_arena_calloc(ps->a, (size_t)cap, sizeof *t->names);
    t->fields = wr_arena_calloc(ps->a, (size_t)cap, sizeof *t->fields);
    if (t->names == NULL || t->fields == NULL)
        return wr_err_set(ps->err, WR_ENOMEM, "out of memory");
    do {
        char w[64];
        skip_ws(ps);
        if (*ps->p == '`') { /* a quoted name, as weir prints them */
            const char *end = strchr(ps->p + 1, '`');
            if (end == NULL || end - ps->p - 1 >= (long)sizeof w || end == ps->p + 1)
                return fail(ps, "a bad quoted STRUCT field name", "");
            snprintf(w, sizeof w, "%.*s", (int)(end - ps->p - 1), ps->p + 1);
            ps->p = end + 1;
        } else if (!word(ps, w, sizeof w)) {
            return fail(ps, "a STRUCT field needs a name", "");
        }
        if (t->nfields == cap) {
            const char **nn = wr_arena_calloc(ps->a, (size_t)cap * 2, sizeof *nn);
            const wr_tmpl **nf = wr_arena_calloc(ps->a, (size_t)cap * 2, sizeof *nf);
            if (nn == NULL || nf == NULL)
                return wr_err_set(ps->err, WR_ENOMEM, "out of memory");
            memcpy(nn, t->names, (size_t)cap * sizeof *nn);
            memcpy(nf, t->fields, (size_t)cap * sizeof *nf);
            t->names = nn;
            t->fields = nf;
            cap *= 2;
        }
        t->names[t->nfields] = wr_arena_strdup(ps->a, w);
        int rc = parse_tmpl(ps, &t->fields[t->nfields]);
        if (rc != WR_OK)
            return rc;
        t->nfields++;
    } while (eat(ps, ','));
    return eat(ps, '>') ? WR_OK : fail(ps, "expected > after STRUCT fields", "");
}

static int
parse_tmpl(parser *ps, const wr_tmpl **out)
{
    char w[64];
    if (!word(ps, w, sizeof w))
        return fail(ps, "expected a type", "");
    wr_tmpl *t = new_tmpl(ps);
    if (t == NULL)
        return wr_err_set(ps->err, WR_ENOMEM, "out of memory");
    *out = t;
    for (size_t i = 0; i < sizeof PRIMS / sizeof PRIMS[0]; i++)
        if (strcmp(w, PRIMS[i].name) == 0) {
            t->type = wr_type_of(PRIMS[i].kind);
            return WR_OK;
        }
    if (strcmp(w, "DECIMAL") == 0 && ps->sig != NULL && !eat(ps, '(')) { /* any DECIMAL */
        return var_of(ps, t, w, true);
    }
    if (strcmp(w, "DECIMAL") == 0) {
        int p = 0, s = 0;
        char num[16];
        if ((ps->sig == NULL && !eat(ps, '(')) || !word(ps, num, sizeof num) ||
            sscanf(num, "%d", &p) != 1 || !eat(ps, ',') || !word(ps, num, sizeof num) ||
            sscanf(num, "%d", &s) != 1 || !eat(ps, ')'))
            return fail(ps, "DECIMAL needs (precision, scale)", "");
        t->type = wr_type_decimal(ps->a, p, s);
        return t->type ? WR_OK : fail(ps, "DECIMAL precision and scale out of range", "");
    }
    if (strcmp(w, "ARRAY") == 0 || strcmp(w, "MAP") == 0) {
        bool map = w[0] == 'M';
        t->kind = map ? WR_T_MAP : WR_T_ARRAY;
        int rc;
        if (!eat(ps, '<'))
            return fail(ps, "expected < after ", w);
        if (map && ((rc = parse_tmpl(ps, &t->key)) != WR_OK || !eat(ps, ',')))
            return rc != WR_OK ? rc : fail(ps, "expected , in MAP<key, value>", "");
        if ((rc = parse_tmpl(ps, &t->elem)) != WR_OK)
            return rc;
        return eat(ps, '>') ? WR_OK : fail(ps, "expected > to close ", w);
    }
    if (strcmp(w, "STRUCT") == 0)
        return eat(ps, '<') ? parse_struct(ps, t) : fail(ps, "expected < after STRUCT", "");
    if (ps->sig == NULL || !is_var_name(w))
        return fail(ps, "unknown type ", w);
    return var_of(ps, t, w, false);
}

/* A lambda parameter at ps, "x => U" or "(k, v) => U", into *out; false (ps unmoved) when the
   text there is not one. */
static bool
lambda(parser *ps, const wr_tmpl **out, int *rc)
{
    skip_ws(ps);
    const char *start = ps->p, *end;
    if (*ps->p == '(') {
        if ((end = strchr(ps->p, ')')) == NULL)
            return false;
        end++;
    } else {
        end = ps->p;
        while (islower((unsigned char)*end) || isdigit((unsigned char)*end) || *end == '_')
            end++;
        if (end == ps->p)
            return false;
    }
    const char *arrow = end;
    while (isspace((unsigned char)*arrow))
        arrow++;
    if (strncmp(arrow, "=>", 2) != 0)
        return false;
    wr_tmpl *t = new_tmpl(ps);
    if (t == NULL || (t->lambda = wr_arena_strndup(ps->a, start, (size_t)(end - start))) == NULL) {
        *rc = wr_err_set(ps->err, WR_ENOMEM, "out of memory");
        return true;
    }
    ps->p = arrow + 2;
    *out = t;
    ps->sig->lambdas = true;
    *rc = parse_tmpl(ps, &t->elem);
    return true;
}

int
wr_sig_parse_type(wr_arena *a, const char *text, const wr_sql_type **out, wr_err *err)
{
    parser ps = {a, text, text, NULL, err};
    const wr_tmpl *t;
    int rc = parse_tmpl(&ps, &t);
    if (rc != WR_OK)
        return rc;
    skip_ws(&ps);
    if (*ps.p != 0)
        return fail(&ps, "unexpected text after the type", "");
    *out = wr_sig_instantiate(a, t, NULL); /* no variables: concrete */
    return *out ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
}

int
wr_sig_parse(wr_arena *a, const char *params, const char *returns, wr_sig *out, wr_err *err)
{
    memset(out, 0, sizeof *out);
    parser ps = {a, params ? params : "", params ? params : "", out, err};
    skip_ws(&ps);
    int cap = 4;
    out->params = wr_arena_calloc(a, (size_t)cap, sizeof *out->params);
    if (out->params == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    while (*ps.p != 0) {
        if (out->variadic)
            return fail(&ps, "only the last parameter can be variadic", "");
        if (out->nparams == cap) {
            const wr_tmpl **np = wr_arena_calloc(a, (size_t)cap * 2, sizeof *np);
            if (np == NULL)
                return wr_err_set(err, WR_ENOMEM, "out of memory");
            memcpy(np, out->params, (size_t)cap * sizeof *np);
            out->params = np;
            cap *= 2;
        }
        int rc = WR_OK;
        if (!lambda(&ps, &out->params[out->nparams], &rc))
            rc = parse_tmpl(&ps, &out->params[out->nparams]);
        out->nparams++;
        if (rc != WR_OK)
            return rc;
        skip_ws(&ps);
        if (strncmp(ps.p, "...", 3) == 0) {
            out->variadic = true;
            ps.p += 3;
            skip_ws(&ps);
        }
        if (*ps.p != 0 && !eat(&ps, ','))
            return fail(&ps, "expected , between parameters", "");
    }
    int nvars = out->nvars;
    if (returns != NULL) {
        parser pr = {a, returns, returns, out, err};
        int rc = parse_tmpl(&pr, &out->ret);
        if (rc != WR_OK)
            return rc;
        skip_ws(&pr);
        if (*pr.p != 0)
            return fail(&pr, "unexpected text after the return type", "");
        if (out->nvars > nvars)
            return wr_err_set(err, WR_ESEMANTIC,
                              "the return type '%s' uses a type variable the parameters do not "
                              "bind",
                              returns);
    }
    return WR_OK;
}

typedef struct binder {
    const wr_sig *s;
    wr_arena *a;
    const wr_sql_type **bound;
    int conflict; /* a variable whose arguments have no common type, or -1 */
} binder;

/* Variable v meets argument type x: 2 when its type stays x's, 1 when x coerces to it (or it
   widens to their common type), 0 when they have none (or x is not a DECIMAL's). */
static int
bind_var(binder *b, int v, const wr_sql_type *x)
{
    int exact = 2;
    if (b->s->decimal_var[v] && x->kind != WR_T_DECIMAL) {
        if ((x = wr_type_as_decimal(b->a, x)) == NULL) /* INT and BIGINT coerce to one */
            return 0;
        exact = 1;
    }
    const wr_sql_type *cur = b->bound[v];
    if (cur == NULL) {
        b->bound[v] = x;
        return exact;
    }
    if (wr_type_equal(cur, x))
        return exact;
    const wr_sql_type *c = wr_type_common(b->a, cur, x);
    if (c == NULL || !wr_type_coercible(cur, c) || !wr_type_coercible(x, c)) {
        b->conflict = v;
        return 0;
    }
    b->bound[v] = c;
    return 1;
}

/* 2: t accepts type x exactly, 1: with coercion, 0: not at all. */
static int
bind_one(binder *b, const wr_tmpl *t, const wr_sql_type *x)
{
    if (x == NULL) /* an untyped NULL fits anything */
        return 1;
    if (t->lambda != NULL)
        return 0;
    if (t->var >= 0)
        return bind_var(b, t->var, x);
    if (t->type != NULL)
        return wr_type_equal(t->type, x) ? 2 : wr_type_coercible(x, t->type) ? 1 : 0;
    if (x->kind != t->kind)
        return 0;
    int m = 2, r;
    if (t->kind == WR_T_STRUCT) {
        if (x->nfields != t->nfields)
            return 0;
        for (int i = 0; i < t->nfields; i++) {
            if (strcasecmp(x->fields[i].name, t->names[i]) != 0 ||
                (r = bind_one(b, t->fields[i], x->fields[i].type)) == 0)
                return 0;
            m = r < m ? r : m;
        }
        return m;
    }
    if (t->kind == WR_T_MAP && (m = bind_one(b, t->key, x->key)) == 0)
        return 0;
    r = bind_one(b, t->elem, x->elem);
    return r < m ? r : m;
}

const wr_tmpl *
wr_sig_param(const wr_sig *s, int i)
{
    if (s->nparams == 0)
        return NULL;
    return i < s->nparams ? s->params[i] : s->variadic ? s->params[s->nparams - 1] : NULL;
}

int
wr_sig_bind(const wr_sig *s,
            wr_arena *a,
            const wr_sql_type *const *args,
            int n,
            const wr_sql_type **bound,
            int *conflict)
{
    for (int v = 0; v < WR_SIG_MAX_VARS; v++)
        bound[v] = NULL;
    binder b = {s, a, bound, -1};
    if (conflict != NULL)
        *conflict = -1;
    int fixed = s->variadic ? s->nparams - 1 : s->nparams;
    if (s->lambdas || n < fixed || (!s->variadic && n > s->nparams))
        return 0;
    int m = 2;
    for (int i = 0; i < n; i++) {
        int r = bind_one(&b, wr_sig_param(s, i), args[i]);
        if (r == 0) {
            if (conflict != NULL)
                *conflict = b.conflict;
            return 0;
        }
        m = r < m ? r : m;
    }
    return m;
}

const wr_sql_type *
wr_sig_instantiate(wr_arena *a, const wr_tmpl *t, const wr_sql_type **bound)
{
    if (t == NULL)
        return NULL;
    if (t->type != NULL)
        return t->type;
    if (t->var >= 0)
        return bound != NULL ? bound[t->var] : NULL;
    wr_sql_type *x = wr_arena_calloc(a, 1, sizeof *x);
    if (x == NULL)
        return NULL;
    x->kind = t->kind;
    if (t->kind == WR_T_STRUCT) {
        wr_sql_field *f = wr_arena_calloc(a, (size_t)t->nfields + 1, sizeof *f);
        if (f == NULL)
            return NULL;
        for (int i = 0; i < t->nfields; i++) {
            f[i].name = t->names[i];
            if ((f[i].type = wr_sig_instantiate(a, t->fields[i], bound)) == NULL)
                return NULL;
        }
        x->nfields = t->nfields;
        x->fields = f;
        return x;
    }
    if (t->kind == WR_T_MAP && (x->key = wr_sig_instantiate(a, t->key, bound)) == NULL)
        return NULL;
    return (x->elem = wr_sig_instantiate(a, t->elem, bound)) ? x : NULL;
}

static void
format_tmpl(wr_buf *b, const wr_sig *s, const wr_tmpl *t)
{
    if (t->lambda != NULL) {
        wr_buf_printf(b, "%s => ", t->lambda);
        format_tmpl(b, s, t->elem);
    } else if (t->type != NULL) {
        wr_ast_format_type(b, t->type);
    } else if (t->var >= 0) {
        wr_buf_printf(b, "%s", s->vars[t->var]);
    } else if (t->kind == WR_T_STRUCT) {
        wr_buf_printf(b, "STRUCT<");
        for (int i = 0; i < t->nfields; i++) {
            wr_buf_printf(b, "%s%s ", i ? ", " : "", t->names[i]);
            format_tmpl(b, s, t->fields[i]);
        }
        wr_buf_printf(b, ">");
    } else {
        wr_buf_printf(b, "%s<", t->kind == WR_T_MAP ? "MAP" : "ARRAY");
        if (t->kind == WR_T_MAP) {
            format_tmpl(b, s, t->key);
            wr_buf_printf(b, ", ");
        }
        format_tmpl(b, s, t->elem);
        wr_buf_printf(b, ">");
    }
}

void
wr_sig_format(wr_buf *b, const char *name, const wr_sig *s, const char *returns_text)
{
    wr_buf_printf(b, "%s(", name);
    for (int i = 0; i < s->nparams; i++) {
        if (i)
            wr_buf_printf(b, ", ");
        format_tmpl(b, s, s->params[i]);
        if (s->variadic && i == s->nparams - 1)
            wr_buf_printf(b, "...");
    }
    wr_buf_printf(b, ") -> ");
    if (s->ret != NULL)
        format_tmpl(b, s, s->ret);
    else
        wr_buf_printf(b, "%s", returns_text ? returns_text : "(decided by the call)");
}

/*
 * ast.c - building syntax-tree nodes for the grammar actions, and printing trees: a one node
 * per line dump (golden tests) and SQL formatting of expressions and types (ksqlDB's style).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "grammar/sql_int.h"

/* ---- builders -------------------------------------------------------------------------- */

bool
wr__sql_list_push(wr_arena *a, wr_sql_list *l, void *item)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        void **v = wr_arena_alloc(a, (size_t)cap * sizeof *v);
        if (v == NULL)
            return false;
        if (l->n > 0)
            memcpy(v, l->v, (size_t)l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = item;
    return true;
}

wr_expr *
wr__sql_expr(struct wr_sql_lex *lx, wr_ekind k, wr_sql_span at)
{
    wr_expr *e = wr_arena_calloc(lx->arena, 1, sizeof *e);
    if (e != NULL) {
        e->kind = k;
        e->loc = WR_SQL_TO_LOC(at);
        e->depth = 1;
    }
    return e;
}

static int
depth_of(const wr_expr *e)
{
    return e != NULL ? e->depth : 0;
}

bool
wr__sql_depth(struct wr_sql_lex *lx, wr_expr *e)
{
    int d = depth_of(e->a);
    if (depth_of(e->b2) > d)
        d = depth_of(e->b2);
    if (depth_of(e->c) > d)
        d = depth_of(e->c);
    for (int i = 0; i < e->n && e->list != NULL; i++)
        if (depth_of(e->list[i]) > d)
            d = depth_of(e->list[i]);
    e->depth = d + 1;
    if (e->depth <= WR_SQL_MAX_DEPTH)
        return true;
    wr_sql_span at = {.first_line = e->loc.line, .first_column = e->loc.col};
    wr__sql_fail(lx, at, "expression nested too deeply (more than %d levels)", WR_SQL_MAX_DEPTH);
    return false;
}

int
wr_sql_error_at(wr_err *err, int code, wr_loc at, const char *fmt, ...)
{
    char msg[WR_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wr_err_set_at(err, code, at.line, at.col, "line %d:%d: %s", at.line, at.col, msg);
}

void
wr__sql_fail(struct wr_sql_lex *lx, wr_sql_span at, const char *fmt, ...)
{
    if (lx->failed)
        return;
    lx->failed = true;
    char msg[WR_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wr_sql_error_at(lx->err, WR_ESYNTAX, WR_SQL_TO_LOC(at), "%s", msg);
}

static const struct {
    const char *name;
    wr_tkind kind;
} named_types[] = {
    {"BOOLEAN", WR_T_BOOLEAN}, {"INT", WR_T_INT},       {"INTEGER", WR_T_INT},
    {"BIGINT", WR_T_BIGINT},   {"DOUBLE", WR_T_DOUBLE}, {"STRING", WR_T_STRING},
    {"VARCHAR", WR_T_STRING},  {"BYTES", WR_T_BYTES},   {"TIMESTAMP", WR_T_TIMESTAMP},
    {"DATE", WR_T_DATE},       {"TIME", WR_T_TIME},
};

const wr_sql_type *
wr__sql_named_type(struct wr_sql_lex *lx, const char *name, wr_sql_span at)
{
    for (size_t i = 0; i < sizeof named_types / sizeof named_types[0]; i++) {
        if (strcasecmp(name, named_types[i].name) == 0) {
            wr_sql_type *t = wr_arena_calloc(lx->arena, 1, sizeof *t);
            if (t == NULL) {
                wr__sql_fail(lx, at, "out of memory");
                return NULL;
            }
            t->kind = named_types[i].kind;
            return t;
        }
    }
    if (strcasecmp(name, "DECIMAL") == 0)
        wr__sql_fail(lx, at, "DECIMAL needs a precision and scale: DECIMAL(p, s)");
    else
        wr__sql_fail(lx, at, "unknown type '%s'", name);
    return NULL;
}

int64_t
wr__sql_duration(struct wr_sql_lex *lx, int64_t n, const char *unit, wr_sql_span at)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {
        {"MILLISECOND", 1}, {"MILLISECONDS", 1}, {"SECOND", 1000},  {"SECONDS", 1000},
        {"MINUTE", 60000},  {"MINUTES", 60000},  {"HOUR", 3600000}, {"HOURS", 3600000},
        {"DAY", 86400000},  {"DAYS", 86400000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(unit, units[i].name) == 0) {
            if (n > INT64_MAX / units[i].ms) {
                wr__sql_fail(lx, at, "duration out of range");
                return -1;
            }
            return n * units[i].ms;
        }
    }
    wr__sql_fail(lx, at,
                 "unknown time unit '%s': expected MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS",
                 unit);
    return -1;
}

/* ---- formatting as SQL ----------------------------------------------------------------- */

const char *
wr_ast_op_name(wr_op op)
{
    static const char *const names[] = {
        [WR_OP_NONE] = "?",  [WR_OP_NEG] = "-",     [WR_OP_PLUS] = "+", [WR_OP_NOT] = "NOT",
        [WR_OP_ADD] = "+",   [WR_OP_SUB] = "-",     [WR_OP_MUL] = "*",  [WR_OP_DIV] = "/",
        [WR_OP_MOD] = "%",   [WR_OP_CONCAT] = "||", [WR_OP_EQ] = "=",   [WR_OP_NE] = "<>",
        [WR_OP_LT] = "<",    [WR_OP_LE] = "<=",     [WR_OP_GT] = ">",   [WR_OP_GE] = ">=",
        [WR_OP_AND] = "AND", [WR_OP_OR] = "OR",
    };
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

void
wr_ast_format_type(wr_buf *b, const wr_sql_type *t)
{
    static const char *const names[] = {
        [WR_T_BOOLEAN] = "BOOLEAN", [WR_T_INT] = "INTEGER",         [WR_T_BIGINT] = "BIGINT",
        [WR_T_DOUBLE] = "DOUBLE",   [WR_T_DECIMAL] = "DECIMAL",     [WR_T_STRING] = "STRING",
        [WR_T_BYTES] = "BYTES",     [WR_T_TIMESTAMP] = "TIMESTAMP", [WR_T_DATE] = "DATE",
        [WR_T_TIME] = "TIME",       [WR_T_ARRAY] = "ARRAY",         [WR_T_MAP] = "MAP",
        [WR_T_STRUCT] = "STRUCT",
    };
    if (t == NULL) {
        wr_buf_printf(b, "?");
        return;
    }
    wr_buf_printf(b, "%s", names[t->kind]);
    switch (t->kind) {
    case WR_T_DECIMAL:
        wr_buf_printf(b, "(%d, %d)", t->precision, t->scale);
        break;
    case WR_T_ARRAY:
        wr_buf_printf(b, "<");
        wr_ast_format_type(b, t->elem);
        wr_buf_printf(b, ">");
        break;
    case WR_T_MAP:
        wr_buf_printf(b, "<");
        wr_ast_format_type(b, t->key);
        wr_buf_printf(b, ", ");
        wr_ast_format_type(b, t->elem);
        wr_buf_printf(b, ">");
        break;
    case WR_T_STRUCT:
        wr_buf_printf(b, "<");
        for (int i = 0; i < t->nfields; i++) {
            wr_buf_printf(b, "%s`%s` ", i ? ", " : "", t->fields[i].name);
            wr_ast_format_type(b, t->fields[i].type);
        }
        wr_buf_printf(b, ">");
        break;
    default:
        break;
    }
}

static void
format_string(wr_buf *b, const char *s, size_t len)
{
    wr_buf_put_u8(b, '\'');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'')
            wr_buf_put_u8(b, '\'');
        wr_buf_put_u8(b, (uint8_t)s[i]);
    }
    wr_buf_put_u8(b, '\'');
}

static void
format_list(wr_buf *b, wr_expr *const *l, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            wr_buf_printf(b, ", ");
        wr_ast_format_expr(b, l[i]);
    }
}

void
wr_ast_format_expr(wr_buf *b, const wr_expr *e)
{
    if (e == NULL) {
        wr_buf_printf(b, "?");
        return;
    }
    switch (e->kind) {
    case WR_E_NULL:
        wr_buf_printf(b, "null");
        break;
    case WR_E_BOOL:
        wr_buf_printf(b, "%s", e->b ? "true" : "false");
        break;
    case WR_E_INT:
    case WR_E_DECIMAL:
    case WR_E_DOUBLE:
        wr_buf_printf(b, "%s", e->text);
        break;
    case WR_E_STRING:
        format_string(b, e->text, e->len);
        break;
    case WR_E_COLUMN:
        if (e->qualifier != NULL)
            wr_buf_printf(b, "%s.", e->qualifier);
        wr_buf_printf(b, "%s", e->name);
        break;
    case WR_E_STAR:
        if (e->a != NULL) { /* v->* */
            wr_ast_format_expr(b, e->a);
            wr_buf_printf(b, "->*");
            break;
        }
        wr_buf_printf(b, "%s%s*", e->qualifier ? e->qualifier : "", e->qualifier ? "." : "");
        break;
    case WR_E_UNARY: {
        /* -(-A), not --A, which would read back as a comment */
        bool wrap = e->op != WR_OP_NOT && e->a != NULL &&
                    ((e->a->kind == WR_E_UNARY && e->a->op != WR_OP_NOT) ||
                     (e->a->text != NULL && e->a->text[0] == '-'));
        wr_buf_printf(b, e->op == WR_OP_NOT ? "(NOT " : "%s", wr_ast_op_name(e->op));
        wr_buf_printf(b, "%s", wrap ? "(" : "");
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, "%s", wrap || e->op == WR_OP_NOT ? ")" : "");
        break;
    }
    case WR_E_BINARY:
        wr_buf_printf(b, "(");
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, " %s ", wr_ast_op_name(e->op));
        wr_ast_format_expr(b, e->b2);
        wr_buf_printf(b, ")");
        break;
    case WR_E_LIKE:
        wr_buf_printf(b, "(");
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, e->negated ? " NOT LIKE " : " LIKE ");
        wr_ast_format_expr(b, e->b2);
        if (e->c != NULL) {
            wr_buf_printf(b, " ESCAPE ");
            wr_ast_format_expr(b, e->c);
        }
        wr_buf_printf(b, ")");
        break;
    case WR_E_BETWEEN:
        wr_buf_printf(b, "(");
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, e->negated ? " NOT BETWEEN " : " BETWEEN ");
        wr_ast_format_expr(b, e->b2);
        wr_buf_printf(b, " AND ");
        wr_ast_format_expr(b, e->c);
        wr_buf_printf(b, ")");
        break;
    case WR_E_IN:
        wr_buf_printf(b, "(");
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, e->negated ? " NOT IN (" : " IN (");
        format_list(b, e->list, e->n);
        wr_buf_printf(b, "))");
        break;
    case WR_E_IS_NULL:
        wr_buf_printf(b, "(");
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, e->negated ? " IS NOT NULL)" : " IS NULL)");
        break;
    case WR_E_DISTINCT:
        wr_buf_printf(b, "(");
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, e->negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ");
        wr_ast_format_expr(b, e->b2);
        wr_buf_printf(b, ")");
        break;
    case WR_E_CASE:
        wr_buf_printf(b, "(CASE");
        if (e->a != NULL) {
            wr_buf_printf(b, " ");
            wr_ast_format_expr(b, e->a);
        }
        for (int i = 0; i + 1 < e->n; i += 2) {
            wr_buf_printf(b, " WHEN ");
            wr_ast_format_expr(b, e->list[i]);
            wr_buf_printf(b, " THEN ");
            wr_ast_format_expr(b, e->list[i + 1]);
        }
        if (e->b2 != NULL) {
            wr_buf_printf(b, " ELSE ");
            wr_ast_format_expr(b, e->b2);
        }
        wr_buf_printf(b, " END)");
        break;
    case WR_E_CAST:
        wr_buf_printf(b, "CAST(");
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, " AS ");
        wr_ast_format_type(b, e->type);
        wr_buf_printf(b, ")");
        break;
    case WR_E_CALL:
        wr_buf_printf(b, "%s(%s", e->text, e->distinct ? "DISTINCT " : "");
        format_list(b, e->list, e->n);
        wr_buf_printf(b, ")");
        break;
    case WR_E_DEREF:
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, "->%s", e->name);
        break;
    case WR_E_SUBSCRIPT:
        wr_ast_format_expr(b, e->a);
        wr_buf_printf(b, "[");
        wr_ast_format_expr(b, e->b2);
        wr_buf_printf(b, "]");
        break;
    case WR_E_LAMBDA:
        wr_buf_printf(b, "(");
        for (int i = 0; i < e->n; i++)
            wr_buf_printf(b, "%s%s", i ? ", " : "", e->names[i]);
        wr_buf_printf(b, ") => ");
        wr_ast_format_expr(b, e->a);
        break;
    case WR_E_ARRAY:
        wr_buf_printf(b, "ARRAY[");
        format_list(b, e->list, e->n);
        wr_buf_printf(b, "]");
        break;
    case WR_E_MAP:
        wr_buf_printf(b, "MAP(");
        for (int i = 0; i < e->n; i++) {
            wr_buf_printf(b, "%s", i ? ", " : "");
            wr_ast_format_expr(b, e->list[2 * i]);
            wr_buf_printf(b, ":=");
            wr_ast_format_expr(b, e->list[2 * i + 1]);
        }
        wr_buf_printf(b, ")");
        break;
    case WR_E_STRUCT:
        wr_buf_printf(b, "STRUCT(");
        for (int i = 0; i < e->n; i++) {
            wr_buf_printf(b, "%s%s:=", i ? ", " : "", e->names[i]);
            wr_ast_format_expr(b, e->list[i]);
        }
        wr_buf_printf(b, ")");
        break;
    }
}

/* ---- the tree dump --------------------------------------------------------------------- */

static void line(wr_buf *b, int ind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
line(wr_buf *b, int ind, const char *fmt, ...)
{
    for (int i = 0; i < ind; i++)
        wr_buf_printf(b, "  ");
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    wr_buf_printf(b, "%s\n", tmp);
}

static void
dump_expr(wr_buf *b, int ind, const char *label, const wr_expr *e)
{
    if (e == NULL)
        return;
    wr_buf f = WR_BUF_INIT;
    wr_ast_format_expr(&f, e);
    wr_buf_put_u8(&f, 0);
    line(b, ind, "%s: %s @%d:%d", label, wr_buf_ok(&f) ? (const char *)f.data : "?", e->loc.line,
         e->loc.col);
    wr_buf_free(&f);
}

static void
dump_relation(wr_buf *b, int ind, const wr_relation *r)
{
    if (r == NULL)
        return;
    if (!r->is_join) {
        line(b, ind, "source %s%s%s @%d:%d", r->name, r->alias ? " AS " : "",
             r->alias ? r->alias : "", r->loc.line, r->loc.col);
        return;
    }
    static const char *const kinds[] = {"INNER", "LEFT", "RIGHT", "FULL"};
    line(b, ind, "join %s", kinds[r->join]);
    dump_relation(b, ind + 1, r->left);
    dump_relation(b, ind + 1, r->right);
    if (r->within != NULL)
        line(b, ind + 1, "within before=%lldms after=%lldms grace=%lldms",
             (long long)r->within->before_ms, (long long)r->within->after_ms,
             (long long)r->within->grace_ms);
    dump_expr(b, ind + 1, "on", r->on);
}

static void
dump_list(wr_buf *b, int ind, const char *label, wr_expr *const *l, int n)
{
    for (int i = 0; i < n; i++)
        dump_expr(b, ind, label, l[i]);
}

static void
dump_select(wr_buf *b, int ind, const wr_select *q)
{
    line(b, ind, "select");
    for (int i = 0; i < q->nitems; i++) {
        wr_buf f = WR_BUF_INIT;
        wr_ast_format_expr(&f, q->items[i].expr);
        wr_buf_put_u8(&f, 0);
        line(b, ind + 1, "item: %s%s%s", wr_buf_ok(&f) ? (const char *)f.data : "?",
             q->items[i].alias ? " AS " : "", q->items[i].alias ? q->items[i].alias : "");
        wr_buf_free(&f);
    }
    line(b, ind + 1, "from");
    dump_relation(b, ind + 2, q->from);
    if (q->window != NULL) {
        static const char *const kinds[] = {"TUMBLING", "HOPPING", "SESSION"};
        line(b, ind + 1, "window %s size=%lldms advance=%lldms retention=%lldms grace=%lldms",
             kinds[q->window->kind], (long long)q->window->size_ms,
             (long long)q->window->advance_ms, (long long)q->window->retention_ms,
             (long long)q->window->grace_ms);
    }
    dump_expr(b, ind + 1, "where", q->where);
    dump_list(b, ind + 1, "group by", q->group_by, q->ngroup);
    dump_list(b, ind + 1, "partition by", q->partition_by, q->npartition);
    dump_expr(b, ind + 1, "having", q->having);
    if (q->emit != WR_EMIT_NONE)
        line(b, ind + 1, "emit %s", q->emit == WR_EMIT_CHANGES ? "CHANGES" : "FINAL");
    if (q->limit >= 0)
        line(b, ind + 1, "limit %lld", (long long)q->limit);
}

static void
dump_props(wr_buf *b, int ind, const wr_stmt *s)
{
    for (int i = 0; i < s->nprops; i++) {
        wr_buf f = WR_BUF_INIT;
        wr_ast_format_expr(&f, s->props[i].value);
        wr_buf_put_u8(&f, 0);
        line(b, ind, "with %s = %s", s->props[i].name, wr_buf_ok(&f) ? (const char *)f.data : "?");
        wr_buf_free(&f);
    }
}

static void
dump_stmt(wr_buf *b, int ind, const wr_stmt *s)
{
    static const char *const roles[] = {"", " KEY", " PRIMARY KEY", " HEADERS", " HEADER"};
    static const char *const shows[] = {"STREAMS",    "TABLES",    "QUERIES",  "TOPICS",
                                        "PROPERTIES", "FUNCTIONS", "VARIABLES"};
    const char *what = s->is_table ? "TABLE" : "STREAM";
    switch (s->kind) {
    case WR_S_CREATE_SOURCE:
    case WR_S_CREATE_AS:
        line(b, ind, "create %s%s %s%s @%d:%d", s->or_replace ? "or replace " : "", what, s->name,
             s->if_not_exists ? " if not exists" : "", s->name_loc.line, s->name_loc.col);
        for (int i = 0; i < s->ncols; i++) {
            wr_buf f = WR_BUF_INIT;
            wr_ast_format_type(&f, s->cols[i].type);
            wr_buf_put_u8(&f, 0);
            line(b, ind + 1, "column %s %s%s%s%s%s", s->cols[i].name,
                 wr_buf_ok(&f) ? (const char *)f.data : "?", roles[s->cols[i].role],
                 s->cols[i].header_key ? "('" : "",
                 s->cols[i].header_key ? s->cols[i].header_key : "",
                 s->cols[i].header_key ? "')" : "");
            wr_buf_free(&f);
        }
        dump_props(b, ind + 1, s);
        if (s->select != NULL)
            dump_select(b, ind + 1, s->select);
        break;
    case WR_S_INSERT_SELECT:
        line(b, ind, "insert into %s", s->name);
        dump_props(b, ind + 1, s);
        dump_select(b, ind + 1, s->select);
        break;
    case WR_S_INSERT_VALUES:
        line(b, ind, "insert into %s values", s->name);
        for (int i = 0; i < s->ninsert_cols; i++)
            line(b, ind + 1, "column %s", s->insert_cols[i]);
        dump_list(b, ind + 1, "value", s->values, s->nvalues);
        break;
    case WR_S_QUERY:
        line(b, ind, "query");
        dump_select(b, ind + 1, s->select);
        break;
    case WR_S_DROP:
        line(b, ind, "drop %s %s%s%s", what, s->name, s->if_exists ? " if exists" : "",
             s->delete_topic ? " delete topic" : "");
        break;
    case WR_S_TERMINATE:
        line(b, ind, "terminate %s", s->all ? "ALL" : s->name);
        break;
    case WR_S_LOAD_FUNCTIONS:
        line(b, ind, "create functions from '%s'", s->name);
        break;
    case WR_S_SHOW:
        line(b, ind, "show %s%s%s", s->all ? "ALL " : "", shows[s->show],
             s->extended ? " extended" : "");
        break;
    case WR_S_DESCRIBE:
        if (s->all)
            line(b, ind, "describe %s%s", s->is_table ? "TABLES" : "STREAMS",
                 s->extended ? " extended" : "");
        else
            line(b, ind, "describe %s%s", s->name, s->extended ? " extended" : "");
        break;
    case WR_S_DESCRIBE_FUNC:
        line(b, ind, "describe function %s", s->name);
        break;
    case WR_S_EXPLAIN:
        if (s->inner != NULL) {
            line(b, ind, "explain");
            dump_stmt(b, ind + 1, s->inner);
        } else {
            line(b, ind, "explain %s", s->name);
        }
        break;
    case WR_S_PRINT:
        line(b, ind, "print '%s'%s interval=%lld limit=%lld", s->name,
             s->from_beginning ? " from beginning" : "", (long long)s->interval,
             (long long)s->limit);
        break;
    case WR_S_SET:
        line(b, ind, "set '%s' = '%s'", s->name, s->value);
        break;
    case WR_S_UNSET:
        line(b, ind, "unset '%s'", s->name);
        break;
    case WR_S_DEFINE:
        line(b, ind, "define %s = '%s'", s->name, s->value);
        break;
    case WR_S_UNDEFINE:
        line(b, ind, "undefine %s", s->name);
        break;
    }
}

void
wr_ast_dump_stmt(wr_buf *b, const wr_stmt *s)
{
    dump_stmt(b, 0, s);
}

/*
 * sql.c - the parser's entry points: parsing a script, splitting one into statements, and
 * ${variable} substitution.
 */
#include <string.h>
#include <strings.h>

#include "grammar/sql_int.h"
#include "sql.tab.h"
#define YYSTYPE WR_SQLYYSTYPE
#define YYLTYPE wr_sql_span
#include "sql.yy.h"

int
wr_sql_parse(wr_arena *a, const char *text, size_t len, wr_script **out, wr_err *err)
{
    *out = NULL;
    if (len > WR_SQL_MAX_TEXT)
        return wr_err_set(err, WR_ETOOBIG, "statement text of %zu bytes is over the limit of %u",
                          len, WR_SQL_MAX_TEXT);
    wr_err local;
    if (err == NULL)
        err = &local;
    struct wr_sql_lex lx = {.arena = a, .text = text, .len = len, .line = 1, .col = 1, .err = err};
    yyscan_t sc;
    if (wr_sqlyylex_init_extra(&lx, &sc) != 0)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    YY_BUFFER_STATE buf = wr_sqlyy_scan_bytes(text, (int)len, sc);
    if (buf == NULL) {
        wr_sqlyylex_destroy(sc);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    int rc = wr_sqlyyparse(sc);
    wr_sqlyy_delete_buffer(buf, sc);
    wr_sqlyylex_destroy(sc);
    if (rc != 0 || lx.failed) {
        if (!lx.failed)
            return wr_err_set(err, rc == 2 ? WR_ENOMEM : WR_ESYNTAX, "line %d:%d: syntax error",
                              lx.line, lx.col);
        return err->code;
    }
    wr_script *s = wr_arena_calloc(a, 1, sizeof *s);
    if (s == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    s->n = lx.stmts.n;
    s->stmts = (wr_stmt **)lx.stmts.v;
    *out = s;
    return WR_OK;
}

/* Skips a quoted run starting at text[i] (the opening quote); returns the index after it. */
static size_t
skip_quoted(const char *t, size_t len, size_t i)
{
    char q = t[i++];
    while (i < len) {
        if (t[i] == q) {
            if (i + 1 < len && t[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return len;
}

size_t
wr_sql_next_statement(const char *t, size_t len)
{
    bool any = false;
    size_t i = 0;
    while (i < len) {
        char c = t[i];
        if (c == '\'' || c == '`' || c == '"') {
            i = skip_quoted(t, len, i);
            any = true;
        } else if (c == '-' && i + 1 < len && t[i + 1] == '-') {
            while (i < len && t[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < len && t[i + 1] == '*') {
            const char *end = NULL;
            for (size_t j = i + 2; j + 1 < len; j++)
                if (t[j] == '*' && t[j + 1] == '/') {
                    end = t + j + 2;
                    break;
                }
            i = end ? (size_t)(end - t) : len;
        } else if (c == ';') {
            return i + 1;
        } else {
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f')
                any = true;
            i++;
        }
    }
    return any ? len : 0;
}

int
wr_sql_substitute(wr_arena *a,
                  const char *t,
                  size_t len,
                  wr_sql_var_fn lookup,
                  void *arg,
                  char **out,
                  size_t *out_len,
                  wr_err *err)
{
    wr_buf b = WR_BUF_INIT;
    int line = 1, col = 1;
    for (size_t i = 0; i < len;) {
        if (t[i] == '$' && i + 2 < len && t[i + 1] == '$' && t[i + 2] == '{') {
            wr_buf_append(&b, "${", 2); /* $${ escapes a reference */
            i += 3;
            col += 3;
            continue;
        }
        if (t[i] == '$' && i + 1 < len && t[i + 1] == '{') {
            size_t j = i + 2;
            char name[128];
            size_t n = 0;
            while (j < len && t[j] != '}' && n + 1 < sizeof name) {
                char c = t[j];
                bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                          (n > 0 && c >= '0' && c <= '9');
                if (!ok)
                    break;
                name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
                j++;
            }
            name[n] = 0;
            if (j >= len || t[j] != '}' || n == 0) {
                wr_buf_free(&b);
                return wr_err_set_at(err, WR_ESYNTAX, line, col,
                                     "line %d:%d: malformed variable reference: expected ${name}",
                                     line, col);
            }
            const char *v = lookup ? lookup(arg, name) : NULL;
            if (v == NULL) {
                wr_buf_free(&b);
                return wr_err_set_at(err, WR_ESEMANTIC, line, col,
                                     "line %d:%d: variable %s is not defined", line, col, name);
            }
            wr_buf_append(&b, v, strlen(v));
            col += (int)(j + 1 - i);
            i = j + 1;
            continue;
        }
        if (t[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)t[i] & 0xC0) != 0x80) {
            col++;
        }
        wr_buf_put_u8(&b, (uint8_t)t[i]);
        i++;
    }
    wr_buf_put_u8(&b, 0);
    if (!wr_buf_ok(&b)) {
        wr_buf_free(&b);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    *out = wr_arena_memdup(a, b.data, b.len);
    *out_len = b.len - 1;
    wr_buf_free(&b);
    return *out ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
}

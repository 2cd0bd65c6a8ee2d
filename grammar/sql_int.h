/*
 * sql_int.h - what the lexer (sql.l), the parser (sql.y) and their support code (sql_lex.c,
 * ast.c, sql.c) share. Not for use outside grammar/: the public interface is sql.h.
 */
#ifndef WR_GRAMMAR_SQL_INT_H
#define WR_GRAMMAR_SQL_INT_H

#include <stddef.h>

#include "grammar/ast.h"
#include "grammar/sql.h"
#include "src/base/arena.h"
#include "src/base/err.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#    define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* A source span: bison's default location fields, plus byte offsets for statement texts. */
typedef struct wr_sql_span {
    int first_line, first_column, last_line, last_column;
    size_t first_off, last_off; /* [first_off, last_off) */
} wr_sql_span;

/* A growable array of pointers in the arena (old blocks are left to the arena). */
typedef struct wr_sql_list {
    int n, cap;
    void **v;
} wr_sql_list;

/* The lexer's and parser's shared state (flex's "extra"). */
struct wr_sql_lex {
    wr_arena *arena;
    const char *text;
    size_t len;
    int line, col; /* position of the next character */
    size_t off;
    wr_sql_span comment_loc;
    const char *lex_error; /* set with a LEX_ERROR token */
    int bad_char;
    wr_err *err;
    bool failed; /* err holds the message */
    wr_script *script;
    wr_sql_list stmts;
};

typedef struct wr_sql_str {
    const char *s;
    size_t len;
} wr_sql_str;

#define WR_SQL_TO_LOC(sp) ((wr_loc){(sp).first_line, (sp).first_column})

/* sql_lex.c */
/* Records a lexical error for the parser to report; returns the LEX_ERROR token. */
int wr__sql_lex_fail(struct wr_sql_lex *lx, const char *msg);
void wr__sql_advance(wr_sql_span *loc, struct wr_sql_lex *lx, const char *t, size_t n);
int wr__sql_number(struct wr_sql_lex *lx, void *yylval, const char *t, size_t n, int tok);
int wr__sql_word(struct wr_sql_lex *lx, void *yylval, const char *t, size_t n);
/* The keyword spelled by token tok ("SELECT"), or NULL for a token that is not a keyword. */
const char *wr__sql_keyword_name(int tok);

/* ast.c: node builders used by the grammar actions (all allocate in lx->arena) */
bool wr__sql_list_push(wr_arena *a, wr_sql_list *l, void *item);
wr_expr *wr__sql_expr(struct wr_sql_lex *lx, wr_ekind k, wr_sql_span at);
/* Sets e's depth from its children; false (with the error recorded) when it is too deep. */
bool wr__sql_depth(struct wr_sql_lex *lx, wr_expr *e);
/* Records a semantic-looking syntax error at a location (the first one wins). */
void wr__sql_fail(struct wr_sql_lex *lx, wr_sql_span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A named type (INT, VARCHAR, ...), or NULL with the error recorded. */
const wr_sql_type *wr__sql_named_type(struct wr_sql_lex *lx, const char *name, wr_sql_span at);
/* A duration: n units (MILLISECOND(S), SECOND(S), MINUTE(S), HOUR(S), DAY(S)) in ms, or -1. */
int64_t wr__sql_duration(struct wr_sql_lex *lx, int64_t n, const char *unit, wr_sql_span at);

#endif

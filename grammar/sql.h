/*
 * sql.h - parsing weir's SQL (ksqlDB dialect) into the syntax tree of ast.h, printing trees
 * back, splitting scripts into statements and substituting ${variables}.
 *
 * The parser is a pure bison parser over a reentrant flex lexer: any number of parses may run
 * at once on different threads. It never touches the catalog; what it returns is syntax only.
 * Errors carry a 1-based line and column in wr_err and in the message, which reads
 * "line L:C: ..." as ksqlDB's do.
 *
 * Limits: a text of at most WR_SQL_MAX_TEXT bytes; expressions at most WR_SQL_MAX_DEPTH deep;
 * parenthesis and parser-stack nesting bounded, so that no input can exhaust the stack.
 */
#ifndef WR_GRAMMAR_SQL_H
#define WR_GRAMMAR_SQL_H

#include <stddef.h>

#include "grammar/ast.h"
#include "src/base/arena.h"
#include "src/base/buf.h"
#include "src/base/err.h"

#define WR_SQL_MAX_TEXT  (16u << 20)
#define WR_SQL_MAX_DEPTH 500

/*
 * Parses every statement of text (len bytes, need not end in NUL) into *out, allocated in a.
 * Statements end with ';' (the last one may omit it). Returns WR_OK, WR_ESYNTAX with err set
 * (err->line, err->col and "line L:C: ..." in err->msg), WR_ETOOBIG or WR_ENOMEM.
 */
int wr_sql_parse(wr_arena *a, const char *text, size_t len, wr_script **out, wr_err *err);

/*
 * The length of the first statement of text, through its ';' (or to the end), skipping
 * quotes and comments; 0 when text holds only blanks and comments. Lets a session run a
 * script statement by statement, substituting variables DEFINEd by earlier statements.
 */
size_t wr_sql_next_statement(const char *text, size_t len);

/*
 * Replaces each ${name} (case-insensitive name) with lookup(arg, NAME) where NAME is upper
 * case; $${ stays as a literal ${. An unknown variable is an error with its position. The
 * result is NUL-terminated and allocated in a.
 */
typedef const char *(*wr_sql_var_fn)(void *arg, const char *name);
int wr_sql_substitute(wr_arena *a,
                      const char *text,
                      size_t len,
                      wr_sql_var_fn lookup,
                      void *arg,
                      char **out,
                      size_t *out_len,
                      wr_err *err);

/* Prints a statement as an indented tree, one node a line (golden tests, debugging). */
void wr_ast_dump_stmt(wr_buf *b, const wr_stmt *s);

/* Prints an expression or a type back as SQL, the way ksqlDB formats them
   (`(A + 1)`, `ARRAY<STRING>`); used for column names, EXPLAIN and messages. */
void wr_ast_format_expr(wr_buf *b, const wr_expr *e);
void wr_ast_format_type(wr_buf *b, const wr_sql_type *t);

const char *wr_ast_op_name(wr_op op);

/* Sets err to code with the message "line L:C: <fmt...>" and the position in err->line/col: the
   one shape of every SQL error, from the parser or from the analysis after it. */
int wr_sql_error_at(wr_err *err, int code, wr_loc at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

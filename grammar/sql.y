/*
 * sql.y - the grammar of weir's SQL, the ksqlDB dialect: a pure LALR(1) bison parser with
 * locations and no conflicts (%expect 0). Actions only build the tree of ast.h in the arena;
 * they never look at the catalog. Errors name line:column and the tokens that were expected.
 *
 * Expressions follow ksqlDB's (Presto's) precedence, loosest first: OR, AND, NOT, predicates
 * (comparisons, [NOT] BETWEEN/IN/LIKE, IS [NOT] NULL, IS [NOT] DISTINCT FROM), ||, + -,
 * * / %, unary - +, then postfix -> and [ ]. BETWEEN bounds and comparison operands are value
 * expressions, which is what keeps BETWEEN's AND apart from the boolean one.
 */
%define api.pure full
%define api.prefix {wr_sqlyy}
%define api.location.type {wr_sql_span}
%define parse.error custom
%define parse.lac full
%locations
%param {yyscan_t scanner}
%expect 0

%code requires {
#include "grammar/sql_int.h"
}

%code provides {
int wr_sqlyylex(WR_SQLYYSTYPE *lval, wr_sql_span *lloc, yyscan_t scanner);
struct wr_sql_lex *wr_sqlyyget_extra(yyscan_t scanner);
}

%code {
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The bison stack bounds nesting (parentheses make no nodes); a stack overflow is reported as
   "nested too deeply", never a crash. */
#define YYMAXDEPTH 2000
#define YYINITDEPTH 200

#define LX (wr_sqlyyget_extra(scanner))
#define A  (LX->arena)

/* Spans: the first symbol's start to the last symbol's end; an empty rule sits at the end of
   what came before it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                  \
    do {                                                             \
        if (N) {                                                     \
            (Cur).first_line = YYRHSLOC(Rhs, 1).first_line;          \
            (Cur).first_column = YYRHSLOC(Rhs, 1).first_column;      \
            (Cur).first_off = YYRHSLOC(Rhs, 1).first_off;            \
            (Cur).last_line = YYRHSLOC(Rhs, N).last_line;            \
            (Cur).last_column = YYRHSLOC(Rhs, N).last_column;        \
            (Cur).last_off = YYRHSLOC(Rhs, N).last_off;              \
        } else {                                                     \
            (Cur).first_line = (Cur).last_line = YYRHSLOC(Rhs, 0).last_line;       \
            (Cur).first_column = (Cur).last_column = YYRHSLOC(Rhs, 0).last_column; \
            (Cur).first_off = (Cur).last_off = YYRHSLOC(Rhs, 0).last_off;          \
        }                                                            \
    } while (0)

#define NEW(T) ((T *)wr_arena_calloc(A, 1, sizeof(T)))
#define OOM(p)                                                       \
    do {                                                             \
        if ((p) == NULL) {                                           \
            wr__sql_fail(LX, yylloc, "out of memory");               \
            YYABORT;                                                 \
        }                                                            \
    } while (0)
#define PUSH(l, x) OOM(wr__sql_list_push(A, &(l), (x)) ? (void *)1 : NULL)
#define DEPTH(e)                                                     \
    do {                                                             \
        if (!wr__sql_depth(LX, (e)))                                 \
            YYABORT;                                                 \
    } while (0)

static wr_expr *
binary(struct wr_sql_lex *lx, wr_ekind k, wr_op op, wr_expr *a, wr_expr *b, wr_sql_span at)
{
    wr_expr *e = wr__sql_expr(lx, k, at);
    if (e != NULL) {
        e->op = op;
        e->a = a;
        e->b2 = b;
    }
    return e;
}

static wr_stmt *
stmt(struct wr_sql_lex *lx, wr_skind k, wr_sql_span at)
{
    wr_stmt *s = wr_arena_calloc(lx->arena, 1, sizeof *s);
    if (s != NULL) {
        s->kind = k;
        s->loc = WR_SQL_TO_LOC(at);
        s->limit = -1;
        s->interval = -1;
    }
    return s;
}

/* Copies a pointer list into an exact array. */
#define FLATTEN(dst_n, dst_v, T, l)                                  \
    do {                                                             \
        (dst_n) = (l).n;                                             \
        (dst_v) = (T **)(l).v;                                       \
    } while (0)

static void yyerror(wr_sql_span *loc, yyscan_t scanner, const char *msg);

static void *
window_tag(char c)
{
    static const char tags[] = "SARGD";
    return (void *)strchr(tags, c);
}
}

%union {
    wr_sql_str str;
    int64_t i64;
    double dbl;
    bool flag;
    int num;
    wr_expr *expr;
    wr_stmt *stmt;
    wr_select *select;
    wr_select_item *item;
    wr_relation *rel;
    wr_window *window;
    wr_within *within;
    const wr_sql_type *type;
    wr_sql_field *field;
    wr_column_def *col;
    wr_property *prop;
    wr_sql_list list;
    struct {
        void *tag, *ms;
    } wparam;
}

%token <str> IDENT QUOTED_IDENT STRING_VALUE INTEGER_VALUE DECIMAL_VALUE DOUBLE_VALUE
%token LEX_ERROR "invalid token"
%token NEQ "<>" LTE "<=" GTE ">=" CONCAT_OP "||" ARROW "->" LAMBDA_ARROW "=>" ASSIGN ":="

/* reserved words */
%token <str> ADVANCE ALL AND ARRAY AS BEGINNING BETWEEN BY CASE CAST CHANGES CREATE DEFINE DELETE
%token <str> DESCRIBE DISTINCT DROP ELSE EMIT END ESCAPE EXISTS EXPLAIN EXTENDED FALSE FINAL FROM FULL
%token <str> FUNCTION FUNCTIONS GRACE GROUP HAVING HEADER HEADERS HOPPING IF IN INNER INSERT INTERVAL
%token <str> INTO IS JOIN KEY LEFT LIKE LIMIT LIST MAP NOT NULL_ ON OR OUTER PARTITION PERIOD PRIMARY
%token <str> PRINT PROPERTIES QUERIES REPLACE RETENTION RIGHT SELECT SESSION SET SHOW SIZE STREAM
%token <str> STREAMS STRUCT TABLE TABLES TERMINATE THEN TOPIC TOPICS TRUE TUMBLING UNDEFINE UNSET
%token <str> VALUES VARIABLES WHEN WHERE WINDOW WITH WITHIN

%type <str> identifier alias_identifier nonreserved string opt_alias
%type <stmt> statement create insert_stmt drop show describe explain_target
%type <select> query
%type <item> select_item
%type <rel> relation source
%type <window> opt_window
%type <within> opt_within
%type <expr> expr value_expr primary predicate literal opt_where opt_having call_arg lambda
%type <expr> number signed_literal opt_escape case_else
%type <type> type
%type <field> struct_field
%type <col> column_def
%type <prop> property
%type <list> select_items expr_list opt_expr_list column_defs opt_with properties opt_group_by
%type <list> opt_partition_by struct_fields call_args when_list map_entries struct_entries
%type <list> identifier_list window_params opt_insert_columns
%type <i64> duration opt_limit
%type <num> join_kind opt_emit show_what window_kind
%type <flag> opt_or_replace opt_if_not_exists opt_if_exists opt_delete_topic opt_extended
%type <flag> stream_or_table opt_from_beginning
%type <i64> opt_interval
%type <wparam> window_param

%precedence BARE_WORD /* STRUCT, MAP, ARRAY as a name: '(' or '[' after them is a constructor */
%precedence '(' '['
%left OR
%left AND
%precedence NOT
%left CONCAT_OP
%left '+' '-'
%left '*' '/' '%'
%precedence UNARY

%start script

%%

script
    : statements
    ;

statements
    : %empty
    | statements ';'
    | statements statement ';'
        {
            $2->text_off = @2.first_off;
            $2->text_len = @2.last_off - @2.first_off;
            PUSH(LX->stmts, $2);
        }
    | statements statement YYEOF
        {
            $2->text_off = @2.first_off;
            $2->text_len = @2.last_off - @2.first_off;
            PUSH(LX->stmts, $2);
            YYACCEPT;
        }
    ;

statement
    : query                            { $$ = stmt(LX, WR_S_QUERY, @$); OOM($$); $$->select = $1; }
    | create                           { $$ = $1; }
    | insert_stmt                      { $$ = $1; }
    | drop                             { $$ = $1; }
    | CREATE FUNCTIONS FROM string     { $$ = stmt(LX, WR_S_LOAD_FUNCTIONS, @$); OOM($$); $$->name = $4.s; $$->name_loc = WR_SQL_TO_LOC(@4); }
    | TERMINATE identifier             { $$ = stmt(LX, WR_S_TERMINATE, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2); }
    | TERMINATE ALL                    { $$ = stmt(LX, WR_S_TERMINATE, @$); OOM($$); $$->all = true; }
    | show                             { $$ = $1; }
    | describe                         { $$ = $1; }
    | EXPLAIN explain_target           { $$ = stmt(LX, WR_S_EXPLAIN, @$); OOM($$); $$->inner = $2; }
    | EXPLAIN identifier               { $$ = stmt(LX, WR_S_EXPLAIN, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2); }
    | PRINT string opt_from_beginning opt_interval opt_limit
                                       { $$ = stmt(LX, WR_S_PRINT, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2);
                                         $$->from_beginning = $3; $$->interval = $4; $$->limit = $5; }
    | PRINT identifier opt_from_beginning opt_interval opt_limit
                                       { /* a topic name: as written, not folded to upper case */
                                         $$ = stmt(LX, WR_S_PRINT, @$); OOM($$);
                                         $$->name = wr_arena_strndup(A, LX->text + @2.first_off, @2.last_off - @2.first_off); OOM($$->name);
                                         $$->name_loc = WR_SQL_TO_LOC(@2);
                                         $$->from_beginning = $3; $$->interval = $4; $$->limit = $5; }
    | SET string '=' string            { $$ = stmt(LX, WR_S_SET, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2); $$->value = $4.s; }
    | UNSET string                     { $$ = stmt(LX, WR_S_UNSET, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2); }
    | DEFINE identifier '=' string     { $$ = stmt(LX, WR_S_DEFINE, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2); $$->value = $4.s; }
    | UNDEFINE identifier              { $$ = stmt(LX, WR_S_UNDEFINE, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2); }
    ;

explain_target
    : query                            { $$ = stmt(LX, WR_S_QUERY, @$); OOM($$); $$->select = $1; }
    | create                           { $$ = $1; }
    | insert_stmt                      { $$ = $1; }
    ;

/* ---- CREATE ----------------------------------------------------------------------------- */

create
    : CREATE opt_or_replace stream_or_table opt_if_not_exists identifier column_defs opt_with
        {
            $$ = stmt(LX, WR_S_CREATE_SOURCE, @$); OOM($$);
            $$->or_replace = $2; $$->is_table = $3; $$->if_not_exists = $4;
            $$->name = $5.s; $$->name_loc = WR_SQL_TO_LOC(@5);
            $$->ncols = $6.n;
            $$->cols = wr_arena_calloc(A, (size_t)($6.n ? $6.n : 1), sizeof *$$->cols); OOM($$->cols);
            for (int i = 0; i < $6.n; i++)
                $$->cols[i] = *(wr_column_def *)$6.v[i];
            $$->nprops = $7.n;
            $$->props = wr_arena_calloc(A, (size_t)($7.n ? $7.n : 1), sizeof *$$->props); OOM($$->props);
            for (int i = 0; i < $7.n; i++)
                $$->props[i] = *(wr_property *)$7.v[i];
        }
    | CREATE opt_or_replace stream_or_table opt_if_not_exists identifier opt_with AS query
        {
            $$ = stmt(LX, WR_S_CREATE_AS, @$); OOM($$);
            $$->or_replace = $2; $$->is_table = $3; $$->if_not_exists = $4;
            $$->name = $5.s; $$->name_loc = WR_SQL_TO_LOC(@5);
            $$->nprops = $6.n;
            $$->props = wr_arena_calloc(A, (size_t)($6.n ? $6.n : 1), sizeof *$$->props); OOM($$->props);
            for (int i = 0; i < $6.n; i++)
                $$->props[i] = *(wr_property *)$6.v[i];
            $$->select = $8;
        }
    | CREATE opt_or_replace stream_or_table opt_if_not_exists identifier WITH '(' properties ')'
        {
            /* no column list: the schema comes from a schema registry (later) */
            $$ = stmt(LX, WR_S_CREATE_SOURCE, @$); OOM($$);
            $$->or_replace = $2; $$->is_table = $3; $$->if_not_exists = $4;
            $$->name = $5.s; $$->name_loc = WR_SQL_TO_LOC(@5);
            $$->nprops = $8.n;
            $$->props = wr_arena_calloc(A, (size_t)($8.n ? $8.n : 1), sizeof *$$->props); OOM($$->props);
            for (int i = 0; i < $8.n; i++)
                $$->props[i] = *(wr_property *)$8.v[i];
        }
    ;

stream_or_table
    : STREAM                           { $$ = false; }
    | TABLE                            { $$ = true; }
    ;

opt_or_replace
    : %empty                           { $$ = false; }
    | OR REPLACE                       { $$ = true; }
    ;

opt_if_not_exists
    : %empty                           { $$ = false; }
    | IF NOT EXISTS                    { $$ = true; }
    ;

column_defs
    : '(' column_def                   { $$ = (wr_sql_list){0}; PUSH($$, $2); }
    | column_defs ',' column_def       { $$ = $1; PUSH($$, $3); }
    | column_defs ')'                  { $$ = $1; }
    ;

column_def
    : identifier type                  { $$ = NEW(wr_column_def); OOM($$); $$->name = $1.s; $$->type = $2; $$->loc = WR_SQL_TO_LOC(@1); }
    | identifier type KEY              { $$ = NEW(wr_column_def); OOM($$); $$->name = $1.s; $$->type = $2; $$->role = WR_COL_KEY; $$->loc = WR_SQL_TO_LOC(@1); }
    | identifier type PRIMARY KEY      { $$ = NEW(wr_column_def); OOM($$); $$->name = $1.s; $$->type = $2; $$->role = WR_COL_PRIMARY_KEY; $$->loc = WR_SQL_TO_LOC(@1); }
    | identifier type HEADERS          { $$ = NEW(wr_column_def); OOM($$); $$->name = $1.s; $$->type = $2; $$->role = WR_COL_HEADERS; $$->loc = WR_SQL_TO_LOC(@1); }
    | identifier type HEADER '(' string ')'
                                       { $$ = NEW(wr_column_def); OOM($$); $$->name = $1.s; $$->type = $2; $$->role = WR_COL_HEADER;
                                         $$->header_key = $5.s; $$->loc = WR_SQL_TO_LOC(@1); }
    ;

opt_with
    : %empty                           { $$ = (wr_sql_list){0}; }
    | WITH '(' properties ')'          { $$ = $3; }
    ;

properties
    : property                         { $$ = (wr_sql_list){0}; PUSH($$, $1); }
    | properties ',' property          { $$ = $1; PUSH($$, $3); }
    ;

property
    : identifier '=' signed_literal
        {
            $$ = NEW(wr_property); OOM($$);
            char *up = wr_arena_strdup(A, $1.s); OOM(up);
            for (char *c = up; *c; c++)
                if (*c >= 'a' && *c <= 'z')
                    *c = (char)(*c - 'a' + 'A');
            $$->name = up; $$->value = $3; $$->loc = WR_SQL_TO_LOC(@1);
        }
    ;

/* ---- types ------------------------------------------------------------------------------ */

type
    : identifier                       { $$ = wr__sql_named_type(LX, $1.s, @1); if ($$ == NULL) YYABORT; }
    | identifier '(' INTEGER_VALUE ',' INTEGER_VALUE ')'
        {
            if (strcmp($1.s, "DECIMAL") != 0) {
                wr__sql_fail(LX, @1, "type %s takes no parameters", $1.s);
                YYABORT;
            }
            long p = strtol($3.s, NULL, 10), s = strtol($5.s, NULL, 10);
            if (p < 1 || p > 38 || s < 0 || s > p) {
                wr__sql_fail(LX, @3, "DECIMAL precision must be 1..38 and scale 0..precision, got DECIMAL(%ld, %ld)", p, s);
                YYABORT;
            }
            wr_sql_type *t = NEW(wr_sql_type); OOM(t);
            t->kind = WR_T_DECIMAL; t->precision = (int)p; t->scale = (int)s;
            $$ = t;
        }
    | ARRAY '<' type '>'               { wr_sql_type *t = NEW(wr_sql_type); OOM(t); t->kind = WR_T_ARRAY; t->elem = $3; $$ = t; }
    | MAP '<' type ',' type '>'        { wr_sql_type *t = NEW(wr_sql_type); OOM(t); t->kind = WR_T_MAP; t->key = $3; t->elem = $5; $$ = t; }
    | STRUCT '<' struct_fields '>'
        {
            wr_sql_type *t = NEW(wr_sql_type); OOM(t);
            t->kind = WR_T_STRUCT;
            t->nfields = $3.n;
            wr_sql_field *f = wr_arena_calloc(A, (size_t)($3.n ? $3.n : 1), sizeof *f); OOM(f);
            for (int i = 0; i < $3.n; i++)
                f[i] = *(wr_sql_field *)$3.v[i];
            t->fields = f;
            $$ = t;
        }
    | STRUCT '<' '>'                   { wr_sql_type *t = NEW(wr_sql_type); OOM(t); t->kind = WR_T_STRUCT; $$ = t; }
    ;

struct_fields
    : struct_field                     { $$ = (wr_sql_list){0}; PUSH($$, $1); }
    | struct_fields ',' struct_field   { $$ = $1; PUSH($$, $3); }
    ;

struct_field
    : identifier type                  { $$ = NEW(wr_sql_field); OOM($$); $$->name = $1.s; $$->type = $2; }
    ;

/* ---- INSERT, DROP, SHOW, DESCRIBE ------------------------------------------------------- */

insert_stmt
    : INSERT INTO identifier opt_with query
        {
            $$ = stmt(LX, WR_S_INSERT_SELECT, @$); OOM($$);
            $$->name = $3.s; $$->name_loc = WR_SQL_TO_LOC(@3);
            $$->nprops = $4.n;
            $$->props = wr_arena_calloc(A, (size_t)($4.n ? $4.n : 1), sizeof *$$->props); OOM($$->props);
            for (int i = 0; i < $4.n; i++)
                $$->props[i] = *(wr_property *)$4.v[i];
            $$->select = $5;
        }
    | INSERT INTO identifier opt_insert_columns VALUES '(' expr_list ')'
        {
            $$ = stmt(LX, WR_S_INSERT_VALUES, @$); OOM($$);
            $$->name = $3.s; $$->name_loc = WR_SQL_TO_LOC(@3);
            $$->ninsert_cols = $4.n / 2;
            $$->insert_cols = wr_arena_calloc(A, (size_t)($4.n / 2 + 1), sizeof(char *)); OOM($$->insert_cols);
            $$->insert_col_locs = wr_arena_calloc(A, (size_t)($4.n / 2 + 1), sizeof(wr_loc)); OOM($$->insert_col_locs);
            for (int i = 0; i + 1 < $4.n; i += 2) {
                $$->insert_cols[i / 2] = $4.v[i];
                $$->insert_col_locs[i / 2] = *(wr_loc *)$4.v[i + 1];
            }
            if ($4.n == 0)
                $$->insert_cols = NULL;
            FLATTEN($$->nvalues, $$->values, wr_expr, $7);
        }
    ;

/* (name, location) pairs */
opt_insert_columns
    : %empty                           { $$ = (wr_sql_list){0}; }
    | '(' identifier_list ')'          { $$ = $2; }
    ;

identifier_list
    : identifier
        {
            $$ = (wr_sql_list){0};
            wr_loc *l = NEW(wr_loc); OOM(l); *l = WR_SQL_TO_LOC(@1);
            PUSH($$, (void *)$1.s); PUSH($$, l);
        }
    | identifier_list ',' identifier
        {
            $$ = $1;
            wr_loc *l = NEW(wr_loc); OOM(l); *l = WR_SQL_TO_LOC(@3);
            PUSH($$, (void *)$3.s); PUSH($$, l);
        }
    ;

drop
    : DROP stream_or_table opt_if_exists identifier opt_delete_topic
        {
            $$ = stmt(LX, WR_S_DROP, @$); OOM($$);
            $$->is_table = $2; $$->if_exists = $3; $$->name = $4.s; $$->name_loc = WR_SQL_TO_LOC(@4);
            $$->delete_topic = $5;
        }
    ;

opt_if_exists
    : %empty                           { $$ = false; }
    | IF EXISTS                        { $$ = true; }
    ;

opt_delete_topic
    : %empty                           { $$ = false; }
    | DELETE TOPIC                     { $$ = true; }
    ;

show
    : SHOW show_what opt_extended      { $$ = stmt(LX, WR_S_SHOW, @$); OOM($$); $$->show = (wr_show_what)$2; $$->extended = $3; }
    | LIST show_what opt_extended      { $$ = stmt(LX, WR_S_SHOW, @$); OOM($$); $$->show = (wr_show_what)$2; $$->extended = $3; }
    | SHOW ALL TOPICS opt_extended     { $$ = stmt(LX, WR_S_SHOW, @$); OOM($$); $$->show = WR_SHOW_TOPICS; $$->all = true; $$->extended = $4; }
    | LIST ALL TOPICS opt_extended     { $$ = stmt(LX, WR_S_SHOW, @$); OOM($$); $$->show = WR_SHOW_TOPICS; $$->all = true; $$->extended = $4; }
    ;

show_what
    : STREAMS                          { $$ = WR_SHOW_STREAMS; }
    | TABLES                           { $$ = WR_SHOW_TABLES; }
    | QUERIES                          { $$ = WR_SHOW_QUERIES; }
    | TOPICS                           { $$ = WR_SHOW_TOPICS; }
    | PROPERTIES                       { $$ = WR_SHOW_PROPERTIES; }
    | FUNCTIONS                        { $$ = WR_SHOW_FUNCTIONS; }
    | VARIABLES                        { $$ = WR_SHOW_VARIABLES; }
    ;

opt_extended
    : %empty                           { $$ = false; }
    | EXTENDED                         { $$ = true; }
    ;

describe
    : DESCRIBE identifier              { $$ = stmt(LX, WR_S_DESCRIBE, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2); }
    | DESCRIBE EXTENDED identifier     { $$ = stmt(LX, WR_S_DESCRIBE, @$); OOM($$); $$->name = $3.s; $$->name_loc = WR_SQL_TO_LOC(@3); $$->extended = true; }
    | DESCRIBE identifier EXTENDED     { $$ = stmt(LX, WR_S_DESCRIBE, @$); OOM($$); $$->name = $2.s; $$->name_loc = WR_SQL_TO_LOC(@2); $$->extended = true; }
    | DESCRIBE STREAMS opt_extended    { $$ = stmt(LX, WR_S_DESCRIBE, @$); OOM($$); $$->all = true; $$->extended = $3; }
    | DESCRIBE TABLES opt_extended     { $$ = stmt(LX, WR_S_DESCRIBE, @$); OOM($$); $$->all = true; $$->is_table = true; $$->extended = $3; }
    | DESCRIBE FUNCTION identifier     { $$ = stmt(LX, WR_S_DESCRIBE_FUNC, @$); OOM($$); $$->name = $3.s; $$->name_loc = WR_SQL_TO_LOC(@3); }
    ;

opt_from_beginning
    : %empty                           { $$ = false; }
    | FROM BEGINNING                   { $$ = true; }
    ;

opt_interval
    : %empty                           { $$ = -1; }
    | INTERVAL INTEGER_VALUE           { $$ = strtoll($2.s, NULL, 10); }
    ;

/* ---- SELECT ----------------------------------------------------------------------------- */

query
    : SELECT select_items FROM relation opt_window opt_where opt_group_by opt_partition_by
      opt_having opt_emit opt_limit
        {
            wr_select *q = NEW(wr_select); OOM(q);
            q->loc = WR_SQL_TO_LOC(@1);
            q->nitems = $2.n;
            q->items = wr_arena_calloc(A, (size_t)$2.n, sizeof *q->items); OOM(q->items);
            for (int i = 0; i < $2.n; i++)
                q->items[i] = *(wr_select_item *)$2.v[i];
            q->from = $4;
            q->window = $5;
            q->where = $6;
            FLATTEN(q->ngroup, q->group_by, wr_expr, $7);
            FLATTEN(q->npartition, q->partition_by, wr_expr, $8);
            q->having = $9;
            q->emit = (wr_emit)$10;
            q->limit = $11;
            $$ = q;
        }
    ;

select_items
    : select_item                      { $$ = (wr_sql_list){0}; PUSH($$, $1); }
    | select_items ',' select_item     { $$ = $1; PUSH($$, $3); }
    ;

select_item
    : expr opt_alias                   { $$ = NEW(wr_select_item); OOM($$); $$->expr = $1; $$->alias = $2.s; $$->loc = WR_SQL_TO_LOC(@1); }
    | '*'
        {
            $$ = NEW(wr_select_item); OOM($$);
            $$->expr = wr__sql_expr(LX, WR_E_STAR, @1); OOM($$->expr);
            $$->loc = WR_SQL_TO_LOC(@1);
        }
    | identifier '.' '*'
        {
            $$ = NEW(wr_select_item); OOM($$);
            $$->expr = wr__sql_expr(LX, WR_E_STAR, @1); OOM($$->expr);
            $$->expr->qualifier = $1.s;
            $$->loc = WR_SQL_TO_LOC(@1);
        }
    | primary ARROW '*'
        {
            /* every field of a STRUCT as a column of its own (ksqlDB's v->*) */
            $$ = NEW(wr_select_item); OOM($$);
            $$->expr = wr__sql_expr(LX, WR_E_STAR, @2); OOM($$->expr);
            $$->expr->a = $1;
            $$->loc = WR_SQL_TO_LOC(@1);
        }
    ;

opt_alias
    : %empty                           { $$ = (wr_sql_str){NULL, 0}; }
    | AS identifier                    { $$ = $2; }
    | identifier                       { $$ = $1; }
    ;

relation
    : source                           { $$ = $1; }
    | relation join_kind JOIN source opt_within ON expr
        {
            $$ = NEW(wr_relation); OOM($$);
            $$->is_join = true; $$->loc = WR_SQL_TO_LOC(@2);
            $$->join = (wr_join_kind)$2; $$->left = $1; $$->right = $4; $$->within = $5; $$->on = $7;
        }
    ;

source
    : identifier                       { $$ = NEW(wr_relation); OOM($$); $$->name = $1.s; $$->loc = WR_SQL_TO_LOC(@1); }
    | identifier alias_identifier      { $$ = NEW(wr_relation); OOM($$); $$->name = $1.s; $$->alias = $2.s; $$->loc = WR_SQL_TO_LOC(@1); }
    | identifier AS identifier         { $$ = NEW(wr_relation); OOM($$); $$->name = $1.s; $$->alias = $3.s; $$->loc = WR_SQL_TO_LOC(@1); }
    ;

join_kind
    : %empty                           { $$ = WR_JOIN_INNER; }
    | INNER                            { $$ = WR_JOIN_INNER; }
    | LEFT                             { $$ = WR_JOIN_LEFT; }
    | LEFT OUTER                       { $$ = WR_JOIN_LEFT; }
    | RIGHT                            { $$ = WR_JOIN_RIGHT; }
    | RIGHT OUTER                      { $$ = WR_JOIN_RIGHT; }
    | FULL                             { $$ = WR_JOIN_FULL; }
    | FULL OUTER                       { $$ = WR_JOIN_FULL; }
    ;

opt_within
    : %empty                           { $$ = NULL; }
    | WITHIN duration                  { $$ = NEW(wr_within); OOM($$); $$->before_ms = $$->after_ms = $2; $$->grace_ms = -1; }
    | WITHIN duration GRACE PERIOD duration
                                       { $$ = NEW(wr_within); OOM($$); $$->before_ms = $$->after_ms = $2; $$->grace_ms = $5; }
    | WITHIN '(' duration ',' duration ')'
                                       { $$ = NEW(wr_within); OOM($$); $$->before_ms = $3; $$->after_ms = $5; $$->grace_ms = -1; }
    | WITHIN '(' duration ',' duration ')' GRACE PERIOD duration
                                       { $$ = NEW(wr_within); OOM($$); $$->before_ms = $3; $$->after_ms = $5; $$->grace_ms = $9; }
    ;

duration
    : INTEGER_VALUE identifier
        {
            errno = 0;
            long long n = strtoll($1.s, NULL, 10);
            $$ = errno == 0 ? wr__sql_duration(LX, n, $2.s, @2) : -1;
            if ($$ < 0) {
                if (errno != 0)
                    wr__sql_fail(LX, @1, "duration %s out of range", $1.s);
                YYABORT;
            }
        }
    ;

opt_window
    : %empty                           { $$ = NULL; }
    | WINDOW window_kind '(' window_params ')'
        {
            wr_window *w = NEW(wr_window); OOM(w);
            w->kind = (wr_window_kind)$2; w->loc = WR_SQL_TO_LOC(@1);
            w->size_ms = w->advance_ms = w->retention_ms = w->grace_ms = -1;
            /* params come as (tag, value) pairs: S size, A advance, R retention, G grace, D bare */
            for (int i = 0; i + 1 < $4.n; i += 2) {
                char tag = *(const char *)$4.v[i];
                int64_t v = *(const int64_t *)$4.v[i + 1];
                int64_t *slot = tag == 'S' || tag == 'D' ? &w->size_ms : tag == 'A' ? &w->advance_ms
                              : tag == 'R' ? &w->retention_ms : &w->grace_ms;
                if (*slot >= 0) {
                    wr__sql_fail(LX, @4, "window parameter given twice");
                    YYABORT;
                }
                *slot = v;
                if ((tag == 'D') != (w->kind == WR_WIN_SESSION) && (tag == 'S' || tag == 'D')) {
                    wr__sql_fail(LX, @4, w->kind == WR_WIN_SESSION
                                 ? "SESSION windows take the gap as a bare duration: WINDOW SESSION (30 SECONDS)"
                                 : "TUMBLING and HOPPING windows need SIZE: WINDOW TUMBLING (SIZE 1 HOUR)");
                    YYABORT;
                }
            }
            if (w->size_ms < 0) {
                wr__sql_fail(LX, @2, w->kind == WR_WIN_SESSION ? "SESSION window needs a gap duration"
                                                               : "window needs a SIZE");
                YYABORT;
            }
            if ((w->kind == WR_WIN_HOPPING) != (w->advance_ms >= 0)) {
                wr__sql_fail(LX, @2, w->kind == WR_WIN_HOPPING ? "HOPPING window needs ADVANCE BY"
                                                               : "only HOPPING windows take ADVANCE BY");
                YYABORT;
            }
            if (w->size_ms == 0 || (w->kind == WR_WIN_HOPPING && (w->advance_ms == 0 || w->advance_ms > w->size_ms))) {
                wr__sql_fail(LX, @2, "window size must be positive and ADVANCE BY between 1 ms and the size");
                YYABORT;
            }
            $$ = w;
        }
    ;

window_kind
    : TUMBLING                         { $$ = WR_WIN_TUMBLING; }
    | HOPPING                          { $$ = WR_WIN_HOPPING; }
    | SESSION                          { $$ = WR_WIN_SESSION; }
    ;

/* (tag, duration) pairs; the tags are the static chars of window_tag() */
window_params
    : window_param                     { $$ = (wr_sql_list){0}; PUSH($$, $1.tag); PUSH($$, $1.ms); }
    | window_params ',' window_param   { $$ = $1; PUSH($$, $3.tag); PUSH($$, $3.ms); }
    ;

window_param
    : SIZE duration                    { $$.tag = window_tag('S'); $$.ms = wr_arena_memdup(A, &$2, sizeof $2); OOM($$.ms); }
    | ADVANCE BY duration              { $$.tag = window_tag('A'); $$.ms = wr_arena_memdup(A, &$3, sizeof $3); OOM($$.ms); }
    | RETENTION duration               { $$.tag = window_tag('R'); $$.ms = wr_arena_memdup(A, &$2, sizeof $2); OOM($$.ms); }
    | GRACE PERIOD duration            { $$.tag = window_tag('G'); $$.ms = wr_arena_memdup(A, &$3, sizeof $3); OOM($$.ms); }
    | duration                         { $$.tag = window_tag('D'); $$.ms = wr_arena_memdup(A, &$1, sizeof $1); OOM($$.ms); }
    ;

opt_where
    : %empty                           { $$ = NULL; }
    | WHERE expr                       { $$ = $2; }
    ;

opt_group_by
    : %empty                           { $$ = (wr_sql_list){0}; }
    | GROUP BY expr_list               { $$ = $3; }
    ;

opt_partition_by
    : %empty                           { $$ = (wr_sql_list){0}; }
    | PARTITION BY expr_list           { $$ = $3; }
    ;

opt_having
    : %empty                           { $$ = NULL; }
    | HAVING expr                      { $$ = $2; }
    ;

opt_emit
    : %empty                           { $$ = WR_EMIT_NONE; }
    | EMIT CHANGES                     { $$ = WR_EMIT_CHANGES; }
    | EMIT FINAL                       { $$ = WR_EMIT_FINAL; }
    ;

opt_limit
    : %empty                           { $$ = -1; }
    | LIMIT INTEGER_VALUE
        {
            errno = 0;
            $$ = strtoll($2.s, NULL, 10);
            if (errno != 0) {
                wr__sql_fail(LX, @2, "LIMIT %s out of range", $2.s);
                YYABORT;
            }
        }
    ;

/* ---- expressions ------------------------------------------------------------------------ */

expr_list
    : expr                             { $$ = (wr_sql_list){0}; PUSH($$, $1); }
    | expr_list ',' expr               { $$ = $1; PUSH($$, $3); }
    ;

opt_expr_list
    : %empty                           { $$ = (wr_sql_list){0}; }
    | expr_list                        { $$ = $1; }
    ;

expr
    : predicate                        { $$ = $1; }
    | expr OR expr                     { $$ = binary(LX, WR_E_BINARY, WR_OP_OR, $1, $3, @2); OOM($$); DEPTH($$); }
    | expr AND expr                    { $$ = binary(LX, WR_E_BINARY, WR_OP_AND, $1, $3, @2); OOM($$); DEPTH($$); }
    | NOT expr                         { $$ = wr__sql_expr(LX, WR_E_UNARY, @1); OOM($$); $$->op = WR_OP_NOT; $$->a = $2; DEPTH($$); }
    ;

predicate
    : value_expr                       { $$ = $1; }
    | value_expr '=' value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_EQ, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr NEQ value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_NE, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr '<' value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_LT, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr LTE value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_LE, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr '>' value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_GT, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr GTE value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_GE, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr BETWEEN value_expr AND value_expr
                                       { $$ = binary(LX, WR_E_BETWEEN, WR_OP_NONE, $1, $3, @2); OOM($$); $$->c = $5; DEPTH($$); }
    | value_expr NOT BETWEEN value_expr AND value_expr
                                       { $$ = binary(LX, WR_E_BETWEEN, WR_OP_NONE, $1, $4, @2); OOM($$); $$->c = $6; $$->negated = true; DEPTH($$); }
    | value_expr IN '(' expr_list ')'  { $$ = binary(LX, WR_E_IN, WR_OP_NONE, $1, NULL, @2); OOM($$); FLATTEN($$->n, $$->list, wr_expr, $4); DEPTH($$); }
    | value_expr NOT IN '(' expr_list ')'
                                       { $$ = binary(LX, WR_E_IN, WR_OP_NONE, $1, NULL, @2); OOM($$); FLATTEN($$->n, $$->list, wr_expr, $5); $$->negated = true; DEPTH($$); }
    | value_expr LIKE value_expr opt_escape
                                       { $$ = binary(LX, WR_E_LIKE, WR_OP_NONE, $1, $3, @2); OOM($$); $$->c = $4; DEPTH($$); }
    | value_expr NOT LIKE value_expr opt_escape
                                       { $$ = binary(LX, WR_E_LIKE, WR_OP_NONE, $1, $4, @2); OOM($$); $$->c = $5; $$->negated = true; DEPTH($$); }
    | value_expr IS NULL_              { $$ = binary(LX, WR_E_IS_NULL, WR_OP_NONE, $1, NULL, @2); OOM($$); DEPTH($$); }
    | value_expr IS NOT NULL_          { $$ = binary(LX, WR_E_IS_NULL, WR_OP_NONE, $1, NULL, @2); OOM($$); $$->negated = true; DEPTH($$); }
    | value_expr IS DISTINCT FROM value_expr
                                       { $$ = binary(LX, WR_E_DISTINCT, WR_OP_NONE, $1, $5, @2); OOM($$); DEPTH($$); }
    | value_expr IS NOT DISTINCT FROM value_expr
                                       { $$ = binary(LX, WR_E_DISTINCT, WR_OP_NONE, $1, $6, @2); OOM($$); $$->negated = true; DEPTH($$); }
    ;

opt_escape
    : %empty                           { $$ = NULL; }
    | ESCAPE STRING_VALUE              { $$ = wr__sql_expr(LX, WR_E_STRING, @2); OOM($$); $$->text = $2.s; $$->len = $2.len; }
    ;

value_expr
    : primary                          { $$ = $1; }
    | value_expr CONCAT_OP value_expr  { $$ = binary(LX, WR_E_BINARY, WR_OP_CONCAT, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr '+' value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_ADD, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr '-' value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_SUB, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr '*' value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_MUL, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr '/' value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_DIV, $1, $3, @2); OOM($$); DEPTH($$); }
    | value_expr '%' value_expr        { $$ = binary(LX, WR_E_BINARY, WR_OP_MOD, $1, $3, @2); OOM($$); DEPTH($$); }
    | '-' value_expr %prec UNARY       { $$ = wr__sql_expr(LX, WR_E_UNARY, @1); OOM($$); $$->op = WR_OP_NEG; $$->a = $2; DEPTH($$); }
    | '+' value_expr %prec UNARY       { $$ = wr__sql_expr(LX, WR_E_UNARY, @1); OOM($$); $$->op = WR_OP_PLUS; $$->a = $2; DEPTH($$); }
    ;

primary
    : literal                          { $$ = $1; }
    | identifier                       { $$ = wr__sql_expr(LX, WR_E_COLUMN, @1); OOM($$); $$->name = $1.s; }
    | identifier '.' identifier        { $$ = wr__sql_expr(LX, WR_E_COLUMN, @1); OOM($$); $$->qualifier = $1.s; $$->name = $3.s; }
    | primary ARROW identifier         { $$ = wr__sql_expr(LX, WR_E_DEREF, @2); OOM($$); $$->a = $1; $$->name = $3.s; DEPTH($$); }
    | primary '[' expr ']'             { $$ = binary(LX, WR_E_SUBSCRIPT, WR_OP_NONE, $1, $3, @2); OOM($$); DEPTH($$); }
    | '(' expr ')'                     { $$ = $2; }
    | identifier '(' call_args ')'
        {
            $$ = wr__sql_expr(LX, WR_E_CALL, @1); OOM($$);
            $$->text = $1.s;
            FLATTEN($$->n, $$->list, wr_expr, $3);
            DEPTH($$);
        }
    | identifier '(' ')'               { $$ = wr__sql_expr(LX, WR_E_CALL, @1); OOM($$); $$->text = $1.s; }
    | identifier '(' DISTINCT expr_list ')'
        {
            $$ = wr__sql_expr(LX, WR_E_CALL, @1); OOM($$);
            $$->text = $1.s; $$->distinct = true;
            FLATTEN($$->n, $$->list, wr_expr, $4);
            DEPTH($$);
        }
    | identifier '(' '*' ')'
        {
            $$ = wr__sql_expr(LX, WR_E_CALL, @1); OOM($$);
            $$->text = $1.s;
            wr_expr *star = wr__sql_expr(LX, WR_E_STAR, @3); OOM(star);
            wr_expr **l = wr_arena_alloc(A, sizeof *l); OOM(l);
            l[0] = star; $$->list = l; $$->n = 1;
            DEPTH($$);
        }
    | CASE when_list case_else END
        {
            $$ = wr__sql_expr(LX, WR_E_CASE, @1); OOM($$);
            FLATTEN($$->n, $$->list, wr_expr, $2); $$->b2 = $3; DEPTH($$);
        }
    | CASE expr when_list case_else END
        {
            $$ = wr__sql_expr(LX, WR_E_CASE, @1); OOM($$);
            $$->a = $2; FLATTEN($$->n, $$->list, wr_expr, $3); $$->b2 = $4; DEPTH($$);
        }
    | CAST '(' expr AS type ')'        { $$ = wr__sql_expr(LX, WR_E_CAST, @1); OOM($$); $$->a = $3; $$->type = $5; DEPTH($$); }
    | ARRAY '[' opt_expr_list ']'      { $$ = wr__sql_expr(LX, WR_E_ARRAY, @1); OOM($$); FLATTEN($$->n, $$->list, wr_expr, $3); DEPTH($$); }
    | MAP '(' ')'                      { $$ = wr__sql_expr(LX, WR_E_MAP, @1); OOM($$); }
    | MAP '(' map_entries ')'          { $$ = wr__sql_expr(LX, WR_E_MAP, @1); OOM($$); FLATTEN($$->n, $$->list, wr_expr, $3); $$->n /= 2; DEPTH($$); }
    | STRUCT '(' ')'                   { $$ = wr__sql_expr(LX, WR_E_STRUCT, @1); OOM($$); }
    | STRUCT '(' struct_entries ')'
        {
            $$ = wr__sql_expr(LX, WR_E_STRUCT, @1); OOM($$);
            int n = $3.n / 2;
            $$->n = n;
            $$->list = wr_arena_calloc(A, (size_t)n, sizeof *$$->list); OOM($$->list);
            $$->names = wr_arena_calloc(A, (size_t)n, sizeof *$$->names); OOM($$->names);
            for (int i = 0; i < n; i++) {
                $$->names[i] = $3.v[2 * i];
                $$->list[i] = $3.v[2 * i + 1];
            }
            DEPTH($$);
        }
    ;

/* CASE arms flattened: when, then, when, then, ... */
when_list
    : WHEN expr THEN expr              { $$ = (wr_sql_list){0}; PUSH($$, $2); PUSH($$, $4); }
    | when_list WHEN expr THEN expr    { $$ = $1; PUSH($$, $3); PUSH($$, $5); }
    ;

case_else
    : %empty                           { $$ = NULL; }
    | ELSE expr                        { $$ = $2; }
    ;

map_entries
    : expr ASSIGN expr                 { $$ = (wr_sql_list){0}; PUSH($$, $1); PUSH($$, $3); }
    | map_entries ',' expr ASSIGN expr { $$ = $1; PUSH($$, $3); PUSH($$, $5); }
    ;

struct_entries
    : identifier ASSIGN expr           { $$ = (wr_sql_list){0}; PUSH($$, (void *)$1.s); PUSH($$, $3); }
    | struct_entries ',' identifier ASSIGN expr
                                       { $$ = $1; PUSH($$, (void *)$3.s); PUSH($$, $5); }
    ;

call_args
    : call_arg                         { $$ = (wr_sql_list){0}; PUSH($$, $1); }
    | call_args ',' call_arg           { $$ = $1; PUSH($$, $3); }
    ;

call_arg
    : expr                             { $$ = $1; }
    | lambda                           { $$ = $1; }
    ;

/* x => body, (x) => body, (x, y) => body: the parameter list is parsed as expressions and
   checked to be plain names, which keeps the grammar free of conflicts with '(' expr ')'. */
lambda
    : identifier LAMBDA_ARROW expr
        {
            $$ = wr__sql_expr(LX, WR_E_LAMBDA, @1); OOM($$);
            $$->names = wr_arena_alloc(A, sizeof *$$->names); OOM($$->names);
            $$->names[0] = $1.s; $$->n = 1; $$->a = $3; DEPTH($$);
        }
    | '(' expr ')' LAMBDA_ARROW expr
        {
            if ($2->kind != WR_E_COLUMN || $2->qualifier != NULL) {
                wr__sql_fail(LX, @2, "lambda parameters must be plain names");
                YYABORT;
            }
            $$ = wr__sql_expr(LX, WR_E_LAMBDA, @1); OOM($$);
            $$->names = wr_arena_alloc(A, sizeof *$$->names); OOM($$->names);
            $$->names[0] = $2->name; $$->n = 1; $$->a = $5; DEPTH($$);
        }
    | '(' expr ',' expr_list ')' LAMBDA_ARROW expr
        {
            $$ = wr__sql_expr(LX, WR_E_LAMBDA, @1); OOM($$);
            int n = $4.n + 1;
            $$->names = wr_arena_calloc(A, (size_t)n, sizeof *$$->names); OOM($$->names);
            for (int i = 0; i < n; i++) {
                wr_expr *p = i == 0 ? $2 : $4.v[i - 1];
                if (p->kind != WR_E_COLUMN || p->qualifier != NULL) {
                    wr__sql_fail(LX, i == 0 ? @2 : @4, "lambda parameters must be plain names");
                    YYABORT;
                }
                $$->names[i] = p->name;
            }
            $$->n = n; $$->a = $7; DEPTH($$);
        }
    ;

literal
    : NULL_                            { $$ = wr__sql_expr(LX, WR_E_NULL, @1); OOM($$); }
    | TRUE                             { $$ = wr__sql_expr(LX, WR_E_BOOL, @1); OOM($$); $$->b = true; }
    | FALSE                            { $$ = wr__sql_expr(LX, WR_E_BOOL, @1); OOM($$); $$->b = false; }
    | STRING_VALUE                     { $$ = wr__sql_expr(LX, WR_E_STRING, @1); OOM($$); $$->text = $1.s; $$->len = $1.len; }
    | number                           { $$ = $1; }
    ;

number
    : INTEGER_VALUE
        {
            errno = 0;
            long long v = strtoll($1.s, NULL, 10);
            if (errno == 0) {
                $$ = wr__sql_expr(LX, WR_E_INT, @1); OOM($$); $$->i = v; $$->text = $1.s;
            } else { /* beyond BIGINT: a DECIMAL literal */
                $$ = wr__sql_expr(LX, WR_E_DECIMAL, @1); OOM($$); $$->text = $1.s;
            }
        }
    | DECIMAL_VALUE                    { $$ = wr__sql_expr(LX, WR_E_DECIMAL, @1); OOM($$); $$->text = $1.s; }
    | DOUBLE_VALUE                     { $$ = wr__sql_expr(LX, WR_E_DOUBLE, @1); OOM($$); $$->d = strtod($1.s, NULL); $$->text = $1.s; }
    ;

signed_literal
    : literal                          { $$ = $1; }
    | '-' number
        {
            $$ = $2;
            if ($$->kind == WR_E_INT) {
                $$->i = -$$->i;
            } else if ($$->kind == WR_E_DOUBLE) {
                $$->d = -$$->d;
            }
            char *t = wr_arena_printf(A, "-%s", $$->text); OOM(t);
            $$->text = t;
            $$->loc = WR_SQL_TO_LOC(@1);
        }
    ;

string
    : STRING_VALUE                     { $$ = $1; }
    ;

identifier
    : alias_identifier                 { $$ = $1; }
    | PARTITION                        { $$ = $1; }
    | EMIT                             { $$ = $1; }
    | STRUCT %prec BARE_WORD           { $$ = $1; }
    | MAP %prec BARE_WORD              { $$ = $1; }
    | ARRAY %prec BARE_WORD            { $$ = $1; }
    ;

/* a source's alias without AS: not PARTITION or EMIT, which may follow it */
alias_identifier
    : IDENT                            { $$ = $1; }
    | QUOTED_IDENT                     { $$ = $1; }
    | nonreserved                      { $$ = $1; }
    ;

/* keywords that still name columns, sources, functions and aliases */
nonreserved
    : ADVANCE | BEGINNING | CHANGES | DEFINE | EXPLAIN | FINAL | GRACE | HEADER | HEADERS
    | HOPPING | KEY | LIST | PERIOD | PRIMARY | PRINT | PROPERTIES | QUERIES | REPLACE
    | RETENTION | SESSION | SET | SHOW | SIZE | TERMINATE | TOPIC | TOPICS | TUMBLING
    | UNDEFINE | UNSET | VARIABLES | DELETE | FUNCTIONS | INTERVAL | FUNCTION
    ;

%%

/* Levenshtein distance of two short upper-case words, capped at 3. */
static int
edit_distance(const char *x, const char *y)
{
    size_t n = strlen(x), m = strlen(y);
    if (n > 30 || m > 30 || (n > m ? n - m : m - n) > 2)
        return 3;
    int d[31][31];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int c = d[i - 1][j - 1] + (x[i - 1] != y[j - 1]);
            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[n][m] < 3 ? d[n][m] : 3;
}

static bool
has(const yysymbol_kind_t *v, int n, yysymbol_kind_t k)
{
    for (int i = 0; i < n; i++)
        if (v[i] == k)
            return true;
    return false;
}

/* Keywords that also serve as identifiers (rule nonreserved): not worth listing separately
   where an identifier is expected. */
static bool
is_nonreserved(yysymbol_kind_t k)
{
    switch (k) {
    case YYSYMBOL_ADVANCE: case YYSYMBOL_BEGINNING: case YYSYMBOL_CHANGES: case YYSYMBOL_DEFINE:
    case YYSYMBOL_EXPLAIN: case YYSYMBOL_FINAL: case YYSYMBOL_GRACE: case YYSYMBOL_HEADER:
    case YYSYMBOL_HEADERS: case YYSYMBOL_HOPPING: case YYSYMBOL_KEY: case YYSYMBOL_LIST:
    case YYSYMBOL_PERIOD: case YYSYMBOL_PRIMARY: case YYSYMBOL_PRINT: case YYSYMBOL_PROPERTIES:
    case YYSYMBOL_QUERIES: case YYSYMBOL_REPLACE: case YYSYMBOL_RETENTION: case YYSYMBOL_SESSION:
    case YYSYMBOL_SET: case YYSYMBOL_SHOW: case YYSYMBOL_SIZE: case YYSYMBOL_TERMINATE:
    case YYSYMBOL_TOPIC: case YYSYMBOL_TOPICS: case YYSYMBOL_TUMBLING: case YYSYMBOL_UNDEFINE:
    case YYSYMBOL_UNSET: case YYSYMBOL_VARIABLES: case YYSYMBOL_DELETE: case YYSYMBOL_FUNCTIONS:
    case YYSYMBOL_INTERVAL: case YYSYMBOL_FUNCTION: case YYSYMBOL_PARTITION: case YYSYMBOL_EMIT:
    case YYSYMBOL_STRUCT: case YYSYMBOL_MAP: case YYSYMBOL_ARRAY:
        return true;
    default:
        return false;
    }
}

/* Operators that may follow an expression: listed as "an operator" when several are possible. */
static bool
is_operator(yysymbol_kind_t k)
{
    switch (k) {
    case YYSYMBOL_NEQ: case YYSYMBOL_LTE: case YYSYMBOL_GTE: case YYSYMBOL_CONCAT_OP:
    case YYSYMBOL_ARROW: case YYSYMBOL_AND: case YYSYMBOL_OR: case YYSYMBOL_BETWEEN:
    case YYSYMBOL_IN: case YYSYMBOL_LIKE: case YYSYMBOL_IS: case YYSYMBOL_NOT:
        return true;
    default: {
        const char *name = yysymbol_name(k); /* character tokens are named like '+' */
        return name[0] == '\'' && name[1] != 0 && strchr("+-*/%=<>[", name[1]) != NULL;
    }
    }
}

/* ksqlDB's statements, for "Did you mean"; the nearest by edit distance (the first of ties). */
static const char *
nearest_statement(const char *word, size_t len)
{
    static const char *const cmds[] = {"SELECT", "CREATE",    "INSERT", "DESCRIBE", "PRINT",
                                       "EXPLAIN", "SHOW",     "LIST",   "TERMINATE", "PAUSE",
                                       "RESUME", "DROP",      "SET",    "DEFINE",   "UNDEFINE",
                                       "UNSET",  "ASSERT",    "ALTER"};
    char up[32];
    size_t n = len < sizeof up - 1 ? len : sizeof up - 1;
    for (size_t i = 0; i < n; i++)
        up[i] = (char)(word[i] >= 'a' && word[i] <= 'z' ? word[i] - 'a' + 'A' : word[i]);
    up[n] = 0;
    const char *best = cmds[0];
    int bestd = 1 << 20;
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        size_t m = strlen(cmds[c]);
        int d[32][16];
        for (size_t i = 0; i <= n; i++)
            d[i][0] = (int)i;
        for (size_t j = 0; j <= m; j++)
            d[0][j] = (int)j;
        for (size_t i = 1; i <= n; i++)
            for (size_t j = 1; j <= m; j++) {
                int v = d[i - 1][j - 1] + (up[i - 1] != cmds[c][j - 1]);
                if (d[i - 1][j] + 1 < v)
                    v = d[i - 1][j] + 1;
                if (d[i][j - 1] + 1 < v)
                    v = d[i][j - 1] + 1;
                d[i][j] = v;
            }
        if (d[n][m] < bestd) {
            bestd = d[n][m];
            best = cmds[c];
        }
    }
    return best;
}

/* Whether a closing ')' or ']' is among the expected tokens. */
static bool
closer_expected(const yysymbol_kind_t *exp, int ne)
{
    for (int i = 0; i < ne; i++) {
        const char *name = yysymbol_name(exp[i]);
        if (strcmp(name, "')'") == 0 || strcmp(name, "']'") == 0)
            return true;
    }
    return false;
}

/* A keyword token (a word of the grammar that is not a name here). */
static bool
is_keyword(yysymbol_kind_t k)
{
    const char *name = yysymbol_name(k);
    if (k == YYSYMBOL_IDENT || k == YYSYMBOL_QUOTED_IDENT || k == YYSYMBOL_STRING_VALUE ||
        k == YYSYMBOL_INTEGER_VALUE || k == YYSYMBOL_DECIMAL_VALUE || k == YYSYMBOL_DOUBLE_VALUE ||
        k == YYSYMBOL_LEX_ERROR)
        return false;
    return name[0] >= 'A' && name[0] <= 'Z';
}

/* ksqlDB's wording, "line L:C: Syntax Error\n" and then: "Unknown statement 'X'\nDid you mean
   'SELECT'?" for a misspelt statement; "\"X\" is a reserved keyword and it can't be used as an
   identifier. ..." for a reserved word where a name goes; "Syntax error at or near ';'\n'}', ']',
   or ')' is missing" for an unclosed bracket; else "Syntax error at or near 'X': expected A, B or
   C; did you mean 'FROM'?" (weir's list). What the lexer objected to is reported as such. With
   LAC the expected tokens are exact for the state the error is in. */
static int
yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner)
{
    struct wr_sql_lex *lx = LX;
    if (lx->failed)
        return 0;
    const wr_sql_span *at = yypcontext_location(ctx);
    yysymbol_kind_t got = yypcontext_token(ctx);
    wr_sql_span end = {.first_line = lx->line, .first_column = lx->col};
    if (got == YYSYMBOL_YYEOF)
        at = &end; /* the end of the text, not the last token */
    if (got == YYSYMBOL_LEX_ERROR) {
        if (lx->bad_char > ' ' && lx->bad_char < 127)
            wr__sql_fail(lx, *at, "unexpected character '%c'", lx->bad_char);
        else if (lx->bad_char >= 0)
            wr__sql_fail(lx, *at, "unexpected byte 0x%02x", lx->bad_char);
        else
            wr__sql_fail(lx, *at, "%s", lx->lex_error ? lx->lex_error : "invalid token");
        return 0;
    }
    char msg[WR_ERR_MSG_MAX];
    size_t n = 0, len = at->last_off - at->first_off;
    const char *word = lx->text + at->first_off;
    int wl = (int)(len > 40 ? 40 : len);
    yysymbol_kind_t exp[YYNTOKENS];
    int ne = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
    n += (size_t)snprintf(msg, sizeof msg, "Syntax Error\n");
    if (has(exp, ne, YYSYMBOL_SELECT) && has(exp, ne, YYSYMBOL_CREATE) && got != YYSYMBOL_YYEOF) {
        wr__sql_fail(lx, *at, "%sUnknown statement '%.*s'\nDid you mean '%s'?", msg, wl, word,
                     nearest_statement(word, len));
        return 0;
    }
    bool expr_expected = has(exp, ne, YYSYMBOL_STRING_VALUE) && has(exp, ne, YYSYMBOL_INTEGER_VALUE);
    if (has(exp, ne, YYSYMBOL_IDENT) && !expr_expected && got != YYSYMBOL_YYEOF && is_keyword(got)) {
        wr__sql_fail(lx, *at,
                     "%s\"%.*s\" is a reserved keyword and it can't be used as an identifier. "
                     "You can use it as an identifier by escaping it as '%.*s' ",
                     msg, wl, word, wl, word);
        return 0;
    }
    if ((got == YYSYMBOL_YYEOF || got == YYSYMBOL_YYUNDEF || word[0] == ';') &&
        closer_expected(exp, ne)) {
        wr__sql_fail(lx, *at, "%sSyntax error at or near \";\"\n'}', ']', or ')' is missing", msg);
        return 0;
    }
    if (got == YYSYMBOL_YYEOF)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "Syntax error at or near end of input");
    else
        n += (size_t)snprintf(msg + n, sizeof msg - n, "Syntax error at or near '%.*s'", wl, word);
    if (has(exp, ne, YYSYMBOL_IDENT) && has(exp, ne, YYSYMBOL_STRING_VALUE) &&
               has(exp, ne, YYSYMBOL_INTEGER_VALUE)) {
        n += (size_t)snprintf(msg + n, sizeof msg - n, ": expected an expression");
    } else {
        int shown = 0, nops = 0;
        bool ident = has(exp, ne, YYSYMBOL_IDENT);
        for (int i = 0; i < ne; i++)
            nops += is_operator(exp[i]);
        if (nops >= 3) {
            n += (size_t)snprintf(msg + n, sizeof msg - n, ": expected an operator");
            shown++;
        }
        for (int i = 0; i < ne && n < sizeof msg; i++) {
            if ((ident && is_nonreserved(exp[i])) || (nops >= 3 && is_operator(exp[i])))
                continue;
            const char *name = yysymbol_name(exp[i]);
            if (exp[i] == YYSYMBOL_IDENT)
                name = "an identifier";
            else if (exp[i] == YYSYMBOL_STRING_VALUE)
                name = "a string";
            else if (exp[i] == YYSYMBOL_INTEGER_VALUE)
                name = "an integer";
            else if (exp[i] == YYSYMBOL_QUOTED_IDENT || exp[i] == YYSYMBOL_DECIMAL_VALUE ||
                     exp[i] == YYSYMBOL_DOUBLE_VALUE || exp[i] == YYSYMBOL_YYerror)
                continue;
            else if (exp[i] == YYSYMBOL_NULL_)
                name = "NULL";
            else if (exp[i] == YYSYMBOL_YYEOF)
                name = "end of input";
            if (shown == 10) {
                n += (size_t)snprintf(msg + n, sizeof msg - n, ", ...");
                break;
            }
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s", shown == 0 ? ": expected " : ", ",
                                  name);
            shown++;
        }
    }
    /* a misspelt keyword: the nearest expected keyword within two edits */
    if (got == YYSYMBOL_IDENT && len < 32 && n < sizeof msg) {
        char up[32];
        for (size_t i = 0; i < len; i++)
            up[i] = (char)(word[i] >= 'a' && word[i] <= 'z' ? word[i] - 'a' + 'A' : word[i]);
        up[len] = 0;
        const char *best = NULL;
        int bestd = 3;
        for (int i = 0; i < ne; i++) {
            const char *kw = yysymbol_name(exp[i]);
            if (kw[0] < 'A' || kw[0] > 'Z' || strchr(kw, '_') != NULL)
                continue;
            int d = edit_distance(up, kw);
            if (d < bestd) {
                bestd = d;
                best = kw;
            }
        }
        if (best != NULL)
            snprintf(msg + n, sizeof msg - n, "; did you mean '%s'?", best);
    }
    wr__sql_fail(lx, *at, "%s", msg);
    return 0;
}

static void
yyerror(wr_sql_span *loc, yyscan_t scanner, const char *msg)
{
    /* "memory exhausted" is the only message that reaches here with parse.error custom */
    wr__sql_fail(LX, *loc, "%s", strcmp(msg, "memory exhausted") == 0
                                    ? "statement nested too deeply" : msg);
}

/*
 * ast.h - the typed syntax tree of weir's SQL (the ksqlDB dialect), as the parser builds it.
 *
 * Every node lives in the arena handed to the parser and dies with it; nodes never point
 * outside that arena (identifiers and literals are copied in). The tree is purely syntactic:
 * names are not resolved, types are not checked, nothing touches the catalog. The analyzer
 * (runtime/) resolves and types it.
 *
 * Identifiers: unquoted ones are folded to upper case, as ksqlDB does; `backquoted` and
 * "double-quoted" ones keep their case. Property names in WITH (...) are folded to upper case
 * (they are case-insensitive); property values keep the literal as written.
 *
 * Locations are 1-based line and column of the first character of the construct, in the text
 * the parser was given.
 */
#ifndef WR_GRAMMAR_AST_H
#define WR_GRAMMAR_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wr_loc {
    int line, col;
} wr_loc;

/* ---- types ----------------------------------------------------------------------------- */

typedef enum wr_tkind {
    WR_T_BOOLEAN,
    WR_T_INT,
    WR_T_BIGINT,
    WR_T_DOUBLE,
    WR_T_DECIMAL,
    WR_T_STRING,
    WR_T_BYTES,
    WR_T_TIMESTAMP,
    WR_T_DATE,
    WR_T_TIME,
    WR_T_ARRAY,
    WR_T_MAP,
    WR_T_STRUCT,
} wr_tkind;

typedef struct wr_sql_type wr_sql_type;

typedef struct wr_sql_field {
    const char *name;
    const wr_sql_type *type;
} wr_sql_field;

/* An SQL type. Immutable once built; the analyzer and the runtime share this description. */
struct wr_sql_type {
    wr_tkind kind;
    int precision, scale;    /* DECIMAL */
    const wr_sql_type *elem; /* ARRAY element, MAP value */
    const wr_sql_type *key;  /* MAP key (STRING in ksqlDB, kept as written) */
    int nfields;             /* STRUCT */
    const wr_sql_field *fields;
};

/* ---- expressions ----------------------------------------------------------------------- */

typedef enum wr_ekind {
    WR_E_NULL,
    WR_E_BOOL,      /* b */
    WR_E_INT,       /* i: fits in BIGINT; typed INT when it fits in INT (ksqlDB) */
    WR_E_DECIMAL,   /* text: 1.50 is DECIMAL(3,2) in ksqlDB */
    WR_E_DOUBLE,    /* d: literals with an exponent */
    WR_E_STRING,    /* text, len */
    WR_E_COLUMN,    /* qualifier (may be NULL), name */
    WR_E_STAR,      /* qualifier (may be NULL): `*` / `s.*` in a select list, COUNT(*) */
    WR_E_UNARY,     /* op (WR_OP_NEG, WR_OP_PLUS, WR_OP_NOT), a */
    WR_E_BINARY,    /* op, a, b */
    WR_E_LIKE,      /* a LIKE b [ESCAPE c]; negated */
    WR_E_BETWEEN,   /* a BETWEEN b AND c; negated */
    WR_E_IN,        /* a IN (list); negated */
    WR_E_IS_NULL,   /* a IS NULL; negated: IS NOT NULL */
    WR_E_DISTINCT,  /* a IS DISTINCT FROM b; negated: IS NOT DISTINCT FROM */
    WR_E_CASE,      /* CASE [a] WHEN list[2i] THEN list[2i+1] ... [ELSE b] END */
    WR_E_CAST,      /* CAST(a AS type) */
    WR_E_CALL,      /* name(list); distinct: COUNT(DISTINCT x) */
    WR_E_DEREF,     /* a->name */
    WR_E_SUBSCRIPT, /* a[b] */
    WR_E_LAMBDA,    /* (params) => a */
    WR_E_ARRAY,     /* ARRAY[list] */
    WR_E_MAP,       /* MAP(list[2i] := list[2i+1], ...) */
    WR_E_STRUCT,    /* STRUCT(names[i] := list[i], ...) */
} wr_ekind;

typedef enum wr_op {
    WR_OP_NONE,
    WR_OP_NEG,
    WR_OP_PLUS,
    WR_OP_NOT,
    WR_OP_ADD,
    WR_OP_SUB,
    WR_OP_MUL,
    WR_OP_DIV,
    WR_OP_MOD,
    WR_OP_CONCAT,
    WR_OP_EQ,
    WR_OP_NE,
    WR_OP_LT,
    WR_OP_LE,
    WR_OP_GT,
    WR_OP_GE,
    WR_OP_AND,
    WR_OP_OR,
} wr_op;

typedef struct wr_expr wr_expr;

struct wr_expr {
    wr_ekind kind;
    wr_loc loc;
    int depth; /* 1 for a leaf; the parser refuses trees deeper than WR_SQL_MAX_DEPTH */
    wr_op op;
    bool b, negated, distinct;
    int64_t i;
    double d;
    const char *text; /* literal text (DECIMAL, STRING), function name */
    size_t len;       /* STRING length (strings may hold NUL) */
    const char *qualifier, *name;
    wr_expr *a, *b2, *c; /* operands; b2 because b is the BOOL literal */
    int n;               /* list length */
    wr_expr **list;      /* IN list, CASE arms, call arguments, constructors */
    const char **names;  /* STRUCT field names, LAMBDA parameters (n of them) */
    const wr_sql_type *type;
};

/* ---- queries --------------------------------------------------------------------------- */

typedef struct wr_select_item {
    wr_expr *expr; /* WR_E_STAR for `*` and `s.*` */
    const char *alias;
    wr_loc loc;
} wr_select_item;

typedef enum wr_join_kind {
    WR_JOIN_INNER,
    WR_JOIN_LEFT,
    WR_JOIN_RIGHT,
    WR_JOIN_FULL,
} wr_join_kind;

/* A join window: WITHIN d, or WITHIN (before, after); with an optional GRACE PERIOD. */
typedef struct wr_within {
    int64_t before_ms, after_ms, grace_ms; /* grace_ms -1: not given */
} wr_within;

typedef struct wr_relation wr_relation;

struct wr_relation {
    bool is_join;
    wr_loc loc;
    /* a source */
    const char *name, *alias;
    /* a join: left JOIN right [WITHIN ...] ON on */
    wr_join_kind join;
    wr_relation *left, *right;
    wr_expr *on;
    wr_within *within;
};

typedef enum wr_window_kind {
    WR_WIN_TUMBLING,
    WR_WIN_HOPPING,
    WR_WIN_SESSION,
} wr_window_kind;

typedef struct wr_window {
    wr_window_kind kind;
    wr_loc loc;
    int64_t size_ms;      /* SESSION: the inactivity gap */
    int64_t advance_ms;   /* HOPPING */
    int64_t retention_ms; /* -1: not given */
    int64_t grace_ms;     /* -1: not given */
} wr_window;

typedef enum wr_emit {
    WR_EMIT_NONE, /* a pull query (or a CSAS/CTAS, which need no EMIT) */
    WR_EMIT_CHANGES,
    WR_EMIT_FINAL,
} wr_emit;

typedef struct wr_select {
    wr_loc loc;
    int nitems;
    wr_select_item *items;
    wr_relation *from;
    wr_window *window;
    wr_expr *where;
    int ngroup;
    wr_expr **group_by;
    int npartition;
    wr_expr **partition_by;
    wr_expr *having;
    wr_emit emit;
    int64_t limit; /* -1: none */
} wr_select;

/* ---- statements ------------------------------------------------------------------------ */

typedef struct wr_property {
    const char *name; /* upper case */
    wr_expr *value;   /* a literal */
    wr_loc loc;
} wr_property;

typedef enum wr_colrole {
    WR_COL_VALUE,
    WR_COL_KEY,         /* KEY (streams) */
    WR_COL_PRIMARY_KEY, /* PRIMARY KEY (tables) */
    WR_COL_HEADERS,     /* HEADERS: every header, ARRAY<STRUCT<KEY STRING, VALUE BYTES>> */
    WR_COL_HEADER,      /* HEADER('k'): one header's bytes */
} wr_colrole;

typedef struct wr_column_def {
    const char *name;
    const wr_sql_type *type;
    wr_colrole role;
    const char *header_key; /* WR_COL_HEADER */
    wr_loc loc;
} wr_column_def;

typedef enum wr_skind {
    WR_S_CREATE_SOURCE, /* CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] n (cols) WITH (...) */
    WR_S_CREATE_AS,     /* CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] n [WITH] AS SELECT */
    WR_S_INSERT_SELECT, /* INSERT INTO n [WITH (...)] SELECT ... */
    WR_S_INSERT_VALUES, /* INSERT INTO n [(cols)] VALUES (...) */
    WR_S_QUERY,         /* SELECT ... */
    WR_S_DROP,          /* DROP STREAM|TABLE [IF EXISTS] n [DELETE TOPIC] */
    WR_S_TERMINATE,     /* TERMINATE id | ALL */
    WR_S_LOAD_FUNCTIONS, /* CREATE FUNCTIONS FROM 'library.so': a UDF library (name: its path) */
    WR_S_SHOW,          /* SHOW|LIST what [EXTENDED] */
    WR_S_DESCRIBE,      /* DESCRIBE [EXTENDED] n; DESCRIBE STREAMS|TABLES [EXTENDED] */
    WR_S_DESCRIBE_FUNC, /* DESCRIBE FUNCTION f */
    WR_S_EXPLAIN,       /* EXPLAIN query_id | EXPLAIN statement */
    WR_S_PRINT,         /* PRINT 'topic' [FROM BEGINNING] [INTERVAL n] [LIMIT n] */
    WR_S_SET,           /* SET 'p' = 'v' */
    WR_S_UNSET,         /* UNSET 'p' */
    WR_S_DEFINE,        /* DEFINE v = 'x' */
    WR_S_UNDEFINE,      /* UNDEFINE v */
} wr_skind;

typedef enum wr_show_what {
    WR_SHOW_STREAMS,
    WR_SHOW_TABLES,
    WR_SHOW_QUERIES,
    WR_SHOW_TOPICS,
    WR_SHOW_PROPERTIES,
    WR_SHOW_FUNCTIONS,
    WR_SHOW_VARIABLES,
} wr_show_what;

typedef struct wr_stmt wr_stmt;

struct wr_stmt {
    wr_skind kind;
    wr_loc loc;
    size_t text_off, text_len; /* the statement's text in the script, without its ';' */

    bool is_table;       /* CREATE/DROP: TABLE (else STREAM) */
    bool or_replace;     /* CREATE OR REPLACE */
    bool if_not_exists;  /* CREATE ... IF NOT EXISTS */
    bool if_exists;      /* DROP ... IF EXISTS */
    bool delete_topic;   /* DROP ... DELETE TOPIC */
    bool extended;       /* DESCRIBE EXTENDED, SHOW ... EXTENDED */
    bool all;            /* TERMINATE ALL; DESCRIBE STREAMS/TABLES (name NULL) */
    bool from_beginning; /* PRINT */

    const char *name; /* source, query id, function, topic, property or variable name */
    wr_loc name_loc;
    const char *value; /* SET/DEFINE value */

    int ncols;
    wr_column_def *cols; /* CREATE_SOURCE */
    int nprops;
    wr_property *props; /* WITH (...) */

    int ninsert_cols;
    const char **insert_cols; /* INSERT ... (cols) VALUES; NULL: all columns in order */
    wr_loc *insert_col_locs;
    int nvalues;
    wr_expr **values;

    wr_select *select; /* CREATE_AS, INSERT_SELECT, QUERY */
    wr_stmt *inner;    /* EXPLAIN statement */
    wr_show_what show;
    int64_t limit;    /* PRINT; -1: none */
    int64_t interval; /* PRINT INTERVAL; -1: none */
};

typedef struct wr_script {
    int n;
    wr_stmt **stmts;
} wr_script;

#endif

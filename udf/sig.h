/*
 * sig.h - function signatures written as SQL type text, with type variables: what a library's
 * weir_signature declares ("ARRAY<T>, T", "BIGINT...", "MAP<STRING, V>") parsed into templates
 * that bind to the argument types of a call.
 *
 * A template is a concrete SQL type, a type variable (one capital letter, optionally followed by
 * digits: T, K, V, T2), a bare DECIMAL (a variable only DECIMALs bind, INT and BIGINT by
 * coercion; one per signature), ARRAY, MAP or STRUCT of templates, or (weir's own functions
 * only) a lambda parameter "x => U" / "(k, v) => U", which is listed but never bound: the
 * analyser handles those calls. Binding a call's argument types: a variable takes the common
 * type of the arguments it meets (NULL literals bind nothing), and none when they have none; a
 * concrete parameter accepts any argument type coercible to it (INT where BIGINT is wanted); an
 * exact match is preferred over a coercing one when choosing between signatures.
 */
#ifndef WR_UDF_SIG_H
#define WR_UDF_SIG_H

#include <stdbool.h>

#include "grammar/ast.h"
#include "src/base/arena.h"
#include "src/base/buf.h"
#include "src/base/err.h"

#define WR_SIG_MAX_VARS 8

typedef struct wr_tmpl wr_tmpl;
struct wr_tmpl {
    const wr_sql_type *type; /* a concrete type, or NULL */
    int var;                 /* a type variable's index, or -1 */
    wr_tkind kind;           /* ARRAY, MAP, STRUCT of templates (type and var unset) */
    const wr_tmpl *elem, *key;
    int nfields;
    const char **names;
    const wr_tmpl **fields;
    const char *lambda; /* a lambda parameter: its parameters as written ("x", "(k, v)"); elem
                           is its result */
};

typedef struct wr_sig {
    int nparams;
    const wr_tmpl **params;
    bool variadic;      /* the last parameter repeats (zero or more times) */
    const wr_tmpl *ret; /* NULL: the library's returns_fn decides */
    int nvars;
    char vars[WR_SIG_MAX_VARS][8];     /* the variables' names, by index */
    bool decimal_var[WR_SIG_MAX_VARS]; /* the variable is a bare DECIMAL */
    bool lambdas;                      /* a parameter is a lambda (weir's own functions) */
} wr_sig;

/* Parses one SQL type text (no variables) into a type in a. */
int wr_sig_parse_type(wr_arena *a, const char *text, const wr_sql_type **out, wr_err *err);

/* Parses a signature: params ("STRING, INT", "" for none, a last "X..." variadic) and returns
   (NULL allowed). Errors name the text: "unknown type FOO in 'FOO, INT'". */
int wr_sig_parse(wr_arena *a, const char *params, const char *returns, wr_sig *out, wr_err *err);

/* Binds argument types args[0..n) (NULL: an untyped NULL) to s. Returns 0 when they do not fit,
   1 when they fit with coercion, 2 when they fit exactly. bound[] gets the variables' types
   (common types are allocated in a). *conflict (unless NULL) gets the index of a variable whose
   arguments have no common type, else -1. A signature with a lambda parameter never fits. */
int wr_sig_bind(const wr_sig *s,
                wr_arena *a,
                const wr_sql_type *const *args,
                int n,
                const wr_sql_type **bound,
                int *conflict);

/* The template t with the bound variables, as a type in a (NULL when a variable is unbound). */
const wr_sql_type *wr_sig_instantiate(wr_arena *a, const wr_tmpl *t, const wr_sql_type **bound);

/* The template of parameter i of a call (the variadic one repeats). */
const wr_tmpl *wr_sig_param(const wr_sig *s, int i);

/* "NAME(STRING, ARRAY<T>...) -> T" into b. */
void wr_sig_format(wr_buf *b, const char *name, const wr_sig *s, const char *returns_text);

#endif

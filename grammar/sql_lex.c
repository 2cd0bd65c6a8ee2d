/*
 * sql_lex.c - the lexer's helpers: locations, numbers, identifiers and the keyword table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grammar/sql_int.h"
#include "sql.tab.h"

/* Sorted by name for bsearch; every %token <str> keyword of sql.y is here. */
static const struct kw {
    const char *name;
    int tok;
} keywords[] = {
    {"ADVANCE", ADVANCE},
    {"ALL", ALL},
    {"AND", AND},
    {"ARRAY", ARRAY},
    {"AS", AS},
    {"BEGINNING", BEGINNING},
    {"BETWEEN", BETWEEN},
    {"BY", BY},
    {"CASE", CASE},
    {"CAST", CAST},
    {"CHANGES", CHANGES},
    {"CREATE", CREATE},
    {"DEFINE", DEFINE},
    {"DELETE", DELETE},
    {"DESCRIBE", DESCRIBE},
    {"DISTINCT", DISTINCT},
    {"DROP", DROP},
    {"ELSE", ELSE},
    {"EMIT", EMIT},
    {"END", END},
    {"ESCAPE", ESCAPE},
    {"EXISTS", EXISTS},
    {"EXPLAIN", EXPLAIN},
    {"EXTENDED", EXTENDED},
    {"FALSE", FALSE},
    {"FINAL", FINAL},
    {"FROM", FROM},
    {"FULL", FULL},
    {"FUNCTION", FUNCTION},
    {"FUNCTIONS", FUNCTIONS},
    {"GRACE", GRACE},
    {"GROUP", GROUP},
    {"HAVING", HAVING},
    {"HEADER", HEADER},
    {"HEADERS", HEADERS},
    {"HOPPING", HOPPING},
    {"IF", IF},
    {"IN", IN},
    {"INNER", INNER},
    {"INSERT", INSERT},
    {"INTERVAL", INTERVAL},
    {"INTO", INTO},
    {"IS", IS},
    {"JOIN", JOIN},
    {"KEY", KEY},
    {"LEFT", LEFT},
    {"LIKE", LIKE},
    {"LIMIT", LIMIT},
    {"LIST", LIST},
    {"MAP", MAP},
    {"NOT", NOT},
    {"NULL", NULL_},
    {"ON", ON},
    {"OR", OR},
    {"OUTER", OUTER},
    {"PARTITION", PARTITION},
    {"PERIOD", PERIOD},
    {"PRIMARY", PRIMARY},
    {"PRINT", PRINT},
    {"PROPERTIES", PROPERTIES},
    {"QUERIES", QUERIES},
    {"REPLACE", REPLACE},
    {"RETENTION", RETENTION},
    {"RIGHT", RIGHT},
    {"SELECT", SELECT},
    {"SESSION", SESSION},
    {"SET", SET},
    {"SHOW", SHOW},
    {"SIZE", SIZE},
    {"STREAM", STREAM},
    {"STREAMS", STREAMS},
    {"STRUCT", STRUCT},
    {"TABLE", TABLE},
    {"TABLES", TABLES},
    {"TERMINATE", TERMINATE},
    {"THEN", THEN},
    {"TOPIC", TOPIC},
    {"TOPICS", TOPICS},
    {"TRUE", TRUE},
    {"TUMBLING", TUMBLING},
    {"UNDEFINE", UNDEFINE},
    {"UNSET", UNSET},
    {"VALUES", VALUES},
    {"VARIABLES", VARIABLES},
    {"WHEN", WHEN},
    {"WHERE", WHERE},
    {"WINDOW", WINDOW},
    {"WITH", WITH},
    {"WITHIN", WITHIN},
};

static int
kw_cmp(const void *key, const void *elem)
{
    return strcasecmp(key, ((const struct kw *)elem)->name);
}

const char *
wr__sql_keyword_name(int tok)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (keywords[i].tok == tok)
            return keywords[i].name;
    return NULL;
}

void
wr__sql_advance(wr_sql_span *loc, struct wr_sql_lex *lx, const char *t, size_t n)
{
    loc->first_line = lx->line;
    loc->first_column = lx->col;
    loc->first_off = lx->off;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '\n') {
            lx->line++;
            lx->col = 1;
        } else if ((c & 0xC0) != 0x80) {
            lx->col++;
        }
    }
    lx->off += n;
    loc->last_line = lx->line;
    loc->last_column = lx->col;
    loc->last_off = lx->off;
}

int
wr__sql_lex_fail(struct wr_sql_lex *lx, const char *msg)
{
    lx->bad_char = -1;
    lx->lex_error = msg;
    return LEX_ERROR;
}

int
wr__sql_number(struct wr_sql_lex *lx, void *yylval, const char *t, size_t n, int tok)
{
    WR_SQLYYSTYPE *v = yylval;
    char *s = wr_arena_strndup(lx->arena, t, n);
    if (s == NULL)
        return wr__sql_lex_fail(lx, "out of memory");
    if (tok == DOUBLE_VALUE) {
        errno = 0;
        (void)strtod(s, NULL);
        if (errno == ERANGE)
            return wr__sql_lex_fail(lx, "numeric literal out of range");
    }
    v->str.s = s;
    v->str.len = n;
    return tok;
}

int
wr__sql_word(struct wr_sql_lex *lx, void *yylval, const char *t, size_t n)
{
    WR_SQLYYSTYPE *v = yylval;
    char *s = wr_arena_strndup(lx->arena, t, n);
    if (s == NULL)
        return wr__sql_lex_fail(lx, "out of memory");
    for (char *c = s; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    v->str.s = s;
    v->str.len = n;
    const struct kw *k =
        bsearch(s, keywords, sizeof keywords / sizeof keywords[0], sizeof keywords[0], kw_cmp);
    return k != NULL ? k->tok : IDENT;
}

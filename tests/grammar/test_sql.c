/*
 * test_sql.c - golden tests of the SQL parser, and of the script helpers.
 *
 * parse.golden holds statements and the tree wr_ast_dump_stmt prints for them; errors.golden
 * holds statements that must fail and the exact message. Each case reads
 *
 *     === name
 *     SQL text (any number of lines)
 *     ---
 *     expected output
 *
 * Run with WR_GOLDEN_UPDATE=1 to rewrite the expected outputs from what the parser prints
 * now, then review the diff: the files are the specification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fuzz_sql_body.h"
#include "grammar/sql.h"
#include "tests/testutil.h"

#ifndef WR_GOLDEN_DIR
#    error "WR_GOLDEN_DIR must name the directory of the .golden files"
#endif

typedef struct gcase {
    char *name, *sql, *expected;
} gcase;

/* Splits a golden file into cases; returns the count. Strings point into text (modified). */
static int
load(char *text, gcase **out)
{
    int n = 0, cap = 16;
    gcase *v = calloc((size_t)cap, sizeof *v);
    char *p = strstr(text, "=== ");
    while (p != NULL) {
        if (n == cap)
            v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
        gcase *c = &v[n++];
        c->name = p + 4;
        char *nl = strchr(p, '\n');
        cr_assert_not_null(nl);
        *nl = 0;
        c->sql = nl + 1;
        char *sep = strstr(c->sql, "\n---\n");
        cr_assert_not_null(sep, "case %s has no --- line", c->name);
        *sep = 0;
        c->expected = sep + 5;
        char *next = strstr(c->expected, "\n=== ");
        if (next != NULL) {
            *next = 0;
            p = next + 1;
        } else {
            p = NULL;
        }
        /* the expected text ends at the blank line before the next case */
        size_t el = strlen(c->expected);
        while (el > 0 && c->expected[el - 1] == '\n')
            c->expected[--el] = 0;
    }
    *out = v;
    return n;
}

/* What the parser says about sql: the dump of every statement, or the error message. */
static char *
actual(const char *sql, bool *ok)
{
    wr_arena *a = wr_arena_create(0);
    wr_script *s;
    wr_err err = {0};
    wr_buf b = WR_BUF_INIT;
    int rc = wr_sql_parse(a, sql, strlen(sql), &s, &err);
    *ok = rc == WR_OK;
    if (rc != WR_OK) {
        wr_buf_printf(&b, "%s", err.msg);
        cr_assert(err.line > 0 && err.col > 0, "error without a position: %s", err.msg);
    } else {
        for (int i = 0; i < s->n; i++)
            wr_ast_dump_stmt(&b, s->stmts[i]);
    }
    while (b.len > 0 && b.data[b.len - 1] == '\n')
        b.len--;
    wr_buf_put_u8(&b, 0);
    char *r = strdup((const char *)b.data);
    wr_buf_free(&b);
    wr_arena_destroy(a);
    return r;
}

static void
run_golden(const char *file, bool expect_ok)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", WR_GOLDEN_DIR, file);
    size_t len;
    char *text = wr_test_slurp(path, &len);
    char *copy = strdup(text);
    gcase *cases;
    int n = load(text, &cases);
    cr_assert_gt(n, 0, "no cases in %s", path);
    bool update = getenv("WR_GOLDEN_UPDATE") != NULL;
    wr_buf out = WR_BUF_INIT;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        bool ok;
        char *got = actual(cases[i].sql, &ok);
        if (update) {
            wr_buf_printf(&out, "=== %s\n%s\n---\n%s\n\n", cases[i].name, cases[i].sql, got);
        } else if (ok != expect_ok || strcmp(got, cases[i].expected) != 0) {
            failed++;
            cr_log_error("%s: case '%s'\n--- expected\n%s\n--- got\n%s", file, cases[i].name,
                         cases[i].expected, got);
        }
        free(got);
    }
    if (update) {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        fwrite(out.data, 1, out.len, f);
        fclose(f);
    }
    cr_assert_eq(failed, 0, "%d of %d golden cases in %s differ", failed, n, file);
    wr_buf_free(&out);
    free(cases);
    free(text);
    free(copy);
}

Test(sql_golden, statements_parse_to_the_expected_trees)
{
    run_golden("parse.golden", true);
}

Test(sql_golden, errors_name_line_column_and_what_was_expected)
{
    run_golden("errors.golden", false);
}

/* ---- splitting and variables ----------------------------------------------------------- */

Test(sql_script, next_statement_skips_quotes_and_comments)
{
    const char *t = "SELECT ';' FROM `a;b` -- ; no\n /* ; */ WHERE x = \"c;\"; SHOW STREAMS;  ";
    size_t n = wr_sql_next_statement(t, strlen(t));
    cr_assert_str_eq(t + n, " SHOW STREAMS;  ");
    size_t m = wr_sql_next_statement(t + n, strlen(t + n));
    cr_assert_str_eq(t + n + m, "  ");
    cr_assert_eq(wr_sql_next_statement(t + n + m, 2), 0);
    cr_assert_eq(wr_sql_next_statement("-- only a comment\n", 18), 0);
    cr_assert_eq(wr_sql_next_statement("SHOW TOPICS", 11), 11, "the last ';' may be missing");
}

static const char *
vars(void *arg, const char *name)
{
    (void)arg;
    if (strcmp(name, "FORMAT") == 0)
        return "JSON";
    if (strcmp(name, "N") == 0)
        return "3";
    return NULL;
}

Test(sql_script, substitute_variables)
{
    wr_arena *a = wr_arena_create(0);
    const char *t =
        "CREATE STREAM s (a INT) WITH (value_format='${format}', partitions=${n}, x='$${n}');";
    char *out;
    size_t len;
    wr_err err = {0};
    cr_assert_eq(wr_sql_substitute(a, t, strlen(t), vars, NULL, &out, &len, &err), WR_OK);
    cr_assert_str_eq(out,
                     "CREATE STREAM s (a INT) WITH (value_format='JSON', partitions=3, x='${n}');");
    cr_assert_eq(len, strlen(out));
    t = "SELECT *\n FROM ${nope};";
    cr_assert_eq(wr_sql_substitute(a, t, strlen(t), vars, NULL, &out, &len, &err), WR_ESEMANTIC);
    cr_assert_str_eq(err.msg, "line 2:7: variable NOPE is not defined");
    t = "SELECT ${ bad} FROM s;";
    cr_assert_eq(wr_sql_substitute(a, t, strlen(t), vars, NULL, &out, &len, &err), WR_ESYNTAX);
    cr_assert_str_eq(err.msg, "line 1:8: malformed variable reference: expected ${name}");
    wr_arena_destroy(a);
}

Test(sql_script, limits_and_hostile_input)
{
    wr_arena *a = wr_arena_create(0);
    wr_script *s;
    wr_err err = {0};
    /* deep parentheses, deep operator chains, deep NOT: errors, never a crash */
    const char *shapes[][3] = {{"SELECT ", "(", "1"},
                               {"SELECT ", "NOT ", "a"},
                               {"SELECT ", "-", "1"},
                               {"SELECT ", "ARRAY[", "1"}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        wr_buf b = WR_BUF_INIT;
        wr_buf_printf(&b, "%s", shapes[k][0]);
        for (int i = 0; i < 5000; i++)
            wr_buf_printf(&b, "%s", shapes[k][1]);
        wr_buf_printf(&b, "%s FROM s;", shapes[k][2]);
        cr_assert_eq(wr_sql_parse(a, (const char *)b.data, b.len, &s, &err), WR_ESYNTAX,
                     "shape %zu", k);
        cr_assert(strstr(err.msg, "nested too deeply") != NULL || strstr(err.msg, "Syntax Error"),
                  "%s", err.msg);
        wr_buf_free(&b);
    }
    wr_buf b = WR_BUF_INIT;
    wr_buf_printf(&b, "SELECT a");
    for (int i = 0; i < 2000; i++)
        wr_buf_printf(&b, " + a");
    wr_buf_printf(&b, " FROM s;");
    cr_assert_eq(wr_sql_parse(a, (const char *)b.data, b.len, &s, &err), WR_ESYNTAX);
    cr_assert(strstr(err.msg, "nested too deeply") != NULL, "%s", err.msg);
    wr_buf_free(&b);
    /* a long flat list is fine */
    b = (wr_buf)WR_BUF_INIT;
    wr_buf_printf(&b, "SELECT * FROM s WHERE a IN (0");
    for (int i = 1; i < 20000; i++)
        wr_buf_printf(&b, ", %d", i);
    wr_buf_printf(&b, ");");
    cr_assert_eq(wr_sql_parse(a, (const char *)b.data, b.len, &s, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(s->stmts[0]->select->where->n, 20000);
    wr_buf_free(&b);
    /* NUL bytes and bytes that are not UTF-8 */
    static const char nul[] = "SELECT a\0 FROM s;";
    cr_assert_eq(wr_sql_parse(a, nul, sizeof nul - 1, &s, &err), WR_ESYNTAX);
    cr_assert_str_eq(err.msg, "line 1:9: unexpected byte 0x00");
    /* an empty script has no statements */
    cr_assert_eq(wr_sql_parse(a, " -- nothing\n;;", 14, &s, &err), WR_OK);
    cr_assert_eq(s->n, 0);
    wr_arena_destroy(a);
}

/* The fuzz property over the seed corpus: every golden statement and every prefix of it. */
Test(sql_fuzz, golden_statements_and_their_prefixes)
{
    const char *files[] = {"parse.golden", "errors.golden"};
    for (int f = 0; f < 2; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", WR_GOLDEN_DIR, files[f]);
        size_t len;
        char *text = wr_test_slurp(path, &len);
        gcase *cases;
        int n = load(text, &cases);
        for (int i = 0; i < n; i++) {
            size_t sl = strlen(cases[i].sql);
            for (size_t cut = 0; cut <= sl; cut++)
                cr_assert_eq(wr_sqlfuzz_one((const uint8_t *)cases[i].sql, cut), 0,
                             "case '%s' cut at %zu", cases[i].name, cut);
        }
        free(cases);
        free(text);
    }
}

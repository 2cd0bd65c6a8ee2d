/*
 * fuzz_sql_body.h - the property the SQL parser's libFuzzer target and its replay test check on
 * one input: parsing never crashes or reads out of bounds, memory stays within a fixed multiple
 * of the input size, every statement of a successful parse can be dumped and formatted, and a
 * failure always carries a position. Included by exactly one file per executable.
 */
#ifndef WR_TESTS_GRAMMAR_FUZZ_SQL_BODY_H
#define WR_TESTS_GRAMMAR_FUZZ_SQL_BODY_H

#include <stdint.h>
#include <string.h>

#include "grammar/sql.h"

/* Returns 0 when the property holds, 1 when it breaks. */
static int
wr_sqlfuzz_one(const uint8_t *data, size_t size)
{
    int bad = 0;
    wr_arena *a = wr_arena_create(0);
    wr_script *s = NULL;
    wr_err err = {0};
    int rc = wr_sql_parse(a, (const char *)data, size, &s, &err);
    if (rc == WR_OK) {
        wr_buf b = WR_BUF_INIT;
        for (int i = 0; i < s->n; i++) {
            wr_ast_dump_stmt(&b, s->stmts[i]);
            if (s->stmts[i]->text_off + s->stmts[i]->text_len > size)
                bad = 1;
        }
        wr_buf_free(&b);
    } else if (rc == WR_ESYNTAX && (err.line < 1 || err.col < 1 || err.msg[0] == 0)) {
        bad = 1;
    }
    /* tokens, nodes and list doublings: a generous but fixed bound per input byte */
    if (wr_arena_used(a) > 512 * size + (1u << 20))
        bad = 1;
    wr_arena_destroy(a);
    return bad;
}

#endif

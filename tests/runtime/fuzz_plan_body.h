/*
 * fuzz_plan_body.h - the SQL analyser and planner under fuzzing: an engine over a scratch log
 * with a small fixed catalog (streams S, X and PAGEVIEWS, tables USERS and T: the names the
 * grammar corpus uses), against which every query statement of an input is analysed and planned
 * as EXPLAIN does it, creating and running nothing. The property: analysis and planning never
 * crash, read out of bounds or leak; a refusal always carries a message; and the catalog is the
 * same after every input. Included by exactly one file per executable (the SQL fuzz target,
 * tests/grammar/fuzz_sql.c, and the replay test tests/runtime/test_plan_corpus.c).
 */
#ifndef WR_TESTS_RUNTIME_FUZZ_PLAN_BODY_H
#define WR_TESTS_RUNTIME_FUZZ_PLAN_BODY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grammar/sql.h"
#include "runtime/engine.h"
#include "src/base/logging.h"
#include "src/log/log.h"
#include "state/store.h"
#include "udf/fn.h"

static const char WR_PLANFUZZ_CATALOG[] =
    "CREATE STREAM S (K STRING KEY, A INT, B INT, C INT, D INT, E INT, F INT, G INT, H INT, "
    "I INT, J INT, V BIGINT, X STRING, ID INT, T BIGINT, ARR ARRAY<INT>, M MAP<STRING, INT>, "
    "ST STRUCT<A STRUCT<B INT>, F DOUBLE>, DEC DECIMAL(10, 2), TS TIMESTAMP) "
    "WITH (kafka_topic='s', partitions=2, value_format='JSON');"
    "CREATE STREAM X (K STRING KEY, A INT, B INT, V BIGINT) "
    "WITH (kafka_topic='x', partitions=2, value_format='JSON');"
    "CREATE STREAM PAGEVIEWS (VIEWTIME BIGINT, USERID STRING, PAGEID STRING) "
    "WITH (kafka_topic='pageviews', partitions=1, value_format='JSON', timestamp='VIEWTIME');"
    "CREATE TABLE USERS (USERID STRING PRIMARY KEY, REGIONID STRING, GENDER STRING, AGE INT) "
    "WITH (kafka_topic='users', partitions=1, value_format='JSON');"
    "CREATE TABLE T (ID INT PRIMARY KEY, V STRING, N BIGINT) "
    "WITH (kafka_topic='t', partitions=1, format='JSON');";

static const char WR_PLANFUZZ_SHOW[] = "SHOW STREAMS EXTENDED; SHOW TABLES; SHOW QUERIES;";

typedef struct wr_planfuzz {
    char dir[64];
    wr_logdb *db;
    wr_state *state;
    wr_fn_registry *fns;
    wr_engine *e;
    wr_buf catalog; /* what WR_PLANFUZZ_SHOW says after the catalog was made */
} wr_planfuzz;

/* Closes everything and removes the directory. NULL-safe. */
static void
wr_planfuzz_close(wr_planfuzz *p)
{
    if (p == NULL)
        return;
    wr_engine_destroy(p->e);
    wr_state_close(p->state);
    wr_log_close(p->db);
    wr_fn_registry_destroy(p->fns);
    wr_buf_free(&p->catalog);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    if (p->dir[0] != 0 && system(cmd) != 0)
        fprintf(stderr, "fuzz_plan: cannot remove %s\n", p->dir);
    free(p);
}

/* Creates the engine and its catalog in a new directory under /tmp. NULL on failure (the reason
   on stderr). */
static wr_planfuzz *
wr_planfuzz_open(void)
{
    wr_planfuzz *p = calloc(1, sizeof *p);
    wr_err err = {0};
    if (p == NULL)
        return NULL;
    wr_log_set_level(WR_LOG_ERROR);
    snprintf(p->dir, sizeof p->dir, "/tmp/weir-fuzz-plan-XXXXXX");
    if (mkdtemp(p->dir) == NULL)
        goto fail;
    char sub[96];
    snprintf(sub, sizeof sub, "%s/log", p->dir);
    wr_log_opts lo = {.flush = WR_LOG_FLUSH_NONE};
    if (wr_log_open(sub, &lo, &p->db, &err) != WR_OK)
        goto fail;
    snprintf(sub, sizeof sub, "%s/state", p->dir);
    wr_state_opts so = {.dir = sub};
    if (wr_state_open(&so, &p->state, &err) != WR_OK)
        goto fail;
    if ((p->fns = wr_fn_registry_create()) == NULL ||
        wr_fn_register_builtins(p->fns, &err) != WR_OK)
        goto fail;
    wr_engine_opts eo = {.db = p->db, .fns = p->fns, .state = p->state};
    if (wr_engine_create(&eo, &p->e, &err) != WR_OK)
        goto fail;
    wr_buf out = WR_BUF_INIT;
    int rc =
        wr_engine_execute(p->e, NULL, WR_PLANFUZZ_CATALOG, strlen(WR_PLANFUZZ_CATALOG), &out, &err);
    wr_buf_free(&out);
    if (rc != WR_OK || wr_engine_execute(p->e, NULL, WR_PLANFUZZ_SHOW, strlen(WR_PLANFUZZ_SHOW),
                                         &p->catalog, &err) != WR_OK)
        goto fail;
    return p;
fail:
    fprintf(stderr, "fuzz_plan: cannot set up the engine in %s: %s\n", p->dir, err.msg);
    wr_planfuzz_close(p);
    return NULL;
}

/* Whether the analyser sees st when it is explained: the statements EXPLAIN takes, and the
   DESCRIBE forms, which read the catalog. */
static bool
wr_planfuzz_plannable(const wr_stmt *st)
{
    switch (st->kind) {
    case WR_S_CREATE_AS:
    case WR_S_INSERT_SELECT:
    case WR_S_QUERY:
        return true;
    case WR_S_EXPLAIN:
    case WR_S_DESCRIBE:
    case WR_S_DESCRIBE_FUNC:
        return true;
    default:
        return false;
    }
}

/* Returns 0 when the property holds, 1 when it breaks. */
static int
wr_planfuzz_one(wr_planfuzz *p, const uint8_t *data, size_t size)
{
    int bad = 0, ran = 0;
    wr_arena *a = wr_arena_create(0);
    wr_script *s = NULL;
    wr_err err = {0};
    wr_buf text = WR_BUF_INIT, out = WR_BUF_INIT;
    wr_session *ss = wr_session_create();
    if (wr_sql_parse(a, (const char *)data, size, &s, &err) != WR_OK)
        goto out;
    for (int i = 0; i < s->n && i < 16; i++) {
        const wr_stmt *st = s->stmts[i];
        if (!wr_planfuzz_plannable(st))
            continue;
        wr_buf_reset(&text);
        bool explain =
            st->kind != WR_S_EXPLAIN && st->kind != WR_S_DESCRIBE && st->kind != WR_S_DESCRIBE_FUNC;
        if (explain)
            wr_buf_append(&text, "EXPLAIN ", 8);
        wr_buf_append(&text, data + st->text_off, st->text_len);
        wr_buf_reset(&out);
        err = (wr_err){0};
        int rc = wr_engine_execute(p->e, ss, (const char *)text.data, text.len, &out, &err);
        if (rc != WR_OK && err.msg[0] == 0)
            bad = 1;
        ran++;
    }
    if (ran > 0 && !bad) {
        wr_buf_reset(&out);
        if (wr_engine_execute(p->e, NULL, WR_PLANFUZZ_SHOW, strlen(WR_PLANFUZZ_SHOW), &out, &err) !=
                WR_OK ||
            out.len != p->catalog.len || memcmp(out.data, p->catalog.data, out.len) != 0)
            bad = 1; /* an EXPLAIN changed the catalog */
    }
out:
    wr_session_destroy(ss);
    wr_buf_free(&text);
    wr_buf_free(&out);
    wr_arena_destroy(a);
    return bad;
}

#endif

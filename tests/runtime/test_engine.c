/*
 * test_engine.c - the engine over a real log: large compressed input batches, and resuming
 * from committed offsets when the same statements run again (a restart).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "runtime/engine.h"
#include "src/base/logging.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

static char dir[64];
static wr_logdb *db;
static wr_fn_registry *fns;

static void
setup(void)
{
    wr_log_set_level(WR_LOG_WARN);
    snprintf(dir, sizeof dir, "/tmp/wr_test_engine_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    wr_err err = {0};
    wr_log_opts lo = {.flush = WR_LOG_FLUSH_NONE};
    cr_assert_eq(wr_log_open(dir, &lo, &db, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_log_topic_create(db, "input", 1, NULL, &err), WR_OK);
    fns = wr_fn_registry_create();
    cr_assert_eq(wr_fn_register_builtins(fns, &err), WR_OK);
}

static void
teardown(void)
{
    wr_log_close(db);
    wr_fn_registry_destroy(fns);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(engine, .init = setup, .fini = teardown);

static const char SQL[] =
    "SET 'auto.offset.reset' = 'earliest';"
    "CREATE STREAM INPUT (ID BIGINT KEY, V STRING) WITH (kafka_topic='input', value_format='JSON');"
    "CREATE STREAM OUTPUT AS SELECT ID, V FROM INPUT;";

/* Appends n records (ids from first) of a value of vlen bytes, in one batch. */
static void
append(long first, long n, int vlen, wr_compression c)
{
    wr_partition *p;
    cr_assert_eq(wr_log_partition(db, "input", 0, &p), WR_OK);
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, c);
    char *v = malloc((size_t)vlen + 32);
    for (long i = first; i < first + n; i++) {
        int len = snprintf(v, (size_t)vlen + 32, "{\"V\":\"%0*ld\"}", vlen - 8, i);
        uint8_t key[8];
        wr_be64_put(key, (uint64_t)i);
        wr_rbatch_builder_add(&bb, i, key, 8, v, len, NULL, 0);
    }
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    wr_log_append_result res;
    cr_assert_eq(wr_rbatch_builder_finish(&bb, &out, &err), WR_OK);
    cr_assert_eq(wr_log_append(p, out.data, out.len, &res, &err), WR_OK, "%s", err.msg);
    wr_rbatch_builder_free(&bb);
    wr_buf_free(&out);
    free(v);
}

static int64_t
run(wr_engine *e)
{
    int64_t total = 0, n;
    wr_err err = {0};
    do {
        cr_assert_eq(wr_engine_poll(e, &n, &err), WR_OK, "%s", err.msg);
        total += n;
    } while (n > 0);
    return total;
}

static wr_engine *
engine(void)
{
    wr_engine *e;
    wr_err err = {0};
    wr_engine_opts o = {.db = db, .fns = fns};
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK);
    wr_buf out = WR_BUF_INIT;
    cr_assert_eq(wr_engine_execute(e, NULL, SQL, strlen(SQL), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_free(&out);
    return e;
}

static int64_t
output_end(void)
{
    wr_partition *p;
    cr_assert_eq(wr_log_partition(db, "OUTPUT", 0, &p), WR_OK);
    return wr_log_end_offset(p);
}

Test(engine, a_compressed_batch_larger_than_a_message_gives_several_output_batches)
{
    /* 6,000 values of 1 KB: 6 MB uncompressed in one zstd batch of a few KB */
    append(0, 6000, 1000, WR_COMPRESSION_ZSTD);
    wr_engine *e = engine();
    cr_assert_eq(run(e), 6000);
    cr_assert_eq(output_end(), 6000, "every record came out");
    wr_engine_destroy(e);
}

Test(engine, the_same_statements_resume_from_committed_offsets)
{
    append(0, 10, 20, WR_COMPRESSION_NONE);
    wr_engine *e = engine();
    cr_assert_eq(run(e), 10);
    wr_engine_destroy(e);
    append(10, 5, 20, WR_COMPRESSION_NONE);
    e = engine(); /* a restart: the query gets the same id and finds its offsets */
    cr_assert_eq(run(e), 5, "only the new records are read again");
    cr_assert_eq(output_end(), 15, "no duplicate, no gap");
    wr_query_stats st;
    cr_assert_eq(wr_engine_query_stats(e, "CSAS_OUTPUT_0", &st), WR_OK);
    cr_assert_eq(st.records_out, 5);
    wr_engine_destroy(e);
}

Test(engine, the_catalog_survives_a_restart_through_the_command_topic)
{
    char cat[128];
    snprintf(cat, sizeof cat, "%s/catalog.db", dir);
    wr_err err = {0};
    wr_engine_opts o = {.db = db, .fns = fns, .catalog_path = cat};
    wr_engine *e;
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK, "%s", err.msg);
    wr_buf out = WR_BUF_INIT;
    cr_assert_eq(wr_engine_execute(e, NULL, SQL, strlen(SQL), &out, &err), WR_OK, "%s", err.msg);
    /* a failing statement is not recorded */
    const char *bad = "CREATE STREAM X AS SELECT NOPE FROM INPUT;";
    cr_assert_neq(wr_engine_execute(e, NULL, bad, strlen(bad), &out, &err), WR_OK);
    append(0, 4, 20, WR_COMPRESSION_NONE);
    cr_assert_eq(run(e), 4);
    wr_engine_destroy(e);

    /* a restart with no statements at all: the command topic brings the query back */
    append(4, 3, 20, WR_COMPRESSION_NONE);
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(run(e), 3, "the replayed query resumes where it stopped");
    cr_assert_eq(output_end(), 7);
    wr_buf_reset(&out);
    const char *show = "SHOW QUERIES;";
    cr_assert_eq(wr_engine_execute(e, NULL, show, strlen(show), &out, &err), WR_OK);
    wr_buf_put_u8(&out, 0);
    cr_assert(strstr((const char *)out.data, "CSAS_OUTPUT_0") != NULL, "%s",
              (const char *)out.data);
    /* TERMINATE and DROP are commands too: after another restart they stay done */
    const char *drop = "TERMINATE CSAS_OUTPUT_0; DROP STREAM OUTPUT;";
    cr_assert_eq(wr_engine_execute(e, NULL, drop, strlen(drop), &out, &err), WR_OK, "%s", err.msg);
    wr_engine_destroy(e);
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK, "%s", err.msg);
    wr_buf_reset(&out);
    const char *streams = "SHOW STREAMS; SHOW QUERIES;";
    cr_assert_eq(wr_engine_execute(e, NULL, streams, strlen(streams), &out, &err), WR_OK);
    wr_buf_put_u8(&out, 0);
    cr_assert(strstr((const char *)out.data, "INPUT") != NULL);
    cr_assert(strstr((const char *)out.data, "OUTPUT") == NULL, "%s", (const char *)out.data);
    wr_engine_destroy(e);
    wr_buf_free(&out);

    /* the sqlite3 materialisation agrees */
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(cat, &s), SQLITE_OK);
    sqlite3_stmt *q;
    cr_assert_eq(
        sqlite3_prepare_v2(s,
                           "SELECT (SELECT count(*) FROM commands), (SELECT group_concat(name) "
                           "FROM sources), (SELECT count(*) FROM queries)",
                           -1, &q, NULL),
        SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(q, 0), 4, "CREATE, CSAS, TERMINATE, DROP");
    cr_assert_str_eq((const char *)sqlite3_column_text(q, 1), "INPUT");
    cr_assert_eq(sqlite3_column_int(q, 2), 0);
    sqlite3_finalize(q);
    sqlite3_close(s);
}

Test(engine, explain_prints_the_operator_dag_of_a_query_or_a_statement)
{
    wr_engine *e = engine();
    wr_err err = {0};
    wr_buf out = WR_BUF_INIT;
    const char *x = "EXPLAIN CSAS_OUTPUT_0;";
    cr_assert_eq(wr_engine_execute(e, NULL, x, strlen(x), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    const char *t = (const char *)out.data;
    cr_assert(strstr(t, " > [ SINK ] | Schema: ID BIGINT KEY, V STRING | Topic: OUTPUT") != NULL,
              "%s", t);
    cr_assert(strstr(t, "   > [ PROJECT ] | Expressions: ID AS ID, V AS V") != NULL, "%s", t);
    cr_assert(strstr(t, "     > [ SOURCE ] | Schema: ID BIGINT KEY, V STRING, ROWTIME BIGINT") !=
                  NULL,
              "%s", t);
    /* a statement is planned, not run: no topic, no query */
    wr_buf_reset(&out);
    const char *y = "EXPLAIN CREATE STREAM S2 AS SELECT ID, UCASE(V) AS U FROM INPUT WHERE ID > 1;";
    cr_assert_eq(wr_engine_execute(e, NULL, y, strlen(y), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    t = (const char *)out.data;
    cr_assert(strstr(t, "> [ FILTER ] | Condition: (ID > 1)") != NULL, "%s", t);
    cr_assert(strstr(t, "UCASE(V) AS U") != NULL, "%s", t);
    cr_assert_lt(wr_log_topic_partitions(db, "S2"), 1, "EXPLAIN created nothing");
    wr_buf_reset(&out);
    const char *z = "SHOW QUERIES;";
    cr_assert_eq(wr_engine_execute(e, NULL, z, strlen(z), &out, &err), WR_OK);
    wr_buf_put_u8(&out, 0);
    cr_assert(strstr((const char *)out.data, "S2") == NULL);
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

Test(engine, print_shows_the_records_of_a_topic)
{
    append(0, 5, 20, WR_COMPRESSION_NONE);
    wr_engine *e = engine();
    wr_err err = {0};
    wr_buf out = WR_BUF_INIT;
    const char *p = "PRINT 'input' FROM BEGINNING INTERVAL 2 LIMIT 2;";
    cr_assert_eq(wr_engine_execute(e, NULL, p, strlen(p), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    const char *t = (const char *)out.data;
    cr_assert(strstr(t, "Key format: KAFKA_BYTES\nValue format: JSON\n") != NULL, "%s", t);
    cr_assert(strstr(t, "rowtime: 1970-01-01T00:00:00.000 Z, key: 0000000000000000, value: "
                        "{\"V\":\"000000000000\"}, partition: 0\n") != NULL,
              "%s", t);
    cr_assert(strstr(t, "key: 0000000000000002") != NULL, "INTERVAL 2 shows every second record");
    cr_assert(strstr(t, "key: 0000000000000001") == NULL);
    cr_assert(strstr(t, "key: 0000000000000004") == NULL, "LIMIT 2");
    wr_buf_reset(&out);
    const char *q = "PRINT nope FROM BEGINNING;";
    cr_assert_eq(wr_engine_execute(e, NULL, q, strlen(q), &out, &err), WR_ESEMANTIC);
    cr_assert(strstr(err.msg, "topic 'nope' does not exist") != NULL, "%s", err.msg);
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

Test(engine, create_or_replace_of_a_query_resumes_from_its_offsets)
{
    append(0, 3, 20, WR_COMPRESSION_NONE);
    wr_engine *e = engine();
    cr_assert_eq(run(e), 3);
    wr_err err = {0};
    wr_buf out = WR_BUF_INIT;
    const char *r = "CREATE OR REPLACE STREAM OUTPUT AS SELECT ID, V, LEN(V) AS N FROM INPUT;";
    cr_assert_eq(wr_engine_execute(e, NULL, r, strlen(r), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    cr_assert(strstr((const char *)out.data, "Replaced query CSAS_OUTPUT_0") != NULL, "%s",
              (const char *)out.data);
    append(3, 2, 20, WR_COMPRESSION_NONE);
    cr_assert_eq(run(e), 2, "the replacement goes on where the old plan stopped");
    cr_assert_eq(output_end(), 5);
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

Test(engine, explain_of_an_aggregation_shows_its_plan)
{
    wr_engine *e = engine();
    wr_err err = {0};
    wr_buf out = WR_BUF_INIT;
    const char *x =
        "EXPLAIN CREATE TABLE COUNTS AS SELECT V, COUNT(*) AS N, MAX(ID) AS M FROM INPUT "
        "WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY V HAVING COUNT(*) > 1;";
    cr_assert_eq(wr_engine_execute(e, NULL, x, strlen(x), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    const char *t = (const char *)out.data;
    cr_assert(strstr(t, "> [ SINK ] | Schema: V STRING KEY, N BIGINT, M BIGINT") != NULL, "%s", t);
    cr_assert(strstr(t, "> [ FILTER ] | Having: (COUNT(*) > 1)") != NULL, "%s", t);
    cr_assert(strstr(t, "> [ AGGREGATE ] | Group by: V | Aggregates: COUNT(*), MAX(ID) | Window: "
                        "TUMBLING size 60000 ms") != NULL,
              "%s", t);
    cr_assert_lt(wr_log_topic_partitions(db, "COUNTS"), 1);
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

Test(engine, describe_extended_and_show_functions)
{
    append(0, 2, 20, WR_COMPRESSION_NONE);
    wr_engine *e = engine();
    cr_assert_eq(run(e), 2);
    wr_err err = {0};
    wr_buf out = WR_BUF_INIT;
    const char *d = "DESCRIBE INPUT EXTENDED; SHOW FUNCTIONS; DESCRIBE FUNCTION transform;";
    cr_assert_eq(wr_engine_execute(e, NULL, d, strlen(d), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    const char *t = (const char *)out.data;
    cr_assert(strstr(t, " ID | BIGINT (key)") != NULL, "%s", t);
    cr_assert(
        strstr(t, "Reading query CSAS_OUTPUT_0: CREATE STREAM OUTPUT AS SELECT ID, V FROM INPUT") !=
            NULL,
        "%s", t);
    cr_assert(strstr(t, "  records in: 2, out: 2, decode errors: 0, evaluation errors: 0") != NULL,
              "%s", t);
    cr_assert(strstr(t, " TRANSFORM | LAMBDA") != NULL && strstr(t, " UCASE | STRING") != NULL &&
                  strstr(t, " COUNT | AGGREGATE") != NULL && strstr(t, " EXPLODE | TABLE") != NULL,
              "%s", t);
    cr_assert(strstr(t, "Variations  : TRANSFORM(ARRAY<T>, x => U) -> ARRAY<U>") != NULL, "%s", t);
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

Test(engine, explain_of_a_push_query)
{
    wr_engine *e = engine();
    wr_err err = {0};
    wr_buf out = WR_BUF_INIT;
    const char *x =
        "EXPLAIN SELECT ID, LCASE(V) AS L FROM INPUT WHERE ID > 3 EMIT CHANGES LIMIT 5;";
    cr_assert_eq(wr_engine_execute(e, NULL, x, strlen(x), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    const char *t = (const char *)out.data;
    cr_assert(strstr(t, "> [ SINK ] | Schema: ID BIGINT KEY, L STRING | Topic: TRANSIENT_QUERY") !=
                  NULL,
              "%s", t);
    cr_assert(strstr(t, "> [ FILTER ] | Condition: (ID > 3)") != NULL, "%s", t);
    cr_assert_lt(wr_log_topic_partitions(db, "TRANSIENT_QUERY"), 1);
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

/* ---- push and pull queries (wr_engine_push_open) ----------------------------------------------
 */

typedef struct sink_log {
    wr_buf rows; /* every row, one a line */
    int nrows, ndone;
    bool hold; /* ready() answers false */
    char why[256];
} sink_log;

static void
log_row(void *arg, const char *json, size_t len)
{
    sink_log *l = arg;
    wr_buf_append(&l->rows, json, len);
    wr_buf_put_u8(&l->rows, '\n');
    l->nrows++;
}

static bool
log_ready(void *arg)
{
    return !((sink_log *)arg)->hold;
}

static void
log_done(void *arg, const char *why)
{
    sink_log *l = arg;
    l->ndone++;
    snprintf(l->why, sizeof l->why, "%s", why ? why : "");
}

static const char SRC[] = "CREATE STREAM INPUT (ID BIGINT KEY, V STRING) WITH "
                          "(kafka_topic='input', value_format='JSON');";

static char *
rows_text(sink_log *l)
{
    wr_buf_put_u8(&l->rows, 0);
    return (char *)l->rows.data;
}

Test(engine, a_pull_query_over_a_stream_reads_what_is_there_and_ends)
{
    wr_engine *e;
    wr_err err = {0};
    wr_engine_opts o = {.db = db, .fns = fns};
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK);
    cr_assert_eq(wr_engine_execute(e, NULL, SRC, strlen(SRC), NULL, &err), WR_OK, "%s", err.msg);
    append(1, 5, 16, WR_COMPRESSION_NONE);
    sink_log l = {.rows = WR_BUF_INIT};
    wr_push_sink s = {&l, log_row, log_ready, log_done};
    wr_push_info in = {.names = WR_BUF_INIT, .types = WR_BUF_INIT, .schema = WR_BUF_INIT};
    const char *q = "SELECT id * 10 AS x, v FROM input WHERE id > 2;";
    cr_assert_eq(wr_engine_push_open(e, NULL, q, strlen(q), &s, &in, &err), WR_OK, "%s", err.msg);
    cr_assert(in.pull);
    cr_assert_eq(strncmp(in.query_id, "transient_INPUT_", 16), 0, "%s", in.query_id);
    wr_buf_put_u8(&in.names, 0);
    wr_buf_put_u8(&in.schema, 0);
    cr_assert_str_eq((char *)in.names.data, "[\"X\",\"V\"]");
    cr_assert_str_eq((char *)in.schema.data, "`X` BIGINT, `V` STRING");
    append(6, 1, 16, WR_COMPRESSION_NONE); /* after the start: not seen by the pull query */
    run(e);
    cr_assert_eq(l.ndone, 1);
    cr_assert_str_eq(l.why, "");
    cr_assert_str_eq(rows_text(&l), "[30,\"00000003\"]\n[40,\"00000004\"]\n[50,\"00000005\"]\n");
    cr_assert_eq(wr_engine_push_close(e, in.query_id), WR_ENOENT, "it is gone once done");
    wr_buf_free(&l.rows);
    wr_buf_free(&in.names);
    wr_buf_free(&in.types);
    wr_buf_free(&in.schema);
    wr_engine_destroy(e);
}

Test(engine, a_push_query_follows_new_rows_waits_for_its_client_and_stops_at_its_limit)
{
    wr_engine *e;
    wr_err err = {0};
    wr_engine_opts o = {.db = db, .fns = fns};
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK);
    cr_assert_eq(wr_engine_execute(e, NULL, SRC, strlen(SRC), NULL, &err), WR_OK, "%s", err.msg);
    append(1, 2, 16, WR_COMPRESSION_NONE); /* before the query: latest skips them */
    sink_log l = {.rows = WR_BUF_INIT, .hold = true};
    wr_push_sink s = {&l, log_row, log_ready, log_done};
    wr_push_info in = {.names = WR_BUF_INIT, .types = WR_BUF_INIT, .schema = WR_BUF_INIT};
    const char *q = "SELECT id FROM input EMIT CHANGES LIMIT 3;";
    cr_assert_eq(wr_engine_push_open(e, NULL, q, strlen(q), &s, &in, &err), WR_OK, "%s", err.msg);
    cr_assert(!in.pull);
    append(3, 2, 16, WR_COMPRESSION_NONE);
    run(e);
    cr_assert_eq(l.nrows, 0, "a client that is not ready holds the query back");
    l.hold = false;
    run(e);
    cr_assert_str_eq(rows_text(&l), "[3]\n[4]\n");
    wr_buf_reset(&l.rows);
    cr_assert_eq(l.ndone, 0);
    append(5, 3, 16, WR_COMPRESSION_NONE);
    run(e);
    cr_assert_str_eq(rows_text(&l), "[5]\n", "LIMIT 3 stops after the third row");
    cr_assert_eq(l.ndone, 1);
    wr_buf_free(&l.rows);
    wr_buf_free(&in.names);
    wr_buf_free(&in.types);
    wr_buf_free(&in.schema);
    wr_engine_destroy(e);
}

Test(engine, push_queries_end_on_close_terminate_and_drop_and_show_in_show_queries)
{
    wr_engine *e;
    wr_err err = {0};
    wr_engine_opts o = {.db = db, .fns = fns};
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK);
    cr_assert_eq(wr_engine_execute(e, NULL, SRC, strlen(SRC), NULL, &err), WR_OK, "%s", err.msg);
    sink_log l[3] = {{.rows = WR_BUF_INIT}, {.rows = WR_BUF_INIT}, {.rows = WR_BUF_INIT}};
    wr_push_info in[3];
    const char *q = "SELECT * FROM input EMIT CHANGES;";
    for (int i = 0; i < 3; i++) {
        wr_push_sink s = {&l[i], log_row, log_ready, log_done};
        in[i] = (wr_push_info){.names = WR_BUF_INIT, .types = WR_BUF_INIT, .schema = WR_BUF_INIT};
        cr_assert_eq(wr_engine_push_open(e, NULL, q, strlen(q), &s, &in[i], &err), WR_OK);
    }
    wr_buf out = WR_BUF_INIT;
    cr_assert_eq(wr_engine_execute(e, NULL, "SHOW QUERIES;", 13, &out, &err), WR_OK);
    wr_buf_put_u8(&out, 0);
    cr_assert(strstr((char *)out.data, in[2].query_id) != NULL, "%s", (char *)out.data);
    cr_assert_eq(wr_engine_push_close(e, in[0].query_id), WR_OK);
    cr_assert_eq(l[0].ndone, 0, "close does not call done");
    char t[300];
    snprintf(t, sizeof t, "TERMINATE %s;", in[1].query_id);
    cr_assert_eq(wr_engine_execute(e, NULL, t, strlen(t), NULL, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(l[1].ndone, 1);
    cr_assert_str_eq(l[1].why, "the query was terminated");
    cr_assert_eq(wr_engine_execute(e, NULL, "DROP STREAM input;", 18, NULL, &err), WR_OK,
                 "a push query does not keep its source from being dropped: %s", err.msg);
    cr_assert_eq(l[2].ndone, 1);
    cr_assert_str_eq(l[2].why, "the source of this query was dropped");
    const char *bad = "CREATE STREAM x (a INT) WITH (kafka_topic='x', value_format='JSON');";
    cr_assert_eq(wr_engine_push_open(e, NULL, bad, strlen(bad), NULL, NULL, &err), WR_EINVAL);
    cr_assert_str_eq(err.msg, "expected a SELECT statement");
    for (int i = 0; i < 3; i++) {
        wr_buf_free(&l[i].rows);
        wr_buf_free(&in[i].names);
        wr_buf_free(&in[i].types);
        wr_buf_free(&in[i].schema);
    }
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

Test(engine, execute_json_gives_ksqldb_entities_and_names_the_failing_statement)
{
    wr_engine *e;
    wr_err err = {0};
    wr_engine_opts o = {.db = db, .fns = fns};
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK);
    wr_buf json = WR_BUF_INIT, failed = WR_BUF_INIT;
    const char *ok = "CREATE STREAM INPUT (ID BIGINT KEY, V STRING) WITH (kafka_topic='input', "
                     "value_format='JSON'); SHOW STREAMS; SET 'a'='b';";
    cr_assert_eq(wr_engine_execute_json(e, NULL, ok, strlen(ok), &json, &failed, &err), WR_OK, "%s",
                 err.msg);
    wr_buf_put_u8(&json, 0);
    const char *j = (const char *)json.data;
    cr_assert(strncmp(j, "{\"@type\":\"currentStatus\",", 25) == 0, "%s", j);
    cr_assert(strstr(j, "\"commandId\":\"stream/`INPUT`/create\"") != NULL, "%s", j);
    cr_assert(strstr(j, "\"commandStatus\":{\"status\":\"SUCCESS\",\"message\":\"Stream INPUT "
                        "created\"}") != NULL,
              "%s", j);
    cr_assert(strstr(j,
                     ",{\"@type\":\"streams\",\"statementText\":\"SHOW STREAMS\",\"streams\":"
                     "[{\"type\":\"STREAM\",\"name\":\"INPUT\",\"topic\":\"input\","
                     "\"keyFormat\":\"KAFKA\",\"valueFormat\":\"JSON\",\"isWindowed\":false}]") !=
                  NULL,
              "%s", j);
    cr_assert(strstr(j, "SET") == NULL, "SET makes no entity: %s", j);
    wr_buf_reset(&json);
    const char *bad = "SHOW TOPICS;\nDESCRIBE nope;";
    cr_assert_eq(wr_engine_execute_json(e, NULL, bad, strlen(bad), &json, &failed, &err),
                 WR_ESEMANTIC);
    wr_buf_put_u8(&failed, 0);
    cr_assert_str_eq((char *)failed.data, "DESCRIBE nope");
    cr_assert_eq(err.line, 2);
    wr_buf_put_u8(&json, 0);
    cr_assert(strncmp((char *)json.data, "{\"@type\":\"kafka_topics\"", 23) == 0,
              "the entities before the failure: %s", (char *)json.data);
    wr_buf_reset(&json);
    const char *sel = "SELECT * FROM input EMIT CHANGES;";
    cr_assert_eq(wr_engine_execute_json(e, NULL, sel, strlen(sel), &json, &failed, &err),
                 WR_EUNSUPP, "a SELECT belongs to /query");
    wr_buf_free(&json);
    wr_buf_free(&failed);
    wr_engine_destroy(e);
}

Test(engine, insert_json_appends_a_row_by_column_names)
{
    wr_engine *e;
    wr_err err = {0};
    wr_engine_opts o = {.db = db, .fns = fns};
    cr_assert_eq(wr_engine_create(&o, &e, &err), WR_OK);
    cr_assert_eq(wr_engine_execute(e, NULL, SRC, strlen(SRC), NULL, &err), WR_OK, "%s", err.msg);
    const char *row = "{\"id\": 42, \"V\": \"x\"}";
    cr_assert_eq(wr_engine_insert_json(e, "input", row, strlen(row), &err), WR_OK, "%s", err.msg);
    const char *bad = "{\"ID\": \"not a number\"}";
    cr_assert_neq(wr_engine_insert_json(e, "INPUT", bad, strlen(bad), &err), WR_OK);
    cr_assert(strstr(err.msg, "cannot deserialize field ID") != NULL, "%s", err.msg);
    cr_assert_eq(wr_engine_insert_json(e, "nope", row, strlen(row), &err), WR_ENOENT);
    wr_buf out = WR_BUF_INIT;
    const char *p = "PRINT 'input' FROM BEGINNING;";
    cr_assert_eq(wr_engine_execute(e, NULL, p, strlen(p), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    cr_assert(strstr((char *)out.data, "value: {\"V\":\"x\"}") != NULL, "%s", (char *)out.data);
    cr_assert(strstr((char *)out.data, "key: 000000000000002a") != NULL, "%s", (char *)out.data);
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

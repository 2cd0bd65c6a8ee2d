/*
 * test_engine.c - the engine over a real log: large compressed input batches, and resuming
 * from committed offsets when the same statements run again (a restart); the processing
 * guarantees with the log's transaction coordinator (exactly_once_v2, at_least_once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "runtime/engine.h"
#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/coord/txn.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"
#include "state/store.h"

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

/* ---- processing guarantees (runtime/commit.c) ------------------------------------------------
 *
 * The engine with the log's transaction coordinator: queries run exactly_once_v2 by default,
 * their outputs, changelog records and input offsets committing together every
 * commit.interval.ms. Outputs are read as weir's own readers do, with wr_log_read_committed.
 */

static wr_state *state;
static wr_txn_coord *coord;
static int64_t eos_pids = 1;

static int
eos_new_pid(void *arg, int64_t *pid, wr_err *err)
{
    (void)arg;
    (void)err;
    *pid = eos_pids++;
    return WR_OK;
}

static void
eos_setup(void)
{
    setup();
    char sdir[128];
    snprintf(sdir, sizeof sdir, "%s/state", dir);
    wr_state_opts so = {.dir = sdir, .cache_bytes = 4 << 20, .write_buffer_bytes = 4 << 20};
    wr_err err = {0};
    cr_assert_eq(wr_state_open(&so, &state, &err), WR_OK, "%s", err.msg);
    wr_txn_coord_opts co = {
        .max_timeout_ms = 900000, .check_interval_ms = 3600000, .new_pid = eos_new_pid};
    cr_assert_eq(wr_txn_coord_open(db, &co, &coord, &err), WR_OK, "%s", err.msg);
}

static void
eos_teardown(void)
{
    wr_txn_coord_close(coord);
    wr_state_close(state);
    coord = NULL;
    state = NULL;
    teardown();
}

TestSuite(engine_guarantee, .init = eos_setup, .fini = eos_teardown);

/* An engine with the state and (with_txn) the coordinator, running sql; NULL when sql fails,
   with the failure in *err. */
static wr_engine *
engine_with(bool with_txn, const char *sql, wr_err *err)
{
    wr_engine *e;
    wr_engine_opts o = {.db = db, .fns = fns, .state = state, .txn = with_txn ? coord : NULL};
    cr_assert_eq(wr_engine_create(&o, &e, err), WR_OK, "%s", err->msg);
    wr_buf out = WR_BUF_INIT;
    int rc = wr_engine_execute(e, NULL, sql, strlen(sql), &out, err);
    wr_buf_free(&out);
    if (rc != WR_OK) {
        wr_engine_destroy(e);
        return NULL;
    }
    return e;
}

static wr_engine *
engine_ok(bool with_txn, const char *sql)
{
    wr_err err = {0};
    wr_engine *e = engine_with(with_txn, sql, &err);
    cr_assert_not_null(e, "%s", err.msg);
    return e;
}

/* Appends one record per comma-separated value of vals, {"V": value}, ids from *next_id, to
   topic-part. */
static void
append_vals_to(const char *topic, int32_t part, long *next_id, const char *vals)
{
    wr_partition *p;
    cr_assert_eq(wr_log_partition(db, topic, part, &p), WR_OK);
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
    for (const char *v = vals; *v;) {
        size_t n = strcspn(v, ",");
        char json[64];
        int len = snprintf(json, sizeof json, "{\"V\":\"%.*s\"}", (int)n, v);
        uint8_t key[8];
        wr_be64_put(key, (uint64_t)*next_id);
        wr_rbatch_builder_add(&bb, 1000 + *next_id, key, 8, json, len, NULL, 0);
        (*next_id)++;
        v += n + (v[n] == ',');
    }
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    wr_log_append_result res;
    cr_assert_eq(wr_rbatch_builder_finish(&bb, &out, &err), WR_OK);
    cr_assert_eq(wr_log_append(p, out.data, out.len, &res, &err), WR_OK, "%s", err.msg);
    wr_rbatch_builder_free(&bb);
    wr_buf_free(&out);
}

static void
append_vals(long *next_id, const char *vals)
{
    append_vals_to("input", 0, next_id, vals);
}

/* What a read_committed reader sees in topic, partition after partition: "key=value" per
   record, ' '-separated, keys of 8 bytes as numbers and other keys as text (static buffer).
   *n: how many records. */
static const char *
committed_records(const char *topic, int *n)
{
    static char out[8192];
    out[0] = 0;
    *n = 0;
    int32_t parts = wr_log_topic_partitions(db, topic);
    cr_assert_geq(parts, 1, "topic %s", topic);
    for (int32_t i = 0; i < parts; i++) {
        wr_partition *p;
        cr_assert_eq(wr_log_partition(db, topic, i, &p), WR_OK, "topic %s", topic);
        wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
        wr_log_read_result res;
        wr_err err = {0};
        cr_assert_eq(wr_log_read_committed(p, 0, 1 << 20, &data, &res, &err), WR_OK, "%s", err.msg);
        for (size_t off = 0; off < data.len;) {
            size_t size = wr_rbatch_size(data.data + off, data.len - off);
            wr_rbatch_iter it;
            cr_assert_eq(wr_rbatch_iter_init(&it, data.data + off, size, &scratch, 1 << 20, NULL),
                         WR_OK);
            wr_record rec;
            while (wr_rbatch_iter_next(&it, &rec, NULL) == 1) {
                cr_assert_not(it.hdr.attributes & WR_RBATCH_CONTROL, "a marker reached the reader");
                size_t len = strlen(out);
                if (rec.key_len == 8)
                    snprintf(out + len, sizeof out - len, "%s%lld=", len ? " " : "",
                             (long long)wr_be64_get(rec.key));
                else
                    snprintf(out + len, sizeof out - len, "%s%.*s=", len ? " " : "",
                             rec.key_len > 0 ? (int)rec.key_len : 0,
                             rec.key_len > 0 ? (const char *)rec.key : "");
                len = strlen(out);
                snprintf(out + len, sizeof out - len, "%.*s",
                         rec.value_len > 0 ? (int)rec.value_len : 0,
                         rec.value_len > 0 ? (const char *)rec.value : "");
                (*n)++;
            }
            off += size;
        }
        wr_buf_free(&data);
        wr_buf_free(&scratch);
    }
    return out;
}

static int
committed_count(const char *topic)
{
    int n;
    committed_records(topic, &n);
    return n;
}

/* Whether every stored batch of topic (markers included) is transactional, and there is one. */
static bool
all_transactional(const char *topic)
{
    bool all = true, any = false;
    for (int32_t i = 0; i < wr_log_topic_partitions(db, topic); i++) {
        wr_partition *p;
        cr_assert_eq(wr_log_partition(db, topic, i, &p), WR_OK);
        wr_buf data = WR_BUF_INIT;
        wr_log_read_result res;
        cr_assert_eq(wr_log_read(p, 0, 1 << 20, &data, &res, NULL), WR_OK);
        for (size_t off = 0; off < data.len;) {
            size_t size = wr_rbatch_size(data.data + off, data.len - off);
            wr_rbatch_hdr h;
            cr_assert_eq(wr_rbatch_parse_hdr(data.data + off, size, &h, NULL), WR_OK);
            all &= (h.attributes & WR_RBATCH_TRANSACTIONAL) != 0 && h.producer_id >= 0;
            any = true;
            off += size;
        }
        wr_buf_free(&data);
    }
    return all && any;
}

/* The committed offset of the query's consumer group for input-0 (-1: none). */
static int64_t
query_offset(const char *query_id)
{
    char g[128];
    snprintf(g, sizeof g, "_weir-weir-%s", query_id);
    uint8_t key[256];
    size_t kl = wr_group_offset_key(key, sizeof key, g, "input", 0);
    wr_buf v = WR_BUF_INIT;
    int64_t off = -1;
    if (wr_log_meta_get(db, WR_GROUP_OFFSETS_TABLE, key, kl, &v, NULL) == WR_OK && v.len >= 8)
        off = (int64_t)wr_be64_get(v.data);
    wr_buf_free(&v);
    return off;
}

static void
nap_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

/* The rows of a pull query (one JSON array a line, static buffer). */
static const char *
pull(wr_engine *e, const char *sql)
{
    static char out[4096];
    sink_log l = {.rows = WR_BUF_INIT};
    wr_push_sink s = {&l, log_row, log_ready, log_done};
    wr_push_info in = {.names = WR_BUF_INIT, .types = WR_BUF_INIT, .schema = WR_BUF_INIT};
    wr_err err = {0};
    cr_assert_eq(wr_engine_push_open(e, NULL, sql, strlen(sql), &s, &in, &err), WR_OK, "%s",
                 err.msg);
    cr_assert(in.pull);
    for (int i = 0; i < 100 && l.ndone == 0; i++) {
        int64_t n;
        cr_assert_eq(wr_engine_poll(e, &n, &err), WR_OK, "%s", err.msg);
    }
    cr_assert_eq(l.ndone, 1, "the pull query did not end");
    cr_assert_str_eq(l.why, "");
    snprintf(out, sizeof out, "%s", rows_text(&l));
    wr_buf_free(&l.rows);
    wr_buf_free(&in.names);
    wr_buf_free(&in.types);
    wr_buf_free(&in.schema);
    return out;
}

static const char CSAS_EOS[] =
    "SET 'auto.offset.reset' = 'earliest';"
    "CREATE STREAM INPUT (ID BIGINT KEY, V STRING) WITH (kafka_topic='input', value_format='JSON');"
    "CREATE STREAM OUTPUT AS SELECT ID, V FROM INPUT;";

Test(engine_guarantee, exactly_once_with_commit_interval_0_commits_every_run)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SET 'commit.interval.ms' = '0';%s", CSAS_EOS);
    wr_engine *e = engine_ok(true, sql);
    long id = 0;
    append_vals(&id, "a,b,c");
    cr_assert_eq(run(e), 3);
    int n;
    cr_assert_str_eq(committed_records("OUTPUT", &n),
                     "0={\"V\":\"a\"} 1={\"V\":\"b\"} 2={\"V\":\"c\"}");
    cr_assert(all_transactional("OUTPUT"), "exactly_once_v2 is the default with a coordinator");
    cr_assert_eq(query_offset("CSAS_OUTPUT_0"), 3, "the input offset committed with the outputs");
    append_vals(&id, "d");
    cr_assert_eq(run(e), 1);
    cr_assert_eq(committed_count("OUTPUT"), 4);
    cr_assert_eq(query_offset("CSAS_OUTPUT_0"), 4);
    wr_engine_destroy(e);
    /* a restart resumes from the committed offset: no duplicate */
    append_vals(&id, "e");
    e = engine_ok(true, sql);
    cr_assert_eq(run(e), 1);
    cr_assert_str_eq(committed_records("OUTPUT", &n), "0={\"V\":\"a\"} 1={\"V\":\"b\"} "
                                                      "2={\"V\":\"c\"} 3={\"V\":\"d\"} "
                                                      "4={\"V\":\"e\"}");
    wr_engine_destroy(e);
}

Test(engine_guarantee, a_long_commit_interval_holds_outputs_back_until_the_commit)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SET 'commit.interval.ms' = '1000';%s", CSAS_EOS);
    wr_engine *e = engine_ok(true, sql);
    long id = 0;
    append_vals(&id, "a,b");
    cr_assert_eq(run(e), 2);
    wr_partition *out;
    cr_assert_eq(wr_log_partition(db, "OUTPUT", 0, &out), WR_OK);
    cr_assert_eq(wr_log_end_offset(out), 2, "appended in the open transaction");
    cr_assert_eq(committed_count("OUTPUT"), 0, "not committed yet");
    cr_assert_eq(query_offset("CSAS_OUTPUT_0"), -1);
    append_vals(&id, "c");
    cr_assert_eq(run(e), 1, "the open transaction goes on");
    cr_assert_eq(committed_count("OUTPUT"), 0);
    nap_ms(1050);
    int64_t n;
    wr_err err = {0};
    cr_assert_eq(wr_engine_poll(e, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 0);
    cr_assert_eq(committed_count("OUTPUT"), 3, "a poll past the interval commits");
    cr_assert_eq(query_offset("CSAS_OUTPUT_0"), 3);
    /* the next transaction; destroying the engine commits it */
    append_vals(&id, "d");
    cr_assert_eq(run(e), 1);
    cr_assert_eq(committed_count("OUTPUT"), 3);
    wr_engine_destroy(e);
    int k;
    cr_assert_str_eq(committed_records("OUTPUT", &k),
                     "0={\"V\":\"a\"} 1={\"V\":\"b\"} 2={\"V\":\"c\"} 3={\"V\":\"d\"}");
    cr_assert_eq(query_offset("CSAS_OUTPUT_0"), 4);
    cr_assert_eq(wr_log_stable_offset(out), wr_log_end_offset(out), "nothing left open");
}

static const char CTAS_EOS[] =
    "SET 'auto.offset.reset' = 'earliest';"
    "CREATE STREAM INPUT (ID BIGINT KEY, V STRING) WITH (kafka_topic='input', value_format='JSON');"
    "CREATE TABLE COUNTS AS SELECT V, COUNT(*) AS N FROM INPUT GROUP BY V;";

Test(engine_guarantee, a_table_under_commit_interval_0)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SET 'commit.interval.ms' = '0';%s", CTAS_EOS);
    wr_engine *e = engine_ok(true, sql);
    long id = 0;
    append_vals(&id, "a,b,a");
    run(e);
    cr_assert_str_eq(pull(e, "SELECT * FROM COUNTS WHERE V = 'a';"), "[\"a\",2]\n");
    cr_assert_str_eq(pull(e, "SELECT * FROM COUNTS WHERE V = 'b';"), "[\"b\",1]\n");
    int n;
    const char *got = committed_records("COUNTS", &n);
    cr_assert(strstr(got, "a={\"N\":2}") != NULL, "%s", got);
    cr_assert(strstr(got, "b={\"N\":1}") != NULL, "%s", got);
    cr_assert(all_transactional("COUNTS"));
    wr_engine_destroy(e);
    /* a restart restores the counts and goes on from them */
    append_vals(&id, "a");
    e = engine_ok(true, sql);
    run(e);
    cr_assert_str_eq(pull(e, "SELECT * FROM COUNTS WHERE V = 'a';"), "[\"a\",3]\n");
    got = committed_records("COUNTS", &n);
    cr_assert(strstr(got, "a={\"N\":3}") != NULL, "%s", got);
    wr_engine_destroy(e);
}

static int64_t
now_ms(void)
{
    return wr_clock_mono_ns() / 1000000;
}

/* Polls (and pulls V = key) until the pull answers want, for at most 10 s. */
static void
poll_until_pulled(wr_engine *e, const char *key, const char *want)
{
    char q[128];
    snprintf(q, sizeof q, "SELECT * FROM COUNTS WHERE V = '%s';", key);
    const char *rows = "";
    for (int64_t end = now_ms() + 10000; now_ms() < end;) {
        run(e);
        if (strcmp(rows = pull(e, q), want) == 0)
            return;
        nap_ms(20);
    }
    cr_assert_fail("%s: the pull still answers %s, not %s", key, rows, want);
}

Test(engine_guarantee, a_table_under_a_long_interval_shows_new_counts_at_the_commit)
{
    const int interval = 1000;
    char sql[512];
    snprintf(sql, sizeof sql, "SET 'commit.interval.ms' = '%d';%s", interval, CTAS_EOS);
    wr_engine *e = engine_ok(true, sql);
    long id = 0;
    append_vals(&id, "a,b,a");
    poll_until_pulled(e, "a", "[\"a\",2]\n");
    /* new input: the counts move in the open transaction only */
    append_vals(&id, "a,a");
    int64_t t0 = now_ms();
    int before = committed_count("COUNTS");
    bool seen_open = false;
    const char *rows = "";
    for (int64_t end = t0 + 10000; now_ms() < end;) {
        run(e);
        rows = pull(e, "SELECT * FROM COUNTS WHERE V = 'a';");
        if (strcmp(rows, "[\"a\",4]\n") == 0) {
            cr_assert_gt(committed_count("COUNTS"), before,
                         "the state and outputs commit together");
            break;
        }
        cr_assert_str_eq(rows, "[\"a\",2]\n", "a pull sees committed counts only");
        cr_assert_eq(committed_count("COUNTS"), before,
                     "no output is visible before the state commits");
        wr_partition *rp;
        cr_assert_eq(wr_log_partition(db, "COUNTS", 0, &rp), WR_OK);
        seen_open |= wr_log_stable_offset(rp) < wr_log_end_offset(rp);
        nap_ms(20);
    }
    int64_t waited = now_ms() - t0;
    cr_assert_str_eq(rows, "[\"a\",4]\n", "not committed after %lld ms", (long long)waited);
    cr_assert(seen_open, "the new counts were in an open transaction for a while");
    cr_assert_geq(waited, interval, "committed after %lld ms, before the interval",
                  (long long)waited);
    /* destroying the engine commits what is open */
    append_vals(&id, "b");
    run(e);
    int n;
    cr_assert(strstr(committed_records("COUNTS", &n), "b={\"N\":2}") == NULL);
    wr_engine_destroy(e);
    const char *got = committed_records("COUNTS", &n);
    cr_assert(strstr(got, "b={\"N\":2}") != NULL, "committed by the destroy: %s", got);
    e = engine_ok(true, sql);
    poll_until_pulled(e, "b", "[\"b\",2]\n");
    cr_assert_str_eq(pull(e, "SELECT * FROM COUNTS WHERE V = 'a';"), "[\"a\",4]\n");
    wr_engine_destroy(e);
    /* every count once, in order */
    got = committed_records("COUNTS", &n);
    cr_assert_str_eq(got, "a={\"N\":1} b={\"N\":1} a={\"N\":2} a={\"N\":3} a={\"N\":4} b={\"N\":2}",
                     "%s", got);
}

/* Over two partitions the GROUP BY goes through a repartition topic: the repartition query's
   transaction commits first, then the aggregation reads its records (read_committed) in a
   transaction of its own, so new counts take two commit intervals to show. */
Test(engine_guarantee, a_grouping_through_a_repartition_topic_commits_twice)
{
    const int interval = 600;
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "input2", 2, NULL, &err), WR_OK, "%s", err.msg);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SET 'commit.interval.ms' = '%d'; SET 'auto.offset.reset' = 'earliest';"
             "CREATE STREAM INPUT (ID BIGINT KEY, V STRING) WITH (kafka_topic='input2', "
             "value_format='JSON');"
             "CREATE TABLE COUNTS AS SELECT V, COUNT(*) AS N FROM INPUT GROUP BY V;",
             interval);
    wr_engine *e = engine_ok(true, sql);
    long id = 0;
    append_vals_to("input2", 0, &id, "a,b");
    append_vals_to("input2", 1, &id, "a");
    int64_t t0 = now_ms();
    poll_until_pulled(e, "a", "[\"a\",2]\n");
    int64_t waited = now_ms() - t0;
    cr_assert_geq(waited, 2 * interval,
                  "counts after %lld ms: the aggregation read records of an "
                  "open repartition transaction",
                  (long long)waited);
    cr_assert_str_eq(pull(e, "SELECT * FROM COUNTS WHERE V = 'b';"), "[\"b\",1]\n");
    cr_assert(all_transactional("weir-CTAS_COUNTS_0-0-repartition"));
    cr_assert(all_transactional("COUNTS"));
    wr_engine_destroy(e);
    /* per key, the counts only go up (nothing was counted twice) and end at the final one */
    int n, last_a = 0, last_b = 0;
    const char *got = committed_records("COUNTS", &n);
    for (const char *r = got; *r;) {
        char k;
        int c, used;
        cr_assert_eq(sscanf(r, "%c={\"N\":%d}%n", &k, &c, &used), 2, "%s", got);
        int *last = k == 'a' ? &last_a : &last_b;
        cr_assert_gt(c, *last, "%s", got);
        *last = c;
        r += used + (r[used] == ' ');
    }
    cr_assert_eq(last_a, 2, "%s", got);
    cr_assert_eq(last_b, 1, "%s", got);
    committed_records("weir-CTAS_COUNTS_0-0-repartition", &n);
    cr_assert_eq(n, 3, "every input record repartitioned once");
}

Test(engine_guarantee, a_bad_guarantee_is_refused_with_a_clear_message)
{
    wr_err err = {0};
    char sql[512];
    snprintf(sql, sizeof sql, "SET 'processing.guarantee' = 'bogus';%s", CSAS_EOS);
    cr_assert_null(engine_with(true, sql, &err));
    cr_assert_eq(err.code, WR_EINVAL, "%d %s", err.code, err.msg);
    cr_assert(strstr(err.msg, "processing.guarantee 'bogus' is not one of at_least_once, "
                              "exactly_once_v2") != NULL,
              "%s", err.msg);
    snprintf(sql, sizeof sql, "SET 'commit.interval.ms' = 'soon';%s", CSAS_EOS);
    cr_assert_null(engine_with(true, sql, &err));
    cr_assert(strstr(err.msg, "commit.interval.ms 'soon'") != NULL, "%s", err.msg);
    /* the failing statement leaves no query and no stream behind */
    wr_engine *e = engine_ok(true, SRC);
    const char *bad = "SET 'processing.guarantee' = 'exactly_once_v3';"
                      "CREATE STREAM OUTPUT AS SELECT ID, V FROM INPUT;";
    cr_assert_eq(wr_engine_execute(e, NULL, bad, strlen(bad), NULL, &err), WR_EINVAL);
    cr_assert(strstr(err.msg, "'exactly_once_v3'") != NULL, "%s", err.msg);
    wr_buf out = WR_BUF_INIT;
    const char *show = "SHOW STREAMS; SHOW QUERIES;";
    cr_assert_eq(wr_engine_execute(e, NULL, show, strlen(show), &out, &err), WR_OK, "%s", err.msg);
    wr_buf_put_u8(&out, 0);
    cr_assert(strstr((char *)out.data, "OUTPUT") == NULL, "%s", (char *)out.data);
    wr_buf_free(&out);
    wr_engine_destroy(e);
}

Test(engine_guarantee, exactly_once_without_a_coordinator_is_refused)
{
    const char *names[] = {"processing.guarantee", "ksql.streams.processing.guarantee"};
    for (int i = 0; i < 2; i++) {
        wr_err err = {0};
        char sql[512];
        snprintf(sql, sizeof sql, "SET '%s' = 'exactly_once_v2';%s", names[i], CSAS_EOS);
        cr_assert_null(engine_with(false, sql, &err));
        cr_assert_eq(err.code, WR_EUNSUPP, "%d %s", err.code, err.msg);
        cr_assert(strstr(err.msg, "exactly_once_v2 needs the log's transaction coordinator") !=
                      NULL,
                  "%s", err.msg);
    }
    /* without a coordinator, the default is at_least_once */
    wr_engine *e = engine_ok(false, CSAS_EOS);
    long id = 0;
    append_vals(&id, "a");
    cr_assert_eq(run(e), 1);
    cr_assert_eq(committed_count("OUTPUT"), 1);
    cr_assert_not(all_transactional("OUTPUT"));
    wr_engine_destroy(e);
}

Test(engine_guarantee, at_least_once_still_works_with_a_coordinator)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SET 'processing.guarantee' = 'at_least_once';%s%s", CSAS_EOS,
             "CREATE TABLE COUNTS AS SELECT V, COUNT(*) AS N FROM INPUT GROUP BY V;");
    wr_engine *e = engine_ok(true, sql);
    long id = 0;
    append_vals(&id, "a,b,a");
    run(e);
    cr_assert_eq(committed_count("OUTPUT"), 3, "visible at once");
    cr_assert_not(all_transactional("OUTPUT"), "plain appends");
    cr_assert_eq(query_offset("CSAS_OUTPUT_0"), 3);
    cr_assert_str_eq(pull(e, "SELECT * FROM COUNTS WHERE V = 'a';"), "[\"a\",2]\n");
    wr_engine_destroy(e);
    append_vals(&id, "a");
    e = engine_ok(true, sql);
    run(e);
    cr_assert_eq(committed_count("OUTPUT"), 4);
    cr_assert_str_eq(pull(e, "SELECT * FROM COUNTS WHERE V = 'a';"), "[\"a\",3]\n");
    wr_engine_destroy(e);
}

/* A commit whose markers cannot be written fails the poll. Its PrepareCommit was durable, so the
   coordinator completes it as a commit at the producer's reopen: the task must not redo that
   work (its rollback to the transaction's start is undone by the completed commit). Once the
   coordinator works again the outputs come out exactly once. */
static int markers_refused;
static bool markers_fail;

static bool
refuse_markers(void *arg, const char *topic, int32_t p)
{
    (void)arg;
    (void)topic;
    (void)p;
    if (markers_fail)
        markers_refused++;
    return !markers_fail;
}

static void
a_failed_commit(const char *sql, const char *out_topic, const char *want)
{
    wr_engine *e = engine_ok(true, sql);
    long id = 0;
    append_vals(&id, "a,b,a");
    wr_txn_coord_set_marker_hook(coord, refuse_markers, NULL);
    markers_fail = true;
    wr_err err = {0};
    int rc = WR_OK;
    for (int i = 0; i < 20 && rc == WR_OK; i++) {
        int64_t n;
        rc = wr_engine_poll(e, &n, &err);
    }
    cr_assert_neq(rc, WR_OK, "the failed commit fails the poll");
    cr_assert_gt(markers_refused, 0);
    cr_assert_eq(committed_count(out_topic), 0);
    /* the coordinator recovers: the lost transaction is finished as it was decided (the
       commit), and the task goes on from there */
    markers_fail = false;
    for (int i = 0; i < 50; i++) {
        int64_t n;
        wr_err perr = {0};
        cr_assert_eq(wr_engine_poll(e, &n, &perr), WR_OK, "poll %d: %s", i, perr.msg);
    }
    int n;
    const char *got = committed_records(out_topic, &n);
    cr_assert_str_eq(got, want, "every output exactly once: got %s", got);
    wr_engine_destroy(e);
    got = committed_records(out_topic, &n);
    cr_assert_str_eq(got, want, "and nothing more at the end");
    wr_txn_coord_set_marker_hook(coord, NULL, NULL);
}

Test(engine_guarantee, a_failed_commit_of_a_stream_is_redone_exactly_once)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SET 'commit.interval.ms' = '0';%s", CSAS_EOS);
    a_failed_commit(sql, "OUTPUT", "0={\"V\":\"a\"} 1={\"V\":\"b\"} 2={\"V\":\"a\"}");
    cr_assert_eq(query_offset("CSAS_OUTPUT_0"), 3);
}

Test(engine_guarantee, a_failed_commit_of_a_table_is_redone_exactly_once)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SET 'commit.interval.ms' = '0';%s", CTAS_EOS);
    a_failed_commit(sql, "COUNTS", "a={\"N\":1} b={\"N\":1} a={\"N\":2}");
}

/* The same query started by a second engine (a task moved elsewhere) fences the first: its next
   transaction fails, and whichever engine goes on, every input record comes out once. */
Test(engine_guarantee, a_second_engine_running_the_query_fences_the_first)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SET 'commit.interval.ms' = '0';%s", CSAS_EOS);
    wr_engine *a = engine_ok(true, sql);
    long id = 0;
    append_vals(&id, "a1");
    cr_assert_eq(run(a), 1);
    wr_engine *b = engine_ok(true, sql);
    append_vals(&id, "b1");
    cr_assert_eq(run(b), 1, "b starts from what a committed");
    append_vals(&id, "x1");
    int64_t n;
    wr_err err = {0};
    cr_assert_neq(wr_engine_poll(a, &n, &err), WR_OK, "a was fenced");
    cr_assert_eq(run(b), 1);
    /* both go on polling, in turns, as two workers would */
    append_vals(&id, "x2,x3");
    for (int i = 0; i < 10; i++) {
        wr_err e1 = {0}, e2 = {0};
        (void)wr_engine_poll(a, &n, &e1);
        (void)wr_engine_poll(b, &n, &e2);
        if (i == 4)
            append_vals(&id, "x4");
    }
    wr_engine_destroy(a);
    wr_engine_destroy(b);
    int k;
    const char *got = committed_records("OUTPUT", &k);
    cr_assert_str_eq(got,
                     "0={\"V\":\"a1\"} 1={\"V\":\"b1\"} 2={\"V\":\"x1\"} 3={\"V\":\"x2\"} "
                     "4={\"V\":\"x3\"} 5={\"V\":\"x4\"}",
                     "every record once: %s", got);
}

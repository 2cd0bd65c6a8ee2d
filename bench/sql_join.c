/*
 * sql_join.c - joins over RocksDB state stores: a stream-table join of a large stream against a
 * large table, and a windowed stream-stream join.
 *
 *   build/bench/sql_join [STREAM_RECORDS] [TABLE_ROWS] [SS_RECORDS] [DIR]
 *
 * Defaults: 10,000,000 stream records against a 1,000,000-row table; 1,000,000 records on each
 * side of the stream-stream join. One thread, a fresh directory under DIR (default /tmp), the
 * engine `weir server` runs with the server's default state settings (64 MiB block cache,
 * 64 MiB of memtables):
 *   limit:        read and decode the stream's values without a query;
 *   stream-table: CLICKS (keyed by user) LEFT JOIN USERS ON the key: the table is read first
 *                 (its records are older), then each click looks its user up;
 *   stream-stream: L JOIN R WITHIN 1 SECOND on the key, 100,000 keys, one record a millisecond
 *                 on each side: every record is buffered, and each L record meets one R record.
 * Prints records/s (one thread: per core), the ratio to the limit and the peak RSS after each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "runtime/engine.h"
#include "runtime/types.h"
#include "src/base/logging.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"
#include "state/store.h"
#include "udf/fn.h"

static long table_rows = 1000000;
#define T0 1700000000000L

static int
user_row(char *buf, size_t cap, long i, int64_t *key, int64_t *ts)
{
    *key = i;
    *ts = T0;
    return snprintf(buf, cap, "{\"REGION\":\"region-%03ld\",\"SCORE\":%ld}", i % 200, i % 1000);
}

static int
click(char *buf, size_t cap, long i, int64_t *key, int64_t *ts)
{
    *key = (i * 7919) % table_rows;
    *ts = T0 + 1 + i;
    return snprintf(buf, cap, "{\"N\":%ld,\"PAGE\":\"/page/%ld\"}", i % 10, i % 5000);
}

static int
left_rec(char *buf, size_t cap, long i, int64_t *key, int64_t *ts)
{
    *key = i % 100000;
    *ts = T0 + i;
    return snprintf(buf, cap, "{\"A\":\"left-%ld\"}", i);
}

static int
right_rec(char *buf, size_t cap, long i, int64_t *key, int64_t *ts)
{
    *key = i % 100000;
    *ts = T0 + i + 1;
    return snprintf(buf, cap, "{\"B\":\"right-%ld\"}", i);
}

int
main(int argc, char **argv)
{
    long stream_n = argc > 1 ? atol(argv[1]) : 10000000;
    table_rows = argc > 2 ? atol(argv[2]) : 1000000;
    long ss_n = argc > 3 ? atol(argv[3]) : 1000000;
    const char *base = argc > 4 ? argv[4] : "/tmp";
    char dir[512], statedir[600];
    wr_logdb *db = bench_open_log(base, "join", dir, sizeof dir);
    snprintf(statedir, sizeof statedir, "%s/state", dir);
    wr_state *state = bench_open_state(statedir, "state");
    wr_err err = {0};
    printf("sql_join: in %s; loading %ld clicks, %ld users, 2 x %ld stream-stream records\n", dir,
           stream_n, table_rows, ss_n);
    fflush(stdout);
    bench_load(db, "users", table_rows, user_row);
    bench_load(db, "clicks", stream_n, click);
    bench_load(db, "l", ss_n, left_rec);
    bench_load(db, "r", ss_n, right_rec);
    static const char *names[] = {"N", "PAGE"};
    const wr_sql_type *types[] = {wr_type_of(WR_T_INT), wr_type_of(WR_T_STRING)};
    wr_fmt f = {.kind = WR_FMT_JSON, .ncols = 2, .names = names, .types = types};
    wr_partition *cp;
    wr_log_partition(db, "clicks", 0, &cp);
    double limit = bench_decode_rate(cp, &f);

    wr_fn_registry *fns;
    wr_session *ss;
    wr_engine *e = bench_engine(db, state, &fns, &ss);
    wr_buf out = WR_BUF_INIT;
    static const char st_sql[] =
        "CREATE TABLE USERS (ID BIGINT PRIMARY KEY, REGION STRING, SCORE INT)"
        " WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');"
        "CREATE STREAM CLICKS (USER BIGINT KEY, N INT, PAGE STRING)"
        " WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');"
        "CREATE STREAM ENRICHED AS SELECT CLICKS.USER, N, PAGE, REGION, SCORE"
        " FROM CLICKS LEFT JOIN USERS ON CLICKS.USER = USERS.ID;";
    if (wr_engine_execute(e, ss, st_sql, strlen(st_sql), &out, &err) != WR_OK)
        bench_die("stream-table statements", &err);
    long st_consumed;
    double st_rate = bench_run_engine(e, &st_consumed);
    double st_rss = bench_peak_rss_mb();
    static const char ss_sql[] =
        "TERMINATE ALL;"
        "CREATE STREAM L (ID BIGINT KEY, A STRING) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON');"
        "CREATE STREAM R (ID BIGINT KEY, B STRING) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON');"
        "CREATE STREAM LR AS SELECT L.ID, A, B FROM L JOIN R WITHIN 1 SECOND ON L.ID = R.ID;";
    if (wr_engine_execute(e, ss, ss_sql, strlen(ss_sql), &out, &err) != WR_OK)
        bench_die("stream-stream statements", &err);
    long ss_consumed;
    double ss_rate = bench_run_engine(e, &ss_consumed);
    double ss_rss = bench_peak_rss_mb();
    wr_partition *op;
    int64_t st_out = wr_log_partition(db, "ENRICHED", 0, &op) == WR_OK ? wr_log_end_offset(op) : 0;
    int64_t ss_out = wr_log_partition(db, "LR", 0, &op) == WR_OK ? wr_log_end_offset(op) : 0;
    wr_session_destroy(ss);
    wr_engine_destroy(e);
    wr_fn_registry_destroy(fns);
    wr_state_close(state);

    printf("step                                               records/s   vs limit   peak RSS\n");
    printf("read + decode the clicks (limit)                  %10.0f       1.00\n", limit);
    printf("stream-table LEFT JOIN, %8ld x %7ld rows   %10.0f       %.2f   %5.0f MB\n", stream_n,
           table_rows, st_rate, st_rate / limit, st_rss);
    printf("stream-stream JOIN WITHIN 1 SECOND, 2 x %7ld   %10.0f       %.2f   %5.0f MB\n", ss_n,
           ss_rate, ss_rate / limit, ss_rss);
    printf("(the queries read %ld and %ld records and wrote %lld and %lld)\n", st_consumed,
           ss_consumed, (long long)st_out, (long long)ss_out);
    wr_buf_free(&out);
    wr_log_close(db);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 && st_out == stream_n ? 0 : 1;
}

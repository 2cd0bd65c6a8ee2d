/*
 * sql_stateless.c - throughput of a stateless continuous query (filter + projection) over JSON
 * records, against the limit of reading and decoding the same batches without a query.
 *
 *   build/bench/sql_stateless [RECORDS] [DIR]
 *
 * RECORDS (default 500,000) JSON values of about 200 bytes are appended to a one-partition
 * topic in a fresh log under DIR (default /tmp), in zstd batches of 500, keyed by an 8-byte id.
 * Then, on one thread:
 *   decode: read every batch, decompress and decode every value (all 8 columns): the limit;
 *   query:  CREATE STREAM ... ; CREATE STREAM OUT AS SELECT id, a few columns and expressions
 *           FROM it WHERE a predicate passing about half: from the query's first poll to its
 *           last output appended (the output goes to the same log, uncompressed).
 * Prints records/s for both and their ratio. One core: records/s is records/s per core.
 *
 * Then the UDF call overhead: the same records through a projection of eight calls of the
 * built-in ABS, of a trivial UDF (tests/udf/libs.c, TRIVIAL) in the vector form (MY_ABS), and in
 * the row form (MY_ABS_ROW), loaded from UDF_LIB (default: the build tree's udf_trivial.so):
 *
 *   build/bench/sql_stateless [RECORDS] [DIR] [UDF_LIB]
 *
 * Then the processing guarantees: the same CSAS under SET 'processing.guarantee' =
 * 'at_least_once' (every poll's run appends its outputs and commits its input offset) and
 * 'exactly_once_v2' (a transaction of the task's in-process producer committed every
 * commit.interval.ms, 100 ms, through the log's transaction coordinator), each in an engine of
 * its own that has the coordinator, as `weir server`'s does:
 *   throughput: over the RECORDS already loaded, from the first poll until the last output is
 *           visible to read_committed readers (for exactly_once_v2 that includes the wait for
 *           its last commit); GUARANTEE_ROUNDS (environment, default 2) rounds, in the order
 *           A B, B A, ..., the mean of each;
 *   latency: a fresh input topic fed by a producer thread at E2E_RATE records/s (default
 *           20,000, in batches appended on every millisecond, each record stamped with the
 *           wall clock at its append) for E2E_SECONDS (default 5), while this thread polls the
 *           engine as the server's SQL worker does (at once after a poll that found records,
 *           else after 1, 2, 4 ... 64 ms) and, after every poll, reads the output as a
 *           read_committed consumer: p50, p99 and max of (wall clock when an output becomes
 *           visible - its ROWTIME, which is its input's). bench/bench.h (bench_e2e_run) has the
 *           details.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "runtime/engine.h"
#include "runtime/format.h"
#include "runtime/types.h"
#include "src/base/logging.h"
#include "src/coord/txn.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"
#include "udf/fn.h"
#include "udf/loader.h"

static const char *STATUS[] = {"NEW", "PAID", "SHIPPED", "DELIVERED"};

static size_t order_bytes; /* the values' bytes, for their average */

static int
order(char *buf, size_t cap, long i, int64_t *key, int64_t *ts)
{
    *key = i;
    *ts = 1700000000000L + i;
    int n = snprintf(buf, cap,
                     "{\"ORDER_ID\":%ld,\"CUSTOMER\":\"customer-%05ld\",\"AMOUNT\":%ld.%02ld,"
                     "\"QTY\":%ld,\"STATUS\":\"%s\",\"CITY\":\"city-%03ld\",\"TS\":%ld,"
                     "\"NOTE\":\"a note of some length for record %ld, padded\"}",
                     i, i % 50000, i % 1000, i % 100, i % 20, STATUS[i % 4], i % 500, *ts, i);
    order_bytes += (size_t)n;
    return n;
}

/* ---- processing guarantees ------------------------------------------------------------- */

typedef struct gquery {
    wr_fn_registry *fns;
    wr_session *ss;
    wr_engine *e;
} gquery;

/* bench_gq's open: an engine with the coordinator txn whose session runs queries under
   guarantee g, with the stream SRC over topic and the CSAS into sink. */
static wr_engine *
gquery_open(void *arg, wr_txn_coord *txn, int g, const char *topic, const char *sink, void **h)
{
    wr_logdb *db = arg;
    wr_err err = {0};
    gquery *q = calloc(1, sizeof *q);
    if (q == NULL)
        bench_die("a guarantee's query", NULL);
    q->e = bench_engine_txn(db, NULL, txn, &q->fns, &q->ss);
    wr_session_set(q->ss, "processing.guarantee", BENCH_GUARANTEE[g]);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE STREAM SRC (ID BIGINT KEY, ORDER_ID BIGINT, CUSTOMER STRING, AMOUNT DOUBLE,"
             " QTY INT, STATUS STRING, CITY STRING, TS BIGINT, NOTE STRING)"
             " WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='JSON');"
             "CREATE STREAM %s AS SELECT ID, CUSTOMER, AMOUNT * QTY AS TOTAL,"
             " UCASE(STATUS) AS STATUS FROM SRC WHERE QTY >= 10 AND STATUS <> 'NEW';",
             topic, sink);
    wr_buf out = WR_BUF_INIT;
    if (wr_engine_execute(q->e, q->ss, sql, strlen(sql), &out, &err) != WR_OK)
        bench_die("a guarantee's statements", &err);
    wr_buf_free(&out);
    *h = q;
    return q->e;
}

static void
gquery_close(void *h)
{
    gquery *q = h;
    wr_session_destroy(q->ss);
    wr_engine_destroy(q->e);
    wr_fn_registry_destroy(q->fns);
    free(q);
}

int
main(int argc, char **argv)
{
    long records = argc > 1 ? atol(argv[1]) : 500000;
    const char *base = argc > 2 ? argv[2] : "/tmp";
    char dir[512];
    wr_logdb *db = bench_open_log(base, "sql", dir, sizeof dir);
    wr_err err = {0};
    bench_load(db, "orders", records, order);
    wr_partition *p;
    wr_log_partition(db, "orders", 0, &p);
    printf("sql_stateless: %ld JSON records, %.0f B average value, zstd batches of 500, in %s\n",
           records, (double)order_bytes / (double)records, dir);

    /* the limit: read + decompress + decode every value */
    static const char *names[] = {"ORDER_ID", "CUSTOMER", "AMOUNT", "QTY",
                                  "STATUS",   "CITY",     "TS",     "NOTE"};
    const wr_sql_type *types[] = {wr_type_of(WR_T_BIGINT), wr_type_of(WR_T_STRING),
                                  wr_type_of(WR_T_DOUBLE), wr_type_of(WR_T_INT),
                                  wr_type_of(WR_T_STRING), wr_type_of(WR_T_STRING),
                                  wr_type_of(WR_T_BIGINT), wr_type_of(WR_T_STRING)};
    wr_fmt f = {
        .kind = WR_FMT_JSON, .ncols = 8, .names = names, .types = types, .wrap_single = true};
    double decode_rate = bench_decode_rate(p, &f);

    /* the query */
    wr_fn_registry *fns;
    wr_session *ss;
    wr_engine *e = bench_engine(db, NULL, &fns, &ss);
    static const char sql[] =
        "CREATE STREAM ORDERS (ID BIGINT KEY, ORDER_ID BIGINT, CUSTOMER STRING, AMOUNT DOUBLE,"
        " QTY INT, STATUS STRING, CITY STRING, TS BIGINT, NOTE STRING)"
        " WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');"
        "CREATE STREAM BIG AS SELECT ID, CUSTOMER, AMOUNT * QTY AS TOTAL, UCASE(STATUS) AS STATUS"
        " FROM ORDERS WHERE QTY >= 10 AND STATUS <> 'NEW';";
    wr_buf out = WR_BUF_INIT;
    if (wr_engine_execute(e, ss, sql, strlen(sql), &out, &err) != WR_OK)
        bench_die("statements", &err);
    long consumed;
    double query_rate = bench_run_engine(e, &consumed);
    /* the UDF call overhead: 8 calls a record of ABS, MY_ABS, MY_ABS_ROW */
    const char *udf_lib = argc > 3 ? argv[3] : WR_BENCH_UDF_LIB;
    char libdir[4096];
    snprintf(libdir, sizeof libdir, "%s", udf_lib);
    char *slash = strrchr(libdir, '/');
    if (slash != NULL)
        *slash = 0;
    const char *allow[] = {libdir};
    wr_udf_loader *udfs = wr_udf_loader_create(fns, allow, 1);
    if (udfs == NULL || wr_udf_load(udfs, udf_lib, NULL, &err) != WR_OK)
        bench_die("the UDF library", &err);
    static const char *const fnames[] = {"ABS", "MY_ABS", "MY_ABS_ROW"};
    double fn_rate[3];
    for (int k = 0; k < 3; k++) {
        char q[1024];
        int n = snprintf(q, sizeof q, "TERMINATE ALL; CREATE STREAM F%d AS SELECT ID", k);
        for (int c = 0; c < 8; c++)
            n += snprintf(q + n, sizeof q - (size_t)n, ", %s(ORDER_ID + %d) AS C%d", fnames[k], c,
                          c);
        snprintf(q + n, sizeof q - (size_t)n, " FROM ORDERS;");
        if (wr_engine_execute(e, ss, q, strlen(q), &out, &err) != WR_OK)
            bench_die("a function query", &err);
        long fn_consumed;
        fn_rate[k] = bench_run_engine(e, &fn_consumed);
    }
    wr_partition *op;
    wr_log_partition(db, "BIG", 0, &op);
    long produced = (long)wr_log_end_offset(op);

    printf("run                                        records/s   vs limit\n");
    printf("read + decode all 8 columns (the limit)   %10.0f      1.00\n", decode_rate);
    printf("CSAS filter + projection, end to end      %10.0f      %.2f\n", query_rate,
           query_rate / decode_rate);
    printf("(the query read %ld records and wrote %ld)\n", consumed, produced);
    printf("\n8 calls a record                            records/s   vs built-in\n");
    printf("built-in ABS(ORDER_ID + c)                %10.0f      1.00\n", fn_rate[0]);
    printf("UDF MY_ABS, vector form                   %10.0f      %.2f\n", fn_rate[1],
           fn_rate[1] / fn_rate[0]);
    printf("UDF MY_ABS_ROW, row form                  %10.0f      %.2f\n", fn_rate[2],
           fn_rate[2] / fn_rate[0]);

    fflush(stdout);
    wr_buf_free(&out);
    wr_session_destroy(ss);
    wr_engine_destroy(e);
    wr_udf_loader_destroy(udfs);
    wr_fn_registry_destroy(fns);
    /* the CSAS under each guarantee: throughput over orders, then the end-to-end latency */
    struct bench_gq gq = {"sql_stateless",
                          "CSAS filter + projection",
                          "orders",
                          "BIG",
                          order,
                          2,
                          gquery_open,
                          gquery_close,
                          db};
    bench_guarantees(db, records, &gq);
    wr_log_close(db);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

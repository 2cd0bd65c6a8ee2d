/*
 * sql_stateful.c - stateful queries over RocksDB state stores: a GROUP BY over distinct keys, a
 * tumbling-window count, and the restore of a large store from its changelog.
 *
 *   build/bench/sql_stateful [GROUP_RECORDS] [WINDOW_RECORDS] [RESTORE_MB] [DIR]
 *
 * Defaults: 1,000,000 records with as many distinct keys; 10,000,000 records in 1,000 groups
 * with one-minute windows; a 1024 MB store. Everything runs on one thread in a fresh directory
 * under DIR (default /tmp), against the same engine `weir server` runs, with the server's
 * default state settings (64 MiB block cache, 64 MiB of memtables):
 *   limit:    read and decode the GROUP BY input without a query (as bench/sql_stateless);
 *   group by: CREATE TABLE ... AS SELECT K, COUNT(*), SUM(V) ... GROUP BY K, first poll to
 *             the last output appended; each record reads and writes its group's row;
 *   tumbling: CREATE TABLE ... WINDOW TUMBLING (SIZE 1 MINUTE) ... COUNT(*) over the 10M;
 *   restore:  a store written through transactions until its changelog holds RESTORE_MB
 *             (1 KB values), the state directory deleted, the store restored from the changelog.
 * Prints records/s (one core: records/s per core), the ratio to the limit, the process's peak
 * RSS after each step, the RocksDB bytes on disk, and the restore rate in records/s and MB/s.
 *
 * Then the processing guarantees: the same GROUP BY under SET 'processing.guarantee' =
 * 'at_least_once' (every poll's run commits its state, then its input offset) and
 * 'exactly_once_v2' (a transaction of the task's in-process producer holds the outputs and the
 * changelog records, committed every commit.interval.ms, 100 ms, through the log's transaction
 * coordinator, and only then the state in RocksDB), each in an engine of its own that has the
 * coordinator, as `weir server`'s does, with state stores of its own in a fresh directory:
 *   throughput: over the GROUP_RECORDS already loaded, from the first poll until the last
 *           output is visible to read_committed readers (for exactly_once_v2 that includes the
 *           wait for its last commit); GUARANTEE_ROUNDS (environment, default 1) rounds, in
 *           the order A B, B A, ..., the mean of each;
 *   latency: a fresh input topic (distinct keys, so every input record makes one output row)
 *           fed by a producer thread at E2E_RATE records/s (default 20,000, in batches appended
 *           on every millisecond, each record stamped with the wall clock at its append) for
 *           E2E_SECONDS (default 5), while this thread polls the engine as the server's SQL
 *           worker does (at once after a poll that found records, else after 1, 2, 4 ... 64 ms)
 *           and, after every poll, reads the output as a read_committed consumer: p50, p99 and
 *           max of (wall clock when an output row becomes visible - its ROWTIME, its latest
 *           input's). bench/bench.h (bench_e2e_run) has the details.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
#include "state/store.h"
#include "udf/fn.h"

#define MIB (1024.0 * 1024.0)

/* Bytes of the files under path (recursively). */
static double
disk_bytes(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        total += S_ISDIR(st.st_mode) ? disk_bytes(p) : (double)st.st_size;
    }
    closedir(d);
    return total;
}

static int
group_record(char *buf, size_t cap, long i, int64_t *key, int64_t *ts)
{
    *key = i;
    *ts = 1700000000000L + i;
    return snprintf(buf, cap, "{\"K\":\"key-%08ld\",\"V\":%ld,\"NOTE\":\"some payload %ld\"}",
                    (i * 7919) % 100000000, i % 1000, i);
}

static int
window_record(char *buf, size_t cap, long i, int64_t *key, int64_t *ts)
{
    *key = i;
    *ts = 1700000000000L + i; /* one record a millisecond: 60,000 a window */
    return snprintf(buf, cap, "{\"G\":\"g-%04ld\",\"V\":%ld}", (i * 31) % 1000, i % 100);
}

/* The limit: read, decompress and decode every value of topic. */
static double
decode_rate(wr_logdb *db, const char *topic)
{
    static const char *names[] = {"K", "V", "NOTE"};
    const wr_sql_type *types[] = {wr_type_of(WR_T_STRING), wr_type_of(WR_T_INT),
                                  wr_type_of(WR_T_STRING)};
    wr_fmt f = {
        .kind = WR_FMT_JSON, .ncols = 3, .names = names, .types = types, .wrap_single = true};
    wr_partition *p;
    wr_log_partition(db, topic, 0, &p);
    return bench_decode_rate(p, &f);
}

/* ---- processing guarantees ------------------------------------------------------------- */

typedef struct gquery {
    const char *dir;
    wr_logdb *db;
    wr_state *state;
    wr_fn_registry *fns;
    wr_session *ss;
    wr_engine *e;
} gquery;

/* bench_gq's open (arg: a gquery with dir and db): fresh state stores under dir/state-<sink>,
   and an engine with the coordinator txn whose session runs queries under guarantee g, with
   the stream SRC over topic and the GROUP BY into the table sink. */
static wr_engine *
gquery_open(void *arg, wr_txn_coord *txn, int g, const char *topic, const char *sink, void **h)
{
    const gquery *where = arg;
    wr_err err = {0};
    gquery *q = calloc(1, sizeof *q);
    if (q == NULL)
        bench_die("a guarantee's query", NULL);
    char statedir[700];
    snprintf(statedir, sizeof statedir, "%s/state-%s", where->dir, sink);
    q->state = bench_open_state(statedir, "a guarantee's state");
    q->e = bench_engine_txn(where->db, q->state, txn, &q->fns, &q->ss);
    wr_session_set(q->ss, "processing.guarantee", BENCH_GUARANTEE[g]);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE STREAM SRC (ID BIGINT KEY, K STRING, V INT, NOTE STRING)"
             " WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='JSON');"
             "CREATE TABLE %s AS SELECT K, COUNT(*) AS N, SUM(V) AS S FROM SRC GROUP BY K;",
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
    wr_state_close(q->state);
    free(q);
}

int
main(int argc, char **argv)
{
    long group_n = argc > 1 ? atol(argv[1]) : 1000000;
    long window_n = argc > 2 ? atol(argv[2]) : 10000000;
    long restore_mb = argc > 3 ? atol(argv[3]) : 1024;
    const char *base = argc > 4 ? argv[4] : "/tmp";
    char dir[512], statedir[600];
    wr_logdb *db = bench_open_log(base, "stateful", dir, sizeof dir);
    snprintf(statedir, sizeof statedir, "%s/state", dir);
    wr_state *state = bench_open_state(statedir, "state");
    wr_err err = {0};
    printf("sql_stateful: in %s; loading %ld + %ld records\n", dir, group_n, window_n);
    fflush(stdout);
    bench_load(db, "events", group_n, group_record);
    bench_load(db, "ticks", window_n, window_record);
    double limit = decode_rate(db, "events");

    wr_fn_registry *fns;
    wr_session *ss;
    wr_engine *e = bench_engine(db, state, &fns, &ss);
    wr_buf out = WR_BUF_INIT;
    static const char group_sql[] =
        "CREATE STREAM EVENTS (ID BIGINT KEY, K STRING, V INT, NOTE STRING)"
        " WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');"
        "CREATE TABLE BYKEY AS SELECT K, COUNT(*) AS N, SUM(V) AS S FROM EVENTS GROUP BY K;";
    if (wr_engine_execute(e, ss, group_sql, strlen(group_sql), &out, &err) != WR_OK)
        bench_die("group statements", &err);
    long consumed;
    double group_rate = bench_run_engine(e, &consumed);
    double group_rss = bench_peak_rss_mb(), group_disk = disk_bytes(statedir);
    static const char window_sql[] = "TERMINATE ALL;"
                                     "CREATE STREAM TICKS (ID BIGINT KEY, G STRING, V INT)"
                                     " WITH (KAFKA_TOPIC='ticks', VALUE_FORMAT='JSON');"
                                     "CREATE TABLE PERMINUTE AS SELECT G, COUNT(*) AS N FROM TICKS"
                                     " WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY G;";
    if (wr_engine_execute(e, ss, window_sql, strlen(window_sql), &out, &err) != WR_OK)
        bench_die("window statements", &err);
    long wconsumed;
    double window_rate = bench_run_engine(e, &wconsumed);
    double window_rss = bench_peak_rss_mb(), window_disk = disk_bytes(statedir);
    wr_session_destroy(ss);
    wr_engine_destroy(e);
    wr_fn_registry_destroy(fns);

    /* restore: a store with a changelog of restore_mb, rebuilt from nothing */
    if (wr_log_topic_create(db, "big-changelog", 1, NULL, &err) != WR_OK)
        bench_die("changelog", &err);
    wr_partition *cl;
    wr_log_partition(db, "big-changelog", 0, &cl);
    wr_store *st;
    if (wr_store_open(state, "bench#big#0", cl, &st, &err) != WR_OK)
        bench_die("store", &err);
    char value[1024];
    memset(value, 'x', sizeof value);
    long written = 0;
    double target = (double)restore_mb * MIB, t0 = bench_now();
    while ((double)written * (sizeof value + 16) < target) {
        wr_state_txn *t = wr_state_txn_begin(state);
        for (int i = 0; i < 1000; i++, written++) {
            char k[32];
            int kl = snprintf(k, sizeof k, "row-%012ld", written);
            snprintf(value, 32, "%ld", written);
            wr_store_put(t, st, k, (size_t)kl, value, sizeof value);
        }
        if (wr_state_txn_commit(t, 0, &err) != WR_OK)
            bench_die("commit", &err);
    }
    double write_s = bench_now() - t0;
    char logdir[700];
    snprintf(logdir, sizeof logdir, "%s/log/big-changelog-0", dir);
    double changelog_bytes = disk_bytes(logdir);
    wr_state_close(state);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", statedir);
    if (system(cmd) != 0)
        bench_die("rm state", NULL);
    state = bench_open_state(statedir, "state reopen");
    if (wr_store_open(state, "bench#big#0", cl, &st, &err) != WR_OK)
        bench_die("store reopen", &err);
    int64_t replayed = 0;
    t0 = bench_now();
    if (wr_store_restore(state, st, &replayed, &err) != WR_OK)
        bench_die("restore", &err);
    double restore_s = bench_now() - t0;
    double restored_disk = disk_bytes(statedir);
    wr_state_close(state);

    printf(
        "step                                        records/s   vs limit   peak RSS   RocksDB\n");
    printf("read + decode the GROUP BY input (limit)   %10.0f       1.00\n", limit);
    printf("GROUP BY over %8ld distinct keys        %10.0f       %.2f   %5.0f MB  %5.0f MB\n",
           group_n, group_rate, group_rate / limit, group_rss, group_disk / MIB);
    printf("tumbling 1-minute count, %9ld records  %10.0f       %.2f   %5.0f MB  %5.0f MB\n",
           window_n, window_rate, window_rate / limit, window_rss, window_disk / MIB);
    printf("(the queries read %ld and %ld records)\n", consumed, wconsumed);
    printf("restore of a %.0f MB changelog (%ld records of 1 KB, written at %.0f records/s): "
           "%.0f records/s, %.0f MB/s; %.0f MB in RocksDB after; peak RSS %.0f MB\n",
           changelog_bytes / MIB, written, (double)written / write_s, (double)replayed / restore_s,
           changelog_bytes / MIB / restore_s, restored_disk / MIB, bench_peak_rss_mb());
    if (replayed != written)
        fprintf(stderr, "sql_stateful: restored %lld of %ld records\n", (long long)replayed,
                written);
    fflush(stdout);
    wr_buf_free(&out);
    /* the GROUP BY under each guarantee: throughput over events, then the end-to-end latency */
    gquery where = {.dir = dir, .db = db};
    struct bench_gq gq = {"sql_stateful", "GROUP BY over distinct keys",
                          "events",       "BYKEY",
                          group_record,   1,
                          gquery_open,    gquery_close,
                          &where};
    bench_guarantees(db, group_n, &gq);
    wr_log_close(db);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 && replayed == written ? 0 : 1;
}

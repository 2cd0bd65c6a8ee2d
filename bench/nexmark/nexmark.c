/*
 * nexmark.c - the Nexmark queries of bench/nexmark/queries, one at a time, on the engine
 * `weir server` runs, over events already in an embedded log.
 *
 *   build/bench/gen --log DIR --events N --base-time MS --side-input 10000
 *   build/bench/nexmark DIR N [QUERY...]       (QUERY: q0 ... q13; default: all of them)
 *
 * First the limit: reading, decompressing and decoding every event of the three topics
 * (every column) without a query. Then, for each query on one thread, with the server's default
 * state settings (64 MiB block cache, 64 MiB of memtables) in a fresh state directory: ddl.sql
 * and qN.sql executed, the engine polled until idle. Throughput is Nexmark's: the N events of
 * the input (persons, auctions and bids, whichever the query reads) over the query's time; one
 * thread, so events/s per core. Each query's topics and state are removed after it, so DIR can
 * serve the next run. Prints a table (events/s, vs limit, output records, peak RSS of the
 * process) and, per query, a line for bench/run:
 *   bench-result<TAB>nexmark qN<TAB>events/s<TAB>unit<TAB>p99<TAB>peak RSS MB<TAB>ref<TAB>ref/s
 */
#include "bench/nexmark/nexmark.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/bench.h"
#include "runtime/engine.h"
#include "runtime/types.h"
#include "src/base/logging.h"
#include "src/log/log.h"
#include "udf/fn.h"

#ifndef WR_NEXMARK_QUERIES
#    define WR_NEXMARK_QUERIES "bench/nexmark/queries"
#endif

static const char *const all_queries[] = {"q0", "q1", "q2", "q3",  "q4",  "q5",
                                          "q7", "q8", "q9", "q11", "q12", "q13"};

/* The file's text (owned), or exit. */
static char *
slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.sql", WR_NEXMARK_QUERIES, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s == NULL || fread(s, 1, (size_t)n, f) != (size_t)n)
        bench_die(path, NULL);
    s[n] = 0;
    fclose(f);
    return s;
}

/* Events/s of reading and decoding all three topics with every column. */
static double
limit_rate(wr_logdb *db, long events)
{
    static const char *pn[] = {"ID",   "NAME",  "EMAILADDRESS", "CREDITCARD",
                               "CITY", "STATE", "DATETIME",     "EXTRA"};
    static const char *an[] = {"ID",       "ITEMNAME", "DESCRIPTION", "INITIALBID", "RESERVE",
                               "DATETIME", "EXPIRES",  "SELLER",      "CATEGORY",   "EXTRA"};
    static const char *bn[] = {"AUCTION", "BIDDER", "PRICE", "CHANNEL", "URL", "DATETIME", "EXTRA"};
    const wr_sql_type *I = wr_type_of(WR_T_BIGINT), *S = wr_type_of(WR_T_STRING);
    const wr_sql_type *pt[] = {I, S, S, S, S, S, I, S};
    const wr_sql_type *at[] = {I, S, S, I, I, I, I, I, I, S};
    const wr_sql_type *bt[] = {I, I, I, S, S, I, S};
    wr_fmt f[3] = {{.kind = WR_FMT_JSON, .ncols = 8, .names = pn, .types = pt},
                   {.kind = WR_FMT_JSON, .ncols = 10, .names = an, .types = at},
                   {.kind = WR_FMT_JSON, .ncols = 7, .names = bn, .types = bt}};
    double secs = 0;
    for (int k = 0; k < 3; k++) {
        wr_partition *p;
        if (wr_log_partition(db, nx_topics[k], 0, &p) != WR_OK)
            bench_die(nx_topics[k], NULL);
        int64_t n = wr_log_end_offset(p);
        secs += (double)n / bench_decode_rate(p, &f[k]);
    }
    return (double)events / secs;
}

/* Removes every topic but the inputs (what a query made). */
static void
drop_outputs(wr_logdb *db)
{
    char **names;
    size_t n;
    wr_err err = {0};
    if (wr_log_topic_list(db, &names, &n, &err) != WR_OK)
        bench_die("topics", &err);
    for (size_t i = 0; i < n; i++) {
        bool input = strcmp(names[i], "side_input") == 0;
        for (int k = 0; k < 3; k++)
            input = input || strcmp(names[i], nx_topics[k]) == 0;
        if (!input && wr_log_topic_delete(db, names[i], &err) != WR_OK)
            bench_die(names[i], &err);
        free(names[i]);
    }
    free(names);
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: nexmark DIR EVENTS [QUERY...]\n");
        return 2;
    }
    const char *dir = argv[1];
    long events = atol(argv[2]);
    const char *const *queries = argc > 3 ? (const char *const *)argv + 3 : all_queries;
    int nq = argc > 3 ? argc - 3 : (int)(sizeof all_queries / sizeof *all_queries);
    wr_log_set_level(WR_LOG_WARN);
    wr_err err = {0};
    wr_logdb *db;
    wr_log_opts lo = {.flush = WR_LOG_FLUSH_NONE};
    if (wr_log_open(dir, &lo, &db, &err) != WR_OK)
        bench_die(dir, &err);
    drop_outputs(db); /* what an interrupted run left */
    double limit = limit_rate(db, events);
    printf("nexmark: %ld events in %s, queries from %s\n", events, dir, WR_NEXMARK_QUERIES);
    printf("query   events/s   vs limit   output records   peak RSS\n");
    printf("limit %10.0f       1.00   (read + decode all three topics)\n", limit);
    fflush(stdout);
    char *ddl = slurp("ddl");
    int rc = 0;
    for (int i = 0; i < nq; i++) {
        char statedir[600], cmd[700], sink[16];
        snprintf(statedir, sizeof statedir, "%s/state-%s", dir, queries[i]);
        wr_state *state = bench_open_state(statedir, "state");
        wr_fn_registry *fns;
        wr_session *ss;
        wr_engine *e = bench_engine(db, state, &fns, &ss);
        wr_buf out = WR_BUF_INIT;
        char *sql = slurp(queries[i]);
        if (wr_engine_execute(e, ss, ddl, strlen(ddl), &out, &err) != WR_OK ||
            wr_engine_execute(e, ss, sql, strlen(sql), &out, &err) != WR_OK)
            bench_die(queries[i], &err);
        long consumed;
        double t0 = bench_now();
        bench_run_engine(e, &consumed);
        double rate = (double)events / (bench_now() - t0), rss = bench_peak_rss_mb();
        size_t j = 0;
        for (; queries[i][j] && j < sizeof sink - 1; j++)
            sink[j] = (char)toupper((unsigned char)queries[i][j]);
        sink[j] = 0;
        wr_partition *op;
        int64_t produced = wr_log_partition(db, sink, 0, &op) == WR_OK ? wr_log_end_offset(op) : -1;
        printf("%-5s %10.0f       %.2f %16lld   %5.0f MB\n", queries[i], rate, rate / limit,
               (long long)produced, rss);
        printf("bench-result\tnexmark %s\t%.0f\tevents/s\t-\t%.0f\tread + decode\t%.0f\n",
               queries[i], rate, rss, limit);
        fflush(stdout);
        if (produced < 0)
            rc = 1; /* no sink: the query did not run (q5 and q7 may write nothing on an input
                       shorter than their windows) */
        free(sql);
        wr_buf_free(&out);
        wr_session_destroy(ss);
        wr_engine_destroy(e);
        wr_fn_registry_destroy(fns);
        wr_state_close(state);
        drop_outputs(db);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", statedir);
        if (system(cmd) != 0)
            rc = 1;
    }
    free(ddl);
    wr_log_close(db);
    return rc;
}

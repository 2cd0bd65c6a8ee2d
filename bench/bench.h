/*
 * bench.h - what the benchmark programs share: a monotonic clock in seconds, the peak RSS, the
 * decode limit (reading, decompressing and decoding every value of a partition without a query)
 * that the SQL benchmarks print their ratios against, a fresh log (and state stores) in a
 * temporary directory, the engine `weir server` runs, loading generated records into a topic,
 * and running an engine until it is idle. Header-only; each program is one file.
 */
#ifndef WR_BENCH_BENCH_H
#define WR_BENCH_BENCH_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "runtime/engine.h"
#include "runtime/format.h"
#include "src/base/logging.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"
#include "state/store.h"

static inline double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The process's peak resident set so far, in MiB. */
static inline double
bench_peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* "<program>: what: the error", and exit. */
static inline void
bench_die(const char *what, const wr_err *err)
{
    fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, err ? err->msg : "");
    exit(1);
}

/* A fresh directory BASE/weir-bench-NAME-XXXXXX (into dir) with a log in it that never fsyncs;
   warnings and errors only in the program's log. */
static inline wr_logdb *
bench_open_log(const char *base, const char *name, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/weir-bench-%s-XXXXXX", base, name);
    if (mkdtemp(dir) == NULL)
        bench_die("mkdtemp", NULL);
    wr_log_set_level(WR_LOG_WARN);
    wr_err err = {0};
    wr_logdb *db;
    wr_log_opts lo = {.flush = WR_LOG_FLUSH_NONE};
    if (wr_log_open(dir, &lo, &db, &err) != WR_OK)
        bench_die("open", &err);
    return db;
}

/* State stores in statedir with the server's default settings (64 MiB block cache, 64 MiB of
   memtables); what names the step if it fails. */
static inline wr_state *
bench_open_state(const char *statedir, const char *what)
{
    wr_err err = {0};
    wr_state_opts so = {.dir = statedir, .cache_bytes = 64u << 20, .write_buffer_bytes = 64u << 20};
    wr_state *state;
    if (wr_state_open(&so, &state, &err) != WR_OK)
        bench_die(what, &err);
    return state;
}

/* The engine over db (state: NULL for stateless queries) with the built-in functions (*fns, for
   the caller to destroy after the engine), and a session whose queries start from the earliest
   offset (*ss). */
static inline wr_engine *
bench_engine(wr_logdb *db, wr_state *state, wr_fn_registry **fns, wr_session **ss)
{
    wr_err err = {0};
    *fns = wr_fn_registry_create();
    if (*fns == NULL || wr_fn_register_builtins(*fns, &err) != WR_OK)
        bench_die("functions", &err);
    wr_engine *e;
    wr_engine_opts eo = {.db = db, .fns = *fns, .state = state};
    if (wr_engine_create(&eo, &e, &err) != WR_OK)
        bench_die("engine", &err);
    *ss = wr_session_create();
    wr_session_set(*ss, "auto.offset.reset", "earliest");
    return e;
}

/* Makes record i into buf (its length returned), its 8-byte key and its timestamp. */
typedef int (*bench_make_fn)(char *buf, size_t cap, long i, int64_t *key, int64_t *ts);

/* Appends what bb holds (if anything) to p, through batch, a scratch buffer. */
static inline void
bench_flush(wr_partition *p, wr_rbatch_builder *bb, wr_buf *batch)
{
    wr_err err = {0};
    if (bb->count == 0)
        return;
    wr_buf_reset(batch);
    wr_log_append_result res;
    if (wr_rbatch_builder_finish(bb, batch, &err) != WR_OK ||
        wr_log_append(p, batch->data, batch->len, &res, &err) != WR_OK)
        bench_die("append", &err);
}

/* Adds a record keyed by the 8-byte big-endian k to bb, and appends bb to p once it holds 500
   records or when last is set. */
static inline void
bench_add(wr_partition *p,
          wr_rbatch_builder *bb,
          wr_buf *batch,
          int64_t k,
          int64_t ts,
          const char *value,
          int len,
          bool last)
{
    uint8_t key[8];
    wr_be64_put(key, (uint64_t)k);
    wr_rbatch_builder_add(bb, ts, key, 8, value, len, NULL, 0);
    if (bb->count == 500 || last)
        bench_flush(p, bb, batch);
}

/* Appends n records made by make to a new one-partition topic, in zstd batches of 500. */
static inline void
bench_load(wr_logdb *db, const char *topic, long n, bench_make_fn make)
{
    wr_err err = {0};
    if (wr_log_topic_create(db, topic, 1, NULL, &err) != WR_OK)
        bench_die("topic", &err);
    wr_partition *p;
    wr_log_partition(db, topic, 0, &p);
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_ZSTD);
    wr_buf batch = WR_BUF_INIT;
    char value[512];
    for (long i = 0; i < n; i++) {
        int64_t ts, k;
        int len = make(value, sizeof value, i, &k, &ts);
        bench_add(p, &bb, &batch, k, ts, value, len, i == n - 1);
    }
    wr_rbatch_builder_free(&bb);
    wr_buf_free(&batch);
}

/* Polls e until it has nothing left to do; returns records/s of the run, the records read in
 *consumed. */
static inline double
bench_run_engine(wr_engine *e, long *consumed)
{
    wr_err err = {0};
    *consumed = 0;
    double t0 = bench_now();
    for (;;) {
        int64_t n = 0;
        if (wr_engine_poll(e, &n, &err) != WR_OK)
            bench_die("poll", &err);
        if (n == 0)
            break;
        *consumed += n;
    }
    return (double)*consumed / (bench_now() - t0);
}

/* Reads every batch of p, decompresses it and decodes every value with f; returns records/s
   (exits on an error: a benchmark's input is its own). */
static inline double
bench_decode_rate(wr_partition *p, const wr_fmt *f)
{
    wr_err err = {0};
    wr_arena *a = wr_arena_create(0);
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    wr_val *vals = calloc((size_t)f->ncols + 1, sizeof *vals);
    long decoded = 0;
    double t0 = bench_now();
    for (int64_t off = 0; off < wr_log_end_offset(p);) {
        wr_buf_reset(&data);
        wr_log_read_result rr;
        if (wr_log_read(p, off, 1 << 20, &data, &rr, &err) != WR_OK)
            break;
        for (size_t at = 0; at < data.len && err.code == WR_OK;) {
            size_t sz = wr_rbatch_size(data.data + at, data.len - at);
            wr_rbatch_iter it;
            if (sz == 0 ||
                wr_rbatch_iter_init(&it, data.data + at, sz, &scratch, 64 << 20, &err) != WR_OK)
                break;
            wr_record rec;
            while (wr_rbatch_iter_next(&it, &rec, &err) == 1) {
                if (rec.offset < off)
                    continue;
                off = rec.offset + 1;
                if (wr_fmt_decode(f, rec.value, (size_t)rec.value_len, false, vals, a, &err) !=
                    WR_OK)
                    break;
                decoded++;
            }
            wr_arena_reset(a);
            at += sz;
        }
        if (err.code != WR_OK)
            break;
    }
    double s = bench_now() - t0;
    if (err.code != WR_OK) {
        fprintf(stderr, "decoding the input: %s\n", err.msg);
        exit(1);
    }
    free(vals);
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    wr_arena_destroy(a);
    return (double)decoded / s;
}

#endif

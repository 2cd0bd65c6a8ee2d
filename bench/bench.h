/*
 * bench.h - what the benchmark programs share: a monotonic clock in seconds, the peak RSS, the
 * decode limit (reading, decompressing and decoding every value of a partition without a query)
 * that the SQL benchmarks print their ratios against, a fresh log (and state stores) in a
 * temporary directory, the engine `weir server` runs (with or without the transaction
 * coordinator that exactly_once_v2 needs), loading generated records into a topic, running an
 * engine until it is idle or until its output is committed, and the end-to-end latency of a
 * query fed at a fixed rate (bench_e2e_run). Header-only; each program is one file.
 */
#ifndef WR_BENCH_BENCH_H
#define WR_BENCH_BENCH_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "runtime/engine.h"
#include "runtime/format.h"
#include "src/base/logging.h"
#include "src/coord/txn.h"
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

/* bench_engine with the transaction coordinator txn (borrowed; NULL: none, every query runs
   at_least_once), which queries under exactly_once_v2 commit through. */
static inline wr_engine *
bench_engine_txn(
    wr_logdb *db, wr_state *state, wr_txn_coord *txn, wr_fn_registry **fns, wr_session **ss)
{
    wr_err err = {0};
    *fns = wr_fn_registry_create();
    if (*fns == NULL || wr_fn_register_builtins(*fns, &err) != WR_OK)
        bench_die("functions", &err);
    wr_engine *e;
    wr_engine_opts eo = {.db = db, .fns = *fns, .state = state, .txn = txn};
    if (wr_engine_create(&eo, &e, &err) != WR_OK)
        bench_die("engine", &err);
    *ss = wr_session_create();
    wr_session_set(*ss, "auto.offset.reset", "earliest");
    return e;
}

/* The engine over db (state: NULL for stateless queries) with the built-in functions (*fns, for
   the caller to destroy after the engine), and a session whose queries start from the earliest
   offset (*ss). No transaction coordinator: every query runs at_least_once. */
static inline wr_engine *
bench_engine(wr_logdb *db, wr_state *state, wr_fn_registry **fns, wr_session **ss)
{
    return bench_engine_txn(db, state, NULL, fns, ss);
}

/* Producer ids for the coordinator: the broker's allocator in the server, a counter here. */
static inline int
bench_new_pid(void *arg, int64_t *pid, wr_err *err)
{
    (void)err;
    *pid = atomic_fetch_add((atomic_llong *)arg, 1);
    return WR_OK;
}

/* The transaction coordinator over db, as the server opens it (default timeouts); close it
   with wr_txn_coord_close after the engines that use it. */
static inline wr_txn_coord *
bench_txn_coord(wr_logdb *db)
{
    static atomic_llong next_pid = 1000;
    wr_err err = {0};
    wr_txn_coord_opts co = {.max_timeout_ms = 900000,
                            .check_interval_ms = 1000,
                            .new_pid = bench_new_pid,
                            .new_pid_arg = &next_pid};
    wr_txn_coord *c;
    if (wr_txn_coord_open(db, &co, &c, &err) != WR_OK)
        bench_die("transaction coordinator", &err);
    return c;
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

/* bench_run_engine for a query whose output may be transactional: polls e until it has nothing
   left to do and out (the query's output partition) has no open transaction, so that the
   figure counts until the last output is visible to read_committed readers; between polls that
   find nothing it sleeps 1 ms. Returns records/s, the records read in *consumed and in *tail the
   seconds between the first poll that found nothing and the end (under exactly_once_v2, the
   wait for the last commit). */
static inline double
bench_run_committed(wr_engine *e, wr_partition *out, long *consumed, double *tail)
{
    wr_err err = {0};
    *consumed = 0;
    double t0 = bench_now(), idle = 0;
    for (;;) {
        int64_t n = 0;
        if (wr_engine_poll(e, &n, &err) != WR_OK)
            bench_die("poll", &err);
        *consumed += n;
        if (n > 0) {
            idle = 0;
            continue;
        }
        if (idle == 0)
            idle = bench_now();
        if (wr_log_stable_offset(out) == wr_log_end_offset(out))
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    double t1 = bench_now();
    *tail = t1 - idle;
    return (double)*consumed / (t1 - t0);
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

/* ---- end-to-end latency --------------------------------------------------------------------
 *
 * bench_e2e_run feeds a query's (empty, one-partition) input topic at a fixed rate from a
 * producer thread, as Kafka producers feed `weir server`, while the calling thread drives the
 * engine as the server's SQL worker does (src/cli/sqlworker.c): poll; after a poll that found
 * nothing, sleep 1 ms, then 2, 4, ... 64 ms (the worker doubles its wait while it is below 50
 * ms); after one that found records, poll at once.
 *
 * The producer appends an uncompressed batch on every wall-clock millisecond boundary
 * (clock_nanosleep to it), holding the records due by then (20 a batch at 20,000/s), each
 * stamped with the wall-clock millisecond of the append; so a record's timestamp is its append
 * time to within the thread's wake-up delay, not up to a millisecond early. Falling behind, it
 * appends what is due at once.
 *
 * The output is read as a read_committed consumer reads it (wr_log_read_committed below the
 * last stable offset), on the engine's thread after each poll, so that no reader thread competes
 * for the two cores. When a record became visible is noted when it happens instead: a log
 * watcher (wr_log_watch, called by the appending thread right after every append) notes the
 * wall clock whenever the output's last stable offset moves, which is when the query appends
 * its outputs (at_least_once) or when the coordinator appends the COMMIT marker to the output
 * (exactly_once_v2); a reader polling the log could not see a record earlier. The rest of the
 * poll (under exactly_once_v2 the state's write to RocksDB, which follows the markers) is not
 * counted. Each output record keeps its input's timestamp (ROWTIME; an aggregate's row carries
 * its latest input's), so its latency is when it became visible minus that timestamp.
 */

/* Latencies in ms. */
typedef struct bench_lat {
    double *v;
    size_t n, cap;
} bench_lat;

/* The wall clock in ms (fractional). */
static inline double
bench_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The moves of out's last stable offset: lso[i] reached at wall clock ms[i], in order. */
typedef struct bench_vis {
    wr_partition *out;
    pthread_mutex_t mu;
    int64_t *lso;
    double *ms;
    size_t n, cap, next; /* next: the first move a record yet to be read may need */
    long unnoted;        /* records read with no move noted past them (there should be none) */
} bench_vis;

/* The log watcher: any append, from any thread. */
static inline void
bench_vis_note(void *arg)
{
    bench_vis *v = arg;
    int64_t lso = wr_log_stable_offset(v->out);
    double now = bench_wall_ms();
    pthread_mutex_lock(&v->mu);
    if (v->n == 0 || lso > v->lso[v->n - 1]) {
        if (v->n == v->cap) {
            v->cap = v->cap ? 2 * v->cap : 4096;
            v->lso = realloc(v->lso, v->cap * sizeof *v->lso);
            v->ms = realloc(v->ms, v->cap * sizeof *v->ms);
            if (v->lso == NULL || v->ms == NULL)
                bench_die("out of memory", NULL);
        }
        v->lso[v->n] = lso;
        v->ms[v->n++] = now;
    }
    pthread_mutex_unlock(&v->mu);
}

/* When the record at offset (read in offset order) became visible: the first move past it. */
static inline double
bench_vis_at(bench_vis *v, int64_t offset)
{
    pthread_mutex_lock(&v->mu);
    while (v->next < v->n && v->lso[v->next] <= offset)
        v->next++;
    double t = v->next < v->n ? v->ms[v->next] : -1;
    pthread_mutex_unlock(&v->mu);
    if (t < 0) {
        v->unnoted++;
        t = bench_wall_ms();
    }
    return t;
}

/* Reads what out holds below its last stable offset from *pos on, as a read_committed
   consumer; moves *pos past it (markers and aborted batches included) and, with lat, adds to
   lat when each record became visible (vis) minus its timestamp. Returns the records read.
   data and scratch: buffers. */
static inline long
bench_read_committed(
    wr_partition *out, int64_t *pos, bench_vis *vis, bench_lat *lat, wr_buf *data, wr_buf *scratch)
{
    wr_err err = {0};
    long records = 0;
    while (*pos < wr_log_stable_offset(out)) {
        wr_buf_reset(data);
        wr_log_read_result rr;
        if (wr_log_read_committed(out, *pos, 1 << 20, data, &rr, &err) != WR_OK)
            bench_die("reading the output", &err);
        if (data->len == 0)
            break;
        for (size_t at = 0; at < data->len;) {
            size_t sz = wr_rbatch_size(data->data + at, data->len - at);
            wr_rbatch_hdr h;
            wr_rbatch_iter it;
            if (sz == 0 || wr_rbatch_parse_hdr(data->data + at, sz, &h, &err) != WR_OK ||
                wr_rbatch_iter_init(&it, data->data + at, sz, scratch, 64 << 20, &err) != WR_OK)
                bench_die("an output batch", &err);
            wr_record rec;
            while (wr_rbatch_iter_next(&it, &rec, &err) == 1) {
                if (rec.offset < *pos)
                    continue;
                records++;
                if (lat == NULL)
                    continue;
                if (lat->n == lat->cap) {
                    lat->cap = lat->cap ? 2 * lat->cap : 4096;
                    if ((lat->v = realloc(lat->v, lat->cap * sizeof *lat->v)) == NULL)
                        bench_die("out of memory", NULL);
                }
                lat->v[lat->n++] = bench_vis_at(vis, rec.offset) - (double)rec.timestamp;
            }
            int64_t next = h.base_offset + h.last_offset_delta + 1;
            if (next > *pos)
                *pos = next;
            at += sz;
        }
    }
    return records;
}

typedef struct bench_feed {
    wr_partition *in;
    bench_make_fn make;
    long rate, total;
    double late_ms; /* out: the most an append came after its millisecond */
    atomic_bool done;
} bench_feed;

static inline void *
bench_feed_main(void *arg)
{
    bench_feed *f = arg;
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
    wr_buf batch = WR_BUF_INIT;
    char value[512];
    int64_t start = (int64_t)bench_wall_ms() + 2;
    long sent = 0;
    for (int64_t tick = 1; sent < f->total; tick++) {
        int64_t at = start + tick;
        struct timespec ts = {(time_t)(at / 1000), (long)(at % 1000) * 1000000};
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        double now = bench_wall_ms();
        if (now - (double)at > f->late_ms)
            f->late_ms = now - (double)at;
        long due = (long)((double)f->rate * (double)tick / 1000.0);
        for (; sent < due && sent < f->total; sent++) {
            int64_t k, ignored;
            int len = f->make(value, sizeof value, sent, &k, &ignored);
            uint8_t key[8];
            wr_be64_put(key, (uint64_t)k);
            wr_rbatch_builder_add(&bb, (int64_t)now, key, 8, value, len, NULL, 0);
        }
        bench_flush(f->in, &bb, &batch);
    }
    wr_rbatch_builder_free(&bb);
    wr_buf_free(&batch);
    atomic_store(&f->done, true);
    return NULL;
}

typedef struct bench_e2e {
    long fed, outputs;                    /* input records appended, output records seen */
    int64_t markers;                      /* offsets of out that held no record: commit markers */
    double p50, p99, max;                 /* ms */
    double late_ms;                       /* the producer's worst delay behind its schedule */
    double poll_max_ms;                   /* the slowest poll */
    long polls, busy_polls, commit_polls; /* polls, those that found records, that committed */
    double busy_ms, commit_ms;            /* the mean time of those */
} bench_e2e;

static inline int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Feeds in with rate records/s made by make for seconds, while polling e as the server does,
   until every input record is consumed and every output visible; the latencies of the records
   that appeared on out into r (see above). in and out: the query's empty input partition and
   its output partition, in db, whose log watcher this sets for the run. */
static inline void
bench_e2e_run(wr_engine *e,
              wr_logdb *db,
              wr_partition *in,
              wr_partition *out,
              bench_make_fn make,
              long rate,
              double seconds,
              bench_e2e *r)
{
    wr_err err = {0};
    bench_feed f = {.in = in, .make = make, .rate = rate, .total = (long)((double)rate * seconds)};
    atomic_init(&f.done, false);
    int64_t n = 0, pos = wr_log_start_offset(out);
    if (wr_engine_poll(e, &n, &err) != WR_OK) /* the tasks open before the clock starts */
        bench_die("poll", &err);
    bench_vis vis = {.out = out};
    pthread_mutex_init(&vis.mu, NULL);
    wr_log_watch(db, bench_vis_note, &vis);
    pthread_t th;
    if (pthread_create(&th, NULL, bench_feed_main, &f) != 0)
        bench_die("producer thread", NULL);
    bench_lat lat = {0};
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    long outputs = 0, idle_ms = 1, polls = 0, busy = 0, commits = 0;
    double poll_max = 0, busy_ms = 0, commit_ms = 0;
    double deadline = bench_now() + seconds + 60;
    for (;;) {
        bool fed = atomic_load(&f.done);
        /* a transaction holding outputs is open before the poll, none after: it committed */
        bool open = wr_log_stable_offset(out) < wr_log_end_offset(out);
        double p0 = bench_now();
        if (wr_engine_poll(e, &n, &err) != WR_OK)
            bench_die("poll", &err);
        double ms = (bench_now() - p0) * 1e3;
        polls++;
        poll_max = ms > poll_max ? ms : poll_max;
        if (n > 0) {
            busy++;
            busy_ms += ms;
        }
        if (open && wr_log_stable_offset(out) == wr_log_end_offset(out)) {
            commits++;
            commit_ms += ms;
        }
        outputs += bench_read_committed(out, &pos, &vis, &lat, &data, &scratch);
        if (n > 0) {
            idle_ms = 1;
            continue;
        }
        if (fed && pos >= wr_log_end_offset(out))
            break; /* all input consumed (this poll found none), all output read */
        if (bench_now() > deadline) {
            fprintf(stderr, "%s: the output is still not committed 60 s after the last input\n",
                    program_invocation_short_name);
            break;
        }
        nanosleep(&(struct timespec){0, idle_ms * 1000000}, NULL);
        if (idle_ms < 50)
            idle_ms *= 2;
    }
    pthread_join(th, NULL);
    wr_log_watch(db, NULL, NULL);
    if (vis.unnoted > 0)
        fprintf(stderr, "%s: %ld output records became visible with no append noted\n",
                program_invocation_short_name, vis.unnoted);
    free(vis.lso);
    free(vis.ms);
    pthread_mutex_destroy(&vis.mu);
    qsort(lat.v, lat.n, sizeof *lat.v, bench_cmp_double);
    *r = (bench_e2e){
        .fed = f.total,
        .outputs = outputs,
        .markers = wr_log_end_offset(out) - wr_log_start_offset(out) - outputs,
        .p50 = lat.n ? lat.v[(lat.n - 1) / 2] : 0,
        .p99 = lat.n ? lat.v[(size_t)((double)(lat.n - 1) * 0.99)] : 0,
        .max = lat.n ? lat.v[lat.n - 1] : 0,
        .late_ms = f.late_ms,
        .poll_max_ms = poll_max,
        .polls = polls,
        .busy_polls = busy,
        .commit_polls = commits,
        .busy_ms = busy ? busy_ms / (double)busy : 0,
        .commit_ms = commits ? commit_ms / (double)commits : 0,
    };
    free(lat.v);
    wr_buf_free(&data);
    wr_buf_free(&scratch);
}

/* ---- the two guarantees side by side ---------------------------------------------------- */

static const char *const BENCH_GUARANTEE[2] = {"at_least_once", "exactly_once_v2"};

/* A number from the environment (name), or def. */
static inline double
bench_env(const char *name, double def)
{
    const char *v = getenv(name);
    return v != NULL && *v ? atof(v) : def;
}

/* The run order of round r: at_least_once first in even rounds, exactly_once_v2 in odd ones
   (A B, B A, ...), so that a drift of the machine's speed falls on both. */
static inline int
bench_guarantee_of(int round, int j)
{
    return round % 2 == 0 ? j : 1 - j;
}

/* Prints the comparison: rate[g] (records/s until the last output was visible, the mean over
   rounds), busy[g] (records/s until the first poll that found nothing: without the wait for
   the last commit), tail (s: the last exactly_once_v2 run's wait for its last commit after its
   last input), commits (the markers on that run's output), and the end-to-end latency of each
   guarantee at e2e_rate records/s for e2e_s seconds. */
static inline void
bench_print_guarantees(const char *what,
                       long records,
                       int rounds,
                       const double rate[2],
                       const double busy[2],
                       double tail,
                       int64_t commits,
                       long e2e_rate,
                       double e2e_s,
                       const bench_e2e e2e[2])
{
    printf("\nprocessing.guarantee: %s, %ld records\n", what, records);
    printf("%-26s %12s %8s %12s %8s\n", "run", "records/s", "ratio", "to idle", "ratio");
    for (int g = 0; g < 2; g++)
        printf("%-15s throughput %12.0f %8.2f %12.0f %8.2f\n", BENCH_GUARANTEE[g], rate[g],
               rate[g] / rate[0], busy[g], busy[g] / busy[0]);
    printf("(ratio: to at_least_once; the mean of %d run%s each, in the order A B%s; records/s "
           "counts until the last output is visible to read_committed readers, 'to idle' until "
           "the first poll that found nothing; exactly_once_v2 committed %lld times, the last "
           "%.0f ms after its last input)\n",
           rounds, rounds > 1 ? "s" : "", rounds > 1 ? " B A ..." : "", (long long)commits,
           tail * 1e3);
    printf("\nend to end, %ld records/s for %.0f s:\n", e2e_rate, e2e_s);
    printf("%-26s %9s %9s %9s %8s %8s\n", "run", "p50 ms", "p99 ms", "max ms", "in", "out");
    for (int g = 0; g < 2; g++)
        printf("%-15s latency    %9.1f %9.1f %9.1f %8ld %8ld\n", BENCH_GUARANTEE[g], e2e[g].p50,
               e2e[g].p99, e2e[g].max, e2e[g].fed, e2e[g].outputs);
    printf("(polls: %ld and %ld, the slowest %.1f and %.1f ms; those that found records took "
           "%.2f and %.2f ms on average; exactly_once_v2 committed %lld times, in polls of %.2f ms "
           "on average; the producer was at worst %.1f and %.1f ms behind its schedule)\n",
           e2e[0].polls, e2e[1].polls, e2e[0].poll_max_ms, e2e[1].poll_max_ms, e2e[0].busy_ms,
           e2e[1].busy_ms, (long long)e2e[1].markers, e2e[1].commit_ms, e2e[0].late_ms,
           e2e[1].late_ms);
}

/* A query under a processing guarantee, for bench_guarantees. */
struct bench_gq {
    const char *prog;   /* the program, for messages */
    const char *what;   /* the query, as printed */
    const char *input;  /* the loaded topic the throughput runs read */
    const char *sinks;  /* the sinks' name prefix */
    bench_make_fn make; /* the records of the end-to-end runs */
    int rounds;         /* GUARANTEE_ROUNDS unless set */
    /* starts the query under guarantee g over topic into sink, in an engine with the
       coordinator txn; returns the engine and, in *h, what close frees */
    wr_engine *(*open)(
        void *arg, wr_txn_coord *txn, int g, const char *topic, const char *sink, void **h);
    void (*close)(void *h);
    void *arg;
};

/* The query of q under each guarantee: throughput over q->input (records of them, in rounds
   of both, bench_guarantee_of's order), then the end-to-end latency; prints the comparison. */
static inline void
bench_guarantees(wr_logdb *db, long records, const struct bench_gq *q)
{
    int rounds = (int)bench_env("GUARANTEE_ROUNDS", q->rounds);
    long e2e_rate = (long)bench_env("E2E_RATE", 20000);
    double e2e_s = bench_env("E2E_SECONDS", 5);
    wr_txn_coord *txn = bench_txn_coord(db);
    wr_err err = {0};
    double rate[2] = {0, 0}, busy[2] = {0, 0}, tail = 0;
    int64_t commits = 0;
    for (int r = 0; r < rounds; r++) {
        for (int j = 0; j < 2; j++) {
            int g = bench_guarantee_of(r, j);
            char sink[64];
            snprintf(sink, sizeof sink, "%s_%s_%d", q->sinks, g ? "EOS" : "ALOS", r);
            void *h;
            wr_engine *e = q->open(q->arg, txn, g, q->input, sink, &h);
            wr_partition *op;
            if (wr_log_partition(db, sink, 0, &op) != WR_OK)
                bench_die(sink, NULL);
            long consumed;
            double t;
            double per_s = bench_run_committed(e, op, &consumed, &t);
            rate[g] += per_s / rounds;
            busy[g] += (double)consumed / ((double)consumed / per_s - t) / rounds;
            if (consumed != records)
                fprintf(stderr, "%s: %s read %ld of %ld records\n", q->prog, sink, consumed,
                        records);
            if (g == 1) {
                wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
                int64_t pos = 0;
                long n = bench_read_committed(op, &pos, NULL, NULL, &data, &scratch);
                commits = wr_log_end_offset(op) - n;
                tail = t;
                wr_buf_free(&data);
                wr_buf_free(&scratch);
            }
            q->close(h);
        }
    }
    bench_e2e e2e[2];
    for (int g = 0; g < 2; g++) {
        char topic[64], sink[64];
        snprintf(topic, sizeof topic, "live_%s", g ? "eos" : "alos");
        snprintf(sink, sizeof sink, "LIVE_%s", g ? "EOS" : "ALOS");
        if (wr_log_topic_create(db, topic, 1, NULL, &err) != WR_OK)
            bench_die(topic, &err);
        void *h;
        wr_engine *e = q->open(q->arg, txn, g, topic, sink, &h);
        wr_partition *ip, *op;
        if (wr_log_partition(db, topic, 0, &ip) != WR_OK ||
            wr_log_partition(db, sink, 0, &op) != WR_OK)
            bench_die(sink, NULL);
        bench_e2e_run(e, db, ip, op, q->make, e2e_rate, e2e_s, &e2e[g]);
        q->close(h);
    }
    bench_print_guarantees(q->what, records, rounds, rate, busy, tail, commits, e2e_rate, e2e_s,
                           e2e);
    wr_txn_coord_close(txn);
}

#endif

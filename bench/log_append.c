/*
 * log_append.c - append throughput of the log engine against the disk's own limit.
 *
 * Appends RECORDS 100-byte records (uncompressed, BATCH records per batch) to a one-partition
 * topic and prints records/s and MB/s for:
 *   - the embedded default (fsync before acknowledging, group commit), from 1 thread and from
 *     THREADS threads sharing the partition (where group commit lets appends share fsyncs);
 *   - no fsync (log.flush.policy=none);
 * next to a plain write(2)+fdatasync loop and a plain write(2) loop over the same bytes in the
 * same chunks (one batch per write), i.e. the physical limit of this machine, as a ratio.
 * Then the cost of checking every record of a compressed batch before an append (as Kafka's
 * LogValidator does): zstd batches of JSON-like records appended with no fsync, against the
 * same run without the decompress-and-walk step (the append's time less what that step costs,
 * measured over the same batches in the same run), as a ratio.
 *
 * Usage: log_append [RECORDS] [BATCH] [THREADS] [DIR]   (defaults 1000000 100 4 /tmp)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "src/base/logging.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

static long records = 1000000, per_batch = 100;
static int threads = 4;
static const char *base = "/tmp";
static wr_buf batch;

static void
die(const char *what, const char *msg)
{
    fprintf(stderr, "log_append: %s: %s\n", what, msg);
    exit(1);
}

typedef struct job {
    wr_partition *p;
    long batches;
} job;

static void *
append_main(void *arg)
{
    job *j = arg;
    for (long i = 0; i < j->batches; i++) {
        wr_log_append_result res;
        wr_err err = {0};
        if (wr_log_append(j->p, batch.data, batch.len, &res, &err) != WR_OK)
            die("append", err.msg);
    }
    return NULL;
}

static char *
fresh_dir(void)
{
    char *d;
    if (asprintf(&d, "%s/wr_bench_XXXXXX", base) < 0 || !mkdtemp(d))
        die("mkdtemp", strerror(errno));
    return d;
}

static void
remove_dir(char *d)
{
    char *cmd;
    if (asprintf(&cmd, "rm -rf '%s'", d) >= 0) {
        if (system(cmd) != 0)
            fprintf(stderr, "log_append: could not remove %s\n", d);
        free(cmd);
    }
    free(d);
}

/* Seconds to append all batches through the log engine. */
static double
run_log(wr_log_flush flush, int nthreads)
{
    char *d = fresh_dir();
    wr_log_opts o = {.flush = flush};
    wr_logdb *db;
    wr_err err = {0};
    if (wr_log_open(d, &o, &db, &err) != WR_OK)
        die("open", err.msg);
    if (wr_log_topic_create(db, "bench", 1, NULL, &err) != WR_OK)
        die("create", err.msg);
    wr_partition *p;
    wr_log_partition(db, "bench", 0, &p);
    long total = records / per_batch;
    job jobs[64];
    pthread_t th[64];
    double t0 = bench_now();
    for (int i = 0; i < nthreads; i++) {
        jobs[i] = (job){p, total / nthreads + (i < total % nthreads)};
        pthread_create(&th[i], NULL, append_main, &jobs[i]);
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    if (wr_log_flush_all(db, &err) != WR_OK) /* count the final flush for policy none too */
        die("flush", err.msg);
    double dt = bench_now() - t0;
    if (wr_log_end_offset(p) != total * per_batch)
        die("check", "end offset does not match the records appended");
    wr_log_close(db);
    remove_dir(d);
    return dt;
}

/* Seconds to write the same bytes in the same chunks with plain write(2) (+ fdatasync). */
static double
run_plain(int sync_each)
{
    char *d = fresh_dir(), *path;
    if (asprintf(&path, "%s/plain", d) < 0)
        die("asprintf", "oom");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("open", strerror(errno));
    long total = records / per_batch;
    double t0 = bench_now();
    for (long i = 0; i < total; i++) {
        if (write(fd, batch.data, batch.len) != (ssize_t)batch.len)
            die("write", strerror(errno));
        if (sync_each && fdatasync(fd) != 0)
            die("fdatasync", strerror(errno));
    }
    if (fdatasync(fd) != 0)
        die("fdatasync", strerror(errno));
    double dt = bench_now() - t0;
    close(fd);
    free(path);
    remove_dir(d);
    return dt;
}

static void
row(const char *name, double secs, double limit_secs)
{
    double bytes = (double)(records / per_batch) * (double)batch.len;
    printf("%-38s %12.0f %9.1f %9.2f\n", name, (double)(records / per_batch * per_batch) / secs,
           bytes / secs / 1e6, limit_secs / secs);
}

/* Seconds to check every batch the way an append does, deep (every record of the compressed
   batch) or not (header and CRC only). */
static double
run_check(bool deep)
{
    wr_buf scratch = WR_BUF_INIT;
    long total = records / per_batch;
    double t0 = bench_now();
    for (long i = 0; i < total; i++) {
        wr_rbatch_hdr h;
        wr_err err = {0};
        int rc = deep ? wr_rbatch_validate_all(batch.data, batch.len, &h, &scratch, 64u << 20, &err)
                      : wr_rbatch_validate(batch.data, batch.len, &h, &err);
        if (rc != WR_OK)
            die("validate", err.msg);
    }
    double dt = bench_now() - t0;
    wr_buf_free(&scratch);
    return dt;
}

static void
zstd_rows(void)
{
    wr_buf_free(&batch);
    batch = (wr_buf)WR_BUF_INIT;
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, WR_COMPRESSION_ZSTD);
    for (long i = 0; i < per_batch; i++) {
        char v[128];
        int n = snprintf(v, sizeof v, "{\"id\":%ld,\"user\":\"u%ld\",\"price\":%ld,\"ts\":%ld}", i,
                         i % 977, (i * 7919) % 100000, 1700000000000 + i);
        wr_rbatch_builder_add(&b, 1700000000000 + i, NULL, -1, v, n, NULL, 0);
    }
    wr_err err = {0};
    if (wr_rbatch_builder_finish(&b, &batch, &err) != WR_OK)
        die("zstd batch", err.msg);
    wr_rbatch_builder_free(&b);
    printf("\nzstd batches of %ld JSON records (%zu B each), no fsync\n", per_batch, batch.len);
    printf("%-38s %12s %9s %9s\n", "run", "records/s", "MB/s", "vs before");
    double after = run_log(WR_LOG_FLUSH_NONE, 1);
    double extra = run_check(true) - run_check(false);
    double before = after - extra > 0 ? after - extra : after;
    row("append, header and CRC checked only", before, before);
    row("append, every record checked (now)", after, before);
    printf("(\"before\" is the append's time less the record check's, timed over the same batches; "
           "\"vs before\" < 1 is what the check costs)\n");
}

int
main(int argc, char **argv)
{
    if (argc > 1)
        records = atol(argv[1]);
    if (argc > 2)
        per_batch = atol(argv[2]);
    if (argc > 3)
        threads = atoi(argv[3]);
    if (argc > 4)
        base = argv[4];
    if (records <= 0 || per_batch <= 0 || records < per_batch || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: log_append [RECORDS] [BATCH] [THREADS<=64] [DIR]\n");
        return 2;
    }
    wr_log_set_level(WR_LOG_WARN);
    wr_rbatch_builder b;
    wr_rbatch_builder_init(&b, WR_COMPRESSION_NONE);
    char value[100];
    memset(value, 'x', sizeof value);
    for (long i = 0; i < per_batch; i++)
        wr_rbatch_builder_add(&b, 1700000000000 + i, NULL, -1, value, sizeof value, NULL, 0);
    wr_err err = {0};
    if (wr_rbatch_builder_finish(&b, &batch, &err) != WR_OK)
        die("batch", err.msg);
    wr_rbatch_builder_free(&b);

    printf("log_append: %ld records of 100 B, %ld per batch (%zu B batches, uncompressed), "
           "in %s\n",
           records, per_batch, batch.len, base);
    printf("%-38s %12s %9s %9s\n", "run", "records/s", "MB/s", "vs limit");
    double plain_sync = run_plain(1);
    row("plain write+fdatasync per batch", plain_sync, plain_sync);
    row("weir sync (group commit), 1 thread", run_log(WR_LOG_FLUSH_SYNC, 1), plain_sync);
    char name[64];
    snprintf(name, sizeof name, "weir sync (group commit), %d threads", threads);
    row(name, run_log(WR_LOG_FLUSH_SYNC, threads), plain_sync);
    double plain = run_plain(0);
    row("plain write, one fdatasync at the end", plain, plain);
    row("weir none (no fsync), 1 thread", run_log(WR_LOG_FLUSH_NONE, 1), plain);
    printf("(\"vs limit\" = the run's MB/s / the plain loop's MB/s above it; > 1 means faster)\n");
    zstd_rows();
    wr_buf_free(&batch);
    return 0;
}

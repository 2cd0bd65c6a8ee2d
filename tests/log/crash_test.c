/*
 * crash_test.c - kill -9 durability test of the log engine.
 *
 * Each round forks a writer child that opens the log (recovering whatever the previous child
 * left), then appends record batches as fast as it can from three threads: two share partition
 * 0 (so their appends share fsyncs), one writes partition 1, with every codec and small
 * segments (frequent rolls), while a fourth thread runs wr_log_maintain (stored indexes). After
 * each acknowledged append the child reports (partition, base offset, count, thread, sequence)
 * on a pipe. The parent SIGKILLs the child at a random moment, opens the log itself, and checks
 * that every acknowledged record is there intact at its offset, that the whole log reads back
 * as valid batches with contiguous offsets, and that no corrupt batch is ever returned.
 *
 * Usage: crash_test [rounds] (default 25). Exit 0 on success.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

typedef struct ack {
    int32_t partition;
    int32_t count;
    int64_t base_offset;
    int32_t thread;
    int32_t seq; /* sequence of the first record within its thread */
} ack;

static const char *dir;
static int ack_fd;
static volatile int stop;

#define FAIL(...)                                    \
    do {                                             \
        fprintf(stderr, "crash_test: " __VA_ARGS__); \
        fputc('\n', stderr);                         \
        exit(1);                                     \
    } while (0)

/* ---- the child ------------------------------------------------------------------------- */

typedef struct writer {
    wr_logdb *db;
    int32_t partition;
    int32_t thread;
    int32_t seq;
} writer;

static int
value_of(char *buf, size_t n, int32_t thread, int32_t seq)
{
    return snprintf(buf, n, "t%d-s%d-%0*d", thread, seq, 20 + seq % 60, seq);
}

static void *
writer_main(void *arg)
{
    writer *w = arg;
    wr_partition *p;
    if (wr_log_partition(w->db, "crash", w->partition, &p) != WR_OK)
        FAIL("child: no partition %d", w->partition);
    unsigned r = (unsigned)(w->thread * 7919 + getpid());
    wr_buf out = WR_BUF_INIT;
    while (!stop) {
        int n = 1 + (int)(rand_r(&r) % 40);
        wr_rbatch_builder b;
        wr_rbatch_builder_init(&b, (wr_compression)(rand_r(&r) % 5));
        for (int i = 0; i < n; i++) {
            char v[128], k[16];
            int vl = value_of(v, sizeof v, w->thread, w->seq + i);
            int kl = snprintf(k, sizeof k, "%d", i);
            wr_rbatch_builder_add(&b, wr_clock_wall_ms(), k, kl, v, vl, NULL, 0);
        }
        wr_buf_reset(&out);
        if (wr_rbatch_builder_finish(&b, &out, NULL) != WR_OK)
            FAIL("child: builder");
        wr_rbatch_builder_free(&b);
        wr_log_append_result res;
        wr_err err = {0};
        if (wr_log_append(p, out.data, out.len, &res, &err) != WR_OK)
            FAIL("child: append: %s", err.msg);
        ack a = {w->partition, n, res.base_offset, w->thread, w->seq};
        if (write(ack_fd, &a, sizeof a) != (ssize_t)sizeof a)
            FAIL("child: ack pipe: %s", strerror(errno));
        w->seq += n;
    }
    wr_buf_free(&out);
    return NULL;
}

static void *
maintainer_main(void *arg)
{
    wr_logdb *db = arg;
    while (!stop) {
        usleep(20000);
        wr_log_maintain(db, NULL);
    }
    return NULL;
}

static void
child(int fd, int round)
{
    ack_fd = fd;
    wr_log_opts o = {.flush = WR_LOG_FLUSH_SYNC};
    wr_logdb *db;
    wr_err err = {0};
    if (wr_log_open(dir, &o, &db, &err) != WR_OK)
        FAIL("child: open: %s", err.msg);
    if (wr_log_topic_partitions(db, "crash") < 0) {
        wr_props c = WR_PROPS_INIT;
        wr_props_set(&c, "segment.bytes", "65536");
        wr_props_set(&c, "index.interval.bytes", "1024");
        wr_props_set(&c, "retention.ms", "-1");
        if (wr_log_topic_create(db, "crash", 2, &c, &err) != WR_OK)
            FAIL("child: create: %s", err.msg);
        wr_props_free(&c);
    }
    /* thread ids are unique per round so sequences never collide */
    writer w[3] = {{db, 0, round * 3, 0}, {db, 0, round * 3 + 1, 0}, {db, 1, round * 3 + 2, 0}};
    pthread_t th[4];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, writer_main, &w[i]);
    pthread_create(&th[3], NULL, maintainer_main, db);
    for (;;)
        pause(); /* until SIGKILL */
}

/* ---- the parent ------------------------------------------------------------------------ */

typedef struct acks {
    ack *v;
    size_t n, cap;
} acks;

/* Reads the partition from 0 and checks every batch; records the value of each offset. */
static char **
read_partition(wr_logdb *db, int32_t partition, int64_t *end_out)
{
    wr_partition *p;
    if (wr_log_partition(db, "crash", partition, &p) != WR_OK)
        FAIL("no partition %d after restart", partition);
    int64_t end = wr_log_end_offset(p);
    char **vals = calloc((size_t)end + 1, sizeof *vals);
    wr_buf out = WR_BUF_INIT, scratch = WR_BUF_INIT;
    int64_t off = wr_log_start_offset(p);
    if (off != 0)
        FAIL("partition %d starts at %lld, not 0", partition, (long long)off);
    while (off < end) {
        wr_log_read_result rr;
        wr_err err = {0};
        wr_buf_reset(&out);
        if (wr_log_read(p, off, 1 << 20, &out, &rr, &err) != WR_OK)
            FAIL("read %d@%lld: %s", partition, (long long)off, err.msg);
        if (rr.bytes == 0)
            FAIL("read %d@%lld returned nothing below the end %lld", partition, (long long)off,
                 (long long)end);
        for (size_t pos = 0; pos < out.len;) {
            size_t sz = wr_rbatch_size(out.data + pos, out.len - pos);
            wr_rbatch_hdr h;
            if (wr_rbatch_validate(out.data + pos, out.len - pos, &h, &err) != WR_OK)
                FAIL("corrupt batch served at %d@%lld: %s", partition, (long long)off, err.msg);
            if (h.base_offset != off)
                FAIL("batch at %lld where %lld was expected (gap or overlap)",
                     (long long)h.base_offset, (long long)off);
            wr_rbatch_iter it;
            if (wr_rbatch_iter_init(&it, out.data + pos, sz, &scratch, 1 << 24, &err) != WR_OK)
                FAIL("undecodable batch at %lld: %s", (long long)off, err.msg);
            wr_record r;
            int rc;
            while ((rc = wr_rbatch_iter_next(&it, &r, &err)) == 1) {
                if (r.offset != off)
                    FAIL("record offset %lld, expected %lld", (long long)r.offset, (long long)off);
                vals[off] = strndup((const char *)r.value, (size_t)r.value_len);
                off++;
            }
            if (rc < 0)
                FAIL("bad record in batch %lld: %s", (long long)h.base_offset, err.msg);
            pos += sz;
        }
    }
    wr_buf_free(&out);
    wr_buf_free(&scratch);
    *end_out = end;
    return vals;
}

static void
verify(const acks *a, int round)
{
    wr_log_opts o = {.flush = WR_LOG_FLUSH_SYNC};
    wr_logdb *db;
    wr_err err = {0};
    if (wr_log_open(dir, &o, &db, &err) != WR_OK)
        FAIL("round %d: reopen: %s", round, err.msg);
    int64_t end[2];
    char **vals[2];
    for (int p = 0; p < 2; p++)
        vals[p] = read_partition(db, p, &end[p]);
    for (size_t i = 0; i < a->n; i++) {
        const ack *k = &a->v[i];
        for (int32_t j = 0; j < k->count; j++) {
            int64_t off = k->base_offset + j;
            char want[128];
            value_of(want, sizeof want, k->thread, k->seq + j);
            if (off >= end[k->partition])
                FAIL("round %d: acknowledged offset %d@%lld lost (end %lld)", round, k->partition,
                     (long long)off, (long long)end[k->partition]);
            if (strcmp(vals[k->partition][off], want) != 0)
                FAIL("round %d: offset %d@%lld holds '%s', acknowledged '%s'", round, k->partition,
                     (long long)off, vals[k->partition][off], want);
        }
    }
    for (int p = 0; p < 2; p++) {
        for (int64_t i = 0; i < end[p]; i++)
            free(vals[p][i]);
        free(vals[p]);
    }
    printf("round %2d: %zu acknowledged batches intact; partitions end at %lld and %lld\n", round,
           a->n, (long long)end[0], (long long)end[1]);
    wr_log_close(db);
}

int
main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 25;
    char tmpl[] = "/tmp/wr_crash_XXXXXX";
    dir = mkdtemp(tmpl);
    if (!dir)
        FAIL("mkdtemp: %s", strerror(errno));
    wr_log_set_level(WR_LOG_ERROR);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    acks all = {0};
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        if (pipe(fds) != 0)
            FAIL("pipe");
        pid_t pid = fork();
        if (pid < 0)
            FAIL("fork");
        if (pid == 0) {
            close(fds[0]);
            child(fds[1], round);
        }
        close(fds[1]);
        usleep((useconds_t)(50000 + rand() % 250000));
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        if (!WIFSIGNALED(st))
            FAIL("round %d: the writer exited on its own (status %d)", round, st);
        ack k;
        ssize_t r;
        size_t fresh = 0;
        while ((r = read(fds[0], &k, sizeof k)) == (ssize_t)sizeof k) {
            if (all.n == all.cap) {
                all.cap = all.cap ? all.cap * 2 : 4096;
                all.v = realloc(all.v, all.cap * sizeof *all.v);
            }
            all.v[all.n++] = k;
            fresh++;
        }
        close(fds[0]);
        if (fresh == 0 && round > 0)
            fprintf(stderr, "round %d: the writer acknowledged nothing before the kill\n", round);
        verify(&all, round);
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    free(all.v);
    printf("ok: %d SIGKILLs, every acknowledged record read back intact\n", rounds);
    return 0;
}

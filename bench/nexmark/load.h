/*
 * load.h - Nexmark events into weir's embedded log: what bench/nexmark/gen (--log) and the
 * benchmark bench/nexmark/nexmark share. Header-only, over bench/bench.h.
 */
#ifndef WR_BENCH_NEXMARK_LOAD_H
#define WR_BENCH_NEXMARK_LOAD_H

#include "bench/bench.h"
#include "bench/nexmark/nexmark.h"

/* A topic of one partition (made if it is missing), as a borrowed handle. */
static inline wr_partition *
nx_log_topic(wr_logdb *db, const char *name)
{
    wr_err err = {0};
    if (wr_log_topic_partitions(db, name) < 0 &&
        wr_log_topic_create(db, name, 1, NULL, &err) != WR_OK)
        bench_die("topic", &err);
    wr_partition *p;
    if (wr_log_partition(db, name, 0, &p) != WR_OK)
        bench_die(name, NULL);
    return p;
}

/* Appends events [0, n) of c to the topics person, auction and bid (keys: person and auction id,
   the bid's auction; record time: the event time), then side_rows rows of q13's side input to
   side_input (record time: 1 ms before the first event, so a join by event time sees them first),
   in zstd batches of up to 500. Returns the bytes of the values written. */
static inline long
nx_log_load(wr_logdb *db, const nx_config *c, long n, long side_rows)
{
    wr_partition *p[3];
    wr_rbatch_builder bb[3];
    wr_buf batch = WR_BUF_INIT;
    for (int k = 0; k < 3; k++) {
        p[k] = nx_log_topic(db, nx_topics[k]);
        wr_rbatch_builder_init(&bb[k], WR_COMPRESSION_ZSTD);
    }
    char value[1200];
    long bytes = 0;
    nx_event e;
    for (long i = 0; i < n; i++) {
        nx_event_make(c, i, &e);
        int len = nx_event_json(&e, value, sizeof value);
        bytes += len;
        bench_add(p[e.kind], &bb[e.kind], &batch, nx_event_key(&e), e.date_time, value, len, false);
    }
    for (int k = 0; k < 3; k++) {
        bench_flush(p[k], &bb[k], &batch);
        wr_rbatch_builder_free(&bb[k]);
    }
    if (side_rows > 0) {
        wr_partition *sp = nx_log_topic(db, "side_input");
        wr_rbatch_builder_init(&bb[0], WR_COMPRESSION_ZSTD);
        for (long k = 0; k < side_rows; k++) {
            int len = nx_side_json(k, value, sizeof value);
            bench_add(sp, &bb[0], &batch, k, c->base_time - 1, value, len, k == side_rows - 1);
        }
        wr_rbatch_builder_free(&bb[0]);
    }
    wr_buf_free(&batch);
    return bytes;
}

#endif

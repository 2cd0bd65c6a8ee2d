/*
 * bench.h - what the benchmark programs share: a monotonic clock in seconds, and the decode
 * limit (reading, decompressing and decoding every value of a partition without a query) that
 * the SQL benchmarks print their ratios against. Header-only; each program is one file.
 */
#ifndef WR_BENCH_BENCH_H
#define WR_BENCH_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/format.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

static inline double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

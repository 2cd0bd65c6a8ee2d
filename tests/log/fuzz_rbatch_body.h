/*
 * fuzz_rbatch_body.h - the property the record batch fuzz target and its replay test check on
 * one input, a record batch v2 of any codec (none, gzip, snappy, lz4, zstd): parsing,
 * validating, decompressing, iterating records and their headers and compaction's filter never
 * crash or read out of bounds, and never use more than a bounded amount of memory. The input is
 * tried twice: as given, and with its CRC made right, so that mutations of the records get past
 * the checksum and reach the record walk. Then:
 *   - a batch wr_rbatch_validate_all accepts (the append's check: every record, compressed
 *     ones too) iterates to exactly its record count without an error;
 *   - filtering it keeping every record gives the same bytes;
 *   - filtering it keeping every other record gives a batch that validates and iterates to
 *     exactly the records kept.
 * Included by exactly one file per executable.
 */
#ifndef WR_TESTS_LOG_FUZZ_RBATCH_BODY_H
#define WR_TESTS_LOG_FUZZ_RBATCH_BODY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/buf.h"
#include "src/base/crc32c.h"
#include "src/log/rbatch.h"

#define WR_RBFUZZ_MAX_OUT (1u << 20) /* decompression bound: keeps each input cheap */

static bool
wr_rbfuzz_keep_all(void *arg, const wr_record *rec)
{
    (void)arg;
    (void)rec;
    return true;
}

static bool
wr_rbfuzz_keep_odd(void *arg, const wr_record *rec)
{
    (void)rec;
    int *i = arg;
    return (*i)++ % 2 == 1;
}

/* Iterates data[0..len): the records it yields (headers walked), or -1 on an error. */
static int64_t
wr_rbfuzz_walk(const uint8_t *data, size_t len, wr_buf *scratch)
{
    wr_rbatch_iter it;
    wr_err err = {0};
    if (wr_rbatch_iter_init(&it, data, len, scratch, WR_RBFUZZ_MAX_OUT, &err) != WR_OK)
        return -1;
    wr_record rec;
    int64_t n = 0;
    int rc;
    while ((rc = wr_rbatch_iter_next(&it, &rec, &err)) == 1) {
        wr_rd rd = wr_rd_make(rec.headers, rec.headers_len);
        wr_rheader h;
        int hrc, nh = 0;
        while ((hrc = wr_record_header_next(&rd, &h)) == 1)
            nh++;
        if (hrc < 0 || nh != rec.header_count)
            return -1;
        n++;
    }
    return rc < 0 ? -1 : n;
}

/* One try of the property on data[0..len) (writable). 0 when it holds, 1 when it breaks. */
static int
wr_rbfuzz_try(const uint8_t *data, size_t len, wr_buf *scratch)
{
    wr_rbatch_hdr h;
    wr_err err = {0};
    int valid = wr_rbatch_validate_all(data, len, &h, scratch, WR_RBFUZZ_MAX_OUT, &err) == WR_OK;
    int64_t walked = wr_rbfuzz_walk(data, len, scratch);
    if (valid && walked != h.records_count)
        return 1;
    if (!valid)
        return 0;
    size_t size = wr_rbatch_size(data, len);
    int bad = 0;
    wr_buf out = WR_BUF_INIT;
    int32_t kept = 0;
    int rc = wr_rbatch_filter(data, len, wr_rbfuzz_keep_all, NULL, &out, scratch, WR_RBFUZZ_MAX_OUT,
                              &kept, &err);
    if (rc == WR_OK && (out.len != size || memcmp(out.data, data, size) != 0))
        bad = 1;
    if (rc != WR_OK && walked >= 0)
        bad = 1; /* the filter refused what the iterator read */
    wr_buf_reset(&out);
    int i = 0;
    rc = wr_rbatch_filter(data, len, wr_rbfuzz_keep_odd, &i, &out, scratch, WR_RBFUZZ_MAX_OUT,
                          &kept, &err);
    if (rc == WR_OK) {
        wr_rbatch_hdr h2;
        if (wr_rbatch_validate(out.data, out.len, &h2, &err) != WR_OK || h2.records_count != kept ||
            wr_rbfuzz_walk(out.data, out.len, scratch) != kept)
            bad = 1;
    }
    wr_buf_free(&out);
    return bad;
}

/* Returns 0 when the property holds, 1 when it breaks. */
static int
wr_rbfuzz_one(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    wr_buf scratch = WR_BUF_INIT;
    int bad = wr_rbfuzz_try(copy, size, &scratch);
    /* the same bytes with the CRC they should have */
    size_t bsize = wr_rbatch_size(copy, size);
    if (!bad && bsize >= WR_RBATCH_HEADER_SIZE && bsize <= size) {
        uint32_t crc = wr_crc32c(0, copy + 21, bsize - 21);
        wr_be32_put(copy + 17, crc); /* OFF_CRC; the CRC covers attributes (21) .. end */
        bad = wr_rbfuzz_try(copy, size, &scratch);
    }
    wr_buf_free(&scratch);
    free(copy);
    return bad;
}

#endif

/* Unit tests for src/log/compress.c: round trips of every codec (empty, small, 1 MiB compressible
   and random), xerial-framed and raw snappy, the max_out limit (exact limit, one byte below,
   decompression bombs), corrupt and truncated inputs, and codec names. */
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/buf.h"
#include "src/log/compress.h"

#define MIB (1024 * 1024)

static const wr_compression codecs[] = {
    WR_COMPRESSION_NONE, WR_COMPRESSION_GZIP, WR_COMPRESSION_SNAPPY,
    WR_COMPRESSION_LZ4,  WR_COMPRESSION_ZSTD,
};
#define NCODECS (sizeof codecs / sizeof codecs[0])

static const char prefix[] = "previous contents";
#define PREFIX_LEN (sizeof prefix - 1)

/* ---- inputs ---------------------------------------------------------------------------- */

static uint64_t rng;

static uint64_t
next_rand(void)
{
    /* xorshift64*: deterministic, so a failure reproduces */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static uint8_t *
random_bytes(size_t n, uint64_t seed)
{
    rng = seed;
    uint8_t *p = malloc(n ? n : 1);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(next_rand() >> 56);
    return p;
}

/* Log-like text: repetitive enough that every codec shrinks it a lot. */
static uint8_t *
text_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    cr_assert_not_null(p);
    size_t off = 0;
    for (unsigned i = 0; off < n; i++) {
        char line[96];
        int k = snprintf(line, sizeof line, "{\"id\":%u,\"user\":\"user-%u\",\"event\":\"%s\"}\n",
                         i, i % 97, i % 3 ? "click" : "view");
        for (int j = 0; j < k && off < n; j++)
            p[off++] = (uint8_t)line[j];
    }
    return p;
}

static void
compress_ok(wr_compression c, const uint8_t *in, size_t n, wr_buf *z)
{
    wr_err err = {0};
    cr_assert_eq(wr_compress(c, in, n, z, &err), WR_OK, "%s: compress of %zu bytes: %s",
                 wr_compression_name(c), n, err.msg);
    cr_assert(wr_buf_ok(z));
}

/* Decompresses z with max_out == n exactly and checks the bytes come back. */
static void
check_round_trip(wr_compression c, const uint8_t *in, size_t n)
{
    wr_buf z = WR_BUF_INIT, out = WR_BUF_INIT;
    wr_err err = {0};
    compress_ok(c, in, n, &z);
    if (c == WR_COMPRESSION_NONE) {
        cr_assert_eq(z.len, n);
    }
    int rc = wr_decompress(c, z.data, z.len, &out, n, &err);
    cr_assert_eq(rc, WR_OK, "%s: decompress of %zu bytes: %s", wr_compression_name(c), n, err.msg);
    cr_assert_eq(out.len, n, "%s: got %zu bytes, want %zu", wr_compression_name(c), out.len, n);
    if (n > 0) {
        cr_assert_eq(memcmp(out.data, in, n), 0, "%s: bytes differ", wr_compression_name(c));
    }
    wr_buf_free(&z);
    wr_buf_free(&out);
}

/* ---- round trips ----------------------------------------------------------------------- */

Test(log_compress, round_trip_empty)
{
    static const uint8_t nothing[1] = {0};
    for (size_t i = 0; i < NCODECS; i++)
        check_round_trip(codecs[i], nothing, 0);
}

Test(log_compress, round_trip_small)
{
    static const size_t sizes[] = {1, 2, 5, 17, 100, 1000, 4096};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint8_t *t = text_bytes(sizes[s]);
        uint8_t *r = random_bytes(sizes[s], 1 + s);
        for (size_t i = 0; i < NCODECS; i++) {
            check_round_trip(codecs[i], t, sizes[s]);
            check_round_trip(codecs[i], r, sizes[s]);
        }
        free(t);
        free(r);
    }
    const uint8_t hello[] = "hello, world";
    for (size_t i = 0; i < NCODECS; i++)
        check_round_trip(codecs[i], hello, sizeof hello - 1);
}

Test(log_compress, round_trip_around_step_and_block_sizes)
{
    /* 64 KiB is the decompression step, 32 KiB the xerial block: probe either side */
    static const size_t sizes[] = {32 * 1024 - 1, 32 * 1024,     32 * 1024 + 1, 64 * 1024 - 1,
                                   64 * 1024,     64 * 1024 + 1, 128 * 1024,    192 * 1024 + 7};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint8_t *t = text_bytes(sizes[s]);
        uint8_t *r = random_bytes(sizes[s], 100 + s);
        for (size_t i = 0; i < NCODECS; i++) {
            check_round_trip(codecs[i], t, sizes[s]);
            check_round_trip(codecs[i], r, sizes[s]);
        }
        free(t);
        free(r);
    }
}

Test(log_compress, round_trip_1mib_compressible)
{
    uint8_t *t = text_bytes(MIB);
    for (size_t i = 0; i < NCODECS; i++) {
        wr_compression c = codecs[i];
        check_round_trip(c, t, MIB);
        if (c == WR_COMPRESSION_NONE)
            continue;
        wr_buf z = WR_BUF_INIT;
        compress_ok(c, t, MIB, &z);
        cr_assert_lt(z.len, MIB / 4, "%s compressed 1 MiB of text to %zu bytes only",
                     wr_compression_name(c), z.len);
        wr_buf_free(&z);
    }
    free(t);
}

Test(log_compress, round_trip_1mib_random)
{
    uint8_t *r = random_bytes(MIB, 42);
    for (size_t i = 0; i < NCODECS; i++)
        check_round_trip(codecs[i], r, MIB);
    free(r);
}

Test(log_compress, compress_and_decompress_append)
{
    uint8_t *t = text_bytes(10000);
    for (size_t i = 0; i < NCODECS; i++) {
        wr_compression c = codecs[i];
        wr_buf z = WR_BUF_INIT, out = WR_BUF_INIT;
        wr_err err = {0};
        wr_buf_append(&z, prefix, PREFIX_LEN);
        compress_ok(c, t, 10000, &z);
        cr_assert_eq(memcmp(z.data, prefix, PREFIX_LEN), 0);
        wr_buf_append(&out, prefix, PREFIX_LEN);
        cr_assert_eq(wr_decompress(c, z.data + PREFIX_LEN, z.len - PREFIX_LEN, &out, 10000, &err),
                     WR_OK, "%s: %s", wr_compression_name(c), err.msg);
        cr_assert_eq(out.len, PREFIX_LEN + 10000);
        cr_assert_eq(memcmp(out.data, prefix, PREFIX_LEN), 0);
        cr_assert_eq(memcmp(out.data + PREFIX_LEN, t, 10000), 0);
        wr_buf_free(&z);
        wr_buf_free(&out);
    }
    free(t);
}

Test(log_compress, unknown_codec_is_unsupported)
{
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    const uint8_t in[4] = {1, 2, 3, 4};
    cr_assert_eq(wr_compress((wr_compression)5, in, 4, &out, &err), WR_EUNSUPP);
    cr_assert_eq(err.code, WR_EUNSUPP);
    cr_assert_eq(wr_decompress((wr_compression)7, in, 4, &out, 100, &err), WR_EUNSUPP);
    cr_assert_eq(out.len, 0);
    wr_buf_free(&out);
}

/* ---- snappy: xerial framing and raw blocks --------------------------------------------- */

Test(log_compress, snappy_writes_xerial_framing)
{
    size_t n = 100 * 1000; /* four 32 KiB blocks, the last one short */
    uint8_t *t = text_bytes(n);
    wr_buf z = WR_BUF_INIT;
    compress_ok(WR_COMPRESSION_SNAPPY, t, n, &z);
    static const uint8_t head[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    cr_assert_geq(z.len, 16);
    cr_assert_eq(memcmp(z.data, head, 16), 0, "xerial magic, version 1, compatible version 1");
    /* walk the [be32 length][raw snappy] blocks: each decodes to at most 32 KiB */
    size_t off = 16, total = 0, blocks = 0;
    while (off < z.len) {
        cr_assert_leq(off + 4, z.len);
        size_t blen = wr_be32_get(z.data + off);
        off += 4;
        cr_assert_leq(off + blen, z.len);
        size_t ulen;
        cr_assert_eq(snappy_uncompressed_length((const char *)z.data + off, blen, &ulen),
                     SNAPPY_OK);
        cr_assert_leq(ulen, 32 * 1024);
        char *blk = malloc(ulen ? ulen : 1);
        size_t got = ulen;
        cr_assert_eq(snappy_uncompress((const char *)z.data + off, blen, blk, &got), SNAPPY_OK);
        cr_assert_eq(memcmp(blk, t + total, got), 0);
        free(blk);
        total += ulen;
        off += blen;
        blocks++;
    }
    cr_assert_eq(off, z.len);
    cr_assert_eq(total, n);
    cr_assert_eq(blocks, 4);
    wr_buf_free(&z);
    free(t);
}

/* Compresses in[0..n) as one raw snappy block (no framing) with the library directly. */
static void
raw_snappy(const uint8_t *in, size_t n, wr_buf *out)
{
    size_t bound = snappy_max_compressed_length(n);
    uint8_t *dst = wr_buf_extend(out, bound);
    cr_assert_not_null(dst);
    size_t got = bound;
    cr_assert_eq(snappy_compress((const char *)in, n, (char *)dst, &got), SNAPPY_OK);
    out->len -= bound - got;
}

Test(log_compress, snappy_decodes_raw_blocks)
{
    wr_err err = {0};
    /* hand-assembled: length 5, one literal of 5 bytes (tag (5 - 1) << 2) */
    static const uint8_t lit[] = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};
    wr_buf out = WR_BUF_INIT;
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, lit, sizeof lit, &out, 5, &err), WR_OK, "%s",
                 err.msg);
    cr_assert_eq(out.len, 5);
    cr_assert_eq(memcmp(out.data, "hello", 5), 0);
    /* one byte below the stated length: refused before decoding */
    wr_buf_reset(&out);
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, lit, sizeof lit, &out, 4, &err), WR_ETOOBIG);
    cr_assert_eq(out.len, 0);
    /* "ab" then a copy of offset 2, length 4: "ababab" */
    static const uint8_t copy[] = {0x06, 0x04, 'a', 'b', 0x01, 0x02};
    wr_buf_reset(&out);
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, copy, sizeof copy, &out, 100, &err), WR_OK,
                 "%s", err.msg);
    cr_assert_eq(out.len, 6);
    cr_assert_eq(memcmp(out.data, "ababab", 6), 0);
    /* the empty raw block is a single zero length */
    static const uint8_t empty[] = {0x00};
    wr_buf_reset(&out);
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, empty, 1, &out, 0, &err), WR_OK, "%s",
                 err.msg);
    cr_assert_eq(out.len, 0);

    /* larger raw blocks as librdkafka writes them (one block for the whole message set) */
    static const size_t sizes[] = {1, 15, 16, 100, 40000, MIB};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int kind = 0; kind < 2; kind++) {
            size_t n = sizes[s];
            uint8_t *in = kind ? random_bytes(n, 7 + s) : text_bytes(n);
            wr_buf z = WR_BUF_INIT;
            raw_snappy(in, n, &z);
            wr_buf_reset(&out);
            cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, z.data, z.len, &out, n, &err), WR_OK,
                         "raw snappy of %zu bytes: %s", n, err.msg);
            cr_assert_eq(out.len, n);
            cr_assert_eq(memcmp(out.data, in, n), 0);
            wr_buf_free(&z);
            free(in);
        }
    }
    wr_buf_free(&out);
}

Test(log_compress, snappy_decodes_hand_built_xerial)
{
    /* blocks of uneven sizes, as a Java client with a different block size could write */
    size_t n = 70000;
    uint8_t *in = text_bytes(n);
    static const size_t cuts[] = {0, 1000, 1000, 50000, 70000}; /* includes an empty block */
    wr_buf z = WR_BUF_INIT;
    static const uint8_t head[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    wr_buf_append(&z, head, 16);
    for (size_t i = 1; i < sizeof cuts / sizeof cuts[0]; i++) {
        wr_buf blk = WR_BUF_INIT;
        raw_snappy(in + cuts[i - 1], cuts[i] - cuts[i - 1], &blk);
        wr_buf_put_be32(&z, (uint32_t)blk.len);
        wr_buf_append(&z, blk.data, blk.len);
        wr_buf_free(&blk);
    }
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, z.data, z.len, &out, n, &err), WR_OK, "%s",
                 err.msg);
    cr_assert_eq(out.len, n);
    cr_assert_eq(memcmp(out.data, in, n), 0);
    /* the limit counts all blocks together */
    wr_buf_reset(&out);
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, z.data, z.len, &out, n - 1, &err),
                 WR_ETOOBIG);
    cr_assert_eq(out.len, 0);
    /* a block length running past the end */
    wr_buf_reset(&out);
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, z.data, z.len - 1, &out, n, &err),
                 WR_ECOMPRESS);
    cr_assert_eq(out.len, 0);
    /* a stray byte after the last block (a truncated length field) */
    wr_buf_put_u8(&z, 0);
    wr_buf_reset(&out);
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, z.data, z.len, &out, n, &err), WR_ECOMPRESS);
    cr_assert_eq(out.len, 0);
    wr_buf_free(&z);
    wr_buf_free(&out);
    free(in);
}

/* ---- max_out --------------------------------------------------------------------------- */

/* Decompresses z into a buffer holding the prefix with max_out = limit; checks the result and
   that a failure leaves the prefix alone. */
static void
check_limit(wr_compression c, const wr_buf *z, const uint8_t *in, size_t n, size_t limit)
{
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    wr_buf_append(&out, prefix, PREFIX_LEN);
    int rc = wr_decompress(c, z->data, z->len, &out, limit, &err);
    if (limit >= n) {
        cr_assert_eq(rc, WR_OK, "%s: %zu bytes with max_out %zu: %s", wr_compression_name(c), n,
                     limit, err.msg);
        cr_assert_eq(out.len, PREFIX_LEN + n);
        if (n > 0) {
            cr_assert_eq(memcmp(out.data + PREFIX_LEN, in, n), 0);
        }
    } else {
        cr_assert_eq(rc, WR_ETOOBIG, "%s: %zu bytes with max_out %zu gave %d",
                     wr_compression_name(c), n, limit, rc);
        cr_assert_eq(err.code, WR_ETOOBIG);
        cr_assert_eq(out.len, PREFIX_LEN, "%s: output length changed on failure",
                     wr_compression_name(c));
    }
    cr_assert_eq(memcmp(out.data, prefix, PREFIX_LEN), 0);
    wr_buf_free(&out);
}

Test(log_compress, max_out_exact_limit_passes_one_below_fails)
{
    static const size_t sizes[] = {0, 1, 100, 64 * 1024, 64 * 1024 + 1, 300 * 1000, MIB};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        for (int kind = 0; kind < 2; kind++) {
            uint8_t *in = kind ? random_bytes(n, 9 + s) : text_bytes(n);
            for (size_t i = 0; i < NCODECS; i++) {
                wr_compression c = codecs[i];
                wr_buf z = WR_BUF_INIT;
                compress_ok(c, in, n, &z);
                check_limit(c, &z, in, n, n);
                check_limit(c, &z, in, n, n + 1);
                check_limit(c, &z, in, n, SIZE_MAX);
                if (n > 0) {
                    check_limit(c, &z, in, n, n - 1);
                    check_limit(c, &z, in, n, n / 2);
                    check_limit(c, &z, in, n, 0);
                }
                wr_buf_free(&z);
            }
            free(in);
        }
    }
}

Test(log_compress, decompression_bomb_is_refused_early)
{
    /* 16 MiB of zeros compress to a few KiB; decoding with a 64 KiB limit must stop early
       without allocating the whole output */
    size_t n = 16 * MIB;
    uint8_t *zeros = calloc(1, n);
    cr_assert_not_null(zeros);
    for (size_t i = 1; i < NCODECS; i++) {
        wr_compression c = codecs[i];
        wr_buf z = WR_BUF_INIT, out = WR_BUF_INIT;
        wr_err err = {0};
        compress_ok(c, zeros, n, &z);
        wr_buf_append(&out, prefix, PREFIX_LEN);
        cr_assert_eq(wr_decompress(c, z.data, z.len, &out, 64 * 1024, &err), WR_ETOOBIG, "%s",
                     wr_compression_name(c));
        cr_assert_eq(out.len, PREFIX_LEN);
        cr_assert_eq(memcmp(out.data, prefix, PREFIX_LEN), 0);
        cr_assert_lt(out.cap, MIB, "%s allocated %zu bytes for a 64 KiB limit",
                     wr_compression_name(c), out.cap);
        wr_buf_free(&z);
        wr_buf_free(&out);
    }
    free(zeros);
}

/* ---- corrupt and truncated input ------------------------------------------------------- */

/* Expects wr_decompress to fail with WR_ECOMPRESS (or WR_ETOOBIG when allowed) on in[0..n),
   copied to a buffer of exactly n bytes so that an over-read shows under ASan. */
static void
expect_reject(
    wr_compression c, const uint8_t *in, size_t n, size_t max_out, bool toobig_ok, const char *what)
{
    uint8_t *copy = malloc(n ? n : 1);
    cr_assert_not_null(copy);
    if (n > 0)
        memcpy(copy, in, n);
    wr_buf out = WR_BUF_INIT;
    wr_err err = {0};
    wr_buf_append(&out, prefix, PREFIX_LEN);
    int rc = wr_decompress(c, copy, n, &out, max_out, &err);
    cr_assert(rc == WR_ECOMPRESS || (toobig_ok && rc == WR_ETOOBIG),
              "%s: %s of %zu bytes gave %d (%s)", wr_compression_name(c), what, n, rc,
              rc ? err.msg : "accepted");
    cr_assert_eq(err.code, rc);
    cr_assert_eq(out.len, PREFIX_LEN, "%s: %s changed the output length", wr_compression_name(c),
                 what);
    cr_assert_eq(memcmp(out.data, prefix, PREFIX_LEN), 0);
    wr_buf_free(&out);
    free(copy);
}

Test(log_compress, truncated_input_is_rejected)
{
    size_t n = 3000;
    uint8_t *in = text_bytes(n);
    for (size_t i = 1; i < NCODECS; i++) {
        wr_compression c = codecs[i];
        wr_buf z = WR_BUF_INIT;
        compress_ok(c, in, n, &z);
        for (size_t cut = 0; cut < z.len; cut++) {
            /* a xerial stream cut right after its 16-byte header is a valid empty stream: the
               framing has no total length, so a cut at a block boundary cannot be seen */
            if (c == WR_COMPRESSION_SNAPPY && cut == 16)
                continue;
            /* under 16 bytes the stream is read as raw snappy, whose length varint (the
               xerial magic, 0x82 0x53: 10626 bytes) may pass the limit */
            expect_reject(c, z.data, cut, n, c == WR_COMPRESSION_SNAPPY && cut < 16, "truncation");
        }
        wr_buf_free(&z);
    }
    free(in);
}

Test(log_compress, truncated_large_input_is_rejected)
{
    /* multi-step outputs: cuts in the middle of the stream and just before its end */
    size_t n = 400 * 1000;
    for (int kind = 0; kind < 2; kind++) {
        uint8_t *in = kind ? random_bytes(n, 77) : text_bytes(n);
        for (size_t i = 1; i < NCODECS; i++) {
            wr_compression c = codecs[i];
            wr_buf z = WR_BUF_INIT;
            compress_ok(c, in, n, &z);
            size_t cuts[] = {1, 10, z.len / 3, z.len / 2, z.len - 9, z.len - 2, z.len - 1};
            for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
                size_t cut = cuts[k];
                if (c == WR_COMPRESSION_SNAPPY) {
                    /* move off a block boundary (see truncated_input_is_rejected) */
                    size_t off = 16;
                    while (off + 4 <= z.len && off < cut)
                        off += 4 + wr_be32_get(z.data + off);
                    if (off == cut)
                        cut--;
                }
                expect_reject(c, z.data, cut, n, c == WR_COMPRESSION_SNAPPY && cut < 16,
                              "truncation");
            }
            wr_buf_free(&z);
        }
        free(in);
    }
}

Test(log_compress, garbage_is_rejected)
{
    for (size_t i = 1; i < NCODECS; i++) {
        wr_compression c = codecs[i];
        for (uint64_t seed = 1; seed <= 50; seed++) {
            size_t n = (size_t)(seed * 37 % 500);
            uint8_t *g = random_bytes(n, seed);
            /* raw snappy states its length up front: random bytes may claim too much */
            expect_reject(c, g, n, MIB, c == WR_COMPRESSION_SNAPPY, "garbage");
            free(g);
        }
        uint8_t zeros[64] = {0}, ones[64];
        memset(ones, 0xff, sizeof ones);
        expect_reject(c, zeros, sizeof zeros, MIB, false, "zeros");
        expect_reject(c, ones, sizeof ones, MIB, false, "0xff bytes");
    }
}

Test(log_compress, damaged_magic_or_checksum_is_rejected)
{
    size_t n = 5000;
    uint8_t *in = text_bytes(n);
    for (size_t i = 1; i < NCODECS; i++) {
        wr_compression c = codecs[i];
        wr_buf z = WR_BUF_INIT;
        compress_ok(c, in, n, &z);
        uint8_t *d = malloc(z.len);
        memcpy(d, z.data, z.len);
        d[0] ^= 0x01; /* gzip id1, lz4/zstd magic, xerial magic (then read as raw snappy) */
        expect_reject(c, d, z.len, MIB, c == WR_COMPRESSION_SNAPPY, "damaged magic");
        memcpy(d, z.data, z.len);
        d[1] ^= 0x40;
        expect_reject(c, d, z.len, MIB, c == WR_COMPRESSION_SNAPPY, "damaged magic");
        if (c == WR_COMPRESSION_GZIP) {
            /* the trailer: CRC-32, then ISIZE */
            memcpy(d, z.data, z.len);
            d[z.len - 8] ^= 0x01;
            expect_reject(c, d, z.len, MIB, false, "wrong gzip crc");
            memcpy(d, z.data, z.len);
            d[z.len - 1] ^= 0x01;
            expect_reject(c, d, z.len, MIB, false, "wrong gzip size");
        }
        if (c == WR_COMPRESSION_SNAPPY) {
            /* a block length claiming more than is there */
            memcpy(d, z.data, z.len);
            wr_be32_put(d + 16, wr_be32_get(d + 16) + 1);
            expect_reject(c, d, z.len, MIB, false, "long xerial block");
            /* a block length claiming less than is there */
            memcpy(d, z.data, z.len);
            wr_be32_put(d + 16, wr_be32_get(d + 16) - 1);
            expect_reject(c, d, z.len, MIB, false, "short xerial block");
        }
        free(d);
        wr_buf_free(&z);
    }
    free(in);
}

Test(log_compress, byte_flips_never_crash)
{
    /* without checksums some flips decode to other bytes; none may crash or break the limit */
    size_t n = 2000;
    uint8_t *in = text_bytes(n);
    for (size_t i = 1; i < NCODECS; i++) {
        wr_compression c = codecs[i];
        wr_buf z = WR_BUF_INIT;
        compress_ok(c, in, n, &z);
        uint8_t *d = malloc(z.len);
        for (size_t pos = 0; pos < z.len; pos++) {
            static const uint8_t flips[] = {0x01, 0x80, 0xff};
            for (size_t f = 0; f < sizeof flips; f++) {
                memcpy(d, z.data, z.len);
                d[pos] ^= flips[f];
                wr_buf out = WR_BUF_INIT;
                wr_err err = {0};
                wr_buf_append(&out, prefix, PREFIX_LEN);
                int rc = wr_decompress(c, d, z.len, &out, 2 * n, &err);
                if (rc == WR_OK) {
                    cr_assert_leq(out.len, PREFIX_LEN + 2 * n);
                } else {
                    cr_assert(rc == WR_ECOMPRESS || rc == WR_ETOOBIG, "%s: flip at %zu gave %d",
                              wr_compression_name(c), pos, rc);
                    cr_assert_eq(out.len, PREFIX_LEN);
                }
                wr_buf_free(&out);
            }
        }
        free(d);
        wr_buf_free(&z);
    }
    free(in);
}

/* ---- names ----------------------------------------------------------------------------- */

Test(log_compress, names)
{
    cr_assert_str_eq(wr_compression_name(WR_COMPRESSION_NONE), "none");
    cr_assert_str_eq(wr_compression_name(WR_COMPRESSION_GZIP), "gzip");
    cr_assert_str_eq(wr_compression_name(WR_COMPRESSION_SNAPPY), "snappy");
    cr_assert_str_eq(wr_compression_name(WR_COMPRESSION_LZ4), "lz4");
    cr_assert_str_eq(wr_compression_name(WR_COMPRESSION_ZSTD), "zstd");
    cr_assert_null(wr_compression_name((wr_compression)5));
    cr_assert_null(wr_compression_name((wr_compression)7));
    cr_assert_null(wr_compression_name((wr_compression)1000));
}

Test(log_compress, parse_is_case_insensitive)
{
    static const struct {
        const char *name;
        wr_compression codec;
    } ok[] = {
        {"none", WR_COMPRESSION_NONE},     {"NONE", WR_COMPRESSION_NONE},
        {"gzip", WR_COMPRESSION_GZIP},     {"GZip", WR_COMPRESSION_GZIP},
        {"snappy", WR_COMPRESSION_SNAPPY}, {"SNAPPY", WR_COMPRESSION_SNAPPY},
        {"lz4", WR_COMPRESSION_LZ4},       {"LZ4", WR_COMPRESSION_LZ4},
        {"zstd", WR_COMPRESSION_ZSTD},     {"ZsTd", WR_COMPRESSION_ZSTD},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        wr_compression c = (wr_compression)99;
        cr_assert(wr_compression_parse(ok[i].name, &c), "%s", ok[i].name);
        cr_assert_eq(c, ok[i].codec, "%s", ok[i].name);
    }
    /* every name parses back to its code */
    for (int i = 0; i <= WR_COMPRESSION_ZSTD; i++) {
        wr_compression c = (wr_compression)99;
        cr_assert(wr_compression_parse(wr_compression_name((wr_compression)i), &c));
        cr_assert_eq((int)c, i);
    }
}

Test(log_compress, parse_rejects_unknown_names)
{
    static const char *const bad[] = {"",     "gz",       "zstd ", " zstd", "lz4x",   "brotli",
                                      "snap", "producer", "0",     "1",     "zstd\n", "gzip2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wr_compression c = (wr_compression)99;
        cr_assert_not(wr_compression_parse(bad[i], &c), "'%s' parsed", bad[i]);
        cr_assert_eq((int)c, 99, "'%s' changed the output", bad[i]);
    }
}

/* Found by fuzz_rbatch: a snappy block that decompresses to nothing, into a buffer that has no
   memory yet, handed snappy a NULL + 0 destination (undefined behaviour, reported by UBSan). */
Test(log_compress, snappy_empty_block_into_empty_buffer)
{
    wr_err err = {0};
    static const uint8_t raw[] = {0x00};
    wr_buf out = WR_BUF_INIT;
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, raw, sizeof raw, &out, 100, &err), WR_OK,
                 "%s", err.msg);
    cr_assert_eq(out.len, 0);
    wr_buf_free(&out);
    static const uint8_t xerial[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1,
                                     0,    0,   0,   1,   0,   0,   0,   1, 0x00};
    out = (wr_buf)WR_BUF_INIT;
    cr_assert_eq(wr_decompress(WR_COMPRESSION_SNAPPY, xerial, sizeof xerial, &out, 100, &err),
                 WR_OK, "%s", err.msg);
    cr_assert_eq(out.len, 0);
    wr_buf_free(&out);
}

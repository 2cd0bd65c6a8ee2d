/*
 * compress.c - the four Kafka compression codecs over zlib, snappy-c, liblz4 (frame API) and
 * libzstd.
 *
 * Decompression is always streamed into the output buffer in bounded steps and stops with
 * WR_ETOOBIG as soon as the output would pass max_out, so a small hostile batch cannot make us
 * allocate gigabytes. Snappy has no streaming API, but its header states the uncompressed size,
 * which is checked before any allocation. Compression allocates the worst-case bound up front.
 *
 * Snappy comes in two shapes on the wire: raw snappy (librdkafka's default) and the xerial
 * framing the Java client writes (magic "\x82SNAPPY\0", version, compatible version, then
 * [be32 length][raw snappy block] repeated). Both decode; weir writes the xerial form so that
 * every client, old Java ones included, can read it.
 */
#include "src/log/compress.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <strings.h>
#include <zlib.h>

#include <zstd.h>

#include "src/base/fault.h"

#define STEP (64 * 1024)

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

static int
oom(wr_err *err)
{
    return wr_err_set(err, WR_ENOMEM, "out of memory while (de)compressing");
}

/* Makes room for one more step of output. The room may pass max_out by one byte, so that a
   stream ending exactly at max_out (or an empty one with max_out 0) can still finish, while one
   byte more is seen as too big (here, or by wr_decompress once the stream has ended). */
static int
grow(wr_buf *out, size_t start, size_t max_out, size_t *room, wr_err *err)
{
    size_t produced = out->len - start;
    if (produced > max_out)
        return wr_err_set(err, WR_ETOOBIG, "decompressed data exceeds %zu bytes", max_out);
    size_t want = max_out - produced < STEP ? max_out - produced + 1 : STEP;
    if (!wr_buf_reserve(out, want))
        return oom(err);
    *room = want;
    return WR_OK;
}

/* ---- gzip ------------------------------------------------------------------------------ */

static int
gzip_compress(const uint8_t *in, size_t len, wr_buf *out, wr_err *err)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return oom(err);
    size_t bound = deflateBound(&zs, (uLong)len) + 32;
    uint8_t *dst = wr_buf_extend(out, bound);
    if (!dst) {
        deflateEnd(&zs);
        return oom(err);
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = dst;
    zs.avail_out = (uInt)bound;
    int zr = deflate(&zs, Z_FINISH);
    size_t produced = bound - zs.avail_out;
    deflateEnd(&zs);
    out->len -= bound - produced;
    if (zr != Z_STREAM_END)
        return wr_err_set(err, WR_ECOMPRESS, "gzip compression failed (%d)", zr);
    return WR_OK;
}

static int
gzip_decompress(const uint8_t *in, size_t len, wr_buf *out, size_t max_out, wr_err *err)
{
    z_stream zs = {0};
    if (inflateInit2(&zs, 15 + 32) != Z_OK) /* gzip or zlib header, detected */
        return oom(err);
    size_t start = out->len;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    int rc = WR_OK;
    for (;;) {
        size_t room;
        if ((rc = grow(out, start, max_out, &room, err)) != WR_OK)
            break;
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        out->len += room - zs.avail_out;
        if (zr == Z_STREAM_END) {
            /* concatenated gzip members are legal; Kafka clients write one */
            if (zs.avail_in == 0)
                break;
            if (inflateReset(&zs) != Z_OK) {
                rc = wr_err_set(err, WR_ECOMPRESS, "gzip: cannot reset stream");
                break;
            }
            continue;
        }
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && zs.avail_out == 0)) {
            rc = wr_err_set(err, WR_ECOMPRESS, "gzip: corrupt data (%s)",
                            zs.msg ? zs.msg : "truncated");
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

/* ---- snappy ---------------------------------------------------------------------------- */

static int
snappy_raw_decompress(
    const uint8_t *in, size_t len, wr_buf *out, size_t start, size_t max_out, wr_err *err)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK)
        return wr_err_set(err, WR_ECOMPRESS, "snappy: corrupt header");
    if (n > max_out - (out->len - start))
        return wr_err_set(err, WR_ETOOBIG, "decompressed data exceeds %zu bytes", max_out);
    if (!wr_buf_reserve(out, n))
        return oom(err);
    size_t got = n;
    char none; /* an empty block: out may have no memory yet, and NULL + 0 is undefined */
    char *dst = n > 0 ? (char *)out->data + out->len : &none;
    if (snappy_uncompress((const char *)in, len, dst, &got) != SNAPPY_OK ||
        got != n)
        return wr_err_set(err, WR_ECOMPRESS, "snappy: corrupt data");
    out->len += n;
    return WR_OK;
}

static int
snappy_decompress(const uint8_t *in, size_t len, wr_buf *out, size_t max_out, wr_err *err)
{
    size_t start = out->len;
    if (len < 16 || memcmp(in, xerial_magic, 8) != 0)
        return snappy_raw_decompress(in, len, out, start, max_out, err);
    wr_rd rd = wr_rd_make(in + 16, len - 16);
    while (wr_rd_left(&rd) > 0) {
        uint32_t blen = wr_rd_be32(&rd);
        const uint8_t *blk = wr_rd_take(&rd, blen);
        if (!blk)
            return wr_err_set(err, WR_ECOMPRESS, "snappy: truncated xerial block");
        int rc = snappy_raw_decompress(blk, blen, out, start, max_out, err);
        if (rc != WR_OK)
            return rc;
    }
    return WR_OK;
}

static int
snappy_compress_xerial(const uint8_t *in, size_t len, wr_buf *out, wr_err *err)
{
    /* header: magic, version 1, minimum compatible version 1 (as snappy-java writes) */
    wr_buf_append(out, xerial_magic, 8);
    wr_buf_put_be32(out, 1);
    wr_buf_put_be32(out, 1);
    const size_t block = 32 * 1024; /* snappy-java's default block size */
    for (size_t off = 0; off < len || (len == 0 && off == 0); off += block) {
        size_t n = len - off < block ? len - off : block;
        size_t bound = snappy_max_compressed_length(n);
        uint8_t *hdr = wr_buf_extend(out, 4 + bound);
        if (!hdr)
            return oom(err);
        size_t got = bound;
        if (snappy_compress((const char *)in + off, n, (char *)hdr + 4, &got) != SNAPPY_OK)
            return wr_err_set(err, WR_ECOMPRESS, "snappy compression failed");
        wr_be32_put(hdr, (uint32_t)got);
        out->len -= bound - got;
        if (len == 0)
            break;
    }
    return wr_buf_ok(out) ? WR_OK : oom(err);
}

/* ---- lz4 ------------------------------------------------------------------------------- */

static int
lz4_compress(const uint8_t *in, size_t len, wr_buf *out, wr_err *err)
{
    LZ4F_preferences_t prefs = {0};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB; /* what librdkafka and the Java client use */
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    uint8_t *dst = wr_buf_extend(out, bound);
    if (!dst)
        return oom(err);
    size_t n = LZ4F_compressFrame(dst, bound, in, len, &prefs);
    if (LZ4F_isError(n)) {
        out->len -= bound;
        return wr_err_set(err, WR_ECOMPRESS, "lz4: %s", LZ4F_getErrorName(n));
    }
    out->len -= bound - n;
    return WR_OK;
}

static int
lz4_decompress(const uint8_t *in, size_t len, wr_buf *out, size_t max_out, wr_err *err)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return oom(err);
    size_t start = out->len, pos = 0;
    int rc = WR_OK;
    for (;;) {
        size_t room;
        if ((rc = grow(out, start, max_out, &room, err)) != WR_OK)
            break;
        size_t src_n = len - pos, dst_n = room;
        size_t hint = LZ4F_decompress(dctx, out->data + out->len, &dst_n, in + pos, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = wr_err_set(err, WR_ECOMPRESS, "lz4: %s", LZ4F_getErrorName(hint));
            break;
        }
        out->len += dst_n;
        pos += src_n;
        if (hint == 0) /* frame complete */
            break;
        if (pos >= len && dst_n < room) {
            rc = wr_err_set(err, WR_ECOMPRESS, "lz4: truncated frame");
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

/* ---- zstd ------------------------------------------------------------------------------ */

static int
zstd_compress(const uint8_t *in, size_t len, wr_buf *out, wr_err *err)
{
    size_t bound = ZSTD_compressBound(len);
    uint8_t *dst = wr_buf_extend(out, bound);
    if (!dst)
        return oom(err);
    size_t n = ZSTD_compress(dst, bound, in, len, 3);
    if (ZSTD_isError(n)) {
        out->len -= bound;
        return wr_err_set(err, WR_ECOMPRESS, "zstd: %s", ZSTD_getErrorName(n));
    }
    out->len -= bound - n;
    return WR_OK;
}

static int
zstd_decompress(const uint8_t *in, size_t len, wr_buf *out, size_t max_out, wr_err *err)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        return oom(err);
    size_t start = out->len;
    ZSTD_inBuffer ib = {in, len, 0};
    int rc = WR_OK;
    for (;;) {
        size_t room;
        if ((rc = grow(out, start, max_out, &room, err)) != WR_OK)
            break;
        ZSTD_outBuffer ob = {out->data + out->len, room, 0};
        size_t r = ZSTD_decompressStream(ds, &ob, &ib);
        out->len += ob.pos;
        if (ZSTD_isError(r)) {
            rc = wr_err_set(err, WR_ECOMPRESS, "zstd: %s", ZSTD_getErrorName(r));
            break;
        }
        if (r == 0 && ib.pos == ib.size) /* frame(s) complete */
            break;
        if (ib.pos == ib.size && ob.pos < ob.size) {
            rc = wr_err_set(err, WR_ECOMPRESS, "zstd: truncated frame");
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return rc;
}

/* ---- dispatch -------------------------------------------------------------------------- */

int
wr_compress(wr_compression codec, const uint8_t *in, size_t len, wr_buf *out, wr_err *err)
{
    if (wr_fault_sim(WR_FAULT_ALLOC))
        return oom(err);
    switch (codec) {
    case WR_COMPRESSION_NONE:
        wr_buf_append(out, in, len);
        return wr_buf_ok(out) ? WR_OK : oom(err);
    case WR_COMPRESSION_GZIP:
        return gzip_compress(in, len, out, err);
    case WR_COMPRESSION_SNAPPY:
        return snappy_compress_xerial(in, len, out, err);
    case WR_COMPRESSION_LZ4:
        return lz4_compress(in, len, out, err);
    case WR_COMPRESSION_ZSTD:
        return zstd_compress(in, len, out, err);
    }
    return wr_err_set(err, WR_EUNSUPP, "unknown compression codec %d", (int)codec);
}

int
wr_decompress(
    wr_compression codec, const uint8_t *in, size_t len, wr_buf *out, size_t max_out, wr_err *err)
{
    size_t start = out->len;
    int rc;
    switch (codec) {
    case WR_COMPRESSION_NONE:
        if (len > max_out)
            return wr_err_set(err, WR_ETOOBIG, "data exceeds %zu bytes", max_out);
        wr_buf_append(out, in, len);
        return wr_buf_ok(out) ? WR_OK : oom(err);
    case WR_COMPRESSION_GZIP:
        rc = gzip_decompress(in, len, out, max_out, err);
        break;
    case WR_COMPRESSION_SNAPPY:
        rc = snappy_decompress(in, len, out, max_out, err);
        break;
    case WR_COMPRESSION_LZ4:
        rc = lz4_decompress(in, len, out, max_out, err);
        break;
    case WR_COMPRESSION_ZSTD:
        rc = zstd_decompress(in, len, out, max_out, err);
        break;
    default:
        return wr_err_set(err, WR_EUNSUPP, "unknown compression codec %d", (int)codec);
    }
    if (rc == WR_OK && out->len - start > max_out) /* ended in grow's spare byte */
        rc = wr_err_set(err, WR_ETOOBIG, "decompressed data exceeds %zu bytes", max_out);
    if (rc != WR_OK)
        out->len = start; /* nothing half-done is left behind */
    return rc;
}

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

const char *
wr_compression_name(wr_compression codec)
{
    if ((unsigned)codec >= sizeof codec_names / sizeof codec_names[0])
        return NULL;
    return codec_names[codec];
}

bool
wr_compression_parse(const char *name, wr_compression *out)
{
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
        if (strcasecmp(name, codec_names[i]) == 0) {
            *out = (wr_compression)i;
            return true;
        }
    }
    return false;
}

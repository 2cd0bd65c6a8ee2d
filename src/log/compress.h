/*
 * compress.h - the Kafka compression codecs: gzip, snappy (raw and xerial-framed, as the Java
 * client writes it), lz4 (frame format) and zstd.
 *
 * wr_compress appends the compressed form of in[0..len) to out; wr_decompress appends the
 * original bytes to out, refusing to produce more than max_out bytes (WR_ETOOBIG), so a
 * decompression bomb cannot exhaust memory. Corrupt input gives WR_ECOMPRESS. Thread-safe.
 */
#ifndef WR_SRC_LOG_COMPRESS_H
#define WR_SRC_LOG_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/buf.h"
#include "src/base/err.h"
#include "src/log/rbatch.h"

int wr_compress(wr_compression codec, const uint8_t *in, size_t len, wr_buf *out, wr_err *err);
int wr_decompress(
    wr_compression codec, const uint8_t *in, size_t len, wr_buf *out, size_t max_out, wr_err *err);

/* "none", "gzip", "snappy", "lz4", "zstd"; NULL for an unknown code. */
const char *wr_compression_name(wr_compression codec);
/* Parses a codec name (case-insensitive); false when unknown. */
bool wr_compression_parse(const char *name, wr_compression *out);

#endif

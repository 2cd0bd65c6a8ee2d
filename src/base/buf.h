/*
 * buf.h - growable byte buffers (writers) and bounds-checked cursors (readers).
 *
 * wr_buf owns a heap array that grows geometrically; a failed growth sets buf->oom and later
 * appends become no-ops, so a writer can append many fields and check once (wr_buf_ok). Readers
 * use wr_rd, a cursor over borrowed bytes: every read checks the bytes that remain and, on a
 * short input, sets rd->err and returns zero, so a decoder of untrusted input cannot read out of
 * bounds whatever it is handed. Big-endian helpers serve the Kafka wire format.
 *
 * Thread locality: one thread per buffer.
 */
#ifndef WR_SRC_BASE_BUF_H
#define WR_SRC_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "src/base/err.h"

typedef struct wr_buf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    bool oom; /* a growth failed; content is incomplete */
} wr_buf;

#define WR_BUF_INIT \
    {               \
        0           \
    }

/* Frees the buffer's memory and re-initialises it. NULL-safe. */
void wr_buf_free(wr_buf *b);

/* Ensures room for extra more bytes; returns false (and sets oom) on failure. */
bool wr_buf_reserve(wr_buf *b, size_t extra);

/* Appends n bytes (no-op after an OOM). */
void wr_buf_append(wr_buf *b, const void *p, size_t n);

/* Appends a printf-formatted string without its NUL. */
void wr_buf_printf(wr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends n uninitialised bytes and returns a pointer to them (NULL after an OOM). */
uint8_t *wr_buf_extend(wr_buf *b, size_t n);

/* Appends the whole file at path (at most max bytes: WR_ETOOBIG past it). Errors name the
   file: "cannot open PATH: reason", "PATH: larger than MAX bytes", ... */
int wr_buf_read_file(wr_buf *b, const char *path, size_t max, wr_err *err);

/* Takes the buffer's array: returns it (owned by the caller, free()) and empties b. */
uint8_t *wr_buf_steal(wr_buf *b, size_t *len);

static inline bool
wr_buf_ok(const wr_buf *b)
{
    return !b->oom;
}

static inline void
wr_buf_reset(wr_buf *b)
{
    b->len = 0;
    b->oom = false;
}

static inline void
wr_buf_put_u8(wr_buf *b, uint8_t v)
{
    wr_buf_append(b, &v, 1);
}

static inline void
wr_be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
wr_be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void
wr_be64_put(uint8_t *p, uint64_t v)
{
    wr_be32_put(p, (uint32_t)(v >> 32));
    wr_be32_put(p + 4, (uint32_t)v);
}

static inline uint16_t
wr_be16_get(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
wr_be32_get(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
wr_be64_get(const uint8_t *p)
{
    return ((uint64_t)wr_be32_get(p) << 32) | wr_be32_get(p + 4);
}

static inline void
wr_buf_put_be16(wr_buf *b, uint16_t v)
{
    uint8_t t[2];
    wr_be16_put(t, v);
    wr_buf_append(b, t, 2);
}

static inline void
wr_buf_put_be32(wr_buf *b, uint32_t v)
{
    uint8_t t[4];
    wr_be32_put(t, v);
    wr_buf_append(b, t, 4);
}

static inline void
wr_buf_put_be64(wr_buf *b, uint64_t v)
{
    uint8_t t[8];
    wr_be64_put(t, v);
    wr_buf_append(b, t, 8);
}

/* ---- reader cursor --------------------------------------------------------------------- */

typedef struct wr_rd {
    const uint8_t *p;   /* next byte (borrowed) */
    const uint8_t *end; /* one past the last byte */
    int err;            /* WR_OK, or the first error (WR_ETRUNC on a short input) */
} wr_rd;

static inline wr_rd
wr_rd_make(const void *p, size_t n)
{
    /* n == 0 may come with p NULL (an empty wr_buf), and NULL + 0 is undefined */
    wr_rd r = {.p = (const uint8_t *)p, .end = n ? (const uint8_t *)p + n : (const uint8_t *)p,
               .err = 0};
    return r;
}

static inline size_t
wr_rd_left(const wr_rd *r)
{
    return (size_t)(r->end - r->p);
}

/* Marks the cursor failed with code (keeping the first error) and empties it. */
void wr_rd_fail(wr_rd *r, int code);

/* Returns a pointer to the next n bytes and advances, or NULL (and fails) when fewer remain. */
static inline const uint8_t *
wr_rd_take(wr_rd *r, size_t n)
{
    if (r->err != 0 || wr_rd_left(r) < n) {
        wr_rd_fail(r, WR_ETRUNC);
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static inline uint8_t
wr_rd_u8(wr_rd *r)
{
    const uint8_t *p = wr_rd_take(r, 1);
    return p ? p[0] : 0;
}

static inline uint16_t
wr_rd_be16(wr_rd *r)
{
    const uint8_t *p = wr_rd_take(r, 2);
    return p ? wr_be16_get(p) : 0;
}

static inline uint32_t
wr_rd_be32(wr_rd *r)
{
    const uint8_t *p = wr_rd_take(r, 4);
    return p ? wr_be32_get(p) : 0;
}

static inline uint64_t
wr_rd_be64(wr_rd *r)
{
    const uint8_t *p = wr_rd_take(r, 8);
    return p ? wr_be64_get(p) : 0;
}

#endif

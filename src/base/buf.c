/*
 * buf.c - growable buffers. See buf.h.
 */
#include "src/base/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/err.h"
#include "src/base/fault.h"

void
wr_buf_free(wr_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

bool
wr_buf_reserve(wr_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->cap - b->len >= extra)
        return true;
    size_t need = b->len + extra;
    if (need < b->len) {
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        size_t next = cap * 2;
        if (next < cap) {
            cap = need;
            break;
        }
        cap = next;
    }
    uint8_t *p = wr_fault_sim(WR_FAULT_ALLOC) ? NULL : realloc(b->data, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void
wr_buf_append(wr_buf *b, const void *p, size_t n)
{
    if (n == 0 || !wr_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

uint8_t *
wr_buf_extend(wr_buf *b, size_t n)
{
    if (!wr_buf_reserve(b, n))
        return NULL;
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

void
wr_buf_printf(wr_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0 && wr_buf_reserve(b, (size_t)n + 1)) {
        vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

uint8_t *
wr_buf_steal(wr_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
    return p;
}

void
wr_rd_fail(wr_rd *r, int code)
{
    if (r->err == 0)
        r->err = code;
    r->p = r->end;
}

int
wr_buf_read_file(wr_buf *b, const char *path, size_t max, wr_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return wr_err_set(err, wr_err_from_errno(errno), "cannot open %s: %s", path,
                          strerror(errno));
    char chunk[65536];
    size_t n, start = b->len;
    int rc = WR_OK;
    while (rc == WR_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        wr_buf_append(b, chunk, n);
        if (b->len - start > max)
            rc = wr_err_set(err, WR_ETOOBIG, "%s: larger than %zu bytes", path, max);
    }
    if (rc == WR_OK && ferror(f))
        rc = wr_err_set(err, WR_EIO, "cannot read %s", path);
    if (rc == WR_OK && !wr_buf_ok(b))
        rc = wr_err_set(err, WR_ENOMEM, "out of memory reading %s", path);
    fclose(f);
    return rc;
}

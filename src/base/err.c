/*
 * err.c - error text and the wr_err helpers. See err.h.
 */
#include "src/base/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *
wr_strerror(int code)
{
    switch (code) {
    case WR_OK:
        return "ok";
#define WR_X_(name, value, text) \
    case WR_##name:              \
        return text;
        WR_ERR_LIST(WR_X_)
#undef WR_X_
    default:
        return "unknown error";
    }
}

int
wr_err_from_errno(int errnum)
{
    switch (errnum) {
    case 0:
        return WR_OK;
    case ENOMEM:
        return WR_ENOMEM;
    case ENOSPC:
    case EDQUOT:
        return WR_ENOSPC;
    case ENOENT:
        return WR_ENOENT;
    case EEXIST:
        return WR_EEXIST;
    case EAGAIN:
        return WR_EAGAIN;
    case EINVAL:
        return WR_EINVAL;
    case ENOTEMPTY:
        return WR_ENOTEMPTY;
    case ETIMEDOUT:
        return WR_ETIMEDOUT;
    case EFBIG:
        return WR_ETOOBIG;
    default:
        return WR_EIO;
    }
}

void
wr_err_clear(wr_err *err)
{
    if (err == NULL)
        return;
    err->code = WR_OK;
    err->msg[0] = '\0';
    err->line = err->col = 0;
}

int
wr_err_vset(wr_err *err, int code, const char *fmt, va_list ap)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->line = err->col = 0;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

int
wr_err_set(wr_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wr_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int
wr_err_set_at(wr_err *err, int code, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wr_err_vset(err, code, fmt, ap);
    va_end(ap);
    if (err != NULL) {
        err->line = line;
        err->col = col;
    }
    return code;
}

void
wr_err_prefix(wr_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char joined[2 * WR_ERR_MSG_MAX + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, WR_ERR_MSG_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < WR_ERR_MSG_MAX ? (size_t)n : WR_ERR_MSG_MAX - 1;
    joined[len++] = ':';
    joined[len++] = ' ';
    size_t m = strnlen(err->msg, WR_ERR_MSG_MAX - 1);
    memcpy(joined + len, err->msg, m);
    len += m;
    if (len > WR_ERR_MSG_MAX - 1)
        len = WR_ERR_MSG_MAX - 1;
    memcpy(err->msg, joined, len);
    err->msg[len] = '\0';
}

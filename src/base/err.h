/*
 * err.h - weir's error codes and the user-visible error record.
 *
 * Every fallible function returns int: WR_OK (0) or a negative WR_E* code from the one X-macro
 * list below, which also generates wr_strerror(). Failures a user should read about also fill a
 * caller-owned wr_err (the last parameter by convention) with a message and, for SQL, line:col.
 * WR_EAGAIN means backpressure: try again later, nothing was lost.
 *
 * Thread safety: everything here is reentrant; wr_err is owned by the caller.
 */
#ifndef WR_SRC_BASE_ERR_H
#define WR_SRC_BASE_ERR_H

#include <stdarg.h>

/* X(name, value, text) */
#define WR_ERR_LIST(X)                                         \
    X(EINVAL, -1, "invalid argument")                          \
    X(ENOMEM, -2, "out of memory")                             \
    X(EIO, -3, "input/output error")                           \
    X(ENOSPC, -4, "no space left on device")                   \
    X(ENOENT, -5, "not found")                                 \
    X(EEXIST, -6, "already exists")                            \
    X(EAGAIN, -7, "resource temporarily unavailable")          \
    X(ECORRUPT, -8, "corrupt data")                            \
    X(ECRC, -9, "checksum mismatch")                           \
    X(ERANGE, -10, "value out of range")                       \
    X(ETOOBIG, -11, "size limit exceeded")                     \
    X(EUNSUPP, -12, "not supported")                           \
    X(ECLOSED, -13, "closed")                                  \
    X(ETIMEDOUT, -14, "timed out")                             \
    X(ESYNTAX, -15, "syntax error")                            \
    X(ESEMANTIC, -16, "semantic error")                        \
    X(ESTATE, -17, "operation not valid in the current state") \
    X(ETRUNC, -18, "truncated input")                          \
    X(EOFFSET, -19, "offset out of range")                     \
    X(ECOMPRESS, -20, "compression error")                     \
    X(ENOTEMPTY, -21, "not empty")                             \
    X(EPROTO, -22, "protocol error")                           \
    X(EFENCED, -23, "fenced by a newer producer or owner")     \
    X(EDUPLICATE, -24, "duplicate")                            \
    X(ESEQUENCE, -25, "out-of-order sequence number")          \
    X(EBUSY, -26, "busy")                                      \
    X(EINTERNAL, -27, "internal error")                        \
    X(EPERM, -28, "permission denied")

enum {
    WR_OK = 0,
#define WR_X_(name, value, text) WR_##name = (value),
    WR_ERR_LIST(WR_X_)
#undef WR_X_
};

/* Static English text for code; never NULL ("unknown error" for codes outside the list). */
const char *wr_strerror(int code);

/* Maps an errno value (positive) to the closest WR_E* code. */
int wr_err_from_errno(int errnum);

#define WR_ERR_MSG_MAX 512

typedef struct wr_err {
    int code;                 /* WR_OK or a WR_E* code */
    char msg[WR_ERR_MSG_MAX]; /* NUL-terminated, truncated if longer */
    int line, col;            /* 1-based source position (SQL), 0 when not applicable */
} wr_err;

/* Clears err to WR_OK. NULL-safe. */
void wr_err_clear(wr_err *err);

/*
 * Records code and a printf-style message in err (NULL-safe: a NULL err only returns code).
 * Returns code, so `return wr_err_set(err, WR_EINVAL, "bad %s", x);` reads naturally.
 */
int wr_err_set(wr_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int wr_err_vset(wr_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Like wr_err_set, with a 1-based line and column (SQL positions). */
int wr_err_set_at(wr_err *err, int code, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prepends "<prefix>: " to err->msg (truncating at the end), keeping code and position.
   Adds context as an error travels up ("topic t: ..."). NULL-safe. */
void wr_err_prefix(wr_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

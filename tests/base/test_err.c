/* Unit tests for src/base/err.c. */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/err.h"

Test(base_err, strerror_covers_every_code)
{
    cr_assert_str_eq(wr_strerror(WR_OK), "ok");
    cr_assert_str_eq(wr_strerror(WR_ENOSPC), "no space left on device");
    cr_assert_str_eq(wr_strerror(12345), "unknown error");
#define WR_X_(name, value, text) cr_assert_str_eq(wr_strerror(value), text);
    WR_ERR_LIST(WR_X_)
#undef WR_X_
}

Test(base_err, set_formats_and_truncates)
{
    wr_err err;
    wr_err_clear(&err);
    cr_assert_eq(err.code, WR_OK);
    cr_assert_eq(wr_err_set(&err, WR_EINVAL, "bad %s %d", "thing", 7), WR_EINVAL);
    cr_assert_str_eq(err.msg, "bad thing 7");
    char longs[WR_ERR_MSG_MAX + 100];
    memset(longs, 'x', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    wr_err_set(&err, WR_EINVAL, "%s", longs);
    cr_assert_eq(strlen(err.msg), WR_ERR_MSG_MAX - 1);
    cr_assert_eq(wr_err_set_at(&err, WR_ESYNTAX, 3, 14, "x"), WR_ESYNTAX);
    cr_assert_eq(err.line, 3);
    cr_assert_eq(err.col, 14);
    cr_assert_eq(wr_err_set(NULL, WR_EIO, "ignored"), WR_EIO);
    cr_assert_eq(wr_err_from_errno(ENOSPC), WR_ENOSPC);
    cr_assert_eq(wr_err_from_errno(EACCES), WR_EIO);
}

Test(base_err, prefix_adds_context)
{
    wr_err err;
    wr_err_set_at(&err, WR_EINVAL, 2, 5, "bad value");
    wr_err_prefix(&err, "file %s", "a.properties");
    cr_assert_str_eq(err.msg, "file a.properties: bad value");
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.code, WR_EINVAL);
    char longs[WR_ERR_MSG_MAX - 20];
    memset(longs, 'y', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    wr_err_prefix(&err, "%s", longs);
    cr_assert_eq(strlen(err.msg), WR_ERR_MSG_MAX - 1);
    wr_err_prefix(NULL, "x");
}

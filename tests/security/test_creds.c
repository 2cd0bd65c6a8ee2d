/* Unit tests for src/security/creds.c over the real log's metadata tables. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/security/creds.h"
#include "tests/testlog.h"

static char dir[64];
static wr_logdb *db;

static void
setup(void)
{
    db = wr_test_log_open(dir, "creds");
}

static void
teardown(void)
{
    wr_test_log_remove(dir, db);
}

static int
count(void *arg, const char *user, const wr_scram_cred *cred)
{
    (void)user;
    (void)cred;
    (*(int *)arg)++;
    return 0;
}

Test(security_creds, stored_credentials_survive_a_reopen_and_check_the_password,
     .init = setup, .fini = teardown)
{
    wr_scram_cred c, got;
    wr_err err = {0};
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_256, "pw1", 3, NULL, 0, 4096, &c, &err), WR_OK);
    cr_assert_eq(wr_creds_put(db, "alice", &c, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_512, "pw2", 3, NULL, 0, 8192, &c, &err), WR_OK);
    cr_assert_eq(wr_creds_put(db, "alice", &c, &err), WR_OK);
    cr_assert_eq(wr_creds_put(db, "bob", &c, &err), WR_OK);
    wr_log_close(db);
    wr_log_opts o = {.flush = WR_LOG_FLUSH_NONE};
    cr_assert_eq(wr_log_open(dir, &o, &db, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_creds_get(db, "alice", WR_SCRAM_SHA_256, &got, &err), WR_OK);
    cr_assert(wr_scram_cred_check(&got, "pw1", 3));
    cr_assert_not(wr_scram_cred_check(&got, "pw2", 3));
    cr_assert_eq(wr_creds_get(db, "alice", WR_SCRAM_SHA_512, &got, &err), WR_OK);
    cr_assert_eq(got.iterations, 8192);
    cr_assert(wr_scram_cred_check(&got, "pw2", 3));
    int n = 0;
    cr_assert_eq(wr_creds_list(db, count, &n, &err), WR_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(wr_creds_lookup(db, "alice", WR_SCRAM_SHA_512, &got), 1);
    cr_assert_eq(wr_creds_lookup(db, "carol", WR_SCRAM_SHA_512, &got), 0);
    cr_assert_eq(wr_creds_delete(db, "alice", WR_SCRAM_SHA_256, &err), WR_OK);
    cr_assert_eq(wr_creds_get(db, "alice", WR_SCRAM_SHA_256, &got, &err), WR_ENOENT);
    cr_assert_eq(wr_creds_delete(db, "alice", WR_SCRAM_SHA_256, &err), WR_ENOENT);
    cr_assert_eq(wr_creds_put(db, "", &c, &err), WR_EINVAL);
}

Test(security_creds, a_row_that_does_not_decode_is_corrupt_not_a_credential,
     .init = setup, .fini = teardown)
{
    wr_err err = {0};
    cr_assert_eq(wr_log_meta_put(db, WR_CREDS_TABLE, "eve\0SCRAM-SHA-256", 17, "\1\0\0", 3, &err),
                 WR_OK);
    wr_scram_cred got;
    cr_assert_eq(wr_creds_get(db, "eve", WR_SCRAM_SHA_256, &got, &err), WR_ECORRUPT);
    cr_assert_lt(wr_creds_lookup(db, "eve", WR_SCRAM_SHA_256, &got), 0);
    int n = 0;
    cr_assert_eq(wr_creds_list(db, count, &n, &err), WR_OK);
    cr_assert_eq(n, 0);
}

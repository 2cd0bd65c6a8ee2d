/*
 * testlog.h - a real log over a fresh temporary directory, for criterion suites that need one
 * (header only; the suite links log_dep).
 */
#ifndef WR_TESTS_TESTLOG_H
#define WR_TESTS_TESTLOG_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "src/log/log.h"

/* Makes dir (64 bytes: filled in) under /tmp from name and opens a log there (no fsyncs). */
static inline wr_logdb *
wr_test_log_open(char dir[64], const char *name)
{
    snprintf(dir, 64, "/tmp/wr_test_%s_XXXXXX", name);
    cr_assert_not_null(mkdtemp(dir));
    wr_log_opts lo = {.flush = WR_LOG_FLUSH_NONE};
    wr_err err = {0};
    wr_logdb *db = NULL;
    cr_assert_eq(wr_log_open(dir, &lo, &db, &err), WR_OK, "%s", err.msg);
    return db;
}

/* Closes db and removes dir. */
static inline void
wr_test_log_remove(const char *dir, wr_logdb *db)
{
    wr_log_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

#endif

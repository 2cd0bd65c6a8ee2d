/*
 * fixture.h - what the tests of src/coord share: a real log in a temporary directory with the
 * topics t (2 partitions) and u (1), a transaction coordinator over it whose producer ids come
 * from a counter (next_pid, which tests read and set), and closing and reopening both (a
 * restart). Included by one test file each (its statics are that file's).
 */
#ifndef WR_TESTS_COORD_FIXTURE_H
#define WR_TESTS_COORD_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/logging.h"
#include "src/coord/txn.h"
#include "src/log/log.h"

static char dir[64];
static wr_logdb *db;
static wr_txn_coord *coord;
static int64_t next_pid;

static int
new_pid(void *arg, int64_t *pid, wr_err *err)
{
    (void)arg;
    (void)err;
    *pid = next_pid++;
    return WR_OK;
}

static void
open_all(void)
{
    wr_log_opts o = {.flush = WR_LOG_FLUSH_NONE};
    wr_err err = {0};
    cr_assert_eq(wr_log_open(dir, &o, &db, &err), WR_OK, "%s", err.msg);
    wr_txn_coord_opts co = {
        .max_timeout_ms = 60000, .check_interval_ms = 3600000, .new_pid = new_pid};
    cr_assert_eq(wr_txn_coord_open(db, &co, &coord, &err), WR_OK, "%s", err.msg);
}

static void
close_all(void)
{
    wr_txn_coord_close(coord);
    wr_log_close(db);
    coord = NULL;
    db = NULL;
}

/* A fresh directory /tmp/<name>_XXXXXX, the log and coordinator over it, the topics t and u;
   producer ids from first_pid on. */
static void
fixture_open(const char *name, int64_t first_pid)
{
    snprintf(dir, sizeof dir, "/tmp/%s_XXXXXX", name);
    cr_assert_not_null(mkdtemp(dir));
    wr_log_set_level(WR_LOG_ERROR);
    next_pid = first_pid;
    open_all();
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "t", 2, NULL, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_log_topic_create(db, "u", 1, NULL, &err), WR_OK, "%s", err.msg);
}

static void
fixture_close(void)
{
    close_all();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static wr_partition *
part(const char *topic, int32_t p)
{
    wr_partition *out = NULL;
    cr_assert_eq(wr_log_partition(db, topic, p, &out), WR_OK);
    return out;
}

#endif

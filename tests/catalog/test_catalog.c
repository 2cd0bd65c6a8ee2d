/*
 * test_catalog.c - the command topic and its sqlite3 materialisation (src/catalog).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "src/base/logging.h"
#include "src/catalog/catalog.h"
#include "tests/testlog.h"

static char dir[64];
static wr_logdb *db;

static void
setup(void)
{
    wr_log_set_level(WR_LOG_WARN);
    db = wr_test_log_open(dir, "catalog");
}

static void
teardown(void)
{
    wr_test_log_remove(dir, db);
}

TestSuite(catalog, .init = setup, .fini = teardown);

typedef struct seen {
    int n;
    char sql[4][128];
    char prop[4][64];
    int64_t off[4];
} seen;

static int
collect(void *arg, int64_t offset, const char *sql, size_t len, const wr_props *props)
{
    seen *s = arg;
    cr_assert_lt(s->n, 4);
    snprintf(s->sql[s->n], sizeof s->sql[0], "%.*s", (int)len, sql);
    const char *v = wr_props_get(props, "auto.offset.reset");
    snprintf(s->prop[s->n], sizeof s->prop[0], "%s", v ? v : "-");
    s->off[s->n++] = offset;
    return WR_OK;
}

Test(catalog, commands_replay_in_order_with_their_properties)
{
    char path[128];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    wr_catalog *c;
    wr_err err = {0};
    cr_assert_eq(wr_catalog_open(db, path, &c, &err), WR_OK, "%s", err.msg);
    cr_assert_lt(wr_log_topic_partitions(db, WR_CATALOG_TOPIC), 1, "no topic before a command");
    wr_props p = WR_PROPS_INIT;
    int64_t off;
    cr_assert_eq(wr_catalog_append(c, "CREATE STREAM A (X INT) WITH (...)", &p, &off, &err), WR_OK);
    cr_assert_eq(off, 0);
    wr_props_set(&p, "auto.offset.reset", "earliest");
    cr_assert_eq(wr_catalog_append(c, "CREATE STREAM B AS SELECT * FROM A", &p, &off, &err), WR_OK);
    cr_assert_eq(off, 1);
    wr_catalog_source src[2] = {{"A", "STREAM", "a", "KAFKA", "JSON", "CREATE STREAM A ..."},
                                {"B", "STREAM", "B", "KAFKA", "JSON", "CREATE STREAM B ..."}};
    wr_catalog_query q = {"CSAS_B_0", "B", "A", "CREATE STREAM B AS SELECT * FROM A"};
    cr_assert_eq(
        wr_catalog_materialise(c, 1, "CREATE STREAM B AS SELECT * FROM A", &p, src, 2, &q, 1, &err),
        WR_OK, "%s", err.msg);
    wr_catalog_close(c);

    /* reopened: the topic gives the commands back in order, with their properties */
    cr_assert_eq(wr_catalog_open(db, path, &c, &err), WR_OK);
    seen s = {0};
    int64_t n;
    cr_assert_eq(wr_catalog_replay(c, collect, &s, &n, &err), WR_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(s.sql[0], "CREATE STREAM A (X INT) WITH (...)");
    cr_assert_str_eq(s.prop[0], "-");
    cr_assert_str_eq(s.sql[1], "CREATE STREAM B AS SELECT * FROM A");
    cr_assert_str_eq(s.prop[1], "earliest");
    wr_catalog_close(c);
    wr_props_free(&p);

    sqlite3 *d;
    cr_assert_eq(sqlite3_open(path, &d), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(
        sqlite3_prepare_v2(d,
                           "SELECT (SELECT properties FROM commands WHERE offset = 1), (SELECT "
                           "group_concat(name, ',') FROM sources), (SELECT id FROM queries)",
                           -1, &st, NULL),
        SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "auto.offset.reset=earliest\n");
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 1), "A,B");
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 2), "CSAS_B_0");
    sqlite3_finalize(st);
    sqlite3_close(d);
}

Test(catalog, a_file_that_cannot_be_opened_is_a_clear_error)
{
    wr_catalog *c;
    wr_err err = {0};
    cr_assert_eq(wr_catalog_open(db, "/nonexistent-dir/x/catalog.db", &c, &err), WR_EIO);
    cr_assert(strstr(err.msg, "catalog database") != NULL, "%s", err.msg);
}

/*
 * catalog.c - the command topic and its sqlite3 materialisation (see catalog.h).
 */
#include "src/catalog/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "src/base/clock.h"
#include "src/log/rbatch.h"

#define READ_BYTES       (1u << 20)
#define MAX_DECOMPRESSED (64u << 20)

struct wr_catalog {
    wr_logdb *db;
    sqlite3 *sql;
};

static int
sql_fail(wr_catalog *c, const char *what, wr_err *err)
{
    return wr_err_set(err, WR_EIO, "catalog database: %s: %s", what, sqlite3_errmsg(c->sql));
}

int
wr_catalog_open(wr_logdb *db, const char *path, wr_catalog **out, wr_err *err)
{
    wr_catalog *c = calloc(1, sizeof *c);
    if (c == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    c->db = db;
    if (sqlite3_open_v2(path, &c->sql,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = sql_fail(c, "open", err);
        wr_catalog_close(c);
        return rc;
    }
    static const char schema[] =
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=FULL;"
        "CREATE TABLE IF NOT EXISTS commands(offset INTEGER PRIMARY KEY, statement TEXT NOT NULL,"
        " properties TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS sources(name TEXT PRIMARY KEY, kind TEXT NOT NULL,"
        " topic TEXT NOT NULL, key_format TEXT NOT NULL, value_format TEXT NOT NULL,"
        " statement TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS queries(id TEXT PRIMARY KEY, sink TEXT NOT NULL,"
        " source TEXT NOT NULL, statement TEXT NOT NULL);";
    char *msg = NULL;
    if (sqlite3_exec(c->sql, schema, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = wr_err_set(err, WR_EIO, "catalog database: %s", msg ? msg : "?");
        sqlite3_free(msg);
        wr_catalog_close(c);
        return rc;
    }
    *out = c;
    return WR_OK;
}

void
wr_catalog_close(wr_catalog *c)
{
    if (c == NULL)
        return;
    if (c->sql != NULL)
        sqlite3_close(c->sql);
    free(c);
}

int
wr_catalog_append(
    wr_catalog *c, const char *sql, const wr_props *props, int64_t *offset, wr_err *err)
{
    wr_partition *p;
    wr_err terr = {0};
    if (wr_log_topic_partitions(c->db, WR_CATALOG_TOPIC) < 1 &&
        wr_log_topic_create(c->db, WR_CATALOG_TOPIC, 1, NULL, &terr) != WR_OK &&
        terr.code != WR_EEXIST)
        return wr_err_set(err, terr.code, "cannot create the command topic: %s", terr.msg);
    if (wr_log_partition(c->db, WR_CATALOG_TOPIC, 0, &p) != WR_OK)
        return wr_err_set(err, WR_EIO, "the command topic %s is missing", WR_CATALOG_TOPIC);
    size_t nh = props ? props->count : 0;
    wr_rheader *h = calloc(nh + 1, sizeof *h);
    if (h == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    for (size_t i = 0; i < nh; i++)
        h[i] = (wr_rheader){
            (const uint8_t *)props->items[i].key, (int32_t)strlen(props->items[i].key),
            (const uint8_t *)props->items[i].value, (int32_t)strlen(props->items[i].value)};
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
    wr_rbatch_builder_add(&bb, wr_clock_wall_ms(), NULL, -1, sql, (int32_t)strlen(sql), h,
                          (int32_t)nh);
    wr_buf out = WR_BUF_INIT;
    wr_log_append_result res;
    int rc = wr_rbatch_builder_finish(&bb, &out, err);
    if (rc == WR_OK)
        rc = wr_log_append(p, out.data, out.len, &res, err);
    wr_rbatch_builder_free(&bb);
    wr_buf_free(&out);
    free(h);
    if (rc == WR_OK)
        *offset = res.base_offset;
    return rc;
}

int
wr_catalog_replay(wr_catalog *c, wr_catalog_cmd_fn fn, void *arg, int64_t *count, wr_err *err)
{
    wr_partition *p;
    *count = 0;
    if (wr_log_partition(c->db, WR_CATALOG_TOPIC, 0, &p) != WR_OK)
        return WR_OK; /* no command yet */
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    int rc = WR_OK;
    int64_t off = wr_log_start_offset(p), end = wr_log_end_offset(p);
    while (rc == WR_OK && off < end) {
        wr_buf_reset(&data);
        wr_log_read_result rr;
        if ((rc = wr_log_read(p, off, READ_BYTES, &data, &rr, err)) != WR_OK || data.len == 0)
            break;
        for (size_t at = 0; rc == WR_OK && at < data.len;) {
            size_t sz = wr_rbatch_size(data.data + at, data.len - at);
            wr_rbatch_iter it;
            if (sz == 0 || (rc = wr_rbatch_iter_init(&it, data.data + at, sz, &scratch,
                                                     MAX_DECOMPRESSED, err)) != WR_OK)
                break;
            wr_record rec;
            while (rc == WR_OK && wr_rbatch_iter_next(&it, &rec, err) == 1) {
                if (rec.offset < off || rec.value_len < 0)
                    continue;
                off = rec.offset + 1;
                wr_props props = WR_PROPS_INIT;
                wr_rd hr = wr_rd_make(rec.headers, rec.headers_len);
                wr_rheader h;
                while (wr_record_header_next(&hr, &h) == 1) {
                    char k[256], v[1024];
                    snprintf(k, sizeof k, "%.*s", (int)h.key_len, (const char *)h.key);
                    snprintf(v, sizeof v, "%.*s", h.value_len > 0 ? (int)h.value_len : 0,
                             h.value ? (const char *)h.value : "");
                    wr_props_set(&props, k, v);
                }
                rc = fn(arg, rec.offset, (const char *)rec.value, (size_t)rec.value_len, &props);
                wr_props_free(&props);
                (*count)++;
            }
            at += sz;
        }
    }
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    return rc;
}

int
wr_catalog_materialise(wr_catalog *c,
                       int64_t offset,
                       const char *sql,
                       const wr_props *props,
                       const wr_catalog_source *sources,
                       int nsources,
                       const wr_catalog_query *queries,
                       int nqueries,
                       wr_err *err)
{
    wr_buf pt = WR_BUF_INIT;
    for (size_t i = 0; props != NULL && i < props->count; i++)
        wr_buf_printf(&pt, "%s=%s\n", props->items[i].key, props->items[i].value);
    wr_buf_put_u8(&pt, 0);
    sqlite3_stmt *ins = NULL;
    int rc = WR_OK;
    if (!wr_buf_ok(&pt)) {
        wr_buf_free(&pt);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    if (sqlite3_exec(c->sql, "BEGIN; DELETE FROM sources; DELETE FROM queries;", NULL, NULL,
                     NULL) != SQLITE_OK) {
        wr_buf_free(&pt);
        return sql_fail(c, "begin", err);
    }
    if (sqlite3_prepare_v2(c->sql, "INSERT OR REPLACE INTO commands VALUES(?, ?, ?)", -1, &ins,
                           NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(ins, 1, offset);
    sqlite3_bind_text(ins, 2, sql, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, (const char *)pt.data, -1, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(ins);
    if (sqlite3_prepare_v2(c->sql, "INSERT INTO sources VALUES(?, ?, ?, ?, ?, ?)", -1, &ins,
                           NULL) != SQLITE_OK)
        goto fail;
    for (int i = 0; i < nsources; i++) {
        const wr_catalog_source *s = &sources[i];
        const char *v[6] = {s->name,       s->kind,         s->topic,
                            s->key_format, s->value_format, s->statement};
        sqlite3_reset(ins);
        for (int k = 0; k < 6; k++)
            sqlite3_bind_text(ins, k + 1, v[k] ? v[k] : "", -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            goto fail;
    }
    sqlite3_finalize(ins);
    if (sqlite3_prepare_v2(c->sql, "INSERT INTO queries VALUES(?, ?, ?, ?)", -1, &ins, NULL) !=
        SQLITE_OK)
        goto fail;
    for (int i = 0; i < nqueries; i++) {
        const wr_catalog_query *q = &queries[i];
        const char *v[4] = {q->id, q->sink, q->source, q->statement};
        sqlite3_reset(ins);
        for (int k = 0; k < 4; k++)
            sqlite3_bind_text(ins, k + 1, v[k] ? v[k] : "", -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            goto fail;
    }
    sqlite3_finalize(ins);
    ins = NULL;
    if (sqlite3_exec(c->sql, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    wr_buf_free(&pt);
    return WR_OK;
fail:
    rc = sql_fail(c, "write", err);
    sqlite3_finalize(ins);
    sqlite3_exec(c->sql, "ROLLBACK;", NULL, NULL, NULL);
    wr_buf_free(&pt);
    return rc;
}

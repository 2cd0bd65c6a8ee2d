/*
 * fuzz_json_body.h - the property the JSON decoder's fuzz target and its replay test check on
 * one input: decoding never crashes or reads out of bounds, and it never accepts a text that is
 * not JSON (jansson, a strict parser, is the judge; numbers beyond DOUBLE's range are the one
 * difference, see below). Values it accepts re-encode and decode to the same values. Included by
 * exactly one file per executable.
 */
#ifndef WR_TESTS_RUNTIME_FUZZ_JSON_BODY_H
#define WR_TESTS_RUNTIME_FUZZ_JSON_BODY_H

#include <jansson.h>
#include <string.h>

#include "runtime/format.h"
#include "runtime/types.h"

/* Returns 0 when the property holds, 1 when it breaks. */
static int
wr_jsonfuzz_one(const uint8_t *data, size_t size)
{
    static wr_sql_field sf[2];
    static wr_sql_type st = {.kind = WR_T_STRUCT, .nfields = 2, .fields = sf};
    static wr_sql_type arr = {.kind = WR_T_ARRAY}, map = {.kind = WR_T_MAP};
    sf[0] = (wr_sql_field){"X", wr_type_of(WR_T_INT)};
    sf[1] = (wr_sql_field){"Y", wr_type_of(WR_T_STRING)};
    arr.elem = wr_type_of(WR_T_DOUBLE);
    map.key = wr_type_of(WR_T_STRING);
    map.elem = wr_type_of(WR_T_BIGINT);
    static const char *names[] = {"A", "B", "C", "D", "E", "F", "G"};
    const wr_sql_type *types[] = {
        wr_type_of(WR_T_BIGINT), wr_type_of(WR_T_STRING), wr_type_of(WR_T_BOOLEAN), &arr, &map, &st,
        wr_type_of(WR_T_DOUBLE)};
    wr_fmt f = {
        .kind = WR_FMT_JSON, .ncols = 7, .names = names, .types = types, .wrap_single = true};
    wr_arena *a = wr_arena_create(0);
    wr_val v[7], w[7];
    wr_err err = {0};
    int bad = 0;
    int rc = wr_fmt_decode(&f, data, size, false, v, a, &err);
    if (rc == WR_OK) {
        json_error_t je;
        json_t *j = json_loadb((const char *)data, size,
                               JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
        /* accepted something that is not JSON: a defect, except for a number beyond DOUBLE's
           range, which jansson refuses and Jackson (ksqlDB) reads as infinity, as we do */
        if (j == NULL && strstr(je.text, "overflow") == NULL)
            bad = 1;
        json_decref(j);
        wr_buf b = WR_BUF_INIT;
        bool is_null;
        if (!bad && (wr_fmt_encode(&f, v, &b, &is_null, &err) != WR_OK ||
                     wr_fmt_decode(&f, b.data, b.len, false, w, a, &err) != WR_OK))
            bad = 1;
        for (int i = 0; !bad && i < 7; i++)
            if (v[i].null != w[i].null || (!v[i].null && !wr_val_equal(&v[i], &w[i])))
                bad = 1;
        wr_buf_free(&b);
    }
    wr_arena_destroy(a);
    return bad;
}

#endif

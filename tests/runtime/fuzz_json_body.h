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
#include <stdbool.h>
#include <string.h>

#include "runtime/format.h"
#include "runtime/types.h"

/* The schemas every input is decoded against (wr_jsonfuzz_formats). */
enum { WR_JSONFUZZ_NFMT = 3, WR_JSONFUZZ_MAXCOLS = 8 };

#define WR_JF_T(k) wr_type_of(WR_T_##k)

/* 0: scalars, an array, a map and a struct (the first schema of this target); 1: DECIMAL,
   TIMESTAMP, DATE, TIME and BYTES columns and nesting (an array of structs, a map of arrays, a
   struct of a struct and a map of structs); 2: one column ARRAY<DECIMAL(4,1)> unwrapped (the
   whole record is its value). Built once, immutable after. */
static const wr_fmt *
wr_jsonfuzz_formats(void)
{
    static wr_fmt f[WR_JSONFUZZ_NFMT];
    static bool built;
    if (built)
        return f;
    built = true;
    static wr_sql_type d102 = {.kind = WR_T_DECIMAL, .precision = 10, .scale = 2};
    static wr_sql_type d53 = {.kind = WR_T_DECIMAL, .precision = 5, .scale = 3};
    static wr_sql_type d41 = {.kind = WR_T_DECIMAL, .precision = 4, .scale = 1};
    /* schema 0 */
    static wr_sql_field sf[2];
    static wr_sql_type st = {.kind = WR_T_STRUCT, .nfields = 2, .fields = sf};
    static wr_sql_type arr = {.kind = WR_T_ARRAY}, map = {.kind = WR_T_MAP};
    sf[0] = (wr_sql_field){"X", WR_JF_T(INT)};
    sf[1] = (wr_sql_field){"Y", WR_JF_T(STRING)};
    arr.elem = WR_JF_T(DOUBLE);
    map.key = WR_JF_T(STRING);
    map.elem = WR_JF_T(BIGINT);
    static const char *n0[] = {"A", "B", "C", "D", "E", "F", "G"};
    static const wr_sql_type *t0[7];
    const wr_sql_type *t0v[] = {WR_JF_T(BIGINT), WR_JF_T(STRING), WR_JF_T(BOOLEAN), &arr, &map, &st,
                                WR_JF_T(DOUBLE)};
    memcpy(t0, t0v, sizeof t0);
    f[0] = (wr_fmt){.kind = WR_FMT_JSON, .ncols = 7, .names = n0, .types = t0, .wrap_single = true};
    /* schema 1 */
    static wr_sql_field kv[2], inner[2], outer[2];
    kv[0] = (wr_sql_field){"K", WR_JF_T(STRING)};
    kv[1] = (wr_sql_field){"V", &d53};
    static wr_sql_type kvs = {.kind = WR_T_STRUCT, .nfields = 2, .fields = kv};
    static wr_sql_type arr_kv = {.kind = WR_T_ARRAY, .elem = &kvs};
    static wr_sql_type arr_int = {.kind = WR_T_ARRAY};
    arr_int.elem = WR_JF_T(INT);
    static wr_sql_type map_arr = {.kind = WR_T_MAP, .elem = &arr_int};
    map_arr.key = WR_JF_T(STRING);
    inner[0] = (wr_sql_field){"T", WR_JF_T(TIMESTAMP)};
    inner[1] = (wr_sql_field){"B", WR_JF_T(BOOLEAN)};
    static wr_sql_type ins = {.kind = WR_T_STRUCT, .nfields = 2, .fields = inner};
    static wr_sql_type map_kv = {.kind = WR_T_MAP, .elem = &kvs};
    map_kv.key = WR_JF_T(STRING);
    outer[0] = (wr_sql_field){"S", &ins};
    outer[1] = (wr_sql_field){"M", &map_kv};
    static wr_sql_type outs = {.kind = WR_T_STRUCT, .nfields = 2, .fields = outer};
    static const char *n1[] = {"A", "B", "C", "D", "E", "F", "G", "H"};
    static const wr_sql_type *t1[8];
    const wr_sql_type *t1v[] = {
        &d102,   WR_JF_T(TIMESTAMP), WR_JF_T(DATE), WR_JF_T(TIME), WR_JF_T(BYTES),
        &arr_kv, &map_arr,           &outs};
    memcpy(t1, t1v, sizeof t1);
    f[1] = (wr_fmt){.kind = WR_FMT_JSON, .ncols = 8, .names = n1, .types = t1, .wrap_single = true};
    /* schema 2 */
    static wr_sql_type arr_dec = {.kind = WR_T_ARRAY, .elem = &d41};
    static const char *n2[] = {"A"};
    static const wr_sql_type *t2[] = {&arr_dec};
    f[2] =
        (wr_fmt){.kind = WR_FMT_JSON, .ncols = 1, .names = n2, .types = t2, .wrap_single = false};
    return f;
}

#undef WR_JF_T

/* The property for one schema: returns 0 when it holds, 1 when it breaks. */
static int
wr_jsonfuzz_fmt(const wr_fmt *f, const uint8_t *data, size_t size)
{
    wr_arena *a = wr_arena_create(0);
    wr_val v[WR_JSONFUZZ_MAXCOLS], w[WR_JSONFUZZ_MAXCOLS];
    wr_err err = {0};
    int bad = 0;
    int rc = wr_fmt_decode(f, data, size, false, v, a, &err);
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
        if (!bad && (wr_fmt_encode(f, v, &b, &is_null, &err) != WR_OK ||
                     wr_fmt_decode(f, b.data, b.len, false, w, a, &err) != WR_OK))
            bad = 1;
        for (int i = 0; !bad && i < f->ncols; i++)
            if (v[i].null != w[i].null || (!v[i].null && !wr_val_equal(&v[i], &w[i])))
                bad = 1;
        wr_buf_free(&b);
    } else if (err.msg[0] == 0) {
        bad = 1; /* a refusal always says why */
    }
    wr_arena_destroy(a);
    return bad;
}

/* The property over every schema: 0 when it holds, else 1 + the index of the schema. */
static int
wr_jsonfuzz_one(const uint8_t *data, size_t size)
{
    const wr_fmt *f = wr_jsonfuzz_formats();
    for (int i = 0; i < WR_JSONFUZZ_NFMT; i++)
        if (wr_jsonfuzz_fmt(&f[i], data, size) != 0)
            return 1 + i;
    return 0;
}

#endif

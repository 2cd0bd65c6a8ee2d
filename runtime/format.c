/*
 * format.c - the record formats (see format.h).
 *
 * JSON decoding is a schema-directed single pass: the top-level object's fields are matched to
 * columns case-insensitively, unknown fields are skipped by a validating skipper that builds
 * nothing, numbers are parsed straight into the column's type, strings are unescaped into the
 * arena. Nested ARRAY, MAP and STRUCT values recurse to WR_FMT_MAX_DEPTH. The writer is a
 * streaming one: no DOM on either side (jansson stays for the control plane).
 */
#include "runtime/format.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grammar/sql.h"
#include "runtime/types.h"

int
wr_fmt_parse_name(const char *name, wr_fmt_kind *out)
{
    static const struct {
        const char *name;
        wr_fmt_kind kind;
    } known[] = {{"JSON", WR_FMT_JSON},
                 {"DELIMITED", WR_FMT_DELIMITED},
                 {"KAFKA", WR_FMT_KAFKA},
                 {"NONE", WR_FMT_NONE}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(name, known[i].name) == 0) {
            *out = known[i].kind;
            return WR_OK;
        }
    static const char *later[] = {"JSON_SR", "AVRO", "PROTOBUF", "PROTOBUF_NOSR"};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++)
        if (strcasecmp(name, later[i]) == 0)
            return WR_EUNSUPP;
    return WR_EINVAL;
}

static const char *
kind_name(wr_fmt_kind k)
{
    static const char *n[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    return n[k];
}

/* ksqlDB's column list: "[`A` INTEGER KEY, `B` STRING]". */
static void
fmt_columns(wr_buf *b, const wr_fmt *f)
{
    wr_buf_printf(b, "[");
    for (int i = 0; i < f->ncols; i++) {
        wr_buf_printf(b, "%s`%s` ", i ? ", " : "", f->names[i]);
        wr_ast_format_type(b, f->types[i]);
        if (f->key)
            wr_buf_printf(b, " KEY");
    }
    wr_buf_printf(b, "]");
}

/* ksqlDB's wording: "Key format does not support schema.\nformat: KAFKA\nschema:
   Persistence{columns=[...], features=[]}\nreason: The 'KAFKA' format ..." */
static int
fmt_refuse(const wr_fmt *f, wr_err *err, const char *reason, const wr_sql_type *t)
{
    static const char *const n[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    wr_buf b = WR_BUF_INIT;
    wr_buf_printf(&b, "%s format does not support schema.\nformat: %s\nschema: Persistence{columns=",
                  f->key ? "Key" : "Value", n[f->kind]);
    fmt_columns(&b, f);
    wr_buf_printf(&b, ", features=[]}\nreason: The '%s' format %s", n[f->kind], reason);
    if (t != NULL) {
        /* the base type's name: ARRAY, not ARRAY<INTEGER> */
        wr_buf tb = WR_BUF_INIT;
        wr_ast_format_type(&tb, t);
        size_t bl = 0;
        while (bl < tb.len && tb.data[bl] != '<' && tb.data[bl] != '(')
            bl++;
        wr_buf_printf(&b, "'%.*s'", (int)bl, (const char *)tb.data);
        wr_buf_free(&tb);
    } else {
        fmt_columns(&b, f);
    }
    int rc = b.oom ? wr_err_set(err, WR_ENOMEM, "out of memory")
                   : wr_err_set(err, WR_EINVAL, "%.*s", (int)b.len, (const char *)b.data);
    wr_buf_free(&b);
    return rc;
}

static bool
has_map(const wr_sql_type *t)
{
    if (t == NULL)
        return false;
    if (t->kind == WR_T_MAP)
        return true;
    if (t->kind == WR_T_ARRAY)
        return has_map(t->elem);
    for (int i = 0; t->kind == WR_T_STRUCT && i < t->nfields; i++)
        if (has_map(t->fields[i].type))
            return true;
    return false;
}

int
wr_fmt_check(const wr_fmt *f, wr_err *err)
{
    for (int i = 0; f->key && i < f->ncols; i++)
        if (has_map(f->types[i])) {
            wr_buf b = WR_BUF_INIT;
            wr_ast_format_type(&b, f->types[i]);
            int rc = b.oom ? wr_err_set(err, WR_ENOMEM, "out of memory")
                           : wr_err_set(err, WR_EINVAL,
                                        "Map keys, including types that contain maps, are not "
                                        "supported as they may lead to unexpected behavior due to "
                                        "inconsistent serialization. Key column name: `%s`. Column "
                                        "type: %.*s",
                                        f->names[i], (int)b.len, (const char *)b.data);
            wr_buf_free(&b);
            return rc;
        }
    switch (f->kind) {
    case WR_FMT_KAFKA:
        if (f->ncols > 1)
            return fmt_refuse(f, err, "only supports a single field. Got: ", NULL);
        for (int i = 0; i < f->ncols; i++) {
            wr_tkind k = f->types[i]->kind;
            if (k != WR_T_INT && k != WR_T_BIGINT && k != WR_T_DOUBLE && k != WR_T_STRING &&
                k != WR_T_BYTES)
                return fmt_refuse(f, err, "does not support type ", f->types[i]);
        }
        return WR_OK;
    case WR_FMT_DELIMITED:
        for (int i = 0; i < f->ncols; i++) {
            wr_tkind k = f->types[i]->kind;
            if (k == WR_T_ARRAY || k == WR_T_MAP || k == WR_T_STRUCT)
                return fmt_refuse(f, err, "does not support type ", f->types[i]);
        }
        return WR_OK;
    case WR_FMT_NONE:
        if (f->ncols > 0)
            return fmt_refuse(f, err, "can only be used when no columns are defined. Got: ",
                              NULL);
        return WR_OK;
    case WR_FMT_JSON:
        return WR_OK;
    }
    return WR_OK;
}

/* ---- JSON reading -------------------------------------------------------------------------- */

typedef struct jr {
    const char *p, *end;
    wr_arena *a;
    wr_err *err;
    int depth;
} jr;

static int jfail(jr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
jfail(jr *r, const char *fmt, ...)
{
    if (r->err != NULL && r->err->code != 0)
        return WR_ECORRUPT;
    char msg[WR_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wr_err_set(r->err, WR_ECORRUPT, "%s", msg);
}

static void
ws(jr *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool
lit(jr *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) >= n && memcmp(r->p, w, n) == 0) {
        r->p += n;
        return true;
    }
    return false;
}

static void
put_utf8(char *o, size_t *n, uint32_t c)
{
    if (c < 0x80) {
        o[(*n)++] = (char)c;
    } else if (c < 0x800) {
        o[(*n)++] = (char)(0xC0 | c >> 6);
        o[(*n)++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        o[(*n)++] = (char)(0xE0 | c >> 12);
        o[(*n)++] = (char)(0x80 | (c >> 6 & 0x3F));
        o[(*n)++] = (char)(0x80 | (c & 0x3F));
    } else {
        o[(*n)++] = (char)(0xF0 | c >> 18);
        o[(*n)++] = (char)(0x80 | (c >> 12 & 0x3F));
        o[(*n)++] = (char)(0x80 | (c >> 6 & 0x3F));
        o[(*n)++] = (char)(0x80 | (c & 0x3F));
    }
}

static int
hex4(jr *r, uint32_t *out)
{
    if (r->end - r->p < 4)
        return jfail(r, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return jfail(r, "bad \\u escape");
    }
    *out = v;
    return WR_OK;
}

/* A string at r->p (on its quote). With out, unescaped into the arena (or borrowed when it has
   no escapes); without, only validated and skipped. */
/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no
   surrogates, nothing past U+10FFFF), or 0. */
static size_t
utf8_seq(const char *p, const char *end)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t left = (size_t)(end - p);
    if (u[0] >= 0xC2 && u[0] <= 0xDF)
        return left >= 2 && (u[1] & 0xC0) == 0x80 ? 2 : 0;
    if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        if (left < 3 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80)
            return 0;
        if ((u[0] == 0xE0 && u[1] < 0xA0) || (u[0] == 0xED && u[1] >= 0xA0))
            return 0; /* overlong, or a surrogate */
        return 3;
    }
    if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        if (left < 4 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 || (u[3] & 0xC0) != 0x80)
            return 0;
        if ((u[0] == 0xF0 && u[1] < 0x90) || (u[0] == 0xF4 && u[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

static int
jstring(jr *r, wr_str *out)
{
    r->p++;
    const char *start = r->p;
    bool escaped = false;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20)
            return jfail(r, "control character in a string");
        if (c >= 0x80) {
            size_t n = utf8_seq(r->p, r->end);
            if (n == 0)
                return jfail(r, "invalid UTF-8 in a string");
            r->p += n;
            continue;
        }
        if (c == '\\') {
            escaped = true;
            if (r->p + 1 >= r->end)
                break;
            r->p++;
        }
        r->p++;
    }
    if (r->p >= r->end)
        return jfail(r, "unterminated string");
    const char *stop = r->p++;
    if (out == NULL && !escaped)
        return WR_OK;
    if (!escaped) {
        *out = (wr_str){start, (int32_t)(stop - start)};
        return WR_OK;
    }
    char *o = out ? wr_arena_alloc(r->a, (size_t)(stop - start) + 1) : NULL;
    if (out != NULL && o == NULL)
        return wr_err_set(r->err, WR_ENOMEM, "out of memory");
    size_t n = 0;
    jr sub = {.p = start, .end = stop, .err = r->err};
    while (sub.p < stop) {
        char c = *sub.p++;
        if (c != '\\') {
            if (o)
                o[n++] = c;
            continue;
        }
        char e = *sub.p++;
        uint32_t cp;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            cp = (uint32_t)e;
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            if (hex4(&sub, &cp) != WR_OK)
                return WR_ECORRUPT;
            if (cp >= 0xD800 && cp < 0xDC00) {
                uint32_t lo;
                if (stop - sub.p < 6 || sub.p[0] != '\\' || sub.p[1] != 'u')
                    return jfail(r, "unpaired surrogate in \\u escape");
                sub.p += 2;
                if (hex4(&sub, &lo) != WR_OK || lo < 0xDC00 || lo > 0xDFFF)
                    return jfail(r, "unpaired surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return jfail(r, "unpaired surrogate in \\u escape");
            }
            break;
        default:
            return jfail(r, "bad escape \\%c", e);
        }
        if (o)
            put_utf8(o, &n, cp);
    }
    if (out != NULL)
        *out = (wr_str){o, (int32_t)n};
    return WR_OK;
}

/* A JSON number's extent at r->p; validates the grammar. */
static int
jnumber(jr *r, const char **s, size_t *n, bool *integral)
{
    const char *p = r->p;
    *integral = true;
    if (p < r->end && *p == '-')
        p++;
    if (p >= r->end || *p < '0' || *p > '9')
        return jfail(r, "invalid number");
    if (*p == '0')
        p++;
    else
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    if (p < r->end && *p == '.') {
        *integral = false;
        p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return jfail(r, "invalid number");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        *integral = false;
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return jfail(r, "invalid number");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    *s = r->p;
    *n = (size_t)(p - r->p);
    r->p = p;
    return WR_OK;
}

static int jskip(jr *r);

static int
jskip_container(jr *r, char close)
{
    if (++r->depth > WR_FMT_MAX_DEPTH)
        return jfail(r, "JSON nested deeper than %d", WR_FMT_MAX_DEPTH);
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return WR_OK;
    }
    for (;;) {
        ws(r);
        if (close == '}') {
            if (r->p >= r->end || *r->p != '"')
                return jfail(r, "expected a field name");
            if (jstring(r, NULL) != WR_OK)
                return WR_ECORRUPT;
            ws(r);
            if (r->p >= r->end || *r->p++ != ':')
                return jfail(r, "expected ':'");
        }
        if (jskip(r) != WR_OK)
            return WR_ECORRUPT;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            r->depth--;
            return WR_OK;
        }
        return jfail(r, "expected ',' or '%c'", close);
    }
}

static int
jskip(jr *r)
{
    ws(r);
    if (r->p >= r->end)
        return jfail(r, "unexpected end of JSON");
    const char *s;
    size_t n;
    bool integral;
    switch (*r->p) {
    case '"':
        return jstring(r, NULL);
    case '{':
        return jskip_container(r, '}');
    case '[':
        return jskip_container(r, ']');
    case 't':
        return lit(r, "true") ? WR_OK : jfail(r, "invalid literal");
    case 'f':
        return lit(r, "false") ? WR_OK : jfail(r, "invalid literal");
    case 'n':
        return lit(r, "null") ? WR_OK : jfail(r, "invalid literal");
    default:
        return jnumber(r, &s, &n, &integral);
    }
}

static char *
tmpz(wr_arena *a, const char *s, size_t n)
{
    return wr_arena_strndup(a, s, n);
}

static int jvalue(jr *r, const wr_sql_type *t, const char *col, wr_val *out);

/* "Can't convert type. sourceType: X, requiredType: Y" in ksqlDB's words. */
static int
mismatch(jr *r, const char *col, const char *source, const wr_sql_type *t)
{
    wr_buf b = WR_BUF_INIT;
    wr_ast_format_type(&b, t);
    wr_buf_put_u8(&b, 0);
    int rc = jfail(r,
                   "cannot deserialize field %s: can't convert type. sourceType: %s, "
                   "requiredType: %s",
                   col, source, wr_buf_ok(&b) ? (const char *)b.data : "?");
    wr_buf_free(&b);
    return rc;
}

static int
decode_base64(wr_arena *a, const char *s, int32_t n, wr_str *out)
{
    char *o = wr_arena_alloc(a, (size_t)n + 1);
    if (o == NULL)
        return WR_ENOMEM;
    int32_t len = 0, bits = 0;
    uint32_t acc = 0;
    for (int32_t i = 0; i < n; i++) {
        char c = s[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '+' || c == '-' ? 62
                : c == '/' || c == '_' ? 63
                : c == '='             ? -2
                                       : -1;
        if (v == -2)
            break;
        if (v < 0)
            return WR_EINVAL;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[len++] = (char)(acc >> bits & 0xFF);
        }
    }
    *out = (wr_str){o, len};
    return WR_OK;
}

/* A scalar given as text (a JSON string, or a number's digits) converted to type t. */
static int
scalar_from_text(
    jr *r, const char *s, size_t n, bool quoted, const wr_sql_type *t, const char *col, wr_val *out)
{
    char *z = tmpz(r->a, s, n);
    if (z == NULL)
        return wr_err_set(r->err, WR_ENOMEM, "out of memory");
    char *end;
    errno = 0;
    switch (t->kind) {
    case WR_T_INT:
    case WR_T_BIGINT:
    case WR_T_TIMESTAMP: {
        long long v = strtoll(z, &end, 10);
        if (*z == 0 || *end != 0 || errno != 0) {
            /* 5.0 for an integer column: accepted when it has no fraction */
            double d = strtod(z, &end);
            if (*z == 0 || *end != 0 || d != floor(d) || fabs(d) > 9.2e18)
                return mismatch(r, col, quoted ? "TextNode" : "DoubleNode", t);
            v = (long long)d;
        }
        if (t->kind == WR_T_INT && (v > INT32_MAX || v < INT32_MIN))
            return jfail(r, "cannot deserialize field %s: %s is out of range for INTEGER", col, z);
        *out = t->kind == WR_T_INT      ? wr_val_int((int32_t)v)
               : t->kind == WR_T_BIGINT ? wr_val_bigint(v)
                                        : wr_val_timestamp(v);
        return WR_OK;
    }
    case WR_T_DATE:
    case WR_T_TIME: {
        long long v = strtoll(z, &end, 10);
        if (*z == 0 || *end != 0 || errno != 0 || v > INT32_MAX || v < INT32_MIN)
            return mismatch(r, col, quoted ? "TextNode" : "DoubleNode", t);
        *out = t->kind == WR_T_DATE ? wr_val_date((int32_t)v) : wr_val_time((int32_t)v);
        return WR_OK;
    }
    case WR_T_DOUBLE: {
        double d = strtod(z, &end);
        if (*z == 0 || *end != 0)
            return mismatch(r, col, "TextNode", t);
        *out = wr_val_double(d);
        return WR_OK;
    }
    case WR_T_DECIMAL: {
        wr_i128 u;
        int rc = wr_decimal_parse(z, n, t->precision, t->scale, &u);
        if (rc == WR_ERANGE)
            return jfail(r, "cannot deserialize field %s: %s does not fit in DECIMAL(%d, %d)", col,
                         z, t->precision, t->scale);
        if (rc != WR_OK) {
            /* an exponent: through a double */
            double d = strtod(z, &end);
            if (*z == 0 || *end != 0)
                return mismatch(r, col, "TextNode", t);
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%.*f", t->scale, d);
            if (wr_decimal_parse(tmp, strlen(tmp), t->precision, t->scale, &u) != WR_OK)
                return jfail(r, "cannot deserialize field %s: %s does not fit in DECIMAL(%d, %d)",
                             col, z, t->precision, t->scale);
        }
        *out = wr_val_decimal(t, u);
        return WR_OK;
    }
    case WR_T_STRING:
        *out = wr_val_string(z, (int32_t)n);
        return WR_OK;
    case WR_T_BOOLEAN:
        if (quoted && (strcasecmp(z, "true") == 0 || strcasecmp(z, "false") == 0)) {
            *out = wr_val_bool(strcasecmp(z, "true") == 0);
            return WR_OK;
        }
        return mismatch(r, col, quoted ? "TextNode" : "IntNode", t);
    case WR_T_BYTES: {
        wr_str b;
        if (!quoted || decode_base64(r->a, z, (int32_t)n, &b) != WR_OK)
            return mismatch(r, col, quoted ? "TextNode" : "IntNode", t);
        *out = wr_val_bytes(b.p, b.len);
        return WR_OK;
    }
    default:
        return mismatch(r, col, quoted ? "TextNode" : "NumericNode", t);
    }
}

static const char *
node_name(char c)
{
    return c == '{'               ? "ObjectNode"
           : c == '['             ? "ArrayNode"
           : c == '"'             ? "TextNode"
           : c == 't' || c == 'f' ? "BooleanNode"
                                  : "NumericNode";
}

static int
jarray(jr *r, const wr_sql_type *t, const char *col, wr_val *out)
{
    if (++r->depth > WR_FMT_MAX_DEPTH)
        return jfail(r, "JSON nested deeper than %d", WR_FMT_MAX_DEPTH);
    r->p++;
    int32_t n = 0, cap = 8;
    wr_val *v = wr_arena_alloc(r->a, (size_t)cap * sizeof *v);
    ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
    } else {
        for (;;) {
            if (v == NULL)
                return wr_err_set(r->err, WR_ENOMEM, "out of memory");
            if (n == cap) {
                wr_val *nv = wr_arena_alloc(r->a, (size_t)cap * 2 * sizeof *nv);
                if (nv == NULL)
                    return wr_err_set(r->err, WR_ENOMEM, "out of memory");
                memcpy(nv, v, (size_t)n * sizeof *v);
                v = nv;
                cap *= 2;
            }
            if (jvalue(r, t->elem, col, &v[n]) != WR_OK)
                return WR_ECORRUPT;
            n++;
            ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == ']') {
                r->p++;
                break;
            }
            return jfail(r, "expected ',' or ']'");
        }
    }
    r->depth--;
    *out = (wr_val){.type = t};
    out->u.arr.n = n;
    out->u.arr.v = v;
    return WR_OK;
}

/* An object: as a MAP (t MAP) or a STRUCT (fields matched case-insensitively). */
static int
jobject(jr *r, const wr_sql_type *t, const char *col, wr_val *out)
{
    if (++r->depth > WR_FMT_MAX_DEPTH)
        return jfail(r, "JSON nested deeper than %d", WR_FMT_MAX_DEPTH);
    r->p++;
    bool map = t->kind == WR_T_MAP;
    int32_t n = 0, cap = 8;
    wr_val *ks = map ? wr_arena_alloc(r->a, (size_t)cap * sizeof *ks) : NULL;
    wr_val *vs = map ? wr_arena_alloc(r->a, (size_t)cap * sizeof *vs)
                     : wr_arena_calloc(r->a, (size_t)t->nfields + 1, sizeof *vs);
    if (vs == NULL || (map && ks == NULL))
        return wr_err_set(r->err, WR_ENOMEM, "out of memory");
    if (!map)
        for (int i = 0; i < t->nfields; i++)
            vs[i] = wr_val_null(t->fields[i].type);
    ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
    } else {
        for (;;) {
            ws(r);
            wr_str name;
            if (r->p >= r->end || *r->p != '"')
                return jfail(r, "expected a field name");
            if (jstring(r, &name) != WR_OK)
                return WR_ECORRUPT;
            ws(r);
            if (r->p >= r->end || *r->p++ != ':')
                return jfail(r, "expected ':'");
            if (map) {
                if (n == cap) {
                    wr_val *nk = wr_arena_alloc(r->a, (size_t)cap * 2 * sizeof *nk);
                    wr_val *nv = wr_arena_alloc(r->a, (size_t)cap * 2 * sizeof *nv);
                    if (nk == NULL || nv == NULL)
                        return wr_err_set(r->err, WR_ENOMEM, "out of memory");
                    memcpy(nk, ks, (size_t)n * sizeof *ks);
                    memcpy(nv, vs, (size_t)n * sizeof *vs);
                    ks = nk;
                    vs = nv;
                    cap *= 2;
                }
                wr_val key;
                if (scalar_from_text(r, name.p, (size_t)name.len, true, t->key, col, &key) !=
                        WR_OK ||
                    jvalue(r, t->elem, col, &vs[n]) != WR_OK)
                    return WR_ECORRUPT;
                int32_t j = 0;
                while (j < n && !wr_val_equal(&ks[j], &key))
                    j++;
                ks[j] = key;
                vs[j] = vs[n];
                if (j == n)
                    n++;
            } else {
                int f = -1;
                for (int i = 0; i < t->nfields && f < 0; i++)
                    if ((int32_t)strlen(t->fields[i].name) == name.len &&
                        strncasecmp(t->fields[i].name, name.p, (size_t)name.len) == 0)
                        f = i;
                int rc = f >= 0 ? jvalue(r, t->fields[f].type, col, &vs[f]) : jskip(r);
                if (rc != WR_OK)
                    return WR_ECORRUPT;
            }
            ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == '}') {
                r->p++;
                break;
            }
            return jfail(r, "expected ',' or '}'");
        }
    }
    r->depth--;
    *out = (wr_val){.type = t};
    if (map) {
        out->u.map.n = n;
        out->u.map.k = ks;
        out->u.map.v = vs;
    } else {
        out->u.st.f = vs;
    }
    return WR_OK;
}

static int
jvalue(jr *r, const wr_sql_type *t, const char *col, wr_val *out)
{
    ws(r);
    if (r->p >= r->end)
        return jfail(r, "unexpected end of JSON");
    char c = *r->p;
    if (c == 'n') {
        if (!lit(r, "null"))
            return jfail(r, "invalid literal");
        *out = wr_val_null(t);
        return WR_OK;
    }
    if (c == '{') {
        if (t->kind == WR_T_MAP || t->kind == WR_T_STRUCT)
            return jobject(r, t, col, out);
        return mismatch(r, col, "ObjectNode", t);
    }
    if (c == '[') {
        if (t->kind == WR_T_ARRAY)
            return jarray(r, t, col, out);
        return mismatch(r, col, "ArrayNode", t);
    }
    if (t->kind == WR_T_ARRAY || t->kind == WR_T_MAP || t->kind == WR_T_STRUCT) {
        int rc = jskip(r);
        return rc != WR_OK ? rc : mismatch(r, col, node_name(c), t);
    }
    if (c == 't' || c == 'f') {
        bool b = c == 't';
        if (!lit(r, b ? "true" : "false"))
            return jfail(r, "invalid literal");
        if (t->kind == WR_T_BOOLEAN) {
            *out = wr_val_bool(b);
            return WR_OK;
        }
        if (t->kind == WR_T_STRING) {
            *out = wr_val_string(b ? "true" : "false", b ? 4 : 5);
            return WR_OK;
        }
        return mismatch(r, col, "BooleanNode", t);
    }
    if (c == '"') {
        wr_str s;
        if (jstring(r, &s) != WR_OK)
            return WR_ECORRUPT;
        if (t->kind == WR_T_STRING) {
            *out = wr_val_string(s.p, s.len);
            return WR_OK;
        }
        if (t->kind == WR_T_TIMESTAMP || t->kind == WR_T_DATE || t->kind == WR_T_TIME) {
            /* ISO text for temporal columns: left to CAST's parser via a STRING round */
            int rc = scalar_from_text(r, s.p, (size_t)s.len, true, t, col, out);
            if (rc == WR_OK)
                return rc;
            return rc;
        }
        return scalar_from_text(r, s.p, (size_t)s.len, true, t, col, out);
    }
    const char *s;
    size_t n;
    bool integral;
    if (jnumber(r, &s, &n, &integral) != WR_OK)
        return WR_ECORRUPT;
    if (t->kind == WR_T_DOUBLE) {
        char *z = tmpz(r->a, s, n);
        if (z == NULL)
            return wr_err_set(r->err, WR_ENOMEM, "out of memory");
        *out = wr_val_double(strtod(z, NULL));
        return WR_OK;
    }
    if ((t->kind == WR_T_INT || t->kind == WR_T_BIGINT) && !integral) {
        char *z = tmpz(r->a, s, n);
        double d = z ? strtod(z, NULL) : NAN;
        if (d != floor(d))
            return mismatch(r, col, "DoubleNode", t);
    }
    return scalar_from_text(r, s, n, false, t, col, out);
}

static int
json_decode(const wr_fmt *f, const uint8_t *data, size_t len, wr_val *out, wr_arena *a, wr_err *err)
{
    jr r = {.p = (const char *)data, .end = (const char *)data + len, .a = a, .err = err};
    ws(&r);
    if (r.p >= r.end)
        return jfail(&r, "empty JSON");
    int rc;
    if (f->ncols == 1 && !f->wrap_single) {
        if ((!f->needed || f->needed[0]))
            rc = jvalue(&r, f->types[0], f->names[0], &out[0]);
        else
            rc = jskip(&r);
    } else {
        if (*r.p != '{') {
            if (*r.p == '[' || *r.p == '"' || *r.p == 't' || *r.p == 'f' || *r.p == '-' ||
                (*r.p >= '0' && *r.p <= '9') || *r.p == 'n')
                return jfail(&r, "expected a JSON object with the columns, got %s",
                             *r.p == 'n' ? "null" : node_name(*r.p));
            return jfail(&r, "not valid JSON");
        }
        r.p++;
        r.depth = 1;
        ws(&r);
        if (r.p < r.end && *r.p == '}') {
            r.p++;
            rc = WR_OK;
        } else {
            for (;;) {
                ws(&r);
                wr_str name;
                if (r.p >= r.end || *r.p != '"')
                    return jfail(&r, "expected a field name");
                if (jstring(&r, &name) != WR_OK)
                    return WR_ECORRUPT;
                ws(&r);
                if (r.p >= r.end || *r.p++ != ':')
                    return jfail(&r, "expected ':'");
                int c = -1;
                for (int i = 0; i < f->ncols && c < 0; i++)
                    if ((int32_t)strlen(f->names[i]) == name.len &&
                        strncasecmp(f->names[i], name.p, (size_t)name.len) == 0)
                        c = i;
                if (c >= 0 && (f->needed == NULL || f->needed[c]))
                    rc = jvalue(&r, f->types[c], f->names[c], &out[c]);
                else
                    rc = jskip(&r);
                if (rc != WR_OK)
                    return rc;
                ws(&r);
                if (r.p < r.end && *r.p == ',') {
                    r.p++;
                    continue;
                }
                if (r.p < r.end && *r.p == '}') {
                    r.p++;
                    break;
                }
                return jfail(&r, "expected ',' or '}'");
            }
            rc = WR_OK;
        }
    }
    if (rc != WR_OK)
        return rc;
    ws(&r);
    if (r.p != r.end)
        return jfail(&r, "trailing characters after the JSON value");
    return WR_OK;
}

/* ---- JSON writing ------------------------------------------------------------------------- */

static void
jw_string(wr_buf *b, const char *s, int32_t n)
{
    static const char hex[] = "0123456789abcdef";
    wr_buf_put_u8(b, '"');
    for (int32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            wr_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            wr_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            wr_buf_append(b, "\\n", 2);
            break;
        case '\r':
            wr_buf_append(b, "\\r", 2);
            break;
        case '\t':
            wr_buf_append(b, "\\t", 2);
            break;
        case '\b':
            wr_buf_append(b, "\\b", 2);
            break;
        case '\f':
            wr_buf_append(b, "\\f", 2);
            break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                wr_buf_append(b, u, 6);
            } else {
                wr_buf_put_u8(b, c);
            }
        }
    }
    wr_buf_put_u8(b, '"');
}

static void
jw_value(wr_buf *b, const wr_val *v, bool rest)
{
    if (v->null || v->type == NULL) {
        wr_buf_append(b, "null", 4);
        return;
    }
    switch (v->type->kind) {
    case WR_T_BOOLEAN:
        wr_buf_printf(b, "%s", v->u.b ? "true" : "false");
        break;
    case WR_T_DATE:
    case WR_T_TIME:
    case WR_T_TIMESTAMP:
        if (rest) { /* the REST API shows temporal values as ISO-8601 text, as ksqlDB does */
            wr_buf t = WR_BUF_INIT;
            wr_val_to_string(&t, v);
            jw_string(b, (const char *)t.data, (int32_t)t.len);
            wr_buf_free(&t);
        } else if (v->type->kind == WR_T_TIMESTAMP) {
            wr_buf_printf(b, "%lld", (long long)v->u.i64);
        } else {
            wr_buf_printf(b, "%d", v->u.i32);
        }
        break;
    case WR_T_INT:
        wr_buf_printf(b, "%d", v->u.i32);
        break;
    case WR_T_BIGINT:
        wr_buf_printf(b, "%lld", (long long)v->u.i64);
        break;
    case WR_T_DOUBLE:
        if (!isfinite(v->u.f64)) { /* not representable in JSON: as Jackson, a string */
            wr_buf_put_u8(b, '"');
            wr_double_format(b, v->u.f64);
            wr_buf_put_u8(b, '"');
        } else {
            wr_double_format(b, v->u.f64);
        }
        break;
    case WR_T_DECIMAL:
        wr_decimal_format(b, v->u.dec, v->type->scale);
        break;
    case WR_T_STRING:
        jw_string(b, v->u.s.p, v->u.s.len);
        break;
    case WR_T_BYTES: {
        wr_buf t = WR_BUF_INIT;
        wr_val_to_string(&t, v); /* base64 */
        jw_string(b, (const char *)t.data, (int32_t)t.len);
        wr_buf_free(&t);
        break;
    }
    case WR_T_ARRAY:
        wr_buf_put_u8(b, '[');
        for (int32_t i = 0; i < v->u.arr.n; i++) {
            if (i)
                wr_buf_put_u8(b, ',');
            jw_value(b, &v->u.arr.v[i], rest);
        }
        wr_buf_put_u8(b, ']');
        break;
    case WR_T_MAP:
        wr_buf_put_u8(b, '{');
        for (int32_t i = 0; i < v->u.map.n; i++) {
            if (i)
                wr_buf_put_u8(b, ',');
            const wr_val *k = &v->u.map.k[i];
            if (!k->null && k->type->kind == WR_T_STRING) {
                jw_string(b, k->u.s.p, k->u.s.len);
            } else {
                wr_buf t = WR_BUF_INIT;
                if (k->null)
                    wr_buf_printf(&t, "null");
                else
                    wr_val_to_string(&t, k);
                jw_string(b, (const char *)t.data, (int32_t)t.len);
                wr_buf_free(&t);
            }
            wr_buf_put_u8(b, ':');
            jw_value(b, &v->u.map.v[i], rest);
        }
        wr_buf_put_u8(b, '}');
        break;
    case WR_T_STRUCT:
        wr_buf_put_u8(b, '{');
        for (int i = 0; i < v->type->nfields; i++) {
            if (i)
                wr_buf_put_u8(b, ',');
            jw_string(b, v->type->fields[i].name, (int32_t)strlen(v->type->fields[i].name));
            wr_buf_put_u8(b, ':');
            jw_value(b, &v->u.st.f[i], rest);
        }
        wr_buf_put_u8(b, '}');
        break;
    }
}

void
wr_json_write_string(wr_buf *b, const char *s, size_t n)
{
    jw_string(b, s, (int32_t)n);
}

void
wr_json_write_value(wr_buf *b, const wr_val *v, bool rest)
{
    jw_value(b, v, rest);
}

/* ---- DELIMITED ---------------------------------------------------------------------------- */

static int
delimited_decode(
    const wr_fmt *f, const uint8_t *data, size_t len, wr_val *out, wr_arena *a, wr_err *err)
{
    const char *p = (const char *)data, *end = p + len;
    /* a trailing line break is not part of the record */
    while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    int col = 0;
    jr r = {.a = a, .err = err};
    for (;;) {
        char *field = wr_arena_alloc(a, (size_t)(end - p) + 1);
        if (field == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        size_t n = 0;
        bool quoted = false;
        if (p < end && *p == '"') {
            quoted = true;
            p++;
            for (;;) {
                if (p >= end)
                    return wr_err_set(err, WR_ECORRUPT, "unterminated quoted field %d", col + 1);
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        field[n++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                field[n++] = *p++;
            }
            if (p < end && *p != f->delimiter)
                return wr_err_set(err, WR_ECORRUPT, "text after the closing quote of field %d",
                                  col + 1);
        } else {
            while (p < end && *p != f->delimiter)
                field[n++] = *p++;
        }
        field[n] = 0;
        if (col < f->ncols) {
            if (n == 0 && !quoted) {
                out[col] = wr_val_null(f->types[col]);
            } else if (f->needed == NULL || f->needed[col]) {
                if (scalar_from_text(&r, field, n, true, f->types[col], f->names[col], &out[col]) !=
                    WR_OK)
                    return WR_ECORRUPT;
            }
        }
        col++;
        if (p >= end)
            break;
        p++; /* the delimiter */
    }
    if (col != f->ncols)
        return wr_err_set(err, WR_ECORRUPT, "unexpected field count, expected %d, got %d", f->ncols,
                          col);
    return WR_OK;
}

static void
delimited_encode(const wr_fmt *f, const wr_val *vals, wr_buf *b)
{
    for (int i = 0; i < f->ncols; i++) {
        if (i)
            wr_buf_put_u8(b, (uint8_t)f->delimiter);
        if (vals[i].null)
            continue;
        wr_buf t = WR_BUF_INIT;
        if (vals[i].type->kind == WR_T_STRING)
            wr_buf_append(&t, vals[i].u.s.p, (size_t)vals[i].u.s.len);
        else
            wr_val_to_string(&t, &vals[i]);
        bool quote = memchr(t.data, f->delimiter, t.len) || memchr(t.data, '"', t.len) ||
                     memchr(t.data, '\n', t.len) || memchr(t.data, '\r', t.len);
        if (!quote) {
            wr_buf_append(b, t.data, t.len);
        } else {
            wr_buf_put_u8(b, '"');
            for (size_t k = 0; k < t.len; k++) {
                if (t.data[k] == '"')
                    wr_buf_put_u8(b, '"');
                wr_buf_put_u8(b, t.data[k]);
            }
            wr_buf_put_u8(b, '"');
        }
        wr_buf_free(&t);
    }
}

/* ---- KAFKA -------------------------------------------------------------------------------- */

static int
kafka_decode(const wr_fmt *f, const uint8_t *data, size_t len, wr_val *out, wr_err *err)
{
    if (f->ncols == 0)
        return WR_OK;
    const wr_sql_type *t = f->types[0];
    switch (t->kind) {
    case WR_T_INT:
        if (len != 4)
            return wr_err_set(
                err, WR_ECORRUPT,
                "size of data received by IntegerDeserializer is not 4 (column %s, %zu bytes)",
                f->names[0], len);
        out[0] = wr_val_int((int32_t)wr_be32_get(data));
        return WR_OK;
    case WR_T_BIGINT:
        if (len != 8)
            return wr_err_set(
                err, WR_ECORRUPT,
                "size of data received by LongDeserializer is not 8 (column %s, %zu bytes)",
                f->names[0], len);
        out[0] = wr_val_bigint((int64_t)wr_be64_get(data));
        return WR_OK;
    case WR_T_DOUBLE: {
        if (len != 8)
            return wr_err_set(
                err, WR_ECORRUPT,
                "size of data received by DoubleDeserializer is not 8 (column %s, %zu bytes)",
                f->names[0], len);
        uint64_t u = wr_be64_get(data);
        double d;
        memcpy(&d, &u, sizeof d);
        out[0] = wr_val_double(d);
        return WR_OK;
    }
    case WR_T_STRING:
        out[0] = wr_val_string((const char *)data, (int32_t)len);
        return WR_OK;
    case WR_T_BYTES:
        out[0] = wr_val_bytes((const char *)data, (int32_t)len);
        return WR_OK;
    default:
        return wr_err_set(err, WR_EINVAL, "the KAFKA format cannot carry column %s", f->names[0]);
    }
}

static int
kafka_encode(const wr_fmt *f, const wr_val *vals, wr_buf *b, bool *is_null, wr_err *err)
{
    if (f->ncols == 0 || vals[0].null) {
        *is_null = true;
        return WR_OK;
    }
    const wr_val *v = &vals[0];
    switch (f->types[0]->kind) {
    case WR_T_INT:
        wr_buf_put_be32(b, (uint32_t)v->u.i32);
        return WR_OK;
    case WR_T_BIGINT:
        wr_buf_put_be64(b, (uint64_t)v->u.i64);
        return WR_OK;
    case WR_T_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->u.f64, sizeof u);
        wr_buf_put_be64(b, u);
        return WR_OK;
    }
    case WR_T_STRING:
    case WR_T_BYTES:
        wr_buf_append(b, v->u.s.p, (size_t)v->u.s.len);
        return WR_OK;
    default:
        return wr_err_set(err, WR_EINVAL, "the KAFKA format cannot carry column %s", f->names[0]);
    }
}

/* ---- dispatch ----------------------------------------------------------------------------- */

int
wr_fmt_decode(const wr_fmt *f,
              const uint8_t *data,
              size_t len,
              bool is_null,
              wr_val *out,
              wr_arena *a,
              wr_err *err)
{
    for (int i = 0; i < f->ncols; i++)
        out[i] = wr_val_null(f->types[i]);
    if (is_null || f->kind == WR_FMT_NONE || f->ncols == 0)
        return WR_OK; /* no columns on this side: the bytes are not looked at, as in ksqlDB */
    if (len > WR_FMT_MAX_RECORD)
        return wr_err_set(err, WR_ETOOBIG, "record of %zu bytes is over the %u byte limit", len,
                          WR_FMT_MAX_RECORD);
    int rc;
    switch (f->kind) {
    case WR_FMT_JSON:
        rc = json_decode(f, data, len, out, a, err);
        break;
    case WR_FMT_DELIMITED:
        rc = delimited_decode(f, data, len, out, a, err);
        break;
    case WR_FMT_KAFKA:
        rc = kafka_decode(f, data, len, out, err);
        break;
    default:
        rc = WR_OK;
        break;
    }
    if (rc != WR_OK && rc != WR_ENOMEM)
        wr_err_prefix(err, "failed to deserialize %s", kind_name(f->kind));
    return rc;
}

int
wr_fmt_encode(const wr_fmt *f, const wr_val *vals, wr_buf *b, bool *is_null, wr_err *err)
{
    *is_null = false;
    switch (f->kind) {
    case WR_FMT_NONE:
        *is_null = true;
        return WR_OK;
    case WR_FMT_KAFKA:
        return kafka_encode(f, vals, b, is_null, err);
    case WR_FMT_DELIMITED:
        delimited_encode(f, vals, b);
        break;
    case WR_FMT_JSON:
        if (f->ncols == 1 && !f->wrap_single) {
            jw_value(b, &vals[0], false);
        } else {
            wr_buf_put_u8(b, '{');
            for (int i = 0; i < f->ncols; i++) {
                if (i)
                    wr_buf_put_u8(b, ',');
                jw_string(b, f->names[i], (int32_t)strlen(f->names[i]));
                wr_buf_put_u8(b, ':');
                jw_value(b, &vals[i], false);
            }
            wr_buf_put_u8(b, '}');
        }
        break;
    }
    return wr_buf_ok(b) ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
}

/* ---- windowed keys ------------------------------------------------------------------------- */

void
wr_window_key_put(wr_buf *b, bool session, int64_t start, int64_t end)
{
    if (session)
        wr_buf_put_be64(b, (uint64_t)end);
    wr_buf_put_be64(b, (uint64_t)start);
}

bool
wr_window_key_get(
    const uint8_t *key, int32_t *klen, bool session, int64_t size, int64_t *start, int64_t *end)
{
    int32_t w = session ? 16 : 8;
    if (*klen < w)
        return false;
    const uint8_t *p = key + *klen - w;
    *start = (int64_t)wr_be64_get(session ? p + 8 : p);
    *end = session ? (int64_t)wr_be64_get(p) : *start + size;
    *klen -= w;
    return true;
}

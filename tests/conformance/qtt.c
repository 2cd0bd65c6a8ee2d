/*
 * qtt.c - weir-qtt: runs query-validation test cases in the JSON shape of ksqlDB's QTT files
 * against a fresh in-process engine each, and compares every output record.
 *
 *   weir-qtt [-v] [-k] [-s] [-t SECONDS] FILE|DIR ...
 *
 * A file holds {"tests":[case...]}; `//` comments are allowed. A case, as ksqlDB's runner
 * (ksqldb-functional-tests TestCaseNode) reads it:
 *   "name", "statements":[...], "inputs":[record...], "outputs":[record...],
 *   "format":["JSON","AVRO",...]  one case per format, "{FORMAT}" in the statements replaced by
 *                                 it and " - FORMAT" added to the name;
 *   "properties":{...}            set in the case's session before its statements, any JSON
 *                                 scalar as its text (ksql.* keys and function configs such as
 *                                 ksql.functions.collect_list.limit included);
 *   "topics":[{"name","partitions"}], "enabled":false (skipped),
 *   "expectedException":{"type","message"} (or "expectedError", REST's name for it),
 *   "post":{"sources":[...], "topics":{"blacklist","topics":[...]}}.
 * A record is {"topic","key","value","timestamp","window":{"start","end","type"},
 * "headers":[{"KEY","VALUE"(base64 or null)}]} (weir adds "partition" for inputs); key and
 * value as JSON (a DELIMITED value as the JSON string of its text).
 *
 * Skipped, and counted by reason: a format of the matrix weir lacks (AVRO, PROTOBUF,
 * PROTOBUF_NOSR, JSON_SR), a case whose statements name one (FORMAT='AVRO'), a disabled case.
 *
 * Each case gets a temporary log directory, topics named in "topics", inputs and the CREATE
 * statements' KAFKA_TOPIC (1 partition unless given), auto.offset.reset=earliest, then:
 * the statements (one script, one a line), each input appended (partition by murmur2 of the key, as
 * Kafka's producers do; a windowed input key gets its window's bytes) and the queries run until
 * idle before the next. As ksqlDB's TestExecutor does, the outputs are compared topic by topic
 * (topics in order of first mention): the topic's records in partition, then offset order,
 * must be as many as expected and each equal: key and value as JSON values (as ksqlDB's
 * ExpectedRecordComparator: numbers by value, an expected field found by its name or its name
 * upper-cased, an expected string matching a number of its value), the window when
 * the expected record has one (and none when it has not), the headers (none when not given),
 * the timestamp when given (not 0 in a case without inputs: INSERT VALUES stamps its rows).
 *
 * expectedException: the case passes when a statement fails or, once they all succeeded, an
 * input or a query fails (ksqlDB catches either), with an error whose message contains
 * "message" (ksqlDB: containsString). A "type" ending in KsqlStatementException also needs the
 * failing statement to be the last one (ksqlDB checks that the exception's statement text
 * contains the last statement); other types are Java classes weir has no counterpart of and
 * are not checked.
 *
 * post: each source of "sources" must exist (DESCRIBE), with "type" (STREAM/TABLE), "schema"
 * (compared as ksqlDB's schema text, `NAME` TYPE [KEY], case and spacing aside), "keyFormat"
 * {"format","windowType","windowSize"} (a keyFormat without windowType means unwindowed) and
 * "valueFormat" when given; no topic may match "topics.blacklist" (a regular expression found
 * anywhere in the name, as Java's Pattern.asPredicate); each of "topics.topics" must exist, with
 * its "partitions" and, when a source reads it, its keyFormat/valueFormat "format".
 *
 * The engine runs with a transaction coordinator over the case's log, so the queries run
 * exactly_once_v2 (weir's default) with commit.interval.ms=0 (set, as
 * ksql.streams.commit.interval.ms, before the case's own properties): every run commits, and
 * outputs are read back as a read_committed consumer reads them (wr_log_read_committed: no markers,
 * no aborted records).
 *
 * Each case runs in a child process (unless -s), so a case that crashes or runs longer than -t
 * seconds (default 120) fails as that case and the run goes on. Prints a line per failing case
 * with a diff, then "N passed, N failed, N skipped (AVRO: n, ...)"; exits 1 on any failure.
 * -v prints passing and skipped cases too; -k keeps the temporary directories; -s runs every case
 * in the runner's own process (for a debugger, and for LeakSanitizer, which does not check a
 * child that leaves by _exit).
 */
#include <dirent.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grammar/ast.h"
#include "runtime/engine.h"
#include "runtime/format.h"
#include "src/base/logging.h"
#include "src/base/murmur2.h"
#include "src/coord/txn.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"
#include "state/store.h"
#include "udf/fn.h"

static bool verbose, keep, single;
static int timeout_s = 120;
static int passed, failed, skipped;
static wr_fn_registry *fns;

/* skipped cases by reason */
static struct {
    char reason[40];
    int n;
} skips[32];
static int nskips;

/* Formats of ksqlDB that weir lacks: cases of the matrix in them are skipped. */
static const char *const lacking[] = {"AVRO", "PROTOBUF", "PROTOBUF_NOSR", "JSON_SR"};

/* Producer ids for the case's transaction coordinator (arg: the case's counter). */
static int
next_pid(void *arg, int64_t *pid, wr_err *err)
{
    (void)err;
    *pid = (*(int64_t *)arg)++;
    return WR_OK;
}

/* Removes // comments outside strings, in place. */
static void
strip_comments(char *s)
{
    bool in_str = false;
    for (char *p = s; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1] != 0)
                p++;
            else if (*p == '"')
                in_str = false;
        } else if (*p == '"') {
            in_str = true;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                *p++ = ' ';
            if (*p == 0)
                break;
        }
    }
}

static void
rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            struct stat st;
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                rm_rf(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

typedef struct got {
    char *topic, *key, *value;
    int64_t ts;
    bool has_window; /* a windowed key's window */
    const char *wtype;
    int64_t wstart, wend;
    char *headers; /* JSON array [{"KEY","VALUE"(base64)}] */
} got;

static char *
dump(const json_t *j)
{
    return j == NULL ? strdup("(absent)")
                     : json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
}

/* Whether the actual JSON value b is what the expected value a says, as ksqlDB's
   ExpectedRecordComparator decides: numbers by value (1 == 1.0), an expected string also
   matching a number of that value (a DECIMAL written as "005.4"), objects with as many fields,
   each expected field looked up by its name and then by its name upper-cased. */
static bool
json_same(const json_t *a, const json_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_is_string(a) && json_is_number(b)) {
        char *end;
        double d = strtod(json_string_value(a), &end);
        return *json_string_value(a) != 0 && *end == 0 && d == json_number_value(b);
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!json_same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a) && json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            json_t *bv = json_object_get(b, k);
            if (bv == NULL) {
                char up[256];
                size_t n = strlen(k) < sizeof up - 1 ? strlen(k) : sizeof up - 1;
                for (size_t i = 0; i < n; i++)
                    up[i] = (char)(k[i] >= 'a' && k[i] <= 'z' ? k[i] - 32 : k[i]);
                up[n] = 0;
                bv = json_object_get(b, up);
            }
            if (!json_same(v, bv))
                return false;
        }
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes base64 text into out (at most cap bytes); returns the byte count. */
static size_t
b64_decode(const char *s, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *c = s; *c && *c != '=' && n < cap; c++) {
        const char *at = strchr(b64_alphabet, *c);
        if (at == NULL || *c == 0)
            break;
        acc = acc << 6 | (uint32_t)(at - b64_alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

static void
b64_encode(wr_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {b64_alphabet[v >> 18 & 63], b64_alphabet[v >> 12 & 63],
                     i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=',
                     i + 2 < n ? b64_alphabet[v & 63] : '='};
        wr_buf_append(b, q, 4);
    }
}

/* The window of a record node ("window": {"start","end","type"}): whether it is a session's. */
static bool
window_is_session(const json_t *w)
{
    const char *t = json_string_value(json_object_get(w, "type"));
    return t != NULL && strcasecmp(t, "SESSION") == 0;
}

static int
produce(wr_engine *e, wr_logdb *db, const json_t *in, char *why, size_t whylen)
{
    const char *topic = json_string_value(json_object_get(in, "topic"));
    if (topic == NULL) {
        snprintf(why, whylen, "an input without a topic");
        return -1;
    }
    json_t *jk = json_object_get(in, "key"), *jv = json_object_get(in, "value");
    wr_buf kb = WR_BUF_INIT, vb = WR_BUF_INIT, batch = WR_BUF_INIT;
    bool knull = jk == NULL || json_is_null(jk), vnull = jv == NULL || json_is_null(jv);
    wr_err err = {0};
    int rc = 0;
    wr_rheader *hs = NULL;
    uint8_t *hbuf = NULL;
    if (!knull) {
        char *ks = json_dumps(jk, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = wr_engine_encode_json(e, topic, true, ks, &kb, &knull, &err);
        free(ks);
    }
    json_t *jw = json_object_get(in, "window");
    if (rc == 0 && json_is_object(jw)) {
        /* a windowed key (a source over a windowed table's topic): the window's bytes end it */
        if (knull)
            knull = false;
        wr_window_key_put(&kb, window_is_session(jw),
                          json_integer_value(json_object_get(jw, "start")),
                          json_integer_value(json_object_get(jw, "end")));
    }
    if (rc == 0 && !vnull) {
        char *vs = json_dumps(jv, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = wr_engine_encode_json(e, topic, false, vs, &vb, &vnull, &err);
        free(vs);
        if (rc != 0) { /* ksqlDB's tests feed undecodable values on purpose: send the raw text */
            wr_buf_reset(&vb);
            const char *raw = json_is_string(jv) ? json_string_value(jv) : NULL;
            char *vs2 = raw ? NULL : json_dumps(jv, JSON_ENCODE_ANY | JSON_COMPACT);
            wr_buf_append(&vb, raw ? raw : vs2, strlen(raw ? raw : vs2));
            free(vs2);
            rc = 0;
        }
    }
    if (rc != 0) {
        snprintf(why, whylen, "cannot encode input for %s: %s", topic, err.msg);
        goto out;
    }
    int32_t parts = wr_log_topic_partitions(db, topic);
    if (parts < 1) {
        snprintf(why, whylen, "input topic %s does not exist", topic);
        rc = -1;
        goto out;
    }
    json_t *jp = json_object_get(in, "partition");
    int32_t p = jp      ? (int32_t)json_integer_value(jp)
                : knull ? 0
                        : wr_murmur2_partition(kb.data, kb.len, parts);
    int64_t ts = json_integer_value(json_object_get(in, "timestamp"));
    /* "headers": [{"KEY": "k", "VALUE": base64 or null}], as ksqlDB's test files give them */
    json_t *jh = json_object_get(in, "headers");
    size_t nh = json_array_size(jh);
    hs = calloc(nh + 1, sizeof *hs);
    hbuf = malloc(4096);
    size_t hused = 0;
    for (size_t i = 0; hs != NULL && hbuf != NULL && i < nh; i++) {
        json_t *h = json_array_get(jh, i);
        const char *k = json_string_value(json_object_get(h, "KEY"));
        const char *v = json_string_value(json_object_get(h, "VALUE"));
        hs[i].key = (const uint8_t *)(k ? k : "");
        hs[i].key_len = (int32_t)strlen(k ? k : "");
        hs[i].value = NULL;
        hs[i].value_len = -1;
        if (v != NULL) {
            hs[i].value = hbuf + hused;
            hs[i].value_len = (int32_t)b64_decode(v, hbuf + hused, 4096 - hused);
            hused += (size_t)hs[i].value_len;
        }
    }
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
    wr_rbatch_builder_add(&bb, ts, knull ? NULL : kb.data, knull ? -1 : (int32_t)kb.len,
                          vnull ? NULL : vb.data, vnull ? -1 : (int32_t)vb.len, hs, (int32_t)nh);
    wr_partition *lp;
    wr_log_append_result res;
    if (wr_log_partition(db, topic, p, &lp) != WR_OK ||
        wr_rbatch_builder_finish(&bb, &batch, &err) != WR_OK ||
        wr_log_append(lp, batch.data, batch.len, &res, &err) != WR_OK) {
        snprintf(why, whylen, "cannot append to %s[%d]: %s", topic, p, err.msg);
        rc = -1;
    }
    wr_rbatch_builder_free(&bb);
out:
    free(hs);
    free(hbuf);
    wr_buf_free(&kb);
    wr_buf_free(&vb);
    wr_buf_free(&batch);
    return rc;
}

/* The headers of rec as a JSON array of {"KEY","VALUE"} (VALUE base64, or null), owned. */
static char *
headers_json(const wr_record *rec)
{
    wr_buf b = WR_BUF_INIT;
    wr_buf_put_u8(&b, '[');
    wr_rd rd = wr_rd_make(rec->headers, rec->headers_len);
    wr_rheader h;
    for (int i = 0; wr_record_header_next(&rd, &h) == 1; i++) {
        wr_buf_printf(&b, "%s{\"KEY\":", i ? "," : "");
        wr_json_write_string(&b, (const char *)h.key, (size_t)h.key_len);
        wr_buf_printf(&b, ",\"VALUE\":");
        if (h.value_len < 0) {
            wr_buf_printf(&b, "null");
        } else {
            wr_buf_put_u8(&b, '"');
            b64_encode(&b, h.value, (size_t)h.value_len);
            wr_buf_put_u8(&b, '"');
        }
        wr_buf_put_u8(&b, '}');
    }
    wr_buf_put_u8(&b, ']');
    wr_buf_put_u8(&b, 0);
    char *s = strdup((const char *)b.data);
    wr_buf_free(&b);
    return s;
}

/* Reads every committed record of topic into *v (appending), decoded to JSON text, as a
   read_committed consumer does: up to the last stable offset, without markers and aborted
   transactions (which read as empty batches over their offsets). */
static int
read_topic(wr_engine *e, wr_logdb *db, const char *topic, got **v, int *n, char *why, size_t whylen)
{
    int32_t parts = wr_log_topic_partitions(db, topic);
    for (int32_t p = 0; p < parts; p++) {
        wr_partition *lp;
        if (wr_log_partition(db, topic, p, &lp) != WR_OK)
            continue;
        int64_t off = wr_log_start_offset(lp), end = wr_log_stable_offset(lp);
        if (end < wr_log_end_offset(lp) && why[0] == 0) {
            /* every run commits (commit.interval.ms=0): nothing may be left open */
            snprintf(why, whylen, "  %s[%d]: a transaction is still open at offset %lld", topic, p,
                     (long long)end);
        }
        wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
        while (off < end) {
            wr_buf_reset(&data);
            wr_log_read_result res;
            wr_err err = {0};
            if (wr_log_read_committed(lp, off, 1 << 20, &data, &res, &err) != WR_OK ||
                data.len == 0)
                break;
            size_t at = 0;
            while (at < data.len) {
                size_t sz = wr_rbatch_size(data.data + at, data.len - at);
                wr_rbatch_iter it;
                if (sz == 0 ||
                    wr_rbatch_iter_init(&it, data.data + at, sz, &scratch, 64 << 20, &err) != WR_OK)
                    break;
                wr_record rec;
                while (wr_rbatch_iter_next(&it, &rec, &err) == 1) {
                    if (rec.offset < off)
                        continue;
                    off = rec.offset + 1;
                    got g = {.topic = strdup(topic), .ts = rec.timestamp};
                    wr_buf kb = WR_BUF_INIT, vb = WR_BUF_INIT;
                    int wkind;
                    int64_t wsize;
                    if (rec.key_len >= 0 && wr_engine_topic_window(e, topic, &wkind, &wsize) &&
                        wr_window_key_get(rec.key, &rec.key_len, wkind == WR_WIN_SESSION, wsize,
                                          &g.wstart, &g.wend)) {
                        /* a windowed key: the window's bounds end it */
                        g.has_window = true;
                        g.wtype = wkind == WR_WIN_SESSION ? "SESSION" : "TIME";
                    }
                    if (rec.key_len < 0)
                        wr_buf_printf(&kb, "null");
                    else if (wr_engine_decode_json(e, topic, true, rec.key, rec.key_len, &kb,
                                                   &err) != WR_OK)
                        wr_buf_printf(&kb, "\"<undecodable key: %s>\"", err.msg);
                    if (rec.value_len < 0)
                        wr_buf_printf(&vb, "null");
                    else if (wr_engine_decode_json(e, topic, false, rec.value, rec.value_len, &vb,
                                                   &err) != WR_OK)
                        wr_buf_printf(&vb, "\"<undecodable value: %s>\"", err.msg);
                    wr_buf_put_u8(&kb, 0);
                    wr_buf_put_u8(&vb, 0);
                    g.key = strdup((const char *)kb.data);
                    g.headers = headers_json(&rec);
                    g.value = strdup((const char *)vb.data);
                    wr_buf_free(&kb);
                    wr_buf_free(&vb);
                    *v = realloc(*v, (size_t)(*n + 1) * sizeof **v);
                    (*v)[(*n)++] = g;
                }
                /* a marker or an aborted batch has no records: move past its offsets */
                if (it.hdr.base_offset + it.hdr.last_offset_delta + 1 > off)
                    off = it.hdr.base_offset + it.hdr.last_offset_delta + 1;
                at += sz;
            }
        }
        wr_buf_free(&data);
        wr_buf_free(&scratch);
    }
    return why[0] == 0 ? 0 : -1;
}

static void
report(const char *file, const char *name, bool ok, const char *detail)
{
    if (ok) {
        passed++;
        if (verbose)
            printf("PASS %s: %s\n", file, name);
    } else {
        failed++;
        printf("FAIL %s: %s\n%s\n", file, name, detail);
    }
}

static void
skip(const char *file, const char *name, const char *reason)
{
    skipped++;
    if (verbose)
        printf("SKIP %s: %s (%s)\n", file, name, reason);
    for (int i = 0; i < nskips; i++)
        if (strcmp(skips[i].reason, reason) == 0) {
            skips[i].n++;
            return;
        }
    if (nskips < (int)(sizeof skips / sizeof skips[0])) {
        snprintf(skips[nskips].reason, sizeof skips[nskips].reason, "%s", reason);
        skips[nskips++].n = 1;
    }
}

/* The format weir lacks that statement s names (FORMAT='AVRO', VALUE_FORMAT = 'JSON_SR', ...),
   or NULL. */
static const char *
lacking_format_in(const char *s)
{
    for (size_t i = 0; i < sizeof lacking / sizeof lacking[0]; i++) {
        char q[40];
        snprintf(q, sizeof q, "'%s'", lacking[i]);
        for (const char *at = strcasestr(s, q); at != NULL; at = strcasestr(at + 1, q)) {
            const char *b = at;
            while (b > s && (b[-1] == ' ' || b[-1] == '=' || b[-1] == '\n' || b[-1] == '\t'))
                b--;
            if (b - s >= 6 && strncasecmp(b - 6, "FORMAT", 6) == 0)
                return lacking[i];
        }
    }
    return NULL;
}

/* A copy of statement s with every "{FORMAT}" replaced by fmt (NULL: left as it is), owned. */
static char *
expand_format(const char *s, const char *fmt)
{
    wr_buf b = WR_BUF_INIT;
    for (const char *p = s; *p;) {
        const char *at = fmt ? strstr(p, "{FORMAT}") : NULL;
        size_t n = at ? (size_t)(at - p) : strlen(p);
        wr_buf_append(&b, p, n);
        p += n;
        if (at) {
            wr_buf_append(&b, fmt, strlen(fmt));
            p += strlen("{FORMAT}");
        }
    }
    wr_buf_put_u8(&b, 0);
    char *r = strdup((const char *)b.data);
    wr_buf_free(&b);
    return r;
}

/* A property value as the text the server would take: strings as they are, other scalars as
   their JSON text (10, 1.5, true); NULL for null. Owned. */
static char *
prop_text(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (v == NULL || json_is_null(v))
        return NULL;
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* Schema text normalised for comparison: backticks and blanks gone, upper case, INT as INTEGER,
   VARCHAR as STRING (ksqlDB's SchemaParser takes either) and PRIMARY KEY as KEY. */
static void
norm_schema(const char *s, wr_buf *out)
{
    wr_buf_reset(out);
    for (const char *p = s; *p;) {
        if (*p == '`' || *p == ' ' || *p == '\t' || *p == '\n') {
            p++;
            continue;
        }
        size_t n = 0;
        while (p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z') ||
               (p[n] >= '0' && p[n] <= '9'))
            n++;
        if (n == 0) {
            wr_buf_put_u8(out, (uint8_t)*p++);
            continue;
        }
        if (n == 7 && strncasecmp(p, "PRIMARY", 7) == 0)
            ; /* a table's PRIMARY KEY is a KEY in ksqlDB's schema text */
        else if (n == 3 && strncasecmp(p, "INT", 3) == 0)
            wr_buf_printf(out, "INTEGER");
        else if (n == 7 && strncasecmp(p, "VARCHAR", 7) == 0)
            wr_buf_printf(out, "STRING");
        else
            for (size_t i = 0; i < n; i++)
                wr_buf_put_u8(out, (uint8_t)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i]));
        p += n;
    }
    wr_buf_put_u8(out, 0);
}

/* The text of DESCRIBE's line "label : value" in d, copied into v. */
static bool
describe_field(const char *d, const char *label, char *v, size_t vlen)
{
    const char *at = strstr(d, label);
    if (at == NULL || (at = strchr(at, ':')) == NULL)
        return false;
    at += 2;
    size_t n = strcspn(at, "\n");
    snprintf(v, vlen, "%.*s", (int)n, at);
    return true;
}

/* s, or "" for NULL */
static const char *
or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static const char *
format_of(const json_t *f)
{
    /* {"format": "KAFKA", ...} or, in later files, "KAFKA" */
    return json_is_string(f) ? json_string_value(f)
                             : json_string_value(json_object_get(f, "format"));
}

/* post.sources[i]: the source must exist with the given type, schema and formats. */
static void
check_source(wr_engine *e, wr_session *ss, const json_t *src, wr_buf *diff)
{
    const char *name = json_string_value(json_object_get(src, "name"));
    if (name == NULL) {
        wr_buf_printf(diff, "  post: a source without a name\n");
        return;
    }
    char q[400];
    snprintf(q, sizeof q, "DESCRIBE `%s`;", name);
    wr_buf d = WR_BUF_INIT, norm_x = WR_BUF_INIT, norm_g = WR_BUF_INIT, sch = WR_BUF_INIT;
    wr_err err = {0};
    if (wr_engine_execute(e, ss, q, strlen(q), &d, &err) != WR_OK) {
        wr_buf_printf(diff, "  post: source %s: %s\n", name, err.msg);
        goto out;
    }
    wr_buf_put_u8(&d, 0);
    const char *txt = (const char *)d.data;
    char v[256], topic[256] = "";
    const char *xt = json_string_value(json_object_get(src, "type"));
    if (xt != NULL && describe_field(txt, "Type ", v, sizeof v) && strcasecmp(v, xt) != 0)
        wr_buf_printf(diff, "  post: source %s is a %s, expected a %s\n", name, v, xt);
    if (describe_field(txt, "Kafka topic", v, sizeof v))
        snprintf(topic, sizeof topic, "%.*s", (int)strcspn(v, " "), v);
    const char *xkf = format_of(json_object_get(src, "keyFormat"));
    if (xkf != NULL && describe_field(txt, "Key format", v, sizeof v) && strcasecmp(v, xkf) != 0)
        wr_buf_printf(diff, "  post: source %s has key format %s, expected %s\n", name, v, xkf);
    const char *xvf = format_of(json_object_get(src, "valueFormat"));
    if (xvf != NULL && describe_field(txt, "Value format", v, sizeof v) && strcasecmp(v, xvf) != 0)
        wr_buf_printf(diff, "  post: source %s has value format %s, expected %s\n", name, v, xvf);
    json_t *kf = json_object_get(src, "keyFormat");
    if (json_is_object(kf)) {
        /* ksqlDB: windowType and windowSize as given, absent meaning an unwindowed key */
        int kind = 0;
        int64_t size = 0;
        bool windowed = wr_engine_topic_window(e, topic, &kind, &size);
        static const char *const kinds[] = {"TUMBLING", "HOPPING", "SESSION"};
        const char *xw = json_string_value(json_object_get(kf, "windowType"));
        const char *gw = windowed && kind >= 0 && kind < 3 ? kinds[kind] : NULL;
        if ((xw == NULL) != (gw == NULL) || (xw != NULL && strcasecmp(xw, gw) != 0))
            wr_buf_printf(diff, "  post: source %s has window type %s, expected %s\n", name,
                          gw ? gw : "none", xw ? xw : "none");
        json_t *xs = json_object_get(kf, "windowSize");
        if (json_is_integer(xs) && windowed && kind != WR_WIN_SESSION &&
            json_integer_value(xs) != size)
            wr_buf_printf(diff, "  post: source %s has window size %lld, expected %lld\n", name,
                          (long long)size, (long long)json_integer_value(xs));
    }
    const char *xs = json_string_value(json_object_get(src, "schema"));
    if (xs != NULL) {
        /* DESCRIBE's " NAME | TYPE (key)" lines, after " Field | Type" */
        const char *p = strstr(txt, " Field | Type\n");
        for (p = p ? strchr(p, '\n') + 1 : NULL; p != NULL && *p == ' ';) {
            size_t n = strcspn(p, "\n");
            const char *bar = memchr(p, '|', n);
            if (bar == NULL)
                break;
            const char *tt = bar + 2, *end = p + n;
            const char *role = "";
            static const char *const roles[][2] = {{" (primary key)", " PRIMARY KEY"},
                                                   {" (key)", " KEY"},
                                                   {" (headers)", " HEADERS"},
                                                   {" (header)", " HEADER"}};
            for (size_t r = 0; r < 4; r++) {
                size_t rl = strlen(roles[r][0]);
                if ((size_t)(end - tt) > rl && strncmp(end - rl, roles[r][0], rl) == 0) {
                    end -= rl;
                    role = roles[r][1];
                    break;
                }
            }
            wr_buf_printf(&sch, "%s`%.*s` %.*s%s", sch.len ? ", " : "", (int)(bar - 1 - p - 1),
                          p + 1, (int)(end - tt), tt, role);
            p += n + (p[n] == '\n');
        }
        wr_buf_put_u8(&sch, 0);
        norm_schema(xs, &norm_x);
        norm_schema((const char *)sch.data, &norm_g);
        if (strcmp((const char *)norm_x.data, (const char *)norm_g.data) != 0)
            wr_buf_printf(diff,
                          "  post: source %s\n    expected schema: %s\n    got:             %s\n",
                          name, xs, (const char *)sch.data);
    }
out:
    wr_buf_free(&d);
    wr_buf_free(&norm_x);
    wr_buf_free(&norm_g);
    wr_buf_free(&sch);
}

/* The sources of SHOW STREAMS and SHOW TABLES as a JSON array of {"name","topic","keyFormat",
   "valueFormat",...} (owned), or NULL. */
static json_t *
list_sources(wr_engine *e, wr_session *ss)
{
    const char *q = "SHOW STREAMS; SHOW TABLES;";
    wr_buf j = WR_BUF_INIT, failed_stmt = WR_BUF_INIT;
    wr_err err = {0};
    json_t *all = json_array();
    if (wr_engine_execute_json(e, ss, q, strlen(q), &j, &failed_stmt, &err) == WR_OK) {
        wr_buf b = WR_BUF_INIT;
        wr_buf_put_u8(&b, '[');
        wr_buf_append(&b, j.data, j.len);
        wr_buf_printf(&b, "]");
        json_error_t je;
        json_t *ents = json_loadb((const char *)b.data, b.len, 0, &je);
        size_t i;
        json_t *ent;
        json_array_foreach(ents, i, ent)
        {
            json_t *l = json_object_get(ent, "streams");
            if (l == NULL)
                l = json_object_get(ent, "tables");
            json_array_extend(all, l);
        }
        json_decref(ents);
        wr_buf_free(&b);
    }
    wr_buf_free(&j);
    wr_buf_free(&failed_stmt);
    return all;
}

/* post.topics: nothing matches the blacklist; each listed topic exists as described. */
static void
check_topics(wr_engine *e, wr_session *ss, wr_logdb *db, const json_t *pt, wr_buf *diff)
{
    const char *bl = json_string_value(json_object_get(pt, "blacklist"));
    if (bl != NULL) {
        regex_t re;
        if (regcomp(&re, bl, REG_EXTENDED | REG_NOSUB) != 0) {
            wr_buf_printf(diff, "  post: blacklist %s is not a regular expression weir reads\n",
                          bl);
        } else {
            char **names = NULL;
            size_t n = 0;
            if (wr_log_topic_list(db, &names, &n, NULL) == WR_OK)
                for (size_t i = 0; i < n; i++) {
                    if (regexec(&re, names[i], 0, NULL, 0) == 0)
                        wr_buf_printf(diff, "  post: topic %s matches the blacklist %s\n", names[i],
                                      bl);
                    free(names[i]);
                }
            free(names);
            regfree(&re);
        }
    }
    json_t *srcs = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(pt, "topics"), i, t)
    {
        const char *tn = json_string_value(json_object_get(t, "name"));
        if (tn == NULL)
            continue;
        int32_t parts = wr_log_topic_partitions(db, tn);
        if (parts < 1) {
            wr_buf_printf(diff, "  post: topic %s does not exist\n", tn);
            continue;
        }
        json_t *xp = json_object_get(t, "partitions");
        if (json_is_integer(xp) && json_integer_value(xp) != parts)
            wr_buf_printf(diff, "  post: topic %s has %d partitions, expected %lld\n", tn, parts,
                          (long long)json_integer_value(xp));
        if (srcs == NULL)
            srcs = list_sources(e, ss);
        size_t k;
        json_t *s;
        json_array_foreach(srcs, k, s)
        {
            if (strcmp(or_empty(json_string_value(json_object_get(s, "topic"))), tn) != 0)
                continue;
            const char *xkf = format_of(json_object_get(t, "keyFormat"));
            const char *xvf = format_of(json_object_get(t, "valueFormat"));
            const char *gkf = json_string_value(json_object_get(s, "keyFormat"));
            const char *gvf = json_string_value(json_object_get(s, "valueFormat"));
            if (xkf != NULL && gkf != NULL && strcasecmp(xkf, gkf) != 0)
                wr_buf_printf(diff, "  post: topic %s has key format %s, expected %s\n", tn, gkf,
                              xkf);
            if (xvf != NULL && gvf != NULL && strcasecmp(xvf, gvf) != 0)
                wr_buf_printf(diff, "  post: topic %s has value format %s, expected %s\n", tn, gvf,
                              xvf);
            break;
        }
    }
    json_decref(srcs);
}

/* Whether err (from statement stmt of nstmts, or -1: from an input or a query) is what
   expectedException ex describes; if not, why says so. */
static bool
exception_matches(const json_t *ex, const char *msg, int stmt, int nstmts, char *why, size_t wl)
{
    const char *m = json_string_value(json_object_get(ex, "message"));
    const char *type = json_string_value(json_object_get(ex, "type"));
    if (m != NULL && strstr(msg, m) == NULL) {
        snprintf(why, wl, "  expected an error containing \"%s\"\n  got: %s", m, msg);
        return false;
    }
    size_t tl = type ? strlen(type) : 0, sl = strlen("KsqlStatementException");
    if (tl >= sl && strcmp(type + tl - sl, "KsqlStatementException") == 0 && stmt != nstmts - 1) {
        if (stmt < 0)
            snprintf(why, wl,
                     "  expected %s from the last statement, got a failure at run time: %s", type,
                     msg);
        else
            snprintf(why, wl,
                     "  expected %s from the last statement, got one from statement %d: %s", type,
                     stmt + 1, msg);
        return false;
    }
    return true;
}

/* Runs one case (its statements already expanded for its format) and says whether it passed;
   why receives the failure. */
static bool
run_case_body(const json_t *tc, char **stmts, int nstmts, char *why, size_t whylen)
{
    char dir[] = "/tmp/weir-qtt-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        snprintf(why, whylen, "cannot make a temporary directory");
        return false;
    }
    wr_logdb *db = NULL;
    wr_state *state = NULL;
    wr_txn_coord *coord = NULL;
    int64_t pids = 1;
    wr_engine *e = NULL;
    wr_session *ss = wr_session_create();
    wr_err err = {0};
    wr_log_opts lo = {.flush = WR_LOG_FLUSH_NONE};
    bool ok = false;
    got *outs = NULL;
    int nouts = 0;
    wr_buf out = WR_BUF_INIT, diff = WR_BUF_INIT;
    if (wr_log_open(dir, &lo, &db, &err) != WR_OK) {
        snprintf(why, whylen, "cannot open the log: %s", err.msg);
        goto done;
    }
    char sdir[64];
    snprintf(sdir, sizeof sdir, "%s/state", dir);
    wr_state_opts so = {.dir = sdir, .cache_bytes = 4 << 20, .write_buffer_bytes = 4 << 20};
    if (wr_state_open(&so, &state, &err) != WR_OK) {
        snprintf(why, whylen, "cannot open the state: %s", err.msg);
        goto done;
    }
    wr_txn_coord_opts co = {
        .check_interval_ms = 3600000, .new_pid = next_pid, .new_pid_arg = &pids};
    if (wr_txn_coord_open(db, &co, &coord, &err) != WR_OK) {
        snprintf(why, whylen, "cannot open the transaction coordinator: %s", err.msg);
        goto done;
    }
    wr_engine_opts eo = {.db = db, .fns = fns, .state = state, .txn = coord};
    if (wr_engine_create(&eo, &e, &err) != WR_OK) {
        snprintf(why, whylen, "cannot create the engine: %s", err.msg);
        goto done;
    }
    wr_session_set(ss, "auto.offset.reset", "earliest");
    /* under its full name, so that a case's "ksql.streams.commit.interval.ms" replaces it and
       a case's "commit.interval.ms" (which the engine reads first) wins over it */
    wr_session_set(ss, "ksql.streams.commit.interval.ms", "0");
    const char *pk;
    json_t *pv;
    json_object_foreach(json_object_get(tc, "properties"), pk, pv)
    {
        char *v = prop_text(pv);
        if (v != NULL)
            wr_session_set(ss, pk, v);
        free(v);
    }
    /* topics: "topics", then those named by inputs, 1 partition unless given */
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(tc, "topics"), i, t)
    {
        const char *tn = json_string_value(json_object_get(t, "name"));
        json_t *np = json_object_get(t, "partitions");
        if (tn != NULL && wr_log_topic_partitions(db, tn) < 1)
            wr_log_topic_create(db, tn, np ? (int32_t)json_integer_value(np) : 1, NULL, NULL);
    }
    json_array_foreach(json_object_get(tc, "inputs"), i, t)
    {
        const char *tn = json_string_value(json_object_get(t, "topic"));
        if (tn != NULL && wr_log_topic_partitions(db, tn) < 1)
            wr_log_topic_create(db, tn, 1, NULL, NULL);
    }
    /* like ksqlDB's runner: the topics that CREATE statements name exist beforehand, unless the
       case is about a missing one */
    if (!json_is_true(json_object_get(tc, "noAutoTopics")))
        for (int k = 0; k < nstmts; k++) {
            const char *s = stmts[k];
            const char *kt = strcasestr(s, "kafka_topic");
            if (kt == NULL || strcasestr(s, " AS SELECT") != NULL)
                continue;
            kt += strlen("kafka_topic");
            while (*kt == ' ' || *kt == '=')
                kt++;
            if (*kt != '\'')
                continue;
            const char *end = strchr(kt + 1, '\'');
            if (end == NULL || end - kt - 1 >= 250 || strstr(kt, "${") == kt + 1)
                continue;
            char tn[256];
            snprintf(tn, sizeof tn, "%.*s", (int)(end - kt - 1), kt + 1);
            if (wr_log_topic_partitions(db, tn) < 1)
                wr_log_topic_create(db, tn, 1, NULL, NULL);
        }
    json_t *expect_ex = json_object_get(tc, "expectedException");
    if (expect_ex == NULL)
        expect_ex = json_object_get(tc, "expectedError");
    /* the statements as one script, one a line, as ksqlDB's runner joins them (so an error's
       line is the script's); the failing one is found by the error's line */
    wr_buf script = WR_BUF_INIT;
    for (int k = 0; k < nstmts; k++)
        wr_buf_printf(&script, "%s\n", stmts[k]);
    int rc = wr_engine_execute(e, ss, (const char *)script.data, script.len, &out, &err);
    wr_buf_free(&script);
    if (rc != WR_OK) {
        int k = nstmts - 1; /* an error without a line: the last statement's */
        for (int s = 0, line = 1; err.line > 0 && s < nstmts; s++) {
            int lines = 1;
            for (const char *c = stmts[s]; *c; c++)
                lines += *c == '\n';
            if (err.line < line + lines) {
                k = s;
                break;
            }
            line += lines;
        }
        if (expect_ex != NULL)
            ok = exception_matches(expect_ex, err.msg, k, nstmts, why, whylen);
        else
            snprintf(why, whylen, "  statements failed: %s", err.msg);
        goto done;
    }
    /* each input is processed before the next is appended, as ksqlDB's test driver does: a
       join sees its inputs in the order the case gives them */
    size_t nin = json_array_size(json_object_get(tc, "inputs"));
    for (size_t k = 0; k <= nin; k++) {
        if (k < nin &&
            produce(e, db, json_array_get(json_object_get(tc, "inputs"), k), why, whylen) != 0) {
            if (expect_ex != NULL) { /* ksqlDB: failing to serialise an input is an exception */
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", why); /* why receives the verdict */
                ok = exception_matches(expect_ex, msg, -1, nstmts, why, whylen);
            }
            goto done;
        }
        for (int round = 0; round < 1000; round++) {
            int64_t n = 0;
            if (wr_engine_poll(e, &n, &err) != WR_OK) {
                if (expect_ex != NULL)
                    ok = exception_matches(expect_ex, err.msg, -1, nstmts, why, whylen);
                else
                    snprintf(why, whylen, "  query failed: %s", err.msg);
                goto done;
            }
            if (n == 0)
                break;
        }
    }
    if (expect_ex != NULL) {
        const char *m = json_string_value(json_object_get(expect_ex, "message"));
        snprintf(why, whylen,
                 "  expected an error%s%s%s, but the statements and inputs ran without one",
                 m ? " containing \"" : "", m ? m : "", m ? "\"" : "");
        goto done;
    }
    /* topic by topic, in order of first mention, as ksqlDB's verifyOutput groups them */
    json_t *exp = json_object_get(tc, "outputs");
    const char *seen[64];
    int nseen = 0;
    json_array_foreach(exp, i, t)
    {
        const char *tn = json_string_value(json_object_get(t, "topic"));
        bool dup = false;
        for (int k = 0; k < nseen; k++)
            dup |= strcmp(seen[k], tn ? tn : "") == 0;
        if (tn != NULL && !dup && nseen < 64)
            seen[nseen++] = tn;
    }
    ok = true;
    for (int ti = 0; ti < nseen; ti++) {
        for (int k = 0; k < nouts; k++) {
            free(outs[k].topic);
            free(outs[k].key);
            free(outs[k].value);
            free(outs[k].headers);
        }
        nouts = 0;
        if (read_topic(e, db, seen[ti], &outs, &nouts, why, whylen) != 0) {
            ok = false;
            goto done;
        }
        int k = 0; /* the topic's k-th record */
        size_t nexp = json_array_size(exp);
        for (size_t xi = 0; xi <= nexp; xi++) {
            json_t *x = xi < nexp ? json_array_get(exp, xi) : NULL;
            if (x != NULL &&
                strcmp(or_empty(json_string_value(json_object_get(x, "topic"))), seen[ti]) != 0)
                continue;
            if (x == NULL && k >= nouts)
                break;
            got *g = k < nouts ? &outs[k] : NULL;
            bool same = x != NULL && g != NULL;
            json_t *gk = NULL, *gv = NULL, *gh = NULL;
            if (same) {
                json_error_t je;
                gk = json_loads(g->key, JSON_DECODE_ANY, &je);
                gv = json_loads(g->value, JSON_DECODE_ANY, &je);
                gh = json_loads(g->headers, JSON_DECODE_ANY, &je);
                json_t *xk = json_object_get(x, "key"), *xv = json_object_get(x, "value");
                json_t *jnull = json_null();
                same = json_same(xk ? xk : jnull, gk) && json_same(xv ? xv : jnull, gv);
                /* ksqlDB's validateCreatedMessage: an absent timestamp is not compared, nor
                   0 when the case has no inputs (INSERT VALUES stamps the wall clock); absent
                   headers are expected empty */
                json_t *xt = json_object_get(x, "timestamp");
                if (xt != NULL && json_integer_value(xt) != g->ts &&
                    (nin > 0 || json_integer_value(xt) != 0))
                    same = false;
                json_t *xh = json_object_get(x, "headers"), *none = json_array();
                if (!json_same(xh ? xh : none, gh))
                    same = false;
                json_decref(none);
                json_t *xw = json_object_get(x, "window");
                if ((xw != NULL) != g->has_window ||
                    (xw != NULL &&
                     (json_integer_value(json_object_get(xw, "start")) != g->wstart ||
                      json_integer_value(json_object_get(xw, "end")) != g->wend ||
                      strcasecmp(or_empty(json_string_value(json_object_get(xw, "type"))),
                                 g->wtype) != 0)))
                    same = false;
                json_decref(jnull);
            }
            if (!same) {
                ok = false;
                char *xs = x ? dump(x) : strdup("(no record)");
                wr_buf_printf(&diff, "  %s record %d\n    expected: %s\n    got:      ", seen[ti],
                              k, xs);
                if (g != NULL) {
                    wr_buf_printf(&diff,
                                  "{\"topic\":\"%s\",\"key\":%s,\"value\":%s,\"timestamp\":%lld",
                                  g->topic, g->key, g->value, (long long)g->ts);
                    if (g->has_window)
                        wr_buf_printf(&diff,
                                      ",\"window\":{\"start\":%lld,\"end\":%lld,\"type\":\"%s\"}",
                                      (long long)g->wstart, (long long)g->wend, g->wtype);
                    if (strcmp(g->headers, "[]") != 0)
                        wr_buf_printf(&diff, ",\"headers\":%s", g->headers);
                    wr_buf_printf(&diff, "}\n");
                } else {
                    wr_buf_printf(&diff, "(no record)\n");
                }
                free(xs);
            }
            json_decref(gk);
            json_decref(gv);
            json_decref(gh);
            k++;
        }
    }
    json_t *post = json_object_get(tc, "post");
    if (post != NULL) {
        size_t n = diff.len;
        json_array_foreach(json_object_get(post, "sources"), i, t)
        {
            check_source(e, ss, t, &diff);
        }
        json_t *pt = json_object_get(post, "topics");
        if (pt != NULL)
            check_topics(e, ss, db, pt, &diff);
        if (diff.len != n)
            ok = false;
    }
    wr_buf_put_u8(&diff, 0);
    snprintf(why, whylen, "%s", (const char *)diff.data);
done:
    for (int k = 0; k < nouts; k++) {
        free(outs[k].topic);
        free(outs[k].key);
        free(outs[k].value);
        free(outs[k].headers);
    }
    free(outs);
    wr_buf_free(&out);
    wr_buf_free(&diff);
    wr_engine_destroy(e);
    wr_txn_coord_close(coord);
    wr_state_close(state);
    wr_session_destroy(ss);
    if (db != NULL)
        wr_log_close(db);
    if (!keep)
        rm_rf(dir);
    return ok;
}

/* Runs a case in a child process (unless -s): a crash, an abort or a hang (-t) fails that case
   and the run goes on. The child sends one byte (P or F) and the failure text. */
static void
run_case(const char *file, const char *name, const json_t *tc, char **stmts, int nstmts)
{
    char why[8192] = "";
    if (single) {
        bool ok = run_case_body(tc, stmts, nstmts, why, sizeof why);
        report(file, name, ok, why);
        return;
    }
    int fd[2];
    if (pipe(fd) != 0) {
        report(file, name, false, "  cannot make a pipe");
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        report(file, name, false, "  cannot fork");
        return;
    }
    if (pid == 0) {
        close(fd[0]);
        alarm((unsigned)timeout_s);
        bool ok = run_case_body(tc, stmts, nstmts, why, sizeof why);
        char c = ok ? 'P' : 'F';
        ssize_t w = write(fd[1], &c, 1);
        for (size_t off = 0, n = strlen(why); w > 0 && off < n; off += (size_t)w)
            w = write(fd[1], why + off, n - off);
        close(fd[1]);
        _exit(0);
    }
    close(fd[1]);
    char res[sizeof why + 1];
    size_t n = 0;
    for (ssize_t r; n < sizeof res - 1 && (r = read(fd[0], res + n, sizeof res - 1 - n)) > 0;)
        n += (size_t)r;
    res[n] = 0;
    close(fd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        ;
    if (n > 0 && (res[0] == 'P' || res[0] == 'F')) {
        report(file, name, res[0] == 'P', res + 1);
    } else if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        snprintf(why, sizeof why, "  the case %s (signal %d, %s)",
                 sig == SIGALRM ? "ran out of time" : "crashed the runner", sig, strsignal(sig));
        report(file, name, false, why);
    } else {
        snprintf(why, sizeof why, "  the case ended the runner without a result (exit %d)",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        report(file, name, false, why);
    }
}

/* One case of a file: expanded over its "format" list, each format weir lacks skipped. */
static void
run_test(const char *file, const json_t *tc)
{
    const char *base = json_string_value(json_object_get(tc, "name"));
    if (base == NULL)
        base = "(unnamed)";
    json_t *fl = json_object_get(tc, "format");
    size_t nf = json_array_size(fl);
    json_t *jst = json_object_get(tc, "statements");
    int nstmts = (int)json_array_size(jst);
    for (size_t f = 0; f < (nf ? nf : 1); f++) {
        const char *fmt = nf ? json_string_value(json_array_get(fl, f)) : NULL;
        char name[1024];
        snprintf(name, sizeof name, "%s%s%s", base, fmt ? " - " : "", fmt ? fmt : "");
        if (json_is_false(json_object_get(tc, "enabled"))) {
            skip(file, name, "disabled");
            continue;
        }
        const char *lack = NULL;
        for (size_t l = 0; fmt != NULL && l < sizeof lacking / sizeof lacking[0]; l++)
            if (strcasecmp(fmt, lacking[l]) == 0)
                lack = lacking[l];
        char **stmts = calloc((size_t)nstmts + 1, sizeof *stmts);
        for (int k = 0; k < nstmts; k++) {
            stmts[k] = expand_format(or_empty(json_string_value(json_array_get(jst, k))), fmt);
            if (lack == NULL)
                lack = lacking_format_in(stmts[k]);
        }
        if (lack != NULL)
            skip(file, name, lack);
        else
            run_case(file, name, tc, stmts, nstmts);
        for (int k = 0; k < nstmts; k++)
            free(stmts[k]);
        free(stmts);
    }
}

static void
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        printf("FAIL %s: cannot open\n", path);
        failed++;
        return;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got_n = fread(s, 1, (size_t)n, f);
    s[got_n] = 0;
    fclose(f);
    strip_comments(s);
    json_error_t je;
    json_t *root = json_loads(s, 0, &je);
    free(s);
    if (root == NULL) {
        printf("FAIL %s: not JSON (line %d: %s)\n", path, je.line, je.text);
        failed++;
        return;
    }
    size_t i;
    json_t *tc;
    json_array_foreach(json_object_get(root, "tests"), i, tc)
    {
        run_test(path, tc);
    }
    json_decref(root);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("FAIL %s: no such file\n", path);
        failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || (l < 5 || strcmp(de->d_name + l - 5, ".json") != 0))
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n] = malloc(strlen(path) + l + 2);
        sprintf(names[n++], "%s/%s", path, de->d_name);
    }
    if (d != NULL)
        closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        run_path(names[i]);
        free(names[i]);
    }
    free(names);
}

static int
usage(void)
{
    fprintf(stderr, "usage: weir-qtt [-v] [-k] [-s] [-t SECONDS] FILE|DIR ...\n");
    return 2;
}

int
main(int argc, char **argv)
{
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[first], "-k") == 0)
            keep = true;
        else if (strcmp(argv[first], "-s") == 0)
            single = true;
        else if (strcmp(argv[first], "-t") == 0 && first + 1 < argc && atoi(argv[first + 1]) > 0)
            timeout_s = atoi(argv[++first]);
        else
            return usage();
    }
    if (first == argc)
        return usage();
    /* Each case runs in a forked child, which would resolve every shared library's lazily bound
       symbols again (a copy of the parent's GOT that it throws away): the runner executes itself
       again once with LD_BIND_NOW, so they are bound before the first fork (halves the cost of a
       case's fork). */
    if (!single && getenv("LD_BIND_NOW") == NULL && setenv("LD_BIND_NOW", "1", 1) == 0)
        execv("/proc/self/exe", argv); /* on failure, go on as we are */
    wr_log_set_level(verbose ? WR_LOG_INFO : WR_LOG_WARN);
    fns = wr_fn_registry_create();
    wr_err err = {0};
    if (fns == NULL || wr_fn_register_builtins(fns, &err) != WR_OK) {
        fprintf(stderr, "weir-qtt: cannot register the built-in functions: %s\n", err.msg);
        return 2;
    }
    for (int i = first; i < argc; i++)
        run_path(argv[i]);
    printf("%d passed, %d failed, %d skipped", passed, failed, skipped);
    for (int i = 0; i < nskips; i++)
        printf("%s%s: %d", i ? ", " : " (", skips[i].reason, skips[i].n);
    printf("%s\n", nskips ? ")" : "");
    wr_fn_registry_destroy(fns);
    return failed ? 1 : 0;
}

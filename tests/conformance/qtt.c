/*
 * qtt.c - weir-qtt: runs query-validation test cases in the JSON shape of ksqlDB's QTT files
 * against a fresh in-process engine each, and compares every output record.
 *
 *   weir-qtt [-v] [-k] FILE|DIR ...
 *
 * A file holds {"tests":[{"name", "statements":[...], "inputs":[...], "outputs":[...],
 * "expectedException":{"type","message"}, "topics":[{"name","partitions"}],
 * "properties":{...}}]}; `//` comments are allowed. Inputs and outputs are
 * {"topic","key","value","timestamp"[,"partition"]}, key and value as JSON (a DELIMITED value
 * as the JSON string of its text). Each case gets a temporary log directory, topics named in
 * inputs or "topics" (1 partition unless given), auto.offset.reset=earliest, then: statements
 * in order, each input appended (partition by murmur2 of the key, as Kafka's producers do) and
 * the queries run until idle before the next, every record of every output topic read back
 * (partition order, then offset order) and compared with "outputs": topic, key and value as JSON
 * values, timestamp when given. With expectedException the statements must fail with a message
 * containing its "message".
 *
 * The engine runs with a transaction coordinator over the case's log, so the queries run
 * exactly_once_v2 (weir's default) with commit.interval.ms=0 (set before the case's own
 * properties): every run commits, and outputs are read back as a read_committed consumer reads
 * them (wr_log_read_committed: no markers, no aborted records).
 *
 * Prints a line per failing case with a diff, then "N passed, N failed"; exits 1 on any
 * failure. -v prints passing cases too; -k keeps the temporary directories.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/engine.h"
#include "runtime/format.h"
#include "src/base/logging.h"
#include "src/base/murmur2.h"
#include "src/coord/txn.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"
#include "state/store.h"
#include "udf/fn.h"

static bool verbose, keep;
static int passed, failed;
static wr_fn_registry *fns;

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
} got;

static char *
dump(const json_t *j)
{
    return j == NULL ? strdup("(absent)")
                     : json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
}

/* JSON equality where numbers compare by value (1 == 1.0, as ksqlDB's tests treat them). */
static bool
json_same(const json_t *a, const json_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
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
            if (!json_same(v, json_object_get(b, k)))
                return false;
        }
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
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
    if (!knull) {
        char *ks = json_dumps(jk, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = wr_engine_encode_json(e, topic, true, ks, &kb, &knull, &err);
        free(ks);
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
    wr_rheader *hs = calloc(nh + 1, sizeof *hs);
    uint8_t *hbuf = malloc(4096);
    size_t hused = 0;
    for (size_t i = 0; hs != NULL && hbuf != NULL && i < nh; i++) {
        json_t *h = json_array_get(jh, i);
        const char *k = json_string_value(json_object_get(h, "KEY"));
        const char *v = json_string_value(json_object_get(h, "VALUE"));
        hs[i].key = (const uint8_t *)(k ? k : "");
        hs[i].key_len = (int32_t)strlen(k ? k : "");
        hs[i].value = NULL;
        hs[i].value_len = -1;
        if (v != NULL) { /* base64 */
            uint32_t acc = 0;
            int bits = 0;
            hs[i].value = hbuf + hused;
            hs[i].value_len = 0;
            for (const char *c = v; *c && *c != '=' && hused < 4096; c++) {
                const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                const char *at = strchr(al, *c);
                if (at == NULL)
                    break;
                acc = acc << 6 | (uint32_t)(at - al);
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    hbuf[hused++] = (uint8_t)(acc >> bits);
                    hs[i].value_len++;
                }
            }
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
    free(hs);
    free(hbuf);
out:
    wr_buf_free(&kb);
    wr_buf_free(&vb);
    wr_buf_free(&batch);
    return rc;
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
run_case(const char *file, const json_t *tc)
{
    const char *name = json_string_value(json_object_get(tc, "name"));
    if (name == NULL)
        name = "(unnamed)";
    char dir[] = "/tmp/weir-qtt-XXXXXX";
    char why[2048] = "";
    if (mkdtemp(dir) == NULL) {
        report(file, name, false, "cannot make a temporary directory");
        return;
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
    wr_buf out = WR_BUF_INIT, stmts = WR_BUF_INIT;
    if (wr_log_open(dir, &lo, &db, &err) != WR_OK) {
        snprintf(why, sizeof why, "cannot open the log: %s", err.msg);
        goto done;
    }
    char sdir[64];
    snprintf(sdir, sizeof sdir, "%s/state", dir);
    wr_state_opts so = {.dir = sdir, .cache_bytes = 4 << 20, .write_buffer_bytes = 4 << 20};
    if (wr_state_open(&so, &state, &err) != WR_OK) {
        snprintf(why, sizeof why, "cannot open the state: %s", err.msg);
        goto done;
    }
    wr_txn_coord_opts co = {
        .check_interval_ms = 3600000, .new_pid = next_pid, .new_pid_arg = &pids};
    if (wr_txn_coord_open(db, &co, &coord, &err) != WR_OK) {
        snprintf(why, sizeof why, "cannot open the transaction coordinator: %s", err.msg);
        goto done;
    }
    wr_engine_opts eo = {.db = db, .fns = fns, .state = state, .txn = coord};
    if (wr_engine_create(&eo, &e, &err) != WR_OK) {
        snprintf(why, sizeof why, "cannot create the engine: %s", err.msg);
        goto done;
    }
    wr_session_set(ss, "auto.offset.reset", "earliest");
    wr_session_set(ss, "commit.interval.ms", "0");
    const char *pk;
    json_t *pv;
    json_object_foreach(json_object_get(tc, "properties"), pk, pv)
    {
        if (json_is_string(pv))
            wr_session_set(ss, pk, json_string_value(pv));
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
    json_array_foreach(json_object_get(tc, "statements"), i, t)
    {
        const char *s = json_string_value(t);
        if (s != NULL)
            wr_buf_printf(&stmts, "%s\n", s);
    }
    /* like ksqlDB's runner: the topics that CREATE statements name exist beforehand, unless the
       case is about a missing one */
    if (!json_is_true(json_object_get(tc, "noAutoTopics")))
        json_array_foreach(json_object_get(tc, "statements"), i, t)
        {
            const char *s = json_string_value(t);
            const char *k = s ? strcasestr(s, "kafka_topic") : NULL;
            if (k == NULL || strcasestr(s, " AS SELECT") != NULL)
                continue;
            k += strlen("kafka_topic");
            while (*k == ' ' || *k == '=')
                k++;
            if (*k != '\'')
                continue;
            const char *end = strchr(k + 1, '\'');
            if (end == NULL || end - k - 1 >= 250 || strstr(k, "${") == k + 1)
                continue;
            char tn[256];
            snprintf(tn, sizeof tn, "%.*s", (int)(end - k - 1), k + 1);
            if (wr_log_topic_partitions(db, tn) < 1)
                wr_log_topic_create(db, tn, 1, NULL, NULL);
        }
    json_t *expect_ex = json_object_get(tc, "expectedException");
    int rc = wr_engine_execute(e, ss, (const char *)stmts.data, stmts.len, &out, &err);
    if (expect_ex != NULL) {
        const char *m = json_string_value(json_object_get(expect_ex, "message"));
        if (rc == WR_OK) {
            /* the failure may come with the inputs (a runtime error is not an exception) */
            snprintf(why, sizeof why, "  expected an error%s%s%s, but the statements succeeded",
                     m ? " containing \"" : "", m ? m : "", m ? "\"" : "");
        } else if (m != NULL && strstr(err.msg, m) == NULL) {
            snprintf(why, sizeof why, "  expected an error containing \"%s\"\n  got: %s", m,
                     err.msg);
        } else {
            ok = true;
        }
        goto done;
    }
    if (rc != WR_OK) {
        snprintf(why, sizeof why, "  statements failed: %s", err.msg);
        goto done;
    }
    /* each input is processed before the next is appended, as ksqlDB's test driver does: a
       join sees its inputs in the order the case gives them */
    size_t nin = json_array_size(json_object_get(tc, "inputs"));
    for (size_t k = 0; k <= nin; k++) {
        if (k < nin &&
            produce(e, db, json_array_get(json_object_get(tc, "inputs"), k), why, sizeof why) != 0)
            goto done;
        for (int round = 0; round < 1000; round++) {
            int64_t n = 0;
            if (wr_engine_poll(e, &n, &err) != WR_OK) {
                snprintf(why, sizeof why, "  query failed: %s", err.msg);
                goto done;
            }
            if (n == 0)
                break;
        }
    }
    /* read every topic the outputs name, in order of first mention */
    json_t *exp = json_object_get(tc, "outputs");
    const char *seen[64];
    int nseen = 0;
    json_array_foreach(exp, i, t)
    {
        const char *tn = json_string_value(json_object_get(t, "topic"));
        bool dup = false;
        for (int k = 0; k < nseen; k++)
            dup |= strcmp(seen[k], tn ? tn : "") == 0;
        if (tn == NULL || dup || nseen == 64)
            continue;
        seen[nseen++] = tn;
        if (read_topic(e, db, tn, &outs, &nouts, why, sizeof why) != 0)
            goto done;
    }
    size_t nexp = json_array_size(exp);
    wr_buf diff = WR_BUF_INIT;
    ok = true;
    for (size_t k = 0; k < nexp || k < (size_t)nouts; k++) {
        json_t *x = json_array_get(exp, k);
        got *g = k < (size_t)nouts ? &outs[k] : NULL;
        bool same = x != NULL && g != NULL;
        json_t *gk = NULL, *gv = NULL;
        if (same) {
            json_error_t je;
            gk = json_loads(g->key, JSON_DECODE_ANY, &je);
            gv = json_loads(g->value, JSON_DECODE_ANY, &je);
            json_t *xk = json_object_get(x, "key"), *xv = json_object_get(x, "value");
            json_t *jnull = json_null();
            same = strcmp(json_string_value(json_object_get(x, "topic")), g->topic) == 0 &&
                   json_same(xk ? xk : jnull, gk) && json_same(xv ? xv : jnull, gv);
            json_t *xt = json_object_get(x, "timestamp");
            if (xt != NULL && json_integer_value(xt) != g->ts)
                same = false;
            json_t *xw = json_object_get(x, "window");
            if ((xw != NULL) != g->has_window ||
                (xw != NULL && (json_integer_value(json_object_get(xw, "start")) != g->wstart ||
                                json_integer_value(json_object_get(xw, "end")) != g->wend ||
                                strcasecmp(json_string_value(json_object_get(xw, "type"))
                                               ? json_string_value(json_object_get(xw, "type"))
                                               : "",
                                           g->wtype))))
                same = false;
            json_decref(jnull);
        }
        if (!same) {
            ok = false;
            char *xs = dump(x);
            wr_buf_printf(&diff, "  record %zu\n    expected: %s\n    got:      ", k, xs);
            if (g != NULL)
                wr_buf_printf(&diff, "{\"topic\":\"%s\",\"key\":%s,\"value\":%s,\"timestamp\":%lld",
                              g->topic, g->key, g->value, (long long)g->ts);
            if (g != NULL && g->has_window)
                wr_buf_printf(&diff, ",\"window\":{\"start\":%lld,\"end\":%lld,\"type\":\"%s\"}",
                              (long long)g->wstart, (long long)g->wend, g->wtype);
            if (g != NULL)
                wr_buf_printf(&diff, "}\n");
            else
                wr_buf_printf(&diff, "(no record)\n");
            free(xs);
        }
        json_decref(gk);
        json_decref(gv);
    }
    wr_buf_put_u8(&diff, 0);
    snprintf(why, sizeof why, "%s", (const char *)diff.data);
    wr_buf_free(&diff);
done:
    report(file, name, ok, why);
    for (int k = 0; k < nouts; k++) {
        free(outs[k].topic);
        free(outs[k].key);
        free(outs[k].value);
    }
    free(outs);
    wr_buf_free(&out);
    wr_buf_free(&stmts);
    wr_engine_destroy(e);
    wr_txn_coord_close(coord);
    wr_state_close(state);
    wr_session_destroy(ss);
    if (db != NULL)
        wr_log_close(db);
    if (!keep)
        rm_rf(dir);
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
        run_case(path, tc);
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

int
main(int argc, char **argv)
{
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[first], "-k") == 0)
            keep = true;
        else {
            fprintf(stderr, "usage: weir-qtt [-v] [-k] FILE|DIR ...\n");
            return 2;
        }
    }
    if (first == argc) {
        fprintf(stderr, "usage: weir-qtt [-v] [-k] FILE|DIR ...\n");
        return 2;
    }
    wr_log_set_level(verbose ? WR_LOG_INFO : WR_LOG_WARN);
    fns = wr_fn_registry_create();
    wr_err err = {0};
    if (fns == NULL || wr_fn_register_builtins(fns, &err) != WR_OK) {
        fprintf(stderr, "weir-qtt: cannot register the built-in functions: %s\n", err.msg);
        return 2;
    }
    for (int i = first; i < argc; i++)
        run_path(argv[i]);
    printf("%d passed, %d failed\n", passed, failed);
    wr_fn_registry_destroy(fns);
    return failed ? 1 : 0;
}

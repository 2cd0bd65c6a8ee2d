/*
 * api.c - the ksqlDB REST API over weir's HTTP server.
 *
 * Endpoints and shapes (ksqlDB's, so its clients work unchanged):
 *   POST /ksql            {"ksql","streamsProperties","sessionVariables"} -> a JSON array with one
 *                         entity per statement (engine.h, wr_engine_execute_json); a failure is
 *                         HTTP 400 {"@type":"statement_error","error_code":40001,...}
 *   POST /query           {"ksql","streamsProperties"} -> chunked vnd.ksql.v1+json: a JSON array
 *                         streamed as [{"header":{queryId,schema}}, {"row":{"columns":[..]}}, ...]
 *   POST /query-stream    {"sql","properties","sessionVariables"} -> by Accept: delimited rows
 *                         (application/vnd.ksqlapi.delimited.v1, the default: a header object,
 *                         then one JSON array a line) or one JSON array (application/json)
 *   POST /close-query     {"queryId"} ends a push query of this server
 *   POST /inserts-stream  {"target":"S"} then one JSON object a line; one {"status":"ok","seq":N}
 *                         line per row, sent while the body is still arriving
 *   GET /info, /healthcheck, /status[/...], /livez, /readyz, /metrics (Prometheus text)
 *
 * Every failure answers with a JSON error object that says why: malformed JSON, unknown
 * endpoints (404), wrong methods (405), bodies over the limit (413), statements that fail.
 *
 * Threads: handlers run on the HTTP loop thread; everything that needs the engine is a job on
 * the SQL worker thread (wr_sqlworker_submit), which posts its answer back. A push query's rows
 * are written by the worker into the query's queue (a mutex guards it) and drained into the
 * response by the loop; a full queue holds the query back (wr_push_sink.ready), so a slow client
 * costs memory up to push_queue_bytes, not more. A client that goes away ends its query.
 *
 * Lifetimes: a call (one request) lives as long as its request, whose references the server
 * holds while the request is in flight and each job holds while it runs. A push is shared with the
 * worker and counted under its mutex: the loop's reference and the engine's (held from a successful
 * open until done or a close job).
 */
#include "src/http/api.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/engine.h"
#include "runtime/format.h"
#include "src/base/buf.h"
#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/security/basic.h"

#define VERSION       "0.29.0-weir"
#define OFFSETS_TABLE "group_offsets"
#define T_JSON        "application/json"
#define T_KSQL_V1     "application/vnd.ksql.v1+json"
#define T_DELIMITED   "application/vnd.ksqlapi.delimited.v1"
#define MAX_INFLIGHT  1024 /* /inserts-stream rows waiting for the worker per request */

typedef enum endpoint {
    EP_NONE,
    EP_KSQL,
    EP_QUERY,
    EP_QUERY_STREAM,
    EP_CLOSE_QUERY,
    EP_INSERTS,
    EP_INFO,
    EP_HEALTH,
    EP_STATUS,
    EP_LIVEZ,
    EP_READYZ,
    EP_METRICS,
} endpoint;

typedef struct push push;

struct wr_api {
    wr_api_opts o;
    wr_basic_auth *basic; /* authentication.method=BASIC; NULL: none */
    char *realm, *skip_paths;
    wr_http_server *http;
    atomic_bool ready;
    push *pushes; /* loop thread: the open push queries, for /close-query and the tick */
    int64_t started_ms;
    /* command ids of this server's /ksql statements and their status, for GET /status */
    char **cmd_ids;
    char **cmd_msgs;
    int ncmds;
};

typedef struct call {
    wr_api *api;
    wr_http_req *req; /* the call lives as long as its request (wr_http_req_set_data) */
    endpoint ep;
    wr_buf body;
    bool too_big;
    bool denied;                         /* answered 401: nothing more is done */
    char user[WR_SCRAM_MAX_USER + 1];    /* the authenticated user ("" without authentication) */
    /* /inserts-stream */
    char *target;
    int64_t seq, inflight, acked;
    bool body_done, failed;
    bool ins_json; /* acks as one JSON array (Accept: application/json), not a line each */
    wr_buf line;
    push *push; /* /query, /query-stream */
} call;

typedef enum push_mode { PM_DELIMITED, PM_JSON, PM_V1 } push_mode;

struct push {
    pthread_mutex_t mu;
    int refs;          /* under mu */
    wr_buf q;          /* formatted rows not yet drained (under mu) */
    bool done;         /* the engine has ended the query (under mu) */
    char *why;         /* ... and why, or NULL (under mu) */
    bool drain_posted; /* under mu */
    bool engine_holds; /* worker thread only */
    size_t limit;      /* queue bytes beyond which the query waits */
    /* loop thread only */
    wr_api *api;
    call *c;
    push_mode mode;
    bool opened, finished, registered;
    char id[200];
    push *next;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static void push_unref(push *p);

static void
call_free(void *arg)
{
    call *c = arg;
    if (c->push != NULL) {
        /* the request is gone: nothing may touch it through the push from now on */
        c->push->finished = true;
        c->push->c = NULL;
        push_unref(c->push);
    }
    wr_buf_free(&c->body);
    wr_buf_free(&c->line);
    free(c->target);
    free(c);
}

/* A job in flight keeps the request, and so the call, alive. */
static void
call_unref(call *c)
{
    wr_http_req_unref(c->req);
}

static void
jstr(wr_buf *b, const char *s)
{
    wr_json_write_string(b, s, strlen(s));
}

/* {"@type":"generic_error","error_code":code,"message":msg} with the HTTP status code/100. */
static void reply_error(wr_http_req *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply_error(wr_http_req *r, int code, const char *fmt, ...)
{
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    wr_buf b = WR_BUF_INIT;
    wr_buf_printf(&b, "{\"@type\":\"generic_error\",\"error_code\":%d,\"message\":", code);
    jstr(&b, m);
    wr_buf_put_u8(&b, '}');
    wr_http_reply(r, code / 100, T_JSON, NULL, b.data, b.len);
    wr_buf_free(&b);
}

static void
reply_json(wr_http_req *r, int status, const char *ctype, const wr_buf *b)
{
    wr_http_reply(r, status, ctype, NULL, b->data, b->len);
}

/* Parses a request body as a JSON object; on failure answers 400 and returns NULL. */
static json_t *
body_object(call *c)
{
    json_error_t je;
    json_t *j = json_loadb(c->body.len ? (const char *)c->body.data : "", c->body.len, 0, &je);
    if (j == NULL) {
        reply_error(c->req, 40000, "malformed JSON in the request body: %s (line %d, column %d)",
                    je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        reply_error(c->req, 40000, "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

/* Session properties and variables of a request: "ksql.streams." is dropped from names. */
typedef struct props {
    int n;
    char **k, **v;
    bool *var;
} props;

static void
props_free(props *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->k[i]);
        free(p->v[i]);
    }
    free(p->k);
    free(p->v);
    free(p->var);
    memset(p, 0, sizeof *p);
}

static int
props_add(props *p, const char *k, json_t *v, bool var)
{
    char num[64];
    const char *text;
    if (json_is_string(v))
        text = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), text = num;
    else if (json_is_real(v))
        snprintf(num, sizeof num, "%g", json_real_value(v)), text = num;
    else if (json_is_boolean(v))
        text = json_is_true(v) ? "true" : "false";
    else
        return WR_EINVAL;
    if (!var && strncmp(k, "ksql.streams.", 13) == 0)
        k += 13;
    char **nk = realloc(p->k, (size_t)(p->n + 1) * sizeof *nk);
    if (nk != NULL)
        p->k = nk;
    char **nv = realloc(p->v, (size_t)(p->n + 1) * sizeof *nv);
    if (nv != NULL)
        p->v = nv;
    bool *nb = realloc(p->var, (size_t)(p->n + 1) * sizeof *nb);
    if (nb != NULL)
        p->var = nb;
    if (nk == NULL || nv == NULL || nb == NULL)
        return WR_ENOMEM;
    p->k[p->n] = strdup(k);
    p->v[p->n] = strdup(text);
    p->var[p->n] = var;
    p->n++;
    return WR_OK;
}

static int
props_read(props *p, json_t *obj, bool var, wr_http_req *r, const char *field)
{
    if (obj == NULL || json_is_null(obj))
        return WR_OK;
    if (!json_is_object(obj)) {
        reply_error(r, 40000, "\"%s\" must be a JSON object", field);
        return WR_EINVAL;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (props_add(p, k, v, var) != WR_OK) {
            reply_error(r, 40000, "\"%s\": the value of '%s' must be a string, number or boolean",
                        field, k);
            return WR_EINVAL;
        }
    }
    return WR_OK;
}

static void
props_apply(const props *p, wr_session *s)
{
    for (int i = 0; i < p->n; i++)
        p->var[i] ? wr_session_define(s, p->k[i], p->v[i]) : wr_session_set(s, p->k[i], p->v[i]);
}

/* Runs done(arg) on the loop thread; when the HTTP server is gone, here (requests are gone
   then, and every answer is a no-op). */
static void
post_back(wr_api *a, void (*done)(void *), void *arg)
{
    if (wr_http_server_post(a->http, done, arg) != WR_OK)
        done(arg);
}

/* ---- POST /ksql ---------------------------------------------------------------------------- */

typedef struct ksql_job {
    call *c;
    char *text;
    props p;
    wr_buf json, failed;
    wr_err err;
    int rc;
} ksql_job;

static void
remember_command(wr_api *a, const char *entities)
{
    /* "commandId":"..." and its "message" of each currentStatus entity */
    for (const char *p = entities; (p = strstr(p, "\"commandId\":\"")) != NULL;) {
        p += 13;
        const char *e = strchr(p, '"');
        const char *m = strstr(p, "\"message\":\"");
        if (e == NULL)
            break;
        char **ni = realloc(a->cmd_ids, (size_t)(a->ncmds + 1) * sizeof *ni);
        if (ni != NULL)
            a->cmd_ids = ni;
        char **nm = realloc(a->cmd_msgs, (size_t)(a->ncmds + 1) * sizeof *nm);
        if (nm != NULL)
            a->cmd_msgs = nm;
        if (ni == NULL || nm == NULL)
            return;
        const char *me = m ? strstr(m + 11, "\",") : NULL;
        a->cmd_ids[a->ncmds] = strndup(p, (size_t)(e - p));
        a->cmd_msgs[a->ncmds] = m && me ? strndup(m + 11, (size_t)(me - m - 11)) : strdup("");
        a->ncmds++;
        p = e;
    }
}

static void
ksql_done(void *arg)
{
    ksql_job *j = arg;
    call *c = j->c;
    wr_buf b = WR_BUF_INIT;
    const char *accept = wr_http_req_header(c->req, "Accept");
    const char *ctype = accept && strstr(accept, T_KSQL_V1) ? T_KSQL_V1 : T_JSON;
    if (j->rc == WR_OK) {
        wr_buf_put_u8(&b, '[');
        wr_buf_append(&b, j->json.data, j->json.len);
        wr_buf_put_u8(&b, ']');
        wr_buf_put_u8(&j->json, 0);
        if (j->json.len > 1)
            remember_command(c->api, (const char *)j->json.data);
        reply_json(c->req, 200, ctype, &b);
    } else {
        bool bad = j->rc == WR_ESYNTAX || j->rc == WR_ESEMANTIC || j->rc == WR_EINVAL ||
                   j->rc == WR_ENOENT || j->rc == WR_EEXIST || j->rc == WR_EUNSUPP;
        int code = j->rc == WR_EUNSUPP ? 40002 : bad ? 40001 : 50000;
        wr_buf_printf(&b, "{\"@type\":\"statement_error\",\"error_code\":%d,\"message\":", code);
        jstr(&b, j->err.msg);
        wr_buf_printf(&b, ",\"statementText\":");
        wr_json_write_string(&b, j->failed.len ? (const char *)j->failed.data : "", j->failed.len);
        wr_buf_printf(&b, ",\"entities\":[");
        wr_buf_append(&b, j->json.data, j->json.len);
        wr_buf_printf(&b, "]}");
        reply_json(c->req, bad ? 400 : 500, ctype, &b);
    }
    wr_buf_free(&b);
    wr_buf_free(&j->json);
    wr_buf_free(&j->failed);
    props_free(&j->p);
    free(j->text);
    free(j);
    call_unref(c);
}

static void
ksql_job_run(wr_engine *e, wr_session *ws, void *arg)
{
    (void)ws;
    ksql_job *j = arg;
    wr_session *s = wr_session_create();
    if (s == NULL) {
        j->rc = wr_err_set(&j->err, WR_ENOMEM, "out of memory");
    } else {
        props_apply(&j->p, s);
        j->rc =
            wr_engine_execute_json(e, s, j->text, strlen(j->text), &j->json, &j->failed, &j->err);
    }
    wr_session_destroy(s);
    post_back(j->c->api, ksql_done, j);
}

static void
submit(call *c, void (*fn)(wr_engine *, wr_session *, void *), void *job, void (*undo)(void *))
{
    wr_http_req_ref(c->req);
    if (wr_sqlworker_submit(c->api->o.sql, fn, job) != WR_OK) {
        reply_error(c->req, 50300, "the server is stopping");
        undo(job);
    }
}

static void
ksql_undo(void *arg)
{
    ksql_job *j = arg;
    call *c = j->c;
    props_free(&j->p);
    free(j->text);
    free(j);
    call_unref(c);
}

static void
serve_ksql(call *c)
{
    json_t *j = body_object(c);
    if (j == NULL)
        return;
    json_t *k = json_object_get(j, "ksql");
    if (!json_is_string(k)) {
        json_decref(j);
        reply_error(c->req, 40000, "the request needs a \"ksql\" field with the statements");
        return;
    }
    ksql_job *job = calloc(1, sizeof *job);
    if (job == NULL || (job->text = strdup(json_string_value(k))) == NULL) {
        free(job);
        json_decref(j);
        reply_error(c->req, 50000, "out of memory");
        return;
    }
    job->c = c;
    if (props_read(&job->p, json_object_get(j, "streamsProperties"), false, c->req,
                   "streamsProperties") != WR_OK ||
        props_read(&job->p, json_object_get(j, "sessionVariables"), true, c->req,
                   "sessionVariables") != WR_OK) {
        props_free(&job->p);
        free(job->text);
        free(job);
        json_decref(j);
        return;
    }
    json_decref(j);
    submit(c, ksql_job_run, job, ksql_undo);
}

/* ---- push queries: /query and /query-stream ------------------------------------------------ */

static void
push_unref(push *p)
{
    pthread_mutex_lock(&p->mu);
    int left = --p->refs;
    pthread_mutex_unlock(&p->mu);
    if (left > 0)
        return;
    pthread_mutex_destroy(&p->mu);
    wr_buf_free(&p->q);
    free(p->why);
    free(p);
}

static void push_drain(void *arg);

/* worker thread: the sink of wr_engine_push_open */
/* One row into the push's queue, in the mode's framing; a tombstone (a table's deleted row)
   is marked in /query's shape as ksqlDB marks it, and is a row with null values on
   /query-stream, which has no marker. */
static void
queue_row(push *p, const char *json, size_t len, bool tombstone)
{
    pthread_mutex_lock(&p->mu);
    switch (p->mode) {
    case PM_DELIMITED:
        wr_buf_append(&p->q, json, len);
        wr_buf_put_u8(&p->q, '\n');
        break;
    case PM_JSON:
        wr_buf_put_u8(&p->q, ',');
        wr_buf_append(&p->q, json, len);
        break;
    case PM_V1:
        wr_buf_append(&p->q, ",\n{\"row\":{\"columns\":", 20);
        wr_buf_append(&p->q, json, len);
        if (tombstone)
            wr_buf_append(&p->q, ",\"tombstone\":true", 17);
        wr_buf_append(&p->q, "}}", 2);
        break;
    }
    bool post = !p->drain_posted;
    p->drain_posted = true;
    if (post)
        p->refs++;
    pthread_mutex_unlock(&p->mu);
    if (post)
        post_back(p->api, push_drain, p);
}

static void
sink_row(void *arg, const char *json, size_t len)
{
    queue_row(arg, json, len, false);
}

static void
sink_tombstone(void *arg, const char *json, size_t len)
{
    queue_row(arg, json, len, true);
}

static bool
sink_ready(void *arg)
{
    push *p = arg;
    pthread_mutex_lock(&p->mu);
    bool ok = p->q.len < p->limit;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static void
sink_done(void *arg, const char *why)
{
    push *p = arg;
    pthread_mutex_lock(&p->mu);
    p->done = true;
    p->why = why ? strdup(why) : NULL;
    bool post = !p->drain_posted;
    p->drain_posted = true;
    if (post)
        p->refs++;
    pthread_mutex_unlock(&p->mu);
    p->engine_holds = false;
    if (post)
        post_back(p->api, push_drain, p);
    push_unref(p); /* the engine's reference */
}

static void
push_unregister(push *p)
{
    if (!p->registered)
        return;
    for (push **pp = &p->api->pushes; *pp != NULL; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    p->registered = false;
    push_unref(p);
}

/* The end of a response: the closing bytes of its format, then the end of the stream. */
static void
push_finish(push *p, const char *why, bool limit)
{
    if (p->finished)
        return;
    p->finished = true;
    wr_http_req *r = p->c->req;
    wr_buf b = WR_BUF_INIT;
    switch (p->mode) {
    case PM_DELIMITED:
        if (why != NULL) {
            wr_buf_printf(&b, "{\"@type\":\"generic_error\",\"error_code\":50000,\"message\":");
            jstr(&b, why);
            wr_buf_printf(&b, "}\n");
        }
        break;
    case PM_JSON:
        if (why != NULL) {
            wr_buf_printf(&b, ",{\"@type\":\"generic_error\",\"error_code\":50000,\"message\":");
            jstr(&b, why);
            wr_buf_put_u8(&b, '}');
        }
        wr_buf_put_u8(&b, ']');
        break;
    case PM_V1:
        if (why != NULL) {
            wr_buf_printf(&b, ",\n{\"errorMessage\":{\"@type\":\"generic_error\",\"error_code\":"
                              "50000,\"message\":");
            jstr(&b, why);
            wr_buf_printf(&b, "}}");
        } else if (limit) {
            wr_buf_printf(&b, ",\n{\"finalMessage\":\"Limit Reached\"}");
        } else {
            wr_buf_printf(&b, ",\n{\"finalMessage\":\"Query Completed\"}");
        }
        wr_buf_printf(&b, "]\n");
        break;
    }
    wr_http_send(r, b.data, b.len);
    wr_http_finish(r);
    wr_buf_free(&b);
}

/* loop thread: move queued rows into the response, end it when the engine is done */
static void
push_drain(void *arg)
{
    push *p = arg;
    if (!p->opened || p->finished) {
        pthread_mutex_lock(&p->mu);
        p->drain_posted = false;
        pthread_mutex_unlock(&p->mu);
        push_unref(p);
        return;
    }
    wr_http_req *r = p->c->req;
    /* a client that reads slowly: leave the rows queued (the query waits) until its
       connection has written what it has; the tick drains again */
    bool slow = wr_http_req_pending(r) > p->limit;
    wr_buf rows = WR_BUF_INIT;
    pthread_mutex_lock(&p->mu);
    if (!slow) {
        rows = p->q;
        p->q = (wr_buf)WR_BUF_INIT;
    }
    bool done = p->done && p->q.len == 0;
    char *why = done && p->why ? strdup(p->why) : NULL;
    p->drain_posted = false;
    pthread_mutex_unlock(&p->mu);
    if (rows.len > 0)
        wr_http_send(r, rows.data, rows.len);
    wr_buf_free(&rows);
    if (done) {
        push_finish(p, why, why == NULL && !wr_http_req_gone(r));
        push_unregister(p);
    }
    free(why);
    push_unref(p); /* the reference of this drain */
}

static void
close_job_run(wr_engine *e, wr_session *s, void *arg)
{
    (void)s;
    push *p = arg;
    if (p->engine_holds && wr_engine_push_close(e, p->id) == WR_OK) {
        p->engine_holds = false;
        push_unref(p); /* the engine's reference */
    }
    push_unref(p); /* this job's */
}

/* Ends a push query from the loop: the client went away or asked to close it. */
static void
push_close(push *p)
{
    pthread_mutex_lock(&p->mu);
    p->refs++;
    pthread_mutex_unlock(&p->mu);
    if (wr_sqlworker_submit(p->api->o.sql, close_job_run, p) != WR_OK)
        push_unref(p); /* stopping: the engine is destroyed with its queries */
}

typedef struct open_job {
    call *c;
    push *p;
    char *sql;
    props pr;
    wr_push_info info;
    wr_err err;
    int rc;
} open_job;

static void
open_done(void *arg)
{
    open_job *j = arg;
    call *c = j->c;
    push *p = j->p;
    wr_http_req *r = c->req;
    if (j->rc != WR_OK) {
        wr_buf b = WR_BUF_INIT;
        bool bad = j->rc == WR_ESYNTAX || j->rc == WR_ESEMANTIC || j->rc == WR_EINVAL;
        wr_buf_printf(&b, "{\"@type\":\"statement_error\",\"error_code\":%d,\"message\":",
                      bad ? 40001 : 50000);
        jstr(&b, j->err.msg);
        wr_buf_printf(&b, ",\"statementText\":");
        jstr(&b, j->sql);
        wr_buf_printf(&b, ",\"entities\":[]}");
        reply_json(r, bad ? 400 : 500, T_JSON, &b);
        wr_buf_free(&b);
    } else {
        snprintf(p->id, sizeof p->id, "%s", j->info.query_id);
        wr_buf h = WR_BUF_INIT;
        switch (p->mode) {
        case PM_DELIMITED:
        case PM_JSON:
            wr_buf_printf(&h, "%s{\"queryId\":", p->mode == PM_JSON ? "[" : "");
            jstr(&h, p->id);
            wr_buf_printf(&h, ",\"columnNames\":");
            wr_buf_append(&h, j->info.names.data, j->info.names.len);
            wr_buf_printf(&h, ",\"columnTypes\":");
            wr_buf_append(&h, j->info.types.data, j->info.types.len);
            wr_buf_printf(&h, "}%s", p->mode == PM_DELIMITED ? "\n" : "");
            wr_http_begin(r, 200, p->mode == PM_JSON ? T_JSON : T_DELIMITED);
            break;
        case PM_V1:
            wr_buf_printf(&h, "[{\"header\":{\"queryId\":");
            jstr(&h, p->id);
            wr_buf_printf(&h, ",\"schema\":");
            wr_json_write_string(&h, (const char *)j->info.schema.data, j->info.schema.len);
            wr_buf_printf(&h, "}}");
            wr_http_begin(r, 200, T_KSQL_V1);
            break;
        }
        wr_http_send(r, h.data, h.len);
        wr_buf_free(&h);
        p->opened = true;
        p->registered = true;
        pthread_mutex_lock(&p->mu);
        p->refs++; /* the registry's */
        p->refs++; /* the drain below */
        pthread_mutex_unlock(&p->mu);
        p->next = c->api->pushes;
        c->api->pushes = p;
        if (wr_http_req_gone(r)) {
            /* the client left while the query was opening */
            p->finished = true;
            push_unregister(p);
            push_close(p);
        }
        push_drain(p);
    }
    wr_buf_free(&j->info.names);
    wr_buf_free(&j->info.types);
    wr_buf_free(&j->info.schema);
    props_free(&j->pr);
    free(j->sql);
    free(j);
    push_unref(p); /* the open job's */
    call_unref(c);
}

static void
open_job_run(wr_engine *e, wr_session *ws, void *arg)
{
    (void)ws;
    open_job *j = arg;
    wr_session *s = wr_session_create();
    wr_push_sink sink = {.arg = j->p,
                         .row = sink_row,
                         .ready = sink_ready,
                         .done = sink_done,
                         .tombstone = sink_tombstone};
    if (s == NULL) {
        j->rc = wr_err_set(&j->err, WR_ENOMEM, "out of memory");
    } else {
        props_apply(&j->pr, s);
        pthread_mutex_lock(&j->p->mu);
        j->p->refs++; /* the engine's, if the open succeeds */
        pthread_mutex_unlock(&j->p->mu);
        j->rc = wr_engine_push_open(e, s, j->sql, strlen(j->sql), &sink, &j->info, &j->err);
        if (j->rc == WR_OK)
            j->p->engine_holds = true;
        else
            push_unref(j->p);
    }
    wr_session_destroy(s);
    post_back(j->c->api, open_done, j);
}

static void
open_undo(void *arg)
{
    open_job *j = arg;
    props_free(&j->pr);
    free(j->sql);
    push_unref(j->p);
    call_unref(j->c);
    free(j);
}

/* PRINT over /query: the records the topic holds now, as text lines, then the end. */
typedef struct print_job {
    call *c;
    char *sql;
    wr_buf out;
    wr_err err;
    int rc;
} print_job;

static void
print_done(void *arg)
{
    print_job *j = arg;
    if (j->rc != WR_OK) {
        reply_error(j->c->req, 40001, "%s", j->err.msg);
    } else {
        wr_http_begin(j->c->req, 200, "text/plain");
        wr_http_send(j->c->req, j->out.data, j->out.len);
        wr_http_finish(j->c->req);
    }
    call *c = j->c;
    wr_buf_free(&j->out);
    free(j->sql);
    free(j);
    call_unref(c);
}

static void
print_job_run(wr_engine *e, wr_session *s, void *arg)
{
    (void)s;
    print_job *j = arg;
    j->rc = wr_engine_execute(e, NULL, j->sql, strlen(j->sql), &j->out, &j->err);
    post_back(j->c->api, print_done, j);
}

static void
print_undo(void *arg)
{
    print_job *j = arg;
    call *c = j->c;
    free(j->sql);
    free(j);
    call_unref(c);
}

static bool
starts_with_word(const char *s, const char *w)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(w);
    return strncasecmp(s, w, n) == 0 && (s[n] == ' ' || s[n] == '\t' || s[n] == '\n');
}

static void
serve_query(call *c)
{
    json_t *j = body_object(c);
    if (j == NULL)
        return;
    bool v1 = c->ep == EP_QUERY;
    json_t *sql = json_object_get(j, v1 ? "ksql" : "sql");
    if (!json_is_string(sql)) {
        json_decref(j);
        reply_error(c->req, 40000, "the request needs a \"%s\" field with the query",
                    v1 ? "ksql" : "sql");
        return;
    }
    if (v1 && starts_with_word(json_string_value(sql), "PRINT")) {
        print_job *pj = calloc(1, sizeof *pj);
        if (pj == NULL || (pj->sql = strdup(json_string_value(sql))) == NULL) {
            free(pj);
            json_decref(j);
            reply_error(c->req, 50000, "out of memory");
            return;
        }
        pj->c = c;
        json_decref(j);
        submit(c, print_job_run, pj, print_undo);
        return;
    }
    open_job *job = calloc(1, sizeof *job);
    push *p = calloc(1, sizeof *p);
    if (job == NULL || p == NULL || (job->sql = strdup(json_string_value(sql))) == NULL) {
        free(job);
        free(p);
        json_decref(j);
        reply_error(c->req, 50000, "out of memory");
        return;
    }
    pthread_mutex_init(&p->mu, NULL);
    p->refs = 2; /* the call's and the open job's */
    p->api = c->api;
    p->c = c;
    p->limit = c->api->o.push_queue_bytes;
    const char *accept = wr_http_req_header(c->req, "Accept");
    p->mode =
        v1 ? PM_V1
        : accept != NULL && strstr(accept, T_JSON) != NULL && strstr(accept, T_DELIMITED) == NULL
            ? PM_JSON
            : PM_DELIMITED;
    c->push = p;
    job->c = c;
    job->p = p;
    if (props_read(&job->pr, json_object_get(j, v1 ? "streamsProperties" : "properties"), false,
                   c->req, v1 ? "streamsProperties" : "properties") != WR_OK ||
        props_read(&job->pr, json_object_get(j, "sessionVariables"), true, c->req,
                   "sessionVariables") != WR_OK) {
        json_decref(j);
        wr_http_req_ref(c->req);
        open_undo(job);
        return;
    }
    json_decref(j);
    submit(c, open_job_run, job, open_undo);
}

static void
serve_close_query(call *c)
{
    json_t *j = body_object(c);
    if (j == NULL)
        return;
    json_t *id = json_object_get(j, "queryId");
    if (!json_is_string(id)) {
        json_decref(j);
        reply_error(c->req, 40000, "the request needs a \"queryId\" field");
        return;
    }
    push *p = c->api->pushes;
    while (p != NULL && strcmp(p->id, json_string_value(id)) != 0)
        p = p->next;
    if (p == NULL) {
        reply_error(c->req, 40000, "no push query with id %s is running on this server",
                    json_string_value(id));
        json_decref(j);
        return;
    }
    json_decref(j);
    push_finish(p, NULL, false);
    push_unregister(p);
    push_close(p);
    wr_http_reply(c->req, 200, T_JSON, NULL, "", 0);
}

/* ---- POST /inserts-stream ------------------------------------------------------------------- */

typedef struct insert_job {
    call *c;
    int64_t seq;
    char *row;
    size_t len;
    wr_err err;
    int rc;
} insert_job;

static void
inserts_maybe_end(call *c)
{
    if (c->body_done && c->inflight == 0 && !c->failed) {
        if (c->ins_json)
            wr_http_send(c->req, "]", 1);
        wr_http_finish(c->req);
    }
}

static void
insert_done(void *arg)
{
    insert_job *j = arg;
    call *c = j->c;
    c->inflight--;
    wr_buf b = WR_BUF_INIT;
    if (c->ins_json && c->acked > 0)
        wr_buf_put_u8(&b, ',');
    c->acked++;
    if (j->rc == WR_OK) {
        wr_buf_printf(&b, "{\"status\":\"ok\",\"seq\":%lld}", (long long)j->seq);
    } else {
        wr_buf_printf(&b, "{\"status\":\"error\",\"seq\":%lld,\"error_code\":%d,\"message\":",
                      (long long)j->seq, j->rc == WR_ENOENT ? 40400 : 40000);
        jstr(&b, j->err.msg);
        wr_buf_put_u8(&b, '}');
    }
    if (!c->ins_json)
        wr_buf_put_u8(&b, '\n');
    wr_http_send(c->req, b.data, b.len);
    wr_buf_free(&b);
    inserts_maybe_end(c);
    free(j->row);
    free(j);
    call_unref(c);
}

static void
insert_job_run(wr_engine *e, wr_session *s, void *arg)
{
    (void)s;
    insert_job *j = arg;
    j->rc = wr_engine_insert_json(e, j->c->target, j->row, j->len, &j->err);
    post_back(j->c->api, insert_done, j);
}

static void
insert_undo(void *arg)
{
    insert_job *j = arg;
    call *c = j->c;
    c->inflight--;
    c->failed = true;
    free(j->row);
    free(j);
    call_unref(c);
}

/* One line of the body: the first names the target, every other is a row. */
static void
inserts_line(call *c, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0 || c->failed)
        return;
    if (c->target == NULL) {
        json_error_t je;
        json_t *j = json_loadb(line, len, 0, &je);
        json_t *t = j ? json_object_get(j, "target") : NULL;
        if (!json_is_string(t)) {
            reply_error(c->req, 40000,
                        "the first line of /inserts-stream must be {\"target\":\"<stream>\"}%s%s",
                        j == NULL ? ": " : "", j == NULL ? je.text : "");
            c->failed = true;
        } else {
            c->target = strdup(json_string_value(t));
            const char *accept = wr_http_req_header(c->req, "Accept");
            c->ins_json = accept != NULL && strstr(accept, T_JSON) != NULL &&
                          strstr(accept, T_DELIMITED) == NULL;
            wr_http_begin(c->req, 200, c->ins_json ? T_JSON : T_DELIMITED);
            if (c->ins_json)
                wr_http_send(c->req, "[", 1);
        }
        json_decref(j);
        return;
    }
    insert_job *job = calloc(1, sizeof *job);
    if (job == NULL || (job->row = malloc(len)) == NULL) {
        free(job);
        c->failed = true;
        wr_http_close(c->req);
        return;
    }
    memcpy(job->row, line, len);
    job->len = len;
    job->c = c;
    job->seq = c->seq++;
    c->inflight++;
    submit(c, insert_job_run, job, insert_undo);
}

static void
inserts_body(call *c, const char *data, size_t len)
{
    while (len > 0 && !c->failed) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;
        if (c->line.len + n > c->api->o.max_row_bytes) {
            if (!c->target) {
                reply_error(c->req, 41300, "a line of the body is longer than %zu bytes",
                            c->api->o.max_row_bytes);
            } else {
                wr_buf b = WR_BUF_INIT;
                wr_buf_printf(&b,
                              "{\"status\":\"error\",\"seq\":%lld,\"error_code\":41300,\"message\":"
                              "\"a row is longer than %zu bytes\"}\n",
                              (long long)c->seq, c->api->o.max_row_bytes);
                wr_http_send(c->req, b.data, b.len);
                wr_buf_free(&b);
                wr_http_close(c->req);
            }
            c->failed = true;
            return;
        }
        if (nl == NULL) {
            wr_buf_append(&c->line, data, n);
            return;
        }
        if (c->line.len > 0) {
            wr_buf_append(&c->line, data, n);
            inserts_line(c, (const char *)c->line.data, c->line.len);
            wr_buf_reset(&c->line);
        } else {
            inserts_line(c, data, n);
        }
        data += n + 1;
        len -= n + 1;
    }
}

/* ---- GET endpoints ------------------------------------------------------------------------------
 */

static void
serve_info(call *c)
{
    wr_buf b = WR_BUF_INIT;
    wr_buf_printf(&b,
                  "{\"KsqlServerInfo\":{\"version\":\"%s\",\"kafkaClusterId\":\"weir\","
                  "\"ksqlServiceId\":",
                  VERSION);
    jstr(&b, wr_sqlworker_service_id(c->api->o.sql));
    wr_buf_printf(&b, ",\"serverStatus\":\"%s\"}}",
                  atomic_load(&c->api->ready) ? "RUNNING" : "STOPPING");
    reply_json(c->req, 200, T_JSON, &b);
    wr_buf_free(&b);
}

static void
serve_health(call *c)
{
    bool ok = atomic_load(&c->api->ready);
    const char *h = ok ? "true" : "false";
    wr_buf b = WR_BUF_INIT;
    wr_buf_printf(&b,
                  "{\"isHealthy\":%s,\"details\":{\"metastore\":{\"isHealthy\":%s},\"kafka\":{"
                  "\"isHealthy\":%s},\"commandRunner\":{\"isHealthy\":%s}}}",
                  h, h, h, h);
    reply_json(c->req, ok ? 200 : 503, T_JSON, &b);
    wr_buf_free(&b);
}

static void
serve_status(call *c)
{
    wr_api *a = c->api;
    const char *path = wr_http_req_path(c->req);
    wr_buf b = WR_BUF_INIT;
    if (strcmp(path, "/status") == 0 || strcmp(path, "/status/") == 0) {
        wr_buf_printf(&b, "{\"commandStatuses\":{");
        for (int i = 0; i < a->ncmds; i++) {
            wr_buf_printf(&b, "%s", i ? "," : "");
            jstr(&b, a->cmd_ids[i]);
            wr_buf_printf(&b, ":\"SUCCESS\"");
        }
        wr_buf_printf(&b, "}}");
        reply_json(c->req, 200, T_JSON, &b);
    } else {
        /* /status/<type>/<entity>/<action>: the command id, percent-decoded */
        char id[512];
        size_t n = 0;
        for (const char *q = path + 8; *q != '\0' && n < sizeof id - 1; q++) {
            unsigned hi, lo;
            if (q[0] == '%' && sscanf(q + 1, "%1x%1x", &hi, &lo) == 2) {
                id[n++] = (char)(hi * 16 + lo);
                q += 2;
            } else {
                id[n++] = *q;
            }
        }
        id[n] = '\0';
        int found = -1;
        for (int i = 0; i < a->ncmds; i++)
            if (strcmp(a->cmd_ids[i], id) == 0)
                found = i;
        if (found < 0) {
            wr_buf_free(&b);
            reply_error(c->req, 40400, "no command with id %s was run on this server", id);
            return;
        }
        wr_buf_printf(&b, "{\"status\":\"SUCCESS\",\"message\":\"%s\"}", a->cmd_msgs[found]);
        reply_json(c->req, 200, T_JSON, &b);
    }
    wr_buf_free(&b);
}

/* kafka_exporter's names, from the log and the committed group offsets */
typedef struct lag_scan {
    wr_logdb *db;
    wr_buf *out;
    wr_buf sums; /* kafka_consumergroup_lag_sum lines */
    char group[256], topic[256];
    int64_t lag_sum, cur_sum;
    bool any;
} lag_scan;

static void
lag_flush(lag_scan *ls)
{
    if (!ls->any)
        return;
    wr_buf_printf(&ls->sums,
                  "kafka_consumergroup_lag_sum{consumergroup=\"%s\",topic=\"%s\"} %lld\n",
                  ls->group, ls->topic, (long long)ls->lag_sum);
    wr_buf_printf(
        &ls->sums,
        "kafka_consumergroup_current_offset_sum{consumergroup=\"%s\",topic=\"%s\"} %lld\n",
        ls->group, ls->topic, (long long)ls->cur_sum);
    ls->any = false;
}

static int
lag_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    lag_scan *ls = arg;
    const char *k = key, *gz = memchr(k, 0, klen);
    if (gz == NULL || vlen < 8)
        return 0;
    const char *topic = gz + 1, *tz = memchr(topic, 0, klen - (size_t)(topic - k));
    if (tz == NULL || (size_t)(tz + 1 - k) + 4 != klen)
        return 0;
    int32_t part = (int32_t)wr_be32_get((const uint8_t *)tz + 1);
    int64_t cur = (int64_t)wr_be64_get(val);
    if (!ls->any || strcmp(ls->group, k) != 0 || strcmp(ls->topic, topic) != 0) {
        lag_flush(ls);
        snprintf(ls->group, sizeof ls->group, "%s", k);
        snprintf(ls->topic, sizeof ls->topic, "%s", topic);
        ls->lag_sum = ls->cur_sum = 0;
    }
    ls->any = true;
    wr_partition *p;
    int64_t end = wr_log_partition(ls->db, topic, part, &p) == WR_OK ? wr_log_end_offset(p) : cur;
    int64_t lag = end > cur ? end - cur : 0;
    ls->lag_sum += lag;
    ls->cur_sum += cur;
    wr_buf_printf(
        ls->out,
        "kafka_consumergroup_current_offset{consumergroup=\"%s\",topic=\"%s\",partition=\"%d\"} "
        "%lld\n",
        k, topic, part, (long long)cur);
    wr_buf_printf(
        ls->out,
        "kafka_consumergroup_lag{consumergroup=\"%s\",topic=\"%s\",partition=\"%d\"} %lld\n", k,
        topic, part, (long long)lag);
    return 0;
}

static void
log_metrics(wr_api *a, wr_buf *b)
{
    wr_buf_printf(b, "# HELP kafka_brokers Number of brokers in the cluster.\n"
                     "# TYPE kafka_brokers gauge\nkafka_brokers 1\n");
    char **names;
    size_t n;
    if (wr_log_topic_list(a->o.db, &names, &n, NULL) != WR_OK)
        n = 0, names = NULL;
    wr_buf parts = WR_BUF_INIT, cur = WR_BUF_INIT, old = WR_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        int np = wr_log_topic_partitions(a->o.db, names[i]);
        wr_buf_printf(&parts, "kafka_topic_partitions{topic=\"%s\"} %d\n", names[i], np);
        for (int p = 0; p < np; p++) {
            wr_partition *lp;
            if (wr_log_partition(a->o.db, names[i], p, &lp) != WR_OK)
                continue;
            wr_buf_printf(
                &cur, "kafka_topic_partition_current_offset{topic=\"%s\",partition=\"%d\"} %lld\n",
                names[i], p, (long long)wr_log_end_offset(lp));
            wr_buf_printf(
                &old, "kafka_topic_partition_oldest_offset{topic=\"%s\",partition=\"%d\"} %lld\n",
                names[i], p, (long long)wr_log_start_offset(lp));
        }
        free(names[i]);
    }
    free(names);
    wr_buf_printf(b, "# HELP kafka_topic_partitions Number of partitions for this Topic\n"
                     "# TYPE kafka_topic_partitions gauge\n");
    wr_buf_append(b, parts.data, parts.len);
    wr_buf_printf(b, "# HELP kafka_topic_partition_current_offset Current Offset of a Broker at "
                     "Topic/Partition\n# TYPE kafka_topic_partition_current_offset gauge\n");
    wr_buf_append(b, cur.data, cur.len);
    wr_buf_printf(b, "# HELP kafka_topic_partition_oldest_offset Oldest Offset of a Broker at "
                     "Topic/Partition\n# TYPE kafka_topic_partition_oldest_offset gauge\n");
    wr_buf_append(b, old.data, old.len);
    wr_buf_free(&parts);
    wr_buf_free(&cur);
    wr_buf_free(&old);
    wr_buf lag = WR_BUF_INIT;
    lag_scan ls = {.db = a->o.db, .out = &lag, .sums = WR_BUF_INIT};
    (void)wr_log_meta_scan(a->o.db, OFFSETS_TABLE, NULL, 0, lag_cb, &ls, NULL);
    lag_flush(&ls);
    /* one family's lines together, as the text format wants */
    wr_buf curs = WR_BUF_INIT, lags = WR_BUF_INIT;
    for (size_t i = 0; i < lag.len;) {
        const char *line = (const char *)lag.data + i;
        const char *nl = memchr(line, '\n', lag.len - i);
        size_t ln = nl ? (size_t)(nl - line) + 1 : lag.len - i;
        wr_buf_append(strncmp(line, "kafka_consumergroup_lag", 23) == 0 ? &lags : &curs, line, ln);
        i += ln;
    }
    wr_buf sum_lag = WR_BUF_INIT, sum_cur = WR_BUF_INIT;
    for (size_t i = 0; i < ls.sums.len;) {
        const char *line = (const char *)ls.sums.data + i;
        const char *nl = memchr(line, '\n', ls.sums.len - i);
        size_t ln = nl ? (size_t)(nl - line) + 1 : ls.sums.len - i;
        wr_buf_append(strncmp(line, "kafka_consumergroup_lag_sum", 27) == 0 ? &sum_lag : &sum_cur,
                      line, ln);
        i += ln;
    }
    wr_buf_printf(b, "# HELP kafka_consumergroup_current_offset Current Offset of a ConsumerGroup "
                     "at Topic/Partition\n# TYPE kafka_consumergroup_current_offset gauge\n");
    wr_buf_append(b, curs.data, curs.len);
    wr_buf_printf(b, "# HELP kafka_consumergroup_current_offset_sum Current Offset of a "
                     "ConsumerGroup at Topic for all partitions\n"
                     "# TYPE kafka_consumergroup_current_offset_sum gauge\n");
    wr_buf_append(b, sum_cur.data, sum_cur.len);
    wr_buf_printf(b, "# HELP kafka_consumergroup_lag Current Approximate Lag of a ConsumerGroup at "
                     "Topic/Partition\n# TYPE kafka_consumergroup_lag gauge\n");
    wr_buf_append(b, lags.data, lags.len);
    wr_buf_printf(b, "# HELP kafka_consumergroup_lag_sum Current Approximate Lag of a "
                     "ConsumerGroup at Topic for all partitions\n"
                     "# TYPE kafka_consumergroup_lag_sum gauge\n");
    wr_buf_append(b, sum_lag.data, sum_lag.len);
    wr_buf_free(&lag);
    wr_buf_free(&ls.sums);
    wr_buf_free(&curs);
    wr_buf_free(&lags);
    wr_buf_free(&sum_lag);
    wr_buf_free(&sum_cur);
}

typedef struct metrics_job {
    call *c;
    wr_buf out;
} metrics_job;

static void
metrics_done(void *arg)
{
    metrics_job *j = arg;
    call *c = j->c;
    wr_api *a = c->api;
    int np = 0;
    for (push *p = a->pushes; p != NULL; p = p->next)
        np++;
    wr_buf_printf(&j->out,
                  "# HELP weir_http_push_queries Push queries streaming to HTTP clients.\n"
                  "# TYPE weir_http_push_queries gauge\nweir_http_push_queries %d\n"
                  "# HELP weir_up Whether the server is ready (1) or stopping (0).\n"
                  "# TYPE weir_up gauge\nweir_up %d\n"
                  "# HELP weir_start_time_seconds Start time of the server since the epoch.\n"
                  "# TYPE weir_start_time_seconds gauge\nweir_start_time_seconds %lld\n",
                  np, atomic_load(&a->ready) ? 1 : 0, (long long)(a->started_ms / 1000));
    log_metrics(a, &j->out);
    wr_http_reply(c->req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, j->out.data,
                  j->out.len);
    wr_buf_free(&j->out);
    free(j);
    call_unref(c);
}

static void
metrics_job_run(wr_engine *e, wr_session *s, void *arg)
{
    (void)s;
    metrics_job *j = arg;
    wr_engine_metrics(e, &j->out);
    post_back(j->c->api, metrics_done, j);
}

static void
metrics_undo(void *arg)
{
    metrics_job *j = arg;
    call *c = j->c;
    wr_buf_free(&j->out);
    free(j);
    call_unref(c);
}

/* ---- routing --------------------------------------------------------------------------------- */

static const struct route {
    const char *path;
    const char *method;
    endpoint ep;
    bool prefix;
} routes[] = {
    {"/ksql", "POST", EP_KSQL, false},
    {"/query", "POST", EP_QUERY, false},
    {"/query-stream", "POST", EP_QUERY_STREAM, false},
    {"/close-query", "POST", EP_CLOSE_QUERY, false},
    {"/inserts-stream", "POST", EP_INSERTS, false},
    {"/info", "GET", EP_INFO, false},
    {"/healthcheck", "GET", EP_HEALTH, false},
    {"/status", "GET", EP_STATUS, true},
    {"/livez", "GET", EP_LIVEZ, false},
    {"/readyz", "GET", EP_READYZ, false},
    {"/metrics", "GET", EP_METRICS, false},
};

/* Whether path is one of authentication.skip.paths (exact match). */
static bool
path_skipped(const wr_api *a, const char *path)
{
    size_t pl = strlen(path);
    for (const char *p = a->skip_paths; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n > 0 && n == pl && memcmp(p, path, n) == 0)
            return true;
        p += n;
    }
    return false;
}

static void
on_request(void *arg, wr_http_req *r)
{
    wr_api *a = arg;
    call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        reply_error(r, 50000, "out of memory");
        return;
    }
    c->api = a;
    c->req = r;
    wr_http_req_set_data(r, c, call_free);
    const char *path = wr_http_req_path(r), *method = wr_http_req_method(r);
    bool known = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t n = strlen(routes[i].path);
        bool match = strcmp(path, routes[i].path) == 0 ||
                     (routes[i].prefix && strncmp(path, routes[i].path, n) == 0 && path[n] == '/');
        if (!match)
            continue;
        known = true;
        if (strcmp(method, routes[i].method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
            c->ep = routes[i].ep;
    }
    if (c->ep == EP_NONE) {
        c->ep = EP_NONE;
        c->too_big = !known; /* reused below: unknown path vs. wrong method */
    }
    if (a->basic != NULL && !path_skipped(a, path)) {
        wr_err err = {0};
        int rc = wr_basic_auth_check(a->basic, wr_http_req_header(r, "Authorization"), c->user,
                                     &err);
        if (rc != WR_OK) {
            if (wr_http_req_header(r, "Authorization") != NULL)
                wr_log(WR_LOG_WARN, "http", "%s %s: authentication failed: %s", method, path,
                       err.msg);
            char hdr[300];
            snprintf(hdr, sizeof hdr, "WWW-Authenticate: Basic realm=\"%s\", charset=\"UTF-8\"\r\n",
                     a->realm);
            static const char body[] =
                "{\"@type\":\"generic_error\",\"error_code\":40100,\"message\":\"Unauthorized\"}";
            c->denied = true;
            c->ep = EP_NONE;
            wr_http_reply(r, rc == WR_EIO ? 500 : 401, T_JSON, hdr, body, sizeof body - 1);
        }
    }
}

static void
on_body(void *arg, wr_http_req *r, const char *data, size_t len)
{
    wr_api *a = arg;
    call *c = wr_http_req_data(r);
    if (c == NULL || c->ep == EP_NONE)
        return;
    if (c->ep == EP_INSERTS) {
        wr_http_req_uncharge(r); /* rows are written as they come: only a line is kept */
        inserts_body(c, data, len);
        return;
    }
    if (c->body.len + len > a->o.max_body_bytes) {
        if (!c->too_big)
            reply_error(r, 41300, "the request body is larger than %zu bytes (http.max.body.bytes)",
                        a->o.max_body_bytes);
        c->too_big = true;
        return;
    }
    wr_buf_append(&c->body, data, len);
}

static void
on_end(void *arg, wr_http_req *r)
{
    wr_api *a = arg;
    call *c = wr_http_req_data(r);
    if (c == NULL || c->denied)
        return;
    if (c->ep == EP_NONE) {
        if (c->too_big)
            reply_error(r, 40400, "unknown endpoint %s %s; the ksqlDB REST API is served here",
                        wr_http_req_method(r), wr_http_req_path(r));
        else
            reply_error(r, 40500, "%s is not allowed on %s", wr_http_req_method(r),
                        wr_http_req_path(r));
        goto out;
    }
    if (c->ep == EP_INSERTS) {
        if (c->line.len > 0 && !c->failed) {
            inserts_line(c, (const char *)c->line.data, c->line.len);
            wr_buf_reset(&c->line);
        }
        c->body_done = true;
        if (c->target == NULL && !c->failed)
            reply_error(r, 40000, "the body of /inserts-stream must start with {\"target\":...}");
        inserts_maybe_end(c);
        goto out;
    }
    if (c->too_big)
        goto out;
    if (!wr_buf_ok(&c->body)) {
        reply_error(r, 50000, "out of memory");
        goto out;
    }
    switch (c->ep) {
    case EP_KSQL:
        serve_ksql(c);
        break;
    case EP_QUERY:
    case EP_QUERY_STREAM:
        serve_query(c);
        break;
    case EP_CLOSE_QUERY:
        serve_close_query(c);
        break;
    case EP_INFO:
        serve_info(c);
        break;
    case EP_HEALTH:
        serve_health(c);
        break;
    case EP_STATUS:
        serve_status(c);
        break;
    case EP_LIVEZ:
        wr_http_reply(r, 200, T_JSON, NULL, "{\"status\":\"UP\"}", 15);
        break;
    case EP_READYZ:
        if (atomic_load(&a->ready))
            wr_http_reply(r, 200, T_JSON, NULL, "{\"status\":\"READY\"}", 18);
        else
            wr_http_reply(r, 503, T_JSON, NULL, "{\"status\":\"STOPPING\"}", 21);
        break;
    case EP_METRICS: {
        metrics_job *j = calloc(1, sizeof *j);
        if (j == NULL) {
            reply_error(r, 50000, "out of memory");
            break;
        }
        j->c = c;
        submit(c, metrics_job_run, j, metrics_undo);
        break;
    }
    default:
        break;
    }
out:
    return;
}

static void
on_abort(void *arg, wr_http_req *r)
{
    (void)arg;
    call *c = wr_http_req_data(r);
    if (c == NULL)
        return;
    c->failed = true;
    push *p = c->push;
    if (p != NULL && p->opened && !p->finished) {
        p->finished = true;
        push_unregister(p);
        push_close(p);
    }
    /* a push still opening sees the request gone in open_done */
}

/* Every 20 ms: drain the pushes whose clients were too slow at the last drain. */
static void
on_tick(void *arg)
{
    wr_api *a = arg;
    for (push *p = a->pushes, *next; p != NULL; p = next) {
        next = p->next;
        pthread_mutex_lock(&p->mu);
        bool waiting = (p->q.len > 0 || p->done) && !p->drain_posted;
        if (waiting) {
            p->drain_posted = true;
            p->refs++;
        }
        pthread_mutex_unlock(&p->mu);
        if (waiting)
            push_drain(p);
    }
}

int
wr_api_start(const wr_api_opts *o, wr_api **out, wr_err *err)
{
    wr_api *a = calloc(1, sizeof *a);
    if (a == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    a->o = *o;
    if (a->o.max_body_bytes == 0)
        a->o.max_body_bytes = 16u << 20;
    if (a->o.max_row_bytes == 0)
        a->o.max_row_bytes = 8u << 20;
    if (a->o.push_queue_bytes == 0)
        a->o.push_queue_bytes = 4u << 20;
    a->started_ms = wr_clock_wall_ms();
    atomic_store(&a->ready, true);
    const char *method = o->auth_method ? o->auth_method : "NONE";
    const char *realm = o->auth_realm ? o->auth_realm : "weir";
    a->realm = strdup(realm);
    a->skip_paths = strdup(o->auth_skip_paths ? o->auth_skip_paths : "/livez,/readyz");
    int arc = a->realm && a->skip_paths ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
    if (arc == WR_OK && strpbrk(realm, "\"\\\r\n") != NULL)
        arc = wr_err_set(err, WR_EINVAL, "authentication.realm must not hold quotes, backslashes "
                                         "or line breaks");
    if (arc == WR_OK && strcasecmp(method, "BASIC") == 0) {
        if (o->db == NULL || (a->basic = wr_basic_auth_create(o->db, 60000)) == NULL)
            arc = wr_err_set(err, WR_ENOMEM, "out of memory");
    } else if (arc == WR_OK && strcasecmp(method, "NONE") != 0) {
        arc = wr_err_set(err, WR_EINVAL, "authentication.method must be NONE or BASIC, not '%s'",
                         method);
    }
    if (arc != WR_OK) {
        free(a->realm);
        free(a->skip_paths);
        free(a);
        return arc;
    }
    wr_http_server_opts ho = {
        .host = o->host,
        .port = o->port,
        .limits = o->limits,
        .handler = {.arg = a,
                    .on_request = on_request,
                    .on_body = on_body,
                    .on_end = on_end,
                    .on_abort = on_abort},
        .tick_ms = 20,
        .tick = on_tick,
        .tls = o->tls,
    };
    int rc = wr_http_server_start(&ho, &a->http, err);
    if (rc != WR_OK) {
        wr_basic_auth_destroy(a->basic);
        free(a->realm);
        free(a->skip_paths);
        free(a);
        return rc;
    }
    *out = a;
    return WR_OK;
}

int
wr_api_reload_tls(wr_api *a, wr_err *err)
{
    return wr_http_server_reload_tls(a->http, err);
}

int
wr_api_port(const wr_api *a)
{
    return wr_http_server_port(a->http);
}

void
wr_api_set_ready(wr_api *a, bool ready)
{
    if (a != NULL)
        atomic_store(&a->ready, ready);
}

typedef struct barrier {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool passed;
} barrier;

static void
barrier_run(wr_engine *e, wr_session *s, void *arg)
{
    (void)e;
    (void)s;
    barrier *b = arg;
    pthread_mutex_lock(&b->mu);
    b->passed = true;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void
wr_api_stop(wr_api *a)
{
    if (a == NULL)
        return;
    atomic_store(&a->ready, false);
    wr_http_server_stop(a->http); /* aborts every request: push queries are closed by jobs */
    /* wait for the jobs already queued (they may still use the API) */
    barrier b = {.passed = false};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    if (wr_sqlworker_submit(a->o.sql, barrier_run, &b) == WR_OK) {
        pthread_mutex_lock(&b.mu);
        while (!b.passed)
            pthread_cond_wait(&b.cv, &b.mu);
        pthread_mutex_unlock(&b.mu);
    }
    pthread_mutex_destroy(&b.mu);
    pthread_cond_destroy(&b.cv);
    for (int i = 0; i < a->ncmds; i++) {
        free(a->cmd_ids[i]);
        free(a->cmd_msgs[i]);
    }
    free(a->cmd_ids);
    free(a->cmd_msgs);
    wr_basic_auth_destroy(a->basic);
    free(a->realm);
    free(a->skip_paths);
    free(a);
}

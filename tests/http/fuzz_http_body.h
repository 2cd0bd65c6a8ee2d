/*
 * fuzz_http_body.h - the property the HTTP fuzz target and its replay test check on one input:
 * the bytes a client sends on one connection (HTTP/1.1 requests, or the HTTP/2 preface and
 * frames), fed through the server's real parse path without a socket (wr__http_feed), never
 * crash, leak or read out of bounds; every request the handler heard of ends (answered,
 * closed or aborted) by the time the connection is gone; and HTTP/1 answers are HTTP/1
 * responses.
 *
 * Input: byte 0 chooses how the rest is cut into reads (0: one read; else reads of
 * byte0 % 61 + 1 bytes), so that the preface, request lines, headers, chunk sizes and frames
 * arrive split at every place. The handler routes as the REST API (src/http/api.c) does, without
 * the SQL engine: /info and /healthcheck answer when the request ends, /ksql and /query buffer
 * their body (to a limit, 413 past it), read it as JSON with jansson and parse its "ksql" or "sql"
 * statements with the SQL parser; /query-stream and /inserts-stream stream an answer while the body
 * arrives; /close-query closes the request; anything else is 404 at once (before the body) or 405.
 * Included by exactly one file per executable.
 */
#ifndef WR_TESTS_HTTP_FUZZ_HTTP_BODY_H
#define WR_TESTS_HTTP_FUZZ_HTTP_BODY_H

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grammar/sql.h"
#include "src/base/buf.h"
#include "src/http/server_int.h"

#define WR_HFUZZ_MAX_BODY 4096

typedef struct wr_hfuzz {
    int live;   /* requests the handler holds state for */
    int bodies; /* pieces of bodies heard */
} wr_hfuzz;

typedef struct wr_hfuzz_req {
    wr_hfuzz *f;
    wr_buf body;
    int kind; /* 0: answered or ignored, 1: buffered, 2: streaming, 3: close at the end,
                 4: answer status at the end */
    int status;
} wr_hfuzz_req;

static void
wr_hfuzz_req_free(void *data)
{
    wr_hfuzz_req *q = data;
    q->f->live--;
    wr_buf_free(&q->body);
    free(q);
}

static void
wr_hfuzz_on_request(void *arg, wr_http_req *r)
{
    wr_hfuzz *f = arg;
    wr_hfuzz_req *q = calloc(1, sizeof *q);
    if (q == NULL)
        return;
    q->f = f;
    f->live++;
    wr_http_req_set_data(r, q, wr_hfuzz_req_free);
    const char *path = wr_http_req_path(r), *method = wr_http_req_method(r);
    bool post = strcmp(method, "POST") == 0;
    (void)wr_http_req_header(r, "content-type");
    (void)wr_http_req_query(r);
    if (strcmp(path, "/info") == 0 || strcmp(path, "/healthcheck") == 0) {
        q->kind = 4;
        q->status = 200;
    } else if (strcmp(path, "/ksql") == 0 || strcmp(path, "/query") == 0) {
        q->kind = post ? 1 : 4;
        q->status = 405;
    } else if (strcmp(path, "/query-stream") == 0 || strcmp(path, "/inserts-stream") == 0) {
        q->kind = 2;
        wr_http_begin(r, 200, "application/vnd.ksqlapi.delimited.v1");
        wr_http_send(r, "{\"queryId\":\"q\"}\n", 16);
    } else if (strcmp(path, "/close-query") == 0) {
        q->kind = 3;
    } else {
        /* answered before the body: the connection closes after it */
        wr_http_reply(r, 404, "application/json", "X-Fuzz: 1\r\n", "{}", 2);
    }
}

static void
wr_hfuzz_on_body(void *arg, wr_http_req *r, const char *data, size_t len)
{
    wr_hfuzz *f = arg;
    wr_hfuzz_req *q = wr_http_req_data(r);
    f->bodies++;
    if (q == NULL)
        return;
    if (q->kind == 1) {
        if (q->body.len + len > WR_HFUZZ_MAX_BODY) {
            q->kind = 0;
            wr_http_reply(r, 413, "application/json", NULL, "{}", 2);
            return;
        }
        wr_buf_append(&q->body, data, len);
    } else if (q->kind == 2) {
        wr_buf ack = WR_BUF_INIT;
        wr_buf_printf(&ack, "{\"status\":\"ok\",\"seq\":%zu}\n", len);
        wr_http_send(r, ack.data, ack.len);
        wr_buf_free(&ack);
    }
}

static void
wr_hfuzz_on_end(void *arg, wr_http_req *r)
{
    (void)arg;
    wr_hfuzz_req *q = wr_http_req_data(r);
    if (q == NULL || q->kind == 0)
        return;
    if (q->kind == 2) {
        wr_http_finish(r);
        return;
    }
    if (q->kind == 3) {
        wr_http_close(r);
        return;
    }
    if (q->kind == 4) {
        wr_http_reply(r, q->status, "application/json", NULL, "{}", 2);
        return;
    }
    json_error_t je;
    json_t *j = json_loadb(q->body.len ? (const char *)q->body.data : "", q->body.len, 0, &je);
    const char *sql = json_string_value(json_object_get(j, "ksql"));
    if (sql == NULL)
        sql = json_string_value(json_object_get(j, "sql"));
    if (sql == NULL) {
        wr_http_reply(r, 400, "application/json", NULL, "{}", 2);
    } else {
        wr_arena *a = wr_arena_create(0);
        wr_script *s = NULL;
        wr_err err = {0};
        int rc = wr_sql_parse(a, sql, strlen(sql), &s, &err);
        wr_buf b = WR_BUF_INIT;
        wr_buf_printf(&b, "[{\"statements\":%d}]", rc == WR_OK ? s->n : -1);
        wr_http_reply(r, rc == WR_OK ? 200 : 400, "application/json", NULL, b.data, b.len);
        wr_buf_free(&b);
        wr_arena_destroy(a);
    }
    json_decref(j);
}

static void
wr_hfuzz_on_abort(void *arg, wr_http_req *r)
{
    (void)arg;
    (void)r;
}

/* Returns 0 when the property holds, 1 when it breaks. */
static int
wr_hfuzz_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    wr_hfuzz f = {0};
    wr_http_server_opts o = {
        .limits = {.max_header_bytes = 2048, .max_streams = 8, .max_expect_body = 1024},
        .handler = {&f, wr_hfuzz_on_request, wr_hfuzz_on_body, wr_hfuzz_on_end, wr_hfuzz_on_abort}};
    size_t step = data[0] == 0 ? size - 1 : (size_t)(data[0] % 61) + 1;
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    int n = step == 0 ? 0 : (int)((len + step - 1) / step);
    const char **pieces = calloc((size_t)n + 1, sizeof *pieces);
    size_t *lens = calloc((size_t)n + 1, sizeof *lens);
    if (pieces == NULL || lens == NULL) {
        free(pieces);
        free(lens);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        pieces[i] = (const char *)in + (size_t)i * step;
        lens[i] = (size_t)i * step + step <= len ? step : len - (size_t)i * step;
    }
    wr_buf out = WR_BUF_INIT;
    int bad = 0;
    if (wr__http_feed(&o, pieces, lens, n, &out) != WR_OK)
        bad = 0; /* out of memory: not a finding */
    else if (f.live != 0)
        bad = 1; /* a request outlived its connection */
    else if (len > 0 && in[0] != 'P' && out.len > 0 &&
             (out.len < 7 || memcmp(out.data, "HTTP/1.", 7) != 0))
        bad = 1; /* HTTP/1 answered with something else */
    wr_buf_free(&out);
    free(pieces);
    free(lens);
    return bad;
}

#endif

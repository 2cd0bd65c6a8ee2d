/*
 * server.c - the HTTP/1.1 and HTTP/2 (h2c, prior knowledge) connection layer on libuv; see
 * server.h for the contract with handlers.
 *
 * A connection starts undecided: its first bytes are matched against the 24-byte HTTP/2
 * preface, and it becomes an HTTP/2 connection (nghttp2, I/O-less: bytes in through
 * nghttp2_session_mem_recv, out through nghttp2_session_mem_send) or an HTTP/1.1 one
 * (http-parser). Output of both is gathered in the connection's queue and written with one
 * uv_write at a time; whatever is queued while a write is in flight goes out with the next, so
 * many small frames or chunks leave in one system call.
 *
 * HTTP/1.1 serves one request at a time: when a request's body is complete the parser is
 * paused, and bytes of a pipelined next request wait in pending_in until the response has
 * finished. Reading goes on meanwhile (up to a bound), so a client that hangs up during a
 * long push query is noticed at once.
 *
 * Lifetimes: a connection is freed in its handles' close callbacks. A request is refcounted:
 * the connection holds one reference while it is in flight, handlers take their own.
 */
#include "src/http/server.h"
#include "src/http/server_int.h"

#include <http_parser.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#include "src/base/budget.h"
#include "src/base/buf.h"
#include "src/base/connlimit.h"
#include "src/base/logging.h"

#define H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define MAX_PENDING_IN (256u << 10) /* pipelined bytes held while a response is in flight */

typedef struct conn conn;

typedef struct hdr {
    char *name, *value;
} hdr;

struct wr_http_req {
    int refs;
    conn *c; /* NULL once the connection is gone */
    int32_t stream_id;
    char *method, *path, *query;
    hdr *hdrs;
    int nhdrs, caph;
    size_t hdr_bytes;
    int version;
    bool announced; /* on_request was called */
    bool ended_in;  /* the body is complete */
    bool began, finished, gone;
    bool chunked; /* HTTP/1.1 chunked response */
    bool close_c; /* HTTP/1.x: close the connection after this response */
    wr_buf out;   /* HTTP/2: response bytes not yet taken by nghttp2 */
    size_t out_off;
    void *data;
    void (*free_data)(void *data);
    wr_http_req *next; /* HTTP/2: the connection's streams */
    /* the server's body budget: taken for a declared Content-Length before the body is read,
       forced for body bytes of unknown length as they come (up to max_expect_body); given
       back when the last reference goes or the handler says it keeps no body */
    wr_budget *budget;
    size_t taken, forced;
    bool uncharged;
};

typedef struct post_item {
    struct post_item *next;
    void (*fn)(void *);
    void *arg;
} post_item;

struct wr_http_server {
    wr_http_server_opts o;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wake;
    uv_timer_t ticker;
    pthread_t thread;
    pthread_mutex_t mu;
    post_item *posts, **posts_tail;
    bool stopping;
    int port;
    conn *conns;
    int nconns;
    wr_budget budget;       /* limits.queued_max_body_bytes */
    wr_connlimit connlimit; /* limits.max_connections, limits.max_connections_per_ip */
    uv_timer_t resume;      /* runs the connections the budget let go on */
    conn *resumable;        /* through ready_next, each holding an open_handles count */
    http_parser_settings h1;
    nghttp2_session_callbacks *h2cb;
    wr_buf *mem_out; /* wr__http_feed: output is appended here instead of written to a socket */
    wr_tls_ctx *tls;      /* HTTPS: the TLS context (owned, under mu); NULL: plain HTTP */
    wr_tls_opts tls_opts; /* ... the settings it was made from (owned copies), for reloads */
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t idle;
    uv_write_t wreq;
    wr_http_server *s;
    conn *next, *prev;
    int open_handles;
    bool decided, h2, closing, close_after_write, writing, reading;
    wr_buf outq, inflight;
    /* HTTP/1.x */
    http_parser parser;
    wr_http_req *cur;
    bool paused, in_value, too_big;
    wr_buf url, field, value;
    wr_buf pending_in;
    /* HTTP/2 */
    nghttp2_session *ng;
    wr_http_req *streams;
    wr_buf first; /* bytes read before the protocol was decided */
    /* memory bounds */
    struct sockaddr_storage addr;
    bool counted;          /* admitted by the server's connlimit */
    bool waiting;          /* for the budget: the parser is paused, reading stopped */
    bool announce_pending; /* HTTP/1: on_request waits for the grant */
    wr_budget_waiter wait;
    conn *ready_next;
    /* HTTPS: the session, and its ciphertext to send (what goes to the socket instead of outq) */
    wr_tls_conn *tls;
    wr_buf tls_out;
};

static void conn_close(conn *c);
static void conn_flush(conn *c);
static void h1_done(conn *c);
static void conn_read_resume(conn *c);

/* ---- requests -------------------------------------------------------------------------------- */

static wr_http_req *
req_new(conn *c)
{
    wr_http_req *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->refs = 1;
    r->c = c;
    r->budget = &c->s->budget;
    return r;
}

void
wr_http_req_ref(wr_http_req *r)
{
    r->refs++;
}

void
wr_http_req_unref(wr_http_req *r)
{
    if (r == NULL || --r->refs > 0)
        return;
    if (r->free_data != NULL)
        r->free_data(r->data);
    wr_http_req_uncharge(r);
    for (int i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    free(r->method);
    free(r->path);
    free(r->query);
    wr_buf_free(&r->out);
    free(r);
}

static int
req_add_header(wr_http_req *r, const char *n, size_t nl, const char *v, size_t vl)
{
    if (r->nhdrs == r->caph) {
        int cap = r->caph ? r->caph * 2 : 16;
        hdr *h = realloc(r->hdrs, (size_t)cap * sizeof *h);
        if (h == NULL)
            return WR_ENOMEM;
        r->hdrs = h;
        r->caph = cap;
    }
    char *name = strndup(n, nl), *value = strndup(v, vl);
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        return WR_ENOMEM;
    }
    r->hdrs[r->nhdrs++] = (hdr){name, value};
    return WR_OK;
}

static int
req_set_target(wr_http_req *r, const char *t, size_t n)
{
    const char *q = memchr(t, '?', n);
    size_t pl = q ? (size_t)(q - t) : n;
    r->path = strndup(t, pl);
    r->query = q ? strndup(q + 1, n - pl - 1) : strdup("");
    return r->path && r->query ? WR_OK : WR_ENOMEM;
}

const char *
wr_http_req_method(const wr_http_req *r)
{
    return r->method ? r->method : "";
}

const char *
wr_http_req_path(const wr_http_req *r)
{
    return r->path ? r->path : "";
}

const char *
wr_http_req_query(const wr_http_req *r)
{
    return r->query ? r->query : "";
}

const char *
wr_http_req_header(const wr_http_req *r, const char *name)
{
    for (int i = r->nhdrs - 1; i >= 0; i--)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

int
wr_http_req_version(const wr_http_req *r)
{
    return r->version;
}

bool
wr_http_req_gone(const wr_http_req *r)
{
    return r->gone;
}

void *
wr_http_req_data(const wr_http_req *r)
{
    return r->data;
}

void
wr_http_req_set_data(wr_http_req *r, void *data, void (*free_fn)(void *data))
{
    r->data = data;
    r->free_data = free_fn;
}

void
wr_http_req_uncharge(wr_http_req *r)
{
    r->uncharged = true;
    if (r->budget == NULL)
        return;
    if (r->taken > 0)
        wr_budget_release(r->budget, r->taken);
    if (r->forced > 0)
        wr_budget_unforce(r->budget, r->forced);
    r->taken = r->forced = 0;
}

size_t
wr_http_req_pending(const wr_http_req *r)
{
    if (r->c == NULL)
        return 0;
    return r->c->outq.len + r->c->inflight.len + (r->out.len - r->out_off);
}

/* The connection lets go of r: a handler that saw it and is still answering hears on_abort. */
static void
req_abort(wr_http_server *s, wr_http_req *r)
{
    bool tell = r->announced && !r->finished && !r->gone;
    r->c = NULL;
    r->gone = true;
    if (tell && s->o.handler.on_abort)
        s->o.handler.on_abort(s->o.handler.arg, r);
    wr_http_req_unref(r); /* the connection's reference */
}

/* ---- output -------------------------------------------------------------------------------- */

static void
after_write(uv_write_t *w, int status)
{
    conn *c = w->data;
    c->writing = false;
    wr_buf_reset(&c->inflight);
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->closing)
        return;
    conn_flush(c);
}

static void
conn_flush(conn *c)
{
    if (c->closing || c->writing)
        return;
    if (c->h2 && c->ng != NULL) {
        for (;;) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(c->ng, &data);
            if (n < 0) {
                conn_close(c);
                return;
            }
            if (n == 0)
                break;
            wr_buf_append(&c->outq, data, (size_t)n);
        }
        if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng) &&
            c->outq.len == 0) {
            conn_close(c);
            return;
        }
    }
    wr_buf *q = &c->outq;
    if (c->tls != NULL) {
        /* plaintext through the session; what the socket gets is its output */
        if (c->outq.len > 0 && wr_tls_conn_ready(c->tls)) {
            wr_err err = {0};
            if (!wr_buf_ok(&c->outq) ||
                wr_tls_conn_write(c->tls, c->outq.data, c->outq.len, &err) != WR_OK) {
                conn_close(c);
                return;
            }
            wr_buf_reset(&c->outq);
        }
        size_t n;
        uint8_t *o;
        while ((o = wr_tls_conn_output(c->tls, &n)) != NULL) {
            wr_buf_append(&c->tls_out, o, n);
            free(o);
        }
        q = &c->tls_out;
    }
    if (q->len == 0) {
        if (c->close_after_write)
            conn_close(c);
        return;
    }
    if (!wr_buf_ok(q)) {
        conn_close(c);
        return;
    }
    if (c->s->mem_out != NULL) { /* wr__http_feed: written at once, closed by the caller */
        wr_buf_append(c->s->mem_out, c->outq.data, c->outq.len);
        wr_buf_reset(&c->outq);
        return;
    }
    /* swap: what is queued goes out now, new output gathers behind it */
    wr_buf t = c->inflight;
    c->inflight = *q;
    *q = t;
    wr_buf_reset(q);
    uv_buf_t b = uv_buf_init((char *)c->inflight.data, (unsigned)c->inflight.len);
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, after_write) != 0) {
        conn_close(c);
        return;
    }
    c->writing = true;
}

static const char *
reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static ssize_t
h2_read_data(nghttp2_session *ng,
             int32_t sid,
             uint8_t *buf,
             size_t length,
             uint32_t *flags,
             nghttp2_data_source *src,
             void *ud)
{
    (void)ng;
    (void)sid;
    (void)ud;
    wr_http_req *r = src->ptr;
    size_t avail = r->out.len - r->out_off;
    if (avail == 0) {
        if (r->finished) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
        }
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = avail < length ? avail : length;
    memcpy(buf, r->out.data + r->out_off, n);
    r->out_off += n;
    if (r->out_off == r->out.len) {
        wr_buf_reset(&r->out);
        r->out_off = 0;
        if (r->finished)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

static void
h2_submit(wr_http_req *r, int status, const char *ctype, const char *extra)
{
    conn *c = r->c;
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    nghttp2_nv nva[16];
    int n = 0;
#define NV(nm, v) \
    nva[n++] =    \
        (nghttp2_nv){(uint8_t *)(nm), (uint8_t *)(v), strlen(nm), strlen(v), NGHTTP2_NV_FLAG_NONE}
    NV(":status", st);
    if (ctype != NULL)
        NV("content-type", ctype);
    /* extra headers: "Name: value\r\n" lines, lower-cased names for HTTP/2 */
    char names[8][64], values[8][256];
    int ne = 0;
    for (const char *p = extra; p != NULL && *p != '\0' && ne < 8;) {
        const char *colon = strchr(p, ':'), *eol = strstr(p, "\r\n");
        if (colon == NULL || eol == NULL || colon > eol)
            break;
        size_t nl = (size_t)(colon - p);
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        snprintf(names[ne], sizeof names[ne], "%.*s", (int)nl, p);
        for (char *q = names[ne]; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
        snprintf(values[ne], sizeof values[ne], "%.*s", (int)(eol - v), v);
        NV(names[ne], values[ne]);
        ne++;
        p = eol + 2;
    }
#undef NV
    nghttp2_data_provider prd = {.source.ptr = r, .read_callback = h2_read_data};
    if (nghttp2_submit_response(c->ng, r->stream_id, nva, (size_t)n, &prd) != 0)
        nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_INTERNAL_ERROR);
}

void
wr_http_reply(wr_http_req *r,
              int status,
              const char *content_type,
              const char *extra_headers,
              const void *body,
              size_t len)
{
    if (r->began || r->gone || r->c == NULL)
        return;
    conn *c = r->c;
    r->began = r->finished = true;
    if (c->h2) {
        wr_buf_append(&r->out, body, len);
        h2_submit(r, status, content_type, extra_headers);
        conn_flush(c);
        return;
    }
    if (!r->ended_in)
        r->close_c = true; /* the rest of the body will not be read */
    wr_buf_printf(&c->outq, "HTTP/1.%d %d %s\r\n", r->version == 10 ? 0 : 1, status,
                  reason(status));
    if (content_type != NULL)
        wr_buf_printf(&c->outq, "Content-Type: %s\r\n", content_type);
    wr_buf_printf(&c->outq, "Content-Length: %zu\r\n%s%s\r\n", len,
                  extra_headers ? extra_headers : "", r->close_c ? "Connection: close\r\n" : "");
    wr_buf_append(&c->outq, body, len);
    h1_done(c);
}

void
wr_http_begin(wr_http_req *r, int status, const char *content_type)
{
    if (r->began || r->gone || r->c == NULL)
        return;
    conn *c = r->c;
    r->began = true;
    if (c->h2) {
        h2_submit(r, status, content_type, NULL);
        conn_flush(c);
        return;
    }
    r->chunked = r->version >= 11;
    if (!r->chunked)
        r->close_c = true; /* HTTP/1.0: the end of the body is the end of the connection */
    wr_buf_printf(&c->outq, "HTTP/1.%d %d %s\r\n", r->version == 10 ? 0 : 1, status,
                  reason(status));
    if (content_type != NULL)
        wr_buf_printf(&c->outq, "Content-Type: %s\r\n", content_type);
    wr_buf_printf(&c->outq, "%s%s\r\n", r->chunked ? "Transfer-Encoding: chunked\r\n" : "",
                  r->close_c ? "Connection: close\r\n" : "");
    conn_flush(c);
}

void
wr_http_send(wr_http_req *r, const void *data, size_t len)
{
    if (!r->began || r->finished || r->gone || r->c == NULL || len == 0)
        return;
    conn *c = r->c;
    if (c->h2) {
        wr_buf_append(&r->out, data, len);
        nghttp2_session_resume_data(c->ng, r->stream_id);
    } else if (r->chunked) {
        wr_buf_printf(&c->outq, "%zx\r\n", len);
        wr_buf_append(&c->outq, data, len);
        wr_buf_append(&c->outq, "\r\n", 2);
    } else {
        wr_buf_append(&c->outq, data, len);
    }
    conn_flush(c);
}

void
wr_http_finish(wr_http_req *r)
{
    if (!r->began || r->finished || r->gone || r->c == NULL)
        return;
    conn *c = r->c;
    r->finished = true;
    if (c->h2) {
        nghttp2_session_resume_data(c->ng, r->stream_id);
        conn_flush(c);
        return;
    }
    if (!r->ended_in)
        r->close_c = true;
    if (r->chunked)
        wr_buf_append(&c->outq, "0\r\n\r\n", 5);
    h1_done(c);
}

void
wr_http_close(wr_http_req *r)
{
    if (r->c == NULL || r->finished)
        return;
    conn *c = r->c;
    r->finished = true;
    if (c->h2) {
        nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
        conn_flush(c);
        return;
    }
    if (r->chunked)
        wr_buf_append(&c->outq, "0\r\n\r\n", 5);
    r->close_c = true;
    h1_done(c);
}

/* ---- HTTP/1.x -------------------------------------------------------------------------------- */

static void h1_feed(conn *c, const char *data, size_t len);

/* A plain error answer of the connection layer itself, then close. */
static void
h1_fail(conn *c, int status, const char *why)
{
    char body[300];
    int n = snprintf(body, sizeof body,
                     "{\"@type\":\"generic_error\",\"error_code\":%d00,\"message\":\"%s\"}", status,
                     why);
    wr_buf_printf(&c->outq,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
                  "%d\r\nConnection: close\r\n\r\n%s",
                  status, reason(status), n, body);
    c->close_after_write = true;
    if (c->cur != NULL) {
        wr_http_req *r = c->cur;
        c->cur = NULL;
        req_abort(c->s, r);
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    conn_flush(c);
}

/* The current request's response has been queued in full. */
static void
h1_done(conn *c)
{
    wr_http_req *r = c->cur;
    bool close_c = r->close_c;
    c->cur = NULL;
    r->c = NULL;
    wr_http_req_unref(r);
    if (close_c) {
        c->close_after_write = true;
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
        conn_flush(c);
        return;
    }
    conn_flush(c);
    uv_timer_again(&c->idle);
    if (c->paused) {
        /* the next pipelined request, if any */
        c->paused = false;
        http_parser_pause(&c->parser, 0);
        wr_buf rest = c->pending_in;
        c->pending_in = (wr_buf)WR_BUF_INIT;
        if (rest.len > 0)
            h1_feed(c, (const char *)rest.data, rest.len);
        wr_buf_free(&rest);
        if (!c->closing)
            conn_read_resume(c); /* stopped while pending_in was full */
    }
}

static int
h1_begin(http_parser *p)
{
    conn *c = p->data;
    if (c->cur != NULL)
        return 1; /* cannot happen: the parser is paused between requests */
    c->cur = req_new(c);
    if (c->cur == NULL)
        return 1;
    c->cur->version = 11;
    wr_buf_reset(&c->url);
    wr_buf_reset(&c->field);
    wr_buf_reset(&c->value);
    c->in_value = false;
    return 0;
}

static bool
h1_count(conn *c, size_t n)
{
    c->cur->hdr_bytes += n;
    if (c->cur->hdr_bytes > c->s->o.limits.max_header_bytes) {
        c->too_big = true;
        return false;
    }
    return true;
}

static int
h1_url(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    if (!h1_count(c, n))
        return 1;
    wr_buf_append(&c->url, at, n);
    return 0;
}

static int
h1_push_header(conn *c)
{
    if (c->field.len == 0)
        return 0;
    int rc = req_add_header(c->cur, (const char *)c->field.data, c->field.len,
                            c->value.len ? (const char *)c->value.data : "", c->value.len);
    wr_buf_reset(&c->field);
    wr_buf_reset(&c->value);
    return rc == WR_OK ? 0 : 1;
}

static int
h1_field(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    if (!h1_count(c, n))
        return 1;
    if (c->in_value && h1_push_header(c) != 0)
        return 1;
    c->in_value = false;
    wr_buf_append(&c->field, at, n);
    return 0;
}

static int
h1_value(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    if (!h1_count(c, n))
        return 1;
    c->in_value = true;
    wr_buf_append(&c->value, at, n);
    return 0;
}

/* Hands the request to the handler. Returns true when the handler answered it and the
   connection closes (the body is not read). */
static bool
h1_announce(conn *c, wr_http_req *r)
{
    r->announced = true;
    wr_http_req_ref(r); /* held across the callback: the handler may answer at once */
    c->s->o.handler.on_request(c->s->o.handler.arg, r);
    bool stop = r->c == NULL && c->cur != r && r->close_c;
    wr_http_req_unref(r);
    return stop;
}

/* Body bytes of unknown length (chunked, HTTP/2) count as they come, up to the largest body a
   handler keeps; past the budget the connection stops reading until it has room again. */
static void
body_arrived(conn *c, wr_http_req *r, size_t n)
{
    wr_http_server *s = c->s;
    if (r->uncharged || r->taken > 0)
        return;
    size_t cap = s->o.limits.max_expect_body;
    size_t k = r->forced < cap ? cap - r->forced : 0;
    k = k < n ? k : n;
    if (k == 0)
        return;
    wr_budget_force(&s->budget, k);
    r->forced += k;
    if (!c->waiting && s->budget.limit > 0 && s->budget.used > s->budget.limit &&
        !wr_budget_take(&s->budget, &c->wait, 0)) {
        c->waiting = true;
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

static int
h1_headers_done(http_parser *p)
{
    conn *c = p->data;
    wr_http_req *r = c->cur;
    if (h1_push_header(c) != 0 || !wr_buf_ok(&c->url))
        return 1;
    r->method = strdup(http_method_str((enum http_method)p->method));
    if (r->method == NULL || req_set_target(r, c->url.len ? (const char *)c->url.data : "/",
                                            c->url.len ? c->url.len : 1) != WR_OK)
        return 1;
    r->version = p->http_major == 1 && p->http_minor == 0 ? 10 : 11;
    r->close_c = !http_should_keep_alive(p);
    const char *expect = wr_http_req_header(r, "Expect");
    if (expect != NULL && strcasecmp(expect, "100-continue") == 0) {
        if (p->content_length != ULLONG_MAX &&
            p->content_length > (uint64_t)c->s->o.limits.max_expect_body) {
            r->close_c = true;
            wr_http_req_ref(r);
            r->announced = true;
            wr_http_reply(r, 417, "application/json", NULL,
                          "{\"@type\":\"generic_error\",\"error_code\":41700,\"message\":\"the "
                          "request body is larger than this server takes\"}",
                          sizeof "{\"@type\":\"generic_error\",\"error_code\":41700,\"message\":"
                                 "\"the request body is larger than this server takes\"}" -
                              1);
            wr_http_req_unref(r);
            return 1;
        }
        wr_buf_append(&c->outq, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        conn_flush(c);
    }
    /* a declared body is taken from the budget whole before any of it is read (up to the
       largest body a handler keeps): when it does not fit, the request waits, paused */
    size_t want = 0;
    if (p->content_length != ULLONG_MAX && p->content_length > 0)
        want = p->content_length < (uint64_t)c->s->o.limits.max_expect_body
                   ? (size_t)p->content_length
                   : c->s->o.limits.max_expect_body;
    if (want > 0 && !wr_budget_take(&c->s->budget, &c->wait, want)) {
        c->waiting = true;
        c->announce_pending = true;
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
        http_parser_pause(p, 1); /* the rest of this read waits in pending_in */
        return 0;
    }
    r->taken = want;
    return h1_announce(c, r) ? 1 : 0;
}

static int
h1_body(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    wr_http_req *r = c->cur;
    if (r == NULL)
        return 0; /* answered already: the rest of the body is dropped */
    body_arrived(c, r, n);
    wr_http_req_ref(r);
    c->s->o.handler.on_body(c->s->o.handler.arg, r, at, n);
    wr_http_req_unref(r);
    return 0;
}

static int
h1_complete(http_parser *p)
{
    conn *c = p->data;
    wr_http_req *r = c->cur;
    if (r == NULL)
        return 0;
    r->ended_in = true;
    c->paused = true;
    http_parser_pause(p, 1);
    wr_http_req_ref(r);
    c->s->o.handler.on_end(c->s->o.handler.arg, r);
    wr_http_req_unref(r);
    return 0;
}

static void
h1_feed(conn *c, const char *data, size_t len)
{
    while (len > 0 && !c->closing && !c->close_after_write) {
        if (c->paused || c->waiting) {
            if (c->pending_in.len + len > MAX_PENDING_IN) {
                uv_read_stop((uv_stream_t *)&c->tcp); /* resumes when nothing is pending */
                c->reading = false;
            }
            wr_buf_append(&c->pending_in, data, len);
            return;
        }
        size_t n = http_parser_execute(&c->parser, &c->s->h1, data, len);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            data += n;
            len -= n;
            continue; /* the remainder waits in pending_in */
        }
        if (e != HPE_OK) {
            if (c->close_after_write || c->closing)
                return;
            if (c->too_big)
                h1_fail(c, 431, "the request line and headers are larger than this server takes");
            else {
                char why[200];
                snprintf(why, sizeof why, "malformed HTTP request: %s", http_errno_description(e));
                h1_fail(c, 400, why);
            }
            return;
        }
        data += n;
        len -= n;
    }
}

/* ---- HTTP/2 ---------------------------------------------------------------------------------- */

static int
h2_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    conn *c = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    wr_http_req *r = req_new(c);
    if (r == NULL)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    r->stream_id = f->hd.stream_id;
    r->version = 20;
    r->next = c->streams;
    c->streams = r;
    nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, r);
    return 0;
}

static int
h2_header(nghttp2_session *ng,
          const nghttp2_frame *f,
          const uint8_t *name,
          size_t nl,
          const uint8_t *value,
          size_t vl,
          uint8_t flags,
          void *ud)
{
    (void)flags;
    conn *c = ud;
    wr_http_req *r = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (r == NULL || r->announced)
        return 0; /* trailers are ignored */
    r->hdr_bytes += nl + vl;
    if (r->hdr_bytes > c->s->o.limits.max_header_bytes)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    int rc = WR_OK;
    if (nl == 7 && memcmp(name, ":method", 7) == 0) {
        free(r->method);
        r->method = strndup((const char *)value, vl);
        rc = r->method ? WR_OK : WR_ENOMEM;
    } else if (nl == 5 && memcmp(name, ":path", 5) == 0) {
        free(r->path);
        free(r->query);
        rc = req_set_target(r, (const char *)value, vl);
    } else if (nl > 0 && name[0] != ':') {
        rc = req_add_header(r, (const char *)name, nl, (const char *)value, vl);
    }
    return rc == WR_OK ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

static int
h2_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    conn *c = ud;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
        return 0;
    wr_http_req *r = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (r == NULL)
        return 0;
    wr_http_req_ref(r);
    if (f->hd.type == NGHTTP2_HEADERS && !r->announced) {
        r->announced = true;
        if (r->method == NULL || r->path == NULL) {
            nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_PROTOCOL_ERROR);
            r->finished = true;
        } else {
            c->s->o.handler.on_request(c->s->o.handler.arg, r);
        }
    }
    if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) && !r->ended_in && !r->gone) {
        r->ended_in = true;
        if (!r->finished || r->began)
            c->s->o.handler.on_end(c->s->o.handler.arg, r);
    }
    wr_http_req_unref(r);
    return 0;
}

static int
h2_data(nghttp2_session *ng, uint8_t flags, int32_t sid, const uint8_t *data, size_t len, void *ud)
{
    (void)flags;
    conn *c = ud;
    wr_http_req *r = nghttp2_session_get_stream_user_data(ng, sid);
    if (r == NULL || r->gone || !r->announced)
        return 0;
    body_arrived(c, r, len);
    wr_http_req_ref(r);
    c->s->o.handler.on_body(c->s->o.handler.arg, r, (const char *)data, len);
    wr_http_req_unref(r);
    return 0;
}

static int
h2_stream_close(nghttp2_session *ng, int32_t sid, uint32_t code, void *ud)
{
    (void)code;
    conn *c = ud;
    wr_http_req *r = nghttp2_session_get_stream_user_data(ng, sid);
    if (r == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(ng, sid, NULL);
    for (wr_http_req **pp = &c->streams; *pp != NULL; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    req_abort(c->s, r); /* a no-op for the handler when the response had finished */
    return 0;
}

static int
h2_start(conn *c)
{
    if (nghttp2_session_server_new(&c->ng, c->s->h2cb, c) != 0)
        return WR_ENOMEM;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, c->s->o.limits.max_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)c->s->o.limits.max_header_bytes},
    };
    if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, 2) != 0)
        return WR_ENOMEM;
    return WR_OK;
}

static void
h2_feed(conn *c, const char *data, size_t len)
{
    ssize_t n = nghttp2_session_mem_recv(c->ng, (const uint8_t *)data, len);
    if (n < 0) {
        wr_log(WR_LOG_DEBUG, "http", "HTTP/2 connection error: %s", nghttp2_strerror((int)n));
        conn_flush(c); /* nghttp2 queued a GOAWAY */
        c->close_after_write = true;
        conn_flush(c);
        return;
    }
    conn_flush(c);
}

/* ---- connections ------------------------------------------------------------------------------
 */

/* Drops one of c's holds (an open handle, a place in the resumable list); frees c with the
   last. */
static void
conn_drop(conn *c)
{
    if (--c->open_handles > 0)
        return;
    wr_buf_free(&c->outq);
    wr_buf_free(&c->inflight);
    wr_buf_free(&c->url);
    wr_buf_free(&c->field);
    wr_buf_free(&c->value);
    wr_buf_free(&c->pending_in);
    wr_buf_free(&c->first);
    wr_buf_free(&c->tls_out);
    wr_tls_conn_destroy(c->tls);
    free(c);
}

static void
on_handle_closed(uv_handle_t *h)
{
    conn_drop(h->data);
}

static void
conn_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    wr_http_server *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    if (c->counted)
        wr_connlimit_leave(&s->connlimit, (const struct sockaddr *)&c->addr);
    c->counted = false;
    wr_budget_cancel(&s->budget, &c->wait);
    c->waiting = false;
    if (c->cur != NULL) {
        wr_http_req *r = c->cur;
        c->cur = NULL;
        req_abort(s, r);
    }
    while (c->streams != NULL) {
        wr_http_req *r = c->streams;
        c->streams = r->next;
        if (c->ng != NULL)
            nghttp2_session_set_stream_user_data(c->ng, r->stream_id, NULL);
        req_abort(s, r);
    }
    if (c->ng != NULL) {
        nghttp2_session_del(c->ng);
        c->ng = NULL;
    }
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->idle, on_handle_closed);
}

static void
on_idle(uv_timer_t *t)
{
    conn *c = t->data;
    /* a request whose body stopped coming before any answer began is idle: it holds budget */
    bool stalled = c->cur != NULL && !c->cur->ended_in && !c->cur->began && !c->waiting;
    bool busy = (c->cur != NULL && !stalled) || c->streams != NULL || c->writing || c->waiting;
    if (!busy)
        conn_close(c);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);
static void on_resume(uv_timer_t *t);

/* Starts reading again when nothing holds it back. */
static void
conn_read_resume(conn *c)
{
    if (c->reading || c->waiting || c->closing || c->close_after_write ||
        c->pending_in.len > MAX_PENDING_IN)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read) == 0)
        c->reading = true;
}

/* The budget let c go on (called inside wr_budget_release or _cancel: only noted here). */
static void
on_granted(wr_budget_waiter *w)
{
    conn *c = (conn *)((char *)w - offsetof(conn, wait));
    wr_http_server *s = c->s;
    c->waiting = false;
    if (c->announce_pending && c->cur != NULL)
        c->cur->taken = w->want;
    c->open_handles++; /* held in the list */
    c->ready_next = s->resumable;
    s->resumable = c;
    uv_timer_start(&s->resume, on_resume, 0, 0);
}

static void
on_resume(uv_timer_t *t)
{
    wr_http_server *s = t->data;
    while (s->resumable != NULL) {
        conn *c = s->resumable;
        s->resumable = c->ready_next;
        c->ready_next = NULL;
        if (!c->closing && !c->waiting) {
            bool stop = false;
            if (c->announce_pending) {
                c->announce_pending = false;
                if (c->cur != NULL)
                    stop = h1_announce(c, c->cur);
            }
            if (!c->closing && !c->close_after_write && !stop && !c->paused && !c->h2) {
                /* the parser was paused at the end of the headers: the body goes on */
                http_parser_pause(&c->parser, 0);
                wr_buf rest = c->pending_in;
                c->pending_in = (wr_buf)WR_BUF_INIT;
                if (rest.len > 0)
                    h1_feed(c, (const char *)rest.data, rest.len);
                wr_buf_free(&rest);
            }
            if (!c->closing)
                conn_read_resume(c);
        }
        conn_drop(c);
    }
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static __thread char buf[65536];
    *b = uv_buf_init(buf, sizeof buf);
}

/* Bytes from the client. */
static void
conn_recv(conn *c, const char *data, size_t len)
{
    if (!c->decided) {
        /* HTTP/2 with prior knowledge starts with the preface; anything else is HTTP/1 */
        wr_buf_append(&c->first, data, len);
        size_t have = c->first.len < H2_PREFACE_LEN ? c->first.len : H2_PREFACE_LEN;
        if (memcmp(c->first.data, H2_PREFACE, have) == 0 && c->first.len < H2_PREFACE_LEN)
            return; /* wait for the rest of the preface */
        c->decided = true;
        c->h2 = memcmp(c->first.data, H2_PREFACE, have) == 0;
        if (c->h2 && h2_start(c) != WR_OK) {
            conn_close(c);
            return;
        }
        wr_buf first = c->first;
        c->first = (wr_buf)WR_BUF_INIT;
        if (c->h2)
            h2_feed(c, (const char *)first.data, first.len);
        else
            h1_feed(c, (const char *)first.data, first.len);
        wr_buf_free(&first);
        return;
    }
    if (c->h2)
        h2_feed(c, data, len);
    else
        h1_feed(c, data, len);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    conn *c = st->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0 || c->closing)
        return;
    uv_timer_again(&c->idle);
    if (c->tls == NULL) {
        conn_recv(c, b->base, (size_t)n);
        return;
    }
    wr_buf plain = WR_BUF_INIT;
    wr_err err = {0};
    int rc = wr_tls_conn_input(c->tls, (const uint8_t *)b->base, (size_t)n, &plain, &err);
    if (rc != WR_OK) {
        wr_log(WR_LOG_WARN, "http", "%s; closing", err.msg);
        wr_buf_free(&plain);
        c->close_after_write = true; /* after the alert */
        conn_flush(c);
        return;
    }
    if (plain.len > 0)
        conn_recv(c, (const char *)plain.data, plain.len);
    wr_buf_free(&plain);
    if (!c->closing)
        conn_flush(c); /* the handshake's records */
}

/* A new connection on s's loop (its socket not yet accepted), or NULL when out of memory. */
static conn *
conn_new(wr_http_server *s)
{
    conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->s = s;
    uv_tcp_init(&s->loop, &c->tcp);
    uv_timer_init(&s->loop, &c->idle);
    c->tcp.data = c->idle.data = c;
    c->open_handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->wait.granted = on_granted;
    return c;
}

static void
on_connection(uv_stream_t *l, int status)
{
    wr_http_server *s = l->data;
    if (status < 0)
        return;
    conn *c = conn_new(s);
    if (c == NULL)
        return;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    int al = sizeof c->addr;
    bool have_addr = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->addr, &al) == 0;
    c->counted = wr_connlimit_admit(&s->connlimit, have_addr ? (struct sockaddr *)&c->addr
                                                              : NULL) == WR_CONNLIMIT_OK;
    pthread_mutex_lock(&s->mu);
    if (s->tls != NULL && (c->tls = wr_tls_conn_create(s->tls)) == NULL) {
        pthread_mutex_unlock(&s->mu);
        conn_close(c);
        return;
    }
    pthread_mutex_unlock(&s->mu);
    if (!c->counted && c->tls != NULL) {
        conn_close(c); /* no session yet to say why in */
        return;
    }
    if (!c->counted) {
        static const char busy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: "
            "close\r\nContent-Length: 96\r\n\r\n{\"@type\":\"generic_error\",\"error_code\":50300,"
            "\"message\":\"too many connections; try again\"}  ";
        wr_buf_append(&c->outq, busy, sizeof busy - 1);
        c->close_after_write = true;
        conn_flush(c);
        return;
    }
    uv_timer_start(&c->idle, on_idle, (uint64_t)s->o.limits.idle_timeout_ms,
                   (uint64_t)s->o.limits.idle_timeout_ms);
    c->reading = true;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read) != 0)
        conn_close(c);
}

/* ---- the server -------------------------------------------------------------------------------
 */

static void
close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void
on_wake(uv_async_t *a)
{
    wr_http_server *s = a->data;
    pthread_mutex_lock(&s->mu);
    post_item *list = s->posts;
    s->posts = NULL;
    s->posts_tail = &s->posts;
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    while (list != NULL) {
        post_item *it = list;
        list = it->next;
        it->fn(it->arg);
        free(it);
    }
    if (stopping) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        while (s->conns != NULL)
            conn_close(s->conns);
        while (s->resumable != NULL) {
            conn *c = s->resumable;
            s->resumable = c->ready_next;
            conn_drop(c);
        }
        uv_close((uv_handle_t *)&s->resume, NULL);
        uv_close((uv_handle_t *)&s->wake, NULL);
        uv_close((uv_handle_t *)&s->ticker, NULL);
    }
}

static void
on_tick(uv_timer_t *t)
{
    wr_http_server *s = t->data;
    s->o.tick(s->o.handler.arg);
}

static void *
loop_main(void *arg)
{
    wr_http_server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_walk(&s->loop, close_walk, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Fills s (zeroed) from o: options with the limits' defaults, the budget and connection
   limits, the parsers' callbacks, the loop and its resume timer; nothing listens yet. On an
   error (in err) s holds nothing to release. */
static int
server_init(wr_http_server *s, const wr_http_server_opts *o, wr_err *err)
{
    s->o = *o;
    wr_http_limits *l = &s->o.limits;
    if (l->max_header_bytes == 0)
        l->max_header_bytes = 65536;
    if (l->max_connections <= 0)
        l->max_connections = 1024;
    if (l->idle_timeout_ms <= 0)
        l->idle_timeout_ms = 600000;
    if (l->max_streams == 0)
        l->max_streams = 100;
    if (l->max_expect_body == 0)
        l->max_expect_body = 64u << 20;
    if (l->queued_max_body_bytes == 0)
        l->queued_max_body_bytes = 64u << 20;
    wr_budget_init(&s->budget, l->queued_max_body_bytes == SIZE_MAX ? 0 : l->queued_max_body_bytes);
    if (wr_connlimit_init(&s->connlimit, l->max_connections, l->max_connections_per_ip, NULL,
                          err) != WR_OK)
        return err != NULL ? err->code : WR_ENOMEM;
    s->posts_tail = &s->posts;
    s->h1 = (http_parser_settings){.on_message_begin = h1_begin,
                                   .on_url = h1_url,
                                   .on_header_field = h1_field,
                                   .on_header_value = h1_value,
                                   .on_headers_complete = h1_headers_done,
                                   .on_body = h1_body,
                                   .on_message_complete = h1_complete};
    if (nghttp2_session_callbacks_new(&s->h2cb) != 0) {
        wr_connlimit_free(&s->connlimit);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(s->h2cb, h2_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(s->h2cb, h2_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(s->h2cb, h2_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(s->h2cb, h2_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(s->h2cb, h2_stream_close);
    int rc = uv_loop_init(&s->loop);
    if (rc != 0) {
        nghttp2_session_callbacks_del(s->h2cb);
        wr_connlimit_free(&s->connlimit);
        return wr_err_set(err, WR_EIO, "cannot start the HTTP loop: %s", uv_strerror(rc));
    }
    uv_timer_init(&s->loop, &s->resume);
    s->resume.data = s;
    return WR_OK;
}

int
wr_http_server_start(const wr_http_server_opts *o, wr_http_server **out, wr_err *err)
{
    wr_http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = server_init(s, o, err);
    if (rc != WR_OK) {
        free(s);
        return rc;
    }
    if (o->tls != NULL) {
        wr_tls_opts to = *o->tls;
        if (to.alpn == NULL)
            to.alpn = "\x02h2\x08http/1.1"; /* HTTP/2 when the client offers it */
        if ((rc = wr_tls_ctx_create(&to, &s->tls, err)) != WR_OK ||
            (rc = wr_tls_opts_copy(&to, &s->tls_opts)) != WR_OK) {
            wr_tls_ctx_destroy(s->tls);
            if (rc == WR_ENOMEM)
                wr_err_set(err, rc, "out of memory");
            uv_loop_close(&s->loop);
            nghttp2_session_callbacks_del(s->h2cb);
            wr_connlimit_free(&s->connlimit);
            free(s);
            return rc;
        }
    }
    pthread_mutex_init(&s->mu, NULL);
    uv_tcp_init(&s->loop, &s->listener);
    uv_async_init(&s->loop, &s->wake, on_wake);
    uv_timer_init(&s->loop, &s->ticker);
    s->listener.data = s->wake.data = s->ticker.data = s;
    if (o->tick != NULL && o->tick_ms > 0)
        uv_timer_start(&s->ticker, on_tick, (uint64_t)o->tick_ms, (uint64_t)o->tick_ms);
    struct sockaddr_storage sa;
    if (uv_ip4_addr(o->host, o->port, (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(o->host, o->port, (struct sockaddr_in6 *)&sa) != 0) {
        rc = UV_EINVAL;
        goto fail;
    }
    if ((rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&sa, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection)) != 0)
        goto fail;
    struct sockaddr_storage got;
    int gl = sizeof got;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&got, &gl);
    s->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                              : ((struct sockaddr_in *)&got)->sin_port);
    if (pthread_create(&s->thread, NULL, loop_main, s) != 0) {
        rc = UV_EAGAIN;
        goto fail;
    }
    *out = s;
    return WR_OK;
fail:
    uv_walk(&s->loop, close_walk, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    nghttp2_session_callbacks_del(s->h2cb);
    wr_connlimit_free(&s->connlimit);
    pthread_mutex_destroy(&s->mu);
    wr_tls_ctx_destroy(s->tls);
    wr_tls_opts_free(&s->tls_opts);
    free(s);
    return wr_err_set(err, WR_EIO, "cannot listen on %s:%d: %s", o->host, o->port, uv_strerror(rc));
}

int
wr_http_server_reload_tls(wr_http_server *s, wr_err *err)
{
    if (s->tls_opts.keystore == NULL)
        return wr_err_set(err, WR_ESTATE, "the HTTP listener has no TLS");
    return wr_tls_ctx_reload(&s->tls, &s->mu, &s->tls_opts, err);
}

int
wr_http_server_port(const wr_http_server *s)
{
    return s->port;
}

int
wr_http_server_post(wr_http_server *s, void (*fn)(void *arg), void *arg)
{
    post_item *it = malloc(sizeof *it);
    if (it == NULL)
        return WR_ENOMEM;
    *it = (post_item){NULL, fn, arg};
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        free(it);
        return WR_ECLOSED;
    }
    *s->posts_tail = it;
    s->posts_tail = &it->next;
    pthread_mutex_unlock(&s->mu);
    uv_async_send(&s->wake);
    return WR_OK;
}

void
wr_http_server_stop(wr_http_server *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_mutex_unlock(&s->mu);
    uv_async_send(&s->wake);
    pthread_join(s->thread, NULL);
    uv_loop_close(&s->loop);
    nghttp2_session_callbacks_del(s->h2cb);
    wr_connlimit_free(&s->connlimit);
    pthread_mutex_destroy(&s->mu);
    wr_tls_ctx_destroy(s->tls);
    wr_tls_opts_free(&s->tls_opts);
    /* posts that raced with the stop were run by the last wake-up */
    free(s);
}

/* ---- driving a connection from memory (server_int.h) ----------------------------------------- */

int
wr__http_feed(
    const wr_http_server_opts *o, const char *const *pieces, const size_t *lens, int n, wr_buf *out)
{
    wr_http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return WR_ENOMEM;
    int rc = server_init(s, o, NULL);
    if (rc != WR_OK) {
        free(s);
        return rc;
    }
    s->mem_out = out;
    conn *c = conn_new(s);
    if (c == NULL) {
        rc = WR_ENOMEM;
    } else {
        c->reading = true;
        for (int i = 0; i < n && !c->closing && c->reading; i++)
            if (lens[i] > 0)
                conn_recv(c, pieces[i], lens[i]);
        conn_close(c); /* the client hangs up: requests in flight hear on_abort */
    }
    uv_close((uv_handle_t *)&s->resume, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT); /* the connection's close callbacks free it */
    uv_loop_close(&s->loop);
    nghttp2_session_callbacks_del(s->h2cb);
    wr_connlimit_free(&s->connlimit);
    free(s);
    return rc;
}

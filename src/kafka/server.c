/*
 * server.c - the broker's network server (broker.h): accept loop, framing, in-order responses,
 * long-poll parking, idle timeout, backpressure, start/stop.
 *
 * Invariants: requests of one connection are answered in arrival order (a response waits until
 * every earlier one is written); Produce with acks=0 is answered by nothing but keeps its place;
 * the size prefix of a frame is checked against socket.request.max.bytes before the frame is
 * allocated; any malformed frame closes its own connection with a warning and nothing else. At
 * most one Produce of a connection runs on the thread pool at a time, so pipelined produces of one
 * connection are appended in order (idempotent producers depend on it). A connection stops
 * reading while it has WR_KCONN_MAX_QUEUED requests queued or WR_KCONN_MAX_OUT response bytes
 * unwritten (backpressure) and resumes when it drains.
 *
 * Memory: a frame's declared size is taken from the broker's budget (queued.max.request.bytes,
 * src/base/budget.h) before its body is read and given back when the request is freed; while it
 * does not fit the connection stops reading (bytes already read wait in its stash) and resumes
 * from on_resume once granted. Reads go to one buffer of the loop, frames grow with what
 * arrives, so an idle connection holds only its struct. Connections beyond max.connections or
 * max.connections.per.ip are closed at accept.
 *
 * Threads: everything runs on the broker's loop thread except the Produce work items (thread
 * pool) and the log-watch callback (any appending thread), which only calls uv_async_send.
 * Ownership: see broker_int.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/kafka/broker_int.h"
#include "src/log/log.h"

#define WR_KCONN_MAX_QUEUED 128
#define WR_KCONN_MAX_OUT    (32u << 20)
#define WR_KFRAME_MIN       10 /* api key, version, correlation id, client id length */

static void conn_close(wr_kconn *c);
static void conn_flush(wr_kconn *c);
static void conn_read_ctl(wr_kconn *c);

int64_t
wr__kmono_ms(void)
{
    return wr_clock_mono_ns() / 1000000;
}

/* ---- requests -------------------------------------------------------------------------- */

static void
req_free(wr_kreq *r)
{
    if (r->on_free != NULL)
        r->on_free(r);
    if (r->charged > 0)
        wr_budget_release(&r->conn->b->budget, r->charged);
    if (r->parked) {
        *r->pprev = r->pnext;
        if (r->pnext != NULL)
            r->pnext->pprev = r->pprev;
        r->parked = false;
    }
    wr_buf_free(&r->out);
    wr_buf_free(&r->data);
    wr_arena_destroy(r->arena);
    free(r->frame);
    free(r);
}

void
wr__kreq_finish(wr_kreq *r)
{
    if (r->parked) {
        *r->pprev = r->pnext;
        if (r->pnext != NULL)
            r->pnext->pprev = r->pprev;
        r->parked = false;
    }
    r->done = true;
    if (!r->no_response && r->resp != NULL) {
        int16_t v = r->hdr.api_version;
        wr_buf_reset(&r->out);
        wr_buf_put_be32(&r->out, 0);
        wr_kp_encode_resp_hdr(&r->out, r->hdr.api_key, v, r->hdr.correlation_id);
        int rc = wr_kp_encode(r->api->resp, r->resp, &r->out, v, wr_kp_flexible(r->api, v));
        if (rc != WR_OK) {
            wr_log(WR_LOG_ERROR, "kafka", "%s: cannot encode %s v%d response: %s", r->conn->peer,
                   r->api->name, v, wr_strerror(rc));
            conn_close(r->conn);
            return;
        }
        wr_be32_put(r->out.data, (uint32_t)(r->out.len - 4));
    }
    conn_flush(r->conn);
}

void
wr__kreq_finish_bare_error(wr_kreq *r, int16_t code)
{
    r->done = true;
    wr_buf_reset(&r->out);
    wr_buf_put_be32(&r->out, 6);
    wr_buf_put_be32(&r->out, (uint32_t)r->hdr.correlation_id);
    wr_buf_put_be16(&r->out, (uint16_t)code);
    conn_flush(r->conn);
}

static void on_fetch_timer(uv_timer_t *t);

static void
fetch_timer_rearm(wr_broker *b)
{
    int64_t next = INT64_MAX;
    for (wr_kreq *r = b->parked; r != NULL; r = r->pnext)
        if (r->deadline_ms < next)
            next = r->deadline_ms;
    if (next == INT64_MAX) {
        uv_timer_stop(&b->fetch_timer);
        return;
    }
    int64_t wait = next - wr__kmono_ms();
    uv_timer_start(&b->fetch_timer, on_fetch_timer, wait > 0 ? (uint64_t)wait : 0, 0);
}

void
wr__kreq_park(wr_kreq *r, int64_t deadline_ms)
{
    wr_broker *b = r->conn->b;
    r->deadline_ms = deadline_ms;
    if (!r->parked) {
        r->pnext = b->parked;
        if (b->parked != NULL)
            b->parked->pprev = &r->pnext;
        r->pprev = &b->parked;
        b->parked = r;
        r->parked = true;
    }
    fetch_timer_rearm(b);
}

/* Retries every parked fetch: on new data (final = false) or at deadlines. */
static void
retry_parked(wr_broker *b, bool only_expired)
{
    int64_t now = wr__kmono_ms();
    wr_kreq *r = b->parked;
    while (r != NULL) {
        wr_kreq *next = r->pnext;
        bool expired = r->deadline_ms <= now;
        if (expired || !only_expired)
            wr__kh_fetch_retry(r, expired);
        r = next; /* r may have been finished and unlinked, never freed here */
    }
    fetch_timer_rearm(b);
}

static void
on_fetch_timer(uv_timer_t *t)
{
    wr_broker *b = t->data;
    retry_parked(b, true);
}

static void
on_data_async(uv_async_t *a)
{
    wr_broker *b = a->data;
    if (b->parked != NULL)
        retry_parked(b, false);
}

static void
log_watch_cb(void *arg)
{
    wr_broker *b = arg;
    uv_async_send(&b->data_async);
}

static void
log_watch_noop(void *arg)
{
    (void)arg;
}

/* ---- thread-pool work (Produce) -------------------------------------------------------- */

static void conn_unref(wr_kconn *c);

static void
work_run(uv_work_t *w)
{
    wr_kreq *r = w->data;
    r->work_fn(r);
}

static void start_next_work(wr_kconn *c);

static void
work_after(uv_work_t *w, int status)
{
    wr_kreq *r = w->data;
    wr_kconn *c = r->conn;
    r->work_pending = false;
    c->produce_busy = false;
    if (!c->closing) {
        wr__kreq_finish(r);
        start_next_work(c);
    }
    (void)status;
    conn_unref(c);
}

static void
start_next_work(wr_kconn *c)
{
    if (c->produce_busy || c->closing)
        return;
    for (wr_kreq *r = c->head; r != NULL; r = r->next) {
        if (r->needs_work) {
            r->needs_work = false;
            r->work_pending = true;
            r->work.data = r;
            c->produce_busy = true;
            c->refs++;
            uv_queue_work(&c->b->loop, &r->work, work_run, work_after);
            return;
        }
    }
}

void
wr__kreq_queue_work(wr_kreq *r, void (*fn)(wr_kreq *r))
{
    r->work_fn = fn;
    r->needs_work = true;
    start_next_work(r->conn);
}

/* ---- connections ----------------------------------------------------------------------- */

static void
conn_free(wr_kconn *c)
{
    while (c->head != NULL) {
        wr_kreq *r = c->head;
        c->head = r->next;
        req_free(r);
    }
    wr__ksasl_conn_free(c);
    wr_tls_conn_destroy(c->tls);
    free(c->frame);
    wr_buf_free(&c->stash);
    free(c);
}

static void
conn_unref(wr_kconn *c)
{
    if (--c->refs == 0)
        conn_free(c);
}

static void
on_conn_closed(uv_handle_t *h)
{
    conn_unref((wr_kconn *)h);
}

void
wr__kconn_close(wr_kconn *c)
{
    conn_close(c);
}

static void
conn_close(wr_kconn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    wr_broker *b = c->b;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->counted)
        wr_connlimit_leave(&b->connlimit, (const struct sockaddr *)&c->addr);
    c->counted = false;
    /* what the frame being read and the stash hold goes back to the budget now */
    wr_budget_cancel(&b->budget, &c->wait);
    c->waiting = false;
    if (c->frame_charged > 0)
        wr_budget_release(&b->budget, c->frame_charged);
    c->frame_charged = 0;
    if (c->stash_charged > 0)
        wr_budget_unforce(&b->budget, c->stash_charged);
    c->stash_charged = 0;
    /* parked fetches of this connection leave the broker's list now */
    for (wr_kreq *r = c->head; r != NULL; r = r->next) {
        if (r->parked) {
            *r->pprev = r->pnext;
            if (r->pnext != NULL)
                r->pnext->pprev = r->pprev;
            r->parked = false;
        }
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

typedef struct wr_kwrite {
    uv_write_t req;
    wr_kconn *conn;
    uint8_t *data;
    size_t len;
} wr_kwrite;

static void
on_write(uv_write_t *w, int status)
{
    wr_kwrite *kw = (wr_kwrite *)w;
    wr_kconn *c = kw->conn;
    c->out_bytes -= kw->len;
    free(kw->data);
    free(kw);
    if (status < 0) {
        if (status != UV_ECANCELED && !c->closing) {
            wr_log(WR_LOG_DEBUG, "kafka", "%s: write failed: %s", c->peer, uv_strerror(status));
            conn_close(c);
        }
        return;
    }
    if (!c->closing && c->close_after_write && c->out_bytes == 0 && c->head == NULL)
        conn_close(c);
    else if (!c->closing)
        conn_read_ctl(c);
}

/* Hands data (taken) to the socket as it is. Returns false when the connection closed. */
static bool
raw_write(wr_kconn *c, uint8_t *data, size_t len)
{
    wr_kwrite *kw = malloc(sizeof *kw);
    if (kw == NULL) {
        free(data);
        conn_close(c);
        return false;
    }
    kw->conn = c;
    kw->data = data;
    kw->len = len;
    uv_buf_t ub = uv_buf_init((char *)data, (unsigned)len);
    c->out_bytes += len;
    if (uv_write(&kw->req, (uv_stream_t *)&c->tcp, &ub, 1, on_write) < 0) {
        c->out_bytes -= len;
        free(data);
        free(kw);
        conn_close(c);
        return false;
    }
    return true;
}

/* Sends what the TLS session has to send (handshake records, encrypted data, alerts). */
static bool
tls_flush(wr_kconn *c)
{
    size_t len;
    uint8_t *out;
    while ((out = wr_tls_conn_output(c->tls, &len)) != NULL)
        if (!raw_write(c, out, len))
            return false;
    return true;
}

/* Sends one response (taken): through the TLS session when there is one. */
static bool
conn_write(wr_kconn *c, uint8_t *data, size_t len)
{
    if (c->tls == NULL)
        return raw_write(c, data, len);
    wr_err err = {0};
    int rc = wr_tls_conn_write(c->tls, data, len, &err);
    free(data);
    if (rc != WR_OK) {
        wr_log(WR_LOG_WARN, "kafka", "%s: %s; closing", c->peer, err.msg);
        conn_close(c);
        return false;
    }
    return tls_flush(c);
}

/* Writes every finished response at the head of the queue, in order. */
static void
conn_flush(wr_kconn *c)
{
    while (!c->closing && c->head != NULL && c->head->done) {
        wr_kreq *r = c->head;
        c->head = r->next;
        if (c->head == NULL)
            c->tail = NULL;
        c->queued--;
        if (!r->no_response && r->out.len > 0) {
            size_t len = 0;
            uint8_t *data = wr_buf_steal(&r->out, &len);
            if (data == NULL || !conn_write(c, data, len)) {
                if (data == NULL)
                    conn_close(c);
                req_free(r);
                return;
            }
        }
        req_free(r);
    }
    if (!c->closing)
        conn_read_ctl(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Starts or stops reading according to the backpressure limits. */
static void
conn_read_ctl(wr_kconn *c)
{
    bool want = !c->waiting && !c->close_after_write && c->stash.len == 0 &&
                c->queued < WR_KCONN_MAX_QUEUED &&
                c->out_bytes < WR_KCONN_MAX_OUT;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = true;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

/* Every connection reads into the loop's one buffer (its bytes are copied out before the next
   read), so an idle connection holds no read buffer. While the budget has no room for a whole
   buffer's worth of large requests, a connection between frames reads only the size prefix:
   the budget decides about the frame before its bytes are read, so a waiting frame stashes
   little or nothing. */
static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    wr_kconn *c = (wr_kconn *)h;
    wr_broker *b = c->b;
    (void)suggested;
    size_t len = sizeof b->rbuf;
    const wr_budget *g = &b->budget;
    if (c->frame_len == 0 && g->limit > 0 && g->used + len > g->limit - g->reserve)
        len = 4 - c->szgot;
    *buf = uv_buf_init((char *)b->rbuf, (unsigned)len);
}

/* Decodes and dispatches one complete frame (taken, with the charged bytes of the budget it
   holds). Returns false when the connection closed. */
static bool
conn_dispatch(wr_kconn *c, uint8_t *frame, size_t len, size_t charged)
{
    wr_kreq *r = calloc(1, sizeof *r);
    wr_arena *a = wr_arena_create(0);
    if (r == NULL || a == NULL) {
        free(r);
        wr_arena_destroy(a);
        free(frame);
        if (charged > 0)
            wr_budget_release(&c->b->budget, charged);
        wr_log(WR_LOG_ERROR, "kafka", "%s: out of memory; closing", c->peer);
        conn_close(c);
        return false;
    }
    r->conn = c;
    r->arena = a;
    r->frame = frame;
    r->frame_len = len;
    r->charged = charged;
    wr_rd rd = wr_rd_make(frame, len);
    int rc = wr_kp_decode_req_hdr(&rd, &r->hdr, a);
    if (rc != WR_OK) {
        wr_log(WR_LOG_WARN, "kafka", "%s: malformed request header (%s); closing connection",
               c->peer, wr_strerror(rc));
        req_free(r);
        conn_close(c);
        return false;
    }
    if (!wr__ksasl_allowed(c, r->hdr.api_key)) {
        /* Kafka's SaslServerAuthenticator: anything else before authentication, or after the
           session's lifetime, ends it */
        wr_log(WR_LOG_WARN, "kafka",
               c->authed ? "%s: request (API key %d) after the SASL session expired "
                           "(connections.max.reauth.ms); closing"
                         : "%s: unexpected request (API key %d) before SASL authentication; "
                           "closing",
               c->peer, r->hdr.api_key);
        req_free(r);
        conn_close(c);
        return false;
    }
    if (c->b->acl != NULL && !wr__kauthz_api_covered(r->hdr.api_key) && !wr__kauthz_super(c)) {
        /* fail closed: an API that does not check its resources yet is for super users */
        wr_log(WR_LOG_WARN, "kafka", "%s: %s may not use API key %d (super users only for now); "
               "closing", c->peer, c->principal, r->hdr.api_key);
        req_free(r);
        conn_close(c);
        return false;
    }
    /* queue first: the response keeps this place whatever happens next */
    if (c->tail != NULL)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->queued++;

    r->api = wr_kp_api(r->hdr.api_key);
    wr_khandler h = wr__kh_lookup(r->hdr.api_key);
    if (r->api == NULL || h == NULL) {
        /* nothing describes this API's response: answer the only shape every Kafka client
           knows for "not understood", correlation id and UNSUPPORTED_VERSION */
        wr_log(WR_LOG_WARN, "kafka", "%s: unsupported API key %d v%d (client %s)", c->peer,
               r->hdr.api_key, r->hdr.api_version, r->hdr.client_id.s ? r->hdr.client_id.s : "-");
        wr__kreq_finish_bare_error(r, WR_KERR_UNSUPPORTED_VERSION);
        return !c->closing;
    }
    int16_t v = r->hdr.api_version;
    if (v < r->api->min || v > r->api->max) {
        wr__kh_unsupported(r);
        return !c->closing;
    }
    r->body = wr_arena_alloc(a, r->api->req->size);
    if (r->body == NULL)
        rc = WR_ENOMEM;
    else
        rc = wr_kp_decode(r->api->req, r->body, &rd, v, wr_kp_flexible(r->api, v), a);
    if (rc != WR_OK) {
        wr_log(WR_LOG_WARN, "kafka", "%s: malformed %s v%d request (%s); closing connection",
               c->peer, r->api->name, v, wr_strerror(rc));
        conn_close(c);
        return false;
    }
    h(r);
    return !c->closing;
}

static void on_resume(uv_timer_t *t);

/* The budget granted the frame c waits for (called inside wr_budget_release or _cancel, so it
   only notes it): reading resumes at once, or after the stash, on the next loop turn. */
static void
on_granted(wr_budget_waiter *w)
{
    wr_kconn *c = (wr_kconn *)((char *)w - offsetof(wr_kconn, wait));
    wr_broker *b = c->b;
    c->waiting = false;
    c->frame_charged = c->frame_len;
    c->refs++;
    c->ready_next = b->resumable;
    b->resumable = c;
    uv_timer_start(&b->resume_timer, on_resume, 0, 0);
}

/* Grows c's frame buffer to hold `more` further bytes: with what arrives, never all of a large
   declared size at once. */
static int
frame_reserve(wr_kconn *c, size_t more)
{
    size_t need = c->frame_got + more;
    if (need <= c->frame_cap)
        return WR_OK;
    size_t cap = c->frame_cap ? c->frame_cap * 2 : 64u << 10;
    if (cap < need)
        cap = need;
    if (cap > c->frame_len)
        cap = c->frame_len;
    uint8_t *f = realloc(c->frame, cap);
    if (f == NULL)
        return WR_ENOMEM;
    c->frame = f;
    c->frame_cap = cap;
    return WR_OK;
}

/* Frames and dispatches n read bytes (borrowed). Returns how many it consumed: fewer than n
   only when a frame waits for the budget (c->waiting) or the connection closed. */
static size_t
conn_consume(wr_kconn *c, const uint8_t *p, size_t n)
{
    wr_broker *b = c->b;
    size_t off = 0;
    while (off < n && !c->closing && !c->waiting) {
        if (c->frame_len == 0) {
            size_t take = 4 - c->szgot < n - off ? 4 - c->szgot : n - off;
            memcpy(c->szbuf + c->szgot, p + off, take);
            c->szgot += take;
            off += take;
            if (c->szgot < 4)
                break;
            int32_t size = (int32_t)wr_be32_get(c->szbuf);
            c->szgot = 0;
            if (size < WR_KFRAME_MIN || size > b->opts.max_request_bytes) {
                wr_log(WR_LOG_WARN, "kafka",
                       "%s: request size %d outside [%d, %d] (socket.request.max.bytes); "
                       "closing connection",
                       c->peer, size, WR_KFRAME_MIN, b->opts.max_request_bytes);
                conn_close(c);
                return off;
            }
            c->frame_len = (size_t)size;
            c->frame_got = 0;
            if (!wr_budget_take(&b->budget, &c->wait, c->frame_len)) {
                c->waiting = true; /* queued: on_granted resumes */
                break;
            }
            c->frame_charged = c->frame_len;
            continue;
        }
        size_t need = c->frame_len - c->frame_got;
        size_t take = need < n - off ? need : n - off;
        if (frame_reserve(c, take) != WR_OK) {
            wr_log(WR_LOG_ERROR, "kafka", "%s: cannot allocate %zu bytes; closing", c->peer,
                   c->frame_len);
            conn_close(c);
            return off;
        }
        memcpy(c->frame + c->frame_got, p + off, take);
        c->frame_got += take;
        off += take;
        if (c->frame_got == c->frame_len) {
            uint8_t *f = c->frame;
            size_t len = c->frame_len, charged = c->frame_charged;
            c->frame = NULL;
            c->frame_len = c->frame_cap = c->frame_charged = 0;
            if (!conn_dispatch(c, f, len, charged))
                return off;
        }
    }
    return off;
}

/* Keeps bytes read that c cannot frame yet (its frame waits for the budget). They were read
   already, so they are forced on the budget; on_alloc keeps them few. */
static void
conn_stash(wr_kconn *c, const uint8_t *p, size_t n)
{
    wr_buf_append(&c->stash, p, n);
    if (!wr_buf_ok(&c->stash)) {
        wr_log(WR_LOG_ERROR, "kafka", "%s: out of memory; closing", c->peer);
        conn_close(c);
        return;
    }
    wr_budget_force(&c->b->budget, n);
    c->stash_charged += n;
}

/* Runs the connections whose frame was granted: their stash first, then reading again. */
static void
on_resume(uv_timer_t *t)
{
    wr_broker *b = t->data;
    while (b->resumable != NULL) {
        wr_kconn *c = b->resumable;
        b->resumable = c->ready_next;
        c->ready_next = NULL;
        if (!c->closing && !c->waiting) {
            wr_buf st = c->stash;
            size_t charged = c->stash_charged;
            c->stash = (wr_buf)WR_BUF_INIT;
            c->stash_charged = 0;
            size_t k = st.len > 0 ? conn_consume(c, st.data, st.len) : 0;
            if (!c->closing && k < st.len)
                conn_stash(c, st.data + k, st.len - k);
            wr_buf_free(&st);
            wr_budget_unforce(&b->budget, charged);
            if (!c->closing)
                conn_flush(c); /* and reading again */
        }
        conn_unref(c);
    }
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    wr_kconn *c = (wr_kconn *)s;
    if (n < 0) {
        if (n != UV_EOF)
            wr_log(WR_LOG_DEBUG, "kafka", "%s: read: %s", c->peer, uv_strerror((int)n));
        conn_close(c);
        return;
    }
    c->last_active_ms = wr__kmono_ms();
    const uint8_t *p = (const uint8_t *)buf->base;
    wr_buf plain = WR_BUF_INIT;
    if (c->tls != NULL) {
        wr_err err = {0};
        int rc = wr_tls_conn_input(c->tls, p, (size_t)n, &plain, &err);
        bool open = tls_flush(c);
        if (rc != WR_OK) {
            wr_log(WR_LOG_WARN, "kafka", "%s: %s; closing", c->peer, err.msg);
            wr_buf_free(&plain);
            if (open) {
                /* the alert goes out first */
                c->close_after_write = true;
                conn_read_ctl(c);
                if (c->out_bytes == 0)
                    conn_close(c);
            }
            return;
        }
        if (!open) {
            wr_buf_free(&plain);
            return;
        }
        if (c->principal[0] == 0 && wr_tls_conn_ready(c->tls) &&
            c->b->opts.security_protocol == WR_BROKER_SSL) {
            char subject[240];
            if (wr_tls_conn_peer_subject(c->tls, subject, sizeof subject))
                snprintf(c->principal, sizeof c->principal, "User:%s", subject);
            else
                snprintf(c->principal, sizeof c->principal, "User:ANONYMOUS");
        }
        p = plain.data ? plain.data : (const uint8_t *)"";
        n = (ssize_t)plain.len;
    }
    size_t k = conn_consume(c, p, (size_t)n);
    if (!c->closing && k < (size_t)n)
        conn_stash(c, p + k, (size_t)n - k);
    wr_buf_free(&plain);
    if (!c->closing)
        conn_flush(c); /* stops reading while the frame waits */
}

static void
on_connection(uv_stream_t *server, int status)
{
    wr_broker *b = server->data;
    if (status < 0) {
        wr_log(WR_LOG_WARN, "kafka", "accept: %s", uv_strerror(status));
        return;
    }
    wr_kconn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->b = b;
    uv_tcp_init(&b->loop, &c->tcp);
    c->refs = 1;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    snprintf(c->peer, sizeof c->peer, "?");
    bool have_addr = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0;
    if (have_addr)
        c->addr = ss;
    int why = wr_connlimit_admit(&b->connlimit, have_addr ? (struct sockaddr *)&ss : NULL);
    if (why != WR_CONNLIMIT_OK) {
        /* as Kafka: closed at accept; one line for the first refusal and every 1000th */
        if (b->refused++ % 1000 == 0)
            wr_log(WR_LOG_WARN, "kafka", "refused a connection: %s reached (%llu refused so far)",
                   why == WR_CONNLIMIT_TOTAL ? "max.connections" : "max.connections.per.ip",
                   (unsigned long long)b->refused);
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    c->counted = true;
    c->wait.granted = on_granted;
    if (b->opts.security_protocol == WR_BROKER_PLAINTEXT)
        snprintf(c->principal, sizeof c->principal, "User:ANONYMOUS");
    pthread_mutex_lock(&b->tls_mu);
    if (b->tls != NULL && (c->tls = wr_tls_conn_create(b->tls)) == NULL) {
        pthread_mutex_unlock(&b->tls_mu);
        wr_log(WR_LOG_ERROR, "kafka", "out of memory for a TLS session; closing a connection");
        conn_close(c);
        return;
    }
    pthread_mutex_unlock(&b->tls_mu);
    if (have_addr) {
        char host[48] = "";
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
            snprintf(c->peer, sizeof c->peer, "[%s]:%d", host,
                     ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
            snprintf(c->peer, sizeof c->peer, "%s:%d", host,
                     ntohs(((struct sockaddr_in *)&ss)->sin_port));
        }
        snprintf(c->host, sizeof c->host, "%s", host);
    }
    c->last_active_ms = wr__kmono_ms();
    c->next = b->conns;
    if (b->conns != NULL)
        b->conns->prev = c;
    b->conns = c;
    conn_read_ctl(c);
}

static void
on_sweep(uv_timer_t *t)
{
    wr_broker *b = t->data;
    int64_t now = wr__kmono_ms();
    wr_kconn *c = b->conns;
    while (c != NULL) {
        wr_kconn *next = c->next;
        /* a connection the budget holds back is not idle by its own doing */
        if (c->head == NULL && !c->waiting && c->stash.len == 0 &&
            now - c->last_active_ms > b->opts.idle_timeout_ms) {
            wr_log(WR_LOG_INFO, "kafka", "%s: idle for %lld ms; closing", c->peer,
                   (long long)(now - c->last_active_ms));
            conn_close(c);
        }
        c = next;
    }
}

/* ---- loop thread and lifecycle --------------------------------------------------------- */

static void
on_stop(uv_async_t *a)
{
    wr_broker *b = a->data;
    while (b->conns != NULL)
        conn_close(b->conns);
    while (b->resumable != NULL) {
        wr_kconn *c = b->resumable;
        b->resumable = c->ready_next;
        conn_unref(c);
    }
    uv_close((uv_handle_t *)&b->resume_timer, NULL);
    uv_close((uv_handle_t *)&b->server, NULL);
    uv_close((uv_handle_t *)&b->stop_async, NULL);
    uv_close((uv_handle_t *)&b->data_async, NULL);
    uv_close((uv_handle_t *)&b->sweep_timer, NULL);
    uv_close((uv_handle_t *)&b->fetch_timer, NULL);
    uv_close((uv_handle_t *)&b->group_timer, NULL);
}

static void
on_group_timer(uv_timer_t *t)
{
    wr_broker *b = t->data;
    wr__kgroups_tick(b->groups);
}

static int
bind_listen(wr_broker *b)
{
    const char *host = b->listen_host;
    struct sockaddr_storage ss;
    if (uv_ip4_addr(host, b->opts.listen_port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, b->opts.listen_port, (struct sockaddr_in6 *)&ss) != 0)
        return wr_err_set(&b->start_err, WR_EINVAL, "bad listen address '%s'", host);
    uv_tcp_init(&b->loop, &b->server);
    b->server.data = b;
    int rc = uv_tcp_bind(&b->server, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&b->server, 511, on_connection);
    if (rc != 0)
        return wr_err_set(&b->start_err, rc == UV_EADDRINUSE ? WR_EBUSY : WR_EIO,
                          "cannot listen on %s:%d: %s", host, b->opts.listen_port, uv_strerror(rc));
    struct sockaddr_storage bound;
    int bl = sizeof bound;
    uv_tcp_getsockname(&b->server, (struct sockaddr *)&bound, &bl);
    b->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    if (b->opts.advertised_port <= 0)
        b->opts.advertised_port = b->port;
    return WR_OK;
}

static void
loop_main(void *arg)
{
    wr_broker *b = arg;
    uv_async_init(&b->loop, &b->stop_async, on_stop);
    b->stop_async.data = b;
    uv_async_init(&b->loop, &b->data_async, on_data_async);
    b->data_async.data = b;
    uv_timer_init(&b->loop, &b->sweep_timer);
    b->sweep_timer.data = b;
    uv_timer_init(&b->loop, &b->fetch_timer);
    b->fetch_timer.data = b;
    uv_timer_init(&b->loop, &b->group_timer);
    b->group_timer.data = b;
    uv_timer_init(&b->loop, &b->resume_timer);
    b->resume_timer.data = b;
    b->start_rc = bind_listen(b);
    if (b->start_rc != WR_OK) {
        uv_close((uv_handle_t *)&b->server, NULL);
        uv_close((uv_handle_t *)&b->stop_async, NULL);
        uv_close((uv_handle_t *)&b->data_async, NULL);
        uv_close((uv_handle_t *)&b->sweep_timer, NULL);
        uv_close((uv_handle_t *)&b->fetch_timer, NULL);
        uv_close((uv_handle_t *)&b->group_timer, NULL);
        uv_close((uv_handle_t *)&b->resume_timer, NULL);
        uv_run(&b->loop, UV_RUN_DEFAULT);
        uv_sem_post(&b->ready);
        return;
    }
    uint64_t sweep = b->opts.idle_timeout_ms / 4;
    sweep = sweep < 10 ? 10 : sweep > 1000 ? 1000 : sweep;
    uv_timer_start(&b->sweep_timer, on_sweep, sweep, sweep);
    uv_timer_start(&b->group_timer, on_group_timer, 50, 50);
    wr_log_watch(b->db, log_watch_cb, b);
    uv_sem_post(&b->ready);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    wr_log_watch(b->db, log_watch_noop, NULL);
}

void
wr_broker_opts_init(wr_broker_opts *o)
{
    *o = (wr_broker_opts){
        .listen_host = "0.0.0.0",
        .listen_port = 9092,
        .node_id = 0,
        .auto_create_topics = true,
        .default_partitions = 1,
        .max_request_bytes = 100 << 20,
        .idle_timeout_ms = 600000,
        .queued_max_request_bytes = 128 << 20,
        .max_connections = 10000,
    };
}

/* The transaction coordinator's producer ids come from the idempotence table's allocator. */
static int
new_pid(void *arg, int64_t *pid, wr_err *err)
{
    return wr__kidem_new_pid(arg, pid, err);
}

wr_txn_coord *
wr_broker_txn_coord(wr_broker *b)
{
    return b->txn;
}

int
wr_broker_create(const wr_broker_opts *opts, wr_logdb *db, wr_broker **out, wr_err *err)
{
    *out = NULL;
    if (opts == NULL || db == NULL)
        return wr_err_set(err, WR_EINVAL, "broker: options and log are required");
    if (opts->listen_port < 0 || opts->listen_port > 65535 || opts->advertised_port < 0 ||
        opts->advertised_port > 65535 || opts->node_id < 0)
        return wr_err_set(err, WR_EINVAL, "broker: port or node id out of range");
    if (opts->security_protocol < WR_BROKER_PLAINTEXT ||
        opts->security_protocol > WR_BROKER_SASL_SSL)
        return wr_err_set(err, WR_EINVAL, "broker: unknown security protocol %d",
                          opts->security_protocol);
    unsigned sasl_mechs = 0;
    int mrc = wr__ksasl_parse_mechanisms(opts->sasl_mechanisms, &sasl_mechs, err);
    if (mrc != WR_OK)
        return mrc;
    wr_broker *b = calloc(1, sizeof *b);
    if (b == NULL)
        return wr_err_set(err, WR_ENOMEM, "broker: out of memory");
    b->opts = *opts;
    b->opts.sasl_mechanisms = NULL; /* parsed into sasl_mechs; the string is not kept */
    b->opts.tls = (wr_tls_opts){0};  /* read into b->tls; the strings are not kept */
    b->sasl_mechs = sasl_mechs;
    pthread_mutex_init(&b->tls_mu, NULL);
    if (opts->authorizer) {
        mrc = wr_acl_store_open(db, opts->super_users, opts->allow_everyone_if_no_acl, &b->acl,
                                err);
        if (mrc != WR_OK) {
            pthread_mutex_destroy(&b->tls_mu);
            free(b);
            return mrc;
        }
    }
    b->opts.super_users = NULL; /* read into b->acl */
    if (opts->security_protocol == WR_BROKER_SSL || opts->security_protocol == WR_BROKER_SASL_SSL) {
        mrc = wr_tls_ctx_create(&opts->tls, &b->tls, err);
        if (mrc == WR_OK && wr_tls_opts_copy(&opts->tls, &b->tls_opts) != WR_OK)
            mrc = wr_err_set(err, WR_ENOMEM, "broker: out of memory");
        if (mrc != WR_OK) {
            wr_tls_ctx_destroy(b->tls);
            wr_acl_store_close(b->acl);
            pthread_mutex_destroy(&b->tls_mu);
            free(b);
            return mrc;
        }
    }
    const char *lh = opts->listen_host && *opts->listen_host ? opts->listen_host : "0.0.0.0";
    const char *ah = opts->advertised_host && *opts->advertised_host ? opts->advertised_host : lh;
    if (strcmp(ah, "0.0.0.0") == 0 || strcmp(ah, "::") == 0)
        ah = "127.0.0.1";
    b->listen_host = strdup(lh);
    b->adv_host = strdup(ah);
    const char *ov = opts->max_connections_per_ip_overrides;
    b->ip_overrides = strdup(ov != NULL ? ov : "");
    b->opts.max_connections_per_ip_overrides = b->ip_overrides;
    wr_budget_init(&b->budget, opts->queued_max_request_bytes > 0
                                   ? (size_t)opts->queued_max_request_bytes
                                   : 0);
    if (b->opts.default_partitions <= 0)
        b->opts.default_partitions = 1;
    if (b->opts.max_request_bytes <= 0)
        b->opts.max_request_bytes = 100 << 20;
    if (b->opts.idle_timeout_ms <= 0)
        b->opts.idle_timeout_ms = 600000;
    b->opts.listen_host = b->listen_host;
    b->opts.advertised_host = b->adv_host;
    b->db = db;
    b->port = -1;
    int rc = WR_ENOMEM;
    if (b->listen_host == NULL || b->adv_host == NULL || b->ip_overrides == NULL)
        goto fail;
    rc = wr_connlimit_init(&b->connlimit, opts->max_connections, opts->max_connections_per_ip,
                           b->ip_overrides, err);
    if (rc != WR_OK)
        goto fail_early;
    rc = wr__kidem_create(db, &b->idem);
    if (rc != WR_OK)
        goto fail;
    rc = wr__kgroups_create(b, &b->groups);
    if (rc != WR_OK)
        goto fail;
    wr_txn_coord_opts topts = {
        .max_timeout_ms = b->opts.max_txn_timeout_ms, .new_pid = new_pid, .new_pid_arg = b->idem};
    rc = wr_txn_coord_open(db, &topts, &b->txn, err);
    if (rc != WR_OK)
        goto fail;
    /* A stable cluster id, kept in the meta store. */
    wr_buf cid = WR_BUF_INIT;
    if (wr_log_meta_get(db, "broker", "cluster_id", 10, &cid, NULL) == WR_OK && cid.len > 0 &&
        cid.len < sizeof b->cluster_id) {
        memcpy(b->cluster_id, cid.data, cid.len);
    } else {
        uint64_t x =
            (uint64_t)wr_clock_wall_ms() * 6364136223846793005ULL ^ (uint64_t)wr_clock_mono_ns();
        snprintf(b->cluster_id, sizeof b->cluster_id, "weir-%016llx", (unsigned long long)x);
        rc = wr_log_meta_put(db, "broker", "cluster_id", 10, b->cluster_id, strlen(b->cluster_id),
                             err);
        if (rc != WR_OK) {
            wr_buf_free(&cid);
            goto fail;
        }
    }
    wr_buf_free(&cid);
    if (uv_loop_init(&b->loop) != 0 || uv_sem_init(&b->ready, 0) != 0) {
        rc = wr_err_set(err, WR_EIO, "broker: cannot create the event loop");
        goto fail;
    }
    *out = b;
    return WR_OK;
fail:
    if (rc == WR_ENOMEM)
        wr_err_set(err, rc, "broker: out of memory");
fail_early:
    wr_acl_store_close(b->acl);
    wr_tls_ctx_destroy(b->tls);
    wr_tls_opts_free(&b->tls_opts);
    pthread_mutex_destroy(&b->tls_mu);
    wr_connlimit_free(&b->connlimit);
    wr_txn_coord_close(b->txn);
    wr__kgroups_destroy(b->groups);
    wr__kidem_destroy(b->idem);
    free(b->ip_overrides);
    free(b->listen_host);
    free(b->adv_host);
    free(b);
    return rc;
}

int
wr_broker_reload_tls(wr_broker *b, wr_err *err)
{
    if (b->tls_opts.keystore == NULL)
        return wr_err_set(err, WR_ESTATE, "the Kafka listener has no TLS");
    return wr_tls_ctx_reload(&b->tls, &b->tls_mu, &b->tls_opts, err);
}

int
wr_broker_start(wr_broker *b, wr_err *err)
{
    if (b->started)
        return wr_err_set(err, WR_ESTATE, "broker already started");
    if (uv_thread_create(&b->thread, loop_main, b) != 0)
        return wr_err_set(err, WR_EIO, "cannot start the broker thread");
    b->started = true;
    uv_sem_wait(&b->ready);
    if (b->start_rc != WR_OK) {
        uv_thread_join(&b->thread);
        b->stopped = true;
        if (err != NULL)
            *err = b->start_err;
        return b->start_rc;
    }
    wr_log(WR_LOG_INFO, "kafka", "broker %d listening on %s:%d (advertised %s:%d)", b->opts.node_id,
           b->listen_host, b->port, b->adv_host, b->opts.advertised_port);
    return WR_OK;
}

int
wr_broker_port(wr_broker *b)
{
    return b != NULL && b->started && b->start_rc == WR_OK ? b->port : -1;
}

void
wr_broker_stop(wr_broker *b)
{
    if (b == NULL || !b->started || b->stopped)
        return;
    b->stopped = true;
    uv_async_send(&b->stop_async);
    uv_thread_join(&b->thread);
}

void
wr_broker_destroy(wr_broker *b)
{
    if (b == NULL)
        return;
    wr_broker_stop(b);
    uv_loop_close(&b->loop);
    uv_sem_destroy(&b->ready);
    wr_txn_coord_close(b->txn);
    wr__kgroups_destroy(b->groups);
    wr__kidem_destroy(b->idem);
    wr_connlimit_free(&b->connlimit);
    wr_tls_ctx_destroy(b->tls);
    wr_tls_opts_free(&b->tls_opts);
    wr_acl_store_close(b->acl);
    pthread_mutex_destroy(&b->tls_mu);
    free(b->ip_overrides);
    free(b->listen_host);
    free(b->adv_host);
    free(b);
}

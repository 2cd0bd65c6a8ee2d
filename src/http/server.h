/*
 * server.h - weir's HTTP server: HTTP/1.1 and HTTP/2 cleartext (prior knowledge) on a libuv
 * loop of its own thread, over http-parser and nghttp2 (both Debian libraries).
 *
 * The server knows nothing of ksqlDB: it hands each request to a handler (wr_http_handler) as it
 * arrives - headers first, then the body in pieces as they come, then its end - and the handler
 * answers when it likes, in one piece (wr_http_reply) or as a stream (wr_http_begin,
 * wr_http_send, wr_http_finish). Both directions stream, so a push query can answer for hours
 * and an /inserts-stream upload can be acknowledged row by row while its body still arrives.
 *
 * Threads: every handler callback runs on the server's loop thread, and the wr_http_* calls
 * that take a request are for that thread only. Other threads hand work to it with
 * wr_http_server_post (a queue woken by uv_async).
 *
 * Ownership: a request (wr_http_req) belongs to the server. A handler that keeps it past the
 * callback (waiting on a worker, streaming a push query) takes a reference (wr_http_req_ref)
 * and drops it when done (wr_http_req_unref). When the client goes away before the response
 * has finished, on_abort is called once and every later send to that request is a no-op.
 *
 * Limits (wr_http_limits): header bytes, connections (in all and per client address), idle
 * time (a body that stopped coming counts as idle), concurrent HTTP/2 streams, and a budget of
 * body bytes being read (reading pauses beyond it; nothing is dropped for it). The body size
 * is the handler's to limit, since /inserts-stream has no total.
 */
#ifndef WR_HTTP_SERVER_H
#define WR_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/err.h"
#include "src/security/tls.h"

typedef struct wr_http_server wr_http_server;
typedef struct wr_http_req wr_http_req;

typedef struct wr_http_handler {
    void *arg;
    /* The request line and headers are complete. */
    void (*on_request)(void *arg, wr_http_req *r);
    /* A piece of the body (borrowed for the call). */
    void (*on_body)(void *arg, wr_http_req *r, const char *data, size_t len);
    /* The body is complete. */
    void (*on_end)(void *arg, wr_http_req *r);
    /* The client went away (or the server stops) before the response finished. */
    void (*on_abort)(void *arg, wr_http_req *r);
} wr_http_handler;

typedef struct wr_http_limits {
    size_t max_header_bytes; /* request line + headers: 431 past it (default 65536) */
    int max_connections;     /* more are answered 503 and closed (default 1024) */
    int64_t idle_timeout_ms; /* a connection with no request in flight (default 600000) */
    uint32_t max_streams;    /* concurrent HTTP/2 streams per connection (default 100) */
    size_t max_expect_body;  /* Expect: 100-continue with a longer Content-Length gets 417; also
                                the most of one body the budget counts */
    /* Bytes of request bodies being read or held, all connections together (a declared
       Content-Length is taken whole before the body is read; bodies of unknown length count
       as they come); reading pauses past it (src/base/budget.h). Default 64 MiB; SIZE_MAX:
       no bound. */
    size_t queued_max_body_bytes;
    int max_connections_per_ip; /* more from one address are answered 503 (0: no bound) */
} wr_http_limits;

typedef struct wr_http_server_opts {
    const char *host; /* listen address (IPv4 or IPv6 literal) */
    int port;         /* 0: any free port (see wr_http_server_port) */
    wr_http_limits limits;
    wr_http_handler handler;
    /* Called every tick_ms on the loop thread with handler.arg (0: never): for handlers that
       wait for a slow client's output to drain. */
    int64_t tick_ms;
    void (*tick)(void *arg);
    /* HTTPS: TLS with these settings (read at start; ALPN offers h2 and http/1.1 unless alpn
       is set); NULL: plain HTTP. */
    const wr_tls_opts *tls;
} wr_http_server_opts;

/* Binds, listens and starts the loop thread. */
int wr_http_server_start(const wr_http_server_opts *o, wr_http_server **out, wr_err *err);
int wr_http_server_port(const wr_http_server *s);
/* HTTPS: reads the keystore and truststore again; new connections use them, open ones keep
   theirs; on an error the old ones stay. WR_ESTATE without TLS. Any thread. */
int wr_http_server_reload_tls(wr_http_server *s, wr_err *err);
/* Stops accepting, aborts every request in flight (on_abort), closes every connection and joins
   the loop thread. NULL-safe. */
void wr_http_server_stop(wr_http_server *s);
/* Runs fn(arg) on the loop thread soon. Any thread. Returns WR_ENOMEM or WR_OK; after
   wr_http_server_stop has begun, fn is not run (WR_ECLOSED). */
int wr_http_server_post(wr_http_server *s, void (*fn)(void *arg), void *arg);

/* ---- the request (loop thread only) ---- */

const char *wr_http_req_method(const wr_http_req *r); /* "GET", "POST", ... */
const char *wr_http_req_path(const wr_http_req *r);   /* without the query string */
const char *wr_http_req_query(const wr_http_req *r);  /* after '?', or "" */
/* A header's value by name (case-insensitive), or NULL; the last one when repeated. */
const char *wr_http_req_header(const wr_http_req *r, const char *name);
int wr_http_req_version(const wr_http_req *r); /* 11 or 20 (HTTP/1.0: 10) */
bool wr_http_req_gone(const wr_http_req *r);   /* the client went away */
void *wr_http_req_data(const wr_http_req *r);
/* The handler's state for r, freed with free_fn(data) when the last reference goes. */
void wr_http_req_set_data(wr_http_req *r, void *data, void (*free_fn)(void *data));
void wr_http_req_ref(wr_http_req *r);
void wr_http_req_unref(wr_http_req *r);
/* The handler keeps none of r's body (it streams it): its bytes stop counting against the
   server's body budget, now and later. */
void wr_http_req_uncharge(wr_http_req *r);
/* Unsent response bytes queued for this request's connection: for back-pressure. */
size_t wr_http_req_pending(const wr_http_req *r);

/* A complete response. extra_headers: "Name: value\r\n" lines, or NULL. */
void wr_http_reply(wr_http_req *r,
                   int status,
                   const char *content_type,
                   const char *extra_headers,
                   const void *body,
                   size_t len);
/* A streamed response: chunked on HTTP/1.1, DATA frames on HTTP/2. */
void wr_http_begin(wr_http_req *r, int status, const char *content_type);
void wr_http_send(wr_http_req *r, const void *data, size_t len);
void wr_http_finish(wr_http_req *r);
/* Stops the request: on HTTP/1.1 the connection is closed once what was sent is written (the
   rest of the body will not be read), on HTTP/2 the stream is reset. */
void wr_http_close(wr_http_req *r);

#endif

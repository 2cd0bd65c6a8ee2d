/*
 * api.h - weir's ksqlDB-compatible REST API on the HTTP server (server.h): /ksql, /query,
 * /query-stream, /close-query, /inserts-stream, /info, /healthcheck, /status, /livez, /readyz
 * and /metrics (Prometheus). See api.c for the shapes and docs/operations.md for their use.
 *
 * The engine belongs to the SQL worker thread (src/cli/sqlworker); every request that needs it
 * becomes a job on that thread, and its answer comes back to the HTTP loop thread through
 * wr_http_server_post. Push-query rows travel the same way, through a bounded queue per query.
 */
#ifndef WR_HTTP_API_H
#define WR_HTTP_API_H

#include "src/base/err.h"
#include "src/cli/sqlworker.h"
#include "src/http/server.h"
#include "src/log/log.h"

typedef struct wr_api wr_api;

typedef struct wr_api_opts {
    const char *host;
    int port;
    wr_http_limits limits;
    size_t max_body_bytes;   /* a buffered request body (/ksql, /query, ...): 413 past it */
    size_t max_row_bytes;    /* one line of /inserts-stream */
    size_t push_queue_bytes; /* rows held for a slow push-query client before the query waits */
    wr_sqlworker *sql;       /* borrowed */
    wr_logdb *db;            /* borrowed: log-end offsets and committed group offsets */
    int node_id;
    /* authentication.method (ksqlDB's): NULL or "NONE", or "BASIC": every request but those of
       auth_skip_paths needs an Authorization header with a user's password (the SCRAM users of
       the log's credential store, src/security/basic.h), else 401. */
    const char *auth_method;
    const char *auth_realm;      /* authentication.realm, in WWW-Authenticate; NULL: "weir" */
    const char *auth_skip_paths; /* authentication.skip.paths: comma list; NULL: "/livez,/readyz" */
    const wr_tls_opts *tls;      /* HTTPS (read at start); NULL: plain HTTP */
} wr_api_opts;

int wr_api_start(const wr_api_opts *o, wr_api **out, wr_err *err);
int wr_api_port(const wr_api *a);
/* HTTPS: wr_http_server_reload_tls of the API's server. */
int wr_api_reload_tls(wr_api *a, wr_err *err);
/* /readyz answers 503 from now on (the server is stopping). Any thread. */
void wr_api_set_ready(wr_api *a, bool ready);
/* Stops the HTTP server (ending every push query) and frees the API. NULL-safe. Call before
   stopping the SQL worker. */
void wr_api_stop(wr_api *a);

#endif

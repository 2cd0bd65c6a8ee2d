/*
 * server_int.h - a seam into server.c for tests and the HTTP fuzz target: one connection driven
 * from memory instead of a socket, through the same parse path (the HTTP/2 preface check, then
 * http-parser or nghttp2) and the same handler calls as a real connection.
 */
#ifndef WR_HTTP_SERVER_INT_H
#define WR_HTTP_SERVER_INT_H

#include <stddef.h>

#include "src/base/buf.h"
#include "src/http/server.h"

/*
 * Runs one connection of a server with o's limits and handler (o->host, port and tick unused) on
 * the calling thread: the client sends pieces[0..n) (lens[i] bytes each, as separate reads),
 * then hangs up. Everything the server writes back is appended to out (caller-owned). The
 * handler's callbacks run on the calling thread, during the call; requests still in flight when
 * the client hangs up get on_abort, and a handler must not use them after the call returns.
 * Returns WR_OK, WR_ENOMEM or WR_EIO (the loop could not start).
 */
int wr__http_feed(const wr_http_server_opts *o,
                  const char *const *pieces,
                  const size_t *lens,
                  int n,
                  wr_buf *out);

#endif

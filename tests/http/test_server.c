/*
 * test_server.c - the HTTP server's connection layer with a handler of the test's own, driven
 * by raw sockets: keep-alive and pipelining, a streamed (chunked) response, a request body that
 * arrives in pieces, the handler hearing of a client that leaves mid-stream, the header limit,
 * the connection limit, and work posted from another thread. (HTTP/2 is exercised by the
 * integration tests with curl, h2load and node's http2 client.)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "src/base/buf.h"
#include "src/http/server.h"

/* The handler: GET /echo answers the path and query; POST /body answers the body's length and
   the number of pieces it came in; GET /stream starts a chunked answer and sends "one", then
   "two" once /stream-more is requested on another connection; GET /post answers from a
   function posted by another thread. */
static wr_http_server *srv;
static atomic_int aborts, pieces;
static wr_http_req *streaming;
static size_t body_len;

static void
on_request(void *arg, wr_http_req *r)
{
    (void)arg;
    if (strcmp(wr_http_req_path(r), "/stream") == 0) {
        wr_http_begin(r, 200, "text/plain");
        wr_http_send(r, "one", 3);
        wr_http_req_ref(r);
        streaming = r;
    }
    body_len = 0;
    pieces = 0;
}

static void
on_body(void *arg, wr_http_req *r, const char *data, size_t len)
{
    (void)arg;
    (void)r;
    (void)data;
    body_len += len;
    pieces++;
}

typedef struct posted {
    wr_http_req *r;
    pthread_t from;
} posted;

static void
answer_posted(void *arg)
{
    posted *p = arg;
    char b[64];
    int n = snprintf(b, sizeof b, "posted from another thread: %d",
                     !pthread_equal(p->from, pthread_self()));
    wr_http_reply(p->r, 200, "text/plain", NULL, b, (size_t)n);
    wr_http_req_unref(p->r);
    free(p);
}

static void *
poster(void *arg)
{
    posted *p = arg;
    p->from = pthread_self();
    wr_http_server_post(srv, answer_posted, p);
    return NULL;
}

static void
on_end(void *arg, wr_http_req *r)
{
    (void)arg;
    const char *path = wr_http_req_path(r);
    char b[256];
    if (strcmp(path, "/echo") == 0) {
        int n =
            snprintf(b, sizeof b, "%s %s?%s", wr_http_req_method(r), path, wr_http_req_query(r));
        wr_http_reply(r, 200, "text/plain", "X-Test: yes\r\n", b, (size_t)n);
    } else if (strcmp(path, "/body") == 0) {
        int n = snprintf(b, sizeof b, "%zu bytes", body_len);
        wr_http_reply(r, 200, "text/plain", NULL, b, (size_t)n);
    } else if (strcmp(path, "/stream-more") == 0) {
        if (streaming != NULL) {
            wr_http_send(streaming, "two", 3);
            wr_http_finish(streaming);
            wr_http_req_unref(streaming);
            streaming = NULL;
        }
        wr_http_reply(r, 204, NULL, NULL, "", 0);
    } else if (strcmp(path, "/post") == 0) {
        posted *p = calloc(1, sizeof *p);
        p->r = r;
        wr_http_req_ref(r);
        pthread_t t;
        pthread_create(&t, NULL, poster, p);
        pthread_detach(t);
    } else if (strcmp(path, "/stream") != 0) {
        wr_http_reply(r, 404, "text/plain", NULL, "nope", 4);
    }
}

static void
on_abort(void *arg, wr_http_req *r)
{
    (void)arg;
    if (r == streaming) {
        wr_http_req_unref(streaming);
        streaming = NULL;
    }
    aborts++;
}

static void
setup(void)
{
    wr_http_server_opts o = {
        .host = "127.0.0.1",
        .port = 0,
        .limits = {.max_header_bytes = 2048, .max_connections = 8},
        .handler = {.on_request = on_request,
                    .on_body = on_body,
                    .on_end = on_end,
                    .on_abort = on_abort},
    };
    wr_err err = {0};
    cr_assert_eq(wr_http_server_start(&o, &srv, &err), WR_OK, "%s", err.msg);
    aborts = 0;
}

static void
teardown(void)
{
    wr_http_server_stop(srv);
}

TestSuite(http_server, .init = setup, .fini = teardown);

static int
dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)wr_http_server_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void
say(int fd, const char *s)
{
    cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Reads until want has been seen (or the peer closes): everything read, NUL-terminated. */
static char *
hear(int fd, const char *want)
{
    static char b[65536];
    size_t n = 0;
    b[0] = '\0';
    while (n < sizeof b - 1 && strstr(b, want) == NULL) {
        ssize_t got = read(fd, b + n, sizeof b - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
        b[n] = '\0';
    }
    return b;
}

Test(http_server, keep_alive_and_pipelined_requests_on_one_connection)
{
    int fd = dial();
    say(fd, "GET /echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?b=2 HTTP/1.1\r\nHost: x\r\n\r\n");
    char *r = hear(fd, "b=2");
    cr_assert(strstr(r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
                        "X-Test: yes\r\n\r\nGET /echo?a=1") != NULL,
              "%s", r);
    cr_assert(strstr(r, "GET /echo?b=2") != NULL, "%s", r);
    say(fd, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
    r = hear(fd, "nope");
    cr_assert(strstr(r, "HTTP/1.1 404 Not Found") != NULL, "%s", r);
    close(fd);
}

Test(http_server, a_body_in_pieces_reaches_the_handler_as_it_arrives)
{
    int fd = dial();
    say(fd, "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    usleep(100000);
    say(fd, "6\r\n world\r\n0\r\n\r\n");
    char *r = hear(fd, "bytes");
    cr_assert(strstr(r, "11 bytes") != NULL, "%s", r);
    cr_assert_geq(pieces, 2);
    close(fd);
}

Test(http_server, expect_100_continue_is_answered_before_the_body)
{
    int fd = dial();
    say(fd, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    char *r = hear(fd, "\r\n\r\n");
    cr_assert_str_eq(r, "HTTP/1.1 100 Continue\r\n\r\n");
    say(fd, "abcd");
    r = hear(fd, "bytes");
    cr_assert(strstr(r, "4 bytes") != NULL, "%s", r);
    close(fd);
}

Test(http_server, a_streamed_response_is_chunked_and_ends_when_the_handler_finishes)
{
    int fd = dial();
    say(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    char *r = hear(fd, "one\r\n");
    cr_assert(strstr(r, "Transfer-Encoding: chunked\r\n\r\n3\r\none\r\n") != NULL, "%s", r);
    int fd2 = dial();
    say(fd2, "GET /stream-more HTTP/1.1\r\nHost: x\r\n\r\n");
    hear(fd2, "\r\n\r\n");
    r = hear(fd, "0\r\n\r\n");
    cr_assert_str_eq(r, "3\r\ntwo\r\n0\r\n\r\n");
    close(fd2);
    close(fd);
    cr_assert_eq(aborts, 0);
}

Test(http_server, a_client_that_leaves_mid_stream_is_reported_once)
{
    int fd = dial();
    say(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    hear(fd, "one\r\n");
    close(fd);
    for (int i = 0; i < 100 && aborts == 0; i++)
        usleep(10000);
    usleep(50000);
    cr_assert_eq(aborts, 1);
}

Test(http_server, headers_over_the_limit_get_431_and_a_malformed_request_400)
{
    int fd = dial();
    char big[4096];
    memset(big, 'a', sizeof big);
    big[sizeof big - 1] = '\0';
    say(fd, "GET /echo HTTP/1.1\r\nX-Big: ");
    say(fd, big);
    say(fd, "\r\n\r\n");
    char *r = hear(fd, "}");
    cr_assert(strstr(r, "HTTP/1.1 431 Request Header Fields Too Large") != NULL, "%s", r);
    close(fd);
    fd = dial();
    say(fd, "NOT HTTP AT ALL\r\n\r\n");
    r = hear(fd, "}");
    cr_assert(strstr(r, "HTTP/1.1 400 Bad Request") != NULL, "%s", r);
    cr_assert(strstr(r, "malformed HTTP request") != NULL, "%s", r);
    close(fd);
}

Test(http_server, connections_past_the_limit_get_503)
{
    int fds[8];
    for (int i = 0; i < 8; i++)
        fds[i] = dial();
    usleep(100000);
    int extra = dial();
    char *r = hear(extra, "}");
    cr_assert(strstr(r, "HTTP/1.1 503 Service Unavailable") != NULL, "%s", r);
    close(extra);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
}

Test(http_server, work_posted_from_another_thread_runs_on_the_loop)
{
    int fd = dial();
    say(fd, "GET /post HTTP/1.1\r\nHost: x\r\n\r\n");
    char *r = hear(fd, "thread: ");
    r = strstr(r, "thread: ") ? r : hear(fd, "thread: ");
    usleep(50000);
    cr_assert(strstr(r, "200 OK") != NULL, "%s", r);
    close(fd);
}

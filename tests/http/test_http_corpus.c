/*
 * test_http_corpus.c - the HTTP fuzz property (fuzz_http_body.h) over the seed corpus
 * (tests/http/corpus, from WR_HTTP_CORPUS: requests captured from curl over HTTP/1.1 and HTTP/2),
 * every truncation and every way of cutting each seed into reads, in the normal build; and the
 * memory seam itself (wr__http_feed) answering a request over both protocols.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fuzz_http_body.h"
#include "tests/testutil.h"

static void
replay_one(void *arg, const char *name, uint8_t *p, size_t len)
{
    (void)arg;
    cr_assert_eq(wr_hfuzz_one(p, len), 0, "%s", name);
    for (size_t n = 1; n < len; n++)
        cr_assert_eq(wr_hfuzz_one(p, n), 0, "%s truncated at %zu", name, n);
    uint8_t saved = p[0];
    for (int cut = 0; cut < 62; cut++) {
        p[0] = (uint8_t)cut;
        cr_assert_eq(wr_hfuzz_one(p, len), 0, "%s cut %d", name, cut);
    }
    p[0] = saved;
}

Test(http_corpus, replay_truncate_and_cut, .timeout = 120)
{
    cr_assert_geq(wr_test_each_file(WR_HTTP_CORPUS, replay_one, NULL), 10);
}

/* What the server answers to the seed's bytes (without its first byte), in one read. */
static wr_buf
answer(const char *seed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", WR_HTTP_CORPUS, seed);
    size_t len;
    char *p = wr_test_slurp(path, &len);
    wr_hfuzz f = {0};
    wr_http_server_opts o = {
        .handler = {&f, wr_hfuzz_on_request, wr_hfuzz_on_body, wr_hfuzz_on_end, wr_hfuzz_on_abort}};
    const char *pieces[] = {p + 1};
    size_t lens[] = {len - 1};
    wr_buf out = WR_BUF_INIT;
    cr_assert_eq(wr__http_feed(&o, pieces, lens, 1, &out), WR_OK);
    cr_assert_eq(f.live, 0);
    free(p);
    return out;
}

Test(http_corpus, feed_answers_both_protocols)
{
    wr_buf b = answer("h1-pipelined.bin");
    wr_buf_put_u8(&b, 0);
    const char *s = (const char *)b.data;
    cr_assert(strncmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", s);
    /* the second request, parsed as one statement, then the HTTP/1.0 404 */
    cr_assert_not_null(strstr(s, "[{\"statements\":1}]"), "%s", s);
    cr_assert_not_null(strstr(s, "HTTP/1.0 404 Not Found\r\n"), "%s", s);
    wr_buf_free(&b);
    /* HTTP/2: the server's SETTINGS frame (type 4) comes first, and the answer's DATA frame
       carries the statement count */
    b = answer("h2-ksql.bin");
    cr_assert_geq(b.len, 9);
    cr_assert_eq(b.data[3], 4);
    bool found = false;
    for (size_t i = 0; i + 18 <= b.len && !found; i++)
        found = memcmp(b.data + i, "[{\"statements\":1}]", 18) == 0;
    cr_assert(found, "no answer in %zu bytes of HTTP/2", b.len);
    wr_buf_free(&b);
}

/*
 * test_broker.c - the broker over raw sockets (with the in-memory test log): start/port/stop,
 * ApiVersions (flexible v3 with the v0 response header; unknown version answered in v0),
 * pipelined requests answered in order, Produce acks=0 unanswered, oversized and malformed frames
 * closing only their connection, idle timeout, Fetch long poll woken by a produce, idempotent
 * producer sequence checks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "src/base/arena.h"
#include "src/base/clock.h"
#include "src/base/crc32c.h"
#include "src/base/varint.h"
#include "src/kafka/broker.h"
#include "src/kafka/kmsg.h"
#include "src/log/log.h"
#include "src/security/creds.h"

static wr_logdb *db;
static wr_broker *br;
static int port;

static void
start(int64_t idle_ms)
{
    wr_err err = {0};
    cr_assert_eq(wr_log_open("/nonexistent", NULL, &db, &err), WR_OK);
    wr_broker_opts o;
    wr_broker_opts_init(&o);
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    o.default_partitions = 2;
    o.max_request_bytes = 1 << 20;
    o.idle_timeout_ms = idle_ms;
    cr_assert_eq(wr_broker_create(&o, db, &br, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_broker_start(br, &err), WR_OK, "%s", err.msg);
    port = wr_broker_port(br);
    cr_assert_gt(port, 0);
}

static void
stop(void)
{
    wr_broker_destroy(br);
    wr_log_close(db);
}

static int
connect_broker(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Appends a request frame for body (of api at version) to out. */
static void
frame(wr_buf *out, int16_t key, int16_t v, int32_t corr, const void *body)
{
    const wr_kapi *api = wr_kp_api(key);
    size_t at = out->len;
    wr_buf_put_be32(out, 0);
    wr_kreq_hdr h = {
        .api_key = key, .api_version = v, .correlation_id = corr, .client_id = wr_kstr_of("test")};
    wr_kp_encode_req_hdr(out, &h);
    cr_assert_eq(wr_kp_encode(api->req, body, out, v, wr_kp_flexible(api, v)), WR_OK);
    wr_be32_put(out->data + at, (uint32_t)(out->len - at - 4));
}

static void
send_all(int fd, const wr_buf *b)
{
    cr_assert_eq(write(fd, b->data, b->len), (ssize_t)b->len);
}

static bool
read_full(int fd, void *p, size_t n, int timeout_ms)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, timeout_ms) <= 0)
            return false;
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* Reads one response frame; returns its bytes (malloc'd) or NULL on EOF/timeout. */
static uint8_t *
recv_frame(int fd, size_t *len, int timeout_ms)
{
    uint8_t sz[4];
    if (!read_full(fd, sz, 4, timeout_ms))
        return NULL;
    *len = wr_be32_get(sz);
    uint8_t *p = malloc(*len);
    if (!read_full(fd, p, *len, timeout_ms)) {
        free(p);
        return NULL;
    }
    return p;
}

/* Receives a response, checks its correlation id and decodes the body into obj. */
static void
recv_resp(int fd, int16_t key, int16_t v, int32_t corr, void *obj, wr_arena *a, uint8_t **keep)
{
    size_t len = 0;
    uint8_t *p = recv_frame(fd, &len, 10000);
    cr_assert_not_null(p, "no response to corr %d", corr);
    wr_rd rd = wr_rd_make(p, len);
    cr_assert_eq((int32_t)wr_rd_be32(&rd), corr);
    if (wr_kp_resp_hdr_flexible(key, v))
        cr_assert_eq(wr_rd_u8(&rd), 0);
    const wr_kapi *api = wr_kp_api(key);
    cr_assert_eq(wr_kp_decode(api->resp, obj, &rd, v, wr_kp_flexible(api, v), a), WR_OK);
    cr_assert_eq(wr_rd_left(&rd), 0);
    *keep = p; /* decoded bytes borrow from the frame */
}

static bool
closed_by_peer(int fd, int timeout_ms)
{
    char c;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, timeout_ms) <= 0)
        return false;
    return read(fd, &c, 1) == 0;
}

Test(kafka_broker, port_in_use_reported_by_start)
{
    start(60000);
    wr_broker_opts o;
    wr_broker_opts_init(&o);
    o.listen_host = "127.0.0.1";
    o.listen_port = port;
    wr_broker *b2 = NULL;
    wr_err err = {0};
    cr_assert_eq(wr_broker_create(&o, db, &b2, &err), WR_OK);
    cr_assert_eq(wr_broker_start(b2, &err), WR_EBUSY);
    cr_assert_neq(strstr(err.msg, "cannot listen"), NULL);
    wr_broker_destroy(b2);
    wr_broker_destroy(NULL);
    stop();
}

Test(kafka_broker, api_versions_flexible_and_unknown_version)
{
    start(60000);
    int fd = connect_broker();
    wr_arena *a = wr_arena_create(0);
    wr_kp_api_versions_req q;
    wr_kp_init(&wr_kp_api_versions_req_desc, &q, 3);
    q.client_software_name = wr_kstr_of("test");
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_API_VERSIONS, 3, 1, &q);
    send_all(fd, &b);
    wr_kp_api_versions_resp r;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_API_VERSIONS, 3, 1, &r, a, &keep); /* header v0: no tag byte */
    cr_assert_eq(r.error_code, 0);
    bool produce = false, fetch = false, fc = false, ipid = false;
    for (int32_t i = 0; i < r.api_keys.n; i++) {
        wr_kp_api_versions_resp_api_version *k = &r.api_keys.v[i];
        produce |= k->api_key == 0 && k->min_version == 0 && k->max_version >= 7;
        fetch |= k->api_key == 1 && k->min_version <= 4 && k->max_version >= 11;
        fc |= k->api_key == 10 && k->min_version == 0;
        ipid |= k->api_key == 22 && k->min_version == 0 && k->max_version >= 4;
    }
    cr_assert(produce && fetch && fc && ipid);
    free(keep);

    /* v9: answered UNSUPPORTED_VERSION in the v0 layout, connection kept */
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_API_VERSIONS, 0, 2, &q);
    wr_be16_put(b.data + 6, 9);
    send_all(fd, &b);
    recv_resp(fd, WR_KAPI_API_VERSIONS, 0, 2, &r, a, &keep);
    cr_assert_eq(r.error_code, 35);
    cr_assert_gt(r.api_keys.n, 10);
    free(keep);
    wr_buf_free(&b);
    wr_arena_destroy(a);
    close(fd);
    stop();
}

/* Builds one uncompressed v2 batch of n records with the given producer fields. */
static void
make_batch(wr_buf *out, int64_t pid, int16_t epoch, int32_t seq, int n)
{
    size_t at = out->len;
    uint8_t hdr[61] = {0};
    wr_buf_append(out, hdr, sizeof hdr);
    for (int i = 0; i < n; i++) {
        wr_buf rec = WR_BUF_INIT;
        wr_buf_put_u8(&rec, 0);
        wr_buf_put_varint(&rec, 0); /* timestamp delta */
        wr_buf_put_varint(&rec, i); /* offset delta */
        wr_buf_put_varint(&rec, 1); /* key length */
        wr_buf_put_u8(&rec, (uint8_t)('a' + i));
        wr_buf_put_varint(&rec, 3);
        wr_buf_append(&rec, "val", 3);
        wr_buf_put_varint(&rec, 0); /* headers */
        wr_buf_put_varint(out, (int64_t)rec.len);
        wr_buf_append(out, rec.data, rec.len);
        wr_buf_free(&rec);
    }
    uint8_t *h = out->data + at;
    int64_t now = wr_clock_wall_ms();
    wr_be64_put(h, 0);
    wr_be32_put(h + 8, (uint32_t)(out->len - at - 12));
    wr_be32_put(h + 12, 0);
    h[16] = 2;
    wr_be16_put(h + 21, 0);
    wr_be32_put(h + 23, (uint32_t)(n - 1));
    wr_be64_put(h + 27, (uint64_t)now);
    wr_be64_put(h + 35, (uint64_t)now);
    wr_be64_put(h + 43, (uint64_t)pid);
    wr_be16_put(h + 51, (uint16_t)epoch);
    wr_be32_put(h + 53, (uint32_t)seq);
    wr_be32_put(h + 57, (uint32_t)n);
    wr_be32_put(h + 17, wr_crc32c(0, h + 21, out->len - at - 21));
}

static void
produce_body(wr_kp_produce_req *q,
             const char *topic,
             int32_t part,
             int16_t acks,
             wr_buf *batch,
             wr_kp_produce_req_topic_produce_data *td,
             wr_kp_produce_req_partition_produce_data *pd)
{
    wr_kp_init(&wr_kp_produce_req_desc, q, 7);
    q->acks = acks;
    q->timeout_ms = 5000;
    td->name = wr_kstr_of(topic);
    td->partition_data.v = pd;
    td->partition_data.n = 1;
    pd->index = part;
    pd->records = (wr_kbytes){batch->data, (int32_t)batch->len};
    q->topic_data.v = td;
    q->topic_data.n = 1;
}

Test(kafka_broker, pipelined_in_order_and_acks0_silent)
{
    start(60000);
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "p", 2, NULL, &err), WR_OK);
    int fd = connect_broker();
    wr_arena *a = wr_arena_create(0);
    wr_buf b = WR_BUF_INIT, batch = WR_BUF_INIT;
    make_batch(&batch, -1, -1, -1, 3);
    wr_kp_metadata_req mq;
    wr_kp_init(&wr_kp_metadata_req_desc, &mq, 8);
    mq.topics.n = -1; /* all topics */
    wr_kp_api_versions_req aq;
    wr_kp_init(&wr_kp_api_versions_req_desc, &aq, 2);
    wr_kp_produce_req pq;
    wr_kp_produce_req_topic_produce_data td;
    wr_kp_produce_req_partition_produce_data pd;
    produce_body(&pq, "p", 0, 1, &batch, &td, &pd);
    wr_kp_produce_req pq0;
    wr_kp_produce_req_topic_produce_data td0;
    wr_kp_produce_req_partition_produce_data pd0;
    produce_body(&pq0, "p", 1, 0, &batch, &td0, &pd0);
    /* one write: produce(acks=1) metadata produce(acks=0) apiversions produce(acks=1) */
    frame(&b, WR_KAPI_PRODUCE, 7, 10, &pq);
    frame(&b, WR_KAPI_METADATA, 8, 11, &mq);
    frame(&b, WR_KAPI_PRODUCE, 7, 12, &pq0);
    frame(&b, WR_KAPI_API_VERSIONS, 2, 13, &aq);
    frame(&b, WR_KAPI_PRODUCE, 7, 14, &pq);
    send_all(fd, &b);
    uint8_t *k1, *k2, *k3, *k4;
    wr_kp_produce_resp pr;
    recv_resp(fd, WR_KAPI_PRODUCE, 7, 10, &pr, a, &k1);
    cr_assert_eq(pr.responses.v[0].partition_responses.v[0].error_code, 0);
    cr_assert_eq(pr.responses.v[0].partition_responses.v[0].base_offset, 0);
    wr_kp_metadata_resp mr;
    recv_resp(fd, WR_KAPI_METADATA, 8, 11, &mr, a, &k2);
    cr_assert_eq(mr.controller_id, 0);
    cr_assert_not_null(mr.cluster_id.s);
    cr_assert_eq(mr.topics.n, 1);
    cr_assert_eq(mr.topics.v[0].partitions.n, 2);
    wr_kp_api_versions_resp ar;
    recv_resp(fd, WR_KAPI_API_VERSIONS, 2, 13, &ar, a, &k3); /* 12 (acks=0) has no response */
    recv_resp(fd, WR_KAPI_PRODUCE, 7, 14, &pr, a, &k4);
    cr_assert_eq(pr.responses.v[0].partition_responses.v[0].base_offset, 3);
    wr_partition *p1;
    cr_assert_eq(wr_log_partition(db, "p", 1, &p1), WR_OK);
    cr_assert_eq(wr_log_end_offset(p1), 3, "the acks=0 produce was appended");
    free(k1);
    free(k2);
    free(k3);
    free(k4);
    wr_buf_free(&b);
    wr_buf_free(&batch);
    wr_arena_destroy(a);
    close(fd);
    stop();
}

Test(kafka_broker, bad_frames_close_only_their_connection)
{
    start(60000);
    int good = connect_broker();
    int big = connect_broker();
    int bad = connect_broker();
    int unk = connect_broker();
    uint8_t huge[4];
    wr_be32_put(huge, 2u << 20); /* over max_request_bytes (1 MiB): refused before allocation */
    cr_assert_eq(write(big, huge, 4), 4);
    cr_assert(closed_by_peer(big, 5000));
    /* Metadata v1 whose topic count claims far more than the frame holds */
    static const uint8_t mal[] = {0, 0, 0,    16,   0,    3,    0,    1,    0, 0,
                                  0, 5, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 1};
    cr_assert_eq(write(bad, mal, sizeof mal), (ssize_t)sizeof mal);
    cr_assert(closed_by_peer(bad, 5000));
    /* an API key weir does not know: a bare UNSUPPORTED_VERSION (correlation id 7, error 35),
       and the connection stays usable */
    static const uint8_t unknown[] = {0, 0, 0, 10, 0x01, 0x00, 0, 0, 0, 0, 0, 7, 0xff, 0xff};
    cr_assert_eq(write(unk, unknown, sizeof unknown), (ssize_t)sizeof unknown);
    size_t ulen = 0;
    uint8_t *uresp = recv_frame(unk, &ulen, 5000);
    cr_assert_not_null(uresp, "an unknown API key gets an answer, not a dropped connection");
    cr_assert_eq(ulen, 6);
    cr_assert_eq(wr_be32_get(uresp), 7);
    cr_assert_eq(wr_be16_get(uresp + 4), 35);
    free(uresp);
    /* a version beyond ours of an API whose response has no top-level error code: the same */
    static const uint8_t meta99[] = {0, 0, 0, 10, 0, 3, 0, 99, 0, 0, 0, 8, 0xff, 0xff};
    cr_assert_eq(write(unk, meta99, sizeof meta99), (ssize_t)sizeof meta99);
    uresp = recv_frame(unk, &ulen, 5000);
    cr_assert_not_null(uresp);
    cr_assert(ulen == 6 && wr_be32_get(uresp) == 8 && wr_be16_get(uresp + 4) == 35);
    free(uresp);
    /* the good connection still works */
    wr_arena *a = wr_arena_create(0);
    wr_kp_api_versions_req q;
    wr_kp_init(&wr_kp_api_versions_req_desc, &q, 0);
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_API_VERSIONS, 0, 5, &q);
    send_all(good, &b);
    wr_kp_api_versions_resp r;
    uint8_t *keep;
    recv_resp(good, WR_KAPI_API_VERSIONS, 0, 5, &r, a, &keep);
    free(keep);
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_API_VERSIONS, 0, 6, &q);
    send_all(unk, &b);
    recv_resp(unk, WR_KAPI_API_VERSIONS, 0, 6, &r, a, &keep);
    free(keep);
    wr_buf_free(&b);
    wr_arena_destroy(a);
    close(good);
    close(big);
    close(bad);
    close(unk);
    stop();
}

Test(kafka_broker, idle_connections_closed)
{
    start(200);
    int fd = connect_broker();
    int64_t t0 = wr_clock_mono_ns();
    cr_assert(closed_by_peer(fd, 10000));
    cr_assert_geq((wr_clock_mono_ns() - t0) / 1000000, 150);
    close(fd);
    stop();
}

static void
fetch_body(wr_kp_fetch_req *q,
           wr_kp_fetch_req_fetch_topic *ft,
           wr_kp_fetch_req_fetch_partition *fp,
           const char *topic,
           int64_t offset,
           int32_t wait)
{
    wr_kp_init(&wr_kp_fetch_req_desc, q, 11);
    q->max_wait_ms = wait;
    q->min_bytes = 1;
    q->max_bytes = 1 << 20;
    ft->topic = wr_kstr_of(topic);
    wr_kp_init(&wr_kp_fetch_req_fetch_partition_desc, fp, 11);
    fp->partition = 0;
    fp->fetch_offset = offset;
    fp->partition_max_bytes = 1 << 20;
    ft->partitions.v = fp;
    ft->partitions.n = 1;
    q->topics.v = ft;
    q->topics.n = 1;
}

Test(kafka_broker, fetch_long_poll_woken_by_produce)
{
    start(60000);
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "lp", 1, NULL, &err), WR_OK);
    int cons = connect_broker(), prod = connect_broker();
    wr_arena *a = wr_arena_create(0);
    wr_kp_fetch_req fq;
    wr_kp_fetch_req_fetch_topic ft;
    wr_kp_fetch_req_fetch_partition fp;
    fetch_body(&fq, &ft, &fp, "lp", 0, 20000);
    wr_buf b = WR_BUF_INIT, batch = WR_BUF_INIT;
    frame(&b, WR_KAPI_FETCH, 11, 1, &fq);
    send_all(cons, &b);
    size_t len;
    cr_assert_null(recv_frame(cons, &len, 300), "fetch answered before data arrived");
    make_batch(&batch, -1, -1, -1, 2);
    wr_kp_produce_req pq;
    wr_kp_produce_req_topic_produce_data td;
    wr_kp_produce_req_partition_produce_data pd;
    produce_body(&pq, "lp", 0, 1, &batch, &td, &pd);
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_PRODUCE, 7, 2, &pq);
    int64_t t0 = wr_clock_mono_ns();
    send_all(prod, &b);
    wr_kp_fetch_resp fr;
    uint8_t *keep;
    recv_resp(cons, WR_KAPI_FETCH, 11, 1, &fr, a, &keep);
    cr_assert_lt((wr_clock_mono_ns() - t0) / 1000000, 5000);
    cr_assert_eq(fr.responses.v[0].partitions.v[0].high_watermark, 2);
    cr_assert_eq(fr.responses.v[0].partitions.v[0].records.len, (int32_t)batch.len);
    free(keep);
    /* out of range offset */
    fetch_body(&fq, &ft, &fp, "lp", 99, 0);
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_FETCH, 11, 3, &fq);
    send_all(cons, &b);
    recv_resp(cons, WR_KAPI_FETCH, 11, 3, &fr, a, &keep);
    cr_assert_eq(fr.responses.v[0].partitions.v[0].error_code, 1);
    free(keep);
    wr_buf_free(&b);
    wr_buf_free(&batch);
    wr_arena_destroy(a);
    close(cons);
    close(prod);
    stop();
}

static int16_t
produce_one(int fd,
            wr_arena *a,
            int32_t corr,
            int64_t pid,
            int16_t epoch,
            int32_t seq,
            int n,
            int64_t *offset)
{
    wr_buf b = WR_BUF_INIT, batch = WR_BUF_INIT;
    make_batch(&batch, pid, epoch, seq, n);
    wr_kp_produce_req pq;
    wr_kp_produce_req_topic_produce_data td;
    wr_kp_produce_req_partition_produce_data pd;
    produce_body(&pq, "idem", 0, -1, &batch, &td, &pd);
    frame(&b, WR_KAPI_PRODUCE, 7, corr, &pq);
    send_all(fd, &b);
    wr_kp_produce_resp pr;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_PRODUCE, 7, corr, &pr, a, &keep);
    int16_t ec = pr.responses.v[0].partition_responses.v[0].error_code;
    *offset = pr.responses.v[0].partition_responses.v[0].base_offset;
    free(keep);
    wr_buf_free(&b);
    wr_buf_free(&batch);
    return ec;
}

Test(kafka_broker, idempotent_producer_sequences)
{
    start(60000);
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "idem", 1, NULL, &err), WR_OK);
    int fd = connect_broker();
    wr_arena *a = wr_arena_create(0);
    wr_kp_init_producer_id_req iq;
    wr_kp_init(&wr_kp_init_producer_id_req_desc, &iq, 4);
    iq.transaction_timeout_ms = 60000;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_INIT_PRODUCER_ID, 4, 1, &iq);
    send_all(fd, &b);
    wr_kp_init_producer_id_resp ir;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_INIT_PRODUCER_ID, 4, 1, &ir, a, &keep);
    free(keep);
    cr_assert_eq(ir.error_code, 0);
    cr_assert_geq(ir.producer_id, 0);
    int64_t pid = ir.producer_id, off;
    cr_assert_eq(produce_one(fd, a, 2, pid, 0, 0, 3, &off), 0);
    cr_assert_eq(off, 0);
    cr_assert_eq(produce_one(fd, a, 3, pid, 0, 3, 2, &off), 0);
    cr_assert_eq(off, 3);
    /* a retry of the first batch: success with its original offset, nothing appended */
    cr_assert_eq(produce_one(fd, a, 4, pid, 0, 0, 3, &off), 0);
    cr_assert_eq(off, 0);
    wr_partition *p;
    cr_assert_eq(wr_log_partition(db, "idem", 0, &p), WR_OK);
    cr_assert_eq(wr_log_end_offset(p), 5);
    /* a gap */
    cr_assert_eq(produce_one(fd, a, 5, pid, 0, 9, 1, &off), 45);
    /* an unknown producer not starting at 0 */
    cr_assert_eq(produce_one(fd, a, 6, pid + 1, 0, 7, 1, &off), 59);
    /* a new epoch starts at 0; then the old epoch is fenced */
    cr_assert_eq(produce_one(fd, a, 7, pid, 1, 0, 1, &off), 0);
    cr_assert_eq(produce_one(fd, a, 8, pid, 0, 5, 1, &off), 47);
    cr_assert_eq(wr_log_end_offset(p), 6);
    wr_buf_free(&b);
    wr_arena_destroy(a);
    close(fd);
    stop();
}

/* ---- consumer groups (kgroup.c) ------------------------------------------------------- */

/* Joins group g1 with one "range" protocol; meta is a C string, or, for a subscription in
   Kafka's binary consumer-protocol form, bytes whose length is given by sub(). */
static int32_t meta_len(const char *meta);

static void
send_join_as(int fd,
             int32_t corr,
             const char *member,
             const char *instance,
             int32_t session_ms,
             const char *meta)
{
    wr_kp_join_group_req q;
    wr_kp_init(&wr_kp_join_group_req_desc, &q, 5);
    q.group_id = wr_kstr_of("g1");
    if (instance != NULL)
        q.group_instance_id = wr_kstr_of(instance);
    q.session_timeout_ms = session_ms;
    q.rebalance_timeout_ms = 5000;
    q.member_id = wr_kstr_of(member);
    q.protocol_type = wr_kstr_of("consumer");
    wr_kp_join_group_req_join_group_request_protocol p = {
        .name = wr_kstr_of("range"), .metadata = {(const uint8_t *)meta, meta_len(meta)}};
    q.protocols.v = &p;
    q.protocols.n = 1;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_JOIN_GROUP, 5, corr, &q);
    send_all(fd, &b);
    wr_buf_free(&b);
}

static void
send_join(int fd, int32_t corr, const char *member, int32_t session_ms, const char *meta)
{
    send_join_as(fd, corr, member, NULL, session_ms, meta);
}

/* ConsumerProtocolSubscription v0 for one topic: version, [topic], user data (null). A
   leading 0 byte tells meta_len() to read the length back from the encoding. */
static char sub_buf[4][64];

static const char *
sub(int slot, const char *topic)
{
    char *b = sub_buf[slot];
    size_t tl = strlen(topic);
    memcpy(b, "\0\0\0\0\0\1", 6);
    b[6] = 0;
    b[7] = (char)tl;
    memcpy(b + 8, topic, tl);
    memcpy(b + 8 + tl, "\xff\xff\xff\xff", 4);
    return b;
}

static int32_t
meta_len(const char *meta)
{
    return meta[0] == 0 ? 12 + (uint8_t)meta[7] : (int32_t)strlen(meta);
}

/* JoinGroup v4+ without a member id: MEMBER_ID_REQUIRED (KIP-394) hands out the id to use. */
static char *
member_id_required(int fd, wr_arena *a, int32_t corr, const char *meta)
{
    wr_kp_join_group_resp jr;
    uint8_t *keep;
    send_join(fd, corr, "", 10000, meta);
    recv_resp(fd, WR_KAPI_JOIN_GROUP, 5, corr, &jr, a, &keep);
    cr_assert_eq(jr.error_code, 79, "MEMBER_ID_REQUIRED, got %d", jr.error_code);
    cr_assert_gt(jr.member_id.len, 0);
    char *id = strdup(jr.member_id.s);
    free(keep);
    return id;
}

static void
send_sync(int fd,
          int32_t corr,
          const char *member,
          int32_t gen,
          int n,
          const char **ids,
          const char **asg)
{
    wr_kp_sync_group_req q;
    wr_kp_init(&wr_kp_sync_group_req_desc, &q, 3);
    q.group_id = wr_kstr_of("g1");
    q.generation_id = gen;
    q.member_id = wr_kstr_of(member);
    wr_kp_sync_group_req_sync_group_request_assignment a[2];
    for (int i = 0; i < n; i++)
        a[i] = (wr_kp_sync_group_req_sync_group_request_assignment){
            .member_id = wr_kstr_of(ids[i]),
            .assignment = {(const uint8_t *)asg[i], (int32_t)strlen(asg[i])}};
    q.assignments.v = a;
    q.assignments.n = n;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_SYNC_GROUP, 3, corr, &q);
    send_all(fd, &b);
    wr_buf_free(&b);
}

static int16_t
heartbeat_as(
    int fd, wr_arena *a, int32_t corr, const char *member, const char *instance, int32_t gen)
{
    wr_kp_heartbeat_req q;
    wr_kp_init(&wr_kp_heartbeat_req_desc, &q, 3);
    q.group_id = wr_kstr_of("g1");
    if (instance != NULL)
        q.group_instance_id = wr_kstr_of(instance);
    q.generation_id = gen;
    q.member_id = wr_kstr_of(member);
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_HEARTBEAT, 3, corr, &q);
    send_all(fd, &b);
    wr_buf_free(&b);
    wr_kp_heartbeat_resp r;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_HEARTBEAT, 3, corr, &r, a, &keep);
    free(keep);
    return r.error_code;
}

static int16_t
heartbeat(int fd, wr_arena *a, int32_t corr, const char *member, int32_t gen)
{
    return heartbeat_as(fd, a, corr, member, NULL, gen);
}

static int16_t
commit_to(int fd,
          wr_arena *a,
          int32_t corr,
          const char *member,
          int32_t gen,
          const char *topic,
          int64_t offset)
{
    wr_kp_offset_commit_req q;
    wr_kp_init(&wr_kp_offset_commit_req_desc, &q, 7);
    q.group_id = wr_kstr_of("g1");
    q.generation_id_or_member_epoch = gen;
    q.member_id = wr_kstr_of(member);
    wr_kp_offset_commit_req_offset_commit_request_partition p;
    wr_kp_init(&wr_kp_offset_commit_req_offset_commit_request_partition_desc, &p, 7);
    p.partition_index = 0;
    p.committed_offset = offset;
    p.committed_metadata = wr_kstr_of("meta");
    wr_kp_offset_commit_req_offset_commit_request_topic t = {.name = wr_kstr_of(topic)};
    t.partitions.v = &p;
    t.partitions.n = 1;
    q.topics.v = &t;
    q.topics.n = 1;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_OFFSET_COMMIT, 7, corr, &q);
    send_all(fd, &b);
    wr_buf_free(&b);
    wr_kp_offset_commit_resp r;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_OFFSET_COMMIT, 7, corr, &r, a, &keep);
    int16_t ec = r.topics.v[0].partitions.v[0].error_code;
    free(keep);
    return ec;
}

static int16_t
commit(int fd, wr_arena *a, int32_t corr, const char *member, int32_t gen, int64_t offset)
{
    return commit_to(fd, a, corr, member, gen, "gt", offset);
}

/* OffsetDelete of partition 0 of gt and of other; the two partition errors, or the top-level
   error when there is one. */
static int16_t
offset_delete(int fd, wr_arena *a, int32_t corr, const char *group, int16_t *gt, int16_t *other)
{
    wr_kp_offset_delete_req q;
    wr_kp_init(&wr_kp_offset_delete_req_desc, &q, 0);
    q.group_id = wr_kstr_of(group);
    wr_kp_offset_delete_req_offset_delete_request_partition p = {.partition_index = 0};
    wr_kp_offset_delete_req_offset_delete_request_topic t[2] = {{.name = wr_kstr_of("gt")},
                                                                {.name = wr_kstr_of("other")}};
    for (int i = 0; i < 2; i++) {
        t[i].partitions.v = &p;
        t[i].partitions.n = 1;
    }
    q.topics.v = t;
    q.topics.n = 2;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_OFFSET_DELETE, 0, corr, &q);
    send_all(fd, &b);
    wr_buf_free(&b);
    wr_kp_offset_delete_resp r;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_OFFSET_DELETE, 0, corr, &r, a, &keep);
    int16_t ec = r.error_code;
    if (ec == 0) {
        cr_assert_eq(r.topics.n, 2);
        *gt = r.topics.v[0].partitions.v[0].error_code;
        *other = r.topics.v[1].partitions.v[0].error_code;
    }
    free(keep);
    return ec;
}

Test(kafka_broker, group_join_sync_heartbeat_offsets)
{
    start(60000);
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "gt", 2, NULL, &err), WR_OK);
    cr_assert_eq(wr_log_topic_create(db, "other", 1, NULL, &err), WR_OK);
    int fa = connect_broker(), fb = connect_broker();
    wr_arena *a = wr_arena_create(0);
    uint8_t *keep;
    wr_kp_join_group_resp jr;

    /* bad session timeout; unknown member id */
    send_join(fa, 1, "", 10, "m");
    recv_resp(fa, WR_KAPI_JOIN_GROUP, 5, 1, &jr, a, &keep);
    cr_assert_eq(jr.error_code, 26);
    free(keep);
    send_join(fa, 2, "nobody", 10000, "m");
    recv_resp(fa, WR_KAPI_JOIN_GROUP, 5, 2, &jr, a, &keep);
    cr_assert_eq(jr.error_code, 25);
    free(keep);

    /* A alone: the id first (KIP-394), then generation 1 with A as leader */
    char *pa = member_id_required(fa, a, 30, sub(0, "gt"));
    send_join(fa, 3, pa, 10000, sub(0, "gt"));
    free(pa);
    recv_resp(fa, WR_KAPI_JOIN_GROUP, 5, 3, &jr, a, &keep);
    cr_assert_eq(jr.error_code, 0);
    cr_assert_eq(jr.generation_id, 1);
    cr_assert_str_eq(jr.leader.s, jr.member_id.s);
    cr_assert_eq(jr.members.n, 1);
    char *ida = strdup(jr.member_id.s);
    free(keep);
    const char *ids1[] = {ida}, *asg1[] = {"asgA"};
    send_sync(fa, 4, ida, 1, 1, ids1, asg1);
    wr_kp_sync_group_resp sr;
    recv_resp(fa, WR_KAPI_SYNC_GROUP, 3, 4, &sr, a, &keep);
    cr_assert_eq(sr.error_code, 0);
    cr_assert_eq(sr.assignment.len, 4);
    cr_assert(memcmp(sr.assignment.p, "asgA", 4) == 0);
    free(keep);
    cr_assert_eq(heartbeat(fa, a, 5, ida, 1), 0);
    cr_assert_eq(heartbeat(fa, a, 6, ida, 0), 22);
    cr_assert_eq(heartbeat(fa, a, 7, "nobody", 1), 25);
    cr_assert_eq(commit(fa, a, 8, ida, 1, 42), 0);

    /* B joins: A learns of the rebalance by heartbeat and rejoins; generation 2 */
    char *pb = member_id_required(fb, a, 31, sub(1, "gt"));
    /* an id that was never handed out stays unknown */
    send_join(fb, 32, "forged-id", 10000, sub(1, "gt"));
    recv_resp(fb, WR_KAPI_JOIN_GROUP, 5, 32, &jr, a, &keep);
    cr_assert_eq(jr.error_code, 25);
    free(keep);
    send_join(fb, 20, pb, 10000, sub(1, "gt"));
    free(pb);
    /* B's join travels on another connection: poll until the broker has seen it */
    int16_t hb = 0;
    for (int i = 0; i < 500 && hb != 27; i++) {
        hb = heartbeat(fa, a, 100 + i, ida, 1);
        if (hb != 27)
            usleep(10000);
    }
    cr_assert_eq(hb, 27);
    cr_assert_eq(commit(fa, a, 10, ida, 1, 43), 27);
    send_join(fa, 11, ida, 10000, sub(0, "gt"));
    recv_resp(fa, WR_KAPI_JOIN_GROUP, 5, 11, &jr, a, &keep);
    cr_assert_eq(jr.generation_id, 2);
    cr_assert_eq(jr.members.n, 2, "the leader sees both members");
    free(keep);
    recv_resp(fb, WR_KAPI_JOIN_GROUP, 5, 20, &jr, a, &keep);
    cr_assert_eq(jr.generation_id, 2);
    cr_assert_eq(jr.members.n, 0);
    cr_assert_str_eq(jr.leader.s, ida);
    char *idb = strdup(jr.member_id.s);
    free(keep);
    /* B's sync waits for the leader's */
    send_sync(fb, 21, idb, 2, 0, NULL, NULL);
    size_t len;
    cr_assert_null(recv_frame(fb, &len, 200));
    const char *ids2[] = {ida, idb}, *asg2[] = {"p0", "p1"};
    send_sync(fa, 12, ida, 2, 2, ids2, asg2);
    recv_resp(fa, WR_KAPI_SYNC_GROUP, 3, 12, &sr, a, &keep);
    cr_assert(sr.assignment.len == 2 && memcmp(sr.assignment.p, "p0", 2) == 0);
    free(keep);
    recv_resp(fb, WR_KAPI_SYNC_GROUP, 3, 21, &sr, a, &keep);
    cr_assert(sr.assignment.len == 2 && memcmp(sr.assignment.p, "p1", 2) == 0);
    free(keep);

    /* offsets: stale generation, then a good commit; fetch by list (v5) and all (v7, flexible) */
    cr_assert_eq(commit(fa, a, 13, ida, 1, 44), 22);
    cr_assert_eq(commit(fb, a, 22, idb, 2, 45), 0);
    wr_kp_offset_fetch_req fq;
    wr_kp_init(&wr_kp_offset_fetch_req_desc, &fq, 5);
    fq.group_id = wr_kstr_of("g1");
    int32_t parts[2] = {0, 1};
    wr_kp_offset_fetch_req_offset_fetch_request_topic ft = {.name = wr_kstr_of("gt")};
    ft.partition_indexes.v = parts;
    ft.partition_indexes.n = 2;
    fq.topics.v = &ft;
    fq.topics.n = 1;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_OFFSET_FETCH, 5, 14, &fq);
    send_all(fa, &b);
    wr_kp_offset_fetch_resp fr;
    recv_resp(fa, WR_KAPI_OFFSET_FETCH, 5, 14, &fr, a, &keep);
    cr_assert_eq(fr.topics.v[0].partitions.v[0].committed_offset, 45);
    cr_assert_str_eq(fr.topics.v[0].partitions.v[0].metadata.s, "meta");
    cr_assert_eq(fr.topics.v[0].partitions.v[1].committed_offset, -1);
    free(keep);
    fq.topics.n = -1; /* all of the group's offsets */
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_OFFSET_FETCH, 7, 15, &fq);
    send_all(fa, &b);
    recv_resp(fa, WR_KAPI_OFFSET_FETCH, 7, 15, &fr, a, &keep);
    cr_assert_eq(fr.topics.n, 1);
    cr_assert_str_eq(fr.topics.v[0].name.s, "gt");
    cr_assert_eq(fr.topics.v[0].partitions.n, 1);
    cr_assert_eq(fr.topics.v[0].partitions.v[0].committed_offset, 45);
    free(keep);

    /* OffsetDelete: a live consumer group keeps the offsets of the topics it subscribes to */
    cr_assert_eq(commit_to(fb, a, 23, idb, 2, "other", 7), 0);
    int16_t e_gt = -1, e_other = -1;
    cr_assert_eq(offset_delete(fa, a, 24, "g1", &e_gt, &e_other), 0);
    cr_assert_eq(e_gt, 86, "GROUP_SUBSCRIBED_TO_TOPIC, got %d", e_gt);
    cr_assert_eq(e_other, 0);
    cr_assert_eq(offset_delete(fa, a, 25, "no-such-group", &e_gt, &e_other), 69);

    /* describe; delete refused while members remain; both leave; delete */
    wr_kp_describe_groups_req dq;
    wr_kp_init(&wr_kp_describe_groups_req_desc, &dq, 4);
    wr_kstr gid = wr_kstr_of("g1");
    dq.groups.v = &gid;
    dq.groups.n = 1;
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_DESCRIBE_GROUPS, 4, 16, &dq);
    send_all(fa, &b);
    wr_kp_describe_groups_resp dr;
    recv_resp(fa, WR_KAPI_DESCRIBE_GROUPS, 4, 16, &dr, a, &keep);
    cr_assert_str_eq(dr.groups.v[0].group_state.s, "Stable");
    cr_assert_str_eq(dr.groups.v[0].protocol_data.s, "range");
    cr_assert_eq(dr.groups.v[0].members.n, 2);
    free(keep);
    wr_kp_delete_groups_req gq;
    wr_kp_init(&wr_kp_delete_groups_req_desc, &gq, 1);
    gq.groups_names.v = &gid;
    gq.groups_names.n = 1;
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_DELETE_GROUPS, 1, 17, &gq);
    send_all(fa, &b);
    wr_kp_delete_groups_resp gr;
    recv_resp(fa, WR_KAPI_DELETE_GROUPS, 1, 17, &gr, a, &keep);
    cr_assert_eq(gr.results.v[0].error_code, 68);
    free(keep);
    wr_kp_leave_group_req lq;
    wr_kp_init(&wr_kp_leave_group_req_desc, &lq, 3);
    lq.group_id = gid;
    wr_kp_leave_group_req_member_identity who[2] = {
        {.member_id = wr_kstr_of(ida), .group_instance_id = wr_kstr_of(NULL)},
        {.member_id = wr_kstr_of(idb), .group_instance_id = wr_kstr_of(NULL)}};
    lq.members.v = who;
    lq.members.n = 2;
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_LEAVE_GROUP, 3, 18, &lq);
    send_all(fa, &b);
    wr_kp_leave_group_resp lr;
    recv_resp(fa, WR_KAPI_LEAVE_GROUP, 3, 18, &lr, a, &keep);
    cr_assert_eq(lr.members.v[0].error_code, 0);
    cr_assert_eq(lr.members.v[1].error_code, 0);
    free(keep);
    cr_assert_eq(offset_delete(fa, a, 26, "g1", &e_gt, &e_other), 0);
    cr_assert_eq(e_gt, 0, "an empty group's offsets can be deleted");
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_DELETE_GROUPS, 1, 19, &gq);
    send_all(fa, &b);
    recv_resp(fa, WR_KAPI_DELETE_GROUPS, 1, 19, &gr, a, &keep);
    cr_assert_eq(gr.results.v[0].error_code, 0);
    free(keep);
    wr_buf_free(&b);
    free(ida);
    free(idb);
    wr_arena_destroy(a);
    close(fa);
    close(fb);
    stop();
}

/* ---- configs, topics and offsets over raw protocol ------------------------------------ */

static int16_t
incr_alter(int fd, wr_arena *a, int32_t corr, const char *key, const char *val, int8_t op)
{
    wr_kp_incremental_alter_configs_req q;
    wr_kp_init(&wr_kp_incremental_alter_configs_req_desc, &q, 1);
    wr_kp_incremental_alter_configs_req_alterable_config c = {
        .name = wr_kstr_of(key), .config_operation = op, .value = wr_kstr_of(val)};
    wr_kp_incremental_alter_configs_req_alter_configs_resource r = {
        .resource_type = 2, .resource_name = wr_kstr_of("cfg")};
    r.configs.v = &c;
    r.configs.n = 1;
    q.resources.v = &r;
    q.resources.n = 1;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_INCREMENTAL_ALTER_CONFIGS, 1, corr, &q); /* v1: flexible */
    send_all(fd, &b);
    wr_buf_free(&b);
    wr_kp_incremental_alter_configs_resp s;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_INCREMENTAL_ALTER_CONFIGS, 1, corr, &s, a, &keep);
    int16_t ec = s.responses.v[0].error_code;
    free(keep);
    return ec;
}

/* Returns the value of key for topic "cfg" (arena copy) and its ConfigSource. */
static const char *
describe(int fd, wr_arena *a, int32_t corr, const char *key, int8_t *source)
{
    wr_kp_describe_configs_req q;
    wr_kp_init(&wr_kp_describe_configs_req_desc, &q, 1);
    wr_kstr k = wr_kstr_of(key);
    wr_kp_describe_configs_req_describe_configs_resource r = {.resource_type = 2,
                                                              .resource_name = wr_kstr_of("cfg")};
    r.configuration_keys.v = &k;
    r.configuration_keys.n = 1;
    q.resources.v = &r;
    q.resources.n = 1;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_DESCRIBE_CONFIGS, 1, corr, &q);
    send_all(fd, &b);
    wr_buf_free(&b);
    wr_kp_describe_configs_resp s;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_DESCRIBE_CONFIGS, 1, corr, &s, a, &keep);
    cr_assert_eq(s.results.v[0].error_code, 0);
    cr_assert_eq(s.results.v[0].configs.n, 1);
    *source = s.results.v[0].configs.v[0].config_source;
    const char *v = wr_arena_strdup(a, s.results.v[0].configs.v[0].value.s);
    free(keep);
    return v;
}

Test(kafka_broker, static_member_rejoin_fences_the_old_member_id)
{
    start(60000);
    int fa = connect_broker(), fb = connect_broker();
    wr_arena *a = wr_arena_create(0);
    uint8_t *keep;
    wr_kp_join_group_resp jr;
    wr_kp_sync_group_resp sr;

    send_join_as(fa, 1, "", "inst-1", 10000, "meta");
    recv_resp(fa, WR_KAPI_JOIN_GROUP, 5, 1, &jr, a, &keep);
    cr_assert_eq(jr.error_code, 0);
    char *old = strdup(jr.member_id.s);
    int32_t gen = jr.generation_id;
    free(keep);
    const char *ids[] = {old}, *asg[] = {"asg"};
    send_sync(fa, 2, old, gen, 1, ids, asg);
    recv_resp(fa, WR_KAPI_SYNC_GROUP, 3, 2, &sr, a, &keep);
    cr_assert_eq(sr.error_code, 0);
    free(keep);
    cr_assert_eq(heartbeat_as(fa, a, 3, old, "inst-1", gen), 0);

    /* the instance restarts elsewhere: same instance id, no member id. A static member needs
       no MEMBER_ID_REQUIRED round, and coming back unchanged to a stable group it keeps the
       generation and its assignment: no rebalance. The leader named is the old id, so the
       returning leader does not compute an assignment that a stable group would not send. */
    send_join_as(fb, 10, "", "inst-1", 10000, "meta");
    recv_resp(fb, WR_KAPI_JOIN_GROUP, 5, 10, &jr, a, &keep);
    cr_assert_eq(jr.error_code, 0);
    cr_assert_str_neq(jr.member_id.s, old, "a rejoining static member gets a new member id");
    char *fresh = strdup(jr.member_id.s);
    int32_t gen2 = jr.generation_id;
    cr_assert_eq(gen2, gen, "no rebalance for an unchanged static member");
    cr_assert_str_eq(jr.leader.s, old);
    cr_assert_eq(jr.members.n, 0);
    free(keep);

    /* the old copy is a zombie now: fenced wherever it shows its instance id */
    cr_assert_eq(heartbeat_as(fa, a, 11, old, "inst-1", gen2), 82);
    cr_assert_eq(heartbeat(fa, a, 12, old, gen2), 25);
    send_join_as(fa, 13, old, "inst-1", 10000, "meta");
    recv_resp(fa, WR_KAPI_JOIN_GROUP, 5, 13, &jr, a, &keep);
    cr_assert_eq(jr.error_code, 82);
    free(keep);
    send_sync(fb, 14, fresh, gen2, 0, NULL, NULL);
    recv_resp(fb, WR_KAPI_SYNC_GROUP, 3, 14, &sr, a, &keep);
    cr_assert_eq(sr.error_code, 0);
    cr_assert(sr.assignment.len == 3 && memcmp(sr.assignment.p, "asg", 3) == 0,
              "the returning member keeps its assignment");
    free(keep);
    cr_assert_eq(heartbeat_as(fb, a, 15, fresh, "inst-1", gen2), 0);
    free(old);
    free(fresh);
    wr_arena_destroy(a);
    close(fa);
    close(fb);
    stop();
}

Test(kafka_broker, configs_topics_list_offsets)
{
    start(60000);
    int fd = connect_broker();
    wr_arena *a = wr_arena_create(0);
    uint8_t *keep;

    /* CreateTopics v4: validate-only, a bad name, RF 3, then a real one with a config */
    wr_kp_create_topics_req cq;
    wr_kp_init(&wr_kp_create_topics_req_desc, &cq, 4);
    wr_kp_create_topics_req_creatable_topic t[3];
    for (int i = 0; i < 3; i++)
        wr_kp_init(&wr_kp_create_topics_req_creatable_topic_desc, &t[i], 4);
    t[0].name = wr_kstr_of("cfg");
    t[0].num_partitions = -1; /* broker default (2 here) */
    t[0].replication_factor = -1;
    wr_kp_create_topics_req_creatable_topic_config tc = {.name = wr_kstr_of("retention.ms"),
                                                         .value = wr_kstr_of("1000")};
    t[0].configs.v = &tc;
    t[0].configs.n = 1;
    t[1].name = wr_kstr_of("bad/name");
    t[1].num_partitions = 1;
    t[1].replication_factor = 1;
    t[2].name = wr_kstr_of("rf3");
    t[2].num_partitions = 1;
    t[2].replication_factor = 3;
    cq.topics.v = t;
    cq.topics.n = 3;
    cq.validate_only = true;
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_CREATE_TOPICS, 4, 1, &cq);
    send_all(fd, &b);
    wr_kp_create_topics_resp cr;
    recv_resp(fd, WR_KAPI_CREATE_TOPICS, 4, 1, &cr, a, &keep);
    cr_assert_eq(cr.topics.v[0].error_code, 0);
    cr_assert_eq(cr.topics.v[1].error_code, 17); /* the name is checked too */
    cr_assert_eq(cr.topics.v[2].error_code, 38);
    free(keep);
    cr_assert_lt(wr_log_topic_partitions(db, "cfg"), 0, "validate-only created nothing");
    cq.validate_only = false;
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_CREATE_TOPICS, 4, 2, &cq);
    send_all(fd, &b);
    recv_resp(fd, WR_KAPI_CREATE_TOPICS, 4, 2, &cr, a, &keep);
    cr_assert_eq(cr.topics.v[0].error_code, 0);
    cr_assert_eq(cr.topics.v[1].error_code, 17);
    cr_assert_not_null(cr.topics.v[1].error_message.s);
    free(keep);
    cr_assert_eq(wr_log_topic_partitions(db, "cfg"), 2);

    /* configs: own value, incremental set (flexible v1), delete back to default, bad name */
    int8_t src;
    cr_assert_str_eq(describe(fd, a, 3, "retention.ms", &src), "1000");
    cr_assert_eq(src, 1); /* DYNAMIC_TOPIC_CONFIG */
    cr_assert_eq(incr_alter(fd, a, 4, "retention.ms", "5000", 0), 0);
    cr_assert_str_eq(describe(fd, a, 5, "retention.ms", &src), "5000");
    cr_assert_eq(incr_alter(fd, a, 6, "retention.ms", NULL, 1), 0);
    cr_assert_str_eq(describe(fd, a, 7, "retention.ms", &src), "604800000");
    cr_assert_eq(src, 5); /* DEFAULT_CONFIG */
    cr_assert_eq(incr_alter(fd, a, 8, "no.such.config", "1", 0), 40);
    cr_assert_eq(incr_alter(fd, a, 9, "retention.ms", "1", 2), 42); /* APPEND unsupported */

    /* ListOffsets v0 (old-style offsets) and v1 (earliest/latest/by time) */
    wr_buf batch = WR_BUF_INIT;
    make_batch(&batch, -1, -1, -1, 4);
    wr_partition *p;
    cr_assert_eq(wr_log_partition(db, "cfg", 0, &p), WR_OK);
    wr_log_append_result res;
    wr_err err = {0};
    cr_assert_eq(wr_log_append(p, batch.data, batch.len, &res, &err), WR_OK);
    for (int16_t v = 0; v <= 1; v++) {
        int64_t ts[3] = {-2, -1, 0};
        int64_t want[3] = {0, 4, 0};
        for (int i = 0; i < 3; i++) {
            wr_kp_list_offsets_req lq;
            wr_kp_init(&wr_kp_list_offsets_req_desc, &lq, v);
            lq.replica_id = -1;
            wr_kp_list_offsets_req_list_offsets_partition lp;
            wr_kp_init(&wr_kp_list_offsets_req_list_offsets_partition_desc, &lp, v);
            lp.partition_index = 0;
            lp.timestamp = ts[i];
            wr_kp_list_offsets_req_list_offsets_topic lt = {.name = wr_kstr_of("cfg")};
            lt.partitions.v = &lp;
            lt.partitions.n = 1;
            lq.topics.v = &lt;
            lq.topics.n = 1;
            wr_buf_reset(&b);
            frame(&b, WR_KAPI_LIST_OFFSETS, v, 10 + i, &lq);
            send_all(fd, &b);
            wr_kp_list_offsets_resp lr;
            recv_resp(fd, WR_KAPI_LIST_OFFSETS, v, 10 + i, &lr, a, &keep);
            wr_kp_list_offsets_resp_list_offsets_partition_response *pr =
                &lr.topics.v[0].partitions.v[0];
            cr_assert_eq(pr->error_code, 0);
            if (v == 0) {
                cr_assert_eq(pr->old_style_offsets.n, 1);
                cr_assert_eq(pr->old_style_offsets.v[0], want[i], "v0 ts %lld", (long long)ts[i]);
            } else {
                cr_assert_eq(pr->offset, want[i], "v1 ts %lld", (long long)ts[i]);
            }
            free(keep);
        }
    }
    wr_buf_free(&batch);
    wr_buf_free(&b);
    wr_arena_destroy(a);
    close(fd);
    stop();
}

/* ---- SASL (kh_sasl.c) --------------------------------------------------------------------- */

static void
sasl_handshake(int fd, int32_t corr, const char *mech, int16_t want, wr_arena *a)
{
    wr_kp_sasl_handshake_req q;
    wr_kp_init(&wr_kp_sasl_handshake_req_desc, &q, 1);
    q.mechanism = wr_kstr_of(mech);
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_SASL_HANDSHAKE, 1, corr, &q);
    send_all(fd, &b);
    wr_buf_free(&b);
    wr_kp_sasl_handshake_resp r;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_SASL_HANDSHAKE, 1, corr, &r, a, &keep);
    cr_assert_eq(r.error_code, want, "handshake %s: %d", mech, r.error_code);
    free(keep);
}

Test(kafka_broker, sasl_handshake_on_a_plaintext_listener_is_an_illegal_state)
{
    start(60000);
    int fd = connect_broker();
    wr_arena *a = wr_arena_create(0);
    sasl_handshake(fd, 1, "PLAIN", 34, a);
    /* the connection serves on */
    wr_kp_api_versions_req q;
    wr_kp_init(&wr_kp_api_versions_req_desc, &q, 0);
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_API_VERSIONS, 0, 2, &q);
    send_all(fd, &b);
    wr_kp_api_versions_resp r;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_API_VERSIONS, 0, 2, &r, a, &keep);
    bool hs = false, au = false;
    for (int32_t i = 0; i < r.api_keys.n; i++) {
        hs |= r.api_keys.v[i].api_key == 17 && r.api_keys.v[i].max_version == 1;
        au |= r.api_keys.v[i].api_key == 36 && r.api_keys.v[i].max_version == 2;
    }
    cr_assert(hs && au);
    free(keep);
    wr_buf_free(&b);
    wr_arena_destroy(a);
    close(fd);
    stop();
}

Test(kafka_broker, sasl_listener_serves_after_plain_and_refuses_before)
{
    wr_err err = {0};
    cr_assert_eq(wr_log_open("/nonexistent", NULL, &db, &err), WR_OK);
    wr_broker_opts o;
    wr_broker_opts_init(&o);
    o.listen_host = "127.0.0.1";
    o.security_protocol = WR_BROKER_SASL_PLAINTEXT;
    o.sasl_mechanisms = "GSSAPI";
    cr_assert_eq(wr_broker_create(&o, db, &br, &err), WR_EINVAL);
    cr_assert(strstr(err.msg, "GSSAPI") != NULL, "%s", err.msg);
    o.sasl_mechanisms = "PLAIN";
    cr_assert_eq(wr_broker_create(&o, db, &br, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_broker_start(br, &err), WR_OK, "%s", err.msg);
    port = wr_broker_port(br);
    wr_scram_cred c;
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_256, "pw", 2, NULL, 0, 4096, &c, &err), WR_OK);
    cr_assert_eq(wr_creds_put(db, "ann", &c, &err), WR_OK, "%s", err.msg);
    wr_arena *a = wr_arena_create(0);

    /* SCRAM is not enabled here: the list says PLAIN, and the connection closes */
    int fd = connect_broker();
    sasl_handshake(fd, 1, "SCRAM-SHA-256", 33, a);
    size_t len;
    cr_assert_null(recv_frame(fd, &len, 5000));
    close(fd);

    fd = connect_broker();
    sasl_handshake(fd, 1, "PLAIN", 0, a);
    wr_kp_sasl_authenticate_req q;
    wr_kp_init(&wr_kp_sasl_authenticate_req_desc, &q, 2);
    q.auth_bytes = (wr_kbytes){(const uint8_t *)"\0ann\0pw", 7};
    wr_buf b = WR_BUF_INIT;
    frame(&b, WR_KAPI_SASL_AUTHENTICATE, 2, 2, &q);
    send_all(fd, &b);
    wr_kp_sasl_authenticate_resp r;
    uint8_t *keep;
    recv_resp(fd, WR_KAPI_SASL_AUTHENTICATE, 2, 2, &r, a, &keep);
    cr_assert_eq(r.error_code, 0, "%d %.*s", r.error_code, r.error_message.len,
                 r.error_message.s ? r.error_message.s : "");
    free(keep);
    /* authenticated: Metadata is served */
    wr_kp_metadata_req mq;
    wr_kp_init(&wr_kp_metadata_req_desc, &mq, 1);
    mq.topics.n = 0;
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_METADATA, 1, 3, &mq);
    send_all(fd, &b);
    cr_assert_not_null(keep = recv_frame(fd, &len, 5000));
    free(keep);
    close(fd);

    /* a wrong password: SASL_AUTHENTICATION_FAILED with Kafka's message, then closed */
    fd = connect_broker();
    sasl_handshake(fd, 1, "PLAIN", 0, a);
    q.auth_bytes = (wr_kbytes){(const uint8_t *)"\0ann\0px", 7};
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_SASL_AUTHENTICATE, 2, 2, &q);
    send_all(fd, &b);
    recv_resp(fd, WR_KAPI_SASL_AUTHENTICATE, 2, 2, &r, a, &keep);
    cr_assert_eq(r.error_code, 58);
    cr_assert(r.error_message.s != NULL &&
              strncmp(r.error_message.s, "Authentication failed", 21) == 0);
    free(keep);
    cr_assert_null(recv_frame(fd, &len, 5000));
    close(fd);

    /* Metadata first: closed without an answer */
    fd = connect_broker();
    wr_buf_reset(&b);
    frame(&b, WR_KAPI_METADATA, 1, 4, &mq);
    send_all(fd, &b);
    cr_assert_null(recv_frame(fd, &len, 5000));
    close(fd);
    wr_buf_free(&b);
    wr_arena_destroy(a);
    stop();
}

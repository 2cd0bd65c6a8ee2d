/*
 * kafka_rdkafka.c - librdkafka 2.0.2 against the broker. Usage: kafka_rdkafka BOOTSTRAP TEST...
 *   partitioner  keyed produce with partitioner=murmur2_random lands each key on the partition
 *                Kafka's Java client would choose (wr_murmur2_partition is the oracle)
 *   idempotence  an idempotent producer whose connections are cut (shutdown of the sockets it
 *                connected through connect_cb) while batches are in flight: every message is
 *                stored exactly once and each partition keeps produce order
 * Exit status 0 when every named test passes.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/base/murmur2.h"

static const char *bootstrap;
static int failures;

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    failures++;
}

static rd_kafka_conf_t *
base_conf(void)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char e[256];
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, e, sizeof e);
    return c;
}

static void
set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char e[256];
    if (rd_kafka_conf_set(c, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "conf %s=%s: %s\n", k, v, e);
        exit(2);
    }
}

static void
create_topic(const char *name, int parts)
{
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), NULL, 0);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    char e[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, parts, 1, e, sizeof e);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
    if (n != 1 || rd_kafka_topic_result_error(tr[0]) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("create topic %s: %s", name,
             n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : "no result");
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* ---- partitioner ----------------------------------------------------------------------- */

static int misplaced, delivered;

static void
dr_partitioner(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fail("delivery: %s", rd_kafka_err2str(m->err));
        return;
    }
    delivered++;
    int32_t want = wr_murmur2_partition(m->key, m->key_len, 6);
    if (m->partition != want) {
        if (misplaced++ < 5)
            fail("key %.*s on partition %d, Kafka puts it on %d", (int)m->key_len,
                 (const char *)m->key, (int)m->partition, want);
    }
}

static void
test_partitioner(void)
{
    create_topic("rk-murmur", 6);
    rd_kafka_conf_t *c = base_conf();
    set(c, "partitioner", "murmur2_random");
    rd_kafka_conf_set_dr_msg_cb(c, dr_partitioner);
    char e[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    for (int i = 0; i < 5000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "user-%d", i * 7919);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("rk-murmur"), RD_KAFKA_V_KEY(key, n),
                                 RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("flush timed out");
    rd_kafka_destroy(rk);
    if (delivered != 5000 || misplaced != 0)
        fail("partitioner: %d delivered, %d misplaced", delivered, misplaced);
    else
        printf("ok: partitioner (5000 keys where Kafka puts them)\n");
}

/* ---- idempotence with cut connections -------------------------------------------------- */

static pthread_mutex_t fd_mu = PTHREAD_MUTEX_INITIALIZER;
static int fds[64];
static int nfds;

static int
connect_cb(int fd, const struct sockaddr *addr, int addrlen, const char *id, void *opaque)
{
    (void)id;
    (void)opaque;
    if (connect(fd, addr, (socklen_t)addrlen) != 0) {
        if (errno != EINPROGRESS)
            return errno;
        /* librdkafka's sockets are non-blocking: wait for the connect to finish */
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        if (poll(&pf, 1, 10000) != 1)
            return ETIMEDOUT;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr != 0)
            return soerr;
    }
    pthread_mutex_lock(&fd_mu);
    if (nfds < 64)
        fds[nfds++] = fd;
    pthread_mutex_unlock(&fd_mu);
    return 0;
}

static void
cut_connections(void)
{
    pthread_mutex_lock(&fd_mu);
    for (int i = 0; i < nfds; i++)
        shutdown(fds[i], SHUT_RDWR);
    nfds = 0;
    pthread_mutex_unlock(&fd_mu);
}

static int idem_failed, idem_acked;

static void
dr_idem(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err && idem_failed++ < 5)
        fail("idempotent delivery: %s", rd_kafka_err2str(m->err));
    idem_acked++;
}

#define IDEM_N 30000
#define IDEM_PARTS 3

static void
test_idempotence(void)
{
    create_topic("rk-idem", IDEM_PARTS);
    rd_kafka_conf_t *c = base_conf();
    set(c, "enable.idempotence", "true");
    set(c, "batch.num.messages", "50");
    set(c, "linger.ms", "2");
    set(c, "message.timeout.ms", "120000");
    set(c, "compression.type", "lz4");
    set(c, "reconnect.backoff.ms", "10");
    set(c, "reconnect.backoff.max.ms", "200");
    rd_kafka_conf_set_connect_cb(c, connect_cb);
    rd_kafka_conf_set_dr_msg_cb(c, dr_idem);
    char e[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    int cuts = 0;
    for (int i = 0; i < IDEM_N; i++) {
        char v[32];
        int n = snprintf(v, sizeof v, "%d", i);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("rk-idem"),
                                 RD_KAFKA_V_PARTITION(i % IDEM_PARTS), RD_KAFKA_V_VALUE(v, n),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 5);
        if (i % 3000 == 2999) {
            /* once part of this round is acknowledged, cut while the rest is in flight */
            for (int w = 0; w < 5000 && idem_acked < i - 2000; w++)
                rd_kafka_poll(rk, 1);
            cut_connections();
            cuts++;
        }
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("idempotent flush timed out");
    rd_kafka_destroy(rk);

    /* read everything back */
    rd_kafka_conf_t *cc = base_conf();
    set(cc, "group.id", "rk-idem-reader");
    set(cc, "enable.partition.eof", "true");
    set(cc, "enable.auto.commit", "false");
    rd_kafka_t *con = rd_kafka_new(RD_KAFKA_CONSUMER, cc, e, sizeof e);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(IDEM_PARTS);
    for (int p = 0; p < IDEM_PARTS; p++)
        rd_kafka_topic_partition_list_add(tp, "rk-idem", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(con, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    static unsigned char seen[IDEM_N];
    int last[IDEM_PARTS] = {-1, -1, -1}, eofs = 0, dups = 0, total = 0, disorder = 0;
    for (int spins = 0; eofs < IDEM_PARTS && spins < 600;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(con, 100);
        if (m == NULL) {
            spins++;
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (m->err) {
            fail("consume: %s", rd_kafka_message_errstr(m));
        } else {
            int v = atoi((const char *)m->payload);
            if (v >= 0 && v < IDEM_N) {
                if (seen[v]++)
                    dups++;
                if (v <= last[m->partition])
                    disorder++;
                last[m->partition] = v;
                total++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(con);
    rd_kafka_destroy(con);
    int missing = 0;
    for (int i = 0; i < IDEM_N; i++)
        missing += !seen[i];
    if (dups || missing || disorder || idem_failed)
        fail("idempotence: %d stored, %d duplicates, %d missing, %d out of order (%d cuts)", total,
             dups, missing, disorder, cuts);
    else
        printf("ok: idempotent producer, %d messages exactly once through %d cuts\n", total, cuts);
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP TEST...\n", argv[0]);
        return 2;
    }
    bootstrap = argv[1];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "partitioner") == 0)
            test_partitioner();
        else if (strcmp(argv[i], "idempotence") == 0)
            test_idempotence();
        else {
            fprintf(stderr, "unknown test %s\n", argv[i]);
            return 2;
        }
    }
    return failures ? 1 : 0;
}

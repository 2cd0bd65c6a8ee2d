/*
 * kafka_produce.c - Kafka broker benchmark with librdkafka: producer throughput (100-byte
 * messages, acks=1 and acks=all), consumer throughput (reading the acks=1 topic back from the
 * start) and end-to-end latency (p50/p99 at a moderate, paced rate, from
 * the producer's timestamp to the consumer's poll).
 *
 *   kafka_produce BOOTSTRAP [MESSAGES] [RATE_PER_S] [KEY=VALUE ...]
 *
 * KEY=VALUE: librdkafka settings for every client (security.protocol=SSL, ssl.ca.location=...,
 * sasl.mechanisms=..., as bench/kafka_tls.sh passes them).
 * Run it against a running broker, e.g. `weir server --kafka-listen 127.0.0.1:9092 ...`.
 * Topics bench-acks1 / bench-acksall / bench-e2e are auto-created (1 partition).
 */
#include <librdkafka/rdkafka.h>

#if defined(__clang__) /* librdkafka's RD_KAFKA_V_* macros are GNU statement expressions */
#    pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long failed;

static void
dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *o)
{
    (void)rk;
    (void)o;
    if (m->err)
        failed++;
}

/* KEY=VALUE arguments of the command line: settings for every client */
static char **extra;
static int nextra;

static void
set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char e[256];
    if (rd_kafka_conf_set(c, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: %s\n", k, e);
        exit(2);
    }
}

static rd_kafka_t *
mk(rd_kafka_type_t type, const char *bootstrap, const char *const *kv)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char e[256];
    set(c, "bootstrap.servers", bootstrap);
    for (; kv && kv[0]; kv += 2)
        set(c, kv[0], kv[1]);
    for (int i = 0; i < nextra; i++) {
        char *eq = strchr(extra[i], '=');
        *eq = 0;
        set(c, extra[i], eq + 1);
        *eq = '=';
    }
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(c, dr);
    rd_kafka_t *rk = rd_kafka_new(type, c, e, sizeof e);
    if (rk == NULL) {
        fprintf(stderr, "%s\n", e);
        exit(2);
    }
    return rk;
}

static void
throughput(const char *bootstrap, const char *acks, const char *topic, long n)
{
    const char *kv[] = {"acks",
                        acks,
                        "linger.ms",
                        "5",
                        "batch.num.messages",
                        "10000",
                        "queue.buffering.max.messages",
                        "1000000",
                        NULL};
    rd_kafka_t *rk = mk(RD_KAFKA_PRODUCER, bootstrap, kv);
    char payload[100];
    memset(payload, 'x', sizeof payload);
    failed = 0;
    int64_t t0 = now_us();
    for (long i = 0; i < n; i++) {
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, 100),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double s = (double)(now_us() - t0) / 1e6;
    printf("produce acks=%-3s %ld x 100 B: %.0f records/s, %.1f MB/s (%ld failed)\n", acks, n,
           (double)n / s, (double)n * 100 / s / 1e6, failed);
    rd_kafka_destroy(rk);
}

/* Reads n messages of topic partition 0 from the beginning. */
static void
consume(const char *bootstrap, const char *topic, long n)
{
    const char *kv[] = {"group.id",
                        "bench-consume",
                        "enable.auto.commit",
                        "false",
                        "fetch.max.bytes",
                        "52428800",
                        "queued.min.messages",
                        "1000000",
                        NULL};
    rd_kafka_t *c = mk(RD_KAFKA_CONSUMER, bootstrap, kv);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    long got = 0, bytes = 0;
    int64_t t0 = now_us();
    while (got < n && now_us() - t0 < 120000000) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err) {
            got++;
            bytes += (long)m->len;
        }
        rd_kafka_message_destroy(m);
    }
    double s = (double)(now_us() - t0) / 1e6;
    printf("consume          %ld x 100 B: %.0f records/s, %.1f MB/s\n", got, (double)got / s,
           (double)bytes / s / 1e6);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

static int
cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void
latency(const char *bootstrap, long n, long rate)
{
    const char *pkv[] = {"acks", "all", "linger.ms", "0", NULL};
    const char *ckv[] = {"group.id",
                         "bench-e2e",
                         "auto.offset.reset",
                         "latest",
                         "fetch.wait.max.ms",
                         "100",
                         "enable.auto.commit",
                         "false",
                         NULL};
    rd_kafka_t *p = mk(RD_KAFKA_PRODUCER, bootstrap, pkv);
    rd_kafka_t *c = mk(RD_KAFKA_CONSUMER, bootstrap, ckv);
    /* make sure the topic exists, then start the consumer at its end */
    rd_kafka_producev(p, RD_KAFKA_V_TOPIC("bench-e2e"), RD_KAFKA_V_VALUE("warm", 4),
                      RD_KAFKA_V_END);
    rd_kafka_flush(p, 10000);
    int64_t lo = 0, hi = 0;
    rd_kafka_query_watermark_offsets(c, "bench-e2e", 0, &lo, &hi, 10000);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, "bench-e2e", 0)->offset = hi;
    rd_kafka_assign(c, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    long got = 0, sent = 0;
    int64_t t0 = now_us(), gap = 1000000 / rate;
    while (got < n && now_us() - t0 < 120000000) {
        if (sent < n && now_us() >= t0 + sent * gap) {
            int64_t ts = now_us();
            rd_kafka_producev(p, RD_KAFKA_V_TOPIC("bench-e2e"), RD_KAFKA_V_VALUE(&ts, sizeof ts),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            sent++;
        }
        rd_kafka_poll(p, 0);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 0);
        if (m) {
            if (!m->err && m->len == sizeof(int64_t)) {
                int64_t ts;
                memcpy(&ts, m->payload, sizeof ts);
                lat[got++] = now_us() - ts;
            }
            rd_kafka_message_destroy(m);
        }
    }
    qsort(lat, (size_t)got, sizeof *lat, cmp64);
    if (got > 0)
        printf("end-to-end at %ld msg/s (acks=all, linger 0): %ld samples, p50 %.2f ms, "
               "p99 %.2f ms\n",
               rate, got, (double)lat[got / 2] / 1000, (double)lat[got * 99 / 100] / 1000);
    free(lat);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_destroy(p);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s BOOTSTRAP [MESSAGES] [RATE_PER_S] [KEY=VALUE ...]\n", argv[0]);
        return 2;
    }
    for (int i = 4; i < argc; i++) {
        if (strchr(argv[i], '=') == NULL) {
            fprintf(stderr, "%s: not KEY=VALUE\n", argv[i]);
            return 2;
        }
    }
    extra = argc > 4 ? argv + 4 : NULL;
    nextra = argc > 4 ? argc - 4 : 0;
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    long rate = argc > 3 ? atol(argv[3]) : 1000;
    throughput(argv[1], "1", "bench-acks1", n);
    throughput(argv[1], "all", "bench-acksall", n);
    consume(argv[1], "bench-acks1", n);
    latency(argv[1], rate * 5, rate);
    return 0;
}

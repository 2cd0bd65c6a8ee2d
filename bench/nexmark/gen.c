/*
 * gen.c - the Nexmark event generator (bench/nexmark/nexmark.h) as a command: writes events as
 * JSON records to weir's topics person, auction and bid (and q13's side_input).
 *
 *   gen [--events N] [--rate EVENTS_PER_S] [--seed S] [--base-time MS] [--side-input ROWS]
 *       [--stdout | --log DIR | --bootstrap HOST:PORT]
 *
 * --events   how many events (default 100,000): person, auction and bid in 1:3:46
 * --rate     events per second of event time (default 10,000, the reference's)
 * --seed     xor'd into every event's seed (default 0: the reference's events)
 * --base-time event time of the first event, ms since the epoch (default: now, as the
 *            reference; give it to make two runs write the same events)
 * --side-input also write ROWS rows {"key":k,"value":"side-k"} keyed k to side_input (q13), 1 ms
 *            before the first event
 * --stdout   (default) one JSON line per record: {"topic","key","timestamp","value":{...}}
 * --log      append to the embedded log in DIR (not while a server holds it)
 * --bootstrap produce over the Kafka protocol (librdkafka, murmur2_random partitioner, record
 *            time = event time); topics are created by the broker when missing
 * Record keys are 8-byte big-endian BIGINTs (KAFKA format): a person's and an auction's id, a
 * bid's auction. Prints "gen: N events (P persons, A auctions, B bids) ..." on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#if WR_HAVE_RDKAFKA
#    include <librdkafka/rdkafka.h>
#    if defined(__clang__)
#        pragma clang diagnostic ignored "-Wgnu-statement-expression"
#    endif
#endif

#include "bench/nexmark/load.h"
#include "bench/nexmark/nexmark.h"

static void
usage(void)
{
    fprintf(stderr, "usage: gen [--events N] [--rate EVENTS_PER_S] [--seed S] [--base-time MS]\n"
                    "           [--side-input ROWS] [--stdout | --log DIR | --bootstrap "
                    "HOST:PORT]\n");
    exit(2);
}

static void
to_stdout(const nx_config *c, long n, long side_rows)
{
    char value[1200];
    nx_event e;
    for (long i = 0; i < n; i++) {
        nx_event_make(c, i, &e);
        nx_event_json(&e, value, sizeof value);
        printf("{\"topic\":\"%s\",\"key\":%lld,\"timestamp\":%lld,\"value\":%s}\n",
               nx_topics[e.kind], (long long)nx_event_key(&e), (long long)e.date_time, value);
    }
    for (long k = 0; k < side_rows; k++) {
        nx_side_json(k, value, sizeof value);
        printf("{\"topic\":\"side_input\",\"key\":%ld,\"timestamp\":%lld,\"value\":%s}\n", k,
               (long long)c->base_time - 1, value);
    }
}

#if WR_HAVE_RDKAFKA
static long failed;

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err && failed++ == 0)
        fprintf(stderr, "gen: delivery failed: %s\n", rd_kafka_err2str(m->err));
}

static void
produce(rd_kafka_t *rk, const char *topic, int64_t key, int64_t ts, const char *value, int len)
{
    uint8_t k[8];
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)((uint64_t)key >> (56 - 8 * i));
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(k, 8),
                             RD_KAFKA_V_VALUE((void *)value, (size_t)len), RD_KAFKA_V_TIMESTAMP(ts),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
}

static void
to_kafka(const char *bootstrap, const nx_config *c, long n, long side_rows)
{
    static const char *kv[] = {"bootstrap.servers",
                               NULL,
                               "partitioner",
                               "murmur2_random",
                               "linger.ms",
                               "5",
                               "batch.num.messages",
                               "10000",
                               "compression.type",
                               "zstd",
                               "enable.idempotence",
                               "true",
                               NULL};
    kv[1] = bootstrap;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char es[256];
    for (int i = 0; kv[i]; i += 2)
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], es, sizeof es) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "gen: %s: %s\n", kv[i], es);
            exit(1);
        }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
    if (rk == NULL) {
        fprintf(stderr, "gen: %s\n", es);
        exit(1);
    }
    char value[1200];
    nx_event e;
    for (long i = 0; i < n; i++) {
        nx_event_make(c, i, &e);
        int len = nx_event_json(&e, value, sizeof value);
        produce(rk, nx_topics[e.kind], nx_event_key(&e), e.date_time, value, len);
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    for (long k = 0; k < side_rows; k++) {
        int len = nx_side_json(k, value, sizeof value);
        produce(rk, "side_input", k, c->base_time - 1, value, len);
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR || failed > 0) {
        fprintf(stderr, "gen: %ld records not delivered\n", failed + rd_kafka_outq_len(rk));
        exit(1);
    }
    rd_kafka_destroy(rk);
}
#endif

int
main(int argc, char **argv)
{
    static const struct option opts[] = {{"events", required_argument, NULL, 'n'},
                                         {"rate", required_argument, NULL, 'r'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"base-time", required_argument, NULL, 't'},
                                         {"side-input", required_argument, NULL, 'i'},
                                         {"stdout", no_argument, NULL, 'o'},
                                         {"log", required_argument, NULL, 'l'},
                                         {"bootstrap", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    nx_config c = nx_config_default();
    struct timeval tv;
    gettimeofday(&tv, NULL);
    c.base_time = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    long n = 100000, side_rows = 0;
    const char *logdir = NULL, *bootstrap = NULL;
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (o) {
        case 'n':
            n = atol(optarg);
            break;
        case 'r':
            c.rate = atol(optarg);
            break;
        case 's':
            c.seed = strtoull(optarg, NULL, 0);
            break;
        case 't':
            c.base_time = atoll(optarg);
            break;
        case 'i':
            side_rows = atol(optarg);
            break;
        case 'o':
            logdir = bootstrap = NULL;
            break;
        case 'l':
            logdir = optarg;
            break;
        case 'b':
            bootstrap = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc || n < 0 || c.rate <= 0 || c.rate > 1000000 || side_rows < 0)
        usage();
    if (logdir != NULL) {
        wr_err err = {0};
        wr_logdb *db;
        wr_log_opts lo = {.flush = WR_LOG_FLUSH_NONE};
        wr_log_set_level(WR_LOG_WARN);
        if (wr_log_open(logdir, &lo, &db, &err) != WR_OK)
            bench_die(logdir, &err);
        nx_log_load(db, &c, n, side_rows);
        wr_log_close(db);
    } else if (bootstrap != NULL) {
#if WR_HAVE_RDKAFKA
        to_kafka(bootstrap, &c, n, side_rows);
#else
        fprintf(stderr, "gen: built without librdkafka: --bootstrap is not available\n");
        return 1;
#endif
    } else {
        to_stdout(&c, n, side_rows);
    }
    long persons = (n + NX_PROPORTION_DENOM - 1) / NX_PROPORTION_DENOM;
    long auctions = 0;
    for (long r = 0; r < NX_PROPORTION_DENOM && r < n; r++)
        if (r >= NX_PERSON_PROPORTION && r < NX_PERSON_PROPORTION + NX_AUCTION_PROPORTION)
            auctions += (n - r + NX_PROPORTION_DENOM - 1) / NX_PROPORTION_DENOM;
    fprintf(stderr,
            "gen: %ld events (%ld persons, %ld auctions, %ld bids) from %lld ms at %ld events/s, "
            "seed %llu; longest auction %lld ms\n",
            n, persons, auctions, n - persons - auctions, (long long)c.base_time, c.rate,
            (unsigned long long)c.seed, (long long)nx_max_auction_ms(&c));
    return 0;
}

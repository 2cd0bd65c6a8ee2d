/*
 * kafka_rdkafka.c - librdkafka 2.0.2 against the broker. Usage: kafka_rdkafka BOOTSTRAP TEST...
 *   partitioner  keyed produce with partitioner=murmur2_random lands each key on the partition
 *                Kafka's Java client would choose (wr_murmur2_partition is the oracle)
 *   idempotence  an idempotent producer whose connections are cut (shutdown of the sockets it
 *                connected through connect_cb) while batches are in flight: every message is
 *                stored exactly once and each partition keeps produce order
 *   groups       3 consumers in one group on a 6-partition topic get 2 partitions each; one
 *                leaves, the other two take over with no message lost; a new member resumes
 *                from the committed offsets
 *   commit-phase1 / commit-phase2   commit offsets, (the caller restarts the broker), and check
 *                that the committed offsets survived
 * Exit status 0 when every named test passes.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>

#if defined(__clang__) /* librdkafka's RD_KAFKA_V_* macros are GNU statement expressions */
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif
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

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

#define IDEM_N     30000
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

/* ---- consumer groups ------------------------------------------------------------------- */

#define GRP_PARTS 6
#define GRP_N     6000

static void
produce_seq(const char *topic, int from, int to)
{
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), NULL, 0);
    for (int i = from; i < to; i++) {
        char v[32];
        int n = snprintf(v, sizeof v, "%d", i);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(i % GRP_PARTS),
                                 RD_KAFKA_V_VALUE(v, n), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("produce to %s timed out", topic);
    rd_kafka_destroy(rk);
}

static rd_kafka_t *
group_consumer(const char *group, const char *topic)
{
    rd_kafka_conf_t *c = base_conf();
    set(c, "group.id", group);
    set(c, "enable.auto.commit", "false");
    set(c, "auto.offset.reset", "earliest");
    set(c, "session.timeout.ms", "6000");
    set(c, "heartbeat.interval.ms", "300");
    set(c, "partition.assignment.strategy", "range");
    char e[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof e);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    return rk;
}

static int
assigned(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    int n = a->cnt;
    rd_kafka_topic_partition_list_destroy(a);
    return n;
}

/* Polls every live consumer once; counts messages into seen[]. Returns messages consumed. */
static int
poll_all(rd_kafka_t **cs, int n, unsigned *seen, int limit)
{
    int got = 0;
    for (int i = 0; i < n; i++) {
        if (cs[i] == NULL)
            continue;
        for (int k = 0; k < 200; k++) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(cs[i], k == 0 ? 20 : 0);
            if (m == NULL)
                break;
            if (!m->err) {
                int v = atoi((const char *)m->payload);
                if (v >= 0 && v < limit)
                    seen[v]++;
                got++;
            }
            rd_kafka_message_destroy(m);
        }
    }
    return got;
}

/* Sum of the positions of every partition assigned to the consumers. */
static int64_t
positions_sum(rd_kafka_t **cs, int n)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(cs[i], &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(a);
        rd_kafka_position(cs[i], a);
        rd_kafka_committed(cs[i], c, 5000); /* for partitions handed over already at the end */
        for (int k = 0; k < a->cnt; k++)
            if (a->elems[k].offset >= 0)
                sum += a->elems[k].offset;
            else if (c->elems[k].offset >= 0)
                sum += c->elems[k].offset;
        rd_kafka_topic_partition_list_destroy(a);
        rd_kafka_topic_partition_list_destroy(c);
    }
    return sum;
}

static void
test_groups(void)
{
    create_topic("rk-grp", GRP_PARTS);
    produce_seq("rk-grp", 0, GRP_N);
    rd_kafka_t *cs[3];
    for (int i = 0; i < 3; i++)
        cs[i] = group_consumer("rk-grp-g", "rk-grp");
    static unsigned seen[GRP_N + 600];
    /* all three get two partitions each */
    int ok = 0;
    for (int spins = 0; spins < 1500 && !ok; spins++) {
        poll_all(cs, 3, seen, GRP_N);
        ok = assigned(cs[0]) == 2 && assigned(cs[1]) == 2 && assigned(cs[2]) == 2;
    }
    if (!ok) {
        fail("assignment: %d/%d/%d partitions, want 2 each", assigned(cs[0]), assigned(cs[1]),
             assigned(cs[2]));
        return;
    }
    printf("ok: 3 members on %d partitions got 2 each\n", GRP_PARTS);
    /* consume about half, commit everywhere, then the third member leaves */
    int total = 0;
    for (int spins = 0; spins < 3000 && total < GRP_N / 2; spins++)
        total += poll_all(cs, 3, seen, GRP_N);
    for (int i = 0; i < 3; i++)
        if (rd_kafka_commit(cs[i], NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR)
            fail("commit %d", i);
    rd_kafka_consumer_close(cs[2]);
    rd_kafka_destroy(cs[2]);
    cs[2] = NULL;
    int missing = GRP_N;
    for (int spins = 0; spins < 6000 && missing > 0; spins++) {
        poll_all(cs, 2, seen, GRP_N);
        missing = 0;
        for (int v = 0; v < GRP_N; v++)
            missing += seen[v] == 0;
    }
    /* at-least-once: a reassigned partition restarts at its last commit, so keep consuming
       until both members' positions reach the end before committing again */
    for (int spins = 0; spins < 6000 && positions_sum(cs, 2) < GRP_N; spins++)
        poll_all(cs, 2, seen, GRP_N);
    int a0 = assigned(cs[0]), a1 = assigned(cs[1]);
    if (missing > 0 || a0 + a1 != GRP_PARTS || a0 != 3)
        fail("after a member left: %d messages never seen, assignment %d+%d", missing, a0, a1);
    else
        printf("ok: member left, the other two took over 3+3 partitions, no message lost\n");
    for (int i = 0; i < 2; i++) /* both commit before either leaves (a leave rebalances) */
        if (rd_kafka_commit(cs[i], NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR)
            fail("commit %d after takeover", i);
    for (int i = 0; i < 2; i++) {
        rd_kafka_consumer_close(cs[i]);
        rd_kafka_destroy(cs[i]);
    }
    /* new messages; a new member resumes exactly from the committed offsets */
    produce_seq("rk-grp", GRP_N, GRP_N + 600);
    memset(seen, 0, sizeof seen);
    rd_kafka_t *d[1] = {group_consumer("rk-grp-g", "rk-grp")};
    int got = 0;
    for (int spins = 0; spins < 3000 && got < 600; spins++)
        got += poll_all(d, 1, seen, GRP_N + 600);
    for (int spins = 0; spins < 20; spins++) /* anything extra would show up now */
        got += poll_all(d, 1, seen, GRP_N + 600);
    int old = 0, fresh = 0;
    for (int v = 0; v < GRP_N + 600; v++) {
        if (v < GRP_N)
            old += seen[v];
        else
            fresh += seen[v] == 1;
    }
    if (old != 0 || fresh != 600 || got != 600)
        fail("resume: %d old messages re-read, %d of 600 new seen once (%d total)", old, fresh,
             got);
    else
        printf("ok: a new member resumed from the committed offsets (600 new, 0 old)\n");
    rd_kafka_consumer_close(d[0]);
    rd_kafka_destroy(d[0]);
}

/* Phase 1: consume 3000 of 6000 messages of rk-rst in group rk-rst-g and commit. Phase 2 (after
   a broker restart): the committed offsets are still there and consumption resumes there. */
static void
test_commit_phase(int phase)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(GRP_PARTS);
    for (int p = 0; p < GRP_PARTS; p++)
        rd_kafka_topic_partition_list_add(parts, "rk-rst", p);
    if (phase == 1) {
        create_topic("rk-rst", GRP_PARTS);
        produce_seq("rk-rst", 0, GRP_N);
        rd_kafka_t *c[1] = {group_consumer("rk-rst-g", "rk-rst")};
        static unsigned seen[GRP_N];
        int got = 0;
        for (int spins = 0; spins < 3000 && got < GRP_N; spins++)
            got += poll_all(c, 1, seen, GRP_N);
        if (rd_kafka_commit(c[0], NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR)
            fail("commit before restart");
        rd_kafka_consumer_close(c[0]);
        rd_kafka_destroy(c[0]);
        printf("ok: consumed %d and committed before the restart\n", got);
    } else {
        rd_kafka_conf_t *cf = base_conf();
        set(cf, "group.id", "rk-rst-g");
        char e[256];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, cf, e, sizeof e);
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, 30000);
        int64_t sum = 0;
        for (int p = 0; p < parts->cnt; p++)
            sum += parts->elems[p].offset;
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR || sum != GRP_N)
            fail("after restart: committed offsets sum to %lld, want %d (%s)", (long long)sum,
                 GRP_N, rd_kafka_err2str(err));
        else
            printf("ok: committed offsets survived the restart\n");
        rd_kafka_destroy(rk);
    }
    rd_kafka_topic_partition_list_destroy(parts);
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
        else if (strcmp(argv[i], "groups") == 0)
            test_groups();
        else if (strcmp(argv[i], "commit-phase1") == 0)
            test_commit_phase(1);
        else if (strcmp(argv[i], "commit-phase2") == 0)
            test_commit_phase(2);
        else {
            fprintf(stderr, "unknown test %s\n", argv[i]);
            return 2;
        }
    }
    return failures ? 1 : 0;
}

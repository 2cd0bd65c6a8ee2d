/*
 * producer.c - the in-process transactional producer (producer.h).
 *
 * State: the producer id and epoch the coordinator gave (they change at every EndTxn, as the
 * epoch moves on), whether a transaction is open, and the partitions written so far, each with
 * its next sequence number and whether the open transaction holds it. Sequences start at 0 for
 * each epoch, as Kafka's do, so they restart with every transaction.
 */
#include "src/coord/producer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/base/logging.h"
#include "src/kafka/kerr.h"
#include "src/log/rbatch.h"

#define TAG "producer"
/* how long a request may keep getting CONCURRENT_TRANSACTIONS (markers being written by
   someone else: the timeout thread, or the previous instance's abort) before giving up */
#define BUSY_RETRY_MS 10000

typedef struct ppart {
    char *topic;
    int32_t part;
    int32_t seq; /* the next batch's base sequence */
    bool added;  /* the open transaction holds it */
} ppart;

struct wr_txn_producer {
    wr_txn_coord *c;
    wr_logdb *db;
    char *id;
    int32_t timeout_ms;
    int64_t pid;
    int16_t epoch;
    bool in_txn, fenced;
    ppart *parts;
    int nparts, capparts;
    char **groups; /* groups added to the open transaction */
    int ngroups, capgroups;
};

static const char *
kerr_name(int16_t k)
{
    switch (k) {
    case WR_KERR_PRODUCER_FENCED:
        return "PRODUCER_FENCED";
    case WR_KERR_INVALID_PRODUCER_EPOCH:
        return "INVALID_PRODUCER_EPOCH";
    case WR_KERR_INVALID_PRODUCER_ID_MAPPING:
        return "INVALID_PRODUCER_ID_MAPPING";
    case WR_KERR_INVALID_TXN_STATE:
        return "INVALID_TXN_STATE";
    case WR_KERR_CONCURRENT_TRANSACTIONS:
        return "CONCURRENT_TRANSACTIONS";
    case WR_KERR_KAFKA_STORAGE_ERROR:
        return "KAFKA_STORAGE_ERROR";
    case WR_KERR_INVALID_TRANSACTION_TIMEOUT:
        return "INVALID_TRANSACTION_TIMEOUT";
    case WR_KERR_UNKNOWN_TOPIC_OR_PARTITION:
        return "UNKNOWN_TOPIC_OR_PARTITION";
    default:
        return "error";
    }
}

/* A coordinator error as a weir error: the fencing ones make the producer unusable until it is
   opened again. */
static int
fail(wr_txn_producer *p, const char *what, int16_t k, wr_err *err)
{
    int code;
    switch (k) {
    case WR_KERR_PRODUCER_FENCED:
    case WR_KERR_INVALID_PRODUCER_EPOCH:
    case WR_KERR_INVALID_PRODUCER_ID_MAPPING:
        p->fenced = true;
        code = WR_EFENCED;
        break;
    case WR_KERR_INVALID_TXN_STATE:
        code = WR_ESTATE;
        break;
    case WR_KERR_CONCURRENT_TRANSACTIONS:
        code = WR_EBUSY;
        break;
    case WR_KERR_KAFKA_STORAGE_ERROR:
        code = WR_EIO;
        break;
    case WR_KERR_INVALID_TRANSACTION_TIMEOUT:
        code = WR_EINVAL;
        break;
    case WR_KERR_UNKNOWN_TOPIC_OR_PARTITION:
        code = WR_ENOENT;
        break;
    default:
        code = WR_EINTERNAL;
        break;
    }
    return wr_err_set(err, code, "transactional id %s: %s: %s (%d)", p->id, what, kerr_name(k), k);
}

static void
nap_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000};
    nanosleep(&ts, NULL);
}

/* Whether a request that got k should be sent again: the coordinator is busy writing markers
   (CONCURRENT_TRANSACTIONS), for at most BUSY_RETRY_MS in all. */
static bool
again(int16_t k, int64_t *waited)
{
    if (k != WR_KERR_CONCURRENT_TRANSACTIONS || *waited >= BUSY_RETRY_MS)
        return false;
    nap_ms(10);
    *waited += 10;
    return true;
}

/* The transaction is over (committed, aborted or lost): nothing is added any more, and the
   sequences restart with the next epoch. */
static void
txn_reset(wr_txn_producer *p)
{
    p->in_txn = false;
    for (int i = 0; i < p->nparts; i++) {
        p->parts[i].added = false;
        p->parts[i].seq = 0;
    }
    for (int i = 0; i < p->ngroups; i++)
        free(p->groups[i]);
    p->ngroups = 0;
}

static int
init_pid(wr_txn_producer *p, wr_err *err)
{
    txn_reset(p);
    int16_t k;
    int64_t w = 0;
    do
        k = wr_txn_init_producer(p->c, p->id, p->timeout_ms, -1, -1, &p->pid, &p->epoch);
    while (again(k, &w));
    if (k != WR_KERR_NONE)
        return fail(p, "InitProducerId", k, err);
    p->fenced = false;
    return WR_OK;
}

int
wr_txn_producer_open(wr_txn_coord *c,
                     wr_logdb *db,
                     const char *txn_id,
                     int32_t timeout_ms,
                     wr_txn_producer **out,
                     wr_err *err)
{
    wr_txn_producer *p = calloc(1, sizeof *p);
    if (p == NULL || (p->id = strdup(txn_id)) == NULL) {
        free(p);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    p->c = c;
    p->db = db;
    p->timeout_ms = timeout_ms;
    int rc = init_pid(p, err);
    if (rc != WR_OK) {
        wr_txn_producer_close(p);
        return rc;
    }
    *out = p;
    return WR_OK;
}

int
wr_txn_producer_reopen(wr_txn_producer *p, wr_err *err)
{
    return init_pid(p, err);
}

void
wr_txn_producer_close(wr_txn_producer *p)
{
    if (p == NULL)
        return;
    txn_reset(p);
    for (int i = 0; i < p->nparts; i++)
        free(p->parts[i].topic);
    free(p->parts);
    free(p->groups);
    free(p->id);
    free(p);
}

bool
wr_txn_producer_in_txn(const wr_txn_producer *p)
{
    return p->in_txn;
}

const char *
wr_txn_producer_id(const wr_txn_producer *p)
{
    return p->id;
}

static ppart *
part_of(wr_txn_producer *p, const char *topic, int32_t part)
{
    for (int i = 0; i < p->nparts; i++)
        if (p->parts[i].part == part && strcmp(p->parts[i].topic, topic) == 0)
            return &p->parts[i];
    if (p->nparts == p->capparts) {
        int cap = p->capparts ? p->capparts * 2 : 8;
        ppart *n = realloc(p->parts, (size_t)cap * sizeof *n);
        if (n == NULL)
            return NULL;
        p->parts = n;
        p->capparts = cap;
    }
    ppart *pp = &p->parts[p->nparts];
    *pp = (ppart){.topic = strdup(topic), .part = part};
    if (pp->topic == NULL)
        return NULL;
    p->nparts++;
    return pp;
}

int
wr_txn_producer_add(wr_txn_producer *p, wr_txn_partition *parts, int n, wr_err *err)
{
    if (p->fenced)
        return wr_err_set(err, WR_EFENCED, "transactional id %s: fenced; open it again", p->id);
    wr_txn_partition *todo = malloc(((size_t)n + 1) * sizeof *todo);
    ppart **pps = malloc(((size_t)n + 1) * sizeof *pps);
    int m = 0, rc = WR_OK;
    if (todo == NULL || pps == NULL)
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    for (int i = 0; i < n && rc == WR_OK; i++) {
        ppart *pp = part_of(p, parts[i].topic, parts[i].partition);
        if (pp == NULL)
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        else if (!pp->added) {
            bool dup = false; /* the same partition twice in parts */
            for (int j = 0; j < m; j++)
                dup |= pps[j] == pp;
            if (!dup) {
                pps[m] = pp;
                todo[m++] = parts[i];
            }
        }
    }
    if (rc == WR_OK && m > 0) {
        int16_t k;
        int64_t w = 0;
        do
            k = wr_txn_add_partitions(p->c, p->id, p->pid, p->epoch, todo, m);
        while (again(k, &w));
        if (k != WR_KERR_NONE)
            rc = fail(p, "AddPartitionsToTxn", k, err);
        else {
            p->in_txn = true;
            for (int j = 0; j < m; j++)
                pps[j]->added = true;
        }
    }
    free(todo);
    free(pps);
    return rc;
}

int
wr_txn_producer_append(wr_txn_producer *p,
                       const char *topic,
                       int32_t part,
                       uint8_t *data,
                       size_t len,
                       wr_log_append_result *res,
                       wr_err *err)
{
    wr_txn_partition tp = {topic, part, 0};
    int rc = wr_txn_producer_add(p, &tp, 1, err);
    if (rc != WR_OK)
        return rc;
    ppart *pp = part_of(p, topic, part); /* found: just added */
    wr_partition *lp;
    if ((rc = wr_log_partition(p->db, topic, part, &lp)) != WR_OK)
        return wr_err_set(err, rc, "partition %s-%d is missing", topic, part);
    int32_t seq = pp->seq;
    for (size_t off = 0; off < len;) {
        size_t n = wr_rbatch_size(data + off, len - off);
        int32_t count = n > 0 ? wr_rbatch_set_producer(data + off, len - off, p->pid, p->epoch, seq,
                                                       WR_RBATCH_TRANSACTIONAL)
                              : -1;
        if (count < 0)
            return wr_err_set(err, WR_EINVAL, "not a whole record batch at byte %zu", off);
        /* sequences wrap at the int32 maximum, as Kafka's do */
        seq = (int32_t)(((int64_t)seq + count) & INT32_MAX);
        off += n;
    }
    int16_t k = wr_txn_produce_begin(p->c, p->id, p->pid, p->epoch, topic, part);
    if (k != WR_KERR_NONE)
        return fail(p, "Produce", k, err);
    rc = wr_log_append(lp, data, len, res, err);
    wr_txn_produce_end(p->c, p->id);
    if (rc == WR_OK)
        pp->seq = seq;
    return rc;
}

int
wr_txn_producer_offsets(
    wr_txn_producer *p, const char *group, wr_txn_offset *offs, int n, wr_err *err)
{
    if (p->fenced)
        return wr_err_set(err, WR_EFENCED, "transactional id %s: fenced; open it again", p->id);
    bool have = false;
    for (int i = 0; i < p->ngroups && !have; i++)
        have = strcmp(p->groups[i], group) == 0;
    if (!have) {
        if (p->ngroups == p->capgroups) {
            int cap = p->capgroups ? p->capgroups * 2 : 2;
            char **g = realloc(p->groups, (size_t)cap * sizeof *g);
            if (g == NULL)
                return wr_err_set(err, WR_ENOMEM, "out of memory");
            p->groups = g;
            p->capgroups = cap;
        }
        char *g = strdup(group);
        if (g == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        int16_t k;
        int64_t w = 0;
        do
            k = wr_txn_add_offsets(p->c, p->id, p->pid, p->epoch, group);
        while (again(k, &w));
        if (k != WR_KERR_NONE) {
            free(g);
            return fail(p, "AddOffsetsToTxn", k, err);
        }
        p->groups[p->ngroups++] = g;
        p->in_txn = true;
    }
    int16_t k;
    int64_t w = 0;
    do
        k = wr_txn_offset_commit(p->c, p->id, p->pid, p->epoch, group, offs, n);
    while (again(k, &w));
    if (k != WR_KERR_NONE)
        return fail(p, "TxnOffsetCommit", k, err);
    return WR_OK;
}

static int
end(wr_txn_producer *p, bool commit, wr_err *err)
{
    if (p->fenced)
        return wr_err_set(err, WR_EFENCED, "transactional id %s: fenced; open it again", p->id);
    if (!p->in_txn)
        return WR_OK;
    int64_t np;
    int16_t ne;
    int16_t k;
    int64_t w = 0;
    do
        k = wr_txn_end(p->c, p->id, p->pid, p->epoch, commit, true, &np, &ne);
    while (again(k, &w));
    if (k != WR_KERR_NONE)
        return fail(p, commit ? "EndTxn(commit)" : "EndTxn(abort)", k, err);
    p->pid = np;
    p->epoch = ne;
    txn_reset(p);
    return WR_OK;
}

int
wr_txn_producer_commit(wr_txn_producer *p, wr_err *err)
{
    return end(p, true, err);
}

int
wr_txn_producer_abort(wr_txn_producer *p, wr_err *err)
{
    return end(p, false, err);
}

/*
 * kidem.c - idempotent producer state: producer ids and per-partition sequence checks.
 *
 * For every (topic, partition, producer id) the table keeps the producer epoch and the last five
 * batches appended (first and last sequence, base offset), as Kafka's ProducerStateManager does.
 * A batch is appended when its first sequence follows the last one stored; an exact retry of one
 * of the five is answered with the original base offset and not appended again; anything else is
 * OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is INVALID_PRODUCER_EPOCH; a newer epoch must
 * start at sequence 0. The state is written through to the log's "producers" meta table after
 * each append, so it survives a restart; producer ids come from a persisted counter.
 *
 * Threads: called from thread-pool workers; one mutex guards the table and is held across the
 * check, the append and the state update of an idempotent batch (plain batches skip it).
 * Ownership: the table owns its entries.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/logging.h"
#include "src/kafka/broker_int.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

#define WR_KIDEM_BUCKETS   4096
#define WR_KIDEM_KEEP      5
#define WR_KIDEM_PID_BLOCK 1000
#define WR_KIDEM_TABLE     "producers"

typedef struct kidem_batch {
    int32_t first_seq, last_seq;
    int64_t base_offset;
} kidem_batch;

typedef struct kidem_entry {
    struct kidem_entry *next;
    int16_t epoch;
    int count; /* batches kept, newest last */
    kidem_batch b[WR_KIDEM_KEEP];
    size_t klen;
    uint8_t key[]; /* topic '\0' partition(be32) pid(be64) */
} kidem_entry;

struct wr_kidem {
    pthread_mutex_t mu;
    wr_logdb *db;
    int64_t next_pid, pid_limit; /* ids below pid_limit are reserved in the meta store */
    kidem_entry *buckets[WR_KIDEM_BUCKETS];
};

int
wr__kidem_create(wr_logdb *db, wr_kidem **out)
{
    wr_kidem *t = calloc(1, sizeof *t);
    if (t == NULL)
        return WR_ENOMEM;
    pthread_mutex_init(&t->mu, NULL);
    t->db = db;
    wr_buf v = WR_BUF_INIT;
    if (wr_log_meta_get(db, WR_KIDEM_TABLE, "!next_pid", 9, &v, NULL) == WR_OK && v.len == 8)
        t->next_pid = (int64_t)wr_be64_get(v.data);
    else
        t->next_pid = 1000;
    t->pid_limit = t->next_pid;
    wr_buf_free(&v);
    *out = t;
    return WR_OK;
}

void
wr__kidem_destroy(wr_kidem *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < WR_KIDEM_BUCKETS; i++) {
        kidem_entry *e = t->buckets[i];
        while (e != NULL) {
            kidem_entry *n = e->next;
            free(e);
            e = n;
        }
    }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int
wr__kidem_new_pid(wr_kidem *t, int64_t *pid, wr_err *err)
{
    int rc = WR_OK;
    pthread_mutex_lock(&t->mu);
    if (t->next_pid >= t->pid_limit) {
        /* reserve a block, so a restart never hands out an id twice */
        uint8_t v[8];
        wr_be64_put(v, (uint64_t)(t->pid_limit + WR_KIDEM_PID_BLOCK));
        rc = wr_log_meta_put(t->db, WR_KIDEM_TABLE, "!next_pid", 9, v, 8, err);
        if (rc == WR_OK)
            t->pid_limit += WR_KIDEM_PID_BLOCK;
    }
    if (rc == WR_OK)
        *pid = t->next_pid++;
    pthread_mutex_unlock(&t->mu);
    return rc;
}

static uint32_t
hash_key(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

/* Finds (loading from the meta store, or creating empty with epoch -1) the entry of key. */
static kidem_entry *
lookup(wr_kidem *t, const uint8_t *key, size_t klen)
{
    uint32_t h = hash_key(key, klen) % WR_KIDEM_BUCKETS;
    for (kidem_entry *e = t->buckets[h]; e != NULL; e = e->next)
        if (e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    kidem_entry *e = calloc(1, sizeof *e + klen);
    if (e == NULL)
        return NULL;
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->epoch = -1;
    wr_buf v = WR_BUF_INIT;
    if (wr_log_meta_get(t->db, WR_KIDEM_TABLE, key, klen, &v, NULL) == WR_OK && v.len >= 3) {
        e->epoch = (int16_t)wr_be16_get(v.data);
        int n = v.data[2];
        if (n <= WR_KIDEM_KEEP && v.len == 3 + (size_t)n * 16) {
            for (int i = 0; i < n; i++) {
                const uint8_t *p = v.data + 3 + i * 16;
                e->b[i].first_seq = (int32_t)wr_be32_get(p);
                e->b[i].last_seq = (int32_t)wr_be32_get(p + 4);
                e->b[i].base_offset = (int64_t)wr_be64_get(p + 8);
            }
            e->count = n;
        }
    }
    wr_buf_free(&v);
    e->next = t->buckets[h];
    t->buckets[h] = e;
    return e;
}

static int
persist(wr_kidem *t, const kidem_entry *e, wr_err *err)
{
    uint8_t v[3 + WR_KIDEM_KEEP * 16];
    wr_be16_put(v, (uint16_t)e->epoch);
    v[2] = (uint8_t)e->count;
    for (int i = 0; i < e->count; i++) {
        uint8_t *p = v + 3 + i * 16;
        wr_be32_put(p, (uint32_t)e->b[i].first_seq);
        wr_be32_put(p + 4, (uint32_t)e->b[i].last_seq);
        wr_be64_put(p + 8, (uint64_t)e->b[i].base_offset);
    }
    return wr_log_meta_put(t->db, WR_KIDEM_TABLE, e->key, e->klen, v, 3 + (size_t)e->count * 16,
                           err);
}

static int32_t
seq_add(int32_t seq, int32_t n)
{
    int64_t s = (int64_t)seq + n;
    return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

int
wr__kidem_append(wr_kidem *t,
                 wr_partition *p,
                 const char *topic,
                 int32_t part,
                 const uint8_t *data,
                 size_t len,
                 wr_log_append_result *res,
                 wr_err *err)
{
    wr_rbatch_hdr h;
    int rc = wr_rbatch_parse_hdr(data, len, &h, err);
    if (rc != WR_OK)
        return wr__kerr_from_log(rc);
    if (h.producer_id < 0) {
        rc = wr_log_append(p, data, len, res, err);
        return wr__kerr_from_log(rc);
    }
    /* every batch of the request must belong to the producer; sequences must be contiguous */
    int32_t first = h.base_sequence, last = seq_add(h.base_sequence, h.last_offset_delta);
    for (size_t off = wr_rbatch_size(data, len); off < len;) {
        wr_rbatch_hdr n;
        rc = wr_rbatch_parse_hdr(data + off, len - off, &n, err);
        if (rc != WR_OK)
            return wr__kerr_from_log(rc);
        if (n.producer_id != h.producer_id || n.producer_epoch != h.producer_epoch ||
            n.base_sequence != seq_add(last, 1)) {
            wr_err_set(err, WR_EINVAL, "batches of one request disagree on producer/sequence");
            return WR_KERR_INVALID_RECORD;
        }
        last = seq_add(n.base_sequence, n.last_offset_delta);
        off += wr_rbatch_size(data + off, len - off);
    }

    size_t tl = strlen(topic);
    uint8_t key[256 + 12];
    if (tl > 255)
        return WR_KERR_INVALID_TOPIC_EXCEPTION;
    memcpy(key, topic, tl);
    key[tl] = 0;
    wr_be32_put(key + tl + 1, (uint32_t)part);
    wr_be64_put(key + tl + 5, (uint64_t)h.producer_id);
    size_t klen = tl + 13;

    int kerr = WR_KERR_NONE;
    pthread_mutex_lock(&t->mu);
    kidem_entry *e = lookup(t, key, klen);
    if (e == NULL) {
        kerr = WR_KERR_UNKNOWN_SERVER_ERROR;
        goto out;
    }
    if (e->epoch >= 0 && h.producer_epoch < e->epoch) {
        wr_err_set(err, WR_EFENCED, "producer %lld epoch %d is older than %d",
                   (long long)h.producer_id, h.producer_epoch, e->epoch);
        kerr = WR_KERR_INVALID_PRODUCER_EPOCH;
        goto out;
    }
    if (e->epoch < 0 || h.producer_epoch > e->epoch) {
        /* a new producer or a new epoch starts at sequence 0 */
        if (first != 0 && e->epoch >= 0) {
            wr_err_set(err, WR_ESEQUENCE, "new epoch must start at sequence 0, not %d", first);
            kerr = WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
            goto out;
        }
        if (first != 0) {
            wr_err_set(err, WR_ESEQUENCE, "unknown producer %lld at sequence %d",
                       (long long)h.producer_id, first);
            kerr = WR_KERR_UNKNOWN_PRODUCER_ID;
            goto out;
        }
        e->epoch = h.producer_epoch;
        e->count = 0;
    } else {
        for (int i = 0; i < e->count; i++) {
            if (e->b[i].first_seq == first && e->b[i].last_seq == last) {
                /* a retry of a batch already stored: answer as the first time (rare: logged) */
                wr_log(WR_LOG_INFO, "kafka",
                       "%s-%d: duplicate batch of producer %lld (sequence %d..%d) answered "
                       "with its offset %lld",
                       topic, part, (long long)h.producer_id, first, last,
                       (long long)e->b[i].base_offset);
                res->base_offset = e->b[i].base_offset;
                res->last_offset = e->b[i].base_offset + h.last_offset_delta;
                res->log_append_time = -1;
                res->log_start_offset = wr_log_start_offset(p);
                goto out;
            }
        }
        if (e->count > 0 && first != seq_add(e->b[e->count - 1].last_seq, 1)) {
            wr_err_set(err, WR_ESEQUENCE, "expected sequence %d, got %d",
                       seq_add(e->b[e->count - 1].last_seq, 1), first);
            kerr = WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
            goto out;
        }
        if (e->count == 0 && first != 0) {
            kerr = WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
            goto out;
        }
    }
    rc = wr_log_append(p, data, len, res, err);
    if (rc != WR_OK) {
        kerr = wr__kerr_from_log(rc);
        goto out;
    }
    if (e->count == WR_KIDEM_KEEP) {
        memmove(&e->b[0], &e->b[1], sizeof e->b[0] * (WR_KIDEM_KEEP - 1));
        e->count--;
    }
    e->b[e->count++] = (kidem_batch){first, last, res->base_offset};
    if (persist(t, e, err) != WR_OK)
        kerr = WR_KERR_KAFKA_STORAGE_ERROR; /* appended, but a restart may forget it */
out:
    pthread_mutex_unlock(&t->mu);
    return kerr;
}

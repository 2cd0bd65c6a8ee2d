/*
 * txn.c - the transaction coordinator (see txn.h for the protocol and its guarantees).
 *
 * States of a transactional id, as Kafka's TransactionState:
 *
 *   Empty --AddPartitions/AddOffsets--> Ongoing --EndTxn--> PrepareCommit | PrepareAbort
 *   PrepareX --markers written--> CompleteX --AddPartitions/AddOffsets--> Ongoing ...
 *
 * InitProducerId from Empty/CompleteX bumps the epoch; from Ongoing it first aborts (with the
 * bumped epoch, fencing the old producer). Prepare states last while markers are written, with
 * the mutex released; anything else asked of that id meanwhile gets CONCURRENT_TRANSACTIONS,
 * which clients retry.
 *
 * A bumping EndTxn that finds the epoch at INT16_MAX - 1 uses up the producer id: the markers
 * carry INT16_MAX, and the id moves on to a new producer id with epoch 0 (Kafka's transaction
 * version 2). The new id is allocated at the Prepare step and stored in the Prepare row, so
 * that a restart which finishes the transaction moves to the same one. The client learns it
 * from EndTxn's answer, or from its retry of that EndTxn, recognised by the (pid, epoch) it
 * used (prev_pid, prev_epoch).
 *
 * At start, after finishing the Prepare states, every transaction the log holds open that no
 * Ongoing transaction here holds (a hanging transaction: whatever left it, no marker can come
 * for it, and it would hold the partition's last stable offset back for good) is aborted with a
 * marker of its own producer id and epoch, as `kafka-transactions.sh abort` does for Kafka.
 *
 * Ownership: the coordinator owns its table of ids; each entry owns its strings and arrays.
 */
#include "src/coord/txn.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/base/buf.h"
#include "src/base/clock.h"
#include "src/base/fault.h"
#include "src/base/logging.h"
#include "src/kafka/kerr.h"
#include "src/log/rbatch.h"

#define TAG        "txn"
#define TABLE      "txn"
#define BUCKETS    1024
#define MAX_ID_LEN 256
#define MAX_PARTS  10000 /* partitions in one transaction */
#define MAX_OFFS   10000 /* pending offsets in one transaction */
#define MAX_GROUPS 64    /* groups in one transaction */

typedef enum tstate {
    T_EMPTY,
    T_ONGOING,
    T_PREPARE_COMMIT,
    T_PREPARE_ABORT,
    T_COMPLETE_COMMIT,
    T_COMPLETE_ABORT,
} tstate;

static const char *const state_names[] = {"Empty",        "Ongoing",        "PrepareCommit",
                                          "PrepareAbort", "CompleteCommit", "CompleteAbort"};

typedef struct tpart {
    char *topic;
    int32_t part;
} tpart;

typedef struct toff {
    char *group, *topic, *meta; /* meta may be NULL */
    int32_t part, leader_epoch;
    int64_t offset;
} toff;

typedef struct txn {
    struct txn *next; /* bucket chain by id */
    char *id;
    int64_t pid;
    int16_t epoch;
    int32_t timeout_ms;
    tstate state;
    /* the (pid, epoch) the client used in the last EndTxn, when that EndTxn moved the epoch
       on: its retry learns the new ones. prev_pid -1: the last EndTxn kept the epoch (or an
       InitProducerId came since) */
    int64_t prev_pid;
    int16_t prev_epoch;
    /* in a Prepare state whose bump used up the epochs: the producer id the transactional id
       moves to (with epoch 0) on completion; else -1 */
    int64_t next_pid;
    int64_t start_ms; /* wall clock when it became Ongoing */
    tpart *parts;
    int nparts;
    char **groups;
    int ngroups;
    toff *offs;
    int noffs;
    int inflight;    /* Produce appends verified and not yet finished (wr_txn_produce_begin) */
    bool ending;     /* an EndTxn (or an abort) waits for them before its Prepare state */
    bool completing; /* its markers are being written (c->mu released) */
} txn;

struct wr_txn_coord {
    wr_logdb *db;
    wr_txn_coord_opts opts;
    pthread_mutex_t mu;
    txn *buckets[BUCKETS];
    pthread_t thread;
    bool thread_started, stop;
    pthread_cond_t cond;
    pthread_cond_t idle; /* a transaction's in-flight appends finished */
    bool (*marker_hook)(void *arg, const char *topic, int32_t part);
    void *marker_hook_arg;
};

static uint32_t
hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static txn *
find(wr_txn_coord *c, const char *id)
{
    for (txn *t = c->buckets[hash_str(id) % BUCKETS]; t != NULL; t = t->next)
        if (strcmp(t->id, id) == 0)
            return t;
    return NULL;
}

static void
clear_txn(txn *t)
{
    for (int i = 0; i < t->nparts; i++)
        free(t->parts[i].topic);
    for (int i = 0; i < t->ngroups; i++)
        free(t->groups[i]);
    for (int i = 0; i < t->noffs; i++) {
        free(t->offs[i].group);
        free(t->offs[i].topic);
        free(t->offs[i].meta);
    }
    free(t->parts);
    free(t->groups);
    free(t->offs);
    t->parts = NULL;
    t->groups = NULL;
    t->offs = NULL;
    t->nparts = t->ngroups = t->noffs = 0;
}

static void
free_txn(txn *t)
{
    if (t == NULL)
        return;
    clear_txn(t);
    free(t->id);
    free(t);
}

/* ---- the durable row ------------------------------------------------------------------- */

static void
put_str(wr_buf *b, const char *s)
{
    if (s == NULL) {
        wr_buf_put_be32(b, UINT32_MAX);
        return;
    }
    size_t n = strlen(s);
    wr_buf_put_be32(b, (uint32_t)n);
    wr_buf_append(b, s, n);
}

/* Version 2 is version 1 (whose "bumped" byte is now prev_pid >= 0) followed by prev_pid,
   prev_epoch and next_pid. */
static void
encode(const txn *t, wr_buf *b)
{
    wr_buf_put_u8(b, 2); /* version */
    wr_buf_put_be64(b, (uint64_t)t->pid);
    wr_buf_put_be16(b, (uint16_t)t->epoch);
    wr_buf_put_be32(b, (uint32_t)t->timeout_ms);
    wr_buf_put_u8(b, (uint8_t)t->state);
    wr_buf_put_u8(b, t->prev_pid >= 0);
    wr_buf_put_be64(b, (uint64_t)t->start_ms);
    wr_buf_put_be32(b, (uint32_t)t->nparts);
    for (int i = 0; i < t->nparts; i++) {
        put_str(b, t->parts[i].topic);
        wr_buf_put_be32(b, (uint32_t)t->parts[i].part);
    }
    wr_buf_put_be32(b, (uint32_t)t->ngroups);
    for (int i = 0; i < t->ngroups; i++)
        put_str(b, t->groups[i]);
    wr_buf_put_be32(b, (uint32_t)t->noffs);
    for (int i = 0; i < t->noffs; i++) {
        const toff *o = &t->offs[i];
        put_str(b, o->group);
        put_str(b, o->topic);
        wr_buf_put_be32(b, (uint32_t)o->part);
        wr_buf_put_be64(b, (uint64_t)o->offset);
        wr_buf_put_be32(b, (uint32_t)o->leader_epoch);
        put_str(b, o->meta);
    }
    wr_buf_put_be64(b, (uint64_t)t->prev_pid);
    wr_buf_put_be16(b, (uint16_t)t->prev_epoch);
    wr_buf_put_be64(b, (uint64_t)t->next_pid);
}

/* A string of the row (NULL for a null one; *ok false when malformed or out of memory). */
static char *
get_str(wr_rd *r, bool *ok)
{
    uint32_t n = wr_rd_be32(r);
    if (n == UINT32_MAX || !*ok)
        return NULL;
    const uint8_t *p = wr_rd_take(r, n);
    char *s = p ? strndup((const char *)p, n) : NULL;
    if (s == NULL)
        *ok = false;
    return s;
}

static txn *
decode(const char *id, const uint8_t *d, size_t n)
{
    wr_rd r = wr_rd_make(d, n);
    txn *t = calloc(1, sizeof *t);
    uint8_t version = wr_rd_u8(&r);
    if (t == NULL || version < 1 || version > 2)
        goto bad;
    t->id = strdup(id);
    t->pid = (int64_t)wr_rd_be64(&r);
    t->epoch = (int16_t)wr_rd_be16(&r);
    t->timeout_ms = (int32_t)wr_rd_be32(&r);
    uint8_t st = wr_rd_u8(&r);
    bool bumped = wr_rd_u8(&r) != 0;
    t->start_ms = (int64_t)wr_rd_be64(&r);
    if (t->id == NULL || st > T_COMPLETE_ABORT)
        goto bad;
    t->state = (tstate)st;
    bool ok = true;
    uint32_t np = wr_rd_be32(&r);
    if (np > MAX_PARTS || (np && (t->parts = calloc(np, sizeof *t->parts)) == NULL))
        goto bad;
    for (; t->nparts < (int)np && ok && r.err == 0; t->nparts++) {
        t->parts[t->nparts].topic = get_str(&r, &ok);
        t->parts[t->nparts].part = (int32_t)wr_rd_be32(&r);
    }
    uint32_t ng = wr_rd_be32(&r);
    if (ng > MAX_GROUPS || (ng && (t->groups = calloc(ng, sizeof *t->groups)) == NULL))
        goto bad;
    for (; t->ngroups < (int)ng && ok && r.err == 0; t->ngroups++)
        t->groups[t->ngroups] = get_str(&r, &ok);
    uint32_t no = wr_rd_be32(&r);
    if (no > MAX_OFFS || (no && (t->offs = calloc(no, sizeof *t->offs)) == NULL))
        goto bad;
    for (; t->noffs < (int)no && ok && r.err == 0; t->noffs++) {
        toff *o = &t->offs[t->noffs];
        o->group = get_str(&r, &ok);
        o->topic = get_str(&r, &ok);
        o->part = (int32_t)wr_rd_be32(&r);
        o->offset = (int64_t)wr_rd_be64(&r);
        o->leader_epoch = (int32_t)wr_rd_be32(&r);
        o->meta = get_str(&r, &ok);
    }
    t->prev_pid = t->next_pid = -1;
    t->prev_epoch = -1;
    if (version >= 2) {
        t->prev_pid = (int64_t)wr_rd_be64(&r);
        t->prev_epoch = (int16_t)wr_rd_be16(&r);
        t->next_pid = (int64_t)wr_rd_be64(&r);
    } else if (bumped && t->epoch > 0) {
        /* version 1 knew one kind of bump: the same producer id, one epoch on */
        t->prev_pid = t->pid;
        t->prev_epoch = (int16_t)(t->epoch - 1);
    }
    if (!ok || r.err != 0)
        goto bad;
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].topic == NULL)
            goto bad;
    for (int i = 0; i < t->ngroups; i++)
        if (t->groups[i] == NULL)
            goto bad;
    for (int i = 0; i < t->noffs; i++)
        if (t->offs[i].group == NULL || t->offs[i].topic == NULL)
            goto bad;
    return t;
bad:
    free_txn(t);
    return NULL;
}

/* Writes t's row, with extra operations (the offsets of a commit) in the same transaction. */
static int16_t
persist(wr_txn_coord *c, const txn *t, const wr_log_meta_op *extra, size_t nextra)
{
    wr_buf v = WR_BUF_INIT;
    encode(t, &v);
    wr_log_meta_op *ops = calloc(nextra + 1, sizeof *ops);
    int rc = WR_ENOMEM;
    wr_err err = {0};
    if (ops != NULL && wr_buf_ok(&v)) {
        if (nextra > 0)
            memcpy(ops, extra, nextra * sizeof *ops);
        ops[nextra] = (wr_log_meta_op){TABLE, t->id, strlen(t->id), v.data, v.len};
        rc = wr_log_meta_write(c->db, ops, nextra + 1, &err);
    }
    free(ops);
    wr_buf_free(&v);
    if (rc != WR_OK) {
        wr_log(WR_LOG_ERROR, TAG, "%s: cannot store the transaction state: %s", t->id,
               rc == WR_ENOMEM ? "out of memory" : err.msg);
        return WR_KERR_KAFKA_STORAGE_ERROR;
    }
    return WR_KERR_NONE;
}

/* ---- markers --------------------------------------------------------------------------- */

size_t
wr_group_offset_key(uint8_t *k, size_t cap, const char *group, const char *topic, int32_t part)
{
    size_t gl = strlen(group), tl = topic ? strlen(topic) : 0;
    if (gl + tl + 6 > cap)
        return 0;
    memcpy(k, group, gl);
    k[gl] = 0;
    if (topic == NULL)
        return gl + 1; /* prefix of the whole group */
    memcpy(k + gl + 1, topic, tl);
    k[gl + 1 + tl] = 0;
    wr_be32_put(k + gl + tl + 2, (uint32_t)part);
    return gl + tl + 6;
}

void
wr_group_offset_value(
    wr_buf *b, int64_t offset, int32_t leader_epoch, const char *meta, size_t mlen)
{
    wr_buf_put_be64(b, (uint64_t)offset);
    wr_buf_put_be32(b, (uint32_t)leader_epoch);
    if (mlen > 0)
        wr_buf_append(b, meta, mlen);
}

/* Appends a COMMIT or ABORT marker for (pid, epoch) to one partition and checkpoints the
   partition's transaction state. */
static int
write_marker(wr_txn_coord *c, const tpart *tp, int64_t pid, int16_t epoch, bool commit, wr_err *err)
{
    if (c->marker_hook && !c->marker_hook(c->marker_hook_arg, tp->topic, tp->part))
        return wr_err_set(err, WR_EIO, "marker for %s-%d failed (test hook)", tp->topic, tp->part);
    wr_partition *p = NULL;
    if (wr_log_partition(c->db, tp->topic, tp->part, &p) != WR_OK) {
        /* the topic was deleted: nothing left to mark */
        wr_log(WR_LOG_WARN, TAG, "no partition %s-%d for a transaction marker", tp->topic,
               tp->part);
        return WR_OK;
    }
    uint8_t key[4], val[6];
    wr_be16_put(key, 0);                  /* version */
    wr_be16_put(key + 2, commit ? 1 : 0); /* ControlRecordType: 0 ABORT, 1 COMMIT */
    wr_be16_put(val, 0);                  /* version */
    wr_be32_put(val + 2, 0);              /* coordinator epoch: one coordinator */
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
    bb.producer_id = pid;
    bb.producer_epoch = epoch;
    bb.base_sequence = -1;
    bb.extra_attributes = WR_RBATCH_TRANSACTIONAL | WR_RBATCH_CONTROL;
    wr_rbatch_builder_add(&bb, wr_clock_wall_ms(), key, 4, val, 6, NULL, 0);
    wr_buf batch = WR_BUF_INIT;
    int rc = wr_rbatch_builder_finish(&bb, &batch, err);
    wr_rbatch_builder_free(&bb);
    wr_log_append_result res;
    if (rc == WR_OK)
        rc = wr_log_append(p, batch.data, batch.len, &res, err);
    wr_buf_free(&batch);
    if (rc == WR_OK)
        rc = wr_log_txn_checkpoint(p, err);
    return rc;
}

/* Finishes a transaction in a Prepare state: writes its markers (mutex released), applies its
   offsets on commit and records the Complete state. c->mu held on entry and on return. */
static int16_t
complete(wr_txn_coord *c, txn *t)
{
    bool commit = t->state == T_PREPARE_COMMIT;
    int64_t pid = t->pid;
    int16_t epoch = t->epoch;
    int n = t->nparts;
    tpart *parts = t->parts; /* stable: nothing changes t while it is in a Prepare state */
    t->completing = true;
    pthread_mutex_unlock(&c->mu);
    int rc = WR_OK;
    wr_err err = {0};
    for (int i = 0; i < n && rc == WR_OK; i++) {
        wr_fault_kill(WR_FAULT_KILL_MARKER);
        rc = write_marker(c, &parts[i], pid, epoch, commit, &err);
    }
    if (rc == WR_OK)
        wr_fault_kill(WR_FAULT_KILL_COMPLETE);
    pthread_mutex_lock(&c->mu);
    t->completing = false;
    if (rc != WR_OK) {
        /* stays in its Prepare state: an EndTxn retry, an InitProducerId or the next start
           writes the markers again */
        wr_log(WR_LOG_ERROR, TAG, "%s: writing %s markers: %s", t->id, commit ? "COMMIT" : "ABORT",
               err.msg);
        return WR_KERR_KAFKA_STORAGE_ERROR;
    }
    /* the offsets of a commit reach the group's table in the same LMDB transaction as the
       Complete state */
    wr_log_meta_op *ops = NULL;
    uint8_t(*keys)[600] = NULL;
    wr_buf *vals = NULL;
    int nops = 0;
    if (commit && t->noffs > 0) {
        ops = calloc((size_t)t->noffs, sizeof *ops);
        keys = calloc((size_t)t->noffs, sizeof *keys);
        vals = calloc((size_t)t->noffs, sizeof *vals);
        if (ops == NULL || keys == NULL || vals == NULL) {
            free(ops);
            free(keys);
            free(vals);
            return WR_KERR_KAFKA_STORAGE_ERROR;
        }
        for (int i = 0; i < t->noffs; i++) {
            const toff *o = &t->offs[i];
            size_t kl = wr_group_offset_key(keys[i], sizeof keys[i], o->group, o->topic, o->part);
            if (kl == 0)
                continue;
            wr_group_offset_value(&vals[i], o->offset, o->leader_epoch, o->meta,
                                  o->meta ? strlen(o->meta) : 0);
            ops[nops++] =
                (wr_log_meta_op){WR_GROUP_OFFSETS_TABLE, keys[i], kl, vals[i].data, vals[i].len};
        }
    }
    /* the row keeps the outcome only: the partitions, groups and offsets are done with */
    txn row = *t;
    row.state = commit ? T_COMPLETE_COMMIT : T_COMPLETE_ABORT;
    row.nparts = row.ngroups = row.noffs = 0;
    if (t->next_pid >= 0) {
        /* the markers took the last epoch of the old producer id */
        row.pid = t->next_pid;
        row.epoch = 0;
        row.next_pid = -1;
    }
    int16_t kerr = persist(c, &row, ops, (size_t)nops);
    for (int i = 0; vals != NULL && i < t->noffs; i++)
        wr_buf_free(&vals[i]);
    free(ops);
    free(keys);
    free(vals);
    if (kerr != WR_KERR_NONE)
        return kerr; /* still in its Prepare state, with everything a retry needs */
    t->state = row.state;
    t->pid = row.pid;
    t->epoch = row.epoch;
    t->next_pid = row.next_pid;
    clear_txn(t);
    wr_log(WR_LOG_DEBUG, TAG, "%s: %s (producer %" PRId64 ", epoch %d)", t->id,
           state_names[t->state], t->pid, t->epoch);
    return WR_KERR_NONE;
}

/* Moves an Ongoing transaction to PrepareCommit/PrepareAbort (durably) and completes it. With
   bump, the epoch moves on first and the markers carry the new one; when that is the last
   epoch (INT16_MAX), a new producer id is allocated here and the id moves to it, with epoch 0,
   on completion. c->mu held. */
static int16_t
end_locked(wr_txn_coord *c, txn *t, bool commit, bool bump)
{
    /* a Produce verified against the open transaction lands before its markers: a marker
       written first would leave that batch to open a transaction nobody ends (a hanging
       transaction, holding the LSO back forever) */
    if (t->ending)
        return WR_KERR_CONCURRENT_TRANSACTIONS;
    t->ending = true;
    while (t->inflight > 0)
        pthread_cond_wait(&c->idle, &c->mu);
    t->ending = false;
    if (t->state != T_ONGOING)
        return WR_KERR_CONCURRENT_TRANSACTIONS; /* cannot happen: ending kept others out */
    tstate state = t->state;
    int16_t epoch = t->epoch, prev_epoch = t->prev_epoch;
    int64_t prev_pid = t->prev_pid, next_pid = t->next_pid;
    int16_t kerr = WR_KERR_NONE;
    t->state = commit ? T_PREPARE_COMMIT : T_PREPARE_ABORT;
    t->prev_pid = t->next_pid = -1;
    t->prev_epoch = -1;
    if (bump) {
        t->prev_pid = t->pid;
        t->prev_epoch = t->epoch;
        if (t->epoch >= INT16_MAX - 1) {
            /* allocated before the Prepare row is written, so that finishing it after a
               restart moves to this same id */
            wr_err err = {0};
            int64_t np = -1;
            if (c->opts.new_pid(c->opts.new_pid_arg, &np, &err) != WR_OK) {
                wr_log(WR_LOG_ERROR, TAG, "%s: cannot allocate a producer id: %s", t->id, err.msg);
                kerr = WR_KERR_UNKNOWN_SERVER_ERROR;
                goto fail;
            }
            wr_log(WR_LOG_INFO, TAG,
                   "%s: producer %" PRId64 " has used up its epochs; moving to producer %" PRId64,
                   t->id, t->pid, np);
            t->next_pid = np;
            /* the last epoch (an id already there comes from a version 1 row, written before
               this check existed: it cannot go further, so its markers reuse it) */
            t->epoch = INT16_MAX;
        } else {
            t->epoch++;
        }
    }
    if ((kerr = persist(c, t, NULL, 0)) != WR_KERR_NONE)
        goto fail;
    return complete(c, t);
fail:
    t->state = state;
    t->epoch = epoch;
    t->prev_pid = prev_pid;
    t->prev_epoch = prev_epoch;
    t->next_pid = next_pid;
    return kerr;
}

/* ---- requests -------------------------------------------------------------------------- */

/* The checks every request about an existing transaction makes. */
static int16_t
check_producer(const txn *t, int64_t pid, int16_t epoch)
{
    if (t == NULL || t->pid != pid)
        return WR_KERR_INVALID_PRODUCER_ID_MAPPING;
    if (epoch != t->epoch)
        return WR_KERR_PRODUCER_FENCED;
    if (t->state == T_PREPARE_COMMIT || t->state == T_PREPARE_ABORT)
        return WR_KERR_CONCURRENT_TRANSACTIONS;
    return WR_KERR_NONE;
}

/* Whether (pid, epoch) is what the client used in the EndTxn that last moved the epoch on. */
static bool
is_prev(const txn *t, int64_t pid, int16_t epoch)
{
    return t->prev_pid >= 0 && pid == t->prev_pid && epoch == t->prev_epoch;
}

static bool
valid_id(const char *id)
{
    return id != NULL && *id != 0 && strlen(id) <= MAX_ID_LEN;
}

/* Makes t Ongoing (from Empty or Complete), starting its timeout. */
static void
begin(txn *t)
{
    if (t->state != T_ONGOING) {
        clear_txn(t);
        t->state = T_ONGOING;
        t->start_ms = wr_clock_wall_ms();
    }
}

int16_t
wr_txn_init_producer(wr_txn_coord *c,
                     const char *txn_id,
                     int32_t timeout_ms,
                     int64_t cur_pid,
                     int16_t cur_epoch,
                     int64_t *pid,
                     int16_t *epoch)
{
    *pid = -1;
    *epoch = -1;
    if (!valid_id(txn_id))
        return WR_KERR_INVALID_REQUEST;
    if (timeout_ms <= 0 || timeout_ms > c->opts.max_timeout_ms)
        return WR_KERR_INVALID_TRANSACTION_TIMEOUT;
    pthread_mutex_lock(&c->mu);
    int16_t kerr = WR_KERR_NONE;
    txn *t = find(c, txn_id);
    if (t == NULL) {
        if (cur_pid >= 0) {
            kerr = WR_KERR_INVALID_PRODUCER_ID_MAPPING;
            goto out;
        }
        wr_err err = {0};
        int64_t np = -1;
        t = calloc(1, sizeof *t);
        if (t == NULL || (t->id = strdup(txn_id)) == NULL ||
            c->opts.new_pid(c->opts.new_pid_arg, &np, &err) != WR_OK) {
            free_txn(t);
            wr_log(WR_LOG_ERROR, TAG, "cannot allocate a producer id: %s", err.msg);
            kerr = WR_KERR_UNKNOWN_SERVER_ERROR;
            goto out;
        }
        t->pid = np;
        t->epoch = 0;
        t->prev_pid = t->next_pid = -1;
        t->prev_epoch = -1;
        t->timeout_ms = timeout_ms;
        t->state = T_EMPTY;
        if ((kerr = persist(c, t, NULL, 0)) != WR_KERR_NONE) {
            free_txn(t);
            goto out;
        }
        uint32_t h = hash_str(txn_id) % BUCKETS;
        t->next = c->buckets[h];
        c->buckets[h] = t;
        *pid = t->pid;
        *epoch = t->epoch;
        goto out;
    }
    if (t->state == T_PREPARE_COMMIT || t->state == T_PREPARE_ABORT) {
        /* markers that failed are written again first; while someone writes them, wait */
        kerr = t->completing ? WR_KERR_CONCURRENT_TRANSACTIONS : complete(c, t);
        if (kerr != WR_KERR_NONE)
            goto out;
    }
    /* KIP-360: a producer that says who it is must be the current one (or, after a bumping
       EndTxn whose answer it may not have seen, the one that sent it) */
    if (cur_pid >= 0 && !(cur_pid == t->pid && cur_epoch == t->epoch) &&
        !is_prev(t, cur_pid, cur_epoch)) {
        kerr = WR_KERR_PRODUCER_FENCED;
        goto out;
    }
    if (t->state == T_ONGOING) {
        /* the previous producer left a transaction open: abort it, fencing that producer */
        wr_log(WR_LOG_INFO, TAG, "%s: a new producer aborts the open transaction", t->id);
        if ((kerr = end_locked(c, t, false, true)) != WR_KERR_NONE)
            goto out;
    }
    int64_t old_pid = t->pid, old_prev_pid = t->prev_pid;
    int16_t old_epoch = t->epoch, old_prev_epoch = t->prev_epoch;
    if (t->epoch >= INT16_MAX - 2) {
        /* the epoch is used up: a new producer id, as Kafka does. Epochs handed out here are
           at most INT16_MAX - 2; bumping EndTxns take them on, and the one that finds
           INT16_MAX - 1 moves the id to a new producer id too (end_locked) */
        wr_err err = {0};
        int64_t np = -1;
        if (c->opts.new_pid(c->opts.new_pid_arg, &np, &err) != WR_OK) {
            kerr = WR_KERR_UNKNOWN_SERVER_ERROR;
            goto out;
        }
        t->pid = np;
        t->epoch = 0;
    } else {
        t->epoch++;
    }
    t->timeout_ms = timeout_ms;
    t->prev_pid = -1; /* the producer that asked is the only one: no retry of an older EndTxn */
    t->prev_epoch = -1;
    t->state = T_EMPTY;
    if ((kerr = persist(c, t, NULL, 0)) != WR_KERR_NONE) {
        t->pid = old_pid;
        t->epoch = old_epoch;
        t->prev_pid = old_prev_pid;
        t->prev_epoch = old_prev_epoch;
        goto out;
    }
    *pid = t->pid;
    *epoch = t->epoch;
out:
    pthread_mutex_unlock(&c->mu);
    return kerr;
}

int16_t
wr_txn_add_partitions(
    wr_txn_coord *c, const char *txn_id, int64_t pid, int16_t epoch, wr_txn_partition *parts, int n)
{
    pthread_mutex_lock(&c->mu);
    txn *t = valid_id(txn_id) ? find(c, txn_id) : NULL;
    int16_t kerr = check_producer(t, pid, epoch);
    int bad = -1;
    if (kerr == WR_KERR_NONE) {
        for (int i = 0; i < n; i++) {
            if (parts[i].topic == NULL || parts[i].partition < 0 ||
                wr_log_topic_partitions(c->db, parts[i].topic) <= parts[i].partition) {
                bad = i;
                kerr = WR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                break;
            }
        }
    }
    if (kerr == WR_KERR_NONE) {
        begin(t);
        int had = t->nparts;
        for (int i = 0; i < n && kerr == WR_KERR_NONE; i++) {
            bool known = false;
            for (int k = 0; k < t->nparts && !known; k++)
                known = t->parts[k].part == parts[i].partition &&
                        strcmp(t->parts[k].topic, parts[i].topic) == 0;
            if (known)
                continue;
            tpart *np = t->nparts < MAX_PARTS
                            ? realloc(t->parts, (size_t)(t->nparts + 1) * sizeof *np)
                            : NULL;
            char *topic = np ? strdup(parts[i].topic) : NULL;
            if (topic == NULL) {
                if (np)
                    t->parts = np;
                kerr =
                    t->nparts < MAX_PARTS ? WR_KERR_UNKNOWN_SERVER_ERROR : WR_KERR_INVALID_REQUEST;
                break;
            }
            t->parts = np;
            t->parts[t->nparts++] = (tpart){topic, parts[i].partition};
        }
        if (kerr == WR_KERR_NONE && (t->nparts != had || had == 0))
            kerr = persist(c, t, NULL, 0);
        if (kerr != WR_KERR_NONE) {
            while (t->nparts > had)
                free(t->parts[--t->nparts].topic);
        }
    }
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < n; i++)
        parts[i].error = bad < 0 || i == bad ? kerr : WR_KERR_OPERATION_NOT_ATTEMPTED;
    return kerr;
}

int16_t
wr_txn_add_offsets(
    wr_txn_coord *c, const char *txn_id, int64_t pid, int16_t epoch, const char *group)
{
    if (group == NULL || *group == 0)
        return WR_KERR_INVALID_GROUP_ID;
    pthread_mutex_lock(&c->mu);
    txn *t = valid_id(txn_id) ? find(c, txn_id) : NULL;
    int16_t kerr = check_producer(t, pid, epoch);
    if (kerr == WR_KERR_NONE) {
        begin(t);
        bool known = false;
        for (int i = 0; i < t->ngroups && !known; i++)
            known = strcmp(t->groups[i], group) == 0;
        if (!known) {
            char **ng = t->ngroups < MAX_GROUPS
                            ? realloc(t->groups, (size_t)(t->ngroups + 1) * sizeof *ng)
                            : NULL;
            char *g = ng ? strdup(group) : NULL;
            if (ng)
                t->groups = ng;
            if (g == NULL) {
                kerr = t->ngroups < MAX_GROUPS ? WR_KERR_UNKNOWN_SERVER_ERROR
                                               : WR_KERR_INVALID_REQUEST;
            } else {
                t->groups[t->ngroups++] = g;
                if ((kerr = persist(c, t, NULL, 0)) != WR_KERR_NONE)
                    free(t->groups[--t->ngroups]);
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    return kerr;
}

int16_t
wr_txn_offset_commit(wr_txn_coord *c,
                     const char *txn_id,
                     int64_t pid,
                     int16_t epoch,
                     const char *group,
                     wr_txn_offset *offs,
                     int n)
{
    pthread_mutex_lock(&c->mu);
    txn *t = valid_id(txn_id) ? find(c, txn_id) : NULL;
    int16_t kerr = check_producer(t, pid, epoch);
    if (kerr == WR_KERR_NONE) {
        bool added = false;
        for (int i = 0; t->state == T_ONGOING && i < t->ngroups && !added; i++)
            added = strcmp(t->groups[i], group) == 0;
        if (!added)
            kerr = WR_KERR_INVALID_TXN_STATE; /* AddOffsetsToTxn first */
    }
    int had = t ? t->noffs : 0;
    for (int i = 0; i < n && kerr == WR_KERR_NONE; i++) {
        toff *o = NULL;
        for (int k = 0; k < t->noffs && o == NULL; k++)
            if (t->offs[k].part == offs[i].partition && !strcmp(t->offs[k].group, group) &&
                !strcmp(t->offs[k].topic, offs[i].topic))
                o = &t->offs[k];
        if (o == NULL) {
            toff *no =
                t->noffs < MAX_OFFS ? realloc(t->offs, (size_t)(t->noffs + 1) * sizeof *no) : NULL;
            if (no == NULL) {
                kerr = WR_KERR_INVALID_REQUEST;
                break;
            }
            t->offs = no;
            o = &t->offs[t->noffs++];
            *o = (toff){strdup(group), strdup(offs[i].topic), NULL, offs[i].partition, -1, -1};
            if (o->group == NULL || o->topic == NULL) {
                kerr = WR_KERR_UNKNOWN_SERVER_ERROR;
                break;
            }
        }
        free(o->meta);
        o->meta = offs[i].metadata ? strdup(offs[i].metadata) : NULL;
        o->offset = offs[i].offset;
        o->leader_epoch = offs[i].leader_epoch;
    }
    if (kerr == WR_KERR_NONE)
        kerr = persist(c, t, NULL, 0);
    if (kerr != WR_KERR_NONE && t != NULL && t->noffs > had) {
        /* new entries go; replaced values stay in memory only until the next write, which
           the client's retry makes anyway */
        while (t->noffs > had) {
            toff *o = &t->offs[--t->noffs];
            free(o->group);
            free(o->topic);
            free(o->meta);
        }
    }
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < n; i++)
        offs[i].error = kerr;
    return kerr;
}

int16_t
wr_txn_end(wr_txn_coord *c,
           const char *txn_id,
           int64_t pid,
           int16_t epoch,
           bool commit,
           bool bump,
           int64_t *new_pid,
           int16_t *new_epoch)
{
    *new_pid = pid;
    *new_epoch = epoch;
    pthread_mutex_lock(&c->mu);
    txn *t = valid_id(txn_id) ? find(c, txn_id) : NULL;
    int16_t kerr;
    tstate done = commit ? T_COMPLETE_COMMIT : T_COMPLETE_ABORT;
    tstate prepare = commit ? T_PREPARE_COMMIT : T_PREPARE_ABORT;
    if (t != NULL && is_prev(t, pid, epoch) && t->state != T_EMPTY && t->state != T_ONGOING) {
        /* a retry of the EndTxn that moved the epoch (and perhaps the producer id) on: with the
           same outcome it waits while the markers are written, then succeeds and the client
           learns the new pid and epoch; any other use of the old pid and epoch is fenced */
        if (!bump || (t->state != done && t->state != prepare)) {
            kerr = WR_KERR_PRODUCER_FENCED;
        } else if (t->state == prepare) {
            /* its markers failed (or are being written): write them again */
            kerr = t->completing ? WR_KERR_CONCURRENT_TRANSACTIONS : complete(c, t);
            if (kerr == WR_KERR_NONE) {
                *new_pid = t->pid;
                *new_epoch = t->epoch;
            }
        } else {
            kerr = WR_KERR_NONE;
            *new_pid = t->pid;
            *new_epoch = t->epoch;
        }
        goto out;
    }
    if (t != NULL && t->pid == pid && t->epoch == epoch && t->state == prepare && !bump &&
        !t->completing) {
        /* a retry of a client that keeps its epoch, after its markers failed: again */
        kerr = complete(c, t);
        goto out;
    }
    if ((kerr = check_producer(t, pid, epoch)) != WR_KERR_NONE)
        goto out;
    switch (t->state) {
    case T_ONGOING:
        kerr = end_locked(c, t, commit, bump);
        if (kerr == WR_KERR_NONE) {
            *new_pid = t->pid;
            *new_epoch = t->epoch;
        }
        break;
    case T_COMPLETE_COMMIT:
    case T_COMPLETE_ABORT:
        /* a retried EndTxn of a client that keeps its epoch (Kafka's transaction version 1);
           one asking for the other outcome, or a bumping client, is wrong */
        kerr =
            t->state == done && !bump && t->prev_pid < 0 ? WR_KERR_NONE : WR_KERR_INVALID_TXN_STATE;
        break;
    default:
        kerr = WR_KERR_INVALID_TXN_STATE; /* Empty: nothing was added */
        break;
    }
out:
    pthread_mutex_unlock(&c->mu);
    return kerr;
}

/* wr_txn_verify_produce with c->mu held; *out: the transaction. */
static int16_t
verify_locked(wr_txn_coord *c,
              const char *txn_id,
              int64_t pid,
              int16_t epoch,
              const char *topic,
              int32_t partition,
              txn **out)
{
    txn *t = valid_id(txn_id) ? find(c, txn_id) : NULL;
    *out = t;
    if (t == NULL || t->pid != pid)
        return WR_KERR_INVALID_PRODUCER_ID_MAPPING;
    if (epoch != t->epoch)
        return WR_KERR_INVALID_PRODUCER_EPOCH;
    if (t->state != T_ONGOING || t->ending)
        return WR_KERR_INVALID_TXN_STATE;
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].part == partition && strcmp(t->parts[i].topic, topic) == 0)
            return WR_KERR_NONE;
    return WR_KERR_INVALID_TXN_STATE; /* a partition not added to the transaction */
}

int16_t
wr_txn_verify_produce(wr_txn_coord *c,
                      const char *txn_id,
                      int64_t pid,
                      int16_t epoch,
                      const char *topic,
                      int32_t partition)
{
    pthread_mutex_lock(&c->mu);
    txn *t;
    int16_t kerr = verify_locked(c, txn_id, pid, epoch, topic, partition, &t);
    pthread_mutex_unlock(&c->mu);
    return kerr;
}

int16_t
wr_txn_produce_begin(wr_txn_coord *c,
                     const char *txn_id,
                     int64_t pid,
                     int16_t epoch,
                     const char *topic,
                     int32_t partition)
{
    pthread_mutex_lock(&c->mu);
    txn *t;
    int16_t kerr = verify_locked(c, txn_id, pid, epoch, topic, partition, &t);
    if (kerr == WR_KERR_NONE)
        t->inflight++;
    pthread_mutex_unlock(&c->mu);
    return kerr;
}

void
wr_txn_produce_end(wr_txn_coord *c, const char *txn_id)
{
    pthread_mutex_lock(&c->mu);
    txn *t = valid_id(txn_id) ? find(c, txn_id) : NULL;
    if (t != NULL && t->inflight > 0 && --t->inflight == 0)
        pthread_cond_broadcast(&c->idle);
    pthread_mutex_unlock(&c->mu);
}

bool
wr_txn_offset_pending(wr_txn_coord *c, const char *group, const char *topic, int32_t part)
{
    bool pending = false;
    pthread_mutex_lock(&c->mu);
    for (int b = 0; b < BUCKETS && !pending; b++)
        for (txn *t = c->buckets[b]; t != NULL && !pending; t = t->next)
            for (int i = 0; i < t->noffs && !pending; i++)
                pending = t->offs[i].part == part && !strcmp(t->offs[i].group, group) &&
                          !strcmp(t->offs[i].topic, topic);
    pthread_mutex_unlock(&c->mu);
    return pending;
}

int
wr_txn_expire(wr_txn_coord *c, int64_t now_ms)
{
    int n = 0;
    pthread_mutex_lock(&c->mu);
    for (int b = 0; b < BUCKETS; b++) {
        for (txn *t = c->buckets[b]; t != NULL; t = t->next) {
            if (t->state != T_ONGOING || now_ms - t->start_ms <= t->timeout_ms)
                continue;
            wr_log(WR_LOG_INFO, TAG,
                   "%s: transaction open for %" PRId64 " ms (timeout %d ms): aborting it", t->id,
                   now_ms - t->start_ms, t->timeout_ms);
            /* the epoch moves on: the producer that let it time out is fenced (Kafka) */
            if (end_locked(c, t, false, true) == WR_KERR_NONE)
                n++;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

void
wr_txn_coord_set_marker_hook(wr_txn_coord *c,
                             bool (*fn)(void *arg, const char *topic, int32_t part),
                             void *arg)
{
    pthread_mutex_lock(&c->mu);
    c->marker_hook = fn;
    c->marker_hook_arg = arg;
    pthread_mutex_unlock(&c->mu);
}

int16_t
wr_txn_coord_set_epoch(wr_txn_coord *c, const char *txn_id, int16_t epoch)
{
    pthread_mutex_lock(&c->mu);
    txn *t = valid_id(txn_id) ? find(c, txn_id) : NULL;
    int16_t kerr = WR_KERR_NONE;
    if (t == NULL) {
        kerr = WR_KERR_INVALID_PRODUCER_ID_MAPPING;
    } else if (t->state == T_PREPARE_COMMIT || t->state == T_PREPARE_ABORT) {
        kerr = WR_KERR_CONCURRENT_TRANSACTIONS;
    } else {
        int16_t old_epoch = t->epoch, old_prev_epoch = t->prev_epoch;
        int64_t old_prev_pid = t->prev_pid;
        t->epoch = epoch;
        t->prev_pid = -1;
        t->prev_epoch = -1;
        if ((kerr = persist(c, t, NULL, 0)) != WR_KERR_NONE) {
            t->epoch = old_epoch;
            t->prev_pid = old_prev_pid;
            t->prev_epoch = old_prev_epoch;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return kerr;
}

/* ---- life ------------------------------------------------------------------------------ */

static void *
expire_thread(void *arg)
{
    wr_txn_coord *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (c->opts.check_interval_ms % 1000) * 1000000;
        ts.tv_sec += c->opts.check_interval_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&c->cond, &c->mu, &ts);
        if (c->stop)
            break;
        pthread_mutex_unlock(&c->mu);
        wr_txn_expire(c, wr_clock_wall_ms());
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Whether an Ongoing transaction of producer pid holds topic-part. c->mu held. */
static bool
held(wr_txn_coord *c, int64_t pid, const char *topic, int32_t part)
{
    for (int b = 0; b < BUCKETS; b++)
        for (txn *t = c->buckets[b]; t != NULL; t = t->next)
            if (t->pid == pid && t->state == T_ONGOING)
                for (int i = 0; i < t->nparts; i++)
                    if (t->parts[i].part == part && strcmp(t->parts[i].topic, topic) == 0)
                        return true;
    return false;
}

/* The producer epoch of the batch at offset in p (0 when it cannot be read). */
static int16_t
epoch_at(wr_partition *p, int64_t offset)
{
    wr_buf b = WR_BUF_INIT;
    wr_log_read_result res;
    wr_rbatch_hdr h;
    int16_t epoch = 0;
    if (wr_log_read(p, offset, 1, &b, &res, NULL) == WR_OK && res.bytes > 0 &&
        wr_rbatch_parse_hdr(b.data, b.len, &h, NULL) == WR_OK)
        epoch = h.producer_epoch;
    wr_buf_free(&b);
    return epoch;
}

/* How the coordinator ended the transaction of (pid, epoch), when that was the id's last one
   and it committed: its markers' epoch into *marker_epoch, true. A marker of it that a
   partition lacks (lost with the page cache, after the Complete state reached LMDB) is a
   COMMIT then, not an ABORT. c->mu held. */
static bool
was_committed(wr_txn_coord *c, int64_t pid, int16_t epoch, int16_t *marker_epoch)
{
    for (int b = 0; b < BUCKETS; b++)
        for (txn *t = c->buckets[b]; t != NULL; t = t->next)
            if (t->state == T_COMPLETE_COMMIT &&
                (is_prev(t, pid, epoch) ||
                 (t->prev_pid < 0 && t->pid == pid && t->epoch == epoch))) {
                /* an id that moved to a new producer id marked the old one's last epoch */
                *marker_epoch = t->pid == pid ? t->epoch : INT16_MAX;
                return true;
            }
    return false;
}

/* Ends the hanging transactions of topic-part: those the log holds open and no Ongoing
   transaction of this coordinator holds. Their markers can never come otherwise, and each
   holds the partition's last stable offset back for good (read_committed readers, weir's own
   queries and changelog restores included, would wait forever). One that was its id's last
   transaction and committed gets its COMMIT marker; any other gets an ABORT marker with the
   producer id and epoch of its first batch, as Kafka's `kafka-transactions.sh abort` writes
   one. c->mu held; released while a marker is written. */
static int
end_hanging_part(wr_txn_coord *c, const char *topic, int32_t part, int *ended, wr_err *err)
{
    wr_partition *p;
    if (wr_log_partition(c->db, topic, part, &p) != WR_OK)
        return WR_OK;
    wr_log_open_txn few[8], *open = few;
    size_t n = wr_log_open_txns(p, few, 8);
    if (n > 8) {
        if ((open = malloc(n * sizeof *open)) == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        n = wr_log_open_txns(p, open, n);
    }
    int rc = WR_OK;
    for (size_t i = 0; i < n && rc == WR_OK; i++) {
        if (held(c, open[i].producer_id, topic, part))
            continue;
        int16_t epoch = epoch_at(p, open[i].first_offset), marker_epoch = epoch;
        bool commit = was_committed(c, open[i].producer_id, epoch, &marker_epoch);
        wr_log(WR_LOG_WARN, TAG,
               "%s-%d: producer %" PRId64 " (epoch %d) has held a transaction open since offset "
               "%" PRId64 " that no transaction of the coordinator holds; %s it",
               topic, part, open[i].producer_id, epoch, open[i].first_offset,
               commit ? "the coordinator committed it: committing" : "aborting");
        tpart tp = {(char *)topic, part};
        pthread_mutex_unlock(&c->mu);
        rc = write_marker(c, &tp, open[i].producer_id, marker_epoch, commit, err);
        pthread_mutex_lock(&c->mu);
        if (rc == WR_OK)
            (*ended)++;
    }
    if (open != few)
        free(open);
    return rc;
}

/* end_hanging_part over every partition of the log. c->mu held. */
static int
end_hanging(wr_txn_coord *c, int *ended, wr_err *err)
{
    char **names = NULL;
    size_t nt = 0;
    int rc = wr_log_topic_list(c->db, &names, &nt, err);
    for (size_t i = 0; rc == WR_OK && i < nt; i++) {
        int32_t np = wr_log_topic_partitions(c->db, names[i]);
        for (int32_t k = 0; rc == WR_OK && k < np; k++)
            rc = end_hanging_part(c, names[i], k, ended, err);
    }
    for (size_t i = 0; i < nt; i++)
        free(names[i]);
    free(names);
    return rc;
}

typedef struct load_ctx {
    wr_txn_coord *c;
    int bad;
} load_ctx;

static int
load_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    load_ctx *lc = arg;
    char id[MAX_ID_LEN + 1];
    if (klen > MAX_ID_LEN) {
        lc->bad++;
        return 0;
    }
    memcpy(id, key, klen);
    id[klen] = 0;
    txn *t = decode(id, val, vlen);
    if (t == NULL) {
        wr_log(WR_LOG_ERROR, TAG, "%s: unreadable transaction state; the id starts afresh", id);
        lc->bad++;
        return 0;
    }
    uint32_t h = hash_str(id) % BUCKETS;
    t->next = lc->c->buckets[h];
    lc->c->buckets[h] = t;
    return 0;
}

int
wr_txn_coord_open(wr_logdb *db, const wr_txn_coord_opts *opts, wr_txn_coord **out, wr_err *err)
{
    wr_txn_coord *c = calloc(1, sizeof *c);
    if (c == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    c->db = db;
    c->opts = *opts;
    if (c->opts.max_timeout_ms <= 0)
        c->opts.max_timeout_ms = 900000;
    if (c->opts.check_interval_ms <= 0)
        c->opts.check_interval_ms = 1000;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    pthread_cond_init(&c->idle, NULL);
    load_ctx lc = {c, 0};
    int rc = wr_log_meta_scan(db, TABLE, NULL, 0, load_cb, &lc, err);
    if (rc != WR_OK) {
        wr_txn_coord_close(c);
        return rc;
    }
    /* transactions caught between their Prepare state and Complete: finish them */
    pthread_mutex_lock(&c->mu);
    int finished = 0, failed = 0;
    for (int b = 0; b < BUCKETS; b++)
        for (txn *t = c->buckets[b]; t != NULL; t = t->next)
            if (t->state == T_PREPARE_COMMIT || t->state == T_PREPARE_ABORT) {
                wr_log(WR_LOG_INFO, TAG, "%s: finishing %s after a restart", t->id,
                       state_names[t->state]);
                if (complete(c, t) == WR_KERR_NONE)
                    finished++;
                else
                    failed++;
            }
    int hanging = 0;
    rc = failed == 0 ? end_hanging(c, &hanging, err) : WR_OK;
    pthread_mutex_unlock(&c->mu);
    if (failed > 0) {
        wr_txn_coord_close(c);
        return wr_err_set(err, WR_EIO, "%d interrupted transactions could not be finished", failed);
    }
    if (rc != WR_OK) {
        wr_txn_coord_close(c);
        wr_err_prefix(err, "ending hanging transactions");
        return rc;
    }
    if (finished > 0)
        wr_log(WR_LOG_INFO, TAG, "%d interrupted transactions finished", finished);
    if (hanging > 0)
        wr_log(WR_LOG_WARN, TAG, "%d hanging transactions aborted", hanging);
    if (pthread_create(&c->thread, NULL, expire_thread, c) != 0) {
        wr_txn_coord_close(c);
        return wr_err_set(err, WR_ENOMEM, "cannot start the transaction timeout thread");
    }
    c->thread_started = true;
    *out = c;
    return WR_OK;
}

void
wr_txn_coord_close(wr_txn_coord *c)
{
    if (c == NULL)
        return;
    if (c->thread_started) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    for (int b = 0; b < BUCKETS; b++) {
        while (c->buckets[b] != NULL) {
            txn *t = c->buckets[b];
            c->buckets[b] = t->next;
            free_txn(t);
        }
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cond);
    pthread_cond_destroy(&c->idle);
    free(c);
}

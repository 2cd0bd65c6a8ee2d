/*
 * commit.c - committing a task's work (its outputs, its state and its input position) under
 * its query's processing guarantee. See engine_int.h.
 *
 * at_least_once: every run commits by itself. Outputs are appended as they come; then the
 * state transaction commits (changelog records, then RocksDB with the input position the state
 * reflects); then the input offset goes to the query's consumer group. A crash in between
 * repeats the run: outputs may come twice, the state never counts a record twice (it holds its
 * own input position).
 *
 * exactly_once_v2 (the default): the runs of a task between two commits make one Kafka
 * transaction of the task's own transactional producer (src/coord/producer.h), called in
 * process. Its transactional id is the query's group and the task's partition, so a task
 * started elsewhere fences the one it replaces. Outputs are appended transactionally as they
 * come; state writes wait in the task's state transaction (the task reads through it, pull
 * queries see the committed data only). Every commit.interval.ms the task commits: its
 * changelog records join the transaction, its input offset goes in with TxnOffsetCommit,
 * EndTxn writes the markers, and only then does the state reach RocksDB, with the changelog
 * offset it reflects. A failure before EndTxn aborts the transaction: read_committed readers
 * (weir's own included) skip the outputs and changelog records, the offset is never applied,
 * the state writes are dropped, and the task goes back to where the transaction began. A crash
 * after EndTxn but before the RocksDB write leaves the store behind its changelog; the restore
 * at start replays the committed records. The local store is never wiped.
 */
#include "runtime/engine_int.h"
#include "src/base/fault.h"
#include "src/coord/producer.h"

/* ksqlDB runs Kafka Streams with a 10 s transaction timeout under exactly-once; weir's runs
   are short, but a poll over many queries can hold a task's transaction open for a while */
#define TXN_TIMEOUT_MS 60000

struct ttx {
    wr_txn_producer *prod; /* opened at the task's first transaction */
    int64_t began_ms;      /* monotonic ms when the open transaction began; 0: none open */
    int64_t committed;     /* the input offset the group holds (-1: unknown) */
    bool broken;           /* an abort failed: reopen the producer before the next one */
};

/* ---- offsets --------------------------------------------------------------------------- */

char *
eng_query_group(wr_engine *e, const wr_query *q)
{
    /* the join of a split query (a GROUP BY over a join) shares its query's id, and its stores
       are told apart by their kind; its group and producers need a name of their own */
    bool split_join = q->join != NULL && q->nrekey > 0;
    char *g = malloc(strlen(e->service_id) + strlen(q->id) + 16);
    if (g != NULL)
        sprintf(g, "_weir-%s-%s%s", e->service_id, q->id, split_join ? "-join" : "");
    return g;
}

/* The key of the committed offset of q's input partition part in its group, into key[600];
   returns its length (0: out of memory, or too long). */
static size_t
offset_key(wr_engine *e, const wr_query *q, int32_t part, uint8_t *key)
{
    char *g = eng_query_group(e, q);
    size_t kl =
        g ? wr_group_offset_key(key, 600, g, q->in_topic ? q->in_topic : q->src->topic, part) : 0;
    free(g);
    return kl;
}

int64_t
eng_committed_offset(wr_engine *e, const wr_query *q, int32_t part)
{
    int64_t off = -1;
    uint8_t key[600];
    size_t kl = offset_key(e, q, part, key);
    wr_buf val = WR_BUF_INIT;
    if (kl > 0 &&
        wr_log_meta_get(e->opts.db, WR_GROUP_OFFSETS_TABLE, key, kl, &val, NULL) == WR_OK &&
        val.len >= 8)
        off = (int64_t)wr_be64_get(val.data);
    wr_buf_reset(&val);
    /* data directories of weir before the queries' groups kept their offsets here */
    char lkey[300];
    int lkl = snprintf(lkey, sizeof lkey, "%s%c%d", q->id, 0, part);
    if (off < 0 && lkl > 0 &&
        wr_log_meta_get(e->opts.db, QUERY_OFFSETS, lkey, (size_t)lkl, &val, NULL) == WR_OK &&
        val.len == 8)
        off = (int64_t)wr_be64_get(val.data);
    wr_buf_free(&val);
    return off;
}

/* at_least_once: the input offset straight to the group's committed offsets. */
static int
commit_offset(wr_engine *e, const wr_query *q, int32_t part, int64_t offset, wr_err *err)
{
    uint8_t key[600];
    size_t kl = offset_key(e, q, part, key);
    if (kl == 0)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_buf v = WR_BUF_INIT;
    wr_group_offset_value(&v, offset, -1, NULL, 0);
    int rc = wr_buf_ok(&v)
                 ? wr_log_meta_put(e->opts.db, WR_GROUP_OFFSETS_TABLE, key, kl, v.data, v.len, err)
                 : wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_buf_free(&v);
    return rc;
}

/* ---- the guarantee ------------------------------------------------------------------------ */

static const char *
prop(wr_session *ss, const char *name)
{
    char full[128];
    snprintf(full, sizeof full, "ksql.streams.%s", name);
    const char *v = ss ? wr_props_get(&ss->props, name) : NULL;
    return v ? v : ss ? wr_props_get(&ss->props, full) : NULL;
}

int
eng_query_guarantee(wr_engine *e, wr_session *ss, wr_query *q, wr_err *err)
{
    q->eos = false;
    q->commit_ms = 0;
    if (q->is_push)
        return WR_OK; /* a client's query writes to no topic */
    const char *g = prop(ss, "processing.guarantee");
    if (g == NULL)
        g = e->opts.guarantee;
    if (g == NULL)
        g = e->opts.txn != NULL ? "exactly_once_v2" : "at_least_once";
    /* exactly_once and exactly_once_beta are Kafka Streams' older names; weir runs them as v2 */
    if (strcasecmp(g, "exactly_once_v2") == 0 || strcasecmp(g, "exactly_once") == 0 ||
        strcasecmp(g, "exactly_once_beta") == 0)
        q->eos = true;
    else if (strcasecmp(g, "at_least_once") != 0)
        return wr_err_set(err, WR_EINVAL,
                          "processing.guarantee '%s' is not one of at_least_once, exactly_once_v2",
                          g);
    if (q->eos && e->opts.txn == NULL)
        return wr_err_set(err, WR_EUNSUPP,
                          "processing.guarantee exactly_once_v2 needs the log's transaction "
                          "coordinator, and this engine runs without one");
    const char *ci = prop(ss, "commit.interval.ms");
    int64_t ms = q->eos ? (e->opts.commit_interval_ms > 0 ? e->opts.commit_interval_ms : 100) : 0;
    if (ci != NULL) {
        char *end;
        long long v = strtoll(ci, &end, 10);
        if (*ci == 0 || *end != 0 || v < 0 || v > 24LL * 3600 * 1000)
            return wr_err_set(err, WR_EINVAL,
                              "commit.interval.ms '%s' is not a number of milliseconds from 0 to "
                              "86400000",
                              ci);
        ms = v;
    }
    q->commit_ms = ms;
    return WR_OK;
}

/* ---- runs and transactions ------------------------------------------------------------------ */

static bool
eos(const wr_query *q)
{
    return q->eos && !q->is_push;
}

/* A changelog's records into the task's transaction. */
static int
append_changelog(
    void *arg, wr_partition *p, uint8_t *data, size_t len, wr_log_append_result *res, wr_err *err)
{
    return wr_txn_producer_append(arg, wr_partition_topic(p), wr_partition_id(p), data, len, res,
                                  err);
}

/* exactly_once_v2: the task's producer, opened (fencing whatever ran the task before) the
   first time, or again after a failed abort. */
static int
producer(wr_engine *e, wr_query *q, task *t, wr_err *err)
{
    if (t->tx == NULL) {
        if ((t->tx = calloc(1, sizeof *t->tx)) == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        t->tx->committed = -1;
    }
    struct ttx *x = t->tx;
    if (x->prod != NULL && !x->broken)
        return WR_OK;
    if (x->prod != NULL) {
        if (wr_txn_producer_reopen(x->prod, err) != WR_OK)
            return err->code;
        x->broken = false;
        /* the reopen finished the lost transaction as the coordinator had decided it: a commit
           whose markers failed was decided (PrepareCommit) and is committed now, outputs,
           changelog and offsets. Go on from what is committed, not from the rollback */
        x->committed = -1;
        if (t->store != NULL)
            return eng_task_reload(e, q, t, err);
        if (q->join == NULL) {
            int64_t off = eng_committed_offset(e, q, t->partition);
            if (off >= 0)
                t->offset = off;
        }
        return WR_OK;
    }
    char *g = eng_query_group(e, q);
    if (g == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    char *id = malloc(strlen(g) + 16);
    int rc = id ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
    if (rc == WR_OK) {
        sprintf(id, "%s-%d", g, t->partition);
        rc = wr_txn_producer_open(e->opts.txn, e->opts.db, id, TXN_TIMEOUT_MS, &x->prod, err);
    }
    free(id);
    free(g);
    return rc;
}

int
eng_task_begin(wr_engine *e, wr_query *q, task *t, bool stateful, wr_err *err)
{
    if (eos(q) && t->tx != NULL && t->tx->began_ms > 0)
        return WR_OK; /* the open transaction goes on */
    if (eos(q)) {
        int rc = producer(e, q, t, err);
        if (rc != WR_OK)
            return rc;
    }
    t->saved = (tpos){t->offset, t->stream_time, t->final_upto};
    if (q->join != NULL)
        eng_join_save(t);
    if (stateful && (t->txn = wr_state_txn_begin(e->opts.state)) == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    if (eos(q))
        t->tx->began_ms = wr_clock_mono_ns() / 1000000 + 1; /* never 0 */
    return WR_OK;
}

int
eng_task_append(
    wr_engine *e, wr_query *q, task *t, const char *topic, int32_t part, wr_buf *data, wr_err *err)
{
    wr_log_append_result res;
    if (eos(q))
        return wr_txn_producer_append(t->tx->prod, topic, part, data->data, data->len, &res, err);
    wr_partition *lp;
    int rc = wr_log_partition(e->opts.db, topic, part, &lp);
    if (rc != WR_OK)
        return wr_err_set(err, rc, "topic %s partition %d is missing", topic, part);
    return wr_log_append(lp, data->data, data->len, &res, err);
}

/* Everything since the task's transaction (or run) began counts for nothing: the state writes
   are dropped and the positions go back. */
static void
rollback(wr_query *q, task *t)
{
    wr_state_txn_abort(t->txn);
    t->txn = NULL;
    t->offset = t->saved.offset;
    t->stream_time = t->saved.stream_time;
    t->final_upto = t->saved.final_upto;
    if (q->join != NULL)
        eng_join_rollback(t);
}

/* exactly_once_v2: aborts the open transaction and rolls the task back to its start. */
static void
abort_txn(wr_query *q, task *t)
{
    struct ttx *x = t->tx;
    wr_err aerr = {0};
    if (x->prod != NULL && wr_txn_producer_abort(x->prod, &aerr) != WR_OK) {
        /* fenced (the coordinator aborted it already) or the markers failed: a new epoch
           aborts whatever is left, before the next transaction */
        wr_log(WR_LOG_WARN, "engine", "query %s partition %d: %s", q->id, t->partition, aerr.msg);
        x->broken = true;
    }
    x->began_ms = 0;
    rollback(q, t);
}

int
eng_task_end_run(wr_engine *e, wr_query *q, task *t, bool stateful, int rc, wr_err *err)
{
    if (eos(q)) {
        if (rc != WR_OK && t->tx != NULL && t->tx->began_ms > 0)
            abort_txn(q, t);
        return rc;
    }
    if (stateful && t->txn != NULL && rc == WR_OK) {
        /* after the outputs (at-least-once for them), before the input offset; the state and
           the input position it reflects are one commit */
        rc = wr_state_txn_commit(t->txn, wr_clock_wall_ms(), err);
        t->txn = NULL;
    }
    if (rc != WR_OK) {
        rollback(q, t); /* the run counts for nothing: it runs again */
        return rc;
    }
    if (t->offset != t->saved.offset && !q->is_push && q->join == NULL)
        rc = commit_offset(e, q, t->partition, t->offset, err);
    return rc;
}

/* exactly_once_v2: commits the task's open transaction. */
static int
commit_txn(wr_engine *e, wr_query *q, task *t, wr_err *err)
{
    struct ttx *x = t->tx;
    int rc = WR_OK;
    int64_t now = wr_clock_wall_ms();
    wr_state_appender ap = {append_changelog, x->prod};
    if (t->txn != NULL)
        rc = wr_state_txn_log(t->txn, &ap, now, err);
    char *g = NULL;
    if (rc == WR_OK && q->join == NULL && t->offset != x->committed) {
        wr_txn_offset o = {
            q->in_topic ? q->in_topic : q->src->topic, t->partition, t->offset, -1, NULL, 0};
        if ((g = eng_query_group(e, q)) == NULL)
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        else
            rc = wr_txn_producer_offsets(x->prod, g, &o, 1, err);
    }
    free(g);
    if (rc == WR_OK) {
        wr_fault_kill(WR_FAULT_KILL_COMMIT_LOG);
        rc = wr_txn_producer_commit(x->prod, err);
    }
    if (rc != WR_OK) {
        abort_txn(q, t);
        return rc;
    }
    x->began_ms = 0;
    x->committed = t->offset;
    if (t->txn == NULL)
        return WR_OK;
    wr_fault_kill(WR_FAULT_KILL_COMMIT_STATE);
    rc = wr_state_txn_commit(t->txn, now, err);
    t->txn = NULL;
    if (rc != WR_OK) {
        /* the transaction holds the state's changelog records, RocksDB does not: bring the
           store level with its changelog, and the task back to the position it holds */
        wr_err rerr = {0};
        if (eng_task_reload(e, q, t, &rerr) != WR_OK)
            wr_log(WR_LOG_ERROR, "engine", "query %s partition %d: %s", q->id, t->partition,
                   rerr.msg);
    }
    return rc;
}

int
eng_task_tick(wr_engine *e, wr_query *q, task *t, bool force, wr_err *err)
{
    if (!eos(q) || t->tx == NULL || t->tx->began_ms == 0)
        return WR_OK;
    if (!force && wr_clock_mono_ns() / 1000000 + 1 - t->tx->began_ms < q->commit_ms)
        return WR_OK;
    return commit_txn(e, q, t, err);
}

int
eng_query_commit(wr_engine *e, wr_query *q, wr_err *err)
{
    int rc = WR_OK;
    for (int r = 0; r < q->nreparts; r++) {
        int rrc = eng_query_commit(e, q->reparts[r], err);
        rc = rc == WR_OK ? rrc : rc;
    }
    for (int i = 0; i < q->ntasks; i++) {
        wr_err terr = {0};
        int trc = eng_task_tick(e, q, &q->tasks[i], true, &terr);
        if (trc != WR_OK && rc == WR_OK) {
            rc = trc;
            *err = terr;
        }
    }
    return rc;
}

void
eng_query_finish(wr_engine *e, wr_query *q)
{
    wr_err err = {0};
    if (eng_query_commit(e, q, &err) != WR_OK)
        wr_log(WR_LOG_WARN, "engine", "query %s: its last transaction was aborted: %s", q->id,
               err.msg);
}

void
eng_query_close_tasks(wr_query *q)
{
    for (int r = 0; r < q->nreparts; r++)
        eng_query_close_tasks(q->reparts[r]);
    for (int i = 0; i < q->ntasks; i++) {
        task *t = &q->tasks[i];
        wr_state_txn_abort(t->txn);
        t->txn = NULL;
        if (t->tx != NULL) {
            /* what is still open is aborted now rather than at its timeout, so that it does
               not hold back read_committed readers of the sink */
            wr_err aerr = {0};
            if (t->tx->prod != NULL && t->tx->began_ms > 0)
                (void)wr_txn_producer_abort(t->tx->prod, &aerr);
            wr_txn_producer_close(t->tx->prod);
            free(t->tx);
            t->tx = NULL;
        }
    }
}

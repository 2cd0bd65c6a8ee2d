/*
 * log.c - the log database: data directory, LMDB environment, topics and their configs,
 * maintenance, and the named metadata tables other subsystems keep in LMDB.
 *
 * LMDB (`<data>/meta.lmdb`, one environment per data directory) holds:
 *   log.topics  name -> be32 partitions, then the topic's own configs as "key\0value\0" pairs
 *   log.parts   name\0 be32 partition -> be64 log start offset (moved by DeleteRecords)
 *   log.index   name\0 be32 partition be64 segment base -> a segment's sparse index (partition.c)
 *   <table>     the tables of wr_log_meta_* ("groups", "producers", ...); names beginning with
 *               "log." are reserved.
 * Topic creation commits the LMDB entry before making directories; deletion removes the entry
 * before the directories. On open, partition directories without a topic and directories left
 * half-deleted (`*-delete`) are removed, so a crash between the two steps leaves nothing behind.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/log/log_int.h"

#define TAG            "log"
#define MAX_PARTITIONS 100000
#define MAX_TABLES     100

static const char *const config_names[] = {
#define WR_X_(id, name, def) name,
    WR_LOG_CONFIG_LIST(WR_X_)
#undef WR_X_
};
static const char *const config_defaults[] = {
#define WR_X_(id, name, def) def,
    WR_LOG_CONFIG_LIST(WR_X_)
#undef WR_X_
};
#define NCONFIGS (sizeof config_names / sizeof config_names[0])

/* Kafka topic configs accepted and stored, with no effect on a single-node log. */
static const char *const passive_configs[] = {
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "flush.messages",
    "flush.ms",
    "file.delete.delay.ms",
    "preallocate",
    "segment.index.bytes",
    "segment.jitter.ms",
    "min.compaction.lag.ms",
    "max.compaction.lag.ms",
    "message.downconversion.enable",
    "message.timestamp.difference.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.after.max.ms",
    "follower.replication.throttled.replicas",
    "leader.replication.throttled.replicas",
    "local.retention.ms",
    "local.retention.bytes",
    "remote.storage.enable",
    "message.format.version",
};

int
wr__lmdb_err(int mrc, wr_err *err, const char *what)
{
    if (mrc == 0)
        return WR_OK;
    int code = mrc == MDB_MAP_FULL   ? WR_ENOSPC
               : mrc == MDB_NOTFOUND ? WR_ENOENT
               : mrc > 0             ? wr_err_from_errno(mrc)
                                     : WR_EIO;
    return wr_err_set(err, code, "metadata store (%s): %s", what, mdb_strerror(mrc));
}

void
wr__part_key(wr_buf *k, const char *topic, int32_t part)
{
    wr_buf_append(k, topic, strlen(topic) + 1);
    wr_buf_put_be32(k, (uint32_t)part);
}

void
wr__notify(wr_logdb *db)
{
    pthread_mutex_lock(&db->watch_mu);
    void (*fn)(void *) = db->watch_fn;
    void *arg = db->watch_arg;
    pthread_mutex_unlock(&db->watch_mu);
    if (fn)
        fn(arg);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        wr_log(WR_LOG_WARN, TAG, "remove %s: %s", path, strerror(errno));
    return 0;
}

int
wr__rmtree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? WR_OK : WR_EIO;
}

/* ---- configs --------------------------------------------------------------------------- */

static bool
parse_long(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*v == 0 || *end != 0 || errno != 0 || x < lo || x > hi)
        return false;
    if (out)
        *out = x;
    return true;
}

int
wr_log_config_validate(const char *key, const char *value, wr_err *err)
{
    if (!value)
        return wr_err_set(err, WR_EINVAL, "config %s needs a value", key);
    bool ok;
    if (!strcmp(key, "segment.bytes"))
        ok = parse_long(value, 14, INT32_MAX, NULL);
    else if (!strcmp(key, "segment.ms"))
        ok = parse_long(value, 1, INT64_MAX, NULL);
    else if (!strcmp(key, "retention.ms") || !strcmp(key, "retention.bytes"))
        ok = parse_long(value, -1, INT64_MAX, NULL);
    else if (!strcmp(key, "max.message.bytes"))
        ok = parse_long(value, 0, INT32_MAX, NULL);
    else if (!strcmp(key, "index.interval.bytes"))
        ok = parse_long(value, 0, INT32_MAX, NULL);
    else if (!strcmp(key, "delete.retention.ms"))
        ok = parse_long(value, 0, INT64_MAX, NULL);
    else if (!strcmp(key, "cleanup.policy"))
        ok = !strcmp(value, "delete") || !strcmp(value, "compact") ||
             !strcmp(value, "compact,delete") || !strcmp(value, "delete,compact");
    else if (!strcmp(key, "message.timestamp.type"))
        ok = !strcmp(value, "CreateTime") || !strcmp(value, "LogAppendTime");
    else if (!strcmp(key, "compression.type")) {
        if (strcmp(value, "producer") != 0)
            return wr_err_set(err, WR_EUNSUPP,
                              "compression.type=%s is not supported yet: weir stores batches as "
                              "the producer compressed them (compression.type=producer)",
                              value);
        ok = true;
    } else if (!strcmp(key, "min.cleanable.dirty.ratio")) {
        char *end;
        double d = strtod(value, &end);
        ok = *value && !*end && d >= 0 && d <= 1;
    } else {
        for (size_t i = 0; i < sizeof passive_configs / sizeof passive_configs[0]; i++)
            if (!strcmp(key, passive_configs[i]))
                return WR_OK;
        return wr_err_set(err, WR_EINVAL, "unknown topic config '%s'", key);
    }
    if (!ok)
        return wr_err_set(err, WR_EINVAL, "invalid value '%s' for topic config %s", value, key);
    return WR_OK;
}

/* The effective value of key for a topic: its own, else the broker default, else Kafka's. */
static const char *
effective(const wr_logdb *db, const wr_props *own, size_t i)
{
    const char *v = own ? wr_props_get(own, config_names[i]) : NULL;
    if (!v)
        v = wr_props_get(&db->defaults, config_names[i]);
    if (!v || wr_log_config_validate(config_names[i], v, NULL) != WR_OK)
        v = config_defaults[i];
    return v;
}

static int64_t
effective_long(const wr_logdb *db, const wr_props *own, const char *key)
{
    for (size_t i = 0; i < NCONFIGS; i++) {
        if (!strcmp(config_names[i], key)) {
            int64_t v = 0;
            parse_long(effective(db, own, i), INT64_MIN, INT64_MAX, &v);
            return v;
        }
    }
    return 0;
}

static void
tcfg_parse(const wr_logdb *db, wr__topic *t)
{
    wr__tcfg *c = &t->cfg;
    c->segment_bytes = effective_long(db, &t->own, "segment.bytes");
    c->segment_ms = effective_long(db, &t->own, "segment.ms");
    c->retention_ms = effective_long(db, &t->own, "retention.ms");
    c->retention_bytes = effective_long(db, &t->own, "retention.bytes");
    c->max_message_bytes = effective_long(db, &t->own, "max.message.bytes");
    c->index_interval = effective_long(db, &t->own, "index.interval.bytes");
    c->delete_retention_ms = effective_long(db, &t->own, "delete.retention.ms");
    for (size_t i = 0; i < NCONFIGS; i++) {
        const char *v = effective(db, &t->own, i);
        if (!strcmp(config_names[i], "message.timestamp.type"))
            c->log_append_time = !strcmp(v, "LogAppendTime");
        else if (!strcmp(config_names[i], "cleanup.policy")) {
            c->compact = strstr(v, "compact") != NULL;
            c->delete = strstr(v, "delete") != NULL;
        } else if (!strcmp(config_names[i], "min.cleanable.dirty.ratio"))
            c->min_dirty_ratio = strtod(v, NULL);
    }
}

/* ---- the topic table ------------------------------------------------------------------- */

static bool
valid_topic_name(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= 249 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Index of name in the sorted topic table, or where it would go (as ~index). */
static ssize_t
topic_find(const wr_logdb *db, const char *name)
{
    size_t lo = 0, hi = db->ntopics;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(db->topics[mid]->name, name);
        if (c == 0)
            return (ssize_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ~(ssize_t)lo;
}

static wr__topic *
topic_get(const wr_logdb *db, const char *name)
{
    ssize_t i = topic_find(db, name);
    return i >= 0 ? db->topics[i] : NULL;
}

static bool
topic_insert(wr_logdb *db, wr__topic *t)
{
    ssize_t at = topic_find(db, t->name);
    if (at >= 0)
        return false;
    size_t pos = (size_t)~at;
    if (db->ntopics == db->topics_cap) {
        size_t cap = db->topics_cap ? db->topics_cap * 2 : 16;
        wr__topic **n = realloc(db->topics, cap * sizeof *n);
        if (!n)
            return false;
        db->topics = n;
        db->topics_cap = cap;
    }
    memmove(&db->topics[pos + 1], &db->topics[pos], (db->ntopics - pos) * sizeof *db->topics);
    db->topics[pos] = t;
    db->ntopics++;
    return true;
}

static void
topic_free(wr__topic *t)
{
    if (!t)
        return;
    for (int32_t i = 0; i < t->nparts; i++)
        if (t->parts[i])
            wr__part_close(t->parts[i]);
    free(t->parts);
    wr_props_free(&t->own);
    free(t->name);
    free(t);
}

static void
topic_encode(const wr__topic *t, int32_t nparts, wr_buf *v)
{
    wr_buf_put_be32(v, (uint32_t)nparts);
    for (size_t i = 0; i < t->own.count; i++) {
        wr_buf_append(v, t->own.items[i].key, strlen(t->own.items[i].key) + 1);
        wr_buf_append(v, t->own.items[i].value, strlen(t->own.items[i].value) + 1);
    }
}

static int
topic_store(wr_logdb *db, const wr__topic *t, int32_t nparts, unsigned flags, wr_err *err)
{
    wr_buf v = WR_BUF_INIT;
    topic_encode(t, nparts, &v);
    if (!wr_buf_ok(&v))
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    MDB_txn *txn;
    int rc = wr__lmdb_err(mdb_txn_begin(db->env, NULL, 0, &txn), err, "begin");
    if (rc == WR_OK) {
        MDB_val k = {strlen(t->name), t->name}, mv = {v.len, v.data};
        int mrc = mdb_put(txn, db->dbi_topics, &k, &mv, flags);
        if (mrc == MDB_KEYEXIST)
            rc = wr_err_set(err, WR_EEXIST, "topic '%s' already exists", t->name);
        else
            rc = wr__lmdb_err(mrc, err, "topic put");
        if (rc == WR_OK)
            rc = wr__lmdb_err(mdb_txn_commit(txn), err, "commit");
        else
            mdb_txn_abort(txn);
    }
    wr_buf_free(&v);
    return rc;
}

/* Removes every LMDB entry of a topic (its row, partition rows, indexes). */
static int
topic_forget(wr_logdb *db, const char *name, wr_err *err)
{
    MDB_txn *txn;
    int rc = wr__lmdb_err(mdb_txn_begin(db->env, NULL, 0, &txn), err, "begin");
    if (rc != WR_OK)
        return rc;
    MDB_val k = {strlen(name), (void *)name};
    mdb_del(txn, db->dbi_topics, &k, NULL);
    MDB_dbi dbis[3] = {db->dbi_parts, db->dbi_index, db->dbi_txns};
    size_t plen = strlen(name) + 1; /* "name\0" prefixes these tables' keys */
    for (int d = 0; d < 3 && rc == WR_OK; d++) {
        MDB_cursor *cur;
        if ((rc = wr__lmdb_err(mdb_cursor_open(txn, dbis[d], &cur), err, "cursor")) != WR_OK)
            break;
        for (;;) {
            MDB_val ck = {plen, (void *)name}, cv;
            if (mdb_cursor_get(cur, &ck, &cv, MDB_SET_RANGE) != 0 || ck.mv_size < plen ||
                memcmp(ck.mv_data, name, plen) != 0 || mdb_cursor_del(cur, 0) != 0)
                break;
        }
        mdb_cursor_close(cur);
    }
    if (rc == WR_OK)
        rc = wr__lmdb_err(mdb_txn_commit(txn), err, "commit");
    else
        mdb_txn_abort(txn);
    return rc;
}

/* Opens partitions [from, to) of t. */
static int
topic_open_parts(wr_logdb *db, wr__topic *t, int32_t from, int32_t to, bool fresh, wr_err *err)
{
    for (int32_t i = from; i < to; i++) {
        int rc = wr__part_open(db, t, i, fresh, &t->parts[i], err);
        if (rc != WR_OK)
            return rc;
    }
    return WR_OK;
}

int
wr_log_topic_create(
    wr_logdb *db, const char *name, int32_t partitions, const wr_props *configs, wr_err *err)
{
    if (!valid_topic_name(name))
        return wr_err_set(err, WR_EINVAL,
                          "invalid topic name '%s': 1-249 of [a-zA-Z0-9._-], not '.' or '..'",
                          name);
    if (partitions < 1 || partitions > MAX_PARTITIONS)
        return wr_err_set(err, WR_EINVAL, "partitions must be between 1 and %d, not %d",
                          MAX_PARTITIONS, partitions);
    for (size_t i = 0; configs && i < configs->count; i++) {
        int rc = wr_log_config_validate(configs->items[i].key, configs->items[i].value, err);
        if (rc != WR_OK)
            return rc;
    }
    wr__topic *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name)) ||
        !(t->parts = calloc((size_t)partitions, sizeof *t->parts))) {
        topic_free(t);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    t->nparts = partitions;
    for (size_t i = 0; configs && i < configs->count; i++)
        if (wr_props_set(&t->own, configs->items[i].key, configs->items[i].value) != WR_OK) {
            topic_free(t);
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        }
    tcfg_parse(db, t);

    pthread_rwlock_wrlock(&db->mu);
    int rc = WR_OK;
    if (topic_get(db, name)) {
        rc = wr_err_set(err, WR_EEXIST, "topic '%s' already exists", name);
        goto fail;
    }
    if ((rc = topic_store(db, t, partitions, MDB_NOOVERWRITE, err)) != WR_OK)
        goto fail;
    if ((rc = topic_open_parts(db, t, 0, partitions, true, err)) != WR_OK) {
        topic_forget(db, name, NULL);
        goto fail;
    }
    if (!topic_insert(db, t)) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        topic_forget(db, name, NULL);
        goto fail;
    }
    pthread_rwlock_unlock(&db->mu);
    wr_log(WR_LOG_INFO, TAG, "created topic %s with %d partition%s", name, partitions,
           partitions == 1 ? "" : "s");
    return WR_OK;
fail:
    pthread_rwlock_unlock(&db->mu);
    if (rc != WR_EEXIST)
        for (int32_t i = 0; i < partitions; i++) {
            if (t->parts[i]) {
                char *dir = strdup(t->parts[i]->dir);
                wr__part_close(t->parts[i]);
                t->parts[i] = NULL;
                if (dir)
                    wr__rmtree(dir);
                free(dir);
            }
        }
    topic_free(t);
    return rc;
}

int
wr_log_topic_delete(wr_logdb *db, const char *name, wr_err *err)
{
    pthread_rwlock_wrlock(&db->mu);
    ssize_t i = topic_find(db, name);
    if (i < 0) {
        pthread_rwlock_unlock(&db->mu);
        return wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
    }
    wr__topic **grave = realloc(db->graveyard, (db->ngrave + 1) * sizeof *grave);
    if (!grave) {
        pthread_rwlock_unlock(&db->mu);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    db->graveyard = grave;
    int rc = topic_forget(db, name, err);
    if (rc != WR_OK) {
        pthread_rwlock_unlock(&db->mu);
        return rc;
    }
    wr__topic *t = db->topics[i];
    memmove(&db->topics[i], &db->topics[i + 1], (db->ntopics - (size_t)i - 1) * sizeof *db->topics);
    db->ntopics--;
    db->graveyard[db->ngrave++] = t; /* handles may still be held: freed at close */
    for (int32_t k = 0; k < t->nparts; k++) {
        wr_partition *p = t->parts[k];
        wr__part_mark_deleted(p);
        char *gone;
        if (asprintf(&gone, "%s.%" PRId64 "-delete", p->dir, wr_clock_wall_ms()) >= 0) {
            if (rename(p->dir, gone) == 0)
                wr__rmtree(gone);
            else
                wr__rmtree(p->dir);
            free(gone);
        }
    }
    pthread_rwlock_unlock(&db->mu);
    wr_log(WR_LOG_INFO, TAG, "deleted topic %s", name);
    return WR_OK;
}

int
wr_log_topic_add_partitions(wr_logdb *db, const char *name, int32_t partitions, wr_err *err)
{
    pthread_rwlock_wrlock(&db->mu);
    wr__topic *t = topic_get(db, name);
    int rc = WR_OK;
    if (!t) {
        rc = wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
        goto out;
    }
    if (partitions <= t->nparts || partitions > MAX_PARTITIONS) {
        rc = wr_err_set(err, WR_EINVAL,
                        "topic '%s' has %d partitions; it can only grow (to at "
                        "most %d), not become %d",
                        name, t->nparts, MAX_PARTITIONS, partitions);
        goto out;
    }
    wr_partition **np = realloc(t->parts, (size_t)partitions * sizeof *np);
    if (!np) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto out;
    }
    t->parts = np;
    for (int32_t i = t->nparts; i < partitions; i++)
        np[i] = NULL;
    if ((rc = topic_open_parts(db, t, t->nparts, partitions, true, err)) == WR_OK)
        rc = topic_store(db, t, partitions, 0, err);
    if (rc == WR_OK) {
        t->nparts = partitions;
    } else {
        for (int32_t i = t->nparts; i < partitions; i++) {
            if (np[i]) {
                char *dir = strdup(np[i]->dir);
                wr__part_close(np[i]);
                np[i] = NULL;
                if (dir)
                    wr__rmtree(dir);
                free(dir);
            }
        }
    }
out:
    pthread_rwlock_unlock(&db->mu);
    return rc;
}

int32_t
wr_log_topic_partitions(wr_logdb *db, const char *name)
{
    pthread_rwlock_rdlock(&db->mu);
    wr__topic *t = topic_get(db, name);
    int32_t n = t ? t->nparts : WR_ENOENT;
    pthread_rwlock_unlock(&db->mu);
    return n;
}

int
wr_log_topic_list(wr_logdb *db, char ***names, size_t *count, wr_err *err)
{
    pthread_rwlock_rdlock(&db->mu);
    char **v = calloc(db->ntopics + 1, sizeof *v);
    size_t n = 0;
    for (; v && n < db->ntopics; n++)
        if (!(v[n] = strdup(db->topics[n]->name)))
            break;
    bool ok = v && n == db->ntopics;
    pthread_rwlock_unlock(&db->mu);
    if (!ok) {
        for (size_t i = 0; v && i < n; i++)
            free(v[i]);
        free(v);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    *names = v;
    *count = n;
    return WR_OK;
}

int
wr_log_topic_config(wr_logdb *db, const char *name, wr_props *out, wr_err *err)
{
    pthread_rwlock_rdlock(&db->mu);
    wr__topic *t = topic_get(db, name);
    int rc = WR_OK;
    if (!t)
        rc = wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
    for (size_t i = 0; t && i < NCONFIGS && rc == WR_OK; i++)
        rc = wr_props_set(out, config_names[i], effective(db, &t->own, i));
    for (size_t i = 0; t && i < t->own.count && rc == WR_OK; i++)
        if (!wr_props_get(out, t->own.items[i].key))
            rc = wr_props_set(out, t->own.items[i].key, t->own.items[i].value);
    pthread_rwlock_unlock(&db->mu);
    if (rc == WR_ENOMEM)
        wr_err_set(err, rc, "out of memory");
    return rc;
}

int
wr_log_topic_config_own(wr_logdb *db, const char *name, wr_props *out, wr_err *err)
{
    pthread_rwlock_rdlock(&db->mu);
    wr__topic *t = topic_get(db, name);
    int rc = t ? WR_OK : wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
    for (size_t i = 0; t && i < t->own.count && rc == WR_OK; i++)
        rc = wr_props_set(out, t->own.items[i].key, t->own.items[i].value);
    pthread_rwlock_unlock(&db->mu);
    if (rc == WR_ENOMEM)
        wr_err_set(err, rc, "out of memory");
    return rc;
}

int
wr_log_topic_config_set(
    wr_logdb *db, const char *name, const char *key, const char *value, wr_err *err)
{
    int rc;
    if (value && (rc = wr_log_config_validate(key, value, err)) != WR_OK)
        return rc;
    pthread_rwlock_wrlock(&db->mu);
    wr__topic *t = topic_get(db, name);
    if (!t) {
        pthread_rwlock_unlock(&db->mu);
        return wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
    }
    wr_props np = WR_PROPS_INIT;
    rc = WR_OK;
    for (size_t i = 0; i < t->own.count && rc == WR_OK; i++)
        if (strcmp(t->own.items[i].key, key) != 0)
            rc = wr_props_set(&np, t->own.items[i].key, t->own.items[i].value);
    if (rc == WR_OK && value)
        rc = wr_props_set(&np, key, value);
    if (rc != WR_OK) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    } else {
        wr_props old = t->own;
        t->own = np;
        rc = topic_store(db, t, t->nparts, 0, err);
        if (rc == WR_OK) {
            np = old;
            tcfg_parse(db, t);
        } else {
            t->own = old;
        }
    }
    wr_props_free(&np);
    pthread_rwlock_unlock(&db->mu);
    return rc;
}

int
wr_log_partition(wr_logdb *db, const char *topic, int32_t partition, wr_partition **out)
{
    pthread_rwlock_rdlock(&db->mu);
    wr__topic *t = topic_get(db, topic);
    int rc = WR_ENOENT;
    if (t && partition >= 0 && partition < t->nparts) {
        *out = t->parts[partition];
        rc = WR_OK;
    }
    pthread_rwlock_unlock(&db->mu);
    return rc;
}

/* ---- open and close -------------------------------------------------------------------- */

static int
load_topics(wr_logdb *db, wr_err *err)
{
    MDB_txn *txn;
    int rc = wr__lmdb_err(mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn), err, "begin");
    if (rc != WR_OK)
        return rc;
    MDB_cursor *cur;
    if ((rc = wr__lmdb_err(mdb_cursor_open(txn, db->dbi_topics, &cur), err, "cursor")) != WR_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    MDB_val k, v;
    for (int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == WR_OK;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        wr__topic *t = calloc(1, sizeof *t);
        if (!t || !(t->name = strndup(k.mv_data, k.mv_size)) || v.mv_size < 4) {
            topic_free(t);
            rc = wr_err_set(err, t ? WR_ECORRUPT : WR_ENOMEM, "bad topic row in the metadata");
            break;
        }
        t->nparts = (int32_t)wr_be32_get(v.mv_data);
        const char *p = (const char *)v.mv_data + 4, *end = (const char *)v.mv_data + v.mv_size;
        while (p < end) {
            const char *key = p, *kz = memchr(p, 0, (size_t)(end - p));
            if (!kz)
                break;
            const char *val = kz + 1, *vz = memchr(val, 0, (size_t)(end - val));
            if (!vz)
                break;
            wr_props_set(&t->own, key, val);
            p = vz + 1;
        }
        t->parts = calloc((size_t)(t->nparts > 0 ? t->nparts : 1), sizeof *t->parts);
        if (t->nparts < 1 || t->nparts > MAX_PARTITIONS || !t->parts || !topic_insert(db, t)) {
            rc = wr_err_set(err, WR_ECORRUPT, "bad topic row for '%s'", t->name);
            topic_free(t);
            break;
        }
        tcfg_parse(db, t);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc;
}

/* Removes partition directories that belong to no topic and half-deleted ones. */
static void
sweep_dirs(wr_logdb *db)
{
    DIR *d = opendir(db->logdir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0)))
            continue;
        size_t n = strlen(nm);
        bool stray = n > 7 && strcmp(nm + n - 7, "-delete") == 0;
        if (!stray) {
            const char *dash = strrchr(nm, '-');
            char *tname = dash ? strndup(nm, (size_t)(dash - nm)) : NULL;
            int64_t part;
            wr__topic *t = tname ? topic_get(db, tname) : NULL;
            stray = !t || !parse_long(dash + 1, 0, MAX_PARTITIONS, &part) || part >= t->nparts;
            free(tname);
        }
        if (stray) {
            char *path;
            if (asprintf(&path, "%s/%s", db->logdir, nm) >= 0) {
                wr_log(WR_LOG_WARN, TAG, "removing %s: it belongs to no topic", path);
                wr__rmtree(path);
                free(path);
            }
        }
    }
    closedir(d);
}

static void *
flusher_main(void *arg)
{
    wr_logdb *db = arg;
    pthread_mutex_lock(&db->flusher_mu);
    while (!db->flusher_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ms = db->opts.flush_interval_ms;
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&db->flusher_cond, &db->flusher_mu, &until);
        if (db->flusher_stop)
            break;
        pthread_mutex_unlock(&db->flusher_mu);
        wr_err err = {0};
        if (wr_log_flush_all(db, &err) != WR_OK)
            wr_log(WR_LOG_ERROR, TAG, "background flush: %s", err.msg);
        pthread_mutex_lock(&db->flusher_mu);
    }
    pthread_mutex_unlock(&db->flusher_mu);
    return NULL;
}

int
wr_log_open(const char *dir, const wr_log_opts *opts, wr_logdb **out, wr_err *err)
{
    wr_logdb *db = calloc(1, sizeof *db);
    if (!db)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    if (opts)
        db->opts = *opts;
    if (db->opts.flush_interval_ms <= 0)
        db->opts.flush_interval_ms = 1000;
    if (db->opts.lmdb_map_size == 0)
        db->opts.lmdb_map_size = (size_t)1 << 30;
    db->opts.topic_defaults = NULL;
    pthread_rwlock_init(&db->mu, NULL);
    pthread_mutex_init(&db->tables_mu, NULL);
    pthread_mutex_init(&db->watch_mu, NULL);
    pthread_mutex_init(&db->flusher_mu, NULL);
    pthread_cond_init(&db->flusher_cond, NULL);
    int rc = WR_OK;
    char *lmdb_path = NULL;
    for (size_t i = 0; opts && opts->topic_defaults && i < opts->topic_defaults->count; i++)
        wr_props_set(&db->defaults, opts->topic_defaults->items[i].key,
                     opts->topic_defaults->items[i].value);
    if (!(db->dir = strdup(dir)) || asprintf(&db->logdir, "%s/log", dir) < 0 ||
        asprintf(&lmdb_path, "%s/meta.lmdb", dir) < 0) {
        db->logdir = NULL;
        lmdb_path = NULL;
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    if ((mkdir(dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(db->logdir, 0755) != 0 && errno != EEXIST)) {
        rc = wr_err_set(err, wr_err_from_errno(errno), "cannot create %s: %s", db->logdir,
                        strerror(errno));
        goto fail;
    }
    int mrc = mdb_env_create(&db->env);
    if (mrc == 0)
        mrc = mdb_env_set_maxdbs(db->env, MAX_TABLES + 3);
    if (mrc == 0)
        mrc = mdb_env_set_mapsize(db->env, db->opts.lmdb_map_size);
    if (mrc == 0)
        mrc = mdb_env_open(db->env, lmdb_path, MDB_NOSUBDIR | MDB_NOTLS, 0644);
    if (mrc != 0) {
        rc = wr__lmdb_err(mrc, err, lmdb_path);
        goto fail;
    }
    MDB_txn *txn;
    if ((rc = wr__lmdb_err(mdb_txn_begin(db->env, NULL, 0, &txn), err, "begin")) != WR_OK)
        goto fail;
    mrc = mdb_dbi_open(txn, "log.topics", MDB_CREATE, &db->dbi_topics);
    if (mrc == 0)
        mrc = mdb_dbi_open(txn, "log.parts", MDB_CREATE, &db->dbi_parts);
    if (mrc == 0)
        mrc = mdb_dbi_open(txn, "log.index", MDB_CREATE, &db->dbi_index);
    if (mrc == 0)
        mrc = mdb_dbi_open(txn, "log.txns", MDB_CREATE, &db->dbi_txns);
    if (mrc == 0)
        mrc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (mrc != 0) {
        rc = wr__lmdb_err(mrc, err, "open tables");
        goto fail;
    }
    if ((rc = load_topics(db, err)) != WR_OK)
        goto fail;
    sweep_dirs(db);
    for (size_t i = 0; i < db->ntopics; i++) {
        wr__topic *t = db->topics[i];
        if ((rc = topic_open_parts(db, t, 0, t->nparts, false, err)) != WR_OK)
            goto fail;
    }
    if (db->opts.flush == WR_LOG_FLUSH_INTERVAL) {
        if (pthread_create(&db->flusher, NULL, flusher_main, db) != 0) {
            rc = wr_err_set(err, WR_ENOMEM, "cannot start the flush thread");
            goto fail;
        }
        db->flusher_started = true;
    }
    free(lmdb_path);
    wr_log(WR_LOG_DEBUG, TAG, "opened %s: %zu topic%s", dir, db->ntopics,
           db->ntopics == 1 ? "" : "s");
    *out = db;
    return WR_OK;
fail:
    free(lmdb_path);
    wr_log_close(db);
    return rc;
}

void
wr_log_close(wr_logdb *db)
{
    if (!db)
        return;
    if (db->flusher_started) {
        pthread_mutex_lock(&db->flusher_mu);
        db->flusher_stop = true;
        pthread_cond_signal(&db->flusher_cond);
        pthread_mutex_unlock(&db->flusher_mu);
        pthread_join(db->flusher, NULL);
    }
    for (size_t i = 0; i < db->ntopics; i++)
        topic_free(db->topics[i]);
    for (size_t i = 0; i < db->ngrave; i++)
        topic_free(db->graveyard[i]);
    free(db->topics);
    free(db->graveyard);
    for (size_t i = 0; i < db->ntables; i++)
        free(db->tables[i].name);
    free(db->tables);
    if (db->env)
        mdb_env_close(db->env);
    wr_props_free(&db->defaults);
    pthread_rwlock_destroy(&db->mu);
    pthread_mutex_destroy(&db->tables_mu);
    pthread_mutex_destroy(&db->watch_mu);
    pthread_mutex_destroy(&db->flusher_mu);
    pthread_cond_destroy(&db->flusher_cond);
    free(db->dir);
    free(db->logdir);
    free(db);
}

void
wr_log_watch(wr_logdb *db, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&db->watch_mu);
    db->watch_fn = fn;
    db->watch_arg = arg;
    pthread_mutex_unlock(&db->watch_mu);
}

/* ---- maintenance ----------------------------------------------------------------------- */

typedef struct part_ref {
    wr_partition *p;
    wr__tcfg cfg;
} part_ref;

/* Snapshot of every live partition with its topic's config (taken under db->mu). */
static int
all_parts(wr_logdb *db, part_ref **out, size_t *n, wr_err *err)
{
    pthread_rwlock_rdlock(&db->mu);
    size_t total = 0;
    for (size_t i = 0; i < db->ntopics; i++)
        total += (size_t)db->topics[i]->nparts;
    part_ref *v = malloc((total ? total : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < db->ntopics; i++)
        for (int32_t j = 0; j < db->topics[i]->nparts; j++)
            v[k++] = (part_ref){db->topics[i]->parts[j], db->topics[i]->cfg};
    pthread_rwlock_unlock(&db->mu);
    if (!v)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    *out = v;
    *n = k;
    return WR_OK;
}

int
wr_log_maintain(wr_logdb *db, wr_err *err)
{
    part_ref *parts;
    size_t n;
    int rc = all_parts(db, &parts, &n, err);
    if (rc != WR_OK)
        return rc;
    MDB_txn *txn;
    if ((rc = wr__lmdb_err(mdb_txn_begin(db->env, NULL, 0, &txn), err, "begin")) != WR_OK) {
        free(parts);
        return rc;
    }
    int64_t now = wr_clock_wall_ms();
    int first = WR_OK;
    for (size_t i = 0; i < n; i++) {
        wr_err perr = {0};
        int prc = wr__part_maintain(parts[i].p, &parts[i].cfg, txn, now, &perr);
        if (prc != WR_OK && first == WR_OK) {
            first = prc;
            wr_err_set(err, prc, "%s", perr.msg);
        }
    }
    rc = wr__lmdb_err(mdb_txn_commit(txn), err, "commit");
    /* compaction after the transaction: a pass reads and writes whole segments */
    for (size_t i = 0; i < n; i++) {
        if (!parts[i].cfg.compact)
            continue;
        wr_err perr = {0};
        if (wr__part_compact(parts[i].p, &parts[i].cfg, now, &perr) != WR_OK) {
            wr_log(WR_LOG_WARN, "log", "compaction: %s", perr.msg);
            if (first == WR_OK)
                first = wr_err_set(err, perr.code, "%s", perr.msg);
        }
    }
    free(parts);
    return first != WR_OK ? first : rc;
}

int
wr_log_flush_all(wr_logdb *db, wr_err *err)
{
    part_ref *parts;
    size_t n;
    int rc = all_parts(db, &parts, &n, err);
    if (rc != WR_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        int prc = wr__part_flush(parts[i].p, rc == WR_OK ? err : NULL);
        if (rc == WR_OK)
            rc = prc;
    }
    free(parts);
    return rc;
}

/* ---- metadata tables ------------------------------------------------------------------- */

static int
table_dbi(wr_logdb *db, const char *table, MDB_dbi *dbi, wr_err *err)
{
    if (!table || !*table || strncmp(table, "log.", 4) == 0 || strlen(table) > 64)
        return wr_err_set(err, WR_EINVAL, "invalid metadata table name '%s'", table ? table : "");
    pthread_mutex_lock(&db->tables_mu);
    int rc = WR_OK;
    for (size_t i = 0; i < db->ntables; i++) {
        if (!strcmp(db->tables[i].name, table)) {
            *dbi = db->tables[i].dbi;
            goto out;
        }
    }
    if (db->ntables >= MAX_TABLES) {
        rc = wr_err_set(err, WR_ETOOBIG, "too many metadata tables");
        goto out;
    }
    wr__table *nt = realloc(db->tables, (db->ntables + 1) * sizeof *nt);
    if (!nt) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto out;
    }
    db->tables = nt;
    MDB_txn *txn;
    if ((rc = wr__lmdb_err(mdb_txn_begin(db->env, NULL, 0, &txn), err, "begin")) != WR_OK)
        goto out;
    int mrc = mdb_dbi_open(txn, table, MDB_CREATE, dbi);
    mrc = mrc ? (mdb_txn_abort(txn), mrc) : mdb_txn_commit(txn);
    if ((rc = wr__lmdb_err(mrc, err, table)) != WR_OK)
        goto out;
    db->tables[db->ntables++] = (wr__table){strdup(table), *dbi};
out:
    pthread_mutex_unlock(&db->tables_mu);
    return rc;
}

/* Resolves a table, checks the key size and begins a transaction (flags: 0 or MDB_RDONLY). */
static int
meta_begin(wr_logdb *db,
           const char *table,
           size_t klen,
           unsigned flags,
           MDB_dbi *dbi,
           MDB_txn **txn,
           wr_err *err)
{
    int rc = table_dbi(db, table, dbi, err);
    if (rc != WR_OK)
        return rc;
    if (klen == 0 || klen > 511)
        return wr_err_set(err, WR_EINVAL, "metadata key of %zu bytes (1-511)", klen);
    return wr__lmdb_err(mdb_txn_begin(db->env, NULL, flags, txn), err, "begin");
}

int
wr_log_meta_put(wr_logdb *db,
                const char *table,
                const void *key,
                size_t klen,
                const void *val,
                size_t vlen,
                wr_err *err)
{
    MDB_dbi dbi;
    MDB_txn *txn;
    int rc = meta_begin(db, table, klen, 0, &dbi, &txn, err);
    if (rc != WR_OK)
        return rc;
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int mrc = mdb_put(txn, dbi, &k, &v, 0);
    mrc = mrc ? (mdb_txn_abort(txn), mrc) : mdb_txn_commit(txn);
    return wr__lmdb_err(mrc, err, table);
}

/* Several puts and deletes, in several tables, in one durable LMDB transaction: all or none. */
int
wr_log_meta_write(wr_logdb *db, const wr_log_meta_op *ops, size_t n, wr_err *err)
{
    if (n == 0)
        return WR_OK;
    MDB_dbi *dbis = calloc(n, sizeof *dbis);
    if (dbis == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = WR_OK;
    for (size_t i = 0; i < n && rc == WR_OK; i++) {
        rc = table_dbi(db, ops[i].table, &dbis[i], err);
        if (rc == WR_OK && (ops[i].klen == 0 || ops[i].klen > 511))
            rc = wr_err_set(err, WR_EINVAL, "metadata key of %zu bytes (1-511)", ops[i].klen);
    }
    MDB_txn *txn = NULL;
    if (rc == WR_OK)
        rc = wr__lmdb_err(mdb_txn_begin(db->env, NULL, 0, &txn), err, "begin");
    if (rc != WR_OK) {
        free(dbis);
        return rc;
    }
    int mrc = 0;
    for (size_t i = 0; i < n && mrc == 0; i++) {
        MDB_val k = {ops[i].klen, (void *)ops[i].key};
        if (ops[i].val != NULL) {
            MDB_val v = {ops[i].vlen, (void *)ops[i].val};
            mrc = mdb_put(txn, dbis[i], &k, &v, 0);
        } else {
            mrc = mdb_del(txn, dbis[i], &k, NULL);
            if (mrc == MDB_NOTFOUND)
                mrc = 0;
        }
    }
    free(dbis);
    mrc = mrc ? (mdb_txn_abort(txn), mrc) : mdb_txn_commit(txn);
    return wr__lmdb_err(mrc, err, "metadata write");
}

int
wr_log_meta_get(
    wr_logdb *db, const char *table, const void *key, size_t klen, wr_buf *out, wr_err *err)
{
    MDB_dbi dbi;
    MDB_txn *txn;
    int rc = meta_begin(db, table, klen, MDB_RDONLY, &dbi, &txn, err);
    if (rc != WR_OK)
        return rc;
    MDB_val k = {klen, (void *)key}, v;
    int mrc = mdb_get(txn, dbi, &k, &v);
    if (mrc == 0) {
        wr_buf_append(out, v.mv_data, v.mv_size);
        if (!wr_buf_ok(out))
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    } else if (mrc == MDB_NOTFOUND) {
        rc = WR_ENOENT; /* an expected answer, not an error worth a message */
    } else {
        rc = wr__lmdb_err(mrc, err, table);
    }
    mdb_txn_abort(txn);
    return rc;
}

int
wr_log_meta_del(wr_logdb *db, const char *table, const void *key, size_t klen, wr_err *err)
{
    MDB_dbi dbi;
    MDB_txn *txn;
    int rc = meta_begin(db, table, klen, 0, &dbi, &txn, err);
    if (rc != WR_OK)
        return rc;
    MDB_val k = {klen, (void *)key};
    int mrc = mdb_del(txn, dbi, &k, NULL);
    if (mrc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return WR_ENOENT;
    }
    mrc = mrc ? (mdb_txn_abort(txn), mrc) : mdb_txn_commit(txn);
    return wr__lmdb_err(mrc, err, table);
}

int
wr_log_meta_scan(wr_logdb *db,
                 const char *table,
                 const void *prefix,
                 size_t plen,
                 int (*fn)(void *arg, const void *key, size_t klen, const void *val, size_t vlen),
                 void *arg,
                 wr_err *err)
{
    MDB_dbi dbi;
    int rc = table_dbi(db, table, &dbi, err);
    if (rc != WR_OK)
        return rc;
    MDB_txn *txn;
    if ((rc = wr__lmdb_err(mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn), err, "begin")) != WR_OK)
        return rc;
    MDB_cursor *cur;
    if ((rc = wr__lmdb_err(mdb_cursor_open(txn, dbi, &cur), err, "cursor")) != WR_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    MDB_val k = {plen, (void *)prefix}, v;
    int mrc =
        plen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (plen > 0 && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
            break;
        if (fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size) != 0)
            break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return WR_OK;
}

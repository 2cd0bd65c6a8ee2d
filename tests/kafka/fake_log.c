/*
 * fake_log.c - a test-only, in-memory stand-in for the parts of src/log/log.h and rbatch.h that
 * the broker uses, so the broker's unit tests run without the real engine (and before it
 * existed). Not a reference implementation: no segments, no CRC check, no durability.
 *
 * Invariants: batches are stored as appended with their base offset rewritten; reads return
 * whole batches from the one containing the offset, first batch even when over the limit.
 * Threads: one mutex guards everything; the watch callback runs on the appending thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/crc32c.h"
#include "src/base/varint.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

typedef struct fbatch {
    int64_t base, last, max_ts;
    size_t len;
    uint8_t *data;
} fbatch;

struct wr_partition {
    fbatch *b;
    size_t n, cap;
    int64_t end;
};

typedef struct ftopic {
    char *name;
    int32_t nparts;
    wr_partition **parts;
    wr_props own;
} ftopic;

typedef struct fmeta {
    char *table;
    uint8_t *k, *v;
    size_t kl, vl;
} fmeta;

struct wr_logdb {
    pthread_mutex_t mu;
    ftopic *t;
    size_t nt;
    fmeta *m;
    size_t nm;
    void (*watch)(void *);
    void *warg;
};

static const char *const cfg_keys[][2] = {
#define X(id, k, d) {k, d},
    WR_LOG_CONFIG_LIST(X)
#undef X
};

static wr_logdb *fake_db;

int
wr_log_open(const char *dir, const wr_log_opts *opts, wr_logdb **out, wr_err *err)
{
    wr_logdb *db = calloc(1, sizeof *db);
    pthread_mutex_init(&db->mu, NULL);
    extern void wr_fake_log_set_db(wr_logdb * db);
    wr_fake_log_set_db(db);
    *out = db;
    return WR_OK;
}

static void
free_part(wr_partition *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->b[i].data);
    free(p->b);
    free(p);
}

static void
free_topic(ftopic *t)
{
    for (int32_t i = 0; i < t->nparts; i++)
        free_part(t->parts[i]);
    free(t->parts);
    free(t->name);
    wr_props_free(&t->own);
}

void
wr_log_close(wr_logdb *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->nt; i++)
        free_topic(&db->t[i]);
    free(db->t);
    for (size_t i = 0; i < db->nm; i++) {
        free(db->m[i].table);
        free(db->m[i].k);
        free(db->m[i].v);
    }
    free(db->m);
    free(db);
}

static ftopic *
find(wr_logdb *db, const char *name)
{
    for (size_t i = 0; i < db->nt; i++)
        if (strcmp(db->t[i].name, name) == 0)
            return &db->t[i];
    return NULL;
}

int
wr_log_topic_create(
    wr_logdb *db, const char *name, int32_t partitions, const wr_props *configs, wr_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
        return wr_err_set(err, WR_EINVAL, "invalid topic name '%s'", name);
    if (partitions < 1)
        return wr_err_set(err, WR_EINVAL, "partitions must be >= 1");
    pthread_mutex_lock(&db->mu);
    if (find(db, name) != NULL) {
        pthread_mutex_unlock(&db->mu);
        return wr_err_set(err, WR_EEXIST, "topic '%s' already exists", name);
    }
    db->t = realloc(db->t, (db->nt + 1) * sizeof *db->t);
    ftopic *t = &db->t[db->nt++];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->nparts = partitions;
    t->parts = calloc((size_t)partitions, sizeof *t->parts);
    for (int32_t i = 0; i < partitions; i++)
        t->parts[i] = calloc(1, sizeof **t->parts);
    for (size_t i = 0; configs != NULL && i < configs->count; i++)
        wr_props_set(&t->own, configs->items[i].key, configs->items[i].value);
    pthread_mutex_unlock(&db->mu);
    return WR_OK;
}

int
wr_log_topic_delete(wr_logdb *db, const char *name, wr_err *err)
{
    pthread_mutex_lock(&db->mu);
    ftopic *t = find(db, name);
    if (t == NULL) {
        pthread_mutex_unlock(&db->mu);
        return wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
    }
    free_topic(t);
    *t = db->t[--db->nt];
    pthread_mutex_unlock(&db->mu);
    return WR_OK;
}

int
wr_log_topic_add_partitions(wr_logdb *db, const char *name, int32_t partitions, wr_err *err)
{
    pthread_mutex_lock(&db->mu);
    ftopic *t = find(db, name);
    int rc = WR_OK;
    if (t == NULL)
        rc = wr_err_set(err, WR_ENOENT, "no topic '%s'", name);
    else if (partitions <= t->nparts)
        rc = wr_err_set(err, WR_EINVAL, "cannot shrink");
    else {
        t->parts = realloc(t->parts, (size_t)partitions * sizeof *t->parts);
        for (int32_t i = t->nparts; i < partitions; i++)
            t->parts[i] = calloc(1, sizeof **t->parts);
        t->nparts = partitions;
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int32_t
wr_log_topic_partitions(wr_logdb *db, const char *name)
{
    pthread_mutex_lock(&db->mu);
    ftopic *t = find(db, name);
    int32_t n = t ? t->nparts : WR_ENOENT;
    pthread_mutex_unlock(&db->mu);
    return n;
}

static int
cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
wr_log_topic_list(wr_logdb *db, char ***names, size_t *count, wr_err *err)
{
    pthread_mutex_lock(&db->mu);
    *names = calloc(db->nt + 1, sizeof **names);
    for (size_t i = 0; i < db->nt; i++)
        (*names)[i] = strdup(db->t[i].name);
    *count = db->nt;
    pthread_mutex_unlock(&db->mu);
    qsort(*names, *count, sizeof **names, cmpstr);
    return WR_OK;
}

int
wr_log_topic_config(wr_logdb *db, const char *name, wr_props *out, wr_err *err)
{
    pthread_mutex_lock(&db->mu);
    ftopic *t = find(db, name);
    if (t != NULL)
        for (size_t i = 0; i < sizeof cfg_keys / sizeof cfg_keys[0]; i++) {
            const char *v = wr_props_get(&t->own, cfg_keys[i][0]);
            wr_props_set(out, cfg_keys[i][0], v ? v : cfg_keys[i][1]);
        }
    pthread_mutex_unlock(&db->mu);
    return t ? WR_OK : wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
}

int
wr_log_topic_config_own(wr_logdb *db, const char *name, wr_props *out, wr_err *err)
{
    pthread_mutex_lock(&db->mu);
    ftopic *t = find(db, name);
    for (size_t i = 0; t != NULL && i < t->own.count; i++)
        wr_props_set(out, t->own.items[i].key, t->own.items[i].value);
    pthread_mutex_unlock(&db->mu);
    return t ? WR_OK : wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
}

int
wr_log_config_validate(const char *key, const char *value, wr_err *err)
{
    for (size_t i = 0; i < sizeof cfg_keys / sizeof cfg_keys[0]; i++)
        if (strcmp(cfg_keys[i][0], key) == 0) {
            if (strcmp(key, "cleanup.policy") != 0 && strcmp(key, "compression.type") != 0 &&
                strcmp(key, "message.timestamp.type") != 0) {
                char *end;
                strtod(value, &end);
                if (*value == 0 || *end != 0)
                    return wr_err_set(err, WR_EINVAL, "invalid value '%s' for %s", value, key);
            }
            return WR_OK;
        }
    return wr_err_set(err, WR_EINVAL, "unknown topic config '%s'", key);
}

int
wr_log_topic_config_set(
    wr_logdb *db, const char *name, const char *key, const char *value, wr_err *err)
{
    if (value != NULL && wr_log_config_validate(key, value, err) != WR_OK)
        return WR_EINVAL;
    pthread_mutex_lock(&db->mu);
    ftopic *t = find(db, name);
    if (t != NULL) {
        wr_props np = WR_PROPS_INIT;
        for (size_t i = 0; i < t->own.count; i++)
            if (strcmp(t->own.items[i].key, key) != 0)
                wr_props_set(&np, t->own.items[i].key, t->own.items[i].value);
        if (value != NULL)
            wr_props_set(&np, key, value);
        wr_props_free(&t->own);
        t->own = np;
    }
    pthread_mutex_unlock(&db->mu);
    return t ? WR_OK : wr_err_set(err, WR_ENOENT, "topic '%s' does not exist", name);
}

int
wr_log_partition(wr_logdb *db, const char *topic, int32_t partition, wr_partition **out)
{
    pthread_mutex_lock(&db->mu);
    ftopic *t = find(db, topic);
    int rc = WR_ENOENT;
    if (t != NULL && partition >= 0 && partition < t->nparts) {
        *out = t->parts[partition];
        rc = WR_OK;
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* ---- rbatch subset --------------------------------------------------------------------- */

size_t
wr_rbatch_size(const uint8_t *data, size_t len)
{
    if (len < 12)
        return 0;
    return 12 + (size_t)(int32_t)wr_be32_get(data + 8);
}

int
wr_rbatch_parse_hdr(const uint8_t *d, size_t len, wr_rbatch_hdr *h, wr_err *err)
{
    if (len < WR_RBATCH_HEADER_SIZE)
        return wr_err_set(err, WR_ECORRUPT, "short batch");
    h->base_offset = (int64_t)wr_be64_get(d);
    h->batch_length = (int32_t)wr_be32_get(d + 8);
    h->leader_epoch = (int32_t)wr_be32_get(d + 12);
    h->magic = (int8_t)d[16];
    h->crc = wr_be32_get(d + 17);
    h->attributes = (int16_t)wr_be16_get(d + 21);
    h->last_offset_delta = (int32_t)wr_be32_get(d + 23);
    h->base_timestamp = (int64_t)wr_be64_get(d + 27);
    h->max_timestamp = (int64_t)wr_be64_get(d + 35);
    h->producer_id = (int64_t)wr_be64_get(d + 43);
    h->producer_epoch = (int16_t)wr_be16_get(d + 51);
    h->base_sequence = (int32_t)wr_be32_get(d + 53);
    h->records_count = (int32_t)wr_be32_get(d + 57);
    if (h->magic != 2 || h->batch_length < 49 || (size_t)h->batch_length > len - 12 ||
        h->last_offset_delta < 0)
        return wr_err_set(err, WR_ECORRUPT, "bad batch header");
    return WR_OK;
}

int
wr_log_append(
    wr_partition *p, const uint8_t *data, size_t len, wr_log_append_result *res, wr_err *err)
{
    /* validate all first */
    for (size_t off = 0; off < len;) {
        wr_rbatch_hdr h;
        if (wr_rbatch_parse_hdr(data + off, len - off, &h, err) != WR_OK)
            return WR_ECORRUPT;
        off += wr_rbatch_size(data + off, len - off);
    }
    extern wr_logdb *wr_fake_log_db_of_partition(wr_partition * p);
    wr_logdb *db = wr_fake_log_db_of_partition(p);
    pthread_mutex_lock(&db->mu);
    res->base_offset = p->end;
    for (size_t off = 0; off < len;) {
        wr_rbatch_hdr h;
        wr_rbatch_parse_hdr(data + off, len - off, &h, NULL);
        size_t sz = wr_rbatch_size(data + off, len - off);
        if (p->n == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 16;
            p->b = realloc(p->b, p->cap * sizeof *p->b);
        }
        fbatch *b = &p->b[p->n++];
        b->data = malloc(sz);
        memcpy(b->data, data + off, sz);
        wr_be64_put(b->data, (uint64_t)p->end);
        b->base = p->end;
        b->last = p->end + h.last_offset_delta;
        b->max_ts = h.max_timestamp;
        b->len = sz;
        p->end = b->last + 1;
        off += sz;
    }
    res->last_offset = p->end - 1;
    res->log_append_time = -1;
    res->log_start_offset = 0;
    void (*fn)(void *) = db->watch;
    void *arg = db->warg;
    pthread_mutex_unlock(&db->mu);
    if (fn != NULL)
        fn(arg);
    return WR_OK;
}

void wr_fake_log_set_db(wr_logdb *db);

void
wr_fake_log_set_db(wr_logdb *db)
{
    fake_db = db;
}

wr_logdb *wr_fake_log_db_of_partition(wr_partition *p);

wr_logdb *
wr_fake_log_db_of_partition(wr_partition *p)
{
    return fake_db;
}

int
wr_log_read(wr_partition *p,
            int64_t offset,
            size_t max_bytes,
            wr_buf *out,
            wr_log_read_result *res,
            wr_err *err)
{
    pthread_mutex_lock(&fake_db->mu);
    res->high_watermark = p->end;
    res->log_start_offset = 0;
    res->bytes = 0;
    if (offset < 0 || offset > p->end) {
        pthread_mutex_unlock(&fake_db->mu);
        return wr_err_set(err, WR_EOFFSET, "offset %lld out of range", (long long)offset);
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->b[i].last < offset)
            continue;
        if (res->bytes > 0 && res->bytes + p->b[i].len > max_bytes)
            break;
        wr_buf_append(out, p->b[i].data, p->b[i].len);
        res->bytes += p->b[i].len;
    }
    pthread_mutex_unlock(&fake_db->mu);
    return WR_OK;
}

int64_t
wr_log_start_offset(wr_partition *p)
{
    return 0;
}

int64_t
wr_log_end_offset(wr_partition *p)
{
    pthread_mutex_lock(&fake_db->mu);
    int64_t e = p->end;
    pthread_mutex_unlock(&fake_db->mu);
    return e;
}

int
wr_log_offset_for_time(
    wr_partition *p, int64_t ts, int64_t *offset, int64_t *timestamp, wr_err *err)
{
    pthread_mutex_lock(&fake_db->mu);
    *offset = -1;
    *timestamp = -1;
    for (size_t i = 0; i < p->n; i++)
        if (p->b[i].max_ts >= ts) {
            *offset = p->b[i].base;
            *timestamp = p->b[i].max_ts;
            break;
        }
    pthread_mutex_unlock(&fake_db->mu);
    return WR_OK;
}

void
wr_log_watch(wr_logdb *db, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&db->mu);
    db->watch = fn;
    db->warg = arg;
    fake_db = db;
    pthread_mutex_unlock(&db->mu);
}

/* ---- meta ------------------------------------------------------------------------------ */

static fmeta *
meta_find(wr_logdb *db, const char *table, const void *key, size_t klen)
{
    for (size_t i = 0; i < db->nm; i++)
        if (strcmp(db->m[i].table, table) == 0 && db->m[i].kl == klen &&
            memcmp(db->m[i].k, key, klen) == 0)
            return &db->m[i];
    return NULL;
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
    pthread_mutex_lock(&db->mu);
    fake_db = db;
    fmeta *m = meta_find(db, table, key, klen);
    if (m == NULL) {
        db->m = realloc(db->m, (db->nm + 1) * sizeof *db->m);
        m = &db->m[db->nm++];
        m->table = strdup(table);
        m->k = malloc(klen ? klen : 1);
        memcpy(m->k, key, klen);
        m->kl = klen;
    } else {
        free(m->v);
    }
    m->v = malloc(vlen ? vlen : 1);
    memcpy(m->v, val, vlen);
    m->vl = vlen;
    pthread_mutex_unlock(&db->mu);
    return WR_OK;
}

int
wr_log_meta_get(
    wr_logdb *db, const char *table, const void *key, size_t klen, wr_buf *out, wr_err *err)
{
    pthread_mutex_lock(&db->mu);
    fmeta *m = meta_find(db, table, key, klen);
    if (m != NULL)
        wr_buf_append(out, m->v, m->vl);
    pthread_mutex_unlock(&db->mu);
    return m ? WR_OK : WR_ENOENT;
}

int
wr_log_meta_del(wr_logdb *db, const char *table, const void *key, size_t klen, wr_err *err)
{
    pthread_mutex_lock(&db->mu);
    fmeta *m = meta_find(db, table, key, klen);
    if (m != NULL) {
        free(m->table);
        free(m->k);
        free(m->v);
        *m = db->m[--db->nm];
    }
    pthread_mutex_unlock(&db->mu);
    return m ? WR_OK : WR_ENOENT;
}

static int
meta_cmp(const void *a, const void *b)
{
    const fmeta *x = *(const fmeta *const *)a, *y = *(const fmeta *const *)b;
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int c = memcmp(x->k, y->k, n);
    return c ? c : (x->kl > y->kl) - (x->kl < y->kl);
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
    pthread_mutex_lock(&db->mu);
    fmeta **hits = calloc(db->nm + 1, sizeof *hits);
    size_t n = 0;
    for (size_t i = 0; i < db->nm; i++)
        if (strcmp(db->m[i].table, table) == 0 && db->m[i].kl >= plen &&
            memcmp(db->m[i].k, prefix, plen) == 0)
            hits[n++] = &db->m[i];
    qsort(hits, n, sizeof *hits, meta_cmp);
    for (size_t i = 0; i < n; i++)
        if (fn(arg, hits[i]->k, hits[i]->kl, hits[i]->v, hits[i]->vl) != 0)
            break;
    free(hits);
    pthread_mutex_unlock(&db->mu);
    return WR_OK;
}

/* ---- transactions: no read_committed model (the LSO is the end; nothing is aborted) ----- */

int
wr_log_meta_write(wr_logdb *db, const wr_log_meta_op *ops, size_t n, wr_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (ops[i].val != NULL)
            wr_log_meta_put(db, ops[i].table, ops[i].key, ops[i].klen, ops[i].val, ops[i].vlen,
                            err);
        else
            wr_log_meta_del(db, ops[i].table, ops[i].key, ops[i].klen, err);
    }
    return WR_OK;
}

int
wr_log_read_upto(wr_partition *p,
                 int64_t offset,
                 int64_t upto,
                 size_t max_bytes,
                 wr_buf *out,
                 wr_log_read_result *res,
                 wr_err *err)
{
    return wr_log_read(p, offset, max_bytes, out, res, err);
}

int64_t
wr_log_stable_offset(wr_partition *p)
{
    return wr_log_end_offset(p);
}

size_t
wr_log_aborted_txns(
    wr_partition *p, int64_t from, int64_t upto, wr_log_aborted_txn *out, size_t cap)
{
    return 0;
}

size_t
wr_log_open_txns(wr_partition *p, wr_log_open_txn *out, size_t cap)
{
    return 0;
}

int
wr_log_txn_checkpoint(wr_partition *p, wr_err *err)
{
    return WR_OK;
}

/* A builder of uncompressed batches (the coordinator's markers). */
void
wr_rbatch_builder_init(wr_rbatch_builder *b, wr_compression compression)
{
    memset(b, 0, sizeof *b);
    b->producer_id = -1;
    b->producer_epoch = -1;
    b->base_sequence = -1;
    b->max_timestamp = -1;
}

void
wr_rbatch_builder_add(wr_rbatch_builder *b,
                      int64_t timestamp,
                      const void *key,
                      int32_t key_len,
                      const void *value,
                      int32_t value_len,
                      const wr_rheader *headers,
                      int32_t header_count)
{
    if (b->count == 0)
        b->base_timestamp = timestamp;
    if (timestamp > b->max_timestamp)
        b->max_timestamp = timestamp;
    uint8_t body[64 + 512], *q = body;
    *q++ = 0; /* attributes */
    q += wr_varint_encode(q, timestamp - b->base_timestamp);
    q += wr_varint_encode(q, b->count);
    q += wr_varint_encode(q, key ? key_len : -1);
    if (key) {
        memcpy(q, key, (size_t)key_len);
        q += key_len;
    }
    q += wr_varint_encode(q, value ? value_len : -1);
    if (value) {
        memcpy(q, value, (size_t)value_len);
        q += value_len;
    }
    q += wr_varint_encode(q, 0); /* headers */
    uint8_t len[10];
    wr_buf_append(&b->records, len, wr_varint_encode(len, q - body));
    wr_buf_append(&b->records, body, (size_t)(q - body));
    b->count++;
}

int
wr_rbatch_builder_finish(wr_rbatch_builder *b, wr_buf *out, wr_err *err)
{
    uint8_t h[WR_RBATCH_HEADER_SIZE] = {0};
    wr_be32_put(h + 8, (uint32_t)(WR_RBATCH_HEADER_SIZE - 12 + b->records.len));
    h[16] = 2;
    wr_be16_put(h + 21, (uint16_t)b->extra_attributes);
    wr_be32_put(h + 23, (uint32_t)(b->count - 1));
    wr_be64_put(h + 27, (uint64_t)b->base_timestamp);
    wr_be64_put(h + 35, (uint64_t)b->max_timestamp);
    wr_be64_put(h + 43, (uint64_t)b->producer_id);
    wr_be16_put(h + 51, (uint16_t)b->producer_epoch);
    wr_be32_put(h + 53, (uint32_t)b->base_sequence);
    wr_be32_put(h + 57, (uint32_t)b->count);
    uint32_t crc = wr_crc32c(0, h + 21, sizeof h - 21);
    crc = wr_crc32c(crc, b->records.data, b->records.len);
    wr_be32_put(h + 17, crc);
    wr_buf_append(out, h, sizeof h);
    wr_buf_append(out, b->records.data, b->records.len);
    b->records.len = 0;
    b->count = 0;
    return WR_OK;
}

void
wr_rbatch_builder_free(wr_rbatch_builder *b)
{
    wr_buf_free(&b->records);
}

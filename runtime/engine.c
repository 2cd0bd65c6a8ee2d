/*
 * engine.c - catalog, statement execution and persistent stateless queries (see engine.h).
 *
 * Sources. A stream or table is a topic plus a schema: key columns (KEY / PRIMARY KEY), value
 * columns, header columns, and the pseudo columns ROWTIME (BIGINT), ROWPARTITION (INT) and
 * ROWOFFSET (BIGINT) that every source offers and SELECT * leaves out, as in ksqlDB. The key
 * and value are decoded with their formats (runtime/format.h).
 *
 * Queries. A CSAS or INSERT INTO ... SELECT is analysed against its source into a filter and a
 * list of projections; the sink's key is the source's key (which must then be projected, as
 * ksqlDB requires) or the PARTITION BY expression. Each input partition is a task that reads
 * batches from the log, decodes them into column vectors, filters and projects a row at a time,
 * encodes the key and value, and appends one batch per output partition. The output partition
 * is murmur2 of the key bytes (Kafka's default partitioner), or the input partition for a null
 * key. After a batch's output is appended the task records its next input offset in the log's
 * "query_offsets" table; a restart resumes from there.
 *
 * Bad records never stop a query: a record whose key or value cannot be decoded, or whose
 * expressions fail, is counted in the query's metrics and described in the processing log
 * topic "<service id>_processing_log" (JSON: query id, topic, partition, offset, message).
 */
#include "runtime/engine.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grammar/sql.h"
#include "runtime/agg.h"
#include "runtime/batch.h"
#include "runtime/expr.h"
#include "runtime/format.h"
#include "runtime/rowcodec.h"
#include "runtime/timefmt.h"
#include "runtime/types.h"
#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/base/murmur2.h"
#include "src/base/props.h"
#include "src/base/varint.h"
#include "src/catalog/catalog.h"
#include "src/log/rbatch.h"
#include "state/store.h"

#define QUERY_OFFSETS    "query_offsets"
#define READ_BYTES       (1u << 20)
#define MAX_DECOMPRESSED (64u << 20)
#define NPSEUDO          3
#define OUT_BATCH_BYTES  (256u << 10)
/* ksqlDB's defaults for windows without GRACE PERIOD and RETENTION */
#define DEFAULT_GRACE_MS     (24LL * 3600 * 1000)
#define DEFAULT_RETENTION_MS (24LL * 3600 * 1000)

/* ---- catalog ----------------------------------------------------------------------------- */

typedef struct src_col {
    const char *name;
    const wr_sql_type *type;
    wr_colrole role;
    const char *header_key;
} src_col;

typedef struct wr_source {
    struct wr_source *next;
    wr_arena *arena; /* owns everything below */
    const char *name, *topic, *sql;
    bool is_table;
    wr_fmt_kind key_fmt, val_fmt;
    bool wrap_single;
    char delimiter;
    int ncols;
    src_col *cols;
    int ts_col;            /* index in cols of TIMESTAMP='...', or -1 */
    const char *ts_format; /* TIMESTAMP_FORMAT for a STRING timestamp column */
    int partitions;
    int window_kind;     /* a windowed table's wr_window_kind (keys carry the window), or -1 */
    int64_t window_size; /* ... and its size */
} wr_source;

typedef struct task {
    int32_t partition;
    int64_t offset;      /* next input offset */
    int64_t end;         /* a pull query: the log end offset when it started */
    wr_store *store;     /* an aggregation's state (NULL: a stateless query) */
    wr_state_txn *txn;   /* during a run: the state's transaction */
    int64_t stream_time; /* the largest event time seen (INT64_MIN: none yet) */
    int64_t final_upto;  /* EMIT FINAL: windows ending before this were emitted */
} task;

/* A running aggregation's plan: what each input row feeds, and how results come out. */
typedef struct aggexec {
    int ngroup;
    wr_cexpr **group; /* GROUP BY expressions, over the input */
    const wr_sql_type **gtypes;
    int nagg;
    wr_agg *aggs;
    wr_cexpr **args; /* each aggregate's argument, over the input (NULL: COUNT(*)) */
    bool windowed;
    wr_window win;
    int64_t grace, retention;
    bool final;       /* EMIT FINAL: one row per window, once it closes */
    wr_cexpr *having; /* over the post-aggregation scope */
    int npost;        /* that scope: group keys, aggregates[, WINDOWSTART, WINDOWEND] */
} aggexec;

typedef struct wr_query {
    struct wr_query *next;
    wr_arena *arena;
    char *id, *sql;
    wr_source *src, *sink;
    wr_scope scope; /* source columns (cols order) + pseudo columns */
    wr_cexpr *where;
    int nout;       /* sink columns, sink->cols order */
    wr_cexpr **out; /* one expression per sink column */
    int ntasks;
    task *tasks;
    wr_query_stats stats;
    const wr_fn_desc *tfn; /* a table function in the select list (EXPLODE), or NULL */
    const char *tfn_name, *tfn_col_name;
    int tfn_out;           /* its output column */
    const char **out_text; /* each output expression as SQL, and the filter's (EXPLAIN) */
    bool *val_needed;      /* value columns the query reads: the decoder skips the others */
    const char *agg_text;  /* GROUP BY: the aggregation, for EXPLAIN (NULL: none) */
    struct aggexec *agg;   /* GROUP BY: the aggregation's plan (NULL: stateless) */
    struct pulltab *ptab;  /* a pull query over a table: what it reads (NULL: other queries) */
    const char *having_text;
    const char *where_text;
    /* a push or pull query, whose sink is a client (e->pushes): no topic, no offsets kept */
    bool is_push, pull, ended;
    wr_push_sink push;
    int64_t limit, emitted; /* limit -1: none */
} wr_query;

struct wr_engine {
    wr_engine_opts opts;
    char *service_id, *plog_topic;
    wr_source *sources;
    wr_query *queries;
    int query_seq;
    wr_catalog *cat;        /* the persistent catalog, or NULL (in memory only) */
    bool dry_run;           /* planning for EXPLAIN: create nothing, start nothing */
    bool explain_transient; /* ... of a push query (a LIMIT is allowed) */
    bool replaying;         /* executing the command topic: do not record again */
    wr_query *pushes;       /* push and pull queries of clients, in start order */
    bool transient;         /* planning a push or pull query (wr_engine_push_open) */
    const wr_push_sink *tsink;
    wr_push_info *tinfo;
    uint64_t push_seq;
    /* wr_engine_execute_json: the current statement's entity, in ksqlDB's REST shape */
    wr_buf *ent;          /* its fields ("streams":[...]), without braces; NULL: text only */
    const char *ent_type; /* its @type; NULL: a currentStatus is made of the text */
    int64_t cmd_seq;      /* the command topic offset of the last catalog change */
};

struct wr_session {
    wr_props vars, props;
};

/* ---- sessions ---------------------------------------------------------------------------- */

wr_session *
wr_session_create(void)
{
    return calloc(1, sizeof(wr_session));
}

void
wr_session_destroy(wr_session *s)
{
    if (s == NULL)
        return;
    wr_props_free(&s->vars);
    wr_props_free(&s->props);
    free(s);
}

int
wr_session_set(wr_session *s, const char *name, const char *value)
{
    return wr_props_set(&s->props, name, value);
}

int
wr_session_define(wr_session *s, const char *name, const char *value)
{
    /* variables are names: case-insensitive, kept upper-cased as DEFINE keeps them */
    char up[256];
    size_t n = strlen(name) < sizeof up - 1 ? strlen(name) : sizeof up - 1;
    for (size_t i = 0; i < n; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    up[n] = '\0';
    return wr_props_set(&s->vars, up, value);
}

static const char *
session_var(void *arg, const char *name)
{
    return wr_props_get(&((wr_session *)arg)->vars, name);
}

/* ---- engine lifecycle -------------------------------------------------------------------- */

static int catalog_start(wr_engine *e, const char *path, wr_err *err);
static int open_task_stores(wr_engine *e, struct wr_query *q, wr_err *err);
static void push_header(wr_engine *e, struct wr_query *qr);
struct pulltab;
static void pulltab_free(struct pulltab *p);
static void drop_task_stores(wr_engine *e, struct wr_query *q);
static void push_end(wr_engine *e, struct wr_query *q, const char *why);

int
wr_engine_create(const wr_engine_opts *opts, wr_engine **out, wr_err *err)
{
    wr_engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    e->opts = *opts;
    const char *sid = opts->service_id ? opts->service_id : "weir";
    e->service_id = strdup(sid);
    e->plog_topic = malloc(strlen(sid) + 32);
    if (e->service_id == NULL || e->plog_topic == NULL) {
        wr_engine_destroy(e);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    sprintf(e->plog_topic, "%s_processing_log", sid);
    if (e->opts.default_partitions <= 0)
        e->opts.default_partitions = 1;
    e->opts.catalog_path = NULL; /* borrowed only during creation */
    if (opts->catalog_path != NULL) {
        int rc = catalog_start(e, opts->catalog_path, err);
        if (rc != WR_OK) {
            wr_engine_destroy(e);
            return rc;
        }
    }
    *out = e;
    return WR_OK;
}

static void
source_free(wr_source *s)
{
    wr_arena_destroy(s->arena);
}

static void
query_free(wr_query *q)
{
    wr_arena_destroy(q->arena);
}

/* A push query owns its sink, a source of its own that is in no catalog. */
static void
push_free(wr_query *q)
{
    source_free(q->sink);
    query_free(q);
}

void
wr_engine_destroy(wr_engine *e)
{
    if (e == NULL)
        return;
    while (e->queries != NULL) {
        wr_query *q = e->queries;
        e->queries = q->next;
        query_free(q);
    }
    while (e->pushes != NULL) {
        wr_query *q = e->pushes;
        e->pushes = q->next;
        drop_task_stores(e, q);
        push_free(q);
    }
    while (e->sources != NULL) {
        wr_source *s = e->sources;
        e->sources = s->next;
        source_free(s);
    }
    wr_catalog_close(e->cat);
    free(e->service_id);
    free(e->plog_topic);
    free(e);
}

static wr_source *
source_find(wr_engine *e, const char *name)
{
    for (wr_source *s = e->sources; s != NULL; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static wr_source *
source_by_topic(wr_engine *e, const char *topic)
{
    for (wr_source *s = e->sources; s != NULL; s = s->next)
        if (strcmp(s->topic, topic) == 0)
            return s;
    return NULL;
}

/* ---- properties of WITH (...) ------------------------------------------------------------- */

static const wr_property *
prop(const wr_stmt *st, const char *name)
{
    for (int i = 0; i < st->nprops; i++)
        if (strcmp(st->props[i].name, name) == 0)
            return &st->props[i];
    return NULL;
}

static int fail_at(wr_err *err, wr_loc at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_at(wr_err *err, wr_loc at, const char *fmt, ...)
{
    char msg[WR_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at.line > 0)
        return wr_sql_error_at(err, WR_ESEMANTIC, at, "%s", msg);
    return wr_err_set(err, WR_ESEMANTIC, "%s", msg);
}

static const char *
prop_string(const wr_stmt *st, const char *name, wr_err *err, bool *bad)
{
    const wr_property *p = prop(st, name);
    if (p == NULL)
        return NULL;
    if (p->value->kind != WR_E_STRING) {
        fail_at(err, p->loc, "%s must be a string, as in %s='...'", name, name);
        *bad = true;
        return NULL;
    }
    return p->value->text;
}

static int
prop_int(const wr_stmt *st, const char *name, int64_t dflt, int64_t *out, wr_err *err)
{
    const wr_property *p = prop(st, name);
    *out = dflt;
    if (p == NULL)
        return WR_OK;
    if (p->value->kind == WR_E_INT) {
        *out = p->value->i;
        return WR_OK;
    }
    if (p->value->kind == WR_E_STRING) {
        char *end;
        long long v = strtoll(p->value->text, &end, 10);
        if (*p->value->text != 0 && *end == 0) {
            *out = v;
            return WR_OK;
        }
    }
    return fail_at(err, p->loc, "%s must be an integer", name);
}

static const char *KNOWN_PROPS[] = {"KAFKA_TOPIC",
                                    "KEY_FORMAT",
                                    "VALUE_FORMAT",
                                    "FORMAT",
                                    "PARTITIONS",
                                    "REPLICAS",
                                    "TIMESTAMP",
                                    "TIMESTAMP_FORMAT",
                                    "WRAP_SINGLE_VALUE",
                                    "VALUE_DELIMITER",
                                    "KEY_DELIMITER",
                                    "RETENTION_MS",
                                    "KEY_SCHEMA_ID",
                                    "VALUE_SCHEMA_ID",
                                    "KEY_SCHEMA_FULL_NAME",
                                    "VALUE_SCHEMA_FULL_NAME",
                                    "WINDOW_TYPE",
                                    "WINDOW_SIZE",
                                    "VALUE_AVRO_SCHEMA_FULL_NAME",
                                    NULL};

static int
check_props(const wr_stmt *st, wr_err *err)
{
    for (int i = 0; i < st->nprops; i++) {
        bool ok = false;
        for (const char **k = KNOWN_PROPS; *k != NULL && !ok; k++)
            ok = strcmp(*k, st->props[i].name) == 0;
        if (!ok)
            return fail_at(err, st->props[i].loc,
                           "invalid config variable(s) in the WITH clause: %s", st->props[i].name);
    }
    return WR_OK;
}

/* Formats and their options from WITH, defaulting to the given ones (a sink inherits its
   source's). */
static int
formats(const wr_stmt *st,
        wr_source *s,
        wr_fmt_kind key_dflt,
        wr_fmt_kind val_dflt,
        bool need_val,
        wr_err *err)
{
    bool bad = false;
    const char *both = prop_string(st, "FORMAT", err, &bad);
    const char *kf = prop_string(st, "KEY_FORMAT", err, &bad);
    const char *vf = prop_string(st, "VALUE_FORMAT", err, &bad);
    if (bad)
        return WR_ESEMANTIC;
    if (both != NULL && (kf != NULL || vf != NULL))
        return fail_at(err, prop(st, "FORMAT")->loc,
                       "cannot supply both FORMAT and KEY_FORMAT or VALUE_FORMAT");
    s->key_fmt = key_dflt;
    s->val_fmt = val_dflt;
    const char *names[2] = {both ? both : kf, both ? both : vf};
    const char *which[2] = {both ? "FORMAT" : "KEY_FORMAT", both ? "FORMAT" : "VALUE_FORMAT"};
    wr_fmt_kind *slot[2] = {&s->key_fmt, &s->val_fmt};
    for (int i = 0; i < 2; i++) {
        if (names[i] == NULL)
            continue;
        int frc = wr_fmt_parse_name(names[i], slot[i]);
        if (frc == WR_EUNSUPP)
            return fail_at(
                err, prop(st, which[i])->loc,
                "the %s format is not supported yet (JSON, DELIMITED, KAFKA and NONE are)",
                names[i]);
        if (frc != WR_OK)
            return fail_at(err, prop(st, which[i])->loc,
                           "unknown format: %s (expected JSON, DELIMITED, KAFKA or NONE)",
                           names[i]);
    }
    if (need_val && names[1] == NULL && (int)val_dflt < 0)
        return fail_at(
            err, st->name_loc,
            "missing required property \"VALUE_FORMAT\" or \"FORMAT\" in the WITH clause");
    const wr_property *w = prop(st, "WRAP_SINGLE_VALUE");
    s->wrap_single = true;
    if (w != NULL) {
        if (w->value->kind != WR_E_BOOL &&
            !(w->value->kind == WR_E_STRING && (strcasecmp(w->value->text, "true") == 0 ||
                                                strcasecmp(w->value->text, "false") == 0)))
            return fail_at(err, w->loc, "WRAP_SINGLE_VALUE must be true or false");
        s->wrap_single =
            w->value->kind == WR_E_BOOL ? w->value->b : strcasecmp(w->value->text, "true") == 0;
    }
    s->delimiter = ',';
    const char *d = prop_string(st, "VALUE_DELIMITER", err, &bad);
    if (bad)
        return WR_ESEMANTIC;
    if (d != NULL) {
        if (strcasecmp(d, "TAB") == 0)
            s->delimiter = '\t';
        else if (strcasecmp(d, "SPACE") == 0)
            s->delimiter = ' ';
        else if (strlen(d) == 1)
            s->delimiter = d[0];
        else
            return fail_at(err, prop(st, "VALUE_DELIMITER")->loc,
                           "VALUE_DELIMITER must be a single character, TAB or SPACE");
    }
    return WR_OK;
}

/* The key or value serde of a source. cols/types are arena arrays of the matching columns. */
static int
make_fmt(wr_arena *a, const wr_source *s, bool key, wr_fmt *f)
{
    memset(f, 0, sizeof *f);
    f->kind = key ? s->key_fmt : s->val_fmt;
    f->wrap_single = key ? false : s->wrap_single;
    f->delimiter = s->delimiter;
    const char **names = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *names);
    const wr_sql_type **types = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *types);
    if (names == NULL || types == NULL)
        return WR_ENOMEM;
    int n = 0;
    for (int i = 0; i < s->ncols; i++) {
        bool is_key = s->cols[i].role == WR_COL_KEY || s->cols[i].role == WR_COL_PRIMARY_KEY;
        if (is_key == key && s->cols[i].role != WR_COL_HEADERS &&
            s->cols[i].role != WR_COL_HEADER) {
            names[n] = s->cols[i].name;
            types[n++] = s->cols[i].type;
        }
    }
    f->ncols = n;
    f->names = names;
    f->types = types;
    return WR_OK;
}

static bool
is_key_role(wr_colrole r)
{
    return r == WR_COL_KEY || r == WR_COL_PRIMARY_KEY;
}

static bool
is_header_role(wr_colrole r)
{
    return r == WR_COL_HEADERS || r == WR_COL_HEADER;
}

/* ARRAY<STRUCT<KEY STRING, VALUE BYTES>>: every header of a record, as ksqlDB types them. */
static bool
headers_type(const wr_sql_type *t)
{
    return t->kind == WR_T_ARRAY && t->elem->kind == WR_T_STRUCT && t->elem->nfields == 2 &&
           strcmp(t->elem->fields[0].name, "KEY") == 0 &&
           t->elem->fields[0].type->kind == WR_T_STRING &&
           strcmp(t->elem->fields[1].name, "VALUE") == 0 &&
           t->elem->fields[1].type->kind == WR_T_BYTES;
}

/* The header columns of row r from the record's headers (HEADER('k'): the last header k). */
static void
fill_headers(const wr_source *s, wr_batch *b, int32_t r, const wr_record *rec, wr_arena *a)
{
    for (int i = 0; i < s->ncols; i++) {
        if (!is_header_role(s->cols[i].role))
            continue;
        wr_rd rd = wr_rd_make(rec->headers, rec->headers_len);
        wr_rheader h;
        wr_val v = wr_val_null(s->cols[i].type);
        if (s->cols[i].role == WR_COL_HEADER) {
            size_t kl = strlen(s->cols[i].header_key);
            while (wr_record_header_next(&rd, &h) == 1)
                if ((size_t)h.key_len == kl && memcmp(h.key, s->cols[i].header_key, kl) == 0)
                    v = h.value ? wr_val_bytes((const char *)h.value, h.value_len)
                                : wr_val_null(s->cols[i].type);
        } else {
            int32_t n = rec->header_count > 0 ? rec->header_count : 0, k = 0;
            wr_val *items = wr_arena_calloc(a, (size_t)n + 1, sizeof *items);
            while (items != NULL && k < n && wr_record_header_next(&rd, &h) == 1) {
                wr_val *f = wr_arena_calloc(a, 2, sizeof *f);
                if (f == NULL)
                    break;
                f[0] = wr_val_string((const char *)h.key, h.key_len);
                f[1] = h.value ? wr_val_bytes((const char *)h.value, h.value_len)
                               : wr_val_null(wr_type_of(WR_T_BYTES));
                items[k] = (wr_val){.type = s->cols[i].type->elem, .u.st.f = f};
                k++;
            }
            v = (wr_val){.type = s->cols[i].type};
            v.u.arr.n = k;
            v.u.arr.v = items;
        }
        wr_vec_set(&b->cols[i], r, &v);
    }
}

static const char *PSEUDO[NPSEUDO] = {"ROWTIME", "ROWPARTITION", "ROWOFFSET"};

static bool
reserved_name(const char *n)
{
    for (int i = 0; i < NPSEUDO; i++)
        if (strcmp(n, PSEUDO[i]) == 0)
            return true;
    return strcmp(n, "WINDOWSTART") == 0 || strcmp(n, "WINDOWEND") == 0;
}

/* Checks the formats against the columns (KAFKA keys are one primitive, ...). */
static int
check_formats(wr_source *s, wr_loc at, wr_err *err)
{
    wr_arena *a = s->arena;
    for (int k = 0; k < 2; k++) {
        wr_fmt f;
        if (make_fmt(a, s, k == 0, &f) != WR_OK)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        wr_err ferr = {0};
        if (wr_fmt_check(&f, &ferr) != WR_OK)
            return fail_at(err, at, "%s", ferr.msg);
    }
    return WR_OK;
}

/* Topic name and partitions from WITH: an existing topic, or a new one when PARTITIONS is
   given (ksqlDB's rules). */
static int
ensure_topic(wr_engine *e,
             const wr_stmt *st,
             wr_source *s,
             const char *dflt_topic,
             int dflt_parts,
             bool create_ok,
             wr_err *err)
{
    bool bad = false;
    const char *topic = prop_string(st, "KAFKA_TOPIC", err, &bad);
    if (bad)
        return WR_ESEMANTIC;
    if (topic == NULL && dflt_topic == NULL)
        return fail_at(err, st->name_loc,
                       "missing required property \"KAFKA_TOPIC\" in the WITH clause");
    s->topic = wr_arena_strdup(s->arena, topic ? topic : dflt_topic);
    int64_t parts;
    int rc = prop_int(st, "PARTITIONS", dflt_parts, &parts, err);
    if (rc != WR_OK)
        return rc;
    int32_t have = wr_log_topic_partitions(e->opts.db, s->topic);
    if (have < 1 && e->dry_run) {
        s->partitions = (int)parts;
        return WR_OK;
    }
    if (have > 0) {
        if (prop(st, "PARTITIONS") != NULL && parts != have)
            return fail_at(err, prop(st, "PARTITIONS")->loc,
                           "a topic %s with %d partitions already exists, not %lld", s->topic, have,
                           (long long)parts);
        s->partitions = have;
        return WR_OK;
    }
    if (!create_ok && prop(st, "PARTITIONS") == NULL)
        return fail_at(err, st->name_loc,
                       "topic '%s' does not exist. If you want to create a new topic for the %s "
                       "please re-run the statement providing the required 'PARTITIONS' "
                       "configuration in the WITH clause (and optionally 'REPLICAS')",
                       s->topic, st->is_table ? "table" : "stream");
    if (parts < 1 || parts > 10000)
        return fail_at(err, prop(st, "PARTITIONS") ? prop(st, "PARTITIONS")->loc : st->name_loc,
                       "PARTITIONS must be between 1 and 10000");
    wr_err lerr = {0};
    if (wr_log_topic_create(e->opts.db, s->topic, (int32_t)parts, NULL, &lerr) != WR_OK &&
        lerr.code != WR_EEXIST)
        return fail_at(err, st->name_loc, "cannot create topic %s: %s", s->topic, lerr.msg);
    s->partitions = wr_log_topic_partitions(e->opts.db, s->topic);
    return WR_OK;
}

static int
timestamp_col(const wr_stmt *st, wr_source *s, wr_err *err)
{
    bool bad = false;
    const char *ts = prop_string(st, "TIMESTAMP", err, &bad);
    s->ts_col = -1;
    if (bad)
        return WR_ESEMANTIC;
    if (ts == NULL)
        return WR_OK;
    char *up = wr_arena_strdup(s->arena, ts);
    for (char *c = up; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    for (int i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, up) == 0 || strcmp(s->cols[i].name, ts) == 0) {
            wr_tkind k = s->cols[i].type->kind;
            bool fmt = prop(st, "TIMESTAMP_FORMAT") != NULL;
            if (k != WR_T_BIGINT && k != WR_T_TIMESTAMP && !(k == WR_T_STRING && fmt))
                return fail_at(err, prop(st, "TIMESTAMP")->loc,
                               "TIMESTAMP column %s must be BIGINT or TIMESTAMP (or STRING with "
                               "TIMESTAMP_FORMAT), not %s",
                               s->cols[i].name, k == WR_T_STRING ? "STRING" : "another type");
            if (k == WR_T_STRING) {
                const char *f = prop_string(st, "TIMESTAMP_FORMAT", err, &bad);
                wr_buf probe = WR_BUF_INIT;
                bool ok = f != NULL && wr_time_format(&probe, 0, NULL, f);
                wr_buf_free(&probe);
                if (bad || !ok)
                    return fail_at(err, prop(st, "TIMESTAMP_FORMAT")->loc,
                                   "invalid TIMESTAMP_FORMAT: a Java pattern (yyyy-MM-dd HH:mm:ss) "
                                   "is expected");
                s->ts_format = wr_arena_strdup(s->arena, f);
            }
            s->ts_col = i;
            return WR_OK;
        }
    return fail_at(err, prop(st, "TIMESTAMP")->loc, "the TIMESTAMP column %s does not exist", up);
}

static wr_source *
source_new(const char *name, bool is_table)
{
    wr_arena *a = wr_arena_create(0);
    wr_source *s = a ? wr_arena_calloc(a, 1, sizeof *s) : NULL;
    if (s == NULL) {
        wr_arena_destroy(a);
        return NULL;
    }
    s->arena = a;
    s->name = wr_arena_strdup(a, name);
    s->is_table = is_table;
    s->ts_col = -1;
    s->window_kind = -1;
    return s;
}

static void msg(wr_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
msg(wr_buf *out, const char *fmt, ...)
{
    if (out == NULL)
        return;
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    wr_buf_printf(out, "%s\n", tmp);
}

/* ksqlDB's rule for CREATE OR REPLACE: same kind, topic and formats, the same key columns, and
   the old value columns as a prefix of the new ones (columns may only be added at the end). */
static int
check_upgrade(const wr_source *old, const wr_source *nu, wr_loc at, wr_err *err)
{
    static const char *fmts[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    if (old->is_table != nu->is_table)
        return fail_at(err, at, "cannot replace %s %s with a %s",
                       old->is_table ? "table" : "stream", old->name,
                       nu->is_table ? "table" : "stream");
    if (strcmp(old->topic, nu->topic) != 0 || old->key_fmt != nu->key_fmt ||
        old->val_fmt != nu->val_fmt)
        return fail_at(err, at,
                       "cannot upgrade %s: its topic and formats (%s, %s/%s) cannot change",
                       old->name, old->topic, fmts[old->key_fmt], fmts[old->val_fmt]);
    /* keys: the same, in order; values: the old ones first, in order, new ones after */
    for (int pass = 0; pass < 2; pass++) {
        bool keys = pass == 0;
        int j = 0;
        for (int i = 0; i < old->ncols; i++) {
            if (is_key_role(old->cols[i].role) != keys)
                continue;
            while (j < nu->ncols && is_key_role(nu->cols[j].role) != keys)
                j++;
            const src_col *x = &old->cols[i], *y = j < nu->ncols ? &nu->cols[j] : NULL;
            if (y == NULL || strcmp(x->name, y->name) != 0 || x->role != y->role ||
                !wr_type_equal(x->type, y->type))
                return fail_at(err, at,
                               "cannot upgrade %s: column %s cannot be removed, renamed, retyped "
                               "or moved; new value columns may only be added at the end",
                               old->name, x->name);
            j++;
        }
        for (; keys && j < nu->ncols; j++)
            if (is_key_role(nu->cols[j].role))
                return fail_at(err, at, "cannot upgrade %s: key column %s cannot be added",
                               old->name, nu->cols[j].name);
    }
    return WR_OK;
}

static bool
source_in_use(const wr_engine *e, const wr_source *s, const wr_query *except)
{
    for (const wr_query *q = e->queries; q != NULL; q = q->next)
        if (q != except && (q->src == s || q->sink == s))
            return true;
    return false;
}

static void
source_unlink(wr_engine *e, wr_source *s)
{
    wr_source **pp = &e->sources;
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
}

static int
exec_create_source(wr_engine *e, const wr_stmt *st, const char *sql, wr_buf *out, wr_err *err)
{
    wr_source *old = source_find(e, st->name);
    const char *what = st->is_table ? "table" : "stream";
    if (old != NULL && !st->or_replace) {
        if (st->if_not_exists) {
            msg(out, "A %s with the same name already exists", old->is_table ? "table" : "stream");
            return WR_OK;
        }
        return fail_at(err, st->name_loc,
                       "cannot add %s '%s': a %s with the same name already exists", what, st->name,
                       old->is_table ? "table" : "stream");
    }
    if (old != NULL && source_in_use(e, old, NULL))
        return fail_at(err, st->name_loc,
                       "cannot replace %s while queries read from or write into it; TERMINATE "
                       "them first",
                       old->name);
    int rc = check_props(st, err);
    if (rc != WR_OK)
        return rc;
    if (st->ncols == 0)
        return fail_at(err, st->name_loc,
                       "the statement does not define any columns; schema inference needs a "
                       "schema registry, which weir does not have yet");
    wr_source *s = source_new(st->name, st->is_table);
    if (s == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    s->sql = wr_arena_strdup(s->arena, sql);
    s->cols = wr_arena_calloc(s->arena, (size_t)st->ncols, sizeof *s->cols);
    int nkeys = 0;
    for (int i = 0; i < st->ncols; i++) {
        const wr_column_def *c = &st->cols[i];
        if (reserved_name(c->name)) {
            rc = fail_at(err, c->loc, "'%s' is a reserved column name; pick another", c->name);
            goto fail;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(st->cols[j].name, c->name) == 0) {
                rc = fail_at(err, c->loc, "duplicate column name '%s'", c->name);
                goto fail;
            }
        if (c->role == WR_COL_KEY && st->is_table) {
            rc = fail_at(err, c->loc,
                         "column %s is a 'KEY' column: please use 'PRIMARY KEY' for tables",
                         c->name);
            goto fail;
        }
        if (c->role == WR_COL_PRIMARY_KEY && !st->is_table) {
            rc = fail_at(err, c->loc,
                         "column %s is a 'PRIMARY KEY' column: please use 'KEY' for streams",
                         c->name);
            goto fail;
        }
        if (c->role == WR_COL_HEADERS && !headers_type(c->type)) {
            rc = fail_at(err, c->loc,
                         "HEADERS column %s must be ARRAY<STRUCT<KEY STRING, VALUE BYTES>>",
                         c->name);
            goto fail;
        }
        if (c->role == WR_COL_HEADER && c->type->kind != WR_T_BYTES) {
            rc = fail_at(err, c->loc, "HEADER('%s') column %s must be BYTES", c->header_key,
                         c->name);
            goto fail;
        }
        nkeys += is_key_role(c->role);
        s->cols[i] =
            (src_col){wr_arena_strdup(s->arena, c->name), wr_type_copy(s->arena, c->type), c->role,
                      c->header_key ? wr_arena_strdup(s->arena, c->header_key) : NULL};
    }
    s->ncols = st->ncols;
    if (st->is_table && nkeys == 0) {
        rc = fail_at(err, st->name_loc,
                     "tables require a PRIMARY KEY; please add the key column(s)");
        goto fail;
    }
    if ((rc = formats(st, s, WR_FMT_KAFKA, (wr_fmt_kind)-1, true, err)) != WR_OK ||
        (rc = check_formats(s, st->name_loc, err)) != WR_OK ||
        (rc = timestamp_col(st, s, err)) != WR_OK ||
        (rc = ensure_topic(e, st, s, NULL, 1, false, err)) != WR_OK)
        goto fail;
    if (old != NULL) {
        if ((rc = check_upgrade(old, s, st->name_loc, err)) != WR_OK)
            goto fail;
        source_unlink(e, old);
        source_free(old);
    }
    s->next = e->sources;
    e->sources = s;
    msg(out, "%s %s %s", st->is_table ? "Table" : "Stream", s->name, old ? "replaced" : "created");
    return WR_OK;
fail:
    source_free(s);
    return rc;
}

/* ---- CSAS and INSERT INTO ... SELECT ----------------------------------------------------- */

static int
source_scope(wr_arena *a, const wr_source *s, const char *alias, wr_scope *sc)
{
    wr_col *c = wr_arena_calloc(a, (size_t)s->ncols + NPSEUDO, sizeof *c);
    if (c == NULL)
        return WR_ENOMEM;
    const char *q = alias ? alias : s->name;
    for (int i = 0; i < s->ncols; i++)
        c[i] = (wr_col){s->cols[i].name, q, s->cols[i].type};
    c[s->ncols] = (wr_col){"ROWTIME", q, wr_type_of(WR_T_BIGINT)};
    c[s->ncols + 1] = (wr_col){"ROWPARTITION", q, wr_type_of(WR_T_INT)};
    c[s->ncols + 2] = (wr_col){"ROWOFFSET", q, wr_type_of(WR_T_BIGINT)};
    sc->n = s->ncols + NPSEUDO;
    sc->cols = c;
    return WR_OK;
}

typedef struct outcol {
    const char *name;
    wr_cexpr *expr;
    bool key;
    wr_loc loc;
    const wr_sql_type *type; /* the column's type: expr's, or a table function's element */
    const char *text;        /* the expression as SQL, for EXPLAIN */
} outcol;

static const char *
expr_text(wr_arena *a, const wr_expr *x)
{
    wr_buf b = WR_BUF_INIT;
    wr_ast_format_expr(&b, x);
    wr_buf_put_u8(&b, 0);
    const char *t = wr_buf_ok(&b) ? wr_arena_strdup(a, (const char *)b.data) : "?";
    wr_buf_free(&b);
    return t ? t : "?";
}

/* The sink's columns for select q over src (ksqlDB's rules for names and keys). */
static int
plan_projection(
    wr_engine *e, wr_query *qr, const wr_select *q, outcol **cols_out, int *n_out, wr_err *err)
{
    wr_arena *a = qr->arena;
    const wr_source *src = qr->src;
    wr_analyzer an = {.arena = a, .scope = &qr->scope, .fns = e->opts.fns};
    int cap = q->nitems + src->ncols + 4, n = 0, gen = 0;
    outcol *cols = wr_arena_calloc(a, (size_t)cap, sizeof *cols);
    if (cols == NULL)
        return WR_ENOMEM;
    int rc;
    for (int i = 0; i < q->nitems; i++) {
        const wr_select_item *it = &q->items[i];
        if (it->expr->kind == WR_E_STAR) {
            if (it->expr->qualifier != NULL &&
                strcmp(it->expr->qualifier, q->from->alias ? q->from->alias : src->name) != 0)
                return fail_at(err, it->loc, "unknown source '%s' in %s.*", it->expr->qualifier,
                               it->expr->qualifier);
            for (int c = 0; c < src->ncols; c++) {
                if (n == cap)
                    return fail_at(err, it->loc, "too many columns");
                wr_cexpr *ce = wr_arena_calloc(a, 1, sizeof *ce);
                ce->op = WR_C_COLUMN;
                ce->col = c;
                ce->type = src->cols[c].type;
                ce->loc = it->loc;
                cols[n++] =
                    (outcol){src->cols[c].name, ce, false, it->loc, ce->type, src->cols[c].name};
            }
            continue;
        }
        const wr_sql_type *coltype = NULL;
        wr_cexpr *ce;
        const wr_fn_desc *fd = it->expr->kind == WR_E_CALL && e->opts.fns != NULL
                                   ? wr_fn_lookup(e->opts.fns, it->expr->text)
                                   : NULL;
        if (fd != NULL && fd->kind == WR_FN_TABLE) {
            /* a table function (EXPLODE): the column holds its argument; each element becomes
               a row of its own when the query runs */
            if (qr->tfn != NULL)
                return fail_at(err, it->loc, "only one table function per query is supported");
            if (it->expr->n != 1)
                return fail_at(err, it->loc, "%s takes one ARRAY argument", fd->name);
            if ((rc = wr_expr_analyze(&an, it->expr->list[0], &ce, err)) != WR_OK)
                return rc;
            const wr_sql_type *at = ce->type;
            int variant;
            wr_err ferr = {0};
            coltype = fd->resolve(fd, a, &at, 1, &variant, &ferr);
            if (coltype == NULL)
                return fail_at(err, it->loc, "%s", ferr.msg);
            qr->tfn = fd;
            qr->tfn_name = it->alias ? it->alias : NULL;
        } else if ((rc = wr_expr_analyze(&an, it->expr, &ce, err)) != WR_OK) {
            return rc;
        }
        if (ce->type == NULL)
            return fail_at(err, it->loc, "the type of a bare NULL cannot be inferred: CAST it");
        const char *name = it->alias;
        if (name == NULL) {
            if (it->expr->kind == WR_E_COLUMN)
                name = it->expr->name;
            else if (it->expr->kind == WR_E_DEREF)
                name = it->expr->name;
            else
                name = wr_arena_printf(a, "KSQL_COL_%d", gen++);
        }
        for (int j = 0; j < n; j++)
            if (strcmp(cols[j].name, name) == 0)
                return fail_at(err, it->loc, "duplicate value column name '%s'; give it an alias",
                               name);
        if (n == cap)
            return fail_at(err, it->loc, "too many columns");
        cols[n++] = (outcol){
            name, ce, false, it->loc, coltype ? coltype : ce->type, expr_text(a, it->expr)};
        if (coltype != NULL)
            qr->tfn_col_name = name;
    }
    if (q->npartition > 1)
        return fail_at(err, q->partition_by[1]->loc,
                       "PARTITION BY of several expressions is not supported yet");
    if (q->npartition == 1) {
        const wr_expr *pb = q->partition_by[0];
        if (pb->kind == WR_E_NULL) {
            *cols_out = cols;
            *n_out = n;
            return WR_OK; /* no key */
        }
        wr_cexpr *pe;
        if ((rc = wr_expr_analyze(&an, pb, &pe, err)) != WR_OK)
            return rc;
        /* the new key: the projected item that is this expression */
        wr_buf want = WR_BUF_INIT;
        wr_ast_format_expr(&want, pb);
        wr_buf_put_u8(&want, 0);
        int found = -1;
        for (int i = 0, c = 0; i < q->nitems && found < 0; i++) {
            if (q->items[i].expr->kind == WR_E_STAR) {
                if (pb->kind == WR_E_COLUMN)
                    for (int k = 0; k < src->ncols; k++)
                        if (strcmp(src->cols[k].name, pb->name) == 0)
                            found = c + k;
                c += src->ncols;
                continue;
            }
            wr_buf got = WR_BUF_INIT;
            wr_ast_format_expr(&got, q->items[i].expr);
            wr_buf_put_u8(&got, 0);
            if (strcmp((const char *)got.data, (const char *)want.data) == 0)
                found = c;
            wr_buf_free(&got);
            c++;
        }
        wr_buf_free(&want);
        if (found < 0) {
            /* ksqlDB adds the partitioning column as the key when it is not projected */
            const char *name =
                pb->kind == WR_E_COLUMN ? pb->name : wr_arena_printf(a, "KSQL_COL_%d", gen++);
            if (n == cap)
                return fail_at(err, pb->loc, "too many columns");
            memmove(&cols[1], &cols[0], (size_t)n * sizeof *cols);
            cols[0] = (outcol){name, pe, true, pb->loc, pe->type, expr_text(a, pb)};
            n++;
        } else {
            cols[found].key = true;
        }
    } else {
        /* the source's key columns are the sink's, and must be projected */
        for (int k = 0; k < src->ncols; k++) {
            if (!is_key_role(src->cols[k].role))
                continue;
            int found = -1;
            for (int j = 0; j < n && found < 0; j++)
                if (cols[j].expr->op == WR_C_COLUMN && cols[j].expr->col == k)
                    found = j;
            if (found < 0 && e->transient)
                continue; /* a push query's rows have no key */
            if (found < 0)
                return fail_at(err, q->loc,
                               "Key missing from projection (ie, SELECT). The query used to build "
                               "the sink must include the key column %s in its projection (eg, "
                               "SELECT %s...).",
                               src->cols[k].name, src->cols[k].name);
            cols[found].key = true;
        }
    }
    *cols_out = cols;
    *n_out = n;
    return WR_OK;
}

static char *
query_id(wr_engine *e, const char *prefix, const char *sink)
{
    char *id = malloc(strlen(prefix) + strlen(sink) + 32);
    if (id != NULL)
        sprintf(id, "%s_%s_%d", prefix, sink, e->query_seq++);
    return id;
}

static int64_t
committed_offset(wr_engine *e, const char *qid, int32_t part)
{
    char key[300];
    int kl = snprintf(key, sizeof key, "%s%c%d", qid, 0, part);
    wr_buf val = WR_BUF_INIT;
    int64_t off = -1;
    if (kl > 0 &&
        wr_log_meta_get(e->opts.db, QUERY_OFFSETS, key, (size_t)kl, &val, NULL) == WR_OK &&
        val.len == 8)
        off = (int64_t)wr_be64_get(val.data);
    wr_buf_free(&val);
    return off;
}

static int
commit_offset(wr_engine *e, const char *qid, int32_t part, int64_t offset, wr_err *err)
{
    char key[300];
    int kl = snprintf(key, sizeof key, "%s%c%d", qid, 0, part);
    uint8_t val[8];
    wr_be64_put(val, (uint64_t)offset);
    return wr_log_meta_put(e->opts.db, QUERY_OFFSETS, key, (size_t)kl, val, sizeof val, err);
}

static int
start_tasks(wr_engine *e, wr_session *ss, wr_query *qr, wr_err *err)
{
    int32_t parts = wr_log_topic_partitions(e->opts.db, qr->src->topic);
    if (parts < 1)
        return wr_err_set(err, WR_ENOENT, "topic %s of %s does not exist", qr->src->topic,
                          qr->src->name);
    const char *reset = ss ? wr_props_get(&ss->props, "auto.offset.reset") : NULL;
    bool earliest = reset != NULL && strcasecmp(reset, "earliest") == 0;
    qr->tasks = wr_arena_calloc(qr->arena, (size_t)parts, sizeof *qr->tasks);
    if (qr->tasks == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    qr->ntasks = parts;
    for (int32_t p = 0; p < parts; p++) {
        wr_partition *lp;
        if (wr_log_partition(e->opts.db, qr->src->topic, p, &lp) != WR_OK)
            return wr_err_set(err, WR_ENOENT, "partition %d of %s is missing", p, qr->src->topic);
        int64_t off = committed_offset(e, qr->id, p);
        if (off < 0)
            off = earliest ? wr_log_start_offset(lp) : wr_log_end_offset(lp);
        qr->tasks[p] = (task){p, off};
    }
    return WR_OK;
}

static void
schema_text(wr_buf *b, const wr_col *cols, int n, const wr_source *s)
{
    for (int i = 0; i < n; i++) {
        wr_buf_printf(b, "%s%s ", i ? ", " : "", cols[i].name);
        wr_ast_format_type(b, cols[i].type);
        if (s != NULL && i < s->ncols && is_key_role(s->cols[i].role))
            wr_buf_printf(b, " KEY");
    }
}

/* The query's operator DAG, sink first, as ksqlDB's EXPLAIN prints its logical plan. */
static void
explain_query(wr_buf *out, const wr_query *q)
{
    if (out == NULL)
        return;
    static const char *fmts[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    wr_buf_printf(out, "ID                   : %s\nQuery                : %s\n", q->id, q->sql);
    wr_buf_printf(out, "\nExecution plan\n--------------\n");
    wr_buf_printf(out, " > [ SINK ] | Schema: ");
    wr_col *sc = calloc((size_t)q->sink->ncols + 1, sizeof *sc);
    for (int i = 0; sc != NULL && i < q->sink->ncols; i++)
        sc[i] = (wr_col){q->sink->cols[i].name, NULL, q->sink->cols[i].type};
    if (sc != NULL)
        schema_text(out, sc, q->sink->ncols, q->sink);
    free(sc);
    wr_buf_printf(out, " | Topic: %s (%d partitions, key %s, value %s)\n", q->sink->topic,
                  q->sink->partitions, fmts[q->sink->key_fmt], fmts[q->sink->val_fmt]);
    int ind = 1;
    if (q->tfn != NULL)
        wr_buf_printf(out, "%*s > [ FLAT_MAP ] | Table function: %s\n", 2 * ind++, "",
                      q->out_text[q->tfn_out]);
    wr_buf_printf(out, "%*s > [ PROJECT ] | Expressions: ", 2 * ind++, "");
    for (int i = 0; i < q->nout; i++)
        wr_buf_printf(out, "%s%s AS %s", i ? ", " : "", q->out_text[i] ? q->out_text[i] : "?",
                      q->sink->cols[i].name);
    wr_buf_printf(out, "\n");
    if (q->having_text != NULL)
        wr_buf_printf(out, "%*s > [ FILTER ] | Having: %s\n", 2 * ind++, "", q->having_text);
    if (q->agg_text != NULL)
        wr_buf_printf(out, "%*s > [ AGGREGATE ] | %s\n", 2 * ind++, "", q->agg_text);
    if (q->where_text != NULL)
        wr_buf_printf(out, "%*s > [ FILTER ] | Condition: %s\n", 2 * ind++, "", q->where_text);
    wr_buf_printf(out, "%*s > [ SOURCE ] | Schema: ", 2 * ind, "");
    schema_text(out, q->scope.cols, q->scope.n, q->src);
    wr_buf_printf(out, " | Topic: %s (%d partitions, key %s, value %s)\n", q->src->topic,
                  q->src->partitions, fmts[q->src->key_fmt], fmts[q->src->val_fmt]);
    wr_buf_printf(out, "\nTasks: one per input partition; each reads a record batch, decodes it "
                       "into column vectors, filters, projects a vector at a time, encodes and "
                       "appends to the sink partition that murmur2 of the key picks.\n");
}

static void
mark_cols(const wr_cexpr *e, bool *used)
{
    if (e == NULL)
        return;
    if (e->op == WR_C_COLUMN)
        used[e->col] = true;
    mark_cols(e->a, used);
    mark_cols(e->b, used);
    mark_cols(e->c, used);
    for (int i = 0; e->args != NULL && i < e->n; i++) /* a LAMBDA's n counts parameters */
        mark_cols(e->args[i], used);
}

/* Which of the source's value columns the query reads, so that the decoder skips the rest. */
static int
plan_needed(wr_query *q, wr_err *err)
{
    const wr_source *s = q->src;
    bool *used = wr_arena_calloc(q->arena, (size_t)q->scope.n + 1, sizeof *used);
    q->val_needed = wr_arena_calloc(q->arena, (size_t)s->ncols + 1, sizeof *q->val_needed);
    if (used == NULL || q->val_needed == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    mark_cols(q->where, used);
    if (q->agg != NULL) { /* the outputs are over the aggregated scope */
        for (int i = 0; i < q->agg->ngroup; i++)
            mark_cols(q->agg->group[i], used);
        for (int i = 0; i < q->agg->nagg; i++)
            mark_cols(q->agg->args[i], used);
    } else {
        for (int i = 0; i < q->nout; i++)
            mark_cols(q->out[i], used);
    }
    if (s->ts_col >= 0)
        used[s->ts_col] = true;
    for (int i = 0, v = 0; i < s->ncols; i++)
        if (!is_key_role(s->cols[i].role) && !is_header_role(s->cols[i].role))
            q->val_needed[v++] = used[i];
    return WR_OK;
}

/* Whether the select list or HAVING of q calls an aggregate function. */
static bool
has_aggregate(const wr_engine *e, const wr_expr *x)
{
    if (x == NULL)
        return false;
    if (x->kind == WR_E_CALL && e->opts.fns != NULL) {
        const wr_fn_desc *f = wr_fn_lookup(e->opts.fns, x->text);
        if (f != NULL && f->kind == WR_FN_AGGREGATE)
            return true;
    }
    if (has_aggregate(e, x->a) || has_aggregate(e, x->b2) || has_aggregate(e, x->c))
        return true;
    for (int i = 0; x->list != NULL && i < x->n; i++)
        if (has_aggregate(e, x->list[i]))
            return true;
    return false;
}

typedef struct aggplan {
    int n, cap;
    const char **text; /* aggregate calls as SQL, distinct */
    wr_col *cols;      /* their result columns */
    wr_agg *aggs;      /* their functions */
    wr_cexpr **args;   /* their aggregated argument, over the input (NULL: COUNT(*)) */
} aggplan;

/* Collects the aggregate calls of x (not nested in one another), typing their arguments in the
   input scope. */
static int
collect_aggregates(wr_engine *e, wr_analyzer *in, const wr_expr *x, aggplan *ap, wr_err *err)
{
    if (x == NULL)
        return WR_OK;
    const wr_fn_desc *f =
        x->kind == WR_E_CALL && e->opts.fns ? wr_fn_lookup(e->opts.fns, x->text) : NULL;
    if (f == NULL || f->kind != WR_FN_AGGREGATE) {
        int rc = WR_OK;
        if ((rc = collect_aggregates(e, in, x->a, ap, err)) != WR_OK ||
            (rc = collect_aggregates(e, in, x->b2, ap, err)) != WR_OK ||
            (rc = collect_aggregates(e, in, x->c, ap, err)) != WR_OK)
            return rc;
        for (int i = 0; x->list != NULL && i < x->n; i++)
            if ((rc = collect_aggregates(e, in, x->list[i], ap, err)) != WR_OK)
                return rc;
        return WR_OK;
    }
    const char *t = expr_text(in->arena, x);
    for (int i = 0; i < ap->n; i++)
        if (strcmp(ap->text[i], t) == 0)
            return WR_OK;
    /* the arguments, in the input scope (COUNT(*) has none) */
    int nargs = x->n == 1 && x->list[0]->kind == WR_E_STAR ? 0 : x->n;
    const wr_sql_type **types = wr_arena_calloc(in->arena, (size_t)nargs + 1, sizeof *types);
    wr_cexpr **ces = wr_arena_calloc(in->arena, (size_t)nargs + 1, sizeof *ces);
    if (types == NULL || ces == NULL)
        return WR_ENOMEM;
    for (int i = 0; i < nargs; i++) {
        if (has_aggregate(e, x->list[i]))
            return fail_at(err, x->list[i]->loc, "aggregate functions cannot be nested");
        int rc = wr_expr_analyze(in, x->list[i], &ces[i], err);
        if (rc != WR_OK)
            return rc;
        types[i] = ces[i]->type;
    }
    int variant;
    wr_err ferr = {0};
    const wr_sql_type *rt = f->resolve(f, in->arena, types, nargs, &variant, &ferr);
    if (rt == NULL)
        return fail_at(err, x->loc, "%s", ferr.msg);
    if (ap->n == ap->cap) {
        int cap = ap->cap ? ap->cap * 2 : 8;
        const char **nt = wr_arena_calloc(in->arena, (size_t)cap, sizeof *nt);
        wr_col *nc = wr_arena_calloc(in->arena, (size_t)cap, sizeof *nc);
        wr_agg *na = wr_arena_calloc(in->arena, (size_t)cap, sizeof *na);
        wr_cexpr **nx = wr_arena_calloc(in->arena, (size_t)cap, sizeof *nx);
        if (nt == NULL || nc == NULL || na == NULL || nx == NULL)
            return WR_ENOMEM;
        if (ap->n > 0) {
            memcpy(nt, ap->text, (size_t)ap->n * sizeof *nt);
            memcpy(nc, ap->cols, (size_t)ap->n * sizeof *nc);
            memcpy(na, ap->aggs, (size_t)ap->n * sizeof *na);
            memcpy(nx, ap->args, (size_t)ap->n * sizeof *nx);
        }
        ap->text = nt;
        ap->cols = nc;
        ap->aggs = na;
        ap->args = nx;
        ap->cap = cap;
    }
    const wr_val **consts = wr_arena_calloc(in->arena, (size_t)nargs + 1, sizeof *consts);
    if (consts == NULL)
        return WR_ENOMEM;
    for (int i = 0; i < nargs; i++)
        consts[i] = ces[i]->op == WR_C_CONST ? &ces[i]->k : NULL;
    wr_err aerr = {0};
    if (wr_agg_plan(&ap->aggs[ap->n], f->name, types, consts, nargs, rt, &aerr) != WR_OK)
        return fail_at(err, x->loc, "%s", aerr.msg);
    ap->args[ap->n] = nargs > 0 ? ces[0] : NULL;
    ap->text[ap->n] = t;
    ap->cols[ap->n] = (wr_col){wr_arena_printf(in->arena, "KSQL_AGG_VARIABLE_%d", ap->n), NULL, rt};
    ap->n++;
    return WR_OK;
}

/* GROUP BY [WINDOW] [HAVING]: plans the aggregation (typed, checked, shown by EXPLAIN); its
   execution needs state stores and arrives with the stateful queries. The sink's key is the
   GROUP BY expression(s), which must be projected, as in ksqlDB. */
static int
plan_aggregate(
    wr_engine *e, wr_query *qr, const wr_select *q, outcol **cols_out, int *n_out, wr_err *err)
{
    wr_arena *a = qr->arena;
    wr_analyzer in = {.arena = a, .scope = &qr->scope, .fns = e->opts.fns};
    if (q->ngroup == 0)
        return fail_at(err, q->window ? q->window->loc : q->loc, "%s needs GROUP BY",
                       q->window ? "WINDOW" : "an aggregate function");
    /* the aggregated scope: group keys, aggregate results, window bounds */
    int cap = q->ngroup + 2;
    aggplan ap = {0};
    for (int i = 0; i < q->nitems; i++) {
        if (q->items[i].expr->kind == WR_E_STAR)
            return fail_at(err, q->items[i].loc, "SELECT * is not allowed with GROUP BY");
        int rc = collect_aggregates(e, &in, q->items[i].expr, &ap, err);
        if (rc != WR_OK)
            return rc;
    }
    int rc = collect_aggregates(e, &in, q->having, &ap, err);
    if (rc != WR_OK)
        return rc;
    cap += ap.n;
    wr_col *sc = wr_arena_calloc(a, (size_t)cap, sizeof *sc);
    const char **stext = wr_arena_calloc(a, (size_t)cap, sizeof *stext);
    int *scol = wr_arena_calloc(a, (size_t)cap, sizeof *scol);
    if (sc == NULL || stext == NULL || scol == NULL)
        return WR_ENOMEM;
    int n = 0, gen = 0;
    aggexec *ax = wr_arena_calloc(a, 1, sizeof *ax);
    if (ax == NULL ||
        (ax->group = wr_arena_calloc(a, (size_t)q->ngroup, sizeof *ax->group)) == NULL ||
        (ax->gtypes = wr_arena_calloc(a, (size_t)q->ngroup, sizeof *ax->gtypes)) == NULL)
        return WR_ENOMEM;
    ax->ngroup = q->ngroup;
    ax->nagg = ap.n;
    ax->aggs = ap.aggs;
    ax->args = ap.args;
    ax->final = q->emit == WR_EMIT_FINAL;
    if (q->window != NULL) {
        ax->windowed = true;
        ax->win = *q->window;
        ax->grace = q->window->grace_ms >= 0 ? q->window->grace_ms : DEFAULT_GRACE_MS;
        int64_t span = q->window->size_ms + ax->grace;
        if (q->window->retention_ms >= 0 && q->window->retention_ms < span)
            return fail_at(err, q->window->loc,
                           "the window's RETENTION (%lld ms) must be at least its SIZE plus its "
                           "GRACE PERIOD (%lld ms)",
                           (long long)q->window->retention_ms, (long long)span);
        ax->retention = q->window->retention_ms >= 0  ? q->window->retention_ms
                        : span > DEFAULT_RETENTION_MS ? span
                                                      : DEFAULT_RETENTION_MS;
    } else if (ax->final) {
        return fail_at(err, q->loc, "EMIT FINAL is only for windowed aggregations");
    }
    wr_buf desc = WR_BUF_INIT;
    wr_buf_printf(&desc, "Group by: ");
    for (int i = 0; i < q->ngroup; i++) {
        wr_cexpr *ge;
        if (has_aggregate(e, q->group_by[i]))
            return fail_at(err, q->group_by[i]->loc, "GROUP BY cannot use aggregate functions");
        if ((rc = wr_expr_analyze(&in, q->group_by[i], &ge, err)) != WR_OK)
            return rc;
        ax->group[i] = ge;
        ax->gtypes[i] = ge->type;
        const char *name = q->group_by[i]->kind == WR_E_COLUMN
                               ? q->group_by[i]->name
                               : wr_arena_printf(a, "KSQL_COL_%d", gen++);
        stext[n] = expr_text(a, q->group_by[i]);
        scol[n] = n;
        sc[n++] = (wr_col){name, NULL, ge->type};
        wr_buf_printf(&desc, "%s%s", i ? ", " : "", stext[n - 1]);
    }
    wr_buf_printf(&desc, " | Aggregates: ");
    for (int i = 0; i < ap.n; i++) {
        stext[n] = ap.text[i];
        scol[n] = n;
        sc[n++] = ap.cols[i];
        wr_buf_printf(&desc, "%s%s", i ? ", " : "", ap.text[i]);
    }
    if (ap.n == 0)
        wr_buf_printf(&desc, "(none)");
    if (q->window != NULL) {
        static const char *kinds[] = {"TUMBLING", "HOPPING", "SESSION"};
        stext[n] = "WINDOWSTART";
        scol[n] = n;
        sc[n++] = (wr_col){"WINDOWSTART", NULL, wr_type_of(WR_T_BIGINT)};
        stext[n] = "WINDOWEND";
        scol[n] = n;
        sc[n++] = (wr_col){"WINDOWEND", NULL, wr_type_of(WR_T_BIGINT)};
        wr_buf_printf(&desc, " | Window: %s size %lld ms", kinds[q->window->kind],
                      (long long)q->window->size_ms);
        if (q->window->advance_ms > 0)
            wr_buf_printf(&desc, ", advance %lld ms", (long long)q->window->advance_ms);
        if (q->window->grace_ms >= 0)
            wr_buf_printf(&desc, ", grace %lld ms", (long long)q->window->grace_ms);
    }
    wr_buf_put_u8(&desc, 0);
    qr->agg_text = wr_arena_strdup(a, wr_buf_ok(&desc) ? (const char *)desc.data : "?");
    wr_buf_free(&desc);
    wr_scope *post = wr_arena_calloc(a, 1, sizeof *post);
    if (post == NULL)
        return WR_ENOMEM;
    post->n = n;
    post->cols = sc;
    wr_analyzer out = {.arena = a,
                       .scope = post,
                       .fns = e->opts.fns,
                       .nsubst = n,
                       .subst_text = stext,
                       .subst_col = scol,
                       .after_aggregation = true};
    outcol *cols = wr_arena_calloc(a, (size_t)q->nitems + 1, sizeof *cols);
    if (cols == NULL)
        return WR_ENOMEM;
    int nout = 0;
    for (int i = 0; i < q->nitems; i++) {
        const wr_select_item *it = &q->items[i];
        wr_cexpr *ce;
        if ((rc = wr_expr_analyze(&out, it->expr, &ce, err)) != WR_OK)
            return rc;
        const char *name = it->alias;
        const char *text = expr_text(a, it->expr);
        bool key = false;
        for (int g = 0; g < q->ngroup; g++)
            key |= strcmp(text, stext[g]) == 0;
        if (name == NULL)
            name = it->expr->kind == WR_E_COLUMN ? it->expr->name
                                                 : wr_arena_printf(a, "KSQL_COL_%d", gen++);
        for (int j = 0; j < nout; j++)
            if (strcmp(cols[j].name, name) == 0)
                return fail_at(err, it->loc, "duplicate value column name '%s'; give it an alias",
                               name);
        cols[nout++] = (outcol){name, ce, key, it->loc, ce->type, text};
    }
    for (int g = 0; g < q->ngroup; g++) {
        bool found = false;
        for (int j = 0; j < nout; j++)
            found |= strcmp(cols[j].text, stext[g]) == 0;
        if (!found)
            return fail_at(err, q->group_by[g]->loc,
                           "Key missing from projection (ie, SELECT). The query used to build the "
                           "sink must include the grouping expression %s in its projection",
                           stext[g]);
    }
    if (q->having != NULL) {
        wr_cexpr *he;
        if ((rc = wr_expr_analyze(&out, q->having, &he, err)) != WR_OK)
            return rc;
        if (he->type != NULL && he->type->kind != WR_T_BOOLEAN)
            return fail_at(err, q->having->loc, "HAVING needs a BOOLEAN expression");
        qr->having_text = expr_text(a, q->having);
        ax->having = he;
    }
    ax->npost = n;
    qr->agg = ax;
    *cols_out = cols;
    *n_out = nout;
    return WR_OK;
}

/* A client query's id, as ksqlDB names them: transient_<source>_<number> (in qr's arena). */
static char *
transient_id(wr_engine *e, const wr_query *qr)
{
    char id[200];
    uint64_t n = (uint64_t)wr_clock_wall_ms() * 1000 + (e->push_seq++ % 1000);
    snprintf(id, sizeof id, "transient_%s_%llu", qr->src->name, (unsigned long long)n);
    return wr_arena_strdup(qr->arena, id);
}

/* Starts a planned push or pull query (qr, its sink qr->sink): tasks from the latest offsets
   (or the earliest, by auto.offset.reset) for a push query, over everything there is now for a
   pull query; the client's header into e->tinfo. */
static int
start_push(wr_engine *e, wr_session *ss, wr_query *qr, const wr_select *sel, wr_err *err)
{
    qr->is_push = true;
    qr->pull = sel->emit == WR_EMIT_NONE;
    qr->limit = sel->limit;
    qr->push = *e->tsink;
    qr->id = transient_id(e, qr);
    if (qr->id == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_session pull_ss = {0};
    if (qr->pull)
        wr_props_set(&pull_ss.props, "auto.offset.reset", "earliest");
    int rc = start_tasks(e, qr->pull ? &pull_ss : ss, qr, err);
    wr_props_free(&pull_ss.props);
    if (rc == WR_OK && qr->agg != NULL)
        rc = open_task_stores(e, qr, err);
    if (rc != WR_OK) {
        drop_task_stores(e, qr);
        return rc;
    }
    for (int i = 0; i < qr->ntasks; i++) {
        wr_partition *lp;
        qr->tasks[i].end =
            wr_log_partition(e->opts.db, qr->src->topic, qr->tasks[i].partition, &lp) == WR_OK
                ? wr_log_end_offset(lp)
                : 0;
    }
    push_header(e, qr);
    wr_query **tail = &e->pushes;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = qr;
    return WR_OK;
}

/* The client's header of a push or pull query: its id and columns, into e->tinfo. */
static void
push_header(wr_engine *e, wr_query *qr)
{
    wr_push_info *in = e->tinfo;
    if (in != NULL) {
        snprintf(in->query_id, sizeof in->query_id, "%s", qr->id);
        in->pull = qr->pull;
        wr_buf_put_u8(&in->names, '[');
        wr_buf_put_u8(&in->types, '[');
        for (int i = 0; i < qr->sink->ncols; i++) {
            const src_col *c = &qr->sink->cols[i];
            wr_buf t = WR_BUF_INIT;
            wr_ast_format_type(&t, c->type);
            if (i) {
                wr_buf_put_u8(&in->names, ',');
                wr_buf_put_u8(&in->types, ',');
                wr_buf_append(&in->schema, ", ", 2);
            }
            wr_json_write_string(&in->names, c->name, strlen(c->name));
            wr_json_write_string(&in->types, (const char *)t.data, t.len);
            wr_buf_printf(&in->schema, "`%s` %.*s", c->name, (int)t.len, (const char *)t.data);
            wr_buf_free(&t);
        }
        wr_buf_put_u8(&in->names, ']');
        wr_buf_put_u8(&in->types, ']');
    }
}

/* What an aggregation needs before it runs: state stores, and rows of one group meeting in one
   task (until repartition topics arrive, the GROUP BY of a source with more than one partition
   must be its key). */
static int
check_aggregation(
    wr_engine *e, const wr_query *qr, const wr_select *q, const wr_query *replacing, wr_err *err)
{
    if (e->opts.state == NULL)
        return fail_at(err, q->loc,
                       "aggregations need state stores, and this engine has no state directory");
    if (replacing != NULL)
        return fail_at(err, q->loc,
                       "CREATE OR REPLACE cannot change an aggregation: its state would not "
                       "match; drop the table and create it again");
    if (qr->src->partitions <= 1)
        return WR_OK;
    const aggexec *ax = qr->agg;
    int nkeys = 0;
    for (int i = 0; i < qr->src->ncols; i++)
        nkeys += is_key_role(qr->src->cols[i].role);
    bool by_key = ax->ngroup == nkeys;
    for (int g = 0; g < ax->ngroup && by_key; g++)
        by_key = ax->group[g]->op == WR_C_COLUMN && ax->group[g]->col < qr->src->ncols &&
                 is_key_role(qr->src->cols[ax->group[g]->col].role);
    if (!by_key)
        return fail_at(err, q->group_by[0]->loc,
                       "GROUP BY on anything but the key of %s, which has %d partitions, needs a "
                       "repartition topic, which weir does not create yet: group by the key, or "
                       "repartition the source first (CREATE STREAM ... PARTITION BY ...)",
                       qr->src->name, qr->src->partitions);
    return WR_OK;
}

static int
exec_query_into(
    wr_engine *e, wr_session *ss, const wr_stmt *st, const char *sql, wr_buf *out, wr_err *err)
{
    const wr_select *q = st->select;
    bool create = st->kind == WR_S_CREATE_AS;
    if (q->from->is_join)
        return fail_at(err, q->from->loc, "joins are not supported yet");
    bool aggregated = q->window != NULL || q->ngroup > 0 || q->having != NULL;
    for (int i = 0; i < q->nitems && !aggregated; i++)
        aggregated = has_aggregate(e, q->items[i].expr);
    if (aggregated && create && !st->is_table)
        return fail_at(err, st->loc,
                       "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE "
                       "TABLE AS SELECT statement instead.");
    if (q->limit >= 0 && !e->explain_transient && !e->transient)
        return fail_at(err, q->loc, "LIMIT is only allowed in push and pull queries, not in %s",
                       create ? "CREATE ... AS SELECT" : "INSERT INTO");
    if (st->is_table && create && !aggregated)
        return fail_at(err, st->name_loc,
                       "Invalid result type. Your SELECT query produces a STREAM. Please use "
                       "CREATE STREAM AS SELECT statement instead.");
    wr_source *src = source_find(e, q->from->name);
    if (src == NULL)
        return fail_at(err, q->from->loc, "%s does not exist", q->from->name);
    if (src->is_table)
        return fail_at(err, q->from->loc, "queries over tables are not supported yet");
    wr_source *existing = e->transient ? NULL : source_find(e, st->name);
    /* CREATE OR REPLACE ... AS SELECT: the new plan takes over the old query's id, so it
       resumes from the old one's offsets; the sink's schema may only grow */
    wr_query *replacing = NULL;
    if (create && existing != NULL && st->or_replace) {
        for (wr_query *oq = e->queries; oq != NULL; oq = oq->next)
            if (oq->sink == existing && strncmp(oq->id, "INSERTQUERY", 11) != 0)
                replacing = oq;
        if (replacing == NULL)
            return fail_at(err, st->name_loc,
                           "%s was not created by a query: replace it with CREATE OR REPLACE "
                           "STREAM ... (columns)",
                           existing->name);
        if (source_in_use(e, existing, replacing))
            return fail_at(err, st->name_loc,
                           "cannot replace %s while other queries read from or write into it",
                           existing->name);
        existing = NULL; /* planned as a new sink, checked against the old one below */
    }
    if (create && existing != NULL && !st->if_not_exists)
        return fail_at(
            err, st->name_loc, "cannot add %s '%s': a %s with the same name already exists",
            st->is_table ? "table" : "stream", st->name, existing->is_table ? "table" : "stream");
    if (create && existing != NULL) {
        msg(out, "A %s with the same name already exists", existing->is_table ? "table" : "stream");
        return WR_OK;
    }
    if (!create && existing == NULL)
        return fail_at(err, st->name_loc, "%s does not exist", st->name);
    if (existing == src)
        return fail_at(err, st->name_loc, "cannot insert into %s from itself", st->name);
    int rc = check_props(st, err);
    if (rc != WR_OK)
        return rc;

    wr_arena *a = wr_arena_create(0);
    wr_query *qr = a ? wr_arena_calloc(a, 1, sizeof *qr) : NULL;
    if (qr == NULL) {
        wr_arena_destroy(a);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    qr->arena = a;
    qr->src = src;
    qr->tfn_out = -1;
    wr_source *sink = NULL;
    if ((rc = source_scope(a, src, q->from->alias, &qr->scope)) != WR_OK)
        goto fail;
    wr_analyzer an = {.arena = a, .scope = &qr->scope, .fns = e->opts.fns};
    if (q->where != NULL) {
        if ((rc = wr_expr_analyze(&an, q->where, &qr->where, err)) != WR_OK)
            goto fail;
        if (qr->where->type && qr->where->type->kind != WR_T_BOOLEAN) {
            rc = fail_at(err, q->where->loc, "WHERE needs a BOOLEAN expression, not %s",
                         qr->where->type->kind == WR_T_STRING ? "STRING" : "this type");
            goto fail;
        }
    }
    outcol *cols = NULL;
    int ncols = 0;
    if ((rc = aggregated ? plan_aggregate(e, qr, q, &cols, &ncols, err)
                         : plan_projection(e, qr, q, &cols, &ncols, err)) != WR_OK)
        goto fail;
    if (create && e->transient) {
        /* the client is the sink: the columns in the order of the select list */
        sink = source_new(st->name, false);
        sink->cols =
            sink ? wr_arena_calloc(sink->arena, (size_t)ncols + 1, sizeof *sink->cols) : NULL;
        if (sink == NULL || sink->cols == NULL) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
            goto fail;
        }
        for (int i = 0; i < ncols; i++)
            sink->cols[i] = (src_col){wr_arena_strdup(sink->arena, cols[i].name),
                                      wr_type_copy(sink->arena, cols[i].type),
                                      cols[i].key ? WR_COL_KEY : WR_COL_VALUE, NULL};
        sink->ncols = ncols;
        sink->topic = "";
        sink->key_fmt = sink->val_fmt = WR_FMT_JSON;
        sink->partitions = src->partitions;
    } else if (create) {
        sink = source_new(st->name, st->is_table);
        if (sink == NULL) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
            goto fail;
        }
        sink->sql = wr_arena_strdup(sink->arena, sql);
        sink->cols = wr_arena_calloc(sink->arena, (size_t)ncols + 1, sizeof *sink->cols);
        /* key columns first, as ksqlDB orders a sink's schema */
        int k = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < ncols; i++)
                if (cols[i].key == (pass == 0))
                    sink->cols[k++] =
                        (src_col){wr_arena_strdup(sink->arena, cols[i].name),
                                  wr_type_copy(sink->arena, cols[i].type),
                                  cols[i].key ? (st->is_table ? WR_COL_PRIMARY_KEY : WR_COL_KEY)
                                              : WR_COL_VALUE,
                                  NULL};
        sink->ncols = ncols;
        if ((rc = formats(st, sink, src->key_fmt, src->val_fmt, false, err)) != WR_OK)
            goto fail;
        if (prop(st, "WRAP_SINGLE_VALUE") == NULL)
            sink->wrap_single = src->wrap_single;
        if (prop(st, "VALUE_DELIMITER") == NULL)
            sink->delimiter = src->delimiter;
        if (qr->agg != NULL && qr->agg->windowed) {
            sink->window_kind = (int)qr->agg->win.kind;
            sink->window_size = qr->agg->win.size_ms;
        }
        if ((rc = check_formats(sink, st->name_loc, err)) != WR_OK ||
            (rc = timestamp_col(st, sink, err)) != WR_OK ||
            (rc = ensure_topic(e, st, sink, st->name, src->partitions, true, err)) != WR_OK)
            goto fail;
    } else {
        sink = existing;
        if (sink->ncols != ncols) {
            rc = fail_at(err, q->loc,
                         "incompatible schema between results and sink: %s has %d columns, the "
                         "query gives %d",
                         sink->name, sink->ncols, ncols);
            goto fail;
        }
    }
    /* one expression per sink column, in the sink's order */
    qr->nout = sink->ncols;
    qr->out = wr_arena_calloc(a, (size_t)sink->ncols + 1, sizeof *qr->out);
    qr->out_text = wr_arena_calloc(a, (size_t)sink->ncols + 1, sizeof *qr->out_text);
    qr->where_text = q->where ? expr_text(a, q->where) : NULL;
    for (int i = 0; i < sink->ncols; i++) {
        int j = 0;
        while (j < ncols && strcmp(cols[j].name, sink->cols[i].name) != 0)
            j++;
        if (j == ncols || cols[j].key != is_key_role(sink->cols[i].role) ||
            !wr_type_coercible(cols[j].type, sink->cols[i].type)) {
            rc = fail_at(
                err, q->loc,
                "incompatible schema between results and sink: column %s (%s) is missing or "
                "has a different type or role",
                sink->cols[i].name, is_key_role(sink->cols[i].role) ? "key" : "value");
            goto fail;
        }
        qr->out_text[i] = cols[j].text;
        if (qr->tfn != NULL && cols[j].name == qr->tfn_col_name) {
            qr->out[i] = cols[j].expr; /* the array; its elements are the column's values */
            qr->tfn_out = i;
        } else {
            qr->out[i] = wr_expr_coerce(a, cols[j].expr, sink->cols[i].type);
        }
    }
    qr->sink = sink;
    qr->sql = wr_arena_strdup(a, sql);
    if ((rc = plan_needed(qr, err)) != WR_OK)
        goto fail;
    if (aggregated && !e->dry_run && (rc = check_aggregation(e, qr, q, replacing, err)) != WR_OK)
        goto fail;
    if (e->transient && !e->dry_run) {
        if ((rc = start_push(e, ss, qr, q, err)) != WR_OK)
            goto fail;
        return WR_OK; /* the query owns its arena and its sink */
    }
    if (e->dry_run) {
        qr->id = "(not started: EXPLAIN of a statement)";
        explain_query(out, qr);
        rc = WR_OK;
        goto fail; /* frees the plan: nothing was created */
    }
    char *id = replacing ? strdup(replacing->id)
                         : query_id(e, create ? (st->is_table ? "CTAS" : "CSAS") : "INSERTQUERY",
                                    sink->name);
    qr->id = id ? wr_arena_strdup(a, id) : NULL;
    free(id);
    if (replacing != NULL &&
        (rc = check_upgrade(replacing->sink, sink, st->name_loc, err)) != WR_OK)
        goto fail;
    if (qr->id == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = start_tasks(e, ss, qr, err)) != WR_OK ||
        (qr->agg != NULL && (rc = open_task_stores(e, qr, err)) != WR_OK))
        goto fail;
    if (replacing != NULL) {
        wr_source *old_sink = replacing->sink;
        for (wr_query **pp = &e->queries; *pp != NULL; pp = &(*pp)->next)
            if (*pp == replacing) {
                *pp = replacing->next;
                break;
            }
        query_free(replacing);
        source_unlink(e, old_sink);
        source_free(old_sink);
        msg(out, "Replaced query %s", qr->id);
    }
    if (create) {
        sink->next = e->sources;
        e->sources = sink;
    }
    wr_query **tail = &e->queries; /* creation order: older queries run first */
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = qr;
    if (create)
        msg(out, "Created query with ID %s", qr->id);
    else
        msg(out, "Created query with ID %s", qr->id);
    return WR_OK;
fail:
    if (create && sink != NULL)
        source_free(sink);
    wr_arena_destroy(a);
    return rc;
}

/* ---- running queries --------------------------------------------------------------------- */

static int32_t
partition_for(const uint8_t *key, int32_t klen, int32_t parts, int32_t dflt)
{
    if (key == NULL || klen < 0)
        return dflt % parts;
    return wr_murmur2_partition(key, (size_t)klen, parts);
}

static void
plog(wr_engine *e, const wr_query *q, int32_t part, int64_t offset, const char *what)
{
    int32_t parts = wr_log_topic_partitions(e->opts.db, e->plog_topic);
    if (parts < 1) {
        if (wr_log_topic_create(e->opts.db, e->plog_topic, 1, NULL, NULL) != WR_OK)
            return;
    }
    wr_partition *p;
    if (wr_log_partition(e->opts.db, e->plog_topic, 0, &p) != WR_OK)
        return;
    wr_buf v = WR_BUF_INIT;
    wr_buf_printf(&v,
                  "{\"level\":\"ERROR\",\"logger\":\"processing.%s\",\"message\":{\"type\":0,"
                  "\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,\"errorMessage\":\"",
                  q->id, q->src->topic, part, (long long)offset);
    for (const char *c = what; *c; c++) {
        if (*c == '"' || *c == '\\')
            wr_buf_put_u8(&v, '\\');
        if ((unsigned char)*c >= 0x20)
            wr_buf_put_u8(&v, (uint8_t)*c);
    }
    wr_buf_printf(&v, "\"}}");
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
    wr_rbatch_builder_add(&bb, wr_clock_wall_ms(), NULL, -1, v.data, (int32_t)v.len, NULL, 0);
    wr_buf out = WR_BUF_INIT;
    wr_log_append_result res;
    if (wr_rbatch_builder_finish(&bb, &out, NULL) == WR_OK)
        (void)wr_log_append(p, out.data, out.len, &res, NULL);
    wr_rbatch_builder_free(&bb);
    wr_buf_free(&out);
    wr_buf_free(&v);
}

typedef struct sink_out sink_out;
static int flush_one(wr_engine *e, wr_query *q, sink_out *so, int32_t p, wr_err *err);

struct sink_out {
    wr_rbatch_builder *bb; /* one per sink partition */
    int32_t parts;
};

/* Appends one record to the sink partition its key bytes (kh: the part that is hashed) pick. */
static int
emit_record(wr_engine *e,
            wr_query *q,
            task *t,
            sink_out *so,
            const wr_buf *kb,
            bool knull,
            size_t kh,
            const wr_buf *vb,
            bool vnull,
            int64_t when,
            wr_err *err)
{
    int32_t op =
        partition_for(knull ? NULL : kb->data, knull ? -1 : (int32_t)kh, so->parts, t->partition);
    wr_rbatch_builder_add(&so->bb[op], when, knull ? NULL : kb->data, knull ? -1 : (int32_t)kb->len,
                          vnull ? NULL : vb->data, vnull ? -1 : (int32_t)vb->len, NULL, 0);
    q->stats.records_out++;
    /* output batches stay well under the topic's max.message.bytes (1 MiB by default) */
    if (wr_rbatch_builder_size(&so->bb[op]) >= OUT_BATCH_BYTES)
        return flush_one(e, q, so, op, err);
    return WR_OK;
}

/* Encodes one output row and adds it to the builder of the sink partition its key picks. */
static int
emit_row(wr_engine *e,
         wr_query *q,
         task *t,
         sink_out *so,
         const wr_fmt *okf,
         const wr_fmt *ovf,
         const wr_val *ok,
         const wr_val *ov,
         int64_t when,
         const wr_vec *outv,
         int32_t r,
         int64_t first_offset,
         wr_buf *kb,
         wr_buf *vb,
         wr_err *err)
{
    (void)outv;
    (void)r;
    if (q->sink->ts_col >= 0) {
        /* TIMESTAMP='col' of the sink: the value of that column */
        int vi = 0, ki = 0;
        for (int i = 0; i < q->nout; i++) {
            bool key = is_key_role(q->sink->cols[i].role);
            const wr_val *x = key ? &ok[ki] : &ov[vi];
            if (i == q->sink->ts_col && !x->null)
                when = x->u.i64;
            key ? ki++ : vi++;
        }
    }
    wr_buf_reset(kb);
    wr_buf_reset(vb);
    bool knull = false, vnull = false;
    wr_err eerr = {0};
    if (wr_fmt_encode(okf, ok, kb, &knull, &eerr) != WR_OK ||
        wr_fmt_encode(ovf, ov, vb, &vnull, &eerr) != WR_OK) {
        q->stats.eval_errors++;
        plog(e, q, t->partition, first_offset, eerr.msg);
        return WR_OK;
    }
    return emit_record(e, q, t, so, kb, knull, kb->len, vb, vnull, when, err);
}

/* A row of a push query to its client: a JSON array of the columns. */
static void
push_row(wr_query *q, const wr_val *vals, wr_buf *b)
{
    wr_buf_reset(b);
    wr_buf_put_u8(b, '[');
    for (int i = 0; i < q->nout; i++) {
        if (i)
            wr_buf_put_u8(b, ',');
        wr_json_write_value(b, &vals[i], true);
    }
    wr_buf_put_u8(b, ']');
    if (!wr_buf_ok(b))
        return;
    q->push.row(q->push.arg, (const char *)b->data, b->len);
    q->stats.records_out++;
    if (q->limit >= 0 && ++q->emitted >= q->limit)
        q->ended = true;
}

static int agg_run_batch(wr_engine *e,
                         wr_query *q,
                         task *t,
                         sink_out *so,
                         wr_arena *ra,
                         int64_t first_offset,
                         const char *warning,
                         wr_batch *b,
                         const int64_t *ts,
                         wr_err *err);

/* Processes one input record batch of task t as one column-vector batch: decode every record
   into the columns, filter, project a vector at a time, then encode the surviving rows into
   so's builders. */
static int
run_batch(wr_engine *e,
          wr_query *q,
          task *t,
          const uint8_t *data,
          size_t len,
          sink_out *so,
          wr_arena *ra,
          wr_buf *scratch,
          int64_t *consumed,
          wr_err *err)
{
    wr_rbatch_iter it;
    int rc = wr_rbatch_iter_init(&it, data, len, scratch, MAX_DECOMPRESSED, err);
    if (rc != WR_OK)
        return rc;
    wr_fmt kf, vf, okf, ovf;
    if (make_fmt(ra, q->src, true, &kf) != WR_OK || make_fmt(ra, q->src, false, &vf) != WR_OK ||
        make_fmt(ra, q->sink, true, &okf) != WR_OK || make_fmt(ra, q->sink, false, &ovf) != WR_OK)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    vf.needed = q->val_needed; /* the decoder skips the value columns nothing reads */
    const wr_source *s = q->src;
    int32_t cap = it.remaining > 0 ? it.remaining : 1;
    wr_batch b;
    int64_t *ts = wr_arena_alloc(ra, (size_t)cap * sizeof *ts);
    wr_val *kv = wr_arena_calloc(ra, (size_t)kf.ncols + 1, sizeof *kv);
    wr_val *vv = wr_arena_calloc(ra, (size_t)vf.ncols + 1, sizeof *vv);
    wr_val *ok = wr_arena_calloc(ra, (size_t)okf.ncols + 1, sizeof *ok);
    wr_val *ov = wr_arena_calloc(ra, (size_t)ovf.ncols + 1, sizeof *ov);
    wr_val *allv = wr_arena_calloc(ra, (size_t)q->nout + 1, sizeof *allv);
    wr_vec *outv = wr_arena_calloc(ra, (size_t)q->nout + 1, sizeof *outv);
    if (wr_batch_init(&b, &q->scope, cap, ra) != WR_OK || ts == NULL || kv == NULL || vv == NULL ||
        ok == NULL || ov == NULL || outv == NULL || allv == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int64_t first_offset = -1;
    wr_record rec;
    while (b.n < cap && (rc = wr_rbatch_iter_next(&it, &rec, err)) == 1) {
        if (rec.offset < t->offset)
            continue; /* a batch read from its start: skip what was done */
        if (q->pull && rec.offset >= t->end)
            break; /* a pull query sees what was there when it started */
        t->offset = rec.offset + 1;
        (*consumed)++;
        q->stats.records_in++;
        wr_err derr = {0};
        if (wr_fmt_decode(&kf, rec.key, rec.key_len > 0 ? (size_t)rec.key_len : 0, rec.key_len < 0,
                          kv, ra, &derr) != WR_OK ||
            wr_fmt_decode(&vf, rec.value, rec.value_len > 0 ? (size_t)rec.value_len : 0,
                          rec.value_len < 0, vv, ra, &derr) != WR_OK) {
            q->stats.decode_errors++;
            plog(e, q, t->partition, rec.offset, derr.msg);
            continue;
        }
        if (rec.value_len < 0)
            continue; /* a tombstone: streams ignore them */
        if (first_offset < 0)
            first_offset = rec.offset;
        int32_t r = b.n++;
        for (int i = 0, ki = 0, vi = 0; i < s->ncols; i++)
            if (!is_header_role(s->cols[i].role))
                wr_vec_set(&b.cols[i], r, is_key_role(s->cols[i].role) ? &kv[ki++] : &vv[vi++]);
        fill_headers(s, &b, r, &rec, ra);
        int64_t when = rec.timestamp;
        if (s->ts_col >= 0 && !b.cols[s->ts_col].null[r]) {
            wr_val tv = wr_vec_get(&b.cols[s->ts_col], r);
            if (s->ts_format == NULL) {
                when = tv.u.i64;
            } else {
                char text[128];
                snprintf(text, sizeof text, "%.*s", (int)tv.u.s.len, tv.u.s.p);
                if (!wr_time_parse(text, s->ts_format, NULL, &when)) {
                    /* as ksqlDB: a record whose timestamp cannot be extracted is skipped */
                    char m[300];
                    snprintf(m, sizeof m,
                             "failed to extract the timestamp from '%s' with "
                             "TIMESTAMP_FORMAT '%s'",
                             text, s->ts_format);
                    b.n--;
                    q->stats.decode_errors++;
                    plog(e, q, t->partition, rec.offset, m);
                    continue;
                }
            }
        }
        ts[r] = when;
        wr_val pv[NPSEUDO] = {wr_val_bigint(when), wr_val_int(t->partition),
                              wr_val_bigint(rec.offset)};
        for (int i = 0; i < NPSEUDO; i++)
            wr_vec_set(&b.cols[s->ncols + i], r, &pv[i]);
    }
    if (rc < 0)
        return rc;
    wr_batch_select_all(&b);
    wr_eval_ctx cx = {.arena = ra};
    if (q->where != NULL && b.nsel > 0 && (rc = wr_expr_filter_batch(q->where, &b, &cx)) != WR_OK)
        return wr_err_set(err, rc, "out of memory");
    if (q->agg != NULL)
        return agg_run_batch(e, q, t, so, ra, first_offset, cx.warning, &b, ts, err);
    for (int i = 0; i < q->nout && b.nsel > 0; i++)
        if ((rc = wr_expr_eval_batch(q->out[i], &b, &cx, &outv[i])) != WR_OK)
            return wr_err_set(err, rc, "out of memory");
    if (cx.warning[0]) {
        /* per-row problems (a division by zero, a failed CAST) left those values null */
        q->stats.eval_errors++;
        char m[300];
        snprintf(m, sizeof m, "%s (first problem in the batch from offset %lld)", cx.warning,
                 (long long)first_offset);
        plog(e, q, t->partition, first_offset, m);
    }
    wr_buf kb = WR_BUF_INIT, vb = WR_BUF_INIT;
    int ecap = 64;
    wr_val *elems = q->tfn ? wr_arena_alloc(ra, (size_t)ecap * sizeof *elems) : NULL;
    for (int32_t k = 0; k < b.nsel && rc == WR_OK && !q->ended; k++) {
        int32_t r = b.sel[k];
        /* a table function makes 0..n rows of this one */
        int nrows = 1;
        if (q->tfn != NULL) {
            wr_val arr = wr_vec_get(&outv[q->tfn_out], r);
            wr_fn_ctx fc = {.arena = ra, .ret = q->sink->cols[q->tfn_out].type};
            q->tfn->table(&fc, &arr, 1, elems, ecap, &nrows);
            if (nrows > ecap) {
                ecap = nrows;
                elems = wr_arena_alloc(ra, (size_t)ecap * sizeof *elems);
                if (elems == NULL)
                    return wr_err_set(err, WR_ENOMEM, "out of memory");
                q->tfn->table(&fc, &arr, 1, elems, ecap, &nrows);
            }
        }
        for (int er = 0; er < nrows && rc == WR_OK && !q->ended; er++) {
            for (int i = 0, ki = 0, vi = 0; i < q->nout; i++) {
                wr_val x = i == q->tfn_out ? elems[er] : wr_vec_get(&outv[i], r);
                allv[i] = x;
                if (is_key_role(q->sink->cols[i].role))
                    ok[ki++] = x;
                else
                    ov[vi++] = x;
            }
            if (q->is_push)
                push_row(q, allv, &vb);
            else
                rc = emit_row(e, q, t, so, &okf, &ovf, ok, ov, ts[r], &outv[0], r, first_offset,
                              &kb, &vb, err);
        }
    }
    wr_buf_free(&kb);
    wr_buf_free(&vb);
    return rc;
}

/* Appends partition p's pending output as one batch. */
static int
flush_one(wr_engine *e, wr_query *q, sink_out *so, int32_t p, wr_err *err)
{
    if (so->bb[p].count == 0)
        return WR_OK;
    wr_buf out = WR_BUF_INIT;
    wr_partition *lp;
    int rc = wr_rbatch_builder_finish(&so->bb[p], &out, err);
    if (rc == WR_OK && (rc = wr_log_partition(e->opts.db, q->sink->topic, p, &lp)) != WR_OK)
        wr_err_set(err, rc, "sink topic %s partition %d is missing", q->sink->topic, p);
    wr_log_append_result res;
    if (rc == WR_OK)
        rc = wr_log_append(lp, out.data, out.len, &res, err);
    wr_buf_free(&out);
    return rc;
}

static int
flush_sink(wr_engine *e, wr_query *q, sink_out *so, wr_err *err)
{
    for (int32_t p = 0; p < so->parts; p++) {
        int rc = flush_one(e, q, so, p, err);
        if (rc != WR_OK)
            return rc;
    }
    return WR_OK;
}

/* ---- aggregations ---------------------------------------------------------------------------
 *
 * An aggregation task keeps one state store (a column family with a changelog partition):
 *   row keys:   the GROUP BY values in the order-preserving key codec, then for time windows the
 *               window start, for sessions the session's end and start (8 bytes each), mapped to
 *               the largest event time of the group's rows and each aggregate's state;
 *   STORE_META: the task's next input offset, stream time and EMIT FINAL progress, so that the
 *               state and the input position are committed (and restored) together;
 *   STORE_WIX:  window index entries (window end, row key), which find the windows to emit
 *               (EMIT FINAL) and to expire (RETENTION) without scanning every key.
 */

#define STORE_META 0xf0
#define STORE_WIX  0xf1

static void
task_meta_put(task *t)
{
    uint8_t k = STORE_META;
    wr_buf v = WR_BUF_INIT;
    wr_buf_put_varint(&v, t->offset);
    wr_buf_put_varint(&v, t->stream_time);
    wr_buf_put_varint(&v, t->final_upto);
    if (wr_buf_ok(&v))
        wr_store_put(t->txn, t->store, &k, 1, v.data, v.len);
    wr_buf_free(&v);
}

/* Reads the task's position from its store; false when the store has none (a new query). */
static bool
task_meta_get(wr_engine *e, task *t)
{
    uint8_t k = STORE_META;
    wr_buf v = WR_BUF_INIT;
    bool found = false;
    wr_err err = {0};
    if (wr_store_get(e->opts.state, NULL, t->store, &k, 1, &v, &found, &err) == WR_OK && found) {
        wr_rd r = wr_rd_make(v.data, v.len);
        int64_t off = wr_rd_varint(&r, 10), st = wr_rd_varint(&r, 10), fu = wr_rd_varint(&r, 10);
        if (r.err == WR_OK) {
            t->offset = off;
            t->stream_time = st;
            t->final_upto = fu;
        } else {
            found = false;
        }
    }
    wr_buf_free(&v);
    return found;
}

static char *
changelog_topic(wr_engine *e, const wr_query *q)
{
    char *s = malloc(strlen(e->service_id) + strlen(q->id) + 64);
    if (s != NULL)
        sprintf(s, "%s-%s-Aggregate-Materialize-changelog", e->service_id, q->id);
    return s;
}

/* Opens each task's store, creating the compacted changelog topic, and restores it: the
   changelog tail past the store's offset, or all of it for a new or rebuilt store. The task
   then resumes from the input offset committed with its state. */
static int
open_task_stores(wr_engine *e, wr_query *q, wr_err *err)
{
    if (e->opts.state == NULL)
        return wr_err_set(err, WR_EINVAL,
                          "this aggregation needs state stores, and this engine has no state "
                          "directory");
    char *topic = changelog_topic(e, q);
    if (topic == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = WR_OK;
    if (!q->is_push && wr_log_topic_partitions(e->opts.db, topic) < 1) {
        wr_props c = WR_PROPS_INIT;
        wr_props_set(&c, "cleanup.policy", "compact");
        rc = wr_log_topic_create(e->opts.db, topic, q->ntasks, &c, err);
        wr_props_free(&c);
    }
    for (int i = 0; i < q->ntasks && rc == WR_OK; i++) {
        task *t = &q->tasks[i];
        wr_partition *cl;
        char name[600];
        snprintf(name, sizeof name, "%s#Aggregate-Materialize#%d", q->id, t->partition);
        if (q->is_push) { /* a client's query: its state lives as long as it, no changelog */
            cl = NULL;
        } else if ((rc = wr_log_partition(e->opts.db, topic, t->partition, &cl)) != WR_OK) {
            wr_err_set(err, rc, "changelog %s has no partition %d", topic, t->partition);
            break;
        }
        if ((rc = wr_store_open(e->opts.state, name, cl, &t->store, err)) != WR_OK)
            break;
        int64_t n = 0;
        if ((rc = wr_store_restore(e->opts.state, t->store, &n, err)) != WR_OK)
            break;
        q->stats.restored += n;
        t->stream_time = INT64_MIN;
        t->final_upto = INT64_MIN;
        task_meta_get(e, t);
    }
    if (rc == WR_OK && q->stats.restored > 0)
        wr_log(WR_LOG_INFO, "engine", "query %s: %lld changelog records restored", q->id,
               (long long)q->stats.restored);
    free(topic);
    return rc;
}

/* Drops a terminated query's stores and changelog topic. */
static void
drop_task_stores(wr_engine *e, wr_query *q)
{
    if (q->agg == NULL || e->opts.state == NULL)
        return;
    for (int i = 0; i < q->ntasks; i++)
        if (q->tasks[i].store != NULL) {
            wr_err err = {0};
            (void)wr_store_drop(e->opts.state, q->tasks[i].store, &err);
            q->tasks[i].store = NULL;
        }
    char *topic = changelog_topic(e, q);
    if (topic != NULL && !e->replaying && !q->is_push)
        (void)wr_log_topic_delete(e->opts.db, topic, NULL);
    free(topic);
}

/* What a decoded row of an aggregation store holds. */
typedef struct aggrow {
    wr_val *keys;     /* the GROUP BY values */
    int64_t ws, we;   /* the window (windowed only) */
    int64_t maxts;    /* the largest event time of its rows */
    wr_aggst *states; /* one per aggregate */
} aggrow;

/* Decodes the row under key k (value v) of an aggregation store into r (arrays provided). */
static bool
agg_decode(const aggexec *ax,
           const uint8_t *k,
           size_t kl,
           const uint8_t *v,
           size_t vl,
           aggrow *r,
           wr_arena *a)
{
    wr_rd kr = wr_rd_make(k, kl);
    for (int g = 0; g < ax->ngroup; g++)
        wr_key_decode(&kr, ax->gtypes[g], &r->keys[g], a);
    if (ax->windowed) {
        const uint8_t *p = wr_rd_take(&kr, ax->win.kind == WR_WIN_SESSION ? 16 : 8);
        if (p != NULL && ax->win.kind == WR_WIN_SESSION) {
            r->we = wr_key_get_i64(p);
            r->ws = wr_key_get_i64(p + 8);
        } else if (p != NULL) {
            r->ws = wr_key_get_i64(p);
            r->we = r->ws + ax->win.size_ms;
        }
    }
    wr_rd vr = wr_rd_make(v, vl);
    r->maxts = wr_rd_varint(&vr, 10);
    for (int i = 0; i < ax->nagg; i++)
        wr_agg_decode(&ax->aggs[i], &r->states[i], &vr, a);
    return kr.err == WR_OK && vr.err == WR_OK && wr_rd_left(&kr) == 0;
}

static void
agg_encode_value(const aggexec *ax, const aggrow *r, wr_buf *b)
{
    wr_buf_reset(b);
    wr_buf_put_varint(b, r->maxts);
    for (int i = 0; i < ax->nagg; i++)
        wr_agg_encode(&ax->aggs[i], &r->states[i], b);
}

static void
agg_encode_key(const aggexec *ax, const wr_val *keys, int64_t ws, int64_t we, wr_buf *b)
{
    wr_buf_reset(b);
    for (int g = 0; g < ax->ngroup; g++)
        wr_key_encode(b, ax->gtypes[g], &keys[g]);
    if (ax->windowed && ax->win.kind == WR_WIN_SESSION) {
        wr_key_put_i64(b, we);
        wr_key_put_i64(b, ws);
    } else if (ax->windowed) {
        wr_key_put_i64(b, ws);
    }
}

static void
wix_key(const wr_buf *rowkey, int64_t we, wr_buf *b)
{
    wr_buf_reset(b);
    wr_buf_put_u8(b, STORE_WIX);
    wr_key_put_i64(b, we);
    wr_buf_append(b, rowkey->data, rowkey->len);
}

/* The post-aggregation row of r (group keys, results, window bounds), into post. */
static void
agg_post_row(const aggexec *ax, const aggrow *r, wr_val *post, wr_arena *a)
{
    int n = 0;
    for (int g = 0; g < ax->ngroup; g++)
        post[n++] = r->keys[g];
    for (int i = 0; i < ax->nagg; i++)
        post[n++] = wr_agg_result(&ax->aggs[i], &r->states[i], a);
    if (ax->windowed) {
        post[n++] = wr_val_bigint(r->ws);
        post[n++] = wr_val_bigint(r->we);
    }
}

/* Evaluates the query's output columns over a post-aggregation row: false when HAVING rejects
   it. allv: the sink's columns in order; ok/ov: split into key and value. */
static bool
agg_output(wr_query *q,
           const wr_val *post,
           wr_val *allv,
           wr_val *ok,
           wr_val *ov,
           wr_arena *a,
           char *warning,
           size_t wlen)
{
    wr_eval_ctx cx = {.arena = a, .row = post};
    bool keep = true;
    if (q->agg->having != NULL) {
        wr_val h;
        wr_expr_eval(q->agg->having, &cx, &h);
        keep = !h.null && h.u.b;
    }
    for (int i = 0, ki = 0, vi = 0; i < q->nout; i++) {
        wr_expr_eval(q->out[i], &cx, &allv[i]);
        if (is_key_role(q->sink->cols[i].role))
            ok[ki++] = allv[i];
        else
            ov[vi++] = allv[i];
    }
    if (cx.warning[0] && warning[0] == 0)
        snprintf(warning, wlen, "%s", cx.warning);
    return keep;
}

typedef struct aggctx {
    wr_engine *e;
    wr_query *q;
    task *t;
    sink_out *so;
    const wr_fmt *okf, *ovf;
    wr_arena *a;
    wr_val *post, *allv, *ok, *ov;
    wr_buf kb, vb;
    int64_t first_offset;
    char warning[200];
} aggctx;

static int
aggctx_init(aggctx *c, wr_engine *e, wr_query *q, task *t, sink_out *so, wr_arena *a)
{
    c->e = e;
    c->q = q;
    c->t = t;
    c->so = so;
    c->a = a;
    c->kb = (wr_buf)WR_BUF_INIT;
    c->vb = (wr_buf)WR_BUF_INIT;
    wr_fmt *okf = wr_arena_calloc(a, 2, sizeof *okf);
    if (okf == NULL || make_fmt(a, q->sink, true, &okf[0]) != WR_OK ||
        make_fmt(a, q->sink, false, &okf[1]) != WR_OK)
        return WR_ENOMEM;
    c->okf = &okf[0];
    c->ovf = &okf[1];
    c->post = wr_arena_calloc(a, (size_t)q->agg->npost + 1, sizeof *c->post);
    c->allv = wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *c->allv);
    c->ok = wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *c->ok);
    c->ov = wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *c->ov);
    return c->post && c->allv && c->ok && c->ov ? WR_OK : WR_ENOMEM;
}

/* Frees c's buffers; per-row problems (a failed CAST) go to the processing log. */
static void
agg_warn(aggctx *c)
{
    if (c->warning[0]) {
        c->q->stats.eval_errors++;
        char m[300];
        snprintf(m, sizeof m, "%s (first problem in the batch from offset %lld)", c->warning,
                 (long long)c->first_offset);
        plog(c->e, c->q, c->t->partition, c->first_offset, m);
    }
    wr_buf_free(&c->kb);
    wr_buf_free(&c->vb);
}

/* Sends row r (or, gone, a tombstone for its key) to the sink or the push client. */
static int
agg_emit(aggctx *c, const aggrow *r, bool gone, wr_err *err)
{
    wr_query *q = c->q;
    agg_post_row(q->agg, r, c->post, c->a);
    bool keep = agg_output(q, c->post, c->allv, c->ok, c->ov, c->a, c->warning, sizeof c->warning);
    if (q->is_push) {
        if (keep && !gone)
            push_row(q, c->allv, &c->vb);
        return WR_OK;
    }
    wr_buf_reset(&c->kb);
    wr_buf_reset(&c->vb);
    bool knull = false, vnull = gone || !keep;
    wr_err eerr = {0};
    if (wr_fmt_encode(c->okf, c->ok, &c->kb, &knull, &eerr) != WR_OK ||
        (!vnull && wr_fmt_encode(c->ovf, c->ov, &c->vb, &vnull, &eerr) != WR_OK)) {
        q->stats.eval_errors++;
        plog(c->e, q, c->t->partition, c->first_offset, eerr.msg);
        return WR_OK;
    }
    size_t kh = c->kb.len;
    if (q->agg->windowed && !knull) { /* Kafka Streams' windowed key: key, start (time windows)
                                         or key, end, start (sessions), big-endian */
        if (q->agg->win.kind == WR_WIN_SESSION)
            wr_buf_put_be64(&c->kb, (uint64_t)r->we);
        wr_buf_put_be64(&c->kb, (uint64_t)r->ws);
    }
    return emit_record(c->e, q, c->t, c->so, &c->kb, knull, kh, &c->vb, vnull, r->maxts, err);
}

static int
agg_get(aggctx *c, const wr_buf *key, aggrow *r, bool *found, wr_buf *tmp, wr_err *err)
{
    const aggexec *ax = c->q->agg;
    int rc = wr_store_get(c->e->opts.state, c->t->txn, c->t->store, key->data, key->len, tmp, found,
                          err);
    if (rc != WR_OK)
        return rc;
    if (*found && !agg_decode(ax, key->data, key->len, tmp->data, tmp->len, r, c->a))
        return wr_err_set(err, WR_ECORRUPT, "a row of store %s cannot be decoded",
                          wr_store_name(c->t->store));
    if (!*found) {
        r->maxts = INT64_MIN;
        for (int i = 0; i < ax->nagg; i++)
            wr_agg_init(&ax->aggs[i], &r->states[i]);
    }
    return WR_OK;
}

static int
agg_put(aggctx *c, const wr_buf *key, const aggrow *r, bool new_window, wr_buf *tmp)
{
    const aggexec *ax = c->q->agg;
    agg_encode_value(ax, r, tmp);
    int rc = wr_store_put(c->t->txn, c->t->store, key->data, key->len, tmp->data, tmp->len);
    if (rc == WR_OK && new_window) {
        wix_key(key, r->we, tmp);
        rc = wr_store_put(c->t->txn, c->t->store, tmp->data, tmp->len, "", 0);
    }
    return rc;
}

static int
agg_del(aggctx *c, const wr_buf *key, int64_t we, wr_buf *tmp)
{
    int rc = wr_store_delete(c->t->txn, c->t->store, key->data, key->len);
    wix_key(key, we, tmp);
    if (rc == WR_OK)
        rc = wr_store_delete(c->t->txn, c->t->store, tmp->data, tmp->len);
    return rc;
}

static aggrow *
aggrow_new(const aggexec *ax, wr_arena *a)
{
    aggrow *r = wr_arena_calloc(a, 1, sizeof *r);
    if (r != NULL) {
        r->keys = wr_arena_calloc(a, (size_t)ax->ngroup + 1, sizeof *r->keys);
        r->states = wr_arena_calloc(a, (size_t)ax->nagg + 1, sizeof *r->states);
        if (r->keys == NULL || r->states == NULL)
            r = NULL;
    }
    return r;
}

/* One row joins its session: every session of its key within the gap of it merges with it. */
static int
agg_session(
    aggctx *c, const wr_val *gk, const wr_val *args, int64_t ts, int64_t offset, wr_err *err)
{
    const aggexec *ax = c->q->agg;
    int64_t gap = ax->win.size_ms, close = c->t->stream_time - ax->grace;
    aggrow *m = aggrow_new(ax, c->a), *o = aggrow_new(ax, c->a);
    if (m == NULL || o == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    memcpy(m->keys, gk, (size_t)ax->ngroup * sizeof *gk);
    m->ws = m->we = ts;
    m->maxts = ts;
    for (int i = 0; i < ax->nagg; i++) {
        wr_agg_init(&ax->aggs[i], &m->states[i]);
        wr_agg_add(&ax->aggs[i], &m->states[i], args ? &args[i] : NULL, offset, c->a);
    }
    /* sessions of this key ending at or after ts - gap */
    wr_buf lo = WR_BUF_INIT, pre = WR_BUF_INIT, key = WR_BUF_INIT, tmp = WR_BUF_INIT;
    for (int g = 0; g < ax->ngroup; g++)
        wr_key_encode(&pre, ax->gtypes[g], &gk[g]);
    wr_buf_append(&lo, pre.data, pre.len);
    wr_key_put_i64(&lo, ts - gap);
    uint8_t *hi = wr_arena_alloc(c->a, pre.len + 1);
    size_t hl = hi && wr_buf_ok(&pre) ? wr_store_prefix_end(pre.data, pre.len, hi) : 0;
    wr_store_iter *it = wr_store_iter_open(c->e->opts.state, c->t->txn, c->t->store, lo.data,
                                           lo.len, hl ? hi : NULL, hl);
    int rc = it ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
    int nold = 0;
    wr_buf *olds = NULL;
    int64_t *old_we = NULL, *old_ws = NULL;
    const uint8_t *k, *v;
    size_t kl, vl;
    while (rc == WR_OK && wr_store_iter_next(it, &k, &kl, &v, &vl)) {
        if (!agg_decode(ax, k, kl, v, vl, o, c->a)) {
            rc = wr_err_set(err, WR_ECORRUPT, "a session of store %s cannot be decoded",
                            wr_store_name(c->t->store));
            break;
        }
        if (o->ws > ts + gap)
            continue; /* starts after the gap */
        m->ws = o->ws < m->ws ? o->ws : m->ws;
        m->we = o->we > m->we ? o->we : m->we;
        m->maxts = o->maxts > m->maxts ? o->maxts : m->maxts;
        for (int i = 0; i < ax->nagg; i++)
            wr_agg_merge(&ax->aggs[i], &m->states[i], &o->states[i], c->a);
        wr_buf *no = wr_arena_alloc(c->a, ((size_t)nold + 1) * sizeof *no);
        int64_t *nw = wr_arena_alloc(c->a, ((size_t)nold + 1) * sizeof *nw);
        int64_t *ns = wr_arena_alloc(c->a, ((size_t)nold + 1) * sizeof *ns);
        aggrow *copy = aggrow_new(ax, c->a);
        if (no == NULL || nw == NULL || ns == NULL || copy == NULL) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
            break;
        }
        if (nold > 0) {
            memcpy(no, olds, (size_t)nold * sizeof *no);
            memcpy(nw, old_we, (size_t)nold * sizeof *nw);
            memcpy(ns, old_ws, (size_t)nold * sizeof *ns);
        }
        no[nold] = (wr_buf)WR_BUF_INIT;
        wr_buf_append(&no[nold], k, kl);
        nw[nold] = o->we;
        ns[nold] = o->ws;
        olds = no;
        old_we = nw;
        old_ws = ns;
        nold++;
        o = copy; /* the states merged into m stay valid */
    }
    wr_err ierr = {0};
    if (wr_store_iter_close(it, &ierr) != WR_OK && rc == WR_OK) {
        *err = ierr;
        rc = ierr.code;
    }
    if (rc == WR_OK && m->we < close) {
        c->q->stats.late++; /* the merged session closed already */
    } else if (rc == WR_OK) {
        for (int i = 0; i < nold && rc == WR_OK; i++) {
            if ((rc = agg_del(c, &olds[i], old_we[i], &tmp)) == WR_OK && !ax->final &&
                (old_ws[i] != m->ws || old_we[i] != m->we)) {
                /* the merged-away session's tombstone */
                aggrow *d = aggrow_new(ax, c->a);
                if (d == NULL) {
                    rc = wr_err_set(err, WR_ENOMEM, "out of memory");
                    break;
                }
                memcpy(d->keys, gk, (size_t)ax->ngroup * sizeof *gk);
                d->ws = old_ws[i];
                d->we = old_we[i];
                d->maxts = ts;
                for (int j = 0; j < ax->nagg; j++)
                    wr_agg_init(&ax->aggs[j], &d->states[j]);
                rc = agg_emit(c, d, true, err);
            }
        }
        agg_encode_key(ax, m->keys, m->ws, m->we, &key);
        if (rc == WR_OK)
            rc = agg_put(c, &key, m, true, &tmp);
        if (rc == WR_OK && !ax->final)
            rc = agg_emit(c, m, false, err);
    }
    for (int i = 0; i < nold; i++)
        wr_buf_free(&olds[i]);
    wr_buf_free(&lo);
    wr_buf_free(&pre);
    wr_buf_free(&key);
    wr_buf_free(&tmp);
    return rc;
}

/* The aggregation step of a batch: each selected row updates the state of its group (and
   window) and, unless EMIT FINAL, emits the group's new row. */
static int
agg_batch(aggctx *c, wr_batch *b, const int64_t *ts, wr_err *err)
{
    wr_query *q = c->q;
    const aggexec *ax = q->agg;
    const wr_source *s = q->src;
    wr_eval_ctx cx = {.arena = c->a};
    wr_vec *gv = wr_arena_calloc(c->a, (size_t)ax->ngroup + 1, sizeof *gv);
    wr_vec *av = wr_arena_calloc(c->a, (size_t)ax->nagg + 1, sizeof *av);
    wr_val *gk = wr_arena_calloc(c->a, (size_t)ax->ngroup + 1, sizeof *gk);
    wr_val *args = wr_arena_calloc(c->a, (size_t)ax->nagg + 1, sizeof *args);
    aggrow *r = aggrow_new(ax, c->a);
    if (gv == NULL || av == NULL || gk == NULL || args == NULL || r == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = WR_OK;
    for (int g = 0; g < ax->ngroup && rc == WR_OK; g++)
        rc = wr_expr_eval_batch(ax->group[g], b, &cx, &gv[g]);
    for (int i = 0; i < ax->nagg && rc == WR_OK; i++)
        if (ax->args[i] != NULL)
            rc = wr_expr_eval_batch(ax->args[i], b, &cx, &av[i]);
    if (rc != WR_OK)
        return wr_err_set(err, rc, "out of memory");
    if (cx.warning[0])
        snprintf(c->warning, sizeof c->warning, "%s", cx.warning);
    wr_buf key = WR_BUF_INIT, tmp = WR_BUF_INIT;
    const wr_vec *offs = &b->cols[s->ncols + 2]; /* ROWOFFSET */
    for (int32_t k = 0; k < b->nsel && rc == WR_OK; k++) {
        int32_t row = b->sel[k];
        bool null_key = false;
        for (int g = 0; g < ax->ngroup; g++) {
            gk[g] = wr_vec_get(&gv[g], row);
            null_key |= gk[g].null;
        }
        if (null_key) { /* as ksqlDB: a row whose GROUP BY value is null is dropped */
            q->stats.null_keys++;
            continue;
        }
        for (int i = 0; i < ax->nagg; i++)
            args[i] = ax->args[i] ? wr_vec_get(&av[i], row) : wr_val_null(NULL);
        int64_t when = ts[row], offset = wr_vec_get(offs, row).u.i64;
        if (when > c->t->stream_time)
            c->t->stream_time = when;
        if (ax->windowed && ax->win.kind == WR_WIN_SESSION) {
            rc = agg_session(c, gk, args, when, offset, err);
            continue;
        }
        /* the windows the row falls in: one for tumbling, size/advance for hopping; none for
           negative times (as Kafka Streams) */
        int64_t adv = ax->win.kind == WR_WIN_HOPPING ? ax->win.advance_ms : ax->win.size_ms;
        int64_t first = 0, last = 0;
        if (ax->windowed) {
            if (when < 0) {
                q->stats.late++;
                continue;
            }
            int64_t lo = when - ax->win.size_ms + adv;
            first = (lo > 0 ? lo : 0) / adv * adv;
            last = when;
        }
        for (int64_t ws = first; ws <= last && rc == WR_OK; ws += ax->windowed ? adv : 1) {
            int64_t we = ws + ax->win.size_ms;
            if (ax->windowed && we + ax->grace <= c->t->stream_time) {
                q->stats.late++; /* the window closed: later than its grace period */
                continue;
            }
            agg_encode_key(ax, gk, ws, we, &key);
            bool found;
            if ((rc = agg_get(c, &key, r, &found, &tmp, err)) != WR_OK)
                break;
            memcpy(r->keys, gk, (size_t)ax->ngroup * sizeof *gk);
            r->ws = ws;
            r->we = we;
            if (when > r->maxts)
                r->maxts = when;
            for (int i = 0; i < ax->nagg; i++)
                wr_agg_add(&ax->aggs[i], &r->states[i], ax->args[i] ? &args[i] : NULL, offset,
                           c->a);
            if ((rc = agg_put(c, &key, r, ax->windowed && !found, &tmp)) != WR_OK) {
                wr_err_set(err, rc, "out of memory");
                break;
            }
            if (!ax->final)
                rc = agg_emit(c, r, false, err);
        }
    }
    wr_buf_free(&key);
    wr_buf_free(&tmp);
    return rc;
}

static int
agg_run_batch(wr_engine *e,
              wr_query *q,
              task *t,
              sink_out *so,
              wr_arena *ra,
              int64_t first_offset,
              const char *warning,
              wr_batch *b,
              const int64_t *ts,
              wr_err *err)
{
    aggctx c = {0};
    if (aggctx_init(&c, e, q, t, so, ra) != WR_OK)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    c.first_offset = first_offset;
    snprintf(c.warning, sizeof c.warning, "%s", warning);
    int rc = b->nsel > 0 ? agg_batch(&c, b, ts, err) : WR_OK;
    agg_warn(&c);
    return rc;
}

/* After a run: EMIT FINAL's closed windows go out, windows past their retention go away. */
static int
agg_windows(aggctx *c, wr_err *err)
{
    const aggexec *ax = c->q->agg;
    task *t = c->t;
    if (!ax->windowed || t->stream_time == INT64_MIN)
        return WR_OK;
    int rc = WR_OK;
    aggrow *r = aggrow_new(ax, c->a);
    if (r == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_buf lo = WR_BUF_INIT, hi = WR_BUF_INIT, tmp = WR_BUF_INIT, rowkey = WR_BUF_INIT;
    for (int pass = 0; pass < 2 && rc == WR_OK; pass++) {
        int64_t from, to; /* window ends in [from, to) */
        if (pass == 0) {  /* closed: time windows when end + grace <= stream time; sessions
                             when end + grace < stream time */
            if (!ax->final)
                continue;
            from = t->final_upto;
            to = t->stream_time - ax->grace + (ax->win.kind == WR_WIN_SESSION ? 0 : 1);
        } else {
            from = INT64_MIN;
            to = t->stream_time - ax->retention;
        }
        if (to <= from)
            continue;
        wr_buf_reset(&lo);
        wr_buf_reset(&hi);
        wr_buf_put_u8(&lo, STORE_WIX);
        wr_key_put_i64(&lo, from);
        wr_buf_put_u8(&hi, STORE_WIX);
        wr_key_put_i64(&hi, to);
        wr_store_iter *it = wr_store_iter_open(c->e->opts.state, t->txn, t->store, lo.data, lo.len,
                                               hi.data, hi.len);
        if (it == NULL)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        /* collect first: the iterator sees the transaction, which the loop changes */
        wr_buf keys = WR_BUF_INIT;
        const uint8_t *k, *v;
        size_t kl, vl;
        while (wr_store_iter_next(it, &k, &kl, &v, &vl)) {
            wr_buf_put_uvarint(&keys, kl);
            wr_buf_append(&keys, k, kl);
        }
        rc = wr_store_iter_close(it, err);
        wr_rd kr = wr_rd_make(keys.data, keys.len);
        while (rc == WR_OK && wr_rd_left(&kr) > 0) {
            size_t n = (size_t)wr_rd_uvarint(&kr, 10);
            const uint8_t *ik = wr_rd_take(&kr, n);
            if (ik == NULL || n < 9)
                break;
            wr_buf_reset(&rowkey);
            wr_buf_append(&rowkey, ik + 9, n - 9);
            bool found;
            if ((rc = agg_get(c, &rowkey, r, &found, &tmp, err)) != WR_OK)
                break;
            if (pass == 0 && found) {
                rc = agg_emit(c, r, false, err);
            } else if (pass == 1) {
                rc = agg_del(c, &rowkey, wr_key_get_i64(ik + 1), &tmp);
            }
        }
        wr_buf_free(&keys);
        if (pass == 0)
            t->final_upto = to;
    }
    wr_buf_free(&lo);
    wr_buf_free(&hi);
    wr_buf_free(&tmp);
    wr_buf_free(&rowkey);
    return rc;
}

static int
run_task(wr_engine *e, wr_query *q, task *t, int64_t *records, wr_err *err)
{
    wr_partition *in;
    int rc = wr_log_partition(e->opts.db, q->src->topic, t->partition, &in);
    if (rc != WR_OK)
        return WR_OK; /* the source topic went away: nothing to do */
    if (t->offset < wr_log_start_offset(in))
        t->offset = wr_log_start_offset(in);
    if (t->offset >= wr_log_end_offset(in))
        return WR_OK;
    if (q->is_push && (q->ended || (q->pull && t->offset >= t->end) || !q->push.ready(q->push.arg)))
        return WR_OK; /* done, or the client is not reading fast enough: later */
    int32_t parts = q->is_push ? 1 : wr_log_topic_partitions(e->opts.db, q->sink->topic);
    if (parts < 1)
        return wr_err_set(err, WR_ENOENT, "sink topic %s is missing", q->sink->topic);
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    wr_log_read_result res;
    rc = wr_log_read(in, t->offset, READ_BYTES, &data, &res, err);
    sink_out so = {.parts = parts, .bb = calloc((size_t)parts, sizeof(wr_rbatch_builder))};
    wr_arena *ra = wr_arena_create(0);
    if (so.bb == NULL || ra == NULL)
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    for (int32_t p = 0; so.bb != NULL && p < parts; p++)
        wr_rbatch_builder_init(&so.bb[p], WR_COMPRESSION_NONE);
    int64_t start = t->offset, stream_time = t->stream_time, final_upto = t->final_upto;
    int64_t t0 = wr_clock_mono_ns();
    size_t off = 0;
    if (q->agg != NULL && rc == WR_OK && (t->txn = wr_state_txn_begin(e->opts.state)) == NULL)
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    while (rc == WR_OK && off < data.len) {
        size_t n = wr_rbatch_size(data.data + off, data.len - off);
        if (n == 0)
            break;
        rc = run_batch(e, q, t, data.data + off, n, &so, ra, &scratch, records, err);
        if (q->ended)
            break;
        off += n;
        wr_arena_reset(ra);
    }
    if (q->agg != NULL && rc == WR_OK) {
        /* closed windows out, expired ones away, the input position with the state */
        aggctx c = {0};
        if (aggctx_init(&c, e, q, t, &so, ra) != WR_OK)
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        if (rc == WR_OK)
            rc = agg_windows(&c, err);
        agg_warn(&c);
        if (rc == WR_OK && !q->is_push)
            task_meta_put(t);
    }
    if (rc == WR_OK && !q->is_push)
        rc = flush_sink(e, q, &so, err);
    if (q->agg != NULL && t->txn != NULL) {
        /* after the outputs (at-least-once for them), before the input offset; the state and
           the input position it reflects are one commit */
        if (rc == WR_OK)
            rc = wr_state_txn_commit(t->txn, wr_clock_wall_ms(), err);
        else
            wr_state_txn_abort(t->txn);
        t->txn = NULL;
        if (rc != WR_OK) { /* nothing of this run counts: it runs again */
            t->offset = start;
            t->stream_time = stream_time;
            t->final_upto = final_upto;
        }
    }
    q->stats.busy_ns += wr_clock_mono_ns() - t0;
    q->stats.reads++;
    if (rc == WR_OK && t->offset != start && !q->is_push)
        rc = commit_offset(e, q->id, t->partition, t->offset, err);
    for (int32_t p = 0; so.bb != NULL && p < parts; p++)
        wr_rbatch_builder_free(&so.bb[p]);
    free(so.bb);
    wr_arena_destroy(ra);
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    return rc;
}

/* Ends a push query: its client hears why (NULL: it is complete), then it is freed. */
static void
push_end(wr_engine *e, wr_query *q, const char *why)
{
    for (wr_query **pp = &e->pushes; *pp != NULL; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    q->push.done(q->push.arg, why);
    drop_task_stores(e, q);
    pulltab_free(q->ptab);
    push_free(q);
}

/* ---- pull queries over tables -----------------------------------------------------------------
 *
 * A pull query over a table made by CREATE TABLE ... AS SELECT answers from the writing query's
 * state stores: each task's store is read through an iterator (a consistent snapshot of that
 * partition's committed state), a bounded number of rows per poll, so a large scan neither blocks
 * the query that writes the table nor buffers the table in memory. A condition on the key
 * (=, IN, <, <=, >, >=, BETWEEN) narrows the scan to key ranges of the order-preserving store
 * keys; anything else (window bounds, value columns) filters the rows read.
 */

#define PULL_ROWS_PER_POLL 2000
#define PULL_MAX_RANGES    1000

typedef struct keyrange {
    wr_buf lo, hi; /* [lo, hi); empty hi: up to the end of the rows */
} keyrange;

struct pulltab {
    wr_query *writer;
    wr_scope scope; /* the table's columns, then WINDOWSTART, WINDOWEND when windowed */
    wr_cexpr *where;
    int nranges, range, task;
    keyrange *ranges;
    wr_store_iter *it;
};

static void
pulltab_free(struct pulltab *p)
{
    if (p == NULL)
        return;
    wr_store_iter_close(p->it, NULL);
    p->it = NULL;
    for (int i = 0; i < p->nranges; i++) {
        wr_buf_free(&p->ranges[i].lo);
        wr_buf_free(&p->ranges[i].hi);
    }
    free(p->ranges);
    p->ranges = NULL;
    p->nranges = 0;
}

/* Adds the key range of encoded key k for operator op (EQ, LT, LE, GT, GE). */
static int
add_range(struct pulltab *p, const wr_buf *k, wr_op op)
{
    if (p->nranges == PULL_MAX_RANGES)
        return WR_ERANGE;
    keyrange *nr = realloc(p->ranges, ((size_t)p->nranges + 1) * sizeof *nr);
    if (nr == NULL)
        return WR_ENOMEM;
    p->ranges = nr;
    keyrange *r = &p->ranges[p->nranges++];
    *r = (keyrange){WR_BUF_INIT, WR_BUF_INIT};
    uint8_t *end = malloc(k->len + 1);
    size_t el = end ? wr_store_prefix_end(k->data, k->len, end) : 0;
    if (op == WR_OP_GT && el > 0)
        wr_buf_append(&r->lo, end, el);
    else if (op == WR_OP_EQ || op == WR_OP_GE || op == WR_OP_GT)
        wr_buf_append(&r->lo, k->data, k->len);
    else
        wr_buf_put_u8(&r->lo, 0x01); /* from the first non-null key */
    if ((op == WR_OP_EQ || op == WR_OP_LE) && el > 0)
        wr_buf_append(&r->hi, end, el);
    else if (op == WR_OP_LT)
        wr_buf_append(&r->hi, k->data, k->len);
    free(end);
    return wr_buf_ok(&r->lo) && wr_buf_ok(&r->hi) ? WR_OK : WR_ENOMEM;
}

/* The store key of constant expression x when it has the key's type. */
static bool
const_key(const wr_cexpr *x, const wr_sql_type *kt, wr_buf *out)
{
    if (!wr_expr_constant(x) || x->type == NULL || !wr_type_equal(x->type, kt))
        return false;
    wr_arena *a = wr_arena_create(0);
    if (a == NULL)
        return false;
    wr_eval_ctx cx = {.arena = a};
    wr_val c;
    wr_expr_eval(x, &cx, &c);
    wr_buf_reset(out);
    if (!c.null)
        wr_key_encode(out, kt, &c);
    wr_arena_destroy(a);
    return !c.null && wr_buf_ok(out);
}

/* Finds key ranges in the conjuncts of w over key column kcol; false when none pins the key. */
static bool
plan_ranges(struct pulltab *p, const wr_cexpr *w, int kcol, const wr_sql_type *kt)
{
    if (w == NULL)
        return false;
    if (w->op == WR_C_AND)
        return plan_ranges(p, w->a, kcol, kt) || plan_ranges(p, w->b, kcol, kt);
    wr_buf k = WR_BUF_INIT;
    bool ok = false;
    if (w->op == WR_C_CMP && !w->negated && w->a->op == WR_C_COLUMN && w->a->col == kcol &&
        const_key(w->b, kt, &k) &&
        (w->aop == WR_OP_EQ || w->aop == WR_OP_LT || w->aop == WR_OP_LE || w->aop == WR_OP_GT ||
         w->aop == WR_OP_GE))
        ok = add_range(p, &k, w->aop) == WR_OK;
    if (w->op == WR_C_BETWEEN && !w->negated && w->a->op == WR_C_COLUMN && w->a->col == kcol &&
        const_key(w->b, kt, &k)) {
        wr_buf k2 = WR_BUF_INIT;
        uint8_t *end = const_key(w->c, kt, &k2) ? malloc(k2.len + 1) : NULL;
        size_t el = end ? wr_store_prefix_end(k2.data, k2.len, end) : 0;
        if (el > 0 && add_range(p, &k, WR_OP_GE) == WR_OK) {
            wr_buf_reset(&p->ranges[p->nranges - 1].hi);
            wr_buf_append(&p->ranges[p->nranges - 1].hi, end, el);
            ok = true;
        }
        free(end);
        wr_buf_free(&k2);
    }
    if (w->op == WR_C_IN && !w->negated && w->a->op == WR_C_COLUMN && w->a->col == kcol) {
        ok = true;
        for (int i = 0; i < w->n && ok; i++)
            ok = const_key(w->args[i], kt, &k);
        int first = p->nranges;
        for (int i = 0; i < w->n && ok; i++)
            ok = const_key(w->args[i], kt, &k) && add_range(p, &k, WR_OP_EQ) == WR_OK;
        if (!ok) /* drop a partial list */
            while (p->nranges > first) {
                p->nranges--;
                wr_buf_free(&p->ranges[p->nranges].lo);
                wr_buf_free(&p->ranges[p->nranges].hi);
            }
    }
    wr_buf_free(&k);
    return ok;
}

/* One table row from a store entry of the writer: the table's columns (the writer's outputs),
   then the window bounds, into row; false when the writer's HAVING leaves it out. */
static bool
pull_table_row(
    wr_query *w, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, wr_val *row, wr_arena *a)
{
    const aggexec *ax = w->agg;
    aggrow *r = aggrow_new(ax, a);
    wr_val *post = wr_arena_calloc(a, (size_t)ax->npost + 1, sizeof *post);
    wr_val *ok = wr_arena_calloc(a, (size_t)w->nout + 1, sizeof *ok);
    wr_val *ov = wr_arena_calloc(a, (size_t)w->nout + 1, sizeof *ov);
    if (r == NULL || post == NULL || ok == NULL || ov == NULL ||
        !agg_decode(ax, k, kl, v, vl, r, a))
        return false;
    agg_post_row(ax, r, post, a);
    char warning[8] = "";
    if (!agg_output(w, post, row, ok, ov, a, warning, sizeof warning))
        return false;
    if (ax->windowed) {
        row[w->nout] = wr_val_bigint(r->ws);
        row[w->nout + 1] = wr_val_bigint(r->we);
    }
    return true;
}

/* Reads up to PULL_ROWS_PER_POLL rows of a pull query over a table; ends it when done. */
static void
pull_table_step(wr_engine *e, wr_query *q)
{
    struct pulltab *p = q->ptab;
    wr_query *w = p->writer;
    wr_arena *a = wr_arena_create(0);
    wr_val *row = a ? wr_arena_calloc(a, (size_t)p->scope.n + 1, sizeof *row) : NULL;
    wr_val *outv = a ? wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *outv) : NULL;
    wr_buf b = WR_BUF_INIT;
    const char *fail = row && outv ? NULL : "out of memory";
    int n = 0;
    while (fail == NULL && !q->ended && n < PULL_ROWS_PER_POLL && q->push.ready(q->push.arg)) {
        if (p->it == NULL) {
            if (p->task >= w->ntasks) {
                p->task = 0;
                if (++p->range >= (p->nranges > 0 ? p->nranges : 1))
                    break;
            }
            const keyrange *r = p->nranges > 0 ? &p->ranges[p->range] : NULL;
            static const uint8_t first = 0x00, meta = STORE_META;
            p->it = wr_store_iter_open(e->opts.state, NULL, w->tasks[p->task].store,
                                       r ? r->lo.data : &first, r ? r->lo.len : 1,
                                       r && r->hi.len ? r->hi.data : &meta,
                                       r && r->hi.len ? r->hi.len : 1);
            if (p->it == NULL) {
                fail = "out of memory";
                break;
            }
        }
        const uint8_t *k, *v;
        size_t kl, vl;
        if (!wr_store_iter_next(p->it, &k, &kl, &v, &vl)) {
            wr_err ierr = {0};
            if (wr_store_iter_close(p->it, &ierr) != WR_OK)
                fail = "the table's state store cannot be read";
            p->it = NULL;
            p->task++;
            continue;
        }
        n++;
        q->stats.records_in++;
        if (!pull_table_row(w, k, kl, v, vl, row, a))
            continue;
        wr_eval_ctx cx = {.arena = a, .row = row};
        if (p->where != NULL) {
            wr_val keep;
            wr_expr_eval(p->where, &cx, &keep);
            if (keep.null || !keep.u.b)
                continue;
        }
        for (int i = 0; i < q->nout; i++)
            wr_expr_eval(q->out[i], &cx, &outv[i]);
        push_row(q, outv, &b);
        if (n % 64 == 0) { /* the rows' values so far are sent: their memory is reused */
            wr_arena_reset(a);
            row = wr_arena_calloc(a, (size_t)p->scope.n + 1, sizeof *row);
            outv = wr_arena_calloc(a, (size_t)q->nout + 1, sizeof *outv);
            fail = row && outv ? NULL : "out of memory";
        }
    }
    bool complete = q->ended || (p->it == NULL && p->range >= (p->nranges > 0 ? p->nranges : 1));
    wr_buf_free(&b);
    wr_arena_destroy(a);
    if (fail != NULL || complete) {
        pulltab_free(p);
        push_end(e, q, fail);
    }
}

/* Plans a pull query over table src: a client query whose rows come from the store of the query
   that writes src. */
static int
pull_table_open(wr_engine *e, const wr_select *sel, wr_source *src, const char *sql, wr_err *err)
{
    wr_query *w = NULL;
    for (wr_query *x = e->queries; x != NULL; x = x->next)
        if (x->sink == src && x->agg != NULL)
            w = x;
    if (w == NULL)
        return fail_at(err, sel->from->loc,
                       "%s is not materialized: pull queries read tables made by CREATE TABLE "
                       "... AS SELECT with GROUP BY",
                       src->name);
    if (sel->ngroup > 0 || sel->window != NULL || sel->having != NULL || sel->from->is_join)
        return fail_at(err, sel->loc,
                       "pull queries do not aggregate, window or join: select from the table "
                       "with WHERE and LIMIT");
    if (e->opts.state == NULL)
        return fail_at(err, sel->loc, "pull queries need state stores");
    wr_arena *a = wr_arena_create(0);
    wr_query *qr = a ? wr_arena_calloc(a, 1, sizeof *qr) : NULL;
    struct pulltab *p = qr ? wr_arena_calloc(a, 1, sizeof *p) : NULL;
    wr_col *cols = p ? wr_arena_calloc(a, (size_t)src->ncols + 3, sizeof *cols) : NULL;
    if (cols == NULL) {
        wr_arena_destroy(a);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    qr->arena = a;
    qr->src = src;
    qr->tfn_out = -1;
    qr->ptab = p;
    p->writer = w;
    const char *qual = sel->from->alias ? sel->from->alias : src->name;
    bool windowed = w->agg->windowed;
    int n = 0;
    for (int i = 0; i < src->ncols; i++)
        cols[n++] = (wr_col){src->cols[i].name, qual, src->cols[i].type};
    if (windowed) {
        cols[n++] = (wr_col){"WINDOWSTART", qual, wr_type_of(WR_T_BIGINT)};
        cols[n++] = (wr_col){"WINDOWEND", qual, wr_type_of(WR_T_BIGINT)};
    }
    p->scope = (wr_scope){n, cols};
    qr->scope = p->scope;
    wr_analyzer an = {.arena = a, .scope = &p->scope, .fns = e->opts.fns};
    int rc = WR_OK;
    if (sel->where != NULL && (rc = wr_expr_analyze(&an, sel->where, &p->where, err)) != WR_OK)
        goto fail;
    if (p->where != NULL && p->where->type && p->where->type->kind != WR_T_BOOLEAN) {
        rc = fail_at(err, sel->where->loc, "WHERE needs a BOOLEAN expression");
        goto fail;
    }
    /* the select list: * is every column (the window bounds after the key, as ksqlDB) */
    int cap = sel->nitems + n + 1, nout = 0;
    wr_cexpr **out = wr_arena_calloc(a, (size_t)cap, sizeof *out);
    src_col *sc = wr_arena_calloc(a, (size_t)cap, sizeof *sc);
    if (out == NULL || sc == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < sel->nitems; i++) {
        const wr_select_item *it = &sel->items[i];
        if (it->expr->kind == WR_E_STAR) {
            int order[64], no = 0;
            for (int c = 0; c < src->ncols && no < 62; c++)
                if (is_key_role(src->cols[c].role))
                    order[no++] = c;
            if (windowed) {
                order[no++] = src->ncols;
                order[no++] = src->ncols + 1;
            }
            for (int c = 0; c < src->ncols && no < 64; c++)
                if (!is_key_role(src->cols[c].role))
                    order[no++] = c;
            for (int j = 0; j < no && nout < cap; j++) {
                wr_cexpr *ce = wr_arena_calloc(a, 1, sizeof *ce);
                if (ce == NULL) {
                    rc = wr_err_set(err, WR_ENOMEM, "out of memory");
                    goto fail;
                }
                *ce = (wr_cexpr){.op = WR_C_COLUMN, .col = order[j], .type = cols[order[j]].type};
                sc[nout] = (src_col){cols[order[j]].name, cols[order[j]].type, WR_COL_VALUE, NULL};
                out[nout++] = ce;
            }
            continue;
        }
        if (has_aggregate(e, it->expr)) {
            rc = fail_at(err, it->loc, "pull queries cannot aggregate");
            goto fail;
        }
        wr_cexpr *ce;
        if ((rc = wr_expr_analyze(&an, it->expr, &ce, err)) != WR_OK)
            goto fail;
        const char *name = it->alias ? it->alias
                           : it->expr->kind == WR_E_COLUMN
                               ? it->expr->name
                               : wr_arena_printf(a, "KSQL_COL_%d", nout);
        if (nout < cap) {
            sc[nout] = (src_col){name, ce->type, WR_COL_VALUE, NULL};
            out[nout++] = ce;
        }
    }
    qr->nout = nout;
    qr->out = out;
    /* the key ranges to read: a single-column key pinned by WHERE, or the whole table */
    int kcol = -1, nkeys = 0;
    for (int i = 0; i < src->ncols; i++)
        if (is_key_role(src->cols[i].role)) {
            kcol = i;
            nkeys++;
        }
    bool pinned = nkeys == 1 && w->agg->ngroup == 1 &&
                  wr_type_equal(src->cols[kcol].type, w->agg->gtypes[0]) &&
                  plan_ranges(p, p->where, kcol, src->cols[kcol].type);
    if (!pinned) {
        pulltab_free(p);
        p->nranges = 0;
        if (e->opts.pull_scan_disabled) {
            rc = fail_at(err, sel->loc,
                         "this pull query does not pin the key of %s, so it would scan the whole "
                         "table, and ksql.query.pull.table.scan.enabled is false: add WHERE %s = "
                         "... (or IN, or a range)",
                         src->name, kcol >= 0 ? src->cols[kcol].name : "the key");
            goto fail;
        }
    }
    /* the client's sink: the select list */
    wr_source *sink = source_new("TRANSIENT_QUERY", false);
    if (sink == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    sink->cols = wr_arena_calloc(sink->arena, (size_t)nout + 1, sizeof *sink->cols);
    for (int i = 0; sink->cols != NULL && i < nout; i++)
        sink->cols[i] = (src_col){wr_arena_strdup(sink->arena, sc[i].name),
                                  wr_type_copy(sink->arena, sc[i].type), WR_COL_VALUE, NULL};
    sink->ncols = nout;
    sink->topic = "";
    qr->sink = sink;
    qr->sql = wr_arena_strdup(a, sql);
    qr->is_push = true;
    qr->pull = true;
    qr->limit = sel->limit;
    qr->push = *e->tsink;
    qr->id = transient_id(e, qr);
    if (sink->cols == NULL || qr->id == NULL) {
        source_free(sink);
        qr->sink = NULL;
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    push_header(e, qr);
    wr_query **tail = &e->pushes;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = qr;
    return WR_OK;
fail:
    pulltab_free(p);
    wr_arena_destroy(a);
    return rc;
}

static void
poll_pushes(wr_engine *e, int64_t *records)
{
    for (wr_query *q = e->pushes, *next; q != NULL; q = next) {
        next = q->next;
        if (q->ptab != NULL) {
            pull_table_step(e, q);
            continue;
        }
        wr_err perr = {0};
        int rc = WR_OK;
        for (int i = 0; i < q->ntasks && rc == WR_OK && !q->ended; i++)
            rc = run_task(e, q, &q->tasks[i], records, &perr);
        if (rc != WR_OK) {
            push_end(e, q, perr.msg);
            continue;
        }
        bool complete = q->ended;
        if (q->pull && !complete) {
            complete = true;
            for (int i = 0; i < q->ntasks; i++)
                if (q->tasks[i].offset < q->tasks[i].end)
                    complete = false;
        }
        if (complete)
            push_end(e, q, NULL);
    }
}

int
wr_engine_poll(wr_engine *e, int64_t *records, wr_err *err)
{
    *records = 0;
    for (wr_query *q = e->queries; q != NULL; q = q->next)
        for (int i = 0; i < q->ntasks; i++) {
            int rc = run_task(e, q, &q->tasks[i], records, err);
            if (rc != WR_OK) {
                wr_err_prefix(err, "query %s", q->id);
                return rc;
            }
        }
    poll_pushes(e, records);
    return WR_OK;
}

int
wr_engine_push_open(wr_engine *e,
                    wr_session *ss,
                    const char *text,
                    size_t len,
                    const wr_push_sink *sink,
                    wr_push_info *info,
                    wr_err *err)
{
    wr_arena *a = wr_arena_create(0);
    if (a == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    wr_session local = {0};
    if (ss == NULL)
        ss = &local;
    int rc = WR_OK;
    if (memmem(text, len, "${", 2) != NULL) {
        char *sub;
        size_t sublen;
        if ((rc = wr_sql_substitute(a, text, len, session_var, ss, &sub, &sublen, err)) != WR_OK)
            goto done;
        text = sub;
        len = sublen;
    }
    wr_script *sc = NULL;
    if ((rc = wr_sql_parse(a, text, len, &sc, err)) != WR_OK)
        goto done;
    if (sc->n != 1) {
        rc = wr_err_set(err, WR_EINVAL, "expected exactly one SELECT statement, got %d statements",
                        sc->n);
        goto done;
    }
    if (sc->stmts[0]->kind != WR_S_QUERY) {
        rc = wr_err_set(err, WR_EINVAL, "expected a SELECT statement");
        goto done;
    }
    const wr_stmt *q = sc->stmts[0];
    const wr_select *sel = q->select;
    if (sel->emit == WR_EMIT_FINAL) {
        rc = fail_at(err, sel->loc, "EMIT FINAL is only supported on windowed aggregations");
        goto done;
    }
    wr_source *from = sel->from->is_join ? NULL : source_find(e, sel->from->name);
    if (from != NULL && from->is_table && sel->emit == WR_EMIT_NONE) {
        char *psql = wr_arena_strndup(a, text + q->text_off, q->text_len);
        e->tsink = sink;
        e->tinfo = info;
        rc = pull_table_open(e, sel, from, psql ? psql : "", err);
        e->tsink = NULL;
        e->tinfo = NULL;
        goto done;
    }
    wr_stmt t = *q;
    t.kind = WR_S_CREATE_AS;
    t.is_table = sel->ngroup > 0 || sel->window != NULL || sel->having != NULL;
    t.name = "TRANSIENT_QUERY";
    t.name_loc = sel->loc;
    t.nprops = 0;
    char *sql = wr_arena_strndup(a, text + q->text_off, q->text_len);
    e->transient = true;
    e->tsink = sink;
    e->tinfo = info;
    rc = exec_query_into(e, ss, &t, sql ? sql : "", NULL, err);
    e->transient = false;
    e->tsink = NULL;
    e->tinfo = NULL;
done:
    if (ss == &local) {
        wr_props_free(&local.vars);
        wr_props_free(&local.props);
    }
    wr_arena_destroy(a);
    return rc;
}

int
wr_engine_push_close(wr_engine *e, const char *query_id)
{
    for (wr_query **pp = &e->pushes; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->id, query_id) == 0) {
            wr_query *q = *pp;
            *pp = q->next;
            push_free(q);
            return WR_OK;
        }
    return WR_ENOENT;
}

int
wr_engine_query_stats(wr_engine *e, const char *id, wr_query_stats *out)
{
    for (wr_query *q = e->queries; q != NULL; q = q->next)
        if (strcmp(q->id, id) == 0) {
            *out = q->stats;
            return WR_OK;
        }
    return WR_ENOENT;
}

/* ---- INSERT VALUES, DROP, TERMINATE, SHOW, DESCRIBE ---------------------------------------- */

static int
append_row(wr_engine *e, wr_source *s, wr_arena *a, const wr_val *vals, int64_t ts, wr_err *err);

static int
exec_insert_values(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    wr_source *s = source_find(e, st->name);
    if (s == NULL)
        return fail_at(err, st->name_loc, "%s does not exist", st->name);
    wr_arena *a = wr_arena_create(0);
    if (a == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    int rc = WR_OK;
    wr_scope empty = {0};
    wr_analyzer an = {.arena = a, .scope = &empty, .fns = e->opts.fns};
    wr_val *vals = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *vals);
    for (int i = 0; i < s->ncols; i++)
        vals[i] = wr_val_null(s->cols[i].type);
    int64_t ts = wr_clock_wall_ms();
    /* without a column list: every key and value column in order (not the header columns) */
    const char **names = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *names);
    int nimplicit = 0;
    for (int c = 0; names != NULL && c < s->ncols; c++)
        if (!is_header_role(s->cols[c].role))
            names[nimplicit++] = s->cols[c].name;
    int n = st->insert_cols ? st->ninsert_cols : nimplicit;
    if (n != st->nvalues) {
        rc = fail_at(err, st->loc, "expected %d values, got %d", n, st->nvalues);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const char *name = st->insert_cols ? st->insert_cols[i] : names[i];
        wr_loc at = st->insert_cols ? st->insert_col_locs[i] : st->values[i]->loc;
        int col = -1;
        for (int c = 0; c < s->ncols; c++)
            if (strcmp(s->cols[c].name, name) == 0)
                col = c;
        bool rowtime = strcmp(name, "ROWTIME") == 0;
        if (col < 0 && !rowtime) {
            rc = fail_at(err, at, "column %s does not exist in %s", name, s->name);
            goto out;
        }
        if (col >= 0 && is_header_role(s->cols[col].role)) {
            rc = fail_at(err, at, "cannot insert into HEADER column %s", name);
            goto out;
        }
        wr_cexpr *ce;
        if ((rc = wr_expr_analyze(&an, st->values[i], &ce, err)) != WR_OK)
            goto out;
        const wr_sql_type *want = rowtime ? wr_type_of(WR_T_BIGINT) : s->cols[col].type;
        if (ce->type != NULL && !wr_type_coercible(ce->type, want) &&
            !(ce->op == WR_C_CONST && wr_type_castable(ce->type, want))) {
            rc = fail_at(err, st->values[i]->loc, "expected type for %s is %s", name,
                         want->kind == WR_T_STRING ? "STRING" : "a different type");
            goto out;
        }
        if (ce->type != NULL && !wr_type_equal(ce->type, want)) {
            wr_cexpr *c = wr_arena_calloc(a, 1, sizeof *c);
            c->op = WR_C_CAST;
            c->type = want;
            c->a = ce;
            c->loc = ce->loc;
            ce = c;
        }
        wr_eval_ctx cx = {.arena = a};
        wr_val v;
        wr_expr_eval(ce, &cx, &v);
        if (cx.warning[0]) {
            rc = fail_at(err, st->values[i]->loc, "%s", cx.warning);
            goto out;
        }
        if (rowtime)
            ts = v.null ? ts : v.u.i64;
        else
            vals[col] = v;
    }
    rc = append_row(e, s, a, vals, ts, err);
    if (rc == WR_OK)
        msg(out, "Inserted 1 row into %s", s->name);
out:
    wr_arena_destroy(a);
    return rc;
}

/* Encodes vals (one per column of s; header columns ignored) by s's formats and appends them
   as one record to the partition its key picks. */
static int
append_row(wr_engine *e, wr_source *s, wr_arena *a, const wr_val *vals, int64_t ts, wr_err *err)
{
    int rc = WR_OK;
    wr_fmt kf, vf;
    make_fmt(a, s, true, &kf);
    make_fmt(a, s, false, &vf);
    wr_val *kv = wr_arena_calloc(a, (size_t)kf.ncols + 1, sizeof *kv);
    wr_val *vv = wr_arena_calloc(a, (size_t)vf.ncols + 1, sizeof *vv);
    for (int i = 0, ki = 0, vi = 0; i < s->ncols; i++) {
        if (is_key_role(s->cols[i].role))
            kv[ki++] = vals[i];
        else if (!is_header_role(s->cols[i].role))
            vv[vi++] = vals[i];
    }
    wr_buf kb = WR_BUF_INIT, vb = WR_BUF_INIT, batch = WR_BUF_INIT;
    bool knull = false, vnull = false;
    wr_err ferr = {0};
    if (kv == NULL || vv == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
    } else if (wr_fmt_encode(&kf, kv, &kb, &knull, &ferr) != WR_OK ||
               wr_fmt_encode(&vf, vv, &vb, &vnull, &ferr) != WR_OK) {
        rc = wr_err_set(err, WR_EINVAL, "%s", ferr.msg);
    } else {
        int32_t parts = wr_log_topic_partitions(e->opts.db, s->topic);
        int32_t p = partition_for(knull ? NULL : kb.data, knull ? -1 : (int32_t)kb.len,
                                  parts > 0 ? parts : 1, 0);
        wr_partition *lp;
        wr_rbatch_builder bb;
        wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
        wr_rbatch_builder_add(&bb, ts, knull ? NULL : kb.data, knull ? -1 : (int32_t)kb.len,
                              vnull ? NULL : vb.data, vnull ? -1 : (int32_t)vb.len, NULL, 0);
        wr_log_append_result res;
        if ((rc = wr_log_partition(e->opts.db, s->topic, p, &lp)) != WR_OK)
            rc = wr_err_set(err, rc, "topic %s is missing", s->topic);
        else if ((rc = wr_rbatch_builder_finish(&bb, &batch, err)) == WR_OK)
            rc = wr_log_append(lp, batch.data, batch.len, &res, err);
        wr_rbatch_builder_free(&bb);
    }
    wr_buf_free(&kb);
    wr_buf_free(&vb);
    wr_buf_free(&batch);
    return rc;
}

int
wr_engine_insert_json(wr_engine *e, const char *target, const char *json, size_t len, wr_err *err)
{
    wr_source *s = source_find(e, target);
    if (s == NULL) {
        char up[256];
        size_t n = strlen(target) < sizeof up - 1 ? strlen(target) : sizeof up - 1;
        for (size_t i = 0; i < n; i++)
            up[i] = (char)toupper((unsigned char)target[i]);
        up[n] = '\0';
        s = source_find(e, up);
    }
    if (s == NULL)
        return wr_err_set(err, WR_ENOENT, "Cannot insert values into an unknown stream/table: %s",
                          target);
    wr_arena *a = wr_arena_create(0);
    if (a == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    /* the row names every column, key and value: read it as one JSON object over all of them */
    wr_fmt f = {.kind = WR_FMT_JSON, .wrap_single = true};
    const char **names = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *names);
    const wr_sql_type **types = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *types);
    wr_val *got = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *got);
    wr_val *vals = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *vals);
    int *map = wr_arena_calloc(a, (size_t)s->ncols + 1, sizeof *map);
    int rc = WR_OK;
    if (names == NULL || types == NULL || got == NULL || vals == NULL || map == NULL) {
        rc = wr_err_set(err, WR_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < s->ncols; i++) {
        vals[i] = wr_val_null(s->cols[i].type);
        if (!is_header_role(s->cols[i].role)) {
            map[f.ncols] = i;
            names[f.ncols] = s->cols[i].name;
            types[f.ncols++] = s->cols[i].type;
        }
    }
    f.names = names;
    f.types = types;
    if ((rc = wr_fmt_decode(&f, (const uint8_t *)json, len, false, got, a, err)) != WR_OK)
        goto out;
    for (int i = 0; i < f.ncols; i++)
        vals[map[i]] = got[i];
    rc = append_row(e, s, a, vals, wr_clock_wall_ms(), err);
out:
    wr_arena_destroy(a);
    return rc;
}

int
wr_engine_metrics(wr_engine *e, wr_buf *out)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } m[] = {
        {"weir_query_records_in_total", "Input records a query has consumed.",
         offsetof(wr_query_stats, records_in)},
        {"weir_query_records_out_total", "Records a query has written to its sink or client.",
         offsetof(wr_query_stats, records_out)},
        {"weir_query_malformed_records_total",
         "Input records a query could not decode (skipped, in the processing log).",
         offsetof(wr_query_stats, decode_errors)},
        {"weir_query_dropped_records_total",
         "Records with an evaluation or encoding problem (values left null or row dropped; in "
         "the processing log).",
         offsetof(wr_query_stats, eval_errors)},
    };
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        wr_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", m[k].name, m[k].help, m[k].name);
        for (int pass = 0; pass < 2; pass++)
            for (wr_query *q = pass ? e->pushes : e->queries; q != NULL; q = q->next)
                wr_buf_printf(out, "%s{query_id=\"%s\",query_type=\"%s\"} %lld\n", m[k].name, q->id,
                              q->is_push ? "push" : "persistent",
                              (long long)*(const int64_t *)((const char *)&q->stats + m[k].off));
    }
    wr_buf_printf(out, "# HELP weir_query_processing_seconds Time a query spends processing a "
                       "read of its input (one task, up to 1 MiB of records).\n"
                       "# TYPE weir_query_processing_seconds summary\n");
    for (int pass = 0; pass < 2; pass++)
        for (wr_query *q = pass ? e->pushes : e->queries; q != NULL; q = q->next) {
            wr_buf_printf(
                out, "weir_query_processing_seconds_sum{query_id=\"%s\",query_type=\"%s\"} %.6f\n",
                q->id, q->is_push ? "push" : "persistent", (double)q->stats.busy_ns / 1e9);
            wr_buf_printf(
                out,
                "weir_query_processing_seconds_count{query_id=\"%s\",query_type=\"%s\"} %lld\n",
                q->id, q->is_push ? "push" : "persistent", (long long)q->stats.reads);
        }
    int np = 0, nq = 0;
    for (wr_query *q = e->pushes; q != NULL; q = q->next)
        np++;
    for (wr_query *q = e->queries; q != NULL; q = q->next)
        nq++;
    wr_buf_printf(out,
                  "# HELP weir_queries Queries running, by type.\n# TYPE weir_queries gauge\n"
                  "weir_queries{query_type=\"persistent\"} %d\n"
                  "weir_queries{query_type=\"push\"} %d\n",
                  nq, np);
    return wr_buf_ok(out) ? WR_OK : WR_ENOMEM;
}

static int
exec_drop(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    wr_source *s = source_find(e, st->name);
    if (s == NULL) {
        if (st->if_exists) {
            msg(out, "%s does not exist", st->name);
            return WR_OK;
        }
        return fail_at(err, st->name_loc, "%s %s does not exist", st->is_table ? "table" : "stream",
                       st->name);
    }
    if (s->is_table != st->is_table)
        return fail_at(err, st->name_loc, "%s is a %s, not a %s: use DROP %s", s->name,
                       s->is_table ? "table" : "stream", st->is_table ? "table" : "stream",
                       s->is_table ? "TABLE" : "STREAM");
    wr_buf users = WR_BUF_INIT;
    for (wr_query *q = e->queries; q != NULL; q = q->next)
        if (q->src == s || q->sink == s)
            wr_buf_printf(&users, "%s%s", users.len ? ", " : "", q->id);
    if (users.len > 0) {
        wr_buf_put_u8(&users, 0);
        int rc = fail_at(err, st->name_loc,
                         "cannot drop %s: the queries %s read from or write into it; TERMINATE "
                         "them first",
                         s->name, (const char *)users.data);
        wr_buf_free(&users);
        return rc;
    }
    wr_buf_free(&users);
    for (wr_query *q = e->pushes, *next; q != NULL; q = next) {
        next = q->next;
        if (q->src == s)
            push_end(e, q, "the source of this query was dropped");
    }
    if (st->delete_topic)
        (void)wr_log_topic_delete(e->opts.db, s->topic, NULL);
    wr_source **pp = &e->sources;
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    msg(out, "Source %s (topic: %s) was dropped.", s->name, s->topic);
    source_free(s);
    return WR_OK;
}

static int
exec_terminate(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    bool any = false;
    for (wr_query **pp = &e->queries; *pp != NULL;) {
        wr_query *q = *pp;
        if (st->all || strcasecmp(q->id, st->name) == 0) {
            *pp = q->next;
            msg(out, "Query %s terminated.", q->id);
            for (wr_query *pq = e->pushes, *pn; pq != NULL; pq = pn) {
                pn = pq->next;
                if (pq->ptab != NULL && pq->ptab->writer == q)
                    push_end(e, pq, "the query that writes the table was terminated");
            }
            drop_task_stores(e, q);
            query_free(q);
            any = true;
        } else {
            pp = &q->next;
        }
    }
    for (wr_query *q = e->pushes, *next; q != NULL; q = next) {
        next = q->next;
        if (st->all || strcasecmp(q->id, st->name) == 0) {
            msg(out, "Query %s terminated.", q->id);
            push_end(e, q, "the query was terminated");
            any = true;
        }
    }
    if (!any && !st->all)
        return fail_at(err, st->name_loc, "unknown query id %s", st->name);
    return WR_OK;
}

/* ---- REST entities (wr_engine_execute_json) ---------------------------------------------- */

static void
jstr(wr_buf *b, const char *s)
{
    if (s == NULL)
        wr_buf_append(b, "null", 4);
    else
        wr_json_write_string(b, s, strlen(s));
}

/* ,"key":"value" (a leading comma unless first) */
static void
jkv(wr_buf *b, bool first, const char *key, const char *value)
{
    wr_buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    jstr(b, value);
}

static const char *const fmt_names[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};

static const char *
schema_kind(const wr_sql_type *t)
{
    static const char *names[] = {
        [WR_T_BOOLEAN] = "BOOLEAN", [WR_T_INT] = "INTEGER",         [WR_T_BIGINT] = "BIGINT",
        [WR_T_DOUBLE] = "DOUBLE",   [WR_T_DECIMAL] = "DECIMAL",     [WR_T_STRING] = "STRING",
        [WR_T_BYTES] = "BYTES",     [WR_T_TIMESTAMP] = "TIMESTAMP", [WR_T_DATE] = "DATE",
        [WR_T_TIME] = "TIME",       [WR_T_ARRAY] = "ARRAY",         [WR_T_MAP] = "MAP",
        [WR_T_STRUCT] = "STRUCT"};
    return t != NULL && (size_t)t->kind < sizeof names / sizeof names[0] && names[t->kind]
               ? names[t->kind]
               : "STRING";
}

/* ksqlDB's schema object: {"type":..,"fields":[..]|null,"memberSchema":{..}|null} */
static void
json_schema(wr_buf *b, const wr_sql_type *t)
{
    wr_buf_printf(b, "{\"type\":\"%s\",\"fields\":", schema_kind(t));
    if (t != NULL && t->kind == WR_T_STRUCT) {
        wr_buf_put_u8(b, '[');
        for (int i = 0; i < t->nfields; i++) {
            wr_buf_printf(b, "%s{", i ? "," : "");
            jkv(b, true, "name", t->fields[i].name);
            wr_buf_append(b, ",\"schema\":", 10);
            json_schema(b, t->fields[i].type);
            wr_buf_put_u8(b, '}');
        }
        wr_buf_put_u8(b, ']');
    } else {
        wr_buf_append(b, "null", 4);
    }
    wr_buf_append(b, ",\"memberSchema\":", 16);
    if (t != NULL && (t->kind == WR_T_ARRAY || t->kind == WR_T_MAP) && t->elem != NULL)
        json_schema(b, t->elem);
    else
        wr_buf_append(b, "null", 4);
    wr_buf_put_u8(b, '}');
}

static void
json_source_row(wr_buf *b, const wr_source *s)
{
    wr_buf_put_u8(b, '{');
    jkv(b, true, "type", s->is_table ? "TABLE" : "STREAM");
    jkv(b, false, "name", s->name);
    jkv(b, false, "topic", s->topic);
    jkv(b, false, "keyFormat", fmt_names[s->key_fmt]);
    jkv(b, false, "valueFormat", fmt_names[s->val_fmt]);
    wr_buf_printf(b, ",\"isWindowed\":false}");
}

static void
json_query_ids(wr_buf *b, const wr_engine *e, const wr_source *s, bool writing)
{
    wr_buf_put_u8(b, '[');
    bool first = true;
    for (const wr_query *q = e->queries; q != NULL; q = q->next)
        if ((writing ? q->sink : q->src) == s) {
            wr_buf_printf(b, "%s{", first ? "" : ",");
            jkv(b, true, "queryString", q->sql);
            wr_buf_printf(b, ",\"sinks\":[");
            jstr(b, q->sink->name);
            wr_buf_printf(b, "],\"sinkKafkaTopics\":[");
            jstr(b, q->sink->topic);
            wr_buf_printf(b, "]");
            jkv(b, false, "id", q->id);
            wr_buf_printf(b, ",\"statusCount\":{\"RUNNING\":1},\"queryType\":\"PERSISTENT\","
                             "\"state\":\"RUNNING\"}");
            first = false;
        }
    wr_buf_put_u8(b, ']');
}

static void
json_source_description(wr_buf *b, const wr_engine *e, const wr_source *s, bool extended)
{
    wr_buf_put_u8(b, '{');
    jkv(b, true, "name", s->name);
    wr_buf_printf(b, ",\"windowType\":null,\"readQueries\":");
    json_query_ids(b, e, s, false);
    wr_buf_printf(b, ",\"writeQueries\":");
    json_query_ids(b, e, s, true);
    wr_buf_printf(b, ",\"fields\":[");
    for (int i = 0; i < s->ncols; i++) {
        wr_buf_printf(b, "%s{", i ? "," : "");
        jkv(b, true, "name", s->cols[i].name);
        wr_buf_printf(b, ",\"schema\":");
        json_schema(b, s->cols[i].type);
        if (is_key_role(s->cols[i].role))
            wr_buf_printf(b, ",\"type\":\"KEY\"");
        else if (is_header_role(s->cols[i].role))
            wr_buf_printf(b, ",\"type\":\"HEADER\"");
        wr_buf_put_u8(b, '}');
    }
    wr_buf_put_u8(b, ']');
    jkv(b, false, "type", s->is_table ? "TABLE" : "STREAM");
    jkv(b, false, "timestamp", s->ts_col >= 0 ? s->cols[s->ts_col].name : "");
    wr_buf stats = WR_BUF_INIT, errs = WR_BUF_INIT;
    if (extended)
        for (const wr_query *q = e->queries; q != NULL; q = q->next)
            if (q->src == s || q->sink == s) {
                wr_buf_printf(&stats, "%s%s: records-in: %lld, records-out: %lld",
                              stats.len ? "; " : "", q->id, (long long)q->stats.records_in,
                              (long long)q->stats.records_out);
                wr_buf_printf(&errs, "%s%s: decode-errors: %lld, evaluation-errors: %lld",
                              errs.len ? "; " : "", q->id, (long long)q->stats.decode_errors,
                              (long long)q->stats.eval_errors);
            }
    wr_buf_put_u8(&stats, 0);
    wr_buf_put_u8(&errs, 0);
    jkv(b, false, "statistics", (const char *)stats.data);
    jkv(b, false, "errorStats", (const char *)errs.data);
    wr_buf_free(&stats);
    wr_buf_free(&errs);
    wr_buf_printf(b, ",\"extended\":%s", extended ? "true" : "false");
    jkv(b, false, "keyFormat", fmt_names[s->key_fmt]);
    jkv(b, false, "valueFormat", fmt_names[s->val_fmt]);
    jkv(b, false, "topic", s->topic);
    wr_buf_printf(b, ",\"partitions\":%d,\"replication\":1", s->partitions);
    jkv(b, false, "statement", s->sql ? s->sql : "");
    wr_buf_put_u8(b, '}');
}

static void
describe_source(const wr_engine *e, wr_buf *out, const wr_source *s, bool extended)
{
    static const char *fmts[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    msg(out, "Name                 : %s", s->name);
    msg(out, "Type                 : %s", s->is_table ? "TABLE" : "STREAM");
    msg(out, "Kafka topic          : %s (partitions: %d)", s->topic, s->partitions);
    msg(out, "Key format           : %s", fmts[s->key_fmt]);
    msg(out, "Value format         : %s", fmts[s->val_fmt]);
    msg(out, " Field | Type");
    for (int i = 0; i < s->ncols; i++) {
        wr_buf t = WR_BUF_INIT;
        wr_ast_format_type(&t, s->cols[i].type);
        wr_buf_put_u8(&t, 0);
        msg(out, " %s | %s%s", s->cols[i].name, (const char *)t.data,
            s->cols[i].role == WR_COL_KEY           ? " (key)"
            : s->cols[i].role == WR_COL_PRIMARY_KEY ? " (primary key)"
            : s->cols[i].role == WR_COL_HEADERS     ? " (headers)"
            : s->cols[i].role == WR_COL_HEADER      ? " (header)"
                                                    : "");
        wr_buf_free(&t);
    }
    if (!extended)
        return;
    /* DESCRIBE EXTENDED: the statement, the queries around the source and their metrics */
    msg(out, "Statement            : %s", s->sql ? s->sql : "");
    if (s->ts_col >= 0)
        msg(out, "Timestamp field      : %s%s%s", s->cols[s->ts_col].name,
            s->ts_format ? " with format " : "", s->ts_format ? s->ts_format : "");
    for (const wr_query *q = e->queries; q != NULL; q = q->next) {
        if (q->src != s && q->sink != s)
            continue;
        msg(out, "%s query %s: %s", q->sink == s ? "Writing" : "Reading", q->id, q->sql);
        msg(out, "  records in: %lld, out: %lld, decode errors: %lld, evaluation errors: %lld",
            (long long)q->stats.records_in, (long long)q->stats.records_out,
            (long long)q->stats.decode_errors, (long long)q->stats.eval_errors);
    }
}

static void
json_show(wr_engine *e, wr_session *ss, const wr_stmt *st, wr_buf *b)
{
    switch (st->show) {
    case WR_SHOW_STREAMS:
    case WR_SHOW_TABLES: {
        bool tables = st->show == WR_SHOW_TABLES;
        e->ent_type = tables ? "tables" : "streams";
        wr_buf_printf(b, "\"%s\":[", tables ? "tables" : "streams");
        bool first = true;
        for (wr_source *s = e->sources; s != NULL; s = s->next)
            if (s->is_table == tables) {
                if (!first)
                    wr_buf_put_u8(b, ',');
                json_source_row(b, s);
                first = false;
            }
        wr_buf_put_u8(b, ']');
        return;
    }
    case WR_SHOW_QUERIES: {
        e->ent_type = "queries";
        wr_buf_printf(b, "\"queries\":[");
        bool first = true;
        for (int pass = 0; pass < 2; pass++)
            for (wr_query *q = pass ? e->pushes : e->queries; q != NULL; q = q->next) {
                wr_buf_printf(b, "%s{", first ? "" : ",");
                jkv(b, true, "queryString", q->sql);
                wr_buf_printf(b, ",\"sinks\":[");
                if (!q->is_push)
                    jstr(b, q->sink->name);
                wr_buf_printf(b, "],\"sinkKafkaTopics\":[");
                if (!q->is_push)
                    jstr(b, q->sink->topic);
                wr_buf_printf(b, "]");
                jkv(b, false, "id", q->id);
                wr_buf_printf(b,
                              ",\"statusCount\":{\"RUNNING\":1},\"queryType\":\"%s\","
                              "\"state\":\"RUNNING\"}",
                              q->is_push ? "PUSH" : "PERSISTENT");
                first = false;
            }
        wr_buf_put_u8(b, ']');
        return;
    }
    case WR_SHOW_TOPICS: {
        e->ent_type = "kafka_topics";
        wr_buf_printf(b, "\"topics\":[");
        char **names;
        size_t n;
        bool first = true;
        if (wr_log_topic_list(e->opts.db, &names, &n, NULL) == WR_OK) {
            for (size_t i = 0; i < n; i++) {
                if (st->all || names[i][0] != '_') {
                    wr_buf_printf(b, "%s{", first ? "" : ",");
                    jkv(b, true, "name", names[i]);
                    wr_buf_printf(b, ",\"replicaInfo\":[");
                    int parts = wr_log_topic_partitions(e->opts.db, names[i]);
                    for (int p = 0; p < parts; p++)
                        wr_buf_printf(b, "%s1", p ? "," : "");
                    wr_buf_printf(b, "]}");
                    first = false;
                }
                free(names[i]);
            }
            free(names);
        }
        wr_buf_put_u8(b, ']');
        return;
    }
    case WR_SHOW_FUNCTIONS: {
        e->ent_type = "function_names";
        wr_buf_printf(b, "\"functions\":[");
        const wr_fn_desc *const *v;
        int n = e->opts.fns ? wr_fn_list(e->opts.fns, &v) : 0;
        for (int i = 0; i < n; i++) {
            wr_buf_printf(b, "%s{", i ? "," : "");
            jkv(b, true, "name", v[i]->name);
            jkv(b, false, "type",
                v[i]->kind == WR_FN_TABLE       ? "table"
                : v[i]->kind == WR_FN_AGGREGATE ? "aggregate"
                                                : "scalar");
            jkv(b, false, "category", v[i]->category ? v[i]->category : "");
            wr_buf_put_u8(b, '}');
        }
        wr_buf_put_u8(b, ']');
        return;
    }
    case WR_SHOW_PROPERTIES:
    case WR_SHOW_VARIABLES: {
        bool vars = st->show == WR_SHOW_VARIABLES;
        wr_props *p = vars ? &ss->vars : &ss->props;
        e->ent_type = vars ? "variables" : "properties";
        wr_buf_printf(b, "\"%s\":[", vars ? "variables" : "properties");
        for (size_t i = 0; i < p->count; i++) {
            wr_buf_printf(b, "%s{", i ? "," : "");
            jkv(b, true, "name", p->items[i].key);
            if (!vars)
                jkv(b, false, "scope", "KSQL");
            jkv(b, false, "value", p->items[i].value);
            wr_buf_put_u8(b, '}');
        }
        wr_buf_put_u8(b, ']');
        return;
    }
    }
}

static int
exec_show(wr_engine *e, wr_session *ss, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    if (e->ent != NULL)
        json_show(e, ss, st, e->ent);
    switch (st->show) {
    case WR_SHOW_STREAMS:
    case WR_SHOW_TABLES:
        msg(out, " %s Name | Kafka Topic", st->show == WR_SHOW_STREAMS ? "Stream" : "Table");
        for (wr_source *s = e->sources; s != NULL; s = s->next)
            if (s->is_table == (st->show == WR_SHOW_TABLES))
                msg(out, " %s | %s", s->name, s->topic);
        return WR_OK;
    case WR_SHOW_QUERIES:
        msg(out, " Query ID | Status | Sink Name | Query String");
        for (wr_query *q = e->queries; q != NULL; q = q->next)
            msg(out, " %s | RUNNING | %s | %s", q->id, q->sink->name, q->sql);
        for (wr_query *q = e->pushes; q != NULL; q = q->next)
            msg(out, " %s | RUNNING | (push query) | %s", q->id, q->sql);
        return WR_OK;
    case WR_SHOW_TOPICS: {
        char **names;
        size_t n;
        int rc = wr_log_topic_list(e->opts.db, &names, &n, err);
        if (rc != WR_OK)
            return rc;
        msg(out, " Kafka Topic | Partitions");
        for (size_t i = 0; i < n; i++) {
            if (st->all || names[i][0] != '_')
                msg(out, " %s | %d", names[i], wr_log_topic_partitions(e->opts.db, names[i]));
            free(names[i]);
        }
        free(names);
        return WR_OK;
    }
    case WR_SHOW_FUNCTIONS: {
        const wr_fn_desc *const *v;
        int n = e->opts.fns ? wr_fn_list(e->opts.fns, &v) : 0;
        msg(out, " Function Name | Category");
        for (int i = 0; i < n; i++)
            msg(out, " %s | %s", v[i]->name, v[i]->category ? v[i]->category : "");
        return WR_OK;
    }
    case WR_SHOW_PROPERTIES:
    case WR_SHOW_VARIABLES: {
        wr_props *p = st->show == WR_SHOW_VARIABLES ? &ss->vars : &ss->props;
        msg(out, " %s | Value", st->show == WR_SHOW_VARIABLES ? "Variable Name" : "Property");
        for (size_t i = 0; i < p->count; i++)
            msg(out, " %s | %s", p->items[i].key, p->items[i].value);
        return WR_OK;
    }
    }
    return WR_OK;
}

static int
exec_describe(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    if (st->kind == WR_S_DESCRIBE_FUNC) {
        const wr_fn_desc *f = e->opts.fns ? wr_fn_lookup(e->opts.fns, st->name) : NULL;
        if (f == NULL)
            return fail_at(err, st->name_loc, "function %s does not exist", st->name);
        if (e->ent != NULL) {
            wr_buf *b = e->ent;
            e->ent_type = "describe_function";
            jkv(b, true, "name", f->name);
            jkv(b, false, "description", f->description ? f->description : "");
            jkv(b, false, "author", "weir");
            jkv(b, false, "version", "");
            jkv(b, false, "path", "internal");
            jkv(b, false, "type",
                f->kind == WR_FN_TABLE       ? "TABLE"
                : f->kind == WR_FN_AGGREGATE ? "AGGREGATE"
                                             : "SCALAR");
            wr_buf_printf(b, ",\"functions\":[");
            const char *sig = f->signatures ? f->signatures : "";
            bool first = true;
            while (*sig != '\0') {
                const char *nl = strchr(sig, '\n');
                size_t n = nl ? (size_t)(nl - sig) : strlen(sig);
                char line[512];
                snprintf(line, sizeof line, "%.*s", (int)n, sig);
                char *arrow = strstr(line, " -> ");
                wr_buf_printf(b, "%s{", first ? "" : ",");
                jkv(b, true, "signature", line);
                jkv(b, false, "returnType", arrow ? arrow + 4 : "");
                jkv(b, false, "description", f->description ? f->description : "");
                wr_buf_put_u8(b, '}');
                first = false;
                sig += n + (nl ? 1 : 0);
            }
            wr_buf_put_u8(b, ']');
        }
        msg(out, "Name        : %s", f->name);
        msg(out, "Type        : %s", f->kind == WR_FN_TABLE ? "TABLE" : "SCALAR");
        msg(out, "Category    : %s", f->category ? f->category : "");
        msg(out, "Description : %s", f->description ? f->description : "");
        msg(out, "Signatures  : %s", f->signatures ? f->signatures : "");
        return WR_OK;
    }
    if (st->all) {
        if (e->ent != NULL) {
            e->ent_type = "source_descriptions";
            wr_buf_printf(e->ent, "\"sourceDescriptions\":[");
            bool first = true;
            for (wr_source *s = e->sources; s != NULL; s = s->next)
                if (s->is_table == st->is_table) {
                    if (!first)
                        wr_buf_put_u8(e->ent, ',');
                    json_source_description(e->ent, e, s, st->extended);
                    first = false;
                }
            wr_buf_put_u8(e->ent, ']');
        }
        for (wr_source *s = e->sources; s != NULL; s = s->next)
            if (s->is_table == st->is_table)
                describe_source(e, out, s, st->extended);
        return WR_OK;
    }
    wr_source *s = source_find(e, st->name);
    if (s == NULL)
        return fail_at(err, st->name_loc, "could not find STREAM/TABLE '%s' in the metastore",
                       st->name);
    if (e->ent != NULL) {
        e->ent_type = "sourceDescription";
        wr_buf_printf(e->ent, "\"sourceDescription\":");
        json_source_description(e->ent, e, s, st->extended);
    }
    describe_source(e, out, s, st->extended);
    return WR_OK;
}

/* ---- PRINT --------------------------------------------------------------------------------- */

static bool
printable(const uint8_t *p, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            return false;
    return true;
}

static const char *
guess_format(const uint8_t *p, int32_t n)
{
    if (n < 0)
        return "<null>";
    if (n > 0 && (p[0] == '{' || p[0] == '[') && printable(p, n))
        return "JSON";
    return printable(p, n) ? "KAFKA_STRING" : "KAFKA_BYTES";
}

static void
print_bytes(wr_buf *b, const uint8_t *p, int32_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n < 0) {
        wr_buf_printf(b, "<null>");
    } else if (printable(p, n)) {
        wr_buf_append(b, p, (size_t)n);
    } else {
        for (int32_t i = 0; i < n; i++) {
            wr_buf_put_u8(b, (uint8_t)hex[p[i] >> 4]);
            wr_buf_put_u8(b, (uint8_t)hex[p[i] & 15]);
        }
    }
}

/* PRINT 'topic' [FROM BEGINNING] [INTERVAL n] [LIMIT n]: the records there are now (from the
   start, or none without FROM BEGINNING: following new records needs a push connection), every
   n-th, at most LIMIT, as ksqlDB prints them. */
static int
exec_print(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    int32_t parts = wr_log_topic_partitions(e->opts.db, st->name);
    if (parts < 1)
        return fail_at(err, st->name_loc, "topic '%s' does not exist", st->name);
    int64_t limit = st->limit >= 0 ? st->limit : INT64_MAX,
            every = st->interval > 0 ? st->interval : 1;
    int64_t seen = 0, shown = 0;
    bool header = false;
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    int rc = WR_OK;
    for (int32_t p = 0; st->from_beginning && p < parts && shown < limit && rc == WR_OK; p++) {
        wr_partition *lp;
        if (wr_log_partition(e->opts.db, st->name, p, &lp) != WR_OK)
            continue;
        int64_t off = wr_log_start_offset(lp), end = wr_log_end_offset(lp);
        while (off < end && shown < limit && rc == WR_OK) {
            wr_buf_reset(&data);
            wr_log_read_result rr;
            if ((rc = wr_log_read(lp, off, READ_BYTES, &data, &rr, err)) != WR_OK || data.len == 0)
                break;
            for (size_t at = 0; at < data.len && shown < limit;) {
                size_t sz = wr_rbatch_size(data.data + at, data.len - at);
                wr_rbatch_iter it;
                if (sz == 0 || (rc = wr_rbatch_iter_init(&it, data.data + at, sz, &scratch,
                                                         MAX_DECOMPRESSED, err)) != WR_OK)
                    break;
                wr_record rec;
                while (shown < limit && wr_rbatch_iter_next(&it, &rec, err) == 1) {
                    if (rec.offset < off)
                        continue;
                    off = rec.offset + 1;
                    if (seen++ % every != 0)
                        continue;
                    if (!header) {
                        msg(out, "Key format: %s", guess_format(rec.key, rec.key_len));
                        msg(out, "Value format: %s", guess_format(rec.value, rec.value_len));
                        header = true;
                    }
                    wr_val ts = wr_val_timestamp(rec.timestamp);
                    wr_buf_printf(out, "rowtime: ");
                    wr_val_to_string(out, &ts);
                    wr_buf_printf(out, " Z, key: ");
                    print_bytes(out, rec.key, rec.key_len);
                    wr_buf_printf(out, ", value: ");
                    print_bytes(out, rec.value, rec.value_len);
                    wr_buf_printf(out, ", partition: %d\n", p);
                    shown++;
                }
                at += sz;
            }
        }
    }
    if (!header)
        msg(out, "Key format: \u00af\\_(\u30c4)_/\u00af - no data processed");
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    return rc;
}

/* ---- statements ---------------------------------------------------------------------------- */

static int
exec_one(wr_engine *e, wr_session *ss, const wr_stmt *st, const char *sql, wr_buf *out, wr_err *err)
{
    switch (st->kind) {
    case WR_S_CREATE_SOURCE:
        return exec_create_source(e, st, sql, out, err);
    case WR_S_CREATE_AS:
    case WR_S_INSERT_SELECT:
        return exec_query_into(e, ss, st, sql, out, err);
    case WR_S_INSERT_VALUES:
        return exec_insert_values(e, st, out, err);
    case WR_S_DROP:
        return exec_drop(e, st, out, err);
    case WR_S_TERMINATE:
        return exec_terminate(e, st, out, err);
    case WR_S_SHOW:
        return exec_show(e, ss, st, out, err);
    case WR_S_DESCRIBE:
    case WR_S_DESCRIBE_FUNC:
        return exec_describe(e, st, out, err);
    case WR_S_SET:
        wr_props_set(&ss->props, st->name, st->value);
        msg(out, "Successfully changed local property '%s' to '%s'.", st->name, st->value);
        return WR_OK;
    case WR_S_UNSET:
        wr_props_unset(&ss->props, st->name);
        msg(out, "Successfully unset local property '%s'.", st->name);
        return WR_OK;
    case WR_S_DEFINE:
        wr_props_set(&ss->vars, st->name, st->value);
        return WR_OK;
    case WR_S_UNDEFINE:
        wr_props_unset(&ss->vars, st->name);
        return WR_OK;
    case WR_S_QUERY:
        return fail_at(err, st->loc,
                       "push and pull queries are served over HTTP (/query-stream), not here");
    case WR_S_EXPLAIN:
        if (st->inner == NULL) {
            for (wr_query *q = e->queries; q != NULL; q = q->next)
                if (strcasecmp(q->id, st->name) == 0) {
                    explain_query(out, q);
                    return WR_OK;
                }
            return fail_at(err, st->name_loc, "unknown query id %s", st->name);
        }
        if (st->inner->kind == WR_S_CREATE_AS || st->inner->kind == WR_S_INSERT_SELECT) {
            e->dry_run = true;
            int rc = exec_query_into(e, ss, st->inner, sql, out, err);
            e->dry_run = false;
            return rc;
        }
        if (st->inner->kind == WR_S_QUERY) {
            /* a push query is planned like a persistent one whose sink is the client */
            const wr_select *sel = st->inner->select;
            wr_stmt t = *st->inner;
            t.kind = WR_S_CREATE_AS;
            t.is_table = sel->ngroup > 0 || sel->window != NULL || sel->having != NULL;
            t.name = "TRANSIENT_QUERY";
            t.name_loc = sel->loc;
            t.nprops = 0;
            e->dry_run = true;
            e->explain_transient = true;
            int rc = exec_query_into(e, ss, &t, sql, out, err);
            e->dry_run = false;
            e->explain_transient = false;
            return rc;
        }
        return fail_at(err, st->inner->loc,
                       "EXPLAIN takes a query id, a SELECT, a CREATE ... AS SELECT or an INSERT "
                       "INTO ... SELECT");
    case WR_S_PRINT:
        return exec_print(e, st, out, err);
    }
    return fail_at(err, st->loc, "unsupported statement");
}

/* ---- the persistent catalog (src/catalog) -------------------------------------------------- */

static bool
changes_catalog(const wr_stmt *st)
{
    return st->kind == WR_S_CREATE_SOURCE || st->kind == WR_S_CREATE_AS ||
           st->kind == WR_S_INSERT_SELECT || st->kind == WR_S_DROP || st->kind == WR_S_TERMINATE;
}

/* Hands the catalog in memory to its sqlite3 materialisation, with the command at offset. */
static int
catalog_sync(wr_engine *e, int64_t offset, const char *sql, const wr_props *props, wr_err *err)
{
    static const char *fmts[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    int ns = 0, nq = 0;
    for (wr_source *s = e->sources; s != NULL; s = s->next)
        ns++;
    for (wr_query *q = e->queries; q != NULL; q = q->next)
        nq++;
    wr_catalog_source *srcs = calloc((size_t)ns + 1, sizeof *srcs);
    wr_catalog_query *qs = calloc((size_t)nq + 1, sizeof *qs);
    if (srcs == NULL || qs == NULL) {
        free(srcs);
        free(qs);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    int i = 0;
    for (wr_source *s = e->sources; s != NULL; s = s->next, i++)
        srcs[i] = (wr_catalog_source){s->name,          s->is_table ? "TABLE" : "STREAM",
                                      s->topic,         fmts[s->key_fmt],
                                      fmts[s->val_fmt], s->sql};
    i = 0;
    for (wr_query *q = e->queries; q != NULL; q = q->next, i++)
        qs[i] = (wr_catalog_query){q->id, q->sink->name, q->src->name, q->sql};
    int rc = wr_catalog_materialise(e->cat, offset, sql, props, srcs, ns, qs, nq, err);
    free(srcs);
    free(qs);
    return rc;
}

/* After a statement that changed the catalog succeeded: the command topic, then sqlite3. */
static int
catalog_record(wr_engine *e, const wr_session *ss, const char *sql, wr_err *err)
{
    if (e->replaying)
        return WR_OK;
    int64_t off;
    int rc = wr_catalog_append(e->cat, sql, ss ? &ss->props : NULL, &off, err);
    if (rc == WR_OK)
        e->cmd_seq = off;
    if (rc != WR_OK) {
        wr_err_prefix(err, "the statement ran but could not be recorded in %s", WR_CATALOG_TOPIC);
        return rc;
    }
    return catalog_sync(e, off, sql, ss ? &ss->props : NULL, err);
}

/* One command of the replay: run again with the properties it had. */
static int
replay_one(void *arg, int64_t offset, const char *sql, size_t len, const wr_props *props)
{
    wr_engine *e = arg;
    wr_session ss = {0};
    for (size_t i = 0; i < props->count; i++)
        wr_props_set(&ss.props, props->items[i].key, props->items[i].value);
    wr_buf msgs = WR_BUF_INIT;
    wr_err cerr = {0};
    if (wr_engine_execute(e, &ss, sql, len, &msgs, &cerr) != WR_OK)
        wr_log(WR_LOG_WARN, "sql", "command %lld no longer applies: %s", (long long)offset,
               cerr.msg);
    char *text = strndup(sql, len);
    int rc = text ? catalog_sync(e, offset, text, props, &cerr) : WR_ENOMEM;
    if (rc != WR_OK)
        wr_log(WR_LOG_ERROR, "sql", "catalog database: %s", cerr.msg);
    free(text);
    wr_buf_free(&msgs);
    wr_props_free(&ss.props);
    wr_props_free(&ss.vars);
    return rc;
}

static int
catalog_start(wr_engine *e, const char *path, wr_err *err)
{
    int rc = wr_catalog_open(e->opts.db, path, &e->cat, err);
    if (rc != WR_OK)
        return rc;
    int64_t n = 0;
    e->replaying = true;
    rc = wr_catalog_replay(e->cat, replay_one, e, &n, err);
    e->replaying = false;
    if (rc == WR_OK && n > 0)
        wr_log(WR_LOG_INFO, "sql", "catalog rebuilt from %lld command(s)", (long long)n);
    return rc;
}

/* A statement is parsed on its own; its positions are made relative to the whole script. */
static void
relocate(wr_err *err, int base_line, int base_col)
{
    if (err == NULL || err->line <= 0 || (base_line == 1 && base_col == 1))
        return;
    int line = err->line, col = err->col;
    int nl = line == 1 ? base_line : base_line + line - 1;
    int nc = line == 1 ? base_col + col - 1 : col;
    char prefix[64];
    int pl = snprintf(prefix, sizeof prefix, "line %d:%d: ", line, col);
    if (pl > 0 && strncmp(err->msg, prefix, (size_t)pl) == 0) {
        char rest[WR_ERR_MSG_MAX];
        snprintf(rest, sizeof rest, "%s", err->msg + pl);
        snprintf(err->msg, sizeof err->msg, "line %d:%d: %.200s", nl, nc, rest);
    }
    err->line = nl;
    err->col = nc;
}

/* The entity of one successful statement, in ksqlDB's REST shape (see engine.h). */
static void
json_entity(wr_engine *e,
            const wr_stmt *st,
            const char *sql,
            const wr_buf *text,
            const wr_buf *ent,
            wr_buf *json)
{
    if (st->kind == WR_S_SET || st->kind == WR_S_UNSET || st->kind == WR_S_DEFINE ||
        st->kind == WR_S_UNDEFINE || st->kind == WR_S_INSERT_VALUES)
        return; /* ksqlDB answers these with no entity */
    char *t = strndup(text->len ? (const char *)text->data : "", text->len);
    if (t == NULL)
        return;
    size_t tl = strlen(t);
    while (tl > 0 && t[tl - 1] == '\n')
        t[--tl] = '\0';
    if (json->len > 0)
        wr_buf_put_u8(json, ',');
    const char *type = e->ent_type;
    if (type == NULL)
        type = st->kind == WR_S_EXPLAIN ? "queryDescription" : "currentStatus";
    wr_buf_printf(json, "{\"@type\":\"%s\"", type);
    jkv(json, false, "statementText", sql);
    if (e->ent_type != NULL) {
        wr_buf_put_u8(json, ',');
        wr_buf_append(json, ent->data, ent->len);
    } else if (st->kind == WR_S_EXPLAIN) {
        char id[200] = "";
        const char *p = strstr(t, "ID                   : ");
        if (p != NULL)
            snprintf(id, sizeof id, "%.*s", (int)strcspn(p + 23, "\n"), p + 23);
        wr_buf_printf(json, ",\"queryDescription\":{");
        jkv(json, true, "id", id);
        jkv(json, false, "statementText", sql);
        jkv(json, false, "executionPlan", t);
        wr_buf_printf(json, ",\"queryType\":\"PERSISTENT\",\"state\":\"RUNNING\"}");
    } else {
        /* a change of the catalog: ksqlDB's command status */
        static const char *verbs[] = {[WR_S_CREATE_SOURCE] = "create",
                                      [WR_S_CREATE_AS] = "create",
                                      [WR_S_INSERT_SELECT] = "insert",
                                      [WR_S_DROP] = "drop",
                                      [WR_S_TERMINATE] = "execute"};
        const char *verb = (size_t)st->kind < sizeof verbs / sizeof verbs[0] && verbs[st->kind]
                               ? verbs[st->kind]
                               : "execute";
        wr_buf_printf(json, ",\"commandId\":");
        char cid[400];
        if (st->kind == WR_S_TERMINATE)
            snprintf(cid, sizeof cid, "terminate/%s/execute", st->all ? "ALL" : st->name);
        else
            snprintf(cid, sizeof cid, "%s/`%s`/%s", st->is_table ? "table" : "stream",
                     st->name ? st->name : "", verb);
        jstr(json, cid);
        wr_buf_printf(json, ",\"commandStatus\":{\"status\":\"SUCCESS\"");
        jkv(json, false, "message", t);
        const char *qid = strstr(t, "Created query with ID ");
        if (qid != NULL) {
            char id[200];
            sscanf(qid + 22, "%199s", id);
            jkv(json, false, "queryId", id);
        }
        wr_buf_printf(json, "},\"commandSequenceNumber\":%lld", (long long)e->cmd_seq);
    }
    wr_buf_printf(json, ",\"warnings\":[]");
    jkv(json, false, "weirText", t);
    wr_buf_put_u8(json, '}');
    free(t);
}

static int
execute(wr_engine *e,
        wr_session *ss,
        const char *text,
        size_t len,
        wr_buf *out,
        wr_buf *json,
        wr_buf *failed,
        wr_err *err)
{
    wr_session local = {0};
    if (ss == NULL)
        ss = &local;
    int rc = WR_OK;
    size_t pos = 0;
    while (rc == WR_OK && pos < len) {
        size_t n = wr_sql_next_statement(text + pos, len - pos);
        if (n == 0)
            break;
        wr_arena *a = wr_arena_create(0);
        if (a == NULL) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory");
            break;
        }
        const char *st_text = text + pos;
        size_t st_len = n;
        if (memmem(st_text, st_len, "${", 2) != NULL) {
            char *sub;
            size_t sublen;
            rc = wr_sql_substitute(a, st_text, st_len, session_var, ss, &sub, &sublen, err);
            if (rc == WR_OK) {
                st_text = sub;
                st_len = sublen;
            }
        }
        wr_script *sc = NULL;
        if (rc == WR_OK)
            rc = wr_sql_parse(a, st_text, st_len, &sc, err);
        if (rc != WR_OK && failed != NULL) {
            size_t tl = st_len;
            while (tl > 0 && (st_text[tl - 1] == ';' || isspace((unsigned char)st_text[tl - 1])))
                tl--;
            wr_buf_reset(failed);
            wr_buf_append(failed, st_text, tl);
        }
        for (int i = 0; rc == WR_OK && sc != NULL && i < sc->n; i++) {
            const wr_stmt *st = sc->stmts[i];
            char *sql = wr_arena_strndup(a, st_text + st->text_off, st->text_len);
            if (json == NULL) {
                rc = exec_one(e, ss, st, sql ? sql : "", out, err);
                if (rc == WR_OK && e->cat != NULL && changes_catalog(st))
                    rc = catalog_record(e, ss, sql ? sql : "", err);
            } else if (st->kind == WR_S_QUERY || st->kind == WR_S_PRINT) {
                rc = wr_err_set(err, WR_EUNSUPP,
                                "The following statement types should be issued to the "
                                "websocket endpoint '/query': * PRINT * SELECT");
            } else {
                wr_buf t = WR_BUF_INIT, ent = WR_BUF_INIT;
                e->ent = &ent;
                e->ent_type = NULL;
                rc = exec_one(e, ss, st, sql ? sql : "", &t, err);
                e->ent = NULL;
                if (rc == WR_OK && e->cat != NULL && changes_catalog(st))
                    rc = catalog_record(e, ss, sql ? sql : "", err);
                if (rc == WR_OK)
                    json_entity(e, st, sql ? sql : "", &t, &ent, json);
                if (out != NULL)
                    wr_buf_append(out, t.data, t.len);
                wr_buf_free(&t);
                wr_buf_free(&ent);
                e->ent_type = NULL;
            }
            if (rc != WR_OK && failed != NULL) {
                wr_buf_reset(failed);
                wr_buf_append(failed, sql ? sql : "", sql ? strlen(sql) : 0);
            }
        }
        wr_arena_destroy(a);
        if (rc != WR_OK) {
            int line = 1, col = 1;
            for (size_t i = 0; i < pos; i++) {
                if (text[i] == '\n') {
                    line++;
                    col = 1;
                } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
                    col++;
                }
            }
            relocate(err, line, col);
        }
        pos += n;
    }
    if (ss == &local) {
        wr_props_free(&local.vars);
        wr_props_free(&local.props);
    }
    return rc;
}

int
wr_engine_execute(
    wr_engine *e, wr_session *ss, const char *text, size_t len, wr_buf *out, wr_err *err)
{
    return execute(e, ss, text, len, out, NULL, NULL, err);
}

int
wr_engine_execute_json(wr_engine *e,
                       wr_session *ss,
                       const char *text,
                       size_t len,
                       wr_buf *json,
                       wr_buf *failed,
                       wr_err *err)
{
    return execute(e, ss, text, len, NULL, json, failed, err);
}

/* ---- JSON bridges for tools -------------------------------------------------------------- */

bool
wr_engine_topic_window(wr_engine *e, const char *topic, int *kind, int64_t *size)
{
    const wr_source *s = source_by_topic(e, topic);
    if (s == NULL || s->window_kind < 0)
        return false;
    *kind = s->window_kind;
    *size = s->window_size;
    return true;
}

static int
json_fmts(
    wr_engine *e, wr_arena *a, const char *topic, bool key, wr_fmt *real, wr_fmt *json, wr_err *err)
{
    wr_source *s = source_by_topic(e, topic);
    if (s == NULL)
        return wr_err_set(err, WR_ENOENT, "no stream or table reads topic %s", topic);
    if (make_fmt(a, s, key, real) != WR_OK)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    *json = *real;
    json->kind = WR_FMT_JSON;
    /* a key is given as its bare value; a value as an object unless the source unwraps it */
    json->wrap_single =
        key ? false : (real->ncols != 1 || real->wrap_single || real->kind != WR_FMT_JSON);
    if (!key && real->ncols == 1 && real->kind == WR_FMT_KAFKA)
        json->wrap_single = false;
    return WR_OK;
}

int
wr_engine_encode_json(wr_engine *e,
                      const char *topic,
                      bool key,
                      const char *json,
                      wr_buf *out,
                      bool *is_null,
                      wr_err *err)
{
    wr_arena *a = wr_arena_create(0);
    wr_fmt real, jf;
    int rc = json_fmts(e, a, topic, key, &real, &jf, err);
    *is_null = json == NULL;
    if (rc == WR_OK && json != NULL) {
        if (real.kind == WR_FMT_DELIMITED && json[0] == '"') {
            /* a DELIMITED record is given as the JSON string of its text */
            wr_val *one = wr_arena_calloc(a, 1, sizeof *one);
            wr_fmt sf = {.kind = WR_FMT_JSON, .ncols = 1};
            const char *nm = "V";
            const wr_sql_type *st = wr_type_of(WR_T_STRING);
            sf.names = &nm;
            sf.types = &st;
            rc = wr_fmt_decode(&sf, (const uint8_t *)json, strlen(json), false, one, a, err);
            if (rc == WR_OK)
                wr_buf_append(out, one->u.s.p, (size_t)one->u.s.len);
        } else {
            wr_val *v = wr_arena_calloc(a, (size_t)real.ncols + 1, sizeof *v);
            rc = wr_fmt_decode(&jf, (const uint8_t *)json, strlen(json), false, v, a, err);
            if (rc == WR_OK)
                rc = wr_fmt_encode(&real, v, out, is_null, err);
        }
    }
    wr_arena_destroy(a);
    return rc;
}

int
wr_engine_decode_json(wr_engine *e,
                      const char *topic,
                      bool key,
                      const uint8_t *data,
                      int32_t len,
                      wr_buf *out,
                      wr_err *err)
{
    wr_arena *a = wr_arena_create(0);
    wr_fmt real, jf;
    int rc = json_fmts(e, a, topic, key, &real, &jf, err);
    if (rc == WR_OK) {
        if (real.kind == WR_FMT_DELIMITED && !key) {
            wr_buf_put_u8(out, '"');
            for (int32_t i = 0; i < len; i++) {
                if (data[i] == '"' || data[i] == '\\')
                    wr_buf_put_u8(out, '\\');
                wr_buf_put_u8(out, data[i]);
            }
            wr_buf_put_u8(out, '"');
        } else {
            wr_val *v = wr_arena_calloc(a, (size_t)real.ncols + 1, sizeof *v);
            bool is_null = false;
            rc = wr_fmt_decode(&real, data, len > 0 ? (size_t)len : 0, len < 0, v, a, err);
            if (rc == WR_OK)
                rc = wr_fmt_encode(&jf, v, out, &is_null, err);
            if (rc == WR_OK && is_null) {
                wr_buf_reset(out);
                wr_buf_printf(out, "null");
            }
        }
    }
    wr_arena_destroy(a);
    return rc;
}

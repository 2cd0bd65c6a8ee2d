/*
 * engine_int.h - what the engine's files share (not a public interface; see engine.h).
 *
 * The engine is one object split by concern: engine.c (lifecycle, sources, DDL, INSERT VALUES,
 * DROP/TERMINATE, PRINT, statements and the persistent catalog), plan.c (planning CSAS, CTAS and
 * INSERT INTO ... SELECT, and push queries), run.c (running a task: decode, filter, project,
 * emit), stateful.c (aggregations and tables over state stores), pull.c (pull queries over
 * tables), show.c (SHOW, DESCRIBE and the REST entities) and commit.c (committing tasks under
 * at_least_once and exactly_once_v2). Everything here runs on the
 * engine's one thread. Functions named eng_* are internal to these files.
 */
#ifndef WR_RUNTIME_ENGINE_INT_H
#define WR_RUNTIME_ENGINE_INT_H

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
#include "runtime/engine.h"
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

/* A task's position: where a transaction (or an at_least_once run) began. */
typedef struct tpos {
    int64_t offset, stream_time, final_upto;
} tpos;

typedef struct task {
    int32_t partition;
    int64_t offset;         /* next input offset */
    int64_t end;            /* a pull query: the log end offset when it started */
    wr_store *store;        /* an aggregation's state (NULL: a stateless query) */
    wr_state_txn *txn;      /* during a run: the state's transaction */
    int64_t stream_time;    /* the largest event time seen (INT64_MIN: none yet) */
    int64_t final_upto;     /* EMIT FINAL: windows ending before this were emitted */
    struct rowcache *cache; /* during a run: the rows it updated (stateful.c), or NULL */
    struct jtask *jt;       /* a join's task: its inputs' positions and times (join.c) */
    tpos saved;             /* the position when its transaction (or run) began */
    struct ttx *tx;         /* exactly_once_v2: its producer and open transaction (commit.c) */
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

/* ---- joins (join.c) ---- */
typedef enum jkind {
    JN_SS, /* stream-stream, windowed (WITHIN) */
    JN_ST, /* stream-table */
    JN_TT, /* table-table on the primary key */
    JN_FK, /* table-table on a foreign key of the left */
} jkind;

/* One source of a join: sides[0] is the leftmost, sides[i] the right of joins[i - 1]. */
typedef struct jside {
    wr_source *src;
    const char *alias; /* what qualifies its columns */
    const char *topic; /* what its tasks read: the source's topic or its repartition topic */
    bool rekeyed;      /* reads a repartition topic (the source key is in a header) */
    bool global;       /* every task reads all its partitions (an FK join's right table) */
    int base, ncols;   /* its columns in the join scope: [base, base + ncols) */
    wr_scope scope;    /* its own columns (its key expressions are over them) */
    int nkey;
    wr_cexpr **key;       /* its join key, over its own scope */
    const char *key_text; /* ... as SQL */
    wr_cexpr **own;       /* an FK join's left source: its primary key (NULL: none) */
    int nown;
    bool *val_needed;
    struct wr_query *repart; /* the query that writes its repartition topic, or NULL */
} jside;

typedef struct jnode {
    jkind kind;
    wr_join_kind type;
    int right; /* its right side; its left is sides 0..right-1 joined */
    int nkey;
    wr_cexpr **lkey;           /* the left's join key, over the join scope */
    const wr_sql_type **ktype; /* the key's types */
    wr_cexpr **lown;           /* JN_FK: the left's own key, over the join scope */
    int nlown;
    int64_t before, after, grace;
    bool eager;     /* JN_SS without GRACE PERIOD: outer rows come out at once (ksqlDB) */
    int lend;       /* the left's columns: [0, lend) of the join scope */
    const char *on; /* the condition as SQL (EXPLAIN) */
} jnode;

typedef struct joinexec {
    int nsides;
    jside *sides;
    int njoins;
    jnode *joins;
    int ncols;       /* the join scope: the sides' columns, then ROWTIME [, ROWKEY] */
    int rowtime_col; /* the result's time */
    int rowkey_col;  /* FULL OUTER: the key, COALESCE of both sides' (-1: none) */
    bool table;      /* the result is a table */
    int partitions;
    /* the result's key: columns of the join scope and expressions (SQL) that hold it */
    int nkeycols, nkeytexts;
    int *keycols;
    const char **keytexts;
    const wr_sql_type *keytype;
} joinexec;

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
    wr_fn_ctx *tfn_call;   /* its call: overload, argument and result types */
    const char **out_text; /* each output expression as SQL, and the filter's (EXPLAIN) */
    bool *val_needed;      /* value columns the query reads: the decoder skips the others */
    const char *agg_text;  /* GROUP BY: the aggregation, for EXPLAIN (NULL: none) */
    struct aggexec *agg;   /* GROUP BY: the aggregation's plan (NULL: stateless) */
    struct pulltab *ptab;  /* a pull query over a table: what it reads (NULL: other queries) */
    struct joinexec *join; /* FROM a JOIN b ...: the join's plan (NULL: one source) */
    /* a repartition query (internal to another): each record is written unchanged to the
       partition of in_topic... that murmur2 of its new key (rekey, over the source) picks */
    const char *in_topic; /* the topic the tasks read (NULL: src->topic) */
    bool rekeyed;         /* in_topic is a repartition topic: the source key is a header */
    int nrekey;           /* a repartition query: its key expressions (q->out) */
    wr_fmt rekey_fmt;     /* ... and their format */
    int nreparts;
    struct wr_query **reparts; /* the repartition queries feeding this one (run first) */
    const char *repart_text;   /* a GROUP BY that needs a repartition: its key, as SQL */
    bool rows_in;              /* reads rows its join (reparts[0]) wrote to in_topic, over scope */
    const char *having_text;
    const char *where_text;
    /* a push or pull query, whose sink is a client (e->pushes): no topic, no offsets kept */
    bool is_push, pull, ended;
    bool eos;          /* processing.guarantee exactly_once_v2 (else at_least_once) */
    int64_t commit_ms; /* exactly_once_v2: commit.interval.ms */
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

typedef struct sink_out {
    wr_rbatch_builder *bb; /* one per sink partition */
    int32_t parts;
    task *t; /* whose outputs they are */
} sink_out;

/* What a decoded row of an aggregation store holds. */
typedef struct aggrow {
    wr_val *keys;     /* the GROUP BY values */
    int64_t ws, we;   /* the window (windowed only) */
    int64_t maxts;    /* the largest event time of its rows */
    wr_aggst *states; /* one per aggregate */
} aggrow;

struct pulltab;

/* Reserved first bytes of an aggregation store's keys (row keys start with 0 or 1, see
   stateful.c): the task's position, the window index, and a table source's rows. */
#define STORE_META 0xf0
#define STORE_WIX  0xf1
#define STORE_SRC  0xf2
#define STORE_JOIN 0xf3 /* a join task's input positions and times */
/* join state keys start with 0xd0 + the join's index (join.c) */
#define STORE_JOIN_BASE 0xd0
#define REKEY_HEADER    "weir.key"  /* a repartitioned record's original key */
#define UNDO_HEADER     "weir.undo" /* ... a table's row taken out of its old key */

/* commit.c */
int64_t eng_committed_offset(wr_engine *e, const wr_query *q, int32_t part);
char *eng_query_group(wr_engine *e, const wr_query *q);
int eng_query_guarantee(wr_engine *e, wr_session *ss, wr_query *q, wr_err *err);
/* Before a run: begins the task's transaction unless one is open (exactly_once_v2), or the
   run's (at_least_once), with a state transaction for a stateful task. */
int eng_task_begin(wr_engine *e, wr_query *q, task *t, bool stateful, wr_err *err);
/* An output batch (or several) of the task to (topic, part). */
int eng_task_append(
    wr_engine *e, wr_query *q, task *t, const char *topic, int32_t part, wr_buf *data, wr_err *err);
/* After a run that went as rc says: at_least_once commits it (state, then input offset);
   exactly_once_v2 aborts the transaction when the run failed. A failed run is rolled back.
   Returns the run's result, or the commit's. */
int eng_task_end_run(wr_engine *e, wr_query *q, task *t, bool stateful, int rc, wr_err *err);
/* exactly_once_v2: commits the task's open transaction when commit.interval.ms has passed
   since it began (force: now). */
int eng_task_tick(wr_engine *e, wr_query *q, task *t, bool force, wr_err *err);
/* Commits the open transactions of q's tasks and of its repartition queries. */
int eng_query_commit(wr_engine *e, wr_query *q, wr_err *err);
/* A query stops (TERMINATE, an upgrade, the engine's end): its open transactions commit, as
   Kafka Streams commits when it closes, so that the work done so far is kept. */
void eng_query_finish(wr_engine *e, wr_query *q);
/* Frees what q's tasks hold for their transactions, aborting any still open. */
void eng_query_close_tasks(wr_query *q);

/* engine.c */
int eng_check_formats(wr_source *s, wr_loc at, wr_err *err);
int eng_check_props(const wr_stmt *st, wr_err *err);
int eng_check_upgrade(const wr_source *old, const wr_source *nu, wr_loc at, wr_err *err);
int eng_ensure_topic(wr_engine *e,
                     const wr_stmt *st,
                     wr_source *s,
                     const char *dflt_topic,
                     int dflt_parts,
                     bool create_ok,
                     wr_err *err);
int eng_fail_at(wr_err *err, wr_loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void
eng_fill_headers(const wr_source *s, wr_batch *b, int32_t r, const wr_record *rec, wr_arena *a);
int eng_formats(const wr_stmt *st,
                wr_source *s,
                wr_fmt_kind key_dflt,
                wr_fmt_kind val_dflt,
                bool need_val,
                wr_err *err);
wr_val eng_header_value(const wr_source *s, int i, const wr_record *rec, wr_arena *a);
bool eng_is_header_role(wr_colrole r);
bool eng_is_key_role(wr_colrole r);
int eng_make_fmt(wr_arena *a, const wr_source *s, bool key, wr_fmt *f);
void eng_msg(wr_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const wr_property *eng_prop(const wr_stmt *st, const char *name);
void eng_push_free(wr_query *q);
void eng_query_free(wr_query *q);
const char *eng_session_var(void *arg, const char *name);
wr_source *eng_source_find(wr_engine *e, const char *name);
void eng_source_free(wr_source *s);
bool eng_source_in_use(const wr_engine *e, const wr_source *s, const wr_query *except);
wr_source *eng_source_new(const char *name, bool is_table);
void eng_source_unlink(wr_engine *e, wr_source *s);
int eng_timestamp_col(const wr_stmt *st, wr_source *s, wr_err *err);

/* plan.c */
int eng_exec_query_into(
    wr_engine *e, wr_session *ss, const wr_stmt *st, const char *sql, wr_buf *out, wr_err *err);
void eng_explain_query(wr_buf *out, const wr_query *q);
bool eng_has_aggregate(const wr_engine *e, const wr_expr *x);
void eng_push_header(wr_engine *e, wr_query *qr);
char *eng_query_id(wr_engine *e, const char *prefix, const char *sink);
char *eng_transient_id(wr_engine *e, const wr_query *qr);
int eng_plan_needed(wr_query *q, wr_err *err);
int eng_source_scope(wr_arena *a, const wr_source *s, const char *alias, wr_scope *sc);
int eng_start_tasks(wr_engine *e, wr_session *ss, wr_query *qr, wr_err *err);
/* What a repartition query writes: each record of src (its columns: scope) by its new key, the
   nkey expressions key (key_text as SQL), encoded in format kf, over `partitions` partitions. */
typedef struct repart_spec {
    wr_source *src;
    const wr_scope *scope;
    wr_cexpr **key;
    int nkey;
    const char *key_text;
    int32_t partitions;
    wr_fmt_kind kf;
} repart_spec;
int eng_repart_start(wr_engine *e,
                     wr_session *ss,
                     wr_query *q,
                     int n,
                     const repart_spec *rs,
                     wr_query **out,
                     wr_err *err);
const char *eng_expr_text(wr_arena *a, const wr_expr *x);

/* run.c */
int eng_emit_record(wr_engine *e,
                    wr_query *q,
                    task *t,
                    sink_out *so,
                    const wr_buf *kb,
                    bool knull,
                    size_t kh,
                    const wr_buf *vb,
                    bool vnull,
                    int64_t when,
                    wr_err *err);
int eng_flush_sink(wr_engine *e, wr_query *q, sink_out *so, wr_err *err);
bool eng_rekeyed_key(wr_record *rec);
bool eng_event_time(
    const wr_source *s, const wr_val *tv, int64_t rowtime, int64_t *when, char *msg, size_t cap);
void eng_row_encode(wr_buf *b, const wr_scope *sc, const wr_val *v, int64_t ts, int lo, int hi);
bool eng_row_decode(const wr_scope *sc,
                    wr_arena *a,
                    const uint8_t *p,
                    size_t n,
                    wr_val *v,
                    int64_t *ts,
                    int lo,
                    int hi);
int32_t eng_partition_for(const uint8_t *key, int32_t klen, int32_t parts, int32_t dflt);
void eng_plog(wr_engine *e, const wr_query *q, int32_t part, int64_t offset, const char *what);
void eng_push_row(wr_query *q, const wr_val *vals, bool gone, wr_buf *b);
int eng_run_batch(wr_engine *e,
                  wr_query *q,
                  task *t,
                  const uint8_t *data,
                  size_t len,
                  sink_out *so,
                  wr_arena *ra,
                  wr_buf *scratch,
                  int64_t *consumed,
                  wr_err *err);

/* stateful.c */
int eng_agg_run_batch(wr_engine *e,
                      wr_query *q,
                      task *t,
                      sink_out *so,
                      wr_arena *ra,
                      int64_t first_offset,
                      const char *warning,
                      wr_batch *b,
                      const int64_t *ts,
                      const int8_t *sign,
                      wr_err *err);
bool eng_agg_decode(const aggexec *ax,
                    const uint8_t *k,
                    size_t kl,
                    const uint8_t *v,
                    size_t vl,
                    aggrow *r,
                    wr_arena *a);
bool eng_agg_output(wr_query *q,
                    const wr_val *post,
                    wr_val *allv,
                    wr_val *ok,
                    wr_val *ov,
                    wr_arena *a,
                    char *warning,
                    size_t wlen);
void eng_agg_post_row(const aggexec *ax, const aggrow *r, wr_val *post, wr_arena *a);
aggrow *eng_aggrow_new(const aggexec *ax, wr_arena *a);
void eng_drop_task_stores(wr_engine *e, wr_query *q);
int eng_open_task_stores(wr_engine *e, wr_query *q, wr_err *err);
void eng_push_end(wr_engine *e, wr_query *q, const char *why);
int eng_run_task(wr_engine *e, wr_query *q, task *t, int64_t *records, wr_err *err);
/* Restores the task's store from its changelog and the task's position from the store. */
int eng_task_reload(wr_engine *e, wr_query *q, task *t, wr_err *err);

/* join.c */
bool eng_join_uses(const wr_query *q, const wr_source *s);
void eng_explain_join(wr_buf *out, const wr_query *q, int ind);
bool eng_join_idle(wr_engine *e, const wr_query *q, const task *t);
int eng_join_open_tasks(wr_engine *e, wr_session *ss, wr_query *q, wr_err *err);
void eng_join_rollback(task *t);
void eng_join_save(task *t);
/* The task's positions from its (restored) store. */
void eng_join_reload(wr_engine *e, wr_query *q, task *t);
int eng_join_plan(wr_engine *e, wr_query *qr, const wr_select *q, wr_err *err);
int eng_join_run(
    wr_engine *e, wr_query *q, task *t, sink_out *so, wr_arena *ra, int64_t *records, wr_err *err);
void eng_join_store_meta(task *t);
int eng_batch_out(wr_engine *e,
                  wr_query *q,
                  task *t,
                  sink_out *so,
                  wr_arena *ra,
                  wr_batch *b,
                  const int64_t *ts,
                  const int8_t *sign,
                  const bool *gone,
                  int64_t first_offset,
                  wr_err *err);

/* pull.c */
int eng_pull_table_open(
    wr_engine *e, const wr_select *sel, wr_source *src, const char *sql, wr_err *err);
void eng_pull_table_step(wr_engine *e, wr_query *q);
void eng_pulltab_free(struct pulltab *p);
void eng_pull_writer_gone(wr_engine *e, const wr_query *writer);

/* show.c */
int eng_exec_describe(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err);
int eng_exec_show(wr_engine *e, wr_session *ss, const wr_stmt *st, wr_buf *out, wr_err *err);
void eng_jkv(wr_buf *b, bool first, const char *key, const char *value);
void eng_jstr(wr_buf *b, const char *s);

#endif

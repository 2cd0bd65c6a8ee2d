/*
 * engine.h - the SQL engine: the catalog of streams and tables, statement execution, and the
 * persistent queries that run over the log.
 *
 * An engine works on one log (wr_logdb) and one function registry. Statements arrive as text
 * (wr_engine_execute), one script at a time; DEFINE'd variables and SET properties live in a
 * wr_session the caller keeps. A persistent query (CREATE STREAM ... AS SELECT, INSERT INTO ...
 * SELECT) becomes one task per input partition; wr_engine_poll runs every task once over the
 * records available, which is how both the in-process test runner (weir-qtt) and the server's
 * worker threads drive them.
 *
 * Threads: one thread at a time per engine (the server serialises statements and polls).
 */
#ifndef WR_RUNTIME_ENGINE_H
#define WR_RUNTIME_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "src/base/buf.h"
#include "src/base/err.h"
#include "src/log/log.h"
#include "udf/fn.h"

typedef struct wr_engine wr_engine;

typedef struct wr_engine_opts {
    wr_logdb *db;
    const wr_fn_registry *fns;
    const char *service_id; /* "weir" by default: processing log "<id>_processing_log" */
    int default_partitions; /* for sink topics when the source's count is unknown: 1 */
    /* Persistent catalog: statements that change the catalog are appended to the command
       topic "_weir_commands" of the log and materialised into the sqlite3 database at
       catalog_path; wr_engine_create replays the command topic, so a restart rebuilds the
       catalog and every query resumes from its committed offsets. NULL: an in-memory catalog
       (tests, and the headless mode, whose queries file is the catalog). */
    const char *catalog_path;
    /* Operator state (aggregations): the worker's state stores, borrowed. NULL: queries that
       need state are refused. */
    struct wr_state *state;
    /* ksql.query.pull.table.scan.enabled: pull queries may scan a whole table when their WHERE
       does not pin the key (true by default, as in ksqlDB) */
    bool pull_scan_disabled;
    /* CREATE FUNCTIONS FROM 'library.so' loads through it (borrowed; NULL: refused) */
    struct wr_udf_loader *udfs;
    /* The log's transaction coordinator (borrowed): queries under exactly_once_v2 commit
       through it, in process. NULL: queries run at_least_once, and asking for exactly-once
       is an error. */
    struct wr_txn_coord *txn;
    /* ksql.streams.processing.guarantee for queries whose session does not SET
       processing.guarantee: "exactly_once_v2" (the default with txn) or "at_least_once" */
    const char *guarantee;
    /* ksql.streams.commit.interval.ms under exactly_once_v2 (0: 100 ms) */
    int64_t commit_interval_ms;
} wr_engine_opts;

/* Session state of one client: DEFINE'd variables and SET properties. */
typedef struct wr_session wr_session;
wr_session *wr_session_create(void);
void wr_session_destroy(wr_session *s);
/* SET from outside a statement ("auto.offset.reset" = "earliest"). */
int wr_session_set(wr_session *s, const char *name, const char *value);
/* DEFINE from outside a statement (a client's session variables). */
int wr_session_define(wr_session *s, const char *name, const char *value);

int wr_engine_create(const wr_engine_opts *opts, wr_engine **out, wr_err *err);
void wr_engine_destroy(wr_engine *e);

/*
 * Runs every statement of text in order, stopping at the first failure. For each successful
 * statement one line describing it is appended to out ("Stream S2 created and running",
 * "Created query with ID CSAS_S2_0", a table for SHOW/DESCRIBE). Returns WR_OK, or the failure
 * (WR_ESYNTAX/WR_ESEMANTIC with line:column, or another code) with err set; statements before
 * the failing one have taken effect.
 */
int wr_engine_execute(
    wr_engine *e, wr_session *s, const char *text, size_t len, wr_buf *out, wr_err *err);

/*
 * wr_engine_execute for the REST API (POST /ksql): json receives, comma-separated and without
 * the enclosing brackets, one entity per statement that makes one, in ksqlDB's shapes
 * ("@type": currentStatus, streams, tables, queries, kafka_topics, properties, variables,
 * function_names, sourceDescription, describe_function, queryDescription), each with the
 * statementText and, in "weirText", the text wr_engine_execute would have written. On failure
 * json holds the entities of the statements before, failed the failing statement's text, and
 * err the failure; err->code is WR_EUNSUPP for a statement the /ksql endpoint does not take
 * (SELECT, PRINT: they go to /query or /query-stream).
 */
int wr_engine_execute_json(wr_engine *e,
                           wr_session *s,
                           const char *text,
                           size_t len,
                           wr_buf *json,
                           wr_buf *failed,
                           wr_err *err);

/*
 * Push and pull queries: a SELECT whose rows go to a client instead of a topic. With EMIT
 * CHANGES it is a push query that runs until closed or its LIMIT is reached, from the latest
 * offsets (or the earliest, with auto.offset.reset=earliest in the session); without, a pull
 * query over a stream, which reads what the stream holds now and ends.
 *
 * The sink's callbacks run on the thread that calls wr_engine_poll. Once done has been called
 * the query is gone; wr_engine_push_close ends it early without calling done.
 */
typedef struct wr_push_sink {
    void *arg;
    /* One row: a JSON array of the columns, in select-list order (borrowed for the call). */
    void (*row)(void *arg, const char *json, size_t len);
    /* Whether rows may be delivered now; false holds the query back (back-pressure). */
    bool (*ready)(void *arg);
    /* The query has ended: why NULL when it is complete (LIMIT, pull), else the reason. */
    void (*done)(void *arg, const char *why);
    /* A query over a table: the row with these key columns was deleted or no longer matches
       (the other columns are null). NULL: such changes are not delivered. */
    void (*tombstone)(void *arg, const char *json, size_t len);
} wr_push_sink;

/* What a client is told before the rows: caller-initialised buffers, filled on success. */
typedef struct wr_push_info {
    char query_id[200];
    wr_buf names;  /* JSON array of the column names */
    wr_buf types;  /* JSON array of their SQL types */
    wr_buf schema; /* "`ID` INTEGER, `NAME` STRING", as ksqlDB's /query header has it */
    bool pull;
} wr_push_info;

int wr_engine_push_open(wr_engine *e,
                        wr_session *s,
                        const char *text,
                        size_t len,
                        const wr_push_sink *sink,
                        wr_push_info *info,
                        wr_err *err);
/* WR_ENOENT when the query has ended already. */
int wr_engine_push_close(wr_engine *e, const char *query_id);

/* Runs every query's tasks once over what is available; *records: input records consumed. */
int wr_engine_poll(wr_engine *e, int64_t *records, wr_err *err);

/* Counters of a query (per-query metrics). */
typedef struct wr_query_stats {
    int64_t records_in, records_out, decode_errors, eval_errors;
    int64_t busy_ns, reads; /* time spent processing reads of input, and their number */
    int64_t late;           /* records dropped for arriving after their window's grace period */
    int64_t null_keys;      /* records dropped because their GROUP BY key was null */
    int64_t restored;       /* changelog records replayed into the query's stores at start */
} wr_query_stats;

/* Prometheus text of every query's counters (weir_query_*), appended to out. */
int wr_engine_metrics(wr_engine *e, wr_buf *out);

/* Appends one row given as a JSON object naming the columns of stream or table target (key and
   value columns, matched case-insensitively) to its topic, as /inserts-stream does. */
int
wr_engine_insert_json(wr_engine *e, const char *target, const char *json, size_t len, wr_err *err);
int wr_engine_query_stats(wr_engine *e, const char *query_id, wr_query_stats *out);

/* Whether topic is a windowed table's: its record keys end with the window (Kafka Streams'
   windowed key: start for TUMBLING/HOPPING, end then start for SESSION, 8 bytes each,
   big-endian); *kind is a wr_window_kind, *size the window size in ms. */
bool wr_engine_topic_window(wr_engine *e, const char *topic, int *kind, int64_t *size);

/* The value and key serialisation of a source, for tools that produce to or read from it
   (weir-qtt): encodes the JSON text of a key or value into the source's format. */
int wr_engine_encode_json(wr_engine *e,
                          const char *topic,
                          bool key,
                          const char *json,
                          wr_buf *out,
                          bool *is_null,
                          wr_err *err);
/* Decodes the bytes of a record of topic into JSON text (key or value), by the schema of a
   source over that topic. */
int wr_engine_decode_json(wr_engine *e,
                          const char *topic,
                          bool key,
                          const uint8_t *data,
                          int32_t len,
                          wr_buf *out,
                          wr_err *err);

#endif

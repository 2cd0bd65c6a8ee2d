/*
 * sqlworker.h - the SQL engine thread of `weir server` (see sqlworker.c).
 */
#ifndef WR_CLI_SQLWORKER_H
#define WR_CLI_SQLWORKER_H

#include "runtime/engine.h"
#include "src/base/err.h"
#include "src/log/log.h"

typedef struct wr_sqlworker wr_sqlworker;

typedef struct wr_sqlworker_opts {
    const char *queries_file;        /* statements run at start (ksql.queries.file), or NULL */
    const char *auto_offset_reset;   /* "earliest" or "latest" (default) for new queries */
    const char *service_id;          /* ksql.service.id */
    const char *catalog_path;        /* without a queries file: the persistent catalog's sqlite3
                                        file (the command topic is replayed at start) */
    const char *state_dir;           /* ksql.streams.state.dir: the worker's state stores */
    size_t state_cache_bytes;        /* the stores' shared block cache */
    size_t state_write_buffer_bytes; /* all memtables together */
    bool pull_scan_disabled;         /* ksql.query.pull.table.scan.enabled=false */
    const char *extension_dir;       /* ksql.extension.dir: UDF libraries loaded at start */
    const char *udf_allowlist;       /* weir.udf.allowlist: directories (comma-separated) UDF
                                        libraries may come from; NULL: extension_dir alone */
    struct wr_txn_coord *txn;        /* the broker's transaction coordinator (exactly-once) */
    const char *guarantee;           /* ksql.streams.processing.guarantee */
    int64_t commit_interval_ms;      /* ksql.streams.commit.interval.ms under exactly-once */
} wr_sqlworker_opts;

int wr_sqlworker_start(wr_logdb *db, const wr_sqlworker_opts *o, wr_sqlworker **out, wr_err *err);
/* Runs fn(engine, session, arg) on the worker thread, between polls, in submission order: the
   only way other threads use the engine. WR_ECLOSED once stopping (fn is not run); a job
   submitted before the stop always runs. session: the worker's own (headless) session; clients
   keep theirs. */
int
wr_sqlworker_submit(wr_sqlworker *w, void (*fn)(wr_engine *e, wr_session *s, void *arg), void *arg);
const char *wr_sqlworker_service_id(const wr_sqlworker *w);
/* Stops polling, joins the thread, frees everything. NULL-safe. */
void wr_sqlworker_stop(wr_sqlworker *w);

#endif

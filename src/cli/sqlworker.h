/*
 * sqlworker.h - the SQL engine thread of `weir server` (see sqlworker.c).
 */
#ifndef WR_CLI_SQLWORKER_H
#define WR_CLI_SQLWORKER_H

#include "src/base/err.h"
#include "src/log/log.h"

typedef struct wr_sqlworker wr_sqlworker;

typedef struct wr_sqlworker_opts {
    const char *queries_file;      /* statements run at start (ksql.queries.file), or NULL */
    const char *auto_offset_reset; /* "earliest" or "latest" (default) for new queries */
    const char *service_id;        /* ksql.service.id */
    const char *catalog_path;      /* without a queries file: the persistent catalog's sqlite3
                                      file (the command topic is replayed at start) */
} wr_sqlworker_opts;

int wr_sqlworker_start(wr_logdb *db, const wr_sqlworker_opts *o, wr_sqlworker **out, wr_err *err);
/* Stops polling, joins the thread, frees everything. NULL-safe. */
void wr_sqlworker_stop(wr_sqlworker *w);

#endif

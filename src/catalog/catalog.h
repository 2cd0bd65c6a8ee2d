/*
 * catalog.h - the persistent SQL catalog: the command topic of the log and its sqlite3
 * materialisation.
 *
 * Every statement that changes the catalog (CREATE, CSAS, INSERT INTO ... SELECT, DROP,
 * TERMINATE) is appended, once it has succeeded, to the one-partition topic "_weir_commands",
 * with the session properties it ran with as record headers. That topic is the truth: at start
 * the engine replays it in order and gets the same catalog and the same query ids back (so
 * every query finds its committed offsets). sqlite3 holds a materialised view of it (tables
 * commands, sources, queries) that tools and operators can read without the engine; it is
 * rewritten after each command.
 *
 * The catalog does not know SQL: the engine parses and runs the statements and hands over the
 * rows to materialise. One thread at a time.
 */
#ifndef WR_CATALOG_CATALOG_H
#define WR_CATALOG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "src/base/err.h"
#include "src/base/props.h"
#include "src/log/log.h"

#define WR_CATALOG_TOPIC "_weir_commands"

typedef struct wr_catalog wr_catalog;

/* Opens (creating) the sqlite3 database at path. The command topic is created with the first
   command, so a server that never runs SQL shows no internal topic. */
int wr_catalog_open(wr_logdb *db, const char *path, wr_catalog **out, wr_err *err);
void wr_catalog_close(wr_catalog *c);

/* Appends a command; *offset is where it landed. */
int wr_catalog_append(
    wr_catalog *c, const char *sql, const wr_props *props, int64_t *offset, wr_err *err);

/* Calls fn for every command of the topic, in order; fn's result other than WR_OK stops. */
typedef int (*wr_catalog_cmd_fn)(
    void *arg, int64_t offset, const char *sql, size_t len, const wr_props *props);
int wr_catalog_replay(wr_catalog *c, wr_catalog_cmd_fn fn, void *arg, int64_t *count, wr_err *err);

typedef struct wr_catalog_source {
    const char *name, *kind, *topic, *key_format, *value_format, *statement;
} wr_catalog_source;

typedef struct wr_catalog_query {
    const char *id, *sink, *source, *statement;
} wr_catalog_query;

/* Records the command at offset and rewrites the sources and queries tables, in one sqlite3
   transaction. */
int wr_catalog_materialise(wr_catalog *c,
                           int64_t offset,
                           const char *sql,
                           const wr_props *props,
                           const wr_catalog_source *sources,
                           int nsources,
                           const wr_catalog_query *queries,
                           int nqueries,
                           wr_err *err);

#endif

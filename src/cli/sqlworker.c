/*
 * sqlworker.c - the SQL engine inside `weir server`: one thread that owns an engine over the
 * server's log, runs the statements of a queries file at start (ksqlDB's headless mode,
 * ksql.queries.file) and then polls the persistent queries until the server stops.
 *
 * Restarts: the file is run again; query ids are given in statement order, so each query finds
 * the input offsets it committed before and resumes there.
 */
#include "src/cli/sqlworker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grammar/sql.h"
#include "runtime/engine.h"
#include "src/base/logging.h"
#include "state/store.h"
#include "udf/loader.h"

typedef struct job {
    struct job *next;
    void (*fn)(wr_engine *e, wr_session *s, void *arg);
    void *arg;
} job;

struct wr_sqlworker {
    job *jobs, **jobs_tail; /* run on the worker thread, in order, between polls */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    wr_engine *engine;
    wr_state *state; /* the engine's state stores (owned) */
    wr_session *session;
    wr_fn_registry *fns;
    wr_udf_loader *udfs; /* the UDF libraries: open while the engine may call them */
    char service_id[128];
};

static void *
worker_main(void *arg)
{
    wr_sqlworker *w = arg;
    int64_t idle_ms = 1;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        job *list = w->jobs;
        w->jobs = NULL;
        w->jobs_tail = &w->jobs;
        pthread_mutex_unlock(&w->mu);
        for (job *j = list, *next; j != NULL; j = next) {
            next = j->next;
            j->fn(w->engine, w->session, j->arg);
            free(j);
        }
        int64_t n = 0;
        wr_err err = {0};
        if (wr_engine_poll(w->engine, &n, &err) != WR_OK)
            wr_log(WR_LOG_ERROR, "sql", "%s", err.msg);
        pthread_mutex_lock(&w->mu);
        if (n > 0 || list != NULL || w->jobs != NULL) {
            idle_ms = 1;
            continue;
        }
        /* idle: back off, doubling from 1 ms up to 64 ms between polls */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)idle_ms * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (!w->stop && w->jobs == NULL)
            pthread_cond_timedwait(&w->cv, &w->mu, &until);
        if (idle_ms < 50)
            idle_ms *= 2;
    }
    /* jobs submitted during the stop still run, so their owners are told */
    job *list = w->jobs;
    w->jobs = NULL;
    pthread_mutex_unlock(&w->mu);
    for (job *j = list, *next; j != NULL; j = next) {
        next = j->next;
        j->fn(w->engine, w->session, j->arg);
        free(j);
    }
    return NULL;
}

int
wr_sqlworker_submit(wr_sqlworker *w, void (*fn)(wr_engine *e, wr_session *s, void *arg), void *arg)
{
    job *j = malloc(sizeof *j);
    if (j == NULL)
        return WR_ENOMEM;
    *j = (job){NULL, fn, arg};
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        free(j);
        return WR_ECLOSED;
    }
    *w->jobs_tail = j;
    w->jobs_tail = &j->next;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return WR_OK;
}

const char *
wr_sqlworker_service_id(const wr_sqlworker *w)
{
    return w->service_id;
}

static int
run_file(wr_sqlworker *w, const char *path, wr_err *err)
{
    wr_buf text = WR_BUF_INIT;
    int rc = wr_buf_read_file(&text, path, WR_SQL_MAX_TEXT, err);
    if (rc != WR_OK) {
        wr_buf_free(&text);
        wr_err_prefix(err, "the queries file");
        return rc;
    }
    wr_buf out = WR_BUF_INIT;
    rc = wr_engine_execute(w->engine, w->session, (const char *)text.data, text.len, &out, err);
    if (out.len > 0)
        wr_log(WR_LOG_INFO, "sql", "%s: %.*s", path, (int)(out.len - 1), (const char *)out.data);
    if (rc != WR_OK)
        wr_err_prefix(err, "%s", path);
    wr_buf_free(&out);
    wr_buf_free(&text);
    return rc;
}

/* The UDF loader, with its allowlist, and the libraries of the extension directory (one that
   is refused is logged and skipped; the server starts with the rest). */
static int
start_udfs(wr_sqlworker *w, const wr_sqlworker_opts *o, wr_err *err)
{
    const char *list = o->udf_allowlist ? o->udf_allowlist : o->extension_dir;
    char *copy = list ? strdup(list) : NULL;
    const char *dirs[64];
    int n = 0;
    for (char *save = NULL, *d = copy ? strtok_r(copy, ",", &save) : NULL; d != NULL && n < 64;
         d = strtok_r(NULL, ",", &save)) {
        while (*d == ' ')
            d++;
        if (*d != 0)
            dirs[n++] = d;
    }
    w->udfs = wr_udf_loader_create(w->fns, dirs, n);
    free(copy);
    if (w->udfs == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    if (o->extension_dir == NULL || o->extension_dir[0] == 0)
        return WR_OK;
    int nlibs = 0;
    wr_err lerr = {0};
    if (wr_udf_load_dir(w->udfs, o->extension_dir, &nlibs, &lerr) != WR_OK)
        wr_log(WR_LOG_ERROR, "udf", "%s: no UDFs loaded", lerr.msg);
    else
        wr_log(WR_LOG_INFO, "udf", "%d UDF librar%s loaded from %s", nlibs,
               nlibs == 1 ? "y" : "ies", o->extension_dir);
    return WR_OK;
}

int
wr_sqlworker_start(wr_logdb *db, const wr_sqlworker_opts *o, wr_sqlworker **out, wr_err *err)
{
    wr_sqlworker *w = calloc(1, sizeof *w);
    if (w == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->jobs_tail = &w->jobs;
    snprintf(w->service_id, sizeof w->service_id, "%s", o->service_id ? o->service_id : "weir");
    int rc = WR_ENOMEM;
    w->fns = wr_fn_registry_create();
    w->session = wr_session_create();
    if (w->fns == NULL || w->session == NULL) {
        wr_err_set(err, WR_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = wr_fn_register_builtins(w->fns, err)) != WR_OK)
        goto fail;
    if ((rc = start_udfs(w, o, err)) != WR_OK)
        goto fail;
    /* ksqlDB's headless mode keeps no command topic: the queries file is the catalog */
    if (o->state_dir != NULL) {
        wr_state_opts sto = {.dir = o->state_dir,
                             .cache_bytes = o->state_cache_bytes,
                             .write_buffer_bytes = o->state_write_buffer_bytes,
                             .verify_on_open = true};
        if ((rc = wr_state_open(&sto, &w->state, err)) != WR_OK)
            goto fail;
        const char *why;
        if (wr_state_found_as(w->state, &why) == WR_STATE_WIPED)
            wr_log(WR_LOG_WARN, "sql",
                   "state stores in %s were damaged (%s): rebuilding them "
                   "from their changelogs",
                   o->state_dir, why);
    }
    wr_engine_opts eo = {.db = db,
                         .fns = w->fns,
                         .service_id = o->service_id,
                         .catalog_path = o->queries_file ? NULL : o->catalog_path,
                         .state = w->state,
                         .pull_scan_disabled = o->pull_scan_disabled,
                         .udfs = w->udfs,
                         .txn = o->txn,
                         .guarantee = o->guarantee,
                         .commit_interval_ms = o->commit_interval_ms};
    if ((rc = wr_engine_create(&eo, &w->engine, err)) != WR_OK)
        goto fail;
    if (o->auto_offset_reset != NULL)
        wr_session_set(w->session, "auto.offset.reset", o->auto_offset_reset);
    if (o->queries_file != NULL && (rc = run_file(w, o->queries_file, err)) != WR_OK)
        goto fail;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        rc = wr_err_set(err, WR_EIO, "cannot start the SQL worker thread");
        goto fail;
    }
    *out = w;
    return WR_OK;
fail:
    wr_engine_destroy(w->engine);
    wr_state_close(w->state);
    wr_session_destroy(w->session);
    wr_fn_registry_destroy(w->fns);
    wr_udf_loader_destroy(w->udfs);
    free(w);
    return rc;
}

void
wr_sqlworker_stop(wr_sqlworker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    wr_engine_destroy(w->engine);
    wr_state_close(w->state); /* after the engine: its stores belong to the state */
    wr_session_destroy(w->session);
    wr_fn_registry_destroy(w->fns);
    wr_udf_loader_destroy(w->udfs); /* after every query that could call its libraries */
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

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
#include "runtime/engine_int.h"
#include "udf/loader.h"

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

const char *
eng_session_var(void *arg, const char *name)
{
    return wr_props_get(&((wr_session *)arg)->vars, name);
}

/* ---- engine lifecycle -------------------------------------------------------------------- */

static int catalog_start(wr_engine *e, const char *path, wr_err *err);
struct pulltab;

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

void
eng_source_free(wr_source *s)
{
    wr_arena_destroy(s->arena);
}

void
eng_query_free(wr_query *q)
{
    eng_query_close_tasks(q);
    wr_arena_destroy(q->arena);
}

/* A push query owns its sink, a source of its own that is in no catalog. */
void
eng_push_free(wr_query *q)
{
    eng_source_free(q->sink);
    eng_query_free(q);
}

void
wr_engine_destroy(wr_engine *e)
{
    if (e == NULL)
        return;
    while (e->queries != NULL) {
        wr_query *q = e->queries;
        e->queries = q->next;
        eng_query_finish(e, q);
        eng_query_free(q);
    }
    while (e->pushes != NULL) {
        wr_query *q = e->pushes;
        e->pushes = q->next;
        eng_drop_task_stores(e, q);
        eng_push_free(q);
    }
    while (e->sources != NULL) {
        wr_source *s = e->sources;
        e->sources = s->next;
        eng_source_free(s);
    }
    wr_catalog_close(e->cat);
    free(e->service_id);
    free(e->plog_topic);
    free(e);
}

wr_source *
eng_source_find(wr_engine *e, const char *name)
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

const wr_property *
eng_prop(const wr_stmt *st, const char *name)
{
    for (int i = 0; i < st->nprops; i++)
        if (strcmp(st->props[i].name, name) == 0)
            return &st->props[i];
    return NULL;
}

int
eng_fail_at(wr_err *err, wr_loc at, const char *fmt, ...)
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
    const wr_property *p = eng_prop(st, name);
    if (p == NULL)
        return NULL;
    if (p->value->kind != WR_E_STRING) {
        eng_fail_at(err, p->loc, "%s must be a string, as in %s='...'", name, name);
        *bad = true;
        return NULL;
    }
    return p->value->text;
}

/* A duration as WINDOW_SIZE gives it: "<n> <unit>" (MILLISECOND[S] ... DAY[S]), in ms. */
static bool
parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"MILLISECOND", 1},
                 {"SECOND", 1000},
                 {"MINUTE", 60000},
                 {"HOUR", 3600000},
                 {"DAY", 86400000}};
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end == s || n <= 0)
        return false;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t l = strlen(units[i].unit);
        if (strncasecmp(end, units[i].unit, l) == 0 &&
            (end[l] == 0 || ((end[l] == 's' || end[l] == 'S') && end[l + 1] == 0))) {
            if (n > INT64_MAX / units[i].ms)
                return false;
            *ms = n * units[i].ms;
            return true;
        }
    }
    return false;
}

/* WINDOW_TYPE and WINDOW_SIZE: a source over the topic of a windowed aggregation, whose keys
   carry the window in Kafka Streams' format. */
static int
window_props(const wr_stmt *st, wr_source *s, wr_err *err)
{
    bool bad = false;
    const char *type = prop_string(st, "WINDOW_TYPE", err, &bad);
    const char *size = bad ? NULL : prop_string(st, "WINDOW_SIZE", err, &bad);
    if (bad)
        return err->code;
    const wr_property *sp = eng_prop(st, "WINDOW_SIZE");
    if (type == NULL)
        return sp ? eng_fail_at(err, sp->loc, "WINDOW_SIZE needs a WINDOW_TYPE") : WR_OK;
    const wr_property *tp = eng_prop(st, "WINDOW_TYPE");
    if (strcasecmp(type, "TUMBLING") == 0)
        s->window_kind = WR_WIN_TUMBLING;
    else if (strcasecmp(type, "HOPPING") == 0)
        s->window_kind = WR_WIN_HOPPING;
    else if (strcasecmp(type, "SESSION") == 0)
        s->window_kind = WR_WIN_SESSION;
    else
        return eng_fail_at(err, tp->loc,
                           "WINDOW_TYPE must be TUMBLING, HOPPING or SESSION, not '%s'", type);
    if (s->window_kind == WR_WIN_SESSION)
        return sp ? eng_fail_at(err, sp->loc, "WINDOW_SIZE should not be set for SESSION windows.")
                  : WR_OK;
    if (size == NULL)
        return eng_fail_at(err, tp->loc,
                           "Tumbling and Hopping window types should set WINDOW_SIZE in the "
                           "WITH clause.");
    if (!parse_duration(size, &s->window_size))
        return eng_fail_at(err, sp->loc,
                           "invalid WINDOW_SIZE '%s': expected a number and a unit, as '1 HOUR'",
                           size);
    return WR_OK;
}

static int
prop_int(const wr_stmt *st, const char *name, int64_t dflt, int64_t *out, wr_err *err)
{
    const wr_property *p = eng_prop(st, name);
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
    return eng_fail_at(err, p->loc, "%s must be an integer", name);
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

int
eng_check_props(const wr_stmt *st, wr_err *err)
{
    for (int i = 0; i < st->nprops; i++) {
        bool ok = false;
        for (const char **k = KNOWN_PROPS; *k != NULL && !ok; k++)
            ok = strcmp(*k, st->props[i].name) == 0;
        if (!ok)
            return eng_fail_at(err, st->props[i].loc,
                               "invalid config variable(s) in the WITH clause: %s",
                               st->props[i].name);
    }
    return WR_OK;
}

/* Formats and their options from WITH, defaulting to the given ones (a sink inherits its
   source's). */
int
eng_formats(const wr_stmt *st,
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
        return eng_fail_at(err, eng_prop(st, "FORMAT")->loc,
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
            return eng_fail_at(
                err, eng_prop(st, which[i])->loc,
                "the %s format is not supported yet (JSON, DELIMITED, KAFKA and NONE are)",
                names[i]);
        if (frc != WR_OK)
            return eng_fail_at(err, eng_prop(st, which[i])->loc,
                               "unknown format: %s (expected JSON, DELIMITED, KAFKA or NONE)",
                               names[i]);
    }
    if (need_val && names[1] == NULL && (int)val_dflt < 0)
        return eng_fail_at(
            err, st->name_loc,
            "missing required property \"VALUE_FORMAT\" or \"FORMAT\" in the WITH clause");
    const wr_property *w = eng_prop(st, "WRAP_SINGLE_VALUE");
    s->wrap_single = true;
    if (w != NULL) {
        if (w->value->kind != WR_E_BOOL &&
            !(w->value->kind == WR_E_STRING && (strcasecmp(w->value->text, "true") == 0 ||
                                                strcasecmp(w->value->text, "false") == 0)))
            return eng_fail_at(err, w->loc, "WRAP_SINGLE_VALUE must be true or false");
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
            return eng_fail_at(err, eng_prop(st, "VALUE_DELIMITER")->loc,
                               "VALUE_DELIMITER must be a single character, TAB or SPACE");
    }
    return WR_OK;
}

/* The key or value serde of a source. cols/types are arena arrays of the matching columns. */
int
eng_make_fmt(wr_arena *a, const wr_source *s, bool key, wr_fmt *f)
{
    memset(f, 0, sizeof *f);
    f->kind = key ? s->key_fmt : s->val_fmt;
    f->key = key;
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

bool
eng_is_key_role(wr_colrole r)
{
    return r == WR_COL_KEY || r == WR_COL_PRIMARY_KEY;
}

bool
eng_is_header_role(wr_colrole r)
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
void
eng_fill_headers(const wr_source *s, wr_batch *b, int32_t r, const wr_record *rec, wr_arena *a)
{
    for (int i = 0; i < s->ncols; i++)
        if (eng_is_header_role(s->cols[i].role)) {
            wr_val v = eng_header_value(s, i, rec, a);
            wr_vec_set(&b->cols[i], r, &v);
        }
}

/* Header column i of s from the record's headers. */
wr_val
eng_header_value(const wr_source *s, int i, const wr_record *rec, wr_arena *a)
{
    wr_rd rd = wr_rd_make(rec->headers, rec->headers_len);
    wr_rheader h;
    wr_val v = wr_val_null(s->cols[i].type);
    if (s->cols[i].role == WR_COL_HEADER) {
        size_t kl = strlen(s->cols[i].header_key);
        while (wr_record_header_next(&rd, &h) == 1)
            if ((size_t)h.key_len == kl && memcmp(h.key, s->cols[i].header_key, kl) == 0)
                v = h.value ? wr_val_bytes((const char *)h.value, h.value_len)
                            : wr_val_null(s->cols[i].type);
        return v;
    }
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
    return v;
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
int
eng_check_formats(wr_source *s, wr_loc at, wr_err *err)
{
    wr_arena *a = s->arena;
    for (int k = 0; k < 2; k++) {
        wr_fmt f;
        if (eng_make_fmt(a, s, k == 0, &f) != WR_OK)
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        wr_err ferr = {0};
        if (wr_fmt_check(&f, &ferr) != WR_OK)
            return eng_fail_at(err, at, "%s", ferr.msg);
    }
    return WR_OK;
}

/* Topic name and partitions from WITH: an existing topic, or a new one when PARTITIONS is
   given (ksqlDB's rules). */
int
eng_ensure_topic(wr_engine *e,
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
        return eng_fail_at(err, st->name_loc,
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
        if (eng_prop(st, "PARTITIONS") != NULL && parts != have)
            return eng_fail_at(err, eng_prop(st, "PARTITIONS")->loc,
                               "a topic %s with %d partitions already exists, not %lld", s->topic,
                               have, (long long)parts);
        s->partitions = have;
        return WR_OK;
    }
    if (!create_ok && eng_prop(st, "PARTITIONS") == NULL)
        return eng_fail_at(
            err, st->name_loc,
            "topic '%s' does not exist. If you want to create a new topic for the %s "
            "please re-run the statement providing the required 'PARTITIONS' "
            "configuration in the WITH clause (and optionally 'REPLICAS')",
            s->topic, st->is_table ? "table" : "stream");
    if (parts < 1 || parts > 10000)
        return eng_fail_at(
            err, eng_prop(st, "PARTITIONS") ? eng_prop(st, "PARTITIONS")->loc : st->name_loc,
            "PARTITIONS must be between 1 and 10000");
    wr_err lerr = {0};
    if (wr_log_topic_create(e->opts.db, s->topic, (int32_t)parts, NULL, &lerr) != WR_OK &&
        lerr.code != WR_EEXIST)
        return eng_fail_at(err, st->name_loc, "cannot create topic %s: %s", s->topic, lerr.msg);
    s->partitions = wr_log_topic_partitions(e->opts.db, s->topic);
    return WR_OK;
}

int
eng_timestamp_col(const wr_stmt *st, wr_source *s, wr_err *err)
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
            bool fmt = eng_prop(st, "TIMESTAMP_FORMAT") != NULL;
            if (k != WR_T_BIGINT && k != WR_T_TIMESTAMP && !(k == WR_T_STRING && fmt))
                return eng_fail_at(
                    err, eng_prop(st, "TIMESTAMP")->loc,
                    "TIMESTAMP column %s must be BIGINT or TIMESTAMP (or STRING with "
                    "TIMESTAMP_FORMAT), not %s",
                    s->cols[i].name, k == WR_T_STRING ? "STRING" : "another type");
            if (k == WR_T_STRING) {
                const char *f = prop_string(st, "TIMESTAMP_FORMAT", err, &bad);
                wr_buf probe = WR_BUF_INIT;
                bool ok = f != NULL && wr_time_format(&probe, 0, NULL, f);
                wr_buf_free(&probe);
                if (bad || !ok)
                    return eng_fail_at(
                        err, eng_prop(st, "TIMESTAMP_FORMAT")->loc,
                        "invalid TIMESTAMP_FORMAT: a Java pattern (yyyy-MM-dd HH:mm:ss) "
                        "is expected");
                s->ts_format = wr_arena_strdup(s->arena, f);
            }
            s->ts_col = i;
            return WR_OK;
        }
    return eng_fail_at(err, eng_prop(st, "TIMESTAMP")->loc,
                       "the TIMESTAMP column %s does not exist", up);
}

wr_source *
eng_source_new(const char *name, bool is_table)
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

void
eng_msg(wr_buf *out, const char *fmt, ...)
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
int
eng_check_upgrade(const wr_source *old, const wr_source *nu, wr_loc at, wr_err *err)
{
    static const char *fmts[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    if (old->is_table != nu->is_table)
        return eng_fail_at(err, at, "cannot replace %s %s with a %s",
                           old->is_table ? "table" : "stream", old->name,
                           nu->is_table ? "table" : "stream");
    if (strcmp(old->topic, nu->topic) != 0 || old->key_fmt != nu->key_fmt ||
        old->val_fmt != nu->val_fmt)
        return eng_fail_at(err, at,
                           "cannot upgrade %s: its topic and formats (%s, %s/%s) cannot change",
                           old->name, old->topic, fmts[old->key_fmt], fmts[old->val_fmt]);
    /* keys: the same, in order; values: the old ones first, in order, new ones after */
    for (int pass = 0; pass < 2; pass++) {
        bool keys = pass == 0;
        int j = 0;
        for (int i = 0; i < old->ncols; i++) {
            if (eng_is_key_role(old->cols[i].role) != keys)
                continue;
            while (j < nu->ncols && eng_is_key_role(nu->cols[j].role) != keys)
                j++;
            const src_col *x = &old->cols[i], *y = j < nu->ncols ? &nu->cols[j] : NULL;
            if (y == NULL || strcmp(x->name, y->name) != 0 || x->role != y->role ||
                !wr_type_equal(x->type, y->type))
                return eng_fail_at(
                    err, at,
                    "cannot upgrade %s: column %s cannot be removed, renamed, retyped "
                    "or moved; new value columns may only be added at the end",
                    old->name, x->name);
            j++;
        }
        for (; keys && j < nu->ncols; j++)
            if (eng_is_key_role(nu->cols[j].role))
                return eng_fail_at(err, at, "cannot upgrade %s: key column %s cannot be added",
                                   old->name, nu->cols[j].name);
    }
    return WR_OK;
}

bool
eng_source_in_use(const wr_engine *e, const wr_source *s, const wr_query *except)
{
    for (const wr_query *q = e->queries; q != NULL; q = q->next)
        if (q != except && (q->src == s || q->sink == s || eng_join_uses(q, s)))
            return true;
    return false;
}

void
eng_source_unlink(wr_engine *e, wr_source *s)
{
    wr_source **pp = &e->sources;
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
}

static int
exec_create_source(wr_engine *e, const wr_stmt *st, const char *sql, wr_buf *out, wr_err *err)
{
    wr_source *old = eng_source_find(e, st->name);
    const char *what = st->is_table ? "table" : "stream";
    if (old != NULL && !st->or_replace) {
        if (st->if_not_exists) {
            eng_msg(out, "A %s with the same name already exists",
                    old->is_table ? "table" : "stream");
            return WR_OK;
        }
        return eng_fail_at(err, st->name_loc,
                           "cannot add %s '%s': a %s with the same name already exists", what,
                           st->name, old->is_table ? "table" : "stream");
    }
    if (old != NULL && eng_source_in_use(e, old, NULL))
        return eng_fail_at(err, st->name_loc,
                           "cannot replace %s while queries read from or write into it; TERMINATE "
                           "them first",
                           old->name);
    int rc = eng_check_props(st, err);
    if (rc != WR_OK)
        return rc;
    if (st->ncols == 0)
        return eng_fail_at(err, st->name_loc,
                           "the statement does not define any columns; schema inference needs a "
                           "schema registry, which weir does not have yet");
    wr_source *s = eng_source_new(st->name, st->is_table);
    if (s == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    s->sql = wr_arena_strdup(s->arena, sql);
    s->cols = wr_arena_calloc(s->arena, (size_t)st->ncols, sizeof *s->cols);
    int nkeys = 0;
    for (int i = 0; i < st->ncols; i++) {
        const wr_column_def *c = &st->cols[i];
        if (reserved_name(c->name)) {
            rc = eng_fail_at(err, c->loc, "'%s' is a reserved column name; pick another", c->name);
            goto fail;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(st->cols[j].name, c->name) == 0) {
                rc = eng_fail_at(err, c->loc, "duplicate column name '%s'", c->name);
                goto fail;
            }
        if (c->role == WR_COL_KEY && st->is_table) {
            rc = eng_fail_at(err, c->loc,
                             "column %s is a 'KEY' column: please use 'PRIMARY KEY' for tables",
                             c->name);
            goto fail;
        }
        if (c->role == WR_COL_PRIMARY_KEY && !st->is_table) {
            rc = eng_fail_at(err, c->loc,
                             "column %s is a 'PRIMARY KEY' column: please use 'KEY' for streams",
                             c->name);
            goto fail;
        }
        if (c->role == WR_COL_HEADERS && !headers_type(c->type)) {
            rc = eng_fail_at(err, c->loc,
                             "HEADERS column %s must be ARRAY<STRUCT<KEY STRING, VALUE BYTES>>",
                             c->name);
            goto fail;
        }
        if (c->role == WR_COL_HEADER && c->type->kind != WR_T_BYTES) {
            rc = eng_fail_at(err, c->loc, "HEADER('%s') column %s must be BYTES", c->header_key,
                             c->name);
            goto fail;
        }
        nkeys += eng_is_key_role(c->role);
        s->cols[i] =
            (src_col){wr_arena_strdup(s->arena, c->name), wr_type_copy(s->arena, c->type), c->role,
                      c->header_key ? wr_arena_strdup(s->arena, c->header_key) : NULL};
    }
    s->ncols = st->ncols;
    if (st->is_table && nkeys == 0) {
        rc = eng_fail_at(err, st->name_loc,
                         "tables require a PRIMARY KEY; please add the key column(s)");
        goto fail;
    }
    if ((rc = eng_formats(st, s, WR_FMT_KAFKA, (wr_fmt_kind)-1, true, err)) != WR_OK ||
        (rc = eng_check_formats(s, st->name_loc, err)) != WR_OK ||
        (rc = eng_timestamp_col(st, s, err)) != WR_OK || (rc = window_props(st, s, err)) != WR_OK ||
        (rc = eng_ensure_topic(e, st, s, NULL, 1, false, err)) != WR_OK)
        goto fail;
    if (old != NULL) {
        if ((rc = eng_check_upgrade(old, s, st->name_loc, err)) != WR_OK)
            goto fail;
        eng_source_unlink(e, old);
        eng_source_free(old);
    }
    s->next = e->sources;
    e->sources = s;
    eng_msg(out, "%s %s %s", st->is_table ? "Table" : "Stream", s->name,
            old ? "replaced" : "created");
    return WR_OK;
fail:
    eng_source_free(s);
    return rc;
}

/* ---- INSERT VALUES, DROP, TERMINATE, SHOW, DESCRIBE ---------------------------------------- */

static int
append_row(wr_engine *e, wr_source *s, wr_arena *a, const wr_val *vals, int64_t ts, wr_err *err);

static int
exec_insert_values(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    wr_source *s = eng_source_find(e, st->name);
    if (s == NULL)
        return eng_fail_at(err, st->name_loc, "%s does not exist", st->name);
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
        if (!eng_is_header_role(s->cols[c].role))
            names[nimplicit++] = s->cols[c].name;
    int n = st->insert_cols ? st->ninsert_cols : nimplicit;
    if (n != st->nvalues) {
        rc = eng_fail_at(err, st->loc, "expected %d values, got %d", n, st->nvalues);
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
            rc = eng_fail_at(err, at, "column %s does not exist in %s", name, s->name);
            goto out;
        }
        if (col >= 0 && eng_is_header_role(s->cols[col].role)) {
            rc = eng_fail_at(err, at, "cannot insert into HEADER column %s", name);
            goto out;
        }
        wr_cexpr *ce;
        if ((rc = wr_expr_analyze(&an, st->values[i], &ce, err)) != WR_OK)
            goto out;
        const wr_sql_type *want = rowtime ? wr_type_of(WR_T_BIGINT) : s->cols[col].type;
        if (ce->type != NULL && !wr_type_coercible(ce->type, want) &&
            !(ce->op == WR_C_CONST && wr_type_castable(ce->type, want))) {
            rc = eng_fail_at(err, st->values[i]->loc, "expected type for %s is %s", name,
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
            rc = eng_fail_at(err, st->values[i]->loc, "%s", cx.warning);
            goto out;
        }
        if (rowtime)
            ts = v.null ? ts : v.u.i64;
        else
            vals[col] = v;
    }
    rc = append_row(e, s, a, vals, ts, err);
    if (rc == WR_OK)
        eng_msg(out, "Inserted 1 row into %s", s->name);
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
    eng_make_fmt(a, s, true, &kf);
    eng_make_fmt(a, s, false, &vf);
    wr_val *kv = wr_arena_calloc(a, (size_t)kf.ncols + 1, sizeof *kv);
    wr_val *vv = wr_arena_calloc(a, (size_t)vf.ncols + 1, sizeof *vv);
    for (int i = 0, ki = 0, vi = 0; i < s->ncols; i++) {
        if (eng_is_key_role(s->cols[i].role))
            kv[ki++] = vals[i];
        else if (!eng_is_header_role(s->cols[i].role))
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
        int32_t p = eng_partition_for(knull ? NULL : kb.data, knull ? -1 : (int32_t)kb.len,
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
    wr_source *s = eng_source_find(e, target);
    if (s == NULL) {
        char up[256];
        size_t n = strlen(target) < sizeof up - 1 ? strlen(target) : sizeof up - 1;
        for (size_t i = 0; i < n; i++)
            up[i] = (char)toupper((unsigned char)target[i]);
        up[n] = '\0';
        s = eng_source_find(e, up);
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
        if (!eng_is_header_role(s->cols[i].role)) {
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
    wr_source *s = eng_source_find(e, st->name);
    if (s == NULL) {
        if (st->if_exists) {
            eng_msg(out, "%s does not exist", st->name);
            return WR_OK;
        }
        return eng_fail_at(err, st->name_loc, "%s %s does not exist",
                           st->is_table ? "table" : "stream", st->name);
    }
    if (s->is_table != st->is_table)
        return eng_fail_at(err, st->name_loc, "%s is a %s, not a %s: use DROP %s", s->name,
                           s->is_table ? "table" : "stream", st->is_table ? "table" : "stream",
                           s->is_table ? "TABLE" : "STREAM");
    wr_buf users = WR_BUF_INIT;
    for (wr_query *q = e->queries; q != NULL; q = q->next)
        if (q->src == s || q->sink == s)
            wr_buf_printf(&users, "%s%s", users.len ? ", " : "", q->id);
    if (users.len > 0) {
        wr_buf_put_u8(&users, 0);
        int rc = eng_fail_at(err, st->name_loc,
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
            eng_push_end(e, q, "the source of this query was dropped");
    }
    if (st->delete_topic)
        (void)wr_log_topic_delete(e->opts.db, s->topic, NULL);
    wr_source **pp = &e->sources;
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    eng_msg(out, "Source %s (topic: %s) was dropped.", s->name, s->topic);
    eng_source_free(s);
    return WR_OK;
}

/* CREATE FUNCTIONS FROM 'library.so': a UDF library, loaded through the server's loader (its
   allowlist and checks). A function it replaces serves new queries; running ones keep theirs.
   On a restart the command runs again, after the extension directory's libraries. */
static int
exec_load_functions(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    if (e->opts.udfs == NULL)
        return eng_fail_at(err, st->loc, "this server does not load UDF libraries");
    int n = 0;
    wr_err lerr = {0};
    int rc = wr_udf_load(e->opts.udfs, st->name, &n, &lerr);
    if (rc != WR_OK)
        return wr_sql_error_at(err, rc, st->name_loc, "%s", lerr.msg);
    eng_msg(out, "Loaded %d function%s from %s", n, n == 1 ? "" : "s", st->name);
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
            eng_msg(out, "Query %s terminated.", q->id);
            eng_query_finish(e, q);
            eng_pull_writer_gone(e, q);
            eng_drop_task_stores(e, q);
            eng_query_free(q);
            any = true;
        } else {
            pp = &q->next;
        }
    }
    for (wr_query *q = e->pushes, *next; q != NULL; q = next) {
        next = q->next;
        if (st->all || strcasecmp(q->id, st->name) == 0) {
            eng_msg(out, "Query %s terminated.", q->id);
            eng_push_end(e, q, "the query was terminated");
            any = true;
        }
    }
    if (!any && !st->all)
        return eng_fail_at(err, st->name_loc, "unknown query id %s", st->name);
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
        return eng_fail_at(err, st->name_loc, "topic '%s' does not exist", st->name);
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
            if ((rc = wr_log_read_committed(lp, off, READ_BYTES, &data, &rr, err)) != WR_OK ||
                data.len == 0)
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
                        eng_msg(out, "Key format: %s", guess_format(rec.key, rec.key_len));
                        eng_msg(out, "Value format: %s", guess_format(rec.value, rec.value_len));
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
        eng_msg(out, "Key format: \u00af\\_(\u30c4)_/\u00af - no data processed");
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
        return eng_exec_query_into(e, ss, st, sql, out, err);
    case WR_S_INSERT_VALUES:
        return exec_insert_values(e, st, out, err);
    case WR_S_DROP:
        return exec_drop(e, st, out, err);
    case WR_S_TERMINATE:
        return exec_terminate(e, st, out, err);
    case WR_S_LOAD_FUNCTIONS:
        return exec_load_functions(e, st, out, err);
    case WR_S_SHOW:
        return eng_exec_show(e, ss, st, out, err);
    case WR_S_DESCRIBE:
    case WR_S_DESCRIBE_FUNC:
        return eng_exec_describe(e, st, out, err);
    case WR_S_SET:
        wr_props_set(&ss->props, st->name, st->value);
        eng_msg(out, "Successfully changed local property '%s' to '%s'.", st->name, st->value);
        return WR_OK;
    case WR_S_UNSET:
        wr_props_unset(&ss->props, st->name);
        eng_msg(out, "Successfully unset local property '%s'.", st->name);
        return WR_OK;
    case WR_S_DEFINE:
        wr_props_set(&ss->vars, st->name, st->value);
        return WR_OK;
    case WR_S_UNDEFINE:
        wr_props_unset(&ss->vars, st->name);
        return WR_OK;
    case WR_S_QUERY:
        return eng_fail_at(err, st->loc,
                           "push and pull queries are served over HTTP (/query-stream), not here");
    case WR_S_EXPLAIN:
        if (st->inner == NULL) {
            for (wr_query *q = e->queries; q != NULL; q = q->next)
                if (strcasecmp(q->id, st->name) == 0) {
                    eng_explain_query(out, q);
                    return WR_OK;
                }
            return eng_fail_at(err, st->name_loc, "unknown query id %s", st->name);
        }
        if (st->inner->kind == WR_S_CREATE_AS || st->inner->kind == WR_S_INSERT_SELECT) {
            e->dry_run = true;
            int rc = eng_exec_query_into(e, ss, st->inner, sql, out, err);
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
            int rc = eng_exec_query_into(e, ss, &t, sql, out, err);
            e->dry_run = false;
            e->explain_transient = false;
            return rc;
        }
        return eng_fail_at(
            err, st->inner->loc,
            "EXPLAIN takes a query id, a SELECT, a CREATE ... AS SELECT or an INSERT "
            "INTO ... SELECT");
    case WR_S_PRINT:
        return exec_print(e, st, out, err);
    }
    return eng_fail_at(err, st->loc, "unsupported statement");
}

/* ---- the persistent catalog (src/catalog) -------------------------------------------------- */

static bool
changes_catalog(const wr_stmt *st)
{
    return st->kind == WR_S_CREATE_SOURCE || st->kind == WR_S_CREATE_AS ||
           st->kind == WR_S_INSERT_SELECT || st->kind == WR_S_DROP || st->kind == WR_S_TERMINATE ||
           st->kind == WR_S_LOAD_FUNCTIONS;
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
        snprintf(err->msg, sizeof err->msg, "line %d:%d: %.*s", nl, nc, WR_ERR_MSG_MAX - 32, rest);
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
    eng_jkv(json, false, "statementText", sql);
    if (e->ent_type != NULL) {
        wr_buf_put_u8(json, ',');
        wr_buf_append(json, ent->data, ent->len);
    } else if (st->kind == WR_S_EXPLAIN) {
        char id[200] = "";
        const char *p = strstr(t, "ID                   : ");
        if (p != NULL)
            snprintf(id, sizeof id, "%.*s", (int)strcspn(p + 23, "\n"), p + 23);
        wr_buf_printf(json, ",\"queryDescription\":{");
        eng_jkv(json, true, "id", id);
        eng_jkv(json, false, "statementText", sql);
        eng_jkv(json, false, "executionPlan", t);
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
        eng_jstr(json, cid);
        wr_buf_printf(json, ",\"commandStatus\":{\"status\":\"SUCCESS\"");
        eng_jkv(json, false, "message", t);
        const char *qid = strstr(t, "Created query with ID ");
        if (qid != NULL) {
            char id[200];
            sscanf(qid + 22, "%199s", id);
            eng_jkv(json, false, "queryId", id);
        }
        wr_buf_printf(json, "},\"commandSequenceNumber\":%lld", (long long)e->cmd_seq);
    }
    wr_buf_printf(json, ",\"warnings\":[]");
    eng_jkv(json, false, "weirText", t);
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
            rc = wr_sql_substitute(a, st_text, st_len, eng_session_var, ss, &sub, &sublen, err);
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
    if (eng_make_fmt(a, s, key, real) != WR_OK)
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

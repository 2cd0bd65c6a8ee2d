/*
 * show.c - SHOW and DESCRIBE, as text and as ksqlDB's REST entities (wr_engine_execute_json).
 * See engine_int.h.
 */
#include "runtime/engine_int.h"

/* ---- REST entities (wr_engine_execute_json) ---------------------------------------------- */

void
eng_jstr(wr_buf *b, const char *s)
{
    if (s == NULL)
        wr_buf_append(b, "null", 4);
    else
        wr_json_write_string(b, s, strlen(s));
}

/* ,"key":"value" (a leading comma unless first) */
void
eng_jkv(wr_buf *b, bool first, const char *key, const char *value)
{
    wr_buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    eng_jstr(b, value);
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
            eng_jkv(b, true, "name", t->fields[i].name);
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
    eng_jkv(b, true, "type", s->is_table ? "TABLE" : "STREAM");
    eng_jkv(b, false, "name", s->name);
    eng_jkv(b, false, "topic", s->topic);
    eng_jkv(b, false, "keyFormat", fmt_names[s->key_fmt]);
    eng_jkv(b, false, "valueFormat", fmt_names[s->val_fmt]);
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
            eng_jkv(b, true, "queryString", q->sql);
            wr_buf_printf(b, ",\"sinks\":[");
            eng_jstr(b, q->sink->name);
            wr_buf_printf(b, "],\"sinkKafkaTopics\":[");
            eng_jstr(b, q->sink->topic);
            wr_buf_printf(b, "]");
            eng_jkv(b, false, "id", q->id);
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
    eng_jkv(b, true, "name", s->name);
    wr_buf_printf(b, ",\"windowType\":null,\"readQueries\":");
    json_query_ids(b, e, s, false);
    wr_buf_printf(b, ",\"writeQueries\":");
    json_query_ids(b, e, s, true);
    wr_buf_printf(b, ",\"fields\":[");
    for (int i = 0; i < s->ncols; i++) {
        wr_buf_printf(b, "%s{", i ? "," : "");
        eng_jkv(b, true, "name", s->cols[i].name);
        wr_buf_printf(b, ",\"schema\":");
        json_schema(b, s->cols[i].type);
        if (eng_is_key_role(s->cols[i].role))
            wr_buf_printf(b, ",\"type\":\"KEY\"");
        else if (eng_is_header_role(s->cols[i].role))
            wr_buf_printf(b, ",\"type\":\"HEADER\"");
        wr_buf_put_u8(b, '}');
    }
    wr_buf_put_u8(b, ']');
    eng_jkv(b, false, "type", s->is_table ? "TABLE" : "STREAM");
    eng_jkv(b, false, "timestamp", s->ts_col >= 0 ? s->cols[s->ts_col].name : "");
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
    eng_jkv(b, false, "statistics", (const char *)stats.data);
    eng_jkv(b, false, "errorStats", (const char *)errs.data);
    wr_buf_free(&stats);
    wr_buf_free(&errs);
    wr_buf_printf(b, ",\"extended\":%s", extended ? "true" : "false");
    eng_jkv(b, false, "keyFormat", fmt_names[s->key_fmt]);
    eng_jkv(b, false, "valueFormat", fmt_names[s->val_fmt]);
    eng_jkv(b, false, "topic", s->topic);
    wr_buf_printf(b, ",\"partitions\":%d,\"replication\":1", s->partitions);
    eng_jkv(b, false, "statement", s->sql ? s->sql : "");
    wr_buf_put_u8(b, '}');
}

static void
describe_source(const wr_engine *e, wr_buf *out, const wr_source *s, bool extended)
{
    static const char *fmts[] = {"JSON", "DELIMITED", "KAFKA", "NONE"};
    eng_msg(out, "Name                 : %s", s->name);
    eng_msg(out, "Type                 : %s", s->is_table ? "TABLE" : "STREAM");
    eng_msg(out, "Kafka topic          : %s (partitions: %d)", s->topic, s->partitions);
    eng_msg(out, "Key format           : %s", fmts[s->key_fmt]);
    eng_msg(out, "Value format         : %s", fmts[s->val_fmt]);
    eng_msg(out, " Field | Type");
    for (int i = 0; i < s->ncols; i++) {
        wr_buf t = WR_BUF_INIT;
        wr_ast_format_type(&t, s->cols[i].type);
        wr_buf_put_u8(&t, 0);
        eng_msg(out, " %s | %s%s", s->cols[i].name, (const char *)t.data,
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
    eng_msg(out, "Statement            : %s", s->sql ? s->sql : "");
    if (s->ts_col >= 0)
        eng_msg(out, "Timestamp field      : %s%s%s", s->cols[s->ts_col].name,
                s->ts_format ? " with format " : "", s->ts_format ? s->ts_format : "");
    for (const wr_query *q = e->queries; q != NULL; q = q->next) {
        if (q->src != s && q->sink != s)
            continue;
        eng_msg(out, "%s query %s: %s", q->sink == s ? "Writing" : "Reading", q->id, q->sql);
        eng_msg(out, "  records in: %lld, out: %lld, decode errors: %lld, evaluation errors: %lld",
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
                eng_jkv(b, true, "queryString", q->sql);
                wr_buf_printf(b, ",\"sinks\":[");
                if (!q->is_push)
                    eng_jstr(b, q->sink->name);
                wr_buf_printf(b, "],\"sinkKafkaTopics\":[");
                if (!q->is_push)
                    eng_jstr(b, q->sink->topic);
                wr_buf_printf(b, "]");
                eng_jkv(b, false, "id", q->id);
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
                    eng_jkv(b, true, "name", names[i]);
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
            eng_jkv(b, true, "name", v[i]->name);
            eng_jkv(b, false, "type",
                    v[i]->kind == WR_FN_TABLE       ? "table"
                    : v[i]->kind == WR_FN_AGGREGATE ? "aggregate"
                                                    : "scalar");
            eng_jkv(b, false, "category", v[i]->category ? v[i]->category : "");
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
            eng_jkv(b, true, "name", p->items[i].key);
            if (!vars)
                eng_jkv(b, false, "scope", "KSQL");
            eng_jkv(b, false, "value", p->items[i].value);
            wr_buf_put_u8(b, '}');
        }
        wr_buf_put_u8(b, ']');
        return;
    }
    }
}

int
eng_exec_show(wr_engine *e, wr_session *ss, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    if (e->ent != NULL)
        json_show(e, ss, st, e->ent);
    switch (st->show) {
    case WR_SHOW_STREAMS:
    case WR_SHOW_TABLES:
        eng_msg(out, " %s Name | Kafka Topic", st->show == WR_SHOW_STREAMS ? "Stream" : "Table");
        for (wr_source *s = e->sources; s != NULL; s = s->next)
            if (s->is_table == (st->show == WR_SHOW_TABLES))
                eng_msg(out, " %s | %s", s->name, s->topic);
        return WR_OK;
    case WR_SHOW_QUERIES:
        eng_msg(out, " Query ID | Status | Sink Name | Query String");
        for (wr_query *q = e->queries; q != NULL; q = q->next)
            eng_msg(out, " %s | RUNNING | %s | %s", q->id, q->sink->name, q->sql);
        for (wr_query *q = e->pushes; q != NULL; q = q->next)
            eng_msg(out, " %s | RUNNING | (push query) | %s", q->id, q->sql);
        return WR_OK;
    case WR_SHOW_TOPICS: {
        char **names;
        size_t n;
        int rc = wr_log_topic_list(e->opts.db, &names, &n, err);
        if (rc != WR_OK)
            return rc;
        eng_msg(out, " Kafka Topic | Partitions");
        for (size_t i = 0; i < n; i++) {
            if (st->all || names[i][0] != '_')
                eng_msg(out, " %s | %d", names[i], wr_log_topic_partitions(e->opts.db, names[i]));
            free(names[i]);
        }
        free(names);
        return WR_OK;
    }
    case WR_SHOW_FUNCTIONS: {
        const wr_fn_desc *const *v;
        int n = e->opts.fns ? wr_fn_list(e->opts.fns, &v) : 0;
        eng_msg(out, " Function Name | Category");
        for (int i = 0; i < n; i++)
            eng_msg(out, " %s | %s", v[i]->name, v[i]->category ? v[i]->category : "");
        return WR_OK;
    }
    case WR_SHOW_PROPERTIES:
    case WR_SHOW_VARIABLES: {
        wr_props *p = st->show == WR_SHOW_VARIABLES ? &ss->vars : &ss->props;
        eng_msg(out, " %s | Value", st->show == WR_SHOW_VARIABLES ? "Variable Name" : "Property");
        for (size_t i = 0; i < p->count; i++)
            eng_msg(out, " %s | %s", p->items[i].key, p->items[i].value);
        return WR_OK;
    }
    }
    return WR_OK;
}

int
eng_exec_describe(wr_engine *e, const wr_stmt *st, wr_buf *out, wr_err *err)
{
    if (st->kind == WR_S_DESCRIBE_FUNC) {
        const wr_fn_desc *f = e->opts.fns ? wr_fn_lookup(e->opts.fns, st->name) : NULL;
        if (f == NULL)
            return eng_fail_at(err, st->name_loc, "function %s does not exist", st->name);
        const char *kind = f->kind == WR_FN_TABLE       ? "TABLE"
                           : f->kind == WR_FN_AGGREGATE ? "AGGREGATE"
                                                        : "SCALAR";
        if (e->ent != NULL) {
            wr_buf *b = e->ent;
            e->ent_type = "describe_function";
            eng_jkv(b, true, "name", f->name);
            eng_jkv(b, false, "description", f->description ? f->description : "");
            eng_jkv(b, false, "author", f->path ? f->author : "weir");
            eng_jkv(b, false, "version", f->path ? f->version : WR_VERSION);
            eng_jkv(b, false, "path", f->path ? f->path : "internal");
            eng_jkv(b, false, "type", kind);
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
                eng_jkv(b, true, "signature", line);
                eng_jkv(b, false, "returnType", arrow ? arrow + 4 : "");
                eng_jkv(b, false, "description", f->description ? f->description : "");
                wr_buf_put_u8(b, '}');
                first = false;
                sig += n + (nl ? 1 : 0);
            }
            wr_buf_put_u8(b, ']');
        }
        eng_msg(out, "Name        : %s", f->name);
        eng_msg(out, "Author      : %s", f->path ? f->author : "weir");
        eng_msg(out, "Version     : %s", f->path ? f->version : WR_VERSION);
        eng_msg(out, "Overview    : %s", f->description ? f->description : "");
        eng_msg(out, "Type        : %s", kind);
        eng_msg(out, "Category    : %s", f->category ? f->category : "");
        eng_msg(out, "Jar         : %s", f->path ? f->path : "internal");
        eng_msg(out, "Variations  : %s", f->signatures ? f->signatures : "");
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
    wr_source *s = eng_source_find(e, st->name);
    if (s == NULL)
        return eng_fail_at(err, st->name_loc, "could not find STREAM/TABLE '%s' in the metastore",
                           st->name);
    if (e->ent != NULL) {
        e->ent_type = "sourceDescription";
        wr_buf_printf(e->ent, "\"sourceDescription\":");
        json_source_description(e->ent, e, s, st->extended);
    }
    describe_source(e, out, s, st->extended);
    return WR_OK;
}

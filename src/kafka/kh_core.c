/*
 * kh_core.c - the control-plane API handlers and the handler table: ApiVersions, Metadata,
 * CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, AlterConfigs,
 * IncrementalAlterConfigs, FindCoordinator, InitProducerId, and the UNSUPPORTED_VERSION answer.
 * The consumer-group APIs live in kgroup.c.
 *
 * All run on the loop thread and finish their request before returning. Topic changes go
 * through the log's LMDB transactions (short fsyncs on the loop thread: admin requests are rare).
 * Ownership: responses and the strings they point to live in the request's arena.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/logging.h"
#include "src/base/props.h"
#include "src/kafka/broker_int.h"
#include "src/log/log.h"

#define NEW_ARR(r, field, desc, count)                                                     \
    do {                                                                                   \
        (field).n = (count) > 0 ? (count) : 0;                                             \
        (field).v = wr_kp_new_array((r)->arena, &(desc), (field).n, (r)->hdr.api_version); \
    } while (0)

static const char *
astr(wr_kreq *r, const char *s)
{
    return wr_arena_strdup(r->arena, s);
}

static int16_t
topic_err(int rc)
{
    switch (rc) {
    case WR_OK:
        return WR_KERR_NONE;
    case WR_EEXIST:
        return WR_KERR_TOPIC_ALREADY_EXISTS;
    case WR_ENOENT:
        return WR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case WR_EINVAL:
        return WR_KERR_INVALID_CONFIG;
    default:
        return wr__kerr_from_log(rc);
    }
}

/* Finds the top-level ErrorCode field present at v, or NULL. */
static int16_t *
top_error_code(const wr_kstruct *d, void *obj, int16_t v)
{
    for (uint16_t i = 0; i < d->nfields; i++) {
        const wr_kfield *f = &d->fields[i];
        if (f->type == WR_KT_INT16 && f->tag < 0 && v >= f->vmin && v <= f->vmax &&
            strcmp(f->name, "ErrorCode") == 0)
            return (int16_t *)((uint8_t *)obj + f->off);
    }
    return NULL;
}

/* Answers with a default response carrying code in its top-level ErrorCode; when the response
   has none at this version, with the bare error (correlation id, code) that Kafka's ApiVersions
   v0 fallback uses, so the client gets a reason and the connection stays up. */
static void
generic_error(wr_kreq *r, int16_t code)
{
    int16_t v = r->hdr.api_version;
    r->resp = wr_kp_new(r->arena, r->api->resp, v);
    int16_t *ec = r->resp ? top_error_code(r->api->resp, r->resp, v) : NULL;
    if (ec == NULL) {
        wr_log(WR_LOG_WARN, "kafka", "%s: %s v%d answered with a bare error %d", r->conn->peer,
               r->api->name, v, code);
        wr__kreq_finish_bare_error(r, code);
        return;
    }
    *ec = code;
    wr__kreq_finish(r);
}

/* ---- ApiVersions ----------------------------------------------------------------------- */

static void
fill_api_versions(wr_kreq *r, int16_t v)
{
    wr_kp_api_versions_resp *s = wr_kp_new(r->arena, &wr_kp_api_versions_resp_desc, v);
    r->resp = s;
    s->api_keys.n = WR_KAPI_COUNT;
    s->api_keys.v =
        wr_kp_new_array(r->arena, &wr_kp_api_versions_resp_api_version_desc, WR_KAPI_COUNT, v);
    for (int i = 0; i < WR_KAPI_COUNT; i++) {
        s->api_keys.v[i].api_key = wr_kapis[i].key;
        s->api_keys.v[i].min_version = wr_kapis[i].min;
        s->api_keys.v[i].max_version = wr_kapis[i].max;
    }
}

static void
kh_api_versions(wr_kreq *r)
{
    fill_api_versions(r, r->hdr.api_version);
    wr__kreq_finish(r);
}

void
wr__kh_unsupported(wr_kreq *r)
{
    wr_log(WR_LOG_INFO, "kafka", "%s: %s v%d not supported (client %s)", r->conn->peer,
           r->api->name, r->hdr.api_version, r->hdr.client_id.s ? r->hdr.client_id.s : "-");
    if (r->hdr.api_key == WR_KAPI_API_VERSIONS) {
        /* KIP-511: a v0 response with the error and our versions, so the client can retry */
        r->hdr.api_version = 0;
        fill_api_versions(r, 0);
        ((wr_kp_api_versions_resp *)r->resp)->error_code = WR_KERR_UNSUPPORTED_VERSION;
        wr__kreq_finish(r);
        return;
    }
    generic_error(r, WR_KERR_UNSUPPORTED_VERSION);
}

/* ---- Metadata -------------------------------------------------------------------------- */

static void
describe_topic(wr_kreq *r, wr_kp_metadata_resp_metadata_response_topic *t, const char *name)
{
    wr_broker *b = r->conn->b;
    t->name = wr_kstr_of(astr(r, name));
    int32_t n = wr_log_topic_partitions(b->db, name);
    if (n < 0) {
        t->error_code = WR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    NEW_ARR(r, t->partitions, wr_kp_metadata_resp_metadata_response_partition_desc, n);
    int32_t *node = wr_arena_alloc(r->arena, sizeof *node);
    *node = b->opts.node_id;
    for (int32_t i = 0; i < n; i++) {
        wr_kp_metadata_resp_metadata_response_partition *p = &t->partitions.v[i];
        p->partition_index = i;
        p->leader_id = b->opts.node_id;
        p->leader_epoch = 0;
        p->replica_nodes.v = node;
        p->replica_nodes.n = 1;
        p->isr_nodes.v = node;
        p->isr_nodes.n = 1;
    }
}

static void
kh_metadata(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_metadata_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_metadata_resp *s = wr_kp_new(r->arena, &wr_kp_metadata_resp_desc, v);
    r->resp = s;
    NEW_ARR(r, s->brokers, wr_kp_metadata_resp_metadata_response_broker_desc, 1);
    s->brokers.v[0].node_id = b->opts.node_id;
    s->brokers.v[0].host = wr_kstr_of(b->adv_host);
    s->brokers.v[0].port = b->opts.advertised_port;
    s->cluster_id = wr_kstr_of(b->cluster_id);
    s->controller_id = b->opts.node_id;

    bool all = q->topics.n < 0 || (v == 0 && q->topics.n == 0);
    if (all) {
        char **names = NULL;
        size_t count = 0;
        if (wr_log_topic_list(b->db, &names, &count, NULL) == WR_OK) {
            NEW_ARR(r, s->topics, wr_kp_metadata_resp_metadata_response_topic_desc, (int32_t)count);
            int32_t shown = 0;
            for (size_t i = 0; i < count; i++) {
                /* all topics: the ones the principal may DESCRIBE, as Kafka lists them */
                if (b->acl == NULL || wr_acl_authorize(b->acl, r->conn->principal, r->conn->host,
                                                       WR_ACL_OP_DESCRIBE, WR_ACL_RES_TOPIC,
                                                       names[i], strlen(names[i])))
                    describe_topic(r, &s->topics.v[shown++], names[i]);
                free(names[i]);
            }
            s->topics.n = s->topics.v != NULL ? shown : 0;
            free(names);
        }
        wr__kreq_finish(r);
        return;
    }
    NEW_ARR(r, s->topics, wr_kp_metadata_resp_metadata_response_topic_desc, q->topics.n);
    bool may_create = b->opts.auto_create_topics && (v < 4 || q->allow_auto_topic_creation);
    for (int32_t i = 0; i < s->topics.n; i++) {
        const char *name = q->topics.v[i].name.s;
        wr_kp_metadata_resp_metadata_response_topic *t = &s->topics.v[i];
        if (name == NULL) {
            t->error_code = WR_KERR_INVALID_REQUEST;
            continue;
        }
        if (!wr__kauthz_str(r, WR_ACL_OP_DESCRIBE, WR_ACL_RES_TOPIC, q->topics.v[i].name)) {
            t->name = wr_kstr_of(astr(r, name));
            t->error_code = WR_KERR_TOPIC_AUTHORIZATION_FAILED;
            continue;
        }
        /* auto-creation needs CREATE on the cluster or the topic */
        if (wr_log_topic_partitions(b->db, name) < 0 && may_create &&
            (b->acl == NULL || wr__kauthz_cluster(r, WR_ACL_OP_CREATE) ||
             wr__kauthz_str(r, WR_ACL_OP_CREATE, WR_ACL_RES_TOPIC, q->topics.v[i].name))) {
            wr_err err = {0};
            int rc = wr_log_topic_create(b->db, name, b->opts.default_partitions, NULL, &err);
            if (rc != WR_OK && rc != WR_EEXIST) {
                t->name = wr_kstr_of(astr(r, name));
                t->error_code =
                    rc == WR_EINVAL ? WR_KERR_INVALID_TOPIC_EXCEPTION : wr__kerr_from_log(rc);
                continue;
            }
            if (rc == WR_OK)
                wr_log(WR_LOG_INFO, "kafka", "auto-created topic %s with %d partition(s)", name,
                       b->opts.default_partitions);
        }
        describe_topic(r, t, name);
    }
    wr__kreq_finish(r);
}

/* ---- topics ---------------------------------------------------------------------------- */

/* Kafka's topic name rule: [a-zA-Z0-9._-]{1,249}, not "." or "..". */
static bool
valid_topic_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 249 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static void
kh_create_topics(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_create_topics_req *q = r->body;
    wr_kp_create_topics_resp *s =
        wr_kp_new(r->arena, &wr_kp_create_topics_resp_desc, r->hdr.api_version);
    r->resp = s;
    NEW_ARR(r, s->topics, wr_kp_create_topics_resp_creatable_topic_result_desc, q->topics.n);
    for (int32_t i = 0; i < s->topics.n; i++) {
        const wr_kp_create_topics_req_creatable_topic *t = &q->topics.v[i];
        wr_kp_create_topics_resp_creatable_topic_result *tr = &s->topics.v[i];
        tr->name = t->name;
        int32_t parts = t->num_partitions;
        if (t->assignments.n > 0) {
            parts = t->assignments.n;
            for (int32_t j = 0; j < t->assignments.n; j++) {
                const wr_kp_create_topics_req_creatable_replica_assignment *as =
                    &t->assignments.v[j];
                if (as->broker_ids.n != 1 || as->broker_ids.v[0] != b->opts.node_id)
                    tr->error_code = WR_KERR_INVALID_REPLICA_ASSIGNMENT;
            }
            if (t->num_partitions != -1 || t->replication_factor != -1)
                tr->error_code = WR_KERR_INVALID_REQUEST;
        } else if (parts == -1) {
            parts = b->opts.default_partitions;
        }
        if (tr->error_code == WR_KERR_NONE && b->acl != NULL &&
            !wr__kauthz_cluster(r, WR_ACL_OP_CREATE) &&
            !wr__kauthz_str(r, WR_ACL_OP_CREATE, WR_ACL_RES_TOPIC, t->name))
            tr->error_code = WR_KERR_TOPIC_AUTHORIZATION_FAILED;
        if (tr->error_code == WR_KERR_NONE && !valid_topic_name(t->name.s)) {
            tr->error_code = WR_KERR_INVALID_TOPIC_EXCEPTION;
            tr->error_message = wr_kstr_of(wr_arena_printf(
                r->arena, "invalid topic name '%s' (allowed: [a-zA-Z0-9._-]{1,249})", t->name.s));
        }
        if (tr->error_code == WR_KERR_NONE && parts <= 0) {
            tr->error_code = WR_KERR_INVALID_PARTITIONS;
            tr->error_message = wr_kstr_of("number of partitions must be at least 1");
        }
        if (tr->error_code == WR_KERR_NONE && t->assignments.n <= 0 &&
            t->replication_factor != -1 && t->replication_factor != 1) {
            tr->error_code = WR_KERR_INVALID_REPLICATION_FACTOR;
            tr->error_message = wr_kstr_of(wr_arena_printf(
                r->arena, "replication factor %d larger than the 1 available broker",
                t->replication_factor));
        }
        if (tr->error_code != WR_KERR_NONE)
            continue;
        wr_props cfg = WR_PROPS_INIT;
        wr_err err = {0};
        int rc = WR_OK;
        for (int32_t j = 0; j < t->configs.n && rc == WR_OK; j++) {
            const char *k = t->configs.v[j].name.s, *val = t->configs.v[j].value.s;
            if (val == NULL)
                continue;
            rc = wr_log_config_validate(k, val, &err);
            if (rc == WR_OK)
                rc = wr_props_set(&cfg, k, val);
        }
        if (rc == WR_OK && q->validate_only) {
            if (wr_log_topic_partitions(b->db, t->name.s) >= 0)
                rc = wr_err_set(&err, WR_EEXIST, "topic '%s' already exists", t->name.s);
        } else if (rc == WR_OK) {
            rc = wr_log_topic_create(b->db, t->name.s, parts, &cfg, &err);
        } else {
            rc = WR_EINVAL;
        }
        wr_props_free(&cfg);
        if (rc != WR_OK) {
            tr->error_code = topic_err(rc);
            tr->error_message = wr_kstr_of(astr(r, err.msg));
            continue;
        }
        tr->num_partitions = parts;
        tr->replication_factor = 1;
        if (!q->validate_only)
            wr_log(WR_LOG_INFO, "kafka", "created topic %s with %d partition(s)", t->name.s, parts);
    }
    wr__kreq_finish(r);
}

static void
kh_delete_topics(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_delete_topics_req *q = r->body;
    wr_kp_delete_topics_resp *s =
        wr_kp_new(r->arena, &wr_kp_delete_topics_resp_desc, r->hdr.api_version);
    r->resp = s;
    NEW_ARR(r, s->responses, wr_kp_delete_topics_resp_deletable_topic_result_desc,
            q->topic_names.n);
    for (int32_t i = 0; i < s->responses.n; i++) {
        s->responses.v[i].name = q->topic_names.v[i];
        if (!wr__kauthz_str(r, WR_ACL_OP_DELETE, WR_ACL_RES_TOPIC, q->topic_names.v[i])) {
            s->responses.v[i].error_code = WR_KERR_TOPIC_AUTHORIZATION_FAILED;
            continue;
        }
        wr_err err = {0};
        int rc = wr_log_topic_delete(b->db, q->topic_names.v[i].s, &err);
        s->responses.v[i].error_code = topic_err(rc);
        if (rc != WR_OK)
            s->responses.v[i].error_message = wr_kstr_of(astr(r, err.msg));
        else
            wr_log(WR_LOG_INFO, "kafka", "deleted topic %s", q->topic_names.v[i].s);
    }
    wr__kreq_finish(r);
}

static void
kh_create_partitions(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_create_partitions_req *q = r->body;
    wr_kp_create_partitions_resp *s =
        wr_kp_new(r->arena, &wr_kp_create_partitions_resp_desc, r->hdr.api_version);
    r->resp = s;
    NEW_ARR(r, s->results, wr_kp_create_partitions_resp_create_partitions_topic_result_desc,
            q->topics.n);
    for (int32_t i = 0; i < s->results.n; i++) {
        const wr_kp_create_partitions_req_create_partitions_topic *t = &q->topics.v[i];
        wr_kp_create_partitions_resp_create_partitions_topic_result *tr = &s->results.v[i];
        tr->name = t->name;
        int32_t cur = wr_log_topic_partitions(b->db, t->name.s);
        wr_err err = {0};
        int rc;
        if (cur < 0)
            rc = wr_err_set(&err, WR_ENOENT, "topic '%s' does not exist", t->name.s);
        else if (t->count <= cur)
            rc = wr_err_set(&err, WR_EINVAL, "topic has %d partitions; cannot set %d", cur,
                            t->count);
        else if (q->validate_only)
            rc = WR_OK;
        else
            rc = wr_log_topic_add_partitions(b->db, t->name.s, t->count, &err);
        if (rc != WR_OK) {
            tr->error_code = rc == WR_EINVAL ? WR_KERR_INVALID_PARTITIONS : topic_err(rc);
            tr->error_message = wr_kstr_of(astr(r, err.msg));
        }
    }
    wr__kreq_finish(r);
}

/* ---- configs --------------------------------------------------------------------------- */

#define WR_KRES_TOPIC  2
#define WR_KRES_BROKER 4

static void
add_config(wr_kreq *r,
           wr_kp_describe_configs_resp_describe_configs_result *res,
           int32_t *n,
           const char *name,
           const char *value,
           bool is_default,
           bool read_only)
{
    wr_kp_describe_configs_resp_describe_configs_resource_result *c = &res->configs.v[(*n)++];
    c->name = wr_kstr_of(astr(r, name));
    c->value = wr_kstr_of(value ? astr(r, value) : NULL);
    c->read_only = read_only;
    c->is_default = is_default;
    /* ConfigSource: 1 DYNAMIC_TOPIC_CONFIG, 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG */
    c->config_source = read_only ? 4 : is_default ? 5 : 1;
}

static bool
wanted(const wr_kp_describe_configs_req_describe_configs_resource *q, const char *name)
{
    if (q->configuration_keys.n < 0)
        return true;
    for (int32_t i = 0; i < q->configuration_keys.n; i++)
        if (strcmp(q->configuration_keys.v[i].s, name) == 0)
            return true;
    return false;
}

static void
kh_describe_configs(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_describe_configs_req *q = r->body;
    wr_kp_describe_configs_resp *s =
        wr_kp_new(r->arena, &wr_kp_describe_configs_resp_desc, r->hdr.api_version);
    r->resp = s;
    NEW_ARR(r, s->results, wr_kp_describe_configs_resp_describe_configs_result_desc,
            q->resources.n);
    for (int32_t i = 0; i < s->results.n; i++) {
        const wr_kp_describe_configs_req_describe_configs_resource *rq = &q->resources.v[i];
        wr_kp_describe_configs_resp_describe_configs_result *res = &s->results.v[i];
        res->resource_type = rq->resource_type;
        res->resource_name = rq->resource_name;
        int32_t n = 0;
        if (rq->resource_type == WR_KRES_BROKER) {
            char buf[4][32];
            snprintf(buf[0], sizeof buf[0], "%d", b->opts.node_id);
            snprintf(buf[1], sizeof buf[1], "%d", b->opts.default_partitions);
            snprintf(buf[2], sizeof buf[2], "%s", b->opts.auto_create_topics ? "true" : "false");
            snprintf(buf[3], sizeof buf[3], "%d", b->opts.max_request_bytes);
            const char *keys[4] = {"broker.id", "num.partitions", "auto.create.topics.enable",
                                   "socket.request.max.bytes"};
            NEW_ARR(r, res->configs,
                    wr_kp_describe_configs_resp_describe_configs_resource_result_desc, 4);
            for (int k = 0; k < 4; k++)
                if (wanted(rq, keys[k]))
                    add_config(r, res, &n, keys[k], buf[k], false, true);
            res->configs.n = n;
            continue;
        }
        if (rq->resource_type != WR_KRES_TOPIC) {
            res->error_code = WR_KERR_INVALID_REQUEST;
            res->error_message = wr_kstr_of("only TOPIC and BROKER resources are supported");
            continue;
        }
        wr_props all = WR_PROPS_INIT, own = WR_PROPS_INIT;
        wr_err err = {0};
        int rc = wr_log_topic_config(b->db, rq->resource_name.s, &all, &err);
        if (rc == WR_OK)
            rc = wr_log_topic_config_own(b->db, rq->resource_name.s, &own, &err);
        if (rc != WR_OK) {
            res->error_code = topic_err(rc);
            res->error_message = wr_kstr_of(astr(r, err.msg));
        } else {
            NEW_ARR(r, res->configs,
                    wr_kp_describe_configs_resp_describe_configs_resource_result_desc,
                    (int32_t)all.count);
            for (size_t k = 0; k < all.count; k++)
                if (wanted(rq, all.items[k].key))
                    add_config(r, res, &n, all.items[k].key, all.items[k].value,
                               wr_props_get(&own, all.items[k].key) == NULL, false);
            res->configs.n = n;
        }
        wr_props_free(&all);
        wr_props_free(&own);
    }
    wr__kreq_finish(r);
}

/* Applies one resource's changes: ops[i] 0 = set, 1 = delete. Validates all before applying. */
static int16_t
alter_topic(wr_kreq *r,
            const char *topic,
            int32_t n,
            const char *const *keys,
            const char *const *vals,
            const int8_t *ops,
            bool replace,
            bool validate_only,
            wr_kstr *msg)
{
    wr_broker *b = r->conn->b;
    wr_err err = {0};
    int rc = wr_log_topic_partitions(b->db, topic) < 0
                 ? wr_err_set(&err, WR_ENOENT, "topic '%s' does not exist", topic)
                 : WR_OK;
    for (int32_t i = 0; i < n && rc == WR_OK; i++) {
        if (ops[i] != 0 && ops[i] != 1)
            rc = wr_err_set(&err, WR_EUNSUPP, "config operation %d is not supported", ops[i]);
        else if (ops[i] == 0 && vals[i] != NULL)
            rc = wr_log_config_validate(keys[i], vals[i], &err);
    }
    if (rc == WR_OK && !validate_only) {
        if (replace) {
            wr_props own = WR_PROPS_INIT;
            rc = wr_log_topic_config_own(b->db, topic, &own, &err);
            for (size_t k = 0; rc == WR_OK && k < own.count; k++) {
                bool kept = false;
                for (int32_t i = 0; i < n; i++)
                    kept = kept || strcmp(keys[i], own.items[k].key) == 0;
                if (!kept)
                    rc = wr_log_topic_config_set(b->db, topic, own.items[k].key, NULL, &err);
            }
            wr_props_free(&own);
        }
        for (int32_t i = 0; i < n && rc == WR_OK; i++)
            rc = wr_log_topic_config_set(b->db, topic, keys[i], ops[i] == 0 ? vals[i] : NULL, &err);
    }
    if (rc == WR_OK)
        return WR_KERR_NONE;
    *msg = wr_kstr_of(astr(r, err.msg));
    return rc == WR_ENOENT    ? WR_KERR_UNKNOWN_TOPIC_OR_PARTITION
           : rc == WR_EUNSUPP ? WR_KERR_INVALID_REQUEST
                              : WR_KERR_INVALID_CONFIG;
}

static void
kh_alter_configs(wr_kreq *r)
{
    const wr_kp_alter_configs_req *q = r->body;
    wr_kp_alter_configs_resp *s =
        wr_kp_new(r->arena, &wr_kp_alter_configs_resp_desc, r->hdr.api_version);
    r->resp = s;
    NEW_ARR(r, s->responses, wr_kp_alter_configs_resp_alter_configs_resource_response_desc,
            q->resources.n);
    for (int32_t i = 0; i < s->responses.n; i++) {
        const wr_kp_alter_configs_req_alter_configs_resource *rq = &q->resources.v[i];
        wr_kp_alter_configs_resp_alter_configs_resource_response *rs = &s->responses.v[i];
        rs->resource_type = rq->resource_type;
        rs->resource_name = rq->resource_name;
        if (rq->resource_type != WR_KRES_TOPIC) {
            rs->error_code = WR_KERR_INVALID_REQUEST;
            rs->error_message = wr_kstr_of("only TOPIC resources can be altered");
            continue;
        }
        int32_t n = rq->configs.n > 0 ? rq->configs.n : 0;
        const char **keys = wr_arena_alloc(r->arena, sizeof *keys * (size_t)(n + 1));
        const char **vals = wr_arena_alloc(r->arena, sizeof *vals * (size_t)(n + 1));
        int8_t *ops = wr_arena_calloc(r->arena, (size_t)(n + 1), 1);
        for (int32_t k = 0; k < n; k++) {
            keys[k] = rq->configs.v[k].name.s;
            vals[k] = rq->configs.v[k].value.s;
            ops[k] = vals[k] == NULL ? 1 : 0;
        }
        rs->error_code = alter_topic(r, rq->resource_name.s, n, keys, vals, ops, true,
                                     q->validate_only, &rs->error_message);
    }
    wr__kreq_finish(r);
}

static void
kh_incremental_alter_configs(wr_kreq *r)
{
    const wr_kp_incremental_alter_configs_req *q = r->body;
    wr_kp_incremental_alter_configs_resp *s =
        wr_kp_new(r->arena, &wr_kp_incremental_alter_configs_resp_desc, r->hdr.api_version);
    r->resp = s;
    NEW_ARR(r, s->responses,
            wr_kp_incremental_alter_configs_resp_alter_configs_resource_response_desc,
            q->resources.n);
    for (int32_t i = 0; i < s->responses.n; i++) {
        const wr_kp_incremental_alter_configs_req_alter_configs_resource *rq = &q->resources.v[i];
        wr_kp_incremental_alter_configs_resp_alter_configs_resource_response *rs =
            &s->responses.v[i];
        rs->resource_type = rq->resource_type;
        rs->resource_name = rq->resource_name;
        if (rq->resource_type != WR_KRES_TOPIC) {
            rs->error_code = WR_KERR_INVALID_REQUEST;
            rs->error_message = wr_kstr_of("only TOPIC resources can be altered");
            continue;
        }
        int32_t n = rq->configs.n > 0 ? rq->configs.n : 0;
        const char **keys = wr_arena_alloc(r->arena, sizeof *keys * (size_t)(n + 1));
        const char **vals = wr_arena_alloc(r->arena, sizeof *vals * (size_t)(n + 1));
        int8_t *ops = wr_arena_calloc(r->arena, (size_t)(n + 1), 1);
        for (int32_t k = 0; k < n; k++) {
            keys[k] = rq->configs.v[k].name.s;
            vals[k] = rq->configs.v[k].value.s;
            ops[k] = rq->configs.v[k].config_operation;
        }
        rs->error_code = alter_topic(r, rq->resource_name.s, n, keys, vals, ops, false,
                                     q->validate_only, &rs->error_message);
    }
    wr__kreq_finish(r);
}

/* ---- coordinators and producer ids ----------------------------------------------------- */

static void
kh_find_coordinator(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_find_coordinator_req *q = r->body;
    wr_kp_find_coordinator_resp *s =
        wr_kp_new(r->arena, &wr_kp_find_coordinator_resp_desc, r->hdr.api_version);
    r->resp = s;
    if (q->key_type != 0 && q->key_type != 1) {
        s->error_code = WR_KERR_INVALID_REQUEST; /* 0 group, 1 transaction */
        s->node_id = -1;
        s->port = -1;
        s->error_message = wr_kstr_of("unknown coordinator key type");
    } else if (!wr__kauthz_str(r, WR_ACL_OP_DESCRIBE,
                               q->key_type == 0 ? WR_ACL_RES_GROUP : WR_ACL_RES_TRANSACTIONAL_ID,
                               q->key)) {
        s->error_code = q->key_type == 0 ? WR_KERR_GROUP_AUTHORIZATION_FAILED
                                         : WR_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        s->node_id = -1;
        s->port = -1;
    } else {
        s->node_id = b->opts.node_id;
        s->host = wr_kstr_of(b->adv_host);
        s->port = b->opts.advertised_port;
    }
    wr__kreq_finish(r);
}

static void
kh_init_producer_id(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_init_producer_id_req *q = r->body;
    wr_kp_init_producer_id_resp *s =
        wr_kp_new(r->arena, &wr_kp_init_producer_id_resp_desc, r->hdr.api_version);
    r->resp = s;
    if (q->transactional_id.s != NULL) {
        /* the transaction APIs after it do not check their resources yet (super users only,
           kh_acl.c): so transactional producers are for super users for now */
        if (!wr__kauthz_super(r->conn) ||
            !wr__kauthz_str(r, WR_ACL_OP_WRITE, WR_ACL_RES_TRANSACTIONAL_ID,
                            q->transactional_id)) {
            s->error_code = WR_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
            s->producer_id = -1;
            s->producer_epoch = -1;
            wr__kreq_finish(r);
            return;
        }
        wr__kh_init_producer_txn(r);
        return;
    }
    if (!wr__kauthz_idempotent(r)) {
        s->error_code = WR_KERR_CLUSTER_AUTHORIZATION_FAILED;
        s->producer_id = -1;
        s->producer_epoch = -1;
        wr__kreq_finish(r);
        return;
    }
    if (q->producer_id >= 0 && q->producer_epoch >= 0 && q->producer_epoch < INT16_MAX - 1) {
        /* KIP-360: the producer asks to bump its epoch after an error */
        s->producer_id = q->producer_id;
        s->producer_epoch = (int16_t)(q->producer_epoch + 1);
        wr__kreq_finish(r);
        return;
    }
    int64_t pid = -1;
    wr_err err = {0};
    if (wr__kidem_new_pid(b->idem, &pid, &err) != WR_OK) {
        wr_log(WR_LOG_ERROR, "kafka", "cannot allocate a producer id: %s", err.msg);
        s->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
    }
    s->producer_id = pid;
    s->producer_epoch = 0;
    wr__kreq_finish(r);
}

static const wr_khandler handlers[] = {
    [WR_KAPI_PRODUCE] = wr__kh_produce,
    [WR_KAPI_FETCH] = wr__kh_fetch,
    [WR_KAPI_LIST_OFFSETS] = wr__kh_list_offsets,
    [WR_KAPI_METADATA] = kh_metadata,
    [WR_KAPI_OFFSET_COMMIT] = wr__kh_offset_commit,
    [WR_KAPI_OFFSET_FETCH] = wr__kh_offset_fetch,
    [WR_KAPI_FIND_COORDINATOR] = kh_find_coordinator,
    [WR_KAPI_JOIN_GROUP] = wr__kh_join_group,
    [WR_KAPI_HEARTBEAT] = wr__kh_heartbeat,
    [WR_KAPI_LEAVE_GROUP] = wr__kh_leave_group,
    [WR_KAPI_SYNC_GROUP] = wr__kh_sync_group,
    [WR_KAPI_DESCRIBE_GROUPS] = wr__kh_describe_groups,
    [WR_KAPI_LIST_GROUPS] = wr__kh_list_groups,
    [WR_KAPI_API_VERSIONS] = kh_api_versions,
    [WR_KAPI_CREATE_TOPICS] = kh_create_topics,
    [WR_KAPI_DELETE_TOPICS] = kh_delete_topics,
    [WR_KAPI_INIT_PRODUCER_ID] = kh_init_producer_id,
    [WR_KAPI_DESCRIBE_CONFIGS] = kh_describe_configs,
    [WR_KAPI_ALTER_CONFIGS] = kh_alter_configs,
    [WR_KAPI_CREATE_PARTITIONS] = kh_create_partitions,
    [WR_KAPI_DELETE_GROUPS] = wr__kh_delete_groups,
    [WR_KAPI_INCREMENTAL_ALTER_CONFIGS] = kh_incremental_alter_configs,
    [WR_KAPI_OFFSET_DELETE] = wr__kh_offset_delete,
    [WR_KAPI_ADD_PARTITIONS_TO_TXN] = wr__kh_add_partitions_to_txn,
    [WR_KAPI_ADD_OFFSETS_TO_TXN] = wr__kh_add_offsets_to_txn,
    [WR_KAPI_END_TXN] = wr__kh_end_txn,
    [WR_KAPI_TXN_OFFSET_COMMIT] = wr__kh_txn_offset_commit,
    [WR_KAPI_SASL_HANDSHAKE] = wr__kh_sasl_handshake,
    [WR_KAPI_SASL_AUTHENTICATE] = wr__kh_sasl_authenticate,
    [WR_KAPI_CREATE_ACLS] = wr__kh_create_acls,
    [WR_KAPI_DESCRIBE_ACLS] = wr__kh_describe_acls,
    [WR_KAPI_DELETE_ACLS] = wr__kh_delete_acls,
};

wr_khandler
wr__kh_lookup(int16_t api_key)
{
    if (api_key < 0 || (size_t)api_key >= sizeof handlers / sizeof handlers[0])
        return NULL;
    return handlers[api_key];
}

/*
 * remote.c - Kafka-client implementations of topic/produce/consume. See remote.h.
 *
 * The producer uses partitioner=murmur2_random so keys land where a Java producer (and weir's
 * local producer) puts them, and acks=all with idempotence, so what is reported written is
 * stored once. The consumer assigns partitions itself (like kcat -C) unless --group is given.
 */
#include "src/cli/remote.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>

#if defined(__clang__) /* librdkafka's RD_KAFKA_V_* macros are GNU statement expressions */
#    pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/clock.h"
#include "src/log/compress.h"

#define LINE_MAX_REMOTE (1024 * 1024)

static rd_kafka_conf_t *
base_conf(wr_cli *cli, const char *bootstrap)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
        wr_cli_errorf(cli, "%s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set(conf, "client.id", "weir-cli", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    return conf;
}

/* An admin client, or NULL (printed). */
static rd_kafka_t *
admin_client(wr_cli *cli, const char *bootstrap)
{
    char errstr[512];
    rd_kafka_conf_t *conf = base_conf(cli, bootstrap);
    if (conf == NULL)
        return NULL;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        wr_cli_errorf(cli, "%s", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int
set(rd_kafka_conf_t *conf, wr_cli *cli, const char *k, const char *v)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        wr_cli_errorf(cli, "%s", errstr);
        return -1;
    }
    return 0;
}

/* ---- topics ---------------------------------------------------------------------------- */

static int
admin_wait(wr_cli *cli,
           rd_kafka_t *rk,
           rd_kafka_queue_t *q,
           rd_kafka_event_type_t type,
           rd_kafka_event_t **out)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (ev == NULL) {
        wr_cli_errorf(cli, "timed out waiting for the server");
        return -1;
    }
    if (rd_kafka_event_error(ev)) {
        wr_cli_errorf(cli, "%s", rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return -1;
    }
    if (rd_kafka_event_type(ev) != type) {
        wr_cli_errorf(cli, "unexpected admin event %s", rd_kafka_event_name(ev));
        rd_kafka_event_destroy(ev);
        return -1;
    }
    *out = ev;
    return 0;
}

static int
print_topic_results(wr_cli *cli, const rd_kafka_topic_result_t **res, size_t n, const char *what)
{
    int status = WR_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        const char *name = rd_kafka_topic_result_name(res[i]);
        if (rd_kafka_topic_result_error(res[i])) {
            wr_cli_errorf(cli, "cannot %s topic '%s': %s", what, name,
                          rd_kafka_topic_result_error_string(res[i]));
            status = WR_EXIT_FAIL;
        } else {
            printf("%c%sd topic %s.\n", what[0] - 32, what + 1, name);
        }
    }
    return status;
}

static int
describe_remote(wr_cli *cli, rd_kafka_t *rk, char **names, int n_names, bool list_only)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 15000);
    if (e) {
        wr_cli_errorf(cli, "metadata: %s", rd_kafka_err2str(e));
        return WR_EXIT_FAIL;
    }
    int status = WR_EXIT_OK;
    int found = 0;
    for (int t = 0; t < md->topic_cnt; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        bool wanted = n_names == 0;
        for (int i = 0; i < n_names; i++)
            if (strcmp(names[i], mt->topic) == 0)
                wanted = true;
        if (!wanted || mt->err)
            continue;
        found++;
        if (list_only) {
            printf("%s\n", mt->topic);
            continue;
        }
        printf("Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: \n", mt->topic,
               mt->partition_cnt, mt->partition_cnt ? mt->partitions[0].replica_cnt : 0);
        for (int p = 0; p < mt->partition_cnt; p++) {
            const rd_kafka_metadata_partition_t *mp = &mt->partitions[p];
            printf("\tTopic: %s\tPartition: %d\tLeader: %d\tReplicas: ", mt->topic, mp->id,
                   mp->leader);
            for (int r = 0; r < mp->replica_cnt; r++)
                printf("%s%d", r ? "," : "", mp->replicas[r]);
            printf("\tIsr: ");
            for (int r = 0; r < mp->isr_cnt; r++)
                printf("%s%d", r ? "," : "", mp->isrs[r]);
            printf("\n");
        }
    }
    if (!list_only && n_names > found) {
        wr_cli_errorf(cli, "%d of the named topics do not exist", n_names - found);
        status = WR_EXIT_FAIL;
    }
    rd_kafka_metadata_destroy(md);
    return status;
}

int
wr_remote_topic(wr_cli *cli,
                const char *bootstrap,
                const char *verb,
                char **names,
                int n_names,
                int32_t partitions,
                const wr_props *configs,
                char **delete_configs,
                int n_delete)
{
    char errstr[512];
    rd_kafka_t *rk = admin_client(cli, bootstrap);
    if (rk == NULL)
        return WR_EXIT_FAIL;
    int status = WR_EXIT_FAIL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    if (strcmp(verb, "list") == 0 || strcmp(verb, "describe") == 0) {
        status = describe_remote(cli, rk, names, n_names, strcmp(verb, "list") == 0);
    } else if (strcmp(verb, "create") == 0) {
        rd_kafka_NewTopic_t *nt =
            rd_kafka_NewTopic_new(names[0], partitions, 1, errstr, sizeof errstr);
        if (nt == NULL) {
            wr_cli_errorf(cli, "%s", errstr);
            goto out;
        }
        for (size_t i = 0; i < configs->count; i++)
            rd_kafka_NewTopic_set_config(nt, configs->items[i].key, configs->items[i].value);
        rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        rd_kafka_NewTopic_destroy(nt);
        if (admin_wait(cli, rk, q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, &ev) == 0) {
            size_t n;
            const rd_kafka_topic_result_t **res =
                rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
            status = print_topic_results(cli, res, n, "create");
        }
    } else if (strcmp(verb, "delete") == 0) {
        rd_kafka_DeleteTopic_t **dt = calloc((size_t)n_names, sizeof *dt);
        if (dt == NULL)
            goto out;
        for (int i = 0; i < n_names; i++)
            dt[i] = rd_kafka_DeleteTopic_new(names[i]);
        rd_kafka_DeleteTopics(rk, dt, (size_t)n_names, NULL, q);
        rd_kafka_DeleteTopic_destroy_array(dt, (size_t)n_names);
        free(dt);
        if (admin_wait(cli, rk, q, RD_KAFKA_EVENT_DELETETOPICS_RESULT, &ev) == 0) {
            size_t n;
            const rd_kafka_topic_result_t **res =
                rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
            status = print_topic_results(cli, res, n, "delete");
        }
    } else { /* alter */
        status = WR_EXIT_OK;
        if (partitions > 0) {
            rd_kafka_NewPartitions_t *np =
                rd_kafka_NewPartitions_new(names[0], (size_t)partitions, errstr, sizeof errstr);
            rd_kafka_CreatePartitions(rk, &np, 1, NULL, q);
            rd_kafka_NewPartitions_destroy(np);
            if (admin_wait(cli, rk, q, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, &ev) != 0) {
                status = WR_EXIT_FAIL;
            } else {
                size_t n;
                const rd_kafka_topic_result_t **res = rd_kafka_CreatePartitions_result_topics(
                    rd_kafka_event_CreatePartitions_result(ev), &n);
                status = print_topic_results(cli, res, n, "update");
                rd_kafka_event_destroy(ev);
                ev = NULL;
            }
        }
        if (status == WR_EXIT_OK && (configs->count > 0 || n_delete > 0)) {
            /* AlterConfigs replaces the whole set: read-modify-write is the caller's business
               in Kafka too; we send exactly what was named. */
            rd_kafka_ConfigResource_t *cr =
                rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, names[0]);
            for (size_t i = 0; i < configs->count; i++)
                rd_kafka_ConfigResource_set_config(cr, configs->items[i].key,
                                                   configs->items[i].value);
            (void)delete_configs;
            rd_kafka_AlterConfigs(rk, &cr, 1, NULL, q);
            rd_kafka_ConfigResource_destroy(cr);
            if (admin_wait(cli, rk, q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, &ev) != 0) {
                status = WR_EXIT_FAIL;
            } else {
                size_t n;
                const rd_kafka_ConfigResource_t **res = rd_kafka_AlterConfigs_result_resources(
                    rd_kafka_event_AlterConfigs_result(ev), &n);
                for (size_t i = 0; i < n; i++) {
                    if (rd_kafka_ConfigResource_error(res[i])) {
                        wr_cli_errorf(cli, "cannot alter '%s': %s", names[0],
                                      rd_kafka_ConfigResource_error_string(res[i]));
                        status = WR_EXIT_FAIL;
                    }
                }
            }
        }
        if (status == WR_EXIT_OK)
            printf("Altered topic %s.\n", names[0]);
    }
out:
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return status;
}

/* ---- produce --------------------------------------------------------------------------- */

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    long *failures = opaque;
    if (m->err) {
        fprintf(stderr, "weir produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
        (*failures)++;
    }
}

int
wr_remote_produce(wr_cli *cli,
                  const char *bootstrap,
                  const char *topic,
                  int sep,
                  int32_t partition,
                  wr_compression codec,
                  int64_t linger_ms)
{
    char errstr[512], linger[32];
    long failures = 0, skipped = 0;
    rd_kafka_conf_t *conf = base_conf(cli, bootstrap);
    if (conf == NULL)
        return WR_EXIT_FAIL;
    snprintf(linger, sizeof linger, "%lld", (long long)linger_ms);
    if (set(conf, cli, "partitioner", "murmur2_random") || set(conf, cli, "acks", "all") ||
        set(conf, cli, "enable.idempotence", "true") ||
        set(conf, cli, "compression.codec", wr_compression_name(codec)) ||
        set(conf, cli, "linger.ms", linger)) {
        rd_kafka_conf_destroy(conf);
        return WR_EXIT_FAIL;
    }
    rd_kafka_conf_set_opaque(conf, &failures);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        wr_cli_errorf(cli, "%s", errstr);
        rd_kafka_conf_destroy(conf);
        return WR_EXIT_FAIL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > LINE_MAX_REMOTE) {
            wr_cli_errorf(cli, "line %ld: record larger than %d bytes, skipped", lineno,
                          LINE_MAX_REMOTE);
            skipped++;
            continue;
        }
        const char *key = NULL, *val = line;
        size_t klen = 0, vlen = len;
        if (sep >= 0) {
            const char *s = memchr(line, sep, len);
            if (s == NULL) {
                wr_cli_errorf(cli, "line %ld: no key separator '%c' found, skipped", lineno, sep);
                skipped++;
                continue;
            }
            key = line;
            klen = (size_t)(s - line);
            val = s + 1;
            vlen = len - klen - 1;
        }
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_PARTITION(partition >= 0 ? partition : RD_KAFKA_PARTITION_UA),
                    RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)val, vlen),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 100);
        if (e) {
            wr_cli_errorf(cli, "line %ld: %s", lineno, rd_kafka_err2str(e));
            failures++;
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    free(line);
    rd_kafka_flush(rk, 60000);
    if (rd_kafka_outq_len(rk) > 0) {
        wr_cli_errorf(cli, "%d records were not delivered in time", rd_kafka_outq_len(rk));
        failures++;
    }
    rd_kafka_destroy(rk);
    return failures || skipped ? WR_EXIT_FAIL : WR_EXIT_OK;
}

/* ---- consume --------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_consuming;

static void
on_signal(int sig)
{
    (void)sig;
    stop_consuming = 1;
}

int
wr_remote_consume(wr_cli *cli, const char *bootstrap, const char *topic, const wr_consume_opts *o)
{
    char errstr[512];
    rd_kafka_conf_t *conf = base_conf(cli, bootstrap);
    if (conf == NULL)
        return WR_EXIT_FAIL;
    const char *group = o->group ? o->group : "weir-cli-consumer";
    if (set(conf, cli, "group.id", group) ||
        set(conf, cli, "enable.auto.commit", o->group ? "true" : "false") ||
        set(conf, cli, "auto.offset.reset", o->from_beginning ? "earliest" : "latest") ||
        set(conf, cli, "enable.partition.eof", "false")) {
        rd_kafka_conf_destroy(conf);
        return WR_EXIT_FAIL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        wr_cli_errorf(cli, "%s", errstr);
        rd_kafka_conf_destroy(conf);
        return WR_EXIT_FAIL;
    }
    int status = WR_EXIT_FAIL;
    rd_kafka_topic_partition_list_t *tpl = NULL;
    rd_kafka_poll_set_consumer(rk);
    if (o->group != NULL && o->partition < 0) {
        tpl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tpl, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, tpl);
        if (e) {
            wr_cli_errorf(cli, "subscribe: %s", rd_kafka_err2str(e));
            goto out;
        }
    } else {
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 15000);
        rd_kafka_topic_destroy(rkt);
        if (e || md->topic_cnt != 1 || md->topics[0].err) {
            wr_cli_errorf(cli, "topic '%s': %s", topic,
                          rd_kafka_err2str(e ? e : md->topics[0].err));
            if (!e)
                rd_kafka_metadata_destroy(md);
            goto out;
        }
        int32_t n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        if (o->partition >= n) {
            wr_cli_errorf(cli, "topic '%s' has %d partitions; partition %d does not exist", topic,
                          n, o->partition);
            goto out;
        }
        tpl = rd_kafka_topic_partition_list_new(n);
        for (int32_t p = 0; p < n; p++) {
            if (o->partition >= 0 && p != o->partition)
                continue;
            int64_t start = o->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
            if (o->offset >= 0)
                start = o->offset;
            rd_kafka_topic_partition_list_add(tpl, topic, p)->offset = start;
        }
        e = rd_kafka_assign(rk, tpl);
        if (e) {
            wr_cli_errorf(cli, "assign: %s", rd_kafka_err2str(e));
            goto out;
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int64_t printed = 0, idle_since = wr_clock_mono_ns();
    status = WR_EXIT_OK;
    while (!stop_consuming) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL) {
            if (o->timeout_ms >= 0 && (wr_clock_mono_ns() - idle_since) / 1000000 >= o->timeout_ms)
                break;
            continue;
        }
        if (m->err) {
            rd_kafka_resp_err_t e = m->err;
            wr_cli_errorf(cli, "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (e != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                status = WR_EXIT_FAIL;
                break;
            }
            continue;
        }
        idle_since = wr_clock_mono_ns();
        rd_kafka_timestamp_type_t tstype;
        wr_record r = {
            .offset = m->offset,
            .timestamp = rd_kafka_message_timestamp(m, &tstype),
            .key = m->key,
            .key_len = m->key ? (int32_t)m->key_len : -1,
            .value = m->payload,
            .value_len = m->payload ? (int32_t)m->len : -1,
        };
        wr_consume_print(o, m->partition, &r);
        rd_kafka_message_destroy(m);
        if (o->max_messages >= 0 && ++printed >= o->max_messages)
            break;
    }
    fflush(stdout);
out:
    if (tpl != NULL)
        rd_kafka_topic_partition_list_destroy(tpl);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return status;
}

/* ---- groups ---------------------------------------------------------------------------- */

void
wr_group_rows_free(wr_group_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].topic);
        free(rows[i].consumer_id);
        free(rows[i].host);
        free(rows[i].client_id);
    }
    free(rows);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
wr_remote_group_list(wr_cli *cli, const char *bootstrap, char ***ids, size_t *n)
{
    rd_kafka_t *rk = admin_client(cli, bootstrap);
    if (rk == NULL)
        return WR_EXIT_FAIL;
    int status = WR_EXIT_FAIL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_ListConsumerGroups(rk, NULL, q);
    rd_kafka_event_t *ev = NULL;
    if (admin_wait(cli, rk, q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, &ev) == 0) {
        const rd_kafka_ListConsumerGroups_result_t *res =
            rd_kafka_event_ListConsumerGroups_result(ev);
        size_t cnt;
        const rd_kafka_ConsumerGroupListing_t **v =
            rd_kafka_ListConsumerGroups_result_valid(res, &cnt);
        char **out = calloc(cnt + 1, sizeof *out);
        for (size_t i = 0; out && i < cnt; i++)
            out[i] = strdup(rd_kafka_ConsumerGroupListing_group_id(v[i]));
        if (out) {
            qsort(out, cnt, sizeof *out, cmp_str);
            *ids = out;
            *n = cnt;
            status = WR_EXIT_OK;
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return status;
}

static wr_group_row *
row_for(wr_group_row **rows, size_t *n, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < *n; i++)
        if ((*rows)[i].partition == partition && strcmp((*rows)[i].topic, topic) == 0)
            return &(*rows)[i];
    wr_group_row *nr = realloc(*rows, (*n + 1) * sizeof *nr);
    if (nr == NULL)
        return NULL;
    *rows = nr;
    wr_group_row *r = &nr[(*n)++];
    *r = (wr_group_row){.topic = strdup(topic), .partition = partition, .current = -1, .end = -1};
    return r;
}

static char *
dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

int
wr_remote_group_describe(wr_cli *cli,
                         const char *bootstrap,
                         const char *group,
                         wr_group_row **rows,
                         size_t *n,
                         bool *exists,
                         size_t *members)
{
    *rows = NULL;
    *n = 0;
    *exists = false;
    *members = 0;
    rd_kafka_t *rk = admin_client(cli, bootstrap);
    if (rk == NULL)
        return WR_EXIT_FAIL;
    int status = WR_EXIT_FAIL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    const char *groups[] = {group};
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, NULL, q);
    rd_kafka_event_t *ev = NULL;
    if (admin_wait(cli, rk, q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, &ev) != 0)
        goto out;
    size_t cnt;
    const rd_kafka_ConsumerGroupDescription_t **d = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &cnt);
    if (cnt == 1 && rd_kafka_ConsumerGroupDescription_error(d[0]) == NULL) {
        rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(d[0]);
        *exists =
            st != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD && st != RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN;
        *members = rd_kafka_ConsumerGroupDescription_member_count(d[0]);
        for (size_t i = 0; i < *members; i++) {
            const rd_kafka_MemberDescription_t *m =
                rd_kafka_ConsumerGroupDescription_member(d[0], i);
            const rd_kafka_topic_partition_list_t *tp =
                rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
            for (int j = 0; tp && j < tp->cnt; j++) {
                wr_group_row *r = row_for(rows, n, tp->elems[j].topic, tp->elems[j].partition);
                if (r == NULL)
                    goto oom;
                r->consumer_id = dup_or_null(rd_kafka_MemberDescription_consumer_id(m));
                r->host = dup_or_null(rd_kafka_MemberDescription_host(m));
                r->client_id = dup_or_null(rd_kafka_MemberDescription_client_id(m));
            }
        }
    }
    rd_kafka_event_destroy(ev);
    ev = NULL;

    rd_kafka_ListConsumerGroupOffsets_t *lo = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    rd_kafka_ListConsumerGroupOffsets(rk, &lo, 1, NULL, q);
    rd_kafka_ListConsumerGroupOffsets_destroy(lo);
    if (admin_wait(cli, rk, q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, &ev) != 0) {
        ev = NULL;
        goto out;
    }
    const rd_kafka_group_result_t **gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++) {
        const rd_kafka_topic_partition_list_t *tp = rd_kafka_group_result_partitions(gr[i]);
        for (int j = 0; tp && j < tp->cnt; j++) {
            if (tp->elems[j].err || tp->elems[j].offset < 0)
                continue;
            wr_group_row *r = row_for(rows, n, tp->elems[j].topic, tp->elems[j].partition);
            if (r == NULL)
                goto oom;
            r->current = tp->elems[j].offset;
            *exists = true;
        }
    }
    for (size_t i = 0; i < *n; i++) {
        int64_t lo_off, hi_off;
        if (rd_kafka_query_watermark_offsets(rk, (*rows)[i].topic, (*rows)[i].partition, &lo_off,
                                             &hi_off, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
            (*rows)[i].end = hi_off;
    }
    status = WR_EXIT_OK;
    goto out;
oom:
    wr_cli_errorf(cli, "out of memory");
out:
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return status;
}

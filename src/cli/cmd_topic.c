/*
 * cmd_topic.c - `weir topic create|list|describe|delete|alter`.
 *
 * Works on the local data directory, or on a running server with --bootstrap-server (through
 * the Kafka admin API, see remote.c). Output follows kafka-topics: `describe` prints a topic line
 * then one `Partition: ... Leader: ... Replicas: ... Isr: ...` line per partition.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "src/cli/remote.h"

static const char topic_help[] =
    "usage: weir topic create NAME [--partitions N] [--replication-factor 1] [--config K=V ...]\n"
    "       weir topic list\n"
    "       weir topic describe [NAME ...]\n"
    "       weir topic alter NAME [--partitions N] [--config K=V ...] [--delete-config K ...]\n"
    "       weir topic delete NAME ...\n"
    "\n"
    "Topic configs use Kafka's names: retention.ms, retention.bytes, segment.bytes, segment.ms,\n"
    "cleanup.policy, max.message.bytes, message.timestamp.type, ...\n\n" WR_CLI_COMMON_HELP;

typedef struct topic_args {
    int32_t partitions;
    int32_t replication;
    wr_props configs;
    char **delete_configs;
    int n_delete;
} topic_args;

static void
print_partition_lines(wr_logdb *db, const char *name, int32_t n, int32_t node)
{
    for (int32_t p = 0; p < n; p++) {
        wr_partition *part;
        if (wr_log_partition(db, name, p, &part) != WR_OK)
            continue;
        printf("\tTopic: %s\tPartition: %d\tLeader: %d\tReplicas: %d\tIsr: %d\t"
               "LogStartOffset: %lld\tLogEndOffset: %lld\n",
               name, p, node, node, node, (long long)wr_log_start_offset(part),
               (long long)wr_log_end_offset(part));
    }
}

static int
describe_local(wr_cli *cli, wr_logdb *db, const char *name)
{
    int32_t n = wr_log_topic_partitions(db, name);
    if (n < 0) {
        wr_cli_errorf(cli, "topic '%s' does not exist", name);
        return WR_EXIT_FAIL;
    }
    wr_props own = WR_PROPS_INIT;
    wr_err err;
    if (wr_log_topic_config_own(db, name, &own, &err) != WR_OK) {
        wr_cli_errorf(cli, "%s", err.msg);
        return WR_EXIT_FAIL;
    }
    printf("Topic: %s\tPartitionCount: %d\tReplicationFactor: 1\tConfigs: ", name, n);
    for (size_t i = 0; i < own.count; i++)
        printf("%s%s=%s", i ? "," : "", own.items[i].key, own.items[i].value);
    printf("\n");
    wr_props_free(&own);
    int64_t node = 0;
    wr_cli_get_i64(cli, WR_CFG_NODE_ID, 0, &node);
    print_partition_lines(db, name, n, (int32_t)node);
    return WR_EXIT_OK;
}

static int
run_local(wr_cli *cli, const char *verb, char **names, int n_names, topic_args *a)
{
    wr_logdb *db = NULL;
    if (wr_cli_open_log(cli, &db) != WR_OK)
        return WR_EXIT_FAIL;
    int status = WR_EXIT_OK;
    wr_err err;
    if (strcmp(verb, "create") == 0) {
        if (wr_log_topic_create(db, names[0], a->partitions, &a->configs, &err) != WR_OK) {
            wr_cli_errorf(cli, "cannot create topic '%s': %s", names[0], err.msg);
            status = WR_EXIT_FAIL;
        } else {
            printf("Created topic %s.\n", names[0]);
        }
    } else if (strcmp(verb, "list") == 0) {
        char **list = NULL;
        size_t count = 0;
        if (wr_log_topic_list(db, &list, &count, &err) != WR_OK) {
            wr_cli_errorf(cli, "%s", err.msg);
            status = WR_EXIT_FAIL;
        }
        for (size_t i = 0; i < count; i++) {
            printf("%s\n", list[i]);
            free(list[i]);
        }
        free(list);
    } else if (strcmp(verb, "describe") == 0) {
        if (n_names == 0) {
            char **list = NULL;
            size_t count = 0;
            if (wr_log_topic_list(db, &list, &count, &err) != WR_OK) {
                wr_cli_errorf(cli, "%s", err.msg);
                status = WR_EXIT_FAIL;
            }
            for (size_t i = 0; i < count; i++) {
                if (describe_local(cli, db, list[i]) != WR_EXIT_OK)
                    status = WR_EXIT_FAIL;
                free(list[i]);
            }
            free(list);
        }
        for (int i = 0; i < n_names; i++)
            if (describe_local(cli, db, names[i]) != WR_EXIT_OK)
                status = WR_EXIT_FAIL;
    } else if (strcmp(verb, "delete") == 0) {
        for (int i = 0; i < n_names; i++) {
            if (wr_log_topic_delete(db, names[i], &err) != WR_OK) {
                wr_cli_errorf(cli, "cannot delete topic '%s': %s", names[i], err.msg);
                status = WR_EXIT_FAIL;
            } else {
                printf("Deleted topic %s.\n", names[i]);
            }
        }
    } else { /* alter */
        if (a->partitions > 0 &&
            wr_log_topic_add_partitions(db, names[0], a->partitions, &err) != WR_OK) {
            wr_cli_errorf(cli, "cannot grow topic '%s': %s", names[0], err.msg);
            status = WR_EXIT_FAIL;
        }
        for (size_t i = 0; status == WR_EXIT_OK && i < a->configs.count; i++) {
            if (wr_log_topic_config_set(db, names[0], a->configs.items[i].key,
                                        a->configs.items[i].value, &err) != WR_OK) {
                wr_cli_errorf(cli, "cannot set %s on '%s': %s", a->configs.items[i].key, names[0],
                              err.msg);
                status = WR_EXIT_FAIL;
            }
        }
        for (int i = 0; status == WR_EXIT_OK && i < a->n_delete; i++) {
            if (wr_log_topic_config_set(db, names[0], a->delete_configs[i], NULL, &err) != WR_OK) {
                wr_cli_errorf(cli, "cannot reset %s on '%s': %s", a->delete_configs[i], names[0],
                              err.msg);
                status = WR_EXIT_FAIL;
            }
        }
        if (status == WR_EXIT_OK)
            printf("Altered topic %s.\n", names[0]);
    }
    wr_log_close(db);
    return status;
}

int
wr_cmd_topic(int argc, char **argv)
{
    enum { OPT_PARTITIONS = WR_OPT__COMMON_END, OPT_RF, OPT_TCONFIG, OPT_DELCONFIG };
    static const struct option longopts[] = {
        WR_CLI_COMMON_LONGOPTS,
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"replication-factor", required_argument, NULL, OPT_RF},
        {"config-entry", required_argument, NULL, OPT_TCONFIG},
        {"delete-config", required_argument, NULL, OPT_DELCONFIG},
        {NULL, 0, NULL, 0},
    };
    wr_cli cli;
    wr_cli_init(&cli, "weir topic");
    topic_args a = {.partitions = -1, .replication = 1};
    char *delete_configs[64];
    a.delete_configs = delete_configs;
    bool failed = false;
    int status = WR_EXIT_USAGE;
    /* "--config K=V" is the topic-config flag of kafka-topics; a value without '=' is a file. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc && strchr(argv[i + 1], '=') != NULL)
            argv[i] = "--config-entry";
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (wr_cli_common_opt(&cli, opt, optarg, &failed))
            continue;
        switch (opt) {
        case 'h':
            fputs(topic_help, stdout);
            status = WR_EXIT_OK;
            goto out;
        case OPT_PARTITIONS: {
            int64_t v;
            if (!wr_parse_i64(optarg, &v) || v < 1 || v > 100000) {
                wr_cli_errorf(&cli, "--partitions must be a number from 1 to 100000");
                goto out;
            }
            a.partitions = (int32_t)v;
            break;
        }
        case OPT_RF:
            if (strcmp(optarg, "1") != 0) {
                wr_cli_errorf(&cli, "--replication-factor: only 1 is supported until replication"
                                    " arrives");
                goto out;
            }
            break;
        case OPT_TCONFIG: {
            char *eq = strchr(optarg, '=');
            *eq = '\0';
            wr_props_set(&a.configs, optarg, eq + 1);
            *eq = '=';
            break;
        }
        case OPT_DELCONFIG:
            if (a.n_delete == 64) {
                wr_cli_errorf(&cli, "too many --delete-config");
                goto out;
            }
            a.delete_configs[a.n_delete++] = optarg;
            break;
        default:
            fputs(topic_help, stderr);
            goto out;
        }
    }
    if (failed || !wr_cli_apply(&cli))
        goto out;
    if (optind >= argc) {
        fputs(topic_help, stderr);
        goto out;
    }
    const char *verb = argv[optind++];
    char **names = argv + optind;
    int n_names = argc - optind;
    bool needs_one = strcmp(verb, "create") == 0 || strcmp(verb, "alter") == 0;
    bool needs_some = strcmp(verb, "delete") == 0;
    bool known =
        needs_one || needs_some || strcmp(verb, "list") == 0 || strcmp(verb, "describe") == 0;
    if (!known) {
        wr_cli_errorf(&cli, "unknown verb '%s' (create, list, describe, alter, delete)", verb);
        goto out;
    }
    if ((needs_one && n_names != 1) || (needs_some && n_names < 1) ||
        (strcmp(verb, "list") == 0 && n_names != 0)) {
        wr_cli_errorf(&cli, "wrong number of topic names for '%s'", verb);
        goto out;
    }
    if (strcmp(verb, "create") == 0 && a.partitions < 0) {
        int64_t def;
        if (!wr_cli_get_i64(&cli, WR_CFG_NUM_PARTITIONS, 1, &def))
            goto out;
        a.partitions = (int32_t)def;
    }
    /* Validate topic configs before touching anything, with Kafka's names and rules. */
    for (size_t i = 0; i < a.configs.count; i++) {
        wr_err err;
        if (wr_log_config_validate(a.configs.items[i].key, a.configs.items[i].value, &err) !=
            WR_OK) {
            wr_cli_errorf(&cli, "%s", err.msg);
            status = WR_EXIT_FAIL;
            goto out;
        }
    }
    const char *bootstrap = wr_cli_get(&cli, WR_CFG_BOOTSTRAP, NULL);
    if (bootstrap != NULL)
        status = wr_remote_topic(&cli, bootstrap, verb, names, n_names, a.partitions, &a.configs,
                                 a.delete_configs, a.n_delete);
    else
        status = run_local(&cli, verb, names, n_names, &a);
out:
    wr_props_free(&a.configs);
    wr_cli_cleanup(&cli);
    return status;
}

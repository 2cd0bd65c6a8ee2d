/*
 * remote.h - the topic/produce/consume subcommands against a running server or any Kafka
 * cluster, through librdkafka (--bootstrap-server).
 */
#ifndef WR_SRC_CLI_REMOTE_H
#define WR_SRC_CLI_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "src/base/props.h"
#include "src/cli/cli.h"
#include "src/log/rbatch.h"

typedef struct wr_consume_opts {
    bool from_beginning;
    int32_t partition;    /* -1: all */
    int64_t offset;       /* -1: from_beginning decides */
    int64_t max_messages; /* -1: no limit */
    int64_t timeout_ms;   /* -1: wait forever (remote) / stop at the end (local) */
    bool print_key, print_partition, print_offset, print_timestamp;
    const char *key_separator;
    const char *group; /* NULL: assign partitions directly */
} wr_consume_opts;

/* Prints one record the way the options ask (shared by local and remote consume). */
void wr_consume_print(const wr_consume_opts *o, int32_t partition, const wr_record *r);

int wr_remote_topic(wr_cli *cli,
                    const char *bootstrap,
                    const char *verb,
                    char **names,
                    int n_names,
                    int32_t partitions,
                    const wr_props *configs,
                    char **delete_configs,
                    int n_delete);

int wr_remote_produce(wr_cli *cli,
                      const char *bootstrap,
                      const char *topic,
                      int sep,
                      int32_t partition,
                      wr_compression codec,
                      int64_t linger_ms);

int
wr_remote_consume(wr_cli *cli, const char *bootstrap, const char *topic, const wr_consume_opts *o);

/* One line of `weir groups describe`: a partition the group has an offset or a member on. */
typedef struct wr_group_row {
    char *topic; /* owned */
    int32_t partition;
    int64_t current;                      /* committed offset, -1: none */
    int64_t end;                          /* log-end offset, -1: unknown */
    char *consumer_id, *host, *client_id; /* owned; NULL: no active member */
} wr_group_row;

void wr_group_rows_free(wr_group_row *rows, size_t n);

/* The group ids the cluster knows, sorted (owned strings in an owned array). */
int wr_remote_group_list(wr_cli *cli, const char *bootstrap, char ***ids, size_t *n);

/* The rows of one group (owned array); *exists false for a group that is unknown;
 *members counts its active members. Returns WR_EXIT_OK or WR_EXIT_FAIL (printed). */
int wr_remote_group_describe(wr_cli *cli,
                             const char *bootstrap,
                             const char *group,
                             wr_group_row **rows,
                             size_t *n,
                             bool *exists,
                             size_t *members);

#endif

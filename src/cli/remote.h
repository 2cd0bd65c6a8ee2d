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

#endif

/*
 * cli.h - what the `weir` subcommands share: common options, configuration and the data
 * directory lock.
 *
 * Every subcommand parses its argv with getopt_long into a wr_config whose FLAG layer holds the
 * flags, FILE layer the `--config FILE` properties and ENV layer the WEIR_* variables, so the
 * precedence is flags > file > environment > defaults (props.h). Option names map to property
 * keys (--data-dir -> data.dir, --kafka-listen -> kafka.listeners, --http-listen -> listeners).
 *
 * A data directory is used by one process at a time: wr_cli_open_log takes an exclusive flock on
 * `<data>/weir.lock` for the life of the process, so `weir produce --data-dir D` refuses to run
 * beside a `weir server` on D instead of corrupting its segments.
 *
 * Exit codes: 0 success, 1 failure at run time, 2 usage errors and unavailable subcommands.
 */
#ifndef WR_SRC_CLI_CLI_H
#define WR_SRC_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "src/base/props.h"
#include "src/log/log.h"

#define WR_EXIT_OK    0
#define WR_EXIT_FAIL  1
#define WR_EXIT_USAGE 2

/* Property keys of the options every command understands. */
#define WR_CFG_DATA_DIR        "data.dir"
#define WR_CFG_KAFKA_LISTEN    "kafka.listeners"
#define WR_CFG_HTTP_LISTEN     "listeners"
#define WR_CFG_BOOTSTRAP       "bootstrap.servers"
#define WR_CFG_LOG_LEVEL       "log.level"
#define WR_CFG_FLUSH_POLICY    "log.flush.policy"
#define WR_CFG_FLUSH_INTERVAL  "log.flush.interval.ms"
#define WR_CFG_RETENTION_CHECK "log.retention.check.interval.ms"
#define WR_CFG_NUM_PARTITIONS  "num.partitions"
#define WR_CFG_AUTO_CREATE     "auto.create.topics.enable"
#define WR_CFG_NODE_ID         "node.id"
#define WR_CFG_MAX_REQUEST     "socket.request.max.bytes"
#define WR_CFG_IDLE_MS         "connections.max.idle.ms"
#define WR_CFG_TXN_MAX_TIMEOUT "transaction.max.timeout.ms"
#define WR_CFG_QUEUED_MAX      "queued.max.request.bytes"
#define WR_CFG_MAX_CONNS       "max.connections"
#define WR_CFG_MAX_CONNS_IP    "max.connections.per.ip"
#define WR_CFG_MAX_CONNS_OVR   "max.connections.per.ip.overrides"
#define WR_CFG_ADVERTISED      "kafka.advertised.listeners"

typedef struct wr_cli {
    const char *prog; /* "weir topic create", for messages */
    wr_config cfg;
    int lock_fd;             /* -1 until the data directory is locked */
    wr_props topic_defaults; /* broker-wide topic config defaults, lent to the open log */
} wr_cli;

/* Initialises cli with defaults and the environment layer. */
void wr_cli_init(wr_cli *cli, const char *prog);

/* Frees the configuration and releases the data directory lock. */
void wr_cli_cleanup(wr_cli *cli);

/*
 * Handles an option shared by every command (getopt_long codes below); returns true when opt was
 * one of them. On a bad --config file prints the error and sets *failed.
 */
enum {
    WR_OPT_DATA_DIR = 1000,
    WR_OPT_CONFIG,
    WR_OPT_BOOTSTRAP,
    WR_OPT_LOG_LEVEL,
    WR_OPT_PROPERTY,
    WR_OPT__COMMON_END,
};
#define WR_CLI_COMMON_LONGOPTS                                           \
    {"data-dir", required_argument, NULL, WR_OPT_DATA_DIR},              \
        {"config", required_argument, NULL, WR_OPT_CONFIG},              \
        {"bootstrap-server", required_argument, NULL, WR_OPT_BOOTSTRAP}, \
        {"log-level", required_argument, NULL, WR_OPT_LOG_LEVEL},        \
        {"property", required_argument, NULL, WR_OPT_PROPERTY},          \
    {                                                                    \
        "help", no_argument, NULL, 'h'                                   \
    }
#define WR_CLI_COMMON_HELP                                                                   \
    "Common options:\n"                                                                      \
    "  --data-dir DIR            local data directory (default ./weir-data; key data.dir)\n" \
    "  --bootstrap-server H:P    talk to a running weir server or Kafka cluster instead\n"   \
    "  --config FILE             read settings from a Java .properties file\n"               \
    "  --property KEY=VALUE      set any setting (strongest source)\n"                       \
    "  --log-level LEVEL         debug, info, warn or error (default info)\n"                \
    "  -h, --help                this help\n"                                                \
    "Settings come from flags, then --config FILE, then WEIR_* environment variables\n"      \
    "(WEIR_LOG_FLUSH_POLICY=none sets log.flush.policy), then defaults.\n"

bool wr_cli_common_opt(wr_cli *cli, int opt, const char *arg, bool *failed);

/* Applies settings that take effect process-wide (log level). Returns false on a bad value. */
bool wr_cli_apply(wr_cli *cli);

/* Sets a flag-layer property. */
void wr_cli_set(wr_cli *cli, const char *key, const char *value);

const char *wr_cli_get(const wr_cli *cli, const char *key, const char *def);

/* Reads an integer setting; prints an error and returns false when malformed. */
bool wr_cli_get_i64(wr_cli *cli, const char *key, int64_t def, int64_t *out);

/* Collects the broker-wide topic defaults (Kafka's log.* names such as log.retention.ms, or the
   topic names themselves) from the configuration into out. */
void wr_cli_topic_defaults(const wr_cli *cli, wr_props *out);

/* Locks the data directory and opens the log in it (creating both if needed). Prints errors. */
int wr_cli_open_log(wr_cli *cli, wr_logdb **out);

/* Prints "prog: message" to stderr. */
void wr_cli_errorf(const wr_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Splits "host:port" (also "[v6]:port" and "PLAINTEXT://host:port"); false when malformed. */
bool wr_cli_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

/* The subcommands. */
int wr_cmd_server(int argc, char **argv);
int wr_cmd_broker(int argc, char **argv);
int wr_cmd_topic(int argc, char **argv);
int wr_cmd_produce(int argc, char **argv);
int wr_cmd_consume(int argc, char **argv);
int wr_cmd_groups(int argc, char **argv);
int wr_cmd_users(int argc, char **argv);
int wr_cmd_sql(int argc, char **argv);

#endif

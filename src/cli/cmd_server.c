/*
 * cmd_server.c - `weir server` (every role in one process) and `weir broker` (the log role).
 *
 * Start-up: read the configuration, lock and open the data directory's log, start the Kafka
 * listener on its own event-loop thread, start the maintenance thread (segment roll by age,
 * retention and index checkpoints, every log.retention.check.interval.ms but at least every
 * 10 s), then wait for SIGTERM/SIGINT. Signals are
 * blocked in every thread and taken with sigwait by the main thread, so shutdown runs in plain
 * thread context: stop accepting, stop the broker loop, stop maintenance, fsync every partition,
 * close the log, release the lock. A second signal during shutdown exits at once.
 *
 * The line "weir server started" on stderr says the listeners are bound; tests wait for it.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/base/logging.h"
#include "src/cli/cli.h"
#include "src/cli/sqlworker.h"
#include "src/http/api.h"
#include "src/kafka/broker.h"

static const char server_help[] =
    "usage: weir %s [options]\n"
    "\n"
    "%s\n"
    "  --kafka-listen HOST:PORT   Kafka protocol listener (default 127.0.0.1:9092;\n"
    "                             key kafka.listeners)\n"
    "  --advertise HOST:PORT      address given to clients in metadata (default: the listener)\n"
    "%s"
    "  --node-id N                this node's id in Kafka metadata (default 0)\n"
    "\n"
    "Settings (as --property KEY=VALUE, in --config FILE or as WEIR_* variables):\n"
    "  log.flush.policy=sync|interval|none   sync fsyncs before acknowledging (default)\n"
    "  log.flush.interval.ms=N               for interval (default 1000)\n"
    "  log.retention.check.interval.ms=N     how often retention runs (default 300000)\n"
    "  num.partitions=N                      partitions of auto-created topics (default 1)\n"
    "  ksql.queries.file=FILE                statements to run at start (server only; as\n"
    "                                        --queries-file): ksqlDB's headless mode\n"
    "  ksql.streams.auto.offset.reset=earliest|latest   where new queries start (latest)\n"
    "  ksql.streams.processing.guarantee=exactly_once_v2|at_least_once   for queries whose\n"
    "                                        session sets none (default exactly_once_v2)\n"
    "  ksql.streams.commit.interval.ms=N     how often exactly-once queries commit (100)\n"
    "  ksql.service.id=ID                    names the processing log ID_processing_log\n"
    "  ksql.extension.dir=DIR                UDF libraries (*.so) loaded at start\n"
    "  weir.udf.allowlist=DIR[,DIR...]       the only directories UDF libraries may come from\n"
    "                                        (default: ksql.extension.dir)\n"
    "  auto.create.topics.enable=true|false  create topics on first use (default true)\n"
    "  socket.request.max.bytes=N            largest Kafka request (default 104857600)\n"
    "  connections.max.idle.ms=N             close idle connections (default 600000)\n"
    "  queued.max.request.bytes=N            bytes of Kafka requests being read or answered,\n"
    "                                        all connections together; reading pauses past it\n"
    "                                        (default 134217728; -1: no bound)\n"
    "  max.connections=N                     Kafka connections in all (default 10000; -1: no\n"
    "                                        bound); more are closed at accept\n"
    "  max.connections.per.ip=N              from one address (default -1: no bound)\n"
    "  max.connections.per.ip.overrides=IP:N[,IP:N]   exceptions to it\n"
    "  transaction.max.timeout.ms=N          longest transaction timeout a producer may ask\n"
    "                                        for (default 900000)\n"
    "  Topic defaults: retention.ms, retention.bytes, segment.bytes, segment.ms, ...\n"
    "\n" WR_CLI_COMMON_HELP;

static const char http_help[] =
    "  --http-listen HOST:PORT    HTTP API listener (default 127.0.0.1:8088; key listeners)\n";

typedef struct maintenance {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int64_t interval_ms;
    wr_logdb *db;
} maintenance;

static void *
maintenance_main(void *arg)
{
    maintenance *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(m->interval_ms / 1000);
        until.tv_nsec += (long)(m->interval_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        while (!m->stop && pthread_cond_timedwait(&m->cv, &m->mu, &until) != ETIMEDOUT)
            ;
        if (m->stop)
            break;
        pthread_mutex_unlock(&m->mu);
        wr_err err;
        if (wr_log_maintain(m->db, &err) != WR_OK)
            wr_log(WR_LOG_WARN, "server", "log maintenance: %s", err.msg);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- listeners --------------------------------------------------------------------------- */

/* The Kafka listener's address and security protocol, and the HTTP listener's address, as the
   settings give them:
     kafka.listeners (--kafka-listen)  [PROTOCOL://]HOST:PORT, PLAINTEXT when no protocol;
     listeners (--http-listen)         ksqlDB's HTTP listeners (http://HOST:PORT or HOST:PORT),
                                       and Kafka's: an entry whose scheme is a security protocol
                                       (PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL) or a listener
                                       name of listener.security.protocol.map is the Kafka
                                       listener, as in Kafka's server.properties.
   One Kafka listener and one HTTP listener for now. Returns false (with a message) on a bad
   setting. */
typedef struct listeners {
    char kafka[300]; /* HOST:PORT */
    int kafka_protocol;
    char http[300];
    bool http_tls; /* https:// */
} listeners;

/* The security protocol that scheme (n bytes) names, through listener.security.protocol.map:
   0 PLAINTEXT, 1 SASL_PLAINTEXT, 2 SSL, 3 SASL_SSL, -1 none (an HTTP scheme or unknown). */
static int
protocol_of(const char *map, const char *scheme, size_t n)
{
    static const char *const names[] = {"PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"};
    for (const char *p = map ? map : ""; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t el = strcspn(p, ",");
        const char *colon = memchr(p, ':', el);
        if (colon != NULL && (size_t)(colon - p) == n && strncasecmp(p, scheme, n) == 0) {
            for (int i = 0; i < 4; i++)
                if (strlen(names[i]) == el - (size_t)(colon + 1 - p) &&
                    strncasecmp(colon + 1, names[i], strlen(names[i])) == 0)
                    return i;
            return -2; /* mapped to something that is not a protocol */
        }
        p += el;
    }
    for (int i = 0; i < 4; i++)
        if (strlen(names[i]) == n && strncasecmp(scheme, names[i], n) == 0)
            return i;
    return -1;
}

static bool
is_default(wr_cli *cli, const char *key)
{
    return wr_config_get(&cli->cfg, key) == wr_props_get(&cli->cfg.layer[WR_CONFIG_DEFAULT], key);
}

static bool
pick_listeners(wr_cli *cli, listeners *l)
{
    const char *map = wr_cli_get(cli, "listener.security.protocol.map", NULL);
    int nkafka = 0, nhttp = 0;
    snprintf(l->http, sizeof l->http, "127.0.0.1:8088");
    snprintf(l->kafka, sizeof l->kafka, "127.0.0.1:9092");
    l->kafka_protocol = WR_BROKER_PLAINTEXT;
    l->http_tls = false;
    const char *keys[] = {WR_CFG_HTTP_LISTEN, WR_CFG_KAFKA_LISTEN};
    for (int k = 0; k < 2; k++) {
        bool kafka_key = k == 1;
        if (kafka_key && nkafka > 0) {
            if (!is_default(cli, WR_CFG_KAFKA_LISTEN)) {
                wr_cli_errorf(cli, "the Kafka listener is set in both listeners and "
                                   "kafka.listeners: set it in one of them");
                return false;
            }
            break;
        }
        const char *list = wr_cli_get(cli, keys[k], "");
        for (const char *p = list; *p;) {
            while (*p == ',' || *p == ' ')
                p++;
            size_t n = strcspn(p, ", ");
            if (n == 0)
                break;
            const char *sep = strstr(p, "://");
            size_t sl = sep != NULL && sep < p + n ? (size_t)(sep - p) : 0;
            const char *addr = sl ? sep + 3 : p;
            size_t al = (size_t)(p + n - addr);
            int proto = sl ? protocol_of(map, p, sl) : kafka_key ? 0 : -1;
            bool http = !kafka_key && (sl == 0 || ((sl == 4 && strncasecmp(p, "http", 4) == 0) ||
                                                   (sl == 5 && strncasecmp(p, "https", 5) == 0)));
            if (sl == 5 && strncasecmp(p, "https", 5) == 0)
                l->http_tls = true;
            if (!http && proto < 0) {
                wr_cli_errorf(cli, "%s: '%.*s' is not a security protocol (PLAINTEXT, "
                                   "SASL_PLAINTEXT, SSL, SASL_SSL) or a listener of "
                                   "listener.security.protocol.map",
                              keys[k], (int)sl, p);
                return false;
            }
            char *dst = http ? l->http : l->kafka;
            if ((http ? nhttp : nkafka) > 0) {
                wr_cli_errorf(cli, "%s: one %s listener for now", keys[k], http ? "HTTP" : "Kafka");
                return false;
            }
            if (al >= sizeof l->http) {
                wr_cli_errorf(cli, "%s: listener address too long", keys[k]);
                return false;
            }
            memcpy(dst, addr, al);
            dst[al] = 0;
            if (http) {
                nhttp++;
            } else {
                nkafka++;
                static const int protos[] = {WR_BROKER_PLAINTEXT, WR_BROKER_SASL_PLAINTEXT,
                                             WR_BROKER_SSL, WR_BROKER_SASL_SSL};
                l->kafka_protocol = protos[proto];
            }
            p += n;
        }
    }
    return true;
}

/* Whether host is a loopback address (a listener there is not reachable from elsewhere). */
static bool
is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcasecmp(host, "localhost") == 0;
}

static int
run(int argc, char **argv, bool all_roles)
{
    enum { OPT_KAFKA = WR_OPT__COMMON_END, OPT_HTTP, OPT_NODE, OPT_ADVERTISE, OPT_QUERIES };
    static const struct option longopts[] = {
        WR_CLI_COMMON_LONGOPTS,
        {"kafka-listen", required_argument, NULL, OPT_KAFKA},
        {"http-listen", required_argument, NULL, OPT_HTTP},
        {"node-id", required_argument, NULL, OPT_NODE},
        {"advertise", required_argument, NULL, OPT_ADVERTISE},
        {"queries-file", required_argument, NULL, OPT_QUERIES},
        {NULL, 0, NULL, 0},
    };
    const char *name = all_roles ? "server" : "broker";
    const char *what = all_roles
                           ? "Runs every role of weir in one process over one data directory: the "
                             "log,\nthe Kafka-compatible broker, and (as they arrive) the SQL "
                             "engine and the HTTP API."
                           : "Runs the Kafka-compatible log broker over a data directory.";
    wr_cli cli;
    wr_cli_init(&cli, all_roles ? "weir server" : "weir broker");
    wr_logdb *db = NULL;
    wr_broker *broker = NULL;
    wr_sqlworker *sql = NULL;
    wr_api *api = NULL;
    wr_props defaults = WR_PROPS_INIT;
    maintenance m = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    bool maint_started = false, failed = false;
    int status = WR_EXIT_USAGE;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (wr_cli_common_opt(&cli, opt, optarg, &failed))
            continue;
        switch (opt) {
        case 'h':
            printf(server_help, name, what, all_roles ? http_help : "");
            status = WR_EXIT_OK;
            goto out;
        case OPT_KAFKA:
            wr_cli_set(&cli, WR_CFG_KAFKA_LISTEN, optarg);
            break;
        case OPT_HTTP:
            if (!all_roles)
                goto bad;
            wr_cli_set(&cli, WR_CFG_HTTP_LISTEN, optarg);
            break;
        case OPT_QUERIES:
            wr_cli_set(&cli, "ksql.queries.file", optarg);
            break;
        case OPT_NODE:
            wr_cli_set(&cli, WR_CFG_NODE_ID, optarg);
            break;
        case OPT_ADVERTISE:
            wr_cli_set(&cli, WR_CFG_ADVERTISED, optarg);
            break;
        default:
        bad:
            fprintf(stderr, server_help, name, what, all_roles ? http_help : "");
            goto out;
        }
    }
    if (failed || !wr_cli_apply(&cli))
        goto out;
    if (optind != argc) {
        wr_cli_errorf(&cli, "unexpected argument '%s'", argv[optind]);
        goto out;
    }

    /* Validate everything before touching the data directory. */
    wr_broker_opts bo = {0};
    char khost[256], ahost[256], hhost[256];
    int kport, aport, hport;
    listeners ls;
    if (!pick_listeners(&cli, &ls))
        goto out;
    wr_tls_client_auth client_auth = WR_TLS_CLIENT_AUTH_NONE;
    const char *ca = wr_cli_get(&cli, "ssl.client.auth", "none");
    const char *ktype = wr_cli_get(&cli, "ssl.keystore.type", "PEM");
    const char *ttype = wr_cli_get(&cli, "ssl.truststore.type", "PEM");
    if (!wr_tls_client_auth_parse(ca, &client_auth)) {
        wr_cli_errorf(&cli, "ssl.client.auth must be none, requested or required, not '%s'", ca);
        goto out;
    }
    if (strcasecmp(ktype, "PEM") != 0 || strcasecmp(ttype, "PEM") != 0) {
        wr_cli_errorf(&cli, "ssl.keystore.type and ssl.truststore.type: only PEM files are read");
        goto out;
    }
    /* authorizer.class.name: any of the names weir documents turns ACLs on */
    const char *authz = wr_cli_get(&cli, "authorizer.class.name", "");
    if (authz[0] != 0 && strcmp(authz, "acl") != 0 &&
        strcmp(authz, "kafka.security.authorizer.AclAuthorizer") != 0 &&
        strcmp(authz, "org.apache.kafka.metadata.authorizer.StandardAuthorizer") != 0) {
        wr_cli_errorf(&cli, "authorizer.class.name '%s' is not one weir has (acl, "
                            "kafka.security.authorizer.AclAuthorizer, "
                            "org.apache.kafka.metadata.authorizer.StandardAuthorizer)",
                      authz);
        goto out;
    }
    bool allow_no_acl = false;
    wr_err aerr = {0};
    if (wr_config_get_bool(&cli.cfg, "allow.everyone.if.no.acl.found", false, &allow_no_acl,
                           &aerr) != WR_OK) {
        wr_cli_errorf(&cli, "%s", aerr.msg);
        goto out;
    }
    const char *klisten = ls.kafka;
    if (!wr_cli_parse_hostport(klisten, khost, sizeof khost, &kport)) {
        wr_cli_errorf(&cli, "bad Kafka listener '%s' (want HOST:PORT)", klisten);
        goto out;
    }
    const char *adv = wr_cli_get(&cli, WR_CFG_ADVERTISED, klisten);
    if (!wr_cli_parse_hostport(adv, ahost, sizeof ahost, &aport)) {
        wr_cli_errorf(&cli, "bad advertised listener '%s' (want HOST:PORT)", adv);
        goto out;
    }
    const char *hlisten = ls.http;
    if (all_roles && !wr_cli_parse_hostport(hlisten, hhost, sizeof hhost, &hport)) {
        wr_cli_errorf(&cli, "bad HTTP listener '%s' (want HOST:PORT)", hlisten);
        goto out;
    }
    int64_t node_id, partitions, max_request, idle_ms, txn_max, queued_max, max_conns_k,
        max_conns_ip, reauth_ms;
    bool auto_create;
    wr_err err;
    if (!wr_cli_get_i64(&cli, WR_CFG_NODE_ID, 0, &node_id) ||
        !wr_cli_get_i64(&cli, WR_CFG_NUM_PARTITIONS, 1, &partitions) ||
        !wr_cli_get_i64(&cli, WR_CFG_MAX_REQUEST, 100 << 20, &max_request) ||
        !wr_cli_get_i64(&cli, WR_CFG_IDLE_MS, 600000, &idle_ms) ||
        !wr_cli_get_i64(&cli, WR_CFG_TXN_MAX_TIMEOUT, 900000, &txn_max) ||
        !wr_cli_get_i64(&cli, WR_CFG_QUEUED_MAX, 128 << 20, &queued_max) ||
        !wr_cli_get_i64(&cli, WR_CFG_MAX_CONNS, 10000, &max_conns_k) ||
        !wr_cli_get_i64(&cli, WR_CFG_MAX_CONNS_IP, -1, &max_conns_ip) ||
        !wr_cli_get_i64(&cli, WR_CFG_RETENTION_CHECK, 300000, &m.interval_ms) ||
        !wr_cli_get_i64(&cli, "connections.max.reauth.ms", 0, &reauth_ms))
        goto out;
    if (wr_config_get_bool(&cli.cfg, WR_CFG_AUTO_CREATE, true, &auto_create, &err) != WR_OK) {
        wr_cli_errorf(&cli, "%s", err.msg);
        goto out;
    }
    if (partitions < 1 || partitions > 100000 || node_id < 0 || node_id > INT32_MAX ||
        max_request < 1024 || max_request > INT32_MAX || m.interval_ms < 1 || idle_ms < 1 ||
        txn_max < 1) {
        wr_cli_errorf(&cli, "a setting is out of range (num.partitions 1..100000, node.id >= 0, "
                            "socket.request.max.bytes >= 1024, intervals >= 1 ms)");
        goto out;
    }
    if ((queued_max != -1 && queued_max < 1024) || (max_conns_k != -1 && max_conns_k < 1) ||
        max_conns_k > INT32_MAX || (max_conns_ip != -1 && max_conns_ip < 1) ||
        max_conns_ip > INT32_MAX) {
        wr_cli_errorf(&cli, "a setting is out of range (queued.max.request.bytes -1 or >= 1024, "
                            "max.connections -1 or >= 1, max.connections.per.ip -1 or >= 1)");
        goto out;
    }
    /* Maintenance also stores the active segments' indexes, which bounds how much of the log
       recovery must scan after a crash: run it at least every 10 s. */
    if (m.interval_ms > 10000)
        m.interval_ms = 10000;
    wr_cli_topic_defaults(&cli, &defaults);
    for (size_t i = 0; i < defaults.count; i++) {
        if (wr_log_config_validate(defaults.items[i].key, defaults.items[i].value, &err) != WR_OK) {
            wr_cli_errorf(&cli, "%s", err.msg);
            goto out;
        }
    }
    status = WR_EXIT_FAIL;

    /* Signals are taken by sigwait below; every thread created from here on inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (wr_cli_open_log(&cli, &db) != WR_OK)
        goto out;
    bo = (wr_broker_opts){
        .listen_host = khost,
        .listen_port = kport,
        .advertised_host = ahost,
        .advertised_port = aport,
        .node_id = (int32_t)node_id,
        .auto_create_topics = auto_create,
        .default_partitions = (int32_t)partitions,
        .max_request_bytes = (int32_t)max_request,
        .idle_timeout_ms = idle_ms,
        .max_txn_timeout_ms = txn_max,
        .queued_max_request_bytes = queued_max,
        .max_connections = (int32_t)max_conns_k,
        .max_connections_per_ip = (int32_t)max_conns_ip,
        .max_connections_per_ip_overrides = wr_cli_get(&cli, WR_CFG_MAX_CONNS_OVR, NULL),
        .security_protocol = ls.kafka_protocol,
        .tls = {.keystore = wr_cli_get(&cli, "ssl.keystore.location", NULL),
                .key_password = wr_cli_get(&cli, "ssl.key.password", NULL),
                .truststore = wr_cli_get(&cli, "ssl.truststore.location", NULL),
                .client_auth = client_auth,
                .protocols = wr_cli_get(&cli, "ssl.enabled.protocols", NULL)},
        .sasl_mechanisms = wr_cli_get(&cli, "sasl.enabled.mechanisms", NULL),
        .max_reauth_ms = reauth_ms,
        .authorizer = authz[0] != 0,
        .super_users = wr_cli_get(&cli, "super.users", NULL),
        .allow_everyone_if_no_acl = allow_no_acl,
    };
    if (ls.kafka_protocol == WR_BROKER_PLAINTEXT && !is_loopback(khost))
        wr_log(WR_LOG_WARN, "server",
               "the Kafka listener %s is not on loopback and has no authentication (PLAINTEXT): "
               "anyone who reaches it can read and write every topic; use SASL_PLAINTEXT",
               klisten);
    const char *http_auth = wr_cli_get(&cli, "authentication.method", "NONE");
    if (all_roles && !is_loopback(hhost) && strcasecmp(http_auth, "BASIC") != 0)
        wr_log(WR_LOG_WARN, "server",
               "the HTTP listener %s is not on loopback and has no authentication: anyone who "
               "reaches it can run any statement",
               hlisten);
    if (wr_broker_create(&bo, db, &broker, &err) != WR_OK ||
        wr_broker_start(broker, &err) != WR_OK) {
        wr_cli_errorf(&cli, "cannot start the Kafka listener on %s: %s", klisten, err.msg);
        goto out;
    }
    m.db = db;
    if (pthread_create(&m.thread, NULL, maintenance_main, &m) != 0) {
        wr_cli_errorf(&cli, "cannot start the maintenance thread");
        goto out;
    }
    maint_started = true;
    const char *dir = wr_cli_get(&cli, WR_CFG_DATA_DIR, "./weir-data");
    char catalog[4096], state_dir[4096];
    snprintf(catalog, sizeof catalog, "%s/catalog.db", dir);
    snprintf(state_dir, sizeof state_dir, "%s/state", dir);
    if (all_roles) {
        int64_t cache_bytes, wbuf_bytes;
        bool pull_scan = true;
        if (!wr_cli_get_i64(&cli, "ksql.streams.rocksdb.cache.bytes", 64 << 20, &cache_bytes) ||
            !wr_cli_get_i64(&cli, "ksql.streams.rocksdb.write.buffer.bytes", 64 << 20, &wbuf_bytes))
            goto out;
        if (wr_config_get_bool(&cli.cfg, "ksql.query.pull.table.scan.enabled", true, &pull_scan,
                               &err) != WR_OK) {
            wr_cli_errorf(&cli, "%s", err.msg);
            goto out;
        }
        if (cache_bytes < (1 << 20) || wbuf_bytes < (1 << 20)) {
            wr_cli_errorf(&cli, "ksql.streams.rocksdb.cache.bytes and "
                                "ksql.streams.rocksdb.write.buffer.bytes must be at least 1 MiB");
            goto out;
        }
        int64_t commit_ms;
        if (!wr_cli_get_i64(&cli, "ksql.streams.commit.interval.ms", 100, &commit_ms))
            goto out;
        const char *guarantee =
            wr_cli_get(&cli, "ksql.streams.processing.guarantee", "exactly_once_v2");
        if (strcmp(guarantee, "exactly_once_v2") != 0 && strcmp(guarantee, "at_least_once") != 0) {
            wr_cli_errorf(&cli,
                          "ksql.streams.processing.guarantee must be exactly_once_v2 or "
                          "at_least_once, not '%s'",
                          guarantee);
            goto out;
        }
        if (commit_ms < 0 || commit_ms > 24LL * 3600 * 1000) {
            wr_cli_errorf(&cli, "ksql.streams.commit.interval.ms must be from 0 to 86400000");
            goto out;
        }
        wr_sqlworker_opts so = {
            .txn = wr_broker_txn_coord(broker),
            .guarantee = guarantee,
            .commit_interval_ms = commit_ms,
            .state_dir = wr_cli_get(&cli, "ksql.streams.state.dir", state_dir),
            .state_cache_bytes = (size_t)cache_bytes,
            .state_write_buffer_bytes = (size_t)wbuf_bytes,
            .pull_scan_disabled = !pull_scan,
            .queries_file = wr_cli_get(&cli, "ksql.queries.file", NULL),
            .auto_offset_reset = wr_cli_get(&cli, "ksql.streams.auto.offset.reset", "latest"),
            .service_id = wr_cli_get(&cli, "ksql.service.id", "weir"),
            .catalog_path = catalog,
            .extension_dir = wr_cli_get(&cli, "ksql.extension.dir", NULL),
            .udf_allowlist = wr_cli_get(&cli, "weir.udf.allowlist", NULL),
        };
        if (wr_sqlworker_start(db, &so, &sql, &err) != WR_OK) {
            wr_cli_errorf(&cli, "cannot start the SQL engine: %s", err.msg);
            goto out;
        }
        int64_t max_body, max_header, max_conns, http_idle, max_row, http_queued, http_per_ip;
        if (!wr_cli_get_i64(&cli, "http.max.body.bytes", 16 << 20, &max_body) ||
            !wr_cli_get_i64(&cli, "http.max.header.bytes", 65536, &max_header) ||
            !wr_cli_get_i64(&cli, "http.max.connections", 1024, &max_conns) ||
            !wr_cli_get_i64(&cli, "http.idle.timeout.ms", 600000, &http_idle) ||
            !wr_cli_get_i64(&cli, "http.max.row.bytes", 8 << 20, &max_row) ||
            !wr_cli_get_i64(&cli, "http.queued.max.request.bytes", 64 << 20, &http_queued) ||
            !wr_cli_get_i64(&cli, "http.max.connections.per.ip", -1, &http_per_ip))
            goto out;
        if ((http_queued != -1 && http_queued < 1024) ||
            (http_per_ip != -1 && (http_per_ip < 1 || http_per_ip > 1000000))) {
            wr_cli_errorf(&cli, "an http.* setting is out of range (http.queued.max.request.bytes "
                                "-1 or >= 1024, http.max.connections.per.ip -1 or 1..1000000)");
            goto out;
        }
        if (max_body < 1024 || max_header < 1024 || max_conns < 1 || http_idle < 1 ||
            max_row < 1024 || max_conns > 1000000) {
            wr_cli_errorf(&cli, "an http.* setting is out of range (sizes >= 1024, "
                                "connections 1..1000000, timeouts >= 1 ms)");
            goto out;
        }
        /* HTTPS: the same keystore and truststore as the Kafka listener's; ksqlDB's
           ssl.client.authentication for client certificates */
        wr_tls_client_auth http_ca = WR_TLS_CLIENT_AUTH_NONE;
        const char *hca = wr_cli_get(&cli, "ssl.client.authentication", "NONE");
        if (!wr_tls_client_auth_parse(hca, &http_ca)) {
            wr_cli_errorf(&cli, "ssl.client.authentication must be NONE, REQUESTED or REQUIRED, "
                                "not '%s'",
                          hca);
            goto out;
        }
        wr_tls_opts http_tls = bo.tls;
        http_tls.client_auth = http_ca;
        wr_api_opts ao = {
            .host = hhost,
            .port = hport,
            .limits = {.max_header_bytes = (size_t)max_header,
                       .max_connections = (int)max_conns,
                       .idle_timeout_ms = http_idle,
                       .max_expect_body = (size_t)max_body,
                       .queued_max_body_bytes =
                           http_queued == -1 ? SIZE_MAX : (size_t)http_queued,
                       .max_connections_per_ip = http_per_ip == -1 ? 0 : (int)http_per_ip},
            .max_body_bytes = (size_t)max_body,
            .max_row_bytes = (size_t)max_row,
            .sql = sql,
            .db = db,
            .node_id = (int)node_id,
            .auth_method = wr_cli_get(&cli, "authentication.method", NULL),
            .auth_realm = wr_cli_get(&cli, "authentication.realm", NULL),
            .auth_skip_paths = wr_cli_get(&cli, "authentication.skip.paths", NULL),
            .tls = ls.http_tls ? &http_tls : NULL,
        };
        if (wr_api_start(&ao, &api, &err) != WR_OK) {
            wr_cli_errorf(&cli, "cannot start the HTTP API: %s", err.msg);
            goto out;
        }
    }
    if (api != NULL)
        wr_log(WR_LOG_INFO, "server", "weir %s started: kafka=%s:%d http=%s:%d node=%lld data=%s",
               name, khost, wr_broker_port(broker), hhost, wr_api_port(api), (long long)node_id,
               dir);
    else
        wr_log(WR_LOG_INFO, "server", "weir %s started: kafka=%s:%d node=%lld data=%s", name, khost,
               wr_broker_port(broker), (long long)node_id, dir);

    /* SIGHUP: certificates are read again (a renewal); SIGINT, SIGTERM: shutdown */
    int sig = 0;
    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        bool any = false;
        if (ls.kafka_protocol == WR_BROKER_SSL || ls.kafka_protocol == WR_BROKER_SASL_SSL) {
            any = true;
            wr_err rerr = {0};
            if (wr_broker_reload_tls(broker, &rerr) != WR_OK)
                wr_log(WR_LOG_ERROR, "server", "SIGHUP: the Kafka listener keeps its certificates: %s",
                       rerr.msg);
            else
                wr_log(WR_LOG_INFO, "server", "SIGHUP: the Kafka listener's certificates were read again");
        }
        if (api != NULL && ls.http_tls) {
            any = true;
            wr_err rerr = {0};
            if (wr_api_reload_tls(api, &rerr) != WR_OK)
                wr_log(WR_LOG_ERROR, "server", "SIGHUP: the HTTP listener keeps its certificates: %s",
                       rerr.msg);
            else
                wr_log(WR_LOG_INFO, "server", "SIGHUP: the HTTP listener's certificates were read again");
        }
        if (!any)
            wr_log(WR_LOG_INFO, "server", "SIGHUP: no TLS listener, nothing to read again");
    }
    wr_log(WR_LOG_INFO, "server", "received %s, shutting down", strsignal(sig));
    /* A second signal ends the process at once (default action) instead of waiting. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    status = WR_EXIT_OK;
out:
    wr_api_stop(api);
    wr_sqlworker_stop(sql);
    if (broker != NULL)
        wr_broker_stop(broker);
    wr_broker_destroy(broker);
    if (maint_started) {
        pthread_mutex_lock(&m.mu);
        m.stop = true;
        pthread_cond_signal(&m.cv);
        pthread_mutex_unlock(&m.mu);
        pthread_join(m.thread, NULL);
    }
    if (db != NULL) {
        if (wr_log_flush_all(db, &err) != WR_OK) {
            wr_log(WR_LOG_ERROR, "server", "final flush failed: %s", err.msg);
            status = WR_EXIT_FAIL;
        }
        wr_log_close(db);
        if (status == WR_EXIT_OK)
            wr_log(WR_LOG_INFO, "server", "stopped cleanly");
    }
    wr_props_free(&defaults);
    wr_cli_cleanup(&cli);
    return status;
}

int
wr_cmd_server(int argc, char **argv)
{
    return run(argc, argv, true);
}

int
wr_cmd_broker(int argc, char **argv)
{
    return run(argc, argv, false);
}

/*
 * cli.c - shared option, configuration and data-directory handling. See cli.h.
 */
#include "src/cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/logging.h"

extern char **environ;

void
wr_cli_init(wr_cli *cli, const char *prog)
{
    memset(cli, 0, sizeof *cli);
    cli->prog = prog;
    cli->lock_fd = -1;
    static const char *const defaults[][2] = {
        {WR_CFG_DATA_DIR, "./weir-data"},       {WR_CFG_KAFKA_LISTEN, "127.0.0.1:9092"},
        {WR_CFG_HTTP_LISTEN, "127.0.0.1:8088"}, {WR_CFG_LOG_LEVEL, "info"},
        {WR_CFG_FLUSH_POLICY, "sync"},          {WR_CFG_FLUSH_INTERVAL, "1000"},
        {WR_CFG_RETENTION_CHECK, "300000"},     {WR_CFG_NUM_PARTITIONS, "1"},
        {WR_CFG_AUTO_CREATE, "true"},           {WR_CFG_NODE_ID, "0"},
        {WR_CFG_MAX_REQUEST, "104857600"},      {WR_CFG_IDLE_MS, "600000"},
        {WR_CFG_TXN_MAX_TIMEOUT, "900000"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
        wr_config_set(&cli->cfg, WR_CONFIG_DEFAULT, defaults[i][0], defaults[i][1]);
    wr_config_load_env(&cli->cfg, environ);
}

void
wr_cli_cleanup(wr_cli *cli)
{
    wr_config_free(&cli->cfg);
    wr_props_free(&cli->topic_defaults);
    if (cli->lock_fd >= 0) {
        close(cli->lock_fd);
        cli->lock_fd = -1;
    }
}

void
wr_cli_errorf(const wr_cli *cli, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", cli->prog, msg);
}

void
wr_cli_set(wr_cli *cli, const char *key, const char *value)
{
    if (wr_config_set(&cli->cfg, WR_CONFIG_FLAG, key, value) != WR_OK) {
        fprintf(stderr, "%s: out of memory\n", cli->prog);
        exit(WR_EXIT_FAIL);
    }
}

const char *
wr_cli_get(const wr_cli *cli, const char *key, const char *def)
{
    return wr_config_get_str(&cli->cfg, key, def);
}

bool
wr_cli_get_i64(wr_cli *cli, const char *key, int64_t def, int64_t *out)
{
    wr_err err;
    if (wr_config_get_i64(&cli->cfg, key, def, out, &err) != WR_OK) {
        wr_cli_errorf(cli, "%s", err.msg);
        return false;
    }
    return true;
}

bool
wr_cli_common_opt(wr_cli *cli, int opt, const char *arg, bool *failed)
{
    switch (opt) {
    case WR_OPT_DATA_DIR:
        wr_cli_set(cli, WR_CFG_DATA_DIR, arg);
        return true;
    case WR_OPT_BOOTSTRAP:
        wr_cli_set(cli, WR_CFG_BOOTSTRAP, arg);
        return true;
    case WR_OPT_LOG_LEVEL:
        wr_cli_set(cli, WR_CFG_LOG_LEVEL, arg);
        return true;
    case WR_OPT_CONFIG: {
        wr_err err;
        if (wr_props_load_file(&cli->cfg.layer[WR_CONFIG_FILE], arg, &err) != WR_OK) {
            wr_cli_errorf(cli, "%s", err.msg);
            *failed = true;
        }
        return true;
    }
    case WR_OPT_PROPERTY: {
        const char *eq = strchr(arg, '=');
        if (eq == NULL || eq == arg) {
            wr_cli_errorf(cli, "--property wants KEY=VALUE, got '%s'", arg);
            *failed = true;
            return true;
        }
        char key[256];
        size_t n = (size_t)(eq - arg);
        if (n >= sizeof key) {
            wr_cli_errorf(cli, "--property key too long");
            *failed = true;
            return true;
        }
        memcpy(key, arg, n);
        key[n] = '\0';
        wr_cli_set(cli, key, eq + 1);
        return true;
    }
    default:
        return false;
    }
}

bool
wr_cli_apply(wr_cli *cli)
{
    wr_log_level level;
    const char *name = wr_cli_get(cli, WR_CFG_LOG_LEVEL, "info");
    if (!wr_log_level_parse(name, &level)) {
        wr_cli_errorf(cli, "unknown log level '%s' (debug, info, warn, error)", name);
        return false;
    }
    wr_log_set_level(level);
    return true;
}

static int
mkdir_p(const char *path)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Copies the broker-wide topic defaults (Kafka's log.* names mapped to topic names, and the
   topic names themselves) from the configuration. */
void
wr_cli_topic_defaults(const wr_cli *cli, wr_props *out)
{
    static const char *const map[][2] = {
        {"log.retention.ms", "retention.ms"},
        {"log.retention.bytes", "retention.bytes"},
        {"log.segment.bytes", "segment.bytes"},
        {"log.roll.ms", "segment.ms"},
        {"log.cleanup.policy", "cleanup.policy"},
        {"message.max.bytes", "max.message.bytes"},
        {"log.message.timestamp.type", "message.timestamp.type"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        const char *v = wr_cli_get(cli, map[i][0], NULL);
        if (v == NULL)
            v = wr_cli_get(cli, map[i][1], NULL);
        if (v != NULL)
            wr_props_set(out, map[i][1], v);
    }
}

int
wr_cli_open_log(wr_cli *cli, wr_logdb **out)
{
    const char *dir = wr_cli_get(cli, WR_CFG_DATA_DIR, "./weir-data");
    if (mkdir_p(dir) != 0) {
        wr_cli_errorf(cli, "cannot create data directory %s: %s", dir, strerror(errno));
        return WR_EIO;
    }
    char lock_path[4200];
    snprintf(lock_path, sizeof lock_path, "%s/weir.lock", dir);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        wr_cli_errorf(cli, "cannot open %s: %s", lock_path, strerror(errno));
        return WR_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        wr_cli_errorf(cli,
                      "data directory %s is in use by another weir process (a running server?);"
                      " use --bootstrap-server to talk to it",
                      dir);
        close(fd);
        return WR_EBUSY;
    }
    cli->lock_fd = fd;

    wr_log_opts opts = {0};
    const char *policy = wr_cli_get(cli, WR_CFG_FLUSH_POLICY, "sync");
    if (strcasecmp(policy, "sync") == 0) {
        opts.flush = WR_LOG_FLUSH_SYNC;
    } else if (strcasecmp(policy, "interval") == 0) {
        opts.flush = WR_LOG_FLUSH_INTERVAL;
    } else if (strcasecmp(policy, "none") == 0) {
        opts.flush = WR_LOG_FLUSH_NONE;
    } else {
        wr_cli_errorf(cli, "%s must be sync, interval or none, not '%s'", WR_CFG_FLUSH_POLICY,
                      policy);
        return WR_EINVAL;
    }
    if (!wr_cli_get_i64(cli, WR_CFG_FLUSH_INTERVAL, 1000, &opts.flush_interval_ms))
        return WR_EINVAL;
    /* kept until wr_cli_cleanup: the log may borrow its defaults while open */
    wr_cli_topic_defaults(cli, &cli->topic_defaults);
    opts.topic_defaults = &cli->topic_defaults;
    wr_err err;
    int rc = wr_log_open(dir, &opts, out, &err);
    if (rc != WR_OK)
        wr_cli_errorf(cli, "cannot open the log in %s: %s", dir, err.msg);
    return rc;
}

bool
wr_cli_parse_hostport(const char *s, char *host, size_t hostlen, int *port)
{
    const char *p = strstr(s, "://");
    if (p != NULL)
        s = p + 3;
    const char *colon;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *close_br = strchr(s, ']');
        if (close_br == NULL || close_br[1] != ':')
            return false;
        h = s + 1;
        hl = (size_t)(close_br - h);
        colon = close_br + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return false;
        hl = (size_t)(colon - s);
    }
    if (hl >= hostlen)
        return false;
    char *end;
    errno = 0;
    long v = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || v < 0 || v > 65535)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (hl == 0)
        snprintf(host, hostlen, "0.0.0.0");
    *port = (int)v;
    return true;
}

/*
 * cmd_produce.c - `weir produce TOPIC`: one record per stdin line.
 *
 * Local mode batches records per partition with the record-batch builder (zstd) and appends
 * them to the log; with the default flush policy each append is fsynced before the next batch,
 * so everything printed as written is durable. A partial batch is written as soon as stdin has
 * nothing more to give for `linger.ms` (default 5), so interactive use sees records at once.
 * Keyed records go to Kafka's murmur2 partition of the key bytes, as a Java producer would put
 * them; unkeyed records stick to one partition per batch and move round-robin (KIP-480).
 * A line that cannot be sent (no key separator, too large) is reported with its line number and
 * skipped; the exit status is then 1.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/clock.h"
#include "src/base/logging.h"
#include "src/base/murmur2.h"
#include "src/cli/cli.h"
#include "src/cli/remote.h"
#include "src/log/compress.h"
#include "src/log/rbatch.h"

static const char produce_help[] =
    "usage: weir produce TOPIC [options] < records\n"
    "\n"
    "Writes one record per line of standard input.\n"
    "  --key-separator C        split each line into key C value (like parse.key=true)\n"
    "  --partition N            write every record to partition N\n"
    "  --compression CODEC      none, gzip, snappy, lz4 or zstd (default zstd)\n"
    "  --batch-bytes N          cut record batches at N bytes (default 262144)\n"
    "  --linger-ms N            flush a partial batch after N ms without input (default 5)\n"
    "  --create                 create the topic (num.partitions) if it does not exist\n"
    "\n" WR_CLI_COMMON_HELP;

#define LINE_MAX_DEFAULT (1024 * 1024)

typedef struct producer {
    wr_cli *cli;
    wr_logdb *db;
    const char *topic;
    int32_t partitions;
    wr_rbatch_builder *builders; /* one per partition */
    wr_partition **parts;
    wr_buf out;
    size_t batch_bytes;
    int32_t sticky;
    long records, errors;
} producer;

static int
flush_partition(producer *p, int32_t i)
{
    if (p->builders[i].count == 0)
        return WR_OK;
    wr_err err;
    wr_buf_reset(&p->out);
    int32_t n = p->builders[i].count;
    int rc = wr_rbatch_builder_finish(&p->builders[i], &p->out, &err);
    if (rc == WR_OK) {
        wr_log_append_result res;
        rc = wr_log_append(p->parts[i], p->out.data, p->out.len, &res, &err);
    }
    if (rc != WR_OK) {
        wr_cli_errorf(p->cli, "cannot write %d records to %s-%d: %s", n, p->topic, i, err.msg);
        return rc;
    }
    p->records += n;
    return WR_OK;
}

static int
flush_all(producer *p)
{
    for (int32_t i = 0; i < p->partitions; i++) {
        int rc = flush_partition(p, i);
        if (rc != WR_OK)
            return rc;
    }
    return WR_OK;
}

static int
add_record(producer *p,
           int32_t fixed_partition,
           const char *key,
           int32_t klen,
           const char *val,
           int32_t vlen)
{
    int32_t part;
    if (fixed_partition >= 0)
        part = fixed_partition;
    else if (key != NULL)
        part = wr_murmur2_partition(key, (size_t)klen, p->partitions);
    else
        part = p->sticky;
    wr_rbatch_builder *b = &p->builders[part];
    wr_rbatch_builder_add(b, wr_clock_wall_ms(), key, klen, val, vlen, NULL, 0);
    if (wr_rbatch_builder_size(b) >= p->batch_bytes) {
        if (key == NULL && fixed_partition < 0)
            p->sticky = (p->sticky + 1) % p->partitions;
        return flush_partition(p, part);
    }
    return WR_OK;
}

static int
produce_local(wr_cli *cli,
              const char *topic,
              int sep,
              int32_t fixed_partition,
              wr_compression codec,
              size_t batch_bytes,
              int64_t linger_ms,
              bool create,
              int64_t max_line)
{
    producer p = {.cli = cli, .topic = topic, .batch_bytes = batch_bytes};
    int status = WR_EXIT_FAIL;
    char *buf = NULL;
    if (wr_cli_open_log(cli, &p.db) != WR_OK)
        return WR_EXIT_FAIL;
    p.partitions = wr_log_topic_partitions(p.db, topic);
    if (p.partitions < 0 && create) {
        int64_t n;
        wr_err err;
        if (!wr_cli_get_i64(cli, WR_CFG_NUM_PARTITIONS, 1, &n))
            goto out;
        if (wr_log_topic_create(p.db, topic, (int32_t)n, NULL, &err) != WR_OK) {
            wr_cli_errorf(cli, "cannot create topic '%s': %s", topic, err.msg);
            goto out;
        }
        p.partitions = (int32_t)n;
    }
    if (p.partitions < 0) {
        wr_cli_errorf(cli,
                      "topic '%s' does not exist (create it with `weir topic create`, or"
                      " pass --create)",
                      topic);
        goto out;
    }
    if (fixed_partition >= p.partitions) {
        wr_cli_errorf(cli, "topic '%s' has %d partitions; --partition %d does not exist", topic,
                      p.partitions, fixed_partition);
        goto out;
    }
    p.builders = calloc((size_t)p.partitions, sizeof *p.builders);
    p.parts = calloc((size_t)p.partitions, sizeof *p.parts);
    if (p.builders == NULL || p.parts == NULL)
        goto out;
    for (int32_t i = 0; i < p.partitions; i++) {
        wr_rbatch_builder_init(&p.builders[i], codec);
        if (wr_log_partition(p.db, topic, i, &p.parts[i]) != WR_OK)
            goto out;
    }
    srand((unsigned)wr_clock_mono_ns());
    p.sticky = rand() % p.partitions;

    size_t cap = 1 << 16, len = 0;
    buf = malloc(cap);
    if (buf == NULL)
        goto out;
    long lineno = 0;
    bool eof = false, skipping = false;
    while (!eof) {
        /* nothing buffered and nothing arriving within linger: write what we have */
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        if (poll(&pfd, 1, (int)linger_ms) == 0 && flush_all(&p) != WR_OK)
            goto out;
        if (len == cap) {
            if (cap >= (size_t)max_line + 2) { /* an over-long line: skip to its end */
                lineno++;
                wr_cli_errorf(cli, "line %ld: record larger than %lld bytes, skipped", lineno,
                              (long long)max_line);
                p.errors++;
                len = 0;
                skipping = true;
            } else {
                cap *= 2;
                char *nb = realloc(buf, cap);
                if (nb == NULL)
                    goto out;
                buf = nb;
            }
        }
        ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            wr_cli_errorf(cli, "reading stdin: %s", strerror(errno));
            goto out;
        }
        if (n == 0) {
            eof = true;
            if (len > 0 && !skipping)
                buf[len++] = '\n'; /* a last line without newline is still a record */
        }
        len += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < len; i++) {
            if (buf[i] != '\n')
                continue;
            size_t end = i;
            if (skipping) { /* tail of an over-long line */
                skipping = false;
                start = i + 1;
                continue;
            }
            lineno++;
            if (end > start && buf[end - 1] == '\r')
                end--;
            const char *line = buf + start;
            size_t llen = end - start;
            start = i + 1;
            if (llen > (size_t)max_line) {
                wr_cli_errorf(cli, "line %ld: record larger than %lld bytes, skipped", lineno,
                              (long long)max_line);
                p.errors++;
                continue;
            }
            int rc;
            if (sep >= 0) {
                const char *s = memchr(line, sep, llen);
                if (s == NULL) {
                    wr_cli_errorf(cli, "line %ld: no key separator '%c' found, skipped", lineno,
                                  sep);
                    p.errors++;
                    continue;
                }
                rc = add_record(&p, fixed_partition, line, (int32_t)(s - line), s + 1,
                                (int32_t)(llen - (size_t)(s - line) - 1));
            } else {
                rc = add_record(&p, fixed_partition, NULL, -1, line, (int32_t)llen);
            }
            if (rc != WR_OK)
                goto out;
        }
        if (skipping)
            start = len; /* drop what we read of the over-long line */
        memmove(buf, buf + start, len - start);
        len -= start;
    }
    if (flush_all(&p) != WR_OK)
        goto out;
    status = p.errors ? WR_EXIT_FAIL : WR_EXIT_OK;
    wr_log(WR_LOG_DEBUG, "cli", "produced %ld records to %s (%ld lines skipped)", p.records, topic,
           p.errors);
out:
    free(buf);
    if (p.builders != NULL)
        for (int32_t i = 0; i < p.partitions; i++)
            wr_rbatch_builder_free(&p.builders[i]);
    free(p.builders);
    free(p.parts);
    wr_buf_free(&p.out);
    wr_log_close(p.db);
    return status;
}

int
wr_cmd_produce(int argc, char **argv)
{
    enum {
        OPT_KEYSEP = WR_OPT__COMMON_END,
        OPT_PARTITION,
        OPT_COMPRESSION,
        OPT_BATCH,
        OPT_LINGER,
        OPT_CREATE
    };
    static const struct option longopts[] = {
        WR_CLI_COMMON_LONGOPTS,
        {"key-separator", required_argument, NULL, OPT_KEYSEP},
        {"partition", required_argument, NULL, OPT_PARTITION},
        {"compression", required_argument, NULL, OPT_COMPRESSION},
        {"batch-bytes", required_argument, NULL, OPT_BATCH},
        {"linger-ms", required_argument, NULL, OPT_LINGER},
        {"create", no_argument, NULL, OPT_CREATE},
        {NULL, 0, NULL, 0},
    };
    wr_cli cli;
    wr_cli_init(&cli, "weir produce");
    int sep = -1;
    int64_t partition = -1, batch = 262144, linger = 5;
    wr_compression codec = WR_COMPRESSION_ZSTD;
    bool failed = false, create = false;
    int status = WR_EXIT_USAGE;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (wr_cli_common_opt(&cli, opt, optarg, &failed))
            continue;
        switch (opt) {
        case 'h':
            fputs(produce_help, stdout);
            status = WR_EXIT_OK;
            goto out;
        case OPT_KEYSEP:
            if (strlen(optarg) != 1) {
                wr_cli_errorf(&cli, "--key-separator must be a single character");
                goto out;
            }
            sep = (unsigned char)optarg[0];
            break;
        case OPT_PARTITION:
            if (!wr_parse_i64(optarg, &partition) || partition < 0 || partition > INT32_MAX) {
                wr_cli_errorf(&cli, "--partition must be a partition number");
                goto out;
            }
            break;
        case OPT_COMPRESSION:
            if (!wr_compression_parse(optarg, &codec)) {
                wr_cli_errorf(&cli, "unknown compression '%s'", optarg);
                goto out;
            }
            break;
        case OPT_BATCH:
            if (!wr_parse_i64(optarg, &batch) || batch < 1 || batch > (64 << 20)) {
                wr_cli_errorf(&cli, "--batch-bytes must be from 1 to 64M");
                goto out;
            }
            break;
        case OPT_LINGER:
            if (!wr_parse_i64(optarg, &linger) || linger < 0 || linger > 60000) {
                wr_cli_errorf(&cli, "--linger-ms must be from 0 to 60000");
                goto out;
            }
            break;
        case OPT_CREATE:
            create = true;
            break;
        default:
            fputs(produce_help, stderr);
            goto out;
        }
    }
    if (failed || !wr_cli_apply(&cli))
        goto out;
    if (optind != argc - 1) {
        fputs(produce_help, stderr);
        goto out;
    }
    const char *topic = argv[optind];
    int64_t max_line = LINE_MAX_DEFAULT;
    const char *bootstrap = wr_cli_get(&cli, WR_CFG_BOOTSTRAP, NULL);
    if (bootstrap != NULL)
        status = wr_remote_produce(&cli, bootstrap, topic, sep, (int32_t)partition, codec, linger);
    else
        status = produce_local(&cli, topic, sep, (int32_t)partition, codec, (size_t)batch, linger,
                               create, max_line);
out:
    wr_cli_cleanup(&cli);
    return status;
}

/*
 * cmd_consume.c - `weir consume TOPIC`: print record values, one per line.
 *
 * Local mode reads the log directly, visiting partitions round-robin one read at a time, so
 * output interleaves partitions while each partition's records keep their order. It starts at
 * each partition's end offset unless --from-beginning (or --offset) says otherwise, and stops
 * after --max-messages records, after --timeout-ms without new records, or - locally, where no
 * other process can append while we hold the data directory - at the end of the log.
 * Control batches (transaction markers) are never printed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/clock.h"
#include "src/cli/cli.h"
#include "src/cli/remote.h"
#include "src/log/rbatch.h"

static const char consume_help[] =
    "usage: weir consume TOPIC [options]\n"
    "\n"
    "Prints the value of each record, one per line.\n"
    "  --from-beginning         start at the earliest offset (default: the end)\n"
    "  --partition N            read only partition N\n"
    "  --offset N               start at offset N (with --partition)\n"
    "  --max-messages N         stop after N records\n"
    "  --timeout-ms N           stop after N ms without a record\n"
    "  --print-key              print KEY<separator>VALUE\n"
    "  --print-partition        prefix each line with the partition\n"
    "  --print-offset           prefix each line with the offset\n"
    "  --print-timestamp        prefix each line with CreateTime:<ms>\n"
    "  --key-separator S        separator for --print-key (default a tab)\n"
    "  --group GROUP            consume as a member of GROUP (with --bootstrap-server)\n"
    "\n" WR_CLI_COMMON_HELP;

void
wr_consume_print(const wr_consume_opts *o, int32_t partition, const wr_record *r)
{
    if (o->print_timestamp)
        printf("CreateTime:%" PRId64 "\t", r->timestamp);
    if (o->print_partition)
        printf("Partition:%d\t", partition);
    if (o->print_offset)
        printf("Offset:%" PRId64 "\t", r->offset);
    if (o->print_key) {
        if (r->key_len < 0)
            fputs("null", stdout);
        else
            fwrite(r->key, 1, (size_t)r->key_len, stdout);
        fputs(o->key_separator, stdout);
    }
    if (r->value_len < 0)
        fputs("null", stdout);
    else
        fwrite(r->value, 1, (size_t)r->value_len, stdout);
    putchar('\n');
}

static int
consume_local(wr_cli *cli, const char *topic, const wr_consume_opts *o)
{
    wr_logdb *db = NULL;
    int status = WR_EXIT_FAIL;
    int64_t *next = NULL;
    wr_partition **parts = NULL;
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    if (wr_cli_open_log(cli, &db) != WR_OK)
        return WR_EXIT_FAIL;
    int32_t n = wr_log_topic_partitions(db, topic);
    if (n < 0) {
        wr_cli_errorf(cli, "topic '%s' does not exist", topic);
        goto out;
    }
    if (o->partition >= n) {
        wr_cli_errorf(cli, "topic '%s' has %d partitions; partition %d does not exist", topic, n,
                      o->partition);
        goto out;
    }
    next = calloc((size_t)n, sizeof *next);
    parts = calloc((size_t)n, sizeof *parts);
    if (next == NULL || parts == NULL)
        goto out;
    for (int32_t i = 0; i < n; i++) {
        if (wr_log_partition(db, topic, i, &parts[i]) != WR_OK)
            goto out;
        if (o->offset >= 0 && i == o->partition)
            next[i] = o->offset;
        else if (o->from_beginning)
            next[i] = wr_log_start_offset(parts[i]);
        else
            next[i] = wr_log_end_offset(parts[i]);
    }
    int64_t printed = 0;
    int64_t idle_since = wr_clock_mono_ns();
    for (;;) {
        bool progress = false;
        for (int32_t i = 0; i < n; i++) {
            if (o->partition >= 0 && i != o->partition)
                continue;
            if (next[i] >= wr_log_end_offset(parts[i]))
                continue;
            wr_log_read_result res;
            wr_err err;
            wr_buf_reset(&data);
            int rc = wr_log_read(parts[i], next[i], 1 << 20, &data, &res, &err);
            if (rc == WR_EOFFSET && next[i] < res.log_start_offset) {
                next[i] = res.log_start_offset; /* retention moved the start: reset to earliest */
                continue;
            }
            if (rc != WR_OK) {
                wr_cli_errorf(cli, "reading %s-%d at offset %" PRId64 ": %s", topic, i, next[i],
                              err.msg);
                goto out;
            }
            size_t pos = 0;
            while (pos < data.len) {
                size_t bsize = wr_rbatch_size(data.data + pos, data.len - pos);
                if (bsize == 0 || bsize > data.len - pos)
                    break;
                wr_rbatch_iter it;
                if (wr_rbatch_iter_init(&it, data.data + pos, bsize, &scratch, 64u << 20, &err) !=
                    WR_OK) {
                    wr_cli_errorf(cli, "%s-%d: %s", topic, i, err.msg);
                    goto out;
                }
                int64_t batch_last = it.hdr.base_offset + it.hdr.last_offset_delta;
                bool control = (it.hdr.attributes & WR_RBATCH_CONTROL) != 0;
                wr_record r;
                while (!control && (rc = wr_rbatch_iter_next(&it, &r, &err)) == 1) {
                    if (r.offset < next[i])
                        continue;
                    wr_consume_print(o, i, &r);
                    next[i] = r.offset + 1;
                    progress = true;
                    if (o->max_messages >= 0 && ++printed >= o->max_messages) {
                        status = WR_EXIT_OK;
                        goto out;
                    }
                }
                if (rc < 0) {
                    wr_cli_errorf(cli, "%s-%d: %s", topic, i, err.msg);
                    goto out;
                }
                if (batch_last + 1 > next[i])
                    next[i] = batch_last + 1;
                pos += bsize;
            }
        }
        if (progress) {
            idle_since = wr_clock_mono_ns();
            continue;
        }
        /* Caught up. Nobody else can append to a locked data directory, so stop here unless a
           timeout asks us to wait (it only matters for symmetry with remote mode). */
        if (o->timeout_ms < 0 || (wr_clock_mono_ns() - idle_since) / 1000000 >= o->timeout_ms)
            break;
        int32_t w = o->partition >= 0 ? o->partition : 0;
        wr_log_wait(parts[w], next[w], 100);
    }
    if (o->max_messages >= 0 && printed < o->max_messages)
        fprintf(stderr, "%s: reached the end after %" PRId64 " of %" PRId64 " messages\n",
                cli->prog, printed, o->max_messages);
    status = WR_EXIT_OK;
out:
    fflush(stdout);
    free(next);
    free(parts);
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    wr_log_close(db);
    return status;
}

int
wr_cmd_consume(int argc, char **argv)
{
    enum {
        OPT_BEGIN = WR_OPT__COMMON_END,
        OPT_PARTITION,
        OPT_OFFSET,
        OPT_MAX,
        OPT_TIMEOUT,
        OPT_PKEY,
        OPT_PPART,
        OPT_POFF,
        OPT_PTS,
        OPT_KEYSEP,
        OPT_GROUP,
    };
    static const struct option longopts[] = {
        WR_CLI_COMMON_LONGOPTS,
        {"from-beginning", no_argument, NULL, OPT_BEGIN},
        {"partition", required_argument, NULL, OPT_PARTITION},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {"max-messages", required_argument, NULL, OPT_MAX},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"print-key", no_argument, NULL, OPT_PKEY},
        {"print-partition", no_argument, NULL, OPT_PPART},
        {"print-offset", no_argument, NULL, OPT_POFF},
        {"print-timestamp", no_argument, NULL, OPT_PTS},
        {"key-separator", required_argument, NULL, OPT_KEYSEP},
        {"group", required_argument, NULL, OPT_GROUP},
        {NULL, 0, NULL, 0},
    };
    wr_cli cli;
    wr_cli_init(&cli, "weir consume");
    wr_consume_opts o = {
        .partition = -1, .offset = -1, .max_messages = -1, .timeout_ms = -1, .key_separator = "\t"};
    bool failed = false;
    int status = WR_EXIT_USAGE;
    int opt;
    int64_t v;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (wr_cli_common_opt(&cli, opt, optarg, &failed))
            continue;
        switch (opt) {
        case 'h':
            fputs(consume_help, stdout);
            status = WR_EXIT_OK;
            goto out;
        case OPT_BEGIN:
            o.from_beginning = true;
            break;
        case OPT_PARTITION:
        case OPT_OFFSET:
        case OPT_MAX:
        case OPT_TIMEOUT:
            if (!wr_parse_i64(optarg, &v) || v < 0 || (opt == OPT_PARTITION && v > INT32_MAX)) {
                wr_cli_errorf(&cli, "%s wants a non-negative number", argv[optind - 1]);
                goto out;
            }
            if (opt == OPT_PARTITION)
                o.partition = (int32_t)v;
            else if (opt == OPT_OFFSET)
                o.offset = v;
            else if (opt == OPT_MAX)
                o.max_messages = v;
            else
                o.timeout_ms = v;
            break;
        case OPT_PKEY:
            o.print_key = true;
            break;
        case OPT_PPART:
            o.print_partition = true;
            break;
        case OPT_POFF:
            o.print_offset = true;
            break;
        case OPT_PTS:
            o.print_timestamp = true;
            break;
        case OPT_KEYSEP:
            o.key_separator = optarg;
            break;
        case OPT_GROUP:
            o.group = optarg;
            break;
        default:
            fputs(consume_help, stderr);
            goto out;
        }
    }
    if (failed || !wr_cli_apply(&cli))
        goto out;
    if (optind != argc - 1) {
        fputs(consume_help, stderr);
        goto out;
    }
    if (o.offset >= 0 && o.partition < 0) {
        wr_cli_errorf(&cli, "--offset needs --partition");
        goto out;
    }
    const char *topic = argv[optind];
    const char *bootstrap = wr_cli_get(&cli, WR_CFG_BOOTSTRAP, NULL);
    if (bootstrap != NULL) {
        status = wr_remote_consume(&cli, bootstrap, topic, &o);
    } else if (o.group != NULL) {
        wr_cli_errorf(&cli, "--group needs --bootstrap-server");
    } else {
        status = consume_local(&cli, topic, &o);
    }
out:
    wr_cli_cleanup(&cli);
    return status;
}

/*
 * cmd_groups.c - `weir groups list|describe`, as Kafka's kafka-consumer-groups.sh prints them.
 *
 * With --bootstrap-server it asks a running server (or any Kafka cluster) through librdkafka's
 * admin API: members and their assignments (DescribeGroups), committed offsets (OffsetFetch) and
 * log-end offsets. Against a local data directory no member can be active (no server runs
 * there), so it shows the committed offsets the broker stored in the log's `group_offsets`
 * table, with log-end offsets and lag from the local log.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "src/cli/remote.h"
#include "src/log/log.h"

#define OFFSETS_TABLE "group_offsets" /* kgroup.c: key group\0topic\0be32 partition */

static const char groups_help[] =
    "usage: weir groups list [options]\n"
    "       weir groups describe GROUP [options]\n\n"
    "Lists consumer groups, or shows one group's committed offsets, log-end offsets, lag and\n"
    "members (columns GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST\n"
    "CLIENT-ID, as kafka-consumer-groups.sh). Against a local --data-dir only committed offsets\n"
    "exist: members live in a running server (use --bootstrap-server).\n\n" WR_CLI_COMMON_HELP;

/* ---- local data directory -------------------------------------------------------------- */

typedef struct scan {
    const char *group; /* NULL: collect group names */
    char **names;
    size_t n;
    wr_group_row *rows;
    size_t nrows;
    bool oom;
} scan;

static int
scan_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    scan *sc = arg;
    const char *k = key, *gz = memchr(k, 0, klen);
    if (gz == NULL)
        return 0;
    if (sc->group == NULL) {
        if (sc->n > 0 && strcmp(sc->names[sc->n - 1], k) == 0)
            return 0; /* keys are sorted: one group's keys are adjacent */
        char **nn = realloc(sc->names, (sc->n + 1) * sizeof *nn);
        if (nn == NULL || (nn[sc->n] = strdup(k)) == NULL) {
            sc->names = nn ? nn : sc->names;
            sc->oom = true;
            return 1;
        }
        sc->names = nn;
        sc->n++;
        return 0;
    }
    const char *topic = gz + 1, *tz = memchr(topic, 0, klen - (size_t)(topic - k));
    if (tz == NULL || (size_t)(tz + 1 - k) + 4 != klen || vlen < 8)
        return 0;
    wr_group_row *nr = realloc(sc->rows, (sc->nrows + 1) * sizeof *nr);
    if (nr == NULL) {
        sc->oom = true;
        return 1;
    }
    sc->rows = nr;
    nr[sc->nrows++] = (wr_group_row){.topic = strdup(topic),
                                     .partition = (int32_t)wr_be32_get((const uint8_t *)tz + 1),
                                     .current = (int64_t)wr_be64_get(val),
                                     .end = -1};
    return 0;
}

static int
groups_local(wr_cli *cli,
             const char *verb,
             const char *group,
             wr_group_row **rows,
             size_t *n,
             char ***names,
             size_t *nnames)
{
    wr_logdb *db;
    if (wr_cli_open_log(cli, &db) != WR_OK)
        return WR_EXIT_FAIL;
    scan sc = {.group = strcmp(verb, "list") == 0 ? NULL : group};
    wr_err err = {0};
    size_t plen = sc.group ? strlen(group) + 1 : 0;
    int rc = wr_log_meta_scan(db, OFFSETS_TABLE, sc.group, plen, scan_cb, &sc, &err);
    int status = WR_EXIT_OK;
    if (rc != WR_OK || sc.oom) {
        wr_cli_errorf(cli, "%s", rc != WR_OK ? err.msg : "out of memory");
        status = WR_EXIT_FAIL;
    }
    for (size_t i = 0; i < sc.nrows; i++) {
        wr_partition *p;
        if (sc.rows[i].topic &&
            wr_log_partition(db, sc.rows[i].topic, sc.rows[i].partition, &p) == WR_OK)
            sc.rows[i].end = wr_log_end_offset(p);
    }
    wr_log_close(db);
    *rows = sc.rows;
    *n = sc.nrows;
    *names = sc.names;
    *nnames = sc.n;
    return status;
}

/* ---- output ---------------------------------------------------------------------------- */

static int
cmp_row(const void *a, const void *b)
{
    const wr_group_row *x = a, *y = b;
    int c = strcmp(x->topic ? x->topic : "", y->topic ? y->topic : "");
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

#define NCOLS 9

static void
print_table(const char *group, wr_group_row *rows, size_t n)
{
    static const char *const head[NCOLS] = {"GROUP",          "TOPIC",          "PARTITION",
                                            "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                                            "CONSUMER-ID",    "HOST",           "CLIENT-ID"};
    qsort(rows, n, sizeof *rows, cmp_row);
    char(*cells)[NCOLS][64] = calloc(n ? n : 1, sizeof *cells);
    const char **text = calloc((n ? n : 1) * NCOLS, sizeof *text);
    if (cells == NULL || text == NULL) {
        free(cells);
        free(text);
        fputs("out of memory\n", stderr);
        return;
    }
    size_t width[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        width[c] = strlen(head[c]);
    for (size_t i = 0; i < n; i++) {
        wr_group_row *r = &rows[i];
        const char **t = &text[i * NCOLS];
        t[0] = group;
        t[1] = r->topic ? r->topic : "-";
        snprintf(cells[i][2], 64, "%" PRId32, r->partition);
        if (r->current >= 0)
            snprintf(cells[i][3], 64, "%" PRId64, r->current);
        if (r->end >= 0)
            snprintf(cells[i][4], 64, "%" PRId64, r->end);
        if (r->current >= 0 && r->end >= 0)
            snprintf(cells[i][5], 64, "%" PRId64, r->end > r->current ? r->end - r->current : 0);
        for (int c = 2; c <= 5; c++)
            t[c] = cells[i][c][0] ? cells[i][c] : "-";
        t[6] = r->consumer_id ? r->consumer_id : "-";
        t[7] = r->host ? r->host : "-";
        t[8] = r->client_id ? r->client_id : "-";
        for (int c = 0; c < NCOLS; c++)
            if (strlen(t[c]) > width[c])
                width[c] = strlen(t[c]);
    }
    printf("\n");
    for (size_t i = 0; i <= n; i++) { /* the header, then the rows */
        for (int c = 0; c < NCOLS; c++) {
            const char *t = i == 0 ? head[c] : text[(i - 1) * NCOLS + c];
            if (c + 1 < NCOLS)
                printf("%-*s ", (int)width[c], t);
            else
                printf("%s\n", t);
        }
    }
    free(cells);
    free(text);
}

int
wr_cmd_groups(int argc, char **argv)
{
    static const struct option longopts[] = {
        WR_CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    wr_cli cli;
    wr_cli_init(&cli, "weir groups");
    bool failed = false;
    int status = WR_EXIT_USAGE, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (wr_cli_common_opt(&cli, opt, optarg, &failed))
            continue;
        if (opt == 'h') {
            fputs(groups_help, stdout);
            status = WR_EXIT_OK;
            goto out;
        }
        fputs(groups_help, stderr);
        goto out;
    }
    if (failed || !wr_cli_apply(&cli))
        goto out;
    const char *verb = optind < argc ? argv[optind] : "";
    bool list = strcmp(verb, "list") == 0, describe = strcmp(verb, "describe") == 0;
    if (!(list && optind + 1 == argc) && !(describe && optind + 2 == argc)) {
        fputs(groups_help, stderr);
        goto out;
    }
    const char *group = describe ? argv[optind + 1] : NULL;
    const char *bootstrap = wr_cli_get(&cli, WR_CFG_BOOTSTRAP, NULL);
    wr_group_row *rows = NULL;
    size_t n = 0, nnames = 0, members = 0;
    char **names = NULL;
    bool exists = false;
    if (bootstrap != NULL)
        status =
            list ? wr_remote_group_list(&cli, bootstrap, &names, &nnames)
                 : wr_remote_group_describe(&cli, bootstrap, group, &rows, &n, &exists, &members);
    else
        status = groups_local(&cli, verb, group, &rows, &n, &names, &nnames);
    if (status == WR_EXIT_OK && list) {
        for (size_t i = 0; i < nnames; i++)
            printf("%s\n", names[i]);
    } else if (status == WR_EXIT_OK) {
        if (!exists && n == 0) {
            wr_cli_errorf(&cli, "consumer group '%s' does not exist", group);
            status = WR_EXIT_FAIL;
        } else {
            if (members == 0)
                fprintf(stderr, "\nConsumer group '%s' has no active members.\n", group);
            print_table(group, rows, n);
        }
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    wr_group_rows_free(rows, n);
out:
    wr_cli_cleanup(&cli);
    return status;
}

/*
 * main.c - the `weir` binary: dispatches to subcommands.
 *
 * `weir server` runs every role in one process over one data directory (the embedded default);
 * `weir topic|produce|consume` work on a local data directory or, with --bootstrap-server,
 * against a running server. Subcommands whose roles arrive with later work say so and exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/fault.h"
#include "src/cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *pending; /* non-NULL: not yet available, and why */
} command;

static int cmd_version(int argc, char **argv);

static const command commands[] = {
    {"server", wr_cmd_server, "run every role (log, Kafka broker, SQL, HTTP) in one process", NULL},
    {"broker", wr_cmd_broker, "run only the Kafka-compatible log broker", NULL},
    {"worker", NULL, "run SQL worker tasks against a log cluster",
     "separate worker processes arrive with the SQL runtime; use `weir server`"},
    {"sql", wr_cmd_sql, "interactive SQL shell against a weir server's HTTP API", NULL},
    {"topic", wr_cmd_topic, "create, list, describe and delete topics", NULL},
    {"produce", wr_cmd_produce, "write records read from stdin to a topic", NULL},
    {"consume", wr_cmd_consume, "print records of a topic", NULL},
    {"groups", wr_cmd_groups, "list and describe consumer groups", NULL},
    {"users", wr_cmd_users, "add, delete and list the SCRAM users of a data directory", NULL},
    {"version", cmd_version, "print the version", NULL},
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: weir <command> [options]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].pending ? " (not yet available)" : "");
    fprintf(f, "\nRun `weir <command> --help` for the options of a command.\n");
}

static int
cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: weir version\n\nPrints weir's version.\n");
        return WR_EXIT_OK;
    }
    printf("weir %s\n", WR_VERSION);
    return WR_EXIT_OK;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return WR_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return WR_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv);
    /* fault injection for tests (a full disk, failing fsync): see src/base/fault.h */
    const char *fault = getenv("WEIR_FAULT");
    if (fault && *fault && wr_fault_parse(fault) != WR_OK) {
        fprintf(stderr, "weir: invalid WEIR_FAULT '%s' (site:after:count[,...])\n", fault);
        return WR_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const command *c = &commands[i];
        if (strcmp(argv[1], c->name) != 0)
            continue;
        if (c->pending != NULL) {
            bool help = argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
            fprintf(help ? stdout : stderr, "usage: weir %s [options]\n\n%s.\n", c->name,
                    c->summary);
            fprintf(help ? stdout : stderr, "weir %s: not yet available: %s\n", c->name,
                    c->pending);
            return help ? WR_EXIT_OK : WR_EXIT_USAGE;
        }
        return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "weir: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return WR_EXIT_USAGE;
}

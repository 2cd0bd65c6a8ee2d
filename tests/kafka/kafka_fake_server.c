/*
 * kafka_fake_server.c - test-only: the broker over the in-memory test log (fake_log.c), for
 * client smoke tests that must not depend on the real log engine. Usage:
 *   kafka_fake_server PORT [PARTITIONS [ADVERTISED_PORT]]
 *   (PORT 0 = any; prints "listening PORT" on stdout once it listens)
 * Runs until stdin closes or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "src/kafka/broker.h"
#include "src/log/log.h"

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    wr_logdb *db = NULL;
    wr_err err = {0};
    if (wr_log_open("/nonexistent", NULL, &db, &err) != WR_OK)
        return 1;
    wr_broker_opts o;
    wr_broker_opts_init(&o);
    o.listen_host = "127.0.0.1";
    o.listen_port = argc > 1 ? atoi(argv[1]) : 0;
    o.default_partitions = argc > 2 ? atoi(argv[2]) : 1;
    o.advertised_port = argc > 3 ? atoi(argv[3]) : 0;
    wr_broker *b = NULL;
    if (wr_broker_create(&o, db, &b, &err) != WR_OK || wr_broker_start(b, &err) != WR_OK) {
        fprintf(stderr, "cannot start: %s\n", err.msg);
        return 1;
    }
    printf("listening %d\n", wr_broker_port(b));
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    wr_broker_destroy(b);
    wr_log_close(db);
    return 0;
}

/*
 * connlimit.h - connection limits at accept, shared by the Kafka and the HTTP servers: at most
 * `max` connections in all and `max_per_ip` from one client address, with per-address
 * exceptions (Kafka's max.connections, max.connections.per.ip and
 * max.connections.per.ip.overrides, "ADDR:N,ADDR:N" with IP literals; Kafka also takes host
 * names there, weir does not). A server asks wr_connlimit_admit for each accepted connection,
 * closes the ones refused, and calls wr_connlimit_leave when an admitted one closes.
 *
 * Ownership: the limiter owns its table of addresses (freed by wr_connlimit_free).
 * Thread locality: none inside; each server uses its own from its loop thread.
 */
#ifndef WR_SRC_BASE_CONNLIMIT_H
#define WR_SRC_BASE_CONNLIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#include "src/base/err.h"

typedef struct wr_connlimit_ip wr_connlimit_ip;

typedef struct wr_connlimit {
    int max;        /* 0: unlimited */
    int max_per_ip; /* 0: unlimited */
    int total;      /* admitted and open */
    wr_connlimit_ip **buckets; /* per-address counts (and overrides), chained */
    size_t nbuckets;
} wr_connlimit;

/* A limiter; overrides may be NULL or "". Fails (WR_EINVAL, with a message naming the entry)
   on a malformed override list. */
int wr_connlimit_init(
    wr_connlimit *l, int max, int max_per_ip, const char *overrides, wr_err *err);
void wr_connlimit_free(wr_connlimit *l);

enum { WR_CONNLIMIT_OK = 0, WR_CONNLIMIT_TOTAL = 1, WR_CONNLIMIT_PER_IP = 2 };

/* Counts a new connection from sa (borrowed; NULL: an unknown address, only the total
   applies). Returns WR_CONNLIMIT_OK when admitted, or which limit refused it (nothing
   counted). */
int wr_connlimit_admit(wr_connlimit *l, const struct sockaddr *sa);
/* An admitted connection from sa (the same address given to admit) closed. */
void wr_connlimit_leave(wr_connlimit *l, const struct sockaddr *sa);
/* Open connections from sa's address. */
int wr_connlimit_count(const wr_connlimit *l, const struct sockaddr *sa);

#endif

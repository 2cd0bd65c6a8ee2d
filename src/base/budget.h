/*
 * budget.h - a byte budget for requests being read (Kafka's queued.max.request.bytes), shared by
 * the Kafka and the HTTP servers: a server takes the declared size of a request from the budget
 * before it reads the request's body, and gives it back when the request has been answered.
 * A take that does not fit waits in a FIFO queue (the server stops reading that connection) and
 * is granted, by a callback, when enough is released; nothing is ever refused, so no connection
 * is dropped for memory.
 *
 * Why whole requests and not bytes as they come: if every partly read request held only what had
 * arrived, enough of them could fill the budget with none able to finish (a deadlock). A granted
 * request can always be read to its end.
 *
 * Classes: a take of at most small_max bytes is small, others large. A large take fits while
 * used + n <= limit - reserve, or when no large take is held at all (so a request larger than the
 * whole budget is still read, alone); a small take fits while used + n <= limit. The reserve
 * keeps room for small requests (metadata, heartbeats, small produces) when large ones, perhaps
 * held by clients that stopped sending, have taken the rest. So used stays <= limit, except for
 * one large take larger than limit - reserve.
 *
 * Ownership: the budget borrows its waiters (embedded in their owners); a waiter must be
 * cancelled before its owner is freed. Thread locality: none inside; each server uses its
 * budget from its loop thread only. The granted callback runs inside wr_budget_release, so it
 * should only note the grant and act later (the servers schedule their connection).
 */
#ifndef WR_SRC_BASE_BUDGET_H
#define WR_SRC_BASE_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct wr_budget_waiter wr_budget_waiter;

struct wr_budget_waiter {
    wr_budget_waiter *next, **pprev; /* the budget's queue while waiting */
    size_t want;
    bool waiting;
    /* n bytes have been taken for w (w is no longer waiting) */
    void (*granted)(wr_budget_waiter *w);
};

typedef struct wr_budget {
    size_t limit;     /* 0: unlimited (every take fits) */
    size_t reserve;   /* kept for small takes */
    size_t small_max; /* a take of at most this is small */
    size_t used;      /* bytes taken and not released */
    size_t used_large;
    wr_budget_waiter *head, **tail; /* FIFO of waiting takes */
} wr_budget;

/* A budget of limit bytes (0: unlimited) with reserve = limit / 8 and small_max =
   min(1 MiB, reserve / 8). */
void wr_budget_init(wr_budget *b, size_t limit);

/* Takes n bytes for w if they fit now (a large take also needs no large take waiting before
   it; a small one passes waiting large ones): returns true. Otherwise queues w (w->granted is
   called once the bytes have been taken for it) and returns false. */
bool wr_budget_take(wr_budget *b, wr_budget_waiter *w, size_t n);

/* Takes n bytes whatever the budget says (bytes already read that must be kept). */
void wr_budget_force(wr_budget *b, size_t n);

/* Gives back a take of n bytes, then grants waiting takes that now fit, in order. */
void wr_budget_release(wr_budget *b, size_t n);

/* Gives back bytes taken with wr_budget_force. */
void wr_budget_unforce(wr_budget *b, size_t n);

/* Removes a waiting w from the queue (no-op when not waiting), then grants what now fits. */
void wr_budget_cancel(wr_budget *b, wr_budget_waiter *w);

#endif

/*
 * budget.c - the byte budget for requests being read (budget.h): fit rules, FIFO of waiters.
 */
#include "src/base/budget.h"

void
wr_budget_init(wr_budget *b, size_t limit)
{
    size_t reserve = limit / 8;
    size_t small = reserve / 8;
    *b = (wr_budget){
        .limit = limit,
        .reserve = reserve,
        .small_max = small < (1u << 20) ? small : (1u << 20),
    };
    b->tail = &b->head;
}

static bool
is_small(const wr_budget *b, size_t n)
{
    return n <= b->small_max;
}

static bool
fits(const wr_budget *b, size_t n)
{
    if (b->limit == 0)
        return true;
    if (is_small(b, n))
        return b->used + n <= b->limit;
    return b->used_large == 0 || b->used + n <= b->limit - b->reserve;
}

static void
take(wr_budget *b, size_t n)
{
    b->used += n;
    if (!is_small(b, n))
        b->used_large += n;
}

static void
unlink_waiter(wr_budget *b, wr_budget_waiter *w)
{
    *w->pprev = w->next;
    if (w->next != NULL)
        w->next->pprev = w->pprev;
    else
        b->tail = w->pprev;
    w->next = NULL;
    w->pprev = NULL;
    w->waiting = false;
}

/* Grants, in queue order, every waiting take that fits; a large one that does not fit keeps
   the large ones behind it waiting (FIFO), never the small ones. */
static void
grant_waiters(wr_budget *b)
{
    bool large_blocked = false;
    wr_budget_waiter *w = b->head;
    while (w != NULL) {
        wr_budget_waiter *next = w->next;
        bool small = is_small(b, w->want);
        if ((small || !large_blocked) && fits(b, w->want)) {
            unlink_waiter(b, w);
            take(b, w->want);
            w->granted(w);
        } else if (!small) {
            large_blocked = true;
        }
        w = next;
    }
}

static bool
large_waiting(const wr_budget *b)
{
    for (const wr_budget_waiter *w = b->head; w != 0; w = w->next)
        if (!is_small(b, w->want))
            return true;
    return false;
}

bool
wr_budget_take(wr_budget *b, wr_budget_waiter *w, size_t n)
{
    w->want = n;
    if (fits(b, n) && (is_small(b, n) || !large_waiting(b))) {
        take(b, n);
        return true;
    }
    w->waiting = true;
    w->next = NULL;
    w->pprev = b->tail;
    *b->tail = w;
    b->tail = &w->next;
    return false;
}

void
wr_budget_force(wr_budget *b, size_t n)
{
    b->used += n;
}

void
wr_budget_release(wr_budget *b, size_t n)
{
    b->used -= n;
    if (!is_small(b, n))
        b->used_large -= n;
    grant_waiters(b);
}

void
wr_budget_unforce(wr_budget *b, size_t n)
{
    b->used -= n;
    grant_waiters(b);
}

void
wr_budget_cancel(wr_budget *b, wr_budget_waiter *w)
{
    if (!w->waiting)
        return;
    unlink_waiter(b, w);
    grant_waiters(b); /* a large one behind it may fit now */
}

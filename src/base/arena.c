/*
 * arena.c - region allocator. See arena.h.
 *
 * Blocks form a singly linked list, newest first; a request larger than a quarter of the block
 * size gets a block of its own so it does not waste the current block's tail.
 */
#include "src/base/arena.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/err.h"
#include "src/base/fault.h"

#define WR_ARENA_ALIGN alignof(max_align_t)

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes in data */
    size_t used;
    alignas(max_align_t) unsigned char data[];
} block;

typedef struct cleanup {
    struct cleanup *next;
    void (*fn)(void *);
    void *arg;
} cleanup;

struct wr_arena {
    block *head;
    size_t block_size;
    size_t total_used;
    cleanup *cleanups;
};

static block *
block_new(size_t size)
{
    if (wr_fault_sim(WR_FAULT_ALLOC))
        return NULL;
    block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

wr_arena *
wr_arena_create(size_t block_size)
{
    wr_arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->block_size = block_size ? block_size : 8192;
    return a;
}

static void
run_cleanups(wr_arena *a)
{
    while (a->cleanups != NULL) {
        cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->arg);
        free(c);
    }
}

void
wr_arena_destroy(wr_arena *a)
{
    if (a == NULL)
        return;
    run_cleanups(a);
    for (block *b = a->head, *next; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

void
wr_arena_reset(wr_arena *a)
{
    run_cleanups(a);
    block *keep = NULL;
    for (block *b = a->head, *next; b != NULL; b = next) {
        next = b->next;
        if (next == NULL && b->size == a->block_size) {
            keep = b; /* the oldest block is a standard one: keep it */
            keep->used = 0;
        } else {
            free(b);
        }
    }
    a->head = keep;
    a->total_used = 0;
}

void *
wr_arena_alloc(wr_arena *a, size_t n)
{
    size_t need = (n + WR_ARENA_ALIGN - 1) & ~(WR_ARENA_ALIGN - 1);
    if (need < n)
        return NULL; /* overflow */
    block *b = a->head;
    if (b == NULL || b->size - b->used < need) {
        if (need > a->block_size / 4) {
            /* big request: own block, linked behind the current one so its tail stays usable */
            block *big = block_new(need);
            if (big == NULL)
                return NULL;
            big->used = need;
            if (b == NULL) {
                a->head = big;
            } else {
                big->next = b->next;
                b->next = big;
            }
            a->total_used += n;
            return big->data;
        }
        b = block_new(a->block_size);
        if (b == NULL)
            return NULL;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total_used += n;
    return p;
}

void *
wr_arena_calloc(wr_arena *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = wr_arena_alloc(a, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void *
wr_arena_memdup(wr_arena *a, const void *p, size_t n)
{
    void *q = wr_arena_alloc(a, n);
    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

char *
wr_arena_strndup(wr_arena *a, const char *s, size_t n)
{
    char *q = wr_arena_alloc(a, n + 1);
    if (q == NULL)
        return NULL;
    if (n > 0)
        memcpy(q, s, n);
    q[n] = '\0';
    return q;
}

char *
wr_arena_strdup(wr_arena *a, const char *s)
{
    return wr_arena_strndup(a, s, strlen(s));
}

char *
wr_arena_printf(wr_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = NULL;
    if (n >= 0 && (s = wr_arena_alloc(a, (size_t)n + 1)) != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

int
wr_arena_cleanup_add(wr_arena *a, void (*fn)(void *arg), void *arg)
{
    cleanup *c = malloc(sizeof *c);
    if (c == NULL)
        return WR_ENOMEM;
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
    return WR_OK;
}

size_t
wr_arena_used(const wr_arena *a)
{
    return a->total_used;
}

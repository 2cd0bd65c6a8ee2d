/*
 * arena.h - region allocator with cleanup hooks.
 *
 * An arena hands out memory that lives until the arena is reset or destroyed; nothing is freed
 * piecemeal. Arenas follow semantic lifetimes (one per statement, per batch, per query), like
 * PostgreSQL memory contexts and h2o pools. Cleanup hooks release non-memory resources (iterators,
 * file handles) when the arena goes, in reverse registration order.
 *
 * Ownership: the arena owns every block and every hook. Thread locality: an arena is used by one
 * thread at a time.
 */
#ifndef WR_SRC_BASE_ARENA_H
#define WR_SRC_BASE_ARENA_H

#include <stddef.h>

typedef struct wr_arena wr_arena;

/* Returns an owned arena whose blocks start at block_size bytes (0: 8 KiB), or NULL on OOM. */
wr_arena *wr_arena_create(size_t block_size);

/* Runs the cleanup hooks and frees every block. NULL-safe. */
void wr_arena_destroy(wr_arena *a);

/* Runs the cleanup hooks and frees all but the first block, keeping the arena usable. */
void wr_arena_reset(wr_arena *a);

/* Returns n bytes aligned for any type, owned by the arena; NULL on OOM (n may be 0). */
void *wr_arena_alloc(wr_arena *a, size_t n);

/* Like wr_arena_alloc, zero-filled. */
void *wr_arena_calloc(wr_arena *a, size_t count, size_t size);

/* Returns a NUL-terminated copy of s[0..n) owned by the arena, or NULL on OOM. */
char *wr_arena_strndup(wr_arena *a, const char *s, size_t n);

/* Returns a NUL-terminated copy of s owned by the arena, or NULL on OOM. */
char *wr_arena_strdup(wr_arena *a, const char *s);

/* Returns a copy of p[0..n) owned by the arena, or NULL on OOM. */
void *wr_arena_memdup(wr_arena *a, const void *p, size_t n);

/* Returns a printf-formatted string owned by the arena, or NULL on OOM. */
char *wr_arena_printf(wr_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers fn(arg) to run when the arena is reset or destroyed. Returns WR_OK or WR_ENOMEM. */
int wr_arena_cleanup_add(wr_arena *a, void (*fn)(void *arg), void *arg);

/* Bytes handed out since creation or the last reset (for limits and metrics). */
size_t wr_arena_used(const wr_arena *a);

#endif

/*
 * assert.h - integrity assertions.
 *
 * WR_ASSERT(e) is always on and aborts with file:line: it guards invariants of weir's own data
 * structures, never user, network or disk input (those return errors). WR_DASSERT(e) is checked
 * in debug builds only. WR_ALWAYS(e)/WR_NEVER(e) mark defensive branches: they evaluate to e,
 * and in debug builds they abort when the "impossible" side is taken (SQLite's habit).
 */
#ifndef WR_SRC_BASE_ASSERT_H
#define WR_SRC_BASE_ASSERT_H

#include <stdbool.h>

_Noreturn void wr_assert_fail(const char *expr, const char *file, int line);

#define WR_ASSERT(e) ((e) ? (void)0 : wr_assert_fail(#e, __FILE__, __LINE__))

#ifdef NDEBUG
#    define WR_DASSERT(e) ((void)0)
#    define WR_ALWAYS(e)  (e)
#    define WR_NEVER(e)   (e)
#else
#    define WR_DASSERT(e) WR_ASSERT(e)
#    define WR_ALWAYS(e)  ((e) ? true : (wr_assert_fail(#    e, __FILE__, __LINE__), false))
#    define WR_NEVER(e)   ((e) ? (wr_assert_fail("!(" #    e ")", __FILE__, __LINE__), true) : false)
#endif

#endif

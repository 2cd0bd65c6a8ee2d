/*
 * logging.h - leveled log lines to stderr.
 *
 *   wr_log(WR_LOG_WARN, "log", "segment %s truncated at %lld", path, (long long)pos);
 *
 * prints `2026-11-22T10:00:00.123Z WARN  [log] segment ... truncated at ...`. The subsystem tag
 * comes second so each module has its own logger (Redpanda). Errors and warnings always print;
 * info by default; debug is compiled in but off until wr_log_set_level(WR_LOG_DEBUG) or
 * WEIR_LOG_LEVEL=debug. One write(2) per line, so concurrent lines never interleave. Nothing is
 * logged per record on hot paths.
 */
#ifndef WR_SRC_BASE_LOGGING_H
#define WR_SRC_BASE_LOGGING_H

#include <stdbool.h>

typedef enum wr_log_level {
    WR_LOG_DEBUG = 0,
    WR_LOG_INFO = 1,
    WR_LOG_WARN = 2,
    WR_LOG_ERROR = 3,
} wr_log_level;

void wr_log(wr_log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void wr_log_set_level(wr_log_level level);
wr_log_level wr_log_get_level(void);

/* Parses "debug", "info", "warn", "error"; returns false when name is none of them. */
bool wr_log_level_parse(const char *name, wr_log_level *out);

static inline bool
wr_log_enabled(wr_log_level level)
{
    return level >= wr_log_get_level();
}

#endif

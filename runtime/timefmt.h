/*
 * timefmt.h - instants as text with Java DateTimeFormatter patterns ("yyyy-MM-dd'T'HH:mm:ss.SSSX"),
 * for the date/time functions and TIMESTAMP_FORMAT, in UTC, fixed offsets or tz database zones.
 */
#ifndef WR_RUNTIME_TIMEFMT_H
#define WR_RUNTIME_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

#include "src/base/buf.h"

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms). */
int64_t wr_days_from_civil(int64_t y, int64_t m, int64_t d);
void wr_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* The day (since the epoch) of ms milliseconds since it, rounded down: any int64_t, INT64_MIN
   included. */
static inline int64_t
wr_days_of_ms(int64_t ms)
{
    int64_t d = ms / 86400000;
    return ms % 86400000 < 0 ? d - 1 : d;
}
/* The milliseconds since midnight of that day (0 .. 86399999). */
static inline int64_t
wr_ms_of_day(int64_t ms)
{
    int64_t r = ms % 86400000;
    return r < 0 ? r + 86400000 : r;
}

/* A time zone: UTC, a fixed offset ("+05:30", "-08", "UTC+2", "GMT-03:00") or a tz database
   region ("America/Los_Angeles", read from /usr/share/zoneinfo). NULL when unknown. Zones are
   loaded once and kept for the life of the process; thread-safe. */
typedef struct wr_tz wr_tz;
const wr_tz *wr_tz_get(const char *name);

/* The zone's offset from UTC, in ms, at an instant; and for a wall-clock time in the zone (in
   a gap or an overlap of a transition, the offset before it). */
int64_t wr_tz_offset(const wr_tz *z, int64_t utc_ms);
int64_t wr_tz_offset_local(const wr_tz *z, int64_t local_ms);

/* Appends ms since the epoch as seen in zone z (NULL: UTC), as pattern says; false for a
   pattern letter that is not supported. */
bool wr_time_format(wr_buf *b, int64_t ms, const wr_tz *z, const char *pattern);

/* Parses text by pattern into ms since the epoch; a text without an offset is read in zone z
   (NULL: UTC). false when the text does not match. */
bool wr_time_parse(const char *text, const char *pattern, const wr_tz *z, int64_t *ms);

#endif

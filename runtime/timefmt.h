/*
 * timefmt.h - instants as text with Java DateTimeFormatter patterns ("yyyy-MM-dd'T'HH:mm:ss.SSSX"),
 * for the date/time functions and TIMESTAMP_FORMAT. Zones are UTC or fixed offsets ("+05:30",
 * "UTC+2"); named regions (Europe/Paris) are not supported yet.
 */
#ifndef WR_RUNTIME_TIMEFMT_H
#define WR_RUNTIME_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

#include "src/base/buf.h"

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms). */
int64_t wr_days_from_civil(int64_t y, int64_t m, int64_t d);
void wr_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* The offset in ms of a zone name: "UTC", "GMT", "Z", "+05:30", "-08", "UTC+2"; NULL is UTC.
   false for a zone that is not a fixed offset. */
bool wr_time_zone_offset(const char *zone, int64_t *off);

/* Appends ms since the epoch, seen in a zone of offset zone_off, as pattern says; false for a
   pattern letter that is not supported. */
bool wr_time_format(wr_buf *b, int64_t ms, int64_t zone_off, const char *pattern);

/* Parses text by pattern into ms since the epoch; a text without an offset is read in the zone
   of offset zone_off. false when the text does not match. */
bool wr_time_parse(const char *text, const char *pattern, int64_t zone_off, int64_t *ms);

#endif

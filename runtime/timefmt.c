/*
 * timefmt.c - Java DateTimeFormatter patterns for formatting and parsing instants (see
 * timefmt.h): the letters y u M d H h m s S a E X x Z and 'quoted' literals.
 */
#include "runtime/timefmt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int64_t
wr_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void
wr_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* A zone as a fixed offset in ms: "UTC", "GMT", "Z", "+05:30", "-08", "UTC+2", "GMT-03:00".
   Named regions (Europe/Paris) are not supported yet: false. */
bool
wr_time_zone_offset(const char *z, int64_t *off)
{
    *off = 0;
    if (z == NULL || *z == 0 || strcasecmp(z, "UTC") == 0 || strcasecmp(z, "GMT") == 0 ||
        strcmp(z, "Z") == 0 || strcasecmp(z, "Etc/UTC") == 0)
        return true;
    if (strncasecmp(z, "UTC", 3) == 0 || strncasecmp(z, "GMT", 3) == 0)
        z += 3;
    if (*z != '+' && *z != '-')
        return false;
    int h = 0, mi = 0;
    if (sscanf(z + 1, "%2d:%2d", &h, &mi) < 1 && sscanf(z + 1, "%2d%2d", &h, &mi) < 1)
        return false;
    if (h > 18 || mi > 59)
        return false;
    *off = (*z == '-' ? -1 : 1) * ((int64_t)h * 3600000 + (int64_t)mi * 60000);
    return true;
}

static const char *MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *DAYS[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};

static bool
format_java(wr_buf *b, int64_t ms, int64_t off, const char *pat)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000, y;
    int mo, d;
    wr_civil_from_days(days, &y, &mo, &d);
    int h = (int)(rem / 3600000), mi = (int)(rem / 60000 % 60), s = (int)(rem / 1000 % 60),
        frac = (int)(rem % 1000);
    for (const char *p = pat; *p;) {
        char ch = *p;
        int n = 1;
        while (p[n] == ch)
            n++;
        if (ch == '\'') {
            if (p[1] == '\'') {
                wr_buf_put_u8(b, '\'');
                p += 2;
                continue;
            }
            const char *end = strchr(p + 1, '\'');
            if (end == NULL)
                return false;
            wr_buf_append(b, p + 1, (size_t)(end - p - 1));
            p = end + 1;
            continue;
        }
        switch (ch) {
        case 'y':
        case 'u':
            if (n == 2)
                wr_buf_printf(b, "%02lld", (long long)(y % 100 + 100) % 100);
            else
                wr_buf_printf(b, "%0*lld", n, (long long)y);
            break;
        case 'M':
            if (n >= 3)
                wr_buf_printf(b, "%s", MONTHS[mo - 1]);
            else
                wr_buf_printf(b, "%0*d", n, mo);
            break;
        case 'd':
            wr_buf_printf(b, "%0*d", n, d);
            break;
        case 'H':
            wr_buf_printf(b, "%0*d", n, h);
            break;
        case 'h':
            wr_buf_printf(b, "%0*d", n, h % 12 == 0 ? 12 : h % 12);
            break;
        case 'm':
            wr_buf_printf(b, "%0*d", n, mi);
            break;
        case 's':
            wr_buf_printf(b, "%0*d", n, s);
            break;
        case 'S': {
            char f[24];
            snprintf(f, sizeof f, "%03d000000", frac);
            wr_buf_append(b, f, (size_t)(n > 9 ? 9 : n));
            break;
        }
        case 'a':
            wr_buf_printf(b, "%s", h < 12 ? "AM" : "PM");
            break;
        case 'E':
            wr_buf_printf(b, "%s", DAYS[((days % 7) + 7) % 7]);
            break;
        case 'X':
        case 'Z':
        case 'x': {
            if (off == 0 && ch == 'X') {
                wr_buf_put_u8(b, 'Z');
                break;
            }
            int64_t a = off < 0 ? -off : off;
            int oh = (int)(a / 3600000), om = (int)(a / 60000 % 60);
            if (n >= 3 || ch == 'Z' ? (ch != 'Z') : false)
                wr_buf_printf(b, "%c%02d:%02d", off < 0 ? '-' : '+', oh, om);
            else
                wr_buf_printf(b, "%c%02d%02d", off < 0 ? '-' : '+', oh, om);
            break;
        }
        default:
            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
                return false; /* a pattern letter we do not know */
            wr_buf_append(b, p, (size_t)n);
            break;
        }
        p += n;
    }
    return true;
}

/* Parses text with a Java pattern into ms since the epoch in the zone given (before the
   offset is removed). */
static bool
parse_java(const char *t, const char *pat, int64_t *out, int64_t *zone_off, bool *had_zone)
{
    int64_t y = 1970;
    int mo = 1, d = 1, h = 0, mi = 0, s = 0, frac = 0;
    bool pm = false, ampm = false;
    *had_zone = false;
    for (const char *p = pat; *p;) {
        char ch = *p;
        int n = 1;
        while (p[n] == ch)
            n++;
        if (ch == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (end == NULL)
                return false;
            size_t l = (size_t)(end - p - 1);
            if (strncmp(t, p + 1, l) != 0)
                return false;
            t += l;
            p = end + 1;
            continue;
        }
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
            if (ch == 'M' && n >= 3) {
                int k = 0;
                while (k < 12 && strncasecmp(t, MONTHS[k], 3) != 0)
                    k++;
                if (k == 12)
                    return false;
                mo = k + 1;
                t += 3;
            } else if (ch == 'a') {
                ampm = true;
                pm = strncasecmp(t, "PM", 2) == 0;
                if (!pm && strncasecmp(t, "AM", 2) != 0)
                    return false;
                t += 2;
            } else if (ch == 'E') {
                while ((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z'))
                    t++;
            } else if (ch == 'X' || ch == 'Z' || ch == 'x') {
                *had_zone = true;
                if (*t == 'Z') {
                    *zone_off = 0;
                    t++;
                } else {
                    int oh = 0, om = 0, k = 0;
                    char sign = *t;
                    if ((sign != '+' && sign != '-') || sscanf(t + 1, "%2d%n", &oh, &k) != 1)
                        return false;
                    t += 1 + k;
                    if (*t == ':')
                        t++;
                    if (*t >= '0' && *t <= '9' && sscanf(t, "%2d%n", &om, &k) == 1)
                        t += k;
                    *zone_off =
                        (sign == '-' ? -1 : 1) * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
                }
            } else {
                /* numbers: n digits, or as many as there are for single letters */
                int max = n > 1 ? n : (ch == 'y' || ch == 'u' ? 9 : ch == 'S' ? 9 : 2);
                int64_t v = 0;
                int k = 0;
                bool neg = false;
                if ((ch == 'y' || ch == 'u') && *t == '-') {
                    neg = true;
                    t++;
                }
                while (k < max && *t >= '0' && *t <= '9') {
                    v = v * 10 + (*t++ - '0');
                    k++;
                }
                if (k == 0)
                    return false;
                if (neg)
                    v = -v;
                switch (ch) {
                case 'y':
                case 'u':
                    y = n == 2 ? 2000 + v : v;
                    break;
                case 'M':
                    mo = (int)v;
                    break;
                case 'd':
                    d = (int)v;
                    break;
                case 'H':
                case 'h':
                    h = (int)v;
                    break;
                case 'm':
                    mi = (int)v;
                    break;
                case 's':
                    s = (int)v;
                    break;
                case 'S':
                    while (k < 3) {
                        v *= 10;
                        k++;
                    }
                    while (k > 3) {
                        v /= 10;
                        k--;
                    }
                    frac = (int)v;
                    break;
                default:
                    return false;
                }
            }
        } else {
            for (int i = 0; i < n; i++)
                if (*t++ != ch)
                    return false;
        }
        p += n;
    }
    if (*t != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    if (ampm)
        h = h % 12 + (pm ? 12 : 0);
    *out = wr_days_from_civil(y, mo, d) * 86400000 + (int64_t)h * 3600000 + (int64_t)mi * 60000 +
           (int64_t)s * 1000 + frac;
    return true;
}

bool
wr_time_format(wr_buf *b, int64_t ms, int64_t zone_off, const char *pattern)
{
    return format_java(b, ms + zone_off, zone_off, pattern);
}

bool
wr_time_parse(const char *text, const char *pattern, int64_t zone_off, int64_t *ms)
{
    int64_t zoff = 0;
    bool had = false;
    if (!parse_java(text, pattern, ms, &zoff, &had))
        return false;
    *ms -= had ? zoff : zone_off; /* an offset in the text wins over the zone given */
    return true;
}

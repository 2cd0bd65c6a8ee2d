/*
 * timefmt.c - Java DateTimeFormatter patterns for formatting and parsing instants (see
 * timefmt.h): the letters y u M d H h m s S a E X x Z and 'quoted' literals.
 */
#include "runtime/timefmt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- zones: fixed offsets and the tz database ------------------------------------------- */

struct wr_tz {
    char name[64];
    int64_t fixed;  /* ms, when ntrans == 0 */
    int32_t ntrans; /* TZif: transitions (UTC seconds) and the offset (ms) from each */
    int64_t *at;
    int64_t *off;
    int64_t first_off; /* before the first transition */
};

static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;
static wr_tz *tz_cache[64];
static int tz_count;

static bool
fixed_offset(const char *z, int64_t *off)
{
    *off = 0;
    if (z == NULL || *z == 0 || strcasecmp(z, "UTC") == 0 || strcasecmp(z, "GMT") == 0 ||
        strcmp(z, "Z") == 0 || strcasecmp(z, "Etc/UTC") == 0 || strcasecmp(z, "Etc/GMT") == 0)
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

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads /usr/share/zoneinfo/<name> (TZif version 2 or later: the 64-bit block). */
static wr_tz *
load_tzif(const char *name)
{
    for (const char *c = name; *c; c++) /* a zone name, never a path out of the database */
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '/' || *c == '_' || *c == '-' || *c == '+'))
            return NULL;
    if (strstr(name, "..") != NULL || name[0] == '/' || strlen(name) >= 64)
        return NULL;
    char path[128];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *d = malloc(1 << 20);
    size_t n = d ? fread(d, 1, 1 << 20, f) : 0;
    fclose(f);
    wr_tz *z = NULL;
    if (n < 44 || memcmp(d, "TZif", 4) != 0 || d[4] < '2')
        goto out;
    /* skip the 32-bit block */
    uint32_t isut = be32(d + 20), isstd = be32(d + 24), leap = be32(d + 28), tc = be32(d + 32),
             ty = be32(d + 36), ch = be32(d + 40);
    size_t v1 = 44 + (size_t)tc * 5 + (size_t)ty * 6 + ch + (size_t)leap * 8 + isstd + isut;
    if (v1 + 44 > n || memcmp(d + v1, "TZif", 4) != 0)
        goto out;
    const uint8_t *h = d + v1;
    leap = be32(h + 28);
    tc = be32(h + 32);
    ty = be32(h + 36);
    const uint8_t *trans = h + 44, *idx = trans + (size_t)tc * 8, *info = idx + tc;
    if (info + (size_t)ty * 6 > d + n || ty == 0 || tc > 100000)
        goto out;
    z = calloc(1, sizeof *z);
    if (z == NULL)
        goto out;
    snprintf(z->name, sizeof z->name, "%s", name);
    z->at = calloc((size_t)tc + 1, sizeof *z->at);
    z->off = calloc((size_t)tc + 1, sizeof *z->off);
    if (z->at == NULL || z->off == NULL) {
        free(z->at);
        free(z->off);
        free(z);
        z = NULL;
        goto out;
    }
    z->first_off = (int64_t)(int32_t)be32(info) * 1000;
    for (uint32_t i = 0; i < ty; i++) /* before any transition: the first standard-time type */
        if (info[i * 6 + 4] == 0) {
            z->first_off = (int64_t)(int32_t)be32(info + i * 6) * 1000;
            break;
        }
    for (uint32_t i = 0; i < tc; i++) {
        uint64_t t = (uint64_t)be32(trans + i * 8) << 32 | be32(trans + i * 8 + 4);
        uint8_t k = idx[i] < ty ? idx[i] : 0;
        z->at[i] = (int64_t)t;
        z->off[i] = (int64_t)(int32_t)be32(info + (size_t)k * 6) * 1000;
    }
    z->ntrans = (int32_t)tc;
out:
    free(d);
    return z;
}

const wr_tz *
wr_tz_get(const char *name)
{
    static wr_tz utc = {.name = "UTC"};
    int64_t off;
    if (name == NULL || *name == 0)
        return &utc;
    pthread_mutex_lock(&tz_mu);
    wr_tz *found = NULL;
    for (int i = 0; i < tz_count && found == NULL; i++)
        if (strcmp(tz_cache[i]->name, name) == 0)
            found = tz_cache[i];
    if (found == NULL) {
        if (fixed_offset(name, &off)) {
            found = calloc(1, sizeof *found);
            if (found != NULL) {
                snprintf(found->name, sizeof found->name, "%s", name);
                found->fixed = off;
            }
        } else {
            found = load_tzif(name);
        }
        /* cached for the life of the process; a full cache just stops caching */
        if (found != NULL && tz_count < (int)(sizeof tz_cache / sizeof tz_cache[0]))
            tz_cache[tz_count++] = found;
    }
    pthread_mutex_unlock(&tz_mu);
    return found;
}

int64_t
wr_tz_offset(const wr_tz *z, int64_t utc_ms)
{
    if (z->ntrans == 0)
        return z->fixed;
    int64_t t = utc_ms / 1000 - (utc_ms % 1000 < 0); /* seconds, rounded down */
    if (t < z->at[0])
        return z->first_off;
    int32_t lo = 0, hi = z->ntrans - 1; /* the last transition at or before t */
    while (lo < hi) {
        int32_t mid = (lo + hi + 1) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return z->off[lo];
}

int64_t
wr_tz_offset_local(const wr_tz *z, int64_t local_ms)
{
    int64_t o1 = wr_tz_offset(z, local_ms), u1, u2;
    if (__builtin_sub_overflow(local_ms, o1, &u1)) /* at the ends of int64_t: no other guess */
        return o1;
    int64_t o2 = wr_tz_offset(z, u1);
    if (o1 == o2 || __builtin_sub_overflow(local_ms, o2, &u2))
        return o1;
    return wr_tz_offset(z, u2);
}

static const char *MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *DAYS[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};

static bool
format_java(wr_buf *b, int64_t ms, int64_t off, const char *pat)
{
    int64_t days = wr_days_of_ms(ms);
    int64_t rem = wr_ms_of_day(ms), y;
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
wr_time_format(wr_buf *b, int64_t ms, const wr_tz *z, const char *pattern)
{
    int64_t off = z ? wr_tz_offset(z, ms) : 0, local;
    if (__builtin_add_overflow(ms, off, &local)) /* beyond the ms an int64_t holds */
        return false;
    return format_java(b, local, off, pattern);
}

bool
wr_time_parse(const char *text, const char *pattern, const wr_tz *z, int64_t *ms)
{
    int64_t zoff = 0;
    bool had = false;
    if (!parse_java(text, pattern, ms, &zoff, &had))
        return false;
    /* an offset in the text wins over the zone given */
    *ms -= had ? zoff : z ? wr_tz_offset_local(z, *ms) : 0;
    return true;
}

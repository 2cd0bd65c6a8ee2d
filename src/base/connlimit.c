/*
 * connlimit.c - connection counts per client address (connlimit.h): a chained hash table of
 * 16-byte addresses (IPv4 as IPv4-mapped IPv6), an entry kept while it has connections or an
 * override.
 */
#include "src/base/connlimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/hash.h"

struct wr_connlimit_ip {
    wr_connlimit_ip *next;
    uint8_t addr[16];
    int count;
    int limit; /* -1: max_per_ip; else the override */
};

#define NBUCKETS 1024

/* sa's address as 16 bytes; false for a family without one. */
static bool
addr16(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

static wr_connlimit_ip **
find(const wr_connlimit *l, const uint8_t a[16])
{
    wr_connlimit_ip **pp = &l->buckets[wr_fnv1a64(a, 16) % l->nbuckets];
    while (*pp != NULL && memcmp((*pp)->addr, a, 16) != 0)
        pp = &(*pp)->next;
    return pp;
}

static wr_connlimit_ip *
get(wr_connlimit *l, const uint8_t a[16])
{
    wr_connlimit_ip **pp = find(l, a);
    if (*pp == NULL) {
        wr_connlimit_ip *e = calloc(1, sizeof *e);
        if (e == NULL)
            return NULL;
        memcpy(e->addr, a, 16);
        e->limit = -1;
        *pp = e;
    }
    return *pp;
}

static int
add_override(wr_connlimit *l, const char *entry, size_t len, wr_err *err)
{
    char buf[80];
    const char *colon = len < sizeof buf ? memrchr(entry, ':', len) : NULL;
    if (colon == NULL)
        return wr_err_set(err, WR_EINVAL,
                          "max.connections.per.ip.overrides: bad entry '%.*s' (want ADDR:N)",
                          (int)(len > 60 ? 60 : len), entry);
    memcpy(buf, entry, (size_t)(colon - entry));
    buf[colon - entry] = '\0';
    char *ip = buf;
    size_t iplen = strlen(ip);
    if (iplen >= 2 && ip[0] == '[' && ip[iplen - 1] == ']') {
        ip[iplen - 1] = '\0';
        ip++;
    }
    char num[24];
    size_t nl = len - (size_t)(colon + 1 - entry);
    char *end = NULL;
    long n = -1;
    if (nl > 0 && nl < sizeof num) {
        memcpy(num, colon + 1, nl);
        num[nl] = '\0';
        n = strtol(num, &end, 10);
    }
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    const struct sockaddr *sa = NULL;
    if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1)
        sa = (const struct sockaddr *)&s4;
    else if (inet_pton(AF_INET6, ip, &s6.sin6_addr) == 1)
        sa = (const struct sockaddr *)&s6;
    if (sa == NULL || end == NULL || *end != '\0' || n < 0 || n > 1000000000)
        return wr_err_set(err, WR_EINVAL,
                          "max.connections.per.ip.overrides: bad entry '%.*s' (want an IP "
                          "address and a count, e.g. 127.0.0.1:200)",
                          (int)(len > 60 ? 60 : len), entry);
    uint8_t a[16];
    addr16(sa, a);
    wr_connlimit_ip *e = get(l, a);
    if (e == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    e->limit = (int)n;
    return WR_OK;
}

int
wr_connlimit_init(wr_connlimit *l, int max, int max_per_ip, const char *overrides, wr_err *err)
{
    *l = (wr_connlimit){.max = max > 0 ? max : 0, .max_per_ip = max_per_ip > 0 ? max_per_ip : 0};
    l->buckets = calloc(NBUCKETS, sizeof *l->buckets);
    if (l->buckets == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    l->nbuckets = NBUCKETS;
    const char *p = overrides != NULL ? overrides : "";
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n > 0) {
            int rc = add_override(l, p, n, err);
            if (rc != WR_OK) {
                wr_connlimit_free(l);
                return rc;
            }
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return WR_OK;
}

void
wr_connlimit_free(wr_connlimit *l)
{
    if (l == NULL || l->buckets == NULL)
        return;
    for (size_t i = 0; i < l->nbuckets; i++) {
        while (l->buckets[i] != NULL) {
            wr_connlimit_ip *e = l->buckets[i];
            l->buckets[i] = e->next;
            free(e);
        }
    }
    free(l->buckets);
    l->buckets = NULL;
}

int
wr_connlimit_admit(wr_connlimit *l, const struct sockaddr *sa)
{
    if (l->max > 0 && l->total >= l->max)
        return WR_CONNLIMIT_TOTAL;
    uint8_t a[16];
    if (!addr16(sa, a)) {
        l->total++;
        return WR_CONNLIMIT_OK;
    }
    wr_connlimit_ip **pp = find(l, a);
    int limit = *pp != NULL && (*pp)->limit >= 0 ? (*pp)->limit : l->max_per_ip;
    bool bounded = (*pp != NULL && (*pp)->limit >= 0) || l->max_per_ip > 0;
    if (bounded && (*pp != NULL ? (*pp)->count : 0) >= limit)
        return WR_CONNLIMIT_PER_IP;
    wr_connlimit_ip *e = get(l, a);
    if (e != NULL)
        e->count++; /* out of memory: counted in the total only */
    l->total++;
    return WR_CONNLIMIT_OK;
}

void
wr_connlimit_leave(wr_connlimit *l, const struct sockaddr *sa)
{
    l->total--;
    uint8_t a[16];
    if (!addr16(sa, a))
        return;
    wr_connlimit_ip **pp = find(l, a);
    wr_connlimit_ip *e = *pp;
    if (e == NULL || e->count == 0)
        return;
    if (--e->count == 0 && e->limit < 0) {
        *pp = e->next;
        free(e);
    }
}

int
wr_connlimit_count(const wr_connlimit *l, const struct sockaddr *sa)
{
    uint8_t a[16];
    if (!addr16(sa, a))
        return 0;
    wr_connlimit_ip *const *pp = find(l, a);
    return *pp != NULL ? (*pp)->count : 0;
}

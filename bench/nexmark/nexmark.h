/*
 * nexmark.h - the Nexmark event generator: Person, Auction and Bid events in the reference
 * model of Apache Beam's sdks/java/testing/nexmark (Generator, GeneratorConfig, PersonGenerator,
 * AuctionGenerator, BidGenerator, PriceGenerator, StringsGenerator), written as JSON records.
 *
 * Invariants, as in the reference:
 * - event n (0-based, one generator, no out-of-order groups) has id n; n % 50 < 1 is a Person,
 *   < 4 an Auction, else a Bid: the 1:3:46 proportions;
 * - its event time is base_time + n * delay_us / 1000, delay_us = round(1e6 / rate);
 * - its fields come from java.util.Random seeded with the event id (xor'd with seed, 0 = the
 *   reference's sequence), drawn in the reference's order, so that person, auction and bid
 *   fields (ids, hot sellers/bidders/auctions, prices, strings, expiry, extra) equal Beam's for
 *   the same event id and time.
 * - Bids also carry Flink-Nexmark's channel and url (4 hot channels half the time, else one of
 *   10,000 channels with a url of its own), drawn after the reference fields so that those stay
 *   Beam's; the per-channel and hot urls come from java.util.Random seeded with the channel
 *   number (the reference draws them from an unseeded Random, which no fixed seed reproduces).
 *
 * Header-only: bench/nexmark/gen.c and bench/nexmark/nexmark.c include it. No allocation; an
 * nx_event's strings live in the event itself.
 */
#ifndef WR_BENCH_NEXMARK_NEXMARK_H
#define WR_BENCH_NEXMARK_NEXMARK_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference's constants (GeneratorConfig, *Generator). */
#define NX_FIRST_AUCTION_ID   1000
#define NX_FIRST_PERSON_ID    1000
#define NX_FIRST_CATEGORY_ID  10
#define NX_PERSON_PROPORTION  1
#define NX_AUCTION_PROPORTION 3
#define NX_BID_PROPORTION     46
#define NX_PROPORTION_DENOM   (NX_PERSON_PROPORTION + NX_AUCTION_PROPORTION + NX_BID_PROPORTION)
#define NX_PERSON_ID_LEAD     10
#define NX_AUCTION_ID_LEAD    10
#define NX_NUM_CATEGORIES     5
#define NX_HOT_SELLER_RATIO   100
#define NX_HOT_AUCTION_RATIO  100
#define NX_HOT_BIDDER_RATIO   100
#define NX_HOT_CHANNELS_RATIO 2
#define NX_CHANNELS_NUMBER    10000

/* NexmarkConfiguration's defaults, and the rate and base time of event time. */
typedef struct nx_config {
    long rate;                  /* events per second of event time (firstEventRate: 10,000) */
    int64_t base_time;          /* event time of event 0, ms since the epoch */
    uint64_t seed;              /* xor'd into every event's seed; 0 = the reference's events */
    int num_active_people;      /* 1000 */
    int num_in_flight_auctions; /* 100 */
    int hot_auction_ratio;      /* 2 */
    int hot_bidders_ratio;      /* 4 */
    int hot_sellers_ratio;      /* 4 */
    int avg_person_bytes;       /* 200 */
    int avg_auction_bytes;      /* 500 */
    int avg_bid_bytes;          /* 100 */
} nx_config;

static inline nx_config
nx_config_default(void)
{
    return (nx_config){.rate = 10000,
                       .base_time = 0,
                       .seed = 0,
                       .num_active_people = 1000,
                       .num_in_flight_auctions = 100,
                       .hot_auction_ratio = 2,
                       .hot_bidders_ratio = 4,
                       .hot_sellers_ratio = 4,
                       .avg_person_bytes = 200,
                       .avg_auction_bytes = 500,
                       .avg_bid_bytes = 100};
}

typedef enum nx_kind { NX_PERSON, NX_AUCTION, NX_BID } nx_kind;

/* One event; the strings are NUL-terminated, sized for the reference's largest values. */
typedef struct nx_event {
    nx_kind kind;
    int64_t date_time;
    union {
        struct {
            int64_t id;
            char name[32], email[48], credit_card[24], city[16], state[4], extra[256];
        } person;
        struct {
            int64_t id, initial_bid, reserve, expires, seller, category;
            char item_name[24], description[104], extra[512];
        } auction;
        struct {
            int64_t auction, bidder, price;
            char channel[24], url[128], extra[128];
        } bid;
    } u;
} nx_event;

/* ---- java.util.Random ---------------------------------------------------------------- */

typedef struct nx_rand {
    uint64_t seed;
} nx_rand;

static inline void
nx_rand_init(nx_rand *r, int64_t seed)
{
    r->seed = ((uint64_t)seed ^ 0x5DEECE66DULL) & ((1ULL << 48) - 1);
}

static inline int32_t
nx_rand_next(nx_rand *r, int bits)
{
    r->seed = (r->seed * 0x5DEECE66DULL + 0xBULL) & ((1ULL << 48) - 1);
    return (int32_t)(int64_t)(r->seed >> (48 - bits));
}

static inline int32_t
nx_rand_int(nx_rand *r)
{
    return nx_rand_next(r, 32);
}

/* nextInt(bound), bound > 0. */
static inline int32_t
nx_rand_below(nx_rand *r, int32_t bound)
{
    int32_t x = nx_rand_next(r, 31), m = bound - 1;
    if ((bound & m) == 0)
        return (int32_t)(((int64_t)bound * (int64_t)x) >> 31);
    for (int32_t u = x; (int32_t)((uint32_t)u - (uint32_t)(x = u % bound) + (uint32_t)m) < 0;
         u = nx_rand_next(r, 31))
        ;
    return x;
}

static inline int64_t
nx_rand_long(nx_rand *r)
{
    return (int64_t)((uint64_t)(int64_t)nx_rand_next(r, 32) << 32) + nx_rand_next(r, 32);
}

static inline double
nx_rand_double(nx_rand *r)
{
    int64_t hi = nx_rand_next(r, 26), lo = nx_rand_next(r, 27);
    return (double)((hi << 27) + lo) * 0x1.0p-53;
}

/* LongGenerator.nextLong: [0, n). */
static inline int64_t
nx_next_long(nx_rand *r, int64_t n)
{
    if (n < INT32_MAX)
        return nx_rand_below(r, (int32_t)n);
    int64_t v = nx_rand_long(r) % n;
    return v < 0 ? -v : v;
}

/* ---- strings (StringsGenerator) -------------------------------------------------------- */

/* nextString(random, max_len, special): 3 .. max_len - 1 characters, trimmed; returns length. */
static inline int
nx_next_string(nx_rand *r, int max_len, char special, char *out)
{
    int len = 3 + nx_rand_below(r, max_len - 3), n = 0;
    while (len-- > 0)
        out[n++] = nx_rand_below(r, 13) == 0 ? special : (char)('a' + nx_rand_below(r, 26));
    int b = 0;
    while (b < n && out[b] == ' ')
        b++;
    while (n > b && out[n - 1] == ' ')
        n--;
    memmove(out, out + b, (size_t)(n - b));
    out[n - b] = 0;
    return n - b;
}

/* nextExactString: Java's signed remainder, so characters run from 'H' to 'z'. */
static inline void
nx_next_exact_string(nx_rand *r, int len, char *out)
{
    int32_t rnd = 0;
    int n = 0, i = 0;
    while (len-- > 0) {
        if (n == 0) {
            rnd = nx_rand_int(r);
            n = 6;
        }
        out[i++] = (char)('a' + rnd % 26);
        rnd /= 26;
        n--;
    }
    out[i] = 0;
}

/* nextExtra: a string making the event about avg bytes on average. */
static inline void
nx_next_extra(nx_rand *r, int current, int avg, char *out, size_t cap)
{
    out[0] = 0;
    if (current > avg)
        return;
    avg -= current;
    int delta = (int)floor(avg * 0.2 + 0.5);
    int size = avg - delta + (delta == 0 ? 0 : nx_rand_below(r, 2 * delta));
    if ((size_t)size >= cap)
        size = (int)cap - 1;
    nx_next_exact_string(r, size, out);
}

/* PriceGenerator.nextPrice: cents, log-uniform over 1 .. 1,000,000 dollars. */
static inline int64_t
nx_next_price(nx_rand *r)
{
    return (int64_t)floor(pow(10.0, nx_rand_double(r) * 6.0) * 100.0 + 0.5);
}

/* ---- ids ------------------------------------------------------------------------------ */

static inline int64_t
nx_last_base0_person_id(int64_t event_id)
{
    int64_t epoch = event_id / NX_PROPORTION_DENOM, offset = event_id % NX_PROPORTION_DENOM;
    if (offset >= NX_PERSON_PROPORTION)
        offset = NX_PERSON_PROPORTION - 1;
    return epoch * NX_PERSON_PROPORTION + offset;
}

static inline int64_t
nx_next_base0_person_id(const nx_config *c, int64_t event_id, nx_rand *r)
{
    int64_t num_people = nx_last_base0_person_id(event_id) + 1;
    int64_t active = num_people < c->num_active_people ? num_people : c->num_active_people;
    return num_people - active + nx_next_long(r, active + NX_PERSON_ID_LEAD);
}

static inline int64_t
nx_last_base0_auction_id(int64_t event_id)
{
    int64_t epoch = event_id / NX_PROPORTION_DENOM, offset = event_id % NX_PROPORTION_DENOM;
    if (offset < NX_PERSON_PROPORTION) {
        epoch--;
        offset = NX_AUCTION_PROPORTION - 1;
    } else if (offset >= NX_PERSON_PROPORTION + NX_AUCTION_PROPORTION) {
        offset = NX_AUCTION_PROPORTION - 1;
    } else {
        offset -= NX_PERSON_PROPORTION;
    }
    return epoch * NX_AUCTION_PROPORTION + offset;
}

static inline int64_t
nx_next_base0_auction_id(const nx_config *c, int64_t event_id, nx_rand *r)
{
    int64_t max = nx_last_base0_auction_id(event_id);
    int64_t min = max - c->num_in_flight_auctions > 0 ? max - c->num_in_flight_auctions : 0;
    return min + nx_next_long(r, max - min + 1 + NX_AUCTION_ID_LEAD);
}

/* ---- time (GeneratorConfig.timestampAndInterEventDelayUsForEvent, one rate) ------------- */

static inline int64_t
nx_delay_us(const nx_config *c)
{
    return (1000000 + c->rate / 2) / c->rate;
}

static inline int64_t
nx_event_time(const nx_config *c, int64_t event_number)
{
    return c->base_time + event_number * nx_delay_us(c) / 1000;
}

/* The longest auction the generator makes, in ms (nextAuctionLengthMs's bound): how far after
   an auction its bids can come. */
static inline int64_t
nx_max_auction_ms(const nx_config *c)
{
    int64_t events =
        (int64_t)c->num_in_flight_auctions * NX_PROPORTION_DENOM / NX_AUCTION_PROPORTION;
    return 2 * (nx_event_time(c, events) - c->base_time) + 1;
}

/* ---- events ----------------------------------------------------------------------------- */

static const char *const nx_states[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
static const char *const nx_cities[] = {"Phoenix",  "Los Angeles", "San Francisco", "Boise",
                                        "Portland", "Bend",        "Redmond",       "Seattle",
                                        "Kent",     "Cheyenne"};
static const char *const nx_first_names[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                             "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
static const char *const nx_last_names[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                            "Walton", "Smith",  "Jones",   "Noris"};
static const char *const nx_hot_channels[] = {"Google", "Facebook", "Baidu", "Apple"};

#define NX_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static inline void
nx_person(const nx_config *c, int64_t id, nx_rand *r, nx_event *e)
{
    e->kind = NX_PERSON;
    e->u.person.id = nx_last_base0_person_id(id) + NX_FIRST_PERSON_ID;
    snprintf(e->u.person.name, sizeof e->u.person.name, "%s %s",
             nx_first_names[nx_rand_below(r, NX_COUNT(nx_first_names))],
             nx_last_names[nx_rand_below(r, NX_COUNT(nx_last_names))]);
    char a[16], b[16];
    nx_next_string(r, 7, ' ', a);
    nx_next_string(r, 5, ' ', b);
    snprintf(e->u.person.email, sizeof e->u.person.email, "%s@%s.com", a, b);
    int n = 0;
    for (int i = 0; i < 4; i++)
        n += snprintf(e->u.person.credit_card + n, sizeof e->u.person.credit_card - (size_t)n,
                      i ? " %04d" : "%04d", nx_rand_below(r, 10000));
    strcpy(e->u.person.city, nx_cities[nx_rand_below(r, NX_COUNT(nx_cities))]);
    strcpy(e->u.person.state, nx_states[nx_rand_below(r, NX_COUNT(nx_states))]);
    int size = 8 + (int)(strlen(e->u.person.name) + strlen(e->u.person.email) +
                         strlen(e->u.person.credit_card) + strlen(e->u.person.city) +
                         strlen(e->u.person.state));
    nx_next_extra(r, size, c->avg_person_bytes, e->u.person.extra, sizeof e->u.person.extra);
}

static inline void
nx_auction(const nx_config *c, int64_t id, nx_rand *r, nx_event *e)
{
    e->kind = NX_AUCTION;
    e->u.auction.id = nx_last_base0_auction_id(id) + NX_FIRST_AUCTION_ID;
    int64_t seller;
    if (nx_rand_below(r, c->hot_sellers_ratio) > 0)
        seller = nx_last_base0_person_id(id) / NX_HOT_SELLER_RATIO * NX_HOT_SELLER_RATIO;
    else
        seller = nx_next_base0_person_id(c, id, r);
    e->u.auction.seller = seller + NX_FIRST_PERSON_ID;
    e->u.auction.category = NX_FIRST_CATEGORY_ID + nx_rand_below(r, NX_NUM_CATEGORIES);
    e->u.auction.initial_bid = nx_next_price(r);
    /* nextAuctionLengthMs: the horizon is when the auction num_in_flight_auctions ahead comes */
    int64_t ahead =
        (int64_t)c->num_in_flight_auctions * NX_PROPORTION_DENOM / NX_AUCTION_PROPORTION;
    int64_t horizon = nx_event_time(c, id + ahead) - e->date_time;
    e->u.auction.expires = e->date_time + 1 + nx_next_long(r, horizon * 2 > 1 ? horizon * 2 : 1);
    int nl = nx_next_string(r, 20, ' ', e->u.auction.item_name);
    int dl = nx_next_string(r, 100, ' ', e->u.auction.description);
    e->u.auction.reserve = e->u.auction.initial_bid + nx_next_price(r);
    nx_next_extra(r, 8 + nl + dl + 8 + 8 + 8 + 8 + 8, c->avg_auction_bytes, e->u.auction.extra,
                  sizeof e->u.auction.extra);
}

/* The url of a channel: three random path segments, and usually the channel's id. */
static inline void
nx_channel_url(int32_t channel, bool with_id, char *out, size_t cap)
{
    nx_rand r;
    nx_rand_init(&r, channel);
    char p[3][8];
    for (int i = 0; i < 3; i++)
        nx_next_string(&r, 5, '_', p[i]);
    int n =
        snprintf(out, cap, "https://www.nexmark.com/%s/%s/%s/item.htm?query=1", p[0], p[1], p[2]);
    if (with_id && nx_rand_below(&r, 10) > 0) {
        uint32_t v = (uint32_t)channel, rev = 0;
        for (int i = 0; i < 32; i++, v >>= 1)
            rev = (rev << 1) | (v & 1);
        int32_t s = (int32_t)rev; /* Math.abs(Integer.reverse(channel)): MIN_VALUE stays */
        snprintf(out + n, cap - (size_t)n, "&channel_id=%ld",
                 s == INT32_MIN ? (long)s : labs((long)s));
    }
}

static inline void
nx_bid(const nx_config *c, int64_t id, nx_rand *r, nx_event *e)
{
    e->kind = NX_BID;
    int64_t auction, bidder;
    if (nx_rand_below(r, c->hot_auction_ratio) > 0)
        auction = nx_last_base0_auction_id(id) / NX_HOT_AUCTION_RATIO * NX_HOT_AUCTION_RATIO;
    else
        auction = nx_next_base0_auction_id(c, id, r);
    e->u.bid.auction = auction + NX_FIRST_AUCTION_ID;
    if (nx_rand_below(r, c->hot_bidders_ratio) > 0)
        bidder = nx_last_base0_person_id(id) / NX_HOT_BIDDER_RATIO * NX_HOT_BIDDER_RATIO + 1;
    else
        bidder = nx_next_base0_person_id(c, id, r);
    e->u.bid.bidder = bidder + NX_FIRST_PERSON_ID;
    e->u.bid.price = nx_next_price(r);
    nx_next_extra(r, 8 + 8 + 8 + 8, c->avg_bid_bytes, e->u.bid.extra, sizeof e->u.bid.extra);
    /* Flink-Nexmark's channel and url, after the reference's fields */
    if (nx_rand_below(r, NX_HOT_CHANNELS_RATIO) > 0) {
        int i = nx_rand_below(r, NX_COUNT(nx_hot_channels));
        strcpy(e->u.bid.channel, nx_hot_channels[i]);
        nx_channel_url(-1 - i, false, e->u.bid.url, sizeof e->u.bid.url);
    } else {
        int32_t ch = nx_rand_below(r, NX_CHANNELS_NUMBER);
        snprintf(e->u.bid.channel, sizeof e->u.bid.channel, "channel-%d", ch);
        nx_channel_url(ch, true, e->u.bid.url, sizeof e->u.bid.url);
    }
}

/* Event number n (its id: one generator, first event id 0). */
static inline void
nx_event_make(const nx_config *c, int64_t n, nx_event *e)
{
    nx_rand r;
    nx_rand_init(&r, (int64_t)((uint64_t)n ^ c->seed));
    e->date_time = nx_event_time(c, n);
    int64_t rem = n % NX_PROPORTION_DENOM;
    if (rem < NX_PERSON_PROPORTION)
        nx_person(c, n, &r, e);
    else if (rem < NX_PERSON_PROPORTION + NX_AUCTION_PROPORTION)
        nx_auction(c, n, &r, e);
    else
        nx_bid(c, n, &r, e);
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* The topic of each kind, and the record key: person and auction by id, bid by auction. */
static const char *const nx_topics[] = {"person", "auction", "bid"};

static inline int64_t
nx_event_key(const nx_event *e)
{
    return e->kind == NX_PERSON    ? e->u.person.id
           : e->kind == NX_AUCTION ? e->u.auction.id
                                   : e->u.bid.auction;
}

/* s as a JSON string (generated text has no quotes or controls; extras can hold '\'). */
static inline int
nx_json_str(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    if (n < cap)
        out[n] = '"';
    n++;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            if (n < cap)
                out[n] = '\\';
            n++;
        }
        if (n < cap)
            out[n] = *s;
        n++;
    }
    if (n < cap)
        out[n] = '"';
    n++;
    if (n < cap)
        out[n] = 0;
    return (int)n;
}

/* The event's record value, in the reference's field names; returns its length (as snprintf:
   the value is cut at cap, which 1 KiB never reaches). */
static inline int
nx_event_json(const nx_event *e, char *out, size_t cap)
{
    char a[64], b[1100], x[600];
    switch (e->kind) {
    case NX_PERSON:
        nx_json_str(a, sizeof a, e->u.person.name);
        nx_json_str(b, sizeof b, e->u.person.email);
        nx_json_str(x, sizeof x, e->u.person.extra);
        return snprintf(out, cap,
                        "{\"id\":%lld,\"name\":%s,\"emailAddress\":%s,\"creditCard\":\"%s\","
                        "\"city\":\"%s\",\"state\":\"%s\",\"dateTime\":%lld,\"extra\":%s}",
                        (long long)e->u.person.id, a, b, e->u.person.credit_card, e->u.person.city,
                        e->u.person.state, (long long)e->date_time, x);
    case NX_AUCTION:
        nx_json_str(a, sizeof a, e->u.auction.item_name);
        nx_json_str(b, sizeof b, e->u.auction.description);
        nx_json_str(x, sizeof x, e->u.auction.extra);
        return snprintf(out, cap,
                        "{\"id\":%lld,\"itemName\":%s,\"description\":%s,\"initialBid\":%lld,"
                        "\"reserve\":%lld,\"dateTime\":%lld,\"expires\":%lld,\"seller\":%lld,"
                        "\"category\":%lld,\"extra\":%s}",
                        (long long)e->u.auction.id, a, b, (long long)e->u.auction.initial_bid,
                        (long long)e->u.auction.reserve, (long long)e->date_time,
                        (long long)e->u.auction.expires, (long long)e->u.auction.seller,
                        (long long)e->u.auction.category, x);
    default:
        nx_json_str(b, sizeof b, e->u.bid.url);
        nx_json_str(x, sizeof x, e->u.bid.extra);
        return snprintf(out, cap,
                        "{\"auction\":%lld,\"bidder\":%lld,\"price\":%lld,\"channel\":\"%s\","
                        "\"url\":%s,\"dateTime\":%lld,\"extra\":%s}",
                        (long long)e->u.bid.auction, (long long)e->u.bid.bidder,
                        (long long)e->u.bid.price, e->u.bid.channel, b, (long long)e->date_time, x);
    }
}

/* The side input of q13: key k (0 .. rows-1) and its value. */
static inline int
nx_side_json(long k, char *out, size_t cap)
{
    return snprintf(out, cap, "{\"key\":%ld,\"value\":\"side-%ld\"}", k, k);
}

#endif

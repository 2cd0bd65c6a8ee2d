/*
 * kgroup.c - an interim consumer-group coordinator inside the broker, and the group API handlers:
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups,
 * DescribeGroups, DeleteGroups, OffsetDelete.
 *
 * Why here: the real coordinator (src/coord/group.{h,c}) had not landed when the broker needed
 * consumer groups; this file keeps the classic (eager) protocol small and self-contained so that
 * it can be replaced by an adapter over src/coord without touching the rest of the broker.
 *
 * The state machine is Kafka's: Empty -> PreparingRebalance (members (re)join; the phase ends
 * when every known member has rejoined, or at the rebalance deadline, dropping the rest; a group
 * that starts from empty waits WR_KGROUP_INITIAL_DELAY_MS to gather members) ->
 * CompletingRebalance (generation + 1, leader chosen, the leader gets every member's metadata)
 * -> Stable (the leader's SyncGroup hands each member its assignment, kept verbatim for
 * DescribeGroups). Heartbeats answer REBALANCE_IN_PROGRESS while a rebalance is being prepared,
 * ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID for stale members; a member silent for its session
 * timeout is removed and a rebalance starts. JoinGroup v4+ without a member id gets one back
 * with MEMBER_ID_REQUIRED (KIP-394) and must join again with it; ids handed out that way are
 * remembered for the session timeout. Static members (group.instance.id, KIP-345): a rejoin
 * with an empty member id takes over the instance under a new member id, and the old id is
 * fenced: requests that carry the instance id with any other member id get FENCED_INSTANCE_ID,
 * so a zombie copy of a restarted instance cannot act for it. A static member that comes back
 * to a Stable group with protocols that keep the group's protocol gets the current generation
 * and keeps its assignment, with no rebalance (as Kafka does). A group holds at most
 * WR_KGROUP_MAX_MEMBERS members and pending ids (GROUP_MAX_SIZE_REACHED beyond).
 *
 * OffsetDelete follows Kafka: a live group that is not a consumer group is refused
 * (NON_EMPTY_GROUP); a consumer group keeps the offsets of topics in its members'
 * subscriptions (GROUP_SUBSCRIBED_TO_TOPIC) and deletes the rest.
 *
 * Offsets are stored in the log's "group_offsets" meta table (key group\0topic\0partition(be32),
 * value offset(be64) leader-epoch(be32) metadata), so they survive a restart; membership does
 * not (members rejoin, as with Kafka after a coordinator move).
 *
 * Threads: the loop thread only. Ownership: groups own their members, members own copies of
 * their protocols and assignment; a parked JoinGroup/SyncGroup request is referenced by its
 * member and unlinks itself through on_free when its connection goes first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/logging.h"
#include "src/kafka/broker_int.h"
#include "src/log/log.h"

#define WR_KGROUP_INITIAL_DELAY_MS 500
#define WR_KGROUP_OFFSETS          WR_GROUP_OFFSETS_TABLE
#define WR_KGROUP_MAX_MEMBERS      4096 /* members + pending member ids, like group.max.size */

typedef enum gstate { G_EMPTY, G_PREPARING, G_COMPLETING, G_STABLE } gstate;
static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable"};

typedef struct kmember {
    struct kmember *next;
    char *id, *instance_id, *client_id, *client_host;
    int32_t session_ms, rebalance_ms;
    int32_t nprotos;
    char **proto_names;
    wr_kbytes *proto_meta; /* owned copies */
    uint8_t *assignment;
    int32_t assignment_len;
    int64_t last_seen_ms;
    wr_kreq *join_req, *sync_req;
    bool joined; /* rejoined in the current join phase */
} kmember;

/* A member id handed out with MEMBER_ID_REQUIRED (KIP-394), waiting for the JoinGroup that
   uses it; forgotten after the session timeout the client asked for. */
typedef struct kpending {
    struct kpending *next;
    char *id;
    int64_t expires_ms;
} kpending;

typedef struct kgroup {
    struct kgroup *next;
    char *id;
    kpending *pending;
    gstate state;
    int32_t generation;
    char *protocol_type, *protocol_name, *leader;
    kmember *members;
    int64_t join_deadline_ms;
    bool from_empty; /* the current join phase started from an empty group */
} kgroup;

struct wr_kgroups {
    wr_broker *b;
    kgroup *groups;
    uint64_t seq;
};

static void load_stored_groups(struct wr_kgroups *gs);

int
wr__kgroups_create(wr_broker *b, struct wr_kgroups **out)
{
    struct wr_kgroups *g = calloc(1, sizeof *g);
    if (g == NULL)
        return WR_ENOMEM;
    g->b = b;
    load_stored_groups(g);
    *out = g;
    return WR_OK;
}

static void
member_free(kmember *m)
{
    for (int32_t i = 0; i < m->nprotos; i++) {
        free(m->proto_names[i]);
        free((void *)m->proto_meta[i].p);
    }
    free(m->proto_names);
    free(m->proto_meta);
    free(m->assignment);
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m);
}

static void
group_free(kgroup *g)
{
    while (g->members != NULL) {
        kmember *m = g->members;
        g->members = m->next;
        member_free(m);
    }
    while (g->pending != NULL) {
        kpending *p = g->pending;
        g->pending = p->next;
        free(p->id);
        free(p);
    }
    free(g->id);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->leader);
    free(g);
}

void
wr__kgroups_destroy(struct wr_kgroups *gs)
{
    if (gs == NULL)
        return;
    while (gs->groups != NULL) {
        kgroup *g = gs->groups;
        gs->groups = g->next;
        group_free(g);
    }
    free(gs);
}

static char *
dupz(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static kgroup *
group_find(struct wr_kgroups *gs, const char *id)
{
    for (kgroup *g = gs->groups; g != NULL; g = g->next)
        if (strcmp(g->id, id) == 0)
            return g;
    return NULL;
}

static kgroup *
group_get(struct wr_kgroups *gs, const char *id)
{
    kgroup *g = group_find(gs, id);
    if (g != NULL)
        return g;
    g = calloc(1, sizeof *g);
    if (g == NULL || (g->id = strdup(id)) == NULL) {
        free(g);
        return NULL;
    }
    g->next = gs->groups;
    gs->groups = g;
    return g;
}

static int
stored_group_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    struct wr_kgroups *gs = arg;
    if (memchr(key, 0, klen) != NULL && group_get(gs, key) == NULL)
        return 1; /* out of memory: stop */
    return 0;
}

/* Groups that only have committed offsets exist as Empty groups after a restart, as Kafka
   loads them from __consumer_offsets (ListGroups and DescribeGroups show them). */
static void
load_stored_groups(struct wr_kgroups *gs)
{
    wr_err err = {0};
    if (wr_log_meta_scan(gs->b->db, WR_KGROUP_OFFSETS, NULL, 0, stored_group_cb, gs, &err) != WR_OK)
        wr_log(WR_LOG_WARN, "group", "cannot load stored groups: %s", err.msg);
}

static kmember *
member_find(kgroup *g, const char *id)
{
    for (kmember *m = g->members; m != NULL; m = m->next)
        if (strcmp(m->id, id) == 0)
            return m;
    return NULL;
}

/* Finds the member a request speaks for. With an instance id the static member of that id must
   hold member_id, else the caller is a fenced zombie (KIP-345). Returns a Kafka error code. */
static int16_t
member_check(kgroup *g, const char *member_id, const char *instance_id, kmember **out)
{
    *out = NULL;
    if (g == NULL)
        return WR_KERR_UNKNOWN_MEMBER_ID;
    if (instance_id != NULL) {
        for (kmember *o = g->members; o != NULL; o = o->next) {
            if (o->instance_id != NULL && strcmp(o->instance_id, instance_id) == 0) {
                if (member_id == NULL || strcmp(o->id, member_id) != 0)
                    return WR_KERR_FENCED_INSTANCE_ID;
                *out = o;
                return WR_KERR_NONE;
            }
        }
    }
    *out = member_id ? member_find(g, member_id) : NULL;
    return *out ? WR_KERR_NONE : WR_KERR_UNKNOWN_MEMBER_ID;
}

static int32_t
member_count(kgroup *g)
{
    int32_t n = 0;
    for (kmember *m = g->members; m != NULL; m = m->next)
        n++;
    return n;
}

/* ---- parked requests ------------------------------------------------------------------- */

static void
parked_freed(wr_kreq *r)
{
    kmember *m = r->holder;
    if (m == NULL)
        return;
    if (m->join_req == r)
        m->join_req = NULL;
    if (m->sync_req == r)
        m->sync_req = NULL;
}

static void
park(wr_kreq *r, kmember *m, wr_kreq **slot)
{
    *slot = r;
    r->holder = m;
    r->on_free = parked_freed;
}

/* Detaches and finishes a parked request (its response must be filled first). */
static void
unpark_finish(wr_kreq **slot)
{
    wr_kreq *r = *slot;
    if (r == NULL)
        return;
    *slot = NULL;
    r->holder = NULL;
    r->on_free = NULL;
    wr__kreq_finish(r);
}

static void
fail_join(kmember *m, int16_t code)
{
    if (m->join_req == NULL)
        return;
    wr_kp_join_group_resp *s = m->join_req->resp;
    s->error_code = code;
    s->member_id = wr_kstr_of(wr_arena_strdup(m->join_req->arena, m->id));
    unpark_finish(&m->join_req);
}

static void
fail_sync(kmember *m, int16_t code)
{
    if (m->sync_req == NULL)
        return;
    ((wr_kp_sync_group_resp *)m->sync_req->resp)->error_code = code;
    unpark_finish(&m->sync_req);
}

/* ---- members and pending member ids ------------------------------------------------- */

static kmember *
static_find(kgroup *g, const char *instance_id)
{
    for (kmember *o = g->members; o != NULL; o = o->next)
        if (o->instance_id != NULL && strcmp(o->instance_id, instance_id) == 0)
            return o;
    return NULL;
}

static void
new_member_id(struct wr_kgroups *gs, wr_kreq *r, char *id, size_t cap)
{
    uint64_t seq = ++gs->seq;
    snprintf(id, cap, "%s-%llu-%016llx",
             r->hdr.client_id.s && *r->hdr.client_id.s ? r->hdr.client_id.s : "member",
             (unsigned long long)seq,
             (unsigned long long)((uint64_t)wr__kmono_ms() * 2654435761u ^ seq));
}

/* A static member coming back takes over under a new id; the old one is fenced. */
static bool
static_replace(kgroup *g, kmember *m, const char *id)
{
    char *nid = strdup(id);
    if (nid == NULL)
        return false;
    wr_log(WR_LOG_INFO, "group", "%s: static member %s rejoined as %s (was %s)", g->id,
           m->instance_id, nid, m->id);
    fail_join(m, WR_KERR_FENCED_INSTANCE_ID);
    fail_sync(m, WR_KERR_FENCED_INSTANCE_ID);
    if (g->leader != NULL && strcmp(g->leader, m->id) == 0) {
        free(g->leader);
        g->leader = strdup(nid);
    }
    free(m->id);
    m->id = nid;
    return true;
}

/* Appends a new member, so the first member to join stays first (leader choice). */
static kmember *
member_add(kgroup *g, const char *id, const char *instance_id)
{
    kmember *m = calloc(1, sizeof *m);
    if (m == NULL || (m->id = strdup(id)) == NULL) {
        free(m);
        return NULL;
    }
    m->instance_id = dupz(instance_id);
    kmember **pp = &g->members;
    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = m;
    return m;
}

static int32_t
pending_count(kgroup *g)
{
    int32_t n = 0;
    for (kpending *p = g->pending; p != NULL; p = p->next)
        n++;
    return n;
}

static bool
pending_add(kgroup *g, const char *id, int32_t session_ms)
{
    kpending *p = calloc(1, sizeof *p);
    if (p == NULL || (p->id = strdup(id)) == NULL) {
        free(p);
        return false;
    }
    p->expires_ms = wr__kmono_ms() + session_ms;
    p->next = g->pending;
    g->pending = p;
    return true;
}

/* Removes id from the pending list; true when it was there (and had not expired). */
static bool
pending_take(kgroup *g, const char *id)
{
    for (kpending **pp = &g->pending; *pp != NULL; pp = &(*pp)->next) {
        kpending *p = *pp;
        if (strcmp(p->id, id) == 0) {
            *pp = p->next;
            bool live = p->expires_ms >= wr__kmono_ms();
            free(p->id);
            free(p);
            return live;
        }
    }
    return false;
}

static void
pending_expire(kgroup *g, int64_t now)
{
    for (kpending **pp = &g->pending; *pp != NULL;) {
        kpending *p = *pp;
        if (p->expires_ms < now) {
            *pp = p->next;
            free(p->id);
            free(p);
        } else {
            pp = &p->next;
        }
    }
}

/* ---- state machine --------------------------------------------------------------------- */

static void complete_join(kgroup *g);

static void
maybe_complete_join(kgroup *g)
{
    if (g->state != G_PREPARING)
        return;
    if (g->from_empty && wr__kmono_ms() < g->join_deadline_ms)
        return;
    for (kmember *m = g->members; m != NULL; m = m->next)
        if (!m->joined)
            return;
    complete_join(g);
}

static void
start_rebalance(kgroup *g, const char *why)
{
    if (g->state == G_PREPARING) {
        maybe_complete_join(g);
        return;
    }
    bool from_empty = g->state == G_EMPTY;
    int64_t wait = 0;
    for (kmember *m = g->members; m != NULL; m = m->next) {
        m->joined = m->join_req != NULL;
        if (m->rebalance_ms > wait)
            wait = m->rebalance_ms;
        fail_sync(m, WR_KERR_REBALANCE_IN_PROGRESS);
    }
    g->state = G_PREPARING;
    g->from_empty = from_empty;
    g->join_deadline_ms = wr__kmono_ms() + (from_empty ? WR_KGROUP_INITIAL_DELAY_MS : wait);
    wr_log(WR_LOG_INFO, "group", "%s: preparing rebalance (generation %d): %s", g->id,
           g->generation, why);
    maybe_complete_join(g);
}

static void
remove_member(kgroup *g, kmember *m, const char *why)
{
    kmember **pp = &g->members;
    while (*pp != m)
        pp = &(*pp)->next;
    *pp = m->next;
    wr_log(WR_LOG_INFO, "group", "%s: member %s left (%s)", g->id, m->id, why);
    fail_join(m, WR_KERR_UNKNOWN_MEMBER_ID);
    fail_sync(m, WR_KERR_UNKNOWN_MEMBER_ID);
    member_free(m);
    if (g->members == NULL) {
        g->state = G_EMPTY;
        g->generation++;
        free(g->leader);
        g->leader = NULL;
        free(g->protocol_name);
        g->protocol_name = NULL;
        return;
    }
    start_rebalance(g, why);
}

static const wr_kbytes *
member_meta(kmember *m, const char *proto)
{
    for (int32_t i = 0; i < m->nprotos; i++)
        if (proto != NULL && strcmp(m->proto_names[i], proto) == 0)
            return &m->proto_meta[i];
    return NULL;
}

/* The leader's most preferred protocol that every member supports, or NULL. */
static const char *
choose_protocol(kgroup *g)
{
    kmember *leader = g->leader ? member_find(g, g->leader) : NULL;
    if (leader == NULL)
        return NULL;
    for (int32_t i = 0; i < leader->nprotos; i++) {
        bool all = true;
        for (kmember *m = g->members; m != NULL && all; m = m->next)
            all = member_meta(m, leader->proto_names[i]) != NULL;
        if (all)
            return leader->proto_names[i];
    }
    return NULL;
}

static void
complete_join(kgroup *g)
{
    /* members that did not rejoin in time are out */
    for (kmember *m = g->members, *next; m != NULL; m = next) {
        next = m->next;
        if (!m->joined) {
            kmember **pp = &g->members;
            while (*pp != m)
                pp = &(*pp)->next;
            *pp = next;
            wr_log(WR_LOG_INFO, "group", "%s: member %s did not rejoin; removed", g->id, m->id);
            fail_sync(m, WR_KERR_UNKNOWN_MEMBER_ID);
            member_free(m);
        }
    }
    if (g->members == NULL) {
        g->state = G_EMPTY;
        g->generation++;
        return;
    }
    if (g->leader == NULL || member_find(g, g->leader) == NULL) {
        free(g->leader);
        g->leader = strdup(g->members->id);
    }
    kmember *leader = member_find(g, g->leader);
    const char *chosen = choose_protocol(g);
    if (chosen == NULL) {
        for (kmember *m = g->members; m != NULL; m = m->next)
            fail_join(m, WR_KERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    free(g->protocol_name);
    g->protocol_name = strdup(chosen);
    g->generation++;
    g->state = G_COMPLETING;
    int32_t n = member_count(g);
    int64_t now = wr__kmono_ms();
    wr_log(WR_LOG_INFO, "group", "%s: generation %d with %d member(s), protocol %s, leader %s",
           g->id, g->generation, n, chosen, g->leader);
    for (kmember *m = g->members; m != NULL; m = m->next) {
        m->last_seen_ms = now;
        m->joined = false;
        if (m->join_req == NULL)
            continue;
        wr_kreq *r = m->join_req;
        wr_kp_join_group_resp *s = r->resp;
        s->error_code = 0;
        s->generation_id = g->generation;
        s->protocol_name = wr_kstr_of(wr_arena_strdup(r->arena, chosen));
        s->leader = wr_kstr_of(wr_arena_strdup(r->arena, g->leader));
        s->member_id = wr_kstr_of(wr_arena_strdup(r->arena, m->id));
        if (m == leader) {
            s->members.n = n;
            s->members.v =
                wr_kp_new_array(r->arena, &wr_kp_join_group_resp_join_group_response_member_desc, n,
                                r->hdr.api_version);
            int32_t i = 0;
            for (kmember *o = g->members; o != NULL; o = o->next, i++) {
                s->members.v[i].member_id = wr_kstr_of(wr_arena_strdup(r->arena, o->id));
                s->members.v[i].group_instance_id =
                    wr_kstr_of(o->instance_id ? wr_arena_strdup(r->arena, o->instance_id) : NULL);
                const wr_kbytes *meta = member_meta(o, chosen);
                s->members.v[i].metadata = *meta; /* encoded before the member can change */
            }
        }
        unpark_finish(&m->join_req);
    }
}

void
wr__kgroups_tick(struct wr_kgroups *gs)
{
    int64_t now = wr__kmono_ms();
    for (kgroup *g = gs->groups; g != NULL; g = g->next) {
        for (kmember *m = g->members, *next; m != NULL; m = next) {
            next = m->next;
            if (m->join_req == NULL && now - m->last_seen_ms > m->session_ms) {
                remove_member(g, m, "session timeout");
                next = g->members; /* the list may have changed: restart the scan */
                now = wr__kmono_ms();
            }
        }
        if (g->state == G_PREPARING && now >= g->join_deadline_ms)
            complete_join(g);
        pending_expire(g, now);
    }
}

/* ---- JoinGroup / SyncGroup / Heartbeat / LeaveGroup ------------------------------------ */

static bool
set_protocols(kmember *m, const wr_kp_join_group_req *q)
{
    for (int32_t i = 0; i < m->nprotos; i++) {
        free(m->proto_names[i]);
        free((void *)m->proto_meta[i].p);
    }
    free(m->proto_names);
    free(m->proto_meta);
    int32_t n = q->protocols.n;
    m->nprotos = 0;
    m->proto_names = calloc((size_t)n, sizeof *m->proto_names);
    m->proto_meta = calloc((size_t)n, sizeof *m->proto_meta);
    if (m->proto_names == NULL || m->proto_meta == NULL)
        return false;
    for (int32_t i = 0; i < n; i++) {
        const wr_kp_join_group_req_join_group_request_protocol *p = &q->protocols.v[i];
        int32_t len = p->metadata.len > 0 ? p->metadata.len : 0;
        uint8_t *copy = malloc(len > 0 ? (size_t)len : 1);
        m->proto_names[i] = strdup(p->name.s);
        if (copy == NULL || m->proto_names[i] == NULL) {
            free(copy);
            free(m->proto_names[i]);
            return false;
        }
        if (len > 0)
            memcpy(copy, p->metadata.p, (size_t)len);
        m->proto_meta[i] = (wr_kbytes){copy, len};
        m->nprotos++;
    }
    return true;
}

void
wr__kh_join_group(wr_kreq *r)
{
    struct wr_kgroups *gs = r->conn->b->groups;
    const wr_kp_join_group_req *q = r->body;
    wr_kp_join_group_resp *s = wr_kp_new(r->arena, &wr_kp_join_group_resp_desc, r->hdr.api_version);
    r->resp = s;
    s->member_id = q->member_id;
    s->protocol_name = wr_kstr_of("");
    if (q->group_id.len == 0) {
        s->error_code = WR_KERR_INVALID_GROUP_ID;
        goto done;
    }
    if (!wr__kauthz_str(r, WR_ACL_OP_READ, WR_ACL_RES_GROUP, q->group_id)) {
        s->error_code = WR_KERR_GROUP_AUTHORIZATION_FAILED;
        goto done;
    }
    if (q->session_timeout_ms < 1000 || q->session_timeout_ms > 3600000) {
        s->error_code = WR_KERR_INVALID_SESSION_TIMEOUT;
        goto done;
    }
    kgroup *g = group_get(gs, q->group_id.s);
    if (g == NULL) {
        s->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
        goto done;
    }
    if (q->protocols.n <= 0 || (g->members != NULL && g->protocol_type != NULL &&
                                strcmp(g->protocol_type, q->protocol_type.s) != 0)) {
        s->error_code = WR_KERR_INCONSISTENT_GROUP_PROTOCOL;
        goto done;
    }
    kmember *m = NULL;
    const char *inst = q->group_instance_id.s;
    bool static_rejoin = false;
    const char *old_leader = NULL; /* arena copy: the leader before a static member's rejoin */
    if (q->member_id.len == 0) {
        char id[300];
        new_member_id(gs, r, id, sizeof id);
        m = inst ? static_find(g, inst) : NULL;
        if (m != NULL) {
            old_leader = g->leader ? wr_arena_strdup(r->arena, g->leader) : NULL;
            if (!static_replace(g, m, id)) {
                s->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
                goto done;
            }
            static_rejoin = true;
        } else if (member_count(g) + pending_count(g) >= WR_KGROUP_MAX_MEMBERS) {
            s->error_code = WR_KERR_GROUP_MAX_SIZE_REACHED;
            goto done;
        } else if (r->hdr.api_version >= 4 && inst == NULL) {
            /* KIP-394: hand out the id first, so a client that times out and retries does not
               leave a ghost member behind for a whole session timeout */
            if (!pending_add(g, id, q->session_timeout_ms)) {
                s->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
                goto done;
            }
            s->member_id = wr_kstr_of(wr_arena_strdup(r->arena, id));
            s->error_code = WR_KERR_MEMBER_ID_REQUIRED;
            goto done;
        } else if ((m = member_add(g, id, inst)) == NULL) {
            s->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
            goto done;
        }
    } else {
        int16_t e = member_check(g, q->member_id.s, inst, &m);
        if (e == WR_KERR_UNKNOWN_MEMBER_ID && inst == NULL && pending_take(g, q->member_id.s)) {
            if ((m = member_add(g, q->member_id.s, NULL)) == NULL) {
                s->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
                goto done;
            }
        } else if (e != WR_KERR_NONE) {
            s->error_code = e;
            goto done;
        }
    }
    if (!set_protocols(m, q)) {
        s->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
        goto done;
    }
    free(g->protocol_type);
    g->protocol_type = strdup(q->protocol_type.s);
    free(m->client_id);
    m->client_id = dupz(r->hdr.client_id.s ? r->hdr.client_id.s : "");
    free(m->client_host);
    m->client_host = malloc(strlen(r->conn->peer) + 2);
    if (m->client_host != NULL)
        sprintf(m->client_host, "/%s", r->conn->peer);
    m->session_ms = q->session_timeout_ms;
    m->rebalance_ms = q->rebalance_timeout_ms > 0 ? q->rebalance_timeout_ms : q->session_timeout_ms;
    m->last_seen_ms = wr__kmono_ms();
    fail_join(m, WR_KERR_REBALANCE_IN_PROGRESS); /* an older join of the same member */
    if (static_rejoin && g->state == G_STABLE && g->protocol_name != NULL) {
        const char *chosen = choose_protocol(g);
        if (chosen != NULL && strcmp(chosen, g->protocol_name) == 0) {
            /* KIP-345: a known instance back with the same protocols gets the current
               generation and keeps its assignment, with no rebalance. The leader named is the
               one from before the replacement, so a returning leader does not assign again. */
            s->generation_id = g->generation;
            s->protocol_name = wr_kstr_of(wr_arena_strdup(r->arena, g->protocol_name));
            s->leader = wr_kstr_of(old_leader ? old_leader : "");
            s->member_id = wr_kstr_of(wr_arena_strdup(r->arena, m->id));
            wr_log(WR_LOG_INFO, "group", "%s: static member %s back at generation %d, no rebalance",
                   g->id, m->instance_id, g->generation);
            goto done;
        }
    }
    park(r, m, &m->join_req);
    m->joined = true;
    start_rebalance(g, "member joined");
    return;
done:
    wr__kreq_finish(r);
}

void
wr__kh_sync_group(wr_kreq *r)
{
    struct wr_kgroups *gs = r->conn->b->groups;
    const wr_kp_sync_group_req *q = r->body;
    wr_kp_sync_group_resp *s = wr_kp_new(r->arena, &wr_kp_sync_group_resp_desc, r->hdr.api_version);
    r->resp = s;
    if (!wr__kauthz_str(r, WR_ACL_OP_READ, WR_ACL_RES_GROUP, q->group_id)) {
        s->error_code = WR_KERR_GROUP_AUTHORIZATION_FAILED;
        s->assignment = (wr_kbytes){(const uint8_t *)"", 0};
        wr__kreq_finish(r);
        return;
    }
    kgroup *g = group_find(gs, q->group_id.s);
    kmember *m;
    int16_t e = member_check(g, q->member_id.s, q->group_instance_id.s, &m);
    if (e != WR_KERR_NONE) {
        s->error_code = e;
        goto done;
    }
    if (q->generation_id != g->generation) {
        s->error_code = WR_KERR_ILLEGAL_GENERATION;
        goto done;
    }
    if (g->state == G_PREPARING) {
        s->error_code = WR_KERR_REBALANCE_IN_PROGRESS;
        goto done;
    }
    m->last_seen_ms = wr__kmono_ms();
    if (g->state == G_COMPLETING) {
        if (strcmp(m->id, g->leader) != 0) {
            fail_sync(m, WR_KERR_REBALANCE_IN_PROGRESS);
            park(r, m, &m->sync_req);
            return;
        }
        for (kmember *o = g->members; o != NULL; o = o->next) {
            free(o->assignment);
            o->assignment = NULL;
            o->assignment_len = 0;
        }
        for (int32_t i = 0; i < q->assignments.n; i++) {
            kmember *o = member_find(g, q->assignments.v[i].member_id.s);
            int32_t len = q->assignments.v[i].assignment.len;
            if (o == NULL || len <= 0)
                continue;
            o->assignment = malloc((size_t)len);
            if (o->assignment != NULL) {
                memcpy(o->assignment, q->assignments.v[i].assignment.p, (size_t)len);
                o->assignment_len = len;
            }
        }
        g->state = G_STABLE;
        wr_log(WR_LOG_INFO, "group", "%s: stable at generation %d", g->id, g->generation);
        for (kmember *o = g->members; o != NULL; o = o->next) {
            if (o->sync_req == NULL)
                continue;
            wr_kp_sync_group_resp *os = o->sync_req->resp;
            os->assignment =
                (wr_kbytes){o->assignment ? o->assignment : (const uint8_t *)"", o->assignment_len};
            unpark_finish(&o->sync_req);
        }
    }
    s->assignment =
        (wr_kbytes){m->assignment ? m->assignment : (const uint8_t *)"", m->assignment_len};
done:
    wr__kreq_finish(r);
}

void
wr__kh_heartbeat(wr_kreq *r)
{
    struct wr_kgroups *gs = r->conn->b->groups;
    const wr_kp_heartbeat_req *q = r->body;
    wr_kp_heartbeat_resp *s = wr_kp_new(r->arena, &wr_kp_heartbeat_resp_desc, r->hdr.api_version);
    r->resp = s;
    if (!wr__kauthz_str(r, WR_ACL_OP_READ, WR_ACL_RES_GROUP, q->group_id)) {
        s->error_code = WR_KERR_GROUP_AUTHORIZATION_FAILED;
        wr__kreq_finish(r);
        return;
    }
    kgroup *g = group_find(gs, q->group_id.s);
    kmember *m;
    int16_t e = member_check(g, q->member_id.s, q->group_instance_id.s, &m);
    if (e != WR_KERR_NONE)
        s->error_code = e;
    else if (q->generation_id != g->generation)
        s->error_code = WR_KERR_ILLEGAL_GENERATION;
    else if (g->state == G_PREPARING)
        s->error_code = WR_KERR_REBALANCE_IN_PROGRESS;
    if (m != NULL)
        m->last_seen_ms = wr__kmono_ms();
    wr__kreq_finish(r);
}

void
wr__kh_leave_group(wr_kreq *r)
{
    struct wr_kgroups *gs = r->conn->b->groups;
    const wr_kp_leave_group_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_leave_group_resp *s = wr_kp_new(r->arena, &wr_kp_leave_group_resp_desc, v);
    r->resp = s;
    if (!wr__kauthz_str(r, WR_ACL_OP_READ, WR_ACL_RES_GROUP, q->group_id)) {
        s->error_code = WR_KERR_GROUP_AUTHORIZATION_FAILED;
        wr__kreq_finish(r);
        return;
    }
    kgroup *g = group_find(gs, q->group_id.s);
    if (v < 3) {
        kmember *m = g ? member_find(g, q->member_id.s) : NULL;
        if (m == NULL)
            s->error_code = WR_KERR_UNKNOWN_MEMBER_ID;
        else
            remove_member(g, m, "left the group");
        wr__kreq_finish(r);
        return;
    }
    int32_t n = q->members.n > 0 ? q->members.n : 0;
    s->members.n = n;
    s->members.v = wr_kp_new_array(r->arena, &wr_kp_leave_group_resp_member_response_desc, n, v);
    for (int32_t i = 0; i < n; i++) {
        const wr_kp_leave_group_req_member_identity *id = &q->members.v[i];
        s->members.v[i].member_id = id->member_id;
        s->members.v[i].group_instance_id = id->group_instance_id;
        kmember *m = NULL;
        int16_t e = WR_KERR_UNKNOWN_MEMBER_ID;
        if (id->member_id.len == 0 && id->group_instance_id.s != NULL) {
            /* an admin removing a static member by instance id alone */
            for (kmember *o = g ? g->members : NULL; o != NULL && m == NULL; o = o->next)
                if (o->instance_id != NULL && strcmp(o->instance_id, id->group_instance_id.s) == 0)
                    m = o;
            e = m ? WR_KERR_NONE : WR_KERR_UNKNOWN_MEMBER_ID;
        } else {
            e = member_check(g, id->member_id.s, id->group_instance_id.s, &m);
        }
        if (e != WR_KERR_NONE)
            s->members.v[i].error_code = e;
        else
            remove_member(g, m, "left the group");
    }
    wr__kreq_finish(r);
}

/* ---- offsets --------------------------------------------------------------------------- */

void
wr__kh_offset_commit(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_offset_commit_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_offset_commit_resp *s = wr_kp_new(r->arena, &wr_kp_offset_commit_resp_desc, v);
    r->resp = s;
    int16_t err = WR_KERR_NONE;
    bool group_ok = q->group_id.len > 0 &&
                    wr__kauthz_str(r, WR_ACL_OP_READ, WR_ACL_RES_GROUP, q->group_id);
    kgroup *g = group_ok ? group_get(b->groups, q->group_id.s) : NULL;
    if (q->group_id.len > 0 && !group_ok) {
        err = WR_KERR_GROUP_AUTHORIZATION_FAILED;
    } else if (g == NULL) {
        err = WR_KERR_INVALID_GROUP_ID;
    } else if (q->generation_id_or_member_epoch >= 0 || q->member_id.len > 0) {
        kmember *m;
        int16_t e = member_check(g, q->member_id.s, q->group_instance_id.s, &m);
        if (e != WR_KERR_NONE)
            err = e;
        else if (q->generation_id_or_member_epoch != g->generation)
            err = WR_KERR_ILLEGAL_GENERATION;
        else if (g->state == G_PREPARING)
            err = WR_KERR_REBALANCE_IN_PROGRESS;
        else
            m->last_seen_ms = wr__kmono_ms();
    } else if (g->members != NULL) {
        err = WR_KERR_UNKNOWN_MEMBER_ID; /* a simple commit into an active group */
    }
    int32_t nt = q->topics.n > 0 ? q->topics.n : 0;
    s->topics.n = nt;
    s->topics.v = wr_kp_new_array(
        r->arena, &wr_kp_offset_commit_resp_offset_commit_response_topic_desc, nt, v);
    for (int32_t i = 0; i < nt; i++) {
        const wr_kp_offset_commit_req_offset_commit_request_topic *t = &q->topics.v[i];
        s->topics.v[i].name = t->name;
        int32_t np = t->partitions.n > 0 ? t->partitions.n : 0;
        s->topics.v[i].partitions.n = np;
        s->topics.v[i].partitions.v = wr_kp_new_array(
            r->arena, &wr_kp_offset_commit_resp_offset_commit_response_partition_desc, np, v);
        int16_t terr = err;
        if (terr == WR_KERR_NONE && np > 0 &&
            !wr__kauthz_str(r, WR_ACL_OP_READ, WR_ACL_RES_TOPIC, t->name))
            terr = WR_KERR_TOPIC_AUTHORIZATION_FAILED;
        for (int32_t j = 0; j < np; j++) {
            const wr_kp_offset_commit_req_offset_commit_request_partition *p = &t->partitions.v[j];
            wr_kp_offset_commit_resp_offset_commit_response_partition *pr =
                &s->topics.v[i].partitions.v[j];
            pr->partition_index = p->partition_index;
            pr->error_code = terr;
            if (terr != WR_KERR_NONE)
                continue;
            wr_partition *part = NULL;
            if (wr_log_partition(b->db, t->name.s, p->partition_index, &part) != WR_OK) {
                pr->error_code = WR_KERR_UNKNOWN_TOPIC_OR_PARTITION; /* as Kafka */
                continue;
            }
            uint8_t key[600];
            size_t kl =
                wr_group_offset_key(key, sizeof key, q->group_id.s, t->name.s, p->partition_index);
            size_t ml = p->committed_metadata.s ? (size_t)p->committed_metadata.len : 0;
            wr_buf val = WR_BUF_INIT;
            wr_group_offset_value(&val, p->committed_offset, p->committed_leader_epoch,
                                  p->committed_metadata.s, ml);
            if (kl == 0 || !wr_buf_ok(&val)) {
                wr_buf_free(&val);
                pr->error_code = WR_KERR_INVALID_REQUEST;
                continue;
            }
            wr_err e = {0};
            if (wr_log_meta_put(b->db, WR_KGROUP_OFFSETS, key, kl, val.data, val.len, &e) !=
                WR_OK) {
                wr_log(WR_LOG_ERROR, "group", "%s: cannot store an offset: %s", q->group_id.s,
                       e.msg);
                pr->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
            }
            wr_buf_free(&val);
        }
    }
    wr__kreq_finish(r);
}

typedef struct offrow {
    char *topic;
    int32_t part;
    int64_t offset;
    int32_t epoch;
    char *meta;
} offrow;

typedef struct offscan {
    offrow *rows;
    size_t n, cap;
    size_t plen;
} offscan;

static int
scan_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    offscan *sc = arg;
    const uint8_t *k = key;
    if (klen < sc->plen + 5 || vlen < 12)
        return 0;
    size_t tl = klen - sc->plen - 5;
    if (k[sc->plen + tl] != 0)
        return 0;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 16;
        offrow *rows = realloc(sc->rows, cap * sizeof *rows);
        if (rows == NULL)
            return 1;
        sc->rows = rows;
        sc->cap = cap;
    }
    offrow *row = &sc->rows[sc->n++];
    row->topic = strndup((const char *)k + sc->plen, tl);
    row->part = (int32_t)wr_be32_get(k + sc->plen + tl + 1);
    row->offset = (int64_t)wr_be64_get(val);
    row->epoch = (int32_t)wr_be32_get((const uint8_t *)val + 8);
    row->meta = strndup((const char *)val + 12, vlen - 12);
    return 0;
}

static void
offscan_free(offscan *sc)
{
    for (size_t i = 0; i < sc->n; i++) {
        free(sc->rows[i].topic);
        free(sc->rows[i].meta);
    }
    free(sc->rows);
}

static void
fill_fetched(wr_kreq *r,
             wr_kp_offset_fetch_resp_offset_fetch_response_partition *pr,
             const char *group,
             const char *topic)
{
    uint8_t key[600];
    size_t kl = wr_group_offset_key(key, sizeof key, group, topic, pr->partition_index);
    wr_buf v = WR_BUF_INIT;
    pr->committed_offset = -1;
    pr->metadata = wr_kstr_of("");
    if (kl > 0 && wr_log_meta_get(r->conn->b->db, WR_KGROUP_OFFSETS, key, kl, &v, NULL) == WR_OK &&
        v.len >= 12) {
        pr->committed_offset = (int64_t)wr_be64_get(v.data);
        pr->committed_leader_epoch = (int32_t)wr_be32_get(v.data + 8);
        pr->metadata =
            wr_kstr_of(wr_arena_strndup(r->arena, (const char *)v.data + 12, v.len - 12));
    }
    wr_buf_free(&v);
}

void
wr__kh_offset_fetch(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_offset_fetch_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_offset_fetch_resp *s = wr_kp_new(r->arena, &wr_kp_offset_fetch_resp_desc, v);
    r->resp = s;
    bool group_ok = wr__kauthz_str(r, WR_ACL_OP_DESCRIBE, WR_ACL_RES_GROUP, q->group_id);
    if (!group_ok)
        s->error_code = WR_KERR_GROUP_AUTHORIZATION_FAILED; /* v2+; before, each partition's */
    if (q->topics.n >= 0) {
        s->topics.n = q->topics.n;
        s->topics.v = wr_kp_new_array(
            r->arena, &wr_kp_offset_fetch_resp_offset_fetch_response_topic_desc, q->topics.n, v);
        for (int32_t i = 0; i < q->topics.n; i++) {
            const wr_kp_offset_fetch_req_offset_fetch_request_topic *t = &q->topics.v[i];
            s->topics.v[i].name = t->name;
            int32_t np = t->partition_indexes.n > 0 ? t->partition_indexes.n : 0;
            s->topics.v[i].partitions.n = np;
            s->topics.v[i].partitions.v = wr_kp_new_array(
                r->arena, &wr_kp_offset_fetch_resp_offset_fetch_response_partition_desc, np, v);
            int16_t deny = !group_ok ? WR_KERR_GROUP_AUTHORIZATION_FAILED
                           : np > 0 && !wr__kauthz_str(r, WR_ACL_OP_DESCRIBE, WR_ACL_RES_TOPIC,
                                                       t->name)
                               ? WR_KERR_TOPIC_AUTHORIZATION_FAILED
                               : WR_KERR_NONE;
            for (int32_t j = 0; j < np; j++) {
                s->topics.v[i].partitions.v[j].partition_index = t->partition_indexes.v[j];
                if (deny != WR_KERR_NONE) {
                    s->topics.v[i].partitions.v[j].committed_offset = -1;
                    s->topics.v[i].partitions.v[j].error_code = deny;
                    continue;
                }
                fill_fetched(r, &s->topics.v[i].partitions.v[j], q->group_id.s, t->name.s);
                /* KIP-447: a reader that wants stable offsets waits out a pending commit */
                if (q->require_stable && wr_txn_offset_pending(b->txn, q->group_id.s, t->name.s,
                                                               t->partition_indexes.v[j]))
                    s->topics.v[i].partitions.v[j].error_code = WR_KERR_UNSTABLE_OFFSET_COMMIT;
            }
        }
        wr__kreq_finish(r);
        return;
    }
    /* null topics: every offset of the group (of the topics the principal may DESCRIBE) */
    uint8_t prefix[600];
    size_t pl = wr_group_offset_key(prefix, sizeof prefix, q->group_id.s, NULL, 0);
    offscan sc = {.plen = pl};
    if (pl > 0 && group_ok)
        wr_log_meta_scan(b->db, WR_KGROUP_OFFSETS, prefix, pl, scan_cb, &sc, NULL);
    if (b->acl != NULL) {
        size_t kept = 0; /* in order: the rows of one topic stay together */
        for (size_t i = 0; i < sc.n; i++) {
            if (wr_acl_authorize(b->acl, r->conn->principal, r->conn->host, WR_ACL_OP_DESCRIBE,
                                 WR_ACL_RES_TOPIC, sc.rows[i].topic, strlen(sc.rows[i].topic))) {
                sc.rows[kept++] = sc.rows[i];
            } else {
                free(sc.rows[i].topic);
                free(sc.rows[i].meta);
            }
        }
        sc.n = kept;
    }
    int32_t nt = 0;
    for (size_t i = 0; i < sc.n; i++)
        if (i == 0 || strcmp(sc.rows[i].topic, sc.rows[i - 1].topic) != 0)
            nt++;
    s->topics.n = nt;
    s->topics.v =
        wr_kp_new_array(r->arena, &wr_kp_offset_fetch_resp_offset_fetch_response_topic_desc, nt, v);
    for (size_t i = 0, t = 0; i < sc.n; t++) {
        size_t j = i;
        while (j < sc.n && strcmp(sc.rows[j].topic, sc.rows[i].topic) == 0)
            j++;
        wr_kp_offset_fetch_resp_offset_fetch_response_topic *tr = &s->topics.v[t];
        tr->name = wr_kstr_of(wr_arena_strdup(r->arena, sc.rows[i].topic));
        tr->partitions.n = (int32_t)(j - i);
        tr->partitions.v =
            wr_kp_new_array(r->arena, &wr_kp_offset_fetch_resp_offset_fetch_response_partition_desc,
                            tr->partitions.n, v);
        for (size_t k = i; k < j; k++) {
            wr_kp_offset_fetch_resp_offset_fetch_response_partition *pr = &tr->partitions.v[k - i];
            pr->partition_index = sc.rows[k].part;
            pr->committed_offset = sc.rows[k].offset;
            pr->committed_leader_epoch = sc.rows[k].epoch;
            pr->metadata = wr_kstr_of(wr_arena_strdup(r->arena, sc.rows[k].meta));
        }
        i = j;
    }
    offscan_free(&sc);
    wr__kreq_finish(r);
}

/* ---- ListGroups / DescribeGroups / DeleteGroups / OffsetDelete ------------------------- */

void
wr__kh_list_groups(wr_kreq *r)
{
    struct wr_kgroups *gs = r->conn->b->groups;
    int16_t v = r->hdr.api_version;
    wr_kp_list_groups_resp *s = wr_kp_new(r->arena, &wr_kp_list_groups_resp_desc, v);
    r->resp = s;
    int32_t n = 0;
    for (kgroup *g = gs->groups; g != NULL; g = g->next)
        n++;
    s->groups.n = n;
    s->groups.v = wr_kp_new_array(r->arena, &wr_kp_list_groups_resp_listed_group_desc, n, v);
    int32_t i = 0;
    for (kgroup *g = gs->groups; g != NULL; g = g->next, i++) {
        s->groups.v[i].group_id = wr_kstr_of(g->id);
        s->groups.v[i].protocol_type = wr_kstr_of(g->protocol_type ? g->protocol_type : "");
        s->groups.v[i].group_state = wr_kstr_of(state_names[g->state]);
    }
    wr__kreq_finish(r);
}

void
wr__kh_describe_groups(wr_kreq *r)
{
    struct wr_kgroups *gs = r->conn->b->groups;
    const wr_kp_describe_groups_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_describe_groups_resp *s = wr_kp_new(r->arena, &wr_kp_describe_groups_resp_desc, v);
    r->resp = s;
    int32_t n = q->groups.n > 0 ? q->groups.n : 0;
    s->groups.n = n;
    s->groups.v = wr_kp_new_array(r->arena, &wr_kp_describe_groups_resp_described_group_desc, n, v);
    for (int32_t i = 0; i < n; i++) {
        wr_kp_describe_groups_resp_described_group *d = &s->groups.v[i];
        d->group_id = q->groups.v[i];
        kgroup *g = group_find(gs, q->groups.v[i].s);
        if (g == NULL) {
            d->group_state = wr_kstr_of("Dead");
            continue;
        }
        d->group_state = wr_kstr_of(state_names[g->state]);
        d->protocol_type = wr_kstr_of(g->protocol_type ? g->protocol_type : "");
        d->protocol_data = wr_kstr_of(g->protocol_name ? g->protocol_name : "");
        int32_t nm = member_count(g);
        d->members.n = nm;
        d->members.v = wr_kp_new_array(
            r->arena, &wr_kp_describe_groups_resp_described_group_member_desc, nm, v);
        int32_t k = 0;
        for (kmember *m = g->members; m != NULL; m = m->next, k++) {
            wr_kp_describe_groups_resp_described_group_member *dm = &d->members.v[k];
            dm->member_id = wr_kstr_of(m->id);
            dm->group_instance_id = wr_kstr_of(m->instance_id);
            dm->client_id = wr_kstr_of(m->client_id ? m->client_id : "");
            dm->client_host = wr_kstr_of(m->client_host ? m->client_host : "");
            const wr_kbytes *meta = member_meta(m, g->protocol_name);
            if (meta != NULL)
                dm->member_metadata = *meta;
            if (m->assignment != NULL)
                dm->member_assignment = (wr_kbytes){m->assignment, m->assignment_len};
        }
    }
    wr__kreq_finish(r);
}

/* Deletes every stored offset of group (topic NULL) or of one topic partition. */
static int
delete_offsets(wr_broker *b, const char *group, bool *any)
{
    uint8_t prefix[600];
    size_t pl = wr_group_offset_key(prefix, sizeof prefix, group, NULL, 0);
    offscan sc = {.plen = pl};
    if (pl == 0)
        return WR_EINVAL;
    int rc = wr_log_meta_scan(b->db, WR_KGROUP_OFFSETS, prefix, pl, scan_cb, &sc, NULL);
    *any = sc.n > 0;
    for (size_t i = 0; rc == WR_OK && i < sc.n; i++) {
        uint8_t key[600];
        size_t kl = wr_group_offset_key(key, sizeof key, group, sc.rows[i].topic, sc.rows[i].part);
        rc = wr_log_meta_del(b->db, WR_KGROUP_OFFSETS, key, kl, NULL);
    }
    offscan_free(&sc);
    return rc;
}

void
wr__kh_delete_groups(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    struct wr_kgroups *gs = b->groups;
    const wr_kp_delete_groups_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_delete_groups_resp *s = wr_kp_new(r->arena, &wr_kp_delete_groups_resp_desc, v);
    r->resp = s;
    int32_t n = q->groups_names.n > 0 ? q->groups_names.n : 0;
    s->results.n = n;
    s->results.v =
        wr_kp_new_array(r->arena, &wr_kp_delete_groups_resp_deletable_group_result_desc, n, v);
    for (int32_t i = 0; i < n; i++) {
        const char *id = q->groups_names.v[i].s;
        s->results.v[i].group_id = q->groups_names.v[i];
        kgroup *g = group_find(gs, id);
        if (g != NULL && g->members != NULL) {
            s->results.v[i].error_code = WR_KERR_NON_EMPTY_GROUP;
            continue;
        }
        bool any = false;
        if (delete_offsets(b, id, &any) != WR_OK) {
            s->results.v[i].error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        if (g == NULL && !any) {
            s->results.v[i].error_code = WR_KERR_GROUP_ID_NOT_FOUND;
            continue;
        }
        if (g != NULL) {
            kgroup **pp = &gs->groups;
            while (*pp != g)
                pp = &(*pp)->next;
            *pp = g->next;
            group_free(g);
        }
        wr_log(WR_LOG_INFO, "group", "%s: deleted", id);
    }
    wr__kreq_finish(r);
}

/* Whether topic is in the subscription of any member: ConsumerProtocolSubscription, whose
   versions 0-3 all start with Version int16, Topics [string] (classic, non-flexible encoding).
   Metadata that does not parse counts as subscribed, so nothing is deleted on a guess. */
static bool
subscribed(kgroup *g, const char *topic)
{
    size_t tl = strlen(topic);
    for (kmember *m = g->members; m != NULL; m = m->next) {
        const wr_kbytes *meta = member_meta(m, g->protocol_name);
        if (meta == NULL || meta->len < 6)
            return true;
        wr_rd rd = wr_rd_make(meta->p, (size_t)meta->len);
        (void)wr_rd_be16(&rd); /* version */
        uint32_t n = wr_rd_be32(&rd);
        for (uint32_t i = 0; i < n && rd.err == 0; i++) {
            size_t len = wr_rd_be16(&rd);
            const uint8_t *p = wr_rd_take(&rd, len);
            if (p != NULL && len == tl && memcmp(p, topic, tl) == 0)
                return true;
        }
        if (rd.err != 0 || n > INT32_MAX)
            return true;
    }
    return false;
}

void
wr__kh_offset_delete(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_offset_delete_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_offset_delete_resp *s = wr_kp_new(r->arena, &wr_kp_offset_delete_resp_desc, v);
    r->resp = s;
    kgroup *g = group_find(b->groups, q->group_id.s);
    if (g == NULL) {
        s->error_code = WR_KERR_GROUP_ID_NOT_FOUND;
        wr__kreq_finish(r);
        return;
    }
    /* as Kafka: a live group that is not a consumer group keeps its offsets; a consumer
       group keeps those of the topics its members subscribe to */
    bool consumer = g->protocol_type != NULL && strcmp(g->protocol_type, "consumer") == 0;
    if (g->members != NULL && !consumer) {
        s->error_code = WR_KERR_NON_EMPTY_GROUP;
        wr__kreq_finish(r);
        return;
    }
    int32_t nt = q->topics.n > 0 ? q->topics.n : 0;
    s->topics.n = nt;
    s->topics.v = wr_kp_new_array(
        r->arena, &wr_kp_offset_delete_resp_offset_delete_response_topic_desc, nt, v);
    for (int32_t i = 0; i < nt; i++) {
        const wr_kp_offset_delete_req_offset_delete_request_topic *t = &q->topics.v[i];
        s->topics.v[i].name = t->name;
        int32_t np = t->partitions.n > 0 ? t->partitions.n : 0;
        s->topics.v[i].partitions.n = np;
        s->topics.v[i].partitions.v = wr_kp_new_array(
            r->arena, &wr_kp_offset_delete_resp_offset_delete_response_partition_desc, np, v);
        for (int32_t j = 0; j < np; j++) {
            wr_kp_offset_delete_resp_offset_delete_response_partition *pr =
                &s->topics.v[i].partitions.v[j];
            pr->partition_index = t->partitions.v[j].partition_index;
            if (subscribed(g, t->name.s)) {
                pr->error_code = WR_KERR_GROUP_SUBSCRIBED_TO_TOPIC;
                continue;
            }
            uint8_t key[600];
            size_t kl =
                wr_group_offset_key(key, sizeof key, q->group_id.s, t->name.s, pr->partition_index);
            int rc = kl ? wr_log_meta_del(b->db, WR_KGROUP_OFFSETS, key, kl, NULL) : WR_EINVAL;
            if (rc != WR_OK && rc != WR_ENOENT)
                pr->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
        }
    }
    wr__kreq_finish(r);
}

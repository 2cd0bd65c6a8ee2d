/*
 * broker_int.h - what the broker's files share: the broker, connection and request structs and
 * the wr__k* helpers between the network server (server.c) and the API handlers (kh_*.c).
 *
 * Thread locality: everything here lives on the broker's loop thread, except a request handed to
 * the thread pool (Produce): while its uv_work_t runs, only the worker touches the request and
 * its arena; the producer-state table (kidem.c) has its own mutex.
 *
 * Ownership: a connection owns its queue of requests; a request owns its arena, its frame and
 * its encoded response. A connection is freed once its handle is closed and no work item of its
 * requests is still running (refs == 0).
 */
#ifndef WR_SRC_KAFKA_BROKER_INT_H
#define WR_SRC_KAFKA_BROKER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <uv.h>

#include "src/base/arena.h"
#include "src/base/buf.h"
#include "src/base/budget.h"
#include "src/base/connlimit.h"
#include "src/coord/txn.h"
#include "src/kafka/broker.h"
#include "src/kafka/kerr.h"
#include "src/kafka/kmsg.h"
#include "src/kafka/kproto.h"
#include "src/security/acl.h"

typedef struct wr_kconn wr_kconn;
typedef struct wr_kreq wr_kreq;
typedef struct wr_kidem wr_kidem;

struct wr_broker {
    wr_broker_opts opts; /* strings point at the copies below */
    char *listen_host, *adv_host;
    wr_logdb *db;
    char cluster_id[40];

    uv_thread_t thread;
    uv_loop_t loop;
    uv_tcp_t server;
    uv_async_t stop_async;  /* control thread -> loop: stop */
    uv_async_t data_async;  /* appending threads -> loop: new data, retry parked fetches */
    uv_timer_t sweep_timer; /* idle connections */
    uv_timer_t fetch_timer; /* nearest parked-fetch deadline */
    uv_sem_t ready;
    int start_rc;
    wr_err start_err;
    int port;
    bool started, stopped;

    wr_kconn *conns;           /* doubly linked through next/prev */
    wr_kreq *parked;           /* long-poll fetches waiting for data or their deadline */
    wr_kidem *idem;            /* producer state (idempotence) */
    struct wr_kgroups *groups; /* consumer groups (kgroup.c) */
    wr_txn_coord *txn;         /* the transaction coordinator (src/coord/txn.c) */
    uv_timer_t group_timer;    /* session and rebalance deadlines */

    /* memory bounds (server.c) */
    wr_budget budget;         /* queued.max.request.bytes: requests being read or answered */
    wr_connlimit connlimit;   /* max.connections, max.connections.per.ip(.overrides) */
    char *ip_overrides;       /* the copy opts.max_connections_per_ip_overrides points at */
    uv_timer_t resume_timer;  /* runs the connections whose budget was granted */
    wr_kconn *resumable;      /* granted connections to run (through ready_next) */
    uint64_t refused;         /* connections refused at accept */
    uint8_t rbuf[64 * 1024];  /* the loop's one read buffer: bytes are copied out at once */
    unsigned sasl_mechs;      /* WR_KSASL_* bits of sasl.enabled.mechanisms (kh_sasl.c) */
    wr_acl_store *acl;        /* the authorizer's bindings (kh_acl.c); NULL: no authorizer */
    wr_tls_ctx *tls;          /* SSL, SASL_SSL listeners: the TLS context (owned, under tls_mu) */
    wr_tls_opts tls_opts;     /* ... the settings it was made from (owned copies), for reloads */
    pthread_mutex_t tls_mu;   /* tls: swapped by wr_broker_reload_tls on the control thread */
    uint64_t auth_failures;   /* SASL exchanges that failed */
};

struct wr_kconn {
    uv_tcp_t tcp; /* first member: handle->data is unused, casts go through this */
    wr_broker *b;
    wr_kconn *next, *prev;
    char peer[64];
    struct sockaddr_storage addr; /* the client's, as counted by the broker's connlimit */
    uint8_t szbuf[4];
    size_t szgot;
    /* The frame being read: frame_len bytes declared (0: none), frame_got arrived, frame_cap
       allocated (grows with what arrives). frame_charged: bytes of the budget taken for it
       (frame_len once granted, 0 while waiting). */
    uint8_t *frame;
    size_t frame_len, frame_got, frame_cap, frame_charged;
    wr_budget_waiter wait; /* the frame's take while the budget is short */
    wr_buf stash;          /* bytes read after a frame that waits for the budget */
    size_t stash_charged;  /* forced on the budget for the stash */
    wr_kconn *ready_next;  /* broker's ready list (holds a ref) */
    wr_kreq *head, *tail; /* requests in arrival order; answered from the head */
    int queued;           /* requests in the queue */
    size_t out_bytes;     /* response bytes handed to uv_write and not yet written */
    int64_t last_active_ms;
    int refs; /* handle open + work items running */
    bool closing, reading, produce_busy, waiting, counted;
    /* SASL (kh_sasl.c): on a SASL listener nothing but ApiVersions, SaslHandshake and
       SaslAuthenticate is served until authed. close_after_write: an answer that ends the
       connection was queued; nothing more is read, and the connection closes once it is
       written. */
    bool authed, close_after_write;
    bool exchanging;                /* a handshake started an exchange SaslAuthenticate carries */
    int sasl_mech;                  /* WR_KSASL_* of the handshake; 0: none yet */
    int64_t auth_expires_ms;        /* KIP-368: the session ends here (monotonic); 0: never */
    struct wr_scram_server *scram;  /* the SCRAM exchange in progress (owned) */
    wr_tls_conn *tls;               /* SSL, SASL_SSL: the connection's TLS session (owned) */
    char principal[272];            /* "User:<name>" once authed; "User:ANONYMOUS" on PLAINTEXT */
    char host[48];                  /* the peer's address, for ACL host matches */
};

struct wr_kreq {
    wr_kconn *conn;
    wr_kreq *next;           /* connection queue */
    wr_kreq *pnext, **pprev; /* broker's parked list */
    wr_arena *arena;
    uint8_t *frame;
    size_t frame_len;
    size_t charged; /* bytes of the broker's budget this request holds (its frame_len) */
    wr_kreq_hdr hdr;
    const wr_kapi *api;
    void *body; /* decoded request (arena) */
    void *resp; /* response struct (arena) */
    bool done, no_response, parked, work_pending, needs_work;
    wr_buf out;  /* encoded response frame */
    wr_buf data; /* Fetch: the record bytes being served */
    int64_t deadline_ms;
    uv_work_t work;
    void (*work_fn)(wr_kreq *r); /* runs on the thread pool */
    void (*on_free)(wr_kreq *r); /* a holder of r (the group coordinator) forgets it */
    void *holder;
};

/* server.c */
void wr__kreq_finish(wr_kreq *r); /* encode r->resp, mark done, flush the connection */
/* Answers with header v0 and a body of only code: for requests no response shape fits. */
void wr__kreq_finish_bare_error(wr_kreq *r, int16_t code);
void wr__kreq_park(wr_kreq *r, int64_t deadline_ms);
void wr__kreq_queue_work(wr_kreq *r, void (*fn)(wr_kreq *r));
int64_t wr__kmono_ms(void);
void wr__kconn_close(wr_kconn *c); /* closes the connection (and drops its queue) */

/* kh_*.c: one handler per API; each either finishes the request or parks/queues it. */
typedef void (*wr_khandler)(wr_kreq *r);
wr_khandler wr__kh_lookup(int16_t api_key);
void wr__kh_fetch_retry(wr_kreq *r, bool final); /* a parked fetch: try again */
void wr__kh_unsupported(wr_kreq *r);             /* answer UNSUPPORTED_VERSION if possible */
void wr__kh_produce(wr_kreq *r);
void wr__kh_fetch(wr_kreq *r);
void wr__kh_list_offsets(wr_kreq *r);
int16_t wr__kerr_from_log(int rc); /* WR_E* from the log -> Kafka error code */

/* kh_sasl.c: SASL authentication (SaslHandshake, SaslAuthenticate) */
enum { WR_KSASL_PLAIN = 1, WR_KSASL_SCRAM_SHA_256 = 2, WR_KSASL_SCRAM_SHA_512 = 4 };
/* sasl.enabled.mechanisms (NULL or "": the SCRAM ones) into WR_KSASL_* bits. */
int wr__ksasl_parse_mechanisms(const char *list, unsigned *mask, wr_err *err);
/* Whether c may send a request of api_key now (false: close it, as Kafka does): before
   authentication only ApiVersions and SASL, after a session's lifetime only SASL. */
bool wr__ksasl_allowed(const wr_kconn *c, int16_t api_key);
void wr__ksasl_conn_free(wr_kconn *c); /* the exchange's state of a closed connection */
void wr__kh_sasl_handshake(wr_kreq *r);
void wr__kh_sasl_authenticate(wr_kreq *r);

/* kh_acl.c: authorization. Each wr__kauthz* says whether r's connection may do op on the
   resource (always, without an authorizer), logging a denial. */
bool wr__kauthz(wr_kreq *r, int op, int rtype, const char *name, size_t nlen);
bool wr__kauthz_str(wr_kreq *r, int op, int rtype, wr_kstr name);
bool wr__kauthz_cluster(wr_kreq *r, int op);
bool wr__kauthz_idempotent(wr_kreq *r);
/* Whether the API's handler checks its resources; the others are for super users only. */
bool wr__kauthz_api_covered(int16_t api_key);
bool wr__kauthz_super(const wr_kconn *c);
void wr__kh_create_acls(wr_kreq *r);
void wr__kh_describe_acls(wr_kreq *r);
void wr__kh_delete_acls(wr_kreq *r);

/* kgroup.c: the interim consumer-group coordinator (loop thread only) */
int wr__kgroups_create(wr_broker *b, struct wr_kgroups **out);
void wr__kgroups_destroy(struct wr_kgroups *g);
void wr__kgroups_tick(struct wr_kgroups *g); /* expires sessions, ends join phases */
void wr__kh_join_group(wr_kreq *r);
void wr__kh_sync_group(wr_kreq *r);
void wr__kh_heartbeat(wr_kreq *r);
void wr__kh_leave_group(wr_kreq *r);
void wr__kh_offset_commit(wr_kreq *r);
void wr__kh_offset_fetch(wr_kreq *r);
void wr__kh_list_groups(wr_kreq *r);
void wr__kh_describe_groups(wr_kreq *r);
void wr__kh_delete_groups(wr_kreq *r);
void wr__kh_offset_delete(wr_kreq *r);

/* kh_txn.c: the transaction APIs over src/coord/txn.c */
void wr__kh_init_producer_txn(wr_kreq *r); /* InitProducerId with a transactional id */
void wr__kh_add_partitions_to_txn(wr_kreq *r);
void wr__kh_add_offsets_to_txn(wr_kreq *r);
void wr__kh_end_txn(wr_kreq *r);
void wr__kh_txn_offset_commit(wr_kreq *r);

/* kidem.c: idempotent producer state */
int wr__kidem_create(wr_logdb *db, wr_kidem **out);
void wr__kidem_destroy(wr_kidem *t);
/* Allocates a fresh producer id (persisted). */
int wr__kidem_new_pid(wr_kidem *t, int64_t *pid, wr_err *err);
/* Appends batches data[0..len) to partition (topic, part) with Kafka's idempotence checks. Returns
   a Kafka error code and fills *res (for a duplicate: the original offsets). The first idempotent
   batch for a partition after wr__kidem_create first catches the partition's state up with its
   log (the batches past its checkpoint; KAFKA_STORAGE_ERROR when that fails). */
struct wr_partition;
struct wr_log_append_result;
int wr__kidem_append(wr_kidem *t,
                     struct wr_partition *p,
                     const char *topic,
                     int32_t part,
                     const uint8_t *data,
                     size_t len,
                     struct wr_log_append_result *res,
                     wr_err *err);

#endif

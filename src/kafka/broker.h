/*
 * broker.h - the Kafka-compatible broker: a libuv network server speaking the Kafka protocol over
 * one wr_logdb.
 *
 * Role: accepts TCP connections, frames requests (int32 size + header + body), decodes them with
 * the table-driven codec (kproto.h), runs one handler per API against the log (and the group
 * coordinator) and writes the responses back in request order per connection, also when clients
 * pipeline requests. Produce with acks=0 gets no response. A malformed frame closes only its own
 * connection (with a log line); idle connections are closed after idle_timeout_ms. Memory is
 * bounded by queued_max_request_bytes (reading pauses, no connection is dropped for it) and
 * the connection limits (extra connections are closed at accept).
 *
 * Ownership: the broker borrows the wr_logdb (the caller opens it before wr_broker_create and
 * closes it after wr_broker_destroy). Strings in wr_broker_opts are copied by wr_broker_create.
 *
 * Threads: wr_broker_start runs the broker on its own thread with its own uv loop; every other
 * function is called from the owning (control) thread. wr_broker_stop is synchronous: when it
 * returns, the loop thread has ended and every connection is closed.
 */
#ifndef WR_SRC_KAFKA_BROKER_H
#define WR_SRC_KAFKA_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "src/base/err.h"
#include "src/security/tls.h"

typedef struct wr_logdb wr_logdb;
typedef struct wr_broker wr_broker;

typedef struct wr_broker_opts {
    const char *listen_host;     /* bind address; NULL or "" = "0.0.0.0" */
    int listen_port;             /* 0 = any free port (see wr_broker_port) */
    const char *advertised_host; /* host clients are told to connect to; NULL = listen host */
    int advertised_port;         /* 0 = the bound port */
    int32_t node_id;             /* this broker's node id (also the controller id) */
    bool auto_create_topics;     /* auto.create.topics.enable (Kafka default true) */
    int32_t default_partitions;  /* num.partitions for auto-created topics; <= 0 means 1 */
    int32_t max_request_bytes;   /* socket.request.max.bytes; <= 0 means 100 MiB */
    int64_t idle_timeout_ms;     /* connections.max.idle.ms; <= 0 means 600000 */
    int64_t max_txn_timeout_ms;  /* transaction.max.timeout.ms; <= 0 means 900000 */
    /* queued.max.request.bytes: bytes of requests being read or waiting for their answer, all
       connections together; reading pauses beyond it (src/base/budget.h). <= 0: no bound. */
    int64_t queued_max_request_bytes;
    int32_t max_connections;        /* max.connections; <= 0: no bound */
    int32_t max_connections_per_ip; /* max.connections.per.ip; <= 0: no bound */
    const char *max_connections_per_ip_overrides; /* "IP:N,IP:N" or NULL */
    /* The listener's security protocol: WR_BROKER_PLAINTEXT, WR_BROKER_SSL (TLS; a client
       certificate, when asked for and sent, names the principal), WR_BROKER_SASL_PLAINTEXT or
       WR_BROKER_SASL_SSL (a client authenticates with SaslHandshake + SaslAuthenticate before
       anything but ApiVersions; credentials from the log's SCRAM store, src/security/creds.h). */
    int security_protocol;
    /* SSL, SASL_SSL: the keystore, truststore, client auth and protocols (src/security/tls.h);
       the files are read by wr_broker_create. */
    wr_tls_opts tls;
    /* sasl.enabled.mechanisms: a comma list of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; NULL or "":
       the two SCRAM ones. */
    const char *sasl_mechanisms;
    /* connections.max.reauth.ms (KIP-368): an authenticated SASL session lasts this long; the
       client re-authenticates on its connection (SaslHandshake + SaslAuthenticate as the same
       user) before then, or the connection is closed at its next request. <= 0: for ever. */
    int64_t max_reauth_ms;
    /* authorizer.class.name set: Kafka's ACLs (src/security/acl.h, kept in the log's metadata)
       decide every request; super.users ("User:a;User:b") may do anything;
       allow.everyone.if.no.acl.found. */
    bool authorizer;
    const char *super_users;
    bool allow_everyone_if_no_acl;
} wr_broker_opts;

enum { WR_BROKER_PLAINTEXT = 0, WR_BROKER_SASL_PLAINTEXT = 1, WR_BROKER_SSL = 2, WR_BROKER_SASL_SSL = 3 };

/* Fills opts with the defaults (auto-create on, 1 partition, 100 MiB requests, 10 min idle,
   listen 0.0.0.0:9092, node 0, queued.max.request.bytes 128 MiB, max.connections 10000,
   max.connections.per.ip unbounded). */
void wr_broker_opts_init(wr_broker_opts *opts);

/* Creates a broker over db (borrowed). Validates opts; nothing listens yet. Returns an owned
   broker in *out. Note: opts->auto_create_topics is taken as given, so a zeroed opts means
   auto-create off; call wr_broker_opts_init first for Kafka's defaults. */
int wr_broker_create(const wr_broker_opts *opts, wr_logdb *db, wr_broker **out, wr_err *err);

/* Binds and listens, then runs the loop on a new thread. Returns once listening, so a bind
   error (port in use: WR_EBUSY, bad address: WR_EINVAL) is returned here. */
int wr_broker_start(wr_broker *b, wr_err *err);

/* The bound port (useful with listen_port 0), or -1 before a successful start. */
int wr_broker_port(wr_broker *b);

/* The broker's transaction coordinator (borrowed: it lives as long as the broker), for the
   runtime's exactly-once path in the same process. */
struct wr_txn_coord;
struct wr_txn_coord *wr_broker_txn_coord(wr_broker *b);

/* SSL and SASL_SSL listeners: reads the keystore and truststore files again (a renewed
   certificate); connections accepted from now on use them, those open keep theirs. On an error
   the old ones stay in use. WR_ESTATE for a listener without TLS. */
int wr_broker_reload_tls(wr_broker *b, wr_err *err);
/* Stops accepting, closes every connection and joins the loop thread. Idempotent. */
void wr_broker_stop(wr_broker *b);

/* Stops (if needed) and frees the broker. NULL-safe. */
void wr_broker_destroy(wr_broker *b);

#endif

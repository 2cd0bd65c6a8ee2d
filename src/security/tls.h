/*
 * tls.h - TLS for weir's listeners, as an I/O-less engine: ciphertext in, plaintext out, and
 * back, over OpenSSL with memory BIOs, so that the libuv loops keep their own sockets and never
 * block on the handshake.
 *
 * A wr_tls_ctx holds a listener's configuration with Kafka's names: the keystore (a PEM file
 * with the private key and the certificate chain: ssl.keystore.location, ssl.key.password), the
 * truststore (PEM CA certificates: ssl.truststore.location), ssl.client.auth (none, requested,
 * required) and ssl.enabled.protocols (TLSv1.2, TLSv1.3). A wr_tls_conn is one connection's
 * session: feed it what the socket read (wr_tls_conn_input: the plaintext that results is
 * appended to a buffer), give it what to send (wr_tls_conn_write), and send whatever it has to
 * send after either (wr_tls_conn_output: handshake records, encrypted data, alerts).
 *
 * Errors: a handshake that fails (a bad or missing client certificate, a protocol the listener
 * does not enable, bytes that are not TLS) gives WR_EPROTO with OpenSSL's reason in err; the
 * connection is to be closed (after sending the alert wr_tls_conn_output holds).
 *
 * Ownership: create/destroy pairs; destroy is NULL-safe. A context is reference-counted: each
 * connection holds a reference, so a context may be destroyed (or replaced, for a certificate
 * reload) while connections made from it live on; it is freed with the last of them. Threads: a
 * context is immutable once created and may be shared (its count is atomic); a connection
 * belongs to one thread.
 */
#ifndef WR_SRC_SECURITY_TLS_H
#define WR_SRC_SECURITY_TLS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/buf.h"
#include "src/base/err.h"

typedef enum wr_tls_client_auth {
    WR_TLS_CLIENT_AUTH_NONE = 0,
    WR_TLS_CLIENT_AUTH_REQUESTED = 1,
    WR_TLS_CLIENT_AUTH_REQUIRED = 2,
} wr_tls_client_auth;

typedef struct wr_tls_opts {
    const char *keystore;     /* ssl.keystore.location: PEM key + certificate chain (required) */
    const char *key_password; /* ssl.key.password, for an encrypted key; NULL: none */
    const char *truststore;   /* ssl.truststore.location: PEM CAs for client certificates */
    wr_tls_client_auth client_auth;
    const char *protocols; /* ssl.enabled.protocols; NULL: "TLSv1.2,TLSv1.3" */
    /* ALPN: the protocols the server takes, in its order of preference, in the wire format
       ("\x02h2\x08http/1.1"); NULL: no ALPN. A client offering none of them goes on without. */
    const char *alpn;
} wr_tls_opts;

typedef struct wr_tls_ctx wr_tls_ctx;
typedef struct wr_tls_conn wr_tls_conn;

/* Reads the files and checks them (the key matches the certificate; client_auth other than
   none needs a truststore). */
int wr_tls_ctx_create(const wr_tls_opts *o, wr_tls_ctx **out, wr_err *err);
void wr_tls_ctx_destroy(wr_tls_ctx *c); /* drops the creator's reference */
/* A reload: makes a context from o and puts it in *slot (under mu, which guards *slot for
   its readers), dropping the reference to the one it replaces. On an error *slot is kept. */
int wr_tls_ctx_reload(wr_tls_ctx **slot, pthread_mutex_t *mu, const wr_tls_opts *o, wr_err *err);
/* Copies o's strings into *dst (owned: wr_tls_opts_free), for a context to be made again on a
   reload. WR_ENOMEM. */
int wr_tls_opts_copy(const wr_tls_opts *o, wr_tls_opts *dst);
void wr_tls_opts_free(wr_tls_opts *o);
/* Parses ssl.client.auth; false for anything but none, requested, required. */
bool wr_tls_client_auth_parse(const char *s, wr_tls_client_auth *out);

/* A server-side session. NULL: out of memory. */
wr_tls_conn *wr_tls_conn_create(wr_tls_ctx *c);
void wr_tls_conn_destroy(wr_tls_conn *t);
/* Takes n bytes read from the socket (borrowed) and appends the plaintext they complete to
   plain. WR_OK (also when nothing is complete yet), or WR_EPROTO: the session is over. */
int wr_tls_conn_input(wr_tls_conn *t, const uint8_t *in, size_t n, wr_buf *plain, wr_err *err);
/* Encrypts n bytes of plaintext (borrowed) for sending. Only after the handshake. */
int wr_tls_conn_write(wr_tls_conn *t, const uint8_t *p, size_t n, wr_err *err);
/* What is to be sent now (owned by the caller, free()), or NULL with *len 0. */
uint8_t *wr_tls_conn_output(wr_tls_conn *t, size_t *len);
/* Whether the handshake is done. */
bool wr_tls_conn_ready(const wr_tls_conn *t);
/* The client certificate's subject as an RFC 2253 string ("CN=alice,O=weir") into out, after
   the handshake; false when the client sent none. */
bool wr_tls_conn_peer_subject(const wr_tls_conn *t, char *out, size_t cap);

#endif

/*
 * scram.h - SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's brokers speak them,
 * and the PLAIN mechanism (RFC 4616) checked against the same stored credentials.
 *
 * Credentials are what Kafka keeps for a SCRAM user: a salt, an iteration count, StoredKey =
 * H(HMAC(SaltedPassword, "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key"), with
 * SaltedPassword = PBKDF2-HMAC-H(password, salt, iterations). The password itself is never
 * stored. The primitives are OpenSSL's libcrypto (Debian's libssl-dev).
 *
 * The server side of one exchange is a wr_scram_server: wr_scram_server_step takes each client
 * message and gives the server's answer, until it says done (authenticated) or fails. A user
 * the lookup does not know gets a made-up salt and fails at the last step, like a wrong
 * password, so the exchange does not tell whether a user exists. Proofs are compared in
 * constant time. Client messages longer than WR_SCRAM_MAX_MESSAGE are refused.
 *
 * Kafka's extensions: client-first-message extensions are accepted and ignored, except
 * tokenauth=true (delegation tokens), which weir does not have and refuses. Channel binding
 * ("p=" in the GS2 header) is refused; "y" (client supports it, server does not advertise it)
 * and "n" are accepted.
 *
 * Ownership: wr_scram_server_create returns an owned server, freed with wr_scram_server_destroy
 * (NULL-safe). Output messages go into a caller's wr_buf. Threads: a server is used by one
 * thread at a time; the functions keep no global state apart from OpenSSL's.
 */
#ifndef WR_SRC_SECURITY_SCRAM_H
#define WR_SRC_SECURITY_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/buf.h"
#include "src/base/err.h"

typedef enum wr_scram_mech {
    WR_SCRAM_SHA_256 = 0,
    WR_SCRAM_SHA_512 = 1,
} wr_scram_mech;

#define WR_SCRAM_MAX_KEY       64   /* SHA-512's output */
#define WR_SCRAM_MAX_SALT      64
#define WR_SCRAM_MAX_USER      255  /* bytes of a user name */
#define WR_SCRAM_MAX_MESSAGE   4096 /* bytes of one client message */
#define WR_SCRAM_MIN_ITER      4096 /* Kafka's bounds for SCRAM iterations */
#define WR_SCRAM_MAX_ITER      16384
#define WR_SCRAM_DEFAULT_ITER  8192

/* "SCRAM-SHA-256" / "SCRAM-SHA-512". */
const char *wr_scram_mech_name(wr_scram_mech m);
/* Parses a mechanism name (case-sensitive, as Kafka's are); false for anything else. */
bool wr_scram_mech_parse(const char *name, wr_scram_mech *out);
/* Bytes of the mechanism's keys (32 or 64). */
size_t wr_scram_key_len(wr_scram_mech m);

typedef struct wr_scram_cred {
    wr_scram_mech mech;
    int32_t iterations;
    uint8_t salt[WR_SCRAM_MAX_SALT];
    size_t salt_len;
    uint8_t stored_key[WR_SCRAM_MAX_KEY];
    uint8_t server_key[WR_SCRAM_MAX_KEY];
} wr_scram_cred;

/* Whether name is a user name weir accepts: 1..WR_SCRAM_MAX_USER bytes of valid UTF-8 with no
   control characters. */
bool wr_scram_user_valid(const char *name);

/* Derives the credential of password (plen bytes, borrowed) for mech with the given salt
   (salt == NULL: 32 random bytes) and iterations (WR_SCRAM_MIN_ITER..WR_SCRAM_MAX_ITER). */
int wr_scram_cred_make(wr_scram_mech mech,
                       const char *password,
                       size_t plen,
                       const uint8_t *salt,
                       size_t salt_len,
                       int32_t iterations,
                       wr_scram_cred *out,
                       wr_err *err);
/* Whether password is the one cred was made from (constant-time compare of the keys). */
bool wr_scram_cred_check(const wr_scram_cred *cred, const char *password, size_t plen);

/* Looks up user's credential for mech into *out: 1 found, 0 no such credential, negative WR_E*
   on failure (the exchange then fails). */
typedef int (*wr_scram_lookup_fn)(void *arg, const char *user, wr_scram_mech mech,
                                  wr_scram_cred *out);

typedef struct wr_scram_server wr_scram_server;

/* A server for one exchange. lookup/arg are borrowed for the server's life. NULL: no memory. */
wr_scram_server *wr_scram_server_create(wr_scram_mech mech, wr_scram_lookup_fn lookup, void *arg);
void wr_scram_server_destroy(wr_scram_server *s);
/* Tests only: the server's part of the nonce (printable, no ','), instead of a random one. */
void wr_scram_server_set_nonce(wr_scram_server *s, const char *nonce);

/* Takes one client message (in[0..n), borrowed) and appends the server's answer to out. WR_OK
   with *done false: send out and wait for the next message; WR_OK with *done true: out holds
   server-final-message and the client is authenticated as wr_scram_server_user. Failure
   (WR_EPERM: bad credentials; WR_EPROTO: a malformed message; WR_ETOOBIG; WR_ESTATE: a step
   after the end) fills err with a message for the server's log; the exchange is over. */
int wr_scram_server_step(
    wr_scram_server *s, const uint8_t *in, size_t n, wr_buf *out, bool *done, wr_err *err);
/* The authenticated user (valid until destroy), or NULL before the exchange is done. */
const char *wr_scram_server_user(const wr_scram_server *s);

/* PLAIN (RFC 4616): splits "authzid NUL authcid NUL passwd" (in[0..n), borrowed) into user
   (authcid, NUL-terminated, at most WR_SCRAM_MAX_USER bytes) and the password's place in in.
   An authzid other than empty or the authcid is refused (Kafka's rule). WR_EPROTO on a malformed
   message. */
int wr_sasl_plain_parse(const uint8_t *in,
                        size_t n,
                        char user[WR_SCRAM_MAX_USER + 1],
                        const char **password,
                        size_t *plen,
                        wr_err *err);

#endif

/*
 * basic.h - HTTP Basic authentication (RFC 7617) against the SCRAM credential store, for the
 * HTTP API's `authentication.method=BASIC` (ksqlDB's setting).
 *
 * An Authorization header "Basic base64(user:password)" is checked against the user's SCRAM
 * credential (SCRAM-SHA-512 first, then SHA-256) with the same key derivation a SCRAM login
 * does. The derivation costs milliseconds, so a success is remembered for cache_ms: a cache of
 * the last 64 (user, password) pairs, kept as a keyed hash of both (the password itself is not
 * kept). Failures are not cached.
 *
 * Ownership: the logdb is borrowed for the checker's life. Threads: any (one mutex).
 */
#ifndef WR_SRC_SECURITY_BASIC_H
#define WR_SRC_SECURITY_BASIC_H

#include <stdint.h>

#include "src/base/err.h"
#include "src/security/scram.h"

typedef struct wr_logdb wr_logdb;
typedef struct wr_basic_auth wr_basic_auth;

/* NULL: out of memory. cache_ms <= 0: 60000. */
wr_basic_auth *wr_basic_auth_create(wr_logdb *db, int64_t cache_ms);
void wr_basic_auth_destroy(wr_basic_auth *a); /* NULL-safe */

/* Checks an Authorization header's value (borrowed; NULL: no header). WR_OK and the user's name
   in user when it holds a user's right password; WR_EPERM for anything else (no header, another
   scheme, malformed base64, no ':', an unknown user, a wrong password), WR_EIO when the store
   fails. err says which, for the server's log; clients are told only that they are not
   authorized. */
int wr_basic_auth_check(wr_basic_auth *a,
                        const char *header,
                        char user[WR_SCRAM_MAX_USER + 1],
                        wr_err *err);

#endif

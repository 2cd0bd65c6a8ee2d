/*
 * creds.h - the SCRAM credential store: each user's salted credentials per mechanism, in the
 * log's metadata (the LMDB table "scram_credentials"), as Kafka keeps them in its metadata.
 *
 * A row's key is the user name, a NUL and the mechanism's name; its value (version 1):
 *   u8 version, u8 mechanism, be32 iterations, u8 salt length, salt, stored key, server key
 * (each key wr_scram_key_len bytes). Passwords are never stored.
 *
 * Ownership: the logdb is borrowed. Threads: any (each call is its own LMDB transaction).
 */
#ifndef WR_SRC_SECURITY_CREDS_H
#define WR_SRC_SECURITY_CREDS_H

#include "src/base/err.h"
#include "src/security/scram.h"

typedef struct wr_logdb wr_logdb;

#define WR_CREDS_TABLE "scram_credentials"

/* Stores (or replaces) user's credential for cred->mech. */
int wr_creds_put(wr_logdb *db, const char *user, const wr_scram_cred *cred, wr_err *err);
/* user's credential for mech into *out; WR_ENOENT when there is none, WR_ECORRUPT for a row
   that does not decode. */
int wr_creds_get(wr_logdb *db, const char *user, wr_scram_mech mech, wr_scram_cred *out,
                 wr_err *err);
/* Deletes user's credential for mech; WR_ENOENT when there was none. */
int wr_creds_delete(wr_logdb *db, const char *user, wr_scram_mech mech, wr_err *err);
/* Calls fn for every credential in (user, mechanism) order; fn returns non-zero to stop. user
   is borrowed for the call. */
int wr_creds_list(wr_logdb *db,
                  int (*fn)(void *arg, const char *user, const wr_scram_cred *cred),
                  void *arg,
                  wr_err *err);

/* A wr_scram_lookup_fn over the store (arg: the wr_logdb). */
int wr_creds_lookup(void *db, const char *user, wr_scram_mech mech, wr_scram_cred *out);

#endif

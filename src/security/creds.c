/*
 * creds.c - the SCRAM credential store over the log's metadata tables. See creds.h.
 */
#include "src/security/creds.h"

#include <string.h>

#include "src/base/buf.h"
#include "src/log/log.h"

#define ROW_VERSION 1

/* The row key of (user, mech) into k; returns its length (0: the user name is not valid). */
static size_t
row_key(const char *user, wr_scram_mech mech, char k[WR_SCRAM_MAX_USER + 24])
{
    if (!wr_scram_user_valid(user))
        return 0;
    size_t ul = strlen(user);
    const char *mn = wr_scram_mech_name(mech);
    memcpy(k, user, ul);
    k[ul] = 0;
    memcpy(k + ul + 1, mn, strlen(mn));
    return ul + 1 + strlen(mn);
}

int
wr_creds_put(wr_logdb *db, const char *user, const wr_scram_cred *cred, wr_err *err)
{
    char k[WR_SCRAM_MAX_USER + 24];
    size_t kl = row_key(user, cred->mech, k);
    if (kl == 0)
        return wr_err_set(err, WR_EINVAL, "'%s' is not a valid user name", user);
    size_t kn = wr_scram_key_len(cred->mech);
    uint8_t v[1 + 1 + 4 + 1 + WR_SCRAM_MAX_SALT + 2 * WR_SCRAM_MAX_KEY];
    size_t n = 0;
    v[n++] = ROW_VERSION;
    v[n++] = (uint8_t)cred->mech;
    wr_be32_put(v + n, (uint32_t)cred->iterations);
    n += 4;
    v[n++] = (uint8_t)cred->salt_len;
    memcpy(v + n, cred->salt, cred->salt_len);
    n += cred->salt_len;
    memcpy(v + n, cred->stored_key, kn);
    n += kn;
    memcpy(v + n, cred->server_key, kn);
    n += kn;
    return wr_log_meta_put(db, WR_CREDS_TABLE, k, kl, v, n, err);
}

/* Decodes a row's value; false when it is not one. */
static bool
decode(const uint8_t *v, size_t n, wr_scram_cred *out)
{
    memset(out, 0, sizeof *out);
    if (n < 7 || v[0] != ROW_VERSION || v[1] > WR_SCRAM_SHA_512)
        return false;
    out->mech = (wr_scram_mech)v[1];
    out->iterations = (int32_t)wr_be32_get(v + 2);
    out->salt_len = v[6];
    size_t kn = wr_scram_key_len(out->mech);
    if (out->salt_len == 0 || out->salt_len > WR_SCRAM_MAX_SALT ||
        n != 7 + out->salt_len + 2 * kn || out->iterations < WR_SCRAM_MIN_ITER ||
        out->iterations > WR_SCRAM_MAX_ITER)
        return false;
    memcpy(out->salt, v + 7, out->salt_len);
    memcpy(out->stored_key, v + 7 + out->salt_len, kn);
    memcpy(out->server_key, v + 7 + out->salt_len + kn, kn);
    return true;
}

int
wr_creds_get(wr_logdb *db, const char *user, wr_scram_mech mech, wr_scram_cred *out, wr_err *err)
{
    char k[WR_SCRAM_MAX_USER + 24];
    size_t kl = row_key(user, mech, k);
    if (kl == 0)
        return wr_err_set(err, WR_ENOENT, "no user '%s'", user);
    wr_buf v = WR_BUF_INIT;
    int rc = wr_log_meta_get(db, WR_CREDS_TABLE, k, kl, &v, err);
    if (rc == WR_OK && (!decode(v.data, v.len, out) || out->mech != mech))
        rc = wr_err_set(err, WR_ECORRUPT, "the %s credential of '%s' does not decode",
                        wr_scram_mech_name(mech), user);
    wr_buf_free(&v);
    if (rc == WR_ENOENT)
        return wr_err_set(err, WR_ENOENT, "no %s credential for '%s'", wr_scram_mech_name(mech),
                          user);
    return rc;
}

int
wr_creds_delete(wr_logdb *db, const char *user, wr_scram_mech mech, wr_err *err)
{
    wr_scram_cred c;
    int rc = wr_creds_get(db, user, mech, &c, err);
    if (rc != WR_OK)
        return rc;
    char k[WR_SCRAM_MAX_USER + 24];
    size_t kl = row_key(user, mech, k);
    return wr_log_meta_del(db, WR_CREDS_TABLE, k, kl, err);
}

typedef struct list_ctx {
    int (*fn)(void *arg, const char *user, const wr_scram_cred *cred);
    void *arg;
} list_ctx;

static int
list_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    list_ctx *l = arg;
    const char *z = memchr(key, 0, klen);
    wr_scram_cred c;
    if (z == NULL || (size_t)(z - (const char *)key) > WR_SCRAM_MAX_USER || !decode(val, vlen, &c))
        return 0; /* not a row of ours: skipped */
    char user[WR_SCRAM_MAX_USER + 1];
    memcpy(user, key, (size_t)(z - (const char *)key));
    user[z - (const char *)key] = 0;
    return l->fn(l->arg, user, &c);
}

int
wr_creds_list(wr_logdb *db,
              int (*fn)(void *arg, const char *user, const wr_scram_cred *cred),
              void *arg,
              wr_err *err)
{
    list_ctx l = {fn, arg};
    return wr_log_meta_scan(db, WR_CREDS_TABLE, "", 0, list_one, &l, err);
}

int
wr_creds_lookup(void *db, const char *user, wr_scram_mech mech, wr_scram_cred *out)
{
    wr_err err = {0};
    int rc = wr_creds_get(db, user, mech, out, &err);
    return rc == WR_OK ? 1 : rc == WR_ENOENT ? 0 : rc;
}

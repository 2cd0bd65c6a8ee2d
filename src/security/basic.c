/*
 * basic.c - HTTP Basic authentication over the SCRAM credential store, with a cache of recent
 * successes. See basic.h.
 */
#include "src/security/basic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "src/base/clock.h"
#include "src/security/creds.h"

#define SLOTS        64
#define MAX_HEADER   4096

typedef struct slot {
    uint8_t key[32]; /* HMAC-SHA-256(secret, user NUL password) */
    char user[WR_SCRAM_MAX_USER + 1];
    int64_t expires_ms; /* 0: empty */
} slot;

struct wr_basic_auth {
    wr_logdb *db;
    int64_t cache_ms;
    pthread_mutex_t mu;
    uint8_t secret[32];
    slot slots[SLOTS];
    int next; /* the slot the next success takes (round robin) */
};

wr_basic_auth *
wr_basic_auth_create(wr_logdb *db, int64_t cache_ms)
{
    wr_basic_auth *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    if (RAND_bytes(a->secret, sizeof a->secret) != 1) {
        free(a);
        return NULL;
    }
    a->db = db;
    a->cache_ms = cache_ms > 0 ? cache_ms : 60000;
    pthread_mutex_init(&a->mu, NULL);
    return a;
}

void
wr_basic_auth_destroy(wr_basic_auth *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mu);
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
}

int
wr_basic_auth_check(wr_basic_auth *a,
                    const char *header,
                    char user[WR_SCRAM_MAX_USER + 1],
                    wr_err *err)
{
    user[0] = 0;
    if (header == NULL)
        return wr_err_set(err, WR_EPERM, "no Authorization header");
    while (*header == ' ')
        header++;
    if (strncasecmp(header, "Basic ", 6) != 0)
        return wr_err_set(err, WR_EPERM, "not Basic authentication");
    const char *b64 = header + 6;
    while (*b64 == ' ')
        b64++;
    size_t n = strlen(b64);
    while (n > 0 && b64[n - 1] == ' ')
        n--;
    if (n == 0 || n % 4 != 0 || n > MAX_HEADER)
        return wr_err_set(err, WR_EPERM, "malformed Basic credentials");
    uint8_t dec[MAX_HEADER];
    int dl = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
    if (dl < 0)
        return wr_err_set(err, WR_EPERM, "malformed Basic credentials");
    dl -= (b64[n - 1] == '=') + (b64[n - 2] == '=');
    const uint8_t *colon = memchr(dec, ':', (size_t)dl);
    size_t ul = colon ? (size_t)(colon - dec) : 0;
    if (colon == NULL || ul == 0 || ul > WR_SCRAM_MAX_USER || memchr(dec, 0, (size_t)dl) != NULL) {
        OPENSSL_cleanse(dec, sizeof dec);
        return wr_err_set(err, WR_EPERM, "malformed Basic credentials");
    }
    memcpy(user, dec, ul);
    user[ul] = 0;
    const char *pw = (const char *)colon + 1;
    size_t pl = (size_t)dl - ul - 1;

    uint8_t key[32];
    unsigned int kl = 0;
    dec[ul] = 0; /* user NUL password, for the keyed hash */
    bool hashed = HMAC(EVP_sha256(), a->secret, sizeof a->secret, dec, (size_t)dl, key, &kl) != NULL;
    int64_t now = wr_clock_mono_ns() / 1000000;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; hashed && i < SLOTS; i++) {
        slot *s = &a->slots[i];
        if (s->expires_ms > now && CRYPTO_memcmp(s->key, key, sizeof key) == 0 &&
            strcmp(s->user, user) == 0) {
            pthread_mutex_unlock(&a->mu);
            OPENSSL_cleanse(dec, sizeof dec);
            return WR_OK;
        }
    }
    pthread_mutex_unlock(&a->mu);

    int rc = WR_OK;
    wr_scram_cred cred;
    int found = 0;
    if (wr_scram_user_valid(user))
        for (int m = WR_SCRAM_SHA_512; m >= WR_SCRAM_SHA_256 && found == 0; m--)
            found = wr_creds_lookup(a->db, user, (wr_scram_mech)m, &cred);
    if (found < 0)
        rc = wr_err_set(err, WR_EIO, "the credential store failed");
    else if (found == 0 || pl == 0 || !wr_scram_cred_check(&cred, pw, pl))
        rc = wr_err_set(err, WR_EPERM, "invalid credentials for '%s'", user);
    OPENSSL_cleanse(dec, sizeof dec);
    OPENSSL_cleanse(&cred, sizeof cred);
    if (rc == WR_OK && hashed) {
        pthread_mutex_lock(&a->mu);
        slot *s = &a->slots[a->next];
        a->next = (a->next + 1) % SLOTS;
        memcpy(s->key, key, sizeof key);
        snprintf(s->user, sizeof s->user, "%s", user);
        s->expires_ms = now + a->cache_ms;
        pthread_mutex_unlock(&a->mu);
    }
    return rc;
}

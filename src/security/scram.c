/*
 * scram.c - SCRAM-SHA-256/512 server exchanges and PLAIN parsing over libcrypto. See scram.h.
 *
 * The messages (RFC 5802 section 7):
 *   client-first  gs2-header client-first-bare
 *                 gs2-header        = ("n" | "y" | "p=" cb-name) "," ["a=" saslname] ","
 *                 client-first-bare = "n=" saslname ",r=" c-nonce ["," extensions]
 *   server-first  "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" iterations
 *   client-final  "c=" base64(gs2-header) ",r=" nonce ["," extensions] ",p=" base64(ClientProof)
 *   server-final  "v=" base64(ServerSignature)
 * AuthMessage = client-first-bare "," server-first "," client-final-without-proof;
 * ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage), and the proof holds when
 * H(ClientKey) == StoredKey.
 */
#include "src/security/scram.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

enum { ST_FIRST, ST_FINAL, ST_DONE, ST_FAILED };

struct wr_scram_server {
    wr_scram_mech mech;
    wr_scram_lookup_fn lookup;
    void *arg;
    int state;
    bool known;         /* the user has a credential (else: a made-up one, and the end fails) */
    wr_scram_cred cred; /* the user's, or the made-up one */
    char user[WR_SCRAM_MAX_USER + 1];
    char gs2[WR_SCRAM_MAX_USER + 16]; /* the gs2-header, as the client sent it */
    char snonce[64];                  /* the server's part of the nonce */
    wr_buf first_bare, server_first;
    char *nonce; /* c-nonce s-nonce (owned) */
};

static const EVP_MD *
md(wr_scram_mech m)
{
    return m == WR_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
}

const char *
wr_scram_mech_name(wr_scram_mech m)
{
    return m == WR_SCRAM_SHA_512 ? "SCRAM-SHA-512" : "SCRAM-SHA-256";
}

bool
wr_scram_mech_parse(const char *name, wr_scram_mech *out)
{
    if (strcmp(name, "SCRAM-SHA-256") == 0)
        *out = WR_SCRAM_SHA_256;
    else if (strcmp(name, "SCRAM-SHA-512") == 0)
        *out = WR_SCRAM_SHA_512;
    else
        return false;
    return true;
}

size_t
wr_scram_key_len(wr_scram_mech m)
{
    return m == WR_SCRAM_SHA_512 ? 64 : 32;
}

bool
wr_scram_user_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > WR_SCRAM_MAX_USER)
        return false;
    const unsigned char *p = (const unsigned char *)name;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n || c < 0x20 || c == 0x7f)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

/* HMAC-H(key, data) into out (wr_scram_key_len bytes). */
static bool
hmac(wr_scram_mech m, const uint8_t *key, size_t klen, const void *data, size_t n, uint8_t *out)
{
    unsigned int olen = 0;
    return HMAC(md(m), key, (int)klen, data, n, out, &olen) != NULL &&
           olen == wr_scram_key_len(m);
}

static bool
digest(wr_scram_mech m, const uint8_t *data, size_t n, uint8_t *out)
{
    unsigned int olen = 0;
    return EVP_Digest(data, n, out, &olen, md(m), NULL) == 1 && olen == wr_scram_key_len(m);
}

/* StoredKey and ServerKey of a salted password. */
static bool
keys_of(wr_scram_mech m, const uint8_t *salted, uint8_t *stored, uint8_t *server)
{
    size_t kl = wr_scram_key_len(m);
    uint8_t client_key[WR_SCRAM_MAX_KEY];
    bool ok = hmac(m, salted, kl, "Client Key", 10, client_key) &&
              digest(m, client_key, kl, stored) && hmac(m, salted, kl, "Server Key", 10, server);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return ok;
}

int
wr_scram_cred_make(wr_scram_mech mech,
                   const char *password,
                   size_t plen,
                   const uint8_t *salt,
                   size_t salt_len,
                   int32_t iterations,
                   wr_scram_cred *out,
                   wr_err *err)
{
    if (iterations < WR_SCRAM_MIN_ITER || iterations > WR_SCRAM_MAX_ITER)
        return wr_err_set(err, WR_EINVAL, "SCRAM iterations must be from %d to %d, not %d",
                          WR_SCRAM_MIN_ITER, WR_SCRAM_MAX_ITER, (int)iterations);
    if (plen == 0 || plen > 1024)
        return wr_err_set(err, WR_EINVAL, "a password must have 1 to 1024 bytes");
    memset(out, 0, sizeof *out);
    out->mech = mech;
    out->iterations = iterations;
    if (salt == NULL) {
        out->salt_len = 32;
        if (RAND_bytes(out->salt, (int)out->salt_len) != 1)
            return wr_err_set(err, WR_EINTERNAL, "no random bytes for a salt");
    } else {
        if (salt_len == 0 || salt_len > WR_SCRAM_MAX_SALT)
            return wr_err_set(err, WR_EINVAL, "a salt must have 1 to %d bytes", WR_SCRAM_MAX_SALT);
        memcpy(out->salt, salt, salt_len);
        out->salt_len = salt_len;
    }
    uint8_t salted[WR_SCRAM_MAX_KEY];
    size_t kl = wr_scram_key_len(mech);
    bool ok = PKCS5_PBKDF2_HMAC(password, (int)plen, out->salt, (int)out->salt_len, iterations,
                                md(mech), (int)kl, salted) == 1 &&
              keys_of(mech, salted, out->stored_key, out->server_key);
    OPENSSL_cleanse(salted, sizeof salted);
    return ok ? WR_OK : wr_err_set(err, WR_EINTERNAL, "key derivation failed");
}

bool
wr_scram_cred_check(const wr_scram_cred *cred, const char *password, size_t plen)
{
    wr_scram_cred again;
    wr_err err = {0};
    if (wr_scram_cred_make(cred->mech, password, plen, cred->salt, cred->salt_len,
                           cred->iterations, &again, &err) != WR_OK)
        return false;
    size_t kl = wr_scram_key_len(cred->mech);
    return CRYPTO_memcmp(again.stored_key, cred->stored_key, kl) == 0 &&
           CRYPTO_memcmp(again.server_key, cred->server_key, kl) == 0;
}

/* ---- the exchange ------------------------------------------------------------------------ */

wr_scram_server *
wr_scram_server_create(wr_scram_mech mech, wr_scram_lookup_fn lookup, void *arg)
{
    wr_scram_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->mech = mech;
    s->lookup = lookup;
    s->arg = arg;
    s->state = ST_FIRST;
    s->first_bare = (wr_buf)WR_BUF_INIT;
    s->server_first = (wr_buf)WR_BUF_INIT;
    return s;
}

void
wr_scram_server_destroy(wr_scram_server *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(&s->cred, sizeof s->cred);
    wr_buf_free(&s->first_bare);
    wr_buf_free(&s->server_first);
    free(s->nonce);
    free(s);
}

void
wr_scram_server_set_nonce(wr_scram_server *s, const char *nonce)
{
    snprintf(s->snonce, sizeof s->snonce, "%s", nonce);
}

const char *
wr_scram_server_user(const wr_scram_server *s)
{
    return s->state == ST_DONE ? s->user : NULL;
}

static void
b64_put(wr_buf *out, const uint8_t *p, size_t n)
{
    char enc[4 * ((WR_SCRAM_MAX_MESSAGE + 2) / 3) + 1];
    if (n > WR_SCRAM_MAX_MESSAGE)
        n = WR_SCRAM_MAX_MESSAGE;
    int len = EVP_EncodeBlock((unsigned char *)enc, p, (int)n);
    wr_buf_append(out, enc, (size_t)len);
}

/* Decodes base64 s[0..n) into out (cap bytes); -1 when malformed or too long. */
static int
b64_get(const char *s, size_t n, uint8_t *out, size_t cap)
{
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap + 2 || n > WR_SCRAM_MAX_MESSAGE)
        return n == 0 ? 0 : -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool pad = c == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '=');
        if (!pad && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/'))
            return -1;
    }
    uint8_t tmp[3 * (WR_SCRAM_MAX_MESSAGE / 4)];
    int len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
    if (len < 0)
        return -1;
    len -= (s[n - 1] == '=') + (s[n - 2] == '=');
    if ((size_t)len > cap)
        return -1;
    memcpy(out, tmp, (size_t)len);
    return len;
}

/* Unescapes a saslname ("=2C" -> ',', "=3D" -> '=') of s[0..n) into out; false when malformed
   or too long. */
static bool
saslname(const char *s, size_t n, char out[WR_SCRAM_MAX_USER + 1])
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=') {
            if (i + 2 >= n)
                return false;
            if (s[i + 1] == '2' && s[i + 2] == 'C')
                c = ',';
            else if (s[i + 1] == '3' && s[i + 2] == 'D')
                c = '=';
            else
                return false;
            i += 2;
        } else if (c == ',' || c == 0) {
            return false;
        }
        if (k == WR_SCRAM_MAX_USER)
            return false;
        out[k++] = c;
    }
    out[k] = 0;
    return k > 0;
}

/* The end of the attribute "x=value" that starts at p (the next ',' or the end). */
static const char *
attr_end(const char *p, const char *end)
{
    const char *c = memchr(p, ',', (size_t)(end - p));
    return c ? c : end;
}

static int
fail(wr_scram_server *s, int code, wr_err *err, const char *msg)
{
    s->state = ST_FAILED;
    return wr_err_set(err, code, "%s", msg);
}

/* A made-up credential for a user without one: stable per user within the process, so that
   two attempts for one unknown name see the same salt. */
static void
made_up(wr_scram_server *s)
{
    static uint8_t secret[32];
    static bool have;
    if (!have) {
        (void)RAND_bytes(secret, sizeof secret);
        have = true;
    }
    uint8_t h[WR_SCRAM_MAX_KEY];
    (void)hmac(WR_SCRAM_SHA_256, secret, sizeof secret, s->user, strlen(s->user), h);
    memset(&s->cred, 0, sizeof s->cred);
    s->cred.mech = s->mech;
    s->cred.iterations = WR_SCRAM_DEFAULT_ITER;
    s->cred.salt_len = 32;
    memcpy(s->cred.salt, h, 32);
    (void)RAND_bytes(s->cred.stored_key, sizeof s->cred.stored_key);
    (void)RAND_bytes(s->cred.server_key, sizeof s->cred.server_key);
}

static int
step_first(wr_scram_server *s, const char *m, size_t n, wr_buf *out, wr_err *err)
{
    const char *end = m + n, *p = m;
    /* gs2-header */
    if (n >= 2 && (m[0] == 'n' || m[0] == 'y') && m[1] == ',')
        p = m + 2;
    else if (n >= 2 && m[0] == 'p' && m[1] == '=')
        return fail(s, WR_EPROTO, err, "SCRAM: channel binding is not supported");
    else
        return fail(s, WR_EPROTO, err, "SCRAM: malformed client-first-message (gs2 header)");
    char authzid[WR_SCRAM_MAX_USER + 1] = "";
    if (p < end && *p == 'a') {
        const char *e = attr_end(p, end);
        if (e - p < 3 || p[1] != '=' || !saslname(p + 2, (size_t)(e - p - 2), authzid))
            return fail(s, WR_EPROTO, err, "SCRAM: malformed authzid");
        p = e;
    }
    if (p >= end || *p != ',')
        return fail(s, WR_EPROTO, err, "SCRAM: malformed client-first-message (gs2 header)");
    p++;
    size_t gl = (size_t)(p - m);
    if (gl >= sizeof s->gs2)
        return fail(s, WR_EPROTO, err, "SCRAM: gs2 header too long");
    memcpy(s->gs2, m, gl);
    s->gs2[gl] = 0;
    const char *bare = p;
    /* n=user */
    const char *e = attr_end(p, end);
    if (e - p < 3 || p[0] != 'n' || p[1] != '=' || !saslname(p + 2, (size_t)(e - p - 2), s->user))
        return fail(s, WR_EPROTO, err, "SCRAM: malformed user name");
    if (!wr_scram_user_valid(s->user))
        return fail(s, WR_EPROTO, err, "SCRAM: invalid user name");
    if (authzid[0] != 0 && strcmp(authzid, s->user) != 0)
        return fail(s, WR_EPERM, err,
                    "SCRAM: the authorization id differs from the user name");
    /* r=c-nonce */
    p = e;
    if (p >= end || *p != ',')
        return fail(s, WR_EPROTO, err, "SCRAM: malformed client-first-message (no nonce)");
    p++;
    e = attr_end(p, end);
    if (e - p < 3 || p[0] != 'r' || p[1] != '=')
        return fail(s, WR_EPROTO, err, "SCRAM: malformed client-first-message (no nonce)");
    const char *cn = p + 2;
    size_t cnl = (size_t)(e - cn);
    for (size_t i = 0; i < cnl; i++)
        if (cn[i] < 0x21 || cn[i] > 0x7e)
            return fail(s, WR_EPROTO, err, "SCRAM: the client nonce is not printable");
    /* extensions: tokenauth=true asks for delegation tokens */
    for (p = e; p < end;) {
        p++;
        e = attr_end(p, end);
        if ((size_t)(e - p) == 14 && memcmp(p, "tokenauth=true", 14) == 0)
            return fail(s, WR_EPERM, err, "SCRAM: delegation tokens are not supported");
        p = e;
    }
    wr_buf_append(&s->first_bare, bare, (size_t)(end - bare));

    int found = s->lookup(s->arg, s->user, s->mech, &s->cred);
    if (found < 0)
        return fail(s, WR_EIO, err, "SCRAM: the credential store failed");
    s->known = found == 1 && s->cred.mech == s->mech;
    if (!s->known)
        made_up(s);

    if (s->snonce[0] == 0) {
        uint8_t rnd[24];
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return fail(s, WR_EINTERNAL, err, "SCRAM: no random bytes for a nonce");
        wr_buf t = WR_BUF_INIT;
        b64_put(&t, rnd, sizeof rnd);
        snprintf(s->snonce, sizeof s->snonce, "%.*s", (int)t.len, (const char *)t.data);
        wr_buf_free(&t);
    }
    size_t nl = cnl + strlen(s->snonce);
    if ((s->nonce = malloc(nl + 1)) == NULL)
        return fail(s, WR_ENOMEM, err, "out of memory");
    memcpy(s->nonce, cn, cnl);
    strcpy(s->nonce + cnl, s->snonce);

    wr_buf *sf = &s->server_first;
    wr_buf_append(sf, "r=", 2);
    wr_buf_append(sf, s->nonce, nl);
    wr_buf_append(sf, ",s=", 3);
    b64_put(sf, s->cred.salt, s->cred.salt_len);
    char it[24];
    int il = snprintf(it, sizeof it, ",i=%d", (int)s->cred.iterations);
    wr_buf_append(sf, it, (size_t)il);
    if (!wr_buf_ok(sf) || !wr_buf_ok(&s->first_bare))
        return fail(s, WR_ENOMEM, err, "out of memory");
    wr_buf_append(out, sf->data, sf->len);
    s->state = ST_FINAL;
    return WR_OK;
}

static int
step_final(wr_scram_server *s, const char *m, size_t n, wr_buf *out, wr_err *err)
{
    const char *end = m + n, *p = m;
    /* c=base64(gs2-header) */
    const char *e = attr_end(p, end);
    uint8_t cb[sizeof s->gs2];
    int cbl = e - p >= 2 && p[0] == 'c' && p[1] == '='
                  ? b64_get(p + 2, (size_t)(e - p - 2), cb, sizeof cb)
                  : -1;
    if (cbl < 0)
        return fail(s, WR_EPROTO, err, "SCRAM: malformed client-final-message (channel binding)");
    if ((size_t)cbl != strlen(s->gs2) || memcmp(cb, s->gs2, (size_t)cbl) != 0)
        return fail(s, WR_EPERM, err, "SCRAM: the channel binding does not match the gs2 header");
    /* r=nonce. Kafka's rule: the nonce must end with the server-first-message's (librdkafka
       2.0 sends its own nonce again in front of it) */
    p = e < end ? e + 1 : end;
    e = attr_end(p, end);
    size_t nl = strlen(s->nonce);
    if (e - p < 2 || p[0] != 'r' || p[1] != '=' || (size_t)(e - p - 2) < nl ||
        memcmp(e - nl, s->nonce, nl) != 0)
        return fail(s, WR_EPERM, err, "SCRAM: the nonce does not match");
    /* [extensions] ,p=proof: the proof is the last attribute */
    const char *pp = NULL;
    for (const char *q = e; q < end; q = attr_end(q + 1, end))
        if (end - q >= 3 && q[0] == ',' && q[1] == 'p' && q[2] == '=')
            pp = q;
    if (pp == NULL || attr_end(pp + 1, end) != end)
        return fail(s, WR_EPROTO, err, "SCRAM: malformed client-final-message (no proof)");
    size_t kl = wr_scram_key_len(s->mech);
    uint8_t proof[WR_SCRAM_MAX_KEY];
    int prl = b64_get(pp + 3, (size_t)(end - pp - 3), proof, sizeof proof);
    if (prl < 0 || (size_t)prl != kl)
        return fail(s, WR_EPROTO, err, "SCRAM: malformed proof");

    wr_buf am = WR_BUF_INIT;
    wr_buf_append(&am, s->first_bare.data, s->first_bare.len);
    wr_buf_append(&am, ",", 1);
    wr_buf_append(&am, s->server_first.data, s->server_first.len);
    wr_buf_append(&am, ",", 1);
    wr_buf_append(&am, m, (size_t)(pp - m));
    if (!wr_buf_ok(&am)) {
        wr_buf_free(&am);
        return fail(s, WR_ENOMEM, err, "out of memory");
    }
    uint8_t sig[WR_SCRAM_MAX_KEY], client_key[WR_SCRAM_MAX_KEY], stored[WR_SCRAM_MAX_KEY],
        ssig[WR_SCRAM_MAX_KEY];
    bool ok = hmac(s->mech, s->cred.stored_key, kl, am.data, am.len, sig);
    for (size_t i = 0; i < kl; i++)
        client_key[i] = proof[i] ^ sig[i];
    ok = ok && digest(s->mech, client_key, kl, stored) &&
         hmac(s->mech, s->cred.server_key, kl, am.data, am.len, ssig);
    bool match = ok && CRYPTO_memcmp(stored, s->cred.stored_key, kl) == 0;
    wr_buf_free(&am);
    OPENSSL_cleanse(client_key, sizeof client_key);
    if (!ok)
        return fail(s, WR_EINTERNAL, err, "SCRAM: HMAC failed");
    if (!match || !s->known)
        return fail(s, WR_EPERM, err, "SCRAM: invalid credentials");
    wr_buf_append(out, "v=", 2);
    b64_put(out, ssig, kl);
    s->state = ST_DONE;
    return WR_OK;
}

int
wr_scram_server_step(
    wr_scram_server *s, const uint8_t *in, size_t n, wr_buf *out, bool *done, wr_err *err)
{
    *done = false;
    if (n > WR_SCRAM_MAX_MESSAGE)
        return fail(s, WR_ETOOBIG, err, "SCRAM: client message too long");
    if (memchr(in, 0, n) != NULL)
        return fail(s, WR_EPROTO, err, "SCRAM: a NUL byte in a client message");
    const char *m = (const char *)in;
    int rc;
    switch (s->state) {
    case ST_FIRST:
        return step_first(s, m, n, out, err);
    case ST_FINAL:
        rc = step_final(s, m, n, out, err);
        *done = rc == WR_OK;
        return rc;
    default:
        return wr_err_set(err, WR_ESTATE, "SCRAM: the exchange is over");
    }
}

int
wr_sasl_plain_parse(const uint8_t *in,
                    size_t n,
                    char user[WR_SCRAM_MAX_USER + 1],
                    const char **password,
                    size_t *plen,
                    wr_err *err)
{
    const uint8_t *z1 = memchr(in, 0, n);
    const uint8_t *z2 = z1 ? memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - in)) : NULL;
    if (n > WR_SCRAM_MAX_MESSAGE || z1 == NULL || z2 == NULL ||
        memchr(z2 + 1, 0, n - (size_t)(z2 + 1 - in)) != NULL)
        return wr_err_set(err, WR_EPROTO, "PLAIN: malformed message");
    size_t al = (size_t)(z1 - in), ul = (size_t)(z2 - z1 - 1);
    if (ul == 0 || ul > WR_SCRAM_MAX_USER || (size_t)(in + n - z2 - 1) == 0)
        return wr_err_set(err, WR_EPROTO, "PLAIN: an empty or too long user name or password");
    memcpy(user, z1 + 1, ul);
    user[ul] = 0;
    if (al > 0 && (al != ul || memcmp(in, user, ul) != 0))
        return wr_err_set(err, WR_EPERM, "PLAIN: the authorization id differs from the user name");
    *password = (const char *)z2 + 1;
    *plen = (size_t)(in + n - z2 - 1);
    return WR_OK;
}

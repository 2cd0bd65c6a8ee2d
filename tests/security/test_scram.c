/* Unit tests for src/security/scram.c: RFC 7677's exchange, Kafka's variants of the messages,
   and every way a client message can be wrong. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "src/security/scram.h"

/* RFC 7677 section 3: user "user", password "pencil". */
#define RFC_SALT   "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_FIRST  "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SFIRST "r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE ",s=" RFC_SALT ",i=4096"
#define RFC_FINAL                                                                                  \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

typedef struct users {
    const char *name;
    wr_scram_cred cred;
    int calls;
    int fail; /* the lookup fails */
} users;

static int
lookup(void *arg, const char *user, wr_scram_mech mech, wr_scram_cred *out)
{
    users *u = arg;
    u->calls++;
    if (u->fail)
        return -5;
    if (strcmp(user, u->name) != 0 || mech != u->cred.mech)
        return 0;
    *out = u->cred;
    return 1;
}

static users
rfc_user(void)
{
    users u = {.name = "user"};
    uint8_t salt[16];
    cr_assert_eq(EVP_DecodeBlock(salt, (const unsigned char *)RFC_SALT, 24), 18);
    wr_err err = {0};
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_256, "pencil", 6, salt, 16, 4096, &u.cred, &err),
                 WR_OK, "%s", err.msg);
    return u;
}

/* Runs one step; returns its rc and leaves the answer in out (NUL-terminated). */
static int
step(wr_scram_server *s, const char *msg, char *out, size_t cap, bool *done, wr_err *err)
{
    wr_buf b = WR_BUF_INIT;
    int rc = wr_scram_server_step(s, (const uint8_t *)msg, strlen(msg), &b, done, err);
    cr_assert(b.len < cap);
    memcpy(out, b.data ? (const char *)b.data : "", b.len);
    out[b.len] = 0;
    wr_buf_free(&b);
    return rc;
}

Test(security_scram, the_rfc_7677_exchange_gives_the_rfc_messages)
{
    users u = rfc_user();
    wr_scram_server *s = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
    wr_scram_server_set_nonce(s, RFC_SNONCE);
    char out[512];
    bool done = true;
    wr_err err = {0};
    cr_assert_eq(step(s, RFC_FIRST, out, sizeof out, &done, &err), WR_OK, "%s", err.msg);
    cr_assert_not(done);
    cr_assert_str_eq(out, RFC_SFIRST);
    cr_assert_null(wr_scram_server_user(s));
    cr_assert_eq(step(s, RFC_FINAL, out, sizeof out, &done, &err), WR_OK, "%s", err.msg);
    cr_assert(done);
    cr_assert_str_eq(out, RFC_SFINAL);
    cr_assert_str_eq(wr_scram_server_user(s), "user");
    /* nothing after the end */
    cr_assert_eq(step(s, RFC_FINAL, out, sizeof out, &done, &err), WR_ESTATE);
    wr_scram_server_destroy(s);
}

/* A client of our own, computing the proof as RFC 5802 says, for the mechanism and password;
   nonce_prefix goes before the server's nonce in the final message, as librdkafka 2.0 sends. */
static const char *nonce_prefix = "";

static void
client_final(wr_scram_mech m, const char *password, const char *first, const char *first_bare,
             const char *sfirst, char *out, size_t cap)
{
    const EVP_MD *md = m == WR_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
    size_t kl = wr_scram_key_len(m);
    const char *r = strstr(sfirst, "r="), *sp = strstr(sfirst, ",s="), *ip = strstr(sfirst, ",i=");
    cr_assert(r && sp && ip);
    uint8_t salt[64];
    int sl = EVP_DecodeBlock(salt, (const unsigned char *)sp + 3, (int)(ip - sp - 3));
    sl -= (ip[-1] == '=') + (ip[-2] == '=');
    int iter = atoi(ip + 3);
    uint8_t salted[64], ck[64], sk[64], sig[64], proof[64];
    unsigned int l;
    cr_assert(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sl, iter, md, (int)kl,
                                salted));
    HMAC(md, salted, (int)kl, (const uint8_t *)"Client Key", 10, ck, &l);
    EVP_Digest(ck, kl, sk, &l, md, NULL);
    char gs2[128], without[512];
    EVP_EncodeBlock((unsigned char *)gs2, (const unsigned char *)first, (int)(first_bare - first));
    snprintf(without, sizeof without, "c=%s,r=%s%.*s", gs2, nonce_prefix, (int)(sp - r - 2),
             r + 2);
    char am[2048];
    snprintf(am, sizeof am, "%s,%s,%s", first_bare, sfirst, without);
    HMAC(md, sk, (int)kl, (const uint8_t *)am, strlen(am), sig, &l);
    for (size_t i = 0; i < kl; i++)
        proof[i] = ck[i] ^ sig[i];
    char p64[128];
    EVP_EncodeBlock((unsigned char *)p64, proof, (int)kl);
    snprintf(out, cap, "%s,p=%s", without, p64);
}

static int
exchange(users *u, wr_scram_mech m, const char *first, const char *password, wr_err *err)
{
    wr_scram_server *s = wr_scram_server_create(m, lookup, u);
    char sfirst[512], final[1024], out[512];
    bool done = false;
    int rc = step(s, first, sfirst, sizeof sfirst, &done, err);
    if (rc == WR_OK) {
        const char *bare = strstr(first, "n=");
        client_final(m, password, first, bare, sfirst, final, sizeof final);
        rc = step(s, final, out, sizeof out, &done, err);
        cr_assert_eq(done, rc == WR_OK);
    }
    wr_scram_server_destroy(s);
    return rc;
}

/* librdkafka 2.0 (Debian 12's) puts its nonce again in front of the server's; Kafka takes a
   nonce that ends with the server's, and so does weir; one that does not end so is refused. */
Test(security_scram, a_final_nonce_that_ends_with_the_server_s_is_taken)
{
    const char *prefixes[] = {"rOprNGfwEbeRWgbNEkqO", "x", ""};
    for (int i = 0; i < 3; i++) {
        users u = rfc_user();
        wr_scram_server *s = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
        wr_scram_server_set_nonce(s, RFC_SNONCE);
        char out[512], final[1024];
        bool done;
        wr_err err = {0};
        cr_assert_eq(step(s, RFC_FIRST, out, sizeof out, &done, &err), WR_OK);
        nonce_prefix = prefixes[i];
        client_final(WR_SCRAM_SHA_256, "pencil", RFC_FIRST, RFC_FIRST + 3, out, final,
                     sizeof final);
        nonce_prefix = "";
        cr_assert_eq(step(s, final, out, sizeof out, &done, &err), WR_OK, "%s: %s", final, err.msg);
        cr_assert(done);
        wr_scram_server_destroy(s);
    }
    /* the server's nonce with its last character cut, and another after it: refused */
    users u = rfc_user();
    wr_scram_server *s = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
    wr_scram_server_set_nonce(s, RFC_SNONCE);
    char out[512];
    bool done;
    wr_err err = {0};
    cr_assert_eq(step(s, RFC_FIRST, out, sizeof out, &done, &err), WR_OK);
    cr_assert_eq(step(s, "c=biws,r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE "x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                      out, sizeof out, &done, &err),
                 WR_EPERM);
    wr_scram_server_destroy(s);
}

Test(security_scram, sha_512_with_a_random_salt_and_nonce)
{
    users u = {.name = "alice"};
    wr_err err = {0};
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_512, "s3cret", 6, NULL, 0, 8192, &u.cred, &err),
                 WR_OK);
    cr_assert_eq(u.cred.salt_len, 32);
    cr_assert_eq(exchange(&u, WR_SCRAM_SHA_512, "n,,n=alice,r=abc123", "s3cret", &err), WR_OK,
                 "%s", err.msg);
    cr_assert_eq(exchange(&u, WR_SCRAM_SHA_512, "n,,n=alice,r=abc123", "s3cres", &err), WR_EPERM);
    /* the mechanism must be the credential's */
    cr_assert_eq(exchange(&u, WR_SCRAM_SHA_256, "n,,n=alice,r=abc123", "s3cret", &err), WR_EPERM);
}

Test(security_scram, an_unknown_user_fails_only_at_the_end_with_a_stable_salt)
{
    users u = rfc_user();
    wr_err err = {0};
    cr_assert_eq(exchange(&u, WR_SCRAM_SHA_256, "n,,n=nobody,r=xyz", "pencil", &err), WR_EPERM);
    /* the same made-up salt twice for one name: the answer does not tell it is made up */
    char a[512], b[512];
    bool done;
    wr_scram_server *s1 = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
    wr_scram_server *s2 = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
    wr_scram_server_set_nonce(s1, "N");
    wr_scram_server_set_nonce(s2, "N");
    cr_assert_eq(step(s1, "n,,n=nobody,r=xyz", a, sizeof a, &done, &err), WR_OK);
    cr_assert_eq(step(s2, "n,,n=nobody,r=xyz", b, sizeof b, &done, &err), WR_OK);
    cr_assert_str_eq(a, b);
    cr_assert(strstr(a, ",i=") != NULL);
    wr_scram_server_destroy(s1);
    wr_scram_server_destroy(s2);
}

Test(security_scram, kafka_s_variants_of_the_first_message)
{
    users u = {.name = "a,b=c"};
    wr_err err = {0};
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_256, "pw", 2, NULL, 0, 4096, &u.cred, &err), WR_OK);
    /* escaped name, "y" flag, an authzid equal to the name, an extension */
    cr_assert_eq(exchange(&u, WR_SCRAM_SHA_256, "n,,n=a=2Cb=3Dc,r=q", "pw", &err), WR_OK, "%s",
                 err.msg);
    cr_assert_eq(exchange(&u, WR_SCRAM_SHA_256, "y,a=a=2Cb=3Dc,n=a=2Cb=3Dc,r=q,ext=1", "pw", &err),
                 WR_OK, "%s", err.msg);
    cr_assert_eq(exchange(&u, WR_SCRAM_SHA_256, "n,a=other,n=a=2Cb=3Dc,r=q", "pw", &err), WR_EPERM);
    cr_assert_eq(exchange(&u, WR_SCRAM_SHA_256, "n,,n=a=2Cb=3Dc,r=q,tokenauth=true", "pw", &err),
                 WR_EPERM);
    cr_assert(strstr(err.msg, "delegation") != NULL);
}

static int
first_only(const char *msg, wr_err *err)
{
    users u = rfc_user();
    wr_scram_server *s = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
    char out[512];
    bool done;
    wr_buf b = WR_BUF_INIT;
    int rc = wr_scram_server_step(s, (const uint8_t *)msg, strlen(msg), &b, &done, err);
    (void)out;
    wr_buf_free(&b);
    wr_scram_server_destroy(s);
    return rc;
}

Test(security_scram, malformed_first_messages_are_refused)
{
    wr_err err = {0};
    const char *bad[] = {"",
                         "n",
                         "x,,n=user,r=a",
                         "p=tls-unique,,n=user,r=a",
                         "n,,",
                         "n,,n=,r=a",
                         "n,,n=user",
                         "n,,n=user,r=",
                         "n,,n=us=2Xer,r=a",
                         "n,,n=user=,r=a",
                         "n,,n=user,x=a",
                         "n,,r=a,n=user",
                         "n,,n=user,r=a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = first_only(bad[i], &err);
        cr_assert(rc == WR_EPROTO, "'%s' gave %d", bad[i], rc);
    }
    /* a NUL inside, and a message over the limit */
    users u = rfc_user();
    wr_scram_server *s = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
    bool done;
    wr_buf b = WR_BUF_INIT;
    cr_assert_eq(wr_scram_server_step(s, (const uint8_t *)"n,,n=u\0x,r=a", 12, &b, &done, &err),
                 WR_EPROTO);
    wr_scram_server_destroy(s);
    s = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
    static uint8_t huge[WR_SCRAM_MAX_MESSAGE + 1];
    memset(huge, 'a', sizeof huge);
    cr_assert_eq(wr_scram_server_step(s, huge, sizeof huge, &b, &done, &err), WR_ETOOBIG);
    wr_scram_server_destroy(s);
    wr_buf_free(&b);
    /* a failing store fails the exchange */
    u.fail = 1;
    s = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
    cr_assert_eq(wr_scram_server_step(s, (const uint8_t *)RFC_FIRST, strlen(RFC_FIRST), &b, &done,
                                      &err),
                 WR_EIO);
    wr_scram_server_destroy(s);
    wr_buf_free(&b);
}

Test(security_scram, malformed_and_forged_final_messages_are_refused)
{
    const char *bad[] = {
        /* wrong nonce, a replayed nonce without the server's part */
        "c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        /* a channel binding other than the gs2 header */
        "c=eSws,r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        /* a wrong proof (one character changed) */
        "c=biws,r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVq=",
        /* a proof of the wrong length, none, not base64 */
        "c=biws,r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE ",p=dHzbZapW",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE,
        "c=biws,r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE ",p=!!!!",
        "c=b!ws,r=rOprNGfwEbeRWgbNEkqO" RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "",
    };
    int want[] = {WR_EPERM, WR_EPERM, WR_EPERM, WR_EPROTO, WR_EPROTO, WR_EPROTO, WR_EPROTO, WR_EPROTO};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        users u = rfc_user();
        wr_scram_server *s = wr_scram_server_create(WR_SCRAM_SHA_256, lookup, &u);
        wr_scram_server_set_nonce(s, RFC_SNONCE);
        char out[512];
        bool done;
        wr_err err = {0};
        cr_assert_eq(step(s, RFC_FIRST, out, sizeof out, &done, &err), WR_OK);
        int rc = step(s, bad[i], out, sizeof out, &done, &err);
        cr_assert_eq(rc, want[i], "case %zu gave %d (%s)", i, rc, err.msg);
        cr_assert_not(done);
        cr_assert_null(wr_scram_server_user(s));
        /* a failed exchange stays failed: the right answer no longer works */
        cr_assert_neq(step(s, RFC_FINAL, out, sizeof out, &done, &err), WR_OK);
        wr_scram_server_destroy(s);
    }
}

Test(security_scram, credentials_check_passwords_and_bound_their_inputs)
{
    wr_scram_cred c;
    wr_err err = {0};
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_512, "right", 5, NULL, 0, 4096, &c, &err), WR_OK);
    cr_assert(wr_scram_cred_check(&c, "right", 5));
    cr_assert_not(wr_scram_cred_check(&c, "wrong", 5));
    cr_assert_not(wr_scram_cred_check(&c, "righ", 4));
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_512, "x", 1, NULL, 0, 100, &c, &err), WR_EINVAL);
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_512, "x", 1, NULL, 0, 20000, &c, &err), WR_EINVAL);
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_512, "", 0, NULL, 0, 4096, &c, &err), WR_EINVAL);
    cr_assert(wr_scram_user_valid("alice"));
    cr_assert(wr_scram_user_valid("j\xc3\xb6rg"));
    cr_assert_not(wr_scram_user_valid(""));
    cr_assert_not(wr_scram_user_valid("a\nb"));
    cr_assert_not(wr_scram_user_valid("\xff"));
    wr_scram_mech m;
    cr_assert(wr_scram_mech_parse("SCRAM-SHA-512", &m) && m == WR_SCRAM_SHA_512);
    cr_assert_not(wr_scram_mech_parse("scram-sha-512", &m));
}

Test(security_scram, plain_messages_are_split_and_checked)
{
    char user[WR_SCRAM_MAX_USER + 1];
    const char *pw;
    size_t pl;
    wr_err err = {0};
    cr_assert_eq(wr_sasl_plain_parse((const uint8_t *)"\0bob\0pw", 7, user, &pw, &pl, &err), WR_OK);
    cr_assert_str_eq(user, "bob");
    cr_assert(pl == 2 && memcmp(pw, "pw", 2) == 0);
    cr_assert_eq(wr_sasl_plain_parse((const uint8_t *)"bob\0bob\0pw", 10, user, &pw, &pl, &err),
                 WR_OK);
    cr_assert_eq(wr_sasl_plain_parse((const uint8_t *)"eve\0bob\0pw", 10, user, &pw, &pl, &err),
                 WR_EPERM);
    cr_assert_eq(wr_sasl_plain_parse((const uint8_t *)"bob", 3, user, &pw, &pl, &err), WR_EPROTO);
    cr_assert_eq(wr_sasl_plain_parse((const uint8_t *)"\0bob", 4, user, &pw, &pl, &err), WR_EPROTO);
    cr_assert_eq(wr_sasl_plain_parse((const uint8_t *)"\0\0pw", 4, user, &pw, &pl, &err), WR_EPROTO);
    cr_assert_eq(wr_sasl_plain_parse((const uint8_t *)"\0bob\0", 5, user, &pw, &pl, &err), WR_EPROTO);
    cr_assert_eq(wr_sasl_plain_parse((const uint8_t *)"\0bob\0p\0w", 8, user, &pw, &pl, &err),
                 WR_EPROTO);
}

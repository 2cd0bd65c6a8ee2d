/*
 * kh_sasl.c - SASL authentication on a SASL_PLAINTEXT listener: SaslHandshake v1 and
 * SaslAuthenticate v0-2 (KIP-152 framing), with the PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
 * mechanisms over the log's credential store (src/security).
 *
 * What Kafka's SaslServerAuthenticator does, and weir with it:
 *   - until a connection is authenticated it may send ApiVersions, SaslHandshake and
 *     SaslAuthenticate only; any other request closes it (with a log line);
 *   - SaslHandshake names a mechanism: an enabled one starts the exchange, any other is answered
 *     UNSUPPORTED_SASL_MECHANISM with the enabled list, and the connection closes; a handshake
 *     on a PLAINTEXT listener, or a second one, gets ILLEGAL_SASL_STATE;
 *   - SaslAuthenticate carries the mechanism's messages; a failed exchange is answered
 *     SASL_AUTHENTICATION_FAILED with Kafka's message and the connection closes once the answer
 *     is written;
 *   - the authenticated principal is "User:<name>" (kept on the connection for authorization).
 * PLAIN checks the password against the user's SCRAM credential (SHA-512 first, then SHA-256):
 * weir keeps one store of users, not Kafka's JAAS lists.
 *
 * Threads: the broker's loop thread. PLAIN's key derivation (PBKDF2, a few milliseconds) runs
 * on it too.
 */
#include <string.h>

#include "src/base/logging.h"
#include "src/kafka/broker_int.h"
#include "src/security/creds.h"

static const struct {
    const char *name;
    unsigned bit;
} mechs[] = {
    {"PLAIN", WR_KSASL_PLAIN},
    {"SCRAM-SHA-256", WR_KSASL_SCRAM_SHA_256},
    {"SCRAM-SHA-512", WR_KSASL_SCRAM_SHA_512},
};
#define NMECHS (sizeof mechs / sizeof mechs[0])

int
wr__ksasl_parse_mechanisms(const char *list, unsigned *mask, wr_err *err)
{
    *mask = 0;
    if (list == NULL || *list == 0) {
        *mask = WR_KSASL_SCRAM_SHA_256 | WR_KSASL_SCRAM_SHA_512;
        return WR_OK;
    }
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        size_t i = 0;
        while (i < NMECHS && !(strlen(mechs[i].name) == n && memcmp(mechs[i].name, p, n) == 0))
            i++;
        if (i == NMECHS)
            return wr_err_set(err, WR_EINVAL,
                              "sasl.enabled.mechanisms: '%.*s' is not one of PLAIN, SCRAM-SHA-256, "
                              "SCRAM-SHA-512",
                              (int)n, p);
        *mask |= mechs[i].bit;
        p += n;
    }
    if (*mask == 0)
        return wr_err_set(err, WR_EINVAL, "sasl.enabled.mechanisms names no mechanism");
    return WR_OK;
}

bool
wr__ksasl_allowed(const wr_kconn *c, int16_t api_key)
{
    int sp = c->b->opts.security_protocol;
    if (sp != WR_BROKER_SASL_PLAINTEXT && sp != WR_BROKER_SASL_SSL)
        return true;
    if (api_key == WR_KAPI_SASL_HANDSHAKE || api_key == WR_KAPI_SASL_AUTHENTICATE)
        return true;
    if (!c->authed)
        return api_key == WR_KAPI_API_VERSIONS;
    return c->auth_expires_ms == 0 || wr__kmono_ms() < c->auth_expires_ms;
}

void
wr__ksasl_conn_free(wr_kconn *c)
{
    wr_scram_server_destroy(c->scram);
    c->scram = NULL;
}

static const char *
mech_name(int bit)
{
    for (size_t i = 0; i < NMECHS; i++)
        if (mechs[i].bit == (unsigned)bit)
            return mechs[i].name;
    return "?";
}

/* Answers r, and closes its connection once the answer is written. */
static void
finish_and_close(wr_kreq *r)
{
    r->conn->close_after_write = true;
    wr__kreq_finish(r);
}

void
wr__kh_sasl_handshake(wr_kreq *r)
{
    wr_kconn *c = r->conn;
    wr_broker *b = c->b;
    const wr_kp_sasl_handshake_req *q = r->body;
    wr_kp_sasl_handshake_resp *s =
        wr_kp_new(r->arena, &wr_kp_sasl_handshake_resp_desc, r->hdr.api_version);
    if (s == NULL) {
        wr__kconn_close(c);
        return;
    }
    r->resp = s;
    bool sasl = b->opts.security_protocol == WR_BROKER_SASL_PLAINTEXT ||
                b->opts.security_protocol == WR_BROKER_SASL_SSL;
    int n = 0;
    s->mechanisms.v = wr_arena_alloc(r->arena, NMECHS * sizeof *s->mechanisms.v);
    for (size_t i = 0; sasl && s->mechanisms.v != NULL && i < NMECHS; i++)
        if (b->sasl_mechs & mechs[i].bit)
            s->mechanisms.v[n++] = wr_kstr_of(mechs[i].name);
    s->mechanisms.n = s->mechanisms.v != NULL ? n : 0;
    /* a first handshake, or a re-authentication's (KIP-368: only where sessions end) */
    bool reauth = c->authed && b->opts.max_reauth_ms > 0;
    if (!sasl || c->exchanging || (c->authed && !reauth) || (!c->authed && c->sasl_mech != 0)) {
        s->error_code = WR_KERR_ILLEGAL_SASL_STATE;
        wr__kreq_finish(r);
        return;
    }
    int bit = 0;
    for (size_t i = 0; i < NMECHS; i++)
        if (q->mechanism.s != NULL && (size_t)q->mechanism.len == strlen(mechs[i].name) &&
            memcmp(q->mechanism.s, mechs[i].name, (size_t)q->mechanism.len) == 0)
            bit = (int)mechs[i].bit;
    if (reauth && bit != c->sasl_mech) {
        wr_log(WR_LOG_WARN, "kafka", "%s: re-authentication with another mechanism; closing",
               c->peer);
        s->error_code = WR_KERR_ILLEGAL_SASL_STATE;
        finish_and_close(r);
        return;
    }
    if (bit == 0 || !(b->sasl_mechs & (unsigned)bit)) {
        wr_log(WR_LOG_WARN, "kafka", "%s: SASL mechanism '%.*s' is not enabled; closing", c->peer,
               q->mechanism.s ? (int)(q->mechanism.len > 64 ? 64 : q->mechanism.len) : 0,
               q->mechanism.s ? q->mechanism.s : "");
        s->error_code = WR_KERR_UNSUPPORTED_SASL_MECHANISM;
        finish_and_close(r);
        return;
    }
    if (bit != WR_KSASL_PLAIN) {
        wr_scram_mech m = bit == WR_KSASL_SCRAM_SHA_512 ? WR_SCRAM_SHA_512 : WR_SCRAM_SHA_256;
        if ((c->scram = wr_scram_server_create(m, wr_creds_lookup, b->db)) == NULL) {
            wr__kconn_close(c);
            return;
        }
    }
    c->sasl_mech = bit;
    c->exchanging = true;
    wr__kreq_finish(r);
}

/* PLAIN: the password against the user's SCRAM credential. Returns the user's name in user on
   success. */
static int
plain_check(wr_broker *b, const wr_kbytes *in, char user[WR_SCRAM_MAX_USER + 1], wr_err *err)
{
    const char *pw;
    size_t plen;
    int rc = wr_sasl_plain_parse(in->p, (size_t)in->len, user, &pw, &plen, err);
    if (rc != WR_OK)
        return rc;
    wr_scram_cred cred;
    int found = 0;
    for (int m = WR_SCRAM_SHA_512; m >= WR_SCRAM_SHA_256 && found == 0; m--)
        found = wr_creds_lookup(b->db, user, (wr_scram_mech)m, &cred);
    if (found < 0)
        return wr_err_set(err, WR_EIO, "PLAIN: the credential store failed");
    if (found == 0) {
        /* the same work as a known user's, so that the time taken does not tell */
        static const uint8_t salt[16] = "weir-no-user....";
        (void)wr_scram_cred_make(WR_SCRAM_SHA_512, "x", 1, salt, sizeof salt,
                                 WR_SCRAM_DEFAULT_ITER, &cred, err);
        return wr_err_set(err, WR_EPERM, "PLAIN: invalid credentials");
    }
    if (!wr_scram_cred_check(&cred, pw, plen))
        return wr_err_set(err, WR_EPERM, "PLAIN: invalid credentials");
    return WR_OK;
}

void
wr__kh_sasl_authenticate(wr_kreq *r)
{
    wr_kconn *c = r->conn;
    wr_broker *b = c->b;
    const wr_kp_sasl_authenticate_req *q = r->body;
    wr_kp_sasl_authenticate_resp *s =
        wr_kp_new(r->arena, &wr_kp_sasl_authenticate_resp_desc, r->hdr.api_version);
    if (s == NULL) {
        wr__kconn_close(c);
        return;
    }
    r->resp = s;
    if (!c->exchanging) {
        s->error_code = WR_KERR_ILLEGAL_SASL_STATE;
        s->error_message = wr_kstr_of("SaslAuthenticate without a SaslHandshake first");
        finish_and_close(r);
        return;
    }
    wr_err err = {0};
    int rc;
    bool done = false;
    char user[WR_SCRAM_MAX_USER + 1] = "";
    if (c->sasl_mech == WR_KSASL_PLAIN) {
        rc = plain_check(b, &q->auth_bytes, user, &err);
        done = rc == WR_OK;
    } else {
        wr_buf out = WR_BUF_INIT;
        rc = wr_scram_server_step(c->scram, q->auth_bytes.p ? q->auth_bytes.p : (const uint8_t *)"",
                                  q->auth_bytes.len > 0 ? (size_t)q->auth_bytes.len : 0, &out,
                                  &done, &err);
        if (rc == WR_OK && !wr_buf_ok(&out))
            rc = wr_err_set(&err, WR_ENOMEM, "out of memory");
        if (rc == WR_OK && out.len > 0) {
            uint8_t *p = wr_arena_alloc(r->arena, out.len);
            if (p == NULL)
                rc = wr_err_set(&err, WR_ENOMEM, "out of memory");
            else {
                memcpy(p, out.data, out.len);
                s->auth_bytes = (wr_kbytes){p, (int32_t)out.len};
            }
        }
        wr_buf_free(&out);
        if (rc == WR_OK && done)
            snprintf(user, sizeof user, "%s", wr_scram_server_user(c->scram));
    }
    if (rc != WR_OK) {
        b->auth_failures++;
        wr_log(WR_LOG_WARN, "kafka", "%s: SASL %s authentication failed: %s; closing", c->peer,
               mech_name(c->sasl_mech), err.msg);
        s->error_code = WR_KERR_SASL_AUTHENTICATION_FAILED;
        s->error_message = wr_kstr_of(
            c->sasl_mech == WR_KSASL_PLAIN
                ? "Authentication failed: Invalid username or password"
                : wr_arena_printf(r->arena,
                                  "Authentication failed during authentication due to invalid "
                                  "credentials with SASL mechanism %s",
                                  mech_name(c->sasl_mech)));
        s->auth_bytes = (wr_kbytes){(const uint8_t *)"", 0};
        wr__ksasl_conn_free(c);
        c->exchanging = false;
        finish_and_close(r);
        return;
    }
    if (done) {
        char principal[sizeof c->principal];
        snprintf(principal, sizeof principal, "User:%s", user);
        wr__ksasl_conn_free(c);
        c->exchanging = false;
        if (c->authed && strcmp(principal, c->principal) != 0) {
            /* Kafka's rule: a re-authentication may not change the principal */
            wr_log(WR_LOG_WARN, "kafka", "%s: re-authentication as %s, not %s; closing", c->peer,
                   principal, c->principal);
            s->error_code = WR_KERR_SASL_AUTHENTICATION_FAILED;
            s->error_message = wr_kstr_of("Cannot change principals during re-authentication");
            s->auth_bytes = (wr_kbytes){(const uint8_t *)"", 0};
            finish_and_close(r);
            return;
        }
        wr_log(c->authed ? WR_LOG_DEBUG : WR_LOG_INFO, "kafka", "%s: %s as %s (%s)", c->peer,
               c->authed ? "re-authenticated" : "authenticated", principal,
               mech_name(c->sasl_mech));
        c->authed = true;
        snprintf(c->principal, sizeof c->principal, "%s", principal);
        if (b->opts.max_reauth_ms > 0) {
            c->auth_expires_ms = wr__kmono_ms() + b->opts.max_reauth_ms;
            s->session_lifetime_ms = b->opts.max_reauth_ms; /* v1+ */
        }
    }
    wr__kreq_finish(r);
}

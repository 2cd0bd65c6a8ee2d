/*
 * tls.c - TLS sessions over memory BIOs (OpenSSL). See tls.h.
 */
#include "src/security/tls.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct wr_tls_ctx {
    atomic_int refs; /* the creator's + one per connection made from it */
    SSL_CTX *ssl;
    unsigned char alpn[64]; /* the server's ALPN list, wire format */
    unsigned alpn_len;
};

struct wr_tls_conn {
    wr_tls_ctx *ctx; /* a reference */
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool failed;
};

/* OpenSSL's reason for the last failure into err. */
static int
ssl_fail(wr_err *err, int code, const char *what)
{
    unsigned long e = ERR_get_error();
    char why[200] = "";
    if (e != 0)
        ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    return wr_err_set(err, code, "%s%s%s", what, why[0] ? ": " : "", why);
}

static char *
dup_or_null(const char *s, bool *ok)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *ok = false;
    return d;
}

int
wr_tls_opts_copy(const wr_tls_opts *o, wr_tls_opts *dst)
{
    bool ok = true;
    *dst = (wr_tls_opts){.client_auth = o->client_auth};
    dst->keystore = dup_or_null(o->keystore, &ok);
    dst->key_password = dup_or_null(o->key_password, &ok);
    dst->truststore = dup_or_null(o->truststore, &ok);
    dst->protocols = dup_or_null(o->protocols, &ok);
    dst->alpn = dup_or_null(o->alpn, &ok);
    if (!ok) {
        wr_tls_opts_free(dst);
        return WR_ENOMEM;
    }
    return WR_OK;
}

void
wr_tls_opts_free(wr_tls_opts *o)
{
    if (o->key_password != NULL)
        OPENSSL_cleanse((char *)o->key_password, strlen(o->key_password));
    free((char *)o->keystore);
    free((char *)o->key_password);
    free((char *)o->truststore);
    free((char *)o->protocols);
    free((char *)o->alpn);
    *o = (wr_tls_opts){0};
}

bool
wr_tls_client_auth_parse(const char *s, wr_tls_client_auth *out)
{
    if (strcasecmp(s, "none") == 0)
        *out = WR_TLS_CLIENT_AUTH_NONE;
    else if (strcasecmp(s, "requested") == 0)
        *out = WR_TLS_CLIENT_AUTH_REQUESTED;
    else if (strcasecmp(s, "required") == 0)
        *out = WR_TLS_CLIENT_AUTH_REQUIRED;
    else
        return false;
    return true;
}

static int
password_cb(char *buf, int size, int rwflag, void *arg)
{
    (void)rwflag;
    const char *pw = arg;
    int n = pw ? (int)strlen(pw) : 0;
    if (n >= size)
        return 0;
    memcpy(buf, pw ? pw : "", (size_t)n);
    return n;
}

/* The lowest and highest protocol versions of ssl.enabled.protocols. */
static int
protocol_range(const char *list, int *lo, int *hi, wr_err *err)
{
    *lo = *hi = 0;
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        int v = n == 7 && strncasecmp(p, "TLSv1.2", 7) == 0   ? TLS1_2_VERSION
                : n == 7 && strncasecmp(p, "TLSv1.3", 7) == 0 ? TLS1_3_VERSION
                                                                : 0;
        if (v == 0)
            return wr_err_set(err, WR_EINVAL,
                              "ssl.enabled.protocols: '%.*s' is not TLSv1.2 or TLSv1.3", (int)n, p);
        if (*lo == 0 || v < *lo)
            *lo = v;
        if (v > *hi)
            *hi = v;
        p += n;
    }
    if (*lo == 0)
        return wr_err_set(err, WR_EINVAL, "ssl.enabled.protocols names no protocol");
    return WR_OK;
}

/* ALPN: the first of the server's protocols that the client offers. */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
            unsigned int inlen, void *arg)
{
    (void)ssl;
    wr_tls_ctx *c = arg;
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, c->alpn, c->alpn_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

int
wr_tls_ctx_create(const wr_tls_opts *o, wr_tls_ctx **out, wr_err *err)
{
    *out = NULL;
    if (o->keystore == NULL || *o->keystore == 0)
        return wr_err_set(err, WR_EINVAL, "a TLS listener needs ssl.keystore.location");
    if (o->client_auth != WR_TLS_CLIENT_AUTH_NONE && (o->truststore == NULL || !*o->truststore))
        return wr_err_set(err, WR_EINVAL,
                          "ssl.client.auth=%s needs ssl.truststore.location (the CAs of client "
                          "certificates)",
                          o->client_auth == WR_TLS_CLIENT_AUTH_REQUIRED ? "required" : "requested");
    int lo, hi;
    int rc = protocol_range(o->protocols ? o->protocols : "TLSv1.2,TLSv1.3", &lo, &hi, err);
    if (rc != WR_OK)
        return rc;
    wr_tls_ctx *c = calloc(1, sizeof *c);
    if (c == NULL || (c->ssl = SSL_CTX_new(TLS_server_method())) == NULL) {
        free(c);
        return ssl_fail(err, WR_ENOMEM, "cannot create a TLS context");
    }
    atomic_init(&c->refs, 1);
    SSL_CTX_set_min_proto_version(c->ssl, lo);
    SSL_CTX_set_max_proto_version(c->ssl, hi);
    SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_default_passwd_cb(c->ssl, password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(c->ssl, (void *)o->key_password);
    if (SSL_CTX_use_certificate_chain_file(c->ssl, o->keystore) != 1) {
        rc = ssl_fail(err, WR_EINVAL, "ssl.keystore.location: no certificate chain");
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(c->ssl, o->keystore, SSL_FILETYPE_PEM) != 1) {
        rc = ssl_fail(err, WR_EINVAL, "ssl.keystore.location: no private key (or a wrong "
                                      "ssl.key.password)");
        goto fail;
    }
    if (SSL_CTX_check_private_key(c->ssl) != 1) {
        rc = ssl_fail(err, WR_EINVAL, "ssl.keystore.location: the key is not the certificate's");
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb_userdata(c->ssl, NULL); /* the password is not kept */
    if (o->truststore != NULL && *o->truststore) {
        if (SSL_CTX_load_verify_locations(c->ssl, o->truststore, NULL) != 1) {
            rc = ssl_fail(err, WR_EINVAL, "ssl.truststore.location: no CA certificates");
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->truststore);
        if (names != NULL)
            SSL_CTX_set_client_CA_list(c->ssl, names);
    }
    int mode = o->client_auth == WR_TLS_CLIENT_AUTH_REQUIRED
                   ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
               : o->client_auth == WR_TLS_CLIENT_AUTH_REQUESTED ? SSL_VERIFY_PEER
                                                               : SSL_VERIFY_NONE;
    SSL_CTX_set_verify(c->ssl, mode, NULL);
    if (o->alpn != NULL) {
        size_t al = strlen(o->alpn);
        if (al == 0 || al > sizeof c->alpn) {
            rc = wr_err_set(err, WR_EINVAL, "an ALPN list of %zu bytes", al);
            goto fail;
        }
        memcpy(c->alpn, o->alpn, al);
        c->alpn_len = (unsigned)al;
        /* c is the callback's argument: every connection holds a reference to it */
        SSL_CTX_set_alpn_select_cb(c->ssl, alpn_select, c);
    }
    *out = c;
    return WR_OK;
fail:
    SSL_CTX_free(c->ssl);
    free(c);
    return rc;
}

int
wr_tls_ctx_reload(wr_tls_ctx **slot, pthread_mutex_t *mu, const wr_tls_opts *o, wr_err *err)
{
    wr_tls_ctx *fresh = NULL;
    int rc = wr_tls_ctx_create(o, &fresh, err);
    if (rc != WR_OK)
        return rc;
    pthread_mutex_lock(mu);
    wr_tls_ctx *old = *slot;
    *slot = fresh;
    pthread_mutex_unlock(mu);
    wr_tls_ctx_destroy(old); /* freed with the last session made from it */
    return WR_OK;
}

void
wr_tls_ctx_destroy(wr_tls_ctx *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) > 1)
        return;
    SSL_CTX_free(c->ssl);
    free(c);
}

wr_tls_conn *
wr_tls_conn_create(wr_tls_ctx *c)
{
    wr_tls_conn *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ssl = SSL_new(c->ssl); /* holds a reference to the SSL_CTX */
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
        SSL_free(t->ssl);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_accept_state(t->ssl);
    atomic_fetch_add(&c->refs, 1);
    t->ctx = c;
    return t;
}

void
wr_tls_conn_destroy(wr_tls_conn *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    wr_tls_ctx_destroy(t->ctx);
    free(t);
}

int
wr_tls_conn_input(wr_tls_conn *t, const uint8_t *in, size_t n, wr_buf *plain, wr_err *err)
{
    if (t->failed)
        return wr_err_set(err, WR_EPROTO, "TLS: the session has failed");
    while (n > 0) {
        int w = BIO_write(t->rbio, in, (int)(n > INT32_MAX ? INT32_MAX : n));
        if (w <= 0) {
            t->failed = true;
            return ssl_fail(err, WR_ENOMEM, "TLS: cannot buffer input");
        }
        in += w;
        n -= (size_t)w;
    }
    for (;;) {
        if (!SSL_is_init_finished(t->ssl)) {
            int r = SSL_do_handshake(t->ssl);
            if (r != 1) {
                int e = SSL_get_error(t->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return WR_OK;
                t->failed = true;
                long v = SSL_get_verify_result(t->ssl);
                if (v != X509_V_OK)
                    return wr_err_set(err, WR_EPROTO, "TLS handshake: client certificate: %s",
                                      X509_verify_cert_error_string(v));
                return ssl_fail(err, WR_EPROTO, "TLS handshake failed");
            }
        }
        uint8_t *dst = wr_buf_extend(plain, 16384);
        if (dst == NULL) {
            t->failed = true;
            return wr_err_set(err, WR_ENOMEM, "out of memory");
        }
        int r = SSL_read(t->ssl, dst, 16384);
        if (r > 0) {
            plain->len -= 16384 - (size_t)r;
            continue;
        }
        plain->len -= 16384;
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return WR_OK;
        t->failed = true;
        if (e == SSL_ERROR_ZERO_RETURN)
            return wr_err_set(err, WR_EPROTO, "TLS: the client closed the session");
        return ssl_fail(err, WR_EPROTO, "TLS: bad record");
    }
}

int
wr_tls_conn_write(wr_tls_conn *t, const uint8_t *p, size_t n, wr_err *err)
{
    if (t->failed || !SSL_is_init_finished(t->ssl))
        return wr_err_set(err, WR_ESTATE, "TLS: no session to write to");
    while (n > 0) {
        int w = SSL_write(t->ssl, p, (int)(n > (1u << 30) ? (1u << 30) : n));
        if (w <= 0) {
            t->failed = true;
            return ssl_fail(err, WR_EIO, "TLS: write failed");
        }
        p += w;
        n -= (size_t)w;
    }
    return WR_OK;
}

uint8_t *
wr_tls_conn_output(wr_tls_conn *t, size_t *len)
{
    *len = 0;
    size_t pending = BIO_ctrl_pending(t->wbio);
    if (pending == 0)
        return NULL;
    uint8_t *p = malloc(pending);
    if (p == NULL)
        return NULL;
    int r = BIO_read(t->wbio, p, (int)pending);
    if (r <= 0) {
        free(p);
        return NULL;
    }
    *len = (size_t)r;
    return p;
}

bool
wr_tls_conn_ready(const wr_tls_conn *t)
{
    return !t->failed && SSL_is_init_finished(t->ssl);
}

bool
wr_tls_conn_peer_subject(const wr_tls_conn *t, char *out, size_t cap)
{
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    if (cert == NULL || cap == 0)
        return false;
    BIO *m = BIO_new(BIO_s_mem());
    bool ok = m != NULL &&
              X509_NAME_print_ex(m, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0;
    if (ok) {
        int r = BIO_read(m, out, (int)cap - 1);
        out[r > 0 ? r : 0] = 0;
        ok = r > 0;
    }
    BIO_free(m);
    X509_free(cert);
    return ok;
}

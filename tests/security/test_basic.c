/* Unit tests for src/security/basic.c: HTTP Basic credentials against the SCRAM store. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "src/security/basic.h"
#include "src/security/creds.h"
#include "tests/testlog.h"

static char dir[64];
static wr_logdb *db;

static void
setup(void)
{
    db = wr_test_log_open(dir, "basic");
    wr_scram_cred c;
    wr_err err = {0};
    cr_assert_eq(wr_scram_cred_make(WR_SCRAM_SHA_256, "pw:1", 4, NULL, 0, 4096, &c, &err), WR_OK);
    cr_assert_eq(wr_creds_put(db, "ann", &c, &err), WR_OK);
}

static void
teardown(void)
{
    wr_test_log_remove(dir, db);
}

/* "Basic " + base64(s) into out. */
static const char *
basic(const char *s, char *out)
{
    strcpy(out, "Basic ");
    EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)s, (int)strlen(s));
    return out;
}

TestSuite(security_basic, .init = setup, .fini = teardown);

Test(security_basic, right_and_wrong_credentials)
{
    wr_basic_auth *a = wr_basic_auth_create(db, 0);
    char user[WR_SCRAM_MAX_USER + 1], h[256];
    wr_err err = {0};
    cr_assert_eq(wr_basic_auth_check(a, basic("ann:pw:1", h), user, &err), WR_OK, "%s", err.msg);
    cr_assert_str_eq(user, "ann");
    cr_assert_eq(wr_basic_auth_check(a, "  basic   YW5uOnB3OjE=  ", user, &err), WR_OK, "%s", err.msg);
    const char *bad[] = {NULL, "", "Bearer x", "Basic", "Basic ", "Basic !!!!", "Basic YW5u",
                         basic("ann:pw:2", h)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(wr_basic_auth_check(a, bad[i], user, &err), WR_EPERM, "case %zu", i);
    char h2[256];
    cr_assert_eq(wr_basic_auth_check(a, basic("ann:", h2), user, &err), WR_EPERM);
    cr_assert_eq(wr_basic_auth_check(a, basic(":pw:1", h2), user, &err), WR_EPERM);
    cr_assert_eq(wr_basic_auth_check(a, basic("bob:pw:1", h2), user, &err), WR_EPERM);
    /* a NUL inside the credentials */
    cr_assert_eq(wr_basic_auth_check(a, "Basic YW5uAHg6cHc6MQ==", user, &err), WR_EPERM);
    /* longer than any header weir takes */
    static char huge[5000];
    memset(huge, 'A', sizeof huge - 1);
    memcpy(huge, "Basic ", 6);
    cr_assert_eq(wr_basic_auth_check(a, huge, user, &err), WR_EPERM);
    wr_basic_auth_destroy(a);
}

Test(security_basic, a_success_is_remembered_for_the_cache_time_only)
{
    wr_basic_auth *a = wr_basic_auth_create(db, 200);
    char user[WR_SCRAM_MAX_USER + 1], h[256];
    wr_err err = {0};
    cr_assert_eq(wr_basic_auth_check(a, basic("ann:pw:1", h), user, &err), WR_OK);
    cr_assert_eq(wr_creds_delete(db, "ann", WR_SCRAM_SHA_256, &err), WR_OK);
    /* remembered: no store lookup */
    cr_assert_eq(wr_basic_auth_check(a, basic("ann:pw:1", h), user, &err), WR_OK);
    /* the cache holds the pair, not the user: another password is checked, and fails */
    cr_assert_eq(wr_basic_auth_check(a, basic("ann:pw:9", h), user, &err), WR_EPERM);
    usleep(300 * 1000);
    cr_assert_eq(wr_basic_auth_check(a, basic("ann:pw:1", h), user, &err), WR_EPERM);
    wr_basic_auth_destroy(a);
}

/* Unit tests for src/security/acl.c: Kafka's authorizer rules over the real log's metadata. */
#include <criterion/criterion.h>
#include <string.h>

#include "src/security/acl.h"
#include "tests/testlog.h"

static char dir[64];
static wr_logdb *db;

static void
setup(void)
{
    db = wr_test_log_open(dir, "acl");
}

static void
teardown(void)
{
    wr_test_log_remove(dir, db);
}

TestSuite(security_acl, .init = setup, .fini = teardown);

static void
add(wr_acl_store *s, int rtype, const char *name, int pat, const char *who, const char *host,
    int op, int perm)
{
    wr_acl a = {(int8_t)rtype, name, (int8_t)pat, who, host, (int8_t)op, (int8_t)perm};
    wr_err err = {0};
    cr_assert_eq(wr_acl_add(s, &a, &err), WR_OK, "%s", err.msg);
}

static bool
may(wr_acl_store *s, const char *who, const char *host, int op, int rtype, const char *name)
{
    return wr_acl_authorize(s, who, host, op, rtype, name, strlen(name));
}

#define T WR_ACL_RES_TOPIC
#define G WR_ACL_RES_GROUP
#define LIT WR_ACL_PAT_LITERAL
#define PRE WR_ACL_PAT_PREFIXED
#define ALLOW WR_ACL_PERM_ALLOW
#define DENY WR_ACL_PERM_DENY

Test(security_acl, kafka_s_rules)
{
    wr_acl_store *s;
    wr_err err = {0};
    cr_assert_eq(wr_acl_store_open(db, "User:admin;User:ops", false, &s, &err), WR_OK);
    /* no binding for a resource: allow.everyone.if.no.acl.found (false); super users always */
    cr_assert_not(may(s, "User:alice", "1.2.3.4", WR_ACL_OP_READ, T, "t"));
    cr_assert(may(s, "User:admin", "1.2.3.4", WR_ACL_OP_DELETE, T, "t"));
    cr_assert(may(s, "User:ops", "1.2.3.4", WR_ACL_OP_ALTER, WR_ACL_RES_CLUSTER, "kafka-cluster"));
    add(s, T, "t", LIT, "User:alice", "*", WR_ACL_OP_WRITE, ALLOW);
    cr_assert(may(s, "User:alice", "1.2.3.4", WR_ACL_OP_WRITE, T, "t"));
    cr_assert(may(s, "User:alice", "1.2.3.4", WR_ACL_OP_DESCRIBE, T, "t")); /* implied */
    cr_assert_not(may(s, "User:alice", "1.2.3.4", WR_ACL_OP_READ, T, "t"));
    cr_assert_not(may(s, "User:bob", "1.2.3.4", WR_ACL_OP_WRITE, T, "t"));
    cr_assert_not(may(s, "User:alice", "1.2.3.4", WR_ACL_OP_WRITE, T, "t2"));
    cr_assert_not(may(s, "User:alice", "1.2.3.4", WR_ACL_OP_WRITE, G, "t"));
    /* prefixed, wildcard name, wildcard principal, host */
    add(s, T, "pub-", PRE, "User:*", "10.0.0.1", WR_ACL_OP_READ, ALLOW);
    cr_assert(may(s, "User:bob", "10.0.0.1", WR_ACL_OP_READ, T, "pub-x"));
    cr_assert_not(may(s, "User:bob", "10.0.0.2", WR_ACL_OP_READ, T, "pub-x"));
    cr_assert_not(may(s, "User:bob", "10.0.0.1", WR_ACL_OP_READ, T, "pu"));
    add(s, G, "*", LIT, "User:bob", "*", WR_ACL_OP_ALL, ALLOW);
    cr_assert(may(s, "User:bob", "h", WR_ACL_OP_READ, G, "any-group"));
    cr_assert(may(s, "User:bob", "h", WR_ACL_OP_DELETE, G, "other"));
    /* deny wins over allow, ALL denies everything */
    add(s, G, "secret", LIT, "User:bob", "*", WR_ACL_OP_ALL, DENY);
    cr_assert_not(may(s, "User:bob", "h", WR_ACL_OP_READ, G, "secret"));
    cr_assert(may(s, "User:bob", "h", WR_ACL_OP_READ, G, "open"));
    /* ALTER_CONFIGS implies DESCRIBE_CONFIGS, not the other way */
    add(s, T, "c", LIT, "User:carol", "*", WR_ACL_OP_ALTER_CONFIGS, ALLOW);
    cr_assert(may(s, "User:carol", "h", WR_ACL_OP_DESCRIBE_CONFIGS, T, "c"));
    cr_assert_not(may(s, "User:carol", "h", WR_ACL_OP_DESCRIBE, T, "c"));
    cr_assert(wr_acl_allows_any(s, "User:alice", "h", WR_ACL_OP_WRITE, T));
    cr_assert_not(wr_acl_allows_any(s, "User:carol", "h", WR_ACL_OP_WRITE, T));
    wr_acl_store_close(s);

    /* the bindings survive a reopen; allow.everyone.if.no.acl.found=true opens the rest */
    cr_assert_eq(wr_acl_store_open(db, NULL, true, &s, &err), WR_OK);
    cr_assert(may(s, "User:alice", "h", WR_ACL_OP_WRITE, T, "t"));
    cr_assert_not(may(s, "User:bob", "h", WR_ACL_OP_WRITE, T, "t"));
    cr_assert(may(s, "User:anyone", "h", WR_ACL_OP_READ, T, "no-acl-here"));
    cr_assert_not(may(s, "User:admin", "h", WR_ACL_OP_WRITE, T, "t")); /* no longer super */
    wr_acl_store_close(s);
}

static int
count(void *arg, const wr_acl *a)
{
    (void)a;
    (*(int *)arg)++;
    return 0;
}

static void
gone(void *arg, const wr_acl *a)
{
    (void)a;
    (*(int *)arg)++;
}

Test(security_acl, filters_describe_and_delete)
{
    wr_acl_store *s;
    wr_err err = {0};
    cr_assert_eq(wr_acl_store_open(db, NULL, false, &s, &err), WR_OK);
    add(s, T, "a", LIT, "User:x", "*", WR_ACL_OP_READ, ALLOW);
    add(s, T, "a", LIT, "User:x", "*", WR_ACL_OP_READ, ALLOW); /* twice: one binding */
    add(s, T, "ab", PRE, "User:y", "*", WR_ACL_OP_WRITE, ALLOW);
    add(s, G, "g", LIT, "User:x", "*", WR_ACL_OP_READ, DENY);
    int n = 0;
    wr_acl all = {WR_ACL_RES_ANY, NULL, WR_ACL_PAT_ANY, NULL, NULL, WR_ACL_OP_ANY, WR_ACL_PERM_ANY};
    wr_acl_describe(s, &all, count, &n);
    cr_assert_eq(n, 3);
    n = 0;
    wr_acl of_x = all;
    of_x.principal = "User:x";
    wr_acl_describe(s, &of_x, count, &n);
    cr_assert_eq(n, 2);
    /* MATCH: the bindings that apply to topic "abc" (the prefixed one) */
    n = 0;
    wr_acl m = {T, "abc", WR_ACL_PAT_MATCH, NULL, NULL, WR_ACL_OP_ANY, WR_ACL_PERM_ANY};
    wr_acl_describe(s, &m, count, &n);
    cr_assert_eq(n, 1);
    n = 0;
    cr_assert_eq(wr_acl_delete(s, &of_x, gone, &n, &err), WR_OK);
    cr_assert_eq(n, 2);
    wr_acl_store_close(s);
    cr_assert_eq(wr_acl_store_open(db, NULL, false, &s, &err), WR_OK);
    n = 0;
    wr_acl_describe(s, &all, count, &n);
    cr_assert_eq(n, 1, "deletes are stored");
    /* invalid bindings are refused */
    wr_acl bad[] = {
        {WR_ACL_RES_ANY, "a", LIT, "User:x", "*", WR_ACL_OP_READ, ALLOW},
        {T, "a", WR_ACL_PAT_MATCH, "User:x", "*", WR_ACL_OP_READ, ALLOW},
        {T, "a", LIT, "x", "*", WR_ACL_OP_READ, ALLOW},
        {T, "", LIT, "User:x", "*", WR_ACL_OP_READ, ALLOW},
        {T, "a", LIT, "User:x", "*", WR_ACL_OP_ANY, ALLOW},
        {T, "a", LIT, "User:x", "*", WR_ACL_OP_READ, WR_ACL_PERM_ANY},
        {WR_ACL_RES_CLUSTER, "other", LIT, "User:x", "*", WR_ACL_OP_ALTER, ALLOW},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(wr_acl_add(s, &bad[i], &err), WR_EINVAL, "case %zu", i);
    wr_acl_store_close(s);
    cr_assert_eq(wr_acl_store_open(db, "nocolon", false, &s, &err), WR_EINVAL);
    cr_assert_null(s);
}

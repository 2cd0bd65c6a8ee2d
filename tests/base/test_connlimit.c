/* Unit tests for src/base/connlimit.c. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "src/base/connlimit.h"

static struct sockaddr_storage
ip(const char *s)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, s, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    return ss;
}

#define SA(x) ((const struct sockaddr *)&(x))

Test(base_connlimit, total_and_per_ip)
{
    wr_connlimit l;
    wr_err err;
    cr_assert_eq(wr_connlimit_init(&l, 4, 2, NULL, &err), WR_OK);
    struct sockaddr_storage a = ip("127.0.0.1"), b = ip("127.0.0.2"), c = ip("::1");
    cr_assert_eq(wr_connlimit_admit(&l, SA(a)), WR_CONNLIMIT_OK);
    cr_assert_eq(wr_connlimit_admit(&l, SA(a)), WR_CONNLIMIT_OK);
    cr_assert_eq(wr_connlimit_admit(&l, SA(a)), WR_CONNLIMIT_PER_IP);
    cr_assert_eq(wr_connlimit_count(&l, SA(a)), 2);
    cr_assert_eq(wr_connlimit_admit(&l, SA(b)), WR_CONNLIMIT_OK);
    cr_assert_eq(wr_connlimit_admit(&l, SA(c)), WR_CONNLIMIT_OK);
    cr_assert_eq(wr_connlimit_admit(&l, SA(c)), WR_CONNLIMIT_TOTAL);
    wr_connlimit_leave(&l, SA(a));
    cr_assert_eq(wr_connlimit_count(&l, SA(a)), 1);
    cr_assert_eq(wr_connlimit_admit(&l, SA(a)), WR_CONNLIMIT_OK);
    cr_assert_eq(l.total, 4);
    wr_connlimit_free(&l);
}

Test(base_connlimit, overrides_and_ipv4_mapped_addresses)
{
    wr_connlimit l;
    wr_err err;
    cr_assert_eq(wr_connlimit_init(&l, 0, 1, "127.0.0.1:3, [::2]:0 ,10.0.0.1:5", &err), WR_OK);
    struct sockaddr_storage a = ip("127.0.0.1"), m = ip("::ffff:127.0.0.1"), z = ip("::2"),
                            o = ip("127.0.0.9");
    for (int i = 0; i < 3; i++)
        cr_assert_eq(wr_connlimit_admit(&l, i == 1 ? SA(m) : SA(a)), WR_CONNLIMIT_OK);
    cr_assert_eq(wr_connlimit_admit(&l, SA(a)), WR_CONNLIMIT_PER_IP);
    cr_assert_eq(wr_connlimit_admit(&l, SA(z)), WR_CONNLIMIT_PER_IP); /* override 0 */
    cr_assert_eq(wr_connlimit_admit(&l, SA(o)), WR_CONNLIMIT_OK);
    cr_assert_eq(wr_connlimit_admit(&l, SA(o)), WR_CONNLIMIT_PER_IP);
    for (int i = 0; i < 3; i++)
        wr_connlimit_leave(&l, SA(a));
    cr_assert_eq(wr_connlimit_count(&l, SA(a)), 0);
    cr_assert_eq(wr_connlimit_admit(&l, SA(a)), WR_CONNLIMIT_OK); /* the override stays */
    wr_connlimit_free(&l);
}

Test(base_connlimit, unlimited_and_bad_overrides)
{
    wr_connlimit l;
    wr_err err;
    cr_assert_eq(wr_connlimit_init(&l, 0, 0, "", &err), WR_OK);
    struct sockaddr_storage a = ip("127.0.0.1");
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(wr_connlimit_admit(&l, SA(a)), WR_CONNLIMIT_OK);
    wr_connlimit_free(&l);
    cr_assert_eq(wr_connlimit_init(&l, 0, 0, "localhost:5", &err), WR_EINVAL);
    cr_assert(strstr(err.msg, "localhost:5") != NULL, "%s", err.msg);
    cr_assert_eq(wr_connlimit_init(&l, 0, 0, "127.0.0.1:x", &err), WR_EINVAL);
    cr_assert_eq(wr_connlimit_init(&l, 0, 0, "127.0.0.1", &err), WR_EINVAL);
}

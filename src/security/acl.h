/*
 * acl.h - Kafka's ACL model and authorizer (AclAuthorizer / StandardAuthorizer semantics) over
 * the log's metadata table "acls".
 *
 * A binding is (resource type, resource name, pattern type) + (principal, host, operation,
 * permission). Authorizing (principal, host, operation) on a resource:
 *   1. a super user (super.users) is allowed everything;
 *   2. the bindings that match the resource are those of its type whose pattern is LITERAL and
 *      equal to the name or "*", or PREFIXED and a prefix of the name; when there are none,
 *      the answer is allow.everyone.if.no.acl.found;
 *   3. a matching DENY for the principal (or User:*), the host (or *) and the operation (or ALL)
 *      denies;
 *   4. else a matching ALLOW allows, where ALLOW of READ, WRITE, DELETE or ALTER also allows
 *      DESCRIBE, and ALLOW of ALTER_CONFIGS also DESCRIBE_CONFIGS; else denied.
 * The numbers are Kafka's (AclOperation, ResourceType, PatternType, AclPermissionType), as the
 * CreateAcls/DescribeAcls/DeleteAcls APIs carry them.
 *
 * Ownership: the store borrows the logdb and copies every string it keeps. Threads: any (a
 * read-write lock: authorizing takes it shared).
 */
#ifndef WR_SRC_SECURITY_ACL_H
#define WR_SRC_SECURITY_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/err.h"

typedef struct wr_logdb wr_logdb;

enum { /* resource types */
       WR_ACL_RES_ANY = 1,
       WR_ACL_RES_TOPIC = 2,
       WR_ACL_RES_GROUP = 3,
       WR_ACL_RES_CLUSTER = 4,
       WR_ACL_RES_TRANSACTIONAL_ID = 5,
       WR_ACL_RES_DELEGATION_TOKEN = 6,
};
enum { /* pattern types */
       WR_ACL_PAT_ANY = 1,
       WR_ACL_PAT_MATCH = 2,
       WR_ACL_PAT_LITERAL = 3,
       WR_ACL_PAT_PREFIXED = 4,
};
enum { /* operations */
       WR_ACL_OP_ANY = 1,
       WR_ACL_OP_ALL = 2,
       WR_ACL_OP_READ = 3,
       WR_ACL_OP_WRITE = 4,
       WR_ACL_OP_CREATE = 5,
       WR_ACL_OP_DELETE = 6,
       WR_ACL_OP_ALTER = 7,
       WR_ACL_OP_DESCRIBE = 8,
       WR_ACL_OP_CLUSTER_ACTION = 9,
       WR_ACL_OP_DESCRIBE_CONFIGS = 10,
       WR_ACL_OP_ALTER_CONFIGS = 11,
       WR_ACL_OP_IDEMPOTENT_WRITE = 12,
};
enum { /* permissions */
       WR_ACL_PERM_ANY = 1,
       WR_ACL_PERM_DENY = 2,
       WR_ACL_PERM_ALLOW = 3,
};

/* One binding, or a filter of bindings (where a NULL string, an ANY type, pattern MATCH or
   ANY, operation ANY and permission ANY match everything). Strings are borrowed. */
typedef struct wr_acl {
    int8_t resource_type;
    const char *resource_name;
    int8_t pattern_type;
    const char *principal;
    const char *host;
    int8_t operation;
    int8_t permission;
} wr_acl;

typedef struct wr_acl_store wr_acl_store;

/* Loads the stored bindings. super_users: "User:a;User:b" (NULL: none). */
int wr_acl_store_open(wr_logdb *db,
                      const char *super_users,
                      bool allow_if_no_acl,
                      wr_acl_store **out,
                      wr_err *err);
void wr_acl_store_close(wr_acl_store *s); /* NULL-safe */

bool wr_acl_is_super(const wr_acl_store *s, const char *principal);
/* Whether principal from host may do operation on (resource_type, name[0..nlen)). */
bool wr_acl_authorize(wr_acl_store *s,
                      const char *principal,
                      const char *host,
                      int operation,
                      int resource_type,
                      const char *name,
                      size_t nlen);
/* Whether principal holds an ALLOW of operation on any resource of resource_type (Kafka's
   rule for idempotent producers: WRITE on any topic). */
bool wr_acl_allows_any(wr_acl_store *s, const char *principal, const char *host, int operation,
                       int resource_type);

/* Checks a binding to create: concrete types (no ANY/MATCH), a principal "Type:name", a host.
   WR_EINVAL with Kafka's kind of message. */
int wr_acl_validate(const wr_acl *a, wr_err *err);
/* Stores a (validated) binding; storing one already there is fine. */
int wr_acl_add(wr_acl_store *s, const wr_acl *a, wr_err *err);
/* Calls fn for every binding filter matches, in store order; fn returns non-zero to stop. */
void wr_acl_describe(wr_acl_store *s, const wr_acl *filter,
                     int (*fn)(void *arg, const wr_acl *a), void *arg);
/* Deletes every binding filter matches, calling fn for each first. */
int wr_acl_delete(wr_acl_store *s, const wr_acl *filter,
                  void (*fn)(void *arg, const wr_acl *a), void *arg, wr_err *err);

#endif

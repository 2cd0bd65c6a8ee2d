/*
 * test_store.c - state stores: transactions, iteration, changelogs, restore and the checkpoint
 * that detects damaged files; exactly-once commits split into wr_state_txn_log (through an
 * appender, a transactional producer's among them) and wr_state_txn_commit.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "src/coord/producer.h"
#include "src/coord/txn.h"
#include "src/log/log.h"
#include "state/store.h"

static char dir[64];
static char sdir[128];
static wr_logdb *db;

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/weir-state-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sdir, sizeof sdir, "%s/state", dir);
    char ldir[128];
    snprintf(ldir, sizeof ldir, "%s/log", dir);
    wr_log_opts o = {.flush = WR_LOG_FLUSH_NONE};
    wr_err err = {0};
    cr_assert_eq(wr_log_open(ldir, &o, &db, &err), WR_OK, "%s", err.msg);
    wr_props c = WR_PROPS_INIT;
    wr_props_set(&c, "cleanup.policy", "compact");
    cr_assert_eq(wr_log_topic_create(db, "cl", 1, &c, &err), WR_OK, "%s", err.msg);
    wr_props_free(&c);
}

static void
teardown(void)
{
    wr_log_close(db);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(state_store, .init = setup, .fini = teardown);

static wr_state *
open_state(wr_state_found want)
{
    wr_state_opts o = {
        .dir = sdir, .cache_bytes = 8 << 20, .write_buffer_bytes = 8 << 20, .verify_on_open = true};
    wr_state *s = NULL;
    wr_err err = {0};
    cr_assert_eq(wr_state_open(&o, &s, &err), WR_OK, "%s", err.msg);
    const char *why;
    cr_assert_eq(wr_state_found_as(s, &why), want, "found %d (%s)", wr_state_found_as(s, NULL),
                 why);
    return s;
}

static wr_partition *
changelog(void)
{
    wr_partition *p;
    cr_assert_eq(wr_log_partition(db, "cl", 0, &p), WR_OK);
    return p;
}

static wr_store *
store(wr_state *s, bool with_changelog)
{
    wr_store *st;
    wr_err err = {0};
    cr_assert_eq(wr_store_open(s, "q#agg#0", with_changelog ? changelog() : NULL, &st, &err), WR_OK,
                 "%s", err.msg);
    return st;
}

static char *
get(wr_state *s, wr_state_txn *t, wr_store *st, const char *k)
{
    static char out[256];
    wr_buf v = WR_BUF_INIT;
    bool found;
    wr_err err = {0};
    cr_assert_eq(wr_store_get(s, t, st, k, strlen(k), &v, &found, &err), WR_OK, "%s", err.msg);
    if (!found) {
        wr_buf_free(&v);
        return NULL;
    }
    snprintf(out, sizeof out, "%.*s", (int)v.len, (const char *)v.data);
    wr_buf_free(&v);
    return out;
}

static void
put(wr_state_txn *t, wr_store *st, const char *k, const char *v)
{
    if (v == NULL)
        cr_assert_eq(wr_store_delete(t, st, k, strlen(k)), WR_OK);
    else
        cr_assert_eq(wr_store_put(t, st, k, strlen(k), v, strlen(v)), WR_OK);
}

static void
commit(wr_state_txn *t)
{
    wr_err err = {0};
    cr_assert_eq(wr_state_txn_commit(t, 1000, &err), WR_OK, "%s", err.msg);
}

/* every key=value of the committed store, in order */
static char *
dump(wr_state *s, wr_state_txn *t, wr_store *st, const char *lo, const char *hi)
{
    static char out[4096];
    out[0] = 0;
    wr_store_iter *it =
        wr_store_iter_open(s, t, st, lo, lo ? strlen(lo) : 0, hi, hi ? strlen(hi) : 0);
    cr_assert_not_null(it);
    const uint8_t *k, *v;
    size_t kl, vl;
    while (wr_store_iter_next(it, &k, &kl, &v, &vl))
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.*s=%.*s", out[0] ? " " : "",
                 (int)kl, (const char *)k, (int)vl, (const char *)v);
    wr_err err = {0};
    cr_assert_eq(wr_store_iter_close(it, &err), WR_OK, "%s", err.msg);
    return out;
}

Test(state_store, writes_are_seen_by_their_transaction_and_by_others_only_after_commit)
{
    wr_state *s = open_state(WR_STATE_NEW);
    wr_store *st = store(s, false);
    wr_state_txn *t = wr_state_txn_begin(s);
    put(t, st, "b", "2");
    put(t, st, "a", "1");
    put(t, st, "c", "3");
    cr_assert_str_eq(get(s, t, st, "a"), "1");
    cr_assert_null(get(s, NULL, st, "a"));
    cr_assert_str_eq(dump(s, t, st, NULL, NULL), "a=1 b=2 c=3");
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "");
    commit(t);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "a=1 b=2 c=3");
    cr_assert_str_eq(dump(s, NULL, st, "b", "c"), "b=2");
    t = wr_state_txn_begin(s);
    put(t, st, "b", NULL);
    put(t, st, "d", "4");
    cr_assert_str_eq(dump(s, t, st, NULL, NULL), "a=1 c=3 d=4");
    wr_state_txn_abort(t);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "a=1 b=2 c=3");
    wr_state_close(s);
}

Test(state_store, prefix_end_bounds_a_prefix)
{
    uint8_t out[8];
    cr_assert_eq(wr_store_prefix_end((const uint8_t *)"ab", 2, out), 2);
    cr_assert_eq(memcmp(out, "ac", 2), 0);
    cr_assert_eq(wr_store_prefix_end((const uint8_t *)"a\xff", 2, out), 1);
    cr_assert_eq(out[0], 'b');
    cr_assert_eq(wr_store_prefix_end((const uint8_t *)"\xff\xff", 2, out), 0);
}

Test(state_store, commits_write_the_last_value_of_each_key_to_the_changelog)
{
    wr_state *s = open_state(WR_STATE_NEW);
    wr_store *st = store(s, true);
    wr_state_txn *t = wr_state_txn_begin(s);
    put(t, st, "k1", "a");
    put(t, st, "k2", "b");
    put(t, st, "k1", "c");
    commit(t);
    cr_assert_eq(wr_log_end_offset(changelog()), 2, "one record per key");
    cr_assert_eq(wr_store_offset(st), 2);
    t = wr_state_txn_begin(s);
    put(t, st, "k2", NULL);
    commit(t);
    cr_assert_eq(wr_store_offset(st), 3);
    wr_state_close(s);

    /* a clean restart: nothing to replay */
    s = open_state(WR_STATE_CLEAN);
    st = store(s, true);
    cr_assert_eq(wr_store_offset(st), 3);
    int64_t n = -1;
    wr_err err = {0};
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 0);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "k1=c");
    wr_state_close(s);

    /* the state directory lost: rebuilt from the changelog */
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", sdir);
    cr_assert_eq(system(cmd), 0);
    s = open_state(WR_STATE_NEW);
    st = store(s, true);
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 3);
    cr_assert_eq(wr_store_offset(st), 3);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "k1=c");
    wr_state_close(s);
}

Test(state_store, restore_replays_only_the_changelog_tail)
{
    wr_state *s = open_state(WR_STATE_NEW);
    wr_store *st = store(s, true);
    wr_state_txn *t = wr_state_txn_begin(s);
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%03d", i);
        put(t, st, k, "v");
    }
    commit(t);
    wr_state_close(s);
    /* another writer (a moved task) went on: 5 more changelog records */
    s = open_state(WR_STATE_CLEAN);
    wr_store *other;
    wr_err err = {0};
    cr_assert_eq(wr_store_open(s, "other", changelog(), &other, &err), WR_OK);
    int64_t n;
    cr_assert_eq(wr_store_restore(s, other, &n, &err), WR_OK);
    cr_assert_eq(n, 100);
    t = wr_state_txn_begin(s);
    for (int i = 0; i < 5; i++) {
        char k[16];
        snprintf(k, sizeof k, "n%d", i);
        put(t, other, k, "w");
    }
    commit(t);
    st = store(s, true);
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 5, "only the tail past the store's offset: %lld", (long long)n);
    cr_assert_eq(wr_store_offset(st), 105);
    wr_state_close(s);
}

static void
flip_a_bit_in_an_sst(void)
{
    char rdir[200];
    snprintf(rdir, sizeof rdir, "%s/rocksdb", sdir);
    DIR *d = opendir(rdir);
    cr_assert_not_null(d);
    struct dirent *de;
    bool done = false;
    while (!done && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 4, ".sst") != 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", rdir, de->d_name);
        int fd = open(p, O_RDWR);
        cr_assert_geq(fd, 0);
        uint8_t c;
        cr_assert_eq(pread(fd, &c, 1, 40), 1);
        c ^= 0x10;
        cr_assert_eq(pwrite(fd, &c, 1, 40), 1);
        close(fd);
        done = true;
    }
    closedir(d);
    cr_assert(done, "no SST file to damage");
}

static void
fill(wr_state *s, wr_store *st, int n)
{
    wr_state_txn *t = wr_state_txn_begin(s);
    for (int i = 0; i < n; i++) {
        char k[16], v[32];
        snprintf(k, sizeof k, "k%05d", i);
        snprintf(v, sizeof v, "value-%d", i);
        put(t, st, k, v);
    }
    commit(t);
}

Test(state_store, a_flipped_bit_in_an_sst_is_found_and_the_store_rebuilt)
{
    wr_state *s = open_state(WR_STATE_NEW);
    fill(s, store(s, true), 1000);
    wr_state_close(s);
    flip_a_bit_in_an_sst();
    s = open_state(WR_STATE_WIPED);
    const char *why;
    wr_state_found_as(s, &why);
    cr_assert(strstr(why, "is damaged") != NULL, "%s", why);
    wr_store *st = store(s, true);
    cr_assert_eq(wr_store_offset(st), 0);
    int64_t n;
    wr_err err = {0};
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK);
    cr_assert_eq(n, 1000);
    cr_assert(strstr(dump(s, NULL, st, "k00999", NULL), "k00999=value-999") != NULL);
    wr_state_close(s);
}

Test(state_store, a_truncated_checkpoint_is_found_and_the_store_rebuilt)
{
    wr_state *s = open_state(WR_STATE_NEW);
    fill(s, store(s, true), 10);
    wr_state_close(s);
    char cp[200];
    snprintf(cp, sizeof cp, "%s/weir.checkpoint", sdir);
    cr_assert_eq(truncate(cp, 30), 0);
    s = open_state(WR_STATE_WIPED);
    const char *why;
    wr_state_found_as(s, &why);
    cr_assert_str_eq(why, "the checkpoint is truncated");
    wr_state_close(s);
}

/* The crashing writer runs as a separate process (this binary again, started with
   WEIR_STATE_CRASH_DIR set): forking inside a criterion test upsets its statistics pipe. */
__attribute__((constructor)) static void
crash_child(void)
{
    const char *d = getenv("WEIR_STATE_CRASH_DIR");
    if (d == NULL)
        return;
    wr_state_opts o = {.dir = d, .cache_bytes = 8 << 20, .write_buffer_bytes = 8 << 20};
    wr_state *s = NULL;
    wr_store *st = NULL;
    wr_err err = {0};
    if (wr_state_open(&o, &s, &err) != WR_OK ||
        wr_store_open(s, "q#agg#0", NULL, &st, &err) != WR_OK)
        _exit(2);
    wr_state_txn *t = wr_state_txn_begin(s);
    for (int i = 0; i < 50; i++) {
        char k[16], v[32];
        snprintf(k, sizeof k, "k%05d", i);
        snprintf(v, sizeof v, "value-%d", i);
        wr_store_put(t, st, k, strlen(k), v, strlen(v));
    }
    _exit(wr_state_txn_commit(t, 0, &err) == WR_OK ? 0 : 3); /* no close: no checkpoint */
}

Test(state_store, after_a_crash_the_store_is_recovered_and_verified_not_wiped)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "WEIR_STATE_CRASH_DIR=%s /proc/%d/exe", sdir, (int)getpid());
    cr_assert_eq(system(cmd), 0);
    wr_state *s = open_state(WR_STATE_UNCLEAN);
    wr_store *sto = store(s, false);
    cr_assert_eq(wr_store_offset(sto), 0, "no changelog: the offset stays");
    cr_assert_str_eq(dump(s, NULL, sto, "k00049", NULL), "k00049=value-49");
    wr_state_close(s);
}

Test(state_store, a_store_ahead_of_its_changelog_is_rebuilt)
{
    wr_state *s = open_state(WR_STATE_NEW);
    fill(s, store(s, true), 10);
    wr_state_close(s);
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_delete(db, "cl", &err), WR_OK);
    cr_assert_eq(wr_log_topic_create(db, "cl", 1, NULL, &err), WR_OK);
    s = open_state(WR_STATE_CLEAN);
    wr_store *st = store(s, true);
    int64_t n;
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(wr_store_offset(st), 0);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "");
    wr_state_close(s);
}

Test(state_store, a_dropped_store_loses_its_data)
{
    wr_state *s = open_state(WR_STATE_NEW);
    wr_store *st = store(s, false);
    fill(s, st, 3);
    wr_err err = {0};
    cr_assert_eq(wr_store_drop(s, st, &err), WR_OK, "%s", err.msg);
    st = store(s, false);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "");
    cr_assert_eq(wr_store_offset(st), 0);
    wr_state_close(s);
}

/* ---- wr_state_txn_log: the changelog first, RocksDB at the commit -------------------------- */

/* An appender that counts its calls and appends plainly, or fails when told to. */
typedef struct counting {
    int calls;
    wr_partition *last;
    int fail; /* a WR_E* code to return instead of appending; 0: append */
} counting;

static int
counting_append(
    void *arg, wr_partition *p, uint8_t *data, size_t len, wr_log_append_result *res, wr_err *err)
{
    counting *c = arg;
    c->calls++;
    c->last = p;
    if (c->fail != 0)
        return wr_err_set(err, c->fail, "the appender was told to fail");
    return wr_log_append(p, data, len, res, err);
}

Test(state_store, txn_log_appends_through_the_appender_and_commit_writes_rocksdb)
{
    wr_err err = {0};
    cr_assert_eq(wr_log_topic_create(db, "cl2", 1, NULL, &err), WR_OK, "%s", err.msg);
    wr_partition *cl2;
    cr_assert_eq(wr_log_partition(db, "cl2", 0, &cl2), WR_OK);
    wr_state *s = open_state(WR_STATE_NEW);
    wr_store *st = store(s, true), *other;
    cr_assert_eq(wr_store_open(s, "q#other#0", cl2, &other, &err), WR_OK, "%s", err.msg);
    wr_state_txn *t = wr_state_txn_begin(s);
    put(t, st, "k1", "a");
    commit(t); /* offset 1 */
    t = wr_state_txn_begin(s);
    put(t, st, "k1", "b");
    put(t, st, "k2", "c");
    put(t, st, "k1", "d");
    put(t, other, "o", "x");
    counting c = {0};
    wr_state_appender ap = {counting_append, &c};
    cr_assert_eq(wr_state_txn_log(t, &ap, 1000, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(c.calls, 2, "one append per store");
    cr_assert_eq(wr_log_end_offset(changelog()), 3, "the last value of each key, logged now");
    cr_assert_eq(wr_log_end_offset(cl2), 1);
    /* RocksDB and the store offsets wait for the commit */
    cr_assert_str_eq(get(s, NULL, st, "k1"), "a");
    cr_assert_null(get(s, NULL, st, "k2"));
    cr_assert_null(get(s, NULL, other, "o"));
    cr_assert_eq(wr_store_offset(st), 1);
    cr_assert_eq(wr_store_offset(other), 0);
    cr_assert_str_eq(get(s, t, st, "k1"), "d", "the transaction still reads its writes");
    cr_assert_eq(wr_state_txn_log(t, &ap, 1000, &err), WR_ESTATE, "logged twice");
    cr_assert_eq(c.calls, 2);
    commit(t);
    cr_assert_eq(wr_log_end_offset(changelog()), 3, "the commit does not log again");
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "k1=d k2=c");
    cr_assert_str_eq(get(s, NULL, other, "o"), "x");
    cr_assert_eq(wr_store_offset(st), 3);
    cr_assert_eq(wr_store_offset(other), 1);
    /* nothing to replay: the store is level with its changelog */
    int64_t n = -1;
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 0);
    /* a transaction without writes logs nothing */
    t = wr_state_txn_begin(s);
    cr_assert_eq(wr_state_txn_log(t, &ap, 1000, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(c.calls, 2);
    commit(t);
    cr_assert_eq(wr_store_offset(st), 3);
    wr_state_close(s);
}

Test(state_store, a_write_after_txn_log_fails_the_commit)
{
    wr_state *s = open_state(WR_STATE_NEW);
    wr_store *st = store(s, true);
    const char *late[] = {"put", "delete"};
    for (int i = 0; i < 2; i++) {
        wr_state_txn *t = wr_state_txn_begin(s);
        put(t, st, "k", "v");
        wr_err err = {0};
        cr_assert_eq(wr_state_txn_log(t, NULL, 1000, &err), WR_OK, "%s", err.msg);
        int64_t end = wr_log_end_offset(changelog());
        int rc = i == 0 ? wr_store_put(t, st, "late", 4, "w", 1) : wr_store_delete(t, st, "k", 1);
        cr_assert_neq(rc, WR_OK, "a %s after the changelog records", late[i]);
        cr_assert_eq(wr_state_txn_commit(t, 1000, &err), WR_ESTATE, "%s: %d %s", late[i], err.code,
                     err.msg);
        cr_assert(strstr(err.msg, "after its changelog records") != NULL, "%s", err.msg);
        cr_assert_eq(wr_log_end_offset(changelog()), end, "the failed commit logs nothing");
        cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "", "%s: nothing reached RocksDB", late[i]);
        cr_assert_eq(wr_store_offset(st), 0);
    }
    /* the changelog holds the records of the failed commits, and a plain changelog is read
       whole: a restore applies them (under exactly-once the runtime's transaction aborts, and
       read_committed skips them) */
    int64_t n = -1;
    wr_err err = {0};
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "k=v");
    wr_state_close(s);
}

Test(state_store, a_failing_appender_fails_txn_log)
{
    wr_state *s = open_state(WR_STATE_NEW);
    wr_store *st = store(s, true);
    wr_state_txn *t = wr_state_txn_begin(s);
    put(t, st, "k", "v");
    counting c = {.fail = WR_EFENCED};
    wr_state_appender ap = {counting_append, &c};
    wr_err err = {0};
    cr_assert_eq(wr_state_txn_log(t, &ap, 1000, &err), WR_EFENCED);
    cr_assert(strstr(err.msg, "the appender was told to fail") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "q#agg#0") != NULL, "the store is named: %s", err.msg);
    cr_assert_eq(c.last, changelog());
    wr_state_txn_abort(t);
    cr_assert_eq(wr_log_end_offset(changelog()), 0);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "");
    wr_state_close(s);
}

/* The runtime's exactly-once path, by hand: the changelog records go through a transactional
   producer, so that restores (read_committed) apply them only if that transaction commits. */
static int64_t pids = 500;

static int
state_new_pid(void *arg, int64_t *pid, wr_err *err)
{
    (void)arg;
    (void)err;
    *pid = pids++;
    return WR_OK;
}

static int
producer_append(
    void *arg, wr_partition *p, uint8_t *data, size_t len, wr_log_append_result *res, wr_err *err)
{
    return wr_txn_producer_append(arg, wr_partition_topic(p), wr_partition_id(p), data, len, res,
                                  err);
}

Test(state_store, restore_applies_committed_changelog_transactions_only)
{
    wr_err err = {0};
    wr_txn_coord *coord;
    wr_txn_coord_opts co = {
        .max_timeout_ms = 60000, .check_interval_ms = 3600000, .new_pid = state_new_pid};
    cr_assert_eq(wr_txn_coord_open(db, &co, &coord, &err), WR_OK, "%s", err.msg);
    wr_txn_producer *prod;
    cr_assert_eq(wr_txn_producer_open(coord, db, "task-0", 10000, &prod, &err), WR_OK, "%s",
                 err.msg);
    wr_state_appender ap = {producer_append, prod};
    wr_state *s = open_state(WR_STATE_NEW);
    wr_store *st = store(s, true);

    /* 1. a normal exactly-once commit: log in the transaction, commit it, then RocksDB */
    wr_state_txn *t = wr_state_txn_begin(s);
    put(t, st, "base", "1");
    cr_assert_eq(wr_state_txn_log(t, &ap, 1000, &err), WR_OK, "%s", err.msg);
    cr_assert_lt(wr_log_stable_offset(changelog()), wr_log_end_offset(changelog()));
    cr_assert_eq(wr_txn_producer_commit(prod, &err), WR_OK, "%s", err.msg);
    commit(t);
    int64_t after1 = wr_store_offset(st);
    cr_assert_geq(after1, 1);

    /* 2. logged, then the Kafka transaction aborts (and the state transaction with it) */
    t = wr_state_txn_begin(s);
    put(t, st, "base", "aborted");
    put(t, st, "gone", "x");
    cr_assert_eq(wr_state_txn_log(t, &ap, 1000, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_txn_producer_abort(prod, &err), WR_OK, "%s", err.msg);
    wr_state_txn_abort(t);
    cr_assert_eq(wr_store_offset(st), after1);

    /* 3. logged and committed in the log, then a crash before the RocksDB write */
    t = wr_state_txn_begin(s);
    put(t, st, "late", "y");
    put(t, st, "base", "2");
    cr_assert_eq(wr_state_txn_log(t, &ap, 1000, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_txn_producer_commit(prod, &err), WR_OK, "%s", err.msg);
    wr_state_txn_abort(t);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "base=1");
    wr_state_close(s);

    /* 4. a transaction still open at the restart: not applied, and not skipped either */
    s = open_state(WR_STATE_CLEAN);
    st = store(s, true);
    cr_assert_eq(wr_store_offset(st), after1);
    t = wr_state_txn_begin(s);
    put(t, st, "open", "z");
    cr_assert_eq(wr_state_txn_log(t, &ap, 1000, &err), WR_OK, "%s", err.msg);
    wr_state_txn_abort(t);
    int64_t n = -1;
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 2, "the committed transaction's two records, not the aborted ones: %lld",
                 (long long)n);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "base=2 late=y");
    cr_assert_eq(wr_store_offset(st), wr_log_stable_offset(changelog()),
                 "the store stops at the open transaction");
    cr_assert_eq(wr_txn_producer_commit(prod, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "base=2 late=y open=z");
    cr_assert_eq(wr_store_offset(st), wr_log_end_offset(changelog()));
    wr_state_close(s);

    /* 5. the whole store rebuilt from its changelog: the same data */
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", sdir);
    cr_assert_eq(system(cmd), 0);
    s = open_state(WR_STATE_NEW);
    st = store(s, true);
    cr_assert_eq(wr_store_restore(s, st, &n, &err), WR_OK, "%s", err.msg);
    cr_assert_eq(n, 4, "1 + 2 + 1 committed records: %lld", (long long)n);
    cr_assert_str_eq(dump(s, NULL, st, NULL, NULL), "base=2 late=y open=z");
    wr_state_close(s);
    wr_txn_producer_close(prod);
    wr_txn_coord_close(coord);
}

/*
 * test_store.c - state stores: transactions, iteration, changelogs, restore and the checkpoint
 * that detects damaged files.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

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

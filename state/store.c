/*
 * store.c - state stores over one RocksDB instance, with changelogs and checkpoints (store.h).
 *
 * Layout of the instance directory:
 *   <dir>/rocksdb/          the RocksDB database: a column family per store; the default
 *                           column family holds each store's changelog offset ("offset:<name>")
 *   <dir>/weir.checkpoint   written at a clean close, removed at open: every RocksDB file with
 *                           its size and CRC-32C, then a CRC-32C of the lines before
 */
#include "state/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "src/base/crc32c.h"
#include "src/base/fault.h"
#include "src/base/hash.h"
#include "src/base/logging.h"
#include "src/log/rbatch.h"

#define TAG             "state"
#define CHECKPOINT      "weir.checkpoint"
#define OFFSET_PREFIX   "offset:"
#define RESTORE_READ    (1u << 20)
#define RESTORE_BATCH   (4u << 20)
#define CHANGELOG_BATCH (256u << 10)
#define MAX_DECOMPRESS  (64u << 20)

struct wr_store {
    struct wr_store *next;
    char *name;
    rocksdb_column_family_handle_t *cf;
    wr_partition *changelog;
    int64_t offset;
};

struct wr_state {
    char *dir, *dbdir;
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *bbo;
    rocksdb_cache_t *cache;
    rocksdb_readoptions_t *ro, *ro_scan;
    rocksdb_writeoptions_t *wo;
    rocksdb_column_family_handle_t *meta; /* the default column family */
    int ncf;                              /* column families found at open (meta included) */
    char **cf_names;
    rocksdb_column_family_handle_t **cfs; /* open handles not yet claimed by a store */
    wr_store *stores;
    wr_state_found found;
    char why[256];
};

/* one key's last write in a transaction */
typedef struct pending {
    size_t koff, klen, voff;
    int64_t vlen; /* -1: deleted */
} pending;

/* the writes of one store in a transaction, deduplicated by key for the changelog */
typedef struct txn_store {
    wr_store *st;
    wr_buf bytes; /* keys and values */
    pending *ents;
    size_t n, cap;
    int32_t *slots; /* open addressing over ents, -1 empty */
    size_t nslots;
} txn_store;

struct wr_state_txn {
    wr_state *s;
    rocksdb_writebatch_wi_t *wb;
    txn_store *ts;
    int nts, capts;
    bool oom;
    bool logged, late; /* wr_state_txn_log ran; a write came after it */
    int64_t *next;     /* logged: each store's changelog offset after its records */
};

/* ---- files ------------------------------------------------------------------------------ */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int
rm_tree(const char *path)
{
    if (access(path, F_OK) != 0)
        return 0;
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* RocksDB's own diagnostics and lock change at every open: not part of the data */
static bool
checked_file(const char *name)
{
    return name[0] != '.' && strncmp(name, "LOG", 3) != 0 && strcmp(name, "LOCK") != 0;
}

static int
file_crc(const char *path, uint64_t *size, uint32_t *crc)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    static __thread uint8_t chunk[1 << 16];
    uint32_t c = 0;
    uint64_t n = 0;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        c = wr_crc32c(c, chunk, (size_t)r);
        n += (uint64_t)r;
    }
    close(fd);
    *size = n;
    *crc = c;
    return 0;
}

/* Writes <dir>/weir.checkpoint for the closed database in dbdir. */
static int
write_checkpoint(const wr_state *s)
{
    DIR *d = opendir(s->dbdir);
    if (d == NULL)
        return -1;
    wr_buf b = WR_BUF_INIT;
    wr_buf_printf(&b, "weir state checkpoint 1\n");
    struct dirent *de;
    int rc = 0;
    char path[4096];
    while ((de = readdir(d)) != NULL && rc == 0) {
        if (!checked_file(de->d_name))
            continue;
        uint64_t size;
        uint32_t crc;
        snprintf(path, sizeof path, "%s/%s", s->dbdir, de->d_name);
        rc = file_crc(path, &size, &crc);
        wr_buf_printf(&b, "%s %llu %08x\n", de->d_name, (unsigned long long)size, crc);
    }
    closedir(d);
    wr_buf_printf(&b, "end %08x\n", wr_crc32c(0, b.data, b.len));
    if (rc != 0 || !wr_buf_ok(&b)) {
        wr_buf_free(&b);
        return -1;
    }
    char tmp[4096], fin[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", s->dir, CHECKPOINT);
    snprintf(fin, sizeof fin, "%s/%s", s->dir, CHECKPOINT);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) != 0)
        rc = -1;
    if (fd >= 0)
        close(fd);
    wr_buf_free(&b);
    if (rc == 0 && (rename(tmp, fin) != 0 || fsync_dir(s->dir) != 0))
        rc = -1;
    return rc;
}

/* Checks the checkpoint of a cleanly closed instance against its files: 0 when every file it
   names is there with its size and CRC, -1 with why. */
static int
verify_checkpoint(const wr_state *s, const char *path, bool verify, char *why, size_t whylen)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        snprintf(why, whylen, "cannot read the checkpoint: %s", strerror(errno));
        return -1;
    }
    char line[4200];
    uint32_t crc = 0;
    int rc = -1, nfiles = 0;
    bool header = true;
    snprintf(why, whylen, "the checkpoint is truncated");
    while (fgets(line, sizeof line, f) != NULL) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            snprintf(why, whylen, "the checkpoint is truncated");
            break;
        }
        unsigned int want;
        if (header) {
            if (strcmp(line, "weir state checkpoint 1\n") != 0) {
                snprintf(why, whylen, "the checkpoint has an unknown format");
                break;
            }
            header = false;
        } else if (sscanf(line, "end %8x", &want) == 1 && strncmp(line, "end ", 4) == 0) {
            if (want != crc)
                snprintf(why, whylen, "the checkpoint fails its checksum");
            else
                rc = 0;
            break;
        } else {
            char name[4096];
            unsigned long long size;
            if (sscanf(line, "%4095s %llu %8x", name, &size, &want) != 3 || strchr(name, '/')) {
                snprintf(why, whylen, "the checkpoint has a malformed line");
                break;
            }
            nfiles++;
            if (verify) {
                char fp[8300];
                uint64_t got_size;
                uint32_t got_crc;
                snprintf(fp, sizeof fp, "%s/%s", s->dbdir, name);
                if (file_crc(fp, &got_size, &got_crc) != 0) {
                    snprintf(why, whylen, "state file %.100s is missing", name);
                    break;
                }
                if (got_size != size || got_crc != want) {
                    snprintf(why, whylen,
                             "state file %.100s is damaged (%llu bytes, CRC %08x; the checkpoint "
                             "says %llu bytes, CRC %08x)",
                             name, (unsigned long long)got_size, got_crc, size, want);
                    break;
                }
            }
        }
        crc = wr_crc32c(crc, line, len);
    }
    fclose(f);
    if (rc == 0 && nfiles == 0) {
        snprintf(why, whylen, "the checkpoint names no files");
        rc = -1;
    }
    return rc;
}

/* ---- opening ------------------------------------------------------------------------------ */

static void
close_db(wr_state *s)
{
    for (wr_store *st = s->stores; st != NULL; st = st->next)
        if (st->cf != NULL) {
            rocksdb_column_family_handle_destroy(st->cf);
            st->cf = NULL;
        }
    for (int i = 0; i < s->ncf; i++) {
        if (s->cfs != NULL && s->cfs[i] != NULL)
            rocksdb_column_family_handle_destroy(s->cfs[i]);
        free(s->cf_names ? s->cf_names[i] : NULL);
    }
    free(s->cfs);
    free(s->cf_names);
    s->cfs = NULL;
    s->cf_names = NULL;
    s->ncf = 0;
    s->meta = NULL;
    if (s->db != NULL)
        rocksdb_close(s->db);
    s->db = NULL;
}

static int
rocks_fail(wr_err *err, char *e, const char *what)
{
    int rc = wr_err_set(err, WR_EIO, "%s: %s", what, e ? e : "unknown RocksDB error");
    free(e);
    return rc;
}

/* Opens the database with every column family it has. */
static int
open_db(wr_state *s, wr_err *err)
{
    char *e = NULL;
    size_t n = 0;
    char **names = rocksdb_list_column_families(s->opts, s->dbdir, &n, &e);
    if (e != NULL) { /* a new database has none */
        free(e);
        e = NULL;
        if (names != NULL)
            rocksdb_list_column_families_destroy(names, n);
        names = NULL;
        n = 0;
    }
    int ncf = n > 0 ? (int)n : 1;
    s->cf_names = calloc((size_t)ncf, sizeof *s->cf_names);
    s->cfs = calloc((size_t)ncf, sizeof *s->cfs);
    const rocksdb_options_t **copts = calloc((size_t)ncf, sizeof *copts);
    if (s->cf_names == NULL || s->cfs == NULL || copts == NULL) {
        free(copts);
        if (names)
            rocksdb_list_column_families_destroy(names, n);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    s->ncf = ncf;
    for (int i = 0; i < ncf; i++) {
        s->cf_names[i] = strdup(n > 0 ? names[i] : "default");
        copts[i] = s->opts;
    }
    if (names)
        rocksdb_list_column_families_destroy(names, n);
    s->db = rocksdb_open_column_families(s->opts, s->dbdir, ncf, (const char *const *)s->cf_names,
                                         copts, s->cfs, &e);
    free(copts);
    if (s->db == NULL)
        return rocks_fail(err, e, "cannot open the state store");
    for (int i = 0; i < ncf; i++)
        if (strcmp(s->cf_names[i], "default") == 0)
            s->meta = s->cfs[i];
    return WR_OK;
}

/* Reads every block of every column family with checksums: 0 or -1 with why. */
static int
verify_scan(wr_state *s, char *why, size_t whylen)
{
    for (int i = 0; i < s->ncf; i++) {
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro_scan, s->cfs[i]);
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        }
        char *e = NULL;
        rocksdb_iter_get_error(it, &e);
        rocksdb_iter_destroy(it);
        if (e != NULL) {
            snprintf(why, whylen, "store %.100s is damaged: %.120s", s->cf_names[i], e);
            free(e);
            return -1;
        }
    }
    return 0;
}

static void
wipe(wr_state *s, const char *why)
{
    wr_log(WR_LOG_WARN, TAG,
           "state %s: %s; wiping it, the stores are rebuilt from their changelogs", s->dir, why);
    snprintf(s->why, sizeof s->why, "%s", why);
    s->found = WR_STATE_WIPED;
    close_db(s);
    char *e = NULL;
    rocksdb_destroy_db(s->opts, s->dbdir, &e);
    free(e);
    rm_tree(s->dbdir);
}

int
wr_state_open(const wr_state_opts *o, wr_state **out, wr_err *err)
{
    *out = NULL;
    wr_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    s->dir = strdup(o->dir);
    s->dbdir = malloc(strlen(o->dir) + 16);
    if (s->dir == NULL || s->dbdir == NULL) {
        wr_state_close(s);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    sprintf(s->dbdir, "%s/rocksdb", o->dir);
    if (mkdir(s->dir, 0755) != 0 && errno != EEXIST) {
        int rc = wr_err_set(err, WR_EIO, "cannot create %s: %s", s->dir, strerror(errno));
        wr_state_close(s);
        return rc;
    }
    size_t cache = o->cache_bytes ? o->cache_bytes : (64u << 20);
    size_t wbuf = o->write_buffer_bytes ? o->write_buffer_bytes : (64u << 20);
    s->cache = rocksdb_cache_create_lru(cache);
    s->bbo = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(s->bbo, s->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(s->bbo, 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(s->bbo, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(s->bbo, 1);
    rocksdb_block_based_options_set_block_size(s->bbo, 16 << 10);
    /* a GROUP BY's first record of a key misses: bloom filters answer most misses without
       reading a data block (the block-based options own the policy) */
    rocksdb_block_based_options_set_filter_policy(s->bbo,
                                                  rocksdb_filterpolicy_create_bloom_full(10));
    /* Filters and indexes in 4 KiB partitions under a pinned top level. A whole-file filter of a
       large table store (1.2 MB for a million keys) outgrows its cache shard (the cache has 64)
       and was read from disk and checksummed again on every get. */
    rocksdb_block_based_options_set_partition_filters(s->bbo, 1);
    rocksdb_block_based_options_set_index_type(
        s->bbo, rocksdb_block_based_table_index_type_two_level_index_search);
    rocksdb_block_based_options_set_pin_top_level_index_and_filter(s->bbo, 1);
    s->opts = rocksdb_options_create();
    rocksdb_options_set_block_based_table_factory(s->opts, s->bbo);
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_create_missing_column_families(s->opts, 1);
    rocksdb_options_set_paranoid_checks(s->opts, 1);
    rocksdb_options_set_db_write_buffer_size(s->opts, wbuf);
    size_t per_cf = wbuf / 4 < (1u << 20) ? (1u << 20) : wbuf / 4;
    rocksdb_options_set_write_buffer_size(s->opts, per_cf);
    rocksdb_options_set_max_write_buffer_number(s->opts, 2);
    rocksdb_options_set_compression(s->opts, rocksdb_lz4_compression);
    rocksdb_options_set_max_open_files(s->opts, 256);
    rocksdb_options_set_keep_log_file_num(s->opts, 2);
    rocksdb_options_set_max_log_file_size(s->opts, 1 << 20);
    rocksdb_options_set_info_log_level(s->opts, 2 /* WARN */);
    rocksdb_options_increase_parallelism(s->opts, 2);
    s->ro = rocksdb_readoptions_create();
    s->ro_scan = rocksdb_readoptions_create();
    rocksdb_readoptions_set_fill_cache(s->ro_scan, 0);
    rocksdb_readoptions_set_verify_checksums(s->ro_scan, 1);
    s->wo = rocksdb_writeoptions_create();

    char cp[4096], cur[4096];
    snprintf(cp, sizeof cp, "%s/%s", s->dir, CHECKPOINT);
    snprintf(cur, sizeof cur, "%s/CURRENT", s->dbdir);
    bool exists = access(cur, F_OK) == 0;
    bool has_cp = access(cp, F_OK) == 0;
    s->found = !exists ? WR_STATE_NEW : has_cp ? WR_STATE_CLEAN : WR_STATE_UNCLEAN;
    char why[256];
    if (exists && has_cp && verify_checkpoint(s, cp, o->verify_on_open, why, sizeof why) != 0)
        wipe(s, why);
    else if (!exists && access(s->dbdir, F_OK) == 0)
        rm_tree(s->dbdir); /* a database that never got its CURRENT file */
    wr_err oerr = {0};
    int rc = open_db(s, &oerr);
    if (rc != WR_OK && s->found != WR_STATE_WIPED) {
        wipe(s, oerr.msg);
        rc = open_db(s, err);
    } else if (rc != WR_OK) {
        *err = oerr;
    }
    if (rc == WR_OK && s->found == WR_STATE_UNCLEAN && verify_scan(s, why, sizeof why) != 0) {
        wipe(s, why);
        rc = open_db(s, err);
    }
    /* from now on a crash leaves no checkpoint: the next open verifies every block */
    if (rc == WR_OK && has_cp && (unlink(cp) != 0 || fsync_dir(s->dir) != 0))
        rc = wr_err_set(err, WR_EIO, "cannot remove %s: %s", cp, strerror(errno));
    if (rc != WR_OK) {
        wr_state_close(s);
        return rc;
    }
    *out = s;
    return WR_OK;
}

wr_state_found
wr_state_found_as(const wr_state *s, const char **why)
{
    if (why != NULL)
        *why = s->why;
    return s->found;
}

void
wr_state_close(wr_state *s)
{
    if (s == NULL)
        return;
    bool opened = s->db != NULL;
    if (opened) {
        rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
        rocksdb_flushoptions_set_wait(fo, 1);
        for (int i = 0; i < s->ncf; i++) {
            char *e = NULL;
            if (s->cfs[i] != NULL)
                rocksdb_flush_cf(s->db, fo, s->cfs[i], &e);
            free(e);
        }
        for (wr_store *st = s->stores; st != NULL; st = st->next) {
            char *e = NULL;
            if (st->cf != NULL)
                rocksdb_flush_cf(s->db, fo, st->cf, &e);
            free(e);
        }
        rocksdb_flushoptions_destroy(fo);
    }
    close_db(s);
    if (opened && write_checkpoint(s) != 0)
        wr_log(WR_LOG_WARN, TAG,
               "state %s: cannot write the checkpoint (the next start verifies every block)",
               s->dir);
    for (wr_store *st = s->stores, *next; st != NULL; st = next) {
        next = st->next;
        free(st->name);
        free(st);
    }
    if (s->opts)
        rocksdb_options_destroy(s->opts);
    if (s->bbo)
        rocksdb_block_based_options_destroy(s->bbo);
    if (s->cache)
        rocksdb_cache_destroy(s->cache);
    if (s->ro)
        rocksdb_readoptions_destroy(s->ro);
    if (s->ro_scan)
        rocksdb_readoptions_destroy(s->ro_scan);
    if (s->wo)
        rocksdb_writeoptions_destroy(s->wo);
    free(s->dir);
    free(s->dbdir);
    free(s);
}

/* ---- stores ------------------------------------------------------------------------------- */

static void
be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static size_t
offset_key(const wr_store *st, char *k, size_t cap)
{
    int n = snprintf(k, cap, OFFSET_PREFIX "%s", st->name);
    return n < 0 || (size_t)n >= cap ? cap - 1 : (size_t)n;
}

static int
read_offset(wr_state *s, wr_store *st, wr_err *err)
{
    char k[512];
    size_t kl = offset_key(st, k, sizeof k), vl = 0;
    char *e = NULL;
    char *v = rocksdb_get_cf(s->db, s->ro, s->meta, k, kl, &vl, &e);
    if (e != NULL)
        return rocks_fail(err, e, "cannot read a store's offset");
    st->offset = v != NULL && vl == 8 ? (int64_t)get_be64((const uint8_t *)v) : 0;
    rocksdb_free(v);
    return WR_OK;
}

int
wr_store_open(wr_state *s, const char *name, wr_partition *changelog, wr_store **out, wr_err *err)
{
    *out = NULL;
    if (strlen(name) > 400 || strcmp(name, "default") == 0)
        return wr_err_set(err, WR_EINVAL, "bad store name '%s'", name);
    for (wr_store *st = s->stores; st != NULL; st = st->next)
        if (strcmp(st->name, name) == 0) {
            st->changelog = changelog;
            *out = st;
            return WR_OK;
        }
    wr_store *st = calloc(1, sizeof *st);
    if (st == NULL || (st->name = strdup(name)) == NULL) {
        free(st);
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    }
    st->changelog = changelog;
    for (int i = 0; i < s->ncf; i++)
        if (s->cfs[i] != NULL && strcmp(s->cf_names[i], name) == 0) {
            st->cf = s->cfs[i];
            s->cfs[i] = NULL; /* the store owns it now */
        }
    if (st->cf == NULL) {
        char *e = NULL;
        st->cf = rocksdb_create_column_family(s->db, s->opts, name, &e);
        if (e != NULL) {
            free(st->name);
            free(st);
            return rocks_fail(err, e, "cannot create a store");
        }
    }
    st->next = s->stores;
    s->stores = st;
    *out = st;
    return read_offset(s, st, err);
}

int
wr_store_drop(wr_state *s, wr_store *st, wr_err *err)
{
    char *e = NULL;
    rocksdb_drop_column_family(s->db, st->cf, &e);
    if (e != NULL)
        return rocks_fail(err, e, "cannot drop a store");
    char k[512];
    size_t kl = offset_key(st, k, sizeof k);
    rocksdb_delete_cf(s->db, s->wo, s->meta, k, kl, &e);
    free(e);
    rocksdb_column_family_handle_destroy(st->cf);
    for (wr_store **pp = &s->stores; *pp != NULL; pp = &(*pp)->next)
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    free(st->name);
    free(st);
    return WR_OK;
}

const char *
wr_store_name(const wr_store *st)
{
    return st->name;
}

int64_t
wr_store_offset(const wr_store *st)
{
    return st->offset;
}

/* Empties a store whose data cannot be trusted against its changelog. */
static int
store_clear(wr_state *s, wr_store *st, wr_err *err)
{
    char *e = NULL;
    rocksdb_drop_column_family(s->db, st->cf, &e);
    if (e != NULL)
        return rocks_fail(err, e, "cannot clear a store");
    rocksdb_column_family_handle_destroy(st->cf);
    st->cf = rocksdb_create_column_family(s->db, s->opts, st->name, &e);
    if (e != NULL) {
        st->cf = NULL;
        return rocks_fail(err, e, "cannot clear a store");
    }
    st->offset = 0;
    return WR_OK;
}

static int
write_restored(wr_state *s, wr_store *st, rocksdb_writebatch_t *wb, int64_t next, wr_err *err)
{
    char k[512];
    uint8_t v[8];
    size_t kl = offset_key(st, k, sizeof k);
    be64(v, (uint64_t)next);
    rocksdb_writebatch_put_cf(wb, s->meta, k, kl, (const char *)v, 8);
    char *e = NULL;
    rocksdb_write(s->db, s->wo, wb, &e);
    rocksdb_writebatch_clear(wb);
    if (e != NULL)
        return rocks_fail(err, e, "cannot write a restored store");
    st->offset = next;
    return WR_OK;
}

int
wr_store_restore(wr_state *s, wr_store *st, int64_t *replayed, wr_err *err)
{
    *replayed = 0;
    if (st->changelog == NULL)
        return WR_OK;
    int64_t start = wr_log_start_offset(st->changelog), end = wr_log_end_offset(st->changelog);
    int rc = WR_OK;
    if (st->offset > end || st->offset < start) {
        /* ahead of its changelog (which was lost or recreated) or behind its trimmed start:
           the data cannot be brought level, so it is rebuilt */
        wr_log(WR_LOG_WARN, TAG,
               "store %s is at changelog offset %lld, its changelog holds [%lld, %lld): "
               "rebuilding it",
               st->name, (long long)st->offset, (long long)start, (long long)end);
        if ((rc = store_clear(s, st, err)) != WR_OK)
            return rc;
        st->offset = start;
    }
    wr_buf data = WR_BUF_INIT, scratch = WR_BUF_INIT;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    int64_t next = st->offset;
    size_t pending_bytes = 0;
    while (rc == WR_OK && next < end) {
        wr_log_read_result res;
        wr_buf_reset(&data);
        if ((rc = wr_log_read_committed(st->changelog, next, RESTORE_READ, &data, &res, err)) !=
            WR_OK)
            break;
        if (data.len == 0)
            break;
        wr_fault_kill(WR_FAULT_KILL_RESTORE);
        size_t off = 0;
        while (rc == WR_OK && off < data.len) {
            size_t n = wr_rbatch_size(data.data + off, data.len - off);
            if (n == 0)
                break;
            wr_rbatch_iter it;
            if ((rc = wr_rbatch_iter_init(&it, data.data + off, n, &scratch, MAX_DECOMPRESS,
                                          err)) != WR_OK)
                break;
            wr_record r;
            int more;
            while ((more = wr_rbatch_iter_next(&it, &r, err)) == 1) {
                if (r.offset < next)
                    continue;
                next = r.offset + 1;
                if (r.key_len < 0)
                    continue;
                if (r.value_len < 0)
                    rocksdb_writebatch_delete_cf(wb, st->cf, (const char *)r.key,
                                                 (size_t)r.key_len);
                else
                    rocksdb_writebatch_put_cf(wb, st->cf, (const char *)r.key, (size_t)r.key_len,
                                              (const char *)r.value, (size_t)r.value_len);
                pending_bytes += (size_t)r.key_len + (r.value_len > 0 ? (size_t)r.value_len : 0);
                (*replayed)++;
            }
            if (more < 0) {
                rc = more;
                break;
            }
            /* a batch's last records may have been compacted away: its end moves next on */
            if (it.hdr.base_offset + it.hdr.last_offset_delta + 1 > next)
                next = it.hdr.base_offset + it.hdr.last_offset_delta + 1;
            off += n;
            if (pending_bytes >= RESTORE_BATCH) {
                rc = write_restored(s, st, wb, next, err);
                pending_bytes = 0;
            }
        }
    }
    if (rc == WR_OK && next != st->offset)
        rc = write_restored(s, st, wb, next, err);
    rocksdb_writebatch_destroy(wb);
    wr_buf_free(&data);
    wr_buf_free(&scratch);
    if (rc != WR_OK)
        wr_err_prefix(err, "restoring store %s", st->name);
    return rc;
}

/* ---- transactions -------------------------------------------------------------------------- */

wr_state_txn *
wr_state_txn_begin(wr_state *s)
{
    wr_state_txn *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->s = s;
    t->wb = rocksdb_writebatch_wi_create(0, 1);
    return t;
}

bool
wr_state_txn_dirty(const wr_state_txn *t)
{
    return t != NULL && t->nts > 0;
}

static void
txn_free(wr_state_txn *t)
{
    for (int i = 0; i < t->nts; i++) {
        wr_buf_free(&t->ts[i].bytes);
        free(t->ts[i].ents);
        free(t->ts[i].slots);
    }
    free(t->ts);
    free(t->next);
    rocksdb_writebatch_wi_destroy(t->wb);
    free(t);
}

void
wr_state_txn_abort(wr_state_txn *t)
{
    if (t != NULL)
        txn_free(t);
}

static txn_store *
txn_store_of(wr_state_txn *t, wr_store *st)
{
    for (int i = 0; i < t->nts; i++)
        if (t->ts[i].st == st)
            return &t->ts[i];
    if (t->nts == t->capts) {
        int cap = t->capts ? t->capts * 2 : 4;
        txn_store *n = realloc(t->ts, (size_t)cap * sizeof *n);
        if (n == NULL)
            return NULL;
        t->ts = n;
        t->capts = cap;
    }
    txn_store *x = &t->ts[t->nts++];
    memset(x, 0, sizeof *x);
    x->st = st;
    return x;
}

static int
grow_slots(txn_store *x)
{
    size_t ns = x->nslots ? x->nslots * 2 : 64;
    int32_t *slots = malloc(ns * sizeof *slots);
    if (slots == NULL)
        return -1;
    memset(slots, 0xff, ns * sizeof *slots);
    for (size_t i = 0; i < x->n; i++) {
        uint64_t h = wr_fnv1a64(x->bytes.data + x->ents[i].koff, x->ents[i].klen);
        size_t j = h & (ns - 1);
        while (slots[j] >= 0)
            j = (j + 1) & (ns - 1);
        slots[j] = (int32_t)i;
    }
    free(x->slots);
    x->slots = slots;
    x->nslots = ns;
    return 0;
}

/* Records the last write of key k for the changelog. */
static int
note_write(wr_state_txn *t, wr_store *st, const void *k, size_t klen, const void *v, int64_t vlen)
{
    if (t->logged) {
        t->late = true;
        return WR_ESTATE;
    }
    txn_store *x = txn_store_of(t, st);
    if (x == NULL)
        return WR_ENOMEM;
    if ((x->n + 1) * 2 > x->nslots && grow_slots(x) != 0)
        return WR_ENOMEM;
    size_t j = wr_fnv1a64(k, klen) & (x->nslots - 1);
    pending *pe = NULL;
    while (x->slots[j] >= 0) {
        pending *c = &x->ents[x->slots[j]];
        if (c->klen == klen && memcmp(x->bytes.data + c->koff, k, klen) == 0) {
            pe = c;
            break;
        }
        j = (j + 1) & (x->nslots - 1);
    }
    if (pe == NULL) {
        if (x->n == x->cap) {
            size_t cap = x->cap ? x->cap * 2 : 64;
            pending *ne = realloc(x->ents, cap * sizeof *ne);
            if (ne == NULL)
                return WR_ENOMEM;
            x->ents = ne;
            x->cap = cap;
        }
        pe = &x->ents[x->n];
        x->slots[j] = (int32_t)x->n++;
        pe->koff = x->bytes.len;
        pe->klen = klen;
        wr_buf_append(&x->bytes, k, klen);
    }
    pe->voff = x->bytes.len;
    pe->vlen = vlen;
    if (vlen > 0)
        wr_buf_append(&x->bytes, v, (size_t)vlen);
    return wr_buf_ok(&x->bytes) ? WR_OK : WR_ENOMEM;
}

int
wr_store_put(wr_state_txn *t, wr_store *st, const void *k, size_t klen, const void *v, size_t vlen)
{
    rocksdb_writebatch_wi_put_cf(t->wb, st->cf, k, klen, v, vlen);
    int rc = note_write(t, st, k, klen, v, (int64_t)vlen);
    if (rc != WR_OK)
        t->oom = true;
    return rc;
}

int
wr_store_delete(wr_state_txn *t, wr_store *st, const void *k, size_t klen)
{
    rocksdb_writebatch_wi_delete_cf(t->wb, st->cf, k, klen);
    int rc = note_write(t, st, k, klen, NULL, -1);
    if (rc != WR_OK)
        t->oom = true;
    return rc;
}

/* Appends x's writes to its store's changelog, in one append (batches of at most
   CHANGELOG_BATCH bytes, all stored or none, so a restore never sees half a commit), through
   ap when given; *next: the offset after them. */
static int
append_changelog(txn_store *x, const wr_state_appender *ap, int64_t ts, int64_t *next, wr_err *err)
{
    wr_rbatch_builder bb;
    wr_rbatch_builder_init(&bb, WR_COMPRESSION_NONE);
    wr_buf out = WR_BUF_INIT;
    int rc = WR_OK;
    for (size_t i = 0; i < x->n && rc == WR_OK; i++) {
        const pending *p = &x->ents[i];
        wr_rbatch_builder_add(&bb, ts, x->bytes.data + p->koff, (int32_t)p->klen,
                              p->vlen < 0 ? NULL : x->bytes.data + p->voff,
                              p->vlen < 0 ? -1 : (int32_t)p->vlen, NULL, 0);
        if (i + 1 == x->n || wr_rbatch_builder_size(&bb) >= CHANGELOG_BATCH)
            rc = wr_rbatch_builder_finish(&bb, &out, err);
    }
    wr_log_append_result res;
    if (rc == WR_OK && out.len > 0) {
        rc = ap != NULL ? ap->fn(ap->arg, x->st->changelog, out.data, out.len, &res, err)
                        : wr_log_append(x->st->changelog, out.data, out.len, &res, err);
        if (rc == WR_OK)
            *next = res.last_offset + 1;
    }
    wr_rbatch_builder_free(&bb);
    wr_buf_free(&out);
    if (rc != WR_OK)
        wr_err_prefix(err, "changelog of store %s", x->st->name);
    return rc;
}

int
wr_state_txn_log(wr_state_txn *t, const wr_state_appender *ap, int64_t timestamp, wr_err *err)
{
    if (t->logged)
        return wr_err_set(err, WR_ESTATE, "the state transaction was logged already");
    if (t->oom)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    if ((t->next = calloc((size_t)t->nts + 1, sizeof *t->next)) == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    t->logged = true;
    for (int i = 0; i < t->nts; i++) {
        txn_store *x = &t->ts[i];
        t->next[i] = x->st->offset;
        if (x->st->changelog != NULL && x->n > 0) {
            int rc = append_changelog(x, ap, timestamp, &t->next[i], err);
            if (rc != WR_OK)
                return rc;
        }
    }
    return WR_OK;
}

int
wr_state_txn_commit(wr_state_txn *t, int64_t timestamp, wr_err *err)
{
    wr_state *s = t->s;
    int rc = WR_OK;
    if (!t->logged)
        rc = wr_state_txn_log(t, NULL, timestamp, err);
    else if (t->late)
        rc = wr_err_set(err, WR_ESTATE, "a state write came after its changelog records");
    for (int i = 0; i < t->nts && rc == WR_OK; i++) {
        char k[512];
        uint8_t v[8];
        size_t kl = offset_key(t->ts[i].st, k, sizeof k);
        be64(v, (uint64_t)t->next[i]);
        rocksdb_writebatch_wi_put_cf(t->wb, s->meta, k, kl, (const char *)v, 8);
    }
    if (rc == WR_OK && t->nts > 0) {
        char *e = NULL;
        rocksdb_write_writebatch_wi(s->db, s->wo, t->wb, &e);
        if (e != NULL)
            rc = rocks_fail(err, e, "cannot commit state");
    }
    for (int i = 0; i < t->nts && rc == WR_OK; i++)
        t->ts[i].st->offset = t->next[i];
    txn_free(t);
    return rc;
}

/* ---- reads --------------------------------------------------------------------------------- */

int
wr_store_get(wr_state *s,
             wr_state_txn *t,
             wr_store *st,
             const void *k,
             size_t klen,
             wr_buf *val,
             bool *found,
             wr_err *err)
{
    char *e = NULL;
    size_t vl = 0;
    char *v = t != NULL ? rocksdb_writebatch_wi_get_from_batch_and_db_cf(t->wb, s->db, s->ro,
                                                                         st->cf, k, klen, &vl, &e)
                        : rocksdb_get_cf(s->db, s->ro, st->cf, k, klen, &vl, &e);
    if (e != NULL)
        return rocks_fail(err, e, "cannot read a store");
    *found = v != NULL;
    wr_buf_reset(val);
    if (v != NULL)
        wr_buf_append(val, v, vl);
    rocksdb_free(v);
    return wr_buf_ok(val) ? WR_OK : wr_err_set(err, WR_ENOMEM, "out of memory");
}

struct wr_store_iter {
    rocksdb_iterator_t *it;
    uint8_t *hi;
    size_t hilen;
    bool started;
};

wr_store_iter *
wr_store_iter_open(wr_state *s,
                   wr_state_txn *t,
                   wr_store *st,
                   const void *lo,
                   size_t lolen,
                   const void *hi,
                   size_t hilen)
{
    wr_store_iter *x = calloc(1, sizeof *x + hilen + 1);
    if (x == NULL)
        return NULL;
    x->hi = hi != NULL ? (uint8_t *)(x + 1) : NULL;
    if (hi != NULL)
        memcpy(x->hi, hi, hilen);
    x->hilen = hilen;
    rocksdb_iterator_t *base = rocksdb_create_iterator_cf(s->db, s->ro, st->cf);
    x->it =
        t != NULL ? rocksdb_writebatch_wi_create_iterator_with_base_cf(t->wb, base, st->cf) : base;
    if (lo != NULL)
        rocksdb_iter_seek(x->it, lo, lolen);
    else
        rocksdb_iter_seek_to_first(x->it);
    return x;
}

static int
bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c != 0 ? c : (al > bl) - (al < bl);
}

bool
wr_store_iter_next(
    wr_store_iter *x, const uint8_t **k, size_t *klen, const uint8_t **v, size_t *vlen)
{
    if (x->started)
        rocksdb_iter_next(x->it);
    x->started = true;
    if (!rocksdb_iter_valid(x->it))
        return false;
    *k = (const uint8_t *)rocksdb_iter_key(x->it, klen);
    if (x->hi != NULL && bytes_cmp(*k, *klen, x->hi, x->hilen) >= 0)
        return false;
    *v = (const uint8_t *)rocksdb_iter_value(x->it, vlen);
    return true;
}

int
wr_store_iter_close(wr_store_iter *x, wr_err *err)
{
    if (x == NULL)
        return WR_OK;
    char *e = NULL;
    rocksdb_iter_get_error(x->it, &e);
    rocksdb_iter_destroy(x->it);
    free(x);
    return e != NULL ? rocks_fail(err, e, "cannot read a store") : WR_OK;
}

size_t
wr_store_prefix_end(const uint8_t *p, size_t n, uint8_t *out)
{
    while (n > 0 && p[n - 1] == 0xff)
        n--;
    if (n == 0)
        return 0;
    memcpy(out, p, n);
    out[n - 1]++;
    return n;
}

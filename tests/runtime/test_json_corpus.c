/*
 * test_json_corpus.c - the JSON decoder's fuzz property (fuzz_json_body.h) over the seed corpus,
 * every prefix of each seed, and hand-picked hostile inputs.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "fuzz_json_body.h"
#include "tests/testutil.h"

static void
replay_prefixes(void *arg, const char *name, uint8_t *text, size_t len)
{
    (void)arg;
    for (size_t cut = 0; cut <= len; cut++)
        cr_assert_eq(wr_jsonfuzz_one(text, cut), 0, "%s cut at %zu", name, cut);
}

Test(json_fuzz, corpus_and_prefixes)
{
    cr_assert_geq(wr_test_each_file(WR_JSON_CORPUS, replay_prefixes, NULL), 5);
}

Test(json_fuzz, hostile_inputs)
{
    static const char *inputs[] = {
        "{\"A\":1}x",
        "{\"A\":01}",
        "{\"A\":1.}",
        "{\"B\":\"\\uD800\"}",
        "{\"B\":\"\\x\"}",
        "{\"A\":1,}",
        "{,}",
        "[1,2]",
        "\"str\"",
        "nul",
        "{\"B\":\"a\nb\"}",
        "{\"D\":[1,]}",
        "{\"A\":--1}",
        "{\"A\":1e}",
        "{\"E\":{\"k\":1,\"k\":2}}",
        "{\"F\":{\"X\":1.5}}",
        "{\"A\": 9223372036854775808}",
        "  {\"C\" : true }  ",
        "{\"B\":\"\\u00e9\\ud83d\\ude00\"}",
        "{\"B\":\"\x99\"}",
        "{\"\xc0\xaf\":1}",
        "{\"B\":\"\xed\xa0\x80\"}",
        "{\"G\":1e999}",
        "{\"G\":123456789012345678901234567890}",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        cr_assert_eq(wr_jsonfuzz_one((const uint8_t *)inputs[i], strlen(inputs[i])), 0, "%s",
                     inputs[i]);
    /* found by fuzzing: bytes that are not UTF-8 are refused, as Jackson refuses them */
    static const char *names[] = {"B"};
    const wr_sql_type *types[] = {wr_type_of(WR_T_STRING)};
    wr_fmt f = {
        .kind = WR_FMT_JSON, .ncols = 1, .names = names, .types = types, .wrap_single = true};
    wr_arena *a = wr_arena_create(0);
    wr_val v;
    wr_err err = {0};
    static const char bad[] = "{\"B\":\"caf\xe9\"}";
    cr_assert_eq(wr_fmt_decode(&f, (const uint8_t *)bad, sizeof bad - 1, false, &v, a, &err),
                 WR_ECORRUPT);
    cr_assert(strstr(err.msg, "invalid UTF-8") != NULL, "%s", err.msg);
    static const char good[] = "{\"B\":\"caf\xc3\xa9\"}";
    cr_assert_eq(wr_fmt_decode(&f, (const uint8_t *)good, sizeof good - 1, false, &v, a, &err),
                 WR_OK);
    cr_assert_eq(v.u.s.len, 5);
    wr_arena_destroy(a);
    /* deep nesting is refused, not recursed into without bound */
    char deep[4096];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "{\"Z\":");
    for (int i = 0; i < 1000; i++)
        deep[n++] = '[';
    deep[n] = 0;
    cr_assert_eq(wr_jsonfuzz_one((const uint8_t *)deep, n), 0);
}

typedef struct accept_count {
    const wr_fmt *f;
    int schema, accepted;
} accept_count;

static void
count_accepted(void *arg, const char *name, uint8_t *text, size_t len)
{
    accept_count *ac = arg;
    wr_arena *a = wr_arena_create(0);
    wr_val v[WR_JSONFUZZ_MAXCOLS];
    wr_err err = {0};
    if (wr_fmt_decode(ac->f, text, len, false, v, a, &err) == WR_OK) {
        ac->accepted++;
        for (int c = 0; c < ac->f->ncols && ac->schema == 1 && strcmp(name, "06.json") == 0; c++)
            cr_expect(!v[c].null, "schema 1 column %d of 06.json is null", c);
    }
    wr_arena_destroy(a);
}

/* Each schema of the property decodes some seed in full, so the fuzzer starts inside each
   schema's decoders (decimals, timestamps, nested structs) and not only at their refusals. */
Test(json_fuzz, every_schema_accepts_a_seed)
{
    const wr_fmt *f = wr_jsonfuzz_formats();
    for (int i = 0; i < WR_JSONFUZZ_NFMT; i++) {
        accept_count ac = {&f[i], i, 0};
        wr_test_each_file(WR_JSON_CORPUS, count_accepted, &ac);
        cr_expect_gt(ac.accepted, 0, "schema %d accepts no seed", i);
    }
}

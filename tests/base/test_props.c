/* Unit tests for src/base/props.c: Java .properties syntax and the configuration layers. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/base/props.h"

static const char *
parse_get(wr_props *p, const char *text, const char *key)
{
    wr_err err;
    cr_assert_eq(wr_props_parse(p, text, strlen(text), &err), WR_OK, "%s", err.msg);
    return wr_props_get(p, key);
}

Test(base_props, separators_comments_and_blanks)
{
    wr_props p = WR_PROPS_INIT;
    const char *t =
        "# comment\n! also comment\n\n  a=1\nb : 2\nc 3\nd\te f\n  g  =  spaced value  \n"
        "empty=\nonlykey\n";
    cr_assert_str_eq(parse_get(&p, t, "a"), "1");
    cr_assert_str_eq(wr_props_get(&p, "b"), "2");
    cr_assert_str_eq(wr_props_get(&p, "c"), "3");
    cr_assert_str_eq(wr_props_get(&p, "d"), "e f");
    cr_assert_str_eq(wr_props_get(&p, "g"), "spaced value  ");
    cr_assert_str_eq(wr_props_get(&p, "empty"), "");
    cr_assert_str_eq(wr_props_get(&p, "onlykey"), "");
    cr_assert_null(wr_props_get(&p, "# comment"));
    cr_assert_eq(p.count, 7);
    wr_props_free(&p);
}

Test(base_props, continuation_and_escapes)
{
    wr_props p = WR_PROPS_INIT;
    const char *t = "listeners=http://0.0.0.0:8088,\\\n    http://[::]:8089\n"
                    "key\\=with\\:seps = v\\tx\\u00e9\\\\\n"
                    "crlf=a\\\r\n  b\r\n"
                    "dup=1\ndup=2\n";
    cr_assert_str_eq(parse_get(&p, t, "listeners"), "http://0.0.0.0:8088,http://[::]:8089");
    cr_assert_str_eq(wr_props_get(&p, "key=with:seps"), "v\tx\xc3\xa9\\");
    cr_assert_str_eq(wr_props_get(&p, "crlf"), "ab");
    cr_assert_str_eq(wr_props_get(&p, "dup"), "2");
    wr_props_free(&p);
}

Test(base_props, bad_unicode_escape_names_the_line)
{
    wr_props p = WR_PROPS_INIT;
    wr_err err;
    const char *t = "a=1\nb=\\u12x4\n";
    cr_assert_eq(wr_props_parse(&p, t, strlen(t), &err), WR_EINVAL);
    cr_assert_eq(err.line, 2);
    cr_assert(strstr(err.msg, "line 2") != NULL, "%s", err.msg);
    wr_props_free(&p);
}

Test(base_props, env_names_map_to_keys)
{
    char *k = wr_config_env_to_key("KSQL_STREAMS_STATE_DIR");
    cr_assert_str_eq(k, "ksql.streams.state.dir");
    free(k);
    k = wr_config_env_to_key("A__B___C_D");
    cr_assert_str_eq(k, "a_b-c.d");
    free(k);
}

Test(base_props, layers_flags_beat_file_beat_env_beat_defaults)
{
    wr_config c = {0};
    wr_err err;
    char *env[] = {"WEIR_LISTENERS=env", "WEIR_X=envx", "PATH=/bin", "WEIR_=skip", NULL};
    cr_assert_eq(wr_config_set(&c, WR_CONFIG_DEFAULT, "listeners", "default"), WR_OK);
    cr_assert_eq(wr_config_load_env(&c, env), WR_OK);
    cr_assert_str_eq(wr_config_get(&c, "listeners"), "env");
    const char *file = "listeners=file\n";
    cr_assert_eq(wr_props_parse(&c.layer[WR_CONFIG_FILE], file, strlen(file), &err), WR_OK);
    cr_assert_str_eq(wr_config_get(&c, "listeners"), "file");
    wr_config_set(&c, WR_CONFIG_FLAG, "listeners", "flag");
    cr_assert_str_eq(wr_config_get(&c, "listeners"), "flag");
    cr_assert_str_eq(wr_config_get(&c, "x"), "envx");
    cr_assert_null(wr_config_get(&c, "path"));
    wr_config_free(&c);
}

Test(base_props, typed_getters)
{
    wr_config c = {0};
    wr_err err;
    int64_t v;
    bool b;
    wr_config_set(&c, WR_CONFIG_FLAG, "n", "64k");
    wr_config_set(&c, WR_CONFIG_FLAG, "bad", "12x");
    wr_config_set(&c, WR_CONFIG_FLAG, "t", "TRUE");
    cr_assert_eq(wr_config_get_i64(&c, "n", 0, &v, &err), WR_OK);
    cr_assert_eq(v, 65536);
    cr_assert_eq(wr_config_get_i64(&c, "missing", 7, &v, &err), WR_OK);
    cr_assert_eq(v, 7);
    cr_assert_eq(wr_config_get_i64(&c, "bad", 0, &v, &err), WR_EINVAL);
    cr_assert(strstr(err.msg, "bad") != NULL);
    cr_assert_eq(wr_config_get_bool(&c, "t", false, &b, &err), WR_OK);
    cr_assert(b);
    cr_assert_eq(wr_config_get_bool(&c, "n", false, &b, &err), WR_EINVAL);
    cr_assert(!wr_parse_i64("9223372036854775807k", &v));
    cr_assert(wr_parse_i64("-5", &v) && v == -5);
    wr_config_free(&c);
}

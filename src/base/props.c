/*
 * props.c - .properties parser and layered configuration. See props.h.
 */
#include "src/base/props.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/base/buf.h"

#define PROPS_FILE_MAX (16u << 20)

void
wr_props_free(wr_props *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].key);
        free(p->items[i].value);
    }
    free(p->items);
    p->items = NULL;
    p->count = p->cap = 0;
}

bool
wr_props_unset(wr_props *p, const char *key)
{
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->items[i].key, key) == 0) {
            free(p->items[i].key);
            free(p->items[i].value);
            memmove(&p->items[i], &p->items[i + 1], (p->count - i - 1) * sizeof *p->items);
            p->count--;
            return true;
        }
    }
    return false;
}

int
wr_props_set(wr_props *p, const char *key, const char *value)
{
    char *v = strdup(value);
    if (v == NULL)
        return WR_ENOMEM;
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->items[i].key, key) == 0) {
            free(p->items[i].value);
            p->items[i].value = v;
            return WR_OK;
        }
    }
    char *k = strdup(key);
    if (k == NULL) {
        free(v);
        return WR_ENOMEM;
    }
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        wr_prop *items = realloc(p->items, cap * sizeof *items);
        if (items == NULL) {
            free(k);
            free(v);
            return WR_ENOMEM;
        }
        p->items = items;
        p->cap = cap;
    }
    p->items[p->count++] = (wr_prop){.key = k, .value = v};
    return WR_OK;
}

const char *
wr_props_get(const wr_props *p, const char *key)
{
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].key, key) == 0)
            return p->items[i].value;
    return NULL;
}

static void
put_utf8(wr_buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        wr_buf_put_u8(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        wr_buf_put_u8(b, (uint8_t)(0xc0 | (cp >> 6)));
        wr_buf_put_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        wr_buf_put_u8(b, (uint8_t)(0xe0 | (cp >> 12)));
        wr_buf_put_u8(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        wr_buf_put_u8(b, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/*
 * A logical line is read from text[*pos..) with continuations joined and escapes resolved;
 * key and value are split on the first unescaped separator. Escapes are resolved as we go, so
 * "a\=b=c" has the key "a=b".
 */
int
wr_props_parse(wr_props *p, const char *text, size_t len, wr_err *err)
{
    size_t i = 0;
    int lineno = 0;
    wr_buf key = WR_BUF_INIT, val = WR_BUF_INIT;
    int rc = WR_OK;
    while (i < len) {
        lineno++;
        /* skip leading blanks */
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\f'))
            i++;
        if (i >= len)
            break;
        if (text[i] == '\n' || text[i] == '\r') {
            i += (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        if (text[i] == '#' || text[i] == '!') {
            while (i < len && text[i] != '\n' && text[i] != '\r')
                i++;
            if (i < len)
                i += (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        int startline = lineno;
        wr_buf_reset(&key);
        wr_buf_reset(&val);
        wr_buf *cur = &key;
        bool in_key = true, seen_sep_ws = false;
        while (i < len && text[i] != '\n' && text[i] != '\r') {
            char c = text[i++];
            if (c == '\\') {
                if (i >= len)
                    break; /* lone backslash at EOF: dropped, as Java does */
                char e = text[i++];
                if (e == '\n' || e == '\r') { /* continuation */
                    if (e == '\r' && i < len && text[i] == '\n')
                        i++;
                    lineno++;
                    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\f'))
                        i++;
                    continue;
                }
                if (in_key && seen_sep_ws) { /* whitespace separated key and value */
                    in_key = false;
                    cur = &val;
                }
                switch (e) {
                case 't':
                    wr_buf_put_u8(cur, '\t');
                    break;
                case 'n':
                    wr_buf_put_u8(cur, '\n');
                    break;
                case 'r':
                    wr_buf_put_u8(cur, '\r');
                    break;
                case 'f':
                    wr_buf_put_u8(cur, '\f');
                    break;
                case 'u': {
                    uint32_t cp = 0;
                    for (int k = 0; k < 4; k++) {
                        if (i >= len || !isxdigit((unsigned char)text[i])) {
                            rc = wr_err_set_at(err, WR_EINVAL, lineno, 0,
                                               "line %d: malformed \\uXXXX escape", lineno);
                            goto out;
                        }
                        char h = text[i++];
                        cp = cp * 16 + (uint32_t)(isdigit((unsigned char)h)
                                                      ? h - '0'
                                                      : tolower((unsigned char)h) - 'a' + 10);
                    }
                    put_utf8(cur, cp);
                    break;
                }
                default:
                    wr_buf_put_u8(cur, (uint8_t)e);
                }
                continue;
            }
            if (in_key) {
                if (c == '=' || c == ':') {
                    in_key = false;
                    cur = &val;
                    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\f'))
                        i++;
                    continue;
                }
                if (c == ' ' || c == '\t' || c == '\f') {
                    seen_sep_ws = true;
                    /* the key ends; an '=' or ':' may still follow the blanks */
                    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\f'))
                        i++;
                    if (i < len && (text[i] == '=' || text[i] == ':'))
                        i++;
                    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\f'))
                        i++;
                    in_key = false;
                    cur = &val;
                    continue;
                }
            }
            wr_buf_put_u8(cur, (uint8_t)c);
        }
        if (i < len) /* consume the line terminator */
            i += (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
        wr_buf_put_u8(&key, 0);
        wr_buf_put_u8(&val, 0);
        if (!wr_buf_ok(&key) || !wr_buf_ok(&val)) {
            rc = wr_err_set(err, WR_ENOMEM, "out of memory parsing properties");
            goto out;
        }
        if ((rc = wr_props_set(p, (char *)key.data, (char *)val.data)) != WR_OK) {
            wr_err_set_at(err, rc, startline, 0, "line %d: %s", startline, wr_strerror(rc));
            goto out;
        }
    }
out:
    wr_buf_free(&key);
    wr_buf_free(&val);
    return rc;
}

int
wr_props_load_file(wr_props *p, const char *path, wr_err *err)
{
    wr_buf b = WR_BUF_INIT;
    int rc = wr_buf_read_file(&b, path, PROPS_FILE_MAX, err);
    if (rc == WR_OK &&
        (rc = wr_props_parse(p, b.data ? (const char *)b.data : "", b.len, err)) != WR_OK)
        wr_err_prefix(err, "%s", path);
    wr_buf_free(&b);
    return rc;
}

void
wr_config_free(wr_config *c)
{
    for (int i = 0; i < WR_CONFIG__LAYERS; i++)
        wr_props_free(&c->layer[i]);
}

int
wr_config_set(wr_config *c, wr_config_layer layer, const char *key, const char *value)
{
    return wr_props_set(&c->layer[layer], key, value);
}

char *
wr_config_env_to_key(const char *name)
{
    size_t n = strlen(name);
    char *k = malloc(n + 1);
    if (k == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (name[i] == '_') {
            size_t run = 0;
            while (i + run < n && name[i + run] == '_')
                run++;
            if (run == 3)
                k[o++] = '-';
            else if (run == 2)
                k[o++] = '_';
            else
                for (size_t r = 0; r < run; r++)
                    k[o++] = '.';
            i += run;
        } else {
            k[o++] = (char)tolower((unsigned char)name[i++]);
        }
    }
    k[o] = '\0';
    return k;
}

int
wr_config_load_env(wr_config *c, char *const *envp)
{
    static const char prefix[] = "WEIR_";
    for (; envp != NULL && *envp != NULL; envp++) {
        const char *e = *envp;
        if (strncmp(e, prefix, sizeof prefix - 1) != 0)
            continue;
        const char *eq = strchr(e, '=');
        if (eq == NULL || eq == e + sizeof prefix - 1)
            continue;
        char name[256];
        size_t n = (size_t)(eq - e) - (sizeof prefix - 1);
        if (n >= sizeof name)
            continue;
        memcpy(name, e + sizeof prefix - 1, n);
        name[n] = '\0';
        char *key = wr_config_env_to_key(name);
        if (key == NULL)
            return WR_ENOMEM;
        int rc = wr_config_set(c, WR_CONFIG_ENV, key, eq + 1);
        free(key);
        if (rc != WR_OK)
            return rc;
    }
    return WR_OK;
}

const char *
wr_config_get(const wr_config *c, const char *key)
{
    for (int i = WR_CONFIG__LAYERS - 1; i >= 0; i--) {
        const char *v = wr_props_get(&c->layer[i], key);
        if (v != NULL)
            return v;
    }
    return NULL;
}

const char *
wr_config_get_str(const wr_config *c, const char *key, const char *def)
{
    const char *v = wr_config_get(c, key);
    return v != NULL ? v : def;
}

bool
wr_parse_i64(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s)
        return false;
    int64_t mult = 1;
    if (*end != '\0') {
        switch (tolower((unsigned char)*end)) {
        case 'k':
            mult = 1024;
            break;
        case 'm':
            mult = 1024 * 1024;
            break;
        case 'g':
            mult = 1024 * 1024 * 1024;
            break;
        default:
            return false;
        }
        end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end != '\0')
            return false;
    }
    if (v > INT64_MAX / mult || v < INT64_MIN / mult)
        return false;
    *out = (int64_t)v * mult;
    return true;
}

int
wr_config_get_i64(const wr_config *c, const char *key, int64_t def, int64_t *out, wr_err *err)
{
    const char *v = wr_config_get(c, key);
    if (v == NULL) {
        *out = def;
        return WR_OK;
    }
    if (!wr_parse_i64(v, out))
        return wr_err_set(err, WR_EINVAL, "config %s: '%s' is not an integer", key, v);
    return WR_OK;
}

int
wr_config_get_bool(const wr_config *c, const char *key, bool def, bool *out, wr_err *err)
{
    const char *v = wr_config_get(c, key);
    if (v == NULL) {
        *out = def;
        return WR_OK;
    }
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0) {
        *out = true;
        return WR_OK;
    }
    if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0) {
        *out = false;
        return WR_OK;
    }
    return wr_err_set(err, WR_EINVAL, "config %s: '%s' is not a boolean", key, v);
}

/*
 * props.h - Java .properties parsing and weir's layered configuration.
 *
 * wr_props is an ordered list of key/value strings. wr_props_parse reads java.util.Properties
 * syntax: `key=value`, `key:value` or `key value`; `#`/`!` comment lines; backslash line
 * continuation (leading blanks of the next line dropped); escapes \t \n \r \f \uXXXX (to UTF-8)
 * and any other escaped character taken literally. Later duplicates replace earlier ones.
 *
 * wr_config layers properties by source: defaults < environment (WEIR_*) < file (--config) <
 * flags, so wr_config_get returns the value from the strongest layer that sets the key. The
 * environment maps WEIR_KSQL_STREAMS_STATE_DIR to ksql.streams.state.dir (`_` -> `.`, `__` ->
 * `_`, `___` -> `-`, lower-cased), as Confluent's images map KSQL_*.
 *
 * Ownership: both own copies of every string. Thread locality: built on one thread at start-up,
 * read-only afterwards.
 */
#ifndef WR_SRC_BASE_PROPS_H
#define WR_SRC_BASE_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/err.h"

typedef struct wr_prop {
    char *key;
    char *value;
} wr_prop;

typedef struct wr_props {
    wr_prop *items; /* owned */
    size_t count, cap;
} wr_props;

#define WR_PROPS_INIT \
    {                 \
        0             \
    }

void wr_props_free(wr_props *p);

/* Sets key to value (copies both), replacing an earlier value. WR_OK or WR_ENOMEM. */
int wr_props_set(wr_props *p, const char *key, const char *value);

/* Removes key; true when it was there. */
bool wr_props_unset(wr_props *p, const char *key);

/* Borrowed value for key, or NULL. */
const char *wr_props_get(const wr_props *p, const char *key);

/* Parses text[0..len) and adds its entries to p. Errors name the line (err->line). */
int wr_props_parse(wr_props *p, const char *text, size_t len, wr_err *err);

/* Reads and parses a file (at most 16 MiB). */
int wr_props_load_file(wr_props *p, const char *path, wr_err *err);

typedef enum wr_config_layer {
    WR_CONFIG_DEFAULT = 0,
    WR_CONFIG_ENV = 1,
    WR_CONFIG_FILE = 2,
    WR_CONFIG_FLAG = 3,
    WR_CONFIG__LAYERS = 4,
} wr_config_layer;

typedef struct wr_config {
    wr_props layer[WR_CONFIG__LAYERS];
} wr_config;

void wr_config_free(wr_config *c);

int wr_config_set(wr_config *c, wr_config_layer layer, const char *key, const char *value);

/* Adds every WEIR_* variable of envp (NULL-terminated, like environ) to the ENV layer. */
int wr_config_load_env(wr_config *c, char *const *envp);

/* Maps an environment variable name without its prefix to a property key (owned, free()). */
char *wr_config_env_to_key(const char *name);

/* Borrowed value from the strongest layer that sets key, or NULL. */
const char *wr_config_get(const wr_config *c, const char *key);

/* Typed getters: return WR_OK and set *out (def when unset), or WR_EINVAL with a message. */
int wr_config_get_i64(const wr_config *c, const char *key, int64_t def, int64_t *out, wr_err *err);
int wr_config_get_bool(const wr_config *c, const char *key, bool def, bool *out, wr_err *err);
const char *wr_config_get_str(const wr_config *c, const char *key, const char *def);

/* Parses a decimal integer with an optional size suffix (k, m, g: powers of 1024) or a plain
   integer; false on garbage or overflow. */
bool wr_parse_i64(const char *s, int64_t *out);

#endif

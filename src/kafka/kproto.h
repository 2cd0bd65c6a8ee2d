/*
 * kproto.h - the Kafka protocol codec: a table-driven interpreter over field descriptors.
 *
 * Each message body is described once, in messages.def; gen_kmsg.py turns that into a C struct
 * and a wr_kstruct descriptor (kmsg.h/kmsg.c). wr_kp_decode and wr_kp_encode walk a descriptor
 * for any version, classic or flexible (KIP-482: compact strings/arrays/bytes whose length is
 * N+1 as an unsigned varint, and a tagged-field section closing every struct; unknown tags are
 * skipped). Fields absent from a version take their default.
 *
 * Untrusted input: every length and array count is checked against the bytes that remain before
 * anything is allocated, and decoding never reads past the frame; a malformed body gives
 * WR_ETRUNC or WR_ECORRUPT, never a crash.
 *
 * Ownership: decoded strings are NUL-terminated copies in the caller's arena; decoded bytes and
 * records borrow from the frame being decoded, which must outlive the result. Arrays live in the
 * arena. Encoding borrows the struct and appends to a caller-owned wr_buf.
 *
 * Thread safety: the functions are reentrant; descriptors are immutable.
 */
#ifndef WR_SRC_KAFKA_KPROTO_H
#define WR_SRC_KAFKA_KPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/base/arena.h"
#include "src/base/buf.h"
#include "src/base/err.h"

/* A string: s is NUL-terminated (arena copy), or NULL for a null string. */
typedef struct wr_kstr {
    const char *s;
    int32_t len;
} wr_kstr;

/* Bytes or records: p borrowed, len -1 for null. */
typedef struct wr_kbytes {
    const uint8_t *p;
    int32_t len;
} wr_kbytes;

typedef struct wr_kuuid {
    uint8_t b[16];
} wr_kuuid;

typedef enum wr_ktype {
    WR_KT_BOOL = 1,
    WR_KT_INT8,
    WR_KT_INT16,
    WR_KT_INT32,
    WR_KT_INT64,
    WR_KT_UUID,
    WR_KT_STRING,
    WR_KT_BYTES,
    WR_KT_RECORDS,
    WR_KT_ARRAY,
    WR_KT_STRUCT, /* only as an array element type */
} wr_ktype;

typedef struct wr_kstruct wr_kstruct;

/* One field of a message struct. Arrays are stored as {T *v; int32_t n;} at off. */
typedef struct wr_kfield {
    const char *name;
    uint8_t type;          /* wr_ktype */
    uint8_t elem;          /* element type of an array */
    int16_t vmin, vmax;    /* versions the field exists in */
    int16_t nmin, nmax;    /* versions in which it may be null (nmin > nmax: never) */
    int16_t tag;           /* >= 0: a tagged field (flexible versions only) */
    bool def_null;         /* default is null (nullable strings, arrays) */
    int64_t def;           /* default of numeric and bool fields */
    uint32_t off;          /* offsetof in the C struct */
    const wr_kstruct *sub; /* element descriptor of a struct array */
} wr_kfield;

struct wr_kstruct {
    const char *name;
    uint32_t size;
    uint16_t nfields;
    const wr_kfield *fields;
};

/* One API: its key, the versions weir accepts, its first flexible version, its bodies. */
typedef struct wr_kapi {
    int16_t key;
    const char *name;
    int16_t min, max;
    int16_t flex; /* first flexible version; 32767 if none */
    const wr_kstruct *req;
    const wr_kstruct *resp;
} wr_kapi;

#define WR_KP_NO_FLEX 32767

/* The descriptor of an API key, or NULL when weir does not know it. */
const wr_kapi *wr_kp_api(int16_t key);

static inline bool
wr_kp_flexible(const wr_kapi *api, int16_t version)
{
    return version >= api->flex;
}

/* Sets every field of the struct at obj to its default for version (arrays empty, or null when
   their default is null; strings "" or null). */
void wr_kp_init(const wr_kstruct *d, void *obj, int16_t version);

/* Allocates a struct of d in the arena and initialises it for version; NULL on OOM. */
void *wr_kp_new(wr_arena *a, const wr_kstruct *d, int16_t version);

/* Allocates n zero-initialised, default-filled elements of d (for building response arrays). */
void *wr_kp_new_array(wr_arena *a, const wr_kstruct *d, int32_t n, int16_t version);

/* Decodes one struct of d at version from rd into obj (caller-allocated, d->size bytes).
   Returns WR_OK, WR_ETRUNC (short input), WR_ECORRUPT (bad length, count or varint),
   WR_EINVAL (null where the version forbids it) or WR_ENOMEM. */
int wr_kp_decode(
    const wr_kstruct *d, void *obj, wr_rd *rd, int16_t version, bool flexible, wr_arena *a);

/* Appends the encoding of obj at version to out. Returns WR_OK, WR_EINVAL (a null where the
   version forbids one, or a non-default value in a field the version lacks is silently
   dropped, as Kafka's ignorable fields are) or WR_ENOMEM. */
int wr_kp_encode(const wr_kstruct *d, const void *obj, wr_buf *out, int16_t version, bool flexible);

/* ---- headers --------------------------------------------------------------------------- */

typedef struct wr_kreq_hdr {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    wr_kstr client_id; /* arena copy, or null */
} wr_kreq_hdr;

/* Decodes a request header (v1, or v2 with tagged fields when the API version is flexible; the
   client id stays an int16-length string in both). Unknown API keys and versions are decoded as
   v1 so the caller can still answer them. */
int wr_kp_decode_req_hdr(wr_rd *rd, wr_kreq_hdr *h, wr_arena *a);

/* Whether the request header of (key, version) is v2 (flexible). */
bool wr_kp_req_hdr_flexible(int16_t key, int16_t version);

/* Appends a request header (for clients and tests). */
void wr_kp_encode_req_hdr(wr_buf *out, const wr_kreq_hdr *h);

/* Whether the response header of (key, version) is v1 (flexible): flexible APIs except
   ApiVersions, whose response header is always v0 (KIP-511). */
bool wr_kp_resp_hdr_flexible(int16_t key, int16_t version);

/* Appends a response header. */
void wr_kp_encode_resp_hdr(wr_buf *out, int16_t key, int16_t version, int32_t correlation_id);

/* Builds a string for a response: borrows s (NULL gives a null string). */
static inline wr_kstr
wr_kstr_of(const char *s)
{
    wr_kstr k = {.s = s, .len = s ? (int32_t)strlen(s) : -1};
    return k;
}

#endif

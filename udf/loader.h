/*
 * loader.h - user-defined functions from shared objects (the ABI: udf/weir_udf.h).
 *
 * A loader owns the libraries it opened and the descriptors it made of their functions, and
 * registers those in a function registry next to the built-ins. A library is loaded whole or
 * not at all: its ABI tag, its init, and every function it registers are checked first, and a
 * refusal says why (also in the log, tagged "udf"). Libraries stay open until the loader is
 * destroyed, after every query that could call them.
 */
#ifndef WR_UDF_LOADER_H
#define WR_UDF_LOADER_H

#include "src/base/err.h"
#include "udf/fn.h"
#include "udf/weir_udf.h"

typedef struct wr_udf_loader wr_udf_loader;

/* allow[0..nallow): the directories libraries may come from (compared after resolving
   symbolic links). */
wr_udf_loader *wr_udf_loader_create(wr_fn_registry *fns, const char *const *allow, int nallow);
void wr_udf_loader_destroy(wr_udf_loader *l);

/* Loads one library. Refusals (WR_EINVAL, WR_EPERM, WR_EEXIST, WR_ENOENT) leave the registry as
   it was. *nfuncs (unless NULL) gets the number of functions it registered or replaced. */
int wr_udf_load(wr_udf_loader *l, const char *path, int *nfuncs, wr_err *err);

/* Loads every *.so directly in dir, in name order; a library that is refused is logged and
   skipped. Returns WR_OK unless dir itself cannot be used (not on the allowlist, missing); *nlibs
   (unless NULL) gets the number of libraries loaded. */
int wr_udf_load_dir(wr_udf_loader *l, const char *dir, int *nlibs, wr_err *err);

/* Registers an in-binary library into fns: init is called like a shared object's
   weir_udf_init, with the same host table, and its functions are checked and adapted the same
   way, with path "internal"; they may be WEIR_NATIVE. Their descriptors live as long as fns.
   weir's own functions come this way (wr_fn_register_builtins). */
int wr_udf_register_internal(wr_fn_registry *fns,
                             int (*init)(const weir_host *host, weir_registry *registry),
                             wr_err *err);

#endif

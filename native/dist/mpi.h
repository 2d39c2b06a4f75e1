// The MPI backend of fused-optim/distributed: libmpi is loaded at run time (dlopen), so the
// addon builds and runs everywhere without MPI headers or libraries. Only Open MPI's ABI is
// supported (its handles are addresses of exported globals); see mpi.cc.
#pragma once

#include <napi.h>

#include <cstdint>

#include "collectives.h"

namespace fo::dist {

// Adds the `mpi` object (load, init, barrier, finalize, allreduce helpers) to the exports.
void init_mpi(Napi::Env env, Napi::Object exports);

// Adds the `nccl` object (probe: whether libnccl.so.2 loads; uniqueId: ncclGetUniqueId; nccl.cc).
void init_nccl(Napi::Env env, Napi::Object exports);

}  // namespace fo::dist

// NCCL for CUDA arenas (fused-optim/distributed), loaded at run time: libnccl.so.2 is opened
// with dlopen and the few entry points used are declared here, so the addon builds without
// NCCL headers (and without CUDA headers: the CPU-only node-gyp build compiles nccl.cc too).
// No Node-API here: the CUDA backend (cuda/optimizer.cc) includes it. Implemented in nccl.cc.
//
// The declarations follow nccl.h (NCCL 2.x, stable since 2.4): ncclUniqueId is a struct of 128
// bytes passed by value, ncclComm_t an opaque pointer, ncclResult_t / ncclDataType_t /
// ncclRedOp_t C enums (int), cudaStream_t a pointer (declared as void* here).
#pragma once

#include <cstddef>
#include <string>

namespace fo::dist::nccl {

constexpr int kUniqueIdBytes = 128;  // NCCL_UNIQUE_ID_BYTES
struct UniqueId {
  char internal[kUniqueIdBytes];
};
struct OpaqueComm;  // struct ncclComm
using Comm = OpaqueComm*;
using Result = int;  // ncclResult_t

constexpr Result kSuccess = 0;     // ncclSuccess
constexpr Result kInProgress = 7;  // ncclInProgress (non-blocking communicators only)
constexpr int kFloat32 = 7;        // ncclFloat32 (ncclDataType_t)
constexpr int kSum = 0;            // ncclSum (ncclRedOp_t)

// The entry points, resolved with dlsym from the handle the probe opened.
struct Api {
  Result (*get_version)(int* version);
  Result (*get_unique_id)(UniqueId* id);
  Result (*comm_init_rank)(Comm* comm, int nranks, UniqueId id, int rank);
  Result (*all_reduce)(const void* send, void* recv, size_t count, int datatype, int op, Comm comm,
                       void* stream);
  Result (*comm_destroy)(Comm comm);
  Result (*comm_abort)(Comm comm);
  Result (*comm_get_async_error)(Comm comm, Result* async_error);
  const char* (*get_error_string)(Result r);
  // ncclGetLastError (NCCL 2.13 and newer): the last failure's detail; null when absent.
  const char* (*get_last_error)(Comm comm);
};

// The loaded library's entry points, or null when libnccl.so.2 is unavailable (see reason()).
// Loaded once per process (thread-safe); the library stays loaded.
const Api* api();
// Why api() is null ("" when it is not).
const std::string& reason();

// "ncclInvalidUsage" for 5, ...; "ncclError<N>" for a value this file does not know.
std::string result_name(Result r);

// Throws fo::DeviceError with code result_name(r) and a message naming the call, NCCL's error
// string and, when the library provides it, its last-error detail (`comm` may be null).
[[noreturn]] void throw_error(Result r, const char* call, Comm comm);

// Throws fo::DeviceError (code "ncclUnavailable") with reason() when api() is null.
const Api& require();

}  // namespace fo::dist::nccl

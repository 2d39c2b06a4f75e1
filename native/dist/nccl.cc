// NCCL for CUDA arenas (fused-optim/distributed). libnccl.so.2 is loaded at run time (dlopen)
// and the entry points a data-parallel CUDA step uses are resolved with dlsym (nccl.h declares
// them; no NCCL headers are needed). Exposed to JavaScript as the `nccl` object: probe()
// (whether the library loads, and why not) and uniqueId() (ncclGetUniqueId, for rank 0 to
// broadcast over MPI). The communicator itself belongs to a CUDA optimizer (attachNccl in
// addon/optimizer_wrap.cc, cuda/optimizer.cc); docs/design.md, "Distributed".
#include "nccl.h"

#include <dlfcn.h>

#include <string>

#include "../core/device_error.h"
#include "mpi.h"

namespace fo::dist {
namespace nccl {
namespace {

struct Loaded {
  Api api{};
  bool available = false;
  std::string reason;
  int version = 0;
};

template <typename Fn>
bool resolve(void* lib, const char* name, Fn& fn, std::string& reason) {
  void* p = dlsym(lib, name);
  if (!p) {
    reason = std::string("libnccl.so.2 has no symbol ") + name +
             " (NCCL 2.4 or newer is needed)";
    return false;
  }
  fn = reinterpret_cast<Fn>(p);
  return true;
}

const Loaded& loaded() {
  static const Loaded l = [] {
    Loaded r;
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      r.reason = std::string("libnccl.so.2 could not be loaded: ") + (e ? e : "not found");
      return r;
    }
    Api& a = r.api;
    // ncclReduceScatter and ncclAllGather are not called yet (no sharding on CUDA) but are
    // required, as before, so that `available` keeps meaning the same library everywhere.
    void (*unused)() = nullptr;
    const bool ok = resolve(lib, "ncclGetVersion", a.get_version, r.reason) &&
                    resolve(lib, "ncclGetUniqueId", a.get_unique_id, r.reason) &&
                    resolve(lib, "ncclCommInitRank", a.comm_init_rank, r.reason) &&
                    resolve(lib, "ncclAllReduce", a.all_reduce, r.reason) &&
                    resolve(lib, "ncclReduceScatter", unused, r.reason) &&
                    resolve(lib, "ncclAllGather", unused, r.reason) &&
                    resolve(lib, "ncclCommDestroy", a.comm_destroy, r.reason) &&
                    resolve(lib, "ncclCommAbort", a.comm_abort, r.reason) &&
                    resolve(lib, "ncclCommGetAsyncError", a.comm_get_async_error, r.reason) &&
                    resolve(lib, "ncclGetErrorString", a.get_error_string, r.reason);
    if (!ok) {
      r.api = Api{};
      dlclose(lib);
      return r;
    }
    a.get_last_error = reinterpret_cast<const char* (*)(Comm)>(dlsym(lib, "ncclGetLastError"));
    if (a.get_version(&r.version) != kSuccess) r.version = 0;
    r.available = true;  // the library is kept loaded
    return r;
  }();
  return l;
}

}  // namespace

const Api* api() {
  const Loaded& l = loaded();
  return l.available ? &l.api : nullptr;
}

const std::string& reason() { return loaded().reason; }

std::string result_name(Result r) {
  switch (r) {
    case 0: return "ncclSuccess";
    case 1: return "ncclUnhandledCudaError";
    case 2: return "ncclSystemError";
    case 3: return "ncclInternalError";
    case 4: return "ncclInvalidArgument";
    case 5: return "ncclInvalidUsage";
    case 6: return "ncclRemoteError";
    case 7: return "ncclInProgress";
    default: return "ncclError" + std::to_string(r);
  }
}

void throw_error(Result r, const char* call, Comm comm) {
  std::string msg = std::string("fused-optim: NCCL error ") + result_name(r);
  const Api* a = api();
  if (a && a->get_error_string) {
    const char* s = a->get_error_string(r);
    if (s && *s) msg += std::string(" (") + s + ")";
  }
  msg += std::string(" in ") + call;
  if (a && a->get_last_error) {
    const char* last = a->get_last_error(comm);
    if (last && *last) msg += std::string(": ") + last;
  }
  throw DeviceError(result_name(r), msg);
}

const Api& require() {
  const Api* a = api();
  if (!a) throw DeviceError("ncclUnavailable", "fused-optim: NCCL is unavailable: " + reason());
  return *a;
}

}  // namespace nccl

namespace {

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const nccl::Api* a = nccl::api();
  Napi::Object o = Napi::Object::New(env);
  int version = 0;
  if (a && a->get_version(&version) != nccl::kSuccess) version = 0;
  o.Set("available", Napi::Boolean::New(env, a != nullptr));
  o.Set("reason", a ? env.Null() : Napi::String::New(env, nccl::reason()));
  o.Set("version", version > 0 ? Napi::Number::New(env, version) : env.Null());
  return o;
}

// uniqueId() → Uint8Array(128): a new ncclUniqueId (ncclGetUniqueId; rank 0 makes it and
// broadcasts it). Throws an Error with code ERR_FUSED_OPTIM_NO_NCCL when NCCL is unavailable.
Napi::Value UniqueIdFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const nccl::Api* a = nccl::api();
  if (!a) {
    Napi::Error err = Napi::Error::New(
        env, "fused-optim: nccl.uniqueId(): NCCL is unavailable: " + nccl::reason());
    err.Set("code", Napi::String::New(env, "ERR_FUSED_OPTIM_NO_NCCL"));
    throw err;
  }
  nccl::UniqueId id{};
  const nccl::Result r = a->get_unique_id(&id);
  if (r != nccl::kSuccess) {
    std::string msg = "fused-optim: NCCL error " + nccl::result_name(r) + " in ncclGetUniqueId";
    if (const char* s = a->get_error_string(r)) msg += std::string(" (") + s + ")";
    Napi::Error err = Napi::Error::New(env, msg);
    err.Set("code", Napi::String::New(env, nccl::result_name(r)));
    throw err;
  }
  auto out = Napi::Uint8Array::New(env, nccl::kUniqueIdBytes);
  for (int i = 0; i < nccl::kUniqueIdBytes; ++i) out[i] = static_cast<uint8_t>(id.internal[i]);
  return out;
}

}  // namespace

void init_nccl(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("probe", Napi::Function::New(env, Probe, "probe"));
  o.Set("uniqueId", Napi::Function::New(env, UniqueIdFn, "uniqueId"));
  o.Set("uniqueIdBytes", Napi::Number::New(env, nccl::kUniqueIdBytes));
  exports.Set("nccl", o);
}

}  // namespace fo::dist

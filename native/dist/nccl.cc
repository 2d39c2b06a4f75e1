// NCCL for CUDA arenas (fused-optim/distributed): only the probe is built. libnccl is loaded at
// run time (dlopen of libnccl.so.2) with the entry points a data-parallel CUDA step would use
// declared here as function pointers; no NCCL headers are needed. The collectives themselves
// (ncclAllReduce on the optimizer's stream before the step, the unique id exchanged over MPI)
// are not built yet: docs/design.md, "Distributed".
#include <dlfcn.h>

#include <string>

#include "mpi.h"

namespace fo::dist {
namespace {

using FnGetVersion = int (*)(int*);

struct NcclProbe {
  bool available = false;
  std::string reason;
  int version = 0;
};

const NcclProbe& nccl_probe() {
  static const NcclProbe p = [] {
    NcclProbe r;
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      r.reason = std::string("libnccl.so.2 could not be loaded: ") + (e ? e : "not found");
      return r;
    }
    static const char* const kSymbols[] = {"ncclGetVersion",   "ncclGetUniqueId",   "ncclCommInitRank",
                                           "ncclAllReduce",    "ncclReduceScatter", "ncclAllGather",
                                           "ncclCommDestroy",  "ncclGetErrorString"};
    for (const char* s : kSymbols) {
      if (!dlsym(lib, s)) {
        r.reason = std::string("libnccl.so.2 has no symbol ") + s;
        dlclose(lib);
        return r;
      }
    }
    auto get_version = reinterpret_cast<FnGetVersion>(dlsym(lib, "ncclGetVersion"));
    if (get_version(&r.version) != 0) r.version = 0;
    r.available = true;  // the library is kept loaded
    return r;
  }();
  return p;
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const NcclProbe& p = nccl_probe();
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", Napi::Boolean::New(env, p.available));
  o.Set("reason", p.available ? env.Null() : Napi::String::New(env, p.reason));
  o.Set("version", p.version > 0 ? Napi::Number::New(env, p.version) : env.Null());
  return o;
}

}  // namespace

void init_nccl(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("probe", Napi::Function::New(env, Probe, "probe"));
  exports.Set("nccl", o);
}

}  // namespace fo::dist

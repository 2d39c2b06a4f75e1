#pragma once

#include <napi.h>

#include <functional>
#include <set>

namespace fo::addon {

// Something holding native memory that must be released when the environment goes away.
struct Releasable {
  virtual void release_at_exit() = 0;

 protected:
  ~Releasable() = default;
};

// Per-environment state: the CudaError constructor handed over by src/native.ts, and the live
// optimizers, released when the environment is torn down (worker exit, process exit) even
// if never disposed.
struct AddonData {
  Napi::FunctionReference cuda_error;
  std::set<Releasable*> live;
  ~AddonData() {
    for (Releasable* r : live) r->release_at_exit();
    live.clear();
  }
};

// Runs fn, turning C++ exceptions from the core into JavaScript errors: DeviceError → CudaError
// (code = the CUDA error name), std::bad_alloc → RangeError with code ERR_FUSED_OPTIM_OOM.
void rethrow_as_js(Napi::Env env);

Napi::Object init_optimizer(Napi::Env env, Napi::Object exports);

}  // namespace fo::addon

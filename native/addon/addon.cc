// Module entry: build info, threads, SIMD level, the functional steps on caller-owned arrays,
// and the Optimizer class (optimizer_wrap.cc).
#include "addon.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "../core/device_api.h"
#include "../core/layout.h"
#include "../core/step_args.h"
#include "../cpu/dispatch.h"
#include "../cpu/engine.h"
#include "../cpu/pool.h"
#include "require.h"

#ifndef FO_VERSION
#define FO_VERSION "0.0.0"
#endif

namespace fo::addon {

void rethrow_as_js(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error&) {
    throw;
  } catch (const DeviceError& e) {
    auto* data = env.GetInstanceData<AddonData>();
    if (data && !data->cuda_error.IsEmpty()) {
      Napi::Object err = data->cuda_error.New({Napi::String::New(env, e.what()),
                                               Napi::String::New(env, e.code())});
      throw Napi::Error(env, err);
    }
    Napi::Error err = Napi::Error::New(env, e.what());
    err.Set("code", Napi::String::New(env, e.code()));
    throw err;
  } catch (const std::bad_alloc&) {
    Napi::Error err = Napi::RangeError::New(env, "fused-optim: out of host memory");
    err.Set("code", Napi::String::New(env, "ERR_FUSED_OPTIM_OOM"));
    throw err;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("fused-optim: ") + e.what());
  }
}

namespace {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", FO_VERSION);
  o.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  o.Set("simd", cpu::kernels().name);
  Napi::Array simd = Napi::Array::New(env);
  auto levels = cpu::supported_simd();
  for (size_t i = 0; i < levels.size(); ++i) simd.Set(static_cast<uint32_t>(i), levels[i]);
  o.Set("simdSupported", simd);
  cpu::ThreadPool& pool = cpu::ThreadPool::instance();
  o.Set("threads", Napi::Number::New(env, pool.threads()));
  o.Set("cpus", Napi::Number::New(env, pool.cpus()));
  o.Set("maxThreads", Napi::Number::New(env, pool.max_threads()));
  o.Set("poolWorkers", Napi::Number::New(env, pool.workers()));
  o.Set("chunkElements", Napi::Number::New(env, static_cast<double>(kChunkElems)));
  const cuda::Probe& p = cuda::probe();
  Napi::Object c = Napi::Object::New(env);
  c.Set("compiled", Napi::Boolean::New(env, p.compiled));
  c.Set("available", Napi::Boolean::New(env, p.available));
  c.Set("reason", p.available ? env.Null() : Napi::String::New(env, p.reason));
  c.Set("runtimeVersion", p.runtime_version.empty() ? env.Null()
                                                   : Napi::String::New(env, p.runtime_version));
  c.Set("driverVersion", p.driver_version.empty() ? env.Null()
                                                 : Napi::String::New(env, p.driver_version));
  Napi::Array devs = Napi::Array::New(env);
  for (size_t i = 0; i < p.devices.size(); ++i) devs.Set(static_cast<uint32_t>(i), p.devices[i]);
  c.Set("devices", devs);
  o.Set("cuda", c);
#if defined(__VERSION__)
  o.Set("compiler", __VERSION__);
#endif
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int64_t n = require_int(info, 0, "threads", 1, 256);
  cpu::ThreadPool::instance().set_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), cpu::ThreadPool::instance().threads());
}

Napi::Value SetSimd(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw_type(info.Env(), "Expected a string for level");
  return Napi::Boolean::New(info.Env(), cpu::set_simd(info[0].As<Napi::String>().Utf8Value()));
}

Napi::Value SetErrorClasses(const Napi::CallbackInfo& info) {
  auto* data = info.Env().GetInstanceData<AddonData>();
  if (info[0].IsFunction()) data->cuda_error = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// The layout of one tensor of n elements, kept per thread: callers of the functional steps
// usually repeat one size, and rebuilding the chunk table was a third of a small call's cost.
const Layout& single_tensor_layout(int64_t n) {
  thread_local Layout cached = Layout::packed({0}, false);
  if (cached.length[0] != n) cached = Layout::packed({n}, false);
  return cached;
}

// Checks that `a` does not overlap `b` in memory (the update would read what it just wrote).
bool overlaps(const void* a, size_t abytes, const void* b, size_t bbytes) {
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return abytes > 0 && bbytes > 0 && pa < pb + bbytes && pb < pa + abytes;
}

// adamStep(p, g, m, v, hp, out, threads) / sgdStep(p, g, buf | null, hp, out, threads)
Napi::Value FunctionalStep(const Napi::CallbackInfo& info, Kind kind) {
  Napi::Env env = info.Env();
  auto p = require_f32(info, 0, "params");
  auto g = require_f32(info, 1, "grads");
  const size_t n = p.ElementLength();
  if (g.ElementLength() != n) throw_range(env, "Expected grads of the same length as params");
  float* s1 = nullptr;
  float* s2 = nullptr;
  std::pair<const void*, size_t> spans[4] = {{p.Data(), n * 4}, {g.Data(), n * 4}};
  size_t nspans = 2;
  if (kind == Kind::Adam) {
    auto m = require_f32(info, 2, "expAvg");
    auto v = require_f32(info, 3, "expAvgSq");
    if (m.ElementLength() != n) throw_range(env, "Expected expAvg of the same length as params");
    if (v.ElementLength() != n) throw_range(env, "Expected expAvgSq of the same length as params");
    s1 = m.Data();
    s2 = v.Data();
    spans[nspans++] = {s1, n * 4};
    spans[nspans++] = {s2, n * 4};
  } else if (!info[2].IsNull() && !info[2].IsUndefined()) {
    auto b = require_f32(info, 2, "momentumBuffer");
    if (b.ElementLength() != n) {
      throw_range(env, "Expected momentumBuffer of the same length as params");
    }
    s1 = b.Data();
    spans[nspans++] = {s1, n * 4};
  }
  for (size_t i = 0; i < nspans; ++i) {
    for (size_t j = i + 1; j < nspans; ++j) {
      if (overlaps(spans[i].first, spans[i].second, spans[j].first, spans[j].second)) {
        throw_range(env, "Expected params, grads and state arrays that do not share memory");
      }
    }
  }
  const size_t at = kind == Kind::Adam ? 4 : 3;  // hp, out, threads follow the arrays
  auto hp = require_f64(info, at, "hyperparameters", kHpCount);
  auto out = require_f64(info, at + 1, "out", kOutCount);
  int threads = static_cast<int>(require_int(info, at + 2, "threads", 0, 256));
  HyperParams h = HyperParams::unpack(kind, hp.Data());
  if (kind == Kind::SGD && h.beta1 != 0.0 && !s1) {
    throw_type(env, "Expected a Float32Array for momentumBuffer when momentum is not 0");
  }
  const double step = hp[kHpStep];
  if (!(step >= 1 && step <= 9007199254740991.0)) throw_range(env, "Expected step >= 1");
  int64_t applied = static_cast<int64_t>(step) - 1;
  try {
    const Layout& layout = single_tensor_layout(static_cast<int64_t>(n));
    cpu::StepOutcome o =
        cpu::run_step(layout, cpu::StepPointers{p.Data(), g.Data(), s1, s2}, h, applied, threads,
                      nullptr, nullptr);
    cpu::write_outcome(o, applied, out.Data());
  } catch (...) {
    rethrow_as_js(env);
  }
  return env.Undefined();
}

Napi::Value AdamStep(const Napi::CallbackInfo& info) { return FunctionalStep(info, Kind::Adam); }
Napi::Value SgdStep(const Napi::CallbackInfo& info) { return FunctionalStep(info, Kind::SGD); }

// streamFloor(a, b, c, d, scale, threads): the memory floor's loop (reads 4 arrays, writes 3),
// over the same pool and chunking as a step. For benchmarks.
Napi::Value StreamFloor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto a = require_f32(info, 0, "a");
  auto b = require_f32(info, 1, "b");
  auto c = require_f32(info, 2, "c");
  auto d = require_f32(info, 3, "d");
  const size_t n = a.ElementLength();
  if (b.ElementLength() != n || c.ElementLength() != n || d.ElementLength() != n) {
    throw_range(env, "Expected four Float32Arrays of one length");
  }
  float s = static_cast<float>(require_number(info, 4, "scale"));
  int threads = static_cast<int>(require_int(info, 5, "threads", 0, 256));
  cpu::stream_floor(single_tensor_layout(static_cast<int64_t>(n)), a.Data(), b.Data(), c.Data(),
                    d.Data(), s, threads);
  return env.Undefined();
}

Napi::Float64Array to_f64(Napi::Env env, const std::vector<double>& v) {
  auto out = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), out.Data());
  return out;
}

// cudaCopyTimes(device, bytes, iters) → Float64Array of ms per device-to-device copy (bench/gpu:
// the bandwidth ceiling a step is compared with).
Napi::Value CudaCopyTimes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = static_cast<int>(require_int(info, 0, "device", 0, 1023));
  int64_t bytes = require_int(info, 1, "bytes", 16, int64_t{1} << 40);
  int iters = static_cast<int>(require_int(info, 2, "iters", 1, 100000));
  try {
    return to_f64(env, cuda::copy_times_ms(device, bytes / 16 * 16, iters));
  } catch (...) {
    rethrow_as_js(env);
  }
  return env.Undefined();
}

// cudaTimeCalls(device, iters, fn) → Float64Array of the device time in ms of each fn() call,
// from CUDA events on the stream every optimizer on `device` enqueues to.
Napi::Value CudaTimeCalls(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = static_cast<int>(require_int(info, 0, "device", 0, 1023));
  int iters = static_cast<int>(require_int(info, 1, "iters", 1, 100000));
  if (!info[2].IsFunction()) throw_type(env, "Expected a function for fn");
  Napi::Function fn = info[2].As<Napi::Function>();
  try {
    return to_f64(env, cuda::time_calls(device, iters, [&] { fn.Call({}); }));
  } catch (...) {
    rethrow_as_js(env);
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("setSimd", Napi::Function::New(env, SetSimd, "setSimd"));
  exports.Set("setErrorClasses", Napi::Function::New(env, SetErrorClasses, "setErrorClasses"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep, "sgdStep"));
  exports.Set("streamFloor", Napi::Function::New(env, StreamFloor, "streamFloor"));
  exports.Set("cudaCopyTimes", Napi::Function::New(env, CudaCopyTimes, "cudaCopyTimes"));
  exports.Set("cudaTimeCalls", Napi::Function::New(env, CudaTimeCalls, "cudaTimeCalls"));
  exports.Set("HP_COUNT", Napi::Number::New(env, kHpCount));
  exports.Set("OUT_COUNT", Napi::Number::New(env, kOutCount));
  exports.Set("TRACE_FIELDS", Napi::Number::New(env, kTraceFields));
  return init_optimizer(env, exports);
}

}  // namespace
}  // namespace fo::addon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return fo::addon::Init(env, exports);
}

NODE_API_MODULE(fused_optim, InitModule)

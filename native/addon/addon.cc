// Module entry: build info, threads, SIMD level, the functional steps on caller-owned arrays,
// and the Optimizer class (optimizer_wrap.cc).
#include "addon.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "../core/layout.h"
#include "../core/step_args.h"
#include "../cpu/dispatch.h"
#include "../cpu/engine.h"
#include "../cpu/pool.h"
#include "../cuda/api.h"
#include "../dist/mpi.h"
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
  } catch (const dist::Error& e) {
    Napi::Error err = Napi::Error::New(env, std::string("fused-optim: ") + e.what());
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

// Checks that `a` does not overlap `b` in memory (the update would read what it just wrote).
bool overlaps(const void* a, size_t abytes, const void* b, size_t bbytes) {
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return abytes > 0 && bbytes > 0 && pa < pb + bbytes && pb < pa + abytes;
}

// functionalStep(rule, params, grads, state: (Float32Array | null)[], hp, out, threads): one
// step of `rule` over caller-owned arrays, through a borrowed CPU arena (the same backend
// interface and engine as the optimizer classes). hp holds one group; hp[kHpStep] is the
// 1-based index of this step.
Napi::Value FunctionalStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const RuleInfo* rule = require_rule(info, 0);
  auto p = require_f32(info, 1, "params");
  auto g = require_f32(info, 2, "grads");
  const size_t n = p.ElementLength();
  if (g.ElementLength() != n) throw_range(env, "Expected grads of the same length as params");
  if (!info[3].IsArray()) throw_type(env, "Expected an array of state arrays");
  Napi::Array st = info[3].As<Napi::Array>();
  if (st.Length() != static_cast<uint32_t>(rule->slots)) {
    throw_range(env, "Expected " + std::to_string(rule->slots) + " state arrays for " + rule->name);
  }
  cpu::ArenaPointers ptr{p.Data(), g.Data(), {}};
  std::pair<const void*, size_t> spans[2 + rules::kMaxSlots] = {{p.Data(), n * 4}, {g.Data(), n * 4}};
  size_t nspans = 2;
  for (uint32_t k = 0; k < st.Length(); ++k) {
    Napi::Value v = st.Get(k);
    if (v.IsNull() || v.IsUndefined()) continue;
    std::string name = std::string("state ") + rule->slot_names[k];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw_type(env, "Expected a Float32Array for " + name);
    }
    auto a = v.As<Napi::TypedArrayOf<float>>();
    if (a.ElementLength() != n) throw_range(env, "Expected " + name + " of the same length as params");
    if (n > 0 && a.Data() == nullptr) throw_type(env, "Expected an attached Float32Array for " + name);
    ptr.s[k] = a.Data();
    spans[nspans++] = {a.Data(), n * 4};
  }
  for (size_t i = 0; i < nspans; ++i) {
    for (size_t j = i + 1; j < nspans; ++j) {
      if (overlaps(spans[i].first, spans[i].second, spans[j].first, spans[j].second)) {
        throw_range(env, "Expected params, grads and state arrays that do not share memory");
      }
    }
  }
  auto hp = require_f64(info, 4, "hyperparameters", hp_length(1));
  if (hp[kHpGroups] != 1) throw_range(env, "Expected hyperparameters for one group");
  auto out = require_f64(info, 5, "out", kOutCount);
  int threads = static_cast<int>(require_int(info, 6, "threads", 0, 256));
  const StepSettings s = StepSettings::unpack(hp.Data());
  // Every slot the rule's variant for these hyperparameters reads must be given.
  {
    alignas(16) uint32_t words[rules::kMaxConstsBytes / 4];  // no allocation per call
    rule->make(s.group(0), 1, words);
    const uint32_t used = rule->slot_mask(rule->variant(words));
    for (int k = 0; k < rule->slots && n > 0; ++k) {
      if ((used >> k & 1u) && !ptr.s[k]) {
        throw_type(env, std::string("Expected a Float32Array for state ") + rule->slot_names[k] +
                            " with these hyperparameters");
      }
    }
  }
  const double step = hp[kHpStep];
  if (!(step >= 1 && step <= 9007199254740991.0)) throw_range(env, "Expected step >= 1");
  try {
    // A borrowed arena per thread, rebuilt only when the length or rule changes: callers of
    // the functional steps usually repeat one size.
    thread_local std::unique_ptr<cpu::CpuOptimizer> arena;
    if (!arena || &arena->rule() != rule || arena->layout().length[0] != static_cast<int64_t>(n)) {
      ArenaSpec spec;
      spec.rule = rule;
      spec.layout = Layout::packed({static_cast<int64_t>(n)}, false);
      spec.tensor_group = {0};
      spec.groups = 1;
      arena = std::make_unique<cpu::CpuOptimizer>(std::move(spec), ptr, threads);
    }
    arena->rebind(ptr);
    arena->set_threads(threads);
    arena->set_applied(static_cast<int64_t>(step) - 1);
    arena->step(s, out.Data());
  } catch (...) {
    rethrow_as_js(env);
  }
  return env.Undefined();
}

// --- benchmark helpers: not part of the optimizer contract ----------------------------------

// bench.streamFloor(a, b, c, d, scale, threads): the memory floor's loop (reads 4 arrays,
// writes 3), over the same pool and chunking as a step.
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
  thread_local Layout layout = Layout::packed({0}, false);
  if (layout.length[0] != static_cast<int64_t>(n)) layout = Layout::packed({static_cast<int64_t>(n)}, false);
  cpu::bench::stream_floor(layout, a.Data(), b.Data(), c.Data(), d.Data(), s, threads);
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
    return to_f64(env, cuda::bench::copy_times_ms(device, bytes / 16 * 16, iters));
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
    return to_f64(env, cuda::bench::time_calls(device, iters, [&] { fn.Call({}); }));
  } catch (...) {
    rethrow_as_js(env);
  }
  return env.Undefined();
}

Napi::Array strings(Napi::Env env, const char* const* names, int n) {
  Napi::Array a = Napi::Array::New(env, static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) a.Set(static_cast<uint32_t>(i), names[i]);
  return a;
}

// The rule registry as TypeScript checks it at load: [{ id, name, fields, slots }].
Napi::Array RuleTable(Napi::Env env) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t at = 0;
  for (int id = 0; id < kRuleCount; ++id) {
    const RuleInfo* r = rule_info(id);
    if (!r) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", Napi::Number::New(env, id));
    o.Set("name", r->name);
    o.Set("fields", strings(env, r->field_names, r->fields));
    o.Set("slots", strings(env, r->slot_names, r->slots));
    out.Set(at++, o);
  }
  return out;
}

// Every index table of the binding (core/step_args.h, core/backend.h).
Napi::Object LayoutTable(Napi::Env env) {
  auto num = [&](double v) { return Napi::Number::New(env, v); };
  Napi::Object o = Napi::Object::New(env);
  Napi::Object hp = Napi::Object::New(env);
  hp.Set("maxGradNorm", num(kHpMaxGradNorm));
  hp.Set("gradScale", num(kHpGradScale));
  hp.Set("flags", num(kHpFlags));
  hp.Set("step", num(kHpStep));
  hp.Set("groups", num(kHpGroups));
  hp.Set("header", num(kHpHeader));
  hp.Set("groupStride", num(kHpGroupStride));
  o.Set("hp", hp);
  Napi::Object flag = Napi::Object::New(env);
  flag.Set("skipNonFinite", num(kFlagSkipNonFinite));
  o.Set("flag", flag);
  Napi::Object out = Napi::Object::New(env);
  out.Set("l2", num(kOutL2));
  out.Set("l1", num(kOutL1));
  out.Set("clipCoef", num(kOutClipCoef));
  out.Set("skipped", num(kOutSkipped));
  out.Set("nonFinite", num(kOutNonFinite));
  out.Set("applied", num(kOutApplied));
  out.Set("count", num(kOutCount));
  o.Set("out", out);
  Napi::Object slot = Napi::Object::New(env);
  slot.Set("params", num(kParams));
  slot.Set("grads", num(kGrads));
  slot.Set("firstState", num(kFirstState));
  o.Set("slot", slot);
  o.Set("traceFields", num(kTraceFields));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("setSimd", Napi::Function::New(env, SetSimd, "setSimd"));
  exports.Set("setErrorClasses", Napi::Function::New(env, SetErrorClasses, "setErrorClasses"));
  exports.Set("functionalStep", Napi::Function::New(env, FunctionalStep, "functionalStep"));
  exports.Set("rules", RuleTable(env));
  exports.Set("layout", LayoutTable(env));
  Napi::Object bench = Napi::Object::New(env);
  bench.Set("streamFloor", Napi::Function::New(env, StreamFloor, "streamFloor"));
  bench.Set("cudaCopyTimes", Napi::Function::New(env, CudaCopyTimes, "cudaCopyTimes"));
  bench.Set("cudaTimeCalls", Napi::Function::New(env, CudaTimeCalls, "cudaTimeCalls"));
  // A flag bit of the hyperparameters, CUDA only: a one-pass step without the reduction, the
  // finalize kernel and the trace (bench/gpu measures what norms and trace cost with it).
  bench.Set("FLAG_NO_REDUCE", Napi::Number::New(env, 256));
  exports.Set("bench", bench);
  dist::init_mpi(env, exports);
  dist::init_nccl(env, exports);
  return init_optimizer(env, exports);
}

}  // namespace
}  // namespace fo::addon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return fo::addon::Init(env, exports);
}

NODE_API_MODULE(fused_optim, InitModule)

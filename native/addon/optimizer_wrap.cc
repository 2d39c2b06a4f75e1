// The Optimizer class: one arena (params, grads, states) on one device, stepped synchronously
// or on a libuv worker thread.
//
// Memory protocol (CPU): each slot is a 64-byte aligned HostBlock held by a shared_ptr, and the
// memory is freed only when the last holder lets go. The holders:
//  - the backend (CpuOptimizer), dropped by dispose() or when the optimizer is collected;
//  - each V8 backing store made over the block (slotBuffer), through the finalizer of the
//    external ArrayBuffer. V8 frees a backing store when no ArrayBuffer uses it any more, and
//    ArrayBuffer.prototype.transfer() moves it to a new ArrayBuffer, so a transferred buffer
//    keeps the memory alive until it is itself collected;
//  - the ArrayBuffer object handed out (a finalizer on the object): once detached it no longer
//    holds the backing store, but a native API that took a view's raw pointer (e.g.
//    crypto.randomFill on a libuv thread) keeps the view, and so this object, alive until it
//    is done, and must not write into freed memory;
//  - an in-flight stepAsync (its worker holds the backend).
// dispose() detaches the ArrayBuffer it handed out (every view becomes length 0: nothing in
// JavaScript can reach the memory through it) and drops the backend's reference. When that
// ArrayBuffer was still attached and is the block's only backing store, nothing in JavaScript
// can reach the block any more: its pages go back to the OS at once (HostBlock::discard, the
// address range stays valid until the last raw-pointer holder is gone). A block never handed
// out is freed at once. A transferred block stays, whole, until the buffer it went to is
// collected.
#include <napi.h>

#if defined(__linux__)
#include <sys/sysinfo.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include "../cpu/engine.h"
#include "../cuda/api.h"
#include "../dist/mpi.h"
#include "addon.h"
#include "require.h"
#include "test_backend.h"

namespace fo::addon {
namespace {

// The finalizer hint of an external ArrayBuffer's backing store: one holder of the block.
struct BackingStoreHold {
  explicit BackingStoreHold(std::shared_ptr<cpu::HostBlock> b) : block(std::move(b)) {
    ++block->js_stores;
  }
  ~BackingStoreHold() { --block->js_stores; }
  std::shared_ptr<cpu::HostBlock> block;
};

// Held by the ArrayBuffer object handed out, until it is collected. `accounted`: bytes left in
// V8's external-memory count for it at dispose (a block still resident), given back here.
struct BufferObjectHold {
  std::shared_ptr<cpu::HostBlock> block;
  int64_t accounted = 0;
};

// V8 external-memory adjustment that never throws (finalizers, a dying environment).
void adjust_external(napi_env env, int64_t delta) {
  if (delta == 0) return;
  int64_t ignored = 0;
  napi_adjust_external_memory(env, delta, &ignored);
}

std::string format_bytes(double b) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (b >= 1024 && u < 5) {
    b /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

// Bytes this process could hold in host memory: RAM + swap, or less under a cgroup limit.
double host_memory_bytes() {
  double total = 0;
#if defined(__linux__)
  struct sysinfo si;
  if (sysinfo(&si) == 0) {
    total = (static_cast<double>(si.totalram) + static_cast<double>(si.totalswap)) * si.mem_unit;
  }
#else
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) total = static_cast<double>(pages) * static_cast<double>(page);
#endif
  for (const char* f : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(f);
    double limit = 0;
    if (in >> limit && limit > 0 && (total == 0 || limit < total)) total = limit;
  }
  return total;
}

// Device memory of cuda:N from the probe ("NVIDIA H200 (sm_90, 139 GiB)"), or 0 when unknown.
double cuda_memory_bytes(const std::string& device) {
  const auto& devs = cuda::probe().devices;
  size_t ordinal = 0;
  try {
    ordinal = static_cast<size_t>(std::stoul(device.substr(5)));
  } catch (...) {
    return 0;
  }
  if (ordinal >= devs.size()) return 0;
  const std::string& d = devs[ordinal];
  size_t at = d.rfind(" GiB");
  if (at == std::string::npos) return 0;
  size_t from = d.find_last_not_of("0123456789.", at - 1);
  double gib = std::atof(d.substr(from + 1, at - from - 1).c_str());
  return (gib + 1) * 1024.0 * 1024.0 * 1024.0;  // the probe rounds to whole GiB
}

void check_arena_fits(Napi::Env env, int slots, const std::vector<int64_t>& lens,
                      const std::string& device) {
  double elements = 0;
  for (int64_t n : lens) elements += static_cast<double>(n) + Layout::kAlignElems;
  const double need = elements * 4.0 * slots;
  const bool cpu = device == "cpu";
  const double have = cpu ? host_memory_bytes() : cuda_memory_bytes(device);
  if (have > 0 && need > have) {
    Napi::Error err = Napi::RangeError::New(
        env, "fused-optim: an arena of " + format_bytes(need) + " (" + std::to_string(slots) +
                 " slots of " + format_bytes(elements * 4.0) + ") is more than " +
                 (cpu ? "host memory can hold (" + format_bytes(have) + " of memory and swap)"
                      : device + " can hold (" + format_bytes(have) + " of device memory)"));
    err.Set("code", Napi::String::New(env, "ERR_FUSED_OPTIM_OOM"));
    throw err;
  }
}

class OptimizerWrap : public Napi::ObjectWrap<OptimizerWrap>, public Releasable {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Optimizer",
        {
            InstanceMethod<&OptimizerWrap::SlotBuffer>("slotBuffer"),
            InstanceMethod<&OptimizerWrap::Offsets>("offsets"),
            InstanceMethod<&OptimizerWrap::Step>("step"),
            InstanceMethod<&OptimizerWrap::StepAsync>("stepAsync"),
            InstanceMethod<&OptimizerWrap::ReadOutcome>("readOutcome"),
            InstanceMethod<&OptimizerWrap::TensorSums>("tensorSums"),
            InstanceMethod<&OptimizerWrap::ReadTrace>("readTrace"),
            InstanceMethod<&OptimizerWrap::WriteSlot>("writeSlot"),
            InstanceMethod<&OptimizerWrap::ReadSlot>("readSlot"),
            InstanceMethod<&OptimizerWrap::FillSlot>("fillSlot"),
            InstanceMethod<&OptimizerWrap::LerpSlot>("lerpSlot"),
            InstanceMethod<&OptimizerWrap::SetCounters>("setCounters"),
            InstanceMethod<&OptimizerWrap::Counters>("counters"),
            InstanceMethod<&OptimizerWrap::SetThreads>("setThreads"),
            InstanceMethod<&OptimizerWrap::AttachNccl>("attachNccl"),
            InstanceMethod<&OptimizerWrap::Dispose>("dispose"),
            InstanceAccessor<&OptimizerWrap::Device>("device"),
            InstanceAccessor<&OptimizerWrap::NativeBytes>("nativeBytes"),
            InstanceAccessor<&OptimizerWrap::Disposed>("disposed"),
            InstanceAccessor<&OptimizerWrap::Busy>("busy"),
            InstanceAccessor<&OptimizerWrap::OutcomeIsLazy>("outcomeIsLazy"),
        });
  }

  // new Optimizer(rule, lengths: Float64Array, tensorGroup: Float64Array, groups,
  //               device: 'cpu' | 'cuda:N', traceCapacity, threads,
  //               stream?: 'shared' | 'own', streamPriority?: integer, shard?: boolean)
  // The stream arguments apply to CUDA only (the CPU has no streams and ignores them).
  explicit OptimizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OptimizerWrap>(info) {
    Napi::Env env = info.Env();
    ArenaSpec spec;
    spec.rule = require_rule(info, 0);
    auto lengths = require_f64(info, 1, "lengths", 0);
    std::vector<int64_t> lens(lengths.ElementLength());
    for (size_t i = 0; i < lens.size(); ++i) {
      double d = lengths[i];
      if (!(d >= 0 && d <= 4.0e15) || d != static_cast<double>(static_cast<int64_t>(d))) {
        throw_range(env, "Expected tensor lengths that are integers >= 0");
      }
      lens[i] = static_cast<int64_t>(d);
    }
    auto groups_of = require_f64(info, 2, "tensorGroup", lens.size());
    spec.groups = static_cast<int32_t>(require_int(info, 3, "groups", 1, 1 << 20));
    spec.tensor_group.resize(lens.size());
    for (size_t i = 0; i < lens.size(); ++i) {
      const double g = groups_of[i];
      if (!(g >= 0 && g < spec.groups) || g != static_cast<double>(static_cast<int32_t>(g))) {
        throw_range(env, "Expected tensorGroup[" + std::to_string(i) + "] to be a group index");
      }
      spec.tensor_group[i] = static_cast<int32_t>(g);
    }
    if (!info[4].IsString()) throw_type(env, "Expected a string for device");
    std::string device = info[4].As<Napi::String>().Utf8Value();
    spec.trace_capacity = require_int(info, 5, "traceCapacity", 0, int64_t{1} << 24);
    int threads = static_cast<int>(require_int(info, 6, "threads", 0, 256));
    cuda::StreamOptions stream;
    if (info.Length() > 7 && !info[7].IsUndefined()) {
      if (!info[7].IsString()) throw_type(env, "Expected a string for stream");
      std::string mode = info[7].As<Napi::String>().Utf8Value();
      if (mode == "own") {
        stream.own = true;
      } else if (mode != "shared") {
        throw_range(env, "Expected stream 'shared' or 'own' but received '" + mode + "'");
      }
    }
    if (info.Length() > 8 && !info[8].IsUndefined()) {
      stream.priority = static_cast<int>(require_int(info, 8, "streamPriority", -1000, 1000));
    }
    // Refuse an arena the device cannot hold before building anything for it (the chunk table
    // of 2^40 elements alone is 1.5 GB).
    check_arena_fits(env, 2 + spec.rule->slots, lens, device);
    try {
      spec.layout = Layout::packed(lens);
      const bool shard = info.Length() > 9 && info[9].ToBoolean();
      if (info.Length() > 10 && !info[10].IsUndefined()) {
        channel_ = static_cast<int>(require_int(info, 10, "channel", -1, 1 << 30));
      }
      if (shard && device != "cpu") throw_range(env, "Expected device 'cpu' for a sharded (ZeRO-1) arena");
      if (shard && (!dist::active() || channel_ < 0)) throw_range(env, "Expected MPI to be initialised and a channel for a sharded (ZeRO-1) arena");
      if (shard) {
        backend_ = std::make_unique<cpu::CpuOptimizer>(
            std::move(spec), threads, cpu::CpuOptimizer::Sharding{dist::rank(), dist::size(), channel_});
      } else if (device == "cpu") {
        backend_ = std::make_unique<cpu::CpuOptimizer>(std::move(spec), threads);
      } else if (device.rfind("cuda:", 0) == 0) {
        int ordinal = std::stoi(device.substr(5));
        backend_ = cuda::make_optimizer(std::move(spec), ordinal, stream);
      } else if (device == kTestLazyDevice && test_hooks_enabled()) {
        backend_ = make_test_lazy_backend(std::move(spec), threads);
      } else {
        throw_range(env, "Expected device 'cpu' or 'cuda:N' but received '" + device + "'");
      }
    } catch (...) {
      rethrow_as_js(env);
    }
    external_bytes_ = backend_->native_bytes();
    Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
    data_ = env.GetInstanceData<AddonData>();
    data_->live.insert(this);
  }

  ~OptimizerWrap() override {
    // The environment may be going away; only release memory, call nothing in JavaScript.
    if (data_) data_->live.erase(this);
    backend_.reset();
  }

  // Called when the environment is torn down with this optimizer never disposed.
  void release_at_exit() override {
    data_ = nullptr;
    backend_.reset();
  }

 private:
  cpu::CpuOptimizer* cpu_backend() { return dynamic_cast<cpu::CpuOptimizer*>(backend_.get()); }

  OptimizerBackend& live(Napi::Env env) {
    if (!backend_) throw Napi::Error::New(env, "fused-optim: this optimizer has been disposed");
    if (busy_) {
      throw Napi::Error::New(env,
                             "fused-optim: an asynchronous step is in flight on this optimizer; "
                             "await it first");
    }
    return *backend_;
  }

  int require_slot(const Napi::CallbackInfo& info, size_t i) {
    int64_t s = require_int(info, i, "slot", 0, kSlotCount - 1);
    if (s >= backend_->slots()) throw_range(info.Env(), "Expected a slot this optimizer has");
    return static_cast<int>(s);
  }

  // slotBuffer(slot): an ArrayBuffer over the slot's host memory (CPU), or null (device).
  Napi::Value SlotBuffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    int slot = require_slot(info, 0);
    auto* cpu = cpu_backend();
    if (!cpu) return env.Null();
    if (!buffers_[slot].IsEmpty() && !buffers_[slot].Value().IsEmpty()) {
      return buffers_[slot].Value();
    }
    auto block = cpu->block(slot);
    // (node-addon-api deletes the hint itself when creating the buffer fails.)
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
        env, block->data, static_cast<size_t>(cpu->layout().total * 4),
        [](Napi::Env, void*, BackingStoreHold* h) { delete h; }, new BackingStoreHold(block));
    auto* hold = new BufferObjectHold{block, 0};
    ab.AddFinalizer(
        [](Napi::Env env, BufferObjectHold* h) {
          adjust_external(env, -h->accounted);
          delete h;
        },
        hold);
    buffers_[slot] = Napi::Weak(ab);
    holds_[slot] = hold;
    return ab;
  }

  Napi::Value Offsets(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Layout& l = live(env).layout();
    auto out = Napi::Float64Array::New(env, l.tensors());
    for (size_t i = 0; i < l.tensors(); ++i) out[i] = static_cast<double>(l.offset[i]);
    return out;
  }

  // The hyperparameters of a step, checked against this optimizer's group count. `keep`
  // receives a copy when the step outlives the call (stepAsync).
  StepSettings read_hp(const Napi::CallbackInfo& info, size_t i, std::vector<double>* keep) {
    const size_t n = hp_length(backend_->groups());
    auto hp = require_f64(info, i, "hyperparameters", n);
    if (hp[kHpGroups] != backend_->groups()) {
      throw_range(info.Env(), "Expected hyperparameters for " + std::to_string(backend_->groups()) +
                                  " groups");
    }
    if (!keep) return StepSettings::unpack(hp.Data());
    keep->assign(hp.Data(), hp.Data() + n);
    return StepSettings::unpack(keep->data());
  }

  // Data-parallel steps (fused-optim/distributed): the rendezvous of every rank on the
  // optimizer's channel (dist/collectives.h: a rank that left, a mismatch or a timeout throws
  // here, before anything changed), then the sum of the whole gradient slot (padding included,
  // which is zero on every rank) in place. The 1/size of the average is folded into the step's
  // gradScale by the caller. A sharded arena's step reduce-scatters instead; a CUDA arena with
  // an NCCL communicator (attachNccl) enqueues ncclAllReduce on its stream.
  static void distribute_grads(OptimizerBackend& b, int channel, double iteration) {
    dist::header(channel, dist::Op::Step, iteration);
    if (b.has_device_comm()) return b.allreduce_grads_device();
    if (auto* c = dynamic_cast<cpu::CpuOptimizer*>(&b); c && c->sharded()) return;
    float* g = b.host_slot(kGrads);
    if (!g) throw std::runtime_error("the MPI gradient all-reduce needs a host (CPU) arena");
    dist::allreduce_sum_f32(channel, g, b.layout().total);
  }

  // The iteration of a distributed step (argument i, a number), or -1 for a local step.
  double distributed_iteration(const Napi::CallbackInfo& info, size_t i) {
    if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return -1;
    if (channel_ < 0) throw_range(info.Env(), "Expected a distributed optimizer for a distributed step");
    return static_cast<double>(require_int(info, i, "iteration", 0, int64_t{1} << 53));
  }

  // step(hp, out, iteration?): with an iteration, a distributed step.
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    StepSettings h = read_hp(info, 0, nullptr);
    auto out = require_f64(info, 1, "out", kOutCount);
    const double iteration = distributed_iteration(info, 2);
    try {
      if (iteration >= 0) distribute_grads(b, channel_, iteration);
      b.step(h, out.Data());
    } catch (...) {
      rethrow_as_js(env);
    }
    return env.Undefined();
  }

  // readOutcome(out, iteration) → false when that step's outcome is no longer held. For a
  // backend whose step() returns before the device is done (CUDA): waits for the device.
  Napi::Value ReadOutcome(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    auto out = require_f64(info, 0, "out", kOutCount);
    int64_t iteration = require_int(info, 1, "iteration", 0, int64_t{1} << 53);
    bool ok = false;
    try {
      ok = b.read_outcome(iteration, out.Data());
    } catch (...) {
      rethrow_as_js(env);
    }
    return Napi::Boolean::New(env, ok);
  }

  // The step of stepAsync on a libuv thread. Completion never throws out of the addon: the
  // environment may be going away (a worker terminated or exiting, the process exiting), and
  // node-addon-api's default completion rethrows a failed napi call as a C++ exception that
  // nothing can catch there (std::terminate, the whole process aborts). See OnWorkComplete.
  class StepWorker : public Napi::AsyncWorker {
   public:
    StepWorker(OptimizerWrap* self, std::vector<double> hp, Napi::Float64Array out,
               Napi::Promise::Deferred deferred, double iteration)
        : Napi::AsyncWorker(self->Env(), "fused-optim:step"),
          self_(self), backend_(self->backend_), hp_(std::move(hp)), deferred_(deferred),
          channel_(self->channel_), iteration_(iteration) {
      self_ref_ = Napi::Persistent(self->Value());
      out_ref_ = Napi::Persistent(out);
    }
    void Execute() override {
      try {
        if (iteration_ >= 0) distribute_grads(*backend_, channel_, iteration_);
        backend_->step(StepSettings::unpack(hp_.data()), result_);
      } catch (const DeviceError& e) {
        code_ = e.code();
        error_ = e.what();
        failed_ = true;
        device_ = true;
      } catch (const dist::Error& e) {
        code_ = e.code();
        error_ = e.what();
        failed_ = true;
      } catch (const std::exception& e) {
        error_ = e.what();
        failed_ = true;
      } catch (...) {
        error_ = "unknown error in the step";
        failed_ = true;
      }
    }

    // Replaces node-addon-api's completion, which runs OnOK/OnError and, when a napi call in
    // them fails, throws a Napi::Error and then tries to throw it into JavaScript. While the
    // environment is being torn down every napi call that would run JavaScript fails
    // (napi_pending_exception for Node-API 8), so that second throw escapes the C callback and
    // aborts the process. NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS would drop such errors, but
    // for every Napi::Error in the addon; here only this completion is concerned: the native
    // state is settled first without any JavaScript (busy flag, a deferred dispose), then the
    // promise is settled; if that fails, the environment is going away and no one can observe
    // the promise: the error is handed to napi_throw once, and dropped if that fails too.
    void OnWorkComplete(Napi::Env env, napi_status status) override {
      self_->busy_ = false;
      const bool dispose = self_->dispose_pending_;
      backend_.reset();  // the arena now lives as long as the optimizer (or dispose frees it)
      try {
        Napi::HandleScope scope(env);
        if (dispose) self_->dispose_now(env);
        if (status != napi_cancelled) settle(env);
      } catch (const Napi::Error& e) {
        napi_throw(env, e.Value());
      } catch (...) {
      }
      Destroy();
    }

   private:
    void settle(Napi::Env env) {
      if (!failed_) {
        Napi::Float64Array out = out_ref_.Value();
        if (out.ElementLength() >= kOutCount) std::copy(result_, result_ + kOutCount, out.Data());
        deferred_.Resolve(env.Undefined());
        return;
      }
      Napi::Error err = Napi::Error::New(env, device_ ? error_ : "fused-optim: " + error_);
      if (!code_.empty() && !device_) err.Set("code", Napi::String::New(env, code_));
      if (device_) {
        auto* data = env.GetInstanceData<AddonData>();
        if (data && !data->cuda_error.IsEmpty()) {
          err = Napi::Error(env, data->cuda_error.New({Napi::String::New(env, error_),
                                                      Napi::String::New(env, code_)}));
        }
      }
      deferred_.Reject(err.Value());
    }
    OptimizerWrap* self_;
    std::shared_ptr<OptimizerBackend> backend_;
    std::vector<double> hp_;
    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference self_ref_;
    Napi::Reference<Napi::Float64Array> out_ref_;
    double result_[kOutCount] = {};
    bool failed_ = false;
    bool device_ = false;
    int channel_ = -1;
    double iteration_ = -1;
    std::string error_;
    std::string code_;
  };

  // stepAsync(hp, out, iteration?): Promise<void>; `out` is filled before it resolves.
  Napi::Value StepAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    std::vector<double> hp;
    read_hp(info, 0, &hp);
    auto out = require_f64(info, 1, "out", kOutCount);
    auto deferred = Napi::Promise::Deferred::New(env);
    const double iteration = distributed_iteration(info, 2);
    auto* worker = new StepWorker(this, std::move(hp), out, deferred, iteration);
    busy_ = true;
    worker->Queue();
    return deferred.Promise();
  }

  Napi::Value TensorSums(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    size_t n = b.layout().tensors();
    auto sq = require_f64(info, 0, "sq", n);
    auto ab = require_f64(info, 1, "abs", n);
    try {
      b.tensor_sums(sq.Data(), ab.Data());
    } catch (...) {
      rethrow_as_js(env);
    }
    return env.Undefined();
  }

  // readTrace(dst: Float64Array) → number of records written (TRACE_FIELDS doubles each).
  Napi::Value ReadTrace(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    auto dst = require_f64(info, 0, "dst", 0);
    int64_t max = static_cast<int64_t>(dst.ElementLength() / kTraceFields);
    int64_t n = 0;
    try {
      n = b.read_trace(dst.Data(), max);
    } catch (...) {
      rethrow_as_js(env);
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // writeSlot(slot, tensorIndex, src) / readSlot(slot, tensorIndex, dst): one tensor's range.
  void tensor_range(const Napi::CallbackInfo& info, int64_t& offset, int64_t& length) {
    const Layout& l = backend_->layout();
    int64_t t = require_int(info, 1, "index", 0, static_cast<int64_t>(l.tensors()) - 1);
    offset = l.offset[t];
    length = l.length[t];
  }

  Napi::Value WriteSlot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    int slot = require_slot(info, 0);
    int64_t off, len;
    tensor_range(info, off, len);
    auto src = require_f32(info, 2, "data");
    if (static_cast<int64_t>(src.ElementLength()) != len) {
      throw_range(env, "Expected data of length " + std::to_string(len));
    }
    try {
      b.write_slot(slot, off, src.Data(), len);
    } catch (...) {
      rethrow_as_js(env);
    }
    return env.Undefined();
  }

  Napi::Value ReadSlot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    int slot = require_slot(info, 0);
    int64_t off, len;
    tensor_range(info, off, len);
    auto dst = require_f32(info, 2, "out");
    if (static_cast<int64_t>(dst.ElementLength()) != len) {
      throw_range(env, "Expected out of length " + std::to_string(len));
    }
    try {
      b.read_slot(slot, off, dst.Data(), len);
    } catch (...) {
      rethrow_as_js(env);
    }
    return env.Undefined();
  }

  Napi::Value FillSlot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    int slot = require_slot(info, 0);
    float v = static_cast<float>(require_number(info, 1, "value"));
    try {
      b.fill_slot(slot, v);
    } catch (...) {
      rethrow_as_js(env);
    }
    return env.Undefined();
  }

  // lerpSlot(dst, src, weights: Float64Array of one weight per group)
  Napi::Value LerpSlot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    int dst = require_slot(info, 0);
    int src = require_slot(info, 1);
    auto w = require_f64(info, 2, "weights", static_cast<size_t>(b.groups()));
    for (int32_t g = 0; g < b.groups(); ++g) {
      if (!(w[g] >= -1e30 && w[g] <= 1e30)) throw_range(env, "Expected finite weights");
    }
    try {
      b.lerp_slot(dst, src, w.Data());
    } catch (...) {
      rethrow_as_js(env);
    }
    return env.Undefined();
  }

  // setCounters(iteration, applied) / counters() → [iteration, applied, traceDropped]
  Napi::Value SetCounters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    int64_t iteration = require_int(info, 0, "iteration", 0, int64_t{1} << 53);
    int64_t applied = require_int(info, 1, "applied", 0, int64_t{1} << 53);
    try {
      b.set_applied(applied);  // a device backend enqueues it on its stream
    } catch (...) {
      rethrow_as_js(env);
    }
    b.set_iteration(iteration);
    return env.Undefined();
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    auto out = Napi::Float64Array::New(env, 3);
    out[0] = static_cast<double>(b.iteration());
    try {
      out[1] = static_cast<double>(b.applied());  // waits for a device backend
    } catch (...) {
      rethrow_as_js(env);
    }
    out[2] = static_cast<double>(b.trace_dropped());
    return out;
  }

  // attachNccl(uniqueId: Uint8Array(128), rank, size): joins an NCCL communicator of `size`
  // ranks as `rank` (ncclCommInitRank on this arena's device; collective, it blocks until every
  // rank has called it). CUDA arenas only. Steps with reduce then all-reduce over it.
  Napi::Value AttachNccl(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw_type(env, "Expected a Uint8Array for uniqueId");
    }
    auto id = info[0].As<Napi::Uint8Array>();
    if (id.ElementLength() != 128) throw_range(env, "Expected a uniqueId of 128 bytes");
    const int size = static_cast<int>(require_int(info, 2, "size", 1, 1 << 20));
    const int rank = static_cast<int>(require_int(info, 1, "rank", 0, size - 1));
    try {
      b.attach_device_comm(id.Data(), rank, size);
    } catch (...) {
      rethrow_as_js(env);
    }
    return env.Undefined();
  }

  Napi::Value SetThreads(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    int threads = static_cast<int>(require_int(info, 0, "threads", 0, 256));
    if (auto* cpu = cpu_backend()) cpu->set_threads(threads);
    return env.Undefined();
  }

  // Calls nothing that runs JavaScript (it also runs from an async completion while the
  // environment is being torn down).
  void dispose_now(napi_env env) {
    dispose_pending_ = false;
    // A distributed optimizer tells the other ranks it is leaving (after any in-flight step's
    // collectives: a deferred dispose runs once that step is done); never throws.
    if (channel_ >= 0) dist::leave(channel_);
    channel_ = -1;
    int64_t still_accounted = 0;
    cpu::CpuOptimizer* cpu = cpu_backend();
    for (int s = 0; s < kSlotCount; ++s) {
      bool detached_here = false;
      BufferObjectHold* hold = nullptr;
      if (!buffers_[s].IsEmpty()) {
        napi_value v = nullptr;
        bool is_ab = false;
        if (napi_get_reference_value(env, buffers_[s], &v) == napi_ok && v != nullptr &&
            napi_is_arraybuffer(env, v, &is_ab) == napi_ok && is_ab) {
          hold = holds_[s];  // the object is alive, so its finalizer has not run
          bool detached = true;
          napi_is_detached_arraybuffer(env, v, &detached);
          if (!detached) detached_here = napi_detach_arraybuffer(env, v) == napi_ok;
        }
        buffers_[s].Reset();
      }
      holds_[s] = nullptr;
      if (!cpu || s >= cpu->slots() || !hold) continue;
      cpu::HostBlock& blk = *cpu->block(s);
      // Detached here and no other backing store over it (none was transferred away): nothing
      // in JavaScript reaches the block; give its pages back now.
      int64_t resident = detached_here && blk.js_stores == 1 ? blk.discard() : blk.bytes;
      hold->accounted = resident;
      still_accounted += resident;
    }
    if (backend_) {
      backend_.reset();
      adjust_external(env, still_accounted - external_bytes_);
      external_bytes_ = 0;
    }
  }

  // dispose(): idempotent; deferred until an in-flight async step ends.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (busy_) {
      dispose_pending_ = true;
    } else {
      dispose_now(info.Env());
    }
    return info.Env().Undefined();
  }

  Napi::Value Device(const Napi::CallbackInfo& info) {
    if (!backend_) return info.Env().Null();
    return Napi::String::New(info.Env(), backend_->device_name());
  }
  Napi::Value NativeBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(backend_ ? backend_->native_bytes() : 0));
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !backend_ && !busy_);
  }
  Napi::Value Busy(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), busy_);
  }
  Napi::Value OutcomeIsLazy(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), backend_ && backend_->outcome_is_lazy());
  }

  // Shared with an in-flight stepAsync, which keeps it (and so the arena) alive.
  std::shared_ptr<OptimizerBackend> backend_;
  Napi::Reference<Napi::ArrayBuffer> buffers_[kSlotCount];
  // The BufferObjectHold of buffers_[s]; valid while buffers_[s] still reaches its object.
  BufferObjectHold* holds_[kSlotCount] = {};
  int64_t external_bytes_ = 0;
  bool busy_ = false;
  bool dispose_pending_ = false;
  int channel_ = -1;  // the MPI channel of a distributed optimizer (dist/collectives.h), or -1
  AddonData* data_ = nullptr;
};

}  // namespace

Napi::Object init_optimizer(Napi::Env env, Napi::Object exports) {
  exports.Set("Optimizer", OptimizerWrap::Define(env));
  return exports;
}

}  // namespace fo::addon

// The Optimizer class: one arena (params, grads, states) on one device, stepped synchronously
// or on a libuv worker thread.
//
// Memory protocol (CPU): each slot is a 64-byte aligned HostBlock held by a shared_ptr. Its
// JavaScript ArrayBuffer (zero-copy views for params[i] / grads[i]) holds another reference
// through its finalizer hint, so memory outlives whichever of the two goes last. dispose()
// detaches every ArrayBuffer first (views become length 0: nothing in JS can reach the memory)
// and then frees the blocks at once.
#include <napi.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "../cpu/engine.h"
#include "../cuda/api.h"
#include "addon.h"
#include "require.h"
#include "test_backend.h"

namespace fo::addon {
namespace {

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
  //               stream?: 'shared' | 'own', streamPriority?: integer)
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
    try {
      spec.layout = Layout::packed(lens);
      if (device == "cpu") {
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
    auto* hint = new std::shared_ptr<cpu::HostBlock>(block);
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
        env, block->data, static_cast<size_t>(cpu->layout().total * 4),
        [](Napi::Env, void*, std::shared_ptr<cpu::HostBlock>* h) { delete h; }, hint);
    buffers_[slot] = Napi::Weak(ab);
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

  // step(hp, out)
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    OptimizerBackend& b = live(env);
    StepSettings h = read_hp(info, 0, nullptr);
    auto out = require_f64(info, 1, "out", kOutCount);
    try {
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

  class StepWorker : public Napi::AsyncWorker {
   public:
    StepWorker(OptimizerWrap* self, std::vector<double> hp, Napi::Float64Array out,
               Napi::Promise::Deferred deferred)
        : Napi::AsyncWorker(self->Env(), "fused-optim:step"),
          self_(self), hp_(std::move(hp)), deferred_(deferred) {
      self_ref_ = Napi::Persistent(self->Value());
      out_ref_ = Napi::Persistent(out);
    }
    void Execute() override {
      try {
        self_->backend_->step(StepSettings::unpack(hp_.data()), result_);
      } catch (const DeviceError& e) {
        code_ = e.code();
        SetError(e.what());
      } catch (const std::exception& e) {
        SetError(e.what());
      }
    }
    void OnOK() override {
      Napi::Float64Array out = out_ref_.Value();
      if (out.ElementLength() >= kOutCount) std::copy(result_, result_ + kOutCount, out.Data());
      finish();
      deferred_.Resolve(Env().Undefined());
    }
    void OnError(const Napi::Error& e) override {
      finish();
      Napi::Error err = e;
      if (!code_.empty()) {
        auto* data = Env().GetInstanceData<AddonData>();
        if (data && !data->cuda_error.IsEmpty()) {
          err = Napi::Error(Env(), data->cuda_error.New({Napi::String::New(Env(), e.Message()),
                                                          Napi::String::New(Env(), code_)}));
        }
      }
      deferred_.Reject(err.Value());
    }

   private:
    void finish() {
      self_->busy_ = false;
      if (self_->dispose_pending_) self_->dispose_now(Env());
    }
    OptimizerWrap* self_;
    std::vector<double> hp_;
    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference self_ref_;
    Napi::Reference<Napi::Float64Array> out_ref_;
    double result_[kOutCount] = {};
    std::string code_;
  };

  // stepAsync(hp, out): Promise<void>; `out` is filled before it resolves.
  Napi::Value StepAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    std::vector<double> hp;
    read_hp(info, 0, &hp);
    auto out = require_f64(info, 1, "out", kOutCount);
    auto deferred = Napi::Promise::Deferred::New(env);
    auto* worker = new StepWorker(this, std::move(hp), out, deferred);
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

  Napi::Value SetThreads(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    int threads = static_cast<int>(require_int(info, 0, "threads", 0, 256));
    if (auto* cpu = cpu_backend()) cpu->set_threads(threads);
    return env.Undefined();
  }

  void dispose_now(Napi::Env env) {
    dispose_pending_ = false;
    for (auto& ref : buffers_) {
      if (!ref.IsEmpty()) {
        Napi::Value v = ref.Value();
        if (!v.IsEmpty() && v.IsArrayBuffer()) {
          Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
          if (!ab.IsDetached()) ab.Detach();
        }
        ref.Reset();
      }
    }
    if (backend_) {
      // Free the host memory now, not when the detached ArrayBuffers are collected.
      if (auto* cpu = cpu_backend()) {
        for (int s = 0; s < cpu->slots(); ++s) {
          if (auto blk = cpu->block(s)) blk->release();
        }
      }
      backend_.reset();
      Napi::MemoryManagement::AdjustExternalMemory(env, -external_bytes_);
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

  std::unique_ptr<OptimizerBackend> backend_;
  Napi::Reference<Napi::ArrayBuffer> buffers_[kSlotCount];
  int64_t external_bytes_ = 0;
  bool busy_ = false;
  bool dispose_pending_ = false;
  AddonData* data_ = nullptr;
};

}  // namespace

Napi::Object init_optimizer(Napi::Env env, Napi::Object exports) {
  exports.Set("Optimizer", OptimizerWrap::Define(env));
  return exports;
}

}  // namespace fo::addon

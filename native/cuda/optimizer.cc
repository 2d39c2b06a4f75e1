// CUDA backend, host side: the device probe, the optimizer arena in device memory, pinned
// staging for uploads and downloads, and the benchmark helpers. Kernels are in kernels.cu.
//
// Memory of one optimizer (docs/gpu.md, docs/design.md "Memory model"): one device buffer per
// slot (params, grads, the rule's state slots), laid out by fo::Layout (64-byte aligned segments),
// plus the chunk table, per-chunk partials, per-tensor sums, the device state (applied-step
// count, decisions), the trace ring, and in pinned host memory a ring of step outcomes (written
// by the finalize kernel through the mapping) with one CUDA event per outcome slot, and two
// staging buffers. Everything is allocated at construction; a step allocates nothing and never
// waits for the device. Work goes to the device's shared stream, or to a stream of the
// optimizer's own (StreamOptions).
//
// Data parallel (fused-optim/distributed): with an NCCL communicator attached
// (attach_device_comm), allreduce_grads_device enqueues ncclAllReduce(sum) of the gradient slot
// in place on the same stream, before the step's kernels; the 1/size of the average is in the
// step's gradScale. libnccl is loaded at run time (../dist/nccl.h).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/lazy_outcomes.h"
#include "../dist/nccl.h"
#include "api.h"
#include "cuda_check.h"
#include "kernels.h"

namespace fo::cuda {

// Bit of the hyperparameter flags, benchmarks only (bench/gpu/check.mjs): a one-pass step
// without the reduction, the finalize kernel and the trace (norms are not computed, the
// applied-step count does not move). It measures what the norms and the trace cost.
constexpr uint32_t kFlagBenchNoReduce = 1u << 8;

std::string describe(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

void throw_cuda(cudaError_t e, const char* call, const char* file, int line) {
  // A failed call leaves its error as the runtime's "last error" (for errors that are not
  // sticky): clear it, or the next launch check would report it again.
  cudaGetLastError();
  const char* short_file = std::strstr(file, "native/");
  std::string msg = std::string("fused-optim: CUDA error ") + describe(e) + " in " + call +
                    " at " + (short_file ? short_file : file) + ":" + std::to_string(line);
  throw DeviceError(cudaGetErrorName(e), msg);
}

cudaStream_t device_stream(int device) {
  static std::mutex mu;
  static std::map<int, cudaStream_t> streams;
  std::lock_guard<std::mutex> lock(mu);
  auto it = streams.find(device);
  if (it != streams.end()) return it->second;
  use_device(device);
  cudaStream_t s = nullptr;
  FO_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  streams[device] = s;
  return s;
}

namespace {

std::string version_string(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string& probe_code() {
  static std::string code = "cudaErrorNoDevice";
  return code;
}

// Smallest compute capability the binary has code for (cuda.cmake: sm_80 SASS and up).
constexpr int kMinMajor = 8;

Probe run_probe() {
  Probe q;
  q.compiled = true;
  int rt = 0;
  if (cudaRuntimeGetVersion(&rt) == cudaSuccess) q.runtime_version = version_string(rt);
  int drv = 0;
  if (cudaDriverGetVersion(&drv) == cudaSuccess && drv > 0) q.driver_version = version_string(drv);
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    probe_code() = cudaGetErrorName(e);
    q.reason = "no CUDA device: " + describe(e);
    if (e == cudaErrorInsufficientDriver) {
      q.reason += drv > 0 ? "; the NVIDIA driver (CUDA " + q.driver_version +
                                ") is older than this build's CUDA runtime " + q.runtime_version
                          : "; no NVIDIA driver is loaded on this machine";
    }
    return q;
  }
  if (n == 0) {
    q.reason = "no CUDA device: cudaGetDeviceCount found none";
    return q;
  }
  int usable = 0;
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
      cudaGetLastError();
      q.devices.push_back("device " + std::to_string(d) + " (properties unavailable)");
      continue;
    }
    char gib[32];
    std::snprintf(gib, sizeof gib, "%.0f GiB", static_cast<double>(p.totalGlobalMem) / (1 << 30));
    std::string s = std::string(p.name) + " (sm_" + std::to_string(p.major) +
                    std::to_string(p.minor) + ", " + gib + ")";
    if (p.major < kMinMajor) {
      s += " [unsupported: this build needs sm_80 or newer]";
    } else {
      ++usable;
    }
    q.devices.push_back(s);
  }
  if (usable == 0) {
    probe_code() = "cudaErrorNoKernelImageForDevice";
    q.reason = "no CUDA device this build supports (sm_80 or newer): " + q.devices[0];
    return q;
  }
  q.available = true;
  return q;
}

// Two pinned buffers through which every host copy goes. Uploads are packed one after
// another into the current buffer and copied asynchronously; when it is full the other one is
// used, after waiting for its last copies. Downloads alternate whole buffers and wait.
class Stager {
 public:
  static constexpr size_t kBytes = size_t{8} << 20;

  Stager() : buf_{PinnedBuffer(kBytes), PinnedBuffer(kBytes)} {}

  void upload(cudaStream_t s, void* dev, const void* src, size_t bytes) {
    auto* d = static_cast<char*>(dev);
    auto* h = static_cast<const char*>(src);
    while (bytes > 0) {
      if (used_ == kBytes) next_buffer(s);
      const size_t n = std::min(bytes, kBytes - used_);
      char* stage = buf_[cur_].as<char>() + used_;
      std::memcpy(stage, h, n);
      FO_CUDA(cudaMemcpyAsync(d, stage, n, cudaMemcpyHostToDevice, s));
      used_ += n;
      d += n;
      h += n;
      bytes -= n;
    }
  }

  void download(cudaStream_t s, void* dst, const void* dev, size_t bytes) {
    auto* h = static_cast<char*>(dst);
    auto* d = static_cast<const char*>(dev);
    FO_CUDA(cudaEventRecord(done_[cur_].get(), s));  // covers uploads still in flight
    size_t off[2] = {0, 0}, len[2] = {0, 0};
    int b = cur_ ^ 1;
    for (size_t at = 0; at < bytes;) {
      const size_t n = std::min(kBytes, bytes - at);
      FO_CUDA(cudaEventSynchronize(done_[b].get()));
      if (len[b] > 0) std::memcpy(h + off[b], buf_[b].as<char>(), len[b]);
      FO_CUDA(cudaMemcpyAsync(buf_[b].as<char>(), d + at, n, cudaMemcpyDeviceToHost, s));
      FO_CUDA(cudaEventRecord(done_[b].get(), s));
      off[b] = at;
      len[b] = n;
      at += n;
      b ^= 1;
    }
    for (int k = 0; k < 2; ++k, b ^= 1) {
      FO_CUDA(cudaEventSynchronize(done_[b].get()));
      if (len[b] > 0) std::memcpy(h + off[b], buf_[b].as<char>(), len[b]);
    }
    // Everything enqueued before the last download is done: both buffers are free.
    cur_ = 0;
    used_ = 0;
  }

  size_t bytes() const { return 2 * kBytes; }

 private:
  void next_buffer(cudaStream_t s) {
    FO_CUDA(cudaEventRecord(done_[cur_].get(), s));
    cur_ ^= 1;
    FO_CUDA(cudaEventSynchronize(done_[cur_].get()));
    used_ = 0;
  }

  PinnedBuffer buf_[2];
  Event done_[2];
  int cur_ = 0;
  size_t used_ = 0;
};

// Outcomes of the last kOutcomeRing steps stay readable (StepInfo getters read them lazily).
constexpr int64_t kOutcomeRing = 1024;

// A stream created for one optimizer (StreamOptions::own), destroyed with it.
cudaStream_t create_own_stream(int priority) {
  int least = 0, greatest = 0;
  FO_CUDA(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  // Lower numbers are higher priorities: greatest <= priority <= least.
  priority = std::min(least, std::max(greatest, priority));
  cudaStream_t s = nullptr;
  FO_CUDA(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, priority));
  return s;
}

class CudaOptimizer final : public OptimizerBackend {
 public:
  CudaOptimizer(ArenaSpec spec, int device, const StreamOptions& stream)
      : OptimizerBackend(std::move(spec)), device_(device), outcomes_(kOutcomeRing) {
    name_ = "cuda:" + std::to_string(device);
    use_device(device_);
    if (stream.own) {
      stream_ = create_own_stream(stream.priority);
      own_stream_ = true;
    } else {
      stream_ = device_stream(device_);
    }
    try {
      allocate();
    } catch (...) {
      // Let queued copies and memsets into what was allocated finish before the owners free it.
      cudaStreamSynchronize(stream_);
      if (own_stream_) cudaStreamDestroy(stream_);
      cudaGetLastError();
      throw;
    }
  }

  ~CudaOptimizer() override {
    // Nothing may still read or write this memory when it is freed (the members are freed after
    // this body); errors are ignored here (at process exit the runtime may be shutting down).
    const bool device_ok = cudaSetDevice(device_) == cudaSuccess;
    // A communicator in error (a failed collective or step): abort it first, which also ends
    // its kernels still waiting for peers, so that waiting for the stream below cannot hang.
    if (comm_ && device_ok) {
      const dist::nccl::Api* api = dist::nccl::api();
      dist::nccl::Result async = dist::nccl::kSuccess;
      if (comm_failed_ || api->comm_get_async_error(comm_, &async) != dist::nccl::kSuccess ||
          (async != dist::nccl::kSuccess && async != dist::nccl::kInProgress)) {
        api->comm_abort(comm_);
        comm_ = nullptr;
      }
    }
    if (device_ok && stream_) {
      if (own_stream_) {
        cudaStreamSynchronize(stream_);
        cudaStreamDestroy(stream_);
      } else {
        // The shared stream also carries other optimizers' work: wait only for ours.
        cudaEvent_t e = nullptr;
        if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) == cudaSuccess) {
          if (cudaEventRecord(e, stream_) == cudaSuccess) cudaEventSynchronize(e);
          cudaEventDestroy(e);
        } else {
          cudaStreamSynchronize(stream_);
        }
      }
    }
    // Our work on the stream is done: the communicator has nothing in flight from this arena.
    if (comm_ && device_ok) dist::nccl::api()->comm_destroy(comm_);
    comm_ = nullptr;
    cudaGetLastError();
  }

  const char* device_name() const override { return name_.c_str(); }
  bool outcome_is_lazy() const override { return true; }

  void step(const StepSettings& h, double* out) override {
    if (!comm_) return step_impl(h, out);
    try {
      step_impl(h, out);
    } catch (...) {
      comm_failed_ = true;  // the ranks' steps may now differ: dispose aborts the communicator
      throw;
    }
  }

  void attach_device_comm(const void* unique_id, int rank, int size) override {
    const dist::nccl::Api& api = dist::nccl::require();
    if (comm_) throw std::logic_error("this CUDA arena already has an NCCL communicator");
    use_device(device_);
    dist::nccl::UniqueId id;
    std::memcpy(id.internal, unique_id, sizeof id.internal);
    dist::nccl::Comm c = nullptr;
    // Blocks until every rank has called it (NCCL's own bootstrap, over the sockets named by
    // the id); it binds the communicator to the current device, set above.
    const dist::nccl::Result r = api.comm_init_rank(&c, size, id, rank);
    if (r != dist::nccl::kSuccess) {
      if (c) api.comm_abort(c);
      dist::nccl::throw_error(r, "ncclCommInitRank", nullptr);
    }
    comm_ = c;
  }

  bool has_device_comm() const override { return comm_ != nullptr; }

  void allreduce_grads_device() override {
    if (!comm_) throw std::logic_error("this CUDA arena has no NCCL communicator");
    const dist::nccl::Api& api = dist::nccl::require();
    use_device(device_);
    // An earlier collective that failed on the device (a peer gone, a network error) is
    // reported here instead of by a hang or a silently wrong sum.
    dist::nccl::Result async = dist::nccl::kSuccess;
    dist::nccl::Result r = api.comm_get_async_error(comm_, &async);
    if (r != dist::nccl::kSuccess) {
      comm_failed_ = true;
      dist::nccl::throw_error(r, "ncclCommGetAsyncError", comm_);
    }
    if (async != dist::nccl::kSuccess && async != dist::nccl::kInProgress) {
      comm_failed_ = true;
      dist::nccl::throw_error(async, "an earlier NCCL collective (ncclCommGetAsyncError)", comm_);
    }
    // In place, on this arena's stream: after the gradient uploads enqueued before it, before
    // the step's kernels enqueued after it. The padding between segments is summed too (zero
    // on every rank, as on the CPU path).
    r = api.all_reduce(slot_ptr(kGrads), slot_ptr(kGrads), static_cast<size_t>(layout_.total),
                       dist::nccl::kFloat32, dist::nccl::kSum, comm_, stream_);
    if (r != dist::nccl::kSuccess) {
      comm_failed_ = true;
      dist::nccl::throw_error(r, "ncclAllReduce", comm_);
    }
  }

 private:
  void step_impl(const StepSettings& h, double* out) {
    use_device(device_);
    // A trust-ratio rule always decides before it updates (reduce, finalize, then its passes).
    const bool trust = (rule_->norms & rules::kNeedsTrustRatio) != 0;
    const bool two_pass = h.two_pass() || trust;
    const bool no_reduce = !two_pass && (h.flags & kFlagBenchNoReduce) != 0;
    const int64_t t_guess = outcomes_.next_t();
    // This step's group tables: the hyperparameters and the host's constants for t_guess,
    // uploaded in stream order (the previous step's kernels have read theirs by then).
    const int words = rule_->consts_bytes / 4;
    host_consts_.resize(static_cast<size_t>(groups_) * words);
    for (int32_t g = 0; g < groups_; ++g) {
      rule_->make(h.group(g), t_guess, host_consts_.data() + static_cast<size_t>(g) * words);
    }
    stager_->upload(stream_, group_hp_.as(), h.group_hp, group_hp_.bytes());
    stager_->upload(stream_, consts_.as(), host_consts_.data(), host_consts_.size() * 4);
    PassArgs a{};
    a.p = slot_ptr(kParams);
    a.g = slot_ptr(kGrads);
    for (int k = 0; k < rule_->slots; ++k) a.s[k] = slot_ptr(kFirstState + k);
    a.chunks = chunks_.as<Chunk>();
    a.nchunks = static_cast<int64_t>(layout_.chunks.size());
    a.partials = partials_.as<Partial>();
    a.state = state_.as<DeviceState>();
    a.groups.tensor_group = tensor_group_dev_.as<int32_t>();
    a.groups.hp = group_hp_.as<double>();
    a.groups.host_consts = consts_.as<uint32_t>();
    a.groups.decided_consts = consts_.as<uint32_t>() + static_cast<size_t>(groups_) * words;
    a.groups.host_t = t_guess;
    a.groups.groups = groups_;
    a.groups.consts_words = words;
    a.scale = static_cast<float>(h.grad_scale);
    a.two_pass = 0;
    const RuleId rule = rule_->id;
    const int r = static_cast<int>(rule);
    FinalizeArgs f{};
    f.partials = a.partials;
    f.first_chunk = first_chunk_.as<int32_t>();
    f.items = items_.as<FoldItem>();
    f.nitems = nitems_;
    f.ntensors = static_cast<int32_t>(layout_.tensors());
    f.tensor_sq = tensor_sums_.as<double>();
    f.tensor_abs = f.tensor_sq + layout_.tensors();
    f.state = a.state;
    f.trace = trace_capacity_ > 0 ? trace_.as<double>() : nullptr;
    f.trace_capacity = trace_capacity_;
    f.iteration = trace_written_;  // the ring position
    const int64_t slot = outcomes_.slot(iteration_);
    f.outcome = outcome_dev_ + slot * kOutCount;
    f.groups = a.groups;
    f.max_grad_norm = h.max_grad_norm;
    f.clipping = h.clipping() ? 1 : 0;
    f.skip_non_finite = h.skip_non_finite() ? 1 : 0;
    f.two_pass = two_pass ? 1 : 0;

    // The slot's event is recorded right after finalize has written the outcome: reading it
    // waits for this step's reduction only, not for its update pass (two-pass) nor for any
    // later step.
    Event* done = no_reduce ? nullptr : slot_event(slot);
    if (!two_pass) {
      launch_update(rule, !no_reduce, a, cfg_.grid_update[r][no_reduce ? 0 : 1], stream_);
      if (!no_reduce) {
        launch_finalize(rule, f, stream_);
        FO_CUDA(cudaEventRecord(done->get(), stream_));
      }
    } else {
      launch_reduce(a, cfg_.grid_reduce, stream_);
      launch_finalize(rule, f, stream_);
      FO_CUDA(cudaEventRecord(done->get(), stream_));
      a.two_pass = 1;
      if (trust) {
        launch_trust(rule, a, trust_partials_.as<Partial>(), first_chunk_.as<int32_t>(),
                     static_cast<int32_t>(layout_.tensors()), ratio_.as<float>(),
                     cfg_.grid_reduce, stream_);
      } else {
        launch_update(rule, false, a, cfg_.grid_update[r][0], stream_);
      }
    }

    outcomes_.enqueued(iteration_, !no_reduce);
    if (!no_reduce) {
      if (trace_capacity_ > 0) {
        if (trace_written_ - trace_read_ >= trace_capacity_) {  // ring full: the oldest is lost
          ++trace_read_;
          ++trace_dropped_;
        }
        ++trace_written_;
      }
    }
    ++iteration_;
    if (out) std::fill(out, out + kOutCount, std::numeric_limits<double>::quiet_NaN());
  }

 public:
  bool read_outcome(int64_t iteration, double* out) override {
    const int64_t slot = outcomes_.holding(iteration, iteration_);
    if (slot < 0) return false;
    use_device(device_);
    FO_CUDA(cudaEventSynchronize(slot_event(slot)->get()));
    const volatile double* src = outcome_host_.as<double>() + slot * kOutCount;
    for (int i = 0; i < kOutCount; ++i) out[i] = src[i];
    // The device's applied count after that step: corrects the host's guess for the next one.
    outcomes_.read(slot, static_cast<int64_t>(out[kOutApplied]));
    return true;
  }

  void set_iteration(int64_t i) override {
    outcomes_.forget();
    iteration_ = i;
  }

  int64_t applied() const override {
    auto* self = const_cast<CudaOptimizer*>(this);
    use_device(device_);
    int64_t a = 0;
    // The download waits for everything enqueued on the stream: the count is exact.
    self->stager_->download(stream_, &a, &state_.as<DeviceState>()->applied, sizeof a);
    self->outcomes_.applied_is(a);
    return a;
  }

  void set_applied(int64_t a) override {
    use_device(device_);
    launch_set_applied(state_.as<DeviceState>(), a, stream_);
    outcomes_.applied_is(a);
    applied_ = a;
  }

  void tensor_sums(double* sq, double* abs) override {
    use_device(device_);
    const size_t n = layout_.tensors();
    if (n == 0) return;
    stager_->download(stream_, sq, tensor_sums_.as<double>(), n * sizeof(double));
    stager_->download(stream_, abs, tensor_sums_.as<double>() + n, n * sizeof(double));
  }

  float* host_slot(int) override { return nullptr; }

  void write_slot(int slot, int64_t offset, const float* src, int64_t n) override {
    if (n <= 0) return;
    use_device(device_);
    stager_->upload(stream_, slot_ptr(slot) + offset, src, static_cast<size_t>(n) * 4);
  }

  void read_slot(int slot, int64_t offset, float* dst, int64_t n) override {
    if (n <= 0) return;
    use_device(device_);
    stager_->download(stream_, dst, slot_ptr(slot) + offset, static_cast<size_t>(n) * 4);
  }

  void fill_slot(int slot, float value) override {
    use_device(device_);
    float* p = slot_ptr(slot);
    if (!p) return;
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    if (bits == 0) {
      FO_CUDA(cudaMemsetAsync(p, 0, slots_[slot].bytes(), stream_));
    } else {
      launch_fill(p, layout_.total, value, stream_);
    }
  }

  void lerp_slot(int dst, int src, const double* w) override {
    use_device(device_);
    std::vector<float> wf(static_cast<size_t>(groups_));
    for (int32_t g = 0; g < groups_; ++g) wf[static_cast<size_t>(g)] = static_cast<float>(w[g]);
    stager_->upload(stream_, lerp_w_.as(), wf.data(), wf.size() * sizeof(float));
    launch_lerp(slot_ptr(dst), slot_ptr(src), chunks_.as<Chunk>(),
                static_cast<int64_t>(layout_.chunks.size()), tensor_group_dev_.as<int32_t>(),
                lerp_w_.as<float>(), stream_);
  }
  int64_t read_trace(double* dst, int64_t max) override {
    const int64_t n = std::min(max, trace_written_ - trace_read_);
    if (n <= 0) return 0;
    use_device(device_);
    const int64_t r = trace_read_ % trace_capacity_;
    const int64_t first = std::min(n, trace_capacity_ - r);
    const double* ring = trace_.as<double>();
    stager_->download(stream_, dst, ring + r * kTraceFields,
                      static_cast<size_t>(first * kTraceFields) * sizeof(double));
    if (n > first) {
      stager_->download(stream_, dst + first * kTraceFields, ring,
                        static_cast<size_t>((n - first) * kTraceFields) * sizeof(double));
    }
    trace_read_ += n;
    return n;
  }

  int64_t native_bytes() const override {
    int64_t b = 0;
    for (const auto& s : slots_) b += static_cast<int64_t>(s.bytes());
    for (const DeviceBuffer* d : {&chunks_, &first_chunk_, &items_, &partials_, &tensor_sums_,
                                  &state_, &trace_, &tensor_group_dev_, &group_hp_, &consts_, &lerp_w_,
                                  &trust_partials_, &ratio_}) {
      b += static_cast<int64_t>(d->bytes());
    }
    b += static_cast<int64_t>(outcome_host_.bytes());
    if (stager_) b += static_cast<int64_t>(stager_->bytes());
    return b;
  }

 private:
  float* slot_ptr(int slot) const {
    return slot >= 0 && slot < slots() ? slots_[slot].as<float>() : nullptr;
  }

  // The event recorded after the step whose outcome is in `slot`.
  Event* slot_event(int64_t slot) { return &slot_done_[static_cast<size_t>(slot)]; }

  void allocate() {
    cfg_ = pass_config(device_);
    // At least one aligned segment, so an empty arena still has valid pointers.
    const size_t slot_bytes = static_cast<size_t>(std::max<int64_t>(layout_.total, 16)) * 4;
    for (int s = 0; s < slots(); ++s) {
      slots_[s] = DeviceBuffer(slot_bytes);
      FO_CUDA(cudaMemsetAsync(slots_[s].as(), 0, slot_bytes, stream_));
    }

    const std::vector<Chunk>& chunks = layout_.chunks;
    for (const Chunk& c : chunks) {
      // The kernels rely on it for their float4 accesses (Layout aligns every segment).
      if (c.begin % 4 != 0) throw std::logic_error("fused-optim: unaligned chunk in the layout");
    }
    chunks_ = DeviceBuffer(chunks.size() * sizeof(Chunk));
    first_chunk_ = DeviceBuffer(layout_.first_chunk.size() * sizeof(int32_t));
    std::vector<FoldItem> items = fold_items();
    nitems_ = static_cast<int32_t>(items.size());
    items_ = DeviceBuffer(items.size() * sizeof(FoldItem));
    partials_ = DeviceBuffer(chunks.size() * sizeof(Partial));
    tensor_sums_ = DeviceBuffer(2 * layout_.tensors() * sizeof(double));
    state_ = DeviceBuffer(sizeof(DeviceState));
    tensor_group_dev_ = DeviceBuffer(tensor_group_.size() * sizeof(int32_t));
    group_hp_ = DeviceBuffer(static_cast<size_t>(groups_) * kHpGroupStride * sizeof(double));
    // Host constants (this step's guess), then the constants finalize decides (two passes).
    consts_ = DeviceBuffer(2 * static_cast<size_t>(groups_) * rule_->consts_bytes + 16);
    lerp_w_ = DeviceBuffer(static_cast<size_t>(groups_) * sizeof(float));
    if ((rule_->norms & rules::kNeedsTrustRatio) != 0) {
      trust_partials_ = DeviceBuffer(chunks.size() * sizeof(Partial));
      ratio_ = DeviceBuffer(std::max<size_t>(layout_.tensors(), 1) * sizeof(float));
    }
    trace_ = DeviceBuffer(static_cast<size_t>(trace_capacity_ * kTraceFields) * sizeof(double));
    outcome_host_ = PinnedBuffer(static_cast<size_t>(kOutcomeRing * kOutCount) * sizeof(double));
    outcome_dev_ = outcome_host_.device_ptr<double>();
    // One event per slot, created here so that a step allocates nothing (timing disabled:
    // recording and waiting on them is cheap).
    slot_done_.reserve(static_cast<size_t>(kOutcomeRing));
    for (int64_t i = 0; i < kOutcomeRing; ++i) slot_done_.emplace_back(false);
    stager_ = std::make_unique<Stager>();

    // The tables are uploaded from pageable memory: cudaMemcpyAsync has staged them by the time
    // it returns, and the stream is synchronised below anyway.
    auto put = [&](const DeviceBuffer& d, const void* src) {
      if (d.bytes() > 0) {
        FO_CUDA(cudaMemcpyAsync(d.as(), src, d.bytes(), cudaMemcpyHostToDevice, stream_));
      }
    };
    put(chunks_, chunks.data());
    put(first_chunk_, layout_.first_chunk.data());
    put(items_, items.data());
    put(tensor_group_dev_, tensor_group_.data());
    FO_CUDA(cudaMemsetAsync(state_.as(), 0, state_.bytes(), stream_));
    if (tensor_sums_.bytes() > 0) {
      FO_CUDA(cudaMemsetAsync(tensor_sums_.as(), 0, tensor_sums_.bytes(), stream_));
    }
    FO_CUDA(cudaStreamSynchronize(stream_));
  }

  // Finalize blocks: a tensor with many chunks gets a block, small ones share one (a warp each).
  std::vector<FoldItem> fold_items() const {
    std::vector<FoldItem> items;
    FoldItem small{0, 0};
    for (size_t t = 0; t < layout_.tensors(); ++t) {
      const int32_t nc = layout_.first_chunk[t + 1] - layout_.first_chunk[t];
      if (nc > kSmallTensorChunks) {
        if (small.count > 0) items.push_back(small);
        small = FoldItem{static_cast<int32_t>(t + 1), 0};
        items.push_back(FoldItem{static_cast<int32_t>(t), -1});
        continue;
      }
      if (small.count == 0) small.first = static_cast<int32_t>(t);
      if (++small.count == kFoldWarps) {
        items.push_back(small);
        small = FoldItem{static_cast<int32_t>(t + 1), 0};
      }
    }
    // Always at least one block: it is the one that decides and records the step.
    if (small.count > 0 || items.empty()) items.push_back(small);
    return items;
  }

  int device_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  bool own_stream_ = false;           // created for this optimizer: destroyed with it
  PassConfig cfg_{};
  DeviceBuffer slots_[kSlotCount];
  DeviceBuffer chunks_, first_chunk_, items_, partials_, tensor_sums_, state_, trace_;
  DeviceBuffer tensor_group_dev_, group_hp_, consts_, lerp_w_, trust_partials_, ratio_;
  std::vector<uint32_t> host_consts_;   // this step's host constants, before upload
  int32_t nitems_ = 0;
  PinnedBuffer outcome_host_;         // kOutcomeRing outcomes, written by finalize (mapped)
  double* outcome_dev_ = nullptr;
  LazyOutcomes outcomes_;             // which step each slot holds; the applied-count guess
  std::vector<Event> slot_done_;      // per slot: recorded after that step's finalize
  std::unique_ptr<Stager> stager_;
  int64_t trace_written_ = 0;
  int64_t trace_read_ = 0;
  dist::nccl::Comm comm_ = nullptr;  // NCCL communicator (attach_device_comm), or null
  bool comm_failed_ = false;         // a collective or a step failed: abort, not destroy
};

}  // namespace

const Probe& probe() {
  static const Probe p = run_probe();
  return p;
}

namespace {

// Throws a DeviceError saying why `device` cannot be used, before any other CUDA call.
void require_device(int device) {
  const Probe& p = probe();
  if (!p.available) {
    throw DeviceError(probe_code(), "fused-optim: CUDA is unavailable: " + p.reason);
  }
  if (device < 0 || device >= static_cast<int>(p.devices.size())) {
    throw DeviceError("cudaErrorInvalidDevice",
                      "fused-optim: no CUDA device " + std::to_string(device) + " (" +
                          std::to_string(p.devices.size()) + " found)");
  }
}

}  // namespace

std::unique_ptr<OptimizerBackend> make_optimizer(ArenaSpec spec, int device,
                                                 const StreamOptions& stream) {
  require_device(device);
  return std::make_unique<CudaOptimizer>(std::move(spec), device, stream);
}

namespace bench {

std::vector<double> copy_times_ms(int device, int64_t bytes, int iters) {
  require_device(device);
  use_device(device);
  cudaStream_t s = device_stream(device);
  DeviceBuffer src(static_cast<size_t>(bytes)), dst(static_cast<size_t>(bytes));
  // Never time on zeros (a compressing memory system could cheat).
  launch_fill(src.as<float>(), bytes / 4, 1.25f, s);
  for (int i = 0; i < 3; ++i) {
    FO_CUDA(cudaMemcpyAsync(dst.as(), src.as(), src.bytes(), cudaMemcpyDeviceToDevice, s));
  }
  std::vector<Event> ev;
  ev.reserve(static_cast<size_t>(iters) + 1);
  for (int i = 0; i <= iters; ++i) ev.emplace_back(true);
  FO_CUDA(cudaEventRecord(ev[0].get(), s));
  for (int i = 0; i < iters; ++i) {
    FO_CUDA(cudaMemcpyAsync(dst.as(), src.as(), src.bytes(), cudaMemcpyDeviceToDevice, s));
    FO_CUDA(cudaEventRecord(ev[static_cast<size_t>(i) + 1].get(), s));
  }
  FO_CUDA(cudaEventSynchronize(ev.back().get()));
  std::vector<double> ms(static_cast<size_t>(iters));
  for (int i = 0; i < iters; ++i) {
    float t = 0;
    FO_CUDA(cudaEventElapsedTime(&t, ev[i].get(), ev[static_cast<size_t>(i) + 1].get()));
    ms[static_cast<size_t>(i)] = t;
  }
  return ms;
}

std::vector<double> time_calls(int device, int iters, const std::function<void()>& fn) {
  require_device(device);
  use_device(device);
  cudaStream_t s = device_stream(device);
  std::vector<Event> ev;
  ev.reserve(static_cast<size_t>(iters) + 1);
  for (int i = 0; i <= iters; ++i) ev.emplace_back(true);
  FO_CUDA(cudaEventRecord(ev[0].get(), s));
  for (int i = 0; i < iters; ++i) {
    fn();
    use_device(device);
    FO_CUDA(cudaEventRecord(ev[static_cast<size_t>(i) + 1].get(), s));
  }
  FO_CUDA(cudaEventSynchronize(ev.back().get()));
  std::vector<double> ms(static_cast<size_t>(iters));
  for (int i = 0; i < iters; ++i) {
    float t = 0;
    FO_CUDA(cudaEventElapsedTime(&t, ev[i].get(), ev[static_cast<size_t>(i) + 1].get()));
    ms[static_cast<size_t>(i)] = t;
  }
  return ms;
}

}  // namespace bench

}  // namespace fo::cuda

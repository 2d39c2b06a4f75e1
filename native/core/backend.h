// The contract every backend (CPU, CUDA) honours for one optimizer's arena. The addon steps,
// reads and writes every backend through this interface, the optimizer classes and the
// functional steps (adamStep, sgdStep: a CPU arena borrowing the caller's arrays) alike. It
// creates backends with the factories of cpu/engine.h and cuda/api.h, and reaches one thing
// beyond the interface: the CPU backend's host blocks, which back the zero-copy views.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "layout.h"
#include "rules/registry.h"
#include "step_args.h"

namespace fo {

// Slots of the arena: params, grads, then the rule's state slots (RuleInfo::slot_names).
enum Slot : int { kParams = 0, kGrads = 1, kFirstState = 2, kSlotCount = 2 + rules::kMaxSlots };

// What an optimizer is made of, besides its memory.
struct ArenaSpec {
  const RuleInfo* rule = nullptr;
  Layout layout;
  std::vector<int32_t> tensor_group;   // group index of each tensor
  int32_t groups = 1;
  int64_t trace_capacity = 0;
};

class OptimizerBackend {
 public:
  virtual ~OptimizerBackend() = default;

  virtual const char* device_name() const = 0;
  const Layout& layout() const { return layout_; }
  const RuleInfo& rule() const { return *rule_; }
  int32_t groups() const { return groups_; }
  const std::vector<int32_t>& tensor_group() const { return tensor_group_; }
  int slots() const { return 2 + rule_->slots; }

  // One step. Writes kOutCount values to `out`, unless the outcome is lazy (outcome_is_lazy()):
  // then `out` is filled with NaN and read_outcome() fetches it. `s.groups` equals groups().
  virtual void step(const StepSettings& s, double* out) = 0;

  // A device backend enqueues a step and returns without waiting for it; its outcome is read
  // on demand, which waits for the device.
  virtual bool outcome_is_lazy() const { return false; }
  // Writes the outcome of the step taken at `iteration` (0-based) to `out` (kOutCount doubles),
  // waiting for it. Returns false when that outcome is no longer (or not) held.
  virtual bool read_outcome(int64_t iteration, double* out) { return false; }

  // Per-tensor sums of the last step's gradient: sum g^2 and sum |g|.
  virtual void tensor_sums(double* sq, double* abs) = 0;

  // Host pointer of a slot, or null when the slot lives on a device.
  virtual float* host_slot(int slot) = 0;

  // Copies between host memory and a slot's element range [offset, offset + n).
  virtual void write_slot(int slot, int64_t offset, const float* src, int64_t n) = 0;
  virtual void read_slot(int slot, int64_t offset, float* dst, int64_t n) = 0;
  virtual void fill_slot(int slot, float value) = 0;
  // For every tensor: slot dst = dst + w[group] * (src - dst), in fp32 (a rule's second view of
  // the parameters, e.g. schedule-free AdamW's train/eval switch). `w` holds groups() weights.
  virtual void lerp_slot(int dst, int src, const double* w) = 0;

  // The applied-step count (a device backend keeps it on the device: reading it waits).
  virtual int64_t applied() const { return applied_; }
  virtual void set_applied(int64_t a) { applied_ = a; }
  int64_t iteration() const { return iteration_; }
  // Sets the step count (loadStateDict, setCounters). A backend with lazy outcomes overrides it
  // to forget every held outcome: they are keyed by iteration, and after a rewind an iteration
  // number names a different step.
  virtual void set_iteration(int64_t i) { iteration_ = i; }

  // Reads up to `max` unread trace records (kTraceFields doubles each) in order; returns how
  // many. Records not read before the ring wraps are lost, counted by trace_dropped().
  virtual int64_t read_trace(double* dst, int64_t max) = 0;
  int64_t trace_capacity() const { return trace_capacity_; }
  int64_t trace_dropped() const { return trace_dropped_; }

  // Bytes of native memory owned (host and device), for V8's external-memory accounting.
  virtual int64_t native_bytes() const = 0;

  // Data-parallel steps with a device collective library (NCCL, fused-optim/distributed).
  // A CPU arena has none: its gradient is all-reduced over MPI through host_slot(kGrads).
  //
  // Joins the communicator named by `unique_id` (dist::nccl::kUniqueIdBytes bytes, made by
  // rank 0) as `rank` of `size`. Collective: every rank calls it, and it blocks until all have.
  virtual void attach_device_comm(const void* unique_id, int rank, int size) {
    throw std::runtime_error(std::string("a device communicator (NCCL) needs a CUDA arena, not ") +
                             device_name());
  }
  // Whether attach_device_comm succeeded.
  virtual bool has_device_comm() const { return false; }
  // Enqueues the in-place sum of the whole gradient slot over the device communicator, in
  // order before the next step's work (the step then sees the summed gradient, as on the CPU).
  virtual void allreduce_grads_device() {
    throw std::runtime_error("this arena has no device communicator");
  }

 protected:
  explicit OptimizerBackend(ArenaSpec spec)
      : rule_(spec.rule),
        layout_(std::move(spec.layout)),
        tensor_group_(std::move(spec.tensor_group)),
        groups_(spec.groups),
        trace_capacity_(spec.trace_capacity) {}

  const RuleInfo* rule_;
  Layout layout_;
  std::vector<int32_t> tensor_group_;
  int32_t groups_;
  int64_t applied_ = 0;     // applied (not skipped) steps: drives bias correction
  int64_t iteration_ = 0;   // step() calls: drives the schedule and the trace
  int64_t trace_capacity_;
  int64_t trace_dropped_ = 0;
};

}  // namespace fo

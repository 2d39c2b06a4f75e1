// The contract every backend (CPU, CUDA) honours for one optimizer's arena. The addon only
// talks to this interface.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "layout.h"
#include "step_args.h"

namespace fo {

// Named slots of the arena. SGD uses kState1 as the momentum buffer and has no kState2.
enum Slot : int { kParams = 0, kGrads = 1, kState1 = 2, kState2 = 3, kSlotCount = 4 };

// One trace record, as read back in batches: {l2, l1, lr, skipped}.
constexpr int kTraceFields = 4;

class OptimizerBackend {
 public:
  virtual ~OptimizerBackend() = default;

  virtual const char* device_name() const = 0;
  const Layout& layout() const { return layout_; }
  Kind kind() const { return kind_; }
  int slots() const { return kind_ == Kind::Adam ? 4 : 3; }

  // One step. `lr` is already in `h`. Writes kOutCount values to `out`, unless the outcome is
  // lazy (outcome_is_lazy()): then `out` is filled with NaN and read_outcome() fetches it.
  virtual void step(const HyperParams& h, double* out) = 0;

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

 protected:
  OptimizerBackend(Kind kind, Layout layout, int64_t trace_capacity)
      : kind_(kind), layout_(std::move(layout)), trace_capacity_(trace_capacity) {}

  Kind kind_;
  Layout layout_;
  int64_t applied_ = 0;     // applied (not skipped) steps: drives bias correction
  int64_t iteration_ = 0;   // step() calls: drives the schedule and the trace
  int64_t trace_capacity_;
  int64_t trace_dropped_ = 0;
};

}  // namespace fo

// TEST HOOK, not part of the API: a CPU optimizer whose step outcomes are lazy, kept in a ring
// and read on demand with the same bookkeeping as the CUDA backend (core/lazy_outcomes.h). It
// lets the tests exercise what only a device backend does (lazy StepInfo, counters rewound by
// loadStateDict) on machines without a GPU. The addon creates it for the device name
// kTestLazyDevice only when the environment has FUSED_OPTIM_TEST_HOOKS=1. Header-only: included
// by optimizer_wrap.cc alone.
//
// The CPU engine runs each step at once; its outcome goes to a ring keyed by iteration and comes
// back only through read_outcome(), as on CUDA.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "../core/backend.h"
#include "../core/lazy_outcomes.h"
#include "../cpu/engine.h"

namespace fo::addon {

constexpr const char* kTestLazyDevice = "test:lazy-cpu";

namespace test_hook {

// As native/cuda/optimizer.cc kOutcomeRing (src/optim/lazy-outcome.ts OUTCOME_RING).
constexpr int64_t kRing = 1024;

class LazyCpuOptimizer final : public OptimizerBackend {
 public:
  LazyCpuOptimizer(ArenaSpec spec, int threads)
      : OptimizerBackend(spec),
        inner_(std::move(spec), threads),
        outcomes_(kRing),
        ring_(static_cast<size_t>(kRing * kOutCount)) {}

  const char* device_name() const override { return kTestLazyDevice; }
  bool outcome_is_lazy() const override { return true; }

  void step(const StepSettings& h, double* out) override {
    double r[kOutCount];
    inner_.step(h, r);
    const int64_t slot = outcomes_.slot(iteration_);
    std::copy(r, r + kOutCount, ring_.data() + slot * kOutCount);
    outcomes_.enqueued(iteration_, true);
    ++iteration_;
    if (out) std::fill(out, out + kOutCount, std::numeric_limits<double>::quiet_NaN());
  }

  bool read_outcome(int64_t iteration, double* out) override {
    const int64_t slot = outcomes_.holding(iteration, iteration_);
    if (slot < 0) return false;
    std::copy(ring_.data() + slot * kOutCount, ring_.data() + (slot + 1) * kOutCount, out);
    outcomes_.read(slot, static_cast<int64_t>(out[kOutApplied]));
    return true;
  }

  void set_iteration(int64_t i) override {
    outcomes_.forget();
    iteration_ = i;
    inner_.set_iteration(i);
  }

  int64_t applied() const override { return inner_.applied(); }
  void set_applied(int64_t a) override {
    inner_.set_applied(a);
    outcomes_.applied_is(a);
    applied_ = a;
  }

  void tensor_sums(double* sq, double* abs) override { inner_.tensor_sums(sq, abs); }
  // Like a device: no host pointers, so no zero-copy views.
  float* host_slot(int) override { return nullptr; }
  void write_slot(int slot, int64_t offset, const float* src, int64_t n) override {
    inner_.write_slot(slot, offset, src, n);
  }
  void read_slot(int slot, int64_t offset, float* dst, int64_t n) override {
    inner_.read_slot(slot, offset, dst, n);
  }
  void fill_slot(int slot, float value) override { inner_.fill_slot(slot, value); }
  void lerp_slot(int dst, int src, const double* w) override { inner_.lerp_slot(dst, src, w); }
  int64_t read_trace(double* dst, int64_t max) override {
    const int64_t n = inner_.read_trace(dst, max);
    trace_dropped_ = inner_.trace_dropped();
    return n;
  }
  int64_t native_bytes() const override {
    return inner_.native_bytes() + static_cast<int64_t>(ring_.size() * sizeof(double));
  }

 private:
  cpu::CpuOptimizer inner_;
  LazyOutcomes outcomes_;
  std::vector<double> ring_;
};

}  // namespace test_hook

inline bool test_hooks_enabled() {
  const char* v = std::getenv("FUSED_OPTIM_TEST_HOOKS");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

inline std::unique_ptr<OptimizerBackend> make_test_lazy_backend(ArenaSpec spec, int threads) {
  return std::make_unique<test_hook::LazyCpuOptimizer>(std::move(spec), threads);
}

}  // namespace fo::addon

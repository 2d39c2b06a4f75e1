// Backend-neutral description of one optimizer step as the TypeScript layer packs it: the
// step-wide settings (header) followed by one block of hyperparameters per parameter group.
// The addon exports these indices (addon.cc `layout`) and src/native.ts checks them at load.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "rules/common.h"

namespace fo {

// Header of the Float64Array of hyperparameters.
enum HpIndex : int {
  kHpMaxGradNorm = 0,   // <= 0 or +inf: no clipping (global over all groups)
  kHpGradScale = 1,     // multiplies the raw gradient (loss-scale unscaling); 1 = none
  kHpFlags = 2,
  kHpStep = 3,          // functional API only: the 1-based index of this step
  kHpGroups = 4,        // number of groups that follow
  kHpHeader = 5,        // group g's fields start at kHpHeader + g * kHpGroupStride
};
constexpr int kHpGroupStride = rules::kMaxFields;

enum HpFlags : uint32_t {
  kFlagSkipNonFinite = 1u << 0,
};

// Layout of the Float64Array the backends write the step's outcome into.
enum OutIndex : int {
  kOutL2 = 0,           // global L2 norm of the unscaled, unclipped gradient
  kOutL1 = 1,           // global L1 norm of the same
  kOutClipCoef = 2,     // multiplier applied to the unscaled gradient (1 = not clipped)
  kOutSkipped = 3,      // 1 when the step was skipped for non-finite gradients
  kOutNonFinite = 4,    // 1 when the gradient held NaN or Inf (skipped or not)
  kOutApplied = 5,      // applied-step count after this step
  kOutCount = 6,
};

// One trace record: {l2, l1, lr of group 0, skipped}.
constexpr int kTraceFields = 4;

// The step-wide settings, and a view of the groups' hyperparameters (owned by the caller).
struct StepSettings {
  double max_grad_norm = 0.0;
  double grad_scale = 1.0;
  uint32_t flags = 0;
  int32_t groups = 1;
  const double* group_hp = nullptr;   // groups * kHpGroupStride doubles
  // Set by a backend whose arena is a shard of a larger one (ZeRO-1, cpu/engine.cc): turns the
  // shard's {sum g², sum |g|} into the global sums before the decision. Null otherwise.
  void (*global_sums)(const void* ctx, double* sums) = nullptr;
  const void* global_sums_ctx = nullptr;

  bool skip_non_finite() const { return (flags & kFlagSkipNonFinite) != 0; }
  bool clipping() const { return max_grad_norm > 0.0 && std::isfinite(max_grad_norm); }
  // The two-pass path (reduce, decide, update) is needed only for clipping and skipping.
  bool two_pass() const { return clipping() || skip_non_finite(); }
  const double* group(int g) const { return group_hp + static_cast<size_t>(g) * kHpGroupStride; }
  double lr0() const { return group_hp[0]; }

  // `hp` holds kHpHeader + groups * kHpGroupStride doubles (the caller checked the length).
  static StepSettings unpack(const double* hp) {
    StepSettings s;
    s.max_grad_norm = hp[kHpMaxGradNorm];
    s.grad_scale = hp[kHpGradScale];
    s.flags = static_cast<uint32_t>(hp[kHpFlags]);
    s.groups = static_cast<int32_t>(hp[kHpGroups]);
    s.group_hp = hp + kHpHeader;
    return s;
  }
};

// Fixed reduction granule. Every tensor is cut into chunks of this many elements (the last
// one shorter); each chunk's partial sums are computed sequentially in fixed lanes and the
// partials are combined in chunk order. The thread count only decides who computes which
// chunk, never the order of additions: results are bitwise identical for any thread count.
constexpr int64_t kChunkElems = 1 << 14;

// Partial sums of one chunk, in double.
struct Partial {
  double sq;    // sum of g^2
  double abs;   // sum of |g|
};

}  // namespace fo

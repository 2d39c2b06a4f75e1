// Backend-neutral description of one optimizer step: the hyperparameters as the TypeScript
// layer packs them, and the host-side derivation of the per-step constants.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "rules.h"

namespace fo {

// Layout of the Float64Array of hyperparameters that src/native.ts packs for every step.
// Keep in sync with `HP` in src/native.ts.
enum HpIndex : int {
  kHpLr = 0,
  kHpBeta1 = 1,         // Adam beta1, SGD momentum
  kHpBeta2 = 2,         // Adam beta2, SGD dampening
  kHpEps = 3,
  kHpWeightDecay = 4,
  kHpMaxGradNorm = 5,   // <= 0 or +inf: no clipping
  kHpGradScale = 6,     // multiplies the raw gradient (loss-scale unscaling); 1 = none
  kHpFlags = 7,
  kHpStep = 8,          // functional API only: the 1-based index of this step
  kHpCount = 9,
};

enum HpFlags : uint32_t {
  kFlagDecoupled = 1u << 0,   // AdamW
  kFlagNesterov = 1u << 1,
  kFlagSkipNonFinite = 1u << 2,
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

struct HyperParams {
  Kind kind = Kind::Adam;
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double max_grad_norm = 0.0;
  double grad_scale = 1.0;
  uint32_t flags = 0;

  bool decoupled() const { return (flags & kFlagDecoupled) != 0; }
  bool nesterov() const { return (flags & kFlagNesterov) != 0; }
  bool skip_non_finite() const { return (flags & kFlagSkipNonFinite) != 0; }
  bool clipping() const { return max_grad_norm > 0.0 && std::isfinite(max_grad_norm); }
  // The two-pass path (reduce, decide, update) is needed only for clipping and skipping.
  bool two_pass() const { return clipping() || skip_non_finite(); }

  static HyperParams unpack(Kind kind, const double* hp) {
    HyperParams h;
    h.kind = kind;
    h.lr = hp[kHpLr];
    h.beta1 = hp[kHpBeta1];
    h.beta2 = hp[kHpBeta2];
    h.eps = hp[kHpEps];
    h.weight_decay = hp[kHpWeightDecay];
    h.max_grad_norm = hp[kHpMaxGradNorm];
    h.grad_scale = hp[kHpGradScale];
    h.flags = static_cast<uint32_t>(hp[kHpFlags]);
    return h;
  }
};

// The clip coefficient of docs/design.md ("Step semantics"): min(1, max / (norm + 1e-6)), computed in double.
inline double clip_coefficient(const HyperParams& h, double l2) {
  if (!h.clipping()) return 1.0;
  double c = h.max_grad_norm / (l2 + 1e-6);
  return c < 1.0 ? c : 1.0;
}

// `t` is the 1-based count of applied steps including this one.
inline AdamConsts make_adam_consts(const HyperParams& h, int64_t t) {
  AdamConsts c;
  double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(t));
  double bc2 = 1.0 - std::pow(h.beta2, static_cast<double>(t));
  c.beta1 = static_cast<float>(h.beta1);
  c.one_minus_beta1 = static_cast<float>(1.0 - h.beta1);
  c.beta2 = static_cast<float>(h.beta2);
  c.one_minus_beta2 = static_cast<float>(1.0 - h.beta2);
  c.eps = static_cast<float>(h.eps);
  c.weight_decay = h.decoupled() ? 0.0f : static_cast<float>(h.weight_decay);
  c.decay_factor = h.decoupled() ? static_cast<float>(1.0 - h.lr * h.weight_decay) : 1.0f;
  c.step_size = static_cast<float>(h.lr / bc1);
  c.inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  return c;
}

inline SgdConsts make_sgd_consts(const HyperParams& h, int64_t t) {
  SgdConsts c;
  c.lr = static_cast<float>(h.lr);
  c.momentum = static_cast<float>(h.beta1);
  c.one_minus_dampening = static_cast<float>(1.0 - h.beta2);
  c.weight_decay = static_cast<float>(h.weight_decay);
  c.first_step = t <= 1 ? 1 : 0;
  c.nesterov = h.nesterov() ? 1 : 0;
  c.use_momentum = h.beta1 != 0.0 ? 1 : 0;
  return c;
}

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

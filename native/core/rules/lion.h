// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1; optax.lion):
//   g = grad (already unscaled and multiplied by the clip coefficient)
//   c = beta1 * m + (1 - beta1) * g
//   p = p * (1 - lr * wd) - lr * sign(c)        sign(0) = 0, sign(NaN) = NaN
//   m = beta2 * m + (1 - beta2) * g
// One state slot (exp_avg); no step-count dependence.
#pragma once

#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct Lion {
  static constexpr const char* kName = "lion";
  enum Field : int { kLr, kBeta1, kBeta2, kWeightDecay, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr", "beta1", "beta2", "weightDecay"};
  static constexpr int kSlots = 1;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 1;
  template <int V>
  FO_HD static constexpr int slots_used() { return 1; }

  struct Consts {
    float lr;
    float beta1;
    float one_minus_beta1;
    float beta2;
    float one_minus_beta2;
    float decay_factor;   // 1 - lr * wd
  };

  FO_HD static Consts make(const double* hp, int64_t) {
    Consts c;
    c.lr = static_cast<float>(hp[kLr]);
    c.beta1 = static_cast<float>(hp[kBeta1]);
    c.one_minus_beta1 = static_cast<float>(1.0 - hp[kBeta1]);
    c.beta2 = static_cast<float>(hp[kBeta2]);
    c.one_minus_beta2 = static_cast<float>(1.0 - hp[kBeta2]);
    c.decay_factor = static_cast<float>(1.0 - hp[kLr] * hp[kWeightDecay]);
    return c;
  }

  FO_HD static int variant(const Consts&) { return 0; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    const M m0 = static_cast<M>(s[0]);
    const M u = c.beta1 * m0 + c.one_minus_beta1 * g;
    // Branch-free selects (vectorised): ±1, and u itself for ±0 and NaN.
    const M sgn = u > M(0) ? M(1) : (u < M(0) ? M(-1) : u);
    p = static_cast<T>(static_cast<M>(p) * c.decay_factor - c.lr * sgn);
    s[0] = static_cast<T>(c.beta2 * m0 + c.one_minus_beta2 * g);
  }
};

}  // namespace fo::rules

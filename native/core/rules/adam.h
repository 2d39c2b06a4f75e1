// Adam and AdamW (torch.optim.Adam / AdamW semantics, the foreach=False reference path):
//   g      = grad (already unscaled and multiplied by the clip coefficient)
//   Adam:  g += wd * p                 AdamW (decoupled): p *= 1 - lr * wd
//   m      = beta1 * m + (1 - beta1) * g
//   v      = beta2 * v + (1 - beta2) * g * g
//   p     -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// t counts applied (not skipped) steps, 1-based.
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct Adam {
  static constexpr const char* kName = "adam";
  // One group's hyperparameters, in packing order (the TypeScript RuleSpec's `fields`).
  enum Field : int { kLr, kBeta1, kBeta2, kEps, kWeightDecay, kDecoupled, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr",  "beta1",       "beta2",
                                                       "eps", "weightDecay", "decoupled"};
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_avg_sq"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 1;
  template <int V>
  FO_HD static constexpr int slots_used() { return 2; }

  // Per-step constants, derived in double once per group and step, used in fp32.
  struct Consts {
    float beta1;
    float one_minus_beta1;
    float beta2;
    float one_minus_beta2;
    float eps;
    float weight_decay;   // L2 coefficient added to the gradient (Adam), 0 when decoupled
    float decay_factor;   // 1 - lr * wd when decoupled (AdamW), 1 otherwise
    float step_size;      // lr / (1 - beta1^t)
    float inv_sqrt_bc2;   // 1 / sqrt(1 - beta2^t)
  };

  FO_HD static Consts make(const double* hp, int64_t t) {
    const bool decoupled = hp[kDecoupled] != 0.0;
    const double bc1 = 1.0 - ::pow(hp[kBeta1], static_cast<double>(t));
    const double bc2 = 1.0 - ::pow(hp[kBeta2], static_cast<double>(t));
    Consts c;
    c.beta1 = static_cast<float>(hp[kBeta1]);
    c.one_minus_beta1 = static_cast<float>(1.0 - hp[kBeta1]);
    c.beta2 = static_cast<float>(hp[kBeta2]);
    c.one_minus_beta2 = static_cast<float>(1.0 - hp[kBeta2]);
    c.eps = static_cast<float>(hp[kEps]);
    c.weight_decay = decoupled ? 0.0f : static_cast<float>(hp[kWeightDecay]);
    c.decay_factor = decoupled ? static_cast<float>(1.0 - hp[kLr] * hp[kWeightDecay]) : 1.0f;
    c.step_size = static_cast<float>(hp[kLr] / bc1);
    c.inv_sqrt_bc2 = static_cast<float>(1.0 / ::sqrt(bc2));
    return c;
  }

  FO_HD static int variant(const Consts&) { return 0; }

  // T: how a value is stored; M: the type the math runs in (fp32 today for fp32 storage).
  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    M pv = static_cast<M>(p);
    g = g + c.weight_decay * pv;
    pv = pv * c.decay_factor;
    const M m = c.beta1 * static_cast<M>(s[0]) + c.one_minus_beta1 * g;
    const M v = c.beta2 * static_cast<M>(s[1]) + c.one_minus_beta2 * (g * g);
    const M denom = std::sqrt(v) * c.inv_sqrt_bc2 + c.eps;
    p = static_cast<T>(pv - c.step_size * (m / denom));
    s[0] = static_cast<T>(m);
    s[1] = static_cast<T>(v);
  }
};

}  // namespace fo::rules
